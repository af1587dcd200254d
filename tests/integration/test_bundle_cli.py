#!/usr/bin/env python3
"""sabak info / sabak verify: exit codes and exact messages.

Bundles are made here with Python's zipfile, an independent ZIP writer (no
data descriptors, different extra fields), so this also checks that sabak
reads bundles it did not write. Hostile ones are made the same way."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

SABAK = os.environ.get("SABAK") or os.path.join(os.environ.get("SABAK_BUILD", "build"), "sabak")
FAILURES = []

INDEX = "<!doctype html><title>Сабак</title>\n".encode()
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nҢ Ө Ү ң ө ү\n".encode()
VIDEO = bytes((i * 7919 + 13) % 251 for i in range(300_000))


def sha(b):
    return hashlib.sha256(b).hexdigest()


def manifest(files, **over):
    m = {
        "format": "sabak-bundle", "format_version": 1, "generator": "test", "id": "budget-01",
        "version": 2,
        "title": {"ky": "Онлайн жарандык бюджет", "ru": "Онлайн гражданский бюджет"},
        "topic": "citizen-budget", "order": 2, "duration": 3725.5, "content": "camera",
        "chapters": [{"start": 0, "title": {"ky": "Киришүү", "ru": "Введение"}},
                     {"start": 90.5, "title": {"ru": "Доходы"}}],
        "files": files,
    }
    m.update(over)
    return json.dumps(m, ensure_ascii=False, indent=1).encode()


def file_entry(path, data, kind, mime, **extra):
    d = {"path": path, "kind": kind, "mime": mime, "size": len(data), "sha256": sha(data)}
    d.update(extra)
    return d


GOOD_FILES = [
    file_entry("index.html", INDEX, "player", "text/html; charset=utf-8"),
    file_entry("subtitles/ky.vtt", VTT, "subtitles", "text/vtt; charset=utf-8", lang="ky"),
    file_entry("media/standard.mp4", VIDEO, "video", "video/mp4", tier="standard",
               codecs="avc1.64001e, mp4a.40.2", width=854, height=480, fps=15.0, bitrate=412000,
               duration=3725.5),
]


def write_zip(path, entries):
    """entries: (name, bytes, stored) or a zipfile.ZipInfo-based tuple."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data, stored in entries:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            if not isinstance(name, zipfile.ZipInfo):
                info.external_attr = 0o100644 << 16
                info.create_system = 3
            z.writestr(info, data)


def good_entries(man=None):
    return [("manifest.json", man or manifest(GOOD_FILES), False), ("index.html", INDEX, False),
            ("subtitles/ky.vtt", VTT, False), ("media/standard.mp4", VIDEO, True)]


def run(*args):
    p = subprocess.run([SABAK, *args], capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def check(name, cond, detail=""):
    if not cond:
        FAILURES.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}")
    else:
        print(f"ok   {name}")


def expect(name, args, code, out=None, err=None, out_has=()):
    rc, o, e = run(*args)
    detail = f"rc={rc} stdout={o!r} stderr={e!r}"
    ok = rc == code and (out is None or o == out) and (err is None or e == err)
    ok = ok and all(s in o for s in out_has)
    check(name, ok, detail)
    return o, e


