#!/usr/bin/env python3
"""sabak pack against hostile or careless lesson folders and outputs
(issue 9: defects 1, 4, 8, 15, 16; issue 8: pack fails early). Each case
failed before its fix. Tiny sources made at test time; the real binary."""
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest
import zipfile

SABAK = os.environ.get("SABAK", "build/sabak")
TMP_ROOT = os.environ.get("SABAK_TEST_TMP", tempfile.gettempdir())
SECRET = "TOP-SECRET-LINE outside the lesson\n"


def run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, **kw)


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def leftovers(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".zip") or n.startswith("."))


class PackInputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(TMP_ROOT, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="pack-inputs-", dir=TMP_ROOT)
        cls.video = os.path.join(cls.tmp, "src.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=2",
                        "-f", "lavfi", "-i", "sine=d=2", "-c:v", "libx264", "-preset", "ultrafast",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", cls.video], check=True)
        # A file outside every lesson, which no bundle or message may show.
        cls.secret = os.path.join(cls.tmp, "secret.txt")
        with open(cls.secret, "w") as f:
            f.write(SECRET * 50)
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def lesson(self, chapters="00:00:01 = Экинчи\n", extra=""):
        PackInputs.n += 1
        d = os.path.join(self.tmp, "l%d" % self.n)
        os.makedirs(os.path.join(d, "subtitles"))
        os.makedirs(os.path.join(d, "handouts"))
        shutil.copy(self.video, os.path.join(d, "recording.mp4"))
        with open(os.path.join(d, "lesson.ini"), "w", encoding="utf-8") as f:
            f.write("[lesson]\nid = l%d\nversion = 1\nvideo = recording.mp4\n%s\n[title]\nru = Урок\n"
                    "[chapters]\n%s" % (self.n, extra, chapters))
        with open(os.path.join(d, "subtitles", "ru.srt"), "w", encoding="utf-8") as f:
            f.write("1\n00:00:00,200 --> 00:00:01,500\nПривет\n")
        out = os.path.join(d, "out")
        os.makedirs(out)
        return d, out

    def pack(self, d, out, *extra, timeout=300):
        return run([SABAK, "pack", d, "-o", out + "/" if os.path.isdir(out) else out,
                    "--tiers", "low", *extra], timeout=timeout)

    def assert_one_line_error(self, r, text):
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertEqual(lines[0], "sabak: " + text)
        self.assertNotIn("TOP-SECRET", r.stderr)

    def bundle_names(self, out):
        zips = [n for n in os.listdir(out) if n.endswith(".zip")]
        self.assertEqual(len(zips), 1, os.listdir(out))
        with zipfile.ZipFile(os.path.join(out, zips[0])) as z:
            for n in z.namelist():
                self.assertNotIn(b"TOP-SECRET", z.read(n), n)
            return z.namelist(), {i.filename: i.compress_type for i in z.infolist()}

    # ---- issue 8: pack fails early ------------------------------------------------
    def test_chapter_after_end_fails_before_encoding(self):
        d, out = self.lesson(chapters="00:00:01 = Бир\n00:10:00 = Эки\n")
        # No encoding may start: the work folder, made just before the
        # encode, is never created (strace sees every mkdir).
        log = os.path.join(self.tmp, "early.strace")
        # (LeakSanitizer cannot run under ptrace.)
        env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
        r = run(["strace", "-f", "-qq", "-o", log, "-e", "trace=mkdir",
                 SABAK, "pack", d, "-o", out + "/"], env=env)
        self.assert_one_line_error(r, "%s/lesson.ini: chapter at 00:10:00 starts after the end of "
                                      "the recording (00:00:02)" % d)
        with open(log) as f:
            trace = f.read()
        self.assertNotIn(".sabak-pack-", trace)
        self.assertEqual(leftovers(out), [])

    # ---- defect 1: symbolic links -------------------------------------------------
    def test_handout_links_are_left_out(self):
        d, out = self.lesson()
        os.symlink(self.secret, os.path.join(d, "handouts", "shadow.txt"))
        with open(os.path.join(d, "handouts", "real.txt"), "w") as f:
            f.write("ok\n")
        os.mkfifo(os.path.join(d, "handouts", "pipe.txt"))
        r = self.pack(d, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("handouts/shadow.txt is a symbolic link", r.stderr)
        self.assertIn("handouts/pipe.txt is not a regular file", r.stderr)
        names, _ = self.bundle_names(out)
        self.assertIn("handouts/real.txt", names)
        self.assertNotIn("handouts/shadow.txt", names)
        self.assertNotIn("handouts/pipe.txt", names)

    def test_handouts_folder_link_is_left_out(self):
        d, out = self.lesson()
        os.rmdir(os.path.join(d, "handouts"))
        outside = os.path.join(self.tmp, "outside-%d" % self.n)
        os.makedirs(outside)
        shutil.copy(self.secret, os.path.join(outside, "ssh_config"))
        os.symlink(outside, os.path.join(d, "handouts"))
        r = self.pack(d, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("handouts is a symbolic link", r.stderr)
        names, _ = self.bundle_names(out)
        self.assertEqual([n for n in names if n.startswith("handouts/")], [])

    def test_subtitle_link_named_in_ini_is_refused(self):
        d, out = self.lesson(extra="[subtitles]\nru = subtitles/ru.srt\n")
        os.unlink(os.path.join(d, "subtitles", "ru.srt"))
        os.symlink(self.secret, os.path.join(d, "subtitles", "ru.srt"))
        r = self.pack(d, out)
        self.assert_one_line_error(r, "%s/subtitles/ru.srt is a symbolic link; sabak packs only "
                                      "files inside the lesson folder" % d)
        self.assertEqual(leftovers(out), [])

    def test_subtitle_link_found_by_convention_is_left_out(self):
        d, out = self.lesson()
        os.unlink(os.path.join(d, "subtitles", "ru.srt"))
        os.symlink(self.secret, os.path.join(d, "subtitles", "ru.srt"))
        r = self.pack(d, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("subtitles/ru.srt is a symbolic link; left out", r.stderr)
        self.assertNotIn("TOP-SECRET", r.stderr)
        names, _ = self.bundle_names(out)
        self.assertNotIn("subtitles/ru.vtt", names)

    def test_video_and_ini_links_are_refused(self):
        d, out = self.lesson()
        os.unlink(os.path.join(d, "recording.mp4"))
        os.symlink(self.video, os.path.join(d, "recording.mp4"))
        r = self.pack(d, out)
        self.assert_one_line_error(r, "%s/recording.mp4 is a symbolic link; sabak packs only files "
                                      "inside the lesson folder" % d)
        d, out = self.lesson()
        ini = os.path.join(d, "lesson.ini")
        os.rename(ini, ini + ".real")
        os.symlink(ini + ".real", ini)
        r = self.pack(d, out)
        self.assert_one_line_error(r, "%s/lesson.ini is a symbolic link; sabak packs only files "
                                      "inside the lesson folder" % d)

    # ---- defect 16: a FIFO named lesson.ini ----------------------------------------
    def test_fifo_lesson_ini_does_not_hang(self):
        d, out = self.lesson()
        os.unlink(os.path.join(d, "lesson.ini"))
        os.mkfifo(os.path.join(d, "lesson.ini"))
        try:
            r = self.pack(d, out, timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("sabak pack hangs on a FIFO named lesson.ini")
        self.assert_one_line_error(r, "%s/lesson.ini is not a regular file (a FIFO, device or "
                                      "socket)" % d)

    # ---- defect 4: already-compressed handouts are stored --------------------------
    def test_handouts_stored_when_deflate_gains_nothing(self):
        d, out = self.lesson()
        rnd = random.Random(9)
        noise = bytes(rnd.getrandbits(8) for _ in range(200000))
        for name in ("slides.pptx", "report.docx", "table.csv"):  # .csv: decided by trying
            with open(os.path.join(d, "handouts", name), "wb") as f:
                f.write(noise)
        with open(os.path.join(d, "handouts", "notes.txt"), "w", encoding="utf-8") as f:
            f.write("Бюджет айыл өкмөтү: жаңы сайт\n" * 2000)
        r = self.pack(d, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, kinds = self.bundle_names(out)
        for name in ("slides.pptx", "report.docx", "table.csv"):
            self.assertEqual(kinds["handouts/" + name], zipfile.ZIP_STORED, name)
        self.assertEqual(kinds["handouts/notes.txt"], zipfile.ZIP_DEFLATED)

    # ---- defect 8: -o overwrites anything ------------------------------------------
    def test_output_must_be_a_zip_or_a_folder(self):
        d, out = self.lesson()
        src = os.path.join(d, "recording.mp4")
        before = read(src)
        r = self.pack(d, src)
        self.assert_one_line_error(r, "-o %s: give a folder or a file name ending in .zip" % src)
        self.assertEqual(read(src), before)
        notes = os.path.join(out, "notes.txt")
        with open(notes, "w") as f:
            f.write("mine\n")
        r = self.pack(d, notes)
        self.assert_one_line_error(r, "-o %s: give a folder or a file name ending in .zip" % notes)
        self.assertEqual(read(notes, "r"), "mine\n")
        r = self.pack(d, "/dev/null")
        self.assert_one_line_error(r, "-o /dev/null: give a folder or a file name ending in .zip")
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))

    def test_output_never_replaces_a_special_file_or_an_input(self):
        d, out = self.lesson()
        fifo = os.path.join(out, "x.zip")
        os.mkfifo(fifo)
        r = self.pack(d, fifo)
        self.assert_one_line_error(r, "%s exists and is not a regular file; it is left alone" % fifo)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
        handout = os.path.join(d, "handouts", "old.zip")
        with open(handout, "wb") as f:
            f.write(b"PK\x05\x06" + b"\0" * 18)
        r = self.pack(d, handout)
        self.assert_one_line_error(r, "%s is one of the lesson's own files; write the bundle "
                                      "elsewhere" % handout)
        self.assertEqual(os.path.getsize(handout), 22)

    # ---- defect 15: kill -9 leaves debris ------------------------------------------
    def test_debris_of_a_killed_pack_is_removed(self):
        long_src = os.path.join(self.tmp, "long.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=60",
                        "-f", "lavfi", "-i", "sine=d=60", "-c:v", "libx264", "-preset", "ultrafast",
                        "-c:a", "aac", "-shortest", long_src], check=True)
        d, out = self.lesson()
        shutil.copy(long_src, os.path.join(d, "recording.mp4"))
        p = subprocess.Popen([SABAK, "pack", d, "-o", out + "/", "--quiet"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            if any(n.startswith(".sabak-pack-") for n in os.listdir(out)) or p.poll() is not None:
                break
            time.sleep(0.05)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        debris = leftovers(out)
        self.assertTrue(any(n.startswith(".sabak-pack-") for n in debris), debris)
        # debris of a live process (this one) must stay
        live = ".sabak-pack-l0-%d-abcdef" % os.getpid()
        os.mkdir(os.path.join(out, live))
        live_tmp = ".other.zip.tmp-%d-ABCDEF" % os.getpid()
        open(os.path.join(out, live_tmp), "w").close()
        shutil.copy(self.video, os.path.join(d, "recording.mp4"))
        r = self.pack(d, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(leftovers(out), sorted([live, live_tmp, "l%d-v1.zip" % self.n]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
