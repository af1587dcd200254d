"""Large deflated handouts (issue 9, defects 2 and 4): a handout over
32 MiB is served whole, ranges of a deflated entry are right, memory stays
flat while many clients request a large deflated handout and hold or drop
their connections (checked with the server's peak RSS, VmHWM, not with
timing), the inflation budget answers 503 with Retry-After past it, and a
CRC-32 mismatch closes the connection short of its Content-Length."""
import hashlib
import os
import random
import shutil
import socket
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sabaktest as st  # noqa: E402

C = st.Checks("test_server_stream")
LESSON = "stream-lesson-01"
BIG = 40 << 20      # over the old 32 MiB "too large" limit
MID = 24 << 20      # under it: the old code inflated it whole per request


def csv_bytes(n, seed):
    """Deterministic CSV text that deflates about 2:1."""
    rnd = random.Random(seed)
    out, size, i = [], 0, 0
    while size < n:
        line = "%d,%08x,%s,%d.%02d\n" % (i, rnd.getrandbits(32), rnd.choice(
            ("Бишкек", "Ош", "Нарын", "Talas", "Karakol")), rnd.randrange(100000), rnd.randrange(100))
        b = line.encode()
        out.append(b)
        size += len(b)
        i += 1
    return b"".join(out)[:n]


