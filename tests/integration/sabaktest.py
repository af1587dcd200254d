"""Shared helpers for the integration tests (python3 stdlib only).

- make_lesson(): a short lesson source made at test time with the ffmpeg
  program (lavfi testsrc2 + sine), lesson.ini and Cyrillic SRT subtitles;
- pack(): `$SABAK pack DIR -o OUT`, cached per test run (packing costs a
  transcode, and the same inputs give the same bytes);
- Server: `$SABAK serve --library DIR --listen 127.0.0.1:0`, the real port
  read back from its "sabak: listening on http://127.0.0.1:PORT/" line;
- raw HTTP over sockets (for what http.client refuses to send), curl.

Environment (set by ctest): SABAK, SABAK_BUILD, SABAK_TEST_TMP.
"""
import fcntl
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

SABAK = os.environ.get("SABAK") or os.path.join(
    os.environ.get("SABAK_BUILD", "build"), "sabak")
TMP_ROOT = os.environ.get("SABAK_TEST_TMP") or tempfile.gettempdir()

SRT_RU = """1
00:00:00,200 --> 00:00:01,500
Бюджет айыл өкмөтү: жаңы сайт

2
00:00:01,600 --> 00:00:02,800
Гражданский бюджет онлайн
"""


def tmpdir(name):
    """A fresh folder under SABAK_TEST_TMP, removed at exit unless KEEP=1."""
    os.makedirs(TMP_ROOT, exist_ok=True)
    d = tempfile.mkdtemp(prefix=name + "-", dir=TMP_ROOT)
    if not os.environ.get("KEEP"):
        import atexit
        atexit.register(shutil.rmtree, d, True)
    return d


def make_lesson(parent, lesson_id, version=1, seconds=3, title_ru="Гражданский бюджет",
                title_ky="Жарандык бюджет", topic="budget", order=1):
    """Write a lesson source folder parent/lesson_id and return its path."""
    d = os.path.join(parent, lesson_id)
    os.makedirs(os.path.join(d, "subtitles"), exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=%d" % seconds,
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=%d" % seconds,
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", os.path.join(d, "recording.mp4")],
        check=True)
    with open(os.path.join(d, "lesson.ini"), "w", encoding="utf-8") as f:
        f.write("[lesson]\nid = %s\nversion = %d\nvideo = recording.mp4\ntopic = %s\n"
                "order = %d\n\n[title]\nky = %s\nru = %s\nen = Test lesson\n\n"
                "[description]\nru = Урок для проверки сервера\n\n"
                "[chapters]\n00:00:01 = Экинчи бөлүм\n"
                % (lesson_id, version, topic, order, title_ky, title_ru))
    with open(os.path.join(d, "subtitles", "ru.srt"), "w", encoding="utf-8") as f:
        f.write(SRT_RU)
    return d


