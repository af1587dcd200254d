/* src/kiosk/multipart.c - multipart/byteranges bodies (see multipart.h). */
#include "kiosk/multipart.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "sabak/core.h"

/* ---- multipart/byteranges ------------------------------------------------ */

typedef struct Segment {
    uint64_t pos, len;   /* where in the multipart body */
    char *text;          /* a part header or the trailer, or NULL: entity bytes */
    int64_t src;         /* entity offset of the bytes */
} Segment;

struct Multipart {
    int fd;              /* -1 when mem is used */
    int64_t base;        /* fd offset of the entity */
    char *mem;           /* the entity in memory (owned) */
    SbkInflater *inf;    /* or a deflated entry, inflated as it is read */
    Segment seg[2 * SBK_RANGE_MAX + 1];
    int n;
    uint64_t total;
};

void sbk_multipart_free(void *cls)
{
    Multipart *mp = cls;
    if (!mp)
        return;
    if (mp->fd >= 0)
        close(mp->fd);
    sbk_inflater_free(mp->inf);
    free(mp->mem);
    for (int i = 0; i < mp->n; i++)
        free(mp->seg[i].text);
    free(mp);
}

ssize_t sbk_multipart_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    Multipart *mp = cls;
    if (pos >= mp->total)
        return MHD_CONTENT_READER_END_OF_STREAM;
    for (int i = 0; i < mp->n; i++) {
        Segment *s = &mp->seg[i];
        if (pos < s->pos || pos >= s->pos + s->len)
            continue;
        uint64_t skip = pos - s->pos, left = s->len - skip;
        size_t n = left < max ? (size_t)left : max;
        if (s->text) {
            memcpy(buf, s->text + skip, n);
        } else if (mp->mem) {
            memcpy(buf, mp->mem + s->src + (int64_t)skip, n);
        } else if (mp->inf) {
            ssize_t got = sbk_inflater_read(mp->inf, s->src + (int64_t)skip, buf, n);
            if (got <= 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
            n = (size_t)got;
        } else {
            ssize_t got = pread(mp->fd, buf, n, (off_t)(mp->base + s->src + (int64_t)skip));
            if (got <= 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
            n = (size_t)got;
        }
        return (ssize_t)n;
    }
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* A deflated reply's inflater (it takes the reply's fd). 0, SBK_ELIMIT
 * (over the inflation budget) or SBK_ENOMEM. */
int sbk_reply_take_inflater(SbkReply *r, SbkInflater **inf)
{
    int fd = r->fd;
    r->fd = -1;
    return sbk_inflater_new(inf, fd, r->offset, r->csize, r->size, r->crc32);
}

/* Take the reply's body into a multipart generator over the ranges. */
Multipart *sbk_multipart_new(SbkReply *r, const SbkRangeSet *rs, int64_t length,
                                char *ctype, size_t ctype_n, int *rc)
{
    Multipart *mp = calloc(1, sizeof *mp);
    if (!mp)
        return NULL;
    mp->fd = -1;
    uint8_t rnd[8] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memcpy(rnd, &mp, sizeof rnd < sizeof mp ? sizeof rnd : sizeof mp);
    char boundary[40];
    snprintf(boundary, sizeof boundary, "sabak-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    snprintf(ctype, ctype_n, "multipart/byteranges; boundary=%s", boundary);
    uint64_t pos = 0;
    for (int i = 0; i <= rs->n; i++) {
        char *text = NULL;
        int len;
        if (i < rs->n)
            len = asprintf(&text, "%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %" PRId64
                           "-%" PRId64 "/%" PRId64 "\r\n\r\n",
                           i ? "\r\n" : "", boundary, r->mime, rs->r[i].first, rs->r[i].last, length);
        else
            len = asprintf(&text, "\r\n--%s--\r\n", boundary);
        if (len < 0) {
            sbk_multipart_free(mp);
            return NULL;
        }
        mp->seg[mp->n++] = (Segment){pos, (uint64_t)len, text, 0};
        pos += (uint64_t)len;
        if (i < rs->n) {
            uint64_t plen = (uint64_t)(rs->r[i].last - rs->r[i].first + 1);
            mp->seg[mp->n++] = (Segment){pos, plen, NULL, rs->r[i].first};
            pos += plen;
        }
    }
    mp->total = pos;
    if (r->kind == SBK_BODY_INFLATE) {
        *rc = sbk_reply_take_inflater(r, &mp->inf);
        if (*rc) {
            sbk_multipart_free(mp);
            return NULL;
        }
    } else if (r->kind == SBK_BODY_FD) {
        mp->fd = r->fd;
        mp->base = r->offset;
    } else if (r->kind == SBK_BODY_MALLOC) {
        mp->mem = (char *)r->data;
    } else {
        mp->mem = malloc(r->len ? r->len : 1);
        if (!mp->mem) {
            sbk_multipart_free(mp);
            return NULL;
        }
        memcpy(mp->mem, r->data, r->len);
        sbk_reply_clear(r);
    }
    r->kind = SBK_BODY_NONE; /* the generator owns it now */
    r->fd = -1;
    r->data = NULL;
    return mp;
}

uint64_t sbk_multipart_total(const Multipart *mp)
{
    return mp->total;
}
