/* Opening a recording safely: the demuxer and decoder whitelists (tables of
 * FFmpeg's own demuxer and DECODER names, which is what FFmpeg matches its
 * format_whitelist / codec_whitelist against), file protocol only, picture
 * size limits, and errors that name the real cause. */
#include <libavutil/opt.h>
#include <stdio.h>
#include <string.h>

#include "media_internal.h"
#include "sabak/core.h"

/* Demuxers (short names as av_find_input_format knows them; "mov" covers
 * mp4/m4a/3gp, "matroska" covers webm, "mpeg" is DVD VOB / MPEG-PS,
 * "mpegts" also reads camcorder MTS/M2TS). */
const char *const sbk_media_demuxers[] = {
    "mov", "matroska", "avi", "flv", "mpegts", "mpeg", "asf", "dv", "ogg",
    /* audio-only recordings */
    "wav", "w64", "mp3", "flac", "aac", "aiff", "amr", "amrnb", "amrwb", "gsm", "ac3",
    NULL,
};

const char *const sbk_media_video_decoders[] = {
    "h264", "hevc",
    /* DivX / Xvid, DivX 3 (MS-MPEG4 v3's decoder is "msmpeg4"), v2, v1 */
    "mpeg4", "msmpeg4", "msmpeg4v2", "msmpeg4v1",
    "dvvideo", "mpeg1video", "mpeg2video",
    "h263", "h263p", "flv",
    "wmv1", "wmv2", "wmv3", "vc1",
    "mjpeg", "theora", "vp8", "vp9", "libvpx", "libvpx-vp9",
    "libdav1d", "libaom-av1", "av1",
    "prores", "qtrle", "png",
    NULL,
};

const char *const sbk_media_audio_decoders[] = {
    "pcm_s16le", "pcm_s16be", "pcm_s16le_planar", "pcm_s16be_planar",
    "pcm_s24le", "pcm_s24be", "pcm_s24le_planar", "pcm_s32le", "pcm_s32be", "pcm_s32le_planar",
    "pcm_f32le", "pcm_f32be", "pcm_f64le", "pcm_f64be", "pcm_u8", "pcm_s8", "pcm_s8_planar",
    "pcm_mulaw", "pcm_alaw", "pcm_dvd", "pcm_bluray",
    "adpcm_ima_wav", "adpcm_ima_qt", "adpcm_ms", "g726", "g726le", "adpcm_yamaha",
    "adpcm_swf", "adpcm_ima_dk4", "g722",
    "amrnb", "amrwb", /* native; Debian builds no libopencore decoders */
    "gsm", "gsm_ms", "libgsm", "libgsm_ms",
    "wmav1", "wmav2", "wmapro",
    "ac3", "ac3_fixed", "eac3", "mp1", "mp1float", "mp2", "mp2float", "mp3", "mp3float",
    "aac", "aac_fixed", "aac_latm", "alac",
    "opus", "libopus", "vorbis", "flac",
    NULL,
};

/* Text subtitles (extracted as cues) and the pictures cover art uses. */
const char *const sbk_media_other_decoders[] = {
    "subrip", "srt", "mov_text", "ass", "ssa", "webvtt", "text", "bmp",
    NULL,
};

static size_t join(char *buf, size_t cap, size_t len, const char *const *names)
{
    for (; *names; names++) {
        int n = snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "", *names);
        len += n > 0 ? (size_t)n : 0;
    }
    return len;
}

enum { WL_CAP = 4096 };

static void format_whitelist(char buf[WL_CAP]) { join(buf, WL_CAP, 0, sbk_media_demuxers); }

static void codec_whitelist(char buf[WL_CAP])
{
    size_t len = join(buf, WL_CAP, 0, sbk_media_video_decoders);
    len = join(buf, WL_CAP, len, sbk_media_audio_decoders);
    join(buf, WL_CAP, len, sbk_media_other_decoders);
}

static int listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return 1;
    return 0;
}

int sbk_media_decoder_allowed(const char *name)
{
    return listed(sbk_media_video_decoders, name) || listed(sbk_media_audio_decoders, name) ||
           listed(sbk_media_other_decoders, name);
}

