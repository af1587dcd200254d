#!/usr/bin/env python3
"""sabak pack end to end: real sources made at test time (lavfi, espeak-ng),
the real sabak binary, checked with ffprobe, zipfile and sabak verify."""
import hashlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

SABAK = os.environ.get("SABAK", "build/sabak")
TMP_ROOT = os.environ.get("SABAK_TEST_TMP", tempfile.gettempdir())

KY_SRT = """1
00:00:00,500 --> 00:00:02,500
Саламатсыздарбы! Бүгүн биз сайт менен иштейбиз.

2
00:00:03,000 --> 00:00:05,000
Жаңылыкты жарыялоо үчүн «Кошуу» баскычын басыңыз.

3
00:00:05,500 --> 00:00:07,500
Өзгөртүүлөрдү сактоону унутпаңыз: <b>маанилүү</b> & зарыл.
"""

RU_SRT = """1
00:00:00,500 --> 00:00:02,500
Здравствуйте! Сегодня мы работаем с сайтом.

2
00:00:03,000 --> 00:00:05,000
Чтобы опубликовать новость, нажмите «Добавить».

3
00:00:05,500 --> 00:00:07,500
Ёлка, щётка и объявление --> всё на месте.
"""


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def ffmpeg(*args):
    r = run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args])
    if r.returncode != 0:
        raise RuntimeError("ffmpeg failed: " + r.stderr)


def ffprobe_json(path, *extra):
    r = run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
             *extra, path])
    if r.returncode != 0:
        raise RuntimeError("ffprobe failed on %s: %s" % (path, r.stderr))
    return json.loads(r.stdout)


def top_level_atoms(data):
    atoms, off = [], 0
    while off + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[off:off + 8])
        if size == 1:
            size = struct.unpack(">Q", data[off + 8:off + 16])[0]
        atoms.append(kind.decode("latin-1"))
        if size < 8:
            break
        off += size
    return atoms


def write_lesson(d, lesson_id, video="recording.mp4", extra_ini="", subs=True, cp1251_ru=True):
    os.makedirs(os.path.join(d, "subtitles"), exist_ok=True)
    with open(os.path.join(d, "lesson.ini"), "w", encoding="utf-8") as f:
        f.write("[lesson]\nid = %s\nversion = 1\nvideo = %s\ntopic = municipal-website\n"
                "order = 1\n%s\n[title]\nky = Муниципалдык веб-сайт менен иштөө\n"
                "ru = Работа с муниципальным веб-сайтом\nen = Working with the municipal website\n"
                "[description]\nky = Жаңылыктарды жарыялоо\nru = Публикация новостей\n"
                "[chapters]\n00:00:00 = Киришүү\n00:00:05 = Сактоо\n" % (lesson_id, video, extra_ini))
    if subs:
        with open(os.path.join(d, "subtitles", "ky.srt"), "w", encoding="utf-8") as f:
            f.write(KY_SRT)
        with open(os.path.join(d, "subtitles", "ru.srt"), "wb") as f:
            f.write(RU_SRT.encode("cp1251") if cp1251_ru else RU_SRT.encode("utf-8"))


