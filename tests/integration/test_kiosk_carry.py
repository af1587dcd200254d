#!/usr/bin/env python3
"""The kiosk side of carrying lessons (issue 10), against a real
`sabak serve` over real HTTP:

- POST /api/plays counts plays and seconds; /api/stats returns them per
  lesson and per month; bad reports are refused (size, type, shape, unknown
  lessons), and one address cannot inflate the counts past its rate limit;
- `sabak import DRIVE --library L --state S` (the sync step) writes the
  usage report with exactly the counts the API returned;
- a drive bind-mounted under a configured drive root shows up in
  /api/drives with its new lessons, disappears when unmounted, and with
  auto_import its lessons signed by a trusted key appear in /api/lessons
  with no click (an unsigned one stays on the drive).

Bundles are synthetic (carrytest.synthetic_bundle): no transcoding."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402
from carrytest import run, synthetic_bundle  # noqa: E402

C = st.Checks("kiosk carry")
MONTH = time.strftime("%Y-%m", time.gmtime())


def post(srv, body, ctype="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    c = srv.conn()
    try:
        c.request("POST", "/api/plays", body=data, headers={"Content-Type": ctype})
        r = c.getresponse()
        out = r.read()
        return r.status, (json.loads(out) if out.startswith(b"{") else out)
    finally:
        c.close()


def get_json(srv, path):
    status, _, body = srv.request(path)
    if status != 200:
        raise AssertionError("%s: %d %r" % (path, status, body[:200]))
    return json.loads(body)


def lesson_stats(doc, lesson):
    for l in doc["lessons"]:
        if l["lesson"] == lesson:
            return l
    return None


def wait_for(what, fn, timeout=30):
    """Poll fn() until it returns something true (the kiosk polls the mount
    table every second here); returns the last value."""
    deadline = time.monotonic() + timeout
    v = fn()
    while not v and time.monotonic() < deadline:
        time.sleep(0.25)
        v = fn()
    C.true(what, bool(v), "(still not so after %d s)" % timeout)
    return v


def write_ini(path, **keys):
    with open(path, "w") as f:
        f.write("[server]\n")
        for k, v in keys.items():
            f.write("%s = %s\n" % (k, v))


def mount_bind(src, dst):
    os.makedirs(dst, exist_ok=True)
    p = subprocess.run(["mount", "--bind", src, dst], capture_output=True, text=True)
    return p.returncode == 0, p.stderr.strip()


def umount(dst):
    if subprocess.run(["umount", dst], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", dst], capture_output=True)


def plays_and_sync(tmp):
    lib, state, drive = (os.path.join(tmp, n) for n in ("lib", "state", "drive"))
    os.makedirs(lib)
    os.makedirs(os.path.join(drive, "sabak"))
    synthetic_bundle(os.path.join(lib, "alpha-v1.zip"), "alpha", seed=1)
    synthetic_bundle(os.path.join(lib, "beta-v1.zip"), "beta", seed=2)
    synthetic_bundle(os.path.join(drive, "sabak", "gamma-v1.zip"), "gamma", seed=3)
    ini = os.path.join(tmp, "kiosk.ini")
    write_ini(ini, drive_poll=0, name="Kara-Suu")
    srv = st.Server(lib, "--config", ini, "--state", state, "--quiet")
    try:
        # Counting.
        s, r = post(srv, {"events": [{"lesson": "alpha", "play": 1, "seconds": 30}]})
        C.eq("one play: status", s, 200)
        C.eq("one play: answer", r, {"lessons": 1, "unknown": 0, "limited": 0})
        post(srv, {"events": [{"lesson": "alpha", "play": True, "seconds": 12.5},
                              {"lesson": "alpha", "seconds": 60},
                              {"lesson": "beta", "play": 1, "seconds": 10}]})
        s, r = post(srv, {"events": [{"lesson": "nosuch", "play": 1, "seconds": 5}]})
        C.eq("unknown lesson: status", s, 200)
        C.eq("unknown lesson: answer", r, {"lessons": 0, "unknown": 1, "limited": 0})
        doc = get_json(srv, "/api/stats")
        a, b = lesson_stats(doc, "alpha"), lesson_stats(doc, "beta")
        C.eq("alpha plays", a and a["plays"], 2)
        C.eq("alpha seconds", a and a["seconds"], 102.5)
        C.eq("alpha per month", a and a["months"],
             [{"month": MONTH, "plays": 2, "seconds": 102.5, "minutes": 1.7}])
        C.eq("beta plays", b and b["plays"], 1)
        C.eq("unknown lesson not counted", lesson_stats(doc, "nosuch"), None)
        C.eq("months", doc["months"], [{"month": MONTH, "plays": 3, "seconds": 112.5,
                                        "minutes": 1.9}])
        C.eq("total plays", doc["plays"], 3)
        C.eq("kiosk name", doc["kiosk"]["name"], "Kara-Suu")
        kiosk_id = doc["kiosk"]["id"]
        C.true("kiosk id", len(kiosk_id) == 32, kiosk_id)

        # Refused reports change nothing.
        for what, body, ctype, want in [
                ("text/plain", {"events": [{"lesson": "alpha", "play": 1}]}, "text/plain", 415),
                ("form", b"lesson=alpha", "application/x-www-form-urlencoded", 415),
                ("not JSON", b"{", "application/json", 400),
                ("no events", {"events": []}, "application/json", 400),
                ("33 events", {"events": [{"lesson": "alpha", "seconds": 1}] * 33},
                 "application/json", 400),
                ("601 seconds", {"events": [{"lesson": "alpha", "seconds": 601}]},
                 "application/json", 400),
                ("negative", {"events": [{"lesson": "alpha", "seconds": -1}]},
                 "application/json", 400),
                ("play 5", {"events": [{"lesson": "alpha", "play": 5}]}, "application/json", 400),
                ("bad id", {"events": [{"lesson": "../x", "play": 1}]}, "application/json", 400),
                ("9 KiB", b'{"events":[]' + b" " * 9216 + b"}", "application/json", 413)]:
            s, _ = post(srv, body, ctype)
            C.eq("refused: " + what, s, want)
        s, h, _ = srv.request("/api/plays")
        C.eq("GET /api/plays", (s, h.get("allow")), (405, "POST"))
        s, _, _ = srv.request("/api/lessons", method="POST")
        C.eq("POST elsewhere", s, 405)
        C.eq("refused reports counted nothing", get_json(srv, "/api/stats")["plays"], 3)

        # The sync step: sabak import from the drive writes the report with
        # exactly these counts (the kiosk keeps running: WAL).
        p = run("import", drive, "--library", lib, "--state", state)
        C.eq("import exit", p.returncode, 0)
        reports = os.path.join(drive, "sabak", "reports")
        names = sorted(os.listdir(reports)) if os.path.isdir(reports) else []
        C.eq("one report", len(names), 1)
        C.true("report named by kiosk id", names and names[0].startswith(kiosk_id + "-"), names)
        rows = list(csv.DictReader(open(os.path.join(reports, names[0])))) if names else []
        got = {(r["lesson"], r["month"]): (int(r["plays"]), float(r["seconds"])) for r in rows}
        C.eq("report rows", got, {("alpha", MONTH): (2, 102.5), ("beta", MONTH): (1, 10.0)})
        p = run("reports", "--from", drive)
        merged = list(csv.DictReader(io.StringIO(p.stdout)))
        C.eq("sabak reports plays", sorted((r["lesson"], r["plays"]) for r in merged),
             [("alpha", "2"), ("beta", "1")])
        wait_for("imported lesson served",
                 lambda: any(l["id"] == "gamma" for l in get_json(srv, "/api/lessons")["lessons"]))

        # Rate limit: one address gets 20 plays at once, then one per 20 s.
        t0 = time.monotonic()
        sent = 0
        for _ in range(10):
            post(srv, {"events": [{"lesson": "beta", "play": 1, "seconds": 1}] * 1 +
                       [{"lesson": "alpha", "play": 1, "seconds": 1}]})
            sent += 2
        s, r = post(srv, {"events": [{"lesson": "gamma", "play": 1, "seconds": 600}] * 8})
        sent += 8
        took = time.monotonic() - t0
        C.true("over the limit: said so", s == 200 and r["limited"] >= 1, r)
        total = get_json(srv, "/api/stats")["plays"]
        allowed = 20 + int(took / 20) + 1
        C.true("plays bounded by the rate limit", 3 < total <= 3 + allowed,
               "total %d after %d sent (allowed %d)" % (total, sent, allowed))
        g = lesson_stats(get_json(srv, "/api/stats"), "gamma")
        C.true("seconds bounded by the rate limit", g and g["seconds"] <= 3600 + 2 * took + 2, g)
    finally:
        C.eq("kiosk exits cleanly", srv.stop()[0], 0)


def drives(tmp):
    root = os.path.join(tmp, "media")
    os.makedirs(root)
    src = os.path.join(tmp, "usb")
    os.makedirs(os.path.join(src, "sabak"))
    synthetic_bundle(os.path.join(src, "sabak", "alpha-v1.zip"), "alpha", seed=1)
    # delta signed by a key the kiosk trusts, eps unsigned: auto_import
    # brings only delta (docs/SIGNING.md)
    keys = os.path.join(tmp, "keys")
    os.makedirs(os.path.join(keys, "trusted"))
    with open(os.path.join(keys, "pass"), "w") as f:
        f.write("drive test\n")
    kenv = dict(os.environ, SABAK_PASSPHRASE_FILE=os.path.join(keys, "pass"), SABAK_TEST_WEAK_KDF="1")
    subprocess.run([st.SABAK, "keygen", "-o", os.path.join(keys, "t.key"), "--name", "Trainers"],
                   env=kenv, check=True, stdout=subprocess.DEVNULL)
    shutil.copy(os.path.join(keys, "t.pub"), os.path.join(keys, "trusted", "t.pub"))
    synthetic_bundle(os.path.join(tmp, "delta-unsigned.zip"), "delta", seed=4)
    subprocess.run([st.SABAK, "sign", os.path.join(tmp, "delta-unsigned.zip"), "--key",
                    os.path.join(keys, "t.key"), "-o", os.path.join(src, "sabak", "delta-v1.zip")],
                   env=kenv, check=True, stdout=subprocess.DEVNULL)
    synthetic_bundle(os.path.join(src, "sabak", "eps-v1.zip"), "eps", seed=5)
    mnt = os.path.join(root, "usb1")
    ok, why = mount_bind(src, mnt)
    if not ok:
        print("skip: drive tests need mount --bind (root): %s" % why)
        return
    umount(mnt)
    for auto in ("no", "yes"):
        lib, state = os.path.join(tmp, "lib-" + auto), os.path.join(tmp, "state-" + auto)
        os.makedirs(lib)
        synthetic_bundle(os.path.join(lib, "alpha-v1.zip"), "alpha", seed=1)
        ini = os.path.join(tmp, "drives-%s.ini" % auto)
        write_ini(ini, drive_roots=root + " /nonexistent", drive_poll=1, auto_import=auto,
                  trusted=os.path.join(keys, "trusted"))
        srv = st.Server(lib, "--config", ini, "--state", state, "--quiet")
        try:
            d = get_json(srv, "/api/drives")
            C.eq("auto=%s: no drive yet" % auto, (d["drives"], d["new"], d["auto_import"]),
                 ([], 0, auto == "yes"))
            mount_bind(src, mnt)
            try:
                if auto == "no":
                    d = wait_for("drive noticed", lambda: get_json(srv, "/api/drives")["drives"])
                    C.eq("drive notice", d and {k: d[0][k] for k in ("label", "bundles", "new",
                                                                   "state")},
                         {"label": "usb1", "bundles": 3, "new": 2, "state": "ready"})
                    C.eq("nothing imported unasked", sorted(
                        l["id"] for l in get_json(srv, "/api/lessons")["lessons"]), ["alpha"])
                else:
                    d = wait_for("auto_import: drive says imported", lambda: [
                        x for x in get_json(srv, "/api/drives")["drives"]
                        if x["state"] == "imported"])
                    C.eq("auto_import: count (the signed one)", d and d[0]["imported"], 1)
                    ids = sorted(l["id"] for l in get_json(srv, "/api/lessons")["lessons"])
                    C.eq("auto_import: lessons (eps is unsigned: left on the drive)", ids,
                         ["alpha", "delta"])
                    kid = get_json(srv, "/api/stats")["kiosk"]["id"]
                    C.true("auto_import: office record on the drive", os.path.exists(
                        os.path.join(src, "sabak", "offices", kid + ".json")))
            finally:
                umount(mnt)
            wait_for("auto=%s: drive gone after unmount" % auto,
                     lambda: get_json(srv, "/api/drives")["drives"] == [])
        finally:
            C.eq("kiosk exits cleanly", srv.stop()[0], 0)


def no_state(tmp):
    """A state folder that cannot be made: lessons are served, counts are off."""
    lib = os.path.join(tmp, "lib-nostate")
    os.makedirs(lib)
    synthetic_bundle(os.path.join(lib, "alpha-v1.zip"), "alpha", seed=1)
    blocker = os.path.join(tmp, "a-file")
    open(blocker, "w").close()
    srv = st.Server(lib, "--state", os.path.join(blocker, "state"), "--quiet")
    try:
        C.eq("no state: lessons served", srv.request("/api/lessons")[0], 200)
        C.eq("no state: stats", srv.request("/api/stats")[0], 503)
        C.eq("no state: plays", post(srv, {"events": [{"lesson": "alpha", "play": 1}]})[0], 503)
        C.true("no state: said why", srv.wait_line("plays are not counted", 5))
    finally:
        C.eq("kiosk exits cleanly", srv.stop()[0], 0)


def main():
    tmp = st.tmpdir("kiosk-carry")
    no_state(tmp)
    plays_and_sync(tmp)
    drives(tmp)
    C.done()


if __name__ == "__main__":
    main()
