// tests/browser/search.test.mjs - the search page (GET /) and the widget
// (/widget.js) of a real prsearchd, in Debian's chromium driven headless by
// playwright-core. Run by tests/t_web.sh, which starts the daemon; prints
// one TAP line per check ("ok N - ..." / "not ok N - ...").
//
// Environment: PR_BASE (the daemon, e.g. http://127.0.0.1:8080/),
// PR_WIDGET_PORT (port of the static page that hosts the widget; the
// daemon's cors_origin allows it), PR_ARTIFACTS (where screenshots go),
// CHROMIUM (default /usr/bin/chromium).
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.PR_BASE;
const WIDGET_PORT = Number(process.env.PR_WIDGET_PORT || 0);
const ARTIFACTS = process.env.PR_ARTIFACTS || '.';
const EIG_URL = '/espace-presse/entrepreneurs-dinteret-general-letat-recrute-50-talents-du-numerique-pour-accelerer-sa-transformation/';

let n = 0;
let failed = 0;
const ok = (cond, what, detail) => {
  n++;
  if (cond) console.log(`ok ${n} - ${what}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${what}`);
    if (detail !== undefined) console.log(`#   ${String(detail).slice(0, 600).replace(/\n/g, '\n#   ')}`);
  }
};
// check(what, fn): fn throws or returns false to fail; a timeout fails
// this check only, and the run goes on.
async function check(what, fn) {
  try {
    const r = await fn();
    ok(r !== false, what, r === false ? 'returned false' : undefined);
  } catch (e) {
    ok(false, what, e.message);
  }
}

const hitsState = (page) => page.evaluate(() => ({
  status: document.getElementById('status').textContent,
  urls: [...document.querySelectorAll('#hits > li h2 a')].map((a) => a.getAttribute('href')),
  firstTitle: document.querySelector('#hits > li h2 a')?.innerHTML || '',
  marks: document.querySelectorAll('#hits mark').length,
  start: document.getElementById('hits').start,
}));

async function typeQuery(page, q) {
  await page.fill('#q', '');
  await page.type('#q', q, { delay: 40 });
}

