// Browser tests of the kiosk web app and the bundles' offline player.
//
// Packs two short lessons at test time (lavfi source, Kyrgyz and Russian
// subtitles), starts the real `sabak serve` on 127.0.0.1 port 0, and drives
// Debian's chromium through playwright-core. Every check asserts exact values;
// any console error, page error or request outside the kiosk fails the run.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const acorn = require('acorn');
export const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SRC = process.env.SABAK_SRC || path.resolve(HERE, '..', '..');
export const SABAK = process.env.SABAK || path.join(SRC, 'build', 'sabak');
export const BUILD = process.env.SABAK_BUILD || path.dirname(SABAK);
export const TMP_ROOT = process.env.SABAK_TEST_TMP || os.tmpdir();
export const SHOTS = path.join(BUILD, 'screenshots');
export const WEB = path.join(SRC, 'web');

// ---- the fixture -----------------------------------------------------------
export const L1 = {
  id: 'municipal-website-01', topic: 'municipal-website', order: 1,
  title: { ky: 'Айыл өкмөтүнүн сайтына жаңылык кошуу', ru: 'Как добавить новость на сайт айыл окмоту',
           en: 'Adding news to the municipal website' },
};
export const L2 = {
  id: 'citizen-budget-01', topic: 'citizen-budget', order: 1,
  title: { ky: 'Жарандык бюджет: киришүү', ru: 'Гражданский бюджет: введение', en: 'Citizen budget: introduction' },
};
// Cue 2 of each language is checked in the player; the Russian cue 3 holds
// "черновик", a word found nowhere else (titles, descriptions, Kyrgyz text).
export const KY_CUES = [
  [1.0, 4.0, 'Саламатсыздарбы! Бүгүн сайт менен иштейбиз.'],
  [5.0, 9.0, 'Айыл өкмөтүнүн бюджети ачык болушу керек.'],
  [12.5, 15.0, 'Жаңылыкты сактап, кийин жарыялаңыз.'],
];
export const RU_CUES = [
  [1.0, 4.0, 'Здравствуйте! Сегодня мы работаем с сайтом.'],
  [5.0, 9.0, 'Бюджет айыл окмоту должен быть открытым.'],
  [12.5, 15.0, 'Сохраните черновик и опубликуйте позже.'],
];
export const RU_ONLY_WORD = 'черновик';

export function srt(cues) {
  const ts = (s) => {
    const ms = Math.round(s * 1000);
    const p = (n, w) => String(n).padStart(w, '0');
    return `${p(Math.floor(ms / 3600000), 2)}:${p(Math.floor(ms / 60000) % 60, 2)}:${p(Math.floor(ms / 1000) % 60, 2)},${p(ms % 1000, 3)}`;
  };
  return cues.map((c, i) => `${i + 1}\n${ts(c[0])} --> ${ts(c[1])}\n${c[2]}\n`).join('\n');
}

// Old Windows tools save Russian subtitles in Windows-1251; lesson 1's ru.srt
// is written that way so the checks below prove the whole path (detection,
// conversion, WebVTT, the browser's text track) keeps the Cyrillic intact.
function cp1251(text) {
  const out = [];
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (c < 0x80) out.push(c);
    else if (c >= 0x410 && c <= 0x44f) out.push(c - 0x410 + 0xc0);
    else if (c === 0x401) out.push(0xa8);
    else if (c === 0x451) out.push(0xb8);
    else if (c === 0xab || c === 0xbb) out.push(c);
    else throw new Error(`no Windows-1251 code for ${ch}`);
  }
  return Buffer.from(out);
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return r;
}

export function makeLessons(work) {
  const rec = path.join(work, 'recording.mp4');
  run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=15:d=20', '-f', 'lavfi', '-i', 'sine=f=440:d=20:sample_rate=44100',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', rec]);
  const lib = path.join(work, 'library');
  fs.mkdirSync(lib);
  for (const L of [L1, L2]) {
    const d = path.join(work, 'lessons', L.id);
    fs.mkdirSync(path.join(d, 'subtitles'), { recursive: true });
    fs.copyFileSync(rec, path.join(d, 'recording.mp4'));
    fs.writeFileSync(path.join(d, 'lesson.ini'),
      `[lesson]\nid = ${L.id}\nversion = 1\nvideo = recording.mp4\ntopic = ${L.topic}\norder = ${L.order}\n\n` +
      `[title]\nky = ${L.title.ky}\nru = ${L.title.ru}\nen = ${L.title.en}\n\n` +
      `[description]\nky = Кыска сынамык сабак.\nru = Короткий пробный урок.\n\n` +
      `[chapters.ky]\n00:00:00 = Киришүү\n00:00:10 = Жарыялоо\n\n[chapters.ru]\n00:00:00 = Введение\n00:00:10 = Публикация\n`);
    fs.writeFileSync(path.join(d, 'subtitles', 'ky.srt'), srt(KY_CUES));
    fs.writeFileSync(path.join(d, 'subtitles', 'ru.srt'),
      L === L1 ? cp1251(srt(RU_CUES)) : srt(RU_CUES.slice(0, 2)));
    run(SABAK, ['pack', d, '-o', lib + '/'], { timeout: 600000 });
  }
  // A damaged bundle next to the good ones: listed as damaged, never shown.
  fs.writeFileSync(path.join(lib, 'broken-v1.zip'), 'this is not a zip archive\n');
  return lib;
}

export function startServer(lib) {
  return new Promise((resolve, reject) => {
    const proc = spawn(SABAK, ['serve', '--library', lib, '--listen', '127.0.0.1:0', '--web-dir', WEB],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let buf = '';
    let done = false;
    const timer = setTimeout(() => { if (!done) { done = true; proc.kill('SIGKILL'); reject(new Error('server did not start: ' + buf.slice(-2000))); } }, 20000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      buf += chunk;
      if (buf.length > 1 << 20) buf = buf.slice(-65536);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(buf);
      if (m && !done) { done = true; clearTimeout(timer); resolve({ proc, origin: m[1], log: () => buf }); }
    });
    proc.on('exit', (code) => {
      if (!done) { done = true; clearTimeout(timer); reject(new Error(`server exited ${code}: ${buf.slice(-2000)}`)); }
    });
  });
}

// ---- a tiny runner (shared with firefox.test.mjs, which imports this file) ---------------------------------------------------------
export let passed = 0;
export let failed = 0;
export async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(e && e.stack || e).split('\n').slice(0, 4).join('\n     ')}`);
  }
}
export function assert(cond, msg) { if (!cond) throw new Error(msg); }
export function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${what}: expected ${b}, got ${a}`);
}
export function near(actual, expected, tol, what) {
  if (!(Math.abs(actual - expected) <= tol)) throw new Error(`${what}: expected ${expected} ± ${tol}, got ${actual}`);
}

// ---- static checks of web/ -------------------------------------------------
function flatKeys(obj, prefix = '') {
  const out = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object') out.push(...flatKeys(v, prefix + k + '.'));
    else out.push(prefix + k);
  }
  return out;
}

