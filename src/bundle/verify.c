/* sbk_bundle_verify: the full check of a bundle, entry data included.
 *
 * libarchive reads with the *seekable* zip reader (and no other format or
 * filter): the central directory is what the kiosk, unzip and Windows use
 * to find entries, so it is what must be checked; a streaming reader would
 * walk local headers only and miss entries that exist only in the central
 * directory. The seekable reader still reads every local header and checks
 * each entry's CRC-32 and sizes as its data goes by (a mismatch is an
 * ARCHIVE_WARN, which counts as a failure here). Our own structure reading
 * (zipdir.c) adds what libarchive tolerates: trailing garbage, a central
 * directory that does not end where the end record says, local headers that
 * disagree with the central directory. Every entry is hashed (SHA-256) while
 * it streams and compared with manifest.json.
 *
 * A failing read(2) is not a verdict on the bundle (EIO from a flaky drive,
 * a descriptor shortage): it stops the check with SBK_EIO, never
 * SBK_EDAMAGED, so that a caller keeping verdicts (the kiosk's verify cache)
 * can try again later. `cancel` is polled once per data block (64 KiB). */
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

typedef struct Verify {
    SbkProblemFn fn;
    void *opaque;
    int problems;
    /* per central directory record */
    char (*sha)[SBK_SHA256_HEX];
    int64_t *bytes;
    int *read_ok;
    char *manifest;
    size_t manifest_len;
    char *minisig;        /* manifest.json.minisig, when it is the second entry */
    size_t minisig_len;
    const volatile int *cancel;
    int canceled;
    int io_errno;         /* a read failed: no verdict */
    void *src;            /* the archive's read source (for its errno) */
    const SbkTrust *trust;
    SbkSignInfo *sig;
} Verify;

static int canceled(Verify *v)
{
    if (v->cancel && __atomic_load_n(v->cancel, __ATOMIC_RELAXED))
        v->canceled = 1;
    return v->canceled;
}

/* 1 when libarchive failed because reading the file failed. */
static int io_failed(Verify *v)
{
    int e = v->src ? sbk_bundle_archive_io_errno(v->src) : 0;
    if (e && !v->io_errno)
        v->io_errno = e;
    return v->io_errno != 0;
}

static void report(Verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(Verify *v, const char *fmt, ...)
{
    SbkError line; /* one line: sbk_errv makes it so */
    va_list ap;
    va_start(ap, fmt);
    sbk_errv(&line, SBK_EDAMAGED, NULL, fmt, ap);
    va_end(ap);
    v->problems++;
    if (v->fn)
        v->fn(v->opaque, line.msg);
}

static int find_record(const SbkZipDir *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->rec[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void check_structure(Verify *v, const SbkZipDir *d)
{
    char buf[512], q[160];
    if (d->trailing > 0)
        report(v, _("%lld bytes of unexpected data after the end of the archive"), (long long)d->trailing);
    for (size_t i = 0; i < d->n; i++) {
        if (sbk_zipdir_record_problem(&d->rec[i], buf, sizeof buf))
            report(v, "%s", buf);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(d->rec[i].name, d->rec[j].name) == 0) {
                sbk_bundle_quote(d->rec[i].name, d->rec[i].name_len, q, sizeof q);
                report(v, _("entry \"%s\" appears twice"), q);
                break;
            }
        }
    }
    int m = find_record(d, SBK_MANIFEST_NAME);
    if (m < 0)
        report(v, _("manifest.json is missing"));
    else if (m > 0)
        report(v, _("manifest.json is not the first entry"));
    const char *sp = sbk_zipdir_minisig_problem(d);
    if (sp)
        report(v, "%s", sp);
}

/* Stream one entry's data: hash it, count it, keep it in *keep (up to max
 * bytes) when keep is not NULL. Returns -1 when the archive cannot be read
 * further. */
static int stream_entry(Verify *v, struct archive *a, int idx, char **keep, size_t *keep_len,
                        int64_t max, const char *q)
{
    SbkSha256 h;
    sbk_sha256_init(&h);
    int64_t total = 0;
    int damaged = 0;
    for (;;) {
        const void *buf;
        size_t len = 0;
        la_int64_t off;
        if (canceled(v))
            return -1;
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_OK && io_failed(v))
            return -1;
        if (r < ARCHIVE_WARN) {
            const char *s = archive_error_string(a);
            report(v, _("entry \"%s\" is damaged: %s"), q, s ? s : _("read error"));
            return r == ARCHIVE_FATAL ? -1 : 0;
        }
        if (len) {
            if (off != total) {
                /* sparse/holes never occur in a zip; treat as damage */
                report(v, _("entry \"%s\" is damaged: unexpected data offset"), q);
                return 0;
            }
            sbk_sha256_update(&h, buf, len);
            if (keep && total + (int64_t)len <= max) {
                char *nb = realloc(*keep, (size_t)total + len + 1);
                if (nb) {
                    *keep = nb;
                    memcpy(nb + total, buf, len);
                    nb[total + (int64_t)len] = '\0';
                    *keep_len = (size_t)total + len;
                }
            }
            total += (int64_t)len;
        }
        if (r == ARCHIVE_WARN) {
            const char *s = archive_error_string(a);
            report(v, _("entry \"%s\" is damaged: %s"), q, s ? s : _("CRC mismatch"));
            damaged = 1;
        }
    }
    if (idx >= 0) {
        sbk_sha256_final_hex(&h, v->sha[idx]);
        v->bytes[idx] = total;
        v->read_ok[idx] = !damaged;
    }
    return 0;
}