def make_screencast(path, seconds=8):
    """A still 'web page' with a small moving cursor and speech-like audio."""
    speech = path + ".wav"
    r = run(["espeak-ng", "-v", "ky", "-w", speech,
             "Саламатсыздарбы. Бүгүн биз муниципалдык сайт менен иштейбиз. "
             "Жаңылыкты жарыялоо үчүн кошуу баскычын басыңыз."])
    if r.returncode != 0:
        raise RuntimeError("espeak-ng failed: " + r.stderr)
    ffmpeg("-f", "lavfi", "-i", "color=c=0xf4f4f4:s=1280x720:r=30:d=%d" % seconds,
           "-i", speech, "-f", "lavfi", "-i", "anoisesrc=d=%d:a=0.002" % seconds,
           "-filter_complex",
           "[0]drawbox=x=0:y=0:w=1280:h=90:c=0x1f4e79:t=fill,"
           "drawbox=x=80:y=150:w=700:h=40:c=0x333333:t=fill,"
           "drawbox=x=80:y=230:w=1000:h=20:c=0x777777:t=fill,"
           "drawbox=x=80:y=280:w=950:h=20:c=0x777777:t=fill,"
           "drawbox=x=80:y=330:w=900:h=20:c=0x777777:t=fill,"
           "drawbox=x='200+t*40':y=400:w=12:h=18:c=black:t=fill[v];"
           "[1][2]amix=inputs=2:duration=longest,apad,atrim=0:%d[a]" % seconds,
           "-map", "[v]", "-map", "[a]", "-t", str(seconds),
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-ar", "48000", "-ac", "2", path)
    os.unlink(speech)


def make_camera(path, seconds=8, faststart=True):
    args = ["-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=%d" % seconds,
            "-f", "lavfi", "-i", "sine=f=220:d=%d" % seconds,
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ac", "2"]
    if faststart:
        args += ["-movflags", "+faststart"]
    ffmpeg(*args, path)


def comb_score(path, w, h, t=3.0):
    """Mean |2*row[y] - row[y-1] - row[y+1]| of one luma frame: high when interlaced."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(t), "-i", path, "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"], stdout=subprocess.PIPE,
                         check=True).stdout
    total = n = 0
    for y in range(1, h - 1):
        a, b, c = raw[(y - 1) * w:y * w], raw[y * w:(y + 1) * w], raw[(y + 1) * w:(y + 2) * w]
        for x in range(0, w, 2):
            total += abs(2 * b[x] - a[x] - c[x])
            n += 1
    return total / n


def extract_entry(bundle, name, dest):
    """Copy one entry of a bundle to the file dest (for ffprobe); returns (dest, bytes)."""
    with zipfile.ZipFile(bundle) as z:
        data = z.read(name)
    with open(dest, "wb") as f:
        f.write(data)
    return dest, data


def leftovers(folder):
    """Anything a failed pack may have left behind (bundles or hidden temp files)."""
    return sorted(n for n in os.listdir(folder) if n.endswith(".zip") or n.startswith("."))


class PackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(TMP_ROOT, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="pack-", dir=TMP_ROOT)
        cls.screen = os.path.join(cls.tmp, "screen")
        os.makedirs(cls.screen)
        make_screencast(os.path.join(cls.screen, "recording.mp4"))
        write_lesson(cls.screen, "municipal-website-01")
        cls.camera = os.path.join(cls.tmp, "camera")
        os.makedirs(cls.camera)
        make_camera(os.path.join(cls.camera, "recording.mp4"))
        write_lesson(cls.camera, "citizen-budget-01", cp1251_ru=False)
        cls.out = os.path.join(cls.tmp, "out")
        os.makedirs(cls.out)
        cls.results = {}
        for name, d in (("screen", cls.screen), ("camera", cls.camera)):
            r = run([SABAK, "pack", d, "-o", cls.out + "/", "--quiet"])
            cls.results[name] = r
        cls.bundle = {
            "screen": os.path.join(cls.out, "municipal-website-01-v1.zip"),
            "camera": os.path.join(cls.out, "citizen-budget-01-v1.zip"),
        }

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def extract(self, which, name):
        return extract_entry(self.bundle[which], name,
                             os.path.join(self.tmp, which + "-" + name.replace("/", "_")))

    def manifest(self, which):
        with zipfile.ZipFile(self.bundle[which]) as z:
            return json.loads(z.read("manifest.json").decode("utf-8"))

    def test_00_pack_succeeds(self):
        for name, r in self.results.items():
            self.assertEqual(r.returncode, 0, "%s: %s" % (name, r.stderr))
            self.assertTrue(os.path.isfile(self.bundle[name]))
            self.assertEqual(r.stdout.strip(), self.bundle[name])
        self.assertEqual(leftovers(self.out), sorted(os.path.basename(b) for b in self.bundle.values()))

    def test_entry_order_and_compression(self):
        with zipfile.ZipFile(self.bundle["screen"]) as z:
            infos = z.infolist()
        names = [i.filename for i in infos]
        self.assertEqual(names[:4], ["manifest.json", "index.html", "poster.jpg", "thumb.jpg"])
        self.assertEqual(names[4:6], ["subtitles/ky.vtt", "subtitles/ru.vtt"])
        self.assertEqual(names[6:], ["media/standard.mp4", "media/low.mp4", "media/audio.m4a",
                                     "media/audio-aac.m4a"])
        for i in infos:
            if i.filename.startswith("media/") or i.filename.endswith(".jpg"):
                self.assertEqual(i.compress_type, zipfile.ZIP_STORED, i.filename)
            else:
                self.assertEqual(i.compress_type, zipfile.ZIP_DEFLATED, i.filename)

    def test_classification(self):
        self.assertEqual(self.manifest("screen")["content"], "screencast")
        self.assertEqual(self.manifest("camera")["content"], "camera")

    def check_video(self, which, tier, want_h, max_fps, acodec="aac"):
        path, data = self.extract(which, "media/%s.mp4" % tier)
        atoms = top_level_atoms(data)
        self.assertLess(atoms.index("moov"), atoms.index("mdat"), "moov must come first")
        info = ffprobe_json(path)
        v = [s for s in info["streams"] if s["codec_type"] == "video"]
        a = [s for s in info["streams"] if s["codec_type"] == "audio"]
        self.assertEqual(len(v), 1)
        self.assertEqual(len(a), 1)
        v, a = v[0], a[0]
        self.assertEqual(v["codec_name"], "h264")
        self.assertEqual(v["profile"], "High")
        self.assertLessEqual(int(v["level"]), 31)
        self.assertEqual(v["height"], want_h)
        self.assertEqual(v["width"] % 2, 0)
        num, den = (int(x) for x in v["avg_frame_rate"].split("/"))
        self.assertLessEqual(num / den, max_fps + 0.01)
        self.assertEqual(a["codec_name"], acodec)
        if acodec == "aac":
            self.assertEqual(a["profile"], "LC")
        self.assertEqual(a["channels"], 1)
        return path, info

    def test_screencast_tiers(self):
        self.check_video("screen", "standard", 480, 15)
        self.check_video("screen", "low", 480, 10, acodec="opus")

    def test_camera_tiers(self):
        self.check_video("camera", "standard", 360, 25)  # never upscaled
        self.check_video("camera", "low", 360, 15, acodec="opus")

    def test_audio_tier(self):
        path, _ = self.extract("screen", "media/audio.m4a")
        info = ffprobe_json(path)
        self.assertEqual([s["codec_type"] for s in info["streams"]], ["audio"])
        self.assertEqual(info["streams"][0]["channels"], 1)
        self.assertEqual(info["streams"][0]["codec_name"], "opus")
        path, _ = self.extract("screen", "media/audio-aac.m4a")
        info = ffprobe_json(path)
        self.assertEqual([s["codec_type"] for s in info["streams"]], ["audio"])
        self.assertEqual(info["streams"][0]["codec_name"], "aac")
        self.assertEqual(info["streams"][0]["profile"], "LC")

    def test_audio_only_is_smallest(self):
        # Issue 11: sound only must be the smallest rendition, and its AAC
        # fallback must not cost more than the low tier's sound.
        files = {f["tier"]: f for f in self.manifest("screen")["files"] if f.get("tier")}
        self.assertEqual(files["audio"]["codecs"], "opus")
        self.assertEqual(files["audio-aac"]["codecs"], "mp4a.40.2")
        for tier in ("standard", "low"):
            self.assertLess(files["audio"]["size"], files[tier]["size"], tier)
            self.assertLess(files["audio-aac"]["size"], files[tier]["size"], tier)
        # the low tier's sound is Opus at 12 kbit/s; the AAC fallback may not
        # spend more than that (FFmpeg's AAC encoder overshoots its target)
        aac = ffprobe_json(self.extract("screen", "media/audio-aac.m4a")[0])["streams"][0]
        self.assertLessEqual(int(aac["bit_rate"]), 12000)

    def test_durations_match_source(self):
        for which, src in (("screen", self.screen), ("camera", self.camera)):
            src_dur = float(ffprobe_json(os.path.join(src, "recording.mp4"))["format"]["duration"])
            m = self.manifest(which)
            self.assertAlmostEqual(m["duration"], src_dur, delta=0.1)
            for f in m["files"]:
                if f["kind"] in ("video", "audio"):
                    path, _ = self.extract(which, f["path"])
                    d = float(ffprobe_json(path)["format"]["duration"])
                    self.assertAlmostEqual(d, src_dur, delta=0.1, msg="%s %s" % (which, f["path"]))

    def test_keyframe_interval(self):
        # A longer source than the GOP, so the interval is really exercised.
        d = os.path.join(self.tmp, "long")
        os.makedirs(d)
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=10:d=25", "-f", "lavfi", "-i",
               "sine=d=25", "-c:v", "libx264", "-preset", "ultrafast", "-g", "250",
               "-c:a", "aac", os.path.join(d, "recording.mp4"))
        write_lesson(d, "long-01", subs=False)
        r = run([SABAK, "pack", d, "-o", d + "/", "--quiet", "--tiers", "standard"])
        self.assertEqual(r.returncode, 0, r.stderr)
        p, _ = extract_entry(os.path.join(d, "long-01-v1.zip"), "media/standard.mp4",
                             os.path.join(d, "std.mp4"))
        r = run(["ffprobe", "-v", "error", "-select_streams", "v", "-skip_frame", "nokey",
                 "-show_entries", "frame=pts_time", "-of", "csv=p=0", p])
        keys = [float(x.strip(",")) for x in r.stdout.split() if x.strip(",")]
        self.assertGreaterEqual(len(keys), 3)
        gaps = [b - a for a, b in zip(keys, keys[1:])] + [25 - keys[-1]]
        self.assertLessEqual(max(gaps), 10.0 + 1e-6, keys)

    def test_subtitles_webvtt_cyrillic(self):
        _, ky = self.extract("screen", "subtitles/ky.vtt")
        _, ru = self.extract("screen", "subtitles/ru.vtt")  # source was Windows-1251
        ky, ru = ky.decode("utf-8"), ru.decode("utf-8")
        self.assertTrue(ky.startswith("WEBVTT"))
        self.assertIn("00:00:03.000 --> 00:00:05.000\nЖаңылыкты жарыялоо үчүн «Кошуу» баскычын басыңыз.", ky)
        self.assertIn("<b>маанилүү</b> &amp; зарыл", ky)
        self.assertIn("Здравствуйте! Сегодня мы работаем с сайтом.", ru)
        self.assertIn("Ёлка, щётка и объявление --&gt; всё на месте.", ru)

    def test_manifest_hashes_and_fields(self):
        m = self.manifest("screen")
        self.assertEqual(m["id"], "municipal-website-01")
        self.assertEqual(m["title"]["ky"], "Муниципалдык веб-сайт менен иштөө")
        self.assertEqual(m["title"]["ru"], "Работа с муниципальным веб-сайтом")
        self.assertEqual([c["start"] for c in m["chapters"]], [0, 5])
        with zipfile.ZipFile(self.bundle["screen"]) as z:
            names = set(z.namelist())
            for f in m["files"]:
                data = z.read(f["path"])
                self.assertEqual(f["size"], len(data), f["path"])
                self.assertEqual(f["sha256"], hashlib.sha256(data).hexdigest(), f["path"])
            self.assertEqual(names, {f["path"] for f in m["files"]} | {"manifest.json"})
        std = [f for f in m["files"] if f.get("tier") == "standard"][0]
        self.assertRegex(std["codecs"], r"^avc1\.64[0-9A-F]{4}, mp4a\.40\.2$")
        self.assertEqual(std["mime"], "video/mp4")

    def test_offline_player_has_inline_subtitles(self):
        _, html = self.extract("screen", "index.html")
        html = html.decode("utf-8")
        self.assertNotIn("{{SABAK_DATA}}", html)
        self.assertIn("Жаңылыкты жарыялоо", html)
        self.assertNotIn("http://", html.replace("http://www.w3.org", ""))

    def test_reproducible(self):
        # Both lessons: the camera one runs x264 with VBV at 25 fps, which is
        # where threaded rate control once made every run differ.
        other = os.path.join(self.tmp, "again")
        os.makedirs(other)
        for which, d in (("screen", self.screen), ("camera", self.camera)):
            r = run([SABAK, "pack", d, "-o", other, "--quiet"])
            self.assertEqual(r.returncode, 0, r.stderr)
            again = os.path.join(other, os.path.basename(self.bundle[which]))
            with open(self.bundle[which], "rb") as a, open(again, "rb") as b:
                self.assertEqual(hashlib.sha256(a.read()).hexdigest(),
                                 hashlib.sha256(b.read()).hexdigest(), which)

    def test_verify_accepts_and_rejects(self):
        r = run([SABAK, "verify", self.bundle["screen"], self.bundle["camera"]])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        data = bytearray(open(self.bundle["screen"], "rb").read())
        with zipfile.ZipFile(self.bundle["screen"]) as z:
            info = z.getinfo("media/standard.mp4")
        flipped = os.path.join(self.tmp, "flipped.zip")
        pos = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.file_size // 2
        data2 = bytearray(data)
        data2[pos] ^= 0x40
        open(flipped, "wb").write(data2)
        r = run([SABAK, "verify", flipped])
        self.assertEqual(r.returncode, 1)
        self.assertIn("media/standard.mp4", r.stderr)
        truncated = os.path.join(self.tmp, "truncated.zip")
        open(truncated, "wb").write(data[: len(data) // 2])
        r = run([SABAK, "verify", truncated])
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.strip(), "verify must say what is wrong")


    def test_audio_only_lesson_with_handouts(self):
        d = os.path.join(self.tmp, "audio-only")
        os.makedirs(os.path.join(d, "subtitles"))
        os.makedirs(os.path.join(d, "handouts"))
        ffmpeg("-f", "lavfi", "-i", "sine=d=5", "-c:a", "aac", os.path.join(d, "talk.m4a"))
        with open(os.path.join(d, "lesson.ini"), "w", encoding="utf-8") as f:
            f.write("[lesson]\nid = audio-01\nversion = 2\nvideo = talk.m4a\naudio_only = true\n"
                    "[title]\nru = Только звук\n")
        with open(os.path.join(d, "subtitles", "ru.srt"), "w", encoding="utf-8") as f:
            f.write("1\n00:00:01,000 --> 00:00:03,000\nПривет\n")
        pdf = b"%PDF-1.4 handout"
        with open(os.path.join(d, "handouts", "Бюджет 2026.pdf"), "wb") as f:
            f.write(pdf)
        with open(os.path.join(d, "handouts", "notes.txt"), "w", encoding="utf-8") as f:
            f.write("заметки к уроку\n" * 40)  # deflate gains: deflated
        r = run([SABAK, "pack", d, "-o", d + "/"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("rendition", r.stderr)  # no notes about video tiers of an audio lesson
        bundle = os.path.join(d, "audio-01-v2.zip")
        with zipfile.ZipFile(bundle) as z:
            names = z.namelist()
            m = json.loads(z.read("manifest.json"))
            self.assertEqual(z.read("handouts/Бюджет 2026.pdf"), pdf)
            self.assertEqual(z.getinfo("handouts/Бюджет 2026.pdf").compress_type, zipfile.ZIP_STORED)
            self.assertEqual(z.getinfo("handouts/notes.txt").compress_type, zipfile.ZIP_DEFLATED)
        self.assertEqual(names, ["manifest.json", "index.html", "subtitles/ru.vtt", "media/audio.m4a",
                                 "media/audio-aac.m4a",
                                 "handouts/notes.txt", "handouts/Бюджет 2026.pdf"])
        self.assertEqual(m["content"], "audio")
        self.assertEqual(m["version"], 2)
        kinds = {f["path"]: (f["kind"], f["mime"]) for f in m["files"]}
        self.assertEqual(kinds["handouts/Бюджет 2026.pdf"], ("handout", "application/pdf"))
        self.assertEqual(run([SABAK, "verify", bundle]).returncode, 0)


    def test_phone_video_is_turned_upright(self):
        """Phones store portrait video sideways with a display matrix."""
        d = os.path.join(self.tmp, "phone")
        os.makedirs(d)
        raw = os.path.join(self.tmp, "sideways.mp4")
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=6", "-c:v", "libx264",
               "-preset", "ultrafast", raw)
        ffmpeg("-i", raw, "-f", "lavfi", "-i", "sine=d=6", "-c:v", "copy", "-c:a", "aac",
               "-metadata:s:v:0", "rotate=90", os.path.join(d, "recording.mp4"))
        write_lesson(d, "phone-01", subs=False)
        r = run([SABAK, "pack", d, "-o", d + "/", "--quiet"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with zipfile.ZipFile(os.path.join(d, "phone-01-v1.zip")) as z:
            m = json.loads(z.read("manifest.json"))
        sizes = {f["path"]: (f.get("width"), f.get("height")) for f in m["files"]}
        # the short side (360) is kept, the picture stands upright
        self.assertEqual(sizes["media/standard.mp4"], (360, 640))
        self.assertEqual(sizes["poster.jpg"], (360, 640))
        p, _ = extract_entry(os.path.join(d, "phone-01-v1.zip"), "media/standard.mp4",
                             os.path.join(d, "std.mp4"))
        v = [s for s in ffprobe_json(p)["streams"] if s["codec_type"] == "video"][0]
        self.assertEqual((v["width"], v["height"]), (360, 640))
        self.assertNotIn("side_data_list", v)  # turned in the pixels, no matrix left


    def test_interlaced_source_is_deinterlaced(self):
        d = os.path.join(self.tmp, "interlaced")
        os.makedirs(d)
        src_path = os.path.join(d, "recording.mp4")
        # 480 lines, so the standard tier is not rescaled: combing would survive as is
        ffmpeg("-f", "lavfi", "-i",
               "testsrc2=s=640x480:r=50:d=6,tinterlace=mode=interleave_top,setfield=tff",
               "-f", "lavfi", "-i", "sine=d=6", "-c:v", "libx264", "-flags", "+ilme+ildct",
               "-preset", "ultrafast", "-c:a", "aac", src_path)
        src = [s for s in ffprobe_json(src_path)["streams"] if s["codec_type"] == "video"][0]
        self.assertEqual(src["field_order"], "tt")  # the fixture really is interlaced
        write_lesson(d, "interlaced-01", subs=False)
        r = run([SABAK, "pack", d, "-o", d + "/", "--quiet", "--tiers", "standard"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out_path, _ = extract_entry(os.path.join(d, "interlaced-01-v1.zip"), "media/standard.mp4",
                                    os.path.join(d, "std.mp4"))
        # Combing: rows alternate between two moments, so each row differs
        # from the mean of its neighbours. Deinterlaced output loses most of it
        # (measured: source 4.3, sabak 1.2, the same encode without yadif 3.0).
        self.assertLess(comb_score(out_path, 640, 480), 0.5 * comb_score(src_path, 640, 480))


class BadInputTest(unittest.TestCase):
    """Each bad input: the exact one-line message, exit 1, nothing left behind."""

    @classmethod
    def setUpClass(cls):
        os.makedirs(TMP_ROOT, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="badpack-", dir=TMP_ROOT)
        cls.good = os.path.join(cls.tmp, "good.mp4")
        make_camera(cls.good, seconds=6, faststart=True)
        cls.moov_end = os.path.join(cls.tmp, "moovend.mp4")
        make_camera(cls.moov_end, seconds=6, faststart=False)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def lesson(self, name, video_bytes=None, video_from=None, **kw):
        d = os.path.join(self.tmp, name)
        os.makedirs(d)
        write_lesson(d, name, **kw)
        if video_from:
            shutil.copy(video_from, os.path.join(d, "recording.mp4"))
        elif video_bytes is not None:
            with open(os.path.join(d, "recording.mp4"), "wb") as f:
                f.write(video_bytes)
        out = os.path.join(d, "out")
        os.makedirs(out)
        return d, out

    def pack_fails(self, d, out, message, cmd_prefix=()):
        r = run([*cmd_prefix, SABAK, "pack", d, "-o", out, "--quiet"])
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertEqual(lines[0], "sabak: " + message)
        self.assertEqual(leftovers(out), [])
        return r

    def test_text_file_named_mp4(self):
        d, out = self.lesson("text-mp4", video_bytes="это не видео\n".encode() * 100)
        self.pack_fails(d, out, "recording.mp4 is not a video or audio file sabak can read (or it is damaged)")

    def test_zero_byte_file(self):
        d, out = self.lesson("zero-mp4", video_bytes=b"")
        self.pack_fails(d, out, "recording.mp4 is not a video or audio file sabak can read (or it is damaged)")

    def test_truncated_moov_at_end(self):
        data = open(self.moov_end, "rb").read()
        d, out = self.lesson("cut-moovend", video_bytes=data[: len(data) // 2])
        self.pack_fails(d, out, "recording.mp4 is not a video or audio file sabak can read (or it is damaged)")

    def test_truncated_faststart(self):
        data = open(self.good, "rb").read()
        d, out = self.lesson("cut-faststart", video_bytes=data[: len(data) // 2])
        r = run([SABAK, "pack", d, "-o", out, "--quiet"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr.strip(),
                         r"^sabak: recording\.mp4 is damaged: (it stops at 00:00:0\d but should last 00:00:06 \(the file may be cut short\)|(decoding|reading) failed at 00:00:0\d)$")
        self.assertEqual(leftovers(out), [])

    def test_audio_only_where_video_required(self):
        wav = os.path.join(self.tmp, "speech.m4a")
        ffmpeg("-f", "lavfi", "-i", "sine=d=3", "-c:a", "aac", wav)
        d, out = self.lesson("audio-only", video_from=wav)
        self.pack_fails(d, out, "recording.mp4 has no video stream (for an audio-only lesson set "
                                "audio_only = true in lesson.ini)")

    def test_bad_subtitle_timestamp(self):
        d, out = self.lesson("bad-subs", video_from=self.good)
        with open(os.path.join(d, "subtitles", "ru.srt"), "w", encoding="utf-8") as f:
            f.write("1\n00:00:01,000 --> 00:00:02,000\nПривет\n\n2\n00:01:6,000 --> 00:01:08,000\nМир\n")
        self.pack_fails(d, out, '%s/subtitles/ru.srt:6: bad timestamp "00:01:6,000"' % d)

    def test_missing_subtitle_named_in_ini(self):
        d, out = self.lesson("missing-subs", video_from=self.good, subs=False,
                             extra_ini="[subtitles]\nru = subtitles/ru.srt\n")
        r = run([SABAK, "pack", d, "-o", out, "--quiet"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("subtitles/ru.srt", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        self.assertEqual(leftovers(out), [])

    def test_unwritable_output_folder(self):
        d, out = self.lesson("ro-out", video_from=self.good)
        os.chmod(out, 0o555)
        if os.geteuid() != 0:
            self.pack_fails(d, out, "cannot write to folder %s: Permission denied" % out)
            return
        # root writes anywhere: act as an ordinary trainer (nobody), with the
        # binaries and the lesson in a folder nobody can reach.
        box = tempfile.mkdtemp(prefix="sabak-ro-")
        try:
            os.chmod(box, 0o755)
            pack = os.environ.get("SABAK_PACK", os.path.join(os.path.dirname(SABAK), "sabak-pack"))
            shutil.copy(SABAK, os.path.join(box, "sabak"))
            shutil.copy(pack, os.path.join(box, "sabak-pack"))
            lesson = os.path.join(box, "lesson")
            shutil.copytree(d, lesson)
            for root, dirs, files in os.walk(lesson):
                os.chmod(root, 0o755)
                for f in files:
                    os.chmod(os.path.join(root, f), 0o644)
            ro = os.path.join(lesson, "out")
            os.chmod(ro, 0o555)
            # Sanitizer option files must be readable by nobody too.
            env = dict(os.environ)
            tsan = env.get("TSAN_OPTIONS", "")
            m = re.search(r"suppressions=([^:]+)", tsan)
            if m:
                shutil.copy(m.group(1), os.path.join(box, "tsan.supp"))
                os.chmod(os.path.join(box, "tsan.supp"), 0o644)
                env["TSAN_OPTIONS"] = tsan.replace(m.group(1), os.path.join(box, "tsan.supp"))
            r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                     os.path.join(box, "sabak"), "pack", lesson, "-o", ro, "--quiet"], env=env)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(r.stderr.strip(), "sabak: cannot write to folder %s: Permission denied" % ro)
            self.assertEqual(leftovers(ro), [])
        finally:
            shutil.rmtree(box, ignore_errors=True)

    def test_interrupt_leaves_nothing(self):
        src = os.path.join(self.tmp, "long.mp4")
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=120", "-f", "lavfi", "-i",
               "sine=d=120", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", src)
        d, out = self.lesson("interrupted", video_from=src)
        p = subprocess.Popen([SABAK, "pack", d, "-o", out, "--quiet"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        # wait until the work folder exists, i.e. encoding has started
        for _ in range(200):
            if any(n.startswith(".sabak-pack-") for n in os.listdir(out)) or p.poll() is not None:
                break
            time.sleep(0.05)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        self.assertEqual(err.strip(), "sabak: %s: interrupted; nothing was written" % d)
        self.assertEqual(leftovers(out), [])

    def test_full_disk(self):
        d, out = self.lesson("full-disk", video_from=self.good)
        # A 64 KiB tmpfs in a private mount namespace: the bundle cannot fit.
        # What is left in it is listed from inside, before the namespace goes.
        script = ('dir=$1; shift; mount -t tmpfs -o size=64k tmpfs "$dir" || exit 99; '
                  '"$@"; rc=$?; echo "LEFT:$(ls -A "$dir" | tr "\\n" " ")"; exit $rc')
        ns = ["unshare", "--mount"] + (["--map-root-user"] if os.geteuid() != 0 else [])
        r = run(ns + ["sh", "-c", script, "sh", out, SABAK, "pack", d, "-o", out, "--quiet"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr.strip(), r"^sabak: cannot write .*: disk is full$")
        self.assertEqual(r.stdout.strip(), "LEFT:")


if __name__ == "__main__":
    unittest.main(verbosity=2)
