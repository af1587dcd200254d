/* The per-lesson CRF search (see crf_search.h).
 *
 * For each sample segment the source is decoded once and run through the
 * same filters as the pack (the chain before the split, then each tier's
 * branch), keeping the luma of every source frame (at the source's size,
 * after turning and tone mapping) and every filtered frame of each tier.
 * Each tier's frames are then encoded at each probe CRF with the tier's own
 * encoder settings (sbk_tc_video_settings), decoded, scaled back to the
 * source's size (bicubic) and compared with the source frames by SSIM-Y,
 * an output frame standing for every source frame until the next one (as
 * tools/bench/encode measures). A second round, when the first two probes
 * do not bracket the answer, decodes the segments again: only one segment
 * is held in memory at a time.
 *
 * Deterministic: fixed segment positions, x264 with sliced threads (as the
 * pack), single-threaded filters, integer SSIM sums. */
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "crf_search.h"
#include "sabak/core.h"
#include "transcode_internal.h"

enum { MAX_SEARCH = 8, MAX_SEG_FRAMES = 150 };
#define MAX_PREROLL_S 300.0
#define MAX_REF_BYTES ((size_t)192 << 20)

typedef struct SearchTier {
    const SbkTier *tier;
    SbkCrfChoice *out;
    SbkCrfGoal goal;
    int w, h;
    AVRational fps;
    AVFilterContext *sink;
    AVFrame *frames[MAX_SEG_FRAMES];
    int n_frames;
    int probe[SBK_CRF_MAX_PROBES]; /* CRFs of this round, 0 = none */
    /* per probe of the whole search */
    double sum[SBK_CRF_MAX_PROBES], worst[SBK_CRF_MAX_PROBES];
    long count[SBK_CRF_MAX_PROBES];
    int crf_at[SBK_CRF_MAX_PROBES];
    int n_probes;
} SearchTier;

typedef struct Search {
    const char *src;
    const SbkProbe *probe;
    int screen, threads;
    const volatile int *cancel;
    AVFormatContext *ifmt;
    AVCodecContext *vdec;
    int vidx;
    AVFilterGraph *graph;
    AVFilterContext *vsrc, *refsink;
    uint8_t *ref[MAX_SEG_FRAMES]; /* source luma, rw x rh */
    double ref_t[MAX_SEG_FRAMES];
    int n_ref, rw, rh;
    double src_frame_s;
    SearchTier st[MAX_SEARCH];
    int n;
    AVPacket *pkt, *epkt;
    AVFrame *frame, *dframe;
    struct SwsContext *up;
    uint8_t *cur, *next; /* decoded output frames at the source's size */
} Search;

int sbk_crf_segments(double duration, double starts[SBK_CRF_MAX_SEGMENTS], double *len)
{
    /* About 4 % of the recording (at least 2 s, at most 12 s) in up to
     * four pieces of 2-3 s centred at equal steps: a 2-minute lesson gives
     * two pieces of 2.4 s, a 10-minute one four of 3 s. */
    double total = duration * 0.04;
    total = total < 2 ? 2 : total > 12 ? 12 : total;
    int k = (int)(total / 2.0);
    k = k < 1 ? 1 : k > SBK_CRF_MAX_SEGMENTS ? SBK_CRF_MAX_SEGMENTS : k;
    double l = total / k;
    if (l > duration / k)
        l = duration / k;
    for (int i = 0; i < k; i++) {
        double s = duration * (i + 0.5) / k - l / 2;
        starts[i] = s < 0 ? 0 : s;
    }
    *len = l;
    return k;
}

static int cancelled(const Search *s) { return s->cancel && *s->cancel; }

static void free_segment(Search *s)
{
    for (int i = 0; i < s->n_ref; i++)
        av_freep(&s->ref[i]);
    s->n_ref = 0;
    for (int i = 0; i < s->n; i++) {
        for (int k = 0; k < s->st[i].n_frames; k++)
            av_frame_free(&s->st[i].frames[k]);
        s->st[i].n_frames = 0;
        s->st[i].sink = NULL;
    }
    avfilter_graph_free(&s->graph);
    s->vsrc = s->refsink = NULL;
}

