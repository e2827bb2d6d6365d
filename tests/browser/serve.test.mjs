// Real-browser test of `vaultc serve`: a page opened over HTTP reloads itself after a save.
// Run: VAULTC_BIN=target/release/vaultc VAULTC_VAULT=vault npm run test:serve   (see README.md)
// The vault is copied to a temporary folder first; the original is never edited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const BIN = process.env.VAULTC_BIN ? path.resolve(process.env.VAULTC_BIN) : '';
const VAULT = process.env.VAULTC_VAULT ? path.resolve(process.env.VAULTC_VAULT) : '';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const T = { timeout: 90_000 };

assert.ok(BIN && fs.existsSync(BIN), 'set VAULTC_BIN to a built vaultc binary');
assert.ok(VAULT && fs.existsSync(VAULT), 'set VAULTC_VAULT to a vault folder (it is copied, not edited)');

let browser;
let server;
let url;
let log = '';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultc-serve-'));
const vault = path.join(tmp, 'vault');

before(async () => {
  fs.cpSync(VAULT, vault, { recursive: true });
  server = spawn(BIN, ['serve', vault, '-o', path.join(tmp, 'site'), '--port', '0'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vaultc serve did not start:\n${log}`)), 60_000);
    server.stderr.setEncoding('utf8');
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /serving .* at (http:\/\/[^\s/]+)\//.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => reject(new Error(`vaultc serve exited with ${code}:\n${log}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('an open note page reloads itself with the saved text, and its links still work', T, async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const response = await page.goto(`${url}/`);
  assert.equal(response.status(), 200);
  // Follow the index's first note link: served over HTTP, relative links resolve.
  assert.ok(await page.locator('a.note-link').count() > 0, 'the index lists notes');
  await page.locator('a.note-link').first().click();
  await page.waitForLoadState('load');
  const notePath = await page.locator('article.note').getAttribute('data-path');
  assert.ok(notePath && notePath.endsWith('.md'), `a note page (data-path=${notePath})`);
  const noteUrl = page.url();
  let loads = 0;
  page.on('load', () => { loads += 1; });

  const marker = `Saved while the page was open ${Date.now()}`;
  fs.appendFileSync(path.join(vault, notePath), `\n\n${marker} and linked to [[A note nobody wrote]].\n`);
  await page.waitForFunction((m) => document.body.innerText.includes(m), marker, { timeout: 60_000 });
  assert.equal(page.url(), noteUrl, 'the same page, reloaded in place');
  assert.ok(loads >= 1, 'the page reloaded itself (no test-driven navigation)');
  // The new link is a wanted (red) link to the missing note.
  const wanted = page.locator('.note-body a.internal.wanted', { hasText: 'A note nobody wrote' });
  assert.equal(await wanted.count(), 1);
  assert.deepEqual(errors, [], 'no script errors');
  // A new link is rebuilt by dependency tracking: only the pages that can show it.
  assert.match(log, /built \d+ pages .*changed notes only/, 'the rebuild was tracked');
  // The wanted page, rebuilt with it, lists the missing note.
  await page.goto(`${url}/wanted/`);
  assert.ok(
    (await page.locator('main').innerText()).includes('A note nobody wrote'),
    'the wanted page lists the new missing note',
  );
  await page.close();
});

test('resting on a link to another note previews that note; leaving or Escape closes it', T, async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // A note page whose body links to another published note (read from the built files, so
  // the test opens one page, not each until it finds one).
  const site = path.join(tmp, 'site');
  const pages = fs.readdirSync(site, { recursive: true }).filter((f) => f.endsWith('index.html'));
  const linking = pages.find((f) => {
    const html = fs.readFileSync(path.join(site, f), 'utf8');
    return /<div class="note-body">[\s\S]*<a class="internal" href="[^"#]/.test(html);
  });
  assert.ok(linking, 'some note of the demo vault links to another note in its body');
  await page.goto(`${url}/${linking.split(path.sep).join('/')}`, { waitUntil: 'domcontentloaded' });
  const link = page.locator('.note-body a.internal:not(.wanted):not(.attachment):not(.unpublished)').first();
  const from = page.url();
  await link.hover();
  const card = page.locator('.preview-card');
  await card.waitFor({ state: 'visible', timeout: 10_000 });
  // The note's title: in a title line, or as the heading its body opens with.
  const title = (await card.locator('.preview-title, .preview-body > :is(h1, h2, h3):first-child').first().innerText()).trim();
  assert.ok(title.length > 0, 'the preview has the note title');
  assert.equal(await card.getByText(title, { exact: true }).count(), 1, 'shown once');
  assert.ok((await card.locator('.preview-body').innerText()).trim().length > 0, 'and its body');
  assert.equal(await link.getAttribute('aria-describedby'), 'vaultc-preview');
  assert.equal(await card.locator('[id]').count(), 0, 'no id of the previewed page clashes with this page');
  // The card sits by the link, inside the window.
  const box = await card.boundingBox();
  const viewport = page.viewportSize();
  assert.ok(box.x >= 0 && box.x + box.width <= viewport.width, `inside the window: ${JSON.stringify(box)}`);
  // Escape closes it; leaving the link (and the card) closes it too.
  await page.keyboard.press('Escape');
  await card.waitFor({ state: 'detached', timeout: 5_000 });
  await page.mouse.move(1, 1);
  await link.hover();
  await card.waitFor({ state: 'visible', timeout: 10_000 });
  await page.mouse.move(1, 1);
  await card.waitFor({ state: 'detached', timeout: 5_000 });
  // The preview showed the page the link opens.
  await link.click();
  await page.waitForLoadState('domcontentloaded');
  assert.notEqual(page.url(), from);
  assert.equal((await page.locator('h1.note-title').innerText()).trim(), title);
  assert.deepEqual(errors, [], 'no script errors');
  await page.close();
});
