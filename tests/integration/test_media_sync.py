#!/usr/bin/env python3
"""Picture and sound stay in sync: a source with a white flash and a beep at
known times, shifted and stretched the ways real recordings are (audio that
starts late as a positive start_time in MP4 and as an MKV audio delay, video
that starts late, an edit list from a phone-style cut, variable frame rate,
a long frozen stretch, a gap in the audio timestamps, MPEG-TS timestamps that
wrap around). After packing, the
flash and the beep are found in every rendition and must be within 40 ms of
each other and of their times in the source."""
import concurrent.futures
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mediatest as mt  # noqa: E402
from sabaktest import Checks  # noqa: E402

TOL = 0.040
EVENTS = (1.0, 3.0)      # flash + beep times in the base source
DUR = 4


def video_src(shift=0.0):
    """Black 160x120 at 30 fps with a white flash of 0.2 s at each event (minus shift)."""
    on = "+".join("between(t,%.3f,%.3f)" % (e - shift, e - shift + 0.199) for e in EVENTS)
    return ("-f lavfi -i \"color=c=black:s=160x120:r=30:d=%g,"
            "drawbox=c=white:t=fill:enable='%s',noise=alls=3:allf=t\"" % (DUR - shift, on))


def audio_src(shift=0.0):
    """48 kHz silence (with a little noise) and a 1 kHz beep of 0.2 s at each event."""
    on = "+".join("between(t,%.3f,%.3f)" % (e - shift, e - shift + 0.2) for e in EVENTS)
    return ("-f lavfi -i \"aevalsrc='if(%s,0.7*sin(2*PI*1000*t),0)+0.001*random(0)':s=48000:d=%g\""
            % (on, DUR - shift))


ENC = "-c:v libx264 -preset ultrafast -g 90 -pix_fmt yuv420p -c:a aac"


def make(work, name):
    """Write the source for `name`; return (file name, expected event times)."""
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    p = lambda f: os.path.join(d, f)  # noqa: E731
    if name == "plain-mp4":
        mt.ffmpeg("%s %s %s %s" % (video_src(), audio_src(), ENC, p("s.mp4")))
        return "s.mp4", EVENTS
    if name in ("audio-late-mp4", "audio-late-mkv"):
        ext = name[-3:]
        mt.ffmpeg("%s -itsoffset 0.5 %s %s %s" % (video_src(), audio_src(0.5), ENC, p("s." + ext)))
        return "s." + ext, EVENTS
    if name == "video-late-mkv":
        mt.ffmpeg("-itsoffset 0.6 %s %s %s %s" % (video_src(0.6), audio_src(), ENC, p("s.mkv")))
        return "s.mkv", EVENTS
    if name == "editlist-mov":
        # a cut made without re-encoding (as phones and quick editors do):
        # the MOV starts 0.4 s in, between keyframes, through an edit list
        mt.ffmpeg("%s %s %s %s" % (video_src(), audio_src(), ENC, p("base.mp4")))
        mt.ffmpeg("-ss 0.4 -i %s -c copy %s" % (p("base.mp4"), p("s.mov")))
        os.unlink(p("base.mp4"))
        return "s.mov", tuple(e - 0.4 for e in EVENTS)
    if name == "vfr-screen-mkv":
        # a screen recorder writes a frame only when something changes
        sel = "\"select='not(mod(n,7))+between(t,0.95,1.25)+between(t,2.95,3.25)'\""
        mt.ffmpeg("%s %s -vf %s -fps_mode vfr %s %s" % (video_src(), audio_src(), sel, ENC,
                                                         p("s.mkv")))
        return "s.mkv", EVENTS
    if name == "frozen-mp4":
        # no new frame for 1.7 s (a slide held), then the flash
        sel = "\"select='lt(t,1.25)+gte(t,2.95)'\""
        mt.ffmpeg("%s %s -vf %s -fps_mode vfr %s %s" % (video_src(), audio_src(), sel, ENC,
                                                         p("s.mp4")))
        return "s.mp4", EVENTS
    if name == "audio-gap-mkv":
        # 0.3 s of audio packets lost before the second beep; timestamps kept
        mt.ffmpeg("%s %s -af \"aselect='not(between(t,2.0,2.3))'\" %s %s"
                  % (video_src(), audio_src(), ENC, p("s.mkv")))
        return "s.mkv", EVENTS
    if name == "ts-wrap":
        # camcorder MPEG-TS whose 33-bit timestamps wrap around in the middle
        mt.ffmpeg("%s %s %s -output_ts_offset 95442 %s" % (video_src(), audio_src(), ENC,
                                                            p("s.ts")))
        return "s.ts", EVENTS
    raise KeyError(name)


