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

#include "sabak/core.h"
#include "transcode_internal.h"

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
                    if (flush && (ret = sbk_tc_queue_push(o, NULL, k, err)) < 0)
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
                if ((ret = sbk_tc_queue_push(o, f, k, err)) < 0)
                    return ret;
            }
        }
    }
    return 0;
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
    if ((ret = sbk_tc_join_outputs(t, 0, err)) < 0)
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
    sbk_tc_join_outputs(t, 1, NULL);
    for (int i = 0; i < t->nout; i++) {
        Output *o = &t->out[i];
        sbk_tc_queue_destroy(&o->q);
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
        sbk_tc_queue_init(&o->q);
        o->src = job->src;
        o->pkt = av_packet_alloc();
        if (!o->pkt) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        o->tier = job->tiers[i];
        o->crf = job->crf ? job->crf[i] : 0;
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
    ret = sbk_tc_build_graph(&t, err);
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
        if ((ret = sbk_tc_open_output(&t, &t.out[i], err)) < 0)
            goto done;
    for (int i = 0; i < t.nout; i++) {
        if (pthread_create(&t.out[i].thread, NULL, sbk_tc_output_thread, &t.out[i]) != 0) {
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
