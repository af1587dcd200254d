/* Private helpers shared by the files of src/media/. */
#ifndef SABAK_MEDIA_INTERNAL_H
#define SABAK_MEDIA_INTERNAL_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "sabak/media.h"

/* Demuxers and decoders we accept; anything else is refused before a
 * decoder ever sees the bytes (the file extension is never trusted). */
extern const char sbk_media_format_whitelist[];
extern const char sbk_media_codec_whitelist[];

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
    int crf_camera;
    int crf_screen;
    int maxrate_kbps;         /* VBV cap */
    int bufsize_kbps;
    const char *profile;      /* "high" */
    const char *level;        /* "3.1" */
    const char *preset;
    /* audio */
    const char *aencoder;     /* "aac", "libopus" */
    int abitrate;             /* bits/s */
    int asample_rate;
    /* container */
    const char *ext;          /* "mp4", "m4a" */
    const char *mime;
};

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
