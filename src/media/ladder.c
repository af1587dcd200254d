/* The rendition ladder as data: the order here is the order of the tiers in
 * every bundle, and each tier's file name, MIME type and manifest kind come
 * from its row. Numbers come from tools/bench/encode runs
 * recorded in docs/BENCHMARKS.md; change them there first. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "media_internal.h"

/* Video tiers aim at a quality (crf_search.c picks the CRF per lesson):
 * mean SSIM-Y of the sampled frames and a floor for the worst sample
 * segment. standard .955 / .940: below ricecooker's .969-.970 at its preset
 * but no visible loss at 480p; low .950 / .930: at or above Mp4Low's
 * quality (.951 on camera, .923-.924 on screencasts, docs/BENCHMARKS.md).
 * The CRF range: the ceiling keeps slide text legible where SSIM-Y would
 * allow more; the floor stops a tier that cannot reach its target (noise,
 * or the low tier's 15 fps from 25-30 fps camera footage, where the
 * dropped frames alone cap SSIM-Y) from growing without gaining.
 * crf_camera / crf_screen: the search's first probe, and the CRF where
 * no search runs (no target, or a failed search). */
/* Keyframes: at most every 10 s on camera footage, 30 s on screencasts
 * (scene cuts, such as a new slide, add their own). A screencast's
 * keyframes are most of its video bits; seeking fetches from the keyframe
 * before the target, at worst 30 s of a still picture: see the trade in
 * docs/BENCHMARKS.md. */
#define GOP_SCREEN 30

static const SbkTier tiers[] = {
    {
        .name = "standard", .has_video = 1,
        .vencoder = "libx264",
        .max_height_camera = 480, .max_height_screen = 480,
        .max_fps_camera = 30, .max_fps_screen = 15,
        .crf_camera = 32, .crf_screen = 30,
        .ssim_target = 0.955, .ssim_floor = 0.940, .crf_min = 26, .crf_max = 40,
        .gop_s_camera = 10, .gop_s_screen = GOP_SCREEN,
        .maxrate_kbps = 700, .bufsize_kbps = 1400,
        .profile = "high", .level = "3.1", .preset = "slow",
        .aencoder = "aac", .abitrate = 16000, .asample_rate = 16000,
        .ext = "mp4", .mime = "video/mp4", .kind = "video",
    },
    {
        .name = "low", .has_video = 1,
        .vencoder = "libx264",
        .max_height_camera = 360, .max_height_screen = 480,
        .max_fps_camera = 15, .max_fps_screen = 10,
        .crf_camera = 39, .crf_screen = 39,
        .ssim_target = 0.950, .ssim_floor = 0.930, .crf_min = 34, .crf_max = 45,
        .gop_s_camera = 10, .gop_s_screen = GOP_SCREEN,
        .maxrate_kbps = 300, .bufsize_kbps = 600,
        .profile = "high", .level = "3.1", .preset = "slow",
        .aencoder = "libopus", .abitrate = 12000, .asample_rate = 48000,
        .ext = "mp4", .mime = "video/mp4", .kind = "video",
    },
    /* Sound only: the smallest rendition. Opus for the browsers that play
     * Opus in MP4 (every current one); the AAC copy is the fallback for
     * those that do not (old Safari), at no more than the low tier's rate. */
    {
        .name = "audio", .has_video = 0,
        .aencoder = "libopus", .abitrate = 12000, .asample_rate = 48000,
        .ext = "m4a", .mime = "audio/mp4", .kind = "audio",
    },
    {
        .name = "audio-aac", .has_video = 0,
        /* FFmpeg's default AAC coder (twoloop) overshoots at these rates:
         * 16 kbit/s for "12k" on speech; the fast coder at 10k gives 10.6 */
        .aencoder = "aac", .abitrate = 10000, .asample_rate = 16000, .aac_coder = "fast",
        .ext = "m4a", .mime = "audio/mp4", .kind = "audio",
    },
    {
        .name = "av1", .has_video = 1,
        .vencoder = "libsvtav1",
        .max_height_camera = 480, .max_height_screen = 480,
        .max_fps_camera = 30, .max_fps_screen = 15,
        .crf_camera = 40, .crf_screen = 40,
        .gop_s_camera = 10, .gop_s_screen = 10,
        .maxrate_kbps = 0, .bufsize_kbps = 0,
        .profile = NULL, .level = NULL, .preset = "8",
        .aencoder = "libopus", .abitrate = 24000, .asample_rate = 48000,
        .ext = "mp4", .mime = "video/mp4", .kind = "video",
    },
};

