/* The bundle reader: what the kiosk does for every bundle at scan time.
 *
 * Two independent readings of the same file must agree:
 *  - zipdir.c reads the ZIP structure itself (end record, central directory,
 *    local headers) to find each stored entry's data offset for sendfile;
 *  - libarchive (zip seekable reader only, no filters) lists the entries and
 *    decompresses manifest.json.
 * No entry data except manifest.json is read: hashing is sbk_bundle_verify's
 * job. All reads use pread(2) through libarchive callbacks, so the shared
 * descriptor's file position is never used and concurrent readers are safe. */
#include "bundle_internal.h"
#include "sabak/core.h"
#include "sabak/sign.h"
#include "sabak/i18n.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- locale ------------------------------------------------------------- */

void sbk_bundle_locale_enter(SbkUtf8Locale *l)
{
    l->old = (locale_t)0;
    /* only LC_CTYPE changes: built on a copy of the current locale, so the
     * messages made meanwhile keep their language (LC_MESSAGES) */
    locale_t base = duplocale(uselocale((locale_t)0));
    l->loc = base ? newlocale(LC_CTYPE_MASK, "C.UTF-8", base) : (locale_t)0;
    if (base && !l->loc)
        freelocale(base);
    if (l->loc)
        l->old = uselocale(l->loc);
}

void sbk_bundle_locale_leave(SbkUtf8Locale *l)
{
    if (l->loc) {
        uselocale(l->old);
        freelocale(l->loc);
        l->loc = (locale_t)0;
    }
}

/* ---- libarchive over pread ---------------------------------------------- */

typedef struct PreadSrc {
    int fd;
    int io_errno; /* the last failed pread's errno */
    int64_t pos, size;
    char buf[64 * 1024];
} PreadSrc;

static la_ssize_t src_read(struct archive *a, void *opaque, const void **out)
{
    PreadSrc *s = opaque;
    for (;;) {
        ssize_t n = pread(s->fd, s->buf, sizeof s->buf, (off_t)s->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            s->io_errno = errno;
            archive_set_error(a, errno, "read error");
            return -1;
        }
        s->pos += n;
        *out = s->buf;
        return n;
    }
}

static la_int64_t src_seek(struct archive *a, void *opaque, la_int64_t off, int whence)
{
    PreadSrc *s = opaque;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->pos : s->size;
    if (base + off < 0) {
        archive_set_error(a, EINVAL, "seek before start");
        return ARCHIVE_FATAL;
    }
    s->pos = base + off;
    return s->pos;
}

static la_int64_t src_skip(struct archive *a, void *opaque, la_int64_t n)
{
    PreadSrc *s = opaque;
    (void)a;
    s->pos += n;
    return n;
}

int sbk_bundle_archive_open(int fd, int64_t size, struct archive **out, void **src_out)
{
    *out = NULL;
    *src_out = NULL;
    PreadSrc *s = malloc(sizeof *s);
    struct archive *a = archive_read_new();
    if (!s || !a) {
        free(s);
        archive_read_free(a);
        return SBK_ENOMEM;
    }
    s->fd = fd;
    s->io_errno = 0;
    s->pos = 0;
    s->size = size;
    archive_read_support_format_zip_seekable(a);
    archive_read_set_read_callback(a, src_read);
    archive_read_set_seek_callback(a, src_seek);
    archive_read_set_skip_callback(a, src_skip);
    archive_read_set_callback_data(a, s);
    *out = a;
    *src_out = s;
    if (archive_read_open1(a) != ARCHIVE_OK)
        return SBK_EDAMAGED;
    return 0;
}

int sbk_bundle_archive_io_errno(const void *src)
{
    return src ? ((const PreadSrc *)src)->io_errno : 0;
}

/* ---- open --------------------------------------------------------------- */

static int damaged(SbkError *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int damaged(SbkError *err, const char *path, const char *fmt, ...)
{
    char prefix[SBK_ERROR_MAX];
    snprintf(prefix, sizeof prefix, "%s: ", path);
    va_list ap;
    va_start(ap, fmt);
    int ret = sbk_errv(err, SBK_EDAMAGED, prefix, fmt, ap);
    va_end(ap);
    return ret;
}

/* The current entry's data, exactly len bytes, into buf (len + 1 bytes,
 * NUL-terminated). A read error, a WARN (a CRC or size mismatch: the data is
 * not what was written) or any other length is "<what> is damaged". */
static int read_exact(struct archive *a, char *buf, size_t len, const char *path, const char *what,
                      SbkError *err)
{
    size_t got = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf + got, len + 1 - got);
        if (n < 0) {
            const char *s = archive_error_string(a);
            return damaged(err, path, _("%s is damaged: %s"), what, s ? s : "read error");
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > len)
            return damaged(err, path, _("%s is damaged: longer than its recorded size"), what);
    }
    if (got != len)
        return damaged(err, path, _("%s is damaged: shorter than its recorded size"), what);
    buf[len] = '\0';
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    const SbkBundleEntry *x = *(SbkBundleEntry *const *)a, *y = *(SbkBundleEntry *const *)b;
    return strcmp(x->name, y->name);
}

