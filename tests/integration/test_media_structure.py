#!/usr/bin/env python3
"""Recordings whose structure used to trip the packer: no audio track, two
audio tracks chosen by audio_language, a subtitle track longer than the
picture (MKV written with -shortest), cover art in an MP4, an edit list;
and the errors that must stay errors, each naming its real cause."""
import concurrent.futures
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mediatest as mt  # noqa: E402
from sabaktest import Checks  # noqa: E402

V = "-f lavfi -i testsrc2=s=160x120:r=25:d=3"
X264 = "-c:v libx264 -preset ultrafast -pix_fmt yuv420p"
SRT = """1
00:00:00,500 --> 00:00:02,000
Саламатсыздарбы

2
00:00:40,000 --> 00:00:55,000
Бул субтитр видеодон узунураак
"""


def info(bundle):
    r = subprocess.run([mt.SABAK, "info", bundle], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return r.stdout


def tone(path):
    """Dominant frequency of the first audio stream (zero crossings / 2 over 1 s)."""
    x = mt.samples(path, 8000)[8000:16000]
    return sum(1 for a, b in zip(x, x[1:]) if (a < 0) != (b < 0)) / 2


def src(work, name, fname, args):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    mt.ffmpeg(args.replace("{d}", d) + " " + os.path.join(d, fname))
    return fname


def no_audio(work, c):
    f = src(work, "no-audio", "s.mp4", "%s %s" % (V, X264))
    rc, err, b = mt.pack(mt.lesson(work, "no-audio", f), work + "/out", "standard,low,audio")
    c.true("no-audio packs", b, err)
    if not b:
        return
    m = mt.manifest(b)
    c.eq("no-audio: manifest audio", m.get("audio"), {"present": False})
    c.eq("no-audio: tiers", [x.get("tier") for x in m["files"] if x.get("tier")],
         ["standard", "low"])
    std = mt.ffprobe(mt.extract(b, "media/standard.mp4", work + "/no-audio"))
    c.eq("no-audio: standard streams", [s["codec_type"] for s in std["streams"]], ["video"])
    c.true("no-audio: sabak info says so", "Audio:     none" in info(b), info(b))
    # The kiosk tells the web app, which then says "no sound" (web/app.js).
    import json
    import shutil
    import sabaktest as st
    lib = os.path.join(work, "no-audio-lib")
    os.makedirs(lib, exist_ok=True)
    shutil.copy(b, lib)
    srv = st.Server(lib, "--quiet")
    try:
        status, _, body = srv.request("/api/lessons/" + m["id"])
        c.eq("no-audio: kiosk lesson JSON says no sound",
             (status, json.loads(body).get("sound") if status == 200 else None), (200, "none"))
    finally:
        srv.stop()


def two_tracks(work, c):
    f = src(work, "two-tracks", "s.mkv",
            "%s -f lavfi -i sine=f=440:d=3 -f lavfi -i sine=f=1000:d=3 -map 0 -map 1 -map 2 %s "
            "-c:a aac -metadata:s:a:0 language=kir -metadata:s:a:1 language=rus "
            "-disposition:a:0 default -disposition:a:1 0" % (V, X264))
    d = os.path.join(work, "two-tracks")
    for lid, key, lang, track, hz in (("two-ru", "audio_language = ru\n", "ru", 2, 1000),
                                      ("two-rus", "audio_language = rus\n", "ru", 2, 1000),
                                      ("two-default", "", "ky", 1, 440)):
        os.makedirs(os.path.join(work, lid), exist_ok=True)
        os.link(os.path.join(d, f), os.path.join(work, lid, f))
        rc, err, b = mt.pack(mt.lesson(work, lid, f, key), work + "/out")
        c.true("%s packs" % lid, b, err)
        if not b:
            continue
        c.eq("%s: manifest audio" % lid, mt.manifest(b).get("audio"),
             {"present": True, "lang": lang, "track": track, "tracks": 2})
        got = tone(mt.extract(b, "media/audio.m4a", os.path.join(work, lid)))
        c.true("%s: the %s track's tone (%d Hz)" % (lid, lang, hz), abs(got - hz) < hz * 0.05,
               "got %.0f Hz" % got)
        c.true("%s: sabak info lists the track" % lid,
               "Audio:     %s, track %d of 2" % (lang, track) in info(b), info(b))
    os.makedirs(os.path.join(work, "two-en"), exist_ok=True)
    os.link(os.path.join(d, f), os.path.join(work, "two-en", f))
    rc, err, b = mt.pack(mt.lesson(work, "two-en", f, "audio_language = en\n"), work + "/out")
    c.true("two-en: a language the file lacks is refused, naming the tracks",
           rc == 1 and "audio_language" in err and "ky, ru" in err, err)


def long_subtitles(work, c):
    d = os.path.join(work, "long-srt")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "in.srt"), "w", encoding="utf-8") as fh:
        fh.write(SRT)
    # as OBS/ffmpeg remuxes write it: video and audio cut by -shortest at
    # 3 s, the subtitle track runs to 55 s
    f = src(work, "long-srt", "s.mkv",
            "%s -f lavfi -i sine=f=440:d=10 -i {d}/in.srt -map 0 -map 1 -map 2 %s -c:a aac "
            "-c:s srt -metadata:s:s:0 language=kir -shortest" % (V, X264))
    probe = mt.ffprobe(os.path.join(d, f))
    c.true("long-srt: the source's container says it is long",
           float(probe["format"]["duration"]) > 30, probe["format"].get("duration"))
    rc, err, b = mt.pack(mt.lesson(work, "long-srt", f), work + "/out")
    c.true("long-srt packs (no 'damaged')", b, err)
    if b:
        m = mt.manifest(b)
        c.true("long-srt: lesson lasts the picture's 3 s", abs(m["duration"] - 3.0) < 0.2,
               m["duration"])
        c.true("long-srt: the embedded subtitles are kept",
               any(x["path"] == "subtitles/ky.vtt" for x in m["files"]), m["files"])


