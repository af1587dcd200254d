#!/usr/bin/env python3
"""Mutated media (issue 9, "keep it proven"): zzuf-mutated copies of small
MP4 (with a mov_text subtitle stream), MKV (with SubRip), WebM and AVI
sources go through `sabak pack` built with ASan+UBSan, each under a time
limit. Every run must end in a bundle or in exit status 1 with one line
"sabak: ..."; a crash, a sanitizer report or a hang fails the test (the
seed is printed, so a failure can be replayed).

Runs only under the ASan build (ASAN_OPTIONS is set by ctest there): the
release run would add time and find less. SABAK_ZZUF_RUNS (default 48,
spread over the four formats) and SABAK_ZZUF_FROM (first seed, default 0)
let `make stress` run hundreds more with other seeds."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from sabaktest import Checks

SABAK = os.environ.get("SABAK", "build/sabak")
TMP_ROOT = os.environ.get("SABAK_TEST_TMP", tempfile.gettempdir())
LIMIT = 120  # seconds per run under ASan; a 1 s source packs in about 2

SOURCES = {
    "mp4": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "sine=d=1",
            "-i", "{srt}", "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-c:s", "mov_text",
            "-metadata:s:s:0", "language=kir"],
    "mkv": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "sine=d=1",
            "-i", "{srt}", "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-c:s", "srt",
            "-metadata:s:s:0", "language=rus"],
    "webm": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "sine=d=1",
             "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "200k", "-c:a", "libopus"],
    "avi": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "sine=d=1",
            "-c:v", "mpeg4", "-c:a", "pcm_s16le"],
}

SRT = "1\n00:00:00,100 --> 00:00:00,800\nСаламатсызбы\n"


def mutate(src, dst, seed):
    """A zzuf copy: ratios from 1e-4 to 1e-2; every other seed keeps the
    first 64 bytes, so the demuxer gets past its probe and deeper code is
    reached."""
    ratio = [0.0001, 0.0005, 0.002, 0.01][seed % 4]
    cmd = ["zzuf", "-s", str(seed), "-r", str(ratio)]
    if seed % 2:
        cmd += ["-b", "64-"]
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        subprocess.run(cmd + ["cat"], stdin=fin, stdout=fout, check=True)


def main():
    if "ASAN_OPTIONS" not in os.environ and not os.environ.get("SABAK_ZZUF_ANY"):
        print("skipped: runs under the ASan build (make test runs it there)")
        return
    if not shutil.which("zzuf"):
        print("FAIL zzuf is not installed (tools/install-deps)")
        sys.exit(1)
    runs = int(os.environ.get("SABAK_ZZUF_RUNS", "48"))
    first = int(os.environ.get("SABAK_ZZUF_FROM", "0"))
    c = Checks("pack of mutated media")
    os.makedirs(TMP_ROOT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="pack-zzuf-", dir=TMP_ROOT)
    outcomes = {"packed": 0, "refused": 0}
    t0 = time.monotonic()
    try:
        srt = os.path.join(tmp, "sub.srt")
        with open(srt, "w", encoding="utf-8") as f:
            f.write(SRT)
        src = {}
        for ext, args in SOURCES.items():
            src[ext] = os.path.join(tmp, "src." + ext)
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y"] +
                           [a.replace("{srt}", srt) for a in args] + ["-shortest", src[ext]],
                           check=True)
        exts = sorted(SOURCES)
        for i in range(runs):
            seed = first + i
            ext = exts[seed % len(exts)]
            lesson = os.path.join(tmp, "L")
            shutil.rmtree(lesson, ignore_errors=True)
            os.makedirs(lesson)
            mutate(src[ext], os.path.join(lesson, "recording." + ext), seed)
            with open(os.path.join(lesson, "lesson.ini"), "w", encoding="utf-8") as f:
                f.write("[lesson]\nid = z\nversion = 1\nvideo = recording.%s\n[title]\nru = z\n" % ext)
            out = os.path.join(lesson, "out")
            os.makedirs(out)
            name = "seed %d (%s)" % (seed, ext)
            try:
                r = subprocess.run([SABAK, "pack", lesson, "-o", out + "/", "--tiers", "low",
                                    "--jobs", "1", "--quiet"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, errors="replace",
                                   timeout=LIMIT)
            except subprocess.TimeoutExpired:
                c.true(name + ": finishes within %d s" % LIMIT, False)
                continue
            c.true(name + ": no sanitizer report",
                   "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-3000:])
            lines = [l for l in r.stderr.splitlines() if l]
            if r.returncode == 0:
                outcomes["packed"] += 1
                c.eq(name + ": the bundle is there", sorted(os.listdir(out)), ["z-v1.zip"])
            else:
                outcomes["refused"] += 1
                c.eq(name + ": exit status", r.returncode, 1)
                c.true(name + ": one line 'sabak: ...'",
                       len(lines) == 1 and lines[0].startswith("sabak: "), repr(r.stderr[-800:]))
                c.eq(name + ": nothing left at the output", sorted(os.listdir(out)), [])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d runs (seeds %d-%d) in %.0f s: %d packed, %d refused with a one-line error" %
          (runs, first, first + runs - 1, time.monotonic() - t0, outcomes["packed"],
           outcomes["refused"]))
    c.done()


if __name__ == "__main__":
    main()