def build_bundle(work):
    src = st.make_lesson(os.path.join(work, "src"), LESSON)
    os.makedirs(os.path.join(src, "handouts"))
    with open(os.path.join(src, "handouts", "big.csv"), "wb") as f:
        f.write(csv_bytes(BIG, 1))
    with open(os.path.join(src, "handouts", "mid.csv"), "wb") as f:
        f.write(csv_bytes(MID, 2))
    return st.pack(src, os.path.join(work, "out"), tiers="low")


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def head_of(s):
    """Read until the end of the header block; returns it (bytes)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(4096)
        if not b:
            break
        buf += b
    return buf.split(b"\r\n\r\n")[0]


def open_held(srv, path, n):
    """n connections that ask for path, read the status line and headers,
    then read nothing more (the response is queued and held)."""
    socks, heads = [], []
    for _ in range(n):
        s = socket.create_connection((srv.host, srv.port), timeout=30)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        socks.append(s)
    for s in socks:
        heads.append(head_of(s))
    return socks, heads


def entry_path(bundle, base):
    for f in st.manifest(bundle)["files"]:
        if f["path"].endswith("/" + base) or f["path"] == base:
            return f["path"]
    raise KeyError(base)


def served(srv, bundle):
    big = entry_path(bundle, "big.csv")
    with zipfile.ZipFile(bundle) as z:
        info = z.getinfo(big)
        C.eq("big.csv is deflated in the bundle", info.compress_type, zipfile.ZIP_DEFLATED)
        want = z.read(big)
    status, h, body = srv.request("/lessons/%s/%s" % (LESSON, big))
    C.eq("handout over 32 MiB: status", status, 200)
    C.eq("handout over 32 MiB: length", len(body), len(want))
    C.true("handout over 32 MiB: bytes", hashlib.sha256(body).digest() == hashlib.sha256(want).digest())
    C.eq("nosniff", h.get("x-content-type-options"), "nosniff")
    status, h, body = srv.request("/lessons/%s/%s" % (LESSON, big),
                                  headers={"Range": "bytes=30000000-30000099"})
    C.eq("range of a deflated entry: status", status, 206)
    C.eq("range of a deflated entry: bytes", body, want[30000000:30000100])
    status, h, body = srv.request("/lessons/%s/%s" % (LESSON, big),
                                  headers={"Range": "bytes=5-9,-4"})
    C.eq("multipart range of a deflated entry", status, 206)
    C.true("multipart parts", want[5:10] in body and want[-4:] in body)
    status, h, body = srv.request("/lessons/%s/%s" % (LESSON, big), method="HEAD")
    C.eq("HEAD length", h.get("content-length"), str(len(want)))
    return big


def rss_attack(srv, bundle):
    """30 clients ask for the 24 MiB deflated handout and hold the answer
    unread; then 30 more that hang up at once. Peak RSS must stay far below
    what whole inflation costs (30 x 24 MiB)."""
    mid = entry_path(bundle, "mid.csv")
    pid = srv.proc.pid
    base = vm(pid, "VmRSS")
    socks, heads = open_held(srv, "/lessons/%s/%s" % (LESSON, mid), 30)
    ok = sum(1 for h in heads if h.startswith(b"HTTP/1.1 200"))
    C.eq("held clients answered 200", ok, 30)
    held = vm(pid, "VmRSS")
    for s in socks:
        s.close()
    for _ in range(30):
        s = socket.create_connection((srv.host, srv.port), timeout=30)
        s.sendall(("GET /lessons/%s/%s HTTP/1.1\r\nHost: x\r\n\r\n" % (LESSON, mid)).encode())
        s.close()
    # Another address is served at once (the attacker's own quota may still
    # be full of connections the server has not reaped yet).
    c = socket.create_connection(("127.0.0.2", srv.port), timeout=30,
                                 source_address=("127.0.0.2", 0))
    c.sendall(b"GET /api/lessons HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    C.eq("catalog answered for another address after the attack", st.raw_status(head_of(c)), 200)
    c.close()
    peak = vm(pid, "VmHWM")
    growth = peak - base
    print("rss: base %.1f MiB, with 30 held %.1f MiB, peak %.1f MiB (growth %.1f MiB)"
          % (base / 2**20, held / 2**20, peak / 2**20, growth / 2**20))
    C.true("peak RSS growth under 64 MiB with 30 held streams", growth < (64 << 20),
           "grew %.1f MiB" % (growth / 2**20))


def budget(lib, bundle, work):
    cfg = os.path.join(work, "budget.ini")
    with open(cfg, "w") as f:
        f.write("[server]\ninflate_budget = 300000\nverify = no\n")  # three streams
    srv = st.Server(lib, "--config", cfg, "--quiet")
    try:
        mid = entry_path(bundle, "mid.csv")
        socks, heads = open_held(srv, "/lessons/%s/%s" % (LESSON, mid), 4)
        codes = [st.raw_status(h) for h in heads]
        # The worker threads take the four connections in no fixed order:
        # which one is refused varies, that exactly one is does not.
        C.eq("budget: three streams, then 503", sorted(codes), [200, 200, 200, 503])
        refused = [h for h in heads if st.raw_status(h) == 503]
        C.true("503 has Retry-After", refused and b"\r\nRetry-After: 2" in refused[0],
               refused[0][:300] if refused else heads)
        for s in socks:
            s.close()
        # The server notices the hang-ups on its own schedule: ask again
        # until it has (a bounded number of times).
        for _ in range(40):
            status, h, body = srv.request("/lessons/%s/%s" % (LESSON, mid))
            if status == 200:
                break
            time.sleep(0.25)
        C.eq("budget released after the clients left", status, 200)
    finally:
        srv.stop()


def patch_crc(path, name):
    """Change the CRC-32 of `name` in its local header and central record."""
    data = bytearray(open(path, "rb").read())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    lho = info.header_offset
    crc = (info.CRC ^ 0x5a5a5a5a).to_bytes(4, "little")
    data[lho + 14:lho + 18] = crc
    nb = name.encode()
    i = data.find(b"PK\x01\x02")
    while i >= 0:
        n = int.from_bytes(data[i + 28:i + 30], "little")
        if data[i + 46:i + 46 + n] == nb:
            data[i + 16:i + 20] = crc
        i = data.find(b"PK\x01\x02", i + 4)
    open(path, "wb").write(bytes(data))


def crc_mismatch(work, bundle):
    lib = os.path.join(work, "crclib")
    os.makedirs(lib)
    copy = os.path.join(work, "crc.zip")
    shutil.copyfile(bundle, copy)
    mid = entry_path(bundle, "mid.csv")
    patch_crc(copy, mid)
    st.copy_bundle(copy, lib, os.path.basename(bundle))
    cfg = os.path.join(work, "noverify.ini")
    with open(cfg, "w") as f:
        f.write("[server]\nverify = no\n")
    srv = st.Server(lib, "--config", cfg)
    try:
        s = socket.create_connection((srv.host, srv.port), timeout=30)
        s.sendall(("GET /lessons/%s/%s HTTP/1.1\r\nHost: x\r\n\r\n" % (LESSON, mid)).encode())
        head = head_of(s)
        got = 0
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got += len(b)
        s.close()
        C.eq("CRC mismatch: headers sent", st.raw_status(head), 200)
        C.true("CRC mismatch: closed short of Content-Length", got < MID, "got %d bytes" % got)
        C.true("CRC mismatch: logged", srv.wait_line("CRC-32", 10) is not None)
    finally:
        srv.stop()


def main():
    work = st.tmpdir("server-stream")
    bundle = build_bundle(work)
    lib = os.path.join(work, "library")
    os.makedirs(lib)
    st.copy_bundle(bundle, lib)
    srv = st.Server(lib, "--quiet", listen="0.0.0.0:0")
    srv.host = "127.0.0.1"
    try:
        served(srv, bundle)
        rss_attack(srv, bundle)
    finally:
        srv.stop()
    budget(lib, bundle, work)
    crc_mismatch(work, bundle)
    C.done()


if __name__ == "__main__":
    main()
