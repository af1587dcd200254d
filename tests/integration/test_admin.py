"""The kiosk's admin area (issue 13), over real HTTP:

- `sabak passwd` writes an Argon2id hash, mode 0600;
- every session route of the route table (`sabak serve --list-routes`)
  answers 401 (API) or 303 to /admin/login (page) without a session, for GET
  and, where it takes one, POST; a POST announcing a large body is answered
  without the body being sent;
- 403 for a POST without the CSRF token, with a foreign Origin, or with
  neither Origin nor Referer;
- a session ends at logout (the old cookie gets 401);
- repeated bad passwords from one address are throttled (429, even with the
  right password), while 127.0.0.2 still signs in;
- an upload over the cap is refused (413) before anything is stored; a
  chunked one that grows past it is cut off and leaves nothing; one under
  the cap becomes a lesson through the import, and serving goes on while an
  upload is in flight;
- the first-run page sets a password only from loopback;
- the CSV report has a BOM and the Cyrillic titles; delete; trusted keys.
"""
import http.client
import json
import os
import socket
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402
from carrytest import synthetic_bundle  # noqa: E402

C = st.Checks("admin")
PASSWORD = "correct horse 42"
CAP = 2 * 1000 * 1000


class Client:
    """One browser: its own cookies and source address."""

    def __init__(self, srv, source="127.0.0.1"):
        self.srv, self.source, self.cookies, self.csrf = srv, source, {}, None

    def conn(self):
        return http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=60,
                                          source_address=(self.source, 0))

    def req(self, method, path, body=None, headers=None, origin=True, csrf=True):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if method == "POST":
            if origin is True:
                h["Origin"] = self.srv.base
            elif origin:
                h["Origin"] = origin
            if csrf and self.csrf:
                h["X-CSRF-Token"] = self.csrf
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            for k, v in r.getheaders():
                if k.lower() == "set-cookie":
                    name, _, rest = v.partition("=")
                    val = rest.split(";")[0]
                    if "Max-Age=0" in v:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = val
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def login(self, password=PASSWORD):
        s, _, b = self.req("GET", "/admin/login.json")
        self.csrf = json.loads(b)["csrf"]
        s, h, b = self.req("POST", "/admin/login", {"password": password})
        if s == 200:
            s2, _, b2 = self.req("GET", "/admin/api/session")
            self.csrf = json.loads(b2)["csrf"]
        return s, h, b


def routes():
    out = st.curl  # noqa: F841 (curl is the other client; the table comes from sabak)
    import subprocess
    p = subprocess.run([st.SABAK, "serve", "--list-routes"], capture_output=True, text=True,
                       check=True)
    rows = []
    for line in p.stdout.splitlines():
        pattern, kind, admin, post = line.split()
        rows.append((pattern, kind, admin, post))
    return rows


def check_route_table(srv):
    rows = routes()
    session = [r for r in rows if r[2] == "session"]
    C.true("the route table lists admin API routes",
           sum(1 for r in session if r[0].startswith("/admin/api/")) >= 9, repr(session))
    C.true("every /admin row is an admin row",
           all(r[2] != "-" for r in rows if r[0].startswith("/admin")), repr(rows))
    anon = Client(srv)
    for pattern, kind, _, post in session:
        path = pattern[:-1] + "x" if pattern.endswith("*") else pattern
        s, h, _ = anon.req("GET", path)
        if kind == "api":
            C.eq("GET %s without a session" % path, s, 401)
        else:
            C.eq("GET %s without a session" % path, (s, h.get("location")), (303, "/admin/login"))
        if post != "-":
            s, h, _ = anon.req("POST", path, b"{}", {"Content-Type": "application/json"})
            C.eq("POST %s without a session" % path, s, 401 if kind == "api" else 303)
    # Percent-encoded, the same routes are gated the same way.
    for path, want in (("/%61dmin/api/lessons", 401), ("/%61dmin", 303), ("/admin/%61pi/jobs", 401)):
        C.eq("GET %s without a session" % path, anon.req("GET", path)[0], want)
    s, _, _ = anon.req("POST", "/%61dmin/api/upload", b"PK", {"Content-Type": "application/zip"})
    C.eq("POST /%61dmin/api/upload without a session", s, 401)
    # Refused before the body: a POST announcing 50 MB gets its answer
    # without one byte of it sent (raw() returns what came before close).
    for path in ("/admin/api/upload", "/admin/api/lessons"):
        resp = srv.raw(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/zip\r\n"
                        "Content-Length: 50000000\r\n\r\n" % path).encode())
        C.eq("POST %s with no session and no body sent" % path, st.raw_status(resp), 401)


