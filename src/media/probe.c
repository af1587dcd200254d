/* Probing: what is in a recording, is it something we accept, and is it a
 * screencast (mostly static, text) or camera footage. */
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "media_internal.h"
#include "sabak/core.h"

const char *sbk_content_name(SbkContent c)
{
    switch (c) {
    case SBK_CONTENT_SCREENCAST: return "screencast";
    case SBK_CONTENT_CAMERA: return "camera";
    default: return "audio";
    }
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

SbkContent sbk_media_classify(double *motions, int n, double *median)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && motions[j - 1] > motions[j]; j--) {
            double t = motions[j];
            motions[j] = motions[j - 1];
            motions[j - 1] = t;
        }
    /* the median of an even count is the upper middle one: a recording
     * that moves half of the time counts as camera footage */
    double m = n > 0 ? motions[n / 2] : 0.0;
    if (median)
        *median = m;
    return m < SBK_SCREENCAST_MOTION ? SBK_CONTENT_SCREENCAST : SBK_CONTENT_CAMERA;
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
    p->content = sbk_media_classify(motions, n, &p->motion);
done:
    sws_freeContext(s.sws);
    av_frame_free(&s.frame);
    av_packet_free(&s.pkt);
    avcodec_free_context(&s.dec);
    return ret;
}

/* The audio track to use: the one whose language is `want` (lesson.ini's
 * audio_language), else the one marked default, else the first. */
static int choose_audio(const char *path, AVFormatContext *fmt, const char *want, SbkProbe *out,
                        SbkError *err)
{
    int first = -1, deflt = -1, match = -1;
    char seen[128] = "", want_code[16];
    sbk_media_lang_code(want, want_code);
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO)
            continue;
        out->n_audio_tracks++;
        char code[16];
        AVDictionaryEntry *lang = av_dict_get(st->metadata, "language", NULL, 0);
        sbk_media_lang_code(lang ? lang->value : NULL, code);
        if (first < 0)
            first = (int)i;
        if (deflt < 0 && (st->disposition & AV_DISPOSITION_DEFAULT))
            deflt = (int)i;
        if (want && match < 0 &&
            ((strcmp(code, "und") != 0 && strcmp(code, want_code) == 0) ||
             (lang && strcasecmp(lang->value, want) == 0)))
            match = (int)i;
        size_t n = strlen(seen);
        snprintf(seen + n, sizeof seen - n, "%s%s", n ? ", " : "",
                 strcmp(code, "und") == 0 && lang ? lang->value : code);
    }
    int pick = match >= 0 ? match : deflt >= 0 ? deflt : first;
    if (want && match < 0 && out->n_audio_tracks > 1)
        return sbk_err(err, SBK_EINVAL,
                       "%s has no audio track in \"%s\" (audio_language in lesson.ini); its audio "
                       "tracks are: %s",
                       sbk_path_base(path), want, seen);
    out->audio_stream = pick;
    if (pick >= 0) {
        AVDictionaryEntry *lang =
            av_dict_get(fmt->streams[pick]->metadata, "language", NULL, 0);
        sbk_media_lang_code(lang ? lang->value : NULL, out->audio_lang);
        for (int i = 0; i <= pick; i++)
            out->audio_track += fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO;
    }
    return 0;
}

/* "00:00:37.040000000" (Matroska's per-track DURATION tag) in seconds, or -1. */
static double tag_duration(AVStream *st)
{
    AVDictionaryEntry *e = av_dict_get(st->metadata, "DURATION", NULL, 0);
    unsigned h, m;
    double s;
    if (!e || sscanf(e->value, "%u:%u:%lf", &h, &m, &s) != 3)
        return -1;
    return h * 3600.0 + m * 60.0 + s;
}

/* Where a stream starts and ends on the source's timeline, in seconds;
 * end < 0 when the headers do not say. */
static void stream_span(AVStream *st, double *start, double *end)
{
    double tb = av_q2d(st->time_base);
    *start = st->start_time != AV_NOPTS_VALUE ? st->start_time * tb : 0;
    if (st->duration > 0) {
        *end = *start + st->duration * tb;
        return;
    }
    /* Matroska's DURATION tag is where the track ends (its last timestamp
     * plus that frame's duration), not how long it lasts */
    double e = tag_duration(st);
    *end = e > *start ? e : -1;
}

/* The last timestamp of the given streams, found by reading the file's tail
 * (for containers whose headers give no per-stream length). */
