/* The bundle writer: a reproducible ZIP through libarchive.
 *
 * Reproducibility: libarchive's zip writer stores the DOS time from
 * localtime(3) of the entry's mtime, which would make the bytes depend on the
 * machine's time zone. So no time is set at all: libarchive then writes the
 * DOS minimum (1980-01-01 00:00:00) and an empty "UT" extra field on every
 * machine. Owner 0/0, mode 0644 regular, names flagged UTF-8, no comment. */
#include "bundle_internal.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BLOCK (1u << 20)

static int canceled(const volatile int *cancel) { return cancel && *cancel; }

/* libarchive keeps errno of a failed write(2) in archive_errno(). */
static int archive_fail(struct archive *a, const char *out_path, const char *what, SbkError *err)
{
    int e = archive_errno(a);
    if (e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS || e == EFBIG || e == EACCES)
        return sbk_err_errno(err, e, _("cannot write %s"), out_path);
    const char *s = archive_error_string(a);
    return sbk_err(err, SBK_EIO, _("cannot write %s: %s: %s"), out_path, what, s ? s : "libarchive error");
}

static int check_inputs(const SbkBundleInput *in, const SbkBundleSlice *slices, size_t n, SbkError *err)
{
    if (n > SBK_BUNDLE_MAX_ENTRIES)
        return sbk_err(err, SBK_ELIMIT, _("too many files for one bundle (%zu, at most %d)"), n,
                       SBK_BUNDLE_MAX_ENTRIES);
    for (size_t i = 0; i < n; i++) {
        if (!sbk_path_entry_ok(in[i].name))
            return sbk_err(err, SBK_EINVAL, _("bad entry name \"%.80s\""), in[i].name ? in[i].name : "(null)");
        if (!in[i].src_path && !in[i].data && !(slices && slices[i].fd >= 0) && in[i].len)
            return sbk_err(err, SBK_EINVAL, _("entry \"%s\" has neither a file nor data"), in[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(in[i].name, in[j].name) == 0)
                return sbk_err(err, SBK_EINVAL, _("entry \"%s\" is given twice"), in[i].name);
    }
    return 0;
}

static struct archive_entry *make_entry(const char *name, int64_t size)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return NULL;
    archive_entry_set_pathname_utf8(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, size);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    /* No mtime/atime/ctime/birthtime, no uname/gname: see the top comment. */
    return e;
}

/* Copy one file into the current entry in 1 MiB blocks. */
static int copy_file(struct archive *a, const SbkBundleInput *in, const SbkBundleSlice *sl, int fd,
                     int64_t size, char *buf,
                     const char *out_path, const volatile int *cancel, SbkError *err)
{
    int64_t done = 0;
    while (done < size) {
        if (canceled(cancel))
            return sbk_err(err, SBK_ECANCELED, _("interrupted"));
        size_t want = size - done < COPY_BLOCK ? (size_t)(size - done) : COPY_BLOCK;
        int64_t base = sl ? sl->offset : 0;
        const char *what = in->src_path ? in->src_path : in->name;
        ssize_t r = pread(fd, buf, want, (off_t)(base + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return sbk_err_errno(err, errno, _("cannot read %s"), what);
        }
        if (r == 0)
            return sbk_err(err, SBK_EIO, _("%s changed while it was being packed (it got shorter)"), what);
        la_ssize_t w = archive_write_data(a, buf, (size_t)r);
        if (w != r)
            return archive_fail(a, out_path, in->name, err);
        done += r;
    }
    return 0;
}

static int write_one(struct archive *a, const SbkBundleInput *in, const SbkBundleSlice *sl, char *buf,
                     const char *out_path,
                     const volatile int *cancel, SbkError *err)
{
    int fd = -1, ret = 0;
    int64_t size = (int64_t)in->len;
    struct archive_entry *e = NULL;
    if (in->src_path && !sl) {
        struct stat st;
        fd = open(in->src_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            ret = sbk_err_errno(err, errno, _("cannot open %s"), in->src_path);
            goto done;
        }
        if (fstat(fd, &st) < 0) {
            ret = sbk_err_errno(err, errno, _("cannot read %s"), in->src_path);
            goto done;
        }
        if (!S_ISREG(st.st_mode)) {
            ret = sbk_err(err, SBK_EINVAL, _("%s is not a regular file"), in->src_path);
            goto done;
        }
        size = st.st_size;
    }
    if ((in->store ? archive_write_zip_set_compression_store(a)
                   : archive_write_zip_set_compression_deflate(a)) != ARCHIVE_OK) {
        ret = archive_fail(a, out_path, in->name, err);
        goto done;
    }
    e = make_entry(in->name, size);
    if (!e) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        ret = archive_fail(a, out_path, in->name, err);
        goto done;
    }
    if (sl) {
        ret = copy_file(a, in, sl, sl->fd, size, buf, out_path, cancel, err);
        if (ret < 0)
            goto done;
    } else if (fd >= 0) {
        ret = copy_file(a, in, NULL, fd, size, buf, out_path, cancel, err);
        if (ret < 0)
            goto done;
    } else {
        const char *p = in->data;
        size_t left = in->len;
        while (left > 0) {
            if (canceled(cancel)) {
                ret = sbk_err(err, SBK_ECANCELED, _("interrupted"));
                goto done;
            }
            size_t chunk = left < COPY_BLOCK ? left : COPY_BLOCK;
            if (archive_write_data(a, p, chunk) != (la_ssize_t)chunk) {
                ret = archive_fail(a, out_path, in->name, err);
                goto done;
            }
            p += chunk;
            left -= chunk;
        }
    }
    if (archive_write_finish_entry(a) != ARCHIVE_OK) {
        ret = archive_fail(a, out_path, in->name, err);
        goto done;
    }
done:
    archive_entry_free(e);
    if (fd >= 0)
        close(fd);
    return ret;
}

