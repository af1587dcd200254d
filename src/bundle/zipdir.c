/* The ZIP structure read directly: end of central directory (also ZIP64),
 * central directory records, and each entry's local header, to find where
 * its data starts: data offset = local header offset + 30 + name length +
 * local extra length. Everything is bounds-checked against the file size;
 * nothing here trusts a length read from the file. */
#include "bundle_internal.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EOCD_SIZE 22
#define EOCD64_LOC_SIZE 20
#define EOCD64_SIZE 56
#define CDH_SIZE 46
#define LFH_SIZE 30
#define MAX_COMMENT 65535
/* 1,000 entries of at most 255-byte names and 64 KiB extras are far below
 * this; a larger central directory is not a bundle. */
#define MAX_CD_BYTES (16u << 20)

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static int read_at(int fd, void *buf, size_t len, int64_t off, SbkError *err)
{
    struct stat st;
    int e = sbk_pread_all(fd, buf, len, (off_t)off);
    /* sbk_pread_all says -EIO both for the end of the file and for a
     * failing read: only the first is damage (a short file). */
    if (e == -EIO && (fstat(fd, &st) < 0 || (int64_t)st.st_size < off + (int64_t)len))
        return sbk_err(err, SBK_EDAMAGED, _("truncated: the file ends early"));
    if (e < 0)
        return sbk_err_errno(err, -e, _("cannot read"));
    return 0;
}

void sbk_bundle_quote(const char *name, size_t len, char *buf, size_t n)
{
    size_t o = 0;
    const char *p = name, *end = name + len;
    while (p < end && o + 8 < n) {
        if (o > 100) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        const char *q = p;
        int32_t cp = sbk_utf8_next(&q, end);
        if (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0)) {
            memcpy(buf + o, p, (size_t)(q - p));
            o += (size_t)(q - p);
            p = q;
        } else {
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", (unsigned char)*p);
            p++;
        }
    }
    buf[o < n ? o : n - 1] = '\0';
}

/* Find the end of central directory record in the last 64 KiB + 22 bytes:
 * the last signature whose comment ends exactly at EOF, or failing that the
 * last one followed by extra bytes (trailing garbage). */
static int find_eocd(int fd, int64_t size, int64_t *pos, int64_t *end, SbkError *err)
{
    int64_t tail = size < EOCD_SIZE + MAX_COMMENT ? size : EOCD_SIZE + MAX_COMMENT;
    unsigned char *buf = malloc((size_t)tail);
    int ret = 0;
    int64_t best = -1, best_end = 0;
    if (!buf)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    ret = read_at(fd, buf, (size_t)tail, size - tail, err);
    if (ret < 0)
        goto done;
    for (int64_t i = tail - EOCD_SIZE; i >= 0; i--) {
        if (memcmp(buf + i, "PK\5\6", 4) != 0)
            continue;
        int64_t e = size - tail + i + EOCD_SIZE + le16(buf + i + 20);
        if (e == size) {
            best = size - tail + i;
            best_end = e;
            break;
        }
        if (e < size && best < 0) {
            best = size - tail + i;
            best_end = e;
        }
    }
    if (best < 0) {
        ret = sbk_err(err, SBK_EDAMAGED, _("truncated: the end of the archive is missing"));
        goto done;
    }
    *pos = best;
    *end = best_end;
done:
    free(buf);
    return ret;
}

