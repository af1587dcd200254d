"""Operating the kiosk: bundles added, removed and replaced while a client
streams (the streaming client still gets the old bytes, exactly), SIGHUP
rescans, SIGTERM exits within 2 s even with a client mid-stream, and kill -9
followed by a restart on the same port."""
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402

C = st.Checks("test_server_ops")
A, B = "ops-lesson-a", "ops-lesson-b"


def wait_for(what, fn, want, timeout=15):
    """Poll fn() until it returns want (behaviour, not speed: generous)."""
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = fn()
        if got == want:
            break
        time.sleep(0.1)
    C.eq(what, got, want)


def status_of(srv, path):
    try:
        return srv.request(path)[0]
    except OSError:
        return None


class SlowReader:
    """A GET whose body is read a little at a time, with a tiny receive
    buffer so most of the entry is still on the server's side."""

    def __init__(self, srv, path):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.s.connect((srv.host, srv.port))
        self.s.settimeout(30)
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.s.recv(4096)
        head, _, self.body = self.buf.partition(b"\r\n\r\n")
        self.head = head.decode("latin1")

    def read_some(self, n=8192):
        while n > 0:
            b = self.s.recv(min(n, 4096))
            if not b:
                return
            self.body += b
            n -= len(b)

    def read_all(self):
        while True:
            b = self.s.recv(65536)
            if not b:
                break
            self.body += b
        self.s.close()
        return self.body


def streaming_changes(work):
    lib = os.path.join(work, "library")
    os.makedirs(lib)
    a1 = st.packed_bundle(A, 1, seconds=20)
    a2 = st.packed_bundle(A, 2, seconds=4, title_ru="Новая версия")
    b1 = st.packed_bundle(B, 1, title_ru="Второй урок", title_ky="Экинчи сабак")
    st.copy_bundle(a1, lib, "%s.zip" % A)
    srv = st.Server(lib)
    try:
        url = "/lessons/%s/media/standard.mp4" % A
        old = st.entry_bytes(a1, "media/standard.mp4")
        reader = SlowReader(srv, url)
        reader.read_some(8192)
        C.true("stream started", reader.head.startswith("HTTP/1.1 200"), reader.head[:40])

        # add: a new bundle renamed into place is served
        st.copy_bundle(b1, lib, "%s.zip" % B)
        wait_for("added bundle served", lambda: status_of(srv, "/api/lessons/" + B), 200)
        # replace A with version 2 (atomic rename over the same name)
        st.copy_bundle(a2, lib, "%s.zip" % A)

        def version():
            status, h, body = srv.request("/api/lessons/" + A)
            return json.loads(body).get("version") if status == 200 else None
        wait_for("replaced bundle swapped", version, 2)
        new = st.entry_bytes(a2, "media/standard.mp4")
        status, h, body = srv.request(url)
        C.eq("new requests get the new entry", (status, body == new), (200, True))
        C.eq("new ETag", h.get("etag"), '"%s"' % st.manifest_file(a2, path="media/standard.mp4")["sha256"])
        # an old If-Range no longer matches: full new body, never a mix
        old_etag = '"%s"' % st.manifest_file(a1, path="media/standard.mp4")["sha256"]
        status, h, body = srv.request(url, headers={"Range": "bytes=100-", "If-Range": old_etag})
        C.eq("stale If-Range after replace", (status, body == new), (200, True))
        # remove B
        os.unlink(os.path.join(lib, "%s.zip" % B))
        wait_for("removed bundle gone", lambda: status_of(srv, "/api/lessons/" + B), 404)
        wait_for("removed bundle media gone",
                 lambda: status_of(srv, "/lessons/%s/poster.jpg" % B), 404)
        # the client that was streaming the old A finishes it, byte for byte
        body = reader.read_all()
        C.eq("streaming client got the old entry", (len(body), body == old), (len(old), True))
    finally:
        rc, _ = srv.stop()
        C.eq("exit status", rc, 0)