def cover_art(work, c):
    f = src(work, "cover", "s.mp4",
            "%s -f lavfi -i sine=f=440:d=3 -f lavfi -i color=c=red:s=300x300:d=1 "
            "-map 0 -map 1 -map 2 %s -c:a aac -c:v:1 png -disposition:v:1 attached_pic "
            "-frames:v:1 1" % (V, X264))
    rc, err, b = mt.pack(mt.lesson(work, "cover", f), work + "/out")
    c.true("cover packs", b, err)
    if b:
        v = [x for x in mt.manifest(b)["files"] if x.get("tier") == "standard"][0]
        c.eq("cover: the video, not the picture", (v["width"], v["height"]), (160, 120))
        c.true("cover: length", abs(v["duration"] - 3.0) < 0.15, v["duration"])


def edit_list(work, c):
    d = os.path.join(work, "editlist")
    os.makedirs(d, exist_ok=True)
    mt.ffmpeg("%s -f lavfi -i sine=f=440:d=3 %s -g 75 -c:a aac %s/base.mp4" % (V, X264, d))
    mt.ffmpeg("-ss 0.6 -i %s/base.mp4 -c copy %s/s.mov" % (d, d))
    want = float(mt.ffprobe(d + "/s.mov")["format"]["duration"])
    rc, err, b = mt.pack(mt.lesson(work, "editlist", "s.mov"), work + "/out")
    c.true("editlist packs", b, err)
    if b:
        got = mt.manifest(b)["duration"]
        c.true("editlist: lasts what the edit list says (%.2f s)" % want, abs(got - want) < 0.1,
               got)


def errors(work, c):
    # cut short: the header promises 3 s, the data stops early
    d = os.path.join(work, "cut")
    os.makedirs(d, exist_ok=True)
    mt.ffmpeg("%s -f lavfi -i sine=f=440:d=3 %s -c:a aac -f matroska %s/full.mkv" % (V, X264, d))
    data = open(d + "/full.mkv", "rb").read()
    with open(d + "/s.mkv", "wb") as fh:
        fh.write(data[:len(data) // 2])
    rc, err, b = mt.pack(mt.lesson(work, "cut", "s.mkv"), work + "/out")
    c.true("cut: a file cut short is damaged, with the time it stops",
           rc == 1 and "damaged" in err and "stops at 00:00:0" in err, err)
    # a codec that is not on the list: named, not 'damaged'
    f = src(work, "rawvideo", "s.avi", "%s -t 1 -c:v rawvideo -pix_fmt yuv420p" % V)
    rc, err, b = mt.pack(mt.lesson(work, "rawvideo", f), work + "/out")
    c.true("rawvideo: refused as a codec sabak does not accept",
           rc == 1 and "rawvideo" in err and "not one sabak accepts" in err, err)


def main():
    c = Checks("test_media_structure")
    work = mt.tmpdir("structure")
    steps = [no_audio, two_tracks, long_subtitles, cover_art, edit_list, errors]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for fut in [ex.submit(s, work, c) for s in steps]:
            fut.result()
    c.done()


if __name__ == "__main__":
    main()