static int read_eocd(int fd, SbkZipDir *d, int64_t pos, uint64_t *entries, SbkError *err)
{
    unsigned char b[EOCD_SIZE];
    int ret = read_at(fd, b, sizeof b, pos, err);
    if (ret < 0)
        return ret;
    uint16_t disk = le16(b + 4), cd_disk = le16(b + 6);
    uint64_t n_disk = le16(b + 8), n = le16(b + 10);
    uint64_t cd_size = le32(b + 12), cd_off = le32(b + 16);
    int64_t cd_end = pos;
    int saturated = n == 0xffff || n_disk == 0xffff || cd_size == 0xffffffffu ||
                    cd_off == 0xffffffffu || disk == 0xffff || cd_disk == 0xffff;
    /* A ZIP64 locator right before the end record counts even when no classic
     * field is saturated: writers such as Python's zipfile add ZIP64 records
     * from 2 GiB on while still storing the real values in the classic record
     * (APPNOTE 4.4.1.4 allows it). Then the ZIP64 record is authoritative. */
    unsigned char loc[EOCD64_LOC_SIZE];
    int has_loc = 0;
    if (pos >= EOCD64_LOC_SIZE + EOCD64_SIZE) {
        if ((ret = read_at(fd, loc, sizeof loc, pos - EOCD64_LOC_SIZE, err)) < 0)
            return ret;
        has_loc = memcmp(loc, "PK\6\7", 4) == 0;
    }
    if (saturated && !has_loc)
        return sbk_err(err, SBK_EDAMAGED, _("the ZIP64 end of central directory is missing"));
    if (has_loc) {
        unsigned char r[EOCD64_SIZE];
        uint64_t c_n = n, c_size = cd_size, c_off = cd_off;
        uint64_t off64 = le64(loc + 8);
        if (off64 > (uint64_t)(pos - EOCD64_LOC_SIZE - EOCD64_SIZE))
            return sbk_err(err, SBK_EDAMAGED, _("the ZIP64 end of central directory is damaged"));
        if ((ret = read_at(fd, r, sizeof r, (int64_t)off64, err)) < 0)
            return ret;
        if (memcmp(r, "PK\6\6", 4) != 0)
            return sbk_err(err, SBK_EDAMAGED, _("the ZIP64 end of central directory is damaged"));
        disk = (uint16_t)(le32(r + 16) ? 1 : 0);
        cd_disk = (uint16_t)(le32(r + 20) ? 1 : 0);
        n_disk = le64(r + 24);
        n = le64(r + 32);
        cd_size = le64(r + 40);
        cd_off = le64(r + 48);
        cd_end = (int64_t)off64;
        d->zip64 = 1;
        /* Classic fields that are not saturated must agree with ZIP64's. */
        if ((c_n != 0xffff && c_n != n) || (c_size != 0xffffffffu && c_size != cd_size) ||
            (c_off != 0xffffffffu && c_off != cd_off))
            return sbk_err(err, SBK_EDAMAGED,
                           _("the two end of central directory records disagree"));
    }
    if (disk != 0 || cd_disk != 0 || n_disk != n)
        return sbk_err(err, SBK_EUNSUPPORTED, _("split (multi-part) archives are not supported"));
    if (cd_off > (uint64_t)cd_end || cd_size > (uint64_t)cd_end - cd_off)
        return sbk_err(err, SBK_EDAMAGED, _("truncated or damaged central directory"));
    if (cd_off + cd_size != (uint64_t)cd_end)
        return sbk_err(err, SBK_EDAMAGED,
                       _("damaged central directory (%lld unexpected bytes before the end record)"),
                       (long long)((uint64_t)cd_end - cd_off - cd_size));
    if (n > SBK_BUNDLE_MAX_ENTRIES)
        return sbk_err(err, SBK_ELIMIT, _("too many entries (%llu, at most %d)"), (unsigned long long)n,
                       SBK_BUNDLE_MAX_ENTRIES);
    if (cd_size > MAX_CD_BYTES)
        return sbk_err(err, SBK_ELIMIT, _("central directory too large (%llu bytes)"),
                       (unsigned long long)cd_size);
    d->cd_offset = (int64_t)cd_off;
    d->cd_size = (int64_t)cd_size;
    *entries = n;
    return 0;
}

/* Apply a ZIP64 extended information extra field (id 1) to a record: the
 * 64-bit values appear, in this order, only for fields that are saturated. */
static int apply_zip64(SbkZipRecord *r, const unsigned char *x, size_t xlen, int disk_sat)
{
    size_t i = 0;
    while (i + 4 <= xlen) {
        uint16_t id = le16(x + i), len = le16(x + i + 2);
        if (i + 4 + len > xlen)
            return -1;
        if (id == 1) {
            const unsigned char *p = x + i + 4, *e = p + len;
            if (r->usize == 0xffffffffu) {
                if (p + 8 > e)
                    return -1;
                r->usize = le64(p);
                p += 8;
            }
            if (r->csize == 0xffffffffu) {
                if (p + 8 > e)
                    return -1;
                r->csize = le64(p);
                p += 8;
            }
            if (r->lho == 0xffffffffu) {
                if (p + 8 > e)
                    return -1;
                r->lho = le64(p);
                p += 8;
            }
            (void)disk_sat;
            return 0;
        }
        i += 4 + (size_t)len;
    }
    return 0;
}

