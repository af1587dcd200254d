/* Posters and thumbnails: one frame, scaled, encoded with FFmpeg's MJPEG
 * encoder (deterministic), written atomically. */
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>

#include "media_internal.h"
#include "sabak/core.h"

/* Turn one plane clockwise by rot degrees (90/180/270) into dst. */
static void turn_plane(const uint8_t *s, int sls, int sw, int sh, uint8_t *d, int dls, int rot)
{
    if (rot == 90) { /* dst is sh x sw */
        for (int y = 0; y < sw; y++)
            for (int x = 0; x < sh; x++)
                d[y * dls + x] = s[(sh - 1 - x) * sls + y];
    } else if (rot == 270) {
        for (int y = 0; y < sw; y++)
            for (int x = 0; x < sh; x++)
                d[y * dls + x] = s[x * sls + (sw - 1 - y)];
    } else { /* 180 */
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++)
                d[y * dls + x] = s[(sh - 1 - y) * sls + (sw - 1 - x)];
    }
}

int sbk_media_write_jpeg(const AVFrame *src, int rotation, int maxw, const char *path,
                         int *out_w, int *out_h, SbkError *err)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *c = NULL;
    AVFrame *f = NULL, *turned = NULL;
    AVPacket *pkt = NULL;
    struct SwsContext *sws = NULL;
    int ret;
    double aspect = (double)src->width / src->height;
    if (src->sample_aspect_ratio.num > 0 && src->sample_aspect_ratio.den > 0)
        aspect *= av_q2d(src->sample_aspect_ratio);
    int sideways = rotation == 90 || rotation == 270;
    int disp_w = sideways ? src->height : src->width;
    if (sideways)
        aspect = 1.0 / aspect;
    int w = disp_w < maxw ? disp_w : maxw;
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
    f->width = sideways ? h : w; /* scaled first, turned after */
    f->height = sideways ? w : h;
    f->quality = c->global_quality;
    f->pts = 0;
    if ((ret = av_frame_get_buffer(f, 0)) < 0) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    sws = sws_getContext(src->width, src->height, src->format, f->width, f->height, c->pix_fmt,
                         SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!sws) {
        ret = sbk_err(err, SBK_EUNSUPPORTED, "cannot scale the poster frame");
        goto done;
    }
    sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, f->data,
              f->linesize);
    if (rotation == 90 || rotation == 180 || rotation == 270) {
        turned = av_frame_alloc();
        if (!turned) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        turned->format = c->pix_fmt;
        turned->width = w;
        turned->height = h;
        turned->quality = c->global_quality;
        turned->pts = 0;
        if (av_frame_get_buffer(turned, 0) < 0) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        for (int pl = 0; pl < 3; pl++) {
            int sh = pl ? 1 : 0; /* 4:2:0 chroma planes are half size */
            turn_plane(f->data[pl], f->linesize[pl], f->width >> sh, f->height >> sh,
                       turned->data[pl], turned->linesize[pl], rotation);
        }
        av_frame_free(&f);
        f = turned;
        turned = NULL;
    }
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
    av_frame_free(&turned);
    avcodec_free_context(&c);
    return ret;
}
