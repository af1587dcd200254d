/* Opening inputs beneath a folder without following links (see
 * sabak/safeopen.h for why). A walk of openat(O_NOFOLLOW) rather than
 * openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS): it works on every kernel
 * sabak runs on (openat2 is Linux 5.6+ and often blocked by seccomp
 * profiles), gives the same guarantee because each step is relative to the
 * descriptor of the step before, and lets the message name the component
 * that is a link. */
#include "sabak/safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sabak/core.h"
#include "sabak/i18n.h"

/* "<shown>/<rel[0..n)>" for messages. */
static void shown_prefix(char *buf, size_t size, const char *shown, const char *rel, size_t n)
{
    size_t s = shown ? strlen(shown) : 0;
    while (s > 1 && shown[s - 1] == '/')
        s--;
    if (s)
        snprintf(buf, size, "%.*s/%.*s", (int)s, shown, (int)n, rel);
    else
        snprintf(buf, size, "%.*s", (int)n, rel);
}

static int wrong_type(SbkError *err, const char *name, const struct stat *st, int want_dir)
{
    if (S_ISLNK(st->st_mode))
        return sbk_err(err, SBK_EUNSUPPORTED,
                       _("%s is a symbolic link; sabak packs only files inside the lesson folder"), name);
    if (want_dir)
        return sbk_err(err, SBK_EINVAL, _("%s is not a folder"), name);
    if (S_ISDIR(st->st_mode))
        return sbk_err(err, SBK_EINVAL, _("%s is a folder, not a file"), name);
    return sbk_err(err, SBK_EINVAL, _("%s is not a regular file (a FIFO, device or socket)"), name);
}

/* One step of the walk: `comp` in the folder `cur`; the result must be a
 * folder (want_dir) or a regular file. */
static int open_step(int cur, const char *comp, int want_dir, const char *name, struct stat *st,
                     SbkError *err)
{
    struct stat before;
    if (fstatat(cur, comp, &before, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return sbk_err(err, SBK_ENOENT, _("%s: no such file"), name);
        return sbk_err_errno(err, errno, _("cannot open %s"), name);
    }
    if (want_dir ? !S_ISDIR(before.st_mode) : !S_ISREG(before.st_mode))
        return wrong_type(err, name, &before, want_dir);
    /* O_NONBLOCK: should a FIFO be swapped in after the fstatat, the open
     * still returns at once, and the fstat below refuses it. */
    int fd = openat(cur, comp,
                    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (want_dir ? O_DIRECTORY : 0));
    if (fd < 0) {
        if (errno == ELOOP || (want_dir && errno == ENOTDIR)) {
            before.st_mode = S_IFLNK;
            return wrong_type(err, name, &before, want_dir);
        }
        return sbk_err_errno(err, errno, _("cannot open %s"), name);
    }
    if (fstat(fd, st) < 0) {
        int e = errno;
        close(fd);
        return sbk_err_errno(err, e, _("cannot read %s"), name);
    }
    if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) {
        close(fd);
        return wrong_type(err, name, st, want_dir);
    }
    if (!want_dir) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    return fd;
}

int sbk_open_beneath(int dirfd, const char *shown, const char *rel, SbkOpenKind kind,
                     struct stat *st, SbkError *err)
{
    char name[4200], comp[256];
    struct stat tmp;
    int cur = dirfd, ret = 0;
    if (!st)
        st = &tmp;
    if (!rel || !*rel || rel[0] == '/')
        return sbk_err(err, SBK_EINVAL, _("\"%s\" is not a path inside the lesson folder"),
                       rel ? rel : "");
    const char *p = rel;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *next = end ? end + 1 : p + n;
        while (*next == '/')
            next++;
        int last = *next == '\0';
        if (n == 0 || (n == 1 && p[0] == '.')) {
            if (last)
                break;
            p = next;
            continue;
        }
        shown_prefix(name, sizeof name, shown, rel, (size_t)(p - rel) + n);
        if (n >= sizeof comp || (n == 2 && p[0] == '.' && p[1] == '.')) {
            ret = sbk_err(err, SBK_EINVAL, _("%s: not a path inside the lesson folder"), name);
            goto fail;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        int fd = open_step(cur, comp, !last || kind == SBK_OPEN_DIR, name, st, err);
        if (fd < 0) {
            ret = fd;
            goto fail;
        }
        if (cur != dirfd)
            close(cur);
        cur = fd;
        p = next;
    }
    if (cur == dirfd) { /* rel was only "." components */
        ret = sbk_err(err, SBK_EINVAL, _("\"%s\" is not a path inside the lesson folder"), rel);
        goto fail;
    }
    return cur;
fail:
    if (cur != dirfd)
        close(cur);
    return ret;
}

int sbk_read_beneath(int dirfd, const char *shown, const char *rel, size_t max_len, char **out,
                     size_t *len, SbkError *err)
{
    struct stat st;
    char name[4200];
    *out = NULL;
    if (len)
        *len = 0;
    int fd = sbk_open_beneath(dirfd, shown, rel, SBK_OPEN_FILE, &st, err);
    if (fd < 0)
        return fd;
    shown_prefix(name, sizeof name, shown, rel, strlen(rel));
    int ret = sbk_read_fd(fd, (int64_t)st.st_size, name, max_len, out, len, err);
    close(fd);
    return ret;
}

const char *sbk_path_under(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (strncmp(path, dir, n) == 0 && path[n] == '/')
        return path + n + 1;
    return NULL;
}
