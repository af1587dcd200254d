#!/usr/bin/env python3
"""Signed bundles (issue 12): keygen, pack --sign, sign, verify --trusted,
import and the kiosk's require_signature policy, checked against the
`minisign` program itself.

- round trip: keygen -> pack --sign -> verify as trusted; `minisign -Vm` on the
  extracted manifest.json with the .pub agrees;
- every tampering is refused with its own reason by verify, import and the
  kiosk's scan: a media byte changed, a manifest edited and re-hashed but not
  re-signed, a signature moved from another lesson, a signature by an
  untrusted key, a truncated .minisig, a .minisig before manifest.json;
- the kiosk in each policy mode (/api/lessons over curl), and key rotation
  (a .pub moved out of the trusted folder, then a rescan).

Keys are made with SABAK_TEST_WEAK_KDF=1 (scrypt's "interactive" limits) so
the suite stays fast; one key is made with minisign's own limits and used
once, outside the sanitizer build."""
import base64
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st
import test_admin  # noqa: E402
from carrytest import synthetic_bundle  # noqa: E402

C = st.Checks("sign")
SABAK = st.SABAK
UNDER_ASAN = "ASAN_OPTIONS" in os.environ


def run(args, env=None, ok_codes=None):
    r = subprocess.run([SABAK] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=env)
    return r.returncode, r.stdout, r.stderr


def keygen(tmp, name, display, env):
    rc, out, err = run(["keygen", "-o", os.path.join(tmp, name + ".key"), "--name", display], env)
    C.eq("keygen %s" % name, (rc, err), (0, ""))
    return os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pub")


def minisign_ok(bundle, pub, tmp):
    """`minisign -Vm` on the bundle's manifest and signature: True when it accepts."""
    m, s = os.path.join(tmp, "m.json"), os.path.join(tmp, "m.json.minisig")
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        if "manifest.json.minisig" not in names:
            return None
        open(m, "wb").write(z.read("manifest.json"))
        open(s, "wb").write(z.read("manifest.json.minisig"))
    r = subprocess.run(["minisign", "-Vm", m, "-x", s, "-p", pub, "-q"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode == 0


def rezip(src, dst, entries):
    """Write dst with (name, bytes, stored) entries, in order (Python's zipfile)."""
    with zipfile.ZipFile(dst, "w") as z:
        for name, data, stored in entries:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


def entries_of(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename), i.compress_type == zipfile.ZIP_STORED)
                for i in z.infolist()]


def flip_media_byte(src, dst):
    """Copy src and change one byte in the middle of media/standard.mp4."""
    shutil.copy(src, dst)
    with zipfile.ZipFile(dst) as z:
        i = z.getinfo("media/standard.mp4")
    with open(dst, "r+b") as f:
        f.seek(i.header_offset)
        h = f.read(30)
        nlen, xlen = struct.unpack("<HH", h[26:30])
        off = i.header_offset + 30 + nlen + xlen + i.file_size // 2
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x55]))


