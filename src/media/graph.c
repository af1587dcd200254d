/* The transcoder's one filter graph: the video (deinterlaced where flagged,
 * turned, HDR to SDR) is split into a branch per tier (fps, scale, format);
 * the audio is placed by its timestamps, made mono, loudness-normalised
 * (EBU R128) once and split again. Every branch ends in a buffersink. */
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"
#include "transcode_internal.h"

/* HDR phone video (PQ or HLG, BT.2020, usually 10-bit) becomes 8-bit BT.709
 * once, before the split, with zimg (zscale) and FFmpeg's tonemap: to
 * linear light with reference white (203 cd/m2, BT.2408) at 1.0, primaries
 * to BT.709, then Mobius tone mapping, which leaves everything up to 80 %
 * of white as it is and rolls the highlights above it off smoothly; so the
 * picture is neither dark (as with hable) nor washed out. */
int sbk_tc_source_is_hdr(const AVCodecContext *dec)
{
    return dec->color_trc == AVCOL_TRC_SMPTE2084 || dec->color_trc == AVCOL_TRC_ARIB_STD_B67;
}

static const char *hdr_chain(const AVCodecContext *dec)
{
    if (!sbk_tc_source_is_hdr(dec))
        return "";
    return "zscale=t=linear:npl=203,format=gbrpf32le,zscale=p=bt709,"
           "tonemap=mobius:param=0.8:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p,";
}

void sbk_tc_pre_chain(const AVCodecContext *dec, int rotation, char *out, size_t n)
{
    /* Phones store portrait video sideways with a display matrix:
     * turn it once, before the split, as ffmpeg's autorotate does. */
    static const char *const turn[4] = {"", "transpose=clock,", "hflip,vflip,",
                                        "transpose=cclock,"};
    /* Camcorder and broadcast recordings can be interlaced: yadif with
     * deint=interlaced touches only frames flagged so, and passes
     * progressive ones through unchanged. */
    snprintf(out, n, "yadif=deint=interlaced,%s%s", turn[(rotation / 90) & 3], hdr_chain(dec));
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

int sbk_tc_build_graph(Transcoder *t, SbkError *err)
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
        char pre[512];
        sbk_tc_pre_chain(t->vdec, t->job->probe->rotation, pre, sizeof pre);
        if (append(&desc, &len, &cap, "[vin]%ssplit=%d", pre, nv) < 0)
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
            char chain[512];
            sbk_tier_video_filters(o->tier, t->job->probe->content == SBK_CONTENT_SCREENCAST,
                                   o->w, o->h, o->fps, chain, sizeof chain);
            if (append(&desc, &len, &cap, "[v%d]%s[vo%d];", i, chain, i) < 0)
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
