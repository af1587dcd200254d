#include "sabak/error.h"
#include "sabak/i18n.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void strip_newlines(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

int sbk_errv(SbkError *err, int code, const char *prefix, const char *fmt, va_list ap)
{
    if (err) {
        int n = prefix ? snprintf(err->msg, sizeof err->msg, "%s", prefix) : 0;
        size_t at = n < 0 ? 0 : (size_t)n < sizeof err->msg ? (size_t)n : sizeof err->msg - 1;
        vsnprintf(err->msg + at, sizeof err->msg - at, fmt, ap);
        strip_newlines(err->msg);
        err->code = code;
    }
    return code;
}

int sbk_err(SbkError *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sbk_errv(err, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int sbk_err_errno(SbkError *err, int errnum, const char *fmt, ...)
{
    int code = SBK_EIO;
    if (errnum == ENOSPC || errnum == EDQUOT)
        code = SBK_ENOSPC;
    else if (errnum == ENOENT)
        code = SBK_ENOENT;
    else if (errnum == ENOMEM)
        code = SBK_ENOMEM;
    if (err) {
        char buf[SBK_ERROR_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        const char *why = errnum == ENOSPC ? _("disk is full") : strerror(errnum);
        snprintf(err->msg, sizeof err->msg, "%s: %s", buf, why);
        strip_newlines(err->msg);
        err->code = code;
    }
    return code;
}

void sbk_err_prefix(SbkError *err, const char *fmt, ...)
{
    if (!err)
        return;
    char pre[SBK_ERROR_MAX];
    char old[SBK_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", pre, old);
    strip_newlines(err->msg);
}

void sbk_err_clear(SbkError *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

const char *sbk_strerror(int code)
{
    switch (code) {
    case SBK_OK: return "success";
    case SBK_EINVAL: return "invalid input";
    case SBK_EIO: return "input/output error";
    case SBK_ENOMEM: return "out of memory";
    case SBK_EDAMAGED: return "damaged data";
    case SBK_EUNSUPPORTED: return "unsupported";
    case SBK_ELIMIT: return "limit exceeded";
    case SBK_ECANCELED: return "interrupted";
    case SBK_ENOSPC: return "disk is full";
    case SBK_ENOENT: return "no such file";
    default: return "unknown error";
    }
}
