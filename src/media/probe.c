/* Probing: what is in a recording, is it something we accept, and is it a
 * screencast (mostly static, text) or camera footage. */
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media_internal.h"
#include "sabak/core.h"

const char sbk_media_format_whitelist[] =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,asf,wav,mp3,ogg,flac,aac,"
    "w64,aiff,amr";
const char sbk_media_codec_whitelist[] =
    /* video */
    "h264,hevc,mpeg4,msmpeg4v2,msmpeg4v3,mpeg2video,mpeg1video,vp8,vp9,libvpx,libvpx-vp9,av1,"
    "libdav1d,libaom-av1,wmv1,wmv2,wmv3,vc1,mjpeg,h263,flv,theora,prores,qtrle,png,"
    /* audio */
    "aac,aac_fixed,mp3,mp3float,mp2,mp2float,ac3,ac3_fixed,eac3,opus,libopus,vorbis,flac,alac,"
    "pcm_s16le,pcm_s16be,pcm_s24le,pcm_s32le,pcm_f32le,pcm_u8,pcm_mulaw,pcm_alaw,wmav1,wmav2,"
    "wmapro,amrnb,amrwb,libopencore_amrnb,libopencore_amrwb,adpcm_ima_wav,adpcm_ms,"
    /* text subtitles */
    "subrip,srt,mov_text,ass,ssa,webvtt,text";

const char *sbk_content_name(SbkContent c)
{
    switch (c) {
    case SBK_CONTENT_SCREENCAST: return "screencast";
    case SBK_CONTENT_CAMERA: return "camera";
    default: return "audio";
    }
}

int sbk_media_av_error(SbkError *err, int averr, const char *path, const char *what)
{
    const char *base = sbk_path_base(path);
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, buf, sizeof buf);
    if (averr == AVERROR_INVALIDDATA || averr == AVERROR_DEMUXER_NOT_FOUND ||
        averr == AVERROR_DECODER_NOT_FOUND)
        return sbk_err(err, SBK_EDAMAGED, "%s is damaged or not a media file (%s: %s)", base, what,
                       buf);
    if (averr == AVERROR(ENOENT))
        return sbk_err(err, SBK_ENOENT, "%s: no such file", path);
    if (averr == AVERROR(ENOSPC))
        return sbk_err(err, SBK_ENOSPC, "%s: disk is full", what);
    if (averr == AVERROR(ENOMEM))
        return sbk_err(err, SBK_ENOMEM, "out of memory (%s)", what);
    if (averr == AVERROR_EXIT)
        return sbk_err(err, SBK_ECANCELED, "interrupted");
    return sbk_err(err, SBK_EIO, "%s: %s failed: %s", base, what, buf);
}

int sbk_media_open_input(const char *path, AVFormatContext **out, SbkError *err)
{
    AVFormatContext *fmt = NULL;
    AVDictionary *opts = NULL;
    int ret;
    *out = NULL;
    av_dict_set(&opts, "format_whitelist", sbk_media_format_whitelist, 0);
    av_dict_set(&opts, "codec_whitelist", sbk_media_codec_whitelist, 0);
    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    ret = avformat_open_input(&fmt, path, NULL, &opts);
    av_dict_free(&opts);
    if (ret < 0) {
        if (ret == AVERROR(ENOENT))
            return sbk_err(err, SBK_ENOENT, "%s: no such file", path);
        if (ret == AVERROR_INVALIDDATA || ret == AVERROR_DEMUXER_NOT_FOUND)
            return sbk_err(err, SBK_EUNSUPPORTED,
                           "%s is not a video or audio file sabak can read (or it is damaged)",
                           sbk_path_base(path));
        return sbk_media_av_error(err, ret, path, "opening");
    }
    ret = avformat_find_stream_info(fmt, NULL);
    if (ret < 0) {
        avformat_close_input(&fmt);
        return sbk_err(err, SBK_EDAMAGED,
                       "%s is damaged: its streams cannot be read (the file may be cut short)",
                       sbk_path_base(path));
    }
    *out = fmt;
    return 0;
}

