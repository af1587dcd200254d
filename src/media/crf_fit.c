/* The CRF search's arithmetic, apart from FFmpeg so that it can be tested
 * alone (tests/unit/media_test_crf.c): SSIM of two 8-bit planes exactly as
 * FFmpeg's `ssim` filter computes it, and the fit that turns a few sampled
 * (CRF, SSIM-Y) points into the CRF a tier encodes with. */
#include <math.h>
#include <stdlib.h>

#include "crf_search.h"

/* ---- SSIM (FFmpeg's libavfilter/vf_ssim.c, after x264) -------------------- */
/* Sums over 4x4 blocks; SSIM over overlapping 8x8 windows (2x2 blocks) at a
 * step of 4, in integers, with the same constants and float rounding as
 * FFmpeg, so that the figures match `ffmpeg -lavfi ssim` to ~1e-6. */
static void sums_4x4(const uint8_t *a, ptrdiff_t as, const uint8_t *b, ptrdiff_t bs,
                     int (*sums)[4], int blocks)
{
    for (int z = 0; z < blocks; z++) {
        uint32_t s1 = 0, s2 = 0, ss = 0, s12 = 0;
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) {
                int p = a[x + y * as], q = b[x + y * bs];
                s1 += (uint32_t)p;
                s2 += (uint32_t)q;
                ss += (uint32_t)(p * p + q * q);
                s12 += (uint32_t)(p * q);
            }
        sums[z][0] = (int)s1;
        sums[z][1] = (int)s2;
        sums[z][2] = (int)ss;
        sums[z][3] = (int)s12;
        a += 4;
        b += 4;
    }
}

static float ssim_end1(int s1, int s2, int ss, int s12)
{
    static const int c1 = (int)(.01 * .01 * 255 * 255 * 64 + .5);
    static const int c2 = (int)(.03 * .03 * 255 * 255 * 64 * 63 + .5);
    int vars = ss * 64 - s1 * s1 - s2 * s2;
    int covar = s12 * 64 - s1 * s2;
    return (float)(2 * s1 * s2 + c1) * (float)(2 * covar + c2) /
           ((float)(s1 * s1 + s2 * s2 + c1) * (float)(vars + c2));
}

double sbk_ssim_plane(const uint8_t *a, ptrdiff_t as, const uint8_t *b, ptrdiff_t bs, int w, int h)
{
    int bw = w >> 2, bh = h >> 2;
    if (bw < 2 || bh < 2)
        return 1.0;
    int(*tmp)[4] = malloc(sizeof *tmp * (size_t)(2 * bw + 6));
    if (!tmp)
        return -1.0;
    int(*sum0)[4] = tmp, (*sum1)[4] = tmp + bw + 3;
    double total = 0;
    for (int y = 1, z = 0; y < bh; y++) {
        for (; z <= y; z++) {
            int(*t)[4] = sum0;
            sum0 = sum1;
            sum1 = t;
            sums_4x4(a + 4 * z * as, as, b + 4 * z * bs, bs, sum0, bw);
        }
        float row = 0;
        for (int i = 0; i < bw - 1; i++)
            row += ssim_end1(sum0[i][0] + sum0[i + 1][0] + sum1[i][0] + sum1[i + 1][0],
                             sum0[i][1] + sum0[i + 1][1] + sum1[i][1] + sum1[i + 1][1],
                             sum0[i][2] + sum0[i + 1][2] + sum1[i][2] + sum1[i + 1][2],
                             sum0[i][3] + sum0[i + 1][3] + sum1[i][3] + sum1[i + 1][3]);
        total += row;
    }
    free(tmp);
    return total / ((double)(bh - 1) * (bw - 1));
}

/* ---- the fit ---------------------------------------------------------------- */
/* 1 - SSIM falls roughly exponentially as CRF falls (the quantiser step
 * halves every 6), so ln(1 - SSIM) is fitted as a straight line in CRF. */
static double distortion(double ssim)
{
    double d = 1.0 - ssim;
    return log(d > 1e-6 ? d : 1e-6);
}

