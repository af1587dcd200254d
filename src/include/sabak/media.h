/* sabak/media.h - probing and transcoding with FFmpeg's libraries.
 * Lives in libsabak-media, which only the sabak-pack helper links: the kiosk
 * never maps libav*. */
#ifndef SABAK_MEDIA_H
#define SABAK_MEDIA_H

#include <stdint.h>

#include "sabak/error.h"
#include "sabak/subs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Route FFmpeg's messages into sbk_log (as debug lines). Call once. */
void sbk_media_init(void);

typedef enum { SBK_CONTENT_SCREENCAST = 0, SBK_CONTENT_CAMERA, SBK_CONTENT_AUDIO } SbkContent;
const char *sbk_content_name(SbkContent c); /* "screencast", "camera", "audio" */

#define SBK_MAX_PIXELS (7680 * 4320)   /* 8K */
#define SBK_MAX_DURATION_S (12 * 3600) /* 12 hours */

typedef struct SbkProbe {
    double start;          /* seconds: where the encoded streams start on the source timeline */
    double duration;       /* seconds, from the earliest start to the latest end of the
                              streams that are encoded (not subtitle/data tracks, cover
                              art or the container's own figure) */
    double video_end, audio_end; /* where each stream's header says it ends, seconds
                              from `start`; <= 0 when it does not say */
    int video_stream;      /* index of the video stream used, -1 if none */
    int audio_stream;      /* index of the audio stream used, -1 if none */
    int n_audio_tracks;    /* audio streams in the file */
    int audio_track;       /* 1-based position of the chosen one among them, 0 if none */
    char audio_lang[16];   /* its language ("ky", "ru", ..., "und") */
    char format[32];       /* demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" shortened to "mov" */
    int has_video, has_audio;
    int width, height;     /* display size (sample aspect applied) */
    double fps;            /* average frame rate */
    char vcodec[32];
    char acodec[32];
    int channels, sample_rate;
    SbkContent content;    /* classified from sampled frames */
    double motion;         /* mean share of changed pixels between samples 0..1 */
    int n_text_subs;       /* embedded text subtitle streams */
    int rotation;          /* 0, 90, 180 or 270: clockwise turn the picture needs
                              (phones store portrait video sideways plus a display
                              matrix); width/height above are already turned */
} SbkProbe;

/* Open, check against the whitelists and limits, classify. `audio_only`
 * allows a source without video. `audio_language` (lesson.ini, may be
 * NULL) picks the audio track by language; otherwise the default-marked or
 * first one. Errors name the file and say what a trainer can do, e.g.
 * "recording.mp4 is not a video or audio file". */
int sbk_media_probe(const char *path, int audio_only, const char *audio_language, SbkProbe *out,
                    SbkError *err);

/* Renditions ("tiers") are data: see the table in src/media/ladder.c. */
typedef struct SbkTier SbkTier;
/* Look up a tier by name ("standard", "low", "audio", "av1"); NULL if unknown. */
const SbkTier *sbk_tier_find(const char *name);
/* The tiers packed when the trainer does not choose: "standard,low,audio". */
const char *sbk_tier_default_list(void);
const char *sbk_tier_name(const SbkTier *t);

typedef struct SbkRenditionResult {
    const SbkTier *tier;
    char path[4096];       /* where it was written */
    char entry[64];        /* bundle entry name, e.g. "media/standard.mp4" */
    char mime[32];         /* "video/mp4" / "audio/mp4" */
    char codecs[64];       /* RFC 6381, e.g. "avc1.64001e, mp4a.40.2" */
    int width, height;
    double fps;
    double duration;       /* seconds, as muxed */
    int64_t size;          /* bytes */
    int64_t bitrate;       /* bits/s over the file */
    /* video tiers with a CRF: the one used and how it was chosen */
    int crf;               /* 0: not a CRF tier */
    int crf_from;          /* SBK_CRF_LADDER, SBK_CRF_SEARCH, SBK_CRF_OPTION */
    double ssim_y;         /* SBK_CRF_SEARCH: predicted mean SSIM-Y of the samples at crf */
    double ssim_y_min;     /* ... and of the worst sample segment */
} SbkRenditionResult;

