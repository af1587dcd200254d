/* One encoder and MP4 muxer per rendition, each in a thread of its own fed
 * by a bounded frame queue from the decoding thread. */
#include <libavfilter/buffersink.h>
#include <libavutil/opt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"
#include "transcode_internal.h"

/* ---- encoders and muxers --------------------------------------------------- */
/* The tier's video settings on an allocated encoder context: size, rate,
 * threads, rate control and the content's x264 options. The real encode
 * and the CRF search (crf_search.c) both come through here, so the search
 * measures exactly what the pack makes. */
void sbk_tc_video_settings(AVCodecContext *c, const SbkTier *tier, int screen, int crf, int w,
                           int h, AVRational fps, int threads)
{
    char val[32];
    c->width = w;
    c->height = h;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->sample_aspect_ratio = (AVRational){1, 1};
    c->time_base = av_inv_q(fps);
    c->framerate = fps;
    /* The tier's longest keyframe interval (ladder.c: the seek cost on a
     * slow link against the keyframes' share of the bits). */
    c->gop_size = (int)floor((screen ? tier->gop_s_screen : tier->gop_s_camera) * av_q2d(fps));
    if (c->gop_size < 1)
        c->gop_size = 1;
    /* The renditions run in parallel in threads of their own. Within one,
     * x264 uses SLICED threads (2 by default, so the heavy standard tier
     * does not leave a core idle): x264's frame threads make VBV rate
     * control depend on timing, giving different bytes on every run. */
    c->thread_count = threads > 0 ? threads : 2;
    if (tier->maxrate_kbps > 0) {
        c->rc_max_rate = (int64_t)tier->maxrate_kbps * 1000;
        c->rc_buffer_size = tier->bufsize_kbps * 1000;
    }
    if (crf <= 0)
        crf = screen ? tier->crf_screen : tier->crf_camera;
    snprintf(val, sizeof val, "%d", crf);
    if (strcmp(tier->vencoder, "libx264") == 0) {
        av_opt_set(c->priv_data, "preset", tier->preset, 0);
        av_opt_set(c->priv_data, "profile", tier->profile, 0);
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
        av_opt_set(c->priv_data, "crf", val, 0);
    }
}

static int open_video_encoder(Transcoder *t, Output *o, SbkError *err)
{
    const SbkTier *tier = o->tier;
    const AVCodec *codec = avcodec_find_encoder_by_name(tier->vencoder);
    int screen = t->job->probe->content == SBK_CONTENT_SCREENCAST;
    int ret;
    if (!codec)
        return sbk_err(err, SBK_EUNSUPPORTED, "the %s encoder is not available in this FFmpeg",
                       tier->vencoder);
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    o->venc = c;
    sbk_tc_video_settings(c, tier, screen, o->crf, o->w, o->h, o->fps, t->job->threads);
    if (sbk_tc_source_is_hdr(t->vdec)) {
        c->color_primaries = AVCOL_PRI_BT709;
        c->color_trc = AVCOL_TRC_BT709;
        c->colorspace = AVCOL_SPC_BT709;
    } else {
        c->color_primaries = t->vdec->color_primaries;
        c->color_trc = t->vdec->color_trc;
        c->colorspace = t->vdec->colorspace;
    }
    c->color_range = AVCOL_RANGE_MPEG;
    if (o->oc->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
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
    if (tier->aac_coder)
        av_opt_set(c->priv_data, "aac_coder", tier->aac_coder, 0);
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

int sbk_tc_open_output(Transcoder *t, Output *o, SbkError *err)
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
void sbk_tc_queue_init(FrameQueue *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->changed, NULL);
}

void sbk_tc_queue_destroy(FrameQueue *q)
{
    while (q->count > 0) {
        av_frame_free(&q->items[q->head].frame);
        q->head = (q->head + 1) % QUEUE_CAP;
        q->count--;
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->changed);
}

void *sbk_tc_output_thread(void *opaque)
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
int sbk_tc_queue_push(Output *o, AVFrame *frame, int kind, SbkError *err)
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

/* Wait for every encoder thread; the first failure wins. abort: the job
 * failed elsewhere, so tell the threads to stop and end their streams. */
int sbk_tc_join_outputs(Transcoder *t, int abort, SbkError *err)
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
                sbk_tc_queue_push(o, NULL, 0, NULL);
            if (o->aenc && !o->sent_eof[1])
                sbk_tc_queue_push(o, NULL, 1, NULL);
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
