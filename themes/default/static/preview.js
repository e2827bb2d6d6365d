// Page previews: resting the pointer on (or tabbing to) a link to another page of the site
// shows that page's note in a small card, as Obsidian's "page preview" does. Over http(s) the
// page is fetched and its `.note-body` (or, for list pages, its `main`) is shown, scrolled to
// the link's #anchor. A site opened from file:// cannot fetch its pages: there the card shows
// the note's title, path and opening words from the search index (loaded with <script> tags,
// as the search box loads it), and list pages get no preview.
(function () {
  'use strict';
  const fromFile = location.protocol === 'file:';
  if (!fromFile && (location.protocol !== 'http:' && location.protocol !== 'https:')) return;
  if (!fromFile && (!window.fetch || !window.DOMParser)) return;
  // Devices without hover (touch screens) open links on the first tap instead.
  if (window.matchMedia && !window.matchMedia('(hover: hover)').matches) return;

  const SHOW_AFTER = 300; // ms on a link before its preview opens
  const HIDE_AFTER = 250; // ms off both link and preview before it closes
  const cache = new Map(); // page URL (no fragment) -> Promise<Document | null>
  let card = null;
  let current = null; // the link the card is for
  let showTimer = 0;
  let hideTimer = 0;

  // From file://: the search index's documents by their page's address.
  let excerpts = null;
  function searchDocs() {
    if (!excerpts) {
      const load = window.VAULTC_SEARCH_LOAD;
      const root = document.documentElement.getAttribute('data-root') || '';
      excerpts = (typeof load === 'function' ? load() : Promise.reject(new Error('no search index')))
        .then((shards) => {
          const byUrl = new Map();
          for (const shard of shards) {
            for (const doc of Object.values(shard.docs || {})) {
              if (doc.url) byUrl.set(new URL(root + doc.url, location.href).href, doc);
            }
          }
          return byUrl;
        })
        .catch(() => { excerpts = null; return new Map(); });
    }
    return excerpts;
  }

  function page(url) {
    const key = url.split('#')[0];
    if (fromFile) {
      return searchDocs().then((docs) => {
        const doc = docs.get(key);
        return doc ? { excerpt: doc } : null;
      });
    }
    if (!cache.has(key)) {
      cache.set(key, fetch(key, { credentials: 'same-origin' })
        .then((r) => (r.ok && /html/.test(r.headers.get('content-type') || '') ? r.text() : null))
        .then((text) => (text ? new DOMParser().parseFromString(text, 'text/html') : null))
        .catch(() => null));
    }
    return cache.get(key);
  }

  function previewable(a) {
    if (!a || !a.matches('a.internal[href]')) return false;
    if (a.matches('.wanted, .attachment, .unpublished') || a.closest('.preview-card')) return false;
    const url = new URL(a.getAttribute('href'), location.href);
    // Same site, another page (a link within this page needs no preview).
    return url.origin === location.origin
      && url.pathname !== location.pathname
      && !/\.(png|jpe?g|gif|svg|webp|avif|bmp|pdf|mp3|mp4|webm|ogg|wav|base|canvas|js|css)$/i.test(url.pathname);
  }

  /** What the card shows of a note from the search index: its title, path and opening words. */
  function excerpt(doc) {
    const frag = document.createDocumentFragment();
    const add = (tag, className, text) => {
      const el = frag.appendChild(document.createElement(tag));
      el.className = className;
      el.textContent = text;
    };
    add('div', 'preview-title', doc.title || doc.path || '');
    if (doc.path) add('div', 'preview-path', doc.path);
    add('p', 'preview-body preview-excerpt', doc.excerpt || '');
    return frag;
  }

  /** The part of a fetched page the card shows: the note's title and body, else its main. */
  function content(doc, url) {
    if (doc.excerpt) return excerpt(doc.excerpt);
    const body = doc.querySelector('.note-body') || doc.querySelector('main');
    if (!body) return null;
    const frag = document.createDocumentFragment();
    const title = doc.querySelector('h1');
    // A body that opens with the title as its own heading needs no second one.
    const first = body.firstElementChild;
    const repeated = first && /^H[1-3]$/.test(first.tagName)
      && title && first.textContent.trim() === title.textContent.trim();
    if (title && !repeated) {
      const h = document.createElement('div');
      h.className = 'preview-title';
      h.textContent = title.textContent;
      frag.appendChild(h);
    }
    const inner = document.importNode(body, true);
    inner.classList.add('preview-body');
    // Links in the card lead where they would from the previewed page.
    for (const el of inner.querySelectorAll('[href], [src]')) {
      for (const attr of ['href', 'src']) {
        const v = el.getAttribute(attr);
        if (v && !v.startsWith('#') && !/^[a-z]+:/i.test(v)) el.setAttribute(attr, new URL(v, url).href);
      }
    }
    // Ids of the previewed page must not clash with this page's own.
    for (const el of inner.querySelectorAll('[id]')) {
      el.setAttribute('data-preview-id', el.id);
      el.removeAttribute('id');
    }
    frag.appendChild(inner);
    return frag;
  }

  function place(a) {
    const r = a.getBoundingClientRect();
    const width = Math.min(480, window.innerWidth - 16);
    let left = Math.min(Math.max(8, r.left), window.innerWidth - width - 8);
    const below = window.innerHeight - r.bottom > 260 || r.top < 260;
    card.style.width = `${width}px`;
    card.style.left = `${left + window.scrollX}px`;
    if (below) {
      card.style.top = `${r.bottom + window.scrollY + 6}px`;
    } else {
      card.style.top = `${r.top + window.scrollY - card.offsetHeight - 6}px`;
    }
  }

  function hide() {
    clearTimeout(showTimer);
    if (card) {
      card.remove();
      card = null;
    }
    if (current) current.removeAttribute('aria-describedby');
    current = null;
  }

  function show(a) {
    const url = new URL(a.getAttribute('href'), location.href).href;
    page(url).then((doc) => {
      if (current !== a || !doc) return;
      const frag = content(doc, url);
      if (!frag) return;
      if (card) card.remove();
      card = document.createElement('div');
      card.className = 'preview-card';
      card.id = 'vaultc-preview';
      card.setAttribute('role', 'tooltip');
      card.appendChild(frag);
      card.addEventListener('mouseenter', () => clearTimeout(hideTimer));
      card.addEventListener('mouseleave', () => { hideTimer = setTimeout(hide, HIDE_AFTER); });
      document.body.appendChild(card);
      a.setAttribute('aria-describedby', 'vaultc-preview');
      place(a);
      const hash = decodeURIComponent(new URL(url).hash.slice(1));
      if (hash) {
        const target = card.querySelector(`[data-preview-id="${CSS.escape(hash)}"]`);
        if (target) card.scrollTop = Math.max(0, target.offsetTop - 8);
      }
    });
  }

  function enter(a) {
    clearTimeout(hideTimer);
    if (current === a) return;
    hide();
    current = a;
    showTimer = setTimeout(() => show(a), SHOW_AFTER);
  }

  function leave(a) {
    if (current !== a) return;
    clearTimeout(showTimer);
    hideTimer = setTimeout(hide, HIDE_AFTER);
  }

  document.addEventListener('mouseover', (e) => {
    const a = e.target.closest && e.target.closest('a');
    if (previewable(a)) enter(a);
  });
  document.addEventListener('mouseout', (e) => {
    const a = e.target.closest && e.target.closest('a');
    if (a && a === current && !a.contains(e.relatedTarget)) leave(a);
  });
  document.addEventListener('focusin', (e) => {
    if (previewable(e.target)) enter(e.target);
  });
  document.addEventListener('focusout', (e) => {
    if (e.target === current) leave(e.target);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && card) hide();
  });
  window.addEventListener('scroll', () => { if (card && current) place(current); }, { passive: true });
}());