static int parse_cd(const unsigned char *cd, size_t cd_len, SbkZipDir *d, size_t n, SbkError *err)
{
    size_t off = 0;
    d->rec = calloc(n ? n : 1, sizeof *d->rec);
    if (!d->rec)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    for (size_t i = 0; i < n; i++) {
        if (off + CDH_SIZE > cd_len || memcmp(cd + off, "PK\1\2", 4) != 0)
            return sbk_err(err, SBK_EDAMAGED, _("damaged central directory (record %zu)"), i + 1);
        const unsigned char *h = cd + off;
        size_t nlen = le16(h + 28), xlen = le16(h + 30), clen = le16(h + 32);
        if (off + CDH_SIZE + nlen + xlen + clen > cd_len)
            return sbk_err(err, SBK_EDAMAGED, _("damaged central directory (record %zu)"), i + 1);
        SbkZipRecord *r = &d->rec[i];
        d->n = i + 1;
        r->made_by = le16(h + 4);
        r->flags = le16(h + 8);
        r->method = le16(h + 10);
        r->crc32 = le32(h + 16);
        r->csize = le32(h + 20);
        r->usize = le32(h + 24);
        r->ext_attr = le32(h + 38);
        r->lho = le32(h + 42);
        r->data_offset = -1;
        r->name_len = nlen;
        r->name = malloc(nlen + 1);
        if (!r->name)
            return sbk_err(err, SBK_ENOMEM, _("out of memory"));
        memcpy(r->name, h + CDH_SIZE, nlen);
        r->name[nlen] = '\0';
        if (apply_zip64(r, h + CDH_SIZE + nlen, xlen, le16(h + 34) == 0xffff) < 0)
            return sbk_err(err, SBK_EDAMAGED, _("damaged central directory (record %zu)"), i + 1);
        off += CDH_SIZE + nlen + xlen + clen;
    }
    if (off != cd_len)
        return sbk_err(err, SBK_EDAMAGED, _("damaged central directory (%zu records expected)"), n);
    return 0;
}

/* Read each local header: its signature, its name (must equal the central
 * directory's) and its extra length give where the data starts. */
static int locate_data(int fd, SbkZipDir *d, SbkError *err)
{
    unsigned char h[LFH_SIZE + 256];
    char q[160];
    for (size_t i = 0; i < d->n; i++) {
        SbkZipRecord *r = &d->rec[i];
        sbk_bundle_quote(r->name, r->name_len, q, sizeof q);
        if (r->lho > (uint64_t)d->cd_offset || (uint64_t)d->cd_offset - r->lho < LFH_SIZE)
            return sbk_err(err, SBK_EDAMAGED, _("entry \"%s\": local header is outside the archive"), q);
        size_t want = LFH_SIZE + (r->name_len < 256 ? r->name_len : 256);
        if ((uint64_t)d->cd_offset - r->lho < want)
            want = (size_t)((uint64_t)d->cd_offset - r->lho);
        int ret = read_at(fd, h, want, (int64_t)r->lho, err);
        if (ret < 0)
            return ret;
        if (memcmp(h, "PK\3\4", 4) != 0)
            return sbk_err(err, SBK_EDAMAGED, _("entry \"%s\": local header is missing or damaged"), q);
        size_t nlen = le16(h + 26), xlen = le16(h + 28);
        if (nlen != r->name_len || want < LFH_SIZE + nlen ||
            memcmp(h + LFH_SIZE, r->name, nlen) != 0)
            return sbk_err(err, SBK_EDAMAGED,
                           _("entry \"%s\": local header does not match the central directory"), q);
        if (le16(h + 8) != r->method)
            return sbk_err(err, SBK_EDAMAGED,
                           _("entry \"%s\": local header does not match the central directory"), q);
        uint64_t data = r->lho + LFH_SIZE + nlen + xlen;
        if (data > (uint64_t)d->cd_offset || r->csize > (uint64_t)d->cd_offset - data)
            return sbk_err(err, SBK_EDAMAGED, _("entry \"%s\": data runs past the end of the archive"), q);
        if (r->method == 0 && r->csize != r->usize)
            return sbk_err(err, SBK_EDAMAGED, _("entry \"%s\": stored sizes disagree"), q);
        r->data_offset = (int64_t)data;
    }
    return 0;
}