/* Names, types, duplicates, and manifest.json first. */
static int check_records(const SbkZipDir *d, const char *path, SbkError *err)
{
    char buf[512];
    for (size_t i = 0; i < d->n; i++)
        if (sbk_zipdir_record_problem(&d->rec[i], buf, sizeof buf))
            return damaged(err, path, "%s", buf);
    const char *sp = sbk_zipdir_minisig_problem(d);
    if (sp)
        return damaged(err, path, "%s", sp);
    if (d->n == 0 || strcmp(d->rec[0].name, SBK_MANIFEST_NAME) != 0) {
        for (size_t i = 1; i < d->n; i++)
            if (strcmp(d->rec[i].name, SBK_MANIFEST_NAME) == 0)
                return damaged(err, path, _("manifest.json is not the first entry"));
        return damaged(err, path, _("manifest.json is missing"));
    }
    return 0;
}

static int check_duplicates(SbkBundle *b, SbkError *err)
{
    if (b->n_entries < 2)
        return 0;
    SbkBundleEntry **v = malloc(b->n_entries * sizeof *v);
    if (!v)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    for (size_t i = 0; i < b->n_entries; i++)
        v[i] = &b->entries[i];
    qsort(v, b->n_entries, sizeof *v, cmp_names);
    int ret = 0;
    for (size_t i = 1; i < b->n_entries; i++) {
        if (strcmp(v[i - 1]->name, v[i]->name) == 0) {
            char q[160];
            sbk_bundle_quote(v[i]->name, strlen(v[i]->name), q, sizeof q);
            ret = damaged(err, b->path, _("entry \"%s\" appears twice"), q);
            break;
        }
    }
    free(v);
    return ret;
}

/* manifest.json.minisig, the second entry, into b->minisig. */
static int read_minisig(struct archive *a, SbkBundle *b, SbkError *err)
{
    if (b->entries[1].size > SBK_MINISIG_MAX_BYTES)
        return damaged(err, b->path, _("%s is too large (%lld bytes)"), SBK_MINISIG_NAME,
                       (long long)b->entries[1].size);
    size_t len = (size_t)b->entries[1].size;
    b->minisig = malloc(len + 1);
    if (!b->minisig)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    int ret = read_exact(a, b->minisig, len, b->path, SBK_MINISIG_NAME, err);
    if (ret < 0)
        return ret;
    b->minisig_len = len;
    return 0;
}

/* libarchive's view: the same entries, in the same order, regular files;
 * and the decompressed manifest.json (first entry). */
