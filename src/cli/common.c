#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

static int g_quiet, g_verbose;

static void stderr_sink(void *opaque, SbkLogLevel level, const char *line)
{
    (void)opaque;
    if (level == SBK_LOG_INFO && g_quiet)
        return;
    if (level == SBK_LOG_DEBUG && !g_verbose)
        return;
    const char *tag = level == SBK_LOG_ERROR ? "error: " : level == SBK_LOG_WARN ? "warning: " : "";
    fprintf(stderr, "sabak: %s%s\n", tag, line);
}

void cli_init_logging(int quiet, int verbose)
{
    g_quiet = quiet;
    g_verbose = verbose;
    sbk_log_set_sink(stderr_sink, NULL);
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