async function searchPage(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));

  await check('GET / shows the French search form', async () => {
    await page.goto(BASE, { waitUntil: 'load' });
    const label = await page.textContent('label[for=q]');
    const lang = await page.getAttribute('html', 'lang');
    if (label.trim() !== 'Rechercher sur le site' || lang !== 'fr') throw new Error(`${label} / ${lang}`);
  });

  await check('the input is an ARIA combobox controlling a listbox', async () => {
    const a = await page.evaluate(() => {
      const q = document.getElementById('q');
      return [q.getAttribute('role'), q.getAttribute('aria-controls'),
        document.getElementById(q.getAttribute('aria-controls'))?.getAttribute('role'),
        document.getElementById('status').getAttribute('aria-live')].join(' ');
    });
    if (a !== 'combobox suggestions listbox polite') throw new Error(a);
  });

  page.setDefaultTimeout(5000);
  await check('the suggestion dropdown opens while typing', async () => {
    await page.click('#q');
    await typeQuery(page, 'recru');
    await page.waitForSelector('#suggestions:not([hidden]) li[role=option]', { timeout: 3000 });
    if ((await page.getAttribute('#q', 'aria-expanded')) !== 'true') throw new Error('aria-expanded');
  });

  await check('arrow keys move through the suggestions (aria-activedescendant)', async () => {
    await page.keyboard.press('ArrowDown');
    const id1 = await page.getAttribute('#q', 'aria-activedescendant');
    await page.keyboard.press('ArrowDown');
    const id2 = await page.getAttribute('#q', 'aria-activedescendant');
    const sel = await page.getAttribute(`#${id2}`, 'aria-selected');
    if (id1 !== 'sugg-0' || !id2 || id2 === id1 || sel !== 'true') throw new Error(`${id1} ${id2} ${sel}`);
    await page.keyboard.press('ArrowUp');
    if ((await page.getAttribute('#q', 'aria-activedescendant')) !== 'sugg-0') throw new Error('ArrowUp');
  });

  await check('Escape closes the suggestions and keeps the query', async () => {
    await page.keyboard.press('Escape');
    const r = await page.evaluate(() => [document.getElementById('suggestions').hidden,
      document.getElementById('q').getAttribute('aria-expanded'), document.getElementById('q').value]);
    if (!r[0] || r[1] !== 'false' || r[2] !== 'recru') throw new Error(r.join(' '));
  });

  await check('choosing a word completion with the keyboard searches it', async () => {
    await page.keyboard.press('ArrowDown'); // reopens the list
    const texts = await page.$$eval('#suggestions li', (ls) => ls.map((l) => l.textContent));
    const k = texts.findIndex((t) => !t.endsWith('Page du site'));
    if (k < 0) throw new Error(texts.join(' | '));
    for (let i = 0; i < k; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForFunction((w) => new URLSearchParams(location.search).get('q') === w, texts[k], { timeout: 3000 });
  });

  await check('typing "recrutement eig" shows the EIG recruitment release first, highlighted', async () => {
    await page.click('#q');
    await typeQuery(page, 'recrutement eig');
    await page.waitForFunction(() => document.querySelectorAll('#hits > li').length > 0, null, { timeout: 5000 });
    await page.waitForTimeout(400); // the answer to the last keystroke
    const s = await hitsState(page);
    if (s.urls[0] !== EIG_URL) throw new Error(`first: ${s.urls[0]}\nall: ${s.urls.join(' ')}`);
    if (!/<mark>/i.test(s.firstTitle)) throw new Error(`title: ${s.firstTitle}`);
  });

  await check('results carry <mark> in titles and snippets, dates in French', async () => {
    const r = await page.evaluate(() => ({
      snippetMarks: document.querySelectorAll('#hits .snippet mark').length,
      date: document.querySelector('#hits time')?.textContent || '',
    }));
    if (!r.snippetMarks) throw new Error('no <mark> in snippets');
    if (!/^\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4}$/.test(r.date)) throw new Error(`date: ${r.date}`);
  });

  await check('the live region announces the result count', async () => {
    const s = await hitsState(page);
    if (!/^\d+ résultats? pour « recrutement eig »$/.test(s.status)) throw new Error(s.status);
  });

  await check('Enter searches and puts the query in the URL', async () => {
    await page.focus('#q');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.search.includes('q=recrutement+eig'), null, { timeout: 3000 });
    await page.waitForTimeout(300);
  });

  await page.screenshot({ path: path.join(ARTIFACTS, 'search-page.png'), fullPage: true });
  ok(fs.existsSync(path.join(ARTIFACTS, 'search-page.png')), 'desktop screenshot written: search-page.png');

  await check('clicking a facet filters the results and shows a removable filter', async () => {
    const before = (await hitsState(page)).urls.length;
    await page.click('#filters button[data-facet=collection][data-value=communiques]');
    await page.waitForFunction(() => location.search.includes('collection=communiques'), null, { timeout: 3000 });
    await page.waitForFunction(() => document.querySelector('#active .chip'), null, { timeout: 3000 });
    const metas = await page.$$eval('#hits .meta', (ms) => ms.map((m) => m.textContent));
    if (!metas.length || metas.some((m) => !m.includes('Communiqués'))) throw new Error(metas.join(' | '));
    if (before < metas.length) throw new Error(`${before} < ${metas.length}`);
  });

  await check('removing the active filter brings all results back', async () => {
    await page.click('#active .chip');
    await page.waitForFunction(() => !location.search.includes('collection='), null, { timeout: 3000 });
  });

  await check('a typo gets « Essayez avec … » or « Résultats pour … »', async () => {
    await page.click('#q');
    await typeQuery(page, 'recrutment');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#correction:not([hidden]) a', { timeout: 5000 });
    const t = await page.textContent('#correction');
    if (!/(Essayez avec|Résultats pour) « recrutement »/.test(t)) throw new Error(t);
  });

  await check('a query without results says so', async () => {
    await typeQuery(page, 'xqzwvkjj');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#empty:not([hidden])', { timeout: 5000 });
    const s = await hitsState(page);
    if (!s.status.startsWith('Aucun résultat')) throw new Error(s.status);
  });

  await check('paging forward shows results 11 to 20 with page=2 in the URL', async () => {
    await typeQuery(page, 'numérique');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#pages:not([hidden]) a[rel=next]', { timeout: 5000 });
    const first = (await hitsState(page)).urls;
    await page.click('#pages a[rel=next]');
    await page.waitForFunction(() => location.search.includes('page=2'), null, { timeout: 3000 });
    await page.waitForFunction(() => document.getElementById('hits').start === 11, null, { timeout: 3000 });
    const second = (await hitsState(page)).urls;
    if (!second.length || second.some((u) => first.includes(u))) throw new Error('same hits on page 2');
  });

  await check('reload restores the state from the URL', async () => {
    await page.reload({ waitUntil: 'load' });
    await page.waitForFunction(() => document.getElementById('hits').start === 11 &&
      document.querySelectorAll('#hits > li').length > 0, null, { timeout: 5000 });
    if ((await page.inputValue('#q')) !== 'numérique') throw new Error(await page.inputValue('#q'));
  });

  await check('Back returns to page 1', async () => {
    await page.goBack();
    await page.waitForFunction(() => !location.search.includes('page=2') &&
      document.getElementById('hits').start === 1, null, { timeout: 5000 });
  });

  await check('keyboard: Tab from the input reaches the search button with a visible focus', async () => {
    await page.focus('#q');
    await page.keyboard.press('Tab');
    const r = await page.evaluate(() => {
      const a = document.activeElement;
      return [a.tagName, getComputedStyle(a).outlineStyle];
    });
    if (r[0] !== 'BUTTON' || r[1] === 'none') throw new Error(r.join(' '));
  });

  // Phone-sized viewport, for the screenshot and the one-column layout.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2, locale: 'fr-FR' });
  const pp = await phone.newPage();
  await check('on a phone the page fits the screen width', async () => {
    await pp.goto(new URL('?q=recrutement+eig', BASE).href, { waitUntil: 'load' });
    await pp.waitForFunction(() => document.querySelectorAll('#hits > li').length > 0, null, { timeout: 5000 });
    const w = await pp.evaluate(() => document.documentElement.scrollWidth);
    if (w > 390) throw new Error(`scrollWidth ${w}`);
  });
  await pp.screenshot({ path: path.join(ARTIFACTS, 'search-page-phone.png') });
  ok(fs.existsSync(path.join(ARTIFACTS, 'search-page-phone.png')), 'phone screenshot written: search-page-phone.png');
  await phone.close();

  ok(problems.length === 0, 'no script errors or CSP violations in the page', problems.join('\n'));
  await ctx.close();
}