static int read_with_libarchive(SbkBundle *b, char **manifest, size_t *mlen, SbkError *err)
{
    struct archive *a = NULL;
    void *src = NULL;
    struct archive_entry *e = NULL;
    char *buf = NULL;
    size_t len = 0;
    SbkUtf8Locale loc;
    sbk_bundle_locale_enter(&loc);
    int ret = sbk_bundle_archive_open(b->fd, b->file_size, &a, &src);
    if (ret == SBK_ENOMEM) {
        ret = sbk_err(err, ret, _("out of memory"));
        goto done;
    }
    if (ret < 0) {
        ret = damaged(err, b->path, "%s", archive_error_string(a) ? archive_error_string(a) : _("not a zip archive"));
        goto done;
    }
    for (size_t i = 0;; i++) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) {
            if (i != b->n_entries)
                ret = damaged(err, b->path, _("damaged central directory (%zu of %zu entries readable)"), i,
                              b->n_entries);
            break;
        }
        if (r != ARCHIVE_OK || i >= b->n_entries) {
            const char *s = archive_error_string(a);
            ret = damaged(err, b->path, _("damaged archive: %s"), s ? s : "unexpected entry");
            goto done;
        }
        const char *name = archive_entry_pathname_utf8(e);
        if (!name)
            name = archive_entry_pathname(e);
        if (!name || strcmp(name, b->entries[i].name) != 0 || archive_entry_filetype(e) != AE_IFREG ||
            archive_entry_hardlink(e) || archive_entry_symlink(e) ||
            (archive_entry_size_is_set(e) && archive_entry_size(e) != b->entries[i].size)) {
            char q[160];
            sbk_bundle_quote(b->entries[i].name, strlen(b->entries[i].name), q, sizeof q);
            ret = damaged(err, b->path, _("entry \"%s\" is damaged (its headers disagree)"), q);
            goto done;
        }
        if (i == 1 && sbk_bundle_is_minisig(name)) {
            ret = read_minisig(a, b, err);
            if (ret < 0)
                goto done;
            continue;
        }
        if (i > 0)
            continue;
        /* manifest.json */
        if (b->entries[0].size > SBK_MANIFEST_MAX_BYTES) {
            ret = sbk_err(err, SBK_ELIMIT, _("%s: manifest.json is too large (%lld bytes, limit %u)"),
                          b->path, (long long)b->entries[0].size, SBK_MANIFEST_MAX_BYTES);
            goto done;
        }
        len = (size_t)b->entries[0].size;
        buf = malloc(len + 1);
        if (!buf) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
            goto done;
        }
        ret = read_exact(a, buf, len, b->path, SBK_MANIFEST_NAME, err);
        if (ret < 0)
            goto done;
    }
    *manifest = buf;
    *mlen = len;
    buf = NULL;
done:
    free(buf);
    archive_read_free(a);
    free(src);
    sbk_bundle_locale_leave(&loc);
    return ret;
}

/* Every manifest file is an entry of the same size; every entry but
 * manifest.json is in the manifest. */
static int match_manifest(SbkBundle *b, SbkError *err)
{
    const SbkManifest *m = b->manifest;
    char q[160];
    for (int i = 0; i < m->n_files; i++) {
        const SbkManifestFile *f = &m->files[i];
        const SbkBundleEntry *e = sbk_bundle_find(b, f->path);
        sbk_bundle_quote(f->path, strlen(f->path), q, sizeof q);
        if (!e)
            return damaged(err, b->path, _("\"%s\" is listed in manifest.json but missing from the archive"), q);
        if (e->size != f->size)
            return damaged(err, b->path, _("\"%s\" is %lld bytes, manifest.json says %lld"), q,
                           (long long)e->size, (long long)f->size);
    }
    for (size_t i = 1; i < b->n_entries; i++) {
        if (i == 1 && sbk_bundle_is_minisig(b->entries[i].name))
            continue; /* the signature, never listed */
        if (!sbk_manifest_find(m, b->entries[i].name)) {
            sbk_bundle_quote(b->entries[i].name, strlen(b->entries[i].name), q, sizeof q);
            return damaged(err, b->path, _("entry \"%s\" is not listed in manifest.json"), q);
        }
    }
    return 0;
}

static int fill_entries(SbkBundle *b, const SbkZipDir *d, SbkError *err)
{
    b->entries = calloc(d->n ? d->n : 1, sizeof *b->entries);
    if (!b->entries)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    for (size_t i = 0; i < d->n; i++) {
        SbkBundleEntry *e = &b->entries[i];
        const SbkZipRecord *r = &d->rec[i];
        e->name = strdup(r->name);
        if (!e->name)
            return sbk_err(err, SBK_ENOMEM, _("out of memory"));
        b->n_entries = i + 1;
        if (r->usize > INT64_MAX || r->csize > INT64_MAX)
            return damaged(err, b->path, _("entry \"%s\" has an impossible size"), e->name);
        e->size = (int64_t)r->usize;
        e->csize = (int64_t)r->csize;
        e->stored = r->method == 0;
        e->offset = e->stored ? r->data_offset : -1;
        e->data_offset = r->data_offset;
        e->crc32 = r->crc32;
    }
    return 0;
}

