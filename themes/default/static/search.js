/* vaultc default theme: client-side search.
 * Loads elasticlunr, {root}search-index.js (window.VAULTC_SEARCH = {shards: [...]}) and every shard
 * lazily with <script> tags (works from file://, no fetch). Each shard pushes {index, docs} onto
 * window.VAULTC_SEARCH_SHARDS; a query runs on every shard and the hits are merged by score. */
(function () {
  'use strict';
  /* The index's search analysis (src/render/search_terms.rs), repeated on each query: the two
   * must agree term for term. Words split at white space and "-", NFC, lower case; a run of
   * CJK characters becomes its overlapping pairs (a lone one stays); the pipeline the index
   * names then trims what is not a letter or digit in any script, drops English stop words and
   * stems ASCII words. */
  var CJK = /[\u1100-\u11FF\u3005-\u3007\u3040-\u309F\u30A0-\u30FF\u3130-\u318F\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uA960-\uA97F\uAC00-\uD7FF\uF900-\uFAFF\uFF66-\uFF9F\u{20000}-\u{3FFFF}]/u;

  function registerAnalysis(el) {
    if (el.Pipeline.registeredFunctions['vaultc-trimmer']) return;
    el.Pipeline.registerFunction(function (token) {
      /* Nothing left: no term (undefined ends the token's way through the pipeline). */
      return token.replace(/^[^\p{Alphabetic}\p{N}_]+/u, '').replace(/[^\p{Alphabetic}\p{N}_]+$/u, '') || undefined;
    }, 'vaultc-trimmer');
    el.Pipeline.registerFunction(function (token) {
      return /^[\x00-\x7f]*$/.test(token) ? el.stemmer(token) : token;
    }, 'vaultc-stemmer');
  }

  function queryTokens(query) {
    var tokens = [];
    query.split(/[\s\-]+/).forEach(function (word) {
      if (!word) return;
      var run = [];
      var cjk = null;
      var flush = function () {
        if (!run.length) return;
        if (!cjk || run.length === 1) tokens.push(run.join(''));
        else for (var i = 0; i + 1 < run.length; i++) tokens.push(run[i] + run[i + 1]);
        run = [];
      };
      Array.from(word.normalize('NFC').toLowerCase()).forEach(function (ch) {
        var c = CJK.test(ch);
        if (c !== cjk) { flush(); cjk = c; }
        run.push(ch);
      });
      flush();
    });
    return tokens;
  }

  /* The terms the index holds for `text` (for themes and tests); needs elasticlunr loaded. */
  window.VAULTC_SEARCH_TERMS = function (text) {
    var el = window.elasticlunr;
    registerAnalysis(el);
    return el.Pipeline.load(['vaultc-trimmer', 'stopWordFilter', 'vaultc-stemmer']).run(el.tokenizer(queryTokens(text)));
  };

  var html = document.documentElement;
  var root = html.getAttribute('data-root');
  if (root === null) root = document.body.getAttribute('data-root') || '';

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = src;
      s.async = true;
      s.onload = function () { resolve(); };
      s.onerror = function () { reject(new Error('could not load ' + src)); };
      document.head.appendChild(s);
    });
  }

  /* search-index.js and every shard, loaded once for the search box and for the page previews
     of a site opened from file:// (which cannot fetch pages, and shows a note's excerpt): a
     promise of the shards ([{index, docs}]). */
  var shards = null;
  window.VAULTC_SEARCH_LOAD = function () {
    if (shards) return shards;
    shards = (window.VAULTC_SEARCH ? Promise.resolve() : loadScript(root + 'search-index.js'))
      .then(function () {
        var manifest = window.VAULTC_SEARCH;
        if (!manifest || !manifest.shards) throw new Error('search-index.js defines no VAULTC_SEARCH shards');
        window.VAULTC_SEARCH_SHARDS = [];
        return Promise.all(manifest.shards.map(function (shard) { return loadScript(root + shard); }));
      })
      .then(function () { return window.VAULTC_SEARCH_SHARDS; });
    shards.catch(function () { shards = null; /* the next caller tries again */ });
    return shards;
  };

  var input = document.getElementById('search-input');
  var list = document.getElementById('search-results');
  if (!input || !list) return;

  var MAX_RESULTS = 10;
  var index = null; /* [{index: elasticlunr.Index, docs: {ref: doc}}], once loaded */
  var loading = null;
  var active = -1;
  var results = [];
  var timer = 0;
  var renderedQuery = null;

  function ensureIndex() {
    if (loading) return loading;
    loading = (window.elasticlunr ? Promise.resolve() : loadScript(root + 'static/elasticlunr.min.js'))
      .then(function () { return window.VAULTC_SEARCH_LOAD(); })
      .then(function (loaded) {
        registerAnalysis(window.elasticlunr);
        index = loaded.map(function (shard) {
          return { index: window.elasticlunr.Index.load(shard.index), docs: shard.docs };
        });
        return index;
      });
    loading.catch(function () { /* reported by the caller */ });
    return loading;
  }

  /* The words to highlight in results (a CJK character alone counts). */
  function terms(query) {
    return query.toLowerCase().split(/[\s\-_.,;:!?()[\]{}"'/\\]+/).filter(function (t) { return t.length > 1 || CJK.test(t); });
  }

  /* Appends text to el, wrapping case-insensitive matches of the query terms in <mark> (no innerHTML). */
  function appendHighlighted(el, text, words) {
    if (!words.length) { el.textContent = text; return; }
    var escaped = words.map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); });
    var re = new RegExp('(' + escaped.join('|') + ')', 'gi');
    var last = 0;
    text.replace(re, function (m, _g, offset) {
      if (offset > last) el.appendChild(document.createTextNode(text.slice(last, offset)));
      var mark = document.createElement('mark');
      mark.textContent = m;
      el.appendChild(mark);
      last = offset + m.length;
      return m;
    });
    if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
  }

  function show(open) {
    list.hidden = !open;
    input.setAttribute('aria-expanded', open ? 'true' : 'false');
  }

  // The page's words for each message (data-* of the search box, in the site's language).
  function say(name, fallback) {
    return (input && input.dataset && input.dataset[name]) || fallback;
  }

  function message(text) {
    list.textContent = '';
    var li = document.createElement('li');
    li.className = 'search-message';
    li.setAttribute('role', 'presentation');
    li.textContent = text;
    list.appendChild(li);
    results = [];
    setActive(-1);
    show(true);
  }

  function setActive(i) {
    var items = list.querySelectorAll('li.result');
    if (active >= 0 && items[active]) {
      items[active].classList.remove('active');
      items[active].setAttribute('aria-selected', 'false');
    }
    active = i;
    if (active >= 0 && items[active]) {
      items[active].classList.add('active');
      items[active].setAttribute('aria-selected', 'true');
      input.setAttribute('aria-activedescendant', items[active].id);
      items[active].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function render(query) {
    var words = terms(query);
    renderedQuery = query;
    var hits = [];
    index.forEach(function (shard) {
      shard.index.search(queryTokens(query), {
        fields: { title: { boost: 3 }, tags: { boost: 2 }, body: { boost: 1 } },
        bool: 'OR',
        expand: true
      }).forEach(function (hit) {
        hits.push({ score: hit.score, ref: hit.ref, doc: shard.docs[hit.ref] || {} });
      });
    });
    /* Best score first; equal scores in URL order, so results do not depend on load order. */
    hits.sort(function (a, b) {
      if (b.score !== a.score) return b.score - a.score;
      var ua = a.doc.url || '', ub = b.doc.url || '';
      return ua < ub ? -1 : ua > ub ? 1 : 0;
    });
    hits = hits.slice(0, MAX_RESULTS);
    if (!hits.length) { message(say('noResults', 'No results for “{query}”').split('{query}').join(query)); return; }
    list.textContent = '';
    results = hits.map(function (hit, i) {
      var doc = hit.doc;
      var li = document.createElement('li');
      li.className = 'result';
      li.id = 'search-result-' + i;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      var a = document.createElement('a');
      a.href = root + (doc.url || hit.ref);
      a.tabIndex = -1;
      var title = document.createElement('span');
      title.className = 'result-title';
      appendHighlighted(title, doc.title || doc.url || hit.ref, words);
      a.appendChild(title);
      if (doc.path) {
        var p = document.createElement('span');
        p.className = 'result-path';
        p.textContent = doc.path;
        a.appendChild(p);
      }
      if (doc.excerpt) {
        var ex = document.createElement('span');
        ex.className = 'result-excerpt';
        appendHighlighted(ex, doc.excerpt, words);
        a.appendChild(ex);
      }
      a.addEventListener('mousedown', function (e) { e.preventDefault(); }); /* keep focus; click navigates */
      li.appendChild(a);
      list.appendChild(li);
      return a.href;
    });
    active = -1;
    setActive(0);
    show(true);
  }

  function update() {
    var query = input.value.trim();
    if (!query) { list.textContent = ''; results = []; renderedQuery = null; show(false); return; }
    if (index) { render(query); return; }
    message(say('loading', 'Loading search index…'));
    ensureIndex().then(function () {
      if (input.value.trim()) render(input.value.trim());
    }, function () {
      message(say('unavailable', 'Search is not available: the search index could not be loaded.'));
    });
  }

  input.addEventListener('focus', function () {
    ensureIndex();
    if (input.value.trim() && list.children.length) show(true);
  }, { once: false });

  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(update, index ? 60 : 0);
  });

  input.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (list.hidden && input.value.trim()) { update(); }
      if (!results.length) return;
      e.preventDefault();
      var step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((active + step + results.length) % results.length);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(timer);
      var query = input.value.trim();
      if (!query) return;
      ensureIndex().then(function () {
        if (query !== renderedQuery) render(query);
        if (results.length) window.location.href = results[active >= 0 ? active : 0];
      }, function () { message(say('unavailable', 'Search is not available: the search index could not be loaded.')); });
    } else if (e.key === 'Escape') {
      if (!list.hidden) { show(false); } else { input.value = ''; input.blur(); }
      e.preventDefault();
    }
  });

  input.addEventListener('blur', function () {
    setTimeout(function () { if (document.activeElement !== input) show(false); }, 150);
  });

  /* "/" focuses the search box, unless typing somewhere already. */
  document.addEventListener('keydown', function (e) {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    e.preventDefault();
    input.focus();
  });
})();
