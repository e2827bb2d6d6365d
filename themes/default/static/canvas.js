// vaultc: canvases drawn to fit. A canvas's own page opens fitted to the view (never above its
// own size), as Obsidian opens one; its toolbar zooms out, back to actual size, in, and fits
// again. A canvas embedded in a note is fitted to the note's column the same way, so the whole
// board shows without scrolling; its title opens the page. On both, Ctrl (or ⌘) and the wheel
// zoom around the pointer, and a fitted canvas fits again when the window is resized. Without
// JavaScript a canvas is shown at its size and scrolls, and the toolbar stays hidden.
(function () {
  'use strict';
  var MIN = 0.05, MAX = 4, STEP = 1.25;

  // Drives one `.canvas-view`; `bar` is its toolbar, if it has one.
  function drive(view, bar) {
    var plane = view.querySelector('.canvas-plane');
    if (!plane) return;
    var level = bar && bar.querySelector('.canvas-zoom-level');
    // The canvas's own size, and the room the page gives it (the view's most, not its current
    // height, which shrinks with the canvas).
    var width = plane.offsetWidth, height = plane.offsetHeight;
    if (!(width > 0 && height > 0)) return;
    var room = function () {
      var most = parseFloat(getComputedStyle(view).maxHeight);
      return { w: view.clientWidth, h: isFinite(most) ? Math.min(most, height) : view.clientHeight };
    };
    var scale = 1, fitted = false;
    // Zooms to `s`, keeping the canvas point under (x, y) of the view where it is.
    function zoom(s, x, y) {
      s = Math.min(MAX, Math.max(MIN, s));
      var px = (view.scrollLeft + x) / scale, py = (view.scrollTop + y) / scale;
      scale = s;
      fitted = false;
      plane.style.zoom = String(s);
      view.scrollLeft = px * s - x;
      view.scrollTop = py * s - y;
      if (level) level.textContent = Math.round(s * 100) + '%';
      view.dataset.zoom = String(s);
    }
    function fit() {
      var r = room();
      zoom(Math.min(1, r.w / width, r.h / height), 0, 0);
      view.scrollLeft = 0;
      view.scrollTop = 0;
      fitted = true;
    }
    if (bar) {
      bar.addEventListener('click', function (e) {
        var button = e.target.closest('button[data-zoom]');
        if (!button) return;
        var x = view.clientWidth / 2, y = view.clientHeight / 2;
        var to = { in: scale * STEP, out: scale / STEP, reset: 1 }[button.dataset.zoom];
        if (to === undefined) fit(); else zoom(to, x, y);
      });
      bar.hidden = false;
    }
    view.addEventListener('wheel', function (e) {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      var box = view.getBoundingClientRect();
      zoom(scale * (e.deltaY < 0 ? STEP : 1 / STEP), e.clientX - box.left, e.clientY - box.top);
    }, { passive: false });
    var last = view.clientWidth;
    window.addEventListener('resize', function () {
      if (!fitted || view.clientWidth === last) return;
      last = view.clientWidth;
      fit();
    });
    fit();
  }

  // The page's own canvas (its first view; a card may embed others) gets the toolbar.
  var page = document.querySelector('.canvas-page');
  var main = page && page.querySelector('.canvas-view');
  var views = document.querySelectorAll('.canvas-view');
  for (var i = 0; i < views.length; i++) {
    drive(views[i], views[i] === main ? page.querySelector('.canvas-zoom') : null);
  }
})();
