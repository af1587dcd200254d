"""The kiosk over real HTTP: every row of issue 3's "HTTP done right" list,
against bundles packed at test time with `sabak pack`, a damaged bundle in
the same library, and real clients (http.client, curl, ffprobe). Every
range's bytes are compared with the entry read independently (zipfile)."""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402

C = st.Checks("test_server_http")
LESSON = "http-lesson-01"


def headers_ok(what, h, mime, etag, cache):
    C.eq(what + " Content-Type", h.get("content-type"), mime)
    C.eq(what + " ETag", h.get("etag"), etag)
    C.eq(what + " nosniff", h.get("x-content-type-options"), "nosniff")
    C.eq(what + " Accept-Ranges", h.get("accept-ranges"), "bytes")
    C.eq(what + " Cache-Control", h.get("cache-control"), cache)
    C.true(what + " Last-Modified", re.match(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$",
                                             h.get("last-modified", "")), h.get("last-modified"))


def parse_multipart(ctype, body):
    m = re.match(r"multipart/byteranges; boundary=(\S+)$", ctype or "")
    if not m:
        return None
    b = m.group(1).encode()
    parts = []
    for chunk in body.split(b"--" + b)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        cr = re.search(rb"Content-Range: bytes (\d+)-(\d+)/(\d+)", head)
        parts.append((int(cr.group(1)), int(cr.group(2)), int(cr.group(3)),
                      data[:-2] if data.endswith(b"\r\n") else data))
    return parts