static void stream_all(Verify *v, int fd, int64_t size, const SbkZipDir *d)
{
    struct archive *a = NULL;
    void *src = NULL;
    struct archive_entry *e = NULL;
    char q[160];
    size_t seen = 0;
    SbkUtf8Locale loc;
    sbk_bundle_locale_enter(&loc);
    int r = sbk_bundle_archive_open(fd, size, &a, &src);
    v->src = src;
    if (r < 0 && io_failed(v))
        goto done;
    if (r < 0) {
        const char *s = a ? archive_error_string(a) : NULL;
        report(v, _("libarchive cannot read the archive: %s"), s ? s : sbk_strerror(r));
        goto done;
    }
    for (;;) {
        if (canceled(v))
            goto done;
        r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_OK && io_failed(v))
            goto done;
        if (r < ARCHIVE_WARN) {
            const char *s = archive_error_string(a);
            report(v, _("damaged archive: %s"), s ? s : _("cannot read the next entry"));
            if (r == ARCHIVE_FATAL)
                goto done;
            continue;
        }
        seen++;
        const char *name = archive_entry_pathname_utf8(e);
        if (!name)
            name = archive_entry_pathname(e);
        if (!name)
            name = "";
        sbk_bundle_quote(name, strlen(name), q, sizeof q);
        if (r == ARCHIVE_WARN) {
            const char *s = archive_error_string(a);
            report(v, _("entry \"%s\": %s"), q, s ? s : "warning");
        }
        int idx = find_record(d, name);
        if (archive_entry_filetype(e) != AE_IFREG)
            continue; /* reported from the central directory */
        int r2;
        if (idx == 0 && strcmp(name, SBK_MANIFEST_NAME) == 0)
            r2 = stream_entry(v, a, idx, &v->manifest, &v->manifest_len, SBK_MANIFEST_MAX_BYTES, q);
        else if (idx == 1 && sbk_bundle_is_minisig(name))
            r2 = stream_entry(v, a, idx, &v->minisig, &v->minisig_len, SBK_MINISIG_MAX_BYTES, q);
        else
            r2 = stream_entry(v, a, idx, NULL, NULL, 0, q);
        if (r2 < 0)
            goto done;
    }
    if (seen != d->n)
        report(v, _("libarchive sees %zu entries, the central directory lists %zu"), seen, d->n);
done:
    archive_read_free(a);
    v->src = NULL;
    free(src);
    sbk_bundle_locale_leave(&loc);
}

/* The signature: damage or a bad signature is a problem; an unknown key or
 * none is not (the caller's policy decides). */
static void check_signature(Verify *v, const SbkZipDir *d, const SbkManifest *m)
{
    SbkSignInfo tmp, *out = v->sig ? v->sig : &tmp;
    unsigned char prehash[64];
    int has = d->n > 1 && sbk_bundle_is_minisig(d->rec[1].name);
    if (has && !v->read_ok[1]) {
        memset(out, 0, sizeof *out);
        out->state = SBK_SIG_BAD;
        snprintf(out->reason, sizeof out->reason, "%s is damaged", SBK_MINISIG_NAME);
        return; /* its damage is already reported */
    }
    if (has && (int64_t)d->rec[1].usize > SBK_MINISIG_MAX_BYTES) {
        memset(out, 0, sizeof *out);
        out->state = SBK_SIG_BAD;
        snprintf(out->reason, sizeof out->reason, "%s is too large", SBK_MINISIG_NAME);
        report(v, "%s", out->reason);
        return;
    }
    sbk_sign_prehash(v->manifest, v->manifest_len, prehash);
    sbk_sign_check(v->trust, prehash, m, has ? (v->minisig ? v->minisig : "") : NULL,
                   has ? v->minisig_len : 0, out);
    if (out->state == SBK_SIG_BAD)
        report(v, "%s", out->reason);
}

