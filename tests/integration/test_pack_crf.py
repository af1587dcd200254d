#!/usr/bin/env python3
"""Each video tier aims at a quality, not a CRF: a still slide gets a higher
CRF than noisy motion; the manifest records the CRF, how it was set and the
sampled SSIM-Y; `sabak info` shows them; the search is deterministic (two
packs, the same bytes); --crf sets a tier's CRF without the search."""
import hashlib
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mediatest as mt  # noqa: E402
from sabaktest import Checks  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
AUDIO = "-f lavfi -i sine=f=220:d=6 -c:a aac -shortest"
# a still slide (screencast) and noisy motion (camera), 640x360, 6 s
EASY = ("-f lavfi -i color=c=white:s=640x360:r=15:d=6,drawtext=fontfile=%s:text='Budget 2026':"
        "fontsize=36:x=40:y=40,drawbox=x=40:y=140:w=300:h=120:c=blue@0.5:t=fill "
        "%s -c:v libx264 -preset ultrafast -qp 10 -pix_fmt yuv420p" % (FONT, AUDIO))
HARD = ("-f lavfi -i testsrc2=s=640x360:r=25:d=6,noise=alls=10:allf=t %s "
        "-c:v libx264 -preset ultrafast -qp 10 -pix_fmt yuv420p" % AUDIO)


def video_file(m, tier):
    return [f for f in m["files"] if f.get("tier") == tier][0]


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    c = Checks("test_pack_crf")

    def check(cond, what, detail=""):
        c.true(what, bool(cond), str(detail)[-600:])
    root = mt.tmpdir("pack-crf")
    for name, src in (("easy", EASY), ("hard", HARD)):
        os.makedirs(os.path.join(root, name))
        mt.ffmpeg("%s %s" % (src, os.path.join(root, name, "rec.mp4")))
        mt.lesson(root, name, "rec.mp4")
    got = {}
    for name in ("easy", "hard"):
        rc, err, z = mt.pack(os.path.join(root, name), os.path.join(root, "out-" + name))
        check(rc == 0 and z, "%s packs" % name, err)
        if not z:
            continue
        m = mt.manifest(z)
        f = video_file(m, "standard")
        q = f.get("quality") or {}
        got[name] = (f.get("crf"), q.get("ssim_y"), z)
        check(isinstance(f.get("crf"), int) and 26 <= f["crf"] <= 40,
                "%s: the manifest has the chosen CRF (%s)" % (name, f.get("crf")))
        check(f.get("crf_from") == "search", "%s: crf_from is search" % name, f.get("crf_from"))
        check(q.get("metric") == "ssim-y-sampled" and 0 < q.get("ssim_y", 0) <= 1
                and 0 < q.get("ssim_y_min", 0) <= q["ssim_y"] + 1e-9,
                "%s: the manifest has the sampled quality" % name, q)
        audio = video_file(m, "audio")
        check("crf" not in audio and "quality" not in audio, "%s: no CRF on the audio tier" % name)
        r = mt.run([mt.SABAK, "info", z])
        out = r.stdout.decode()
        want = re.search(r"standard\.mp4 .*CRF %s \(chosen\)\s+SSIM-Y (0\.\d{3})" % f.get("crf"), out)
        check(r.returncode == 0 and want and abs(float(want.group(1)) - q.get("ssim_y", 0)) < 0.0006,
                "%s: sabak info shows the CRF and SSIM-Y" % name, out)
        check(mt.verify(z)[0] == 0, "%s: the bundle verifies" % name)
    if len(got) == 2:
        (ce, se, ze), (ch, sh, zh) = got["easy"], got["hard"]
        print("# easy: CRF %s SSIM-Y %s; hard: CRF %s SSIM-Y %s" % (ce, se, ch, sh))
        check(ce > ch, "the still slide gets a higher CRF than noisy motion (%s > %s)" % (ce, ch))
        check(se > sh, "and its sampled SSIM-Y is higher")
        # the search is deterministic: the same input gives the same bytes
        rc, err, z2 = mt.pack(os.path.join(root, "easy"), os.path.join(root, "again"))
        check(z2 and sha(z2) == sha(ze), "two packs of the same lesson are byte-identical", err)
    # --crf: that CRF, no search, said so
    os.makedirs(os.path.join(root, "set"))
    r = mt.run([mt.SABAK, "pack", os.path.join(root, "easy"), "-o", os.path.join(root, "set") + "/",
                "--tiers", "standard,low,audio", "--crf", "standard=27", "--crf", "low=41",
                "--quiet", "--jobs", "1"])
    z = os.path.join(root, "set", "easy-v1.zip")
    check(r.returncode == 0 and os.path.exists(z), "pack --crf works", r.stderr.decode())
    if os.path.exists(z):
        m = mt.manifest(z)
        for tier, crf in (("standard", 27), ("low", 41)):
            f = video_file(m, tier)
            check(f.get("crf") == crf and f.get("crf_from") == "option" and "quality" not in f,
                    "--crf %s=%d is recorded as set, without a quality" % (tier, crf), f)
        out = mt.run([mt.SABAK, "info", z]).stdout.decode()
        check("CRF 27 (set by --crf)" in out, "sabak info says the CRF was set", out)
    for bad in ("standard=abc", "standard=0", "audio=30", "nosuch=30", "standard"):
        r = mt.run([mt.SABAK, "pack", os.path.join(root, "easy"), "-o", os.path.join(root, "bad") + "/",
                    "--crf", bad, "--quiet"])
        err = r.stderr.decode()
        check(r.returncode == 1 and "--crf" in err and len(err.strip().splitlines()) == 1,
                "--crf %s is refused with one line naming --crf" % bad, err)
    c.done()


if __name__ == "__main__":
    main()
