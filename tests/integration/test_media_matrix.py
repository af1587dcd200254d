#!/usr/bin/env python3
"""The codec x container matrix: what trainers' devices really write, made
with the encoders Debian's FFmpeg has, 2 s each. Every row must pack, pass
`sabak verify`, and its standard tier must decode fully at the right length
and shape. A new row is one line.

Not generated here because Debian's FFmpeg has no encoder for them (their
decoders are on the whitelist, checked by media_test_whitelist): WMV3 and
VC-1, MS-MPEG4 v1, AMR-NB/WB, WMA Pro, Windows Media Voice."""
import concurrent.futures
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mediatest as mt  # noqa: E402
from sabaktest import Checks  # noqa: E402

SRC = "-f lavfi -i testsrc2=s=160x120:r=25:d=2 -f lavfi -i sine=f=440:d=2:sample_rate=44100"
X264 = "-c:v libx264 -preset ultrafast -pix_fmt yuv420p"
PAL = "-s 720x576 -r 25 -pix_fmt yuv420p -c:v dvvideo"
DVA = "-c:a pcm_s16le -ar 48000 -ac 2"

# name              file               video                                               audio                                  display aspect
ROWS = [
    ("divx3-avi",       "c.avi",   "-c:v msmpeg4 -vtag DIV3",                          "-c:a pcm_s16le",                        4 / 3),
    ("msmpeg4v2-avi",   "c.avi",   "-c:v msmpeg4v2",                                   "-c:a adpcm_ima_wav",                    4 / 3),
    ("divx-mpeg4-avi",  "c.avi",   "-c:v mpeg4 -vtag DX50",                            "-c:a libmp3lame",                       4 / 3),
    ("xvid-avi",        "c.avi",   "-c:v libxvid",                                     "-c:a mp2",                              4 / 3),
    ("mjpeg-avi",       "c.avi",   "-c:v mjpeg -pix_fmt yuvj420p",                     "-c:a pcm_u8 -ar 11025 -ac 1",           4 / 3),
    ("mjpeg-adpcm-avi", "c.avi",   "-c:v mjpeg -pix_fmt yuvj422p",                     "-c:a adpcm_ms -ac 1",                   4 / 3),
    ("gsm-avi",         "c.avi",   "-c:v mpeg4",                                       "-c:a libgsm_ms -ar 8000 -ac 1",         4 / 3),
    ("mjpeg-mov",       "c.mov",   "-c:v mjpeg -pix_fmt yuvj420p",                     "-c:a pcm_s16be",                        4 / 3),
    ("dv-pal43-dv",     "c.dv",    PAL + " -aspect 4:3",                               DVA,                                     4 / 3),
    ("dv-pal169-avi",   "c.avi",   PAL + " -aspect 16:9",                              DVA,                                     16 / 9),
    ("dv-ntsc-mov",     "c.mov",   "-s 720x480 -r 30000/1001 -pix_fmt yuv411p -c:v dvvideo -aspect 4:3", DVA,                   4 / 3),
    ("mpeg1-mpg",       "c.mpg",   "-c:v mpeg1video",                                  "-c:a mp2",                              4 / 3),
    ("mpeg2-vob",       "c.vob",   "-c:v mpeg2video -aspect 16:9 -s 720x480",          "-c:a ac3",                              16 / 9),
    ("mpeg2-dvdpcm-vob", "c.vob",  "-c:v mpeg2video",                                  "-c:a pcm_dvd -ar 48000",                4 / 3),
    ("mpeg2-ts",        "c.ts",    "-c:v mpeg2video",                                  "-c:a mp2",                              4 / 3),
    ("h264-m2ts",       "c.m2ts",  X264 + " -mpegts_m2ts_mode 1",                      "-c:a ac3",                              4 / 3),
    ("h263-3gp",        "c.3gp",   "-c:v h263 -s 176x144",                             "-c:a aac -ar 8000 -ac 1",               None),
    ("h263p-mov",       "c.mov",   "-c:v h263p",                                       "-c:a pcm_alaw -ar 8000 -ac 1",          4 / 3),
    ("mpeg4-3gp",       "c.3gp",   "-c:v mpeg4",                                       "-c:a aac -ar 16000 -ac 1",              4 / 3),
    ("flv1-flv",        "c.flv",   "-c:v flv",                                         "-c:a adpcm_swf -ar 22050",              4 / 3),
    ("h264-flv",        "c.flv",   X264,                                               "-c:a aac",                              4 / 3),
    ("wmv1-asf",        "c.asf",   "-c:v wmv1",                                        "-c:a wmav1",                            4 / 3),
    ("wmv2-wmv",        "c.wmv",   "-c:v wmv2",                                        "-c:a wmav2",                            4 / 3),
    ("theora-ogv",      "c.ogv",   "-c:v libtheora",                                   "-c:a libvorbis",                        4 / 3),
    ("vp8-webm",        "c.webm",  "-c:v libvpx -deadline realtime",                   "-c:a libvorbis",                        4 / 3),
    ("vp9-webm",        "c.webm",  "-c:v libvpx-vp9 -deadline realtime -cpu-used 8",   "-c:a libopus",                          4 / 3),
    ("av1-mkv",         "c.mkv",   "-c:v libsvtav1 -preset 12",                        "-c:a libopus",                          4 / 3),
    ("av1-mp4",         "c.mp4",   "-c:v libaom-av1 -cpu-used 8 -usage realtime",      "-c:a aac",                              4 / 3),
    ("h264-mp4",        "c.mp4",   X264,                                               "-c:a aac",                              4 / 3),
    ("h264-8khz-mp4",   "c.mp4",   X264,                                               "-c:a aac -ar 8000 -ac 1",               4 / 3),
    ("h264-alac-mov",   "c.mov",   X264,                                               "-c:a alac",                             4 / 3),
    ("h264-mulaw-mov",  "c.mov",   X264,                                               "-c:a pcm_mulaw -ar 8000 -ac 1",         4 / 3),
    ("h264-flac-mkv",   "c.mkv",   X264,                                               "-c:a flac",                             4 / 3),
    ("h264-f32-71-mkv", "c.mkv",   X264,                                               "-c:a pcm_f32le -ac 8",                  4 / 3),
    ("h264-s24be-mov",  "c.mov",   X264,                                               "-c:a pcm_s24be -ar 96000",              4 / 3),
    ("hevc-mp4",        "c.mp4",   "-c:v libx265 -preset ultrafast -tag:v hvc1 -x265-params log-level=none", "-c:a aac",        4 / 3),
    ("hevc-eac3-mkv",   "c.mkv",   "-c:v libx265 -preset ultrafast -x265-params log-level=none", "-c:a eac3 -ac 6",             4 / 3),
    ("hevc10-mov",      "c.mov",   "-c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -tag:v hvc1 -x265-params log-level=none", "-c:a aac -ac 6", 4 / 3),
    ("prores-mov",      "c.mov",   "-c:v prores_ks -profile:v 2",                      "-c:a pcm_s24le",                        4 / 3),
    ("qtrle-mov",       "c.mov",   "-c:v qtrle",                                       "-c:a pcm_s16le",                        4 / 3),
    ("mpeg4-mkv",       "c.mkv",   "-c:v mpeg4",                                       "-c:a ac3 -ac 6",                        4 / 3),
    ("mpeg2-32k-mpg",   "c.mpg",   "-c:v mpeg2video",                                  "-c:a mp2 -ar 32000",                    4 / 3),
]


