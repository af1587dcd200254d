/* The CRF search's arithmetic: SSIM-Y as FFmpeg's ssim filter computes it
 * (checked against the filter itself, in a libavfilter graph), the fit that
 * picks the CRF, and the sample segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/crf_search.h"

/* ---- SSIM against libavfilter's ssim -------------------------------------- */
static AVFrame *make_frame(int w, int h, unsigned seed, int blur, int noise)
{
    AVFrame *f = av_frame_alloc();
    assert_non_null(f);
    f->format = AV_PIX_FMT_YUV420P;
    f->width = w;
    f->height = h;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    /* a picture with edges, gradients and text-like strokes */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int v = (x * 255 / w + y) / 2 + (((x / 7) ^ (y / 5)) & 1 ? 90 : 0);
            if ((x % 37) < 2 || (y % 23) < 1)
                v = 16;
            f->data[0][y * f->linesize[0] + x] = (uint8_t)(v > 255 ? 255 : v);
        }
    if (blur) /* a soft copy, as an encoder at a high CRF makes */
        for (int y = 0; y < h; y++)
            for (int x = 0; x + 1 < w; x++) {
                uint8_t *p = &f->data[0][y * f->linesize[0] + x];
                p[0] = (uint8_t)((p[0] + p[1] + 1) / 2);
            }
    for (int y = 0; y < h && noise; y++)
        for (int x = 0; x < w; x++) {
            seed = seed * 1103515245u + 12345u;
            int v = f->data[0][y * f->linesize[0] + x] + (int)((seed >> 16) % (2 * noise + 1)) - noise;
            f->data[0][y * f->linesize[0] + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < h / 2; y++)
            memset(f->data[p] + y * f->linesize[p], 128, (size_t)w / 2);
    return f;
}

/* SSIM Y of main vs ref, by FFmpeg's filter. */
static double filter_ssim(AVFrame *main, AVFrame *ref)
{
    AVFilterGraph *g = avfilter_graph_alloc();
    AVFilterContext *a = NULL, *b = NULL, *ssim = NULL, *sink = NULL;
    char args[256];
    snprintf(args, sizeof args, "video_size=%dx%d:pix_fmt=%d:time_base=1/25:pixel_aspect=1/1",
             main->width, main->height, AV_PIX_FMT_YUV420P);
    assert_true(avfilter_graph_create_filter(&a, avfilter_get_by_name("buffer"), "a", args, NULL, g) >= 0);
    assert_true(avfilter_graph_create_filter(&b, avfilter_get_by_name("buffer"), "b", args, NULL, g) >= 0);
    assert_true(avfilter_graph_create_filter(&ssim, avfilter_get_by_name("ssim"), "s", NULL, NULL, g) >= 0);
    assert_true(avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "o", NULL, NULL, g) >= 0);
    assert_int_equal(avfilter_link(a, 0, ssim, 0), 0);
    assert_int_equal(avfilter_link(b, 0, ssim, 1), 0);
    assert_int_equal(avfilter_link(ssim, 0, sink, 0), 0);
    assert_true(avfilter_graph_config(g, NULL) >= 0);
    main->pts = ref->pts = 0;
    assert_true(av_buffersrc_add_frame_flags(a, main, AV_BUFFERSRC_FLAG_KEEP_REF) >= 0);
    assert_true(av_buffersrc_add_frame_flags(b, ref, AV_BUFFERSRC_FLAG_KEEP_REF) >= 0);
    assert_true(av_buffersrc_add_frame(a, NULL) >= 0);
    assert_true(av_buffersrc_add_frame(b, NULL) >= 0);
    AVFrame *out = av_frame_alloc();
    assert_true(av_buffersink_get_frame(sink, out) >= 0);
    AVDictionaryEntry *e = av_dict_get(out->metadata, "lavfi.ssim.Y", NULL, 0);
    assert_non_null(e);
    double v = atof(e->value);
    av_frame_free(&out);
    avfilter_graph_free(&g);
    return v;
}

static void ssim_matches_ffmpeg(void **state)
{
    (void)state;
    static const struct { int w, h, blur, noise; } cases[] = {
        {320, 240, 1, 0}, {320, 240, 0, 6}, {322, 182, 1, 3}, {640, 360, 1, 20}, {64, 48, 0, 40},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        AVFrame *ref = make_frame(cases[i].w, cases[i].h, 1, 0, 0);
        AVFrame *dist = make_frame(cases[i].w, cases[i].h, 7 + (unsigned)i, cases[i].blur,
                                   cases[i].noise);
        double theirs = filter_ssim(dist, ref);
        double ours = sbk_ssim_plane(dist->data[0], dist->linesize[0], ref->data[0],
                                     ref->linesize[0], dist->width, dist->height);
        printf("# %dx%d: ffmpeg %.6f, ours %.6f\n", cases[i].w, cases[i].h, theirs, ours);
        assert_true(theirs < 0.9999); /* the case must distort something */
        assert_true(fabs(theirs - ours) < 2e-6);
        assert_true(fabs(sbk_ssim_plane(ref->data[0], ref->linesize[0], ref->data[0],
                                        ref->linesize[0], ref->width, ref->height) - 1.0) < 1e-9);
        av_frame_free(&ref);
        av_frame_free(&dist);
    }
}

