/* sabak/error.h - how the library reports failure.
 *
 * Every fallible public function returns an int: 0 on success, one of the
 * negative SBK_E* codes below on failure. When the caller passes an SbkError,
 * the library fills it with ONE line a trainer can act on (no trailing
 * newline, no "sabak:" prefix), e.g.
 *   "lessons/budget-01/subtitles/ru.srt:14: bad timestamp \"00:01:6,000\""
 * The library never prints and never exits; front ends print err.msg.
 */
#ifndef SABAK_ERROR_H
#define SABAK_ERROR_H

#include <stdarg.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SBK_OK = 0,
    SBK_EINVAL = -1,      /* bad input: syntax, out-of-range value, unknown key */
    SBK_EIO = -2,         /* read/write failure (errno-level problem) */
    SBK_ENOMEM = -3,      /* allocation failed */
    SBK_EDAMAGED = -4,    /* corrupt media or archive */
    SBK_EUNSUPPORTED = -5,/* valid but not something we accept (codec, format) */
    SBK_ELIMIT = -6,      /* a sane limit was exceeded (size, duration, pixels) */
    SBK_ECANCELED = -7,   /* the caller asked us to stop (Ctrl-C) */
    SBK_ENOSPC = -8,      /* no space left on the output device */
    SBK_ENOENT = -9,      /* a named file does not exist */
};

#define SBK_ERROR_MAX 1024

typedef struct SbkError {
    int code;                 /* last SBK_E* code set, 0 if none */
    char msg[SBK_ERROR_MAX];  /* one line, UTF-8, no newline */
} SbkError;

/* Set err (if not NULL) to code and a printf-style message; returns code so
 * that callers can write `return sbk_err(err, SBK_EINVAL, "...")`. */
int sbk_err(SbkError *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The va_list form, with a fixed `prefix` (may be NULL) put before the
 * message: "<prefix><message>". For modules' own "set the error, return the
 * code" wrappers (a path or "file:line: " in front), so none of them formats
 * twice into buffers of its own. */
int sbk_errv(SbkError *err, int code, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Like sbk_err, appending ": <strerror(errnum)>"; maps ENOSPC/EDQUOT to
 * SBK_ENOSPC and ENOENT to SBK_ENOENT, everything else to SBK_EIO. */
int sbk_err_errno(SbkError *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message: "<prefix>: <old message>". */
void sbk_err_prefix(SbkError *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to "no error". */
void sbk_err_clear(SbkError *err);

/* A short generic name for a code ("invalid input", "I/O error", ...). */
const char *sbk_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
