"""Hostile clients against the real kiosk: request smuggling headers that
libmicrohttpd 0.9.75 lets through (raw sockets), malformed requests, and
stalled connections filling one address's quota while another address is
still served. Also the INI config and its error messages."""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402

C = st.Checks("test_server_hostile")
LESSON = "hostile-lesson-01"


def count_answers(resp):
    """How many /healthz answers."""
    return resp.count(b"\nlessons: ")


def smuggling(srv):
    poster = "/lessons/%s/poster.jpg" % LESSON
    rows = [
        # name, request, allowed statuses
        ("duplicate Content-Length",
         "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", (400,)),
        ("conflicting Content-Length",
         "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello", (400,)),
        ("Content-Length list",
         "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 40\r\n\r\nhello", (400,)),
        ("Content-Length with Transfer-Encoding",
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
         "0\r\n\r\n", (400,)),
        ("Content-Length with Transfer-Encoding on GET",
         "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
         "0\r\n\r\n", (400,)),
        ("duplicate Host",
         "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", (400,)),
        ("unknown transfer coding",
         "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", (400, 501)),
        ("chunked not last",
         "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", (400, 501)),
        ("two Transfer-Encoding fields",
         "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         (400, 501)),
        ("missing Host on HTTP/1.1",
         "GET / HTTP/1.1\r\n\r\n", (400,)),
        ("space before colon",
         "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello", (400,)),
        # obs-fold (RFC 9112 5.2): MHD 0.9.75 glues the continuation onto
        # the name ("Content-Length7: 5") and then sees no body at all.
        ("obs-fold Content-Length",
         "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n 7\r\n\r\nhello", (400,)),
        ("obs-fold empty Content-Length",
         "GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n 5\r\n\r\nhello", (400,)),
        ("obs-fold Transfer-Encoding",
         "POST /api/plays HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
         (400,)),
        ("CR inside a field value",
         "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", (400,)),
        ("field name outside token",
         "GET / HTTP/1.1\r\nHost: x\r\nX(A): v\r\n\r\n", (400,)),
        ("absolute-form target",
         "GET http://x/lessons/%s/poster.jpg HTTP/1.1\r\nHost: x\r\n\r\n" % LESSON, (400, 404)),
        ("NUL in the path",
         "GET %s%%00 HTTP/1.1\r\nHost: x\r\n\r\n" % poster, (400,)),
    ]
    for name, req, allowed in rows:
        # A second request rides behind the first: it must never be answered.
        data = (req + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").encode()
        resp = srv.raw(data, timeout=5)
        # One answer, one header block (MHD 0.9.75's own 400 for a missing
        # Host sent its header block twice; the kiosk answers that one now).
        # MHD still answers a Content-Length it cannot parse before the
        # kiosk sees the request, with the doubled block: docs/RELIABILITY.md.
        if not name.startswith("Content-Length list"):
            C.eq(name + ": one status line", resp.count(b"HTTP/1.1 "), 1)
        code = st.raw_status(resp)
        C.true(name, code in allowed, "got %r: %r" % (code, resp[:120]))
        C.eq(name + ": smuggled request not answered", count_answers(resp), 0)
    # the server is still fine
    status, h, body = srv.request(poster)
    C.eq("after smuggling attempts", status, 200)
    # a sane pipelined pair is answered twice (keep-alive works)
    resp = srv.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    C.eq("pipelined keep-alive", count_answers(resp), 2)
    # GET with a body of its own: answered, body dropped, no smuggling
    inner = b"GET /api/info HTTP/1.1\r\nHost: x\r\n\r\n"
    resp = srv.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(inner)
                   + inner + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    C.eq("GET with body: two answers", count_answers(resp), 2)
    C.true("GET with body: body not run as a request", b'"name"' not in resp)
    # a big upload to a read-only server: refused at once, the body never read
    resp = srv.raw(b"POST /lessons/%s/poster.jpg HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Length: 100000000\r\n\r\n" % LESSON.encode() + b"x" * 1000)
    C.eq("POST with a large body -> 405 at once", st.raw_status(resp), 405)
    # a GET whose body goes on and on: the connection is closed
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
    sent, closed = 0, False
    try:
        while sent < 10000000:
            s.sendall(b"y" * 65536)
            sent += 65536
    except OSError:
        closed = True
    s.close()
    C.true("endless GET body: connection closed", closed, "sent %d bytes" % sent)
    # garbage request line
    resp = srv.raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
    C.true("TLS hello / garbage", st.raw_status(resp) in (400, None), resp[:60])
    # an enormous header is refused, not buffered without bound
    resp = srv.raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
    C.true("huge header refused", st.raw_status(resp) in (400, 413, 414, 431, None), resp[:60])
    status, h, body = srv.request("/healthz")
    C.eq("still alive", status, 200)


def stalled_clients(lib):
    """Fill 127.0.0.1's per-address quota with connections that send half a
    request and stall (slowloris); 127.0.0.2 is still served."""
    cfg = os.path.join(lib, "..", "small-limits.ini")
    with open(cfg, "w") as f:
        f.write("[server]\nper_ip_limit = 8\nconnection_limit = 64\ntimeout = 60\n")
    srv = st.Server(lib, "--config", cfg, "--quiet", listen="0.0.0.0:0")
    socks = []
    try:
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-a: b\r\n")
            socks.append(s)
        # The ninth and later connections from 127.0.0.1 were dropped.
        dropped = 0
        for s in socks[8:]:
            try:
                s.settimeout(5)
                dropped += s.recv(1) == b""
            except (ConnectionResetError, socket.timeout):
                dropped += 1
        C.eq("connections over the per-address limit dropped", dropped, 12)
        # Another address gets its answer.
        c = socket.create_connection(("127.0.0.2", srv.port), timeout=10,
                                     source_address=("127.0.0.2", 0))
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        c.settimeout(10)
        resp = b""
        while True:
            b = c.recv(4096)
            if not b:
                break
            resp += b
        c.close()
        C.eq("127.0.0.2 served while 127.0.0.1 stalls", st.raw_status(resp), 200)
    finally:
        for s in socks:
            s.close()
        srv.stop()


def slow_heads_many_addresses(lib):
    """Red-team finding 5: slow request heads from many addresses must not
    hold every slot. Six addresses fill a 40-slot listener with heads they
    never finish; a seventh address is still served from the reserve, and the
    stalled heads are cut at header_timeout, long before MHD's own timeout."""
    cfg = os.path.join(lib, "..", "slow-heads.ini")
    with open(cfg, "w") as f:
        f.write("[server]\nconnection_limit = 40\nper_ip_limit = 8\nreserve = 8\n"
                "header_timeout = 2\ntimeout = 120\nthreads = 1\n")
    srv = st.Server(lib, "--config", cfg, "--quiet", listen="0.0.0.0:0")
    socks = []
    try:
        for a in range(2, 8):
            for _ in range(8):
                try:
                    s = socket.create_connection(("127.0.0.%d" % a, srv.port), timeout=5,
                                                 source_address=("127.0.0.%d" % a, 0))
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-a: b")
                    socks.append(s)
                except OSError:
                    pass
        c = socket.create_connection(("127.0.0.50", srv.port), timeout=10,
                                     source_address=("127.0.0.50", 0))
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        c.settimeout(10)
        resp = b""
        try:
            while True:
                b = c.recv(4096)
                if not b:
                    break
                resp += b
        except (ConnectionResetError, socket.timeout):
            pass
        c.close()
        C.eq("a new address is served while six others hold slow heads",
             st.raw_status(resp) if resp else None, 200)
        # Every stalled head is closed by the server (header_timeout 2 s; MHD's
        # inactivity timeout is 120 s, far beyond the 30 s allowed here).
        closed = 0
        for s in socks:
            try:
                s.settimeout(30)
                closed += s.recv(1) == b""
            except (ConnectionResetError, socket.timeout):
                closed += 1 if not isinstance(sys.exc_info()[1], socket.timeout) else 0
        C.eq("stalled heads closed by the head deadline", closed, len(socks))
        C.true("the listener was full before the reserve", len(socks) >= 32, str(len(socks)))
    finally:
        for s in socks:
            s.close()
        srv.stop()


def descriptor_exhaustion(lib):
    """Red-team finding 6: out of file descriptors, libmicrohttpd logged
    "Error accepting connection" in a busy loop (568 MB in 15 s). With the
    kiosk held to 48 descriptors and 300 clients from 10 addresses, the log
    stays a few lines, and once they leave a new client is served."""
    srv_args = [st.SABAK, "serve", "--library", lib, "--listen", "127.0.0.1:0", "--quiet"]
    p = subprocess.Popen(["prlimit", "--nofile=48:48", "--"] + srv_args,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines, port = [], []

    def reader():
        for line in p.stderr:
            lines.append(line)
            m = st.Server.LISTEN_RE.search(line.decode(errors="replace"))
            if m:
                port.append(int(m.group(2)))
    import threading
    threading.Thread(target=reader, daemon=True).start()
    socks = []
    try:
        for _ in range(100):
            if port:
                break
            time.sleep(0.1)
        C.true("kiosk starts with 48 descriptors", bool(port), b"".join(lines)[:300])
        if not port:
            return
        for i in range(300):
            a = "127.0.0.%d" % (2 + i // 30)
            try:
                socks.append(socket.create_connection(("127.0.0.1", port[0]), timeout=2,
                                                      source_address=(a, 0)))
            except OSError:
                pass
        time.sleep(4)
        n = len(lines)
        C.true("log stays short while out of descriptors", n < 200, "%d lines: %r" % (n, lines[:3]))
        for s in socks:
            s.close()
        socks = []
        ok = None
        for _ in range(40):
            try:
                c = socket.create_connection(("127.0.0.1", port[0]), timeout=5,
                                             source_address=("127.0.0.60", 0))
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                c.settimeout(5)
                ok = st.raw_status(c.recv(4096))
                c.close()
                if ok == 200:
                    break
            except OSError:
                pass
            time.sleep(0.25)
        C.eq("served again once the clients left", ok, 200)
    finally:
        for s in socks:
            s.close()
        p.terminate()
        p.wait(timeout=10)


def red_team(srv):
    """Issue 9 defects 10, 12, 13 and 14 (GET body): each row failed before
    its fix."""
    # 12: hundreds of query parameters get an answer (414), not a silent close.
    q = "&".join("a%d=1" % i for i in range(600))
    resp = srv.raw(("GET /api/search?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    % q).encode())
    C.eq("600 query parameters: 414", st.raw_status(resp), 414)
    status, h, body = srv.request("/api/search?q=budget&lang=ru")
    C.eq("a few parameters still work", status, 200)
    # 14: a GET body over 64 KiB is answered 413 before the close.
    resp = srv.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                   b"Connection: close\r\n\r\n" + b"a" * 100000)
    C.eq("GET body over 64 KiB: 413", st.raw_status(resp), 413)
    # 13: control bytes in the method never reach the log raw.
    start = len(srv.lines)
    srv.raw(b"G\x1b[2JT /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    m = srv.wait_line(r"\\x1b\[2JT", 10, start)
    C.true("escape in the method logged as \\x1b", m is not None, "".join(srv.lines[start:])[-300:])
    C.true("no raw ESC in the log", not any("\x1b" in l for l in srv.lines))
    # 10: CSP and nosniff.
    status, h, body = srv.request("/")
    C.true("kiosk page: strict CSP", "default-src 'self'" in h.get("content-security-policy", "")
           and "unsafe-inline" not in h.get("content-security-policy", ""), repr(h))
    C.eq("kiosk page: nosniff", h.get("x-content-type-options"), "nosniff")
    status, h, body = srv.request("/lessons/%s/index.html" % LESSON)
    C.eq("bundle HTML: 200", status, 200)
    C.eq("bundle HTML: sandboxed", h.get("content-security-policy"), "sandbox allow-scripts")
    status, h, body = srv.request("/lessons/%s/manifest.json" % LESSON)
    C.eq("bundle JSON: no sandbox policy", h.get("content-security-policy"), None)
    C.eq("bundle JSON: nosniff", h.get("x-content-type-options"), "nosniff")


def config_errors(lib):
    work = os.path.dirname(lib)
    bad = os.path.join(work, "bad.ini")
    rows = [
        ("[server]\nlibrary = %s\nper_ip_limt = 3\n" % lib, ':3: unknown setting "per_ip_limt"'),
        ("[server]\nlibrary = %s\ntimeout = soon\n" % lib,
         ':3: timeout: expected a number from 1 to 86400, not "soon"'),
        ("[sever]\nlibrary = %s\n" % lib, ':2: setting "library" outside the [server] section'),
        ("[server]\nthis is not ini\n", ":2: not an INI line"),
        ("[server]\nlisten = 127.0.0.1:99999\nlibrary = %s\n" % lib, 'bad port "99999"'),
        ("[server]\nlisten = localhost:8080\nlibrary = %s\n" % lib, '"localhost" is not an IP address'),
    ]
    for text, want in rows:
        with open(bad, "w") as f:
            f.write(text)
        r = subprocess.run([st.SABAK, "serve", "--config", bad], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        C.true("config error %r" % want, r.returncode in (1, 2) and want in r.stderr,
               "rc %d: %s" % (r.returncode, r.stderr.strip()))
    r = subprocess.run([st.SABAK, "serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    C.eq("no library: usage", r.returncode, 2)
    r = subprocess.run([st.SABAK, "serve", "--help"], stdout=subprocess.PIPE, text=True, timeout=30)
    C.true("--help", r.returncode == 0 and "--library DIR" in r.stdout and "SIGHUP" in r.stdout)
    # a config file that sets everything works
    good = os.path.join(work, "good.ini")
    with open(good, "w") as f:
        f.write("; the example config\n[server]\nlisten = 127.0.0.1:0\nlibrary = %s\n"
                "connection_limit = 100\nper_ip_limit = 10\ntimeout = 20\nmemory_limit = 65536\n"
                "threads = 1\nbacklog = 64\nmin_rate = 2048\nwatch = no\nverify = no\n"
                "access_log = yes\n" % lib)
    srv = st.Server(lib, "--config", good)
    status, h, body = srv.request("/healthz")
    C.eq("server from config", status, 200)
    srv.stop()


def main():
    work = st.tmpdir("server-hostile")
    lib = os.path.join(work, "library")
    os.makedirs(lib)
    st.copy_bundle(st.packed_bundle(LESSON), lib)
    srv = st.Server(lib)
    try:
        smuggling(srv)
        red_team(srv)
    finally:
        srv.stop()
    stalled_clients(lib)
    slow_heads_many_addresses(lib)
    descriptor_exhaustion(lib)
    config_errors(lib)
    C.done()


if __name__ == "__main__":
    main()
