#!/usr/bin/env python3
"""Two kiosks, A and B, each with its own library, and one drive:
import at A; export --for-offices at the base, which holds a newer version
of one lesson; import at B, then at A again. Asserts exactly which bundles
move each time, that `sabak reports` totals match the plays counted by each
kiosk, and that a repeated import changes nothing.

Plays are seeded into each kiosk's stats.sqlite with python's sqlite3 (the
schema of src/carry/stats.c), in past months that the kiosk's API cannot
write; test_kiosk_carry.py counts plays through POST /api/plays and checks
that the import's report and `sabak reports` carry exactly those."""
import csv
import io
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402
from carrytest import run, sha_file  # noqa: E402

FAILURES = []
SCHEMA = ("CREATE TABLE IF NOT EXISTS plays (lesson TEXT NOT NULL, month TEXT NOT NULL,"
          " plays INTEGER NOT NULL DEFAULT 0, seconds REAL NOT NULL DEFAULT 0,"
          " reported_plays INTEGER NOT NULL DEFAULT 0, reported_seconds REAL NOT NULL DEFAULT 0,"
          " PRIMARY KEY (lesson, month))")


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name, "" if cond else detail, flush=True)
    if not cond:
        FAILURES.append("%s: %s" % (name, detail))


def play(state, lesson, month, plays, seconds):
    os.makedirs(state, exist_ok=True)
    db = sqlite3.connect(os.path.join(state, "stats.sqlite"))
    db.execute(SCHEMA)
    db.execute("INSERT INTO plays (lesson, month, plays, seconds) VALUES (?,?,?,?) ON CONFLICT"
               " (lesson, month) DO UPDATE SET plays = plays + excluded.plays,"
               " seconds = seconds + excluded.seconds", (lesson, month, plays, seconds))
    db.commit()
    db.close()


def zips(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".zip"))


def moved(out):
    return sorted(line.split()[1].rstrip(":") for line in out.splitlines()
                  if line.startswith("copied "))


def main():
    root = st.tmpdir("carry-sync")
    base, a, b, drive = (os.path.join(root, x) for x in ("base", "kioskA", "kioskB", "drive"))
    for d in (base, a, b, drive):
        os.makedirs(d)
    os.makedirs(os.path.join(drive, "sabak"))  # a drive is a folder with sabak/ in it
    sa, sb = os.path.join(root, "stateA"), os.path.join(root, "stateB")
    budget1 = st.packed_bundle("budget-01", 1)
    budget2 = st.packed_bundle("budget-01", 2)
    web1 = st.packed_bundle("website-01", 1, title_ru="Сайт айыл окмоту", topic="web")
    water1 = st.packed_bundle("water-01", 1, title_ru="Вода", topic="water")
    st.copy_bundle(budget2, base, "budget-01-v2.zip")
    st.copy_bundle(web1, base, "website-01-v1.zip")
    st.copy_bundle(water1, base, "water-01-v1.zip")
    st.copy_bundle(budget1, a, "budget-01-v1.zip")
    st.copy_bundle(web1, b, "website-01-v1.zip")
    st.copy_bundle(budget1, b, "budget-01-v1.zip")

    play(sa, "budget-01", "2026-10", 3, 300)
    play(sb, "website-01", "2026-10", 2, 150)

    # 1. import at A: nothing to bring, A's record and report go onto the drive
    p = run("import", drive, "--library", a, "--state", sa, "--name", "Office A")
    check("A1: import exits 0", p.returncode == 0, p.stderr)
    check("A1: nothing moved", moved(p.stdout) == [], p.stdout)
    ids = os.listdir(os.path.join(drive, "sabak", "offices"))
    check("A1: one office record", len(ids) == 1, ids)

    # 2. export --for-offices at the base: everything A lacks or has older
    p = run("export", "--library", base, "--to", drive, "--for-offices", "--no-browsable")
    check("base1: export exits 0", p.returncode == 0, p.stderr)
    check("base1: moves what A lacks or has older", moved(p.stdout) ==
          ["budget-01-v2.zip", "water-01-v1.zip", "website-01-v1.zip"], p.stdout)

    # 3. import at B (holds website-01 v1 and budget-01 v1)
    play(sb, "website-01", "2026-11", 1, 60)
    p = run("import", drive, "--library", b, "--state", sb, "--name", "Office B")
    check("B1: import exits 0", p.returncode == 0, p.stderr)
    check("B1: moves budget v2 and water", moved(p.stdout) == ["budget-01-v2.zip", "water-01-v1.zip"],
          p.stdout)
    check("B1: the old version is replaced", zips(b) ==
          ["budget-01-v2.zip", "water-01-v1.zip", "website-01-v1.zip"], zips(b))

    # 4. import at A again, with more plays
    play(sa, "budget-01", "2026-10", 1, 100)
    play(sa, "budget-01", "2026-11", 4, 400)
    p = run("import", drive, "--library", a, "--state", sa)
    check("A2: import exits 0", p.returncode == 0, p.stderr)
    check("A2: moves all three", moved(p.stdout) ==
          ["budget-01-v2.zip", "water-01-v1.zip", "website-01-v1.zip"], p.stdout)
    check("A2: library is the base's", zips(a) == zips(base) and
          all(sha_file(os.path.join(a, n)) == sha_file(os.path.join(base, n)) for n in zips(a)))
    rec = {}
    for n in os.listdir(os.path.join(drive, "sabak", "offices")):
        o = json.load(open(os.path.join(drive, "sabak", "offices", n), encoding="utf-8"))
        rec[o["name"]] = sorted((x["id"], x["version"]) for x in o["lessons"])
    check("A2: office records say what each holds", rec == {
        "Office A": [("budget-01", 2), ("water-01", 1), ("website-01", 1)],
        "Office B": [("budget-01", 2), ("water-01", 1), ("website-01", 1)]}, rec)

    # 5. a repeated import changes nothing
    before = {n: os.stat(os.path.join(a, n)).st_ino for n in zips(a)}
    p = run("import", drive, "--library", a, "--state", sa)
    check("A3: a repeated import moves nothing", p.returncode == 0 and moved(p.stdout) == [] and
          before == {n: os.stat(os.path.join(a, n)).st_ino for n in zips(a)}, p.stdout)

    # 6. the base: nothing left for any office
    p = run("export", "--library", base, "--to", drive, "--for-offices", "--no-browsable")
    check("base2: nothing more to bring", p.returncode == 0 and moved(p.stdout) == [] and
          "already on the drive" not in p.stdout, p.stdout)

    # 7. reports: totals match the plays counted by each kiosk; twice the same
    out1 = run("reports", "--from", drive).stdout
    out_file = os.path.join(root, "all.csv")
    p = run("reports", "--from", drive, "-o", out_file)
    check("reports: exits 0", p.returncode == 0, p.stderr)
    rows = list(csv.DictReader(io.StringIO(out1)))
    got = sorted((r["office"], r["lesson"], r["month"], int(r["plays"]), float(r["minutes"]))
                 for r in rows)
    check("reports: totals per office, lesson and month", got == [
        ("Office A", "budget-01", "2026-10", 4, round(400 / 60, 1)),
        ("Office A", "budget-01", "2026-11", 4, round(400 / 60, 1)),
        ("Office B", "website-01", "2026-10", 2, 2.5),
        ("Office B", "website-01", "2026-11", 1, 1.0)], got)
    check("reports: running it twice counts nothing twice",
          open(out_file, encoding="utf-8").read() == out1)
    print("%d passed, %d failed" % (0 if FAILURES else 1, len(FAILURES)))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
