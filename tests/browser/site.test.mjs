// Real-browser tests of a site built by `vaultc build` with the default theme.
// Run: VAULTC_SITE=/path/to/site npm test   (see README.md)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const SITE = process.env.VAULTC_SITE ? path.resolve(process.env.VAULTC_SITE) : '';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const T = { timeout: 90_000 };

assert.ok(SITE, 'set VAULTC_SITE to the folder written by `vaultc build <vault> -o <dir>`');
assert.ok(fs.existsSync(path.join(SITE, 'index.html')), `no index.html in VAULTC_SITE=${SITE}`);

// ---------- what is on disk ----------
function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out); else if (e.name.endsWith('.html')) out.push(p);
  }
  return out;
}
const decodeEntities = (s) => s
  .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
  .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
  .replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const HTML_FILES = walk(SITE).sort();
const TEXT = new Map(HTML_FILES.map((f) => [f, fs.readFileSync(f, 'utf8')]));
const kindOf = (f) => (/<body[^>]*class="[^"]*\bpage-([a-z0-9]+)/.exec(TEXT.get(f) ?? '') || [])[1] || null;
const NOTE_FILES = HTML_FILES.filter((f) => kindOf(f) === 'note');
const REDIRECT_FILES = HTML_FILES.filter((f) => /http-equiv="refresh"/i.test(TEXT.get(f)));
const count = (f, re) => (TEXT.get(f).match(re) || []).length;
const rel = (f) => path.relative(SITE, f).split(path.sep).join('/');
const fileUrl = (relPath) => pathToFileURL(path.join(SITE, relPath)).href;

/** The local file a file:// URL points at (query and fragment dropped). */
function fileOf(url) {
  const u = new URL(url);
  assert.equal(u.protocol, 'file:', `expected a file:// URL, got ${url}`);
  u.hash = ''; u.search = '';
  return fileURLToPath(u);
}

function loadDataFile(name, sandbox = { window: {} }) {
  vm.runInNewContext(fs.readFileSync(path.join(SITE, name), 'utf8'), sandbox, { filename: name });
  return sandbox.window;
}

/** Every search document {title, path, url, excerpt}: search-index.js lists the shards, each
 *  shard pushes {index, docs} onto window.VAULTC_SEARCH_SHARDS (docs/theme-contract.md). */
function searchDocs() {
  const sandbox = { window: {} };
  const { shards } = loadDataFile('search-index.js', sandbox).VAULTC_SEARCH;
  for (const shard of shards) loadDataFile(shard, sandbox);
  assert.equal(sandbox.window.VAULTC_SEARCH_SHARDS.length, shards.length, 'every shard pushes one entry');
  return sandbox.window.VAULTC_SEARCH_SHARDS.flatMap((s) => Object.values(s.docs));
}

// ---------- browser ----------
let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
});
after(async () => { if (browser) await browser.close(); });

