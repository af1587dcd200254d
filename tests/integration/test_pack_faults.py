#!/usr/bin/env python3
"""Injected faults (issue 9, "keep it proven"): ENOSPC and EIO on write(2),
EIO on fsync(2), and short writes (write returning 0, i.e. no progress),
injected with `strace -e inject=...` into a real `sabak pack`. Every run
must end in a bundle that `sabak verify` accepts, or in exit status 1 with
one line "sabak: ..." and nothing visible at the output (no bundle, no
temporary file, no work folder).

strace counts a syscall's calls per thread; `when=N` fails the N-th call of
each thread once, so every N hits a different mix of poster, rendition,
bundle and fsync writes."""
import os
import shutil
import subprocess
import tempfile

from sabaktest import Checks

SABAK = os.environ.get("SABAK", "build/sabak")
TMP_ROOT = os.environ.get("SABAK_TEST_TMP", tempfile.gettempdir())

# LeakSanitizer cannot run under ptrace: leaks stay checked by every run
# of the other tests, which are not traced.
TRACED_ENV = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")

CASES = ([("write", "error=ENOSPC", n) for n in (1, 2, 3, 4, 5, 6, 8)] +
         [("write", "error=EIO", n) for n in (2, 5)] +
         [("fsync", "error=EIO", n) for n in (1, 3, 5)] +
         [("write", "retval=0", n) for n in (1, 3, 5, 7)])


def main():
    c = Checks("pack under injected faults")
    os.makedirs(TMP_ROOT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="pack-faults-", dir=TMP_ROOT)
    try:
        lesson = os.path.join(tmp, "L")
        os.makedirs(os.path.join(lesson, "subtitles"))
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=2",
                        "-f", "lavfi", "-i", "sine=d=2", "-c:v", "libx264", "-preset", "ultrafast",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                        os.path.join(lesson, "recording.mp4")], check=True)
        with open(os.path.join(lesson, "lesson.ini"), "w", encoding="utf-8") as f:
            f.write("[lesson]\nid = faults\nversion = 1\nvideo = recording.mp4\n[title]\nru = Сбой\n")
        with open(os.path.join(lesson, "subtitles", "ru.srt"), "w", encoding="utf-8") as f:
            f.write("1\n00:00:00,200 --> 00:00:01,500\nПривет\n")
        failed = {"ENOSPC": 0, "EIO": 0}
        for i, (call, what, n) in enumerate(CASES):
            name = "%s:%s:when=%d" % (call, what, n)
            out = os.path.join(tmp, "out%d" % i)
            os.makedirs(out)
            r = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + call,
                                "-e", "inject=%s:%s:when=%d" % (call, what, n),
                                SABAK, "pack", lesson, "-o", out + "/", "--tiers", "low,audio",
                                "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=600, env=TRACED_ENV)
            left = sorted(os.listdir(out))
            c.true(name + ": no sanitizer report",
                   "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-2000:])
            if r.returncode == 0:
                c.eq(name + ": only the bundle", left, ["faults-v1.zip"])
                v = subprocess.run([SABAK, "verify", os.path.join(out, "faults-v1.zip")],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                c.eq(name + ": the bundle verifies", (v.returncode, v.stderr), (0, ""))
            else:
                lines = [l for l in r.stderr.splitlines() if l]
                c.eq(name + ": exit status", r.returncode, 1)
                c.true(name + ": one line 'sabak: ...'",
                       len(lines) == 1 and lines[0].startswith("sabak: "), repr(r.stderr[-500:]))
                c.eq(name + ": nothing left at the output", left, [])
                if "disk is full" in r.stderr:
                    failed["ENOSPC"] += 1
                if "Input/output error" in r.stderr:
                    failed["EIO"] += 1
            print("%-28s -> %d %s" % (name, r.returncode, r.stderr.strip()[:150]))
        # The injection must have hit: else this test proves nothing.
        c.true("some runs failed with 'disk is full'", failed["ENOSPC"] >= 3, str(failed))
        c.true("some runs failed with an I/O error", failed["EIO"] >= 2, str(failed))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
