/* Where the bundle goes: the output path (only a regular .zip or a folder,
 * never one of the lesson's own files), the hidden work folder beside it,
 * and the debris of packs that were killed (kill -9, power cut). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pack_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#define WORK_PREFIX ".sabak-pack-"

/* ---- stale debris ------------------------------------------------------------ */
/* The pid in "<...>-<pid>-XXXXXX" (the mkdtemp/mkstemp suffix), or 0. */
static long pid_in_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 9 || name[n - 7] != '-')
        return 0;
    size_t end = n - 7, start = end;
    while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9')
        start--;
    if (start == end || start == 0 || name[start - 1] != '-' || end - start > 9)
        return 0;
    return strtol(name + start, NULL, 10);
}

/* Is the name debris of sabak pack (a work folder, or a bundle's
 * temporary file) whose process is gone? The pid is in the name; a pid
 * reused since is merely kept, never the other way round. */
static int stale(const char *name)
{
    size_t n = strlen(name);
    int ours = strncmp(name, WORK_PREFIX, strlen(WORK_PREFIX)) == 0 ||
               (name[0] == '.' && n > 20 && strstr(name, ".zip.tmp-") != NULL);
    long pid = ours ? pid_in_name(name) : 0;
    if (pid <= 0 || pid == (long)getpid())
        return 0;
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Remove a flat folder of our own making (or a file), without following
 * a link anywhere. */
static void remove_entry(int dfd, const char *name)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dirfd(d), e->d_name, 0);
        if (d)
            closedir(d);
        else if (fd >= 0)
            close(fd);
        unlinkat(dfd, name, AT_REMOVEDIR);
    } else if (S_ISREG(st.st_mode)) {
        unlinkat(dfd, name, 0);
    }
}

static void sweep_stale(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] != '.' || !stale(e->d_name))
            continue;
        sbk_log(SBK_LOG_INFO, _("%s/%s: removed, left by a pack that was killed"), dir, e->d_name);
        remove_entry(dirfd(d), e->d_name);
    }
    closedir(d);
}

/* ---- the target ---------------------------------------------------------------- */
static int same_file(const struct stat *a, dev_t dev, ino_t ino)
{
    return a->st_dev == dev && a->st_ino == ino;
}

/* Does the existing target `st` hold one of the lesson's files? */
static int is_input(Pack *p, const struct stat *st)
{
    struct stat in;
    if (p->video_fd >= 0 && same_file(st, p->video_dev, p->video_ino))
        return 1;
    if (fstatat(p->dfd, "lesson.ini", &in, AT_SYMLINK_NOFOLLOW) == 0 &&
        same_file(st, in.st_dev, in.st_ino))
        return 1;
    for (int i = 0; i < p->lesson->n_subs; i++)
        if (lstat(p->lesson->subs[i].path, &in) == 0 && same_file(st, in.st_dev, in.st_ino))
            return 1;
    for (int i = 0; i < p->n_handouts; i++)
        if (fstat(p->handouts[i].fd, &in) == 0 && same_file(st, in.st_dev, in.st_ino))
            return 1;
    return 0;
}

/* The bundle replaces out_path only if it is absent or a regular file that
 * is not one of the inputs: `-o /dev/null` (as root) or `-o recording.mp4`
 * must not destroy anything. Checked when the path is chosen and again
 * just before the rename. */
int sbk_pack__check_target(Pack *p, SbkError *err)
{
    const char *out = p->opt->out_path;
    struct stat st;
    if (lstat(out, &st) < 0)
        return errno == ENOENT ? 0 : sbk_err_errno(err, errno, _("cannot use %s"), out);
    if (S_ISLNK(st.st_mode))
        return sbk_err(err, SBK_EINVAL, _("%s is a symbolic link; give the bundle's real path"), out);
    if (!S_ISREG(st.st_mode))
        return sbk_err(err, SBK_EINVAL, _("%s exists and is not a regular file; it is left alone"), out);
    if (is_input(p, &st))
        return sbk_err(err, SBK_EINVAL, _("%s is one of the lesson's own files; write the bundle elsewhere"),
                       out);
    return 0;
}

static int ends_with_zip(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && strcasecmp(s + n - 4, ".zip") == 0 && s[n - 5] != '/';
}

int sbk_pack__resolve_output(Pack *p, SbkError *err)
{
    const char *out = p->opt->out;
    struct stat st;
    char name[256];
    snprintf(name, sizeof name, "%s-v%d.zip", p->lesson->id, p->lesson->version);
    if (!out || !*out)
        out = ".";
    size_t n = strlen(out);
    if (out[n - 1] == '/' || (stat(out, &st) == 0 && S_ISDIR(st.st_mode))) {
        char *path = sbk_path_join(out, name);
        if (!path)
            return sbk_err(err, SBK_ENOMEM, _("out of memory"));
        snprintf(p->opt->out_path, sizeof p->opt->out_path, "%s", path);
        free(path);
    } else if (!ends_with_zip(out)) {
        return sbk_err(err, SBK_EINVAL, _("-o %s: give a folder or a file name ending in .zip"), out);
    } else {
        snprintf(p->opt->out_path, sizeof p->opt->out_path, "%s", out);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", p->opt->out_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return sbk_err(err, SBK_ENOENT, _("output folder %s does not exist"), dir);
    if (access(dir, W_OK | X_OK) < 0)
        return sbk_err_errno(err, errno, _("cannot write to folder %s"), dir);
    int ret = sbk_pack__check_target(p, err);
    if (ret < 0)
        return ret;
    sweep_stale(dir);
    /* The pid in the name lets the next pack tell debris from work in
     * progress (see stale()). */
    char tmpl[4200];
    snprintf(tmpl, sizeof tmpl, "%s/" WORK_PREFIX "%s-%ld-XXXXXX", dir, p->lesson->id,
             (long)getpid());
    if (!mkdtemp(tmpl))
        return sbk_err_errno(err, errno, _("cannot write to folder %s"), dir);
    p->work_dir = strdup(tmpl);
    if (!p->work_dir) {
        rmdir(tmpl);
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    }
    return 0;
}

void sbk_pack__remove_work_dir(Pack *p)
{
    if (!p->work_dir)
        return;
    char *slash = strrchr(p->work_dir, '/');
    char *parent = slash ? strndup(p->work_dir, slash == p->work_dir ? 1 : (size_t)(slash - p->work_dir))
                         : strdup(".");
    int dfd = parent ? open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        remove_entry(dfd, slash ? slash + 1 : p->work_dir);
        close(dfd);
    }
    free(parent);
    free(p->work_dir);
    p->work_dir = NULL;
}
