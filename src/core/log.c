#include "sabak/core.h"

#include <stdarg.h>
#include <stdio.h>

/* The single process-wide sink, as with av_log_set_callback(): logging is a
 * property of the process, not of any one job. */
static SbkLogSink g_sink;
static void *g_opaque;

void sbk_log_set_sink(SbkLogSink sink, void *opaque)
{
    g_sink = sink;
    g_opaque = opaque;
}

void sbk_log(SbkLogLevel level, const char *fmt, ...)
{
    if (!g_sink)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    g_sink(g_opaque, level, line);
}