int sbk_bundle_open(const char *path, SbkBundle **out, SbkError *err)
{
    *out = NULL;
    SbkZipDir dir = {0};
    char *mjson = NULL;
    size_t mlen = 0;
    struct stat st;
    int ret = 0;
    SbkBundle *b = calloc(1, sizeof *b);
    if (!b || !(b->path = strdup(path))) {
        free(b);
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    }
    b->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (b->fd < 0) {
        ret = sbk_err_errno(err, errno, _("cannot open %s"), path);
        goto fail;
    }
    if (fstat(b->fd, &st) < 0) {
        ret = sbk_err_errno(err, errno, _("cannot read %s"), path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        ret = sbk_err(err, SBK_EINVAL, _("%s is not a regular file"), path);
        goto fail;
    }
    b->file_size = st.st_size;
    b->mtime = st.st_mtime;
    b->dev = st.st_dev;
    b->ino = st.st_ino;
    ret = sbk_zipdir_read(b->fd, b->file_size, &dir, err);
    if (ret < 0) {
        sbk_err_prefix(err, "%s", path);
        goto fail;
    }
    if (dir.trailing > 0) {
        ret = damaged(err, path, _("%lld bytes of unexpected data after the end of the archive"),
                      (long long)dir.trailing);
        goto fail;
    }
    if ((ret = check_records(&dir, path, err)) < 0 || (ret = fill_entries(b, &dir, err)) < 0 ||
        (ret = check_duplicates(b, err)) < 0 || (ret = read_with_libarchive(b, &mjson, &mlen, err)) < 0)
        goto fail;
    sbk_sha256_hex(mjson, mlen, b->manifest_sha256);
    sbk_sign_prehash(mjson, mlen, b->manifest_prehash);
    ret = sbk_manifest_parse(mjson, mlen, &b->manifest, err);
    if (ret < 0) {
        sbk_err_prefix(err, "%s", path);
        goto fail;
    }
    if ((ret = match_manifest(b, err)) < 0)
        goto fail;
    free(mjson);
    sbk_zipdir_free(&dir);
    *out = b;
    return 0;
fail:
    free(mjson);
    sbk_zipdir_free(&dir);
    sbk_bundle_close(&b);
    return ret;
}

const SbkBundleEntry *sbk_bundle_find(const SbkBundle *b, const char *name)
{
    if (!b || !name)
        return NULL;
    for (size_t i = 0; i < b->n_entries; i++)
        if (strcmp(b->entries[i].name, name) == 0)
            return &b->entries[i];
    return NULL;
}

/* ---- read one entry ----------------------------------------------------- */

int sbk_bundle_read_entry(const SbkBundle *b, const char *name, size_t max, char **out,
                          size_t *out_len, SbkError *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    const SbkBundleEntry *want = sbk_bundle_find(b, name);
    if (!want)
        return sbk_err(err, SBK_ENOENT, _("%s: no entry \"%s\""), b->path, name);
    if (want->size < 0 || (uint64_t)want->size > max)
        return sbk_err(err, SBK_ELIMIT, _("%s: entry \"%s\" is too large (%lld bytes, limit %zu)"), b->path,
                       name, (long long)want->size, max);
    struct archive *a = NULL;
    void *src = NULL;
    struct archive_entry *e = NULL;
    size_t len = (size_t)want->size;
    SbkUtf8Locale loc;
    sbk_bundle_locale_enter(&loc);
    char *buf = malloc(len + 1);
    int ret = buf ? sbk_bundle_archive_open(b->fd, b->file_size, &a, &src) : SBK_ENOMEM;
    if (ret == SBK_ENOMEM) {
        ret = sbk_err(err, ret, _("out of memory"));
        goto done;
    }
    if (ret < 0) {
        ret = damaged(err, b->path, "%s", archive_error_string(a));
        goto done;
    }
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) {
            ret = sbk_err(err, SBK_ENOENT, _("%s: no entry \"%s\""), b->path, name);
            goto done;
        }
        if (r != ARCHIVE_OK) {
            ret = damaged(err, b->path, _("damaged archive: %s"), archive_error_string(a));
            goto done;
        }
        const char *n = archive_entry_pathname_utf8(e);
        if (n && strcmp(n, name) == 0)
            break;
    }
    char what[SBK_ERROR_MAX / 2];
    snprintf(what, sizeof what, "entry \"%s\"", name);
    ret = read_exact(a, buf, len, b->path, what, err);
    if (ret < 0)
        goto done;
    *out = buf;
    buf = NULL;
    if (out_len)
        *out_len = len;
done:
    free(buf);
    archive_read_free(a);
    free(src);
    sbk_bundle_locale_leave(&loc);
    return ret;
}

void sbk_bundle_close(SbkBundle **pb)
{
    if (!pb || !*pb)
        return;
    SbkBundle *b = *pb;
    if (b->fd >= 0)
        close(b->fd);
    for (size_t i = 0; i < b->n_entries; i++)
        free(b->entries[i].name);
    free(b->entries);
    sbk_manifest_free(&b->manifest);
    free(b->minisig);
    free(b->path);
    free(b);
    *pb = NULL;
}