int sbk_media_open_decoder(const char *path, AVStream *st, int threads, AVCodecContext **out,
                           SbkError *err)
{
    const AVCodec *dec = avcodec_find_decoder(st->codecpar->codec_id);
    AVCodecContext *ctx = NULL;
    AVDictionary *opts = NULL;
    int ret;
    *out = NULL;
    if (!dec)
        return sbk_err(err, SBK_EUNSUPPORTED, "%s: no decoder for its %s stream (%s)",
                       sbk_path_base(path), av_get_media_type_string(st->codecpar->codec_type),
                       avcodec_get_name(st->codecpar->codec_id));
    ctx = avcodec_alloc_context3(dec);
    if (!ctx)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    ret = avcodec_parameters_to_context(ctx, st->codecpar);
    if (ret < 0)
        goto fail;
    ctx->pkt_timebase = st->time_base;
    ctx->thread_count = threads;
    ctx->err_recognition = AV_EF_EXPLODE | AV_EF_BITSTREAM | AV_EF_BUFFER | AV_EF_CRCCHECK;
    av_dict_set(&opts, "codec_whitelist", sbk_media_codec_whitelist, 0);
    av_dict_set_int(&opts, "max_pixels", SBK_MAX_PIXELS, 0);
    ret = avcodec_open2(ctx, dec, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        goto fail;
    *out = ctx;
    return 0;
fail:
    avcodec_free_context(&ctx);
    if (ret == AVERROR_DECODER_NOT_FOUND || ret == AVERROR(EINVAL))
        return sbk_err(err, SBK_EUNSUPPORTED, "%s: its %s codec (%s) is not accepted",
                       sbk_path_base(path), av_get_media_type_string(st->codecpar->codec_type),
                       avcodec_get_name(st->codecpar->codec_id));
    return sbk_media_av_error(err, ret, path, "opening the decoder");
}

int sbk_media_stream_rotation(AVStream *st)
{
    /* As ffmpeg's own autorotate: the display matrix gives the angle the
     * picture is turned counter-clockwise; round to a quarter turn. */
    const int32_t *m = (const int32_t *)av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m)
        return 0;
    double theta = -round(av_display_rotation_get(m));
    theta -= 360 * floor(theta / 360 + 0.9 / 360);
    int q = (int)lround(theta / 90) % 4;
    return q * 90;
}

double sbk_media_motion(const uint8_t *a, const uint8_t *b, int w, int h, int stride)
{
    long changed = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (abs(a[y * stride + x] - b[y * stride + x]) > 10)
                changed++;
    return w > 0 && h > 0 ? (double)changed / ((double)w * h) : 0.0;
}

/* ---- classification ------------------------------------------------------ */
enum { SAMPLE_W = 160, SAMPLE_H = 90, N_POSITIONS = 6 };

typedef struct Sampler {
    const char *path;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int vidx;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    uint8_t gray[2][SAMPLE_W * SAMPLE_H];
} Sampler;

/* Decode the next frame of the video stream into s->frame. 0, AVERROR_EOF
 * or another error. */
static int next_frame(Sampler *s)
{
    for (;;) {
        int ret = avcodec_receive_frame(s->dec, s->frame);
        if (ret != AVERROR(EAGAIN))
            return ret;
        ret = av_read_frame(s->fmt, s->pkt);
        if (ret < 0) {
            avcodec_send_packet(s->dec, NULL); /* drain */
            continue;
        }
        if (s->pkt->stream_index == s->vidx)
            ret = avcodec_send_packet(s->dec, s->pkt);
        av_packet_unref(s->pkt);
        if (ret < 0 && ret != AVERROR(EAGAIN))
            return ret;
    }
}

static int to_gray(Sampler *s, uint8_t *dst)
{
    s->sws = sws_getCachedContext(s->sws, s->frame->width, s->frame->height, s->frame->format,
                                  SAMPLE_W, SAMPLE_H, AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL,
                                  NULL);
    if (!s->sws)
        return AVERROR(EINVAL);
    uint8_t *planes[4] = {dst, NULL, NULL, NULL};
    int strides[4] = {SAMPLE_W, 0, 0, 0};
    sws_scale(s->sws, (const uint8_t *const *)s->frame->data, s->frame->linesize, 0,
              s->frame->height, planes, strides);
    return 0;
}