int sbk_zipdir_read(int fd, int64_t file_size, SbkZipDir *d, SbkError *err)
{
    memset(d, 0, sizeof *d);
    d->file_size = file_size;
    unsigned char magic[4] = {0};
    unsigned char *cd = NULL;
    int ret = 0;
    uint64_t n = 0;
    int64_t pos = 0, end = 0;
    if (file_size == 0)
        return sbk_err(err, SBK_EDAMAGED, _("empty file, not a zip archive"));
    if ((ret = read_at(fd, magic, file_size < 4 ? (size_t)file_size : 4, 0, err)) < 0)
        return ret;
    if (magic[0] != 'P' || magic[1] != 'K')
        return sbk_err(err, SBK_EDAMAGED, _("not a zip archive"));
    if ((ret = find_eocd(fd, file_size, &pos, &end, err)) < 0)
        return ret;
    d->end_offset = end;
    d->trailing = file_size - end;
    if ((ret = read_eocd(fd, d, pos, &n, err)) < 0)
        return ret;
    cd = malloc(d->cd_size ? (size_t)d->cd_size : 1);
    if (!cd)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    if ((ret = read_at(fd, cd, (size_t)d->cd_size, d->cd_offset, err)) < 0)
        goto done;
    if ((ret = parse_cd(cd, (size_t)d->cd_size, d, (size_t)n, err)) < 0)
        goto done;
    ret = locate_data(fd, d, err);
done:
    free(cd);
    if (ret < 0)
        sbk_zipdir_free(d);
    return ret;
}

void sbk_zipdir_free(SbkZipDir *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->rec[i].name);
    free(d->rec);
    d->rec = NULL;
    d->n = 0;
}

const char *sbk_zipdir_record_problem(const SbkZipRecord *r, char *buf, size_t n)
{
    char q[160];
    sbk_bundle_quote(r->name, r->name_len, q, sizeof q);
    unsigned host = r->made_by >> 8;
    unsigned mode = host == 3 ? r->ext_attr >> 16 : 0; /* 3: Unix */
    int dos_dir = host != 3 && (r->ext_attr & 0x10);
    if (r->name_len && r->name[r->name_len - 1] == '/')
        dos_dir = 1;
    if (S_ISDIR(mode) || dos_dir)
        snprintf(buf, n, _("entry \"%s\" is a directory"), q);
    else if (S_ISLNK(mode))
        snprintf(buf, n, _("entry \"%s\" is a symbolic link"), q);
    else if ((mode & S_IFMT) != 0 && !S_ISREG(mode))
        snprintf(buf, n, _("entry \"%s\" is not a regular file"), q);
    else if (strlen(r->name) != r->name_len || !sbk_path_entry_ok(r->name))
        snprintf(buf, n, _("entry \"%s\" has an unsafe name"), q);
    else if (r->flags & 1)
        snprintf(buf, n, _("entry \"%s\" is encrypted"), q);
    else if (r->method != 0 && r->method != 8)
        snprintf(buf, n, _("entry \"%s\" uses compression method %u, which sabak does not read"), q,
                 r->method);
    else
        return NULL;
    return buf;
}

const char *sbk_zipdir_minisig_problem(const SbkZipDir *d)
{
    for (size_t i = 0; i < d->n; i++) {
        if (!sbk_bundle_is_minisig(d->rec[i].name))
            continue;
        if (i == 0)
            return _("manifest.json.minisig comes before manifest.json (the signature must follow it)");
        if (i != 1 || strcmp(d->rec[0].name, SBK_MANIFEST_NAME) != 0)
            return _("manifest.json.minisig is not right after manifest.json");
    }
    return NULL;
}