/* Least squares over pts (which: 0 mean, 1 worst); returns 0 when the line
 * does not fall with quality (slope <= 0: CRF makes no measurable
 * difference), else the CRF where the line meets goal. */
static int solve(const SbkCrfPoint *pts, int n, int which, double goal, double *crf,
                 double *a_out, double *b_out)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        double x = pts[i].crf, y = distortion(which ? pts[i].worst : pts[i].mean);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double den = n * sxx - sx * sx;
    double b = den > 1e-9 ? (n * sxy - sx * sy) / den : 0;
    double a = (sy - b * sx) / n;
    *a_out = a;
    *b_out = b;
    if (b <= 1e-6)
        return 0;
    *crf = (distortion(goal) - a) / b;
    return 1;
}

static double predict(double a, double b, double crf) { return 1.0 - exp(a + b * crf); }

/* The CRF the points ask for, unrounded and unclamped. */
static double wanted(const SbkCrfPoint *pts, int n, const SbkCrfGoal *g, double *am, double *bm,
                     double *aw, double *bw)
{
    double c[2];
    for (int k = 0; k < 2; k++) {
        double goal = k ? g->floor : g->target;
        double *a = k ? aw : am, *b = k ? bw : bm;
        if (!solve(pts, n, k, goal, &c[k], a, b)) {
            /* flat: every probe meets the goal or none does */
            int met = 1;
            for (int i = 0; i < n; i++)
                met &= (k ? pts[i].worst : pts[i].mean) >= goal;
            c[k] = met ? g->hi : g->lo;
        }
    }
    return c[0] < c[1] ? c[0] : c[1];
}

int sbk_crf_next_probe(const SbkCrfPoint *pts, int n, const SbkCrfGoal *g)
{
    double am, bm, aw, bw;
    if (n < 2 || n >= SBK_CRF_MAX_PROBES)
        return 0;
    double c = wanted(pts, n, g, &am, &bm, &aw, &bw);
    double lo = pts[0].crf, hi = pts[0].crf;
    for (int i = 1; i < n; i++) {
        lo = pts[i].crf < lo ? pts[i].crf : lo;
        hi = pts[i].crf > hi ? pts[i].crf : hi;
    }
    /* Inside (or just beside) the probed range the line is good enough;
     * further out, measure there rather than extrapolate. */
    if (c >= lo - 2 && c <= hi + 2)
        return 0;
    int probe = (int)lround(c);
    probe = probe < g->lo ? g->lo : probe > g->hi ? g->hi : probe;
    for (int i = 0; i < n; i++)
        if ((int)lround(pts[i].crf) == probe)
            return 0; /* the clamp lands on a probe: nothing new to learn */
    return probe;
}

int sbk_crf_choose(const SbkCrfPoint *pts, int n, const SbkCrfGoal *g, double *pred_mean,
                   double *pred_worst)
{
    double am, bm, aw, bw;
    SbkCrfPoint near[2];
    if (n < 1)
        return g->lo;
    if (n == 1) {
        *pred_mean = pts[0].mean;
        *pred_worst = pts[0].worst;
        return (int)lround(pts[0].crf);
    }
    double c = wanted(pts, n, g, &am, &bm, &aw, &bw);
    if (n > 2) {
        /* refit locally: the two probes nearest the answer */
        int i0 = 0;
        for (int i = 1; i < n; i++)
            if (fabs(pts[i].crf - c) < fabs(pts[i0].crf - c))
                i0 = i;
        int i1 = i0 == 0 ? 1 : 0;
        for (int i = 0; i < n; i++)
            if (i != i0 && fabs(pts[i].crf - c) < fabs(pts[i1].crf - c))
                i1 = i;
        near[0] = pts[i0];
        near[1] = pts[i1];
        c = wanted(near, 2, g, &am, &bm, &aw, &bw);
    }
    int crf = (int)floor(c + 1e-9);
    crf = crf < g->lo ? g->lo : crf > g->hi ? g->hi : crf;
    *pred_mean = bm > 1e-6 ? predict(am, bm, crf) : pts[0].mean;
    *pred_worst = bw > 1e-6 ? predict(aw, bw, crf) : pts[0].worst;
    return crf;
}