def round_trip(tmp, env, keys, trusted):
    src = st.make_lesson(os.path.join(tmp, "src"), "signed-01", seconds=2)
    out = os.path.join(tmp, "packed")
    os.makedirs(out)
    r = subprocess.run([SABAK, "pack", src, "-o", out + "/", "--tiers", "audio", "--sign",
                        keys["a"][0], "--quiet"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    C.eq("pack --sign", (r.returncode, r.stderr), (0, ""))
    bundle = os.path.join(out, "signed-01-v1.zip")
    names = [n for n, _, _ in entries_of(bundle)]
    C.eq("signature is the second entry", names[:2], ["manifest.json", "manifest.json.minisig"])
    rc, o, e = run(["verify", "--trusted", trusted, "--require-signature", bundle])
    C.eq("verify: trusted", (rc, o),
         (0, "OK %s (signed by DPI Naryn trainers, trusted key %s)\n" % (bundle, keys["a"][2])))
    C.eq("a file that is no key is skipped, said once", e,
         "sabak: warning: %s/junk.pub: not a minisign public key (it has no key line) (skipped)\n" % trusted)
    C.eq("minisign -Vm accepts the packed bundle", minisign_ok(bundle, keys["a"][1], tmp), True)
    rc, o, e = run(["verify", bundle])
    C.eq("verify without keys: unknown key, still OK", (rc, o),
         (0, "OK %s (signed by an unknown key %s)\n" % (bundle, keys["a"][2])))
    rc, o, e = run(["info", "--trusted", trusted, bundle])
    C.true("info says who signed", "Signature: signed by DPI Naryn trainers, trusted key" in o, o)
    # reproducible: Ed25519 is deterministic and the comment has no time
    again = os.path.join(tmp, "again")
    os.makedirs(again)
    subprocess.run([SABAK, "pack", src, "-o", again + "/", "--tiers", "audio", "--sign",
                    keys["a"][0], "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
    C.eq("pack --sign is reproducible", open(bundle, "rb").read(),
         open(os.path.join(again, "signed-01-v1.zip"), "rb").read())
    # wrong passphrase
    bad = os.path.join(tmp, "wrong-pass")
    open(bad, "w").write("not it\n")
    rc, o, e = run(["sign", bundle, "--key", keys["a"][0], "-o", os.path.join(tmp, "x.zip")],
                   dict(env, SABAK_PASSPHRASE_FILE=bad))
    C.eq("wrong passphrase", (rc, e), (1, "sabak: %s: wrong passphrase for this key\n" % keys["a"][0]))
    C.true("nothing written on a wrong passphrase", not os.path.exists(os.path.join(tmp, "x.zip")))


def full_strength_key(tmp, env):
    """minisign's own scrypt limits (opslimit 2^25, memlimit 1 GiB), once."""
    fenv = dict(env)
    fenv.pop("SABAK_TEST_WEAK_KDF", None)
    key, pub = keygen(tmp, "full", "Full strength", fenv)
    raw = base64.b64decode(open(key).read().splitlines()[1])
    C.eq("secret key header", raw[:6], b"EdScB2")
    ops, mem = struct.unpack("<QQ", raw[38:54])
    C.eq("scrypt limits as minisign's", (ops, mem), (33554432, 1073741824))
    plain = os.path.join(tmp, "plain.zip")
    synthetic_bundle(plain, "full-strength", seed=9, media_bytes=4096)
    out = os.path.join(tmp, "full-signed.zip")
    rc, o, e = run(["sign", plain, "--key", key, "-o", out], fenv)
    C.eq("sign with a full-strength key", (rc, e), (0, ""))
    C.eq("minisign agrees (full-strength key)", minisign_ok(out, pub, tmp), True)


def tampered(tmp, env, keys):
    """{case: bundle path} for every tampering, from lessons alpha and beta."""
    d = os.path.join(tmp, "tamper")
    os.makedirs(d)
    plain_a, plain_b = os.path.join(d, "alpha-plain.zip"), os.path.join(d, "beta-plain.zip")
    synthetic_bundle(plain_a, "alpha", seed=1, media_bytes=64 << 10)
    synthetic_bundle(plain_b, "beta", seed=2, media_bytes=64 << 10)
    good, beta = os.path.join(d, "good.zip"), os.path.join(d, "beta.zip")
    for p, o, k in ((plain_a, good, "a"), (plain_b, beta, "a")):
        rc, _, e = run(["sign", p, "--key", keys[k][0], "-o", o], env)
        C.eq("sign %s" % os.path.basename(o), (rc, e), (0, ""))
    # sign never changes the media bytes
    C.eq("sign keeps the media bytes", st.entry_bytes(good, "media/standard.mp4"),
         st.entry_bytes(plain_a, "media/standard.mp4"))
    ent = entries_of(good)
    cases = {"good": good}

    cases["media"] = os.path.join(d, "media.zip")
    flip_media_byte(good, cases["media"])

    m = json.loads(ent[0][1])
    m["title"]["ru"] = "Чужой урок"
    edited = json.dumps(m, ensure_ascii=False, indent=1).encode()
    cases["edited"] = os.path.join(d, "edited.zip")
    rezip(good, cases["edited"], [("manifest.json", edited, False)] + ent[1:])

    beta_sig = dict((n, b) for n, b, _ in entries_of(beta))["manifest.json.minisig"]
    cases["moved"] = os.path.join(d, "moved.zip")
    rezip(good, cases["moved"], [ent[0], ("manifest.json.minisig", beta_sig, False)] + ent[2:])

    cases["untrusted"] = os.path.join(d, "untrusted.zip")
    rc, _, e = run(["sign", plain_a, "--key", keys["b"][0], "-o", cases["untrusted"]], env)
    C.eq("sign with the untrusted key", (rc, e), (0, ""))

    sig = ent[1][1]
    cases["truncated"] = os.path.join(d, "truncated.zip")
    rezip(good, cases["truncated"], [ent[0], ("manifest.json.minisig", b"\n".join(sig.split(b"\n")[:2]), False)]
          + ent[2:])

    cases["before"] = os.path.join(d, "before.zip")
    rezip(good, cases["before"], [ent[1], ent[0]] + ent[2:])
    return cases


# What each case must say (a part of its one line), by verify, import, kiosk.
REASONS = {
    "media": "media/standard.mp4",
    "edited": "manifest.json was changed after it was signed",
    "moved": "the signature is for lesson beta v1, not alpha v1",
    "untrusted": "unknown key",
    "truncated": "signature is truncated",
    "before": "manifest.json.minisig comes before manifest.json",
}


def check_minisign_agrees(cases, keys, tmp):
    want = {"good": True, "media": True, "edited": False, "moved": False, "untrusted": False,
            "truncated": False, "before": True}
    for case, path in cases.items():
        C.eq("minisign -V on %s" % case, minisign_ok(path, keys["a"][1], tmp), want[case])


def check_verify(cases, trusted):
    for case, path in cases.items():
        rc, o, e = run(["verify", "--trusted", trusted, "--require-signature", path])
        if case == "good":
            C.eq("verify good", rc, 0)
            continue
        C.eq("verify refuses %s" % case, rc, 1)
        C.true("verify %s says why" % case, REASONS[case] in e, e)
        others = [k for k in REASONS if k != case and k not in ("media", "untrusted")
                  and REASONS[k] in e]
        C.eq("verify %s: its own reason only" % case, others, [])


def check_import(cases, trusted, tmp):
    for case, path in cases.items():
        lib = os.path.join(tmp, "import-" + case)
        os.makedirs(lib)
        rc, o, e = run(["import", path, "--library", lib, "--no-sync", "--trusted", trusted,
                        "--require-signature", "on"])
        got = sorted(n for n in os.listdir(lib) if n.endswith(".zip"))
        if case == "good":
            C.eq("import good", (rc, got), (0, ["alpha-v1.zip"]))
            continue
        C.eq("import refuses %s" % case, (rc, got), (1, []))
        C.true("import %s says why" % case, REASONS[case] in o + e, o + e)
    # warn: an unsigned lesson comes in; a bad signature never does
    lib = os.path.join(tmp, "import-warn")
    os.makedirs(lib)
    rc, o, e = run(["import", cases["edited"], "--library", lib, "--no-sync", "--trusted", trusted,
                    "--require-signature", "warn"])
    C.eq("import warn: a bad signature is still refused", (rc, os.listdir(lib) == []), (1, True))


def lessons(srv):
    r = st.curl(srv.base + "/api/lessons")
    return json.loads(r.stdout)


def check_kiosk_scan(cases, trusted, tmp):
    lib = os.path.join(tmp, "kiosk-tamper")
    os.makedirs(lib)
    for case, path in cases.items():
        shutil.copy(path, os.path.join(lib, case + ".zip"))
    srv = st.Server(lib, "--trusted", trusted, "--require-signature", "on", "--quiet")
    try:
        deadline = time.monotonic() + 60
        while True:
            d = lessons(srv)
            dmg = {x["file"]: x["reason"] for x in d["damaged"]}
            if len(dmg) == len(REASONS) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        for case in REASONS:
            why = dmg.get(case + ".zip", "")
            C.true("kiosk refuses %s" % case, REASONS[case] in why, why or dmg)
        C.eq("kiosk serves the good one, as trusted", [(x["id"], x["signature"], x["publisher"])
                                                      for x in d["lessons"]],
             [("alpha", "trusted", "DPI Naryn trainers")])
    finally:
        C.eq("kiosk exits cleanly", srv.stop()[0], 0)


def check_policies(tmp, env, keys, trusted):
    lib = os.path.join(tmp, "kiosk-policy")
    os.makedirs(lib)
    for lid, key in (("alpha", "a"), ("beta", "b"), ("gamma", None)):
        plain = os.path.join(tmp, lid + "-policy.zip")
        synthetic_bundle(plain, lid, seed=3, media_bytes=4096)
        if key:
            subprocess.run([SABAK, "sign", plain, "--key", keys[key][0], "-o",
                            os.path.join(lib, lid + "-v1.zip")], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        else:
            shutil.copy(plain, os.path.join(lib, lid + "-v1.zip"))
    want = {
        "off": [("alpha", "trusted", "DPI Naryn trainers", False), ("beta", "unknown-key", None, False),
                ("gamma", "unsigned", None, False)],
        "warn": [("alpha", "trusted", "DPI Naryn trainers", False), ("beta", "unknown-key", None, True),
                 ("gamma", "unsigned", None, True)],
        "on": [("alpha", "trusted", "DPI Naryn trainers", False)],
    }
    pwf = os.path.join(tmp, "admin-pw")
    with open(pwf, "w") as f:
        f.write(test_admin.PASSWORD + "\n")
    subprocess.run([SABAK, "passwd", "--library", lib], env=dict(env, SABAK_PASSWORD_FILE=pwf),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for mode in ("off", "warn", "on"):
        srv = st.Server(lib, "--trusted", trusted, "--require-signature", mode, "--quiet")
        try:
            d = lessons(srv)
            got = sorted((x["id"], x["signature"], x["publisher"], x["unverified"]) for x in d["lessons"])
            C.eq("policy %s: /api/lessons" % mode, got, want[mode])
            if mode == "on":
                C.eq("policy on: the others are listed with why", sorted(
                    (x["file"], x["reason"]) for x in d["damaged"]),
                    [("beta-v1.zip", "beta-v1.zip: not shown: signed by an unknown key %s "
                      "(require_signature = on)" % keys["b"][2]),
                     ("gamma-v1.zip", "gamma-v1.zip: not shown: unsigned (require_signature = on)")])
                # rotation: retire key a, rescan: alpha is refused too; bring it back
                parked = os.path.join(tmp, "retired-a.pub")
                os.rename(os.path.join(trusted, "a.pub"), parked)
                srv.signal(signal.SIGHUP)
                ids = wait_ids(srv, [])
                C.eq("rotation: a retired key's lessons go", ids, [])
                os.rename(parked, os.path.join(trusted, "a.pub"))
                srv.signal(signal.SIGHUP)
                C.eq("rotation: trusted again", wait_ids(srv, ["alpha"]), ["alpha"])
            if mode == "on":
                check_admin_upload(srv, tmp, env, keys)
            one = json.loads(st.curl(srv.base + "/api/lessons/alpha").stdout)
            C.eq("policy %s: /api/lessons/alpha publisher" % mode, one.get("publisher"),
                 "DPI Naryn trainers")
        finally:
            C.eq("kiosk exits cleanly (%s)" % mode, srv.stop()[0], 0)


def check_admin_upload(srv, tmp, env, keys):
    """An upload through /admin obeys require_signature = on, as import does."""
    c = test_admin.Client(srv)
    C.eq("admin sign-in (policy on)", c.login()[0], 200)
    plain = os.path.join(tmp, "delta-upload.zip")
    synthetic_bundle(plain, "delta", seed=5, media_bytes=4096)
    signed = os.path.join(tmp, "delta-upload-signed.zip")
    subprocess.run([SABAK, "sign", plain, "--key", keys["a"][0], "-o", signed], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    for what, path, state in (("unsigned", plain, "failed"), ("signed by a trusted key", signed, "done")):
        with open(path, "rb") as f:
            s, _, b = c.req("POST", "/admin/api/upload?name=delta-v1.zip", f.read(),
                            {"Content-Type": "application/zip"})
        C.eq("admin upload (%s) taken as a job" % what, s, 202)
        j = test_admin.wait_job(c, json.loads(b)["job"])
        if j["state"] != state:
            print("job:", json.dumps(j, ensure_ascii=False))
        C.eq("admin upload (%s) under policy on" % what, j["state"], state)
    C.eq("the signed upload is shown", "delta" in wait_ids(srv, ["alpha", "delta"]), True)


def wait_ids(srv, want, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        ids = sorted(x["id"] for x in lessons(srv)["lessons"])
        if ids == want or time.monotonic() > deadline:
            return ids
        time.sleep(0.2)


def main():
    tmp = st.tmpdir("test_sign")
    pw = os.path.join(tmp, "pass")
    with open(pw, "w") as f:
        f.write("correct horse battery staple\n")
    env = dict(os.environ, SABAK_PASSPHRASE_FILE=pw, SABAK_TEST_WEAK_KDF="1")
    keys = {}
    for k, name in (("a", "DPI Naryn trainers"), ("b", "Stranger")):
        key, pub = keygen(tmp, k, name, env)
        kid = open(pub).read().split("minisign public key ")[1].split(";")[0]
        keys[k] = (key, pub, kid)
    rc, o, e = run(["keygen", "-o", keys["a"][0], "--name", "again"], env)
    C.eq("keygen never overwrites a key unasked", rc, 1)
    C.true("a .key is private", os.stat(keys["a"][0]).st_mode & 0o077 == 0, oct(os.stat(keys["a"][0]).st_mode))
    trusted = os.path.join(tmp, "trusted.d")
    os.makedirs(trusted)
    shutil.copy(keys["a"][1], os.path.join(trusted, "a.pub"))
    open(os.path.join(trusted, "junk.pub"), "w").write("not a key\n")  # skipped, with a warning

    round_trip(tmp, env, keys, trusted)
    if not UNDER_ASAN:
        full_strength_key(tmp, env)
    cases = tampered(tmp, env, keys)
    check_minisign_agrees(cases, keys, tmp)
    check_verify(cases, trusted)
    check_import(cases, trusted, tmp)
    check_kiosk_scan(cases, trusted, tmp)
    check_policies(tmp, env, keys, trusted)
    C.done()


if __name__ == "__main__":
    main()