def _lock(path):
    f = open(path, "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def pack(src, out_dir, tiers="standard,low,audio"):
    """`$SABAK pack src -o out_dir/`; returns the bundle path."""
    os.makedirs(out_dir, exist_ok=True)
    before = set(os.listdir(out_dir))
    r = subprocess.run([SABAK, "pack", src, "-o", out_dir + "/", "--tiers", tiers, "--quiet"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("sabak pack %s failed (%d): %s" % (src, r.returncode, r.stderr))
    new = sorted(set(os.listdir(out_dir)) - before)
    zips = [n for n in new if n.endswith(".zip")]
    if len(zips) != 1:
        m = re.search(r"(\S+\.zip)", r.stdout + r.stderr)
        raise RuntimeError("sabak pack wrote %r (%s)" % (new, m.group(1) if m else "?"))
    return os.path.join(out_dir, zips[0])


def packed_bundle(lesson_id, version=1, seconds=3, **kw):
    """A bundle for lesson_id/version, packed once per build dir and cached
    (tests run in parallel: a lock file serialises the packing)."""
    import hashlib
    # A rebuilt packer invalidates the cache: its mtime is part of the key.
    packer = os.environ.get("SABAK_PACK") or SABAK
    try:
        stamp = str(os.stat(packer).st_mtime_ns)
    except OSError:
        stamp = "0"
    cache = os.path.join(TMP_ROOT, "sabaktest-cache")
    os.makedirs(cache, exist_ok=True)
    desc = repr((stamp, lesson_id, version, seconds, sorted(kw.items())))
    key = "%s-v%d-%s" % (lesson_id, version, hashlib.sha256(desc.encode()).hexdigest()[:16])
    final = os.path.join(cache, key + ".zip")
    lock = _lock(os.path.join(cache, key + ".lock"))
    try:
        if not os.path.exists(final):
            work = tempfile.mkdtemp(prefix="pack-", dir=cache)
            try:
                src = make_lesson(os.path.join(work, "src"), lesson_id, version, seconds, **kw)
                out = pack(src, os.path.join(work, "out"))
                os.rename(out, final)
            finally:
                shutil.rmtree(work, True)
        return final
    finally:
        lock.close()


def copy_bundle(bundle, library, name=None):
    """Copy a bundle into a library folder atomically (tmp name + rename)."""
    name = name or os.path.basename(bundle)
    tmp = os.path.join(library, "." + name + ".tmp")
    shutil.copyfile(bundle, tmp)
    os.rename(tmp, os.path.join(library, name))
    return os.path.join(library, name)


def manifest(bundle):
    import json
    with zipfile.ZipFile(bundle) as z:
        return json.loads(z.read("manifest.json").decode("utf-8"))


def entry_bytes(bundle, name):
    """An entry's bytes read independently of sabak (python's zipfile)."""
    with zipfile.ZipFile(bundle) as z:
        return z.read(name)


def manifest_file(bundle, kind=None, tier=None, path=None):
    for f in manifest(bundle)["files"]:
        if (kind is None or f.get("kind") == kind) and (tier is None or f.get("tier") == tier) \
                and (path is None or f["path"] == path):
            return f
    raise KeyError((kind, tier, path))


class Server:
    """A running `sabak serve`; its stderr is collected in self.lines."""

    LISTEN_RE = re.compile(r"sabak: listening on http://([0-9.]+):(\d+)/")

    def __init__(self, library, *extra, listen="127.0.0.1:0", env=None):
        self.library = library
        self.args = [SABAK, "serve", "--library", library, "--listen", listen] + list(extra)
        self.env = env
        self.lines = []
        self.cond = threading.Condition()
        self.proc = None
        self.port = None
        self.start()

    def start(self, timeout=30):
        self.lines = []
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=self.env)
        t = threading.Thread(target=self._reader, args=(self.proc,), daemon=True)
        t.start()
        m = self.wait_line(self.LISTEN_RE, timeout)
        if not m:
            self.kill()
            raise RuntimeError("sabak serve did not start: %s" % "".join(self.lines))
        self.host, self.port = m.group(1), int(m.group(2))
        return self

    def _reader(self, proc):
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, pattern, timeout=10, start=0):
        """Wait for a stderr line matching pattern (from index start)."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and i >= len(self.lines)):
                    return None
                self.cond.wait(min(left, 0.2))

    @property
    def base(self):
        return "http://%s:%d" % (self.host, self.port)

    def conn(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, path, method="GET", headers=None):
        """(status, headers dict with lower-case names, body bytes)."""
        c = self.conn()
        try:
            c.request(method, path, headers=headers or {})
            r = c.getresponse()
            body = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body
        finally:
            c.close()

    def raw(self, data, timeout=10):
        """Send raw bytes, return everything until the server closes or goes quiet."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            s.sendall(data)
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except socket.timeout:
                    break
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks)
        finally:
            s.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        """SIGTERM; returns (exit code, seconds it took)."""
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, time.monotonic() - t0

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def raw_status(resp):
    """The status code of a raw HTTP response (first line), or None."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", resp)
    return int(m.group(1)) if m else None


def curl(*args):
    """Run the real curl; returns CompletedProcess (bytes stdout)."""
    return subprocess.run(["curl", "-sS", "--max-time", "30"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class Checks:
    """Collects failures so one run reports every broken row."""

    def __init__(self, name):
        self.name = name
        self.failed = []
        self.passed = 0

    def eq(self, what, got, want):
        if got == want:
            self.passed += 1
        else:
            g, w = repr(got), repr(want)
            self.failed.append("%s: got %s, want %s" % (what, g[:300], w[:300]))

    def true(self, what, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed.append("%s %s" % (what, detail))

    def done(self):
        for f in self.failed:
            print("FAIL " + f)
        print("%s: %d checks passed, %d failed" % (self.name, self.passed, len(self.failed)))
        sys.exit(1 if self.failed else 0)