static double tail_end(AVFormatContext *fmt, const int *idx, int n)
{
    int64_t size = avio_size(fmt->pb);
    double end = -1;
    if (size <= 0)
        return -1;
    int64_t from = size > (4 << 20) ? size - (4 << 20) : 0;
    if (avformat_seek_file(fmt, -1, INT64_MIN, from, INT64_MAX, AVSEEK_FLAG_BYTE) < 0 &&
        avformat_seek_file(fmt, -1, INT64_MIN, fmt->duration, INT64_MAX, AVSEEK_FLAG_BACKWARD) < 0)
        return -1;
    AVPacket *pkt = av_packet_alloc();
    for (int guard = 0; pkt && guard < 100000 && av_read_frame(fmt, pkt) >= 0; guard++) {
        for (int i = 0; i < n; i++) {
            AVStream *st = fmt->streams[idx[i]];
            if (pkt->stream_index != idx[i] || pkt->pts == AV_NOPTS_VALUE)
                continue;
            double e = (pkt->pts + (pkt->duration > 0 ? pkt->duration : 0)) * av_q2d(st->time_base);
            if (e > end)
                end = e;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    return end;
}

/* The lesson's timeline: from the earliest start of the streams that are
 * encoded to the latest end of them. Subtitle and data tracks, cover art and
 * a container duration rounded (or stretched by a long subtitle track) by the
 * muxer do not count. */
static void encoded_span(AVFormatContext *fmt, SbkProbe *p)
{
    int idx[2], n = 0;
    if (p->video_stream >= 0)
        idx[n++] = p->video_stream;
    if (p->audio_stream >= 0)
        idx[n++] = p->audio_stream;
    double start = 1e30, end = -1;
    int all_known = 1;
    for (int i = 0; i < n; i++) {
        double s, e;
        stream_span(fmt->streams[idx[i]], &s, &e);
        if (s < start)
            start = s;
        if (e < 0)
            all_known = 0;
        else if (e > end)
            end = e;
    }
    if (n == 0)
        start = 0;
    int others = 0;
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        others += (int)i != p->video_stream && (int)i != p->audio_stream;
    double cstart = fmt->start_time != AV_NOPTS_VALUE ? fmt->start_time / (double)AV_TIME_BASE : 0;
    double cend = fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0
                      ? cstart + fmt->duration / (double)AV_TIME_BASE
                      : -1;
    if (!all_known) {
        if (!others && cend > 0) {
            if (cend > end)
                end = cend;
        } else {
            double t = tail_end(fmt, idx, n);
            if (t > end)
                end = t;
            else if (end < 0)
                end = cend;
        }
    }
    p->start = start;
    p->duration = end > start ? end - start : 0;
    for (int i = 0; i < n; i++) {
        double s, e;
        stream_span(fmt->streams[idx[i]], &s, &e);
        double rel = e > 0 ? e - start : 0;
        if (idx[i] == p->video_stream)
            p->video_end = rel;
        else
            p->audio_end = rel;
    }
}

int sbk_media_probe(const char *path, int audio_only, const char *audio_language, SbkProbe *out,
                    SbkError *err)
{
    AVFormatContext *fmt = NULL;
    int ret;
    memset(out, 0, sizeof *out);
    out->video_stream = out->audio_stream = -1;
    ret = sbk_media_open_input(path, &fmt, err);
    if (ret < 0)
        return ret;
    const char *base = sbk_path_base(path);
    snprintf(out->format, sizeof out->format, "%s", fmt->iformat->name);
    char *comma = strchr(out->format, ',');
    if (comma)
        *comma = '\0';
    int vidx = -1;
    /* The first real video stream; a cover picture (mp3/m4a/mp4 artwork) is
     * not a video. */
    for (unsigned i = 0; i < fmt->nb_streams && vidx < 0; i++) {
        AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            vidx = (int)i;
    }
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        enum AVCodecID id = fmt->streams[i]->codecpar->codec_id;
        if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE &&
            (id == AV_CODEC_ID_SUBRIP || id == AV_CODEC_ID_MOV_TEXT || id == AV_CODEC_ID_ASS ||
             id == AV_CODEC_ID_WEBVTT || id == AV_CODEC_ID_TEXT || id == AV_CODEC_ID_SSA))
            out->n_text_subs++;
    }
    if ((ret = choose_audio(path, fmt, audio_language, out, err)) < 0)
        goto done;
    int aidx = out->audio_stream;
    out->video_stream = vidx;
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
    encoded_span(fmt, out);
    double dur = out->duration;
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
        if (v->codec_id != AV_CODEC_ID_NONE && (v->width <= 0 || v->height <= 0)) {
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
    if (aidx >= 0) {
        /* Open the audio decoder once here too: an unknown or broken audio
         * codec is reported before the slow part starts. */
        AVCodecContext *adec = NULL;
        if ((ret = sbk_media_open_decoder(path, fmt->streams[aidx], 1, &adec, err)) < 0)
            goto done;
        avcodec_free_context(&adec);
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
