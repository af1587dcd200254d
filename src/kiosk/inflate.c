/* src/kiosk/inflate.c - streaming raw inflate of one ZIP entry (see
 * inflate.h). */
#include "kiosk/inflate.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "sabak/core.h"

#define IN_BUF (16u << 10)

struct SbkInflater {
    int fd;
    int64_t data_offset, csize, usize;
    uint32_t want_crc;
    z_stream z;
    int z_ready;
    int64_t in_pos;   /* compressed bytes consumed from the file */
    int64_t out_pos;  /* uncompressed bytes produced so far */
    uint32_t crc;
    int ended;        /* Z_STREAM_END seen and checked */
    unsigned char in[IN_BUF];
};

static size_t budget = SBK_INFLATE_BUDGET_DEFAULT;
static size_t in_use;

void sbk_inflate_set_budget(size_t bytes)
{
    __atomic_store_n(&budget, bytes ? bytes : SBK_INFLATE_BUDGET_DEFAULT, __ATOMIC_RELAXED);
}

size_t sbk_inflate_in_use(void)
{
    return __atomic_load_n(&in_use, __ATOMIC_RELAXED);
}

static int restart(SbkInflater *inf)
{
    if (inf->z_ready)
        inflateEnd(&inf->z);
    memset(&inf->z, 0, sizeof inf->z);
    inf->z_ready = 0;
    if (inflateInit2(&inf->z, -MAX_WBITS) != Z_OK)
        return SBK_ENOMEM;
    inf->z_ready = 1;
    inf->in_pos = 0;
    inf->out_pos = 0;
    inf->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    inf->ended = 0;
    return 0;
}

int sbk_inflater_new(SbkInflater **out, int fd, int64_t data_offset, int64_t csize, int64_t usize,
                     uint32_t crc32v)
{
    *out = NULL;
    size_t limit = __atomic_load_n(&budget, __ATOMIC_RELAXED);
    size_t now = __atomic_add_fetch(&in_use, SBK_INFLATE_COST, __ATOMIC_RELAXED);
    if (now > limit) {
        __atomic_sub_fetch(&in_use, SBK_INFLATE_COST, __ATOMIC_RELAXED);
        close(fd);
        return SBK_ELIMIT;
    }
    SbkInflater *inf = calloc(1, sizeof *inf);
    if (!inf) {
        __atomic_sub_fetch(&in_use, SBK_INFLATE_COST, __ATOMIC_RELAXED);
        close(fd);
        return SBK_ENOMEM;
    }
    inf->fd = fd;
    inf->data_offset = data_offset;
    inf->csize = csize;
    inf->usize = usize;
    inf->want_crc = crc32v;
    if (restart(inf) != 0) {
        sbk_inflater_free(inf);
        return SBK_ENOMEM;
    }
    *out = inf;
    return 0;
}

void sbk_inflater_free(SbkInflater *inf)
{
    if (!inf)
        return;
    if (inf->z_ready)
        inflateEnd(&inf->z);
    if (inf->fd >= 0)
        close(inf->fd);
    free(inf);
    __atomic_sub_fetch(&in_use, SBK_INFLATE_COST, __ATOMIC_RELAXED);
}

/* Inflate up to n bytes into buf (NULL: into a scratch, to skip). */
static ssize_t produce(SbkInflater *inf, unsigned char *buf, size_t n)
{
    if (inf->ended)
        return 0;
    inf->z.next_out = buf;
    inf->z.avail_out = (uInt)n;
    while (inf->z.avail_out > 0) {
        if (inf->z.avail_in == 0 && inf->in_pos < inf->csize) {
            int64_t left = inf->csize - inf->in_pos;
            size_t want = left < (int64_t)IN_BUF ? (size_t)left : IN_BUF;
            ssize_t got = pread(inf->fd, inf->in, want, (off_t)(inf->data_offset + inf->in_pos));
            if (got <= 0)
                return SBK_EIO;
            inf->in_pos += got;
            inf->z.next_in = inf->in;
            inf->z.avail_in = (uInt)got;
        }
        int zr = inflate(&inf->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && inf->z.avail_in == 0 && inf->in_pos >= inf->csize)
            return SBK_EDAMAGED; /* the compressed data ends before the stream does */
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return SBK_EDAMAGED;
    }
    size_t made = n - inf->z.avail_out;
    if ((int64_t)made > inf->usize - inf->out_pos)
        return SBK_EDAMAGED; /* more than the central directory promised */
    inf->crc = (uint32_t)crc32(inf->crc, buf, (uInt)made);
    inf->out_pos += (int64_t)made;
    if (inf->z.avail_out > 0) { /* stopped at Z_STREAM_END */
        if (inf->out_pos != inf->usize || inf->crc != inf->want_crc)
            return SBK_EDAMAGED;
        inf->ended = 1;
    }
    return (ssize_t)made;
}

ssize_t sbk_inflater_read(SbkInflater *inf, int64_t pos, char *buf, size_t n)
{
    if (pos < 0)
        return SBK_EINVAL;
    if (pos >= inf->usize || n == 0)
        return 0;
    if (pos < inf->out_pos && restart(inf) != 0)
        return SBK_ENOMEM;
    /* Skip forward to pos (a Range past the start), through buf itself. */
    while (inf->out_pos < pos) {
        int64_t gap = pos - inf->out_pos;
        ssize_t got = produce(inf, (unsigned char *)buf, gap < (int64_t)n ? (size_t)gap : n);
        if (got < 0)
            return got;
        if (got == 0)
            return SBK_EDAMAGED; /* ended before usize */
    }
    if ((int64_t)n > inf->usize - pos)
        n = (size_t)(inf->usize - pos);
    ssize_t got = produce(inf, (unsigned char *)buf, n);
    if (got == 0 && !inf->ended)
        return SBK_EDAMAGED;
    if (got > 0 && inf->out_pos == inf->usize && !inf->ended) {
        /* The last byte is out: read on to the end of the stream, so the
         * CRC-32 is checked before that last piece is handed out. */
        unsigned char one;
        ssize_t tail = produce(inf, &one, 1);
        if (tail != 0)
            return tail < 0 ? tail : SBK_EDAMAGED;
    }
    if (got >= 0 && inf->ended && inf->out_pos < inf->usize)
        return SBK_EDAMAGED;
    return got;
}
