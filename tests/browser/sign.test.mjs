// Signed lessons in the staff page (issue 12): a kiosk under
// require_signature = warn, trusting one key, serves three lessons: one
// signed by that key (its card names the publisher and has no mark), one
// signed by an unknown key and one unsigned (both carry the "unverified
// source" mark and no publisher). Strings are checked against
// web/i18n/<the page's language>.json. Any console or page error fails.
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
const TMP_ROOT = process.env.SABAK_TEST_TMP || os.tmpdir();
const I18N = (lang) => JSON.parse(fs.readFileSync(path.join(SRC, 'web', 'i18n', `${lang}.json`), 'utf8'));
const failures = [];
let passed = 0;
function check(name, cond, detail = '') {
  if (cond) { passed++; console.log(`ok   ${name}`); } else { failures.push(`${name}: ${detail}`); console.log(`FAIL ${name} ${detail}`); }
}

fs.mkdirSync(TMP_ROOT, { recursive: true });
const root = fs.mkdtempSync(path.join(TMP_ROOT, 'sign-browser-'));
const py = spawnSync('python3', ['-c', `
import os, shutil, subprocess, sys
from carrytest import synthetic_bundle
root, sabak = sys.argv[1], sys.argv[2]
lib, keys, trusted = [os.path.join(root, d) for d in ("lib", "keys", "trusted")]
for d in (lib, keys, trusted):
    os.makedirs(d)
open(os.path.join(keys, "pass"), "w").write("browser test\\n")
env = dict(os.environ, SABAK_PASSPHRASE_FILE=os.path.join(keys, "pass"), SABAK_TEST_WEAK_KDF="1")
for k, name in (("a", "DPI Naryn trainers"), ("b", "Stranger")):
    subprocess.run([sabak, "keygen", "-o", os.path.join(keys, k + ".key"), "--name", name], env=env,
                   check=True, stdout=subprocess.DEVNULL)
shutil.copy(os.path.join(keys, "a.pub"), trusted)
for lid, k in (("alpha", "a"), ("beta", "b"), ("gamma", None)):
    plain = os.path.join(keys, lid + ".zip")
    synthetic_bundle(plain, lid, seed=7, media_bytes=4096)
    if k:
        subprocess.run([sabak, "sign", plain, "--key", os.path.join(keys, k + ".key"), "-o",
                        os.path.join(lib, lid + "-v1.zip")], env=env, check=True, stdout=subprocess.DEVNULL)
    else:
        shutil.copy(plain, os.path.join(lib, lid + "-v1.zip"))
`, root, SABAK], { env: { ...process.env, PYTHONPATH: path.join(SRC, 'tests', 'integration') }, encoding: 'utf8' });
if (py.status !== 0) throw new Error(`fixture failed: ${py.stderr}`);

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(SABAK, ['serve', '--library', path.join(root, 'lib'), '--listen', '127.0.0.1:0',
      '--trusted', path.join(root, 'trusted'), '--require-signature', 'warn', '--web-dir', path.join(SRC, 'web')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    let buf = '';
    let done = false;
    const timer = setTimeout(() => { if (!done) { done = true; proc.kill('SIGKILL'); reject(new Error('server did not start: ' + buf)); } }, 20000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (c) => {
      buf += c;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(buf);
      if (m && !done) { done = true; clearTimeout(timer); resolve({ proc, origin: m[1] }); }
    });
    proc.on('exit', (code) => { if (!done) { done = true; clearTimeout(timer); reject(new Error(`server exited ${code}: ${buf}`)); } });
  });
}

const server = await startServer();
const profile = fs.mkdtempSync(path.join(TMP_ROOT, 'chromium-profile-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1000, height: 800 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const problems = [];
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(server.origin + '/');
  await page.waitForSelector('.card', { timeout: 15000 });
  const cards = await page.$$eval('.card', (els) => els.map((e) => ({
    id: e.dataset.id,
    publisher: (e.querySelector('.publisher') || {}).textContent || null,
    unverified: (e.querySelector('.unverified') || {}).textContent || null,
  })));
  const lang = await page.evaluate(() => document.documentElement.lang || 'ky');
  const KY = I18N(['ky', 'ru', 'en'].includes(lang) ? lang : 'ky');
  const by = Object.fromEntries(cards.map((c) => [c.id, c]));
  check('three lessons shown under warn', cards.length === 3, JSON.stringify(cards));
  const pub = KY.card.publisher.replace('{name}', 'DPI Naryn trainers');
  check('trusted lesson names its publisher', by.alpha && by.alpha.publisher === pub, JSON.stringify(by.alpha));
  check('trusted lesson has no unverified mark', by.alpha && by.alpha.unverified === null, JSON.stringify(by.alpha));
  for (const id of ['beta', 'gamma']) {
    check(`${id}: unverified source mark`, by[id] && by[id].unverified === KY.card.unverified, JSON.stringify(by[id]));
    check(`${id}: no publisher`, by[id] && by[id].publisher === null, JSON.stringify(by[id]));
  }
  await page.screenshot({ path: path.join(process.env.SABAK_BUILD || TMP_ROOT, 'sign-warn.png') }).catch(() => {});
  check('no console or page errors', problems.length === 0, problems.join('; '));
} finally {
  await ctx.close();
  server.proc.kill('SIGTERM');
  fs.rmSync(profile, { recursive: true, force: true });
  if (!process.env.KEEP) fs.rmSync(root, { recursive: true, force: true });
}
console.log(`sign browser: ${passed} checks passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