/* Frame pairs ~0.5 s apart at several positions; the median share of
 * changed pixels tells a screencast (almost nothing moves) from a camera. */
static int classify(const char *path, AVFormatContext *fmt, int vidx, SbkProbe *p, SbkError *err)
{
    Sampler s = {.path = path, .fmt = fmt, .vidx = vidx};
    double motions[N_POSITIONS];
    int n = 0, ret = 0;
    AVStream *st = fmt->streams[vidx];
    ret = sbk_media_open_decoder(path, st, 2, &s.dec, err);
    if (ret < 0)
        return ret;
    s.dec->err_recognition = 0; /* sampling only: damage is reported by the transcode */
    s.pkt = av_packet_alloc();
    s.frame = av_frame_alloc();
    if (!s.pkt || !s.frame) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    double step = p->duration > 0 ? p->duration / (N_POSITIONS + 1) : 0;
    for (int i = 0; i < N_POSITIONS; i++) {
        double t = step * (i + 1);
        if (i > 0 && step < 1.0)
            break;
        int64_t ts = av_rescale_q((int64_t)(t * AV_TIME_BASE), AV_TIME_BASE_Q, st->time_base);
        if (st->start_time != AV_NOPTS_VALUE)
            ts += st->start_time;
        if (avformat_seek_file(fmt, vidx, INT64_MIN, ts, ts, 0) < 0)
            continue;
        avcodec_flush_buffers(s.dec);
        int64_t target = -1;
        int got = 0;
        while (got < 2 && next_frame(&s) == 0) {
            int64_t pts = s.frame->best_effort_timestamp;
            if (got == 0) {
                if (pts != AV_NOPTS_VALUE && pts < ts) {
                    av_frame_unref(s.frame);
                    continue;
                }
                to_gray(&s, s.gray[0]);
                target = (pts == AV_NOPTS_VALUE ? ts : pts) +
                         av_rescale_q(500000, AV_TIME_BASE_Q, st->time_base);
                got = 1;
            } else if (pts == AV_NOPTS_VALUE || pts >= target) {
                to_gray(&s, s.gray[1]);
                got = 2;
            }
            av_frame_unref(s.frame);
        }
        if (got == 2)
            motions[n++] = sbk_media_motion(s.gray[0], s.gray[1], SAMPLE_W, SAMPLE_H, SAMPLE_W);
    }
    /* median */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && motions[j - 1] > motions[j]; j--) {
            double t = motions[j];
            motions[j] = motions[j - 1];
            motions[j - 1] = t;
        }
    p->motion = n ? motions[n / 2] : 0.0;
    p->content = p->motion < 0.03 ? SBK_CONTENT_SCREENCAST : SBK_CONTENT_CAMERA;
done:
    sws_freeContext(s.sws);
    av_frame_free(&s.frame);
    av_packet_free(&s.pkt);
    avcodec_free_context(&s.dec);
    return ret;
}