// The widget on a page of "the site": another origin, a plain <input>.
function sitePage(port) {
  const api = new URL(BASE);
  const html = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Site</title></head>
<body><header><form action="/recherche/"><label for="search">Rechercher</label>
<input id="search" name="q" type="search"></form></header><p>Contenu du site.</p>
<script src="${new URL('widget.js', api)}" data-input="#search" data-api="${api.href}" defer></script>
</body></html>`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function widget(browser) {
  if (!WIDGET_PORT) return;
  const server = await sitePage(WIDGET_PORT);
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 700 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(5000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  try {
    await page.goto(`http://127.0.0.1:${WIDGET_PORT}/`, { waitUntil: 'load' });
    await check('widget: the site input becomes a combobox', async () => {
      await page.waitForFunction(() => document.getElementById('search').getAttribute('role') === 'combobox', null, { timeout: 3000 });
    });
    await check('widget: typing shows suggestions and top pages with <mark> (CORS)', async () => {
      await page.click('#search');
      await page.type('#search', 'recrutement eig', { delay: 40 });
      await page.waitForSelector('.prs-w-list:not([hidden]) .prs-w-opt', { timeout: 5000 });
      const r = await page.evaluate(() => ({
        heads: [...document.querySelectorAll('.prs-w-head')].map((h) => h.textContent),
        marks: document.querySelectorAll('.prs-w-list mark').length,
      }));
      if (!r.heads.includes('Pages') || !r.marks) throw new Error(JSON.stringify(r));
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'widget.png') });
    await check('widget: ArrowDown highlights an option, Escape closes', async () => {
      await page.keyboard.press('ArrowDown');
      const id = await page.getAttribute('#search', 'aria-activedescendant');
      if (!id || (await page.getAttribute(`#${id}`, 'aria-selected')) !== 'true') throw new Error(String(id));
      await page.keyboard.press('Escape');
      if ((await page.getAttribute('#search', 'aria-expanded')) !== 'false') throw new Error('still open');
    });
    ok(problems.length === 0, 'widget: no script errors on the site page', problems.join('\n'));
  } finally {
    await ctx.close();
    server.close();
  }
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'prsearch-chromium-'));
  let context;
  try {
    // playwright gives each launch a new empty profile (--user-data-dir)
    // of its own, so every run starts alike; PROFILE holds its temp files.
    process.env.TMPDIR = profile;
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = browser;
    await searchPage(browser);
    await widget(browser);
  } catch (e) {
    ok(false, 'the browser runs', e.stack || e.message);
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`# ${n - failed}/${n} browser checks passed`);
  process.exit(failed ? 1 : 0);
}

main();
