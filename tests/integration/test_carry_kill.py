#!/usr/bin/env python3
"""Power cuts: SIGKILL `sabak export` and `sabak import` at random points.
After each kill the drive and the library hold only complete, verified
bundles (plus resumable .part files on the drive and hidden import parts
that the next import removes); a final run completes with identical bytes.
SABAK_KILL_LOOPS sets the number of kills (20 in make test, 200 in make
stress)."""
import os
import random
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402
from carrytest import drive_state_ok, run, sha_file, synthetic_bundle  # noqa: E402

# 20 in the release build of make test; the ASan build (about 5x slower) does
# fewer, the release build and make stress carry the count.
LOOPS = int(os.environ.get("SABAK_KILL_LOOPS", "6" if "ASAN_OPTIONS" in os.environ else "20"))
FAILURES = []


def check(name, cond, detail=""):
    if not cond:
        FAILURES.append("%s: %s" % (name, detail))
        print("FAIL", name, detail, flush=True)


def library_ok(lib):
    names = sorted(n for n in os.listdir(lib) if n.endswith(".zip"))
    for n in names:
        p = run("verify", "--quiet", os.path.join(lib, n))
        if p.returncode != 0:
            return False, "%s: %s" % (n, p.stderr)
    visible = [n for n in os.listdir(lib) if not n.startswith(".") and not n.endswith(".zip")]
    return not visible, visible


def timed(args):
    t = time.monotonic()
    subprocess.run([st.SABAK, *args], capture_output=True, check=True)
    return time.monotonic() - t


def main():
    rnd = random.Random(int(os.environ.get("SABAK_KILL_SEED", "10")))
    root = st.tmpdir("carry-kill")
    lib = os.path.join(root, "lib")
    os.makedirs(lib)
    srcs = [synthetic_bundle(os.path.join(lib, "kill-%02d-v1.zip" % i), "kill-%02d" % i,
                             media_bytes=(6 + 4 * i) << 20, seed=i) for i in range(3)]
    want = {os.path.basename(s): sha_file(s) for s in srcs}
    drive = os.path.join(root, "drive")
    kiosk = os.path.join(root, "kiosk")
    os.makedirs(drive)
    os.makedirs(kiosk)
    exp = ["export", "--library", lib, "--to", drive]
    imp = ["import", drive, "--library", kiosk, "--name", "Kill test"]
    # how long a whole run takes, to spread the kills over it
    t_exp = timed(exp)
    t_imp = timed(imp)
    kills = 0
    for i in range(LOOPS):
        if i % 2 == 0:
            shutil.rmtree(drive)
            os.makedirs(drive)
            args, span = exp, t_exp
        else:
            shutil.rmtree(kiosk)
            os.makedirs(kiosk)
            args, span = imp, t_imp
        # half of the runs resume what an earlier kill left: kill twice
        for _ in range(1 + (i % 4 == 0)):
            p = subprocess.Popen([st.SABAK, *args], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0, span * 1.1))
            p.kill()
            p.wait()
            kills += 1
            try:
                drive_state_ok(os.path.join(drive, "sabak"))
            except AssertionError as e:
                check("kill %d: drive holds only verified bundles" % i, False, str(e))
            ok, detail = library_ok(kiosk)
            check("kill %d: library holds only verified bundles" % i, ok, detail)
        # the next complete run finishes the job with identical bytes
        p = run(*args)
        check("run %d after kill completes" % i, p.returncode == 0, p.stderr)
        where = os.path.join(drive, "sabak") if args is exp else kiosk
        for n, sha in want.items():
            path = os.path.join(where, n)
            check("run %d: %s identical" % (i, n), os.path.exists(path) and sha_file(path) == sha)
        if args is imp:
            check("run %d: no import leftovers" % i,
                  not [n for n in os.listdir(kiosk) if n.endswith(".import-part")])
        else:
            check("run %d: no .part left" % i,
                  not [n for n in os.listdir(os.path.join(drive, "sabak")) if n.endswith(".part")])
    print("%d kills over %d runs" % (kills, LOOPS))
    print("%d passed, %d failed" % (0 if FAILURES else 1, len(FAILURES)))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