static int build_graph(Search *s, SbkError *err)
{
    char desc[4096], pre[512], chain[512], name[16];
    AVFilterInOut *outputs = NULL, *inputs = NULL;
    AVStream *st = s->ifmt->streams[s->vidx];
    AVRational sar = s->vdec->sample_aspect_ratio;
    int ret;
    s->graph = avfilter_graph_alloc();
    if (!s->graph)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    s->graph->nb_threads = 1;
    snprintf(desc, sizeof desc, "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
             s->vdec->width, s->vdec->height, s->vdec->pix_fmt, st->time_base.num,
             st->time_base.den, sar.num > 0 ? sar.num : 1, sar.den > 0 ? sar.den : 1);
    if ((ret = avfilter_graph_create_filter(&s->vsrc, avfilter_get_by_name("buffer"), "vin", desc,
                                            NULL, s->graph)) < 0 ||
        (ret = avfilter_graph_create_filter(&s->refsink, avfilter_get_by_name("buffersink"),
                                            "ref", NULL, NULL, s->graph)) < 0)
        goto fail;
    sbk_tc_pre_chain(s->vdec, s->probe->rotation, pre, sizeof pre);
    size_t len = (size_t)snprintf(desc, sizeof desc, "[vin]%ssplit=%d[r]", pre, s->n + 1);
    for (int i = 0; i < s->n; i++)
        len += (size_t)snprintf(desc + len, sizeof desc - len, "[s%d]", i);
    len += (size_t)snprintf(desc + len, sizeof desc - len, ";[r]format=yuv420p[ref]");
    for (int i = 0; i < s->n && len < sizeof desc; i++) {
        SearchTier *t = &s->st[i];
        sbk_tier_video_filters(t->tier, s->screen, t->w, t->h, t->fps, chain, sizeof chain);
        len += (size_t)snprintf(desc + len, sizeof desc - len, ";[s%d]%s[o%d]", i, chain, i);
        snprintf(name, sizeof name, "o%d", i);
        if ((ret = avfilter_graph_create_filter(&t->sink, avfilter_get_by_name("buffersink"), name,
                                                NULL, NULL, s->graph)) < 0)
            goto fail;
    }
    if (len >= sizeof desc) {
        ret = AVERROR(EINVAL);
        goto fail;
    }
    /* the graph's open ends: our source feeds [vin]; [ref] and [oN] feed
     * our sinks */
    AVFilterContext *ends[MAX_SEARCH + 1];
    ends[0] = s->refsink;
    for (int i = 0; i < s->n; i++)
        ends[i + 1] = s->st[i].sink;
    for (int i = 0; i <= s->n; i++) {
        AVFilterInOut *io = avfilter_inout_alloc();
        if (!io) {
            ret = AVERROR(ENOMEM);
            goto fail;
        }
        snprintf(name, sizeof name, i ? "o%d" : "ref", i - 1);
        io->name = av_strdup(name);
        io->filter_ctx = ends[i];
        io->next = inputs;
        inputs = io;
    }
    outputs = avfilter_inout_alloc();
    if (!outputs) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    outputs->name = av_strdup("vin");
    outputs->filter_ctx = s->vsrc;
    if ((ret = avfilter_graph_parse_ptr(s->graph, desc, &inputs, &outputs, NULL)) < 0 ||
        (ret = avfilter_graph_config(s->graph, NULL)) < 0)
        goto fail;
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    return 0;
fail:
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    return sbk_media_av_error(err, ret, s->src, "setting up the quality search");
}

