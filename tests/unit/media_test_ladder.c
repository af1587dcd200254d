/* Media logic that needs no encoding, as tables: the ladder planner, the
 * RFC 6381 codec strings and the screencast/camera decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "media/media_internal.h"

static const struct {
    const char *tier;
    int screen, src_w, src_h, fps_num, fps_den;
    int w, h, out_num, out_den;
} plans[] = {
    /* tier      screen  source         fps            out        fps */
    {"standard", 0, 1920, 1080, 30, 1, 854, 480, 30, 1},         /* 1080p camera */
    {"standard", 0, 1280, 720, 60, 1, 854, 480, 30, 1},          /* 60 fps capped */
    {"standard", 0, 3840, 2160, 60000, 1001, 854, 480, 30, 1},   /* 4K phone */
    {"standard", 0, 1080, 1920, 30, 1, 480, 854, 30, 1},         /* portrait phone */
    {"standard", 0, 320, 240, 25, 1, 320, 240, 25, 1},           /* never upscaled */
    {"standard", 0, 321, 241, 25, 1, 320, 240, 25, 1},           /* odd sizes: even */
    {"standard", 0, 768, 576, 25, 1, 640, 480, 25, 1},           /* PAL DV 4:3, square */
    {"standard", 0, 1024, 576, 25, 1, 854, 480, 25, 1},          /* PAL DV 16:9 */
    {"standard", 0, 853, 480, 30000, 1001, 854, 480, 30000, 1001}, /* NTSC DVD 16:9 */
    {"standard", 1, 1920, 1080, 25, 1, 854, 480, 15, 1},         /* screencast: 15 fps */
    {"standard", 1, 2560, 1600, 60, 1, 768, 480, 15, 1},         /* 16:10 screen */
    {"standard", 0, 1920, 1080, 0, 0, 854, 480, 30, 1},          /* unknown rate */
    {"standard", 0, 1, 1, 25, 1, 2, 2, 25, 1},                   /* degenerate */
    {"low", 0, 1280, 720, 30, 1, 640, 360, 15, 1},
    {"low", 1, 1920, 1080, 30, 1, 854, 480, 10, 1},
    {"low", 0, 720, 1280, 24, 1, 360, 640, 15, 1},               /* portrait */
    {"av1", 0, 1920, 1080, 24, 1, 854, 480, 24, 1},
};

static void test_planner(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++) {
        const SbkTier *t = sbk_tier_find(plans[i].tier);
        assert_non_null(t);
        int w = 0, h = 0;
        AVRational fps;
        sbk_tier_plan_video(t, plans[i].screen, plans[i].src_w, plans[i].src_h,
                            (AVRational){plans[i].fps_num, plans[i].fps_den}, &w, &h, &fps);
        if (w != plans[i].w || h != plans[i].h || fps.num != plans[i].out_num ||
            fps.den != plans[i].out_den)
            fail_msg("row %zu (%s %dx%d): got %dx%d @%d/%d, want %dx%d @%d/%d", i, plans[i].tier,
                     plans[i].src_w, plans[i].src_h, w, h, fps.num, fps.den, plans[i].w,
                     plans[i].h, plans[i].out_num, plans[i].out_den);
        assert_int_equal(w % 2, 0);
        assert_int_equal(h % 2, 0);
    }
}

static const uint8_t avcc_high31[] = {1, 0x64, 0x00, 0x1f, 0xff};
static const uint8_t avcc_main30[] = {1, 0x4d, 0x40, 0x1e, 0xff};
static const uint8_t av1c_8bit[] = {0x81, 0x08, 0x0c, 0x00};
static const uint8_t av1c_10bit[] = {0x81, 0x2d, 0x40, 0x00}; /* profile 1, level 13 */
static const uint8_t not_avcc[] = {0, 0, 0, 1, 0x67}; /* Annex B start code */

