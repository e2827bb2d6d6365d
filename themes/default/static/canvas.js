// vaultc: zoom on a canvas's own page. The canvas opens fitted to the view (never above its
// own size), as Obsidian opens one; the toolbar zooms out, back to actual size, in, and fits
// again; Ctrl (or ⌘) and the wheel zoom around the pointer. Without JavaScript the canvas is
// shown at its size and scrolls, and the toolbar stays hidden.
(function () {
  'use strict';
  var page = document.querySelector('.canvas-page');
  var view = page && page.querySelector('.canvas-view');
  var plane = view && view.querySelector('.canvas-plane');
  var bar = page && page.querySelector('.canvas-zoom');
  if (!plane || !bar) return;
  var MIN = 0.05, MAX = 4, STEP = 1.25;
  var level = bar.querySelector('.canvas-zoom-level');
  // The canvas's own size, and the room the page gives it (the view's most, not its current
  // height, which shrinks with the canvas).
  var width = plane.offsetWidth, height = plane.offsetHeight;
  var room = function () {
    var most = parseFloat(getComputedStyle(view).maxHeight);
    return { w: view.clientWidth, h: isFinite(most) ? Math.min(most, height) : view.clientHeight };
  };
  var scale = 1;
  // Zooms to `s`, keeping the canvas point under (x, y) of the view where it is.
  function zoom(s, x, y) {
    s = Math.min(MAX, Math.max(MIN, s));
    var px = (view.scrollLeft + x) / scale, py = (view.scrollTop + y) / scale;
    scale = s;
    plane.style.zoom = String(s);
    view.scrollLeft = px * s - x;
    view.scrollTop = py * s - y;
    level.textContent = Math.round(s * 100) + '%';
    view.dataset.zoom = String(s);
  }
  function fit() {
    var r = room();
    zoom(Math.min(1, r.w / width, r.h / height), 0, 0);
    view.scrollLeft = 0;
    view.scrollTop = 0;
  }
  bar.addEventListener('click', function (e) {
    var button = e.target.closest('button[data-zoom]');
    if (!button) return;
    var x = view.clientWidth / 2, y = view.clientHeight / 2;
    var to = { in: scale * STEP, out: scale / STEP, reset: 1 }[button.dataset.zoom];
    if (to === undefined) fit(); else zoom(to, x, y);
  });
  view.addEventListener('wheel', function (e) {
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    var box = view.getBoundingClientRect();
    zoom(scale * (e.deltaY < 0 ? STEP : 1 / STEP), e.clientX - box.left, e.clientY - box.top);
  }, { passive: false });
  bar.hidden = false;
  if (width > 0 && height > 0) fit();
})();