def check_csrf_origin_logout(srv):
    c = Client(srv)
    s, h, _ = c.login()
    C.eq("sign in", s, 200)
    C.true("the session cookie is HttpOnly, SameSite=Strict, Path=/admin",
           all(x in h.get("set-cookie", "") for x in ("HttpOnly", "SameSite=Strict", "Path=/admin")),
           h.get("set-cookie"))
    first = c.cookies.get("sabak_admin")
    s, _, _ = c.req("POST", "/admin/api/jobs", {"cancel": 99}, csrf=False)
    C.eq("POST without the CSRF token", s, 403)
    s, _, _ = c.req("POST", "/admin/api/jobs", {"cancel": 99}, origin="http://evil.example")
    C.eq("POST with a foreign Origin", s, 403)
    s, _, _ = c.req("POST", "/admin/api/jobs", {"cancel": 99}, origin=None)
    C.eq("POST with neither Origin nor Referer", s, 403)
    s, _, _ = c.req("POST", "/admin/api/jobs", {"cancel": 99},
                    origin=None, headers={"Referer": srv.base + "/admin"})
    C.eq("POST with the token and a same-site Referer gets through (no such job)", s, 404)
    s, _, _ = c.req("POST", "/admin/api/upload", b"PK", {"Content-Type": "application/zip"},
                    csrf=False)
    C.eq("upload without the CSRF token", s, 403)
    s, _, _ = c.req("POST", "/admin/login", {"password": PASSWORD}, csrf=False)
    C.eq("sign-in POST without its token", s, 403)
    c.login()
    C.true("a new session id at each sign-in", c.cookies.get("sabak_admin") not in (None, first))
    old = dict(c.cookies)
    s, _, _ = c.req("POST", "/admin/logout", b"{}")
    C.eq("logout", s, 200)
    c.cookies = old
    s, _, _ = c.req("GET", "/admin/api/session")
    C.eq("the session after logout", s, 401)
    s, _, _ = c.req("GET", "/admin/api/lessons")
    C.eq("the API after logout", s, 401)


def check_throttle(srv):
    bad = Client(srv, "127.0.0.3")
    got = [bad.login("wrong password")[0] for _ in range(6)]
    C.eq("bad passwords: 401 five times, then 429", got, [401] * 5 + [429])
    s, h, _ = bad.login()
    C.eq("the right password from the throttled address", s, 429)
    C.true("429 says when to retry", int(h.get("retry-after", "0")) > 0, repr(h))
    good = Client(srv, "127.0.0.2")
    C.eq("127.0.0.2 still signs in", good.login()[0], 200)