def sighup(work):
    lib = os.path.join(work, "library-hup")
    os.makedirs(lib)
    cfg = os.path.join(work, "nowatch.ini")
    with open(cfg, "w") as f:
        f.write("[server]\nwatch = no\n")
    srv = st.Server(lib, "--config", cfg)
    try:
        C.eq("empty library", status_of(srv, "/api/lessons/" + B), 404)
        st.copy_bundle(st.packed_bundle(B, 1, title_ru="Второй урок", title_ky="Экинчи сабак"), lib)
        time.sleep(1.5)  # without inotify nothing happens by itself ...
        C.eq("not watched: not yet served", status_of(srv, "/api/lessons/" + B), 404)
        mark = len(srv.lines)
        srv.signal(signal.SIGHUP)  # ... until SIGHUP
        C.true("rescan logged", srv.wait_line(r"sabak: library rescanned", 15, mark))
        C.eq("served after SIGHUP", status_of(srv, "/api/lessons/" + B), 200)
    finally:
        srv.stop()


def sigterm_and_kill(work):
    lib = os.path.join(work, "library")
    srv = st.Server(lib)
    # SIGTERM with a client mid-stream: out within 2 s, exit status 0
    reader = SlowReader(srv, "/lessons/%s.zip" % A)
    reader.read_some(4096)
    rc, secs = srv.stop()
    print("SIGTERM with a client mid-stream: exited in %.3f s" % secs)
    C.eq("SIGTERM exit status", rc, 0)
    C.true("SIGTERM exit within 2 s", secs < 2.0, "took %.3f s" % secs)
    C.true("stop logged", any("stopping" in l for l in srv.lines))
    try:
        reader.read_all()
    except OSError:
        pass
    # kill -9, then a restart on the same port serves again
    srv = st.Server(lib)
    port = srv.port
    keep = SlowReader(srv, "/lessons/%s.zip" % A)  # an open connection at the time of death
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    srv2 = st.Server(lib, listen="127.0.0.1:%d" % port)
    try:
        C.eq("restart on the same port", srv2.port, port)
        C.eq("serves after kill -9 + restart", status_of(srv2, "/api/lessons/" + A), 200)
        status, h, body = srv2.request("/lessons/%s/media/standard.mp4" % A)
        a2 = st.packed_bundle(A, 2, seconds=4, title_ru="Новая версия")
        C.eq("media after restart", (status, body == st.entry_bytes(a2, "media/standard.mp4")),
             (200, True))
    finally:
        try:
            keep.s.close()
        except OSError:
            pass
        srv2.stop()


def web_dir(work):
    """--web-dir serves a folder's copy (by exact name only); SIGHUP rereads
    it. The example config in packaging/ loads."""
    web = os.path.join(work, "web")
    os.makedirs(os.path.join(web, "i18n"))
    os.makedirs(os.path.join(web, "offline"))
    with open(os.path.join(web, "index.html"), "w", encoding="utf-8") as f:
        f.write("<!doctype html><title>сабак</title>один")
    with open(os.path.join(web, "i18n", "ky.json"), "w", encoding="utf-8") as f:
        f.write('{"title": "Сабактар"}')
    with open(os.path.join(web, "offline", "player.html"), "w") as f:
        f.write("offline")
    with open(os.path.join(web, ".secret.js"), "w") as f:
        f.write("hidden")
    lib = os.path.join(work, "library-web")
    os.makedirs(lib)
    src = os.environ.get("SABAK_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
    srv = st.Server(lib, "--config", os.path.join(src, "packaging", "sabak.ini"), "--web-dir", web)
    try:
        status, h, body = srv.request("/")
        C.eq("--web-dir index", (status, body.decode()), (200, "<!doctype html><title>сабак</title>один"))
        status, h, body = srv.request("/i18n/ky.json")
        C.eq("--web-dir i18n", (status, h.get("content-type"), body.decode()),
             (200, "application/json", '{"title": "Сабактар"}'))
        for path in ["/static/offline/player.html", "/static/.secret.js", "/static/../index.html",
                     "/static/%2e%2e/%2e%2e/etc/passwd"]:
            C.true("--web-dir %s refused" % path, status_of(srv, path) in (400, 404))
        with open(os.path.join(web, "index.html"), "w", encoding="utf-8") as f:
            f.write("два")
        mark = len(srv.lines)
        srv.signal(signal.SIGHUP)
        C.true("rescan logged (web)", srv.wait_line(r"sabak: library rescanned", 15, mark))
        status, h, body = srv.request("/")
        C.eq("--web-dir reread on SIGHUP", (status, body.decode()), (200, "два"))
    finally:
        srv.stop()


def main():
    work = st.tmpdir("server-ops")
    streaming_changes(work)
    sighup(work)
    web_dir(work)
    sigterm_and_kill(work)
    C.done()


if __name__ == "__main__":
    main()
