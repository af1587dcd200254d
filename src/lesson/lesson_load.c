/* lesson_load.c - a lesson folder on disk: lesson.ini plus the files it
 * names, subtitles found by convention and the optional handouts/ folder. */
#include "lesson/lesson_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sabak/core.h"

#define MAX_INI_BYTES (1024 * 1024)

static const char *const sub_exts[] = {"srt", "vtt", "ass", "ssa"};

/* The part of `path` after "dir/", as written in lesson.ini. */
static const char *rel_of(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (strncmp(path, dir, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* 0 if path is a regular file; SBK_ENOENT if missing; SBK_EINVAL if it is
 * something else. */
static int check_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return errno == ENOENT || errno == ENOTDIR ? SBK_ENOENT : SBK_EIO;
    return S_ISREG(st.st_mode) ? 0 : SBK_EINVAL;
}

static int file_error(SbkLesson *L, const char *what, const char *path, int code, SbkError *err)
{
    const char *rel = rel_of(L->dir, path);
    if (code == SBK_ENOENT)
        return sbk_err(err, SBK_ENOENT, "%s: %s \"%s\" not found in %s", L->ini_path, what, rel,
                       L->dir);
    if (code == SBK_EINVAL)
        return sbk_err(err, SBK_EINVAL, "%s: %s \"%s\" in %s is not a file", L->ini_path, what, rel,
                       L->dir);
    return sbk_err_errno(err, errno, "%s: cannot read %s \"%s\" in %s", L->ini_path, what, rel,
                         L->dir);
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
static int find_subtitles(SbkLesson *L, SbkError *err)
{
    int ret = 0;
    char *sdir = sbk_path_join(L->dir, "subtitles");
    DIR *d = NULL;
    int listed = L->n_subs > 0;
    if (!sdir)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    d = opendir(sdir);
    if (!d)
        goto done; /* no subtitles/ folder: fine */
    struct dirent *e;
    while ((e = readdir(d))) {
        char lang[4];
        if (e->d_name[0] == '.' || !convention_name(e->d_name, lang))
            continue;
        char *path = sbk_path_join(sdir, e->d_name);
        if (!path) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        if (check_file(path) != 0) {
            free(path);
            continue;
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
    int ret = 0;
    char *ini = NULL, *text = NULL;
    size_t len = 0;
    SbkLesson *L = NULL;
    *out = NULL;
    if (!dir || !*dir)
        return sbk_err(err, SBK_EINVAL, "no lesson folder given");
    if (!is_dir(dir)) {
        ret = sbk_err(err, SBK_ENOENT, "%s: no such lesson folder", dir);
        goto done;
    }
    ini = sbk_path_join(dir, "lesson.ini");
    if (!ini) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    if (check_file(ini) == SBK_ENOENT) {
        ret = sbk_err(err, SBK_ENOENT, "%s: no lesson.ini (every lesson folder needs one)", dir);
        goto done;
    }
    if ((ret = sbk_read_file(ini, MAX_INI_BYTES, &text, &len, err)) < 0)
        goto done;
    if ((ret = sbk_lesson_parse(text, len, ini, dir, &L, err)) < 0)
        goto done;
    int code = check_file(L->video);
    if (code) {
        ret = file_error(L, "video", L->video, code, err);
        goto done;
    }
    for (int i = 0; i < L->n_subs; i++) {
        if ((code = check_file(L->subs[i].path))) {
            ret = file_error(L, "subtitles", L->subs[i].path, code, err);
            goto done;
        }
    }
    if ((ret = find_subtitles(L, err)) < 0)
        goto done;
    char *h = sbk_path_join(dir, "handouts");
    if (!h) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    if (is_dir(h))
        L->handouts_dir = h;
    else
        free(h);
    *out = L;
    L = NULL;
done:
    sbk_lesson_free(&L);
    free(text);
    free(ini);
    return ret;
}
