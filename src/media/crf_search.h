/* Private to src/media: the per-lesson CRF search (crf_search.c) and its
 * arithmetic (crf_fit.c). Each video tier aims at a quality (SSIM-Y, from
 * the ladder), not at a fixed CRF: a few seconds from several places of the
 * recording are encoded with the tier's own settings at two or three CRFs,
 * decoded, scaled back to the source's size and compared with it; a line
 * through the points gives the highest CRF that still meets the target. */
#ifndef SABAK_CRF_SEARCH_H
#define SABAK_CRF_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "sabak/media.h"

enum { SBK_CRF_MAX_PROBES = 3, SBK_CRF_MAX_SEGMENTS = 4 };

/* One probe: the CRF, the mean SSIM-Y over every sampled frame and the
 * mean of the worst sample segment. */
typedef struct SbkCrfPoint {
    double crf, mean, worst;
} SbkCrfPoint;

typedef struct SbkCrfGoal {
    double target; /* mean SSIM-Y to reach */
    double floor;  /* the worst segment's mean SSIM-Y to reach */
    int lo, hi;    /* CRF range */
} SbkCrfGoal;

/* SSIM of two 8-bit planes of w x h, as FFmpeg's ssim filter computes it. */
double sbk_ssim_plane(const uint8_t *a, ptrdiff_t as, const uint8_t *b, ptrdiff_t bs, int w, int h);
/* The CRF to probe next (0: the points already say enough). */
int sbk_crf_next_probe(const SbkCrfPoint *pts, int n, const SbkCrfGoal *g);
/* The highest whole CRF in [lo, hi] whose predicted mean and worst-segment
 * SSIM-Y meet the goal (lo when none does), with those predictions. */
int sbk_crf_choose(const SbkCrfPoint *pts, int n, const SbkCrfGoal *g, double *pred_mean,
                   double *pred_worst);

/* What the search chose for one tier. */
typedef struct SbkCrfChoice {
    int crf;              /* 0: not searched (no target, or not a video tier) */
    double ssim_y, ssim_y_min; /* predicted at crf */
    int n_points;
    SbkCrfPoint points[SBK_CRF_MAX_PROBES];
} SbkCrfChoice;

/* The sample segments for a recording of `duration` seconds: count, and
 * start and length of each (seconds from the start). */
int sbk_crf_segments(double duration, double starts[SBK_CRF_MAX_SEGMENTS], double *len);

/* Search every tier of `tiers` that has a quality target and whose
 * `skip[i]` is 0 (NULL: none skipped); out[i] is filled for each (crf 0
 * for the others). cpu_s: the CPU seconds the search took (process time). */
int sbk_media_crf_search(const char *src, const SbkProbe *probe, const SbkTier *const *tiers,
                         int n_tiers, const int *skip, int threads, const volatile int *cancel,
                         SbkCrfChoice *out, double *cpu_s, SbkError *err);

#endif