static int drain(Search *s, SbkError *err)
{
    int ret;
    for (;;) {
        ret = av_buffersink_get_frame(s->refsink, s->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            break;
        if (ret < 0)
            return sbk_media_av_error(err, ret, s->src, "the quality search");
        /* at most MAX_REF_BYTES of source luma (a 4K source: about 1 s) */
        if (s->n_ref < MAX_SEG_FRAMES &&
            (size_t)(s->n_ref + 1) * s->frame->width * s->frame->height <= MAX_REF_BYTES) {
            s->rw = s->frame->width;
            s->rh = s->frame->height;
            uint8_t *y = av_malloc((size_t)s->rw * s->rh);
            if (!y) {
                av_frame_unref(s->frame);
                return sbk_err(err, SBK_ENOMEM, "out of memory");
            }
            av_image_copy_plane(y, s->rw, s->frame->data[0], s->frame->linesize[0], s->rw, s->rh);
            s->ref[s->n_ref] = y;
            s->ref_t[s->n_ref++] =
                s->frame->pts * av_q2d(av_buffersink_get_time_base(s->refsink));
        }
        av_frame_unref(s->frame);
    }
    for (int i = 0; i < s->n; i++) {
        SearchTier *t = &s->st[i];
        for (;;) {
            ret = av_buffersink_get_frame(t->sink, s->frame);
            if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
                break;
            if (ret < 0)
                return sbk_media_av_error(err, ret, s->src, "the quality search");
            if (t->n_frames < MAX_SEG_FRAMES) {
                /* encoder time base is 1/fps: frame numbers */
                s->frame->pts = av_rescale_q(s->frame->pts, av_buffersink_get_time_base(t->sink),
                                             av_inv_q(t->fps));
                s->frame->pict_type = AV_PICTURE_TYPE_NONE;
                t->frames[t->n_frames] = av_frame_clone(s->frame);
                if (!t->frames[t->n_frames++]) {
                    av_frame_unref(s->frame);
                    return sbk_err(err, SBK_ENOMEM, "out of memory");
                }
            }
            av_frame_unref(s->frame);
        }
    }
    return 0;
}

/* Decode [start, start + len) of the source through the graph, from the
 * keyframe before it or (from_start) from the file's start. Returns 1, or 0
 * when a picture of the segment did not decode cleanly: a seek may land on
 * a keyframe that is not a clean start (an open GOP's I-frame, no recovery
 * point), and then the caller tries again from the start. Damage is not
 * judged here: the transcode reads the whole file and says what is wrong. */
static int read_segment(Search *s, double start, double len, int from_start, SbkError *err)
{
    AVStream *st = s->ifmt->streams[s->vidx];
    int ret;
    if ((ret = build_graph(s, err)) < 0)
        return ret;
    double abs_start = s->probe->start + start;
    int64_t ts = av_rescale_q((int64_t)llround(abs_start * AV_TIME_BASE), AV_TIME_BASE_Q,
                              st->time_base);
    int64_t seek_to = from_start ? (st->start_time != AV_NOPTS_VALUE ? st->start_time : 0) : ts;
    if ((ret = av_seek_frame(s->ifmt, s->vidx, seek_to, AVSEEK_FLAG_BACKWARD)) < 0)
        return sbk_media_av_error(err, ret, s->src, "seeking for the quality search");
    avcodec_flush_buffers(s->vdec);
    int done = 0, eof = 0, in_seg = 0, dirty = 0;
    while (!done && !dirty) {
        if (!eof) {
            ret = av_read_frame(s->ifmt, s->pkt);
            if (ret == AVERROR_EOF) {
                eof = 1;
            } else if (ret < 0) {
                return sbk_media_av_error(err, ret, s->src, "reading for the quality search");
            } else if (s->pkt->stream_index != s->vidx) {
                av_packet_unref(s->pkt);
                continue;
            }
        }
        ret = avcodec_send_packet(s->vdec, eof ? NULL : s->pkt);
        av_packet_unref(s->pkt);
        if (ret < 0 && ret != AVERROR_EOF && ret != AVERROR(EAGAIN))
            dirty |= in_seg;
        while (!dirty) {
            ret = avcodec_receive_frame(s->vdec, s->dframe);
            if (ret == AVERROR(EAGAIN))
                break;
            if (ret == AVERROR_EOF) {
                done = 1;
                break;
            }
            if (ret < 0) {
                dirty |= in_seg;
                break;
            }
            int64_t pts = s->dframe->best_effort_timestamp;
            double t = pts == AV_NOPTS_VALUE ? -1 : pts * av_q2d(st->time_base);
            int bad = s->dframe->decode_error_flags || (s->dframe->flags & AV_FRAME_FLAG_CORRUPT);
            if (t < abs_start - 1e-6 || done) {
                av_frame_unref(s->dframe);
                continue;
            }
            in_seg = 1;
            if (bad) {
                dirty = 1;
                av_frame_unref(s->dframe);
                break;
            }
            if (t >= abs_start + len - 1e-6) {
                done = 1;
                av_frame_unref(s->dframe);
                continue;
            }
            /* the segment's own timeline, from 0 */
            s->dframe->pts = pts - ts;
            ret = av_buffersrc_add_frame(s->vsrc, s->dframe);
            av_frame_unref(s->dframe);
            if (ret < 0)
                return sbk_media_av_error(err, ret, s->src, "the quality search");
            if ((ret = drain(s, err)) < 0)
                return ret;
        }
    }
    if (dirty) {
        free_segment(s);
        return 0;
    }
    if ((ret = av_buffersrc_add_frame(s->vsrc, NULL)) < 0)
        return sbk_media_av_error(err, ret, s->src, "the quality search");
    if ((ret = drain(s, err)) < 0)
        return ret;
    return 1;
}

/* SSIM of the source frames up to (not including) time `until` against the
 * decoded output frame in s->cur. */
static void compare_until(Search *s, double until, int *ri, double *sum, long *count)
{
    while (*ri < s->n_ref && s->ref_t[*ri] < until) {
        *sum += sbk_ssim_plane(s->cur, s->rw, s->ref[*ri], s->rw, s->rw, s->rh);
        (*count)++;
        (*ri)++;
    }
}

static int take_decoded(Search *s, SearchTier *t, AVFrame *f, int *have, int *ri, double *sum,
                        long *count)
{
    s->up = sws_getCachedContext(s->up, f->width, f->height, AV_PIX_FMT_GRAY8, s->rw, s->rh,
                                 AV_PIX_FMT_GRAY8, SWS_BICUBIC, NULL, NULL, NULL);
    if (!s->up)
        return AVERROR(ENOMEM);
    uint8_t *dst[4] = {s->next, NULL, NULL, NULL};
    int dst_ls[4] = {s->rw, 0, 0, 0};
    const uint8_t *srcp[4] = {f->data[0], NULL, NULL, NULL};
    int src_ls[4] = {f->linesize[0], 0, 0, 0};
    sws_scale(s->up, srcp, src_ls, 0, f->height, dst, dst_ls);
    int64_t pts = f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp;
    double when = pts * av_q2d(av_inv_q(t->fps));
    if (*have) /* the previous output frame stands until this one, give or take half a frame */
        compare_until(s, when - s->src_frame_s / 2, ri, sum, count);
    uint8_t *x = s->cur;
    s->cur = s->next;
    s->next = x;
    *have = 1;
    return 0;
}

/* Encode this segment's frames of tier t at crf, decode, compare. */
static int measure(Search *s, SearchTier *t, int crf, double *sum, long *count, SbkError *err)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(t->tier->vencoder);
    const AVCodec *dcodec = avcodec_find_decoder(AV_CODEC_ID_H264);
    AVCodecContext *enc = NULL, *dec = NULL;
    int ret, have = 0, ri = 0;
    if (!codec || !dcodec)
        return sbk_err(err, SBK_EUNSUPPORTED, "the %s encoder is not available in this FFmpeg",
                       t->tier->vencoder);
    if (!(enc = avcodec_alloc_context3(codec)) || !(dec = avcodec_alloc_context3(dcodec))) {
        ret = AVERROR(ENOMEM);
        goto done;
    }
    sbk_tc_video_settings(enc, t->tier, s->screen, crf, t->w, t->h, t->fps, s->threads);
    dec->thread_count = 1;
    if ((ret = avcodec_open2(enc, codec, NULL)) < 0 || (ret = avcodec_open2(dec, dcodec, NULL)) < 0)
        goto done;
    for (int i = 0; i <= t->n_frames; i++) {
        ret = avcodec_send_frame(enc, i < t->n_frames ? t->frames[i] : NULL);
        if (ret < 0)
            goto done;
        for (;;) {
            ret = avcodec_receive_packet(enc, s->epkt);
            if (ret == AVERROR(EAGAIN))
                break;
            int enc_eof = ret == AVERROR_EOF;
            if (ret < 0 && !enc_eof)
                goto done;
            ret = avcodec_send_packet(dec, enc_eof ? NULL : s->epkt);
            av_packet_unref(s->epkt);
            if (ret < 0 && ret != AVERROR_EOF)
                goto done;
            for (;;) {
                ret = avcodec_receive_frame(dec, s->frame);
                if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
                    break;
                if (ret < 0)
                    goto done;
                ret = take_decoded(s, t, s->frame, &have, &ri, sum, count);
                av_frame_unref(s->frame);
                if (ret < 0)
                    goto done;
            }
            if (enc_eof)
                break;
        }
    }
    if (have)
        compare_until(s, INFINITY, &ri, sum, count);
    ret = 0;
done:
    avcodec_free_context(&enc);
    avcodec_free_context(&dec);
    if (ret < 0)
        return sbk_media_av_error(err, ret, s->src, "encoding for the quality search");
    return 0;
}