async function staticChecks() {
  const i18n = {};
  for (const l of ['ky', 'ru', 'en']) i18n[l] = JSON.parse(fs.readFileSync(path.join(WEB, 'i18n', l + '.json'), 'utf8'));
  const keys = flatKeys(i18n.ky).sort();

  await check('i18n: ky, ru and en have the same keys, none empty', () => {
    eq(flatKeys(i18n.ru).sort(), keys, 'ru keys');
    eq(flatKeys(i18n.en).sort(), keys, 'en keys');
    for (const l of ['ky', 'ru', 'en']) {
      for (const k of keys) {
        const v = k.split('.').reduce((o, p) => o[p], i18n[l]);
        assert(typeof v === 'string' && v.trim() !== '', `${l}.json: ${k} is empty`);
      }
    }
  });

  await check('i18n: every key the HTML and JS use exists', () => {
    const used = new Set();
    const sources = ['index.html', 'app.js', 'usage.js', 'common.js', 'boot.js', 'offline/player.html'].map((f) => fs.readFileSync(path.join(WEB, f), 'utf8'));
    for (const s of sources) {
      for (const m of s.matchAll(/data-i18n="([^"]+)"/g)) used.add(m[1]);
      for (const m of s.matchAll(/data-i18n-attr="([^"]+)"/g)) for (const p of m[1].split(';')) used.add(p.split(':')[1]);
      for (const m of s.matchAll(/\bt\('([a-zA-Z0-9_.-]+)'/g)) used.add(m[1]);
    }
    const missing = [...used].filter((k) => !k.endsWith('.') && !keys.includes(k));
    eq(missing, [], 'keys used but not defined');
    assert(used.size > 40, `only ${used.size} keys found: the scan is broken`);
  });

  await check('i18n: the string fixes of issue 11 are in', () => {
    const get = (l, k) => k.split('.').reduce((o, p) => o && o[p], i18n[l]);
    eq(get('ky', 'player.nowPlaying'), 'Учурдагы сапат: {quality}', 'ky player.nowPlaying');
    eq(get('ru', 'player.nowPlaying'), 'Текущее качество: {quality}', 'ru player.nowPlaying');
    assert(get('ky', 'qr.hint').includes('багыттаңыз') && !get('ky', 'qr.hint').includes('тууралаңыз'), 'ky qr.hint');
    eq(get('ky', 'help.title'), 'Клавиатура менен башкаруу', 'ky help.title');
    assert(get('ky', 'lesson.downloadsHint').includes('архивди толугу менен чыгарып'), 'ky lesson.downloadsHint');
    assert(/^Үнөмдүү/.test(get('ky', 'quality.av1')) && /^Экономное/.test(get('ru', 'quality.av1')), 'quality.av1');
    eq(get('ru', 'captions.both'), 'Оба языка', 'ru captions.both');
    assert(fs.existsSync(path.join(WEB, 'i18n', 'GLOSSARY.md')), 'web/i18n/GLOSSARY.md is missing');
  });

  await check('syntax: app.js and the offline player parse as ES2019 (Chrome 80, Safari 14)', () => {
    const parse = (code, name) => {
      try { acorn.parse(code, { ecmaVersion: 2019, sourceType: 'script' }); } catch (e) { throw new Error(`${name}: ${e.message}`); }
    };
    parse(fs.readFileSync(path.join(WEB, 'app.js'), 'utf8'), 'app.js');
    parse(fs.readFileSync(path.join(WEB, 'usage.js'), 'utf8'), 'usage.js');
    parse(fs.readFileSync(path.join(WEB, 'boot.js'), 'utf8'), 'boot.js');
    parse(fs.readFileSync(path.join(WEB, 'admin', 'admin.js'), 'utf8'), 'admin/admin.js');
    const common = fs.readFileSync(path.join(WEB, 'common.js'), 'utf8');
    parse(common, 'common.js');
    // pack inlines common.js into a <script>: "</" would end it early.
    assert(!common.includes('<' + '/'), 'common.js contains "<' + '/"');
    const html = fs.readFileSync(path.join(WEB, 'offline', 'player.html'), 'utf8');
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    eq(scripts.length, 2, 'inline scripts in the offline player');
    eq(scripts[0], '{{SABAK_COMMON}}', 'the first inline script is the place of common.js');
    parse(scripts[1], 'offline/player.html');
    eq((html.match(/\{\{SABAK_DATA\}\}/g) || []).length, 1, 'placeholders in the offline player');
    for (const s of [fs.readFileSync(path.join(WEB, 'app.js'), 'utf8'), common, scripts[1]]) {
      assert(!/\.replaceAll\(/.test(s), 'replaceAll is not in Chrome 80');
    }
  });

  await check('offline: the template requests nothing outside its folder', () => {
    const html = fs.readFileSync(path.join(WEB, 'offline', 'player.html'), 'utf8');
    assert(!/(src|href)="(https?:)?\/\//i.test(html), 'absolute URL in the offline player');
    assert(!/<script[^>]+src=/i.test(html) && !/<link[^>]+stylesheet/i.test(html), 'external script or stylesheet');
  });
}

// ---- browser checks --------------------------------------------------------
async function browserChecks(origin, lib) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const profile = fs.mkdtempSync(path.join(TMP_ROOT, 'chromium-profile-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    locale: 'ky-KG',
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const problems = [];   // console errors, page errors
  const requests = [];   // every URL the browser asked for
  const responses = [];  // {url, status, range, t}
  ctx.on('request', (r) => requests.push(r.url()));
  ctx.on('response', (r) => responses.push({ url: r.url(), status: r.status(), headers: r.headers(), at: Date.now() }));
  const watch = (p) => {
    p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error on ${p.url()}: ${m.text()}`); });
    p.on('pageerror', (e) => problems.push(`page error on ${p.url()}: ${e.message}`));
  };
  ctx.on('page', watch);
  const page = ctx.pages()[0] || await ctx.newPage();
  watch(page);
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

  const video = (fn, arg) => page.evaluate(fn, arg);
  const waitVideo = (pred, arg, timeout = 15000) => page.waitForFunction(pred, arg, { timeout, polling: 100 });
  const cardTitles = () => page.$$eval('.card .card-title', (els) => els.map((e) => e.textContent));

  try {
    await check('catalog: Kyrgyz titles grouped by topic, damaged bundle not shown', async () => {
      await page.goto(origin + '/');
      await page.waitForSelector('.card', { timeout: 15000 });
      eq(await page.evaluate(() => document.documentElement.lang), 'ky', 'html lang');
      // The server sorts by topic: citizen-budget before municipal-website.
      eq(await cardTitles(), [L2.title.ky, L1.title.ky], 'card titles');
      eq(await page.$$eval('.topic-title', (els) => els.map((e) => e.textContent)),
        ['Жарандык бюджет', 'Айыл өкмөтүнүн сайты'], 'topic headings');
      const meta = await page.$eval(`.card[data-id="${L1.id}"]`, (e) => e.textContent);
      assert(meta.includes('0:20') || meta.includes('0:19'), `duration missing in "${meta}"`);
      assert(meta.includes('Субтитрлер: Кыргызча, Орусча'), `subtitle languages missing in "${meta}"`);
      // Sizes say what they are for, not the tier's jargon name.
      assert(/компьютер\sүчүн\s\d/.test(meta) && /телефон\sүчүн\s\d/.test(meta) && /үн\sгана\s\d/.test(meta), `tier sizes missing in "${meta}"`);
      assert(!/Кадимки|Төмөн/.test(meta), `tier jargon on the card: "${meta}"`);
      const api = await page.evaluate(() => fetch('/api/lessons').then((r) => r.json()));
      eq(api.damaged.length, 1, 'damaged bundles in /api/lessons');
      eq(api.lessons.length, 2, 'lessons in /api/lessons');
    });

    await check('slow link: strings and catalog asked for before app.js has come, once each; usage.js later; no poster before the first frame', async () => {
      // 100 kbit/s: app.js (~11 KB) is still on its way when boot.js runs.
      const p = await ctx.newPage();
      const c = await ctx.newCDPSession(p);
      await c.send('Network.enable');
      await c.send('Network.setCacheDisabled', { cacheDisabled: true });
      await c.send('Network.emulateNetworkConditions', { offline: false, latency: 200, downloadThroughput: 100000 / 8, uploadThroughput: -1 });
      const log = [];   // [event, path?query]
      const rel = (r) => { const u = new URL(r.url()); return u.pathname + u.search; };
      p.on('request', (r) => log.push(['ask', rel(r)]));
      p.on('requestfinished', (r) => log.push(['done', rel(r)]));
      await p.goto(origin + '/');
      await p.waitForSelector('.card', { timeout: 60000 });
      const at = (ev, re) => log.findIndex(([e, u]) => e === ev && re.test(u));
      const count = (re) => log.filter(([e, u]) => e === 'ask' && re.test(u)).length;
      const appDone = at('done', /^\/static\/app\.js\?v=/);
      assert(appDone > 0, 'app.js not seen');
      assert(at('ask', /^\/i18n\/ky\.json$/) < appDone, 'strings asked for after app.js arrived');
      assert(at('ask', /^\/api\/lessons\?lang=ky$/) < appDone, 'catalog asked for after app.js arrived');
      eq([count(/^\/i18n\/ky\.json$/), count(/^\/api\/lessons\?lang=ky$/)], [1, 1], 'strings and catalog requests');
      await p.waitForFunction(() => window.SabakUsage, null, { timeout: 60000 });
      // After the page has loaded: not sharing the link with app.js.
      assert(at('ask', /^\/static\/usage\.js\?v=/) > appDone, 'usage.js asked for before app.js arrived');
      // A lesson link, cold: the lesson JSON once, and no still before the first frame.
      log.length = 0;
      await p.goto('about:blank');
      await p.goto(`${origin}/#/lesson/${L1.id}`);
      await p.waitForFunction(() => { const v = document.getElementById('video'); return v && v.readyState >= 2; }, null, { timeout: 90000 });
      eq(count(new RegExp(`^/api/lessons/${L1.id}$`)), 1, 'lesson JSON requests');
      eq(log.filter(([e, u]) => /\/(poster|thumb)\.jpg/.test(u)), [], 'stills fetched before the first frame');
      await p.close();
    });

    await check('headers: scripts, styles and strings without a CSP (the page keeps its own)', async () => {
      const html = responses.find((r) => r.url === origin + '/');
      const js = responses.find((r) => /\/static\/app\.js\?v=/.test(r.url));
      const css = responses.find((r) => /\/static\/app\.css\?v=/.test(r.url));
      assert(html && js && css, 'page, app.js or app.css not seen');
      assert(/default-src 'self'/.test(html.headers['content-security-policy'] || ''), 'the page has no CSP');
      eq([js.headers['content-security-policy'], css.headers['content-security-policy']], [undefined, undefined], 'CSP on app.js, app.css');
    });

    await check('catalog: every form control has a label; QR code and LAN address shown', async () => {
      const unlabeled = await page.$$eval('input, select', (els) => els.filter((e) => !e.labels || !e.labels.length).map((e) => e.id));
      eq(unlabeled, [], 'controls without a label');
      await page.waitForSelector('#qr-box:not([hidden])', { timeout: 5000 });
      const qr = await page.$eval('#qr-img', (img) => ({ src: img.getAttribute('src'), alt: img.alt, ok: img.complete && img.naturalWidth > 0 }));
      eq(qr.src, '/api/qr.svg', 'QR image');
      assert(qr.alt.length > 5, 'QR image has no alt text');
      const info = await page.evaluate(() => fetch('/api/info').then((r) => r.json()));
      eq(await page.$eval('#qr-url', (a) => a.textContent), info.urls[0], 'LAN address beside the QR code');
    });

    await check('screenshots: catalog at 1280×800, 1024×768 and 360×640', async () => {
      await page.screenshot({ path: path.join(SHOTS, 'catalog-1280x800.png') });
      await page.setViewportSize({ width: 1024, height: 768 });
      await page.screenshot({ path: path.join(SHOTS, 'catalog-1024x768.png') });
      await page.setViewportSize({ width: 360, height: 640 });
      await page.waitForTimeout(200);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      eq(overflow, 0, 'horizontal overflow at 360 px');
      await page.screenshot({ path: path.join(SHOTS, 'catalog-360x640.png') });
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    await check('language: switching to Russian shows Russian titles, and is remembered', async () => {
      await page.selectOption('#lang-select', 'ru');
      await page.waitForFunction((t) => document.querySelector('.card .card-title') &&
        document.querySelector('.card .card-title').textContent === t, L2.title.ru, { timeout: 5000 });
      eq(await cardTitles(), [L2.title.ru, L1.title.ru], 'card titles');
      eq(await page.evaluate(() => document.documentElement.lang), 'ru', 'html lang');
      eq(await page.$eval('label[for="search-input"]', (e) => e.textContent), 'Поиск по урокам', 'search label');
      await page.reload();
      await page.waitForSelector('.card');
      eq(await cardTitles(), [L2.title.ru, L1.title.ru], 'card titles after reload');
      await page.selectOption('#lang-select', 'ky');
      await page.waitForFunction((t) => document.querySelector('.card .card-title').textContent === t, L2.title.ky, { timeout: 5000 });
    });

    const lessonUrl = `${origin}/#/lesson/${L1.id}`;
    const mediaOf = (tier) => (r) => r.url.startsWith(`${origin}/lessons/${L1.id}/media/${tier}.`);

    await check('player: a seek to the middle resumes there, answered with 206', async () => {
      await page.goto('about:blank');
      await page.goto(lessonUrl);
      await waitVideo(() => { const v = document.getElementById('video'); return v && v.readyState >= 1 && v.currentSrc; });
      const src = await video(() => document.getElementById('video').currentSrc);
      assert(src.includes('/media/standard.'), `auto quality on loopback should pick standard, got ${src}`);
      const dur = await video(() => document.getElementById('video').duration);
      near(dur, 20, 0.6, 'duration');
      const since = Date.now();
      await video((t) => { const v = document.getElementById('video'); v.currentTime = t; return v.play(); }, dur / 2);
      await waitVideo((t) => document.getElementById('video').currentTime > t + 1, dur / 2);
      const after = await video(() => document.getElementById('video').currentTime);
      assert(after < dur / 2 + 6, `playback did not resume at the middle: ${after}`);
      const media = responses.filter(mediaOf('standard'));
      assert(media.length > 0, 'no response for the standard rendition');
      const bad = media.filter((r) => r.status !== 206);
      eq(bad.map((r) => r.status), [], 'media responses that are not 206');
      const mid = media.filter((r) => r.at >= since && /^bytes [1-9]\d*-/.test(r.headers['content-range'] || ''));
      assert(mid.length > 0, `no 206 from the middle of the file after the seek: ${JSON.stringify(media.map((r) => [r.status, r.headers['content-range']]))}`);
    });

    await check('player: the video plays (currentTime advances by more than 1 s)', async () => {
      const t0 = await video(() => { const v = document.getElementById('video'); v.currentTime = 1; return v.play().then(() => v.currentTime); });
      await waitVideo((t) => document.getElementById('video').currentTime > t + 1, t0);
    });

    await check('captions: the Kyrgyz track (UI language) loads the expected cues', async () => {
      await waitVideo(() => {
        const tr = Array.from(document.getElementById('video').textTracks).filter((t) => t.language === 'ky')[0];
        return tr && tr.mode === 'hidden' && tr.cues && tr.cues.length === 3;
      });
      const cues = await video(() => {
        const tr = Array.from(document.getElementById('video').textTracks).filter((t) => t.language === 'ky')[0];
        return Array.from(tr.cues).map((c) => [c.startTime, c.endTime, c.text]);
      });
      eq(cues, KY_CUES, 'Kyrgyz cues');
    });

    await check('captions: Russian, and Kyrgyz + Russian together', async () => {
      await page.selectOption('#captions-select', 'ru');
      await waitVideo(() => {
        const tr = Array.from(document.getElementById('video').textTracks).filter((t) => t.language === 'ru')[0];
        return tr && tr.mode === 'hidden' && tr.cues && tr.cues.length === 3;
      });
      const cues = await video(() => {
        const tr = Array.from(document.getElementById('video').textTracks).filter((t) => t.language === 'ru')[0];
        return Array.from(tr.cues).map((c) => [c.startTime, c.endTime, c.text]);
      });
      eq(cues, RU_CUES, 'Russian cues');
      await page.selectOption('#captions-select', 'ky+ru');
      await video(() => { const v = document.getElementById('video'); v.pause(); v.currentTime = 6; });
      await page.waitForFunction((t) => document.getElementById('cue-top').textContent === t && !document.getElementById('cue-top').hidden,
        RU_CUES[1][2], { timeout: 5000 });
      eq(await video(() => Array.from(document.getElementById('video').textTracks).map((t) => t.language + ':' + t.mode)),
        ['ky:hidden', 'ru:hidden'], 'track modes for ky+ru (the page draws both)');
      eq(await page.$eval('#cue-main', (e) => e.textContent), KY_CUES[1][2], 'the first language over the picture');
      await page.selectOption('#captions-select', 'ky');
    });

    await check('quality: switching to low keeps the position within 1 s and keeps playing', async () => {
      await video(() => { const v = document.getElementById('video'); v.currentTime = 7; return v.play(); });
      await waitVideo(() => document.getElementById('video').currentTime > 7.5);
      const before = await video(() => document.getElementById('video').currentTime);
      await page.selectOption('#quality-select', 'low');
      await waitVideo(() => { const v = document.getElementById('video'); return v.currentSrc.indexOf('/media/low.') >= 0 && v.readyState >= 2 && !v.seeking; });
      const st = await video(() => { const v = document.getElementById('video'); return { t: v.currentTime, paused: v.paused, tier: v.getAttribute('data-tier') }; });
      near(st.t, before, 1, 'position after the switch');
      eq(st.paused, false, 'paused after the switch');
      eq(st.tier, 'low', 'tier shown');
      await page.selectOption('#quality-select', 'audio');
      await waitVideo(() => { const v = document.getElementById('video'); return v.currentSrc.indexOf('/media/audio.') >= 0 && v.readyState >= 2 && !v.seeking; });
      const st2 = await video(() => { const v = document.getElementById('video'); return { t: v.currentTime, paused: v.paused }; });
      near(st2.t, st.t, 1.5, 'position after switching to audio');
      eq(st2.paused, false, 'paused after switching to audio');
      await page.selectOption('#quality-select', 'auto');
      await waitVideo(() => document.getElementById('video').currentSrc.indexOf('/media/standard.') >= 0 && document.getElementById('video').readyState >= 2);
    });

    await check('quality: auto steps down to low after repeated stalls, keeping the position', async () => {
      await video(() => { const v = document.getElementById('video'); v.currentTime = 4; return v.play(); });
      await waitVideo(() => { const v = document.getElementById('video'); return v.currentTime > 4.3 && !v.paused; });
      eq(await page.$eval('#quality-select', (s) => s.value), 'auto', 'quality mode');
      // Two "waiting" events while playing are what a weak link produces.
      const before = await video(() => {
        const v = document.getElementById('video');
        const t = v.currentTime;  // read first: the switch reloads at once
        v.dispatchEvent(new Event('waiting'));
        v.dispatchEvent(new Event('waiting'));
        return t;
      });
      await waitVideo(() => { const v = document.getElementById('video'); return v.currentSrc.indexOf('/media/low.') >= 0 && v.readyState >= 2 && !v.seeking; });
      const st = await video(() => { const v = document.getElementById('video'); return { t: v.currentTime, paused: v.paused }; });
      near(st.t, before, 1, 'position after stepping down');
      eq(st.paused, false, 'paused after stepping down');
      // Low is the floor: auto never drops a lesson to audio only by itself.
      await video(() => { const v = document.getElementById('video'); v.dispatchEvent(new Event('waiting')); v.dispatchEvent(new Event('waiting')); });
      await page.waitForTimeout(300);
      assert((await video(() => document.getElementById('video').currentSrc)).includes('/media/low.'), 'auto left the low tier');
      await page.selectOption('#quality-select', 'standard');
      await waitVideo(() => document.getElementById('video').currentSrc.indexOf('/media/standard.') >= 0 && document.getElementById('video').readyState >= 2);
      await page.selectOption('#quality-select', 'auto');
    });

    await check('speed and chapters: 1.5× sticks across a quality switch; a chapter seeks', async () => {
      await page.selectOption('#speed-select', '1.5');
      eq(await video(() => document.getElementById('video').playbackRate), 1.5, 'playbackRate');
      const chapters = await page.$$eval('.chapter', (els) => els.map((e) => e.textContent));
      eq(chapters, ['0:00Киришүү', '0:10Жарыялоо'], 'chapters');
      await page.click('.chapter >> nth=1');
      await waitVideo(() => { const v = document.getElementById('video'); return v.currentTime >= 10 && v.currentTime < 12 && !v.paused; });
      await page.selectOption('#speed-select', '1');
    });

    await check('keyboard: k pauses, space toggles once, l skips 10 s, ? opens the help', async () => {
      await video(() => { const v = document.getElementById('video'); v.currentTime = 2; return v.play(); });
      await page.focus('#video');
      await page.keyboard.press('k');
      await waitVideo(() => document.getElementById('video').paused);
      const t = await video(() => document.getElementById('video').currentTime);
      await page.keyboard.press('l');
      near(await video(() => document.getElementById('video').currentTime), t + 10, 0.3, 'after l');
      // Space toggles exactly once, on the focused video and elsewhere.
      await page.keyboard.press(' ');
      await waitVideo(() => !document.getElementById('video').paused);
      await page.keyboard.press(' ');
      await waitVideo(() => document.getElementById('video').paused);
      await page.focus('#main');
      eq(await page.evaluate(() => document.activeElement.id), 'main', 'focus');
      await page.keyboard.press(' ');
      await waitVideo(() => !document.getElementById('video').paused);
      await page.keyboard.press(' ');
      await waitVideo(() => document.getElementById('video').paused);
      await page.keyboard.press('?');
      eq(await page.$eval('#help', (e) => e.hidden), false, 'help hidden after ?');
      await page.keyboard.press('Escape');
      eq(await page.$eval('#help', (e) => e.hidden), true, 'help shown after Escape');
    });

    await check('resume: a reload, and a fresh visit, resume at the saved position', async () => {
      await video(() => { const v = document.getElementById('video'); v.currentTime = 8.4; });
      await waitVideo(() => !document.getElementById('video').seeking);
      await video(() => { const v = document.getElementById('video'); return v.play().then(() => v.pause()); });
      const saved = await video(() => document.getElementById('video').currentTime);
      await page.reload();
      await waitVideo(() => { const v = document.getElementById('video'); return v && v.readyState >= 1 && !v.seeking && v.currentTime > 0; });
      near(await video(() => document.getElementById('video').currentTime), saved, 0.3, 'position after reload');
      await page.goto('about:blank');
      await page.goto(lessonUrl);
      await waitVideo(() => { const v = document.getElementById('video'); return v && v.readyState >= 1 && !v.seeking && v.currentTime > 0; });
      near(await video(() => document.getElementById('video').currentTime), saved, 0.3, 'position on a fresh visit');
    });

    await check('screenshots: player at 1280×800, 1024×768 and 360×640', async () => {
      await page.screenshot({ path: path.join(SHOTS, 'player-1280x800.png') });
      await page.setViewportSize({ width: 1024, height: 768 });
      await page.screenshot({ path: path.join(SHOTS, 'player-1024x768.png') });
      await page.setViewportSize({ width: 360, height: 640 });
      await page.waitForTimeout(200);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      eq(overflow, 0, 'horizontal overflow at 360 px');
      await page.screenshot({ path: path.join(SHOTS, 'player-360x640.png') });
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    await check('search: a word only in the Russian subtitles finds the lesson and opens it at that cue', async () => {
      await page.goto(origin + '/#/');
      await page.waitForSelector('.card');
      await page.fill('#search-input', RU_ONLY_WORD.toUpperCase());
      await page.waitForSelector('#search-results:not([hidden]) .result', { timeout: 5000 });
      const results = await page.$$eval('.result', (els) => els.map((e) => ({
        title: e.querySelector('.result-title').textContent,
        hits: Array.from(e.querySelectorAll('.hit-link')).map((a) => [a.querySelector('.hit-time').textContent, a.querySelector('.hit-text').textContent,
          Array.from(a.querySelectorAll('mark')).map((m) => m.textContent).join('|')]),
      })));
      eq(results.length, 1, 'results');
      eq(results[0].title, L1.title.ky, 'result title');
      eq(results[0].hits.length, 1, 'subtitle hits');
      eq(results[0].hits[0], ['0:12', RU_CUES[2][2], RU_ONLY_WORD], 'hit time, line and highlighted word');
      await page.setViewportSize({ width: 360, height: 640 });
      await page.screenshot({ path: path.join(SHOTS, 'search-360x640.png') });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.click('.hit-link');
      await page.waitForFunction((id) => location.hash.indexOf('#/lesson/' + id) === 0, L1.id);
      await waitVideo(() => { const v = document.getElementById('video'); return v && v.readyState >= 1 && !v.seeking && v.currentTime > 0; });
      near(await video(() => document.getElementById('video').currentTime), RU_CUES[2][0], 0.3, 'position opened from the hit');
    });

    await check('search: Kyrgyz letters ignore case (ӨКМӨТҮНҮН finds the Kyrgyz cue)', async () => {
      await page.goto(origin + '/#/');
      await page.fill('#search-input', 'ӨКМӨТҮНҮН');
      const texts = () => page.$$eval('#search-results:not([hidden]) .hit-text', (els) => els.map((e) => e.textContent));
      try {
        await page.waitForFunction((t) => Array.from(document.querySelectorAll('#search-results:not([hidden]) .hit-text'))
          .some((e) => e.textContent === t), KY_CUES[1][2], { timeout: 5000 });
      } catch (e) {
        throw new Error(`Kyrgyz cue not found: ${JSON.stringify(await texts())}`);
      }
    });

    await check('quality: auto picks the low tier when the link cannot carry standard', async () => {
      const lesson = await page.evaluate((id) => fetch('/api/lessons/' + id).then((r) => r.json()), L1.id);
      eq(lesson.id, L1.id, '/api/lessons/<id>');
      const std = lesson.renditions.filter((r) => r.tier === 'standard')[0];
      assert(std && std.bitrate > 0, 'no standard rendition with a bitrate');
      const p = await ctx.newPage();
      const c = await ctx.newCDPSession(p);
      await c.send('Network.enable');
      await c.send('Network.setCacheDisabled', { cacheDisabled: true });
      // The link carries exactly the standard bitrate: less than the 1.5x
      // headroom auto asks for, whatever the estimate's latency adds.
      await c.send('Network.emulateNetworkConditions', {
        offline: false, latency: 20, downloadThroughput: Math.floor(std.bitrate / 8), uploadThroughput: -1,
      });
      await p.goto(lessonUrl);
      await p.waitForFunction(() => { const v = document.getElementById('video'); return v && v.currentSrc; }, null, { timeout: 60000 });
      const src = await p.evaluate(() => document.getElementById('video').currentSrc);
      assert(src.includes('/media/low.'), `auto on a ${std.bitrate} bit/s link chose ${src}`);
      await p.close();
    });

    // ---- issue 11: readable, findable, forgiving --------------------------
    const axe = async (p, what) => {
      if (!(await p.evaluate(() => !!window.axe))) await p.evaluate(AXE);
      const found = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
        r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`)));
      eq(found, [], `axe violations on ${what}`);
    };
    const toLesson = async (id, w, h) => {
      await page.setViewportSize({ width: w, height: h });
      await page.goto('about:blank');
      await page.goto(`${origin}/#/lesson/${id}`);
      await waitVideo(() => { const v = document.getElementById('video'); return v && v.readyState >= 1 && v.currentSrc; });
    };
    const cueBoxes = () => page.evaluate(() => {
      const box = (sel) => {
        const e = document.querySelector(sel);
        if (!e || e.hidden || !e.querySelector('.cue-text')) return null;
        const r = e.getBoundingClientRect();
        const lines = Array.from(e.querySelector('.cue-text').getClientRects()).map((q) => q.height);
        return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, text: e.textContent,
          font: parseFloat(getComputedStyle(e).fontSize), line: Math.min.apply(null, lines) };
      };
      const v = document.getElementById('video').getBoundingClientRect();
      return { main: box('#cue-main'), top: box('#cue-top'), video: { top: v.top, bottom: v.bottom, height: v.height } };
    });

    await check('subtitles at 360×640: cue text ≥ 16 px, the two languages do not overlap, the second is under the video', async () => {
      await toLesson(L1.id, 360, 640);
      await page.selectOption('#captions-select', 'ky+ru');
      await video(() => { const v = document.getElementById('video'); v.pause(); v.currentTime = 6; });
      await page.waitForFunction((t) => document.getElementById('cue-main').textContent === t[0] &&
        document.getElementById('cue-top').textContent === t[1], [KY_CUES[1][2], RU_CUES[1][2]], { timeout: 5000 });
      const b = await cueBoxes();
      assert(b.main.font >= 16 && b.main.line >= 16, `Kyrgyz cue: font ${b.main.font} px, line box ${b.main.line} px`);
      assert(b.top.font >= 16 && b.top.line >= 16, `Russian cue: font ${b.top.font} px, line box ${b.top.line} px`);
      const overlap = !(b.main.bottom <= b.top.top || b.top.bottom <= b.main.top || b.main.right <= b.top.left || b.top.right <= b.main.left);
      assert(!overlap, `the two cue boxes overlap: ${JSON.stringify(b)}`);
      assert(b.top.top >= b.video.bottom - 0.5, `second language not under the video: ${JSON.stringify(b)}`);
      assert(b.main.bottom <= b.video.bottom && b.main.top >= b.video.top, `first language not over the picture: ${JSON.stringify(b)}`);
      await page.screenshot({ path: path.join(SHOTS, 'subtitles-360x640.png') });
    });

    await check('subtitles: lifted above the controls while they show (paused), down again while playing', async () => {
      // Still at 360×640, paused at 6 s: the controls show.
      await page.mouse.move(350, 630);
      let b = await cueBoxes();
      assert(b.main.bottom <= b.video.bottom - 44, `paused: the cue is in the controls' 44 px: ${JSON.stringify(b)}`);
      await video(() => { const v = document.getElementById('video'); v.currentTime = 5.1; return v.play(); });
      await page.waitForFunction(() => !document.getElementById('player').classList.contains('lifted'), null, { timeout: 10000 });
      b = await cueBoxes();
      assert(b.main && b.main.bottom > b.video.bottom - 44, `playing: the cue stayed up: ${JSON.stringify(b)}`);
      await video(() => document.getElementById('video').pause());
    });

    await check('subtitles at 1280×800 scale with the player (≥ 5% of the picture height)', async () => {
      await page.setViewportSize({ width: 1280, height: 800 });
      await video(() => { const v = document.getElementById('video'); v.currentTime = 6; });
      await page.waitForFunction((t) => document.getElementById('cue-main').textContent === t, KY_CUES[1][2], { timeout: 5000 });
      await page.waitForTimeout(100);
      const b = await cueBoxes();
      assert(b.main.font >= 0.05 * b.video.height && b.main.font > 16, `cue ${b.main.font} px on a ${b.video.height} px picture`);
      const overlap = !(b.main.bottom <= b.top.top || b.top.bottom <= b.main.top);
      assert(!overlap, `the two cue boxes overlap: ${JSON.stringify(b)}`);
      await page.selectOption('#captions-select', 'ky');
    });

    await check('keyboard: shortcuts work with the Russian layout (event.code KeyK, KeyL)', async () => {
      await video(() => { const v = document.getElementById('video'); v.currentTime = 2; return v.play(); });
      const press = (key, code) => page.evaluate((a) => document.body.dispatchEvent(
        new KeyboardEvent('keydown', { key: a[0], code: a[1], bubbles: true, cancelable: true })), [key, code]);
      await press('л', 'KeyK');
      await waitVideo(() => document.getElementById('video').paused, null, 3000);
      const t = await video(() => document.getElementById('video').currentTime);
      await press('д', 'KeyL');
      near(await video(() => document.getElementById('video').currentTime), t + 10, 0.3, 'after д (KeyL)');
      await press('о', 'KeyJ');
      near(await video(() => document.getElementById('video').currentTime), t, 0.3, 'after о (KeyJ)');
    });

    await check('phone: tapping a chapter scrolls the player into view', async () => {
      await page.setViewportSize({ width: 360, height: 640 });
      await page.evaluate(() => document.getElementById('chapters').scrollIntoView());
      const before = await page.$eval('#player', (e) => e.getBoundingClientRect().bottom);
      assert(before < 0, `the player is still in view (bottom ${before}): the check proves nothing`);
      await page.click('.chapter >> nth=1');
      const r = await page.$eval('#player', (e) => { const q = e.getBoundingClientRect(); return { top: q.top, bottom: q.bottom }; });
      assert(r.top >= -0.5 && r.bottom <= 640.5, `player not in view after the tap: ${JSON.stringify(r)}`);
      await video(() => document.getElementById('video').pause());
    });

    await check('quality: two stalls in a manual tier offer Auto; a manual choice holds for this lesson only', async () => {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.selectOption('#quality-select', 'low');
      await waitVideo(() => { const v = document.getElementById('video'); return v.currentSrc.indexOf('/media/low.') >= 0 && v.readyState >= 2; });
      await video(() => document.getElementById('video').play());
      await waitVideo(() => !document.getElementById('video').paused);
      eq(await page.$eval('#stall-hint', (e) => e.hidden), true, 'stall hint before any stall');
      await video(() => { const v = document.getElementById('video'); v.dispatchEvent(new Event('waiting')); v.dispatchEvent(new Event('waiting')); });
      await page.waitForSelector('#stall-hint:not([hidden])', { timeout: 3000 });
      eq(await page.$eval('#stall-hint span', (e) => e.textContent), 'Видео токтоп-токтоп жатат — автоматтык сапатка өтөсүзбү?', 'hint text');
      assert((await video(() => document.getElementById('video').currentSrc)).includes('/media/low.'), 'a manual tier was changed without asking');
      await page.click('#stall-auto');
      eq(await page.$eval('#quality-select', (s) => s.value), 'auto', 'quality after "switch to Auto"');
      eq(await page.$eval('#stall-hint', (e) => e.hidden), true, 'stall hint after switching');
      await page.selectOption('#quality-select', 'low');
      await toLesson(L2.id, 1280, 800);
      eq(await page.$eval('#quality-select', (s) => s.value), 'auto', `quality on ${L2.id} after choosing low on ${L1.id}`);
      await toLesson(L1.id, 1280, 800);
      eq(await page.$eval('#quality-select', (s) => s.value), 'low', `quality back on ${L1.id}`);
      await page.selectOption('#quality-select', 'auto');
    });

    await check('quality: the estimate on a 300 kbit/s link with 400 ms RTT does not lean low', async () => {
      const p = await ctx.newPage();
      const c = await ctx.newCDPSession(p);
      await c.send('Network.enable');
      await c.send('Network.setCacheDisabled', { cacheDisabled: true });
      await c.send('Network.emulateNetworkConditions', { offline: false, latency: 400, downloadThroughput: 300000 / 8, uploadThroughput: -1 });
      await p.goto(`${origin}/#/lesson/${L2.id}`);
      await p.waitForFunction(() => { const v = document.getElementById('video'); return v && v.getAttribute('data-bw'); }, null, { timeout: 90000 });
      const bw = await p.evaluate(() => +document.getElementById('video').getAttribute('data-bw'));
      console.log(`     estimate on a 300 kbit/s, 400 ms link: ${Math.round(bw / 1000)} kbit/s`);
      assert(bw >= 0.7 * 300000 && bw <= 1.5 * 300000, `estimate ${Math.round(bw / 1000)} kbit/s on a 300 kbit/s link`);
      await p.close();
    });

    await check('layout at 360 px: menus fit their longest option, touch targets ≥ 44 px, no QR box', async () => {
      const audit = () => page.evaluate(() => {
        const out = [];
        const ctx2 = document.createElement('canvas').getContext('2d');
        for (const s of document.querySelectorAll('select')) {
          if (!s.offsetParent) continue;
          const cs = getComputedStyle(s);
          ctx2.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
          const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
          for (const o of s.options) {
            if (o.hidden) continue;
            const w = ctx2.measureText(o.textContent).width;
            if (w > room) out.push(`#${s.id} cuts "${o.textContent}" (${Math.round(w)} > ${Math.round(room)} px)`);
          }
        }
        const targets = 'button, select, input[type=search], .check, a.back, a.brand, .hit-link, .result-title a, .chapter, .dl';
        for (const e of document.querySelectorAll(targets)) {
          if (!e.offsetParent) continue;
          const r = e.getBoundingClientRect();
          if (r.height < 44 - 0.5) out.push(`${e.id ? '#' + e.id : e.className || e.tagName} is ${r.height.toFixed(1)} px high`);
        }
        return out;
      });
      await page.setViewportSize({ width: 360, height: 640 });
      eq(await audit(), [], 'lesson view at 360 px');
      await page.goto(origin + '/#/');
      await page.waitForSelector('.card');
      eq(await page.$eval('#qr-box', (e) => getComputedStyle(e).display), 'none', 'QR box display on a phone');
      eq(await audit(), [], 'catalog at 360 px');
      await page.fill('#search-input', RU_ONLY_WORD);
      await page.waitForSelector('#search-results:not([hidden]) .result', { timeout: 5000 });
      eq(await audit(), [], 'search results at 360 px');
      // A phone: the hit opens the lesson with the player in view.
      await page.click('.hit-link');
      await waitVideo(() => { const v = document.getElementById('video'); return v && v.readyState >= 1 && !v.seeking && v.currentTime > 0; });
      const r = await page.$eval('#player', (e) => { const q = e.getBoundingClientRect(); return { top: q.top, bottom: q.bottom }; });
      assert(r.top >= -0.5 && r.bottom <= 640.5, `player not in view after a subtitle hit: ${JSON.stringify(r)}`);
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    await check('navigation: "All lessons" shows all lessons, not the last search', async () => {
      await page.goto(origin + '/#/');
      await page.waitForSelector('#view-home:not([hidden])');
      await page.fill('#search-input', RU_ONLY_WORD);
      await page.waitForSelector('#search-results:not([hidden]) .result', { timeout: 5000 });
      await page.click('.hit-link');
      await page.waitForSelector('#view-lesson:not([hidden])');
      await page.click('#view-lesson .back');
      await page.waitForSelector('.card');
      eq(await page.$eval('#search-input', (e) => e.value), '', 'search box');
      eq(await page.$eval('#search-results', (e) => e.hidden), true, 'search results hidden');
      eq(await page.$eval('#catalog', (e) => e.hidden), false, 'catalog shown');
    });

    await check('navigation: an unknown lesson shows "not found" and nothing of the last lesson', async () => {
      await page.goto(lessonUrl);
      await waitVideo(() => { const v = document.getElementById('video'); return v && v.currentSrc; });
      await page.goto(`${origin}/#/lesson/no-such-lesson`);
      await page.waitForSelector('#lesson-missing:not([hidden])', { timeout: 5000 });
      const st = await page.evaluate(() => ({ body: document.getElementById('lesson-body').hidden, title: document.getElementById('lesson-title').textContent,
        sources: document.querySelectorAll('#video source').length, network: document.getElementById('video').networkState }));
      eq(st, { body: true, title: 'Бул сабак табылган жок.', sources: 0, network: 0 }, 'the not-found page (NETWORK_EMPTY)');
      // The browser logs the 404 of /api/lessons/no-such-lesson: that one is expected.
      for (let i = problems.length - 1; i >= 0; i--) if (/no-such-lesson.*404/.test(problems[i])) problems.splice(i, 1);
      await axe(page, 'the not-found page');
    });

    await check('accessibility: axe finds nothing on the catalog, search, lesson and help views', async () => {
      await page.goto(origin + '/#/');
      await page.waitForSelector('.card');
      await axe(page, 'the catalog');
      await page.fill('#search-input', RU_ONLY_WORD);
      await page.waitForSelector('#search-results:not([hidden]) .result', { timeout: 5000 });
      eq(await page.$$eval('h1', (els) => els.filter((e) => e.offsetParent).length > 0), true, 'a visible h1 on the search view');
      const name = await page.$eval('.hit-link', (a) => a.textContent);
      const aria = await page.$eval('.hit-link', (a) => a.getAttribute('aria-label'));
      assert(aria === null && name.startsWith('0:12' + RU_CUES[2][2]), `hit link name "${aria || name}" does not start with its visible text`);
      await axe(page, 'the search results');
      await page.goto(lessonUrl);
      await waitVideo(() => { const v = document.getElementById('video'); return v && v.readyState >= 1; });
      await axe(page, 'the lesson');
      await page.click('#help-button');
      await axe(page, 'the lesson with the shortcut help open');
      await page.keyboard.press('Escape');
      await page.setViewportSize({ width: 360, height: 640 });
      await axe(page, 'the lesson at 360 px');
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    await check('offline: every request went to the kiosk origin', () => {
      const outside = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:') && u !== 'about:blank');
      eq(outside, [], 'requests outside the kiosk');
      assert(requests.length > 10, `only ${requests.length} requests seen`);
    });

    await check('offline player: the unzipped bundle plays from file:// with its subtitles', async () => {
      const bundle = fs.readdirSync(lib).filter((f) => f.startsWith(L1.id) && f.endsWith('.zip'))[0];
      assert(bundle, `no bundle for ${L1.id} in ${lib}`);
      const dir = fs.mkdtempSync(path.join(TMP_ROOT, 'unzipped-'));
      run('python3', ['-m', 'zipfile', '-e', path.join(lib, bundle), dir]);
      const p = await ctx.newPage();
      const mine = []; // this page's requests (the kiosk tab left open polls on its own)
      p.on('request', (r) => mine.push(r.url()));
      await p.goto('file://' + path.join(dir, 'index.html'));
      await p.waitForFunction(() => document.getElementById('title').textContent !== '', null, { timeout: 5000 });
      eq(await p.$eval('#title', (e) => e.textContent), L1.title.ky, 'offline title');
      await p.waitForFunction(() => document.getElementById('video').readyState >= 1, null, { timeout: 15000 });
      await p.evaluate(() => document.getElementById('video').play());
      await p.waitForFunction(() => document.getElementById('video').currentTime > 1.2, null, { timeout: 15000, polling: 100 });
      const tracks = await p.evaluate(() => Array.from(document.getElementById('video').textTracks).map((t) => {
        const prev = t.mode;
        if (t.mode === 'disabled') t.mode = 'hidden';
        const cues = Array.from(t.cues).map((c) => [c.startTime, c.endTime, c.text]);
        t.mode = prev;
        return { lang: t.language, mode: prev, cues };
      }));
      eq(tracks.map((t) => t.lang).sort(), ['ky', 'ru'], 'offline track languages');
      const ky = tracks.filter((t) => t.lang === 'ky')[0];
      eq(ky.mode, 'showing', 'offline Kyrgyz track mode');
      eq(ky.cues, KY_CUES, 'offline Kyrgyz cues');
      eq(tracks.filter((t) => t.lang === 'ru')[0].cues, RU_CUES, 'offline Russian cues');
      const src = await p.evaluate(() => document.getElementById('video').currentSrc);
      eq(src, 'file://' + path.join(dir, 'media', 'standard.mp4'), 'offline source');
      await p.setViewportSize({ width: 360, height: 640 });
      await p.screenshot({ path: path.join(SHOTS, 'offline-360x640.png'), fullPage: true });
      const outside = mine.filter((u) => !u.startsWith('file://' + dir + '/') && !u.startsWith('data:'));
      eq(outside, [], 'offline player requests outside its folder');
      await axe(p, 'the offline player');
      await p.close();
    });

    await check('offline player: only index.html extracted shows the warning alone', async () => {
      const bundle = fs.readdirSync(lib).filter((f) => f.startsWith(L1.id) && f.endsWith('.zip'))[0];
      const dir = fs.mkdtempSync(path.join(TMP_ROOT, 'only-index-'));
      run('python3', ['-c', 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("index.html"))',
        path.join(lib, bundle), path.join(dir, 'index.html')]);
      const p = await ctx.newPage();
      const quiet = [];
      p.on('console', (m) => quiet.push(m.text()));
      await p.goto('file://' + path.join(dir, 'index.html'));
      await p.waitForSelector('#warn:not([hidden])', { timeout: 15000 });
      eq(await p.$eval('#note', (e) => e.hidden), true, '"plays from this folder" beside the warning');
      await p.close();
      // The missing files are the point of this page: their load errors are expected.
      for (let i = problems.length - 1; i >= 0; i--) if (problems[i].includes(dir)) problems.splice(i, 1);
    });

    await check('offline player through the kiosk: sandboxed (opaque origin), still plays with its subtitles', async () => {
      const p = await ctx.newPage();
      const errs = [];
      p.on('pageerror', (e) => errs.push(String(e)));
      const resp = await p.goto(`${origin}/lessons/${L1.id}/index.html`);
      const csp = resp.headers()['content-security-policy'] || '';
      assert(/\bsandbox\b/.test(csp) && !/allow-same-origin/.test(csp), `bundle HTML CSP: ${csp}`);
      await p.waitForFunction(() => document.getElementById('title').textContent !== '', null, { timeout: 5000 });
      eq(await p.$eval('#title', (e) => e.textContent), L1.title.ky, 'sandboxed player title');
      // No access to the kiosk's origin: its storage and cookies stay out of reach.
      eq(await p.evaluate(() => window.origin), 'null', 'sandboxed player origin');
      await p.waitForFunction(() => document.getElementById('video').readyState >= 1, null, { timeout: 15000 });
      const langs = await p.evaluate(() => Array.from(document.getElementById('video').textTracks).map((t) => t.language).sort());
      eq(langs, ['ky', 'ru'], 'sandboxed player track languages');
      eq(errs, [], 'sandboxed player page errors');
      await p.close();
    });

    await check('plays: 10 s of real playback report one play, leaving reports the seconds', async () => {
      const stats = () => page.evaluate(() => fetch('/api/stats').then((r) => r.json()));
      const of = (doc) => doc.lessons.filter((l) => l.lesson === L2.id)[0] || { plays: 0, seconds: 0 };
      eq(of(await stats()).plays, 0, `plays of ${L2.id} before it is watched`);
      await page.goto('about:blank');
      await page.goto(`${origin}/#/lesson/${L2.id}`);
      await waitVideo(() => { const v = document.getElementById('video'); return v && v.readyState >= 1 && v.currentSrc; });
      // Real time, at speed 1: the rule counts seconds of playback, not of media.
      await video(() => { const v = document.getElementById('video'); v.playbackRate = 1; v.currentTime = 0; return v.play(); });
      const until = async (pred, timeout) => {
        const end = Date.now() + timeout;
        for (;;) {
          const l = of(await stats());
          if (pred(l)) return l;
          if (Date.now() > end) throw new Error(`stats of ${L2.id} still ${JSON.stringify(l)}`);
          await page.waitForTimeout(500);
        }
      };
      await until((l) => l.plays === 1, 30000);
      // Played from 0 at speed 1: the position is at most the seconds of
      // playback, and the stats were polled every 0.5 s.
      const at = await video(() => document.getElementById('video').currentTime);
      assert(at >= 9.5, `a play was counted at ${at.toFixed(1)} s of playback`);
      await page.goto(`${origin}/#/`);
      const l2 = await until((l) => l.seconds >= 10, 15000);
      eq(l2.plays, 1, 'plays after leaving the lesson');
      assert(l2.seconds <= 25, `seconds watched ${l2.seconds}: more than the time played`);
      eq(await page.evaluate(() => localStorage.getItem('sabak.plays')), '[]', 'reports left unsent');
    });

    await check('no console errors or page errors', () => {
      eq(problems, [], 'console/page errors');
    });
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function main() {
  await staticChecks();
  fs.mkdirSync(TMP_ROOT, { recursive: true });
  const work = fs.mkdtempSync(path.join(TMP_ROOT, 'browser-'));
  let server = null;
  try {
    let lib = null;
    await check('fixture: pack two lessons with the real sabak pack', () => { lib = makeLessons(work); });
    if (lib) {
      await check('fixture: sabak serve on 127.0.0.1 port 0', async () => { server = await startServer(lib); });
    }
    if (server) {
      console.log(`     kiosk at ${server.origin}, screenshots in ${SHOTS}`);
      await browserChecks(server.origin, lib);
    }
  } catch (e) {
    failed++;
    console.log(`FAIL ${e.stack || e}`);
  } finally {
    if (server) {
      server.proc.kill('SIGTERM');
      await new Promise((r) => { const t = setTimeout(r, 3000); server.proc.on('exit', () => { clearTimeout(t); r(); }); });
      if (failed) console.log('---- server log (tail) ----\n' + server.log().slice(-3000));
    }
    if (!failed) fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// Run only when this file is the program, not when firefox.test.mjs imports it.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
