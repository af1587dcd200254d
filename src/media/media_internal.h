/* Private helpers shared by the files of src/media/. */
#ifndef SABAK_MEDIA_INTERNAL_H
#define SABAK_MEDIA_INTERNAL_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "sabak/media.h"

/* Demuxers and decoders we accept, as NULL-terminated tables of FFmpeg's
 * demuxer and DECODER names (FFmpeg matches codec_whitelist against decoder
 * names: MS-MPEG4 v3 is decoded by "msmpeg4"). Anything else is refused
 * before a decoder ever sees the bytes (the file extension is never
 * trusted). tests/unit/media_test_whitelist.c resolves every name. */
extern const char *const sbk_media_demuxers[];
extern const char *const sbk_media_video_decoders[];
extern const char *const sbk_media_audio_decoders[];
extern const char *const sbk_media_other_decoders[];
/* 1 if `name` is a decoder on the lists. */
int sbk_media_decoder_allowed(const char *name);
/* A whitelisted decoder for `id` (FFmpeg's preferred one first), or NULL. */
const AVCodec *sbk_media_find_decoder(enum AVCodecID id);
/* ISO 639-1/-2 language tag (stream metadata) to the lesson code ("kir" ->
 * "ky"); "und" when unknown or NULL. */
void sbk_media_lang_code(const char *iso, char out[16]);

/* The screencast/camera decision from the motion shares measured between
 * frame pairs (sorted in place): the median below this is a screencast. */
#define SBK_SCREENCAST_MOTION 0.03
SbkContent sbk_media_classify(double *motions, int n, double *median);

/* avformat_open_input + find_stream_info with the whitelists, file protocol
 * only. Messages name the file by its base name. */
int sbk_media_open_input(const char *path, AVFormatContext **out, SbkError *err);
/* Open a decoder for stream `st` with the whitelist, max_pixels and
 * err_recognition=explode (damage is an error, not a silent glitch). */
int sbk_media_open_decoder(const char *path, AVStream *st, int threads, AVCodecContext **out,
                           SbkError *err);
/* "<base>: <av_err2str(averr)>"-style message with a trainer-friendly hint. */
int sbk_media_av_error(SbkError *err, int averr, const char *path, const char *what);

/* Rendition ladder (src/media/ladder.c). */
struct SbkTier {
    const char *name;         /* "standard", "low", "audio", "av1" */
    int has_video;
    /* video */
    const char *vencoder;     /* "libx264", "libsvtav1" */
    int max_height_camera;    /* output height = min(this, source) */
    int max_height_screen;
    double max_fps_camera;
    double max_fps_screen;
    int crf_camera;           /* the CRF when no search runs (--crf, or no target) */
    int crf_screen;
    /* the quality the CRF search aims at (crf_search.c); 0: no search */
    double ssim_target;       /* mean SSIM-Y of the sampled frames */
    double ssim_floor;        /* the worst sample segment's mean SSIM-Y */
    int crf_min, crf_max;     /* the range the search may choose from */
    double gop_s_camera;      /* longest keyframe interval, seconds (scene cuts add more) */
    double gop_s_screen;
    int maxrate_kbps;         /* VBV cap */
    int bufsize_kbps;
    const char *profile;      /* "high" */
    const char *level;        /* "3.1" */
    const char *preset;
    /* audio */
    const char *aencoder;     /* "aac", "libopus" */
    int abitrate;             /* bits/s */
    int asample_rate;
    const char *aac_coder;    /* FFmpeg aac's aac_coder option; NULL: its default */
    /* container */
    const char *ext;          /* "mp4", "m4a": the entry is media/<name>.<ext> */
    const char *mime;         /* "video/mp4", "audio/mp4" */
    const char *kind;         /* manifest kind: "video", "audio" */
};

/* Position of a tier in the ladder table (bundle order), -1 if not in it. */
int sbk_tier_index(const SbkTier *t);
/* "standard, low, audio, av1": every tier, for messages. */
const char *sbk_tier_names(void);
/* Bundle entry name: "media/standard.mp4". */
void sbk_tier_entry(const SbkTier *t, char *out, size_t n);
/* Output size (even, short side capped by the tier, aspect kept, portrait
 * stays portrait) and frame rate (source's, capped) of a video tier for a
 * source of src_w x src_h (display size, rotation applied). */
void sbk_tier_plan_video(const SbkTier *t, int screen, int src_w, int src_h, AVRational src_fps,
                         int *out_w, int *out_h, AVRational *out_fps);
/* The filters of one video tier's branch, after the split: frame rate,
 * scale, pixel format (and the content's own filters), without brackets. */
void sbk_tier_video_filters(const SbkTier *t, int screen, int w, int h, AVRational fps, char *out,
                            size_t n);
/* RFC 6381 codec string of an encoder's output, from its extradata (avcC,
 * av1C) where the codec has one; "" for codecs the ladder does not make. */
void sbk_media_codec_string(enum AVCodecID id, const uint8_t *extradata, int size, int level,
                            char *out, size_t n);

/* Clockwise rotation (0/90/180/270) a stream's display matrix asks for. */
int sbk_media_stream_rotation(AVStream *st);

/* Motion share between two 8-bit gray images of w*h (0..1). */
double sbk_media_motion(const uint8_t *a, const uint8_t *b, int w, int h, int stride);

/* Encode one frame (any pixel format), turned clockwise by `rotation`
 * degrees (0/90/180/270), as a JPEG at most `maxw` wide (height keeps the
 * aspect, even) to path, atomically. */
int sbk_media_write_jpeg(const AVFrame *frame, int rotation, int maxw, const char *path,
                         int *out_w, int *out_h, SbkError *err);

#endif