int sbk_media_probe(const char *path, int audio_only, SbkProbe *out, SbkError *err)
{
    AVFormatContext *fmt = NULL;
    int ret;
    memset(out, 0, sizeof *out);
    ret = sbk_media_open_input(path, &fmt, err);
    if (ret < 0)
        return ret;
    const char *base = sbk_path_base(path);
    snprintf(out->format, sizeof out->format, "%s", fmt->iformat->name);
    char *comma = strchr(out->format, ',');
    if (comma)
        *comma = '\0';
    int vidx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    int aidx = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    /* A cover picture (mp3/m4a artwork) is not a video. */
    if (vidx >= 0 && (fmt->streams[vidx]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        vidx = -1;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        enum AVCodecID id = fmt->streams[i]->codecpar->codec_id;
        if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE &&
            (id == AV_CODEC_ID_SUBRIP || id == AV_CODEC_ID_MOV_TEXT || id == AV_CODEC_ID_ASS ||
             id == AV_CODEC_ID_WEBVTT || id == AV_CODEC_ID_TEXT || id == AV_CODEC_ID_SSA))
            out->n_text_subs++;
    }
    double dur = fmt->duration != AV_NOPTS_VALUE ? fmt->duration / (double)AV_TIME_BASE : 0;
    if (dur <= 0 && vidx >= 0 && fmt->streams[vidx]->duration > 0)
        dur = fmt->streams[vidx]->duration * av_q2d(fmt->streams[vidx]->time_base);
    out->duration = dur;
    if (vidx < 0 && aidx < 0) {
        ret = sbk_err(err, SBK_EUNSUPPORTED, "%s has no video or audio stream", base);
        goto done;
    }
    if (vidx < 0 && !audio_only) {
        ret = sbk_err(err, SBK_EINVAL,
                      "%s has no video stream (for an audio-only lesson set audio_only = true in "
                      "lesson.ini)",
                      base);
        goto done;
    }
    if (dur <= 0) {
        ret = sbk_err(err, SBK_EDAMAGED, "%s is damaged: its duration is unknown", base);
        goto done;
    }
    if (dur > SBK_MAX_DURATION_S) {
        ret = sbk_err(err, SBK_ELIMIT, "%s lasts %.0f hours; the limit is %d hours", base,
                      dur / 3600, SBK_MAX_DURATION_S / 3600);
        goto done;
    }
    if (aidx >= 0) {
        AVCodecParameters *a = fmt->streams[aidx]->codecpar;
        out->has_audio = 1;
        out->channels = a->ch_layout.nb_channels;
        out->sample_rate = a->sample_rate;
        snprintf(out->acodec, sizeof out->acodec, "%s", avcodec_get_name(a->codec_id));
    }
    if (vidx >= 0) {
        AVStream *st = fmt->streams[vidx];
        AVCodecParameters *v = st->codecpar;
        if (v->width <= 0 || v->height <= 0) {
            ret = sbk_err(err, SBK_EDAMAGED, "%s is damaged: its picture size is unknown", base);
            goto done;
        }
        if ((int64_t)v->width * v->height > SBK_MAX_PIXELS) {
            ret = sbk_err(err, SBK_ELIMIT, "%s is %dx%d; the largest accepted picture is 8K (%d pixels)",
                          base, v->width, v->height, SBK_MAX_PIXELS);
            goto done;
        }
        out->has_video = 1;
        AVRational sar = av_guess_sample_aspect_ratio(fmt, st, NULL);
        out->width = v->width;
        out->height = v->height;
        if (sar.num > 0 && sar.den > 0 && sar.num != sar.den)
            out->width = (int)lround(v->width * av_q2d(sar));
        out->rotation = sbk_media_stream_rotation(st);
        if (out->rotation == 90 || out->rotation == 270) {
            int w = out->width;
            out->width = out->height;
            out->height = w;
        }
        AVRational fr = av_guess_frame_rate(fmt, st, NULL);
        out->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 25.0;
        if (out->fps > 240)
            out->fps = 240;
        snprintf(out->vcodec, sizeof out->vcodec, "%s", avcodec_get_name(v->codec_id));
        ret = classify(path, fmt, vidx, out, err);
        if (ret < 0)
            goto done;
    } else {
        out->content = SBK_CONTENT_AUDIO;
    }
    ret = 0;
done:
    avformat_close_input(&fmt);
    return ret;
}

/* FFmpeg's own messages go to the one log sink, as debug lines: sabak
 * reports failures in its own words, and -v shows the details. */
static void av_log_to_sink(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > AV_LOG_WARNING)
        return;
    char line[1024];
    int prefix = 1;
    av_log_format_line(avcl, level, fmt, vl, line, sizeof line, &prefix);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (n > 0)
        sbk_log(SBK_LOG_DEBUG, "ffmpeg: %s", line);
}

void sbk_media_init(void)
{
    av_log_set_callback(av_log_to_sink);
}
