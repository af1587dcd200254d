#!/usr/bin/env python3
"""Every sabak command speaks the trainer's language (issue 11, item 10):
verify, info, import, export, sign/keygen, passwd, reports, serve's start-up
lines, the usage errors and every --help in Russian (LANG=ru_RU.UTF-8) and
Kyrgyz (LANG=ky_KG.UTF-8), English with LANG=C or no LANG; the errors about
a bundle come from the library (SbkError) and are translated too. The
catalogs are complete (every marked message of the sources is translated,
nothing fuzzy) and msgfmt --check passes. One small bundle packed at test
time (cached); the real binaries.

The ru_RU/ky_KG locales need not exist: cli_init_i18n follows LANG anyway
(test_pack_messages checks the path through a generated locale)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import struct
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest  # noqa: E402

SABAK = sabaktest.SABAK
SRC = os.environ.get("SABAK_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
RU = {"LANG": "ru_RU.UTF-8"}
KY = {"LANG": "ky_KG.UTF-8"}
COMMANDS = ["pack", "info", "verify", "keygen", "sign", "serve", "export", "import",
            "reports", "passwd"]
OPT_RE = re.compile(r"^\s+(-[A-Za-z]),?\s*(--[a-z-]+)?|^\s+(--[a-z-]+)", re.M)


def env_with(extra):
    e = dict(os.environ)
    # the runner's own language must not leak in (ctest sets LANGUAGE=en)
    for k in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        e.pop(k, None)
    e.update(extra or {})
    return e


def run(args, lang=None, timeout=300, **kw):
    return subprocess.run([SABAK] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, env=env_with(lang), **kw)


def options(text):
    """The option names a --help lists (as test_packaging reads them)."""
    out = set()
    for short, long_, only_long in OPT_RE.findall(text):
        out.update(x for x in (short, long_, only_long) if x)
    return out


class CliMessages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cli-messages-", dir=sabaktest.TMP_ROOT)
        os.makedirs(os.path.join(cls.tmp, "good"))
        cls.bundle = os.path.join(cls.tmp, "good", "msgs-01-v1.zip")
        shutil.copyfile(sabaktest.packed_bundle("msgs-01"), cls.bundle)
        # a damaged copy: bytes after the end of the archive
        cls.bad = os.path.join(cls.tmp, "msgs-01-v1.zip")
        shutil.copyfile(cls.bundle, cls.bad)
        with open(cls.bad, "ab") as f:
            f.write(b"x" * 100)
        # another: one byte of a media entry changed (opens, fails the full check)
        os.makedirs(os.path.join(cls.tmp, "corrupt"))
        cls.corrupt = os.path.join(cls.tmp, "corrupt", "msgs-01-v1.zip")
        shutil.copyfile(cls.bundle, cls.corrupt)
        with zipfile.ZipFile(cls.corrupt) as z:
            info = z.getinfo("media/audio.m4a")
        with open(cls.corrupt, "r+b") as f:
            f.seek(info.header_offset + 26)
            name_len, extra_len = struct.unpack("<HH", f.read(4))
            at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
            f.seek(at)
            byte = f.read(1)
            f.seek(at)
            f.write(bytes([byte[0] ^ 0xFF]))
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def fresh(self, name):
        CliMessages.n += 1
        d = os.path.join(self.tmp, "%s%d" % (name, self.n))
        os.makedirs(d)
        return d

    # -- the catalogs ---------------------------------------------------------
    def test_catalogs_pass_msgfmt_check_and_are_complete(self):
        pot = os.path.join(self.tmp, "fresh.pot")
        srcs = []
        for d, pat in (("cli", ".c"), ("core", ".c"), ("bundle", ".c"), ("carry", ".c"),
                       ("lesson", ".c"), ("media", "")):
            folder = os.path.join(SRC, "src", d)
            srcs += sorted(os.path.join(folder, n) for n in os.listdir(folder)
                           if n.endswith(".c") and (d != "media" or n.startswith("pack")))
        r = subprocess.run(["xgettext", "--from-code=UTF-8", "--language=C", "--keyword=_",
                            "--keyword=N_", "--keyword=dngettext:2,3", "-o", pot] + srcs,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for lang in ("ru", "ky"):
            po = os.path.join(SRC, "po", lang + ".po")
            r = subprocess.run(["msgfmt", "--check", "--statistics", "-o", os.devnull, po],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("fuzzy", r.stderr)
            self.assertNotIn("untranslated", r.stderr)
            # every message the sources mark has its translation
            r = subprocess.run(["msgcmp", "--use-untranslated", po, pot],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertEqual(r.returncode, 0, "po/%s.po lacks messages of the sources (run "
                             "make pot and translate them):\n%s" % (lang, r.stderr[:3000]))

    # -- --help: man-page quality in every language ------------------------------
    def test_help_in_three_languages_lists_the_same_options(self):
        words = {"ru": ("Использование: sabak", "Параметры:", "показать эту справку"),
                 "ky": ("Колдонуу: sabak", "Параметрлер:", "ушул жардамды көрсөтүү")}
        for cmd in COMMANDS:
            en = run([cmd, "--help"])
            self.assertEqual(en.returncode, 0, en.stderr)
            self.assertTrue(en.stdout.startswith("Usage: sabak " + cmd), en.stdout[:80])
            self.assertEqual(en.stdout, run([cmd, "--help"], {"LANG": "C"}).stdout)
            for lang, env in (("ru", RU), ("ky", KY)):
                r = run([cmd, "--help"], env)
                self.assertEqual(r.returncode, 0, r.stderr)
                for w in words[lang]:
                    self.assertIn(w, r.stdout, "%s --help in %s" % (cmd, lang))
                self.assertNotIn("Usage:", r.stdout)
                self.assertEqual(options(r.stdout), options(en.stdout),
                                 "%s --help in %s names other options" % (cmd, lang))
        # the overview, and verify's default folder filled in
        self.assertIn("Команды:", run(["--help"], RU).stdout)
        self.assertIn("Буйруктар:", run(["--help"], KY).stdout)
        self.assertIn("installed: /etc/sabak/trusted.d)", run(["verify", "--help"]).stdout)
        self.assertIn("при установке: /etc/sabak/trusted.d)", run(["verify", "--help"], RU).stdout)
        self.assertIn("2% of the drive", run(["export", "--help"]).stdout)

    def test_usage_errors(self):
        cases = [(["verify"], "which bundles?", "какие пакеты?", "кайсы таңгактар?"),
                 (["info"], "which bundle?", "какой пакет?", "кайсы таңгак?"),
                 (["import", "x"], "--library is needed", "нужен --library", "--library керек"),
                 (["frob"], "unknown command 'frob'", "неизвестная команда 'frob'",
                  "белгисиз буйрук 'frob'")]
        for args, en, ru, ky in cases:
            for env, want in ((None, en), ({"LANG": "C"}, en), (RU, ru), (KY, ky)):
                r = run(args, env)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(want, r.stderr, (args, env))
        r = run(["verify", "--frob"], RU)
        self.assertIn("Справка: 'sabak verify --help'.", r.stderr)

    # -- verify: the library's problems, translated ----------------------------------
    def test_verify(self):
        r = run(["verify", self.bundle], RU)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "OK " + self.bundle), r.stderr)
        expect = {None: "100 bytes of unexpected data after the end of the archive",
                  "C": "100 bytes of unexpected data after the end of the archive",
                  "ru": "100 байт лишних данных после конца архива",
                  "ky": "архивдин аягынан кийин 100 байт күтүлбөгөн маалымат бар"}
        for key, env in ((None, None), ("C", {"LANG": "C"}), ("ru", RU), ("ky", KY)):
            r = run(["verify", self.bad], env)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("%s: %s" % (self.bad, expect[key]), r.stderr)
        notzip = os.path.join(self.tmp, "notes.zip")
        with open(notzip, "w") as f:
            f.write("not a bundle\n")
        self.assertIn("не zip-архив", run(["verify", notzip], RU).stderr)
        self.assertIn("zip архив эмес", run(["verify", notzip], KY).stderr)
        # glibc's own text (strerror) in UTF-8, not transliterated
        r = run(["verify", os.path.join(self.tmp, "missing.zip")], RU)
        self.assertIn("не удаётся открыть", r.stderr)
        self.assertNotIn("Net takogo", r.stderr)

    def test_info(self):
        en = run(["info", self.bundle])
        self.assertEqual(en.returncode, 0, en.stderr)
        self.assertIn("Duration:  00:00:03", en.stdout)
        self.assertIn("Signature: unsigned", en.stdout)
        ru = run(["info", self.bundle], RU)
        self.assertEqual(ru.returncode, 0, ru.stderr)
        for w in ("msgs-01  версия 1", "Длительность: 00:00:03", "Подпись:      без подписи",
                  "Разделы:", "Файлы:", "  название (ru): Гражданский бюджет"):
            self.assertIn(w, ru.stdout)
        ky = run(["info", self.bundle], KY)
        for w in ("msgs-01  версиясы 1", "Узактыгы:  00:00:03", "Кол тамга: кол коюлган эмес",
                  "Бөлүмдөр:", "Файлдар:"):
            self.assertIn(w, ky.stdout)
        # the manifest itself is data, never translated
        self.assertEqual(run(["info", "--json", self.bundle], RU).stdout,
                         run(["info", "--json", self.bundle]).stdout)
        r = run(["info", self.bad], KY)
        self.assertEqual(r.returncode, 1)
        self.assertIn("архивдин аягынан кийин 100 байт", r.stderr)

    # -- import and export: the carry lines and the refusals -----------------------
    def test_import_and_export(self):
        lib = self.fresh("lib")
        src = self.fresh("src")
        shutil.copy(self.bundle, src)
        r = run(["import", src, "--library", lib, "--no-sync"], RU)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"скопирован msgs-01-v1\.zip: импортирован и проверен "
                                   r"\([\d.]+ МБ\)")
        r = run(["import", src, "--library", lib, "--no-sync"], KY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("өткөрүлдү msgs-01-v1.zip: китепканада мурдатан бар", r.stdout)
        r = run(["import", src, "--library", lib, "--no-sync"])
        self.assertIn("skipped msgs-01-v1.zip: already in the library", r.stdout)
        # a damaged bundle: the library's verdict, translated
        bad_src = self.fresh("bad")
        shutil.copy(self.corrupt, bad_src)
        r = run(["import", bad_src, "--library", self.fresh("lib"), "--no-sync"], RU)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('повреждён: элемент "media/audio.m4a" повреждён: ', r.stderr)
        # the same lesson and version with other content is refused; the
        # count is a plural
        other = self.fresh("other")
        shutil.copyfile(sabaktest.packed_bundle("msgs-01", title_ru="Другой урок"),
                        os.path.join(other, "msgs-01-v1.zip"))
        r = run(["import", other, "--library", lib, "--no-sync"], RU)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("sabak: ОТКЛОНЁН msgs-01-v1.zip: урок msgs-01 версии 1 отличается от "
                      "msgs-01-v1.zip в библиотеке", r.stderr)
        self.assertIn("sabak: import: 1 пакет отклонён (см. выше)", r.stderr)
        r = run(["import", other, "--library", lib, "--no-sync"], KY)
        self.assertIn("sabak: КАБЫЛ АЛЫНГАН ЖОК msgs-01-v1.zip:", r.stderr)
        self.assertIn("sabak: import: 1 таңгак кабыл алынган жок (жогоруну караңыз)", r.stderr)
        r = run(["import", other, "--library", lib, "--no-sync"])
        self.assertIn("sabak: import: 1 bundle was refused (see above)", r.stderr)
        # export onto a "drive" (a folder), then again: nothing to copy
        mount = self.fresh("usb")
        r = run(["export", "--library", lib, "--to", mount, "--no-browsable"], RU)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"скопирован msgs-01-v1\.zip: записан и проверен")
        self.assertIn("готово: флешка %s готова" % mount, r.stdout)
        r = run(["export", "--library", lib, "--to", mount, "--no-browsable"], KY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("өткөрүлдү msgs-01-v1.zip: флешкада мурдатан бар", r.stdout)
        self.assertIn("даяр: %s флешкасы даяр" % mount, r.stdout)
        r = run(["export", "--library", lib, "--to", mount, "--no-browsable"], {"LANG": "C"})
        self.assertIn("done: the drive %s is ready" % mount, r.stdout)
        r = run(["export", "--library", self.fresh("empty"), "--to", mount], RU)
        self.assertEqual(r.returncode, 1)
        self.assertIn("нет пакетов уроков", r.stderr)

    def key(self, lang=None):
        """A new signing key (the weak KDF of the tests): (path, env)."""
        d = self.fresh("keys")
        pw = os.path.join(d, "pass")
        with open(pw, "w") as f:
            f.write("correct horse\n")
        env = {"SABAK_PASSPHRASE_FILE": pw, "SABAK_TEST_WEAK_KDF": "1"}
        key = os.path.join(d, "t.key")
        r = run(["keygen", "-o", key, "--name", "Тренер"], dict(lang or {}, **env))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.key_out = r.stdout
        return key, env

    # -- keys, passwords and the kiosk's start-up lines ------------------------------
    def test_keygen_sign_passwd(self):
        key, env = self.key(RU)
        d, pw = os.path.dirname(key), env["SABAK_PASSPHRASE_FILE"]
        self.assertIn("секретный ключ: %s (храните надёжно" % key, self.key_out)
        r = run(["keygen", "-o", key, "--name", "Тренер"], dict(KY, **env))
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s мурдатан бар" % key, r.stderr)
        out = os.path.join(d, "signed.zip")
        r = run(["sign", self.bundle, "--key", key, "-o", out], dict(KY, **env))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("таңгагына \"Тренер\" атынан кол коюлду", r.stdout)
        with open(pw, "w") as f:
            f.write("wrong\n")
        r = run(["sign", self.bundle, "--key", key, "-o", out + "2"], dict(RU, **env))
        self.assertEqual(r.returncode, 1)
        self.assertIn("неверная парольная фраза для этого ключа", r.stderr)
        r = run(["passwd", "--state", d], {"LANG": "ru_RU.UTF-8",
                                           "SABAK_PASSWORD_FILE": os.path.join(d, "none")})
        self.assertEqual(r.returncode, 1)
        self.assertIn("не удаётся прочитать пароль из", r.stderr)

    def test_serve_start_up_lines(self):
        lib = self.fresh("serve")
        sabaktest.copy_bundle(self.bundle, lib)
        for env, ready, open_ in ((RU, "sabak: 1 урок готов", "откройте один из этих адресов"),
                                  (KY, "sabak: 1 сабак даяр", "ушул даректердин бирин ачыңыз"),
                                  ({"LANG": "C"}, "sabak: 1 lesson ready",
                                   "open one of these addresses")):
            s = sabaktest.Server(lib, "--state", self.fresh("state"), env=env_with(env))
            try:
                # the line scripts read stays English in every language
                self.assertTrue(s.wait_line(re.escape(ready), 10), "".join(s.lines))
                self.assertTrue(s.wait_line(re.escape(open_), 10), "".join(s.lines))
            finally:
                rc, _ = s.stop()
            self.assertEqual(rc, 0, "".join(s.lines))


if __name__ == "__main__":
    unittest.main(verbosity=2)