enum { N_TIERS = sizeof tiers / sizeof tiers[0] };

const SbkTier *sbk_tier_find(const char *name)
{
    for (size_t i = 0; i < N_TIERS; i++)
        if (strcmp(tiers[i].name, name) == 0)
            return &tiers[i];
    return NULL;
}

int sbk_tier_index(const SbkTier *t)
{
    return t >= tiers && t < tiers + N_TIERS ? (int)(t - tiers) : -1;
}

const char *sbk_tier_default_list(void) { return "standard,low,audio,audio-aac"; }

const char *sbk_tier_name(const SbkTier *t) { return t->name; }

const char *sbk_tier_names(void)
{
    static char names[128];
    if (!names[0]) {
        size_t len = 0;
        for (size_t i = 0; i < N_TIERS; i++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
                                    tiers[i].name);
    }
    return names;
}

void sbk_tier_entry(const SbkTier *t, char *out, size_t n)
{
    snprintf(out, n, "media/%s.%s", t->name, t->ext);
}

void sbk_tier_plan_video(const SbkTier *t, int screen, int src_w, int src_h, AVRational src_fps,
                         int *out_w, int *out_h, AVRational *out_fps)
{
    int maxh = screen ? t->max_height_screen : t->max_height_camera;
    double maxfps = screen ? t->max_fps_screen : t->max_fps_camera;
    if (src_w < 2)
        src_w = 2;
    if (src_h < 2)
        src_h = 2;
    /* The tier's height limits the SHORT side, so a portrait phone video
     * becomes 480x854, not a 270x480 stamp. Both sides even (4:2:0). */
    int portrait = src_h > src_w;
    int src_short = portrait ? src_w : src_h, src_long = portrait ? src_h : src_w;
    int s = (src_short < maxh ? src_short : maxh) & ~1;
    if (s < 2)
        s = 2;
    int l = ((int)lround((double)src_long * s / src_short) + 1) & ~1;
    if (l < 2)
        l = 2;
    *out_w = portrait ? s : l;
    *out_h = portrait ? l : s;
    if (src_fps.num <= 0 || src_fps.den <= 0 || av_q2d(src_fps) > maxfps)
        *out_fps = av_d2q(maxfps, 1001);
    else
        *out_fps = src_fps;
}

void sbk_tier_video_filters(const SbkTier *t, int screen, int w, int h, AVRational fps, char *out,
                            size_t n)
{
    (void)t;
    (void)screen;
    /* fps from 0: video that starts after the audio repeats its first
     * picture instead of shifting; full-range (JPEG-style) input becomes
     * limited */
    snprintf(out, n,
             "fps=%d/%d:start_time=0,scale=%d:%d:flags=lanczos:out_range=tv,setsar=1,"
             "format=yuv420p",
             fps.num, fps.den, w, h);
}

void sbk_media_codec_string(enum AVCodecID id, const uint8_t *x, int size, int level, char *out,
                            size_t n)
{
    out[0] = '\0';
    if (id == AV_CODEC_ID_H264) {
        /* avcC: version 1, profile_idc, constraint flags, level_idc */
        int profile_idc = 100, constraints = 0, lvl = level > 0 ? level : 31;
        if (x && size >= 4 && x[0] == 1) {
            profile_idc = x[1];
            constraints = x[2];
            lvl = x[3];
        }
        snprintf(out, n, "avc1.%02X%02X%02X", profile_idc, constraints, lvl);
    } else if (id == AV_CODEC_ID_AV1) {
        /* av1C: marker|version, seq_profile(3)|seq_level_idx_0(5),
         * seq_tier_0(1)|high_bitdepth(1)|twelve_bit(1)|... */
        int profile = 0, lvl = 8, tier = 0, depth = 8;
        if (x && size >= 4 && (x[0] & 0x80)) {
            profile = x[1] >> 5;
            lvl = x[1] & 31;
            tier = x[2] >> 7;
            depth = (x[2] & 0x40) ? ((x[2] & 0x20) ? 12 : 10) : 8;
        }
        snprintf(out, n, "av01.%d.%02d%c.%02d", profile, lvl, tier ? 'H' : 'M', depth);
    } else if (id == AV_CODEC_ID_AAC) {
        snprintf(out, n, "mp4a.40.2");
    } else if (id == AV_CODEC_ID_OPUS) {
        snprintf(out, n, "opus");
    }
}
