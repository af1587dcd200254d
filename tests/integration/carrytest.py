"""Helpers for the sabak export/import tests: synthetic bundles (python's
zipfile, random media so sizes are exact), sparse 4 GiB bundles, FAT32
images mounted through FUSE (fusefat), and runs of the CLI."""
import hashlib
import json
import os
import shutil
import subprocess
import zipfile

from sabaktest import SABAK

ZERO = bytes(1 << 20)


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def run(*args, env=None, check=None):
    p = subprocess.run([SABAK, *args], capture_output=True, text=True, env=env)
    if check is not None and p.returncode != check:
        raise AssertionError("sabak %s: exit %d, want %d\n%s%s" % (
            " ".join(args), p.returncode, check, p.stdout, p.stderr))
    return p


def _player(m):
    data = json.dumps({"manifest": m, "subtitles": {"ru": "WEBVTT\n\n00:00.000 --> 00:01.000\nБюджет\n"},
                       "i18n": {}}, ensure_ascii=False)
    return ("<!doctype html><title>x</title>\n<script id=\"sabak-data\" type=\"application/json\">"
            + data.replace("</", "<\\/") + "</script>\n").encode()


def synthetic_bundle(path, lesson_id, version=1, media_bytes=1 << 20, seed=1, sparse_big=0):
    """A valid bundle whose media is media_bytes of random data (or, with
    sparse_big, one stored entry of that many zero bytes written as a hole)."""
    import random
    rnd = random.Random(seed)
    media = rnd.randbytes(media_bytes) if not sparse_big else None
    vtt = "WEBVTT\n\n00:00.000 --> 00:01.000\nБюджет\n".encode()

    def entry(p, data_sha, size, kind, mime, **extra):
        d = {"path": p, "kind": kind, "mime": mime, "size": size, "sha256": data_sha}
        d.update(extra)
        return d

    size = sparse_big or len(media)
    msha = hashlib.sha256(media).hexdigest() if media is not None else _zero_sha(size)
    files = [entry("subtitles/ru.vtt", hashlib.sha256(vtt).hexdigest(), len(vtt), "subtitles",
                   "text/vtt; charset=utf-8", lang="ru"),
             entry("media/standard.mp4", msha, size, "video", "video/mp4", tier="standard",
                   codecs="avc1.64001e", width=320, height=240, fps=15.0, bitrate=1000, duration=3.0)]
    m = {"format": "sabak-bundle", "format_version": 1, "generator": "test", "id": lesson_id,
         "version": version, "title": {"ky": "Сабак " + lesson_id, "ru": "Урок " + lesson_id},
         "topic": "t", "order": 1, "duration": 3.0, "files": files}
    player = _player(m)
    m["files"] = [entry("index.html", hashlib.sha256(player).hexdigest(), len(player), "player",
                        "text/html; charset=utf-8")] + files
    man = json.dumps(m, ensure_ascii=False, indent=1).encode()
    raw = open(path, "wb")
    out = _Sparse(raw) if sparse_big else raw
    with zipfile.ZipFile(out, "w", allowZip64=True) as z:
        for name, data, stored in (("manifest.json", man, False), ("index.html", player, False),
                                   ("subtitles/ru.vtt", vtt, False)):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            z.writestr(info, data)
        info = zipfile.ZipInfo("media/standard.mp4", (1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr = 0o100644 << 16
        info.create_system = 3
        info.file_size = size
        with z.open(info, "w", force_zip64=size >= (1 << 32) - 1) as w:
            if media is not None:
                w.write(media)
            else:
                for _ in range(size // len(ZERO)):
                    w.write(ZERO)
                w.write(bytes(size % len(ZERO)))
    if sparse_big:
        out.finish()
    raw.close()
    return path


_ZERO_SHA = {}


def _zero_sha(n):
    if n not in _ZERO_SHA:
        h = hashlib.sha256()
        for _ in range(n // len(ZERO)):
            h.update(ZERO)
        h.update(bytes(n % len(ZERO)))
        _ZERO_SHA[n] = h.hexdigest()
    return _ZERO_SHA[n]


class _Sparse:
    """A file wrapper that turns writes of zero blocks into holes."""

    def __init__(self, f):
        self.f = f

    def write(self, b):
        if len(b) == len(ZERO) and b == ZERO:
            self.f.seek(len(b), os.SEEK_CUR)
        else:
            self.f.write(b)
        return len(b)

    def finish(self):
        self.f.truncate(self.f.tell())

    def __getattr__(self, name):
        return getattr(self.f, name)


class FatImage:
    """A FAT32 image made with mkfs.vfat, mounted with `fusefat -o rw+`."""

    def __init__(self, path, mnt, mib=64):
        self.path, self.mnt = path, mnt
        with open(path, "wb") as f:
            f.truncate(mib << 20)
        subprocess.run(["mkfs.vfat", "-F", "32", path], check=True, capture_output=True)
        os.makedirs(mnt, exist_ok=True)
        self.mount()

    def mount(self):
        subprocess.run(["fusefat", "-o", "rw+", self.path, self.mnt], check=True,
                       capture_output=True)

    def umount(self):
        for cmd in (["fusermount3", "-u", self.mnt], ["fusermount", "-u", self.mnt],
                    ["umount", self.mnt]):
            if shutil.which(cmd[0]) and subprocess.run(cmd, capture_output=True).returncode == 0:
                return
        raise AssertionError("cannot unmount " + self.mnt)


def fat_available():
    return shutil.which("mkfs.vfat") and shutil.which("fusefat") and os.path.exists("/dev/fuse")


def drive_state_ok(sabak_dir):
    """Every *.zip on the drive verifies; returns the names."""
    names = sorted(n for n in os.listdir(sabak_dir) if n.endswith(".zip")) \
        if os.path.isdir(sabak_dir) else []
    for n in names:
        p = run("verify", "--quiet", os.path.join(sabak_dir, n))
        if p.returncode != 0:
            raise AssertionError("%s/%s does not verify: %s" % (sabak_dir, n, p.stderr))
    return names
