"""Numbers for tools/bench/encode: SSIM statistics, equal-quality interpolation
and the Bjontegaard delta rate, in plain python (no numpy on the bench machines).

A sweep is a list of points, each a dict with at least "bytes" and "ssim"
(the mean SSIM-Y of the output against the source)."""
import math


def ssim_frames(stats_file):
    """Per-frame SSIM-Y from an ffmpeg ssim filter stats_file ("n:1 Y:0.98 ...")."""
    ys = []
    with open(stats_file) as f:
        for line in f:
            for tok in line.split():
                if tok.startswith("Y:"):
                    ys.append(float(tok[2:]))
                    break
    return ys


def worst_window(ys, n):
    """Lowest mean over every run of n consecutive frames (a sliding window:
    the worst second wherever it starts). Fewer frames than n: their mean."""
    if not ys:
        return float("nan")
    n = max(1, min(n, len(ys)))
    s = sum(ys[:n])
    worst = s
    for i in range(n, len(ys)):
        s += ys[i] - ys[i - n]
        worst = min(worst, s)
    return worst / n


def frontier(points):
    """The points no other point beats (fewer or equal bytes at a higher or equal
    SSIM), in SSIM order: a recipe's best rate for each quality. Where SSIM
    saturates, a higher rate can measure a hair lower; those points drop out."""
    pts = sorted(points, key=lambda p: (p["bytes"], -p["ssim"]))
    out, best = [], -1.0
    for p in pts:
        if p["ssim"] > best:
            out.append(p)
            best = p["ssim"]
    return out


def bracket(points, ssim):
    """The two sweep points around ssim: (lower, upper, weight of upper), with
    log(bytes) linear in SSIM between them. None if ssim is outside the sweep.
    Only the sweep's frontier counts (see frontier())."""
    pts = frontier(points)
    best = None
    for lo, hi in zip(pts, pts[1:]):
        if lo["ssim"] <= ssim <= hi["ssim"]:
            best = (lo, hi)
            break
    if best is None:
        if len(pts) == 1 and pts[0]["ssim"] == ssim:
            return pts[0], pts[0], 0.0
        return None
    lo, hi = best
    span = hi["ssim"] - lo["ssim"]
    wt = 0.0 if span <= 0 else (ssim - lo["ssim"]) / span
    return lo, hi, wt


def interp(points, ssim, key="bytes", log=True):
    """key of the peer at SSIM ssim (log-linear for bytes, linear otherwise)."""
    b = bracket(points, ssim)
    if b is None:
        return None
    lo, hi, wt = b
    if log:
        return math.exp(math.log(lo[key]) + wt * (math.log(hi[key]) - math.log(lo[key])))
    return lo[key] + wt * (hi[key] - lo[key])


def _solve(a, b):
    """Gaussian elimination with partial pivoting; a is n x n, b length n."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        if abs(m[p][c]) < 1e-300:
            raise ValueError("singular fit")
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def polyfit(xs, ys, deg):
    """Least-squares polynomial, coefficients lowest power first (numpy.polyfit
    reversed). With deg + 1 points it passes through them."""
    n = deg + 1
    a = [[sum(x ** (i + j) for x in xs) for j in range(n)] for i in range(n)]
    b = [sum(y * x ** i for x, y in zip(xs, ys)) for i in range(n)]
    return _solve(a, b)


def _integral(c, lo, hi):
    return sum(ci / (i + 1) * (hi ** (i + 1) - lo ** (i + 1)) for i, ci in enumerate(c))


def bd_rate(ref, test):
    """Bjontegaard delta rate of test against ref: the mean difference of
    ln(bytes) over the SSIM range both sweeps cover, each side a cubic fit of
    ln(bytes) against SSIM-Y, as exp(mean) - 1 (-0.30: test needs 30 % fewer
    bytes at the same quality). None without 4 points a side or overlap.
    SSIM is centred and scaled before the fit (it spans a few hundredths).
    Each side's frontier only: a point that a cheaper one beats is noise."""
    ref, test = frontier(ref), frontier(test)
    if len(ref) < 4 or len(test) < 4 or overlap(ref, test) is None:
        return None
    lo, hi = overlap(ref, test)
    mid, half = (lo + hi) / 2, (hi - lo) / 2

    def fit(points):
        return polyfit([(p["ssim"] - mid) / half for p in points],
                       [math.log(p["bytes"]) for p in points], 3)

    ct, cr = fit(test), fit(ref)

    def monotonic(c):  # more bytes for more quality across the overlap
        v = [sum(ci * (x / 50.0) ** i for i, ci in enumerate(c)) for x in range(-50, 51)]
        return all(b >= a for a, b in zip(v, v[1:]))

    if not (monotonic(ct) and monotonic(cr)):
        return None
    d = (_integral(ct, -1.0, 1.0) - _integral(cr, -1.0, 1.0)) / 2.0
    return math.exp(d) - 1.0


def bd_rate_linear(ref, test):
    """The same delta with ln(bytes) piecewise linear in SSIM-Y between each
    side's frontier points (two points a side suffice): robust where SSIM-Y is
    nearly flat in the rate and a cubic swings."""
    ref, test = frontier(ref), frontier(test)
    if len(ref) < 2 or len(test) < 2:
        return None
    ov = overlap(ref, test)
    if ov is None:
        return None
    lo, hi = ov
    n = 200
    d = 0.0
    for i in range(n + 1):
        x = lo + (hi - lo) * i / n
        w = 0.5 if i in (0, n) else 1.0
        d += w * (math.log(interp(test, x)) - math.log(interp(ref, x)))
    return math.exp(d / n) - 1.0


MIN_OVERLAP = 0.0005  # SSIM-Y: below this the sweeps share no meaningful range


def overlap(ref, test):
    """The SSIM range both sweeps cover, (lo, hi), or None if narrower than
    MIN_OVERLAP (a recipe capped at one quality: Mp4Low's qmin)."""
    lo = max(min(p["ssim"] for p in ref), min(p["ssim"] for p in test))
    hi = min(max(p["ssim"] for p in ref), max(p["ssim"] for p in test))
    return (lo, hi) if hi - lo >= MIN_OVERLAP else None


if __name__ == "__main__":
    # self-check: a test sweep at exactly 0.7x the bytes of ref everywhere
    ref = [{"ssim": 0.95 + 0.005 * i, "bytes": 1e6 * math.exp(40 * 0.005 * i)} for i in range(5)]
    test = [{"ssim": p["ssim"] + 0.001, "bytes": 0.7 * 1e6 * math.exp(40 * (p["ssim"] + 0.001 - 0.95))}
            for p in ref]
    r = bd_rate(ref, test)
    assert abs(r + 0.30) < 1e-6, r
    v = interp(ref, 0.9525)
    assert abs(v - 1e6 * math.exp(40 * 0.0025)) < 1e-3, v
    assert interp(ref, 0.99) is None
    flat = [{"ssim": 0.97, "bytes": 300}, {"ssim": 0.969, "bytes": 350}, {"ssim": 0.968, "bytes": 200}]
    assert [p["bytes"] for p in frontier(flat)] == [200, 300]
    assert abs(interp(flat, 0.969) - math.exp((math.log(200) + math.log(300)) / 2)) < 1e-9
    assert abs(worst_window([1, 1, 0.5, 0.5, 1], 2) - 0.5) < 1e-12
    assert abs(bd_rate_linear(ref, test) + 0.30) < 1e-3, bd_rate_linear(ref, test)
    print("encode_stats: ok")
