#include "cli.h"

#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sabak/i18n.h"

static int g_quiet, g_verbose;

static void stderr_sink(void *opaque, SbkLogLevel level, const char *line)
{
    (void)opaque;
    if (level == SBK_LOG_INFO && g_quiet)
        return;
    if (level == SBK_LOG_DEBUG && !g_verbose)
        return;
    const char *tag = level == SBK_LOG_ERROR ? _("error: ") : level == SBK_LOG_WARN ? _("warning: ") : "";
    fprintf(stderr, "sabak: %s%s\n", tag, line);
}

void cli_init_logging(int quiet, int verbose)
{
    g_quiet = quiet;
    g_verbose = verbose;
    sbk_log_set_sink(stderr_sink, NULL);
}

/* The language of the messages: LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as
 * gettext reads them. glibc translates only in a locale that exists, and a
 * bare Debian has only C and C.UTF-8: when the one asked for is not
 * installed, the messages still follow it (C.UTF-8 plus LANGUAGE set from
 * the locale's language, "ru_RU.UTF-8" -> "ru"). Only LC_MESSAGES is set:
 * numbers in files and in FFmpeg options stay "1.5", never "1,5". */
void cli_init_i18n(void)
{
    const char *want = getenv("LC_ALL");
    if (!want || !*want)
        want = getenv("LC_MESSAGES");
    if (!want || !*want)
        want = getenv("LANG");
    if (!setlocale(LC_MESSAGES, "") && want && *want && strcmp(want, "C") && strcmp(want, "POSIX")) {
        const char *lang = getenv("LANGUAGE");
        if (!lang || !*lang) {
            char code[16];
            size_t n = strcspn(want, "_.@");
            snprintf(code, sizeof code, "%.*s", (int)(n < 15 ? n : 15), want);
            setenv("LANGUAGE", code, 1);
        }
        setlocale(LC_MESSAGES, "C.UTF-8");
    }
    /* the build tree's locale/ beside the binary, else the installed one */
    char self[PATH_MAX], dir[PATH_MAX + 16];
    const char *where = getenv("SABAK_LOCALEDIR");
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    struct stat st;
    if ((!where || !*where) && len > 0) {
        self[len] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(dir, sizeof dir, "%s/locale", self);
            if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                where = dir;
        }
    }
    if (!where || !*where)
        where = SABAK_LOCALEDIR;
    bindtextdomain(SBK_TEXTDOMAIN, where);
    textdomain(SBK_TEXTDOMAIN);
    bind_textdomain_codeset(SBK_TEXTDOMAIN, "UTF-8");
    /* strerror's text (glibc's domain "libc") in UTF-8 too: LC_CTYPE stays
     * "C", which would make it "Net takogo fajla" */
    bind_textdomain_codeset("libc", "UTF-8");
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sabak: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
