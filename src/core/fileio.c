#include "sabak/core.h"
#include "sabak/i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct SbkAtomicFile {
    int fd;
    char *path;
    char *tmp;
};

int sbk_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sbk_pread_all(int fd, void *buf, size_t len, off_t off)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *d = strdup(dirname(copy));
    free(copy);
    return d;
}

int sbk_atomic_open(SbkAtomicFile **out, const char *path, SbkError *err)
{
    *out = NULL;
    SbkAtomicFile *af = calloc(1, sizeof *af);
    char *dir = dir_of(path);
    int ret = SBK_ENOMEM;
    if (!af || !dir)
        goto fail;
    af->fd = -1;
    af->path = strdup(path);
    size_t n = strlen(dir) + strlen(sbk_path_base(path)) + 48;
    af->tmp = malloc(n);
    if (!af->path || !af->tmp)
        goto fail;
    /* The pid lets the next `sabak pack` remove what a killed one left
     * (src/media/pack_output.c). */
    snprintf(af->tmp, n, "%s/.%s.tmp-%ld-XXXXXX", dir, sbk_path_base(path), (long)getpid());
    af->fd = mkostemp(af->tmp, O_CLOEXEC);
    if (af->fd < 0) {
        ret = sbk_err_errno(err, errno, _("cannot write in folder %s"), dir);
        goto fail;
    }
    fchmod(af->fd, 0644);
    free(dir);
    *out = af;
    return 0;
fail:
    if (ret == SBK_ENOMEM)
        sbk_err(err, ret, _("out of memory"));
    free(dir);
    if (af) {
        free(af->path);
        free(af->tmp);
        free(af);
    }
    return ret;
}

int sbk_atomic_fd(const SbkAtomicFile *af) { return af->fd; }
const char *sbk_atomic_tmp_path(const SbkAtomicFile *af) { return af->tmp; }

static void af_free(SbkAtomicFile **paf)
{
    SbkAtomicFile *af = *paf;
    if (!af)
        return;
    if (af->fd >= 0)
        close(af->fd);
    free(af->path);
    free(af->tmp);
    free(af);
    *paf = NULL;
}

void sbk_atomic_abort(SbkAtomicFile **paf)
{
    if (!paf || !*paf)
        return;
    unlink((*paf)->tmp);
    af_free(paf);
}

int sbk_atomic_commit(SbkAtomicFile **paf, SbkError *err)
{
    SbkAtomicFile *af = *paf;
    int ret = 0;
    if (fsync(af->fd) < 0) {
        ret = sbk_err_errno(err, errno, _("cannot write %s"), af->path);
        goto fail;
    }
    if (close(af->fd) < 0) {
        af->fd = -1;
        ret = sbk_err_errno(err, errno, _("cannot write %s"), af->path);
        goto fail;
    }
    af->fd = -1;
    if (rename(af->tmp, af->path) < 0) {
        ret = sbk_err_errno(err, errno, _("cannot create %s"), af->path);
        goto fail;
    }
    char *dir = dir_of(af->path);
    if (dir) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd); /* best effort: some filesystems refuse fsync on dirs */
            close(dfd);
        }
        free(dir);
    }
    af_free(paf);
    return 0;
fail:
    sbk_atomic_abort(paf);
    return ret;
}

int sbk_atomic_write_file(const char *path, const void *data, size_t len, SbkError *err)
{
    SbkAtomicFile *af = NULL;
    int ret = sbk_atomic_open(&af, path, err);
    if (ret < 0)
        return ret;
    int e = sbk_write_all(sbk_atomic_fd(af), data, len);
    if (e < 0) {
        ret = sbk_err_errno(err, -e, _("cannot write %s"), path);
        sbk_atomic_abort(&af);
        return ret;
    }
    return sbk_atomic_commit(&af, err);
}

int sbk_read_fd(int fd, int64_t size, const char *name, size_t max_len, char **out, size_t *len,
                SbkError *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    if (size < 0 || (uint64_t)size > max_len)
        return sbk_err(err, SBK_ELIMIT, _("%s is too large (%lld bytes, limit %zu)"), name,
                       (long long)size, max_len);
    size_t n = (size_t)size;
    char *buf = malloc(n + 1);
    if (!buf)
        return sbk_err(err, SBK_ENOMEM, _("out of memory reading %s"), name);
    int e = n ? sbk_pread_all(fd, buf, n, 0) : 0;
    if (e < 0) {
        free(buf);
        return sbk_err_errno(err, -e, _("cannot read %s"), name);
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

int sbk_read_file(const char *path, size_t max_len, char **out, size_t *len, SbkError *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sbk_err_errno(err, errno, _("cannot open %s"), path);
    struct stat st;
    int ret;
    if (fstat(fd, &st) < 0)
        ret = sbk_err_errno(err, errno, _("cannot read %s"), path);
    else if (!S_ISREG(st.st_mode))
        ret = sbk_err(err, SBK_EINVAL, _("%s is not a regular file"), path);
    else
        ret = sbk_read_fd(fd, (int64_t)st.st_size, path, max_len, out, len, err);
    close(fd);
    return ret;
}