int sbk_bundle_write(const char *out_path, const SbkBundleInput *in, size_t n,
                     const volatile int *cancel, SbkError *err)
{
    return sbk_bundle_write_slices(out_path, in, NULL, n, cancel, err);
}

int sbk_bundle_write_slices(const char *out_path, const SbkBundleInput *in, const SbkBundleSlice *slices,
                            size_t n, const volatile int *cancel, SbkError *err)
{
    SbkAtomicFile *af = NULL;
    struct archive *a = NULL;
    char *buf = NULL;
    SbkUtf8Locale loc;
    int ret = check_inputs(in, slices, n, err);
    if (ret < 0)
        return ret;
    sbk_bundle_locale_enter(&loc);
    buf = malloc(COPY_BLOCK);
    a = archive_write_new();
    if (!buf || !a) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto fail;
    }
    if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
        /* Flag names as UTF-8 whatever the locale, so that the bytes do not
         * depend on LANG and Cyrillic names unzip correctly on Windows. */
        archive_write_set_format_option(a, "zip", "hdrcharset", "UTF-8") != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a, 65536) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK) {
        ret = sbk_err(err, SBK_EIO, _("cannot set up the zip writer: %s"), archive_error_string(a));
        goto fail;
    }
    ret = sbk_atomic_open(&af, out_path, err);
    if (ret < 0)
        goto fail;
    if (archive_write_open_fd(a, sbk_atomic_fd(af)) != ARCHIVE_OK) {
        ret = archive_fail(a, out_path, "open", err);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (canceled(cancel)) {
            ret = sbk_err(err, SBK_ECANCELED, _("interrupted"));
            goto fail;
        }
        ret = write_one(a, &in[i], slices && slices[i].fd >= 0 ? &slices[i] : NULL, buf, out_path, cancel, err);
        if (ret < 0)
            goto fail;
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        ret = archive_fail(a, out_path, "central directory", err);
        goto fail;
    }
    archive_write_free(a);
    a = NULL;
    free(buf);
    buf = NULL;
    sbk_bundle_locale_leave(&loc);
    if (canceled(cancel)) {
        ret = sbk_err(err, SBK_ECANCELED, _("interrupted"));
        goto fail;
    }
    return sbk_atomic_commit(&af, err);
fail:
    if (a) {
        /* archive_write_free would close (and so finish) the archive; the
         * file is discarded anyway. */
        archive_write_free(a);
    }
    sbk_atomic_abort(&af);
    free(buf);
    sbk_bundle_locale_leave(&loc);
    return ret;
}