CASES = ["plain-mp4", "audio-late-mp4", "audio-late-mkv", "video-late-mkv", "editlist-mov",
         "vfr-screen-mkv", "frozen-mp4", "audio-gap-mkv", "ts-wrap"]


def flashes(path, near):
    """Onset time of the flash nearest each expected time (frame timestamps)."""
    times = mt.frame_times(path)
    frames = mt.gray_frames(path, 16, 12)
    lum = [sum(f) / len(f) for f in frames]
    out = []
    for t0 in near:
        cands = [t for t, y in zip(times, lum) if y > 128 and t0 - 0.5 <= t <= t0 + 0.5]
        out.append(min(cands) if cands else None)
    return out


def beeps(path, near, rate=8000):
    x = mt.samples(path, rate)
    out = []
    for t0 in near:
        a, b = max(0, int((t0 - 0.5) * rate)), min(len(x), int((t0 + 0.5) * rate))
        win = [abs(v) for v in x[a:b]]
        if not win or max(win) < 1000:
            out.append(None)
            continue
        thr = max(win) * 0.3
        i = next(i for i, v in enumerate(win) if v >= thr)
        out.append((a + i) / rate)
    return out


def check(work, name):
    fails, worst = [], 0.0
    fname, want = make(work, name)
    # where a player shows the flash and plays the beep in the source (an
    # AAC track in Matroska starts 21 ms late, for example: that is the
    # source's own sync, which the renditions must keep)
    src = os.path.join(work, name, fname)
    sb, sf = beeps(src, want), flashes(src, want)
    for i, t0 in enumerate(want):
        if sb[i] is None or sf[i] is None or abs(sb[i] - t0) > 0.03 or abs(sf[i] - t0) > 0.03:
            return ["%s: the generated source is wrong: beep %s, flash %s, want %.3f s"
                    % (name, sb[i], sf[i], t0)]
    rc, err, bundle = mt.pack(mt.lesson(work, name, fname), os.path.join(work, "out"),
                              tiers="standard,low,audio")
    if not bundle:
        return ["%s: pack failed: %s" % (name, err.strip())]
    for tier, entry in (("standard", "media/standard.mp4"), ("low", "media/low.mp4"),
                        ("audio", "media/audio.m4a")):
        path = mt.extract(bundle, entry, os.path.join(work, name))
        b = beeps(path, want)
        f = flashes(path, want) if tier != "audio" else [None] * len(want)
        for i, t0 in enumerate(want):
            for v, ref in ((b[i], sb[i]), (f[i], sf[i])):
                if v is not None:
                    worst = max(worst, abs(v - ref))
            where = "%s %s event %d" % (name, tier, i)
            if b[i] is None:
                fails.append("%s: no beep found" % where)
            elif abs(b[i] - sb[i]) > TOL:
                fails.append("%s: beep at %.3f s, in the source at %.3f s" % (where, b[i], sb[i]))
            if tier == "audio":
                continue
            if f[i] is None:
                fails.append("%s: no flash found" % where)
            elif abs(f[i] - sf[i]) > TOL:
                fails.append("%s: flash at %.3f s, in the source at %.3f s" % (where, f[i], sf[i]))
            if f[i] is not None and b[i] is not None and abs(f[i] - b[i]) > TOL:
                fails.append("%s: flash %.3f s and beep %.3f s are %.0f ms apart"
                             % (where, f[i], b[i], 1000 * abs(f[i] - b[i])))
    print("%s: worst offset from the source %.0f ms" % (name, 1000 * worst))
    return fails


def main():
    c = Checks("test_media_sync")
    work = mt.tmpdir("sync")
    only = os.environ.get("SYNC_ONLY")
    cases = [n for n in CASES if not only or n in only.split(",")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for name, fails in zip(cases, ex.map(lambda n: check(work, n), cases)):
            c.true(name, not fails, "; ".join(fails))
    c.done()


if __name__ == "__main__":
    main()
