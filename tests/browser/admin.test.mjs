// The kiosk's admin area (/admin, issue 13) in headless chromium against the
// real `sabak serve`: sign in, upload a bundle (progress, then it is in the
// catalog), import from a drive folder bind-mounted under drive_roots (the
// sync step writes the office record), delete a lesson after the
// confirmation, download the CSV report and check its BOM and Cyrillic, the
// SVG chart, and screenshots of every page at 360x640 and 1280x800 into
// $SABAK_BUILD/screenshots. Any console or page error fails the run. Without
// mount --bind (not root) the drive part is skipped and says so.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = process.env.SABAK_SRC || path.resolve(HERE, '..', '..');
const SABAK = process.env.SABAK || path.join(SRC, 'build', 'sabak');
const BUILD = process.env.SABAK_BUILD || path.dirname(SABAK);
const SHOTS = path.join(BUILD, 'screenshots');
const WEB = path.join(SRC, 'web');
const TMP_ROOT = process.env.SABAK_TEST_TMP || os.tmpdir();
const PASSWORD = 'office password 7';

const failures = [];
let passed = 0;
function check(name, cond, detail = '') {
  if (cond) { passed++; console.log(`ok   ${name}`); } else { failures.push(`${name}: ${detail}`); console.log(`FAIL ${name} ${detail}`); }
}

fs.mkdirSync(TMP_ROOT, { recursive: true });
fs.mkdirSync(SHOTS, { recursive: true });
const root = fs.mkdtempSync(path.join(TMP_ROOT, 'admin-browser-'));
const lib = path.join(root, 'lib');
const media = path.join(root, 'media');
const stick = path.join(media, 'STICK');
const driveSrc = path.join(root, 'drive-src');
for (const d of [lib, stick, path.join(driveSrc, 'sabak')]) fs.mkdirSync(d, { recursive: true });

// Synthetic bundles (no transcoding): Cyrillic titles "Урок <id>".
const py = spawnSync('python3', ['-c', [
  'import sys; from carrytest import synthetic_bundle as s',
  's(sys.argv[1], "admin-up", 1, media_bytes=3 << 20)',
  's(sys.argv[2], "admin-drive", 1, media_bytes=1 << 20, seed=2)',
  's(sys.argv[3], "admin-keep", 1, media_bytes=1 << 16, seed=3)'].join('\n'),
path.join(root, 'admin-up-v1.zip'), path.join(driveSrc, 'sabak', 'admin-drive-v1.zip'), path.join(lib, 'admin-keep-v1.zip')],
{ env: { ...process.env, PYTHONPATH: path.join(SRC, 'tests', 'integration') }, encoding: 'utf8' });
if (py.status !== 0) throw new Error(`bundles: ${py.stderr}`);
fs.writeFileSync(path.join(driveSrc, 'sabak', 'broken.zip'), 'PK\u0003\u0004 not really');

const pwFile = path.join(root, 'pw');
fs.writeFileSync(pwFile, PASSWORD + '\n');
const pw = spawnSync(SABAK, ['passwd', '--library', lib], { env: { ...process.env, SABAK_PASSWORD_FILE: pwFile }, encoding: 'utf8' });
check('sabak passwd', pw.status === 0, pw.stderr);
const ini = path.join(root, 'sabak.ini');
fs.writeFileSync(ini, `[server]\ndrive_roots = ${media}\ndrive_poll = 1\nverify = no\n`);

const mounted = spawnSync('mount', ['--bind', driveSrc, stick], { encoding: 'utf8' }).status === 0;
if (!mounted) console.log('skip: the drive part needs mount --bind (root)');

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(SABAK, ['serve', '--library', lib, '--listen', '127.0.0.1:0', '--web-dir', WEB, '--config', ini],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let buf = '';
    let done = false;
    const timer = setTimeout(() => { if (!done) { done = true; proc.kill('SIGKILL'); reject(new Error('server did not start: ' + buf)); } }, 20000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      buf += chunk;
      if (buf.length > 1 << 20) buf = buf.slice(-65536);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(buf);
      if (m && !done) { done = true; clearTimeout(timer); resolve({ proc, origin: m[1], log: () => buf }); }
    });
    proc.on('exit', (code) => { if (!done) { done = true; clearTimeout(timer); reject(new Error(`server exited ${code}: ${buf}`)); } });
  });
}