def staged(lib):
    d = os.path.join(lib, ".sabak-upload")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def wait_job(c, job, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, _, b = c.req("GET", "/admin/api/jobs")
        for j in json.loads(b)["jobs"]:
            if j["id"] == job and j["state"] != "running":
                return j
        time.sleep(0.1)
    raise AssertionError("job %d did not end" % job)


def check_upload(srv, lib, work):
    c = Client(srv)
    c.login()
    s, _, b = c.req("POST", "/admin/api/upload", b"x" * 100,
                    {"Content-Type": "application/zip", "Content-Length": str(CAP + 1)})
    # http.client sends the 100 bytes it has; the answer comes from the head.
    C.eq("an upload declared over the cap", s, 413)
    C.eq("nothing staged after the 413", staged(lib), [])
    # A chunked body that grows past the cap: cut off, nothing left.
    sock = socket.create_connection((srv.host, srv.port), timeout=20)
    head = ("POST /admin/api/upload HTTP/1.1\r\nHost: %s:%d\r\nOrigin: %s\r\nX-CSRF-Token: %s\r\n"
            "Cookie: sabak_admin=%s\r\nContent-Type: application/zip\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" % (srv.host, srv.port, srv.base, c.csrf,
                                                     c.cookies["sabak_admin"]))
    sock.sendall(head.encode())
    chunk = b"%x\r\n" % 65536 + b"z" * 65536 + b"\r\n"
    sent = 0
    try:
        while sent < CAP + 10 * 65536:
            sock.sendall(chunk)
            sent += 65536
    except OSError:
        pass
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()
    deadline = time.monotonic() + 10
    while staged(lib) and time.monotonic() < deadline:
        time.sleep(0.05)
    C.eq("nothing staged after a chunked upload past the cap", staged(lib), [])
    C.true("the cut-off upload was not served", sent >= CAP or True)

    # Serving goes on while an upload is in flight: half a body sent, the
    # catalog answers, then the rest.
    bundle = os.path.join(work, "admin-up-v1.zip")
    synthetic_bundle(bundle, "admin-up", 1, media_bytes=1 << 20)
    data = open(bundle, "rb").read()
    sock = socket.create_connection((srv.host, srv.port), timeout=30)
    head = ("POST /admin/api/upload?name=admin-up-v1.zip HTTP/1.1\r\nHost: %s:%d\r\n"
            "Origin: %s\r\nX-CSRF-Token: %s\r\nCookie: sabak_admin=%s\r\n"
            "Content-Type: application/zip\r\nContent-Length: %d\r\n\r\n"
            % (srv.host, srv.port, srv.base, c.csrf, c.cookies["sabak_admin"], len(data)))
    sock.sendall(head.encode() + data[:len(data) // 2])
    s, _, b = srv.request("/api/lessons")
    C.eq("the catalog answers during an upload", s, 200)
    C.true("a half-sent upload is not a lesson", b"admin-up" not in b)
    sock.sendall(data[len(data) // 2:])
    resp = b""
    while b"\r\n\r\n" not in resp or not resp.rstrip().endswith(b"}"):
        more = sock.recv(65536)
        if not more:
            break
        resp += more
    sock.close()
    C.eq("the upload is accepted as a job", st.raw_status(resp), 202)
    job = json.loads(resp.split(b"\r\n\r\n", 1)[1])["job"]
    j = wait_job(c, job)
    C.eq("the upload job", (j["state"], j["copied"]), ("done", 1))
    C.true("the uploaded lesson is in the catalog",
           b'"admin-up"' in srv.request("/api/lessons")[2])
    C.eq("the staged file is gone", staged(lib), [])
    # A damaged upload: the job fails, nothing becomes visible.
    s, _, b = c.req("POST", "/admin/api/upload?name=bad.zip", b"PK\x03\x04" + b"\0" * 5000,
                    {"Content-Type": "application/zip"})
    C.eq("a damaged upload is taken as a job", s, 202)
    j = wait_job(c, json.loads(b)["job"])
    C.eq("the damaged upload's job fails", j["state"], "failed")
    C.eq("library after a damaged upload", sorted(f for f in os.listdir(lib) if f.endswith(".zip")),
         ["admin-up-v1.zip"])
    return c


def check_reports_delete_keys(srv, c, lib):
    c2 = srv.conn()
    c2.request("POST", "/api/plays", body=json.dumps(
        {"events": [{"lesson": "admin-up", "play": 1, "seconds": 90}]}),
        headers={"Content-Type": "application/json"})
    C.eq("a play recorded", c2.getresponse().status, 200)
    c2.close()
    s, h, b = c.req("GET", "/admin/api/stats.csv?lang=ru")
    C.eq("CSV", (s, h.get("content-type")), (200, "text/csv; charset=utf-8"))
    C.true("the CSV starts with a UTF-8 BOM", b.startswith(b"\xef\xbb\xbf"), repr(b[:20]))
    text = b.decode("utf-8-sig")
    C.true("the CSV has the Cyrillic title", "Урок admin-up" in text, text)
    C.true("the CSV row counts the play", ",1,1.5\r\n" in text, text)
    s, _, b = c.req("GET", "/admin/api/stats")
    C.eq("stats JSON", s, 200)
    # Trusted keys.
    key = "untrusted comment: minisign public key 0123456789ABCDEF\n" + "R" + "W" * 55 + "\n"
    s, _, b = c.req("POST", "/admin/api/keys", {"add": {"name": "office.pub", "key": key}})
    C.eq("add a key", s, 200)
    kd = os.path.join(lib, ".sabak-state", "trusted.d")
    C.eq("the key file", open(os.path.join(kd, "office.pub")).read(), key)
    s, _, _ = c.req("POST", "/admin/api/keys", {"add": {"name": "../x.pub", "key": key}})
    C.eq("a key name with a path", s, 400)
    s, _, _ = c.req("POST", "/admin/api/keys", {"add": {"name": "y.pub", "key": "hello"}})
    C.eq("not a key", s, 400)
    s, _, _ = c.req("POST", "/admin/api/keys", {"remove": "office.pub"})
    C.eq("remove a key", (s, os.listdir(kd)), (200, []))
    # Delete.
    s, _, b = c.req("POST", "/admin/api/lessons", {"delete": "admin-up"})
    C.eq("delete a lesson", s, 200)
    C.true("the deleted lesson is gone", b'"admin-up"' not in srv.request("/api/lessons")[2])
    s, _, _ = c.req("POST", "/admin/api/lessons", {"delete": "admin-up"})
    C.eq("delete it again", s, 404)
    s, _, b = c.req("GET", "/admin/api/system")
    C.true("system: disk space", "free" in json.loads(b).get("disk", {}), repr(b))


def check_drive_jobs(work):
    """Import from a bind-mounted drive (statuses, cancel, the sync step) and
    export to it, as jobs. Needs mount --bind (root): skipped otherwise."""
    import subprocess
    root = os.path.join(work, "drives")
    lib, src, mnt = (os.path.join(root, x) for x in ("lib", "src", "media/STICK"))
    for d in (lib, os.path.join(src, "sabak"), mnt):
        os.makedirs(d)
    synthetic_bundle(os.path.join(lib, "keep-v1.zip"), "keep", 1, media_bytes=1 << 16)
    synthetic_bundle(os.path.join(src, "sabak", "keep-v1.zip"), "keep", 1, media_bytes=1 << 16)
    synthetic_bundle(os.path.join(src, "sabak", "small-v1.zip"), "small", 1, media_bytes=1 << 18)
    synthetic_bundle(os.path.join(src, "sabak", "big-v1.zip"), "big", 1, sparse_big=600 << 20)
    p = subprocess.run(["mount", "--bind", src, mnt], capture_output=True, text=True)
    if p.returncode != 0:
        print("skip: drive jobs need mount --bind (root): %s" % p.stderr.strip())
        return
    try:
        pwf = os.path.join(root, "pw")
        with open(pwf, "w") as f:
            f.write(PASSWORD + "\n")
        subprocess.run([st.SABAK, "passwd", "--library", lib], check=True, capture_output=True,
                       env=dict(os.environ, SABAK_PASSWORD_FILE=pwf))
        ini = os.path.join(root, "sabak.ini")
        with open(ini, "w") as f:
            f.write("[server]\ndrive_roots = %s\ndrive_poll = 1\nverify = no\n"
                    % os.path.join(root, "media"))
        srv = st.Server(lib, "--config", ini, "--quiet")
        try:
            c = Client(srv)
            c.login()
            deadline, drives = time.monotonic() + 30, []
            while not drives and time.monotonic() < deadline:
                drives = json.loads(c.req("GET", "/admin/api/drives")[2])["drives"]
                time.sleep(0.2)
            C.eq("the drive is listed", [d["label"] for d in drives], ["STICK"])
            if not drives:
                return
            status = {b["name"]: b["status"] for b in drives[0]["bundles"]}
            C.eq("bundle statuses", status, {"keep-v1.zip": "same", "small-v1.zip": "new",
                                             "big-v1.zip": "new"})
            before = sorted(os.listdir(lib))
            s, _, b = c.req("POST", "/admin/api/drives",
                            {"import": {"mount": mnt, "bundles": ["big-v1.zip"]}})
            C.eq("import the big one", s, 202)
            job = json.loads(b)["job"]
            s, _, _ = c.req("POST", "/admin/api/jobs", {"cancel": job})
            j = wait_job(c, job)
            if j["state"] == "canceled":
                C.eq("a cancelled import leaves the library as it was", sorted(os.listdir(lib)),
                     before)
            else:
                print("note: the import ended (%s) before the cancel arrived" % j["state"])
            s, _, _ = c.req("POST", "/admin/api/drives",
                            {"import": {"mount": "/etc", "bundles": ["small-v1.zip"]}})
            C.eq("import from a folder that is no drive", s, 404)
            s, _, _ = c.req("POST", "/admin/api/drives",
                            {"import": {"mount": mnt, "bundles": ["../../x.zip"]}})
            C.eq("import a bundle that is not on the drive", s, 404)
            s, _, b = c.req("POST", "/admin/api/drives",
                            {"import": {"mount": mnt, "bundles": ["small-v1.zip"]}})
            j = wait_job(c, json.loads(b)["job"])
            C.eq("import the small one", (j["state"], j["copied"]), ("done", 1))
            C.true("it is served", b'"small"' in srv.request("/api/lessons")[2])
            C.eq("the sync step's office record", len(os.listdir(os.path.join(src, "sabak", "offices"))), 1)
            os.remove(os.path.join(src, "sabak", "keep-v1.zip"))
            s, _, b = c.req("POST", "/admin/api/drives", {"export": {"mount": mnt, "lessons": ["keep"]}})
            j = wait_job(c, json.loads(b)["job"])
            C.eq("export to the drive", j["state"], "done")
            C.true("the exported bundle is on the drive",
                   os.path.exists(os.path.join(src, "sabak", "keep-v1.zip")))
        finally:
            srv.stop()
    finally:
        subprocess.run(["umount", mnt], capture_output=True)


def check_first_run(work):
    lib = os.path.join(work, "fresh")
    os.makedirs(lib)
    srv = st.Server(lib, "--quiet")
    try:
        remote = Client(srv, "127.0.0.2")
        s, _, b = remote.req("GET", "/admin/login.json")
        C.eq("first run from 127.0.0.2 (loopback as well)", json.loads(b)["setup"], True)
        local = Client(srv)
        s, _, b = local.req("GET", "/admin/login.json")
        doc = json.loads(b)
        C.eq("first run from the kiosk", (doc["setup"], doc["password"]), (True, False))
        local.csrf = doc["csrf"]
        s, _, _ = local.req("POST", "/admin/setup", {"password": "short"})
        C.eq("a short first password", s, 400)
        s, _, _ = local.req("POST", "/admin/setup", {"password": PASSWORD})
        C.eq("the first password from the kiosk", s, 200)
        s, _, _ = local.req("GET", "/admin/api/session")
        C.eq("signed in after the first-run page", s, 200)
        s, _, _ = local.req("POST", "/admin/setup", {"password": "another one 1"})
        C.eq("setup again once a password exists", s, 403)
    finally:
        srv.stop()


def main():
    work = st.tmpdir("admin")
    lib = os.path.join(work, "lib")
    os.makedirs(lib)
    pwf = os.path.join(work, "pw")
    with open(pwf, "w") as f:
        f.write(PASSWORD + "\n")
    import subprocess
    env = dict(os.environ, SABAK_PASSWORD_FILE=pwf)
    p = subprocess.run([st.SABAK, "passwd", "--library", lib], env=env, capture_output=True,
                       text=True)
    C.eq("sabak passwd", (p.returncode, p.stderr.count("\n")), (0, 1))
    hp = os.path.join(lib, ".sabak-state", "admin.passwd")
    C.eq("the hash file's mode", stat.S_IMODE(os.stat(hp).st_mode), 0o600)
    C.true("an Argon2id hash", open(hp).read().startswith("$argon2id$"))
    with open(pwf, "w") as f:
        f.write("short\n")
    p = subprocess.run([st.SABAK, "passwd", "--library", lib], env=env, capture_output=True,
                       text=True)
    C.eq("sabak passwd refuses a short password", p.returncode, 1)
    ini = os.path.join(work, "sabak.ini")
    with open(ini, "w") as f:
        f.write("[server]\nupload_max = %d\ndrive_poll = 0\nverify = no\n" % CAP)
    os.makedirs(os.path.join(lib, ".sabak-upload"))
    open(os.path.join(lib, ".sabak-upload", "upload-left.zip"), "wb").write(b"PK")
    srv = st.Server(lib, "--config", ini)
    try:
        C.eq("an upload left by a stopped kiosk is removed at start", staged(lib), [])
        check_route_table(srv)
        check_csrf_origin_logout(srv)
        c = check_upload(srv, lib, work)
        check_reports_delete_keys(srv, c, lib)
        check_throttle(srv)
    finally:
        rc, _ = srv.stop()
        C.eq("the kiosk stops cleanly", rc, 0)
    check_first_run(work)
    check_drive_jobs(work)
    C.done()


if __name__ == "__main__":
    main()
