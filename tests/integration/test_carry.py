#!/usr/bin/env python3
"""sabak export / import onto drives: round trips onto a plain folder and a
FAT32 image (mkfs.vfat + fusefat), the 4 GiB rule on FAT (sparse bundle),
a drive that fills up mid-copy (tmpfs), resume after SIGKILL at ~50 %, and
the order write -> fsync -> rename -> fsync(dir) seen with strace."""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402
from carrytest import (FatImage, drive_state_ok, fat_available, run, sha_file,  # noqa: E402
                       synthetic_bundle)

FAILURES = []
# LeakSanitizer cannot run under ptrace: no leak check in the strace runs.
STRACE_ENV = dict(os.environ)
if "ASAN_OPTIONS" in STRACE_ENV:
    STRACE_ENV["ASAN_OPTIONS"] = STRACE_ENV["ASAN_OPTIONS"].replace("detect_leaks=1", "detect_leaks=0")


def check(name, cond, detail=""):
    if not cond:
        FAILURES.append("%s: %s" % (name, detail))
        print("FAIL", name, detail, flush=True)
    else:
        print("ok  ", name, flush=True)


def library_with_real_lessons(root):
    lib = os.path.join(root, "lib")
    os.makedirs(lib)
    st.copy_bundle(st.packed_bundle("budget-01", 1), lib, "budget-01-v1.zip")
    st.copy_bundle(st.packed_bundle("website-01", 1, title_ru="Сайт айыл окмоту", topic="web"),
                   lib, "website-01-v1.zip")
    return lib


def round_trip(label, lib, mount, root):
    p = run("export", "--library", lib, "--to", mount)
    check(label + ": export exits 0", p.returncode == 0, p.stderr)
    sd = os.path.join(mount, "sabak")
    names = drive_state_ok(sd)
    check(label + ": both bundles on the drive", names == ["budget-01-v1.zip", "website-01-v1.zip"],
          names)
    for n in names:
        check(label + ": %s identical to the library's" % n,
              sha_file(os.path.join(sd, n)) == sha_file(os.path.join(lib, n)))
    check(label + ": no .part left", not [n for n in os.listdir(sd) if n.endswith(".part")])
    check(label + ": browsable catalog", os.path.isfile(os.path.join(sd, "index.html")))
    for lid in ("budget-01", "website-01"):
        d = os.path.join(sd, "lessons", lid + "-v1")
        check(label + ": %s unpacked" % lid,
              all(os.path.isfile(os.path.join(d, f)) for f in
                  ("index.html", "manifest.json", "media/low.mp4", "subtitles/ru.vtt")))
    page = open(os.path.join(sd, "index.html"), encoding="utf-8").read()
    check(label + ": catalog holds the Cyrillic titles", "Сайт айыл окмоту" in page)
    check(label + ": catalog makes no network request",
          not re.search(r"(src|href)=\"https?:", page) and "fetch(" not in page)
    # again: nothing is copied twice
    p = run("export", "--library", lib, "--to", mount)
    check(label + ": second export skips both", p.returncode == 0 and
          p.stdout.count("already on the drive") == 2 and "copied" not in p.stdout, p.stdout)
    # import into a kiosk library
    kiosk = os.path.join(root, "kiosk-" + label)
    os.makedirs(kiosk)
    p = run("import", mount, "--library", kiosk, "--name", "Office " + label)
    check(label + ": import exits 0", p.returncode == 0, p.stderr)
    got = sorted(n for n in os.listdir(kiosk) if n.endswith(".zip"))
    check(label + ": import brought both", got == names, got)
    for n in got:
        check(label + ": imported %s identical" % n,
              sha_file(os.path.join(kiosk, n)) == sha_file(os.path.join(lib, n)))
    before = {n: os.stat(os.path.join(kiosk, n)).st_ino for n in got}
    p = run("import", mount, "--library", kiosk)
    after = {n: os.stat(os.path.join(kiosk, n)).st_ino for n in os.listdir(kiosk) if n.endswith(".zip")}
    check(label + ": a repeated import changes nothing", p.returncode == 0 and before == after and
          "copied" not in p.stdout, p.stdout + p.stderr)
    check(label + ": office record on the drive",
          len(os.listdir(os.path.join(sd, "offices"))) == 1)