/** A fresh context + page that records every request leaving file://, failed loads, and script errors. */
async function open(t, relPath, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  // Nothing may go over the network: record it (asserted below) and abort it so nothing leaves the machine.
  await context.route(/^(https?|wss?|ftp):/i, (route) => route.abort());
  const page = await context.newPage();
  const log = { external: [], failed: [], errors: [] };
  page.on('request', (r) => { if (!/^(file|data|blob|about):/i.test(r.url())) log.external.push(r.url()); });
  page.on('requestfailed', (r) => log.failed.push(`${r.url()} (${r.failure()?.errorText})`));
  page.on('pageerror', (e) => log.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') log.errors.push(`console: ${m.text()}`); });
  t.after(async () => {
    await context.close();
    assert.deepEqual(log.external, [], 'requests to other hosts than file://');
    assert.deepEqual(log.failed, [], 'requests that failed (missing files?)');
    assert.deepEqual(log.errors, [], 'JavaScript errors');
  });
  if (relPath) await page.goto(fileUrl(relPath));
  return { page, context, log };
}

async function assertOnPage(page, kind) {
  const file = fileOf(page.url());
  assert.ok(fs.existsSync(file), `navigated to a missing file: ${file}`);
  const bodyClass = await page.getAttribute('body', 'class');
  assert.notEqual(kindOf(file), '404', `landed on the 404 page: ${page.url()}`);
  if (kind) assert.match(bodyClass || '', new RegExp(`\\bpage-${kind}\\b`), `expected a ${kind} page at ${page.url()}`);
  assert.ok((await page.title()).trim().length > 0, 'page has a <title>');
}

// ---------- tests ----------
test('the site has note pages', () => {
  assert.ok(NOTE_FILES.length > 0, `no note pages (body.page-note) under ${SITE}`);
});

test('index page lists every note, and its links open note pages', T, async (t) => {
  const { page } = await open(t, 'index.html');
  await assertOnPage(page, 'index');
  const links = page.locator('main a.note-link');
  assert.equal(await links.count(), NOTE_FILES.length, 'index lists one link per note page');
  assert.ok(await page.locator('main .stats').isVisible(), 'index shows statistics');
  const first = links.first();
  const title = (await first.textContent()).trim();
  assert.ok(title.length > 0);
  const start = page.url();
  await Promise.all([page.waitForURL((u) => u.href !== start), first.click()]);
  await assertOnPage(page, 'note');
  assert.equal((await page.locator('h1.note-title').textContent()).trim(), title, 'note page title matches the index entry');
});

test('a note page has a title and a "Linked mentions" section with entries', T, async (t) => {
  const withBacklinks = NOTE_FILES.filter((f) => count(f, /class="backlink"/g) > 0)
    .sort((a, b) => count(b, /class="backlink"/g) - count(a, /class="backlink"/g) || a.localeCompare(b));
  assert.ok(withBacklinks.length > 0, 'at least one note has backlinks');
  const { page } = await open(t, rel(withBacklinks[0]));
  await assertOnPage(page, 'note');
  const h1 = (await page.locator('h1.note-title').textContent()).trim();
  assert.ok(h1.length > 0, 'note has a title');
  assert.ok((await page.title()).includes(h1), '<title> contains the note title');
  const section = page.locator('section.backlinks');
  assert.match(await section.locator('h2').textContent(), /Linked mentions/);
  const entries = section.locator('li.backlink');
  assert.ok(await entries.count() >= 1, 'backlinks list has entries');
  const link = entries.first().locator('a.backlink-title');
  assert.ok((await link.textContent()).trim().length > 0, 'backlink shows the linking note title');
  const contexts = await section.locator('.backlink-contexts li').evaluateAll((lis) => lis.map((li) => ({ text: li.textContent.trim(), elements: li.children.length })));
  assert.ok(contexts.some((c) => c.text.length > 0), 'backlinks show context snippets');
  assert.ok(contexts.every((c) => c.elements === 0), 'context snippets are plain (escaped) text, not HTML');
  const start = page.url();
  await Promise.all([page.waitForURL((u) => u.href !== start), link.click()]);
  await assertOnPage(page, 'note');
});

test('clicking an internal link in a note body opens an existing page', T, async (t) => {
  const candidate = NOTE_FILES.find((f) => /<a class="internal" href="[^"#]/.test(TEXT.get(f)));
  assert.ok(candidate, 'some note body has an internal link to an existing note');
  const { page } = await open(t, rel(candidate));
  const links = page.locator('.note-body a.internal:not(.wanted)');
  const hrefs = await links.evaluateAll((as) => as.map((a) => a.href));
  assert.ok(hrefs.length > 0);
  for (const href of hrefs) assert.ok(fs.existsSync(fileOf(href)), `internal link target exists: ${href}`);
  const index = Math.max(0, hrefs.findIndex((h) => !new URL(h).hash));
  const target = hrefs[index];
  await Promise.all([page.waitForURL(target), links.nth(index).click()]);
  await assertOnPage(page);
  assert.equal(fileOf(page.url()), fileOf(target));
});

test('every relative link and asset on every page resolves (files and #fragments), none is root-absolute', T, () => {
  const ids = new Map();
  const idsOf = (f) => {
    if (!ids.has(f)) ids.set(f, new Set([...TEXT.get(f).matchAll(/\sid="([^"]*)"/g)].map((m) => decodeEntities(m[1]))));
    return ids.get(f);
  };
  const problems = [];
  for (const f of HTML_FILES) {
    for (const m of TEXT.get(f).matchAll(/<(a|link|script|img|source|audio|video|iframe)\b[^>]*?\s(href|src)="([^"]*)"/gi)) {
      const [, tag, , raw] = m;
      const ref = decodeEntities(raw);
      const where = `${rel(f)}: <${tag} ${ref}>`;
      if (/^(mailto|tel|data|javascript):/i.test(ref)) continue;
      if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('//')) {
        if (!(tag.toLowerCase() === 'a' && /^https?:/i.test(ref))) problems.push(`${where}: loads from another host`);
        continue;
      }
      if (ref.startsWith('/')) { problems.push(`${where}: root-absolute URL`); continue; }
      const hashAt = ref.indexOf('#');
      const pathPart = (hashAt >= 0 ? ref.slice(0, hashAt) : ref).split('?')[0];
      const fragment = hashAt >= 0 ? ref.slice(hashAt + 1) : '';
      let target;
      try { target = pathPart ? path.resolve(path.dirname(f), decodeURIComponent(pathPart)) : f; } catch { problems.push(`${where}: bad escape`); continue; }
      if (!fs.existsSync(target)) { problems.push(`${where}: missing file`); continue; }
      if (fs.statSync(target).isDirectory()) { problems.push(`${where}: points at a folder (breaks on file://)`); continue; }
      if (fragment && target.endsWith('.html') && TEXT.has(target)) {
        let id = fragment;
        try { id = decodeURIComponent(fragment); } catch { /* keep raw */ }
        if (!idsOf(target).has(id)) problems.push(`${where}: no element with id "${id}" in ${rel(target)}`);
      }
    }
  }
  assert.deepEqual(problems.slice(0, 40), [], `${problems.length} broken references`);
});

test('search: typing shows results, arrows move, Escape closes, Enter opens the top result', T, async (t) => {
  const docs = searchDocs().sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  assert.ok(docs.length > 40, `every published note is searchable (${docs.length} docs)`);
  let word = null;
  for (const doc of docs) {
    const w = (String(doc.title).match(/[A-Za-z]{4,}/g) || []).sort((a, b) => b.length - a.length)[0];
    if (w) { word = w; break; }
  }
  assert.ok(word, 'some document title has a word to search for');
  // Start from the deepest note so the root prefix is exercised.
  const deepest = [...NOTE_FILES].sort((a, b) => rel(b).split('/').length - rel(a).split('/').length)[0];
  const { page } = await open(t, rel(deepest));
  const input = page.locator('#search-input');
  const results = page.locator('#search-results li.result');
  await input.click();
  await input.pressSequentially(word.toLowerCase(), { delay: 30 });
  await results.first().waitFor({ state: 'visible' });
  const n = await results.count();
  assert.ok(n >= 1 && n <= 10, `1..10 results, got ${n}`);
  const titles = await page.locator('#search-results .result-title').allTextContents();
  assert.ok(titles.some((x) => x.toLowerCase().includes(word.toLowerCase())), `a result title contains "${word}": ${titles}`);
  assert.match(await results.nth(0).getAttribute('class'), /\bactive\b/);
  if (n >= 2) {
    await input.press('ArrowDown');
    assert.match(await results.nth(1).getAttribute('class'), /\bactive\b/);
    await input.press('ArrowUp');
    assert.match(await results.nth(0).getAttribute('class'), /\bactive\b/);
  }
  await input.press('Escape');
  assert.equal(await page.locator('#search-results').isHidden(), true, 'Escape hides the results');
  await input.fill('');
  await input.pressSequentially(word.toLowerCase(), { delay: 30 });
  await results.first().waitFor({ state: 'visible' });
  const href = await results.first().locator('a').evaluate((a) => a.href);
  assert.ok(fs.existsSync(fileOf(href)), `result points at an existing page: ${href}`);
  await Promise.all([page.waitForURL(href), input.press('Enter')]);
  // The top result may be a note or a canvas (search finds both): the page it names.
  const kind = kindOf(fileOf(href));
  assert.ok(['note', 'canvas'].includes(kind), `a note or canvas result: ${href} (${kind})`);
  await assertOnPage(page, kind);
});

test('search finds a canvas by its name and opens its page', T, async (t) => {
  const canvas = searchDocs().find((d) => String(d.path).endsWith('.canvas'));
  assert.ok(canvas, 'the demo vault\'s canvas is a search document');
  const { page } = await open(t, 'index.html');
  const input = page.locator('#search-input');
  await input.click();
  await input.pressSequentially(canvas.title.toLowerCase(), { delay: 30 });
  const result = page.locator('#search-results li.result', { hasText: canvas.title }).first();
  await result.waitFor({ state: 'visible' });
  await result.locator('a').click();
  await assertOnPage(page, 'canvas');
  assert.equal((await page.locator('h1').innerText()).trim(), canvas.title);
});

test('search says "no results" in the words the page gives it', T, async (t) => {
  const { page } = await open(t, 'index.html');
  const input = page.locator('#search-input');
  const template = await input.getAttribute('data-no-results');
  assert.ok(template && template.includes('{query}'), `the page gives the message: ${template}`);
  await input.click();
  await input.pressSequentially('qzxqzx', { delay: 20 });
  const expected = template.split('{query}').join('qzxqzx');
  const shown = await page.waitForFunction((text) => {
    const m = document.querySelector('#search-results .search-message');
    return m && m.textContent === text ? m.textContent : null;
  }, expected, { timeout: 10_000 }).then((h) => h.jsonValue(), () => page.locator('#search-results').textContent());
  assert.equal(shown, expected);
});

test('search merges hits from every shard', T, async (t) => {
  const sandbox = { window: {} };
  const { shards } = loadDataFile('search-index.js', sandbox).VAULTC_SEARCH;
  for (const shard of shards) loadDataFile(shard, sandbox);
  assert.ok(shards.length >= 2, `the demo vault is split into shards (${shards.length})`);
  // A title word found in two different shards (and in few titles, so both fit in the ten
  // results): both notes must be among the results.
  const words = (doc) => [...new Set((String(doc.title).match(/[A-Za-z]{5,}/g) || []).map((w) => w.toLowerCase()))];
  const count = new Map();
  for (const shard of sandbox.window.VAULTC_SEARCH_SHARDS) {
    for (const doc of Object.values(shard.docs)) for (const w of words(doc)) count.set(w, (count.get(w) || 0) + 1);
  }
  const seen = new Map();
  let pair = null;
  sandbox.window.VAULTC_SEARCH_SHARDS.forEach((shard, k) => {
    for (const doc of Object.values(shard.docs)) {
      for (const w of words(doc)) {
        if (count.get(w) > 4) continue;
        const other = seen.get(w);
        if (!pair && other && other.k !== k) pair = { word: w, a: other.doc, b: doc };
        if (!seen.has(w)) seen.set(w, { k, doc });
      }
    }
  });
  assert.ok(pair, 'two shards share a title word');
  const { page } = await open(t, 'index.html');
  const input = page.locator('#search-input');
  await input.click();
  await input.pressSequentially(pair.word, { delay: 20 });
  await page.locator('#search-results li.result').first().waitFor({ state: 'visible' });
  const titles = await page.locator('#search-results .result-title').allTextContents();
  for (const doc of [pair.a, pair.b]) {
    assert.ok(titles.includes(doc.title), `"${doc.title}" is found for "${pair.word}": ${titles}`);
  }
});

test('search analyses a query as the index does: the cases of tests/search-terms.json', T, async (t) => {
  const { cases } = JSON.parse(fs.readFileSync(new URL('../search-terms.json', import.meta.url), 'utf8'));
  assert.ok(cases.length > 10, 'the shared cases are there');
  const { page } = await open(t, 'index.html');
  await page.locator('#search-input').focus(); // loads elasticlunr and the index
  await page.waitForFunction(() => window.elasticlunr && window.VAULTC_SEARCH_SHARDS);
  const got = await page.evaluate((texts) => texts.map((x) => window.VAULTC_SEARCH_TERMS(x)), cases.map((c) => c.text));
  cases.forEach((c, i) => assert.deepEqual(got[i], c.terms, `terms of ${JSON.stringify(c.text)}`));
});

test('search finds CJK words inside a title and inside a sentence (no spaces to split at)', T, async (t) => {
  const RUN = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]{3,}/u;
  const doc = searchDocs().filter((d) => RUN.test(d.title)).sort((a, b) => (a.url < b.url ? -1 : 1))[0];
  assert.ok(doc, 'the demo vault has a note titled in Chinese');
  // Two characters from inside the title: not its start, so only pairs of characters find them.
  const inTitle = [...RUN.exec(doc.title)[0]].slice(1, 3).join('');
  // Four characters from the middle of a long run of the note's page text.
  let file = path.join(SITE, decodeURIComponent(doc.url.split('#')[0]));
  if (doc.url.endsWith('/') || !doc.url) file = path.join(file, 'index.html');
  const article = TEXT.get(file).replace(/^[\s\S]*?<article/, '').replace(/<\/article>[\s\S]*$/, '');
  const runs = decodeEntities(article.replace(/<[^>]+>/g, ' ')).match(/[\u3400-\u4dbf\u4e00-\u9fff]{10,}/gu) || [];
  assert.ok(runs.length, `${rel(file)} has a sentence of ten Chinese characters or more`);
  const inSentence = [...runs[0]].slice(3, 7).join('');
  const { page } = await open(t, 'index.html');
  const input = page.locator('#search-input');
  for (const query of [inTitle, inSentence]) {
    await input.fill('');
    await input.click();
    await input.pressSequentially(query, { delay: 20 });
    await page.locator('#search-results li.result').first().waitFor({ state: 'visible' });
    const titles = await page.locator('#search-results .result-title').allTextContents();
    assert.ok(titles.includes(doc.title), `"${doc.title}" is found for "${query}": ${titles}`);
  }
});

test('math is laid out by the browser as MathML, not shown as TeX', T, async (t) => {
  const file = NOTE_FILES.find((f) => /<math display="block"/.test(TEXT.get(f)));
  assert.ok(file, 'some note of the demo vault has display math');
  const { page } = await open(t, rel(file));
  const display = page.locator('.math-display math').first();
  const box = await display.boundingBox();
  const lineHeight = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.note-body p')).lineHeight));
  assert.ok(box && box.height > 1.5 * lineHeight, `a display formula is taller than a line: ${JSON.stringify(box)} vs ${lineHeight}`);
  const shown = await page.locator('.math-display').first().innerText();
  assert.ok(!/\\(frac|sum|mathcal)/.test(shown), `the TeX source is not what is shown: ${shown}`);
  // Every child of the formula is shown, not only the first one.
  const widths = await page.evaluate(() => [...document.querySelectorAll('.math-inline math')].map((m) => m.getBoundingClientRect().width));
  assert.ok(widths.length > 0 && widths.every((w) => w > 0), `inline formulas have a width: ${widths}`);
  await page.evaluate(() => document.fonts.ready);
  const font = await page.evaluate(() => document.fonts.check('16px "Latin Modern Math"'));
  assert.ok(font, 'the math font is loaded from static/fonts');
});

test('a folded callout opens and closes on a click, with no script; its title link works', T, async (t) => {
  const file = NOTE_FILES.find((f) => /<details class="callout"[^>]*data-fold="closed"/.test(TEXT.get(f)));
  assert.ok(file, 'some note of the demo vault has a folded callout (`> [!type]-`)');
  const { page } = await open(t, rel(file), { javaScriptEnabled: false });
  const callout = page.locator('details.callout[data-fold="closed"]').first();
  const content = callout.locator('.callout-content');
  assert.equal(await content.isVisible(), false, 'a folded callout hides its content');
  const title = callout.locator('summary.callout-title');
  assert.ok((await title.innerText()).trim().length > 0, 'the title shows');
  assert.ok(!/\[!|\[\[/.test(await title.innerText()), 'no `[!type]` or `[[` in the title');
  await title.click({ position: { x: 5, y: 5 } });
  assert.equal(await content.isVisible(), true, 'a click on the title opens it');
  await title.click({ position: { x: 5, y: 5 } });
  assert.equal(await content.isVisible(), false, 'a second click folds it again');
  // The title's link is a link of the page, to a page that exists.
  const link = title.locator('a.internal').first();
  const href = await link.getAttribute('href');
  assert.ok(href && fs.existsSync(fileOf(new URL(href, page.url()).href)), `the title's link resolves: ${href}`);
});

test('a task of another status is checked but not struck out; a done task is', T, async (t) => {
  const file = NOTE_FILES.find((f) => /<li data-task="\/"/.test(TEXT.get(f)));
  assert.ok(file, 'some note of the demo vault has an in-progress task (`- [/]`)');
  const { page } = await open(t, rel(file));
  const styles = await page.evaluate(() => {
    const of = (li) => ({ checked: li.querySelector('input').checked, line: getComputedStyle(li).textDecorationLine });
    const custom = document.querySelector('li[data-task="/"]');
    const done = [...document.querySelectorAll('li:not([data-task])')].find((li) => li.querySelector(':scope > input:checked'));
    return { custom: of(custom), done: done && of(done) };
  });
  assert.deepEqual(styles.custom, { checked: true, line: 'none' }, 'an in-progress task');
  assert.deepEqual(styles.done, { checked: true, line: 'line-through' }, 'a done task');
});

test('on file:// a link previews its note from the search index: title, path and opening words', T, async (t) => {
  const file = NOTE_FILES.find((f) => /<div class="note-body">[\s\S]*<a class="internal" href/.test(TEXT.get(f)));
  const { page } = await open(t, rel(file));
  const link = page.locator('.note-body a.internal:not(.wanted):not(.canvas):not(.unpublished)').first();
  const href = await link.getAttribute('href');
  const target = new URL(href, page.url()).href.split('#')[0];
  const doc = searchDocs().find((d) => fileUrl(d.url) === target);
  assert.ok(doc, `the linked page is a search document: ${target}`);
  await link.hover();
  const card = page.locator('.preview-card');
  await card.waitFor({ state: 'visible' });
  assert.equal((await card.locator('.preview-title').textContent()).trim(), doc.title);
  assert.equal((await card.locator('.preview-path').textContent()).trim(), doc.path);
  assert.equal((await card.locator('.preview-excerpt').textContent()).trim(), doc.excerpt.trim());
  assert.ok(doc.excerpt.trim().length > 20, `an excerpt worth showing: ${doc.excerpt}`);
  assert.equal(await link.getAttribute('aria-describedby'), 'vaultc-preview');
  // Escape closes it; the search box still finds notes after the preview loaded the shards.
  await page.keyboard.press('Escape');
  await card.waitFor({ state: 'detached' });
  const input = page.locator('#search-input');
  await input.click();
  await input.pressSequentially(doc.title.toLowerCase(), { delay: 20 });
  const results = page.locator('#search-results li.result');
  await results.first().waitFor();
  const titles = await page.locator('#search-results .result-title').allTextContents();
  assert.equal(titles.filter((x) => x === doc.title).length, 1, `found once, not twice: ${titles}`);
});

test('an embedded base shows its view as a table whose rows open their notes', T, async (t) => {
  const file = NOTE_FILES.find((f) => /<div class="embed embed-base"[^>]*><div class="base-view base-table">.*?<tfoot><tr class="base-summary">/.test(TEXT.get(f)));
  assert.ok(file, 'some note of the demo vault embeds a base whose first view sums up its rows (`![[Models.base]]`)');
  const { page } = await open(t, rel(file));
  const view = page.locator('.embed-base').first();
  const table = view.locator('table.base-table');
  assert.ok(await table.isVisible(), 'the table shows');
  const box = await table.boundingBox();
  const body = await page.locator('.note-body').boundingBox();
  assert.ok(box.width > body.width * 0.9, `the table spans the body (${box.width} of ${body.width})`);
  const headers = await table.locator('thead th').allInnerTexts();
  assert.ok(headers.length >= 2 && headers.every((h) => h.trim().length > 0), `titled columns: ${headers}`);
  const rows = table.locator('tbody tr');
  const shown = Number(await view.locator('.base-header .count').innerText());
  assert.equal(await rows.count(), shown, 'the count is the number of rows');
  assert.ok(shown >= 2, `rows: ${shown}`);
  // The view's summaries show under the rows: the names filled in are all of them.
  const summary = table.locator('tfoot tr.base-summary td').first();
  assert.ok(await summary.isVisible(), 'the summary row shows');
  assert.equal((await summary.textContent()).replace(/\s+/g, ' ').trim(), `Filled ${shown}`);
  // Rows keep the view's order (oldest first) and each name opens its note's page.
  const years = (await rows.locator('td:nth-child(2)').allInnerTexts()).map(Number);
  assert.deepEqual(years, [...years].sort((a, b) => a - b), `sorted by year: ${years}`);
  const name = rows.first().locator('td:first-child a.internal');
  const title = (await name.innerText()).trim();
  await name.click();
  await assertOnPage(page, 'note');
  assert.equal((await page.locator('h1.note-title').innerText()).trim(), title);
});

test('an embedded canvas places its cards as the file says, draws its arrows, and its links open notes', T, async (t) => {
  const file = NOTE_FILES.find((f) => /<div class="embed embed-canvas"/.test(TEXT.get(f)));
  assert.ok(file, 'some note of the demo vault embeds a canvas (`![[Architecture Map.canvas]]`)');
  const { page } = await open(t, rel(file));
  const view = page.locator('.embed-canvas .canvas-view').first();
  await view.scrollIntoViewIfNeeded();
  assert.ok(await view.isVisible(), 'the canvas shows');
  // The board is wider than the note's column: it is fitted to it, whole, with no scrolling.
  await page.waitForFunction(() => document.querySelector('.embed-canvas .canvas-view').dataset.zoom);
  const fit = await page.evaluate(() => {
    const v = document.querySelector('.embed-canvas .canvas-view');
    const plane = v.querySelector('.canvas-plane');
    const box = plane.getBoundingClientRect();
    return {
      zoom: Number(v.dataset.zoom), own: plane.offsetWidth, width: box.width, height: box.height,
      viewWidth: v.clientWidth, viewHeight: v.clientHeight, scrolls: v.scrollWidth > v.clientWidth + 1,
    };
  });
  assert.ok(fit.own > fit.viewWidth, `the demo canvas is wider than the column: ${JSON.stringify(fit)}`);
  assert.ok(fit.zoom < 1 && fit.zoom > 0.05, `fitted: ${JSON.stringify(fit)}`);
  assert.ok(fit.width <= fit.viewWidth + 1 && fit.width > fit.viewWidth * 0.9 && !fit.scrolls,
    `the whole width shows and fills the column: ${JSON.stringify(fit)}`);
  assert.ok(fit.height <= fit.viewHeight + 1, `the whole height shows: ${JSON.stringify(fit)}`);
  // Every card sits where its style puts it, relative to the plane, at its own size (drawn
  // at the fitted zoom).
  const placed = await page.evaluate(() => {
    const plane = document.querySelector('.embed-canvas .canvas-plane');
    const zoom = Number(plane.parentElement.dataset.zoom);
    const origin = plane.getBoundingClientRect();
    return [...plane.querySelectorAll('.canvas-node, .canvas-group')].map((el) => {
      const r = el.getBoundingClientRect();
      return {
        want: [el.style.left, el.style.top, el.style.width, el.style.height].map((v) => parseFloat(v)),
        got: [r.left - origin.left, r.top - origin.top, r.width, r.height].map((v) => v / zoom),
      };
    });
  });
  assert.ok(placed.length >= 6, `cards and groups: ${placed.length}`);
  const cards = await page.evaluate(() => document.querySelectorAll('.embed-canvas .canvas-plane .canvas-node').length);
  assert.ok(cards >= 4, `cards: ${cards}`);
  for (const { want, got } of placed) {
    want.forEach((w, i) => assert.ok(Math.abs(w - got[i]) <= 2, `placed at ${want}, drawn at ${got}`));
  }
  // A narrow window (a phone's) fits it again; Ctrl and the wheel zoom it in, and then a
  // resize keeps the zoom the reader chose.
  const zoomNow = () => page.evaluate(() => Number(document.querySelector('.embed-canvas .canvas-view').dataset.zoom));
  const size = page.viewportSize();
  await page.setViewportSize({ width: 420, height: size.height });
  await page.waitForFunction((z) => Number(document.querySelector('.embed-canvas .canvas-view').dataset.zoom) < z, fit.zoom);
  const narrow = await zoomNow();
  await view.scrollIntoViewIfNeeded();
  const box = await view.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -100);
  await page.keyboard.up('Control');
  await page.waitForFunction((z) => Number(document.querySelector('.embed-canvas .canvas-view').dataset.zoom) > z, narrow);
  const chosen = await zoomNow();
  await page.setViewportSize(size);
  await page.waitForTimeout(200);
  assert.equal(await zoomNow(), chosen, 'a zoomed canvas keeps its zoom on resize');
  // The arrows are drawn: curves of some length, coloured by their stroke, with arrowheads.
  const edges = await page.evaluate(() => [...document.querySelectorAll('.embed-canvas path.canvas-edge')]
    .map((p) => ({ length: p.getTotalLength(), stroke: getComputedStyle(p).stroke, marker: p.getAttribute('marker-end') })));
  assert.ok(edges.length >= 3, `edges: ${edges.length}`);
  assert.ok(edges.every((e) => e.length > 20 && e.stroke !== 'none'), JSON.stringify(edges));
  assert.ok(edges.some((e) => e.marker && e.marker.startsWith('url(#canvas-arrow-')), JSON.stringify(edges));
  // A wikilink in a text card opens its note.
  const link = page.locator('.embed-canvas .canvas-text a.internal').first();
  const title = (await link.innerText()).trim();
  await link.scrollIntoViewIfNeeded();
  await link.click();
  await assertOnPage(page, 'note');
  assert.equal((await page.locator('h1.note-title').innerText()).trim(), title);
  // The embed's title opens the canvas's page, which draws the same cards, and uses the width.
  const { page: note } = await open(t, rel(file));
  const heading = note.locator('.embed-canvas .embed-title a.internal.canvas').first();
  assert.equal((await heading.textContent()).trim(), 'Architecture Map');
  await heading.click();
  await note.waitForSelector('body.page-canvas');
  const own = await note.evaluate(() => ({
    title: document.querySelector('h1').textContent,
    cards: document.querySelectorAll('.canvas-plane .canvas-node').length,
    width: document.querySelector('.canvas-view').getBoundingClientRect().width,
    main: document.querySelector('main').getBoundingClientRect().width,
  }));
  assert.equal(own.title, 'Architecture Map');
  assert.equal(own.cards, cards, 'the same cards as the embed');
  assert.ok(own.width > own.main * 0.9, `the canvas takes the page's width: ${own.width} of ${own.main}`);
});

test('a canvas page opens fitted to the view, and its toolbar zooms in, back to actual size and to fit', T, async (t) => {
  const file = NOTE_FILES.find((f) => /<a class="internal canvas" href="/.test(TEXT.get(f)));
  assert.ok(file, 'some note of the demo vault links a canvas');
  const { page } = await open(t, rel(file));
  await page.setViewportSize({ width: 1000, height: 800 });
  await page.locator('a.internal.canvas').first().click();
  await page.waitForSelector('body.page-canvas');
  const bar = page.locator('.canvas-zoom');
  await bar.waitFor({ state: 'visible' });
  const state = () => page.evaluate(() => {
    const view = document.querySelector('.canvas-view').getBoundingClientRect();
    const plane = document.querySelector('.canvas-plane');
    const box = plane.getBoundingClientRect();
    return {
      level: document.querySelector('.canvas-zoom-level').textContent,
      own: plane.offsetWidth, width: box.width, height: box.height,
      viewWidth: view.width, viewHeight: view.height,
    };
  });
  const fitted = await state();
  assert.ok(fitted.own > fitted.viewWidth, `the demo canvas is wider than the view: ${JSON.stringify(fitted)}`);
  assert.ok(fitted.width <= fitted.viewWidth + 1 && fitted.height <= fitted.viewHeight + 1,
    `the whole canvas is in view: ${JSON.stringify(fitted)}`);
  const percent = Number.parseInt(fitted.level, 10);
  assert.ok(percent > 5 && percent < 100, `the level says how far out: ${fitted.level}`);
  await page.getByRole('button', { name: 'Zoom in' }).click();
  const closer = await state();
  assert.ok(Number.parseInt(closer.level, 10) > percent, `zoomed in: ${closer.level}`);
  assert.ok(closer.width > fitted.width * 1.2, `drawn bigger: ${closer.width} after ${fitted.width}`);
  await page.getByRole('button', { name: 'Actual size' }).click();
  const actual = await state();
  assert.equal(actual.level, '100%');
  assert.ok(Math.abs(actual.width - actual.own) < 2, `at its own size: ${JSON.stringify(actual)}`);
  // Ctrl and the wheel zoom out around the pointer; a plain wheel scrolls and leaves the zoom.
  const view = await page.locator('.canvas-view').boundingBox();
  await page.mouse.move(view.x + view.width / 2, view.y + view.height / 2);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, 100);
  await page.keyboard.up('Control');
  await page.waitForFunction(() => document.querySelector('.canvas-zoom-level').textContent !== '100%');
  const wheeled = await state();
  assert.ok(Number.parseInt(wheeled.level, 10) < 100, `the wheel zoomed out: ${wheeled.level}`);
  await page.mouse.wheel(0, 100);
  assert.equal((await state()).level, wheeled.level, 'a plain wheel does not zoom');
  // The cards' links still open their notes at any zoom.
  await page.getByRole('button', { name: 'Fit to view' }).click();
  assert.equal((await state()).level, fitted.level);
  const link = page.locator('.canvas-text a.internal').first();
  const title = (await link.innerText()).trim();
  await link.click();
  await assertOnPage(page, 'note');
  assert.equal((await page.locator('h1.note-title').innerText()).trim(), title);
});

test('code in a language is coloured, and a mermaid diagram is drawn as an SVG', T, async (t) => {
  const codeFile = NOTE_FILES.find((f) => /<code class="language-python">/.test(TEXT.get(f)));
  assert.ok(codeFile, 'some note of the demo vault has python code');
  const { page } = await open(t, rel(codeFile));
  await page.waitForSelector('pre > code.hljs', { timeout: 10_000 });
  const colours = await page.evaluate(() => {
    const code = document.querySelector('pre > code.language-python');
    const keyword = code.querySelector('.hljs-keyword');
    return { keyword: keyword && getComputedStyle(keyword).color, text: getComputedStyle(code).color, source: code.textContent };
  });
  assert.ok(colours.keyword, 'python keywords are marked');
  assert.notEqual(colours.keyword, colours.text, 'and coloured apart from the text');
  assert.match(colours.source, /import torch/, 'the code reads as written');

  const diagramFile = NOTE_FILES.find((f) => /<pre class="mermaid">/.test(TEXT.get(f)));
  assert.ok(diagramFile, 'some note of the demo vault has a mermaid diagram');
  const { page: diagramPage } = await open(t, rel(diagramFile));
  const svg = diagramPage.locator('pre.mermaid svg').first();
  await svg.waitFor({ timeout: 20_000 });
  const box = await svg.boundingBox();
  assert.ok(box && box.width > 100 && box.height > 100, `the diagram is drawn: ${JSON.stringify(box)}`);
  const labels = await diagramPage.locator('pre.mermaid').first().innerText();
  assert.match(labels, /What must the model do\?/, 'its labels are the diagram source\'s');
  assert.ok(!/-->/.test(labels), 'the source is not what is shown');
  // A page with neither loads neither script.
  const plain = NOTE_FILES.find((f) => !/<code class="language-|<pre class="mermaid">/.test(TEXT.get(f)));
  assert.ok(!/highlight\.min\.js|mermaid\.min\.js/.test(TEXT.get(plain)), `${rel(plain)} loads no code scripts`);
});

test('graph page draws the nodes on a canvas; hover names a node, click opens it', T, async (t) => {
  const { page } = await open(t, 'index.html');
  await Promise.all([page.waitForURL(/graph/), page.locator('a.nav-graph').click()]);
  await assertOnPage(page, 'graph');
  await page.locator('canvas#graph-canvas[data-ready="true"]').waitFor({ state: 'attached', timeout: 60_000 });
  const info = await page.evaluate(() => {
    const c = document.getElementById('graph-canvas');
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
    const ids = new Set(window.VAULTC_GRAPH.nodes.map((n) => n.id));
    const between = window.VAULTC_GRAPH.edges.filter((e) => e[0] !== e[1] && ids.has(e[0]) && ids.has(e[1])).length;
    return { painted, total: px.length / 4, data: window.VAULTC_GRAPH.nodes.length, drawn: window.vaultcGraph.nodes.length,
      edges: between, drawnEdges: window.vaultcGraph.edges.length };
  });
  assert.ok(info.data > 0, 'graph-data.js has nodes');
  assert.equal(info.drawn, info.data, 'every node is laid out');
  assert.ok(info.edges > 0, 'graph-data.js has edges between its nodes');
  assert.equal(info.drawnEdges, info.edges, 'every edge between two nodes is drawn');
  assert.ok(info.painted > 50, `canvas has painted pixels (${info.painted} of ${info.total})`);
  const target = await page.evaluate(() => {
    const c = document.getElementById('graph-canvas').getBoundingClientRect();
    const g = window.vaultcGraph;
    for (let i = 0; i < g.nodes.length; i++) {
      const n = g.nodes[i], p = g.screenPosition(i);
      if (n.kind === 'note' && n.url && p.x > 10 && p.y > 10 && p.x < c.width - 10 && p.y < c.height - 10) {
        return { x: c.left + p.x, y: c.top + p.y, title: n.title, url: n.url };
      }
    }
    return null;
  });
  assert.ok(target, 'a note node is visible on the canvas');
  await page.mouse.move(target.x, target.y);
  const tip = page.locator('#graph-tooltip');
  await tip.waitFor({ state: 'visible' });
  assert.ok((await tip.textContent()).includes(target.title), 'tooltip shows the node title');
  const expected = new URL(target.url, fileUrl('index.html')).href;
  await Promise.all([page.waitForURL(expected), page.mouse.click(target.x, target.y)]);
  await assertOnPage(page, 'note');
});

test('every kind of page loads its styles and scripts from file:// only', T, async (t) => {
  const pages = ['index.html'];
  if (NOTE_FILES.length) pages.push(rel(NOTE_FILES[0]));
  for (const kind of ['tags', 'tag', 'wanted', 'graph', '404']) {
    const f = HTML_FILES.find((x) => kindOf(x) === kind);
    assert.ok(f, `the site has a ${kind} page`);
    pages.push(rel(f));
  }
  const { page, log } = await open(t, null);
  for (const p of pages) {
    await page.goto(fileUrl(p));
    const styled = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim());
    assert.ok(styled, `style.css applies on ${p}`);
    await page.locator('#search-input').focus();           // triggers the lazy load of the search index
    await page.waitForFunction(() => !!window.elasticlunr && !!window.VAULTC_SEARCH && !!window.VAULTC_SEARCH_SHARDS
      && window.VAULTC_SEARCH_SHARDS.length === window.VAULTC_SEARCH.shards.length, null, { timeout: 15_000 });
    if (p.includes('graph')) await page.locator('canvas[data-ready="true"]').waitFor({ state: 'attached', timeout: 60_000 });
  }
  assert.deepEqual(log.external, [], 'no request leaves file://');
});

test('dark colour scheme gives a dark background and light text; light scheme the opposite', T, async (t) => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/[\d.]+/g).slice(0, 3).map((v) => Number(v) / 255)
      .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const note = rel(NOTE_FILES[0]);
  for (const scheme of ['dark', 'light']) {
    const { page } = await open(t, note, { colorScheme: scheme });
    const { bg, fg } = await page.evaluate(() => {
      const s = getComputedStyle(document.body);
      return { bg: s.backgroundColor, fg: s.color };
    });
    if (scheme === 'dark') {
      assert.ok(lum(bg) < 0.05, `dark background, got ${bg}`);
      assert.ok(lum(fg) > 0.5, `light text, got ${fg}`);
    } else {
      assert.ok(lum(bg) > 0.8, `light background, got ${bg}`);
      assert.ok(lum(fg) < 0.1, `dark text, got ${fg}`);
    }
  }
});

test('alias redirect pages forward to their note', T, async (t) => {
  if (!REDIRECT_FILES.length) { t.skip('the site has no alias redirect pages'); return; }
  const redirect = REDIRECT_FILES[0];
  const html = TEXT.get(redirect);
  const target = decodeEntities((/http-equiv="refresh"[^>]*content="0;\s*url=([^"]*)"/i.exec(html) || [])[1] || '');
  assert.ok(target, `${rel(redirect)} has a meta refresh with a url`);
  assert.ok([...html.matchAll(/<link[^>]*rel="canonical"[^>]*href="([^"]*)"/gi)].some((m) => decodeEntities(m[1]) === target), 'canonical link to the target');
  assert.ok([...html.matchAll(/<a\b[^>]*href="([^"]*)"/gi)].some((m) => decodeEntities(m[1]) === target), 'plain link to the target');
  const { page } = await open(t, null);
  await page.goto(pathToFileURL(redirect).href, { waitUntil: 'commit' });
  await page.waitForURL((u) => u.protocol === 'file:' && fileURLToPath(u) !== redirect, { timeout: 15_000 });
  await assertOnPage(page, 'note');
  assert.equal(fileOf(page.url()), path.resolve(path.dirname(redirect), decodeURIComponent(target.split('#')[0])));
});