static void check_manifest(Verify *v, const SbkZipDir *d)
{
    SbkManifest *m = NULL;
    SbkError err = {0};
    char q[160];
    if (d->n == 0 || strcmp(d->rec[0].name, SBK_MANIFEST_NAME) != 0)
        return; /* already reported */
    if (!v->read_ok[0] || !v->manifest)
        return; /* damaged entry, already reported */
    if (d->rec[0].usize > SBK_MANIFEST_MAX_BYTES) {
        report(v, _("manifest.json is too large (%llu bytes, limit %u)"), (unsigned long long)d->rec[0].usize,
               SBK_MANIFEST_MAX_BYTES);
        return;
    }
    if (sbk_manifest_parse(v->manifest, v->manifest_len, &m, &err) < 0) {
        report(v, "%s", err.msg);
        return;
    }
    for (int i = 0; i < m->n_files; i++) {
        const SbkManifestFile *f = &m->files[i];
        int idx = find_record(d, f->path);
        sbk_bundle_quote(f->path, strlen(f->path), q, sizeof q);
        if (idx < 0) {
            report(v, _("\"%s\" is listed in manifest.json but missing from the archive"), q);
            continue;
        }
        if ((int64_t)d->rec[idx].usize != f->size) {
            report(v, _("\"%s\" is %llu bytes, manifest.json says %lld"), q,
                   (unsigned long long)d->rec[idx].usize, (long long)f->size);
            continue;
        }
        if (!v->read_ok[idx])
            continue; /* its damage is already reported */
        if (strcmp(v->sha[idx], f->sha256) != 0)
            report(v, _("\"%s\": SHA-256 does not match manifest.json (damaged or altered)"), q);
    }
    for (size_t i = 1; i < d->n; i++) {
        if (i == 1 && sbk_bundle_is_minisig(d->rec[i].name))
            continue; /* the signature, never listed */
        if (!sbk_manifest_find(m, d->rec[i].name)) {
            sbk_bundle_quote(d->rec[i].name, d->rec[i].name_len, q, sizeof q);
            report(v, _("entry \"%s\" is not listed in manifest.json"), q);
        }
    }
    check_signature(v, d, m);
    sbk_manifest_free(&m);
}

int sbk_bundle_verify(const char *path, SbkProblemFn problem, void *opaque)
{
    return sbk_bundle_verify_ex(path, problem, opaque, NULL);
}

int sbk_bundle_verify_ex(const char *path, SbkProblemFn problem, void *opaque,
                         const volatile int *cancel)
{
    return sbk_bundle_verify_signed(path, NULL, NULL, problem, opaque, cancel);
}

int sbk_bundle_verify_signed(const char *path, const SbkTrust *trust, SbkSignInfo *sig,
                             SbkProblemFn problem, void *opaque, const volatile int *cancel)
{
    Verify v = {.fn = problem, .opaque = opaque, .cancel = cancel, .trust = trust, .sig = sig};
    if (sig) {
        memset(sig, 0, sizeof *sig);
        sig->state = SBK_SIG_BAD;
        snprintf(sig->reason, sizeof sig->reason, "the manifest could not be read");
    }
    SbkZipDir d = {0};
    SbkError err = {0};
    struct stat st;
    int ret = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ret = sbk_err_errno(&err, errno, _("cannot open"));
        report(&v, "%s", err.msg);
        return ret;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        report(&v, _("not a regular file"));
        close(fd);
        return SBK_EINVAL;
    }
    ret = sbk_zipdir_read(fd, st.st_size, &d, &err);
    if (ret < 0) {
        report(&v, "%s", err.msg);
        goto done;
    }
    check_structure(&v, &d);
    v.sha = calloc(d.n ? d.n : 1, sizeof *v.sha);
    v.bytes = calloc(d.n ? d.n : 1, sizeof *v.bytes);
    v.read_ok = calloc(d.n ? d.n : 1, sizeof *v.read_ok);
    if (!v.sha || !v.bytes || !v.read_ok) {
        report(&v, _("out of memory"));
        ret = SBK_ENOMEM;
        goto done;
    }
    stream_all(&v, fd, st.st_size, &d);
    if (v.canceled) {
        ret = SBK_ECANCELED; /* no verdict, no report */
        goto done;
    }
    if (v.io_errno) {
        /* Reported as its own line: what came before it may be damage
         * caused by the failing reads, so it is not a verdict either. */
        ret = sbk_err_errno(&err, v.io_errno, _("cannot read"));
        report(&v, "%s", err.msg);
        goto done;
    }
    check_manifest(&v, &d);
    ret = v.problems ? SBK_EDAMAGED : 0;
done:
    free(v.sha);
    free(v.bytes);
    free(v.read_ok);
    free(v.manifest);
    free(v.minisig);
    sbk_zipdir_free(&d);
    close(fd);
    return ret;
}