def test_tiers(root, lib):
    drive = os.path.join(root, "drive-tiers")
    os.makedirs(drive)
    p = run("export", "--library", lib, "--to", drive, "--lesson", "budget-01", "--tiers",
            "low,audio")
    check("tiers: export exits 0", p.returncode == 0, p.stderr)
    b = os.path.join(drive, "sabak", "budget-01-v1-low+audio.zip")
    check("tiers: reduced bundle verifies", run("verify", b).returncode == 0)
    m = st.manifest(b)
    tiers = sorted(f.get("tier") for f in m["files"] if f["kind"] in ("video", "audio"))
    check("tiers: only low and audio", tiers == ["audio", "low"], tiers)
    check("tiers: says it is reduced", m.get("reduced_from", {}).get("tiers") == ["low", "audio"],
          m.get("reduced_from"))
    full = os.path.join(lib, "budget-01-v1.zip")
    check("tiers: media bytes unchanged",
          st.entry_bytes(b, "media/low.mp4") == st.entry_bytes(full, "media/low.mp4"))
    check("tiers: unknown lesson refused",
          run("export", "--library", lib, "--to", drive, "--lesson", "nope").returncode == 1)


def test_fat(root):
    if not fat_available():
        check("fat: mkfs.vfat, fusefat and /dev/fuse are installed (tools/install-deps)", False)
        return
    lib = library_with_real_lessons(os.path.join(root, "fat"))
    img = FatImage(os.path.join(root, "fat", "usb.img"), os.path.join(root, "fat", "mnt"))
    try:
        info = open("/proc/self/mountinfo").read()
        check("fat: mounted as fuse.fusefat", "fuse.fusefat" in info)
        round_trip("fat", lib, img.mnt, os.path.join(root, "fat"))
        # the 4 GiB rule, with a sparse bundle holding a 4 GiB entry
        big = os.path.join(root, "fat", "biglib")
        os.makedirs(big)
        synthetic_bundle(os.path.join(big, "huge-01-v1.zip"), "huge-01", media_bytes=0,
                         sparse_big=(4 << 30))
        p = run("export", "--library", big, "--to", img.mnt, "--no-browsable")
        check("fat: a 4 GiB bundle is refused", p.returncode == 1 and "FAT32" in p.stderr and
              "--tiers" in p.stderr and "exFAT" in p.stderr, p.stderr)
        check("fat: nothing of it written",
              not [n for n in os.listdir(os.path.join(img.mnt, "sabak")) if n.startswith("huge")])
        img.umount()
        img.mount()
        check("fat: bundles still verify after remounting",
              len(drive_state_ok(os.path.join(img.mnt, "sabak"))) == 2)
    finally:
        img.umount()