def one(work, row):
    name, fname, video, audio, dar = row
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, fname)
    try:
        mt.ffmpeg("%s %s %s -t 2 %s" % (SRC, video, audio, src))
    except RuntimeError as e:
        return ["%s: cannot generate the source: %s" % (name, e)]
    rc, err, bundle = mt.pack(mt.lesson(work, name, fname), os.path.join(work, "out"))
    if not bundle:
        return ["%s: sabak pack failed (%d): %s" % (name, rc, err.strip())]
    fails = []
    rc, out = mt.verify(bundle)
    if rc != 0:
        fails.append("%s: sabak verify failed: %s" % (name, out.strip()))
    std = mt.extract(bundle, "media/standard.mp4", d)
    ok, msg = mt.decode_fully(std)
    if not ok:
        fails.append("%s: standard tier does not decode: %s" % (name, msg))
    info = mt.ffprobe(std)
    dur = float(info["format"]["duration"])
    if abs(dur - 2.0) > 0.15:
        fails.append("%s: standard tier lasts %.3f s, source 2 s" % (name, dur))
    kinds = sorted(s["codec_type"] for s in info["streams"])
    if kinds != ["audio", "video"]:
        fails.append("%s: standard tier has streams %s" % (name, kinds))
    v = [s for s in info["streams"] if s["codec_type"] == "video"][0]
    if dar and abs(v["width"] / v["height"] - dar) > 0.02:
        fails.append("%s: standard tier is %dx%d, display aspect should be %.3f"
                     % (name, v["width"], v["height"], dar))
    if v.get("sample_aspect_ratio", "1:1") not in ("1:1", "0:1"):
        fails.append("%s: pixels are not square (%s)" % (name, v.get("sample_aspect_ratio")))
    m = mt.manifest(bundle)
    if not (m.get("audio") or {}).get("present"):
        fails.append("%s: manifest says %r about the sound" % (name, m.get("audio")))
    if not any(f.get("tier") == "audio" for f in m["files"]):
        fails.append("%s: no audio tier" % name)
    return fails


def main():
    c = Checks("test_media_matrix")
    work = mt.tmpdir("matrix")
    only = os.environ.get("MATRIX_ONLY")
    rows = [r for r in ROWS if not only or r[0] in only.split(",")]
    if os.environ.get("ASAN_OPTIONS") and not only:
        # Under the sanitizers every row runs sabak's same code around a
        # different (uninstrumented) FFmpeg demuxer and decoder: a third of
        # the rows keeps make test's time in bounds; the release run has all.
        rows = rows[::3]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for row, fails in zip(rows, ex.map(lambda r: one(work, r), rows)):
            c.true("row %s (%s)" % (row[0], row[1]), not fails, "; ".join(fails))
    c.done()


if __name__ == "__main__":
    main()