def range_rows(srv, url, data, what):
    n = len(data)
    rows = [
        # header, status, expected (first, last) or None
        ("bytes=0-99", 206, (0, 99)),
        ("bytes=100-", 206, (100, n - 1)),
        ("bytes=-100", 206, (n - 100, n - 1)),
        ("bytes=%d-%d" % (n - 10, n + 5000), 206, (n - 10, n - 1)),  # end clipped
        ("bytes=-%d" % (n + 7), 206, (0, n - 1)),
        ("bytes=%d-" % n, 416, None),
        ("bytes=%d-%d" % (n + 1, n + 9), 416, None),
        ("bytes=-0", 416, None),
        ("bytes=20-10", 416, None),
        ("items=0-10", 200, None),      # unknown unit: full
        ("bytes=abc", 200, None),       # bad syntax: full
        ("bytes=0-9,5-20", 200, None),  # overlapping: full
        ("bytes=0-,0-", 200, None),     # adding up to more than the length: full
        (",".join(["bytes=0-0"] + ["%d-%d" % (i * 2, i * 2) for i in range(1, 17)]), 200, None),
    ]
    for hdr, want, rng in rows:
        status, h, body = srv.request(url, headers={"Range": hdr})
        w = "%s Range %s" % (what, hdr[:40])
        C.eq(w + " status", status, want)
        if want == 206:
            a, b = rng
            C.eq(w + " Content-Range", h.get("content-range"), "bytes %d-%d/%d" % (a, b, n))
            C.eq(w + " Content-Length", h.get("content-length"), str(b - a + 1))
            C.true(w + " bytes", body == data[a:b + 1], "differ from the entry")
        elif want == 416:
            C.eq(w + " Content-Range", h.get("content-range"), "bytes */%d" % n)
        else:
            C.eq(w + " no Content-Range", h.get("content-range"), None)
            C.true(w + " full body", body == data, "len %d want %d" % (len(body), n))
    # several ranges: multipart/byteranges, each part's bytes exact
    spec = [(0, 9), (n // 3, n // 3 + 9), (n - 5, n - 1)]
    status, h, body = srv.request(url, headers={
        "Range": "bytes=" + ",".join("%d-%d" % r for r in spec)})
    C.eq(what + " multipart status", status, 206)
    parts = parse_multipart(h.get("content-type"), body)
    C.true(what + " multipart type", parts is not None, h.get("content-type"))
    C.eq(what + " multipart Content-Length", h.get("content-length"), str(len(body)))
    if parts is not None:
        C.eq(what + " multipart parts", [(p[0], p[1], p[2]) for p in parts],
             [(a, b, n) for a, b in spec])
        C.true(what + " multipart bytes",
               all(p[3] == data[p[0]:p[1] + 1] for p in parts), "a part differs")
    # 16 ranges is still multipart
    spec16 = [(i * 3, i * 3 + 1) for i in range(16)]
    status, h, body = srv.request(url, headers={
        "Range": "bytes=" + ",".join("%d-%d" % r for r in spec16)})
    parts = parse_multipart(h.get("content-type"), body) or []
    C.eq(what + " 16 ranges", (status, len(parts)), (206, 16))
    C.true(what + " 16 ranges bytes", all(p[3] == data[p[0]:p[1] + 1] for p in parts))


def conditionals(srv, url, data, etag, what):
    status, h, body = srv.request(url, headers={"If-None-Match": etag})
    C.eq(what + " If-None-Match -> 304", status, 304)
    C.eq(what + " 304 ETag", h.get("etag"), etag)
    C.eq(what + " 304 no body", body, b"")
    # RFC 9110 8.6: a 304 may carry only the 200's Content-Length (MHD sent
    # "Content-Length: 0"), and the next answer on the connection follows it.
    raw = srv.raw(("GET %s HTTP/1.1\r\nHost: k\r\nIf-None-Match: %s\r\n\r\n"
                   "HEAD %s HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n"
                   % (url, etag, url)).encode())
    head304, _, rest = raw.partition(b"\r\n\r\n")
    lengths = [l.split(b":", 1)[1].strip() for l in head304.split(b"\r\n")
               if l.lower().startswith(b"content-length:")]
    C.eq(what + " 304 Content-Length is the 200's", lengths, [str(len(data)).encode()])
    C.eq(what + " answer after the 304", rest.split(b"\r\n", 1)[0], b"HTTP/1.1 200 OK")
    status, h, body = srv.request(url, headers={"If-None-Match": '"other", ' + etag})
    C.eq(what + " If-None-Match list -> 304", status, 304)
    status, h, body = srv.request(url, headers={"If-None-Match": '"other"'})
    C.eq(what + " If-None-Match other -> 200", (status, body == data), (200, True))
    status, h, _ = srv.request(url)
    lm = h.get("last-modified")
    status, h, body = srv.request(url, headers={"If-Modified-Since": lm})
    C.eq(what + " If-Modified-Since -> 304", status, 304)
    status, h, body = srv.request(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    C.eq(what + " If-Range strong match -> 206", (status, body), (206, data[:10]))
    status, h, body = srv.request(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    C.eq(what + " If-Range other -> 200 full", (status, body == data), (200, True))
    status, h, body = srv.request(url, headers={"Range": "bytes=0-9", "If-Range": "W/" + etag})
    C.eq(what + " If-Range weak -> 200 full", (status, body == data), (200, True))
    status, h, body = srv.request(url, headers={"Range": "bytes=0-9", "If-Range": lm})
    C.eq(what + " If-Range date -> 206", (status, body), (206, data[:10]))
    status, h, body = srv.request(url, headers={"If-Match": '"other"'})
    C.eq(what + " If-Match other -> 412", status, 412)
    # HEAD: the same headers, no body
    status, h, body = srv.request(url, method="HEAD")
    C.eq(what + " HEAD", (status, body, h.get("content-length"), h.get("etag")),
         (200, b"", str(len(data)), etag))
    status, h, body = srv.request(url, method="HEAD", headers={"Range": "bytes=5-14"})
    C.eq(what + " HEAD Range", (status, body, h.get("content-length"), h.get("content-range")),
         (206, b"", "10", "bytes 5-14/%d" % len(data)))


def main():
    work = st.tmpdir("server-http")
    lib = os.path.join(work, "library")
    os.makedirs(lib)
    bundle = st.packed_bundle(LESSON, title_ru="Гражданский бюджет онлайн")
    other = st.packed_bundle("http-lesson-02", title_ru="Муниципальный сайт",
                             title_ky="Айыл өкмөтүнүн сайты", order=2)
    lib_bundle = st.copy_bundle(bundle, lib)
    st.copy_bundle(other, lib)
    # damaged bundles next to the good ones
    with open(os.path.join(lib, "broken.zip"), "wb") as f:
        f.write(b"this is not a zip archive\n" * 10)
    with open(bundle, "rb") as f:
        whole = f.read()
    with open(os.path.join(lib, "truncated-v1.zip"), "wb") as f:
        f.write(whole[:len(whole) // 2])
    # hidden and temporary files are ignored
    shutil.copyfile(bundle, os.path.join(lib, ".hidden.zip"))

    srv = st.Server(lib)
    try:
        run(srv, bundle, lib_bundle)
    finally:
        rc, secs = srv.stop()
        C.eq("exit status after SIGTERM", rc, 0)
    log = "".join(srv.lines)
    C.true("access log line",
           re.search(r"^\S+Z 127\.0\.0\.1 GET /lessons/%s/media/standard\.mp4 206 100 \d+ms$" % LESSON,
                     log, re.M), log[-2000:])
    C.true("access log HEAD", re.search(r" HEAD /healthz 200 0 \d+ms$", log, re.M))
    # Nothing from libmicrohttpd's set-up reaches the log (its logger must be
    # the first option, or MHD complains and prints on its own).
    C.true("no MHD set-up warning", "MHD_OPTION" not in log, log[:600])
    large_entry()
    C.done()


def run(srv, bundle, lib_bundle):
    base = "/lessons/%s/" % LESSON
    # ---- catalog and API ----
    status, h, body = srv.request("/api/lessons")
    C.eq("/api/lessons status", status, 200)
    C.eq("/api/lessons type", h.get("content-type"), "application/json")
    C.eq("/api/lessons cache", h.get("cache-control"), "no-store")
    C.true("/api/lessons raw UTF-8", "Гражданский бюджет онлайн".encode() in body)
    cat = json.loads(body)
    C.eq("lesson ids", [l["id"] for l in cat["lessons"]], [LESSON, "http-lesson-02"])
    C.eq("damaged files", sorted(d["file"] for d in cat["damaged"]),
         ["broken.zip", "truncated-v1.zip"])
    C.true("damaged reasons", all(d.get("reason") for d in cat["damaged"]))
    card = cat["lessons"][0]
    C.eq("a card carries no details", [k for k in ("description", "chapters", "handouts", "poster")
                                       if k in card], [])
    C.true("a card's tiers have sizes, no URLs",
           card["renditions"] and all("size" in r and "url" not in r for r in card["renditions"]))
    status, h, body = srv.request("/api/lessons/" + LESSON)
    lesson = json.loads(body) if status == 200 else {}
    C.eq("/api/lessons/<id>", (status, lesson.get("id")), (200, LESSON))
    status, h, body = srv.request("/api/lessons?lang=ru")
    C.eq("/api/lessons?lang=ru: one title each",
         [list(l["title"].keys()) for l in json.loads(body)["lessons"]], [["ru"], ["ru"]])
    status, h, body = srv.request("/api/lessons/no-such-lesson")
    C.eq("/api/lessons/<unknown>", (status, h.get("content-type"), "error" in json.loads(body)),
         (404, "application/json", True))
    from urllib.parse import quote
    status, h, body = srv.request("/api/search?q=%s&lang=ru" % quote("бюджет"))
    res = json.loads(body) if status == 200 else {}
    C.eq("/api/search бюджет (titles and subtitles)",
         (status, res.get("query"), sorted(r["id"] for r in res.get("results", []))),
         (200, "бюджет", [LESSON, "http-lesson-02"]))
    status, h, body = srv.request("/api/search?q=%s" % quote("МУНИЦИПАЛЬНЫЙ"))
    C.eq("/api/search upper case, one lesson",
         [r["id"] for r in json.loads(body)["results"]], ["http-lesson-02"])
    status, h, body = srv.request("/api/search?q=%s" % quote("өкмөтүнүн сайт"))
    res = json.loads(body)["results"]
    C.eq("/api/search Kyrgyz, two words (as typed)", [r["id"] for r in res if not r.get("close")],
         ["http-lesson-02"])
    C.eq("/api/search close matches come after", res[0]["id"], "http-lesson-02")
    status, h, body = srv.request("/api/search?q=%s" % quote("окмотунун сайт"))
    res = json.loads(body)["results"]
    C.eq("/api/search Kyrgyz typed without ө ү: a close match",
         (res[0]["id"], res[0].get("close"), any(x.get("close") for x in res[0]["hits"])),
         ("http-lesson-02", True, True))
    status, h, body = srv.request("/api/search?q=x&limit=abc")
    C.eq("/api/search bad limit", status, 400)
    status, h, body = srv.request("/api/search?q=zzzz-nothing")
    C.eq("/api/search nothing", (status, json.loads(body)["results"]), (200, []))
    status, h, body = srv.request("/healthz")
    C.eq("/healthz", (status, body.split(b"\n")[0], h.get("content-type")),
         (200, b"ok", "text/plain; charset=utf-8"))
    status, h, body = srv.request("/healthz", method="HEAD")
    C.eq("HEAD /healthz", (status, body), (200, b""))
    status, h, body = srv.request("/api/info")
    info = json.loads(body)
    C.eq("/api/info", (status, info["name"], info["lessons"], info["damaged"]), (200, "sabak", 2, 2))
    C.true("/api/info urls", info["urls"] and all(u.startswith("http://") for u in info["urls"]))
    status, h, body = srv.request("/api/qr.svg")
    C.eq("/api/qr.svg", (status, h.get("content-type"), body[:4]), (200, "image/svg+xml", b"<svg"))
    status, h, body = srv.request("/api/qr.svg?text=http%3A%2F%2Fevil.example%2F")
    C.eq("/api/qr.svg foreign text", status, 400)
    status, h, body = srv.request("/api/qr.svg?text=" + srv.base + "/%23lesson")
    C.eq("/api/qr.svg own URL", status, 200)
    status, h, body = srv.request("/api/nothing")
    C.eq("/api/nothing", (status, h.get("content-type")), (404, "application/json"))

    # ---- the web app ----
    status, h, body = srv.request("/")
    C.eq("/ type", (status, h.get("content-type"), h.get("cache-control")),
         (200, "text/html; charset=utf-8", "no-cache"))
    C.eq("/ nosniff", h.get("x-content-type-options"), "nosniff")
    etag = h.get("etag")
    status, h, body = srv.request("/", headers={"If-None-Match": etag or '"x"'})
    C.eq("/ 304", status, 304)
    src = os.environ.get("SABAK_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
    web = os.path.join(src, "web")
    for rel, url, mime in [("app.js", "/static/app.js", "text/javascript; charset=utf-8"),
                           ("app.css", "/static/app.css", "text/css; charset=utf-8"),
                           ("i18n/ky.json", "/i18n/ky.json", "application/json")]:
        if not os.path.exists(os.path.join(web, rel)):
            continue
        with open(os.path.join(web, rel), "rb") as f:
            want = f.read()
        status, h, body = srv.request(url)
        if rel.endswith((".js", ".css")):
            # Served without comment lines and indentation (kiosk/webmin.c):
            # every line sent is a line of the file, in the file's order.
            lines = [l.strip() for l in want.split(b"\n")]
            sent = body.split(b"\n")[:-1]
            at = 0
            for l in sent:
                at = lines.index(l, at) + 1 if l in lines[at:] else -1
                if at < 0:
                    break
            C.eq(url, (status, h.get("content-type"), bool(sent) and at > 0), (200, mime, True))
        else:
            C.eq(url, (status, h.get("content-type"), body == want), (200, mime, True))
    status, h, body = srv.request("/static/no-such.js")
    C.eq("/static/<missing>", status, 404)

    # ---- entries: stored media and deflated text ----
    for path in ["media/standard.mp4", "subtitles/ru.vtt", "poster.jpg", "media/audio.m4a"]:
        mf = st.manifest_file(bundle, path=path)
        data = st.entry_bytes(bundle, path)
        url = base + path
        etag = '"%s"' % mf["sha256"]
        status, h, body = srv.request(url)
        C.eq(url + " status", status, 200)
        C.true(url + " bytes", body == data, "len %d want %d" % (len(body), len(data)))
        headers_ok(url, h, mf["mime"], etag, "no-cache")
        status, h, body = srv.request(url + "?v=" + mf["sha256"][:16])
        C.eq(url + " versioned cache", h.get("cache-control"), "public, max-age=31536000, immutable")
        status, h, body = srv.request(url + "?v=0000000000000000")
        C.eq(url + " stale version cache", (status, h.get("cache-control")), (200, "no-cache"))
        range_rows(srv, url, data, url)
        conditionals(srv, url, data, etag, url)
    # the catalog's URLs resolve
    for r in lesson["renditions"]:
        status, h, body = srv.request(r["url"])
        C.eq("rendition " + r["tier"], (status, int(h.get("content-length", -1))), (200, r["size"]))
    status, h, body = srv.request(base + "no/such/entry.mp4")
    C.eq("unknown entry", status, 404)
    status, h, body = srv.request("/lessons/no-such-lesson/media/standard.mp4")
    C.eq("unknown lesson", status, 404)
    status, h, body = srv.request("/lessons/truncated/media/standard.mp4")
    C.eq("damaged lesson", status, 404)

    # ---- the whole bundle ----
    with open(lib_bundle, "rb") as f:
        whole = f.read()
    status, h, body = srv.request("/lessons/%s.zip" % LESSON)
    C.eq("bundle download", (status, h.get("content-type"), body == whole),
         (200, "application/zip", True))
    C.eq("bundle Content-Disposition", h.get("content-disposition"),
         'attachment; filename="%s-v1.zip"' % LESSON)
    status, h, body = srv.request("/lessons/%s.zip" % LESSON, headers={"Range": "bytes=-22"})
    C.eq("bundle Range", (status, body), (206, whole[-22:]))

    # ---- methods ----
    status, h, body = srv.request(base + "poster.jpg", method="OPTIONS")
    C.eq("OPTIONS", (status, h.get("allow")), (204, "GET, HEAD, OPTIONS"))
    for m in ["POST", "PUT", "DELETE", "PATCH", "PROPFIND"]:
        status, h, body = srv.request(base + "poster.jpg", method=m)
        C.eq(m + " -> 405", (status, h.get("allow")), (405, "GET, HEAD, OPTIONS"))
    resp = srv.raw(b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    C.eq("OPTIONS *", st.raw_status(resp), 204)

    # ---- the traversal list ----
    for t in ["/lessons/../../etc/passwd", "/lessons/%2e%2e/%2e%2e/etc/passwd",
              "/lessons/%2E%2E%2f%2E%2E%2fetc%2fpasswd", "/lessons/" + LESSON + "/..%2f..%2fmanifest.json",
              "/lessons/" + LESSON + "/poster.jpg%00.mp4", "/lessons/" + LESSON + "%5cmanifest.json",
              "/lessons/" + LESSON + "\\..\\..\\etc\\passwd", "//etc/passwd",
              "/lessons//etc/passwd", "/lessons/" + LESSON + "//poster.jpg", "/static/../../etc/passwd",
              "/static/%2e%2e/%2e%2e/etc/passwd", "/i18n/..%2f..%2fetc%2fpasswd"]:
        resp = srv.raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % t).encode())
        code = st.raw_status(resp)
        C.true("traversal %s -> 400/404" % t, code in (400, 404), "got %r" % code)
        C.true("traversal %s leaks nothing" % t, b"root:" not in resp and b"PK" not in resp)
    for t in ["http://127.0.0.1/etc/passwd", "http://x/lessons/%s/poster.jpg" % LESSON]:
        resp = srv.raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % t).encode())
        C.true("absolute-form %s" % t, st.raw_status(resp) in (400, 404), resp[:60])

    # ---- real clients: curl and ffprobe ----
    data = st.entry_bytes(bundle, "media/standard.mp4")
    r = st.curl("-r", "1000-1999", srv.base + base + "media/standard.mp4")
    C.eq("curl -r 1000-1999", (r.returncode, r.stdout == data[1000:2000]), (0, True))
    r = st.curl("-o", "/dev/null", "-w", "%{http_code} %{size_download}", "--compressed",
                srv.base + "/lessons/%s.zip" % LESSON)
    C.eq("curl bundle", r.stdout.decode(), "200 %d" % len(whole))
    for tier in ["standard", "audio"]:
        mf = st.manifest_file(bundle, tier=tier)
        p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                            "default=nw=1:nk=1", srv.base + base + mf["path"]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            dur = float(p.stdout.strip())
        except ValueError:
            dur = -1
        C.true("ffprobe %s duration %.3f vs manifest %.3f" % (tier, dur, mf["duration"]),
               abs(dur - mf["duration"]) < 0.15, p.stderr)


class SparseFile:
    """A file object that seeks over all-zero writes, so that python's
    zipfile writes a bundle of several GiB that takes no disk space."""

    def __init__(self, path):
        self.f = open(path, "w+b")
        self.end = 0

    def write(self, b):
        b = bytes(b)
        if len(b) >= 4096 and b.count(0) == len(b):
            self.f.seek(len(b), os.SEEK_CUR)
        else:
            self.f.write(b)
        self.end = max(self.end, self.f.tell())
        return len(b)

    def tell(self):
        return self.f.tell()

    def seek(self, *a):
        return self.f.seek(*a)

    def seekable(self):
        return True

    def flush(self):
        self.f.flush()

    def close(self):
        self.f.truncate(self.end)
        self.f.close()


def large_bundle(small, path, lesson_id, big_size):
    """The small bundle plus a stored handout of big_size zero bytes
    (ZIP64, sparse), the manifest listing it with its SHA-256."""
    import hashlib
    import zipfile
    chunk = bytes(1 << 20)
    h = hashlib.sha256()
    left = big_size
    while left:
        n = min(left, len(chunk))
        h.update(chunk[:n] if n < len(chunk) else chunk)
        left -= n
    m = st.manifest(small)
    m["id"] = lesson_id
    m["files"].append({"path": "handouts/big.bin", "kind": "handout",
                       "mime": "application/octet-stream", "size": big_size,
                       "sha256": h.hexdigest()})
    out = SparseFile(path)
    with zipfile.ZipFile(small) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "manifest.json":
                data = json.dumps(m, ensure_ascii=False).encode()
            zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            zi.compress_type = info.compress_type
            zout.writestr(zi, data)
        zi = zipfile.ZipInfo("handouts/big.bin", date_time=(1980, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_STORED
        with zout.open(zi, "w", force_zip64=True) as w:
            left = big_size
            while left:
                n = min(left, len(chunk))
                w.write(chunk[:n] if n < len(chunk) else chunk)
                left -= n
    out.close()


def large_entry():
    """Entries and bundles over 4 GiB: 64-bit sizes and offsets all the way
    (a sparse file; background hashing off)."""
    work = st.tmpdir("server-large")
    lib = os.path.join(work, "library")
    os.makedirs(lib)
    big = (4 << 30) + 12345
    path = os.path.join(lib, "big-lesson-v1.zip")
    large_bundle(st.packed_bundle(LESSON), path, "big-lesson", big)
    cfg = os.path.join(work, "noverify.ini")
    with open(cfg, "w") as f:
        f.write("[server]\nverify = no\n")
    srv = st.Server(lib, "--config", cfg)
    try:
        url = "/lessons/big-lesson/handouts/big.bin"
        status, h, body = srv.request(url, method="HEAD")
        C.eq("4 GiB entry HEAD", (status, h.get("content-length")), (200, str(big)))
        status, h, body = srv.request(url, headers={"Range": "bytes=4294967290-4294967309"})
        C.eq("4 GiB entry range across 4 GiB",
             (status, h.get("content-range"), body),
             (206, "bytes 4294967290-4294967309/%d" % big, bytes(20)))
        status, h, body = srv.request(url, headers={"Range": "bytes=-7"})
        C.eq("4 GiB entry last bytes", (status, h.get("content-range"), body),
             (206, "bytes %d-%d/%d" % (big - 7, big - 1, big), bytes(7)))
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            f.seek(size - 100)
            tail = f.read()
        status, h, body = srv.request("/lessons/big-lesson.zip", headers={"Range": "bytes=-100"})
        C.eq("bundle over 4 GiB, its last bytes",
             (status, h.get("content-range"), body == tail),
             (206, "bytes %d-%d/%d" % (size - 100, size - 1, size), True))
        # the small entries after the big one's local header still resolve
        status, h, body = srv.request("/lessons/big-lesson/subtitles/ru.vtt")
        C.eq("small entry of the big bundle", (status, body), (200, st.entry_bytes(path, "subtitles/ru.vtt")))
    finally:
        srv.stop()


if __name__ == "__main__":
    if sys.argv[1:] == ["large"]:
        large_entry()
        C.done()
    main()
