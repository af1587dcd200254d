/* lesson_load.c - a lesson folder on disk: lesson.ini plus the files it
 * names, subtitles found by convention and the optional handouts/ folder. */
#include "lesson/lesson_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sabak/core.h"
#include "sabak/safeopen.h"

#define MAX_INI_BYTES (1024 * 1024)

static const char *const sub_exts[] = {"srt", "vtt", "ass", "ssa"};

/* The part of `path` after "dir/", as written in lesson.ini. */
static const char *rel_of(const char *dir, const char *path)
{
    const char *rel = sbk_path_under(dir, path);
    return rel ? rel : path;
}

/* A file lesson.ini names must be a regular file inside the folder, reached
 * without a symbolic link (sabak/safeopen.h): a link is refused, never
 * followed. A missing file keeps its own message. */
static int check_file(SbkLesson *L, int dfd, const char *what, const char *path, SbkError *err)
{
    const char *rel = rel_of(L->dir, path);
    int fd = sbk_open_beneath(dfd, L->dir, rel, SBK_OPEN_FILE, NULL, err);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (fd == SBK_ENOENT)
        return sbk_err(err, SBK_ENOENT, "%s: %s \"%s\" not found in %s", L->ini_path, what, rel,
                       L->dir);
    if (fd == SBK_EINVAL)
        return sbk_err(err, SBK_EINVAL, "%s: %s \"%s\" in %s is not a file", L->ini_path, what, rel,
                       L->dir);
    return fd; /* the message names the link */
}

/* Is `name` in the folder `dfd` a regular file (not a link)? If it is
 * something else, say so once: it is left out. */
static int regular_entry(int dfd, const char *shown, const char *name)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    if (S_ISREG(st.st_mode))
        return 1;
    if (S_ISLNK(st.st_mode))
        sbk_log(SBK_LOG_WARN, "%s/%s is a symbolic link; left out (sabak packs only files inside the lesson folder)",
                shown, name);
    else if (!S_ISDIR(st.st_mode))
        sbk_log(SBK_LOG_WARN, "%s/%s is not a regular file (a FIFO, device or socket); left out", shown,
                name);
    return 0;
}

/* Open the folder `rel` beneath dfd; -1 if it is absent. A link or a
 * non-folder is left out with a warning. */
static int open_subdir(SbkLesson *L, int dfd, const char *rel)
{
    SbkError e = {0};
    struct stat st;
    if (fstatat(dfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    int fd = sbk_open_beneath(dfd, L->dir, rel, SBK_OPEN_DIR, NULL, &e);
    if (fd < 0)
        sbk_log(SBK_LOG_WARN, "%s; its files are left out", e.msg);
    return fd;
}

/* "ky.srt" -> lang "ky", or 0 if the name is not <2-3 letters>.<ext>. */
static int convention_name(const char *name, char lang[4])
{
    const char *dot = strrchr(name, '.');
    if (!dot || !sbk_lang_code_fold(name, (size_t)(dot - name), lang))
        return 0;
    for (size_t i = 0; i < sizeof sub_exts / sizeof sub_exts[0]; i++)
        if (strcasecmp(dot + 1, sub_exts[i]) == 0)
            return 1;
    return 0;
}

static int cmp_subs(const void *a, const void *b)
{
    return strcmp(((const SbkLessonSubs *)a)->lang, ((const SbkLessonSubs *)b)->lang);
}

/* subtitles/<lang>.srt|vtt|ass: every such file when lesson.ini lists none;
 * otherwise only a warning for the ones it leaves out. */
static int find_subtitles(SbkLesson *L, int dfd, SbkError *err)
{
    int ret = 0;
    char *sdir = sbk_path_join(L->dir, "subtitles");
    DIR *d = NULL;
    int listed = L->n_subs > 0;
    if (!sdir)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    int sfd = open_subdir(L, dfd, "subtitles");
    if (sfd < 0)
        goto done; /* no subtitles/ folder: fine */
    d = fdopendir(sfd);
    if (!d) {
        close(sfd);
        goto done;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        char lang[4];
        if (e->d_name[0] == '.' || !convention_name(e->d_name, lang))
            continue;
        if (!regular_entry(dirfd(d), sdir, e->d_name))
            continue;
        char *path = sbk_path_join(sdir, e->d_name);
        if (!path) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        int dup = -1;
        for (int i = 0; i < L->n_subs; i++)
            if (strcmp(L->subs[i].lang, lang) == 0)
                dup = i;
        if (listed) {
            if (dup < 0)
                sbk_log(SBK_LOG_WARN, "%s: subtitles/%s is not listed under [subtitles] and is left out",
                        L->ini_path, e->d_name);
            free(path);
            continue;
        }
        if (dup >= 0) {
            ret = sbk_err(err, SBK_EINVAL, "%s: two subtitle files for \"%s\": %s and %s; keep one", sdir,
                          lang, sbk_path_base(L->subs[dup].path), e->d_name);
            free(path);
            goto done;
        }
        if (L->n_subs >= SBK_MAX_SUBTITLES) {
            ret = sbk_err(err, SBK_ELIMIT, "%s: too many subtitle files (at most %d)", sdir,
                          SBK_MAX_SUBTITLES);
            free(path);
            goto done;
        }
        memcpy(L->subs[L->n_subs].lang, lang, sizeof lang);
        L->subs[L->n_subs].path = path;
        L->n_subs++;
    }
    if (!listed)
        qsort(L->subs, (size_t)L->n_subs, sizeof L->subs[0], cmp_subs);
done:
    if (d)
        closedir(d);
    free(sdir);
    return ret;
}

int sbk_lesson_load(const char *dir, SbkLesson **out, SbkError *err)
{
    int ret = 0, dfd = -1;
    char *ini = NULL, *text = NULL;
    size_t len = 0;
    SbkLesson *L = NULL;
    *out = NULL;
    if (!dir || !*dir)
        return sbk_err(err, SBK_EINVAL, "no lesson folder given");
    /* The folder itself is named by the trainer and may be a link; what is
     * inside it is opened beneath it, without following links. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        ret = sbk_err(err, SBK_ENOENT, "%s: no such lesson folder", dir);
        goto done;
    }
    ini = sbk_path_join(dir, "lesson.ini");
    if (!ini) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    ret = sbk_read_beneath(dfd, dir, "lesson.ini", MAX_INI_BYTES, &text, &len, err);
    if (ret == SBK_ENOENT)
        ret = sbk_err(err, SBK_ENOENT, "%s: no lesson.ini (every lesson folder needs one)", dir);
    if (ret < 0)
        goto done;
    if ((ret = sbk_lesson_parse(text, len, ini, dir, &L, err)) < 0)
        goto done;
    if (L->video && (ret = check_file(L, dfd, "video", L->video, err)) < 0)
        goto done;
    for (int i = 0; i < L->n_subs; i++)
        if ((ret = check_file(L, dfd, "subtitles", L->subs[i].path, err)) < 0)
            goto done;
    if ((ret = find_subtitles(L, dfd, err)) < 0)
        goto done;
    int hfd = open_subdir(L, dfd, "handouts");
    if (hfd >= 0) {
        close(hfd);
        if (!(L->handouts_dir = sbk_path_join(dir, "handouts"))) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
    }
    *out = L;
    L = NULL;
done:
    if (dfd >= 0)
        close(dfd);
    sbk_lesson_free(&L);
    free(text);
    free(ini);
    return ret;
}
