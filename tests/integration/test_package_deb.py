#!/usr/bin/env python3
"""The Debian packages, built the Debian way and installed (issue 14).

- packaging/build-deb (a clean copy, packaging/debian -> debian/,
  dpkg-buildpackage -us -uc -b) builds sabak and sabak-pack; with
  SABAK_DEB_DIR set, the .debs already there are checked instead;
- dpkg-deb -c / -f: the files, the conffile, and dependencies computed by
  dpkg-shlibdeps (the kiosk without FFmpeg, the packer with it);
- lintian reports no errors and no warnings (when installed);
- installed with dpkg into a throwaway root (dpkg --root, maintainer scripts
  run chrootless with DPKG_ROOT): the user sabak exists there, owns
  /var/lib/sabak, the unit is enabled; the installed sabak prints the
  version, finds its sabak-pack, and serves a bundle from the installed
  library with the installed settings (curl /api/lessons);
- an upgrade to a newer .deb keeps a changed conffile, the state (kiosk id,
  play counts) and the library; purge removes settings and state but never
  lessons.

Only the release build runs it (the package is built from source anyway);
in sanitizer builds it says so and passes.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402

SRC = os.environ.get("SABAK_SRC") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SABAK_BUILD", "build")

c = st.Checks("package-deb")


def run(args, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def sanitizer_build():
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            cache = f.read()
    except OSError:
        return False
    return re.search(r"^SABAK_(SANITIZE|TSAN|FUZZ):BOOL=ON$", cache, re.M) is not None


def version():
    with open(os.path.join(SRC, "CMakeLists.txt")) as f:
        return re.search(r"^project\(sabak VERSION ([0-9.]+)", f.read(), re.M).group(1)


def build_debs():
    pre = os.environ.get("SABAK_DEB_DIR")
    if pre:
        return pre
    out = st.tmpdir("debs")
    env = dict(os.environ, SABAK_DEB_JOBS=os.environ.get("SABAK_DEB_JOBS", "2"))
    r = run([os.path.join(SRC, "packaging", "build-deb"), out], env=env)
    if r.returncode != 0:
        print((r.stdout + r.stderr)[-4000:])
    c.eq("packaging/build-deb exit", r.returncode, 0)
    return out


def deb(debs, name):
    found = glob.glob(os.path.join(debs, "%s_%s_*.deb" % (name, version())))
    c.eq("one %s .deb of version %s" % (name, version()), len(found), 1)
    return found[0] if found else None


def contents(path):
    r = run(["dpkg-deb", "-c", path])
    return {ln.split()[-1].lstrip(".") for ln in r.stdout.splitlines() if ln.strip()}


def field(path, name):
    return run(["dpkg-deb", "-f", path, name]).stdout.strip()


def check_contents(kiosk, packer):
    files = contents(kiosk)
    for f in ["/usr/bin/sabak", "/lib/systemd/system/sabak.service", "/etc/sabak/sabak.conf",
              "/etc/sabak/trusted.d/", "/var/lib/sabak/library/",
              "/usr/share/man/man1/sabak.1.gz", "/usr/share/bash-completion/completions/sabak",
              "/usr/share/doc/sabak/technician-guide.md", "/usr/share/doc/sabak/copyright",
              "/usr/share/doc/sabak/examples/port80.conf", "/etc/avahi/services/sabak.service",
              "/usr/lib/sysusers.d/sabak.conf"]:
        c.true("sabak.deb holds %s" % f, f in files)
    c.true("sabak.deb holds no sabak-pack", not any("sabak-pack" in f for f in files))
    pfiles = contents(packer)
    c.true("sabak-pack.deb holds /usr/lib/sabak/sabak-pack", "/usr/lib/sabak/sabak-pack" in pfiles)
    c.eq("Version", field(kiosk, "Version"), version())
    dep = field(kiosk, "Depends")
    for lib in ["libmicrohttpd12", "libarchive13", "libjansson4", "libsqlite3-0"]:
        c.true("sabak depends on %s (dpkg-shlibdeps)" % lib, lib in dep, dep)
    c.true("sabak does not depend on FFmpeg", "libav" not in dep and "libsw" not in dep, dep)
    pdep = field(packer, "Depends")
    c.true("sabak-pack depends on libavcodec and libavformat",
           "libavcodec" in pdep and "libavformat" in pdep, pdep)
    c.true("sabak-pack depends on the same sabak", "sabak (= %s)" % version() in pdep, pdep)
    d = st.tmpdir("control")
    run(["dpkg-deb", "-e", kiosk, d])
    with open(os.path.join(d, "conffiles")) as f:
        conf = f.read().split()
    c.true("/etc/sabak/sabak.conf is a conffile", "/etc/sabak/sabak.conf" in conf, conf)


def check_lintian(changes_dir, kiosk, packer):
    if not shutil.which("lintian"):
        print("package-deb: lintian is not installed; skipped")
        return
    r = run(["lintian", "--tag-display-limit", "0", kiosk, packer])
    tags = [ln for ln in r.stdout.splitlines() if re.match(r"^[EW]: ", ln)]
    c.eq("lintian: no errors or warnings", tags, [])


def root_passwd(root, user):
    with open(os.path.join(root, "etc/passwd")) as f:
        for ln in f:
            p = ln.split(":")
            if p[0] == user:
                return int(p[2]), int(p[3])
    return None


def dpkg(root, *args):
    r = run(["dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends",
             "--force-not-root", "--log=" + os.path.join(root, "dpkg.log")] + list(args))
    # The root holds no libraries' packages: dpkg says so, and installs.
    noise = re.compile(r"depends on|not installed|dependency problems|^ ?\S+ depends|"
                       r"^\s+Package |Creating (user|group)|warning: overriding problem|"
                       r"not empty so not removed")
    problems = [ln for ln in r.stderr.splitlines() if ln.strip() and not noise.search(ln)]
    c.eq("dpkg %s exit" % " ".join(a for a in args if a.startswith("-")), r.returncode, 0)
    c.eq("dpkg %s: no other messages" % args[0], problems, [])
    return r


def new_root():
    root = st.tmpdir("root")
    for d in ["var/lib/dpkg/updates", "var/lib/dpkg/info", "etc", "tmp"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
    # A Debian system's own users, without sabak.
    for name in ["passwd", "group"]:
        with open("/etc/" + name) as src, open(os.path.join(root, "etc", name), "w") as dst:
            dst.writelines(ln for ln in src if not ln.startswith("sabak:"))
    return root


def serve_and_list(root, bundle_id):
    """The installed sabak with the installed settings serves the library
    (only where to listen and the state folder given on the command line)."""
    built, st.SABAK = st.SABAK, os.path.join(root, "usr/bin/sabak")
    try:
        srv = st.Server(os.path.join(root, "var/lib/sabak/library"),
                        "--config", os.path.join(root, "etc/sabak/sabak.conf"),
                        "--state", os.path.join(root, "var/lib/sabak"), "--quiet")
    finally:
        st.SABAK = built
    try:
        r = run(["curl", "-sS", "--max-time", "20", srv.base + "/api/lessons"])
        ids = [x.get("id") for x in json.loads(r.stdout or "{}").get("lessons", [])]
        c.true("installed kiosk serves %s (curl /api/lessons)" % bundle_id, bundle_id in ids,
               r.stdout[:300] + r.stderr)
    finally:
        srv.stop()


def tree_hashes(d, skip=()):
    out = {}
    for base, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if os.path.join(base, x) not in skip]
        for f in files:
            p = os.path.join(base, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, d)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def newer_deb(kiosk):
    """The same package as version X+upgradetest1 (what an upgrade sees)."""
    d = st.tmpdir("newer")
    tree = os.path.join(d, "tree")
    run(["dpkg-deb", "-R", kiosk, tree])
    ctl = os.path.join(tree, "DEBIAN", "control")
    with open(ctl) as f:
        text = f.read()
    with open(ctl, "w") as f:
        f.write(re.sub(r"^Version: .*$", "Version: %s+upgradetest1" % version(), text,
                       flags=re.M))
    out = os.path.join(d, "sabak_new.deb")
    r = run(["dpkg-deb", "--root-owner-group", "-b", tree, out])
    c.eq("dpkg-deb -b the newer package", r.returncode, 0)
    return out


def check_install(kiosk, packer):
    root = new_root()
    dpkg(root, "-i", kiosk, packer)
    ids = root_passwd(root, "sabak")
    c.true("the user sabak was made in the root", ids is not None)
    st_lib = os.stat(os.path.join(root, "var/lib/sabak/library"))
    c.eq("/var/lib/sabak/library belongs to sabak", (st_lib.st_uid, st_lib.st_gid), ids)
    c.true("the unit starts at boot (enabled)",
           os.path.islink(os.path.join(root, "etc/systemd/system/multi-user.target.wants/"
                                       "sabak.service")))
    exe = os.path.join(root, "usr/bin/sabak")
    c.eq("installed sabak --version", run([exe, "--version"]).stdout.strip(),
         "sabak " + version())
    with open(exe, "rb") as f:
        c.true("installed sabak looks for /usr/lib/sabak/sabak-pack",
               b"/usr/lib/sabak/sabak-pack" in f.read())
    r = run([exe, "pack", "--version"],
            env=dict(os.environ, SABAK_LIBEXEC=os.path.join(root, "usr/lib/sabak")))
    c.eq("installed sabak pack --version runs the installed sabak-pack", r.stdout.strip(),
         "sabak-pack " + version())
    r = run(["man", "--warnings", "-l", os.path.join(root, "usr/share/man/man1/sabak.1.gz")],
            env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
    c.eq("installed man page renders", (r.returncode, r.stderr), (0, ""))

    bundle = st.packed_bundle("pkg-deb-01")
    lib = os.path.join(root, "var/lib/sabak/library")
    st.copy_bundle(bundle, lib)
    serve_and_list(root, "pkg-deb-01")

    # The technician's changes and the kiosk's state, before the upgrade.
    conf = os.path.join(root, "etc/sabak/sabak.conf")
    with open(conf, "a") as f:
        f.write("\n; changed by the technician\nname = Upgrade test office\n")
    with open(conf) as f:
        conf_before = f.read()
    state = os.path.join(root, "var/lib/sabak")
    with open(os.path.join(state, "admin-test-marker"), "w") as f:
        f.write("password hash stand-in\n")
    state_before = tree_hashes(state)
    print("package-deb: state before the upgrade: %s" % " ".join(sorted(state_before)))
    c.true("the kiosk wrote its state (id, counts) into /var/lib/sabak",
           len([f for f in state_before if not f.startswith("library/")]) >= 2,
           sorted(state_before))

    dpkg(root, "-i", newer_deb(kiosk))
    r = run(["dpkg-query", "--admindir=" + os.path.join(root, "var/lib/dpkg"), "-W",
             "-f=${Version}", "sabak"])
    c.eq("upgraded", r.stdout, version() + "+upgradetest1")
    with open(conf) as f:
        c.eq("upgrade keeps the changed conffile", f.read(), conf_before)
    c.eq("upgrade keeps the state and the library", tree_hashes(state), state_before)
    serve_and_list(root, "pkg-deb-01")

    dpkg(root, "--purge", "sabak-pack", "sabak")
    c.true("purge removes the settings", not os.path.exists(conf))
    left = sorted(tree_hashes(state))
    c.true("purge keeps the lessons", "library/" + os.path.basename(bundle) in left, left)
    c.eq("purge removes the state (kiosk id, counts)",
         [f for f in left if not f.startswith("library/")], [])


def main():
    if sanitizer_build():
        print("package-deb: sanitizer build; the package is checked in the release build")
        return 0
    for tool in ["dpkg-buildpackage", "dh", "dpkg-deb"]:
        if not os.environ.get("SABAK_DEB_DIR") or tool == "dpkg-deb":
            c.true("%s is installed (tools/install-deps)" % tool, shutil.which(tool) is not None)
    if c.failed:
        c.done()
    debs = build_debs()
    kiosk, packer = deb(debs, "sabak"), deb(debs, "sabak-pack")
    if kiosk and packer:
        check_contents(kiosk, packer)
        check_lintian(debs, kiosk, packer)
        check_install(kiosk, packer)
    c.done()


sys.exit(main())
