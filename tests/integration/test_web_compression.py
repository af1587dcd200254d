"""Slow links (issue 11, item 6) and the damaged-bundle log (item 8), with
the real curl: the web app's text assets come gzip-compressed (made at build
time), the JSON APIs too when the client accepts it, every such answer says
Vary: Accept-Encoding; index.html links versioned asset URLs that may be
cached for ever (immutable), unversioned or stale ones are revalidated. A
damaged bundle gives one log line with its reason at scan time."""
import gzip
import json
import os
import re
import sys
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402

C = st.Checks("test_web_compression")
SRC = os.environ.get("SABAK_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))


def get(srv, path, *headers):
    """(status, headers with lower-case names, body bytes as sent) via curl."""
    args = ["-D", "-", "-o", "-"]
    for h in headers:
        args += ["-H", h]
    p = st.curl(*args, srv.base + path)
    raw = p.stdout
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/\S+ (\d+)", lines[0])
    h = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        h[k.strip().lower()] = v.strip()
    return (int(m.group(1)) if m else 0), h, body


def main():
    lib = st.tmpdir("web-compression")
    st.copy_bundle(st.packed_bundle("http-lesson-01", title_ru="Гражданский бюджет онлайн"), lib)
    st.copy_bundle(st.packed_bundle("http-lesson-02", title_ru="Муниципальный сайт",
                                    title_ky="Айыл өкмөтүнүн сайты", order=2), lib)
    with open(os.path.join(lib, "junk.zip"), "wb") as f:
        f.write(b"this is not a zip archive\n")
    with open(os.path.join(lib, "cut\nforged line.zip"), "wb") as f:
        f.write(b"PK\x03\x04" + b"\0" * 100)
    srv = st.Server(lib)
    try:
        run(srv)
    finally:
        srv.stop()
    log = "".join(srv.lines)
    damaged = [l for l in log.splitlines() if "damaged:" in l]
    C.eq("one log line per damaged bundle", len(damaged), 2)
    C.true("the log line names the file and the reason",
           any(re.search(r"damaged: junk\.zip: not a zip archive$", l) for l in damaged), log)
    C.true("a file name cannot forge a log line",
           any("cut?forged line.zip: " in l for l in damaged) and
           not any(l.startswith("forged line") for l in log.splitlines()), log)
    C.done()


def run(srv):
    gz_ok = "Accept-Encoding: gzip, deflate, br"
    # index.html: compressed, revalidated, with versioned links
    s, h, body = get(srv, "/", gz_ok)
    C.eq("/ gzip", (s, h.get("content-encoding"), h.get("vary"), h.get("cache-control")),
         (200, "gzip", "Accept-Encoding", "no-cache"))
    page = gzip.decompress(body).decode()
    links = dict(re.findall(r'"/static/([a-z.]+)\?v=([0-9a-f]{16})"', page))
    C.true("index.html links versioned assets", "app.js" in links and "app.css" in links, page[:600])
    s, h2, plain = get(srv, "/")
    C.eq("/ without Accept-Encoding: plain, still Vary",
         (s, h2.get("content-encoding"), h2.get("vary"), plain.decode() == page),
         (200, None, "Accept-Encoding", True))
    C.true("/ gzip has its own ETag", h.get("etag") and h.get("etag") != h2.get("etag"),
           "%s %s" % (h.get("etag"), h2.get("etag")))
    s, _, _ = get(srv, "/", gz_ok, "If-None-Match: " + h.get("etag", '"x"'))
    C.eq("/ gzip 304", s, 304)

    # versioned static assets: immutable; the bytes are the file's
    for name in ("app.js", "app.css"):
        with open(os.path.join(SRC, "web", name), "rb") as f:
            want = f.read()
        v = links.get(name, "0" * 16)
        s, h, body = get(srv, "/static/%s?v=%s" % (name, v), gz_ok)
        C.eq(name + " versioned", (s, h.get("content-encoding"), h.get("vary"), h.get("cache-control")),
             (200, "gzip", "Accept-Encoding", "public, max-age=31536000, immutable"))
        _, hp, plain = get(srv, "/static/%s?v=%s" % (name, v))
        C.true(name + " gzip is the plain answer", gzip.decompress(body) == plain if s == 200 else False)
        # The file without its comment lines and indentation (kiosk/webmin.c).
        lines = set(l.strip() for l in want.split(b"\n"))
        C.true(name + " is the file's lines, comment lines and indentation left out",
               plain.endswith(b"\n") and all(l in lines for l in plain.split(b"\n")[:-1]) and
               len(plain) < len(want) and b"  " not in plain.split(b"\n")[1][:2], plain[:200])
        C.true(name + " smaller compressed", len(body) < len(want) / 2, "%d of %d" % (len(body), len(want)))
        # A CSP rules documents, not scripts and styles (~190 bytes less each).
        C.eq(name + " no CSP", (h.get("content-security-policy"), hp.get("content-security-policy")), (None, None))
        s, h, _ = get(srv, "/static/" + name, gz_ok)
        C.eq(name + " unversioned: revalidated", h.get("cache-control"), "no-cache")
        s, h, _ = get(srv, "/static/%s?v=0000000000000000" % name, gz_ok)
        C.eq(name + " stale version: revalidated", h.get("cache-control"), "no-cache")
        s, h, body = get(srv, "/static/" + name, "Accept-Encoding: gzip;q=0, identity")
        C.eq(name + " gzip refused", (h.get("content-encoding"), body == plain), (None, True))
    s, h, body = get(srv, "/i18n/ru.json", gz_ok)
    C.eq("/i18n/ru.json gzip", (s, h.get("content-encoding")), (200, "gzip"))

    # JSON APIs
    for path in ["/api/lessons?lang=ky", "/api/lessons/http-lesson-01",
                 "/api/search?q=" + quote("бюджет")]:
        s, h, body = get(srv, path, gz_ok)
        _, h2, plain = get(srv, path)
        C.eq(path + " gzip", (s, h.get("content-encoding"), h.get("vary")),
             (200, "gzip", "Accept-Encoding"))
        C.eq(path + " plain", (h2.get("content-encoding"), h2.get("vary")), (None, "Accept-Encoding"))
        C.true(path + " same JSON", s == 200 and json.loads(gzip.decompress(body)) == json.loads(plain))
    # media are never compressed
    s, h, _ = get(srv, "/lessons/http-lesson-01/poster.jpg", gz_ok)
    C.eq("poster not compressed", (s, h.get("content-encoding"), h.get("vary")), (200, None, None))


if __name__ == "__main__":
    main()
