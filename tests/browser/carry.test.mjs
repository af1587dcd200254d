// The browsable copy that `sabak export` writes to a drive, opened from
// file:// in headless chromium with no server: the catalog shows the lesson,
// search finds it (and nothing for a word it lacks), the lesson's page plays
// the video, and its Cyrillic subtitle cues are there (inlined: browsers
// refuse <track> files on file://). Any request that is not file://, and any
// console or page error, fails the run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = process.env.SABAK_SRC || path.resolve(HERE, '..', '..');
const SABAK = process.env.SABAK || path.join(SRC, 'build', 'sabak');
const BUILD = process.env.SABAK_BUILD || path.dirname(SABAK);
const TMP_ROOT = process.env.SABAK_TEST_TMP || os.tmpdir();
const failures = [];
let passed = 0;
function check(name, cond, detail = '') {
  if (cond) { passed++; console.log(`ok   ${name}`); } else { failures.push(`${name}: ${detail}`); console.log(`FAIL ${name} ${detail}`); }
}

// A real packed lesson (Cyrillic ru.srt), through the integration helpers.
fs.mkdirSync(TMP_ROOT, { recursive: true });
const root = fs.mkdtempSync(path.join(TMP_ROOT, 'carry-browser-'));
const lib = path.join(root, 'lib');
const drive = path.join(root, 'drive');
fs.mkdirSync(lib);
fs.mkdirSync(drive);
const py = spawnSync('python3', ['-c',
  "import sabaktest as t; print(t.packed_bundle('budget-01', 1)); " +
  "print(t.packed_bundle('website-01', 1, title_ru='Сайт айыл окмоту', title_ky='Айыл өкмөтүнүн сайты', topic='web'))"],
{ env: { ...process.env, PYTHONPATH: path.join(SRC, 'tests', 'integration') }, encoding: 'utf8' });
if (py.status !== 0) throw new Error(`packing failed: ${py.stderr}`);
const bundles = py.stdout.trim().split('\n');
fs.copyFileSync(bundles[0], path.join(lib, 'budget-01-v1.zip'));
fs.copyFileSync(bundles[1], path.join(lib, 'website-01-v1.zip'));
const ex = spawnSync(SABAK, ['export', '--library', lib, '--to', drive, '--quiet'], { encoding: 'utf8' });
check('sabak export exits 0', ex.status === 0, ex.stderr);

const profile = fs.mkdtempSync(path.join(TMP_ROOT, 'chromium-profile-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1000, height: 800 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required', '--allow-file-access-from-files'],
});
const problems = [];
const foreign = [];
ctx.on('request', (r) => { const u = r.url(); if (!u.startsWith('file://') && !u.startsWith('data:')) foreign.push(u); });
ctx.on('page', (p) => {
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(pathToFileURL(path.join(drive, 'sabak', 'index.html')).href);
  const titles = await page.$$eval('#list .t', (els) => els.map((e) => e.textContent));
  check('catalog lists both lessons in Kyrgyz', titles.length === 2 && titles.includes('Айыл өкмөтүнүн сайты'), JSON.stringify(titles));
  await page.click('#langs button[lang="ru"]');
  const ru = await page.$$eval('#list .t', (els) => els.map((e) => e.textContent));
  check('switching to Russian shows Russian titles', ru.includes('Сайт айыл окмоту'), JSON.stringify(ru));
  await page.fill('#q', 'сайт');
  const found = await page.$$eval('#list .lesson', (els) => els.map((e) => e.dataset.id));
  check('search finds the lesson by title', found.length === 1 && found[0] === 'website-01', JSON.stringify(found));
  await page.fill('#q', 'zzzz');
  check('search for a missing word finds nothing',
    (await page.$$('#list .lesson')).length === 0 && (await page.textContent('#count')).length > 0);
  await page.screenshot({ path: path.join(BUILD, 'carry-catalog.png') }).catch(() => {});
  await page.fill('#q', 'сайт');
  await page.click('#list .lesson');
  await page.waitForSelector('video');
  check('the lesson page opens from the drive', page.url().endsWith('/lessons/website-01-v1/index.html'), page.url());
  const played = await page.evaluate(async () => {
    const v = document.querySelector('video');
    v.muted = true;
    await v.play();
    const t0 = Date.now();
    while (v.currentTime < 0.5 && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 100));
    return v.currentTime;
  });
  check('the video plays from file://', played >= 0.5, String(played));
  const cues = await page.evaluate(() => {
    const out = [];
    for (const tr of document.querySelector('video').textTracks) {
      for (const c of tr.cues || []) out.push(c.text);
    }
    return out;
  });
  check('the Cyrillic subtitle cues are inlined', cues.some((c) => c.includes('Гражданский бюджет онлайн')), JSON.stringify(cues));
} finally {
  await ctx.close();
}
check('no request left the drive', foreign.length === 0, foreign.join(' '));
check('no console or page errors', problems.length === 0, problems.join(' | '));
console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
