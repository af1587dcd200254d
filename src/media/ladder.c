/* The rendition ladder as data. Numbers come from tools/bench/encode runs
 * recorded in docs/BENCHMARKS.md; change them there first. */
#include <string.h>

#include "media_internal.h"

static const SbkTier tiers[] = {
    {
        .name = "standard", .has_video = 1,
        .vencoder = "libx264",
        .max_height_camera = 480, .max_height_screen = 480,
        .max_fps_camera = 30, .max_fps_screen = 15,
        .crf_camera = 32, .crf_screen = 30,
        .maxrate_kbps = 700, .bufsize_kbps = 1400,
        .profile = "high", .level = "3.1", .preset = "slow",
        .aencoder = "aac", .abitrate = 16000, .asample_rate = 16000,
        .ext = "mp4", .mime = "video/mp4",
    },
    {
        .name = "low", .has_video = 1,
        .vencoder = "libx264",
        .max_height_camera = 360, .max_height_screen = 480,
        .max_fps_camera = 15, .max_fps_screen = 10,
        .crf_camera = 39, .crf_screen = 39,
        .maxrate_kbps = 300, .bufsize_kbps = 600,
        .profile = "high", .level = "3.1", .preset = "slow",
        .aencoder = "libopus", .abitrate = 12000, .asample_rate = 48000,
        .ext = "mp4", .mime = "video/mp4",
    },
    {
        .name = "audio", .has_video = 0,
        .aencoder = "aac", .abitrate = 26000, .asample_rate = 24000,
        .ext = "m4a", .mime = "audio/mp4",
    },
    {
        .name = "av1", .has_video = 1,
        .vencoder = "libsvtav1",
        .max_height_camera = 480, .max_height_screen = 480,
        .max_fps_camera = 30, .max_fps_screen = 15,
        .crf_camera = 40, .crf_screen = 40,
        .maxrate_kbps = 0, .bufsize_kbps = 0,
        .profile = NULL, .level = NULL, .preset = "8",
        .aencoder = "libopus", .abitrate = 24000, .asample_rate = 48000,
        .ext = "mp4", .mime = "video/mp4",
    },
};

const SbkTier *sbk_tier_find(const char *name)
{
    for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++)
        if (strcmp(tiers[i].name, name) == 0)
            return &tiers[i];
    return NULL;
}

const char *sbk_tier_default_list(void) { return "standard,low,audio"; }

const char *sbk_tier_name(const SbkTier *t) { return t->name; }