static const struct {
    enum AVCodecID id;
    const uint8_t *x;
    int size, level;
    const char *want;
} strings[] = {
    {AV_CODEC_ID_H264, avcc_high31, sizeof avcc_high31, 0, "avc1.64001F"},
    {AV_CODEC_ID_H264, avcc_main30, sizeof avcc_main30, 0, "avc1.4D401E"},
    {AV_CODEC_ID_H264, NULL, 0, 31, "avc1.64001F"},     /* no extradata: profile high */
    {AV_CODEC_ID_H264, NULL, 0, 0, "avc1.64001F"},      /* level unknown: 3.1 */
    {AV_CODEC_ID_H264, not_avcc, sizeof not_avcc, 30, "avc1.64001E"},
    {AV_CODEC_ID_AV1, av1c_8bit, sizeof av1c_8bit, 0, "av01.0.08M.08"},
    {AV_CODEC_ID_AV1, av1c_10bit, sizeof av1c_10bit, 0, "av01.1.13M.10"},
    {AV_CODEC_ID_AV1, NULL, 0, 0, "av01.0.08M.08"},
    {AV_CODEC_ID_AAC, NULL, 0, 0, "mp4a.40.2"},
    {AV_CODEC_ID_OPUS, NULL, 0, 0, "opus"},
    {AV_CODEC_ID_MP3, NULL, 0, 0, ""},
};

static void test_codec_strings(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        char out[64];
        sbk_media_codec_string(strings[i].id, strings[i].x, strings[i].size, strings[i].level, out,
                               sizeof out);
        if (strcmp(out, strings[i].want) != 0)
            fail_msg("row %zu: \"%s\", want \"%s\"", i, out, strings[i].want);
    }
}

static const struct {
    double m[6];
    int n;
    SbkContent want;
    double median;
} classes[] = {
    {{0, 0, 0, 0, 0, 0}, 6, SBK_CONTENT_SCREENCAST, 0},             /* slides */
    {{0.001, 0.4, 0.002, 0.0, 0.01, 0.003}, 6, SBK_CONTENT_SCREENCAST, 0.003}, /* one scroll */
    {{0.2, 0.3, 0.25, 0.5, 0.1, 0.4}, 6, SBK_CONTENT_CAMERA, 0.3},  /* camera */
    {{0.0, 0.0, 0.0, 0.5, 0.5, 0.5}, 6, SBK_CONTENT_CAMERA, 0.5},   /* half and half: camera */
    {{0.029}, 1, SBK_CONTENT_SCREENCAST, 0.029},                    /* short clip, one pair */
    {{0.03}, 1, SBK_CONTENT_CAMERA, 0.03},                          /* the threshold */
    {{0.05, 0.01, 0.02}, 3, SBK_CONTENT_SCREENCAST, 0.02},
    {{0}, 0, SBK_CONTENT_SCREENCAST, 0},                            /* no pairs sampled */
};

static void test_classifier(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        double m[6], median = -1;
        memcpy(m, classes[i].m, sizeof m);
        SbkContent c = sbk_media_classify(m, classes[i].n, &median);
        if (c != classes[i].want || median != classes[i].median)
            fail_msg("row %zu: %s (median %g), want %s (%g)", i, sbk_content_name(c), median,
                     sbk_content_name(classes[i].want), classes[i].median);
    }
}

/* The table owns order, names, MIME types and kinds. */
static void test_table(void **state)
{
    (void)state;
    static const char *const rows[][4] = {
        {"standard", "media/standard.mp4", "video/mp4", "video"},
        {"low", "media/low.mp4", "video/mp4", "video"},
        {"audio", "media/audio.m4a", "audio/mp4", "audio"},
        {"audio-aac", "media/audio-aac.m4a", "audio/mp4", "audio"},
        {"av1", "media/av1.mp4", "video/mp4", "video"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const SbkTier *t = sbk_tier_find(rows[i][0]);
        char entry[64];
        assert_non_null(t);
        assert_int_equal(sbk_tier_index(t), (int)i);
        sbk_tier_entry(t, entry, sizeof entry);
        assert_string_equal(entry, rows[i][1]);
        assert_string_equal(t->mime, rows[i][2]);
        assert_string_equal(t->kind, rows[i][3]);
    }
    assert_null(sbk_tier_find("hd"));
    assert_string_equal(sbk_tier_names(), "standard, low, audio, audio-aac, av1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planner),
        cmocka_unit_test(test_codec_strings),
        cmocka_unit_test(test_classifier),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
