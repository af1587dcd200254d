// The web app's browser checks in a second engine: Debian's firefox-esr,
// driven by puppeteer-core (24.x, pinned; 25.x needs a newer Node than
// Debian's) over WebDriver BiDi. The same fixture as web.test.mjs (two lessons
// packed at test time, the real `sabak serve`): catalog, play, cues, search,
// offline copy, axe, no request outside the kiosk, no console errors.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  L1, L2, KY_CUES, RU_CUES, RU_ONLY_WORD, TMP_ROOT, SHOTS, AXE,
  makeLessons, startServer, run, check, assert, eq, near, passed, failed,
} from './web.test.mjs';

const require = createRequire(import.meta.url);
const puppeteer = require('puppeteer-core');
const FIREFOX = '/usr/bin/firefox-esr';

async function firefoxChecks(origin, lib) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const profile = fs.mkdtempSync(path.join(TMP_ROOT, 'firefox-profile-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    protocolTimeout: 120000,
    extraPrefsFirefox: {
      // Overlay scrollbars: a 360 px viewport stays 360 px wide.
      'ui.useOverlayScrollbars': 1,
      'intl.accept_languages': 'ky-KG, ky',
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
    },
  });
  const problems = [];
  const requests = [];
  const watch = (p) => {
    p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error on ${p.url()}: ${m.text()}`); });
    p.on('pageerror', (e) => problems.push(`page error on ${p.url()}: ${e.message || e}`));
    p.on('request', (r) => requests.push(r.url()));
  };
  const page = await browser.newPage();
  watch(page);
  await page.setViewport({ width: 1280, height: 800 });
  const waitFor = (fn, arg, timeout = 20000) => page.waitForFunction(fn, { timeout, polling: 100 }, arg);
  const lessonUrl = `${origin}/#/lesson/${L1.id}`;
  const axe = async (p, what) => {
    if (!(await p.evaluate(() => !!window.axe))) await p.evaluate(AXE);
    const found = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`)));
    eq(found, [], `axe violations on ${what} (Firefox)`);
  };

  try {
    await check('firefox: catalog in Kyrgyz, sizes for a phone / for a PC, 360 px wide with no QR box', async () => {
      await page.goto(origin + '/');
      await page.waitForSelector('.card', { timeout: 20000 });
      eq(await page.evaluate(() => document.documentElement.lang), 'ky', 'html lang');
      eq(await page.$$eval('.card .card-title', (els) => els.map((e) => e.textContent)), [L2.title.ky, L1.title.ky], 'card titles');
      const meta = await page.$eval(`.card[data-id="${L1.id}"]`, (e) => e.textContent);
      assert(/телефон\sүчүн\s\d/.test(meta) && /компьютер\sүчүн\s\d/.test(meta), `tier sizes in "${meta}"`);
      await axe(page, 'the catalog');
      await page.setViewport({ width: 360, height: 640 });
      const w = await page.evaluate(() => [document.documentElement.clientWidth, document.documentElement.scrollWidth]);
      eq(w, [360, 360], 'viewport and page width at 360 px');
      eq(await page.$eval('#qr-box', (e) => getComputedStyle(e).display), 'none', 'QR box on a phone');
      await page.screenshot({ path: path.join(SHOTS, 'firefox-catalog-360x640.png') });
    });

    await check('firefox: the lesson plays (H.264 through the system libavcodec)', async () => {
      await page.goto('about:blank');
      await page.goto(lessonUrl);
      await waitFor(() => { const v = document.getElementById('video'); return v && v.readyState >= 1 && v.currentSrc; });
      assert((await page.evaluate(() => document.getElementById('video').currentSrc)).includes('/media/standard.'), 'standard tier on loopback');
      const t0 = await page.evaluate(() => { const v = document.getElementById('video'); v.currentTime = 1; return v.play().then(() => v.currentTime); });
      await waitFor((t) => document.getElementById('video').currentTime > t + 1, t0);
    });

    await check('firefox: cues at 360×640 — both languages, ≥ 16 px, no overlap, the second under the video', async () => {
      const cues = await page.evaluate(() => {
        const tr = Array.from(document.getElementById('video').textTracks).filter((t) => t.language === 'ky')[0];
        return tr && tr.cues ? Array.from(tr.cues).map((c) => [c.startTime, c.endTime, c.text]) : null;
      });
      eq(cues, KY_CUES, 'Kyrgyz cues');
      await page.select('#captions-select', 'ky+ru');
      await page.evaluate(() => { const v = document.getElementById('video'); v.pause(); v.currentTime = 6; });
      await waitFor((t) => document.getElementById('cue-main').textContent === t[0] &&
        document.getElementById('cue-top').textContent === t[1], [KY_CUES[1][2], RU_CUES[1][2]]);
      const b = await page.evaluate(() => {
        const box = (sel) => {
          const e = document.querySelector(sel);
          const r = e.getBoundingClientRect();
          const lines = Array.from(e.querySelector('.cue-text').getClientRects()).map((q) => q.height);
          return { top: r.top, bottom: r.bottom, font: parseFloat(getComputedStyle(e).fontSize), line: Math.min.apply(null, lines) };
        };
        const v = document.getElementById('video').getBoundingClientRect();
        return { main: box('#cue-main'), top: box('#cue-top'), video: { top: v.top, bottom: v.bottom } };
      });
      assert(b.main.font >= 16 && b.main.line >= 16 && b.top.font >= 16 && b.top.line >= 16, `cue sizes ${JSON.stringify(b)}`);
      assert(b.main.bottom <= b.top.top, `the two cue boxes overlap: ${JSON.stringify(b)}`);
      assert(b.top.top >= b.video.bottom - 0.5, `second language not under the video: ${JSON.stringify(b)}`);
      assert(b.main.bottom <= b.video.bottom - 44, `paused, the cue is not above the controls: ${JSON.stringify(b)}`);
      await page.screenshot({ path: path.join(SHOTS, 'firefox-subtitles-360x640.png') });
      await page.select('#captions-select', 'ky');
    });

    await check('firefox: K with the Russian layout (event.code) pauses; axe on the lesson', async () => {
      await page.evaluate(() => document.getElementById('video').play());
      await waitFor(() => !document.getElementById('video').paused);
      await page.evaluate(() => document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'л', code: 'KeyK', bubbles: true, cancelable: true })));
      await waitFor(() => document.getElementById('video').paused);
      await axe(page, 'the lesson at 360 px');
      await page.setViewport({ width: 1280, height: 800 });
    });

    await check('firefox: search finds a word of the Russian subtitles and opens the lesson at that cue', async () => {
      await page.goto(origin + '/#/');
      await page.waitForSelector('.card');
      await page.type('#search-input', RU_ONLY_WORD);
      await page.waitForSelector('#search-results:not([hidden]) .result', { timeout: 10000 });
      const hits = await page.$$eval('.hit-link .hit-text', (els) => els.map((e) => e.textContent));
      eq(hits, [RU_CUES[2][2]], 'subtitle hits');
      await axe(page, 'the search results');
      await page.click('.hit-link');
      await waitFor((id) => location.hash.indexOf('#/lesson/' + id) === 0, L1.id);
      await waitFor(() => { const v = document.getElementById('video'); return v && v.readyState >= 1 && !v.seeking && v.currentTime > 0; });
      near(await page.evaluate(() => document.getElementById('video').currentTime), RU_CUES[2][0], 0.3, 'position opened from the hit');
      await page.evaluate(() => document.getElementById('video').pause());
    });

    await check('firefox: the unzipped bundle plays from file:// with its subtitles, nothing outside its folder', async () => {
      const bundle = fs.readdirSync(lib).filter((f) => f.startsWith(L1.id) && f.endsWith('.zip'))[0];
      const dir = fs.mkdtempSync(path.join(TMP_ROOT, 'ff-unzipped-'));
      run('python3', ['-m', 'zipfile', '-e', path.join(lib, bundle), dir]);
      const p = await browser.newPage();
      const mine = [];
      watch(p);
      p.on('request', (r) => mine.push(r.url()));
      await p.goto('file://' + path.join(dir, 'index.html'));
      await p.waitForFunction(() => document.getElementById('title').textContent !== '', { timeout: 10000 });
      eq(await p.$eval('#title', (e) => e.textContent), L1.title.ky, 'offline title');
      await p.waitForFunction(() => document.getElementById('video').readyState >= 1, { timeout: 20000 });
      await p.evaluate(() => document.getElementById('video').play());
      await p.waitForFunction(() => document.getElementById('video').currentTime > 1.2, { timeout: 20000, polling: 100 });
      const langs = await p.evaluate(() => Array.from(document.getElementById('video').textTracks).map((t) => t.language).sort());
      eq(langs, ['ky', 'ru'], 'offline track languages');
      const outside = mine.filter((u) => !u.startsWith('file://' + dir + '/') && !u.startsWith('data:') && !u.startsWith('blob:'));
      eq(outside, [], 'offline player requests outside its folder');
      await p.close();
    });

    await check('firefox: every request went to the kiosk origin (or the bundle folder)', () => {
      const outside = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:') && !u.startsWith('blob:') &&
        !u.startsWith('file://' + TMP_ROOT) && u !== 'about:blank');
      eq(outside, [], 'requests outside the kiosk');
      assert(requests.length > 10, `only ${requests.length} requests seen`);
    });

    await check('firefox: no console errors or page errors', () => {
      eq(problems, [], 'console/page errors');
    });
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function main() {
  fs.mkdirSync(TMP_ROOT, { recursive: true });
  const work = fs.mkdtempSync(path.join(TMP_ROOT, 'firefox-'));
  let server = null;
  let lib = null;
  await check(`firefox: ${FIREFOX} is installed (tools/install-deps)`, () => {
    assert(fs.existsSync(FIREFOX), `${FIREFOX} is missing: apt-get install firefox-esr`);
  });
  if (fs.existsSync(FIREFOX)) {
    await check('fixture: pack two lessons with the real sabak pack', () => { lib = makeLessons(work); });
    if (lib) await check('fixture: sabak serve on 127.0.0.1 port 0', async () => { server = await startServer(lib); });
    if (server) {
      console.log(`     kiosk at ${server.origin}, screenshots in ${SHOTS}`);
      await check('firefox: the checks ran to the end', () => firefoxChecks(server.origin, lib));
    }
  }
  if (server) {
    server.proc.kill('SIGTERM');
    await new Promise((r) => { const t = setTimeout(r, 3000); server.proc.on('exit', () => { clearTimeout(t); r(); }); });
    if (failed) console.log('---- server log (tail) ----\n' + server.log().slice(-3000));
  }
  if (!failed) fs.rmSync(work, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