/* One pass over the segments for the probes in st[].probe. */
static int round_(Search *s, const double *starts, int n_seg, double len, SbkError *err)
{
    int ret;
    for (int k = 0; k < n_seg; k++) {
        if (cancelled(s))
            return sbk_err(err, SBK_ECANCELED, "interrupted");
        ret = read_segment(s, starts[k], len, 0, err);
        /* not a clean start: again from the file's start, when that is
         * not far to decode; else without this segment */
        if (ret == 0 && starts[k] <= MAX_PREROLL_S)
            ret = read_segment(s, starts[k], len, 1, err);
        if (ret < 0) {
            free_segment(s);
            return ret;
        }
        if (ret == 0) {
            sbk_log(SBK_LOG_DEBUG, "quality search: segment at %.1f s skipped (no clean start)",
                    starts[k]);
            continue;
        }
        if (s->rw > 0 && !s->cur) {
            s->cur = av_malloc((size_t)s->rw * s->rh);
            s->next = av_malloc((size_t)s->rw * s->rh);
            if (!s->cur || !s->next) {
                free_segment(s);
                return sbk_err(err, SBK_ENOMEM, "out of memory");
            }
        }
        for (int i = 0; i < s->n; i++) {
            SearchTier *t = &s->st[i];
            for (int p = 0; p < SBK_CRF_MAX_PROBES && t->n_frames > 0 && s->n_ref > 0; p++) {
                if (!t->probe[p])
                    continue;
                int j = 0;
                while (j < t->n_probes && t->crf_at[j] != t->probe[p])
                    j++;
                if (j == t->n_probes) {
                    t->crf_at[t->n_probes++] = t->probe[p];
                    t->worst[j] = 2;
                }
                double sum = 0;
                long count = 0;
                if ((ret = measure(s, t, t->probe[p], &sum, &count, err)) < 0) {
                    free_segment(s);
                    return ret;
                }
                sbk_log(SBK_LOG_DEBUG, "%s: segment %d CRF %d: %d source frames (%.2f-%.2f s), %d encoded, %ld compared",
                        t->tier->name, k, t->probe[p], s->n_ref, s->n_ref ? s->ref_t[0] : 0,
                        s->n_ref ? s->ref_t[s->n_ref - 1] : 0, t->n_frames, count);
                t->sum[j] += sum;
                t->count[j] += count;
                if (count > 0 && sum / count < t->worst[j])
                    t->worst[j] = sum / count;
            }
        }
        free_segment(s);
    }
    return 0;
}