def test_disk_full(root):
    """A real tmpfs fills while the copy runs (each write slowed by strace
    so the filler gets in): a clear error, nothing half-visible, the
    library untouched."""
    base = os.path.join(root, "full")
    lib, mnt = os.path.join(base, "lib"), os.path.join(base, "mnt")
    os.makedirs(lib)
    os.makedirs(mnt)
    src = synthetic_bundle(os.path.join(lib, "big-01-v1.zip"), "big-01", media_bytes=8 << 20)
    before = sha_file(src)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt]).returncode != 0:
        check("full: tmpfs mount (needs root)", False)
        return
    try:
        proc = subprocess.Popen(["strace", "-o", "/dev/null", "-e", "trace=pwrite64",
                                 "-e", "inject=pwrite64:delay_exit=150000", st.SABAK, "export",
                                 "--library", lib, "--to", mnt, "--no-browsable", "--margin", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=STRACE_ENV)
        part = os.path.join(mnt, "sabak", "big-01-v1.zip.part")
        deadline = time.monotonic() + 60
        while not os.path.exists(part) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        with open(os.path.join(mnt, "filler"), "wb") as f:
            try:
                while True:
                    f.write(bytes(1 << 16))
                    f.flush()
            except OSError:
                pass
        out, err = proc.communicate(timeout=120)
        check("full: export fails with a clear message", proc.returncode == 1 and
              "the drive is full" in err, err)
        left = sorted(os.listdir(os.path.join(mnt, "sabak")))
        check("full: nothing half-visible on the drive", left == [], left)
        check("full: the library is intact", sha_file(src) == before)
    finally:
        subprocess.run(["umount", mnt])
    # the same drive, too small from the start: refused before copying
    os.makedirs(os.path.join(base, "d2"))
    p = run("export", "--library", lib, "--to", os.path.join(base, "d2"), "--margin", "1000000")
    check("full: too little room is refused up front", p.returncode == 1 and
          "MB free but these lessons need" in p.stderr, p.stderr)


def test_resume(root):
    base = os.path.join(root, "resume")
    lib, drive = os.path.join(base, "lib"), os.path.join(base, "drive")
    os.makedirs(lib)
    os.makedirs(drive)
    src = synthetic_bundle(os.path.join(lib, "big-02-v1.zip"), "big-02", media_bytes=16 << 20, seed=2)
    # SIGKILL on the 9th 1 MiB write: about half of the bundle is on the drive
    subprocess.run(["strace", "-o", "/dev/null", "-e", "trace=pwrite64",
                    "-e", "inject=pwrite64:signal=SIGKILL:when=9", st.SABAK, "export",
                    "--library", lib, "--to", drive, "--no-browsable"], capture_output=True, env=STRACE_ENV)
    sd = os.path.join(drive, "sabak")
    part = os.path.join(sd, "big-02-v1.zip.part")
    psize = os.path.getsize(part) if os.path.exists(part) else 0
    check("resume: a .part of about half is left", (6 << 20) <= psize <= (10 << 20), psize)
    check("resume: no bundle visible yet", not os.path.exists(os.path.join(sd, "big-02-v1.zip")))
    p = run("export", "--library", lib, "--to", drive, "--no-browsable")
    m = re.search(r"resumed big-02-v1.zip: continued from byte (\d+)", p.stdout)
    check("resume: continued from the .part", p.returncode == 0 and m and int(m.group(1)) > 0,
          p.stdout + p.stderr)
    check("resume: identical bytes", sha_file(os.path.join(sd, "big-02-v1.zip")) == sha_file(src))
    # a .part that does not match the source is started over
    shutil.copyfile(src, part)
    with open(part, "r+b") as f:
        f.write(b"garbage!")
    os.unlink(os.path.join(sd, "big-02-v1.zip"))
    p = run("export", "--library", lib, "--to", drive, "--no-browsable")
    check("resume: a foreign .part is not trusted", p.returncode == 0 and "resumed" not in p.stdout
          and sha_file(os.path.join(sd, "big-02-v1.zip")) == sha_file(src), p.stdout + p.stderr)


def test_strace_order(root):
    """Each published file: its last write, then fsync of it, then the
    rename, then fsync of its folder."""
    base = os.path.join(root, "strace")
    lib = library_with_real_lessons(base)
    drive = os.path.join(base, "drive")
    os.makedirs(drive)
    log = os.path.join(base, "trace")
    r = subprocess.run(["strace", "-f", "-y", "-o", log, "-e",
                        "trace=write,pwrite64,fsync,fdatasync,rename,renameat,renameat2,openat,close",
                        st.SABAK, "export", "--library", lib, "--to", drive], capture_output=True,
                       env=STRACE_ENV)
    check("strace: export under strace exits 0", r.returncode == 0, r.stderr)
    lines = open(log).read().splitlines()
    renames = []
    for i, line in enumerate(lines):
        m = re.search(r'rename(?:at2?)?\((?:AT_FDCWD(?:<[^>]*>)?, )?"([^"]+)", (?:AT_FDCWD(?:<[^>]*>)?, )?"([^"]+)"', line)
        if m and "= 0" in line:
            renames.append((i, m.group(1), m.group(2)))
    published = [x for x in renames if not os.path.isdir(os.path.join(drive, x[2])) and
                 not os.path.isdir(x[2])]
    check("strace: bundles, catalog and lesson files are published",
          sum(1 for x in published if x[2].endswith(".zip")) == 2 and
          any(x[2].endswith("index.html") for x in published), [x[2] for x in published])
    for i, old, new in published:
        old_abs = os.path.realpath(old if os.path.isabs(old) else os.path.join(os.getcwd(), old))
        name = os.path.basename(old)
        writes = [k for k in range(i) if re.match(r"\d+ +(p?write(64)?)\(\d+<[^>]*%s>" % re.escape(name), lines[k])]
        syncs = [k for k in range(i) if re.match(r"\d+ +f(data)?sync\(\d+<[^>]*%s>" % re.escape(name), lines[k])]
        folder = os.path.dirname(os.path.realpath(new if os.path.isabs(new) else os.path.join(os.getcwd(), new)))
        dsyncs = [k for k in range(i + 1, len(lines)) if re.match(r"\d+ +fsync\(\d+<%s>\)" % re.escape(folder), lines[k])]
        ok = writes and syncs and syncs[-1] > writes[-1] and dsyncs
        check("strace: write -> fsync -> rename -> fsync(dir) for %s" % os.path.basename(new),
              ok, "writes %s syncs %s dirsyncs %s (%s)" % (writes[-1:], syncs[-1:], dsyncs[:1], old_abs))


def main():
    root = st.tmpdir("carry")
    lib = library_with_real_lessons(root)
    plain = os.path.join(root, "plain-drive")
    os.makedirs(plain)
    round_trip("folder", lib, plain, root)
    test_tiers(root, lib)
    test_fat(root)
    test_disk_full(root)
    test_resume(root)
    test_strace_order(root)
    n_checks = 0
    print("%d failed" % len(FAILURES))
    if FAILURES:
        for f in FAILURES:
            print("FAIL:", f)
        sys.exit(1)
    del n_checks


if __name__ == "__main__":
    main()
