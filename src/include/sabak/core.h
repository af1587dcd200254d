/* sabak/core.h - small shared helpers: logging, files written atomically,
 * SHA-256, path and UTF-8 checks. Nothing here knows about media or HTTP. */
#ifndef SABAK_CORE_H
#define SABAK_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sabak/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The one version string: CMake's project(VERSION), passed to every
 * compile (CMakeLists.txt); debian/changelog must match it. */
#ifndef SBK_VERSION
#error "SBK_VERSION comes from project(VERSION) in CMakeLists.txt"
#endif

/* ---- logging --------------------------------------------------------- */
typedef enum { SBK_LOG_ERROR = 0, SBK_LOG_WARN, SBK_LOG_INFO, SBK_LOG_DEBUG } SbkLogLevel;
typedef void (*SbkLogSink)(void *opaque, SbkLogLevel level, const char *line);

/* The one process-wide sink (like av_log_set_callback). The library logs
 * warnings ("subtitles/ru.srt: assumed Windows-1251") through it; by default
 * nothing is printed. `line` has no trailing newline. */
void sbk_log_set_sink(SbkLogSink sink, void *opaque);
void sbk_log(SbkLogLevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- values typed by people ----------------------------------------- */
/* A decimal whole number with an optional sign, within [lo, hi]. Returns 0
 * and *out, or SBK_EINVAL (empty, not a number, out of range). */
int sbk_parse_int(const char *s, long long lo, long long hi, long long *out);
/* yes/true/on/1 or no/false/off/0, any case. Returns 0 and *out (1 or 0),
 * or SBK_EINVAL. */
int sbk_parse_bool(const char *s, int *out);

/* ---- files written atomically --------------------------------------- */
/* A file is written under a temporary name in the destination's folder
 * (".<name>.tmp-<pid>-XXXXXX"), fsync'ed, renamed over the destination, and the
 * folder fsync'ed. Until commit, nothing at `path` changes; abort (or a
 * crash) leaves at most a hidden temporary file. */
typedef struct SbkAtomicFile SbkAtomicFile;

/* Creates the temporary file. Returns 0 or SBK_EIO/SBK_ENOSPC/SBK_ENOENT. */
int sbk_atomic_open(SbkAtomicFile **out, const char *path, SbkError *err);
/* The temporary file's descriptor (owned by the SbkAtomicFile). */
int sbk_atomic_fd(const SbkAtomicFile *af);
const char *sbk_atomic_tmp_path(const SbkAtomicFile *af);
/* fsync + rename + fsync(dir). Frees *af and NULLs it, also on failure
 * (in which case the temporary file is removed). */
int sbk_atomic_commit(SbkAtomicFile **af, SbkError *err);
/* Remove the temporary file, free *af, NULL it. Accepts NULL. */
void sbk_atomic_abort(SbkAtomicFile **af);
/* Write a whole buffer to path atomically. */
int sbk_atomic_write_file(const char *path, const void *data, size_t len, SbkError *err);

/* write(2) until done; returns 0 or -errno. */
int sbk_write_all(int fd, const void *data, size_t len);
/* pread(2) until done; returns 0, or -errno, or -EIO on short read (EOF). */
int sbk_pread_all(int fd, void *buf, size_t len, off_t off);

/* Read a whole file into a NUL-terminated malloc'ed buffer; fails with
 * SBK_ELIMIT if larger than max_len. *out is owned by the caller. */
int sbk_read_file(const char *path, size_t max_len, char **out, size_t *len, SbkError *err);
/* The first `size` bytes of an open file (fstat's size), NUL-terminated, at
 * most max_len (else SBK_ELIMIT); `name` is for messages. Does not close fd. */
int sbk_read_fd(int fd, int64_t size, const char *name, size_t max_len, char **out, size_t *len,
                SbkError *err);

/* ---- SHA-256 ---------------------------------------------------------- */
#define SBK_SHA256_HEX 65 /* 64 hex digits + NUL */
typedef struct SbkSha256 { uint64_t state[16]; /* opaque, large enough for nettle */ } SbkSha256;
void sbk_sha256_init(SbkSha256 *ctx);
void sbk_sha256_update(SbkSha256 *ctx, const void *data, size_t len);
void sbk_sha256_final_hex(SbkSha256 *ctx, char hex[SBK_SHA256_HEX]);
void sbk_sha256_hex(const void *data, size_t len, char hex[SBK_SHA256_HEX]);
/* Hash `len` bytes of fd starting at off (len < 0: to EOF). */
int sbk_sha256_fd(int fd, off_t off, int64_t len, char hex[SBK_SHA256_HEX], SbkError *err);

/* ---- names and paths --------------------------------------------------- */
/* True if `name` is a safe relative archive entry name: non-empty, valid
 * UTF-8, no NUL or control characters, not absolute, no backslash, no empty,
 * "." or ".." component, no trailing slash, at most 255 bytes. */
int sbk_path_entry_ok(const char *name);
/* True if `id` is a safe lesson id: 1-64 of [a-z0-9._-], starting with a
 * letter or digit. Ids become URL parts and file names. */
int sbk_lesson_id_ok(const char *id);
/* Join dir and rel into a malloc'ed path (rel must be relative). */
char *sbk_path_join(const char *dir, const char *rel);
/* The last component of a path (pointer into `path`). */
const char *sbk_path_base(const char *path);

/* ---- UTF-8 -------------------------------------------------------------- */
/* True if s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int sbk_utf8_valid(const char *s, size_t len);
/* Decode one code point at *p (advancing it); returns -1 on invalid input
 * (and advances one byte). */
int32_t sbk_utf8_next(const char **p, const char *end);
/* Append the UTF-8 encoding of cp to out (needs 4 bytes); returns bytes. */
int sbk_utf8_put(char *out, int32_t cp);
/* Fold for search: lower case for Latin and Cyrillic (incl. Kyrgyz ң ө ү),
 * ё→е, and drop stress marks (U+0301). Returns a malloc'ed string. */
char *sbk_utf8_fold(const char *s, size_t len);

/* Format milliseconds as HH:MM:SS.mmm (buf >= 16) / HH:MM:SS (buf >= 12). */
void sbk_fmt_ms(int64_t ms, char *buf, size_t n);
void sbk_fmt_hms(int64_t ms, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