const AVCodec *sbk_media_find_decoder(enum AVCodecID id)
{
    /* FFmpeg's preferred decoder first, then any other one on the list
     * (e.g. libdav1d or libaom-av1 for AV1). */
    const AVCodec *c = avcodec_find_decoder(id);
    if (c && sbk_media_decoder_allowed(c->name))
        return c;
    void *it = NULL;
    while ((c = av_codec_iterate(&it)))
        if (c->id == id && av_codec_is_decoder(c) && sbk_media_decoder_allowed(c->name))
            return c;
    return NULL;
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
    char fwl[WL_CAP], cwl[WL_CAP];
    int ret;
    *out = NULL;
    format_whitelist(fwl);
    codec_whitelist(cwl);
    av_dict_set(&opts, "format_whitelist", fwl, 0);
    av_dict_set(&opts, "codec_whitelist", cwl, 0);
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
        char buf[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(ret, buf, sizeof buf);
        avformat_close_input(&fmt);
        return sbk_err(err, SBK_EDAMAGED,
                       "%s is damaged: its stream headers cannot be read (%s; the file may be cut "
                       "short)",
                       sbk_path_base(path), buf);
    }
    *out = fmt;
    return 0;
}

int sbk_media_open_decoder(const char *path, AVStream *st, int threads, AVCodecContext **out,
                           SbkError *err)
{
    const AVCodecParameters *par = st->codecpar;
    const char *base = sbk_path_base(path);
    const char *type = av_get_media_type_string(par->codec_type);
    AVCodecContext *ctx = NULL;
    AVDictionary *opts = NULL;
    char cwl[WL_CAP];
    int ret;
    *out = NULL;
    if (!type)
        type = "data";
    if (par->codec_id == AV_CODEC_ID_NONE) {
        char tag[AV_FOURCC_MAX_STRING_SIZE] = "?";
        if (par->codec_tag)
            av_fourcc_make_string(tag, par->codec_tag);
        return sbk_err(err, SBK_EUNSUPPORTED,
                       "%s: its %s codec is unknown to FFmpeg (tag %s); convert the file to MP4 "
                       "(H.264 + AAC) and try again",
                       base, type, tag);
    }
    const AVCodec *dec = sbk_media_find_decoder(par->codec_id);
    if (!dec) {
        const AVCodec *any = avcodec_find_decoder(par->codec_id);
        if (!any)
            return sbk_err(err, SBK_EUNSUPPORTED,
                           "%s: its %s codec (%s) has no decoder in this FFmpeg build", base, type,
                           avcodec_get_name(par->codec_id));
        return sbk_err(err, SBK_EUNSUPPORTED,
                       "%s: its %s codec (%s, decoder %s) is not one sabak accepts; convert the "
                       "file to MP4 (H.264 + AAC) and try again",
                       base, type, avcodec_get_name(par->codec_id), any->name);
    }
    if (par->codec_type == AVMEDIA_TYPE_VIDEO && (par->width <= 0 || par->height <= 0))
        return sbk_err(err, SBK_EDAMAGED, "%s is damaged: its video header has no picture size",
                       base);
    if (par->codec_type == AVMEDIA_TYPE_AUDIO && par->sample_rate <= 0)
        return sbk_err(err, SBK_EDAMAGED, "%s is damaged: its audio header has no sample rate",
                       base);
    ctx = avcodec_alloc_context3(dec);
    if (!ctx)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    ret = avcodec_parameters_to_context(ctx, par);
    if (ret < 0)
        goto fail;
    ctx->pkt_timebase = st->time_base;
    ctx->thread_count = threads;
    ctx->err_recognition = AV_EF_EXPLODE | AV_EF_BITSTREAM | AV_EF_BUFFER | AV_EF_CRCCHECK;
    codec_whitelist(cwl);
    av_dict_set(&opts, "codec_whitelist", cwl, 0);
    av_dict_set_int(&opts, "max_pixels", SBK_MAX_PIXELS, 0);
    ret = avcodec_open2(ctx, dec, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        goto fail;
    *out = ctx;
    return 0;
fail:
    avcodec_free_context(&ctx);
    if (ret == AVERROR(ENOMEM))
        return sbk_err(err, SBK_ENOMEM, "out of memory (opening the %s decoder)", dec->name);
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(ret, buf, sizeof buf);
    return sbk_err(err, SBK_EDAMAGED,
                   "%s: the %s decoder (%s) failed to open: %s (the %s header may be damaged)",
                   base, type, dec->name, buf, type);
}
