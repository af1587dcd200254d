/* Decode once, encode N renditions.
 *
 * One demuxer and one decoder per stream feed ONE filter graph: the video is
 * split into a branch per tier (fps, scale, format), the audio is resampled,
 * loudness-normalised (EBU R128) once and split again. Every branch ends in
 * a buffersink that feeds that tier's encoder and muxer. The state lives in
 * a Transcoder on the caller's stack: nothing here is static, so a server
 * could run several jobs at once. */
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media_internal.h"
#include "sabak/core.h"

enum { MAX_OUT = 8, POSTER_SAMPLES = 9, QUEUE_CAP = 16 };

/* Frames handed from the decoding thread to one rendition's encoder thread.
 * kind: 0 video, 1 audio; frame NULL = that stream has ended. */
typedef struct QueueItem {
    AVFrame *frame;
    int kind;
} QueueItem;

typedef struct FrameQueue {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    QueueItem items[QUEUE_CAP];
    int head, count;
} FrameQueue;

typedef struct Output {
    const SbkTier *tier;
    SbkRenditionResult *res;
    AVFormatContext *oc;
    AVCodecContext *venc, *aenc;
    AVStream *vst, *ast;
    AVFilterContext *vsink, *asink;
    int w, h;
    AVRational fps;
    int64_t vframes;
    int64_t last_vpts, last_apts; /* in encoder time bases, for the duration check */
    int header_written;
    /* the encoder thread: encodes and muxes this rendition while the main
     * thread decodes and filters the next frames */
    pthread_t thread;
    int thread_started;
    FrameQueue q;
    AVPacket *pkt;
    int failed;              /* set by the worker (under q.mu) */
    int abort;               /* set by the main thread: stop encoding, just drain */
    int sent_eof[2];         /* end markers pushed for video / audio */
    SbkError err;            /* the worker's error */
    const char *src;
} Output;

typedef struct Transcoder {
    SbkTranscodeJob *job;
    const char *base;        /* source base name, for messages */
    AVFormatContext *ifmt;
    AVCodecContext *vdec, *adec;
    int vidx, aidx;
    int64_t start_us;        /* container start time, subtracted from every pts */
    AVFilterGraph *graph;
    AVFilterContext *vsrc, *asrc;
    Output out[MAX_OUT];
    int nout;
    int want_video, want_audio;
    AVPacket *pkt;
    AVFrame *frame, *filt;
    double pos;              /* seconds of source decoded so far */
    double end[2];           /* where the decoded video / audio reached (pts + duration), s */
    int64_t next_vpts;       /* for frames without a timestamp */
    /* poster */
    AVFrame *best;
    double best_score;
    int next_sample;
    struct SwsContext *score_sws;
} Transcoder;

static int cancelled(const Transcoder *t) { return t->job->cancel && *t->job->cancel; }

static int damaged(Transcoder *t, SbkError *err, const char *what)
{
    char hms[16];
    sbk_fmt_hms((int64_t)(t->pos * 1000), hms, sizeof hms);
    return sbk_err(err, SBK_EDAMAGED, "%s is damaged: %s failed at %s", t->base, what, hms);
}

/* ---- geometry -------------------------------------------------------------- */
static void plan_video(const Transcoder *t, Output *o)
{
    const SbkProbe *p = t->job->probe;
    AVRational src = av_guess_frame_rate(t->ifmt, t->ifmt->streams[t->vidx], NULL);
    sbk_tier_plan_video(o->tier, p->content == SBK_CONTENT_SCREENCAST, p->width, p->height, src,
                        &o->w, &o->h, &o->fps);
}

/* HDR phone video (PQ or HLG, BT.2020, usually 10-bit) becomes 8-bit BT.709
 * once, before the split, with zimg (zscale) and FFmpeg's tonemap: to
 * linear light with reference white (203 cd/m2, BT.2408) at 1.0, primaries
 * to BT.709, then Mobius tone mapping, which leaves everything up to 80 %
 * of white as it is and rolls the highlights above it off smoothly; so the
 * picture is neither dark (as with hable) nor washed out. */
static int source_is_hdr(const AVCodecContext *dec)
{
    return dec->color_trc == AVCOL_TRC_SMPTE2084 || dec->color_trc == AVCOL_TRC_ARIB_STD_B67;
}

static const char *hdr_chain(const AVCodecContext *dec)
{
    if (!source_is_hdr(dec))
        return "";
    return "zscale=t=linear:npl=203,format=gbrpf32le,zscale=p=bt709,"
           "tonemap=mobius:param=0.8:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p,";
}

/* ---- filter graph --------------------------------------------------------- */
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -1;
        if (*buf && *len + (size_t)n < *cap) {
            *len += (size_t)n;
            return 0;
        }
        size_t ncap = (*cap ? *cap * 2 : 1024) + (size_t)n;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
}

static int link_inout(AVFilterInOut **list, const char *name, AVFilterContext *ctx)
{
    AVFilterInOut *io = avfilter_inout_alloc();
    if (!io)
        return AVERROR(ENOMEM);
    io->name = av_strdup(name);
    io->filter_ctx = ctx;
    io->pad_idx = 0;
    io->next = *list;
    *list = io;
    return io->name ? 0 : AVERROR(ENOMEM);
}