const srv = await startServer();
const profile = fs.mkdtempSync(path.join(TMP_ROOT, 'chromium-profile-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 360, height: 640 },
  acceptDownloads: true,
  locale: 'ru-RU',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
const page = ctx.pages()[0] || await ctx.newPage();
let wrongPasswords = 0; // each wrong password is one 401 that chromium logs
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  if (/status of 401/.test(m.text()) && wrongPasswords > 0) { wrongPasswords--; return; }
  problems.push(`console error: ${m.text()}`);
});
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('dialog', (d) => d.accept());

async function shots(name) {
  for (const [w, h] of [[360, 640], [1280, 800]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.waitForTimeout(100);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(`${name} fits ${w}px without sideways scrolling`, over <= 0, String(over));
    await page.screenshot({ path: path.join(SHOTS, `admin-${name}-${w}x${h}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 360, height: 640 });
}
// The job after `before` (its id) has ended; its state.
async function waitJobDone(before) {
  await page.waitForFunction((b) => {
    const j = document.getElementById('job');
    return j && !j.hidden && Number(j.getAttribute('data-id')) > b && j.getAttribute('data-state') !== 'running';
  }, before, { timeout: 60000 });
  return page.getAttribute('#job', 'data-state');
}
const catalogIds = async () => (await (await page.request.get(srv.origin + '/api/lessons')).json()).lessons.map((l) => l.id);

try {
  // ---- sign in ----
  await page.goto(srv.origin + '/admin');
  check('/admin without a session goes to the sign-in page', page.url() === srv.origin + '/admin/login', page.url());
  await page.waitForSelector('#login-form:not([hidden])');
  check('the sign-in page is in Russian', (await page.textContent('#login-title')) === 'Вход', await page.textContent('#login-title'));
  await shots('login');
  await page.fill('#password', 'not the password');
  wrongPasswords++;
  await page.click('#login-button');
  await page.waitForFunction(() => document.getElementById('status').textContent !== '');
  check('a wrong password says so', (await page.textContent('#status')) === 'Неверный пароль.', await page.textContent('#status'));
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(srv.origin + '/admin'), page.click('#login-button')]);
  await page.waitForSelector('#lesson-list li[data-lesson="admin-keep"]');
  check('signed in: the lessons page lists the library', true);
  const cookies = await ctx.cookies(srv.origin + '/admin');
  const sc = cookies.find((c) => c.name === 'sabak_admin');
  check('the session cookie is HttpOnly and SameSite=Strict', sc && sc.httpOnly && sc.sameSite === 'Strict', JSON.stringify(sc));
  await shots('lessons');

  // ---- upload with progress ----
  const progress = [];
  await page.exposeFunction('noteProgress', (v) => progress.push(v));
  await page.evaluate(() => {
    const bar = document.getElementById('upload-progress');
    new MutationObserver(() => window.noteProgress(bar.value)).observe(bar, { attributes: true });
    bar.addEventListener('change', () => window.noteProgress(bar.value));
    const txt = document.getElementById('upload-text');
    new MutationObserver(() => window.noteProgress(txt.textContent)).observe(txt, { childList: true, characterData: true, subtree: true });
  });
  await page.setInputFiles('#upload-file', path.join(root, 'admin-up-v1.zip'));
  await page.waitForFunction(() => /добавлен/.test(document.getElementById('upload-text').textContent), null, { timeout: 60000 });
  check('the upload showed its progress', progress.some((p) => typeof p === 'string' && /Отправка admin-up-v1\.zip: \d+%/.test(p)), JSON.stringify(progress.slice(0, 8)));
  check('the upload ends at 100%', (await page.$eval('#upload-progress', (b) => b.value)) === 100);
  check('the uploaded lesson is in the catalog', (await catalogIds()).includes('admin-up'), JSON.stringify(await catalogIds()));
  await page.waitForSelector('#lesson-list li[data-lesson="admin-up"]');
  check('and in the admin list', true);
  check('the staging folder is empty again', fs.readdirSync(path.join(lib, '.sabak-upload')).length === 0);

  // ---- import from a drive ----
  if (mounted) {
    await page.goto(srv.origin + '/admin#drives');
    await page.waitForSelector('#drive-list li[data-bundle="admin-drive-v1.zip"]', { timeout: 30000 });
    check('the drive shows the new lesson as new', (await page.getAttribute('#drive-list li[data-bundle="admin-drive-v1.zip"]', 'data-status')) === 'new');
    check('and the broken file as damaged', (await page.getAttribute('#drive-list li[data-bundle="broken.zip"]', 'data-status')) === 'damaged');
    await shots('drives');
    const before = Number(await page.getAttribute('#job', 'data-id') || 0);
    await page.click('#drive-list .drive button.btn-primary');
    check('the import job', (await waitJobDone(before)) === 'done', await page.textContent('#job-text'));
    check('the drive lesson is in the catalog', (await catalogIds()).includes('admin-drive'));
    const offices = path.join(driveSrc, 'sabak', 'offices');
    check('the sync step wrote the office record to the drive', fs.existsSync(offices) && fs.readdirSync(offices).length === 1);
    // Progress survives a reload: the job box comes back from /admin/api/jobs.
    await page.reload();
    await page.waitForSelector('#job:not([hidden])');
    check('after a reload the last job is shown again', (await page.getAttribute('#job', 'data-state')) === 'done');
  }

  // ---- delete ----
  await page.goto(srv.origin + '/admin#lessons');
  await page.waitForSelector('#lesson-list li[data-lesson="admin-keep"] button');
  await page.click('#lesson-list li[data-lesson="admin-keep"] button');
  await page.waitForFunction(() => !document.querySelector('#lesson-list li[data-lesson="admin-keep"]'));
  check('the deleted lesson left the catalog', !(await catalogIds()).includes('admin-keep'));
  check('its file is gone', !fs.existsSync(path.join(lib, 'admin-keep-v1.zip')));

  // ---- reports ----
  const plays = await page.request.post(srv.origin + '/api/plays', {
    data: { events: [{ lesson: 'admin-up', play: 1, seconds: 120 }, { lesson: 'admin-up', play: 1, seconds: 60 }] },
  });
  check('plays recorded', plays.status() === 200, String(plays.status()));
  await page.goto(srv.origin + '/admin#reports');
  await page.waitForSelector('#chart svg rect');
  const row = await page.$eval('#report-table tbody tr', (tr) => Array.from(tr.children).map((c) => c.textContent));
  check('the report table counts the plays', row[0] === 'Урок admin-up' && row[row.length - 1] === '2', JSON.stringify(row));
  await shots('reports');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#csv-link')]);
  const csv = fs.readFileSync(await dl.path());
  check('the CSV starts with a UTF-8 BOM', csv[0] === 0xef && csv[1] === 0xbb && csv[2] === 0xbf, csv.slice(0, 8).toString('hex'));
  const text = csv.toString('utf8');
  check('the CSV has the Cyrillic title and the count', /admin-up,Урок admin-up,\d{4}-\d{2},2,3\.0/.test(text), JSON.stringify(text));

  // ---- settings ----
  await page.goto(srv.origin + '/admin#settings');
  await page.waitForSelector('#urls li');
  await page.waitForFunction(() => document.getElementById('qr').naturalWidth > 0);
  check('the QR code shows', true);
  await shots('settings');

  // ---- Kyrgyz and sign-out ----
  await page.selectOption('#lang-select', 'ky');
  await page.waitForFunction(() => document.getElementById('tab-lessons').textContent === 'Сабактар');
  check('the page switches to Kyrgyz', true);
  await Promise.all([page.waitForURL(srv.origin + '/admin/login'), page.click('#logout')]);
  const after = await page.request.get(srv.origin + '/admin/api/session');
  check('after sign-out the API answers 401', after.status() === 401, String(after.status()));
} finally {
  await ctx.close();
  srv.proc.kill('SIGTERM');
  if (mounted) spawnSync('umount', [stick]);
}
check('no console or page errors', problems.length === 0, problems.join(' | '));
console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
