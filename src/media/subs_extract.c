/* Text subtitle streams inside a recording (mov_text, SubRip, ASS, WebVTT),
 * turned into SRT text and parsed by the same code as subtitle files, so they
 * get the same validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "media_internal.h"
#include "sabak/core.h"
#include "sabak/lang.h"

typedef struct Buf {
    char *s;
    size_t len, cap;
} Buf;

static int buf_add(Buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
        char *ns = realloc(b->s, cap);
        if (!ns)
            return -1;
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

/* ISO 639-2 (as stored in containers) to the codes lessons use. */
void sbk_media_lang_code(const char *iso, char out[16])
{
    sbk_lang_from_iso639(iso, out, 16);
}

/* "ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text" -> Text,
 * without {\override} blocks, with \N as a line break. */
static int ass_text(Buf *b, const char *ass)
{
    const char *p = ass;
    for (int commas = 0; *p && commas < 8; p++)
        if (*p == ',')
            commas++;
    int in_tag = 0;
    for (; *p; p++) {
        if (in_tag) {
            in_tag = *p != '}';
            continue;
        }
        if (*p == '{') {
            in_tag = 1;
        } else if (*p == '\\' && (p[1] == 'N' || p[1] == 'n')) {
            if (buf_add(b, "\n", 1) < 0)
                return -1;
            p++;
        } else if (*p != '\r' && buf_add(b, p, 1) < 0) {
            return -1;
        }
    }
    return 0;
}

static void srt_time(char *out, size_t n, int64_t ms)
{
    snprintf(out, n, "%02lld:%02d:%02d,%03d", (long long)(ms / 3600000), (int)(ms / 60000 % 60),
             (int)(ms / 1000 % 60), (int)(ms % 1000));
}

static int extract_stream(const char *path, AVFormatContext *fmt, int idx, SbkEmbeddedSubs *out,
                          SbkError *err)
{
    AVStream *st = fmt->streams[idx];
    AVCodecContext *dec = NULL;
    AVPacket *pkt = av_packet_alloc();
    Buf srt = {0};
    int ret, n = 0;
    AVDictionaryEntry *lang = av_dict_get(st->metadata, "language", NULL, 0);
    sbk_media_lang_code(lang ? lang->value : NULL, out->lang);
    if (!pkt)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    ret = sbk_media_open_decoder(path, st, 1, &dec, err);
    if (ret < 0)
        goto done;
    if ((ret = av_seek_frame(fmt, -1, 0, AVSEEK_FLAG_BACKWARD)) < 0)
        avformat_seek_file(fmt, -1, INT64_MIN, 0, 0, 0);
    while (av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index != idx) {
            av_packet_unref(pkt);
            continue;
        }
        AVSubtitle sub;
        int got = 0;
        ret = avcodec_decode_subtitle2(dec, &sub, &got, pkt);
        if (ret >= 0 && got) {
            int64_t start = av_rescale_q(pkt->pts, st->time_base, (AVRational){1, 1000});
            int64_t end = pkt->duration > 0
                              ? start + av_rescale_q(pkt->duration, st->time_base, (AVRational){1, 1000})
                              : start + sub.end_display_time;
            start += sub.start_display_time;
            Buf text = {0};
            for (unsigned r = 0; r < sub.num_rects; r++) {
                if (sub.rects[r]->type == SUBTITLE_ASS && sub.rects[r]->ass)
                    ass_text(&text, sub.rects[r]->ass);
                else if (sub.rects[r]->type == SUBTITLE_TEXT && sub.rects[r]->text)
                    buf_add(&text, sub.rects[r]->text, strlen(sub.rects[r]->text));
            }
            if (text.len > 0 && end > start) {
                char a[32], z[32], head[96];
                srt_time(a, sizeof a, start);
                srt_time(z, sizeof z, end);
                snprintf(head, sizeof head, "%d\n%s --> %s\n", ++n, a, z);
                if (buf_add(&srt, head, strlen(head)) < 0 || buf_add(&srt, text.s, text.len) < 0 ||
                    buf_add(&srt, "\n\n", 2) < 0) {
                    free(text.s);
                    avsubtitle_free(&sub);
                    av_packet_unref(pkt);
                    ret = sbk_err(err, SBK_ENOMEM, "out of memory");
                    goto done;
                }
            }
            free(text.s);
            avsubtitle_free(&sub);
        }
        av_packet_unref(pkt);
    }
    ret = 0;
    if (n > 0) {
        char name[256];
        snprintf(name, sizeof name, "%s (subtitle stream %d)", sbk_path_base(path), idx);
        ret = sbk_subs_parse(srt.s, srt.len, name, &out->subs, err);
    }
done:
    free(srt.s);
    avcodec_free_context(&dec);
    av_packet_free(&pkt);
    return ret;
}

int sbk_media_extract_subs(const char *path, SbkEmbeddedSubs **out, int *n, SbkError *err)
{
    AVFormatContext *fmt = NULL;
    SbkEmbeddedSubs *list = NULL;
    int count = 0, ret;
    *out = NULL;
    *n = 0;
    ret = sbk_media_open_input(path, &fmt, err);
    if (ret < 0)
        return ret;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        enum AVCodecID id = fmt->streams[i]->codecpar->codec_id;
        if (fmt->streams[i]->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE ||
            !(id == AV_CODEC_ID_SUBRIP || id == AV_CODEC_ID_MOV_TEXT || id == AV_CODEC_ID_ASS ||
              id == AV_CODEC_ID_WEBVTT || id == AV_CODEC_ID_TEXT || id == AV_CODEC_ID_SSA))
            continue;
        SbkEmbeddedSubs *nl = realloc(list, (size_t)(count + 1) * sizeof *nl);
        if (!nl) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        list = nl;
        memset(&list[count], 0, sizeof list[count]);
        ret = extract_stream(path, fmt, (int)i, &list[count], err);
        count++;
        if (ret < 0)
            goto done;
    }
    ret = 0;
done:
    avformat_close_input(&fmt);
    if (ret < 0) {
        sbk_media_embedded_subs_free(&list, count);
        return ret;
    }
    *out = list;
    *n = count;
    return 0;
}

void sbk_media_embedded_subs_free(SbkEmbeddedSubs **subs, int n)
{
    if (!subs || !*subs)
        return;
    for (int i = 0; i < n; i++)
        sbk_subs_free(&(*subs)[i].subs);
    free(*subs);
    *subs = NULL;
}
