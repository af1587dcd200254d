/* Posters and thumbnails: one frame, scaled, encoded with FFmpeg's MJPEG
 * encoder (deterministic), written atomically. */
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>

#include "media_internal.h"
#include "sabak/core.h"

int sbk_media_write_jpeg(const AVFrame *src, int maxw, const char *path, int *out_w, int *out_h,
                         SbkError *err)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *c = NULL;
    AVFrame *f = NULL;
    AVPacket *pkt = NULL;
    struct SwsContext *sws = NULL;
    int ret;
    double aspect = (double)src->width / src->height;
    if (src->sample_aspect_ratio.num > 0 && src->sample_aspect_ratio.den > 0)
        aspect *= av_q2d(src->sample_aspect_ratio);
    int w = src->width < maxw ? src->width : maxw;
    w &= ~1;
    int h = (int)lround(w / aspect) & ~1;
    if (w < 2 || h < 2)
        return sbk_err(err, SBK_EINVAL, "picture too small for a poster");
    if (!codec)
        return sbk_err(err, SBK_EUNSUPPORTED, "this FFmpeg has no JPEG encoder");
    c = avcodec_alloc_context3(codec);
    f = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!c || !f || !pkt) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    c->width = w;
    c->height = h;
    c->pix_fmt = AV_PIX_FMT_YUVJ420P;
    c->time_base = (AVRational){1, 25};
    c->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_BITEXACT;
    c->global_quality = FF_QP2LAMBDA * 4;
    c->thread_count = 1;
    ret = avcodec_open2(c, codec, NULL);
    if (ret < 0) {
        ret = sbk_media_av_error(err, ret, path, "opening the JPEG encoder");
        goto done;
    }
    f->format = c->pix_fmt;
    f->width = w;
    f->height = h;
    f->quality = c->global_quality;
    f->pts = 0;
    if ((ret = av_frame_get_buffer(f, 0)) < 0) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    sws = sws_getContext(src->width, src->height, src->format, w, h, c->pix_fmt,
                         SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!sws) {
        ret = sbk_err(err, SBK_EUNSUPPORTED, "cannot scale the poster frame");
        goto done;
    }
    sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, f->data,
              f->linesize);
    if ((ret = avcodec_send_frame(c, f)) < 0 || (ret = avcodec_send_frame(c, NULL)) < 0 ||
        (ret = avcodec_receive_packet(c, pkt)) < 0) {
        ret = sbk_media_av_error(err, ret, path, "encoding the poster");
        goto done;
    }
    ret = sbk_atomic_write_file(path, pkt->data, (size_t)pkt->size, err);
    if (ret == 0) {
        *out_w = w;
        *out_h = h;
    }
done:
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&c);
    return ret;
}
