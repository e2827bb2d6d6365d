/* vaultc default theme: graph view. Draws window.VAULTC_GRAPH (from {root}graph-data.js) on a canvas
 * with a small deterministic force-directed layout. No dependencies. */
(function () {
  'use strict';
  var canvas = document.getElementById('graph-canvas');
  var tip = document.getElementById('graph-tooltip');
  var status = document.getElementById('graph-status');
  if (!canvas || !canvas.getContext) return;
  var root = document.documentElement.getAttribute('data-root');
  if (root === null) root = document.body.getAttribute('data-root') || '';
  var data = window.VAULTC_GRAPH;
  if (!data || !Array.isArray(data.nodes)) {
    if (status) status.textContent = status.getAttribute('data-missing') || 'The graph data (graph-data.js) could not be loaded.';
    return;
  }

  var ctx = canvas.getContext('2d');
  var K = 45;                                   /* ideal edge length, world units */
  var ITERATIONS = data.nodes.length > 1500 ? 120 : 300;
  var GRAVITY = 0.08, CUTOFF2 = 36 * K * K;   /* centre pull; repulsion ignored beyond 6 K */
  var KIND_LABEL = { note: 'note', attachment: 'attachment', wanted: 'not written yet', tag: 'tag' };

  /* Deterministic start: a sunflower spiral seeded by index. */
  var byId = Object.create(null);
  var nodes = data.nodes.map(function (n, i) {
    var a = i * 2.399963229728653, r = K * 0.6 * Math.sqrt(i + 0.5);
    byId[n.id] = i;
    return { id: n.id, kind: n.kind, title: n.title || String(n.id), url: n.url || null,
      x: r * Math.cos(a), y: r * Math.sin(a), dx: 0, dy: 0, deg: 0, nb: [] };
  });
  var edges = [];
  /* Each edge is [source id, target id, kind]. */
  (data.edges || []).forEach(function (e) {
    var s = byId[e[0]], t = byId[e[1]];
    if (s === undefined || t === undefined || s === t) return;
    edges.push({ s: s, t: t, kind: e[2] });
    nodes[s].deg++; nodes[t].deg++; nodes[s].nb.push(t); nodes[t].nb.push(s);
  });
  nodes.forEach(function (n) { n.r = (n.kind === 'tag' ? 3.5 : 4.5) + Math.min(9, Math.sqrt(n.deg) * 1.5); });
  /* Springs are weaker between well-connected nodes (as in d3-force), so hubs do not collapse together. */
  edges.forEach(function (e) { e.w = 1 / Math.min(nodes[e.s].deg, nodes[e.t].deg); });
  /* Label priority: best-connected first; labels that would overlap a placed one are skipped. */
  var byDegree = nodes.map(function (n, i) { return i; }).sort(function (a, b) { return nodes[b].deg - nodes[a].deg || a - b; });

  /* One Fruchterman-Reingold step: repulsion between all pairs, springs along edges, gravity. */
  function step(temp) {
    var i, j, a, b, dx, dy, d2, d, f, n = nodes.length, K2 = K * K;
    for (i = 0; i < n; i++) { nodes[i].dx = -nodes[i].x * GRAVITY; nodes[i].dy = -nodes[i].y * GRAVITY; }
    for (i = 0; i < n; i++) {
      a = nodes[i];
      for (j = i + 1; j < n; j++) {
        b = nodes[j]; dx = a.x - b.x; dy = a.y - b.y; d2 = dx * dx + dy * dy;
        if (d2 < 0.01) { dx = (i % 7) - 3 + 0.1; dy = (j % 5) - 2 + 0.1; d2 = dx * dx + dy * dy; }
        if (d2 > CUTOFF2) continue;
        f = K2 / d2; a.dx += dx * f; a.dy += dy * f; b.dx -= dx * f; b.dy -= dy * f;
      }
    }
    for (i = 0; i < edges.length; i++) {
      a = nodes[edges[i].s]; b = nodes[edges[i].t];
      dx = a.x - b.x; dy = a.y - b.y; d = Math.sqrt(dx * dx + dy * dy) || 0.01; f = d / K * edges[i].w;
      a.dx -= dx * f; a.dy -= dy * f; b.dx += dx * f; b.dy += dy * f;
    }
    for (i = 0; i < n; i++) {
      a = nodes[i]; d = Math.sqrt(a.dx * a.dx + a.dy * a.dy);
      if (d > 0) { f = Math.min(d, temp) / d; a.x += a.dx * f; a.y += a.dy * f; }
    }
  }

  /* View: screen = world * scale + offset (CSS pixels). */
  var view = { scale: 1, tx: 0, ty: 0 }, width = 0, height = 0, dpr = 1;
  var userMoved = false, hover = -1, iter = 0, colors = {};

  function readColors() {
    var cs = getComputedStyle(canvas);
    ['note', 'attachment', 'wanted', 'tag', 'edge', 'label', 'bg'].forEach(function (k) {
      colors[k] = cs.getPropertyValue('--graph-' + k).trim() || '#888';
    });
    colors.font = '12px ' + getComputedStyle(document.body).fontFamily;
  }

  function resize() {
    var rect = canvas.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    width = Math.max(1, rect.width); height = Math.max(1, rect.height);
    canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
    if (!userMoved) fit();
    draw();
  }

  function fit() {
    if (!nodes.length) return;
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    nodes.forEach(function (n) {
      minX = Math.min(minX, n.x); maxX = Math.max(maxX, n.x); minY = Math.min(minY, n.y); maxY = Math.max(maxY, n.y);
    });
    var pad = 40, w = maxX - minX + 2 * K, h = maxY - minY + 2 * K;
    view.scale = Math.min(2.5, Math.max(0.05, Math.min((width - pad) / w, (height - pad) / h)));
    view.tx = width / 2 - (minX + maxX) / 2 * view.scale;
    view.ty = height / 2 - (minY + maxY) / 2 * view.scale;
  }

  function toScreen(n) { return { x: n.x * view.scale + view.tx, y: n.y * view.scale + view.ty }; }
  function radius(n) { return n.r * Math.max(0.6, Math.min(1.8, Math.sqrt(view.scale))); }

  function draw() {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    var focus = hover >= 0 ? nodes[hover] : null, near = {};
    if (focus) { near[hover] = true; focus.nb.forEach(function (j) { near[j] = true; }); }
    ctx.lineWidth = 1;
    edges.forEach(function (e) {
      var a = toScreen(nodes[e.s]), b = toScreen(nodes[e.t]), hot = focus && (e.s === hover || e.t === hover);
      ctx.strokeStyle = hot ? colors[nodes[hover].kind] : colors.edge;
      ctx.globalAlpha = focus && !hot ? 0.35 : 1;
      ctx.setLineDash(e.kind === 'embed' ? [4, 3] : e.kind === 'tag' || e.kind === 'property' ? [1, 3] : []);
      ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x, b.y); ctx.stroke();
    });
    ctx.setLineDash([]);
    ctx.font = colors.font; ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    nodes.forEach(function (n, i) {
      var p = toScreen(n), r = radius(n);
      if (p.x < -50 || p.y < -50 || p.x > width + 50 || p.y > height + 50) return;
      ctx.globalAlpha = focus && !near[i] ? 0.25 : 1;
      ctx.fillStyle = colors[n.kind] || colors.note;
      ctx.beginPath(); ctx.arc(p.x, p.y, r, 0, Math.PI * 2); ctx.fill();
      if (i === hover) { ctx.lineWidth = 2; ctx.strokeStyle = colors.label; ctx.stroke(); ctx.lineWidth = 1; }
    });
    /* Labels last, greedily without overlaps: the hovered node and its neighbours first, then by degree. */
    var placed = [], order = focus ? [hover].concat(focus.nb, byDegree) : byDegree, seen = {};
    ctx.fillStyle = colors.label; ctx.strokeStyle = colors.bg; ctx.lineWidth = 3; ctx.lineJoin = 'round';
    for (var k = 0; k < order.length && placed.length < 300; k++) {
      var i = order[k], n = nodes[i];
      if (seen[i]) continue;
      seen[i] = true;
      var p = toScreen(n), text = n.title.length > 32 ? n.title.slice(0, 30) + '…' : n.title;
      var w = ctx.measureText(text).width, box = [p.x - w / 2 - 2, p.y + radius(n) + 2, w + 4, 15];
      if (box[0] > width || box[1] > height || box[0] + box[2] < 0 || box[1] + box[3] < 0) continue;
      if (placed.some(function (b) { return b[0] < box[0] + box[2] && box[0] < b[0] + b[2] && b[1] < box[1] + box[3] && box[1] < b[1] + b[3]; })) continue;
      placed.push(box);
      ctx.globalAlpha = focus && !near[i] ? 0.25 : 1;
      ctx.strokeText(text, p.x, box[1] + 1); ctx.fillText(text, p.x, box[1] + 1);
    }
    ctx.lineWidth = 1;
    ctx.globalAlpha = 1;
  }

  function nodeAt(x, y) {
    var best = -1, bestD = Infinity;
    nodes.forEach(function (n, i) {
      var p = toScreen(n), dx = p.x - x, dy = p.y - y, d = dx * dx + dy * dy, r = radius(n) + 4;
      if (d <= r * r && d < bestD) { best = i; bestD = d; }
    });
    return best;
  }

  function setHover(i, x, y) {
    if (i !== hover) { hover = i; draw(); }
    canvas.classList.toggle('over-node', i >= 0 && !!nodes[i].url);
    if (!tip) return;
    if (i < 0) { tip.hidden = true; return; }
    var n = nodes[i];
    tip.textContent = n.title;
    var kind = document.createElement('span');
    kind.className = 'kind';
    kind.textContent = KIND_LABEL[n.kind] || n.kind;
    tip.appendChild(kind);
    var p = toScreen(n);
    tip.style.left = (canvas.offsetLeft + p.x) + 'px';
    tip.style.top = (canvas.offsetTop + p.y - radius(n)) + 'px';
    tip.hidden = false;
  }

  function local(e) { var r = canvas.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; }
  var drag = null;
  canvas.addEventListener('pointerdown', function (e) {
    var p = local(e);
    drag = { x: p.x, y: p.y, sx: p.x, sy: p.y, moved: false, node: nodeAt(p.x, p.y) };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', function (e) {
    var p = local(e);
    if (!drag) { setHover(nodeAt(p.x, p.y), p.x, p.y); return; }
    if (!drag.moved && Math.abs(p.x - drag.sx) + Math.abs(p.y - drag.sy) < 4) return;
    drag.moved = true; userMoved = true;
    canvas.classList.add('dragging');
    view.tx += p.x - drag.x; view.ty += p.y - drag.y; drag.x = p.x; drag.y = p.y;
    setHover(-1); draw();
  });
  function endDrag(e) {
    if (!drag) return;
    var d = drag; drag = null;
    canvas.classList.remove('dragging');
    if (e.type === 'pointerup' && !d.moved && d.node >= 0 && nodes[d.node].url) {
      window.location.href = root + nodes[d.node].url;
    }
  }
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
  canvas.addEventListener('pointerleave', function () { if (!drag) setHover(-1); });
  canvas.addEventListener('wheel', function (e) {
    e.preventDefault();
    var p = local(e), f = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015));
    var s = Math.min(8, Math.max(0.05, view.scale * f));
    f = s / view.scale;
    view.tx = p.x - (p.x - view.tx) * f; view.ty = p.y - (p.y - view.ty) * f; view.scale = s;
    userMoved = true; setHover(-1); draw();
  }, { passive: false });
  canvas.addEventListener('dblclick', function () { userMoved = false; fit(); draw(); });

  function tick() {
    var start = performance.now();
    while (iter < ITERATIONS && performance.now() - start < 12) {
      step(K * 2 * (1 - iter / ITERATIONS) + 0.5);
      iter++;
    }
    if (!userMoved) fit();
    draw();
    if (iter < ITERATIONS) { requestAnimationFrame(tick); return; }
    canvas.setAttribute('data-ready', 'true');
    api.ready = true;
  }

  var api = window.vaultcGraph = {
    ready: false,
    nodes: nodes,
    edges: edges,
    /* Position of node i in CSS pixels relative to the canvas's top-left corner (used by tests). */
    screenPosition: function (i) { return toScreen(nodes[i]); }
  };

  readColors();
  if (window.matchMedia) {
    var mq = window.matchMedia('(prefers-color-scheme: dark)');
    var onScheme = function () { readColors(); draw(); };
    if (mq.addEventListener) mq.addEventListener('change', onScheme); else if (mq.addListener) mq.addListener(onScheme);
  }
  window.addEventListener('resize', resize);
  canvas.setAttribute('data-nodes', String(nodes.length));
  if (status) status.textContent = nodes.length + ' nodes · ' + edges.length + ' links';
  resize();
  if (nodes.length) requestAnimationFrame(tick); else { api.ready = true; canvas.setAttribute('data-ready', 'true'); }
})();