/* ---- the fit ---------------------------------------------------------------- */
/* Points on ln(1 - SSIM) = a + b * crf */
static SbkCrfPoint model(double crf, double a, double b, double worst_gap)
{
    double s = 1 - exp(a + b * crf);
    return (SbkCrfPoint){crf, s, s - worst_gap};
}

static void choose_exact_model(void **state)
{
    (void)state;
    /* 1 - SSIM doubles every 6 CRF: a = ln(0.045) - 30 * ln2/6 puts .955 at CRF 30 */
    double b = log(2) / 6, a = log(0.045) - 30 * b;
    SbkCrfGoal g = {0.955, 0.90, 20, 45};
    SbkCrfPoint pts[3] = {model(27, a, b, 0.01), model(32, a, b, 0.01)};
    double m, w;
    assert_int_equal(sbk_crf_next_probe(pts, 2, &g), 0); /* 30 is inside the probes */
    assert_int_equal(sbk_crf_choose(pts, 2, &g, &m, &w), 30);
    assert_true(fabs(m - 0.955) < 1e-6);
    /* a target a hair higher: CRF 29 (the highest that still meets it) */
    g.target = 0.9551;
    assert_int_equal(sbk_crf_choose(pts, 2, &g, &m, &w), 29);
    assert_true(m >= 0.9551);
    /* the worst segment's floor decides when it is the stricter */
    g.target = 0.955;
    g.floor = 0.95;
    pts[0] = model(27, a, b, 0.02);
    pts[1] = model(32, a, b, 0.02);
    int c = sbk_crf_choose(pts, 2, &g, &m, &w);
    assert_true(c < 30);
    assert_true(w >= 0.95 - 1e-9);
}

static void probe_where_the_line_points(void **state)
{
    (void)state;
    double b = log(2) / 6, a = log(0.045) - 40 * b; /* .955 at CRF 40: easy content */
    SbkCrfGoal g = {0.955, 0.90, 22, 40};
    SbkCrfPoint pts[3] = {model(30, a, b, 0), model(35, a, b, 0)};
    int next = sbk_crf_next_probe(pts, 2, &g);
    assert_int_equal(next, 40);
    pts[2] = model(next, a, b, 0);
    double m, w;
    assert_int_equal(sbk_crf_choose(pts, 3, &g, &m, &w), 40);
    /* clamped: the answer lies beyond crf_max, which is already probed */
    g.hi = 35;
    assert_int_equal(sbk_crf_next_probe(pts, 2, &g), 0);
    assert_int_equal(sbk_crf_choose(pts, 2, &g, &m, &w), 35);
    /* hard content: below every probe, down to crf_min */
    a = log(0.045) - 18 * b;
    g = (SbkCrfGoal){0.955, 0.90, 22, 40};
    pts[0] = model(30, a, b, 0);
    pts[1] = model(35, a, b, 0);
    assert_int_equal(sbk_crf_next_probe(pts, 2, &g), 22);
    pts[2] = model(22, a, b, 0);
    assert_int_equal(sbk_crf_choose(pts, 3, &g, &m, &w), 22);
    /* no third probe once three are made */
    assert_int_equal(sbk_crf_next_probe(pts, 3, &g), 0);
}

static void flat_quality(void **state)
{
    (void)state;
    /* CRF changes nothing measurable: a still slide (every probe meets the
     * target: the highest CRF) or noise (none does: the lowest) */
    SbkCrfGoal g = {0.955, 0.94, 22, 40};
    SbkCrfPoint still[2] = {{30, 0.991, 0.991}, {35, 0.991, 0.991}};
    SbkCrfPoint noise[2] = {{30, 0.46, 0.45}, {35, 0.46, 0.45}};
    double m, w;
    assert_int_equal(sbk_crf_choose(still, 2, &g, &m, &w), 40);
    assert_int_equal(sbk_crf_choose(noise, 2, &g, &m, &w), 22);
}

/* ---- segments --------------------------------------------------------------- */
static void segments(void **state)
{
    (void)state;
    double st[SBK_CRF_MAX_SEGMENTS], len;
    /* a 10 s test clip: one 2 s piece in the middle */
    assert_int_equal(sbk_crf_segments(10, st, &len), 1);
    assert_true(fabs(len - 2) < 1e-9 && fabs(st[0] - 4) < 1e-9);
    /* a 2.5-minute lesson: three pieces of 2 s (4 % of it) */
    int k = sbk_crf_segments(150, st, &len);
    assert_int_equal(k, 3);
    assert_true(fabs(len * k - 6) < 1e-9);
    for (int i = 0; i < k; i++)
        assert_true(st[i] >= 0 && st[i] + len <= 150);
    /* ten minutes: four pieces of 3 s, 12 s in all */
    k = sbk_crf_segments(600, st, &len);
    assert_int_equal(k, 4);
    assert_true(fabs(len - 3) < 1e-9);
    /* shorter than 2 s: the whole of it */
    k = sbk_crf_segments(1.5, st, &len);
    assert_int_equal(k, 1);
    assert_true(st[0] == 0 && fabs(len - 1.5) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssim_matches_ffmpeg),
        cmocka_unit_test(choose_exact_model),
        cmocka_unit_test(probe_where_the_line_points),
        cmocka_unit_test(flat_quality),
        cmocka_unit_test(segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
