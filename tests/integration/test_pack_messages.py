#!/usr/bin/env python3
"""What sabak pack tells a trainer (issue 11, items 8-10): the summary at the
end, a warning for every file in subtitles/ it did not use (with the
language its name hints at), cues past the end (warned and trimmed), the
recordings that are there when the named one is missing, errors that say
why and suggest the fix, and the same in Russian and Kyrgyz (gettext).
Each case failed before its fix. A 3 s source made at test time; the real
binaries."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import zipfile

SABAK = os.environ.get("SABAK", "build/sabak")
TMP_ROOT = os.environ.get("SABAK_TEST_TMP", tempfile.gettempdir())

KY_SRT = """1
00:00:00,200 --> 00:00:01,500
Саламатсыздарбы

2
00:00:01,600 --> 00:00:04,500
Бул сап жазуунун аягынан ашып кетет

3
00:00:05,000 --> 00:00:06,000
Бул сап жазуудан кийин

4
00:00:07,000 --> 00:00:08,000
Бул да
"""

INI = """[lesson]
id = msg-01
version = 1
video = recording.mp4
[title]
ky = Сынак
ru = Тест
[chapters]
00:00 = Башы
00:02 = Аягы
"""


def run(cmd, env=None, timeout=300):
    e = dict(os.environ)
    # English unless a test asks for a language: the runner's own locale must not leak in
    for k in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, env=e)


class PackMessages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(TMP_ROOT, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="pack-messages-", dir=TMP_ROOT)
        cls.video = os.path.join(cls.tmp, "src.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=3",
                        "-f", "lavfi", "-i", "sine=d=3", "-c:v", "libx264", "-preset", "ultrafast",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", cls.video], check=True)
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def lesson(self, ini=INI, video="recording.mp4"):
        PackMessages.n += 1
        d = os.path.join(self.tmp, "l%d" % self.n)
        os.makedirs(os.path.join(d, "subtitles"))
        os.makedirs(os.path.join(d, "out"))
        if video:
            shutil.copy(self.video, os.path.join(d, video))
        with open(os.path.join(d, "lesson.ini"), "w", encoding="utf-8") as f:
            f.write(ini)
        with open(os.path.join(d, "subtitles", "ky.srt"), "w", encoding="utf-8") as f:
            f.write(KY_SRT)
        return d

    def pack(self, d, env=None, tiers="low,audio"):
        return run([SABAK, "pack", d, "-o", os.path.join(d, "out") + "/", "--tiers", tiers],
                   env=env)

    def fails(self, d, env=None):
        r = self.pack(d, env)
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l]
        self.assertEqual(len(lines), 1, r.stderr)
        return lines[0]

    # -- item 9: nothing is dropped silently -----------------------------------
    def test_summary_warnings_and_trim(self):
        d = self.lesson()
        with open(os.path.join(d, "subtitles", "Урок 1 рус.srt"), "w", encoding="utf-8") as f:
            f.write(KY_SRT)
        with open(os.path.join(d, "subtitles", "lesson_kg.srt"), "w", encoding="utf-8") as f:
            f.write(KY_SRT)
        with open(os.path.join(d, "subtitles", "notes.txt"), "w") as f:
            f.write("x\n")
        os.makedirs(os.path.join(d, "handouts"))
        with open(os.path.join(d, "handouts", "budget.txt"), "w") as f:
            f.write("budget\n" * 100)
        r = self.pack(d)
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr
        # every file of subtitles/ that was not used, with the language its name points at
        self.assertIn("sabak: warning: subtitles/Урок 1 рус.srt is not used: subtitle files are "
                      "named by language; it looks Russian: rename it to ru.srt", err)
        self.assertIn("sabak: warning: subtitles/lesson_kg.srt is not used: it looks Kyrgyz, but "
                      "the ky subtitles are already taken from another file", err)
        self.assertIn("sabak: warning: subtitles/notes.txt is not used: subtitles are .srt, .vtt "
                      "or .ass files", err)
        # cues after the end: warned, left out; the one that runs past it: cut
        self.assertIn("sabak: warning: subtitles/ky.srt: 2 cues from 00:00:05 on come after the "
                      "end of the recording (00:00:03) and were left out", err)
        with zipfile.ZipFile(os.path.join(d, "out", "msg-01-v1.zip")) as z:
            vtt = z.read("subtitles/ky.vtt").decode("utf-8")
        ends = re.findall(r"--> (\d\d):(\d\d):(\d\d)\.(\d\d\d)", vtt)
        self.assertEqual(len(ends), 2, vtt)
        for h, m, s, ms in ends:
            self.assertLessEqual(int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000, 3.05, vtt)
        self.assertNotIn("Бул сап жазуудан кийин", vtt)
        # the summary
        self.assertRegex(err, r"sabak: packed .*msg-01-v1\.zip \(\d+ KB\) in [\d.]+ s\n")
        self.assertIn("  duration: 0:00:03 (", err)
        self.assertRegex(err, r"  tiers: low \d+ KB \(120p, \d+ kbit/s\), audio \d+ KB \(\d+ kbit/s\)\n")
        self.assertIn("  subtitles: ky 2 cues (3 trimmed at the end); none in ru (the lesson has "
                      "a title in it)\n", err)
        self.assertRegex(err, r"  quality: low CRF \d+ \(SSIM-Y [01]\.\d{3}\); search [\d.]+ s of CPU\n")
        self.assertIn("  chapters: 2\n", err)
        self.assertIn("  handouts: 1 (1 KB), downloadable from the lesson page\n", err)

    def test_quiet_has_no_summary(self):
        d = self.lesson()
        r = run([SABAK, "pack", d, "-o", os.path.join(d, "out") + "/", "--tiers", "audio", "-q"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("tiers:", r.stderr)
        self.assertIn("come after the end", r.stderr)  # warnings stay

    def test_missing_video_lists_the_videos_there(self):
        d = self.lesson(video="Урок 1 видео.mp4")
        shutil.copy(self.video, os.path.join(d, "old.mkv"))
        line = self.fails(d)
        self.assertEqual(line, 'sabak: %s/lesson.ini: video "recording.mp4" not found in %s; the '
                         'video files there are "old.mkv", "Урок 1 видео.mp4": set video = <the '
                         'right one> in [lesson], or rename it' % (d, d)
                         if line.index("old.mkv") < line.index("Урок") else
                         'sabak: %s/lesson.ini: video "recording.mp4" not found in %s; the '
                         'video files there are "Урок 1 видео.mp4", "old.mkv": set video = <the '
                         'right one> in [lesson], or rename it' % (d, d))

    # -- item 10: errors a trainer can fix ---------------------------------------
    def test_bad_chapter_time_says_why(self):
        d = self.lesson(INI.replace("00:02 = Аягы", "00:75 = Аягы"))
        self.assertEqual(self.fails(d), 'sabak: %s/lesson.ini:10: bad chapter time "00:75": '
                         'seconds must be under 60 (01:15 is a minute and 15 seconds)' % d)

    def test_unknown_key_suggests(self):
        d = self.lesson(INI.replace("video = ", "vidoe = "))
        self.assertEqual(self.fails(d), 'sabak: %s/lesson.ini:4: unknown key "vidoe" in [lesson] '
                         '(did you mean "video"?)' % d)

    def test_unknown_section_suggests(self):
        d = self.lesson(INI.replace("[chapters]", "[chapter]"))
        self.assertEqual(self.fails(d), 'sabak: %s/lesson.ini:8: unknown section [chapter] (did '
                         'you mean [chapters]?)' % d)

    def test_bad_id_suggests(self):
        d = self.lesson(INI.replace("id = msg-01", "id = UX News 01"))
        self.assertEqual(self.fails(d), 'sabak: %s/lesson.ini:2: bad id "UX News 01": use 1-64 of '
                         'a-z 0-9 . _ - starting with a letter or digit, e.g. "ux-news-01"' % d)

    # -- item 10: in the trainer's language ---------------------------------------
    def test_russian_under_lang(self):
        d = self.lesson(INI.replace("video = ", "vidoe = "))
        # LANG alone, as a Russian desktop sets it; works whether or not the
        # ru_RU.UTF-8 locale is generated on this machine
        line = self.fails(d, env={"LANG": "ru_RU.UTF-8"})
        self.assertEqual(line, 'sabak: %s/lesson.ini:4: неизвестный ключ "vidoe" в [lesson] '
                         '(может быть, "video"?)' % d)

    def test_russian_with_the_locale_generated(self):
        # where ru_RU.UTF-8 exists (locale-gen), glibc's own path is taken;
        # made here with localedef into a private LOCPATH, not the system's
        if not shutil.which("localedef") or not os.path.isdir("/usr/share/i18n/locales"):
            self.skipTest("localedef (Debian package locales) is not installed")
        loc = os.path.join(self.tmp, "locales")
        os.makedirs(loc, exist_ok=True)
        r = run(["localedef", "-i", "ru_RU", "-f", "UTF-8", os.path.join(loc, "ru_RU.UTF-8")])
        self.assertTrue(os.path.isdir(os.path.join(loc, "ru_RU.UTF-8")), r.stderr)
        d = self.lesson(INI.replace("video = ", "vidoe = "))
        # glibc 2.36's setlocale keeps the LOCPATH list it splits (argz) for
        # good: LeakSanitizer reports it under ASan. Only LOCPATH, which only
        # this test sets, takes that path.
        supp = os.path.join(self.tmp, "lsan.supp")
        with open(supp, "w") as f:
            f.write("leak:__argz_add_sep\n")
        line = self.fails(d, env={"LANG": "ru_RU.UTF-8", "LOCPATH": loc,
                                  "LSAN_OPTIONS": "suppressions=%s:print_suppressions=0" % supp})
        self.assertIn('неизвестный ключ "vidoe" в [lesson] (может быть, "video"?)', line)

    def test_russian_summary_and_warning(self):
        d = self.lesson()
        with open(os.path.join(d, "subtitles", "Урок 1 рус.srt"), "w", encoding="utf-8") as f:
            f.write(KY_SRT)
        r = self.pack(d, env={"LANG": "ru_RU.UTF-8"}, tiers="audio")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("sabak: предупреждение: subtitles/Урок 1 рус.srt не использован", r.stderr)
        self.assertIn("переименуйте его в ru.srt", r.stderr)
        self.assertIn("  субтитры: ky 2 субтитра", r.stderr)

    def test_kyrgyz_and_language_variable(self):
        d = self.lesson(INI.replace("00:02 = Аягы", "00:75 = Аягы"))
        line = self.fails(d, env={"LANG": "ky_KG.UTF-8"})
        self.assertIn("секунддар 60тан аз болушу керек", line)
        # the GNU way: LANGUAGE over an installed UTF-8 locale
        line = self.fails(d, env={"LANG": "C.UTF-8", "LANGUAGE": "ru"})
        self.assertIn("секунды должны быть меньше 60", line)
        # English stays the default, and C means English
        self.assertIn("seconds must be under 60", self.fails(d))
        self.assertIn("seconds must be under 60", self.fails(d, env={"LANG": "C"}))

    # -- item 8: the help says what the tiers are -----------------------------------
    def test_help_names_the_codecs(self):
        r = run([SABAK, "pack", "--help"])
        self.assertEqual(r.returncode, 0)
        low = [l for l in r.stdout.splitlines() if l.strip().startswith("low ")][0]
        self.assertIn("Opus", low)
        self.assertNotIn("AAC", low)
        self.assertRegex(r.stdout, r"audio +sound only, Opus")
        self.assertRegex(r.stdout, r"audio-aac +sound only, AAC")


if __name__ == "__main__":
    unittest.main(verbosity=2)
