import { chromium } from 'playwright-core';
const [,, url, out, w, h, scheme] = process.argv;
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu'] });
const p = await b.newPage({ viewport: { width: +w || 1280, height: +h || 900 }, colorScheme: scheme || 'light' });
await p.goto(url);
await p.waitForTimeout(300);
await p.screenshot({ path: out, fullPage: false });
await b.close();