def main():
    tmp = tempfile.mkdtemp(prefix="test_bundle_cli-", dir=os.environ.get("SABAK_TEST_TMP") or None)
    os.makedirs(tmp, exist_ok=True)
    p = lambda n: os.path.join(tmp, n)  # noqa: E731

    write_zip(p("good.zip"), good_entries())
    expect("verify good", ["verify", p("good.zip")], 0, out=f"OK {p('good.zip')}\n", err="")
    expect("verify --quiet good", ["verify", "-q", p("good.zip")], 0, out="", err="")
    expect("info good", ["info", p("good.zip")], 0, err="", out_has=(
        "budget-01  version 2\n",
        "  title (ky): Онлайн жарандык бюджет\n",
        "  title (ru): Онлайн гражданский бюджет\n",
        "Topic:     citizen-budget (order 2)\n",
        "Duration:  01:02:05\n",
        "Content:   camera\n",
        "  00:00:00  Киришүү / Введение\n",
        "  00:01:30  Доходы\n",
        "  media/standard.mp4       video       293.0 KiB  standard  854x480  15 fps  412 kb/s  avc1.64001e, mp4a.40.2\n",
        "  subtitles/ky.vtt         subtitles        56 B  ky\n",
    ))
    o, _ = expect("info --json", ["info", "--json", p("good.zip")], 0, err="")
    check("info --json is the stored manifest", o.encode() == manifest(GOOD_FILES) + b"\n", repr(o[:80]))

    # Control characters in a bundle never reach the terminal raw (red-team
    # finding 13): an ESC sequence in a title is printed escaped.
    evil_title = {"ky": "Сабак\x1b[2J\x1b]0;pwned\x07", "ru": "Урок\u009b31m"}
    write_zip(p("ctl.zip"), good_entries(manifest(GOOD_FILES, title=evil_title)))
    o, _ = expect("info escapes control characters", ["info", p("ctl.zip")], 0, err="", out_has=(
        "  title (ky): Сабак\\x1b[2J\\x1b]0;pwned\\x07\n",
        "  title (ru): Урок\\xc2\\x9b31m\n",
    ))
    check("info prints no raw ESC, BEL or CSI", not any(c in o for c in "\x1b\x07\u009b"), repr(o[:200]))

    # Usage errors: exit 2.
    expect("verify no args", ["verify"], 2, out="", err="sabak: verify: which bundles? (sabak verify BUNDLE...)\n")
    expect("info no args", ["info"], 2, out="", err="sabak: info: which bundle? (sabak info BUNDLE)\n")
    expect("info two args", ["info", p("good.zip"), p("good.zip")], 2, out="")
    expect("info bad option", ["info", "--bogus", p("good.zip")], 2, out="")
    expect("verify bad option", ["verify", "--bogus", p("good.zip")], 2, out="")
    o, _ = expect("info --help", ["info", "--help"], 0, err="")
    check("info --help text", o.startswith("Usage: sabak info [--json] BUNDLE\n") and "Exit status" in o, o[:60])
    o, _ = expect("verify --help", ["verify", "--help"], 0, err="")
    check("verify --help text", o.startswith("Usage: sabak verify [--trusted DIR] [--require-signature] [--quiet] BUNDLE...\n") and "Exit status" in o,
          o[:60])

    # Hostile and damaged bundles: exit 1, one "path: problem" line each.
    man = manifest(GOOD_FILES)
    link = zipfile.ZipInfo("media/link.mp4", (2020, 1, 1, 0, 0, 0))
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    cases = {
        "evil.zip": (good_entries() + [("../evil", b"x", False)],
                     ['entry "../evil" has an unsafe name', 'entry "../evil" is not listed in manifest.json']),
        "abs.zip": (good_entries() + [("/abs", b"x", False)],
                    ['entry "/abs" has an unsafe name', 'entry "/abs" is not listed in manifest.json']),
        "backslash.zip": (good_entries() + [("a\\b", b"x", False)],
                          ['entry "a\\b" has an unsafe name', 'entry "a\\b" is not listed in manifest.json']),
        "link.zip": (good_entries() + [(link, b"/etc/passwd", True)],
                     ['entry "media/link.mp4" is a symbolic link',
                      'entry "media/link.mp4" is not listed in manifest.json']),
        "nomanifest.zip": (good_entries()[1:], ["manifest.json is missing"]),
        "notfirst.zip": (good_entries()[1:] + good_entries()[:1], ["manifest.json is not the first entry"]),
        "missingfile.zip": (good_entries()[:3],
                            ['"media/standard.mp4" is listed in manifest.json but missing from the archive']),
        "sizemismatch.zip": (good_entries()[:3] + [("media/standard.mp4", VIDEO[:-1], True)],
                             ['"media/standard.mp4" is 299999 bytes, manifest.json says 300000']),
        "shamismatch.zip": (good_entries()[:3] + [("media/standard.mp4", b"Z" + VIDEO[1:], True)],
                            ['"media/standard.mp4": SHA-256 does not match manifest.json (damaged or altered)']),
        "newer.zip": (good_entries(manifest(GOOD_FILES, format_version=2)),
                      ["bundle format 2 is newer than this sabak understands"]),
    }
    for fname, (entries, lines) in cases.items():
        write_zip(p(fname), entries)
        want = "".join(f"{p(fname)}: {line}\n" for line in lines)
        expect(f"verify {fname}", ["verify", p(fname)], 1, out="", err=want)
        # info refuses it with the first problem (sha mismatches are verify's job).
        if fname != "shamismatch.zip":
            expect(f"info {fname}", ["info", p(fname)], 1, out="", err=f"sabak: {p(fname)}: {lines[0]}\n")
        else:
            expect(f"info {fname}", ["info", p(fname)], 0, err="")

    data = open(p("good.zip"), "rb").read()
    off = data.index(VIDEO[5000:5100])
    flipped = bytearray(data)
    flipped[off] ^= 0x01
    damaged = {
        "flip.zip": (bytes(flipped), 'entry "media/standard.mp4" is damaged: ZIP bad CRC'),
        "half.zip": (data[: len(data) // 2], "truncated: the end of the archive is missing"),
        "cut1.zip": (data[:-1], "truncated: the end of the archive is missing"),
        "garbage.zip": (data + b"\0garbage", "8 bytes of unexpected data after the end of the archive"),
        "empty.zip": (b"", "empty file, not a zip archive"),
        "text.zip": ("Бул zip эмес, жөн гана текст.\n".encode(), "not a zip archive"),
    }
    for fname, (content, line) in damaged.items():
        with open(p(fname), "wb") as f:
            f.write(content)
        rc, o, e = run("verify", p(fname))
        check(f"verify {fname}", rc == 1 and o == "" and e.startswith(f"{p(fname)}: {line}") and e.count("\n") == 1,
              f"rc={rc} stdout={o!r} stderr={e!r}")

    # Python's zipfile writes ZIP64 end records once an offset passes 2 GiB,
    # while the classic end record still holds the real (unsaturated) values:
    # the ZIP spec allows it and unzip accepts it, so sabak must too. Lowering
    # zipfile's limit makes it take that very code path on a small archive.
    saved = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 1
    try:
        write_zip(p("pyzip64.zip"), good_entries())
    finally:
        zipfile.ZIP64_LIMIT = saved
    z64 = open(p("pyzip64.zip"), "rb").read()
    check("pyzip64 has ZIP64 end records", b"PK\x06\x06" in z64 and b"PK\x06\x07" in z64)
    expect("verify pyzip64", ["verify", p("pyzip64.zip")], 0, out=f"OK {p('pyzip64.zip')}\n", err="")
    expect("info pyzip64", ["info", p("pyzip64.zip")], 0, err="", out_has=("budget-01  version 2\n",))
    # ... but the two records must agree where the classic one is not saturated.
    e = z64.rindex(b"PK\x05\x06")
    bad = bytearray(z64)
    bad[e + 10] ^= 0x01  # total entries in the classic record
    with open(p("pyzip64-disagree.zip"), "wb") as f:
        f.write(bytes(bad))
    expect("verify pyzip64-disagree", ["verify", p("pyzip64-disagree.zip")], 1, out="",
           err=f"{p('pyzip64-disagree.zip')}: the two end of central directory records disagree\n")

    # Several bundles: every one is reported, exit 1 if any is bad.
    rc, o, e = run("verify", p("good.zip"), p("text.zip"), p("good.zip"))
    check("verify several", rc == 1 and o == f"OK {p('good.zip')}\nOK {p('good.zip')}\n"
          and e == f"{p('text.zip')}: not a zip archive\n", f"rc={rc} {o!r} {e!r}")
    expect("verify missing file", ["verify", p("nope.zip")], 1, out="",
           err=f"{p('nope.zip')}: cannot open: No such file or directory\n")

    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
