#!/usr/bin/env python3
"""The picture comes out right: non-square pixels (PAL DV 4:3 and 16:9,
anamorphic DVD) at the right display aspect with square pixels; 10-bit HDR
phone video (HLG, PQ) and full-range (JPEG-style) video at the brightness
of the SDR / limited-range reference; 4K 60 fps down to the tier size and
rate with a bounded peak memory."""
import concurrent.futures
import os
import resource
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mediatest as mt  # noqa: E402
from sabaktest import Checks  # noqa: E402

SRC = "-f lavfi -i testsrc2=s=320x240:r=25:d=2 -f lavfi -i sine=d=2"
A = "-c:a aac"
TO_HDR = ("zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=%s:m=bt2020nc:p=bt2020:r=tv:npl=203,"
          "format=yuv420p10le")
X265 = "-c:v libx265 -preset ultrafast -x265-params log-level=none -tag:v hvc1"
HDR_TAGS = "-color_primaries bt2020 -colorspace bt2020nc -color_trc %s"

# name          file      video (input is testsrc2 320x240)                       audio          want w x h
SHAPES = [
    ("dv-pal-4x3",  "s.dv",  "-s 720x576 -pix_fmt yuv420p -c:v dvvideo -aspect 4:3",  "pcm_s16le", (640, 480)),
    ("dv-pal-16x9", "s.dv",  "-s 720x576 -pix_fmt yuv420p -c:v dvvideo -aspect 16:9", "pcm_s16le", (854, 480)),
    ("dvd-16x9",    "s.vob", "-s 720x576 -c:v mpeg2video -aspect 16:9",                "ac3",       (854, 480)),
    ("dvd-ntsc-4x3", "s.mpg", "-s 720x480 -r 30000/1001 -c:v mpeg2video -aspect 4:3",  "mp2",       (640, 480)),
]

# name          file      video                                                    reference
LEVELS = [
    ("hlg10",       "s.mp4", "-vf %s %s %s" % (TO_HDR % "arib-std-b67", X265, HDR_TAGS % "arib-std-b67")),
    ("pq10",        "s.mp4", "-vf %s %s %s" % (TO_HDR % "smpte2084", X265, HDR_TAGS % "smpte2084")),
    ("mjpeg-full",  "s.avi", "-c:v mjpeg -pix_fmt yuvj420p"),
    ("h264-full",   "s.mp4", "-c:v libx264 -preset ultrafast -pix_fmt yuvj420p -color_range pc"),
]
LUMA_TOL = 0.05


def shape(work, row):
    name, fname, video, audio, want = row
    d = os.path.join(work, name)
    os.makedirs(d)
    mt.ffmpeg("%s %s -c:a %s -ar 48000 -ac 2 %s" % (SRC, video, audio, os.path.join(d, fname)))
    rc, err, b = mt.pack(mt.lesson(work, name, fname), work + "/out", "standard")
    if not b:
        return ["%s: pack failed: %s" % (name, err)]
    v = [s for s in mt.ffprobe(mt.extract(b, "media/standard.mp4", d))["streams"]
         if s["codec_type"] == "video"][0]
    fails = []
    if (v["width"], v["height"]) != want:
        fails.append("%s: %dx%d, want %dx%d" % (name, v["width"], v["height"], *want))
    if v.get("sample_aspect_ratio", "1:1") != "1:1":
        fails.append("%s: pixels not square (%s)" % (name, v.get("sample_aspect_ratio")))
    return fails


def level(work, ref, row):
    name, fname, video = row
    d = os.path.join(work, name)
    os.makedirs(d)
    mt.ffmpeg("%s %s %s %s" % (SRC, video, A, os.path.join(d, fname)))
    rc, err, b = mt.pack(mt.lesson(work, name, fname), work + "/out", "standard")
    if not b:
        return ["%s: pack failed: %s" % (name, err)]
    out = mt.extract(b, "media/standard.mp4", d)
    v = [s for s in mt.ffprobe(out)["streams"] if s["codec_type"] == "video"][0]
    fails = []
    if v.get("pix_fmt") != "yuv420p" or v.get("color_range", "tv") != "tv":
        fails.append("%s: output is %s range %s, want 8-bit limited range"
                     % (name, v.get("pix_fmt"), v.get("color_range")))
    if name.endswith("10") and (v.get("color_transfer"), v.get("color_primaries")) != ("bt709", "bt709"):
        fails.append("%s: output is tagged %s/%s, want bt709" % (name, v.get("color_transfer"),
                                                                v.get("color_primaries")))
    y = mt.mean_luma(out, 1.0)
    if abs(y - ref) > LUMA_TOL * ref:
        fails.append("%s: mean luma %.1f, the reference %.1f (%.1f %%)"
                     % (name, y, ref, 100 * (y - ref) / ref))
    print("%s: mean luma %.1f, reference %.1f" % (name, y, ref))
    return fails


def big(work):
    """4K 60 fps phone footage: tier size and rate, and the packer's peak RSS."""
    d = os.path.join(work, "uhd60")
    os.makedirs(d)
    mt.ffmpeg("-f lavfi -i testsrc2=s=3840x2160:r=60:d=1 -f lavfi -i sine=d=1 -c:v libx264 "
              "-preset ultrafast -pix_fmt yuv420p -c:a aac %s/s.mp4" % d)
    mt.lesson(work, "uhd60", "s.mp4")
    probe = ("import resource,subprocess,sys;"
             "r=subprocess.run(sys.argv[1:]);"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);sys.exit(r.returncode)")
    r = subprocess.run([sys.executable, "-c", probe, mt.SABAK, "pack", d, "-o", work + "/out/",
                        "--quiet", "--tiers", "standard,low"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return ["uhd60: pack failed: %s" % r.stderr]
    rss_mib = int(r.stdout.split()[-1]) / 1024
    b = os.path.join(work, "out", "uhd60-v1.zip")
    fails = []
    m = mt.manifest(b)
    fps = 15 if m["content"] == "screencast" else 30
    for f in m["files"]:
        if f.get("tier") == "standard" and (f["width"], f["height"], f["fps"]) != (854, 480, fps):
            fails.append("uhd60: standard (%s) is %sx%s %s fps" % (m["content"], f["width"],
                                                                   f["height"], f["fps"]))
    # 4K frames are 12 MiB each: a pipeline that queued them would blow far past this
    limit = 700
    if rss_mib > limit:
        fails.append("uhd60: peak RSS %.0f MiB (limit %d)" % (rss_mib, limit))
    print("uhd60: peak RSS of sabak pack %.0f MiB" % rss_mib)
    return fails


def main():
    c = Checks("test_media_picture")
    work = mt.tmpdir("picture")
    os.makedirs(work + "/ref")
    mt.ffmpeg("%s -c:v libx264 -preset ultrafast -pix_fmt yuv420p %s %s/ref/ref.mp4"
              % (SRC, A, work))
    ref = mt.mean_luma(work + "/ref/ref.mp4", 1.0)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        jobs = [("shape " + r[0], ex.submit(shape, work, r)) for r in SHAPES]
        jobs += [("level " + r[0], ex.submit(level, work, ref, r)) for r in LEVELS]
        if not os.environ.get("ASAN_OPTIONS"):  # memory is measured on the release build
            jobs.append(("uhd60", ex.submit(big, work)))
        for name, fut in jobs:
            fails = fut.result()
            c.true(name, not fails, "; ".join(fails))
    c.done()


if __name__ == "__main__":
    main()