enum { SBK_CRF_LADDER = 0, SBK_CRF_SEARCH = 1, SBK_CRF_OPTION = 2 };

typedef void (*SbkProgressFn)(void *opaque, double done_s, double total_s);

typedef struct SbkTranscodeJob {
    const char *src;
    const SbkProbe *probe;
    const SbkTier *const *tiers;  /* renditions to make */
    int n_tiers;
    const char *work_dir;         /* outputs go here */
    const int *crf;               /* per tier: the CRF to use, 0 (or NULL) = the ladder's */
    int threads;                  /* encoder threads per rendition, 0 = auto (fixed, so output is reproducible) */
    SbkProgressFn progress;
    void *progress_opaque;
    const volatile int *cancel;   /* polled; non-zero -> SBK_ECANCELED */
    /* poster / thumbnail (JPEG): the most detailed of the frames sampled at
     * 10%..90% of the duration, never a black or flat one; NULL to skip */
    const char *poster_path;
    const char *thumb_path;
    int poster_w, poster_h, thumb_w, thumb_h; /* filled in */
} SbkTranscodeJob;

/* Decode the source once and encode every tier from one filter graph
 * (split). Decode errors are fatal ("recording.mp4 is damaged: decoding
 * failed at 00:01:07"); output durations are checked against the source.
 * results must have room for job->n_tiers entries. */
int sbk_media_transcode(SbkTranscodeJob *job, SbkRenditionResult *results, SbkError *err);


/* Text subtitle streams embedded in the source, as cues (language from the
 * stream's metadata mapped to "ky"/"ru"/"en"/...; "und" when unknown). */
typedef struct SbkEmbeddedSubs {
    char lang[16];
    SbkSubs *subs;
} SbkEmbeddedSubs;
int sbk_media_extract_subs(const char *src, SbkEmbeddedSubs **out, int *n, SbkError *err);
void sbk_media_embedded_subs_free(SbkEmbeddedSubs **subs, int n);

/* Pack a lesson folder into a bundle: the whole `sabak pack` pipeline. */
/* What a pack made, for the summary a trainer reads at the end. */
enum { SBK_SUMMARY_MAX = 24 };
typedef struct SbkPackSummary {
    char id[72];
    int version;
    double duration;          /* seconds */
    char content[16];         /* "screencast", "camera", "audio" */
    int n_tiers;
    struct {
        char name[16];        /* "standard", ... */
        int64_t size;         /* bytes */
        int64_t bitrate;      /* bits/s */
        int width, height;    /* 0 for sound only */
        int crf, crf_from;    /* as in SbkRenditionResult */
        double ssim_y;
    } tiers[8];
    double search_cpu_s;      /* CPU seconds of the CRF search */
    int n_subs;
    struct {
        char lang[16];
        int cues;             /* in the bundle */
        int trimmed;          /* cues dropped or cut at the end of the recording */
        int embedded;         /* 1: taken from inside the recording */
    } subs[SBK_SUMMARY_MAX];
    char no_subs[4][4];       /* languages the lesson has a title in but no subtitles */
    int n_no_subs;
    int n_chapters;
    int n_handouts;
    int64_t handouts_size;
    int64_t bundle_size;
} SbkPackSummary;

typedef struct SbkPackOptions {
    const char *lesson_dir;
    const char *out;          /* a .zip path, or a folder (then <id>-v<version>.zip in it); NULL: cwd */
    const char *tiers;        /* comma list; NULL: sbk_tier_default_list() */
    int jobs;                 /* parallel encoders, 0 = auto */
    const char *crf;          /* "TIER=N[,TIER=N]": that tier's CRF, no quality search;
                                 NULL: every tier with a quality target is searched */
    SbkProgressFn progress;
    void *progress_opaque;
    const volatile int *cancel;
    const struct SbkSecretKey *sign_key; /* sign the bundle (sabak/sign.h); NULL: unsigned */
    char out_path[4096];      /* filled: the bundle written */
    SbkPackSummary *summary;  /* filled when not NULL and the pack succeeded */
} SbkPackOptions;
int sbk_pack(SbkPackOptions *opt, SbkError *err);

#ifdef __cplusplus
}
#endif
#endif