static int points(const SearchTier *t, SbkCrfPoint *pts)
{
    int n = 0;
    for (int j = 0; j < t->n_probes; j++)
        if (t->count[j] > 0)
            pts[n++] = (SbkCrfPoint){t->crf_at[j], t->sum[j] / t->count[j], t->worst[j]};
    return n;
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int sbk_media_crf_search(const char *src, const SbkProbe *probe, const SbkTier *const *tiers,
                         int n_tiers, const int *skip, int threads, const volatile int *cancel,
                         SbkCrfChoice *out, double *cpu_s, SbkError *err)
{
    Search s = {.src = src, .probe = probe, .threads = threads, .cancel = cancel, .vidx = -1};
    double cpu0 = cpu_now(), starts[SBK_CRF_MAX_SEGMENTS], len = 0;
    int ret = 0;
    *cpu_s = 0;
    s.screen = probe->content == SBK_CONTENT_SCREENCAST;
    for (int i = 0; i < n_tiers; i++)
        memset(&out[i], 0, sizeof out[i]);
    if (!probe->has_video || probe->duration <= 0)
        return 0;
    for (int i = 0; i < n_tiers && s.n < MAX_SEARCH; i++) {
        const SbkTier *tier = tiers[i];
        if (!tier->has_video || tier->ssim_target <= 0 || (skip && skip[i]) ||
            strcmp(tier->vencoder, "libx264") != 0)
            continue;
        SearchTier *t = &s.st[s.n++];
        t->tier = tier;
        t->out = &out[i];
        t->goal = (SbkCrfGoal){tier->ssim_target, tier->ssim_floor, tier->crf_min, tier->crf_max};
        /* first probes: the ladder's CRF and 5 above (the search mostly
         * finds room to spare on screencasts) */
        int c0 = s.screen ? tier->crf_screen : tier->crf_camera;
        t->probe[0] = c0 < tier->crf_min ? tier->crf_min : c0;
        t->probe[1] = t->probe[0] + 5 > tier->crf_max ? tier->crf_max : t->probe[0] + 5;
        if (t->probe[1] == t->probe[0])
            t->probe[1] = 0;
    }
    if (s.n == 0)
        return 0;
    if ((ret = sbk_media_open_input(src, &s.ifmt, err)) < 0)
        goto done;
    s.vidx = probe->video_stream;
    for (unsigned i = 0; i < s.ifmt->nb_streams; i++)
        s.ifmt->streams[i]->discard = (int)i == s.vidx ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    /* one decoder thread: which pictures fail after a seek must not
     * depend on timing (see read_segment) */
    if ((ret = sbk_media_open_decoder(src, s.ifmt->streams[s.vidx], 1, &s.vdec, err)) < 0)
        goto done;
    s.vdec->err_recognition &= ~AV_EF_EXPLODE;
    AVRational src_fps = av_guess_frame_rate(s.ifmt, s.ifmt->streams[s.vidx], NULL);
    s.src_frame_s = src_fps.num > 0 ? av_q2d(av_inv_q(src_fps)) : 1.0 / 30;
    for (int i = 0; i < s.n; i++)
        sbk_tier_plan_video(s.st[i].tier, s.screen, probe->width, probe->height, src_fps,
                            &s.st[i].w, &s.st[i].h, &s.st[i].fps);
    s.pkt = av_packet_alloc();
    s.epkt = av_packet_alloc();
    s.frame = av_frame_alloc();
    s.dframe = av_frame_alloc();
    if (!s.pkt || !s.epkt || !s.frame || !s.dframe) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    int n_seg = sbk_crf_segments(probe->duration, starts, &len);
    if ((ret = round_(&s, starts, n_seg, len, err)) < 0)
        goto done;
    /* a third probe where the first two do not bracket the answer */
    int again = 0;
    for (int i = 0; i < s.n; i++) {
        SbkCrfPoint pts[SBK_CRF_MAX_PROBES];
        int n = points(&s.st[i], pts);
        memset(s.st[i].probe, 0, sizeof s.st[i].probe);
        s.st[i].probe[0] = sbk_crf_next_probe(pts, n, &s.st[i].goal);
        again |= s.st[i].probe[0] != 0;
    }
    if (again && (ret = round_(&s, starts, n_seg, len, err)) < 0)
        goto done;
    for (int i = 0; i < s.n; i++) {
        SearchTier *t = &s.st[i];
        SbkCrfChoice *c = t->out;
        c->n_points = points(t, c->points);
        if (c->n_points == 0)
            continue; /* nothing decoded: the ladder's CRF */
        c->crf = sbk_crf_choose(c->points, c->n_points, &t->goal, &c->ssim_y, &c->ssim_y_min);
        for (int j = 0; j < c->n_points; j++)
            sbk_log(SBK_LOG_DEBUG, "%s: CRF %.0f: SSIM-Y %.4f, worst segment %.4f",
                    t->tier->name, c->points[j].crf, c->points[j].mean, c->points[j].worst);
        sbk_log(SBK_LOG_DEBUG, "%s: chose CRF %d (predicted SSIM-Y %.4f, worst %.4f; %d x %.1f s)",
                t->tier->name, c->crf, c->ssim_y, c->ssim_y_min, n_seg, len);
    }
    ret = 0;
done:
    free_segment(&s);
    av_free(s.cur);
    av_free(s.next);
    sws_freeContext(s.up);
    av_packet_free(&s.pkt);
    av_packet_free(&s.epkt);
    av_frame_free(&s.frame);
    av_frame_free(&s.dframe);
    avcodec_free_context(&s.vdec);
    avformat_close_input(&s.ifmt);
    *cpu_s = cpu_now() - cpu0;
    return ret;
}