static int build_graph(Transcoder *t, SbkError *err)
{
    char *desc = NULL;
    size_t len = 0, cap = 0;
    AVFilterInOut *outputs = NULL, *inputs = NULL;
    char args[512], name[32];
    int ret = 0, nv = 0, na = 0;

    t->graph = avfilter_graph_alloc();
    if (!t->graph) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    /* Filters run in this thread: libx264 has its own threads, and a fixed
     * setup keeps the output reproducible. */
    t->graph->nb_threads = 1;
    for (int i = 0; i < t->nout; i++) {
        nv += t->out[i].tier->has_video && t->want_video;
        na += t->want_audio;
    }
    if (nv > 0) {
        AVStream *st = t->ifmt->streams[t->vidx];
        AVRational sar = t->vdec->sample_aspect_ratio;
        snprintf(args, sizeof args,
                 "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
                 t->vdec->width, t->vdec->height, t->vdec->pix_fmt, st->time_base.num,
                 st->time_base.den, sar.num > 0 ? sar.num : 1, sar.den > 0 ? sar.den : 1);
        ret = avfilter_graph_create_filter(&t->vsrc, avfilter_get_by_name("buffer"), "vin", args,
                                           NULL, t->graph);
        if (ret < 0)
            goto fail;
        if ((ret = link_inout(&outputs, "vin", t->vsrc)) < 0)
            goto fail;
        /* Phones store portrait video sideways with a display matrix:
         * turn it once, before the split, as ffmpeg's autorotate does. */
        static const char *const turn[4] = {"", "transpose=clock,", "hflip,vflip,",
                                            "transpose=cclock,"};
        const char *rot = turn[(t->job->probe->rotation / 90) & 3];
        /* Camcorder and broadcast recordings can be interlaced: yadif with
         * deint=interlaced touches only frames flagged so, and passes
         * progressive ones through unchanged. */
        if (append(&desc, &len, &cap, "[vin]yadif=deint=interlaced,%s%ssplit=%d", rot,
                   hdr_chain(t->vdec), nv) < 0)
            goto nomem;
        for (int i = 0; i < t->nout; i++)
            if (t->out[i].tier->has_video)
                if (append(&desc, &len, &cap, "[v%d]", i) < 0)
                    goto nomem;
        if (append(&desc, &len, &cap, ";") < 0)
            goto nomem;
        for (int i = 0; i < t->nout; i++) {
            Output *o = &t->out[i];
            if (!o->tier->has_video)
                continue;
            if (append(&desc, &len, &cap,
                       /* fps from 0: video that starts after the audio
                        * repeats its first picture instead of shifting;
                        * full-range (JPEG-style) input becomes limited */
                       "[v%d]fps=%d/%d:start_time=0,scale=%d:%d:flags=lanczos:out_range=tv,"
                       "setsar=1,format=yuv420p[vo%d];",
                       i, o->fps.num, o->fps.den, o->w, o->h, i) < 0)
                goto nomem;
            snprintf(name, sizeof name, "vo%d", i);
            ret = avfilter_graph_create_filter(&o->vsink, avfilter_get_by_name("buffersink"),
                                               name, NULL, NULL, t->graph);
            if (ret < 0)
                goto fail;
            if ((ret = link_inout(&inputs, name, o->vsink)) < 0)
                goto fail;
        }
    }
    if (na > 0) {
        AVStream *st = t->ifmt->streams[t->aidx];
        char layout[128];
        if (t->adec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
            av_channel_layout_default(&t->adec->ch_layout, t->adec->ch_layout.nb_channels);
        av_channel_layout_describe(&t->adec->ch_layout, layout, sizeof layout);
        snprintf(args, sizeof args,
                 "time_base=%d/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
                 st->time_base.num, st->time_base.den, t->adec->sample_rate,
                 av_get_sample_fmt_name(t->adec->sample_fmt), layout);
        ret = avfilter_graph_create_filter(&t->asrc, avfilter_get_by_name("abuffer"), "ain", args,
                                           NULL, t->graph);
        if (ret < 0)
            goto fail;
        if ((ret = link_inout(&outputs, "ain", t->asrc)) < 0)
            goto fail;
        /* Mono first (cheaper loudnorm), one EBU R128 pass for every tier. */
        if (append(&desc, &len, &cap,
                   /* first_pts=0: audio that starts late gets silence
                    * in front; gaps and overlaps over 20 ms in the
                    * timestamps are filled or cut, so sound stays on
                    * the picture's clock */
                   "[ain]aresample=async=1:min_hard_comp=0.02:first_pts=0,"
                   "aformat=channel_layouts=mono,"
                   "loudnorm=I=-16:TP=-1.5:LRA=11,asplit=%d",
                   na) < 0)
            goto nomem;
        for (int i = 0; i < t->nout; i++)
            if (append(&desc, &len, &cap, "[a%d]", i) < 0)
                goto nomem;
        if (append(&desc, &len, &cap, ";") < 0)
            goto nomem;
        for (int i = 0; i < t->nout; i++) {
            Output *o = &t->out[i];
            const AVCodec *enc = avcodec_find_encoder_by_name(o->tier->aencoder);
            const char *fmt = "fltp";
            if (enc && enc->sample_fmts)
                fmt = av_get_sample_fmt_name(enc->sample_fmts[0]);
            if (append(&desc, &len, &cap,
                       "[a%d]aresample=%d,aformat=sample_fmts=%s:channel_layouts=mono[ao%d];", i,
                       o->tier->asample_rate, fmt, i) < 0)
                goto nomem;
            snprintf(name, sizeof name, "ao%d", i);
            ret = avfilter_graph_create_filter(&o->asink, avfilter_get_by_name("abuffersink"),
                                               name, NULL, NULL, t->graph);
            if (ret < 0)
                goto fail;
            if ((ret = link_inout(&inputs, name, o->asink)) < 0)
                goto fail;
        }
    }
    if (len > 0 && desc[len - 1] == ';')
        desc[--len] = '\0';
    ret = avfilter_graph_parse_ptr(t->graph, desc, &inputs, &outputs, NULL);
    if (ret < 0)
        goto fail;
    ret = avfilter_graph_config(t->graph, NULL);
    if (ret < 0)
        goto fail;
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    free(desc);
    return 0;
nomem:
    ret = AVERROR(ENOMEM);
fail:
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    sbk_log(SBK_LOG_DEBUG, "filter graph: %s", desc ? desc : "(none)");
    free(desc);
    return sbk_media_av_error(err, ret, t->job->src, "setting up the filters");
}

/* ---- encoders and muxers --------------------------------------------------- */
static int open_video_encoder(Transcoder *t, Output *o, SbkError *err)
{
    const SbkTier *tier = o->tier;
    const AVCodec *codec = avcodec_find_encoder_by_name(tier->vencoder);
    int screen = t->job->probe->content == SBK_CONTENT_SCREENCAST;
    char val[32];
    int ret;
    if (!codec)
        return sbk_err(err, SBK_EUNSUPPORTED, "the %s encoder is not available in this FFmpeg",
                       tier->vencoder);
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    o->venc = c;
    c->width = o->w;
    c->height = o->h;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->sample_aspect_ratio = (AVRational){1, 1};
    c->time_base = av_inv_q(o->fps);
    c->framerate = o->fps;
    /* A keyframe at least every 10 s: seeking on a slow link stays cheap. */
    c->gop_size = (int)floor(10.0 * av_q2d(o->fps));
    if (c->gop_size < 1)
        c->gop_size = 1;
    /* The renditions run in parallel in threads of their own. Within one,
     * x264 uses SLICED threads (2 by default, so the heavy standard tier
     * does not leave a core idle): x264's frame threads make VBV rate
     * control depend on timing, giving different bytes on every run. */
    c->thread_count = t->job->threads > 0 ? t->job->threads : 2;
    if (source_is_hdr(t->vdec)) {
        c->color_primaries = AVCOL_PRI_BT709;
        c->color_trc = AVCOL_TRC_BT709;
        c->colorspace = AVCOL_SPC_BT709;
    } else {
        c->color_primaries = t->vdec->color_primaries;
        c->color_trc = t->vdec->color_trc;
        c->colorspace = t->vdec->colorspace;
    }
    c->color_range = AVCOL_RANGE_MPEG;
    if (tier->maxrate_kbps > 0) {
        c->rc_max_rate = (int64_t)tier->maxrate_kbps * 1000;
        c->rc_buffer_size = tier->bufsize_kbps * 1000;
    }
    if (o->oc->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (strcmp(tier->vencoder, "libx264") == 0) {
        av_opt_set(c->priv_data, "preset", tier->preset, 0);
        av_opt_set(c->priv_data, "profile", tier->profile, 0);
        snprintf(val, sizeof val, "%d", screen ? tier->crf_screen : tier->crf_camera);
        av_opt_set(c->priv_data, "crf", val, 0);
        c->level = (int)lround(atof(tier->level) * 10);
        char params[128] = "";
        /* Screen recordings are mostly still: let x264 keep long GOPs with
         * scene-cut keyframes and spend bits on the (sharp) text edges. */
        if (screen)
            snprintf(params, sizeof params, "aq-mode=3:deblock=-1,-1");
        if (c->thread_count > 1)
            snprintf(params + strlen(params), sizeof params - strlen(params), "%ssliced-threads=1",
                     params[0] ? ":" : "");
        if (params[0])
            av_opt_set(c->priv_data, "x264-params", params, 0);
    } else if (strcmp(tier->vencoder, "libsvtav1") == 0) {
        av_opt_set(c->priv_data, "preset", tier->preset, 0);
        snprintf(val, sizeof val, "%d", screen ? tier->crf_screen : tier->crf_camera);
        av_opt_set(c->priv_data, "crf", val, 0);
    }
    ret = avcodec_open2(c, codec, NULL);
    if (ret < 0)
        return sbk_media_av_error(err, ret, t->job->src, "opening the video encoder");
    o->vst = avformat_new_stream(o->oc, NULL);
    if (!o->vst)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    o->vst->time_base = c->time_base;
    o->vst->avg_frame_rate = o->fps;
    ret = avcodec_parameters_from_context(o->vst->codecpar, c);
    if (ret < 0)
        return sbk_media_av_error(err, ret, t->job->src, "setting up the video stream");
    return 0;
}

static int open_audio_encoder(Transcoder *t, Output *o, SbkError *err)
{
    const SbkTier *tier = o->tier;
    const AVCodec *codec = avcodec_find_encoder_by_name(tier->aencoder);
    int ret;
    if (!codec)
        return sbk_err(err, SBK_EUNSUPPORTED, "the %s encoder is not available in this FFmpeg",
                       tier->aencoder);
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    o->aenc = c;
    c->sample_rate = tier->asample_rate;
    av_channel_layout_default(&c->ch_layout, 1);
    c->sample_fmt = codec->sample_fmts ? codec->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
    c->bit_rate = tier->abitrate;
    c->time_base = (AVRational){1, c->sample_rate};
    c->flags |= AV_CODEC_FLAG_BITEXACT;
    if (o->oc->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (strcmp(tier->aencoder, "aac") == 0)
        c->profile = FF_PROFILE_AAC_LOW;
    if (strcmp(tier->aencoder, "libopus") == 0) {
        /* Speech, not a call: 60 ms frames code speech better at these rates
         * and cut the per-packet overhead (container index, TOC) by 3. */
        av_opt_set(c->priv_data, "application", "voip", 0);
        av_opt_set(c->priv_data, "frame_duration", "60", 0);
    }
    ret = avcodec_open2(c, codec, NULL);
    if (ret < 0)
        return sbk_media_av_error(err, ret, t->job->src, "opening the audio encoder");
    if (!(codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE) && c->frame_size > 0)
        av_buffersink_set_frame_size(o->asink, (unsigned)c->frame_size);
    o->ast = avformat_new_stream(o->oc, NULL);
    if (!o->ast)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    o->ast->time_base = c->time_base;
    ret = avcodec_parameters_from_context(o->ast->codecpar, c);
    if (ret < 0)
        return sbk_media_av_error(err, ret, t->job->src, "setting up the audio stream");
    return 0;
}

static int open_output(Transcoder *t, Output *o, SbkError *err)
{
    int ret = avformat_alloc_output_context2(&o->oc, NULL, "mp4", o->res->path);
    if (ret < 0 || !o->oc)
        return sbk_media_av_error(err, ret, t->job->src, "creating the MP4 writer");
    /* Reproducible files: no creation time, no library version string. */
    o->oc->flags |= AVFMT_FLAG_BITEXACT;
    if (o->tier->has_video && t->want_video) {
        if ((ret = open_video_encoder(t, o, err)) < 0)
            return ret;
    }
    if (t->want_audio) {
        if ((ret = open_audio_encoder(t, o, err)) < 0)
            return ret;
    }
    ret = avio_open(&o->oc->pb, o->res->path, AVIO_FLAG_WRITE);
    if (ret < 0) {
        if (ret == AVERROR(ENOSPC))
            return sbk_err(err, SBK_ENOSPC, "cannot write %s: disk is full", o->res->path);
        char buf[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(ret, buf, sizeof buf);
        return sbk_err(err, SBK_EIO, "cannot write %s: %s", o->res->path, buf);
    }
    AVDictionary *opts = NULL;
    /* moov first: a browser can start playing before the whole file arrives. */
    av_dict_set(&opts, "movflags", "+faststart", 0);
    ret = avformat_write_header(o->oc, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return sbk_media_av_error(err, ret, o->res->path, "writing the MP4 header");
    o->header_written = 1;
    o->last_vpts = o->last_apts = -1;
    return 0;
}

static int write_error(const Output *o, int ret, SbkError *err)
{
    if (ret == AVERROR(ENOSPC))
        return sbk_err(err, SBK_ENOSPC, "cannot write %s: disk is full", o->res->path);
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(ret, buf, sizeof buf);
    return sbk_err(err, SBK_EIO, "cannot write %s: %s", o->res->path, buf);
}

/* Send one frame (NULL = flush) and write every packet it yields. Runs in
 * the output's own thread. */
static int encode_write(Output *o, AVCodecContext *enc, AVStream *st, AVFrame *frame,
                        SbkError *err)
{
    int ret = avcodec_send_frame(enc, frame);
    if (ret < 0 && ret != AVERROR_EOF)
        return sbk_media_av_error(err, ret, o->src, "encoding");
    for (;;) {
        ret = avcodec_receive_packet(enc, o->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return sbk_media_av_error(err, ret, o->src, "encoding");
        int64_t end = o->pkt->pts + o->pkt->duration;
        if (enc == o->venc && end > o->last_vpts)
            o->last_vpts = end;
        if (enc == o->aenc && end > o->last_apts)
            o->last_apts = end;
        av_packet_rescale_ts(o->pkt, enc->time_base, st->time_base);
        o->pkt->stream_index = st->index;
        ret = av_interleaved_write_frame(o->oc, o->pkt);
        if (ret < 0)
            return write_error(o, ret, err);
    }
}

/* ---- the per-rendition encoder threads ------------------------------------- */
static void queue_init(FrameQueue *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->changed, NULL);
}

static void queue_destroy(FrameQueue *q)
{
    while (q->count > 0) {
        av_frame_free(&q->items[q->head].frame);
        q->head = (q->head + 1) % QUEUE_CAP;
        q->count--;
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->changed);
}

static void *output_thread(void *opaque)
{
    Output *o = opaque;
    int open_streams = (o->venc != NULL) + (o->aenc != NULL);
    SbkError err = {0};
    int ret = 0;
    while (open_streams > 0) {
        pthread_mutex_lock(&o->q.mu);
        while (o->q.count == 0)
            pthread_cond_wait(&o->q.changed, &o->q.mu);
        QueueItem it = o->q.items[o->q.head];
        o->q.head = (o->q.head + 1) % QUEUE_CAP;
        o->q.count--;
        int abort = o->abort; /* written by join_outputs under the same lock */
        pthread_cond_broadcast(&o->q.changed);
        pthread_mutex_unlock(&o->q.mu);
        if (!it.frame)
            open_streams--;
        if (ret == 0 && abort)
            ret = SBK_ECANCELED;
        if (ret == 0) /* after a failure, keep draining so the producer never blocks */
            ret = encode_write(o, it.kind == 0 ? o->venc : o->aenc, it.kind == 0 ? o->vst : o->ast,
                               it.frame, &err);
        av_frame_free(&it.frame);
        if (ret < 0) {
            pthread_mutex_lock(&o->q.mu);
            if (!o->failed) {
                o->failed = ret;
                o->err = err;
            }
            pthread_mutex_unlock(&o->q.mu);
        }
    }
    if (ret == 0 && (ret = av_write_trailer(o->oc)) < 0) {
        ret = write_error(o, ret, &err);
        pthread_mutex_lock(&o->q.mu);
        o->failed = ret;
        o->err = err;
        pthread_mutex_unlock(&o->q.mu);
    }
    return NULL;
}

/* Hand a frame (ownership passes; NULL = end of that stream) to an output.
 * Blocks while its queue is full; the worker drains its queue even after a
 * failure, so the wait always ends. Returns the worker's failure, if any. */
static int queue_push(Output *o, AVFrame *frame, int kind, SbkError *err)
{
    pthread_mutex_lock(&o->q.mu);
    while (o->q.count == QUEUE_CAP)
        pthread_cond_wait(&o->q.changed, &o->q.mu);
    o->q.items[(o->q.head + o->q.count) % QUEUE_CAP] = (QueueItem){frame, kind};
    o->q.count++;
    if (!frame)
        o->sent_eof[kind] = 1;
    pthread_cond_broadcast(&o->q.changed);
    int failed = o->failed;
    if (failed && err)
        *err = o->err;
    pthread_mutex_unlock(&o->q.mu);
    return failed;
}

/* Pull everything the graph has ready for every output. flush: the graph
 * inputs are closed, so drain to EOF and send the end markers. */
static int drain_sinks(Transcoder *t, int flush, SbkError *err)
{
    int ret;
    for (int i = 0; i < t->nout; i++) {
        Output *o = &t->out[i];
        AVFilterContext *sinks[2] = {o->venc ? o->vsink : NULL, o->aenc ? o->asink : NULL};
        AVCodecContext *encs[2] = {o->venc, o->aenc};
        for (int k = 0; k < 2; k++) {
            if (!sinks[k])
                continue;
            for (;;) {
                ret = av_buffersink_get_frame(sinks[k], t->filt);
                if (ret == AVERROR(EAGAIN))
                    break;
                if (ret == AVERROR_EOF) {
                    if (flush && (ret = queue_push(o, NULL, k, err)) < 0)
                        return ret;
                    break;
                }
                if (ret < 0)
                    return sbk_media_av_error(err, ret, t->job->src, "filtering");
                AVRational tb = av_buffersink_get_time_base(sinks[k]);
                if (t->filt->pts != AV_NOPTS_VALUE)
                    t->filt->pts = av_rescale_q(t->filt->pts, tb, encs[k]->time_base);
                t->filt->pict_type = AV_PICTURE_TYPE_NONE;
                if (k == 0)
                    o->vframes++;
                AVFrame *f = av_frame_alloc();
                if (!f)
                    return sbk_err(err, SBK_ENOMEM, "out of memory");
                av_frame_move_ref(f, t->filt);
                if ((ret = queue_push(o, f, k, err)) < 0)
                    return ret;
            }
        }
    }
    return 0;
}

/* Wait for every encoder thread; the first failure wins. abort: the job
 * failed elsewhere, so tell the threads to stop and end their streams. */
static int join_outputs(Transcoder *t, int abort, SbkError *err)
{
    int ret = 0;
    for (int i = 0; i < t->nout; i++) {
        Output *o = &t->out[i];
        if (!o->thread_started)
            continue;
        if (abort) {
            pthread_mutex_lock(&o->q.mu);
            o->abort = 1;
            pthread_mutex_unlock(&o->q.mu);
            if (o->venc && !o->sent_eof[0])
                queue_push(o, NULL, 0, NULL);
            if (o->aenc && !o->sent_eof[1])
                queue_push(o, NULL, 1, NULL);
        }
        pthread_join(o->thread, NULL);
        o->thread_started = 0;
        if (o->failed && ret == 0) {
            ret = o->failed;
            if (err)
                *err = o->err;
        }
    }
    return ret;
}

/* ---- poster ----------------------------------------------------------------- */
/* A frame is a good poster when it is neither black nor flat: score by the
 * spread of its luma. Samples at 10%..90% of the duration; keep the best. */
static void consider_poster(Transcoder *t, AVFrame *f, double when)
{
    const double dur = t->job->probe->duration;
    if (!t->job->poster_path || t->next_sample >= POSTER_SAMPLES)
        return;
    if (when < dur * (t->next_sample + 1) / (POSTER_SAMPLES + 1))
        return;
    t->next_sample++;
    enum { W = 64, H = 36 };
    uint8_t gray[W * H];
    t->score_sws = sws_getCachedContext(t->score_sws, f->width, f->height, f->format, W, H,
                                        AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
    if (!t->score_sws)
        return;
    uint8_t *planes[4] = {gray, NULL, NULL, NULL};
    int strides[4] = {W, 0, 0, 0};
    sws_scale(t->score_sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes,
              strides);
    double sum = 0, sq = 0;
    for (int i = 0; i < W * H; i++) {
        sum += gray[i];
        sq += (double)gray[i] * gray[i];
    }
    double mean = sum / (W * H), var = sq / (W * H) - mean * mean;
    double score = var > 0 ? sqrt(var) : 0;
    if (mean < 20 || mean > 245)
        score *= 0.1; /* black or white frames only if nothing better exists */
    /* Prefer the earlier of near-equal frames: the title slide is often best. */
    if (!t->best || score > t->best_score * 1.15) {
        av_frame_free(&t->best);
        t->best = av_frame_clone(f);
        t->best_score = score;
    }
}

/* ---- main loop ---------------------------------------------------------------- */
static int push_frame(Transcoder *t, AVFilterContext *src, AVFrame *f, AVStream *st,
                      SbkError *err)
{
    int64_t pts = f->best_effort_timestamp;
    int k = src == t->vsrc ? 0 : 1;
    /* A frame without any timestamp (broken muxers) follows the previous one. */
    if (pts == AV_NOPTS_VALUE && k == 0 && t->next_vpts != AV_NOPTS_VALUE)
        pts = t->next_vpts + av_rescale_q(t->start_us, AV_TIME_BASE_Q, st->time_base);
    if (pts != AV_NOPTS_VALUE) {
        pts -= av_rescale_q(t->start_us, AV_TIME_BASE_Q, st->time_base);
        f->pts = pts;
        double s = pts * av_q2d(st->time_base);
        if (s > t->pos)
            t->pos = s;
        int64_t dur = f->pkt_duration;
        if (dur <= 0 && k == 1 && f->sample_rate > 0)
            dur = av_rescale_q(f->nb_samples, (AVRational){1, f->sample_rate}, st->time_base);
        if (dur <= 0 && k == 0) {
            AVRational fr = av_guess_frame_rate(t->ifmt, st, NULL);
            dur = fr.num > 0 ? av_rescale_q(1, av_inv_q(fr), st->time_base) : 0;
        }
        double e = (pts + (dur > 0 ? dur : 0)) * av_q2d(st->time_base);
        if (e > t->end[k])
            t->end[k] = e;
        if (k == 0)
            t->next_vpts = pts + (dur > 0 ? dur : 1);
    }
    if (src == t->vsrc)
        consider_poster(t, f, t->pos);
    int ret = av_buffersrc_add_frame_flags(src, f, AV_BUFFERSRC_FLAG_KEEP_REF);
    if (ret < 0)
        return sbk_media_av_error(err, ret, t->job->src, "filtering");
    return drain_sinks(t, 0, err);
}

static int decode_packet(Transcoder *t, AVCodecContext *dec, AVFilterContext *src,
                         AVStream *st, const AVPacket *pkt, SbkError *err)
{
    int ret = avcodec_send_packet(dec, pkt);
    if (ret < 0 && ret != AVERROR_EOF)
        return damaged(t, err, "decoding");
    for (;;) {
        ret = avcodec_receive_frame(dec, t->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return damaged(t, err, "decoding");
        if (t->frame->decode_error_flags || (t->frame->flags & AV_FRAME_FLAG_CORRUPT)) {
            av_frame_unref(t->frame);
            return damaged(t, err, "decoding");
        }
        ret = src ? push_frame(t, src, t->frame, st, err) : 0;
        av_frame_unref(t->frame);
        if (ret < 0)
            return ret;
    }
}

static int run(Transcoder *t, SbkError *err)
{
    int ret;
    double last_report = -1;
    for (;;) {
        if (cancelled(t))
            return sbk_err(err, SBK_ECANCELED, "interrupted");
        ret = av_read_frame(t->ifmt, t->pkt);
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0)
            return damaged(t, err, "reading");
        if (t->vsrc && t->pkt->stream_index == t->vidx)
            ret = decode_packet(t, t->vdec, t->vsrc, t->ifmt->streams[t->vidx], t->pkt, err);
        else if (t->asrc && t->pkt->stream_index == t->aidx)
            ret = decode_packet(t, t->adec, t->asrc, t->ifmt->streams[t->aidx], t->pkt, err);
        else
            ret = 0;
        av_packet_unref(t->pkt);
        if (ret < 0)
            return ret;
        if (t->job->progress && t->pos - last_report >= 0.5) {
            t->job->progress(t->job->progress_opaque, t->pos, t->job->probe->duration);
            last_report = t->pos;
        }
    }
    /* Flush decoders, then close the graph inputs, then flush encoders. */
    if (t->vsrc) {
        if ((ret = decode_packet(t, t->vdec, t->vsrc, t->ifmt->streams[t->vidx], NULL, err)) < 0)
            return ret;
        if ((ret = av_buffersrc_add_frame(t->vsrc, NULL)) < 0)
            return sbk_media_av_error(err, ret, t->job->src, "filtering");
    }
    if (t->asrc) {
        if ((ret = decode_packet(t, t->adec, t->asrc, t->ifmt->streams[t->aidx], NULL, err)) < 0)
            return ret;
        if ((ret = av_buffersrc_add_frame(t->asrc, NULL)) < 0)
            return sbk_media_av_error(err, ret, t->job->src, "filtering");
    }
    if ((ret = drain_sinks(t, 1, err)) < 0)
        return ret;
    if ((ret = join_outputs(t, 0, err)) < 0)
        return ret;
    if (t->job->progress)
        t->job->progress(t->job->progress_opaque, t->job->probe->duration,
                         t->job->probe->duration);
    return 0;
}

/* The source must have been read to its end: a recording cut short by a
 * failed copy decodes "fine" and would silently make a short lesson. */
static int check_durations(Transcoder *t, SbkError *err)
{
    const SbkProbe *p = t->job->probe;
    const double src = p->duration;
    char want[16], got[16];
    /* Each encoded stream must reach the end its own header gives (or, when
     * the header does not say, the lesson's end); 1 s of slack for muxers
     * that round. */
    for (int k = 0; k < 2; k++) {
        int used = k == 0 ? t->vsrc != NULL : t->asrc != NULL;
        double expect = k == 0 ? p->video_end : p->audio_end;
        if (!used)
            continue;
        if (expect <= 0)
            expect = src;
        if (t->end[k] < expect - 1.0) {
            sbk_fmt_hms((int64_t)(t->end[k] * 1000), got, sizeof got);
            sbk_fmt_hms((int64_t)(expect * 1000), want, sizeof want);
            return sbk_err(err, SBK_EDAMAGED,
                           "%s is damaged: its %s stops at %s but should last %s (the file may be "
                           "cut short)",
                           t->base, k == 0 ? "picture" : "sound", got, want);
        }
    }
    for (int i = 0; i < t->nout; i++) {
        Output *o = &t->out[i];
        double v = o->venc ? o->last_vpts * av_q2d(o->venc->time_base) : 0;
        double a = o->aenc ? o->last_apts * av_q2d(o->aenc->time_base) : 0;
        double d = v > a ? v : a;
        o->res->duration = d;
        if (fabs(d - src) > 0.5 + (o->venc ? 2 * av_q2d(av_inv_q(o->fps)) : 0)) {
            sbk_fmt_ms((int64_t)(d * 1000), got, sizeof got);
            sbk_fmt_ms((int64_t)(src * 1000), want, sizeof want);
            return sbk_err(err, SBK_EDAMAGED,
                           "%s: the %s rendition lasts %s but the source lasts %s", t->base,
                           o->tier->name, got, want);
        }
    }
    return 0;
}

/* RFC 6381 codec strings for canPlayType(). */
static void codec_strings(Output *o)
{
    char v[32] = "", a[32] = "";
    if (o->venc)
        sbk_media_codec_string(o->venc->codec_id, o->venc->extradata, o->venc->extradata_size,
                               o->venc->level, v, sizeof v);
    if (o->aenc)
        sbk_media_codec_string(o->aenc->codec_id, NULL, 0, 0, a, sizeof a);
    snprintf(o->res->codecs, sizeof o->res->codecs, "%s%s%s", v, v[0] && a[0] ? ", " : "", a);
}

static void free_transcoder(Transcoder *t)
{
    join_outputs(t, 1, NULL);
    for (int i = 0; i < t->nout; i++) {
        Output *o = &t->out[i];
        queue_destroy(&o->q);
        av_packet_free(&o->pkt);
        avcodec_free_context(&o->venc);
        avcodec_free_context(&o->aenc);
        if (o->oc) {
            if (o->oc->pb)
                avio_closep(&o->oc->pb);
            avformat_free_context(o->oc);
            o->oc = NULL;
        }
    }
    avfilter_graph_free(&t->graph);
    avcodec_free_context(&t->vdec);
    avcodec_free_context(&t->adec);
    avformat_close_input(&t->ifmt);
    av_packet_free(&t->pkt);
    av_frame_free(&t->frame);
    av_frame_free(&t->filt);
    av_frame_free(&t->best);
    sws_freeContext(t->score_sws);
}

static int interrupt_cb(void *opaque)
{
    const Transcoder *t = opaque;
    return cancelled(t);
}

int sbk_media_transcode(SbkTranscodeJob *job, SbkRenditionResult *results, SbkError *err)
{
    Transcoder t = {.job = job, .vidx = -1, .aidx = -1, .next_vpts = AV_NOPTS_VALUE};
    int ret;
    t.base = sbk_path_base(job->src);
    if (job->n_tiers < 1 || job->n_tiers > MAX_OUT)
        return sbk_err(err, SBK_EINVAL, "between 1 and %d renditions can be made", MAX_OUT);
    ret = sbk_media_open_input(job->src, &t.ifmt, err);
    if (ret < 0)
        goto done;
    t.ifmt->interrupt_callback = (AVIOInterruptCB){interrupt_cb, &t};
    /* The timeline starts where the encoded streams start (not a subtitle
     * or data track), the streams are the ones the probe chose. */
    t.start_us = (int64_t)llround(job->probe->start * AV_TIME_BASE);
    if (job->probe->has_video && job->probe->video_stream < (int)t.ifmt->nb_streams)
        t.vidx = job->probe->video_stream;
    if (job->probe->has_audio && job->probe->audio_stream < (int)t.ifmt->nb_streams)
        t.aidx = job->probe->audio_stream;
    t.want_audio = t.aidx >= 0;
    t.want_video = t.vidx >= 0;
    for (unsigned i = 0; i < t.ifmt->nb_streams; i++)
        t.ifmt->streams[i]->discard =
            ((int)i == t.vidx || (int)i == t.aidx) ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    if (t.want_video && (ret = sbk_media_open_decoder(job->src, t.ifmt->streams[t.vidx], 2,
                                                      &t.vdec, err)) < 0)
        goto done;
    if (t.want_audio && (ret = sbk_media_open_decoder(job->src, t.ifmt->streams[t.aidx], 1,
                                                      &t.adec, err)) < 0)
        goto done;
    for (int i = 0; i < job->n_tiers; i++) {
        Output *o = &t.out[t.nout++];
        queue_init(&o->q);
        o->src = job->src;
        o->pkt = av_packet_alloc();
        if (!o->pkt) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        o->tier = job->tiers[i];
        o->res = &results[i];
        memset(o->res, 0, sizeof *o->res);
        o->res->tier = o->tier;
        if ((o->tier->has_video && !t.want_video) || (!o->tier->has_video && !t.want_audio)) {
            ret = sbk_err(err, SBK_EINVAL, "%s: the %s rendition needs %s, and the source has none",
                          t.base, o->tier->name, o->tier->has_video ? "video" : "audio");
            goto done;
        }
        sbk_tier_entry(o->tier, o->res->entry, sizeof o->res->entry);
        snprintf(o->res->path, sizeof o->res->path, "%s/%s.%s", job->work_dir, o->tier->name,
                 o->tier->ext);
        snprintf(o->res->mime, sizeof o->res->mime, "%s", o->tier->mime);
        if (o->tier->has_video)
            plan_video(&t, o);
    }
    ret = build_graph(&t, err);
    if (ret < 0)
        goto done;
    t.pkt = av_packet_alloc();
    t.frame = av_frame_alloc();
    t.filt = av_frame_alloc();
    if (!t.pkt || !t.frame || !t.filt) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < t.nout; i++)
        if ((ret = open_output(&t, &t.out[i], err)) < 0)
            goto done;
    for (int i = 0; i < t.nout; i++) {
        if (pthread_create(&t.out[i].thread, NULL, output_thread, &t.out[i]) != 0) {
            ret = sbk_err(err, SBK_ENOMEM, "cannot start an encoder thread");
            goto done;
        }
        t.out[i].thread_started = 1;
        char name[16]; /* "enc-standard" in top -H, perf and gdb */
        snprintf(name, sizeof name, "enc-%s", t.out[i].tier->name);
        pthread_setname_np(t.out[i].thread, name);
    }
    ret = run(&t, err);
    if (ret < 0)
        goto done;
    ret = check_durations(&t, err);
    if (ret < 0)
        goto done;
    for (int i = 0; i < t.nout; i++) {
        Output *o = &t.out[i];
        SbkRenditionResult *r = o->res;
        codec_strings(o);
        r->width = o->venc ? o->w : 0;
        r->height = o->venc ? o->h : 0;
        r->fps = o->venc ? av_q2d(o->fps) : 0;
        int64_t size = avio_size(o->oc->pb);
        avio_closep(&o->oc->pb);
        r->size = size > 0 ? size : 0;
        r->bitrate = r->duration > 0 ? (int64_t)llround(r->size * 8.0 / r->duration) : 0;
    }
    if (job->poster_path && t.best) {
        ret = sbk_media_write_jpeg(t.best, job->probe->rotation, 854, job->poster_path,
                                   &job->poster_w, &job->poster_h, err);
        if (ret == 0 && job->thumb_path)
            ret = sbk_media_write_jpeg(t.best, job->probe->rotation, 320, job->thumb_path,
                                       &job->thumb_w, &job->thumb_h, err);
        if (ret < 0)
            goto done;
    }
    ret = 0;
done:
    free_transcoder(&t);
    if (ret < 0)
        for (int i = 0; i < job->n_tiers; i++)
            if (results[i].path[0])
                unlink(results[i].path);
    return ret;
}
