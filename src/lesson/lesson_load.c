/* lesson_load.c - a lesson folder on disk: lesson.ini plus the files it
 * names, subtitles found by convention and the optional handouts/ folder. */
#include "lesson/lesson_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sabak/core.h"
#include "sabak/safeopen.h"
#include "sabak/i18n.h"

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
        return sbk_err(err, SBK_ENOENT, _("%s: %s \"%s\" not found in %s"), L->ini_path, what, rel,
                       L->dir);
    if (fd == SBK_EINVAL)
        return sbk_err(err, SBK_EINVAL, _("%s: %s \"%s\" in %s is not a file"), L->ini_path, what, rel,
                       L->dir);
    return fd; /* the message names the link */
}

static int regular_entry(int dfd, const char *shown, const char *name);

static int has_ext(const char *name, const char *const *exts, size_t n)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && dot != name && i < n; i++)
        if (strcasecmp(dot + 1, exts[i]) == 0)
            return 1;
    return 0;
}

/* The named recording is missing: say which recordings are there. */
static int video_missing(SbkLesson *L, int dfd, SbkError *err)
{
    static const char *const exts[] = {"mp4", "m4v", "mkv", "webm", "avi", "mov", "wmv", "flv",
                                       "mpg", "mpeg", "ts", "mts", "m2ts", "3gp", "ogv", "m4a",
                                       "mp3", "wav", "ogg", "opus", "aac", "flac"};
    char list[700] = "";
    size_t len = 0;
    int n = 0, more = 0;
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d && fd >= 0)
        close(fd);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !has_ext(e->d_name, exts, sizeof exts / sizeof exts[0]) ||
            !regular_entry(dirfd(d), L->dir, e->d_name))
            continue;
        size_t need = strlen(e->d_name) + 4;
        if (n == 5 || len + need >= sizeof list - 8) {
            more++;
            continue;
        }
        len += (size_t)snprintf(list + len, sizeof list - len, "%s\"%s\"", n ? ", " : "", e->d_name);
        n++;
    }
    if (d)
        closedir(d);
    const char *rel = rel_of(L->dir, L->video);
    if (n == 0)
        return sbk_err(err, SBK_ENOENT,
                       _("%s: video \"%s\" not found, and %s holds no video file: copy the recording "
                         "into the folder and name it in lesson.ini (video = ...)"),
                       L->ini_path, rel, L->dir);
    if (more)
        snprintf(list + len, sizeof list - len, _(" and %d more"), more);
    return sbk_err(err, SBK_ENOENT,
                   dngettext(SBK_TEXTDOMAIN,
                             "%s: video \"%s\" not found in %s; the video file there is %s: set "
                             "video = <its name> in [lesson], or rename the file",
                             "%s: video \"%s\" not found in %s; the video files there are %s: set "
                             "video = <the right one> in [lesson], or rename it",
                             (unsigned long)(n + more)),
                   L->ini_path, rel, L->dir, list);
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
        sbk_log(SBK_LOG_WARN, _("%s/%s is a symbolic link; left out (sabak packs only files inside the lesson folder)"),
                shown, name);
    else if (!S_ISDIR(st.st_mode))
        sbk_log(SBK_LOG_WARN, _("%s/%s is not a regular file (a FIFO, device or socket); left out"), shown,
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
        sbk_log(SBK_LOG_WARN, _("%s; its files are left out"), e.msg);
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

enum { MAX_UNUSED = 32 };

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *lang_hint(const char *code)
{
    return !strcmp(code, "ru")   ? _("it looks Russian")
           : !strcmp(code, "ky") ? _("it looks Kyrgyz")
                                 : _("it looks English");
}

/* A file in subtitles/ whose name is not <language>.<ext>: not used. Say
 * so, and what to rename it to when the name hints at the language. */
static void warn_unused(const SbkLesson *L, const char *name)
{
    const char *dot = strrchr(name, '.');
    int subs_ext = dot && dot != name && has_ext(name, sub_exts, sizeof sub_exts / sizeof sub_exts[0]);
    const char *lang = sbk_lesson_guess_lang(name);
    int taken = 0;
    for (int i = 0; lang && i < L->n_subs; i++)
        taken |= strcmp(L->subs[i].lang, lang) == 0;
    if (!subs_ext)
        sbk_log(SBK_LOG_WARN, _("subtitles/%s is not used: subtitles are .srt, .vtt or .ass files"), name);
    else if (lang && !taken)
        sbk_log(SBK_LOG_WARN,
                _("subtitles/%s is not used: subtitle files are named by language; %s: "
                  "rename it to %s%s"),
                name, lang_hint(lang), lang, dot);
    else if (lang)
        sbk_log(SBK_LOG_WARN,
                _("subtitles/%s is not used: %s, but the %s subtitles are already taken from "
                  "another file"),
                name, lang_hint(lang), lang);
    else
        sbk_log(SBK_LOG_WARN,
                _("subtitles/%s is not used: subtitle files are named by language (ky.srt, ru.srt, "
                  "en.srt); rename it"),
                name);
}

/* subtitles/<lang>.srt|vtt|ass: every such file when lesson.ini lists none;
 * otherwise only a warning for the ones it leaves out. */
static int find_subtitles(SbkLesson *L, int dfd, SbkError *err)
{
    int ret = 0;
    char *sdir = sbk_path_join(L->dir, "subtitles");
    DIR *d = NULL;
    int listed = L->n_subs > 0;
    char *unused[MAX_UNUSED];
    int n_unused = 0;
    if (!sdir)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
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
        if (e->d_name[0] == '.')
            continue;
        if (!convention_name(e->d_name, lang)) {
            int named = 0; /* listed under [subtitles] by this name */
            for (int i = 0; i < L->n_subs; i++) {
                const char *rel = sbk_path_under(sdir, L->subs[i].path);
                named |= rel && strcmp(rel, e->d_name) == 0;
            }
            if (named || !regular_entry(dirfd(d), sdir, e->d_name) || n_unused == MAX_UNUSED)
                continue;
            if (!(unused[n_unused] = strdup(e->d_name))) {
                ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
                goto done;
            }
            n_unused++;
            continue;
        }
        if (!regular_entry(dirfd(d), sdir, e->d_name))
            continue;
        char *path = sbk_path_join(sdir, e->d_name);
        if (!path) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
            goto done;
        }
        int dup = -1;
        for (int i = 0; i < L->n_subs; i++)
            if (strcmp(L->subs[i].lang, lang) == 0)
                dup = i;
        if (listed) {
            if (dup < 0)
                sbk_log(SBK_LOG_WARN, _("%s: subtitles/%s is not listed under [subtitles] and is left out"),
                        L->ini_path, e->d_name);
            free(path);
            continue;
        }
        if (dup >= 0) {
            ret = sbk_err(err, SBK_EINVAL, _("%s: two subtitle files for \"%s\": %s and %s; keep one"), sdir,
                          lang, sbk_path_base(L->subs[dup].path), e->d_name);
            free(path);
            goto done;
        }
        if (L->n_subs >= SBK_MAX_SUBTITLES) {
            ret = sbk_err(err, SBK_ELIMIT, _("%s: too many subtitle files (at most %d)"), sdir,
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
    qsort(unused, (size_t)n_unused, sizeof unused[0], cmp_str);
    for (int i = 0; i < n_unused; i++)
        warn_unused(L, unused[i]);
done:
    for (int i = 0; i < n_unused; i++)
        free(unused[i]);
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
        return sbk_err(err, SBK_EINVAL, _("no lesson folder given"));
    /* The folder itself is named by the trainer and may be a link; what is
     * inside it is opened beneath it, without following links. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        ret = sbk_err(err, SBK_ENOENT, _("%s: no such lesson folder"), dir);
        goto done;
    }
    ini = sbk_path_join(dir, "lesson.ini");
    if (!ini) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    ret = sbk_read_beneath(dfd, dir, "lesson.ini", MAX_INI_BYTES, &text, &len, err);
    if (ret == SBK_ENOENT)
        ret = sbk_err(err, SBK_ENOENT, _("%s: no lesson.ini (every lesson folder needs one)"), dir);
    if (ret < 0)
        goto done;
    if ((ret = sbk_lesson_parse(text, len, ini, dir, &L, err)) < 0)
        goto done;
    if (L->video && (ret = check_file(L, dfd, "video", L->video, err)) < 0) {
        if (ret == SBK_ENOENT)
            ret = video_missing(L, dfd, err);
        goto done;
    }
    for (int i = 0; i < L->n_subs; i++)
        if ((ret = check_file(L, dfd, "subtitles", L->subs[i].path, err)) < 0)
            goto done;
    if ((ret = find_subtitles(L, dfd, err)) < 0)
        goto done;
    int hfd = open_subdir(L, dfd, "handouts");
    if (hfd >= 0) {
        close(hfd);
        if (!(L->handouts_dir = sbk_path_join(dir, "handouts"))) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
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
