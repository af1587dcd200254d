/* subs_int.h - private to src/subs: the pieces the SRT, WebVTT and ASS
 * readers share (cue.c, text.c) and the format table's type. Global names carry the sbk_subs_ prefix only because
 * tools/check-symbols wants every global in libsabak.a prefixed; nothing
 * outside src/subs may use them. */
#ifndef SABAK_SUBS_INT_H
#define SABAK_SUBS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sabak/subs.h"

/* A growable NUL-terminated byte string. */
typedef struct SbkSubsBuf {
    char *p;
    size_t len, cap;
} SbkSubsBuf;

/* Append n bytes (or one byte). Return 0 or SBK_ENOMEM; p stays
 * NUL-terminated. */
int sbk_subs_buf_add(SbkSubsBuf *b, const char *s, size_t n);
int sbk_subs_buf_addc(SbkSubsBuf *b, char c);

/* One line of the source, NUL-terminated, line ending and trailing blanks
 * removed; `no` is its 1-based number in the original file. */
typedef struct SbkSubsLine {
    const char *s;
    size_t len;
    size_t no;
} SbkSubsLine;

/* The state of one parse: the lines, the cues gathered so far, the name
 * that prefixes messages. */
typedef struct SbkSubsCtx {
    const SbkSubsLine *lines;
    size_t n;
    const char *name;
    SbkSubs *subs;
    size_t cap;
    SbkError *err;
} SbkSubsCtx;

/* How a cue's text is written in its source, which decides what '<', '&'
 * and '{' mean. */
typedef enum { SBK_SUBS_SRT, SBK_SUBS_VTT, SBK_SUBS_ASS } SbkSubsStyle;

static inline int sbk_subs_blank(const SbkSubsLine *l) { return l->len == 0; }

/* Parse one timestamp token (exactly `n` bytes) written in `style`:
 * SRT "H:MM:SS,mmm" ('.' tolerated, 1-3 hour digits), VTT "[H:]MM:SS.mmm"
 * (',' tolerated), ASS "H:MM:SS.cc". Minutes and seconds < 60. Returns 0 and
 * the time in *ms, or -1 if malformed (the range is not checked here). */
int sbk_subs_parse_ts(const char *s, size_t n, SbkSubsStyle style, int64_t *ms);

/* Parse a cue timing line "<start> --> <end>[ settings]" of an SRT or VTT
 * file; anything after the end time (VTT settings, SRT coordinates) is
 * ignored. On failure fills ctx->err with "name:line: reason" and returns a
 * negative code. */
int sbk_subs_parse_timing(SbkSubsCtx *ctx, const SbkSubsLine *l, SbkSubsStyle style,
                          int64_t *start, int64_t *end);

/* True if the line is a timing line whose two timestamps parse (range and
 * order not checked): used to see where a cue's text stops. */
int sbk_subs_timing_ok(const SbkSubsLine *l, SbkSubsStyle style);

/* True if the line was meant as a timing line: it has "-->" or starts like
 * a timestamp ("00:"). Such a line is checked, and its errors reported. */
int sbk_subs_looks_like_timing(const SbkSubsLine *l);

/* True if s starts with the word w, followed by a blank or the end. */
int sbk_subs_starts_word(const char *s, const char *w);

/* Validate a start/end pair read from line `l` (range, order); tokens are
 * quoted in messages. */
int sbk_subs_check_times(SbkSubsCtx *ctx, const SbkSubsLine *l, const char *stok, size_t slen,
                         int64_t start, const char *etok, size_t elen, int64_t end);

/* Turn raw cue text (lines joined with '\n') into the stored form: tags
 * filtered to <i> <b> <u>, VTT entities decoded, ASS override blocks and
 * \N handled, control characters and blank lines removed, capped at
 * SBK_SUBS_MAX_CUE_TEXT bytes (cut at a UTF-8 boundary, with a warning).
 * *out is malloc'ed (possibly ""). */
int sbk_subs_clean_text(SbkSubsCtx *ctx, const char *raw, size_t len, SbkSubsStyle style,
                        size_t lineno, char **out);

/* Add a cue; `raw` is cleaned as above. A cue whose text comes out empty is
 * dropped. Fails with SBK_ELIMIT past SBK_SUBS_MAX_CUES. */
int sbk_subs_add_cue(SbkSubsCtx *ctx, int64_t start, int64_t end, const char *raw, size_t len,
                     SbkSubsStyle style, size_t lineno);

/* Quote a piece of a line for a message: at most ~60 bytes, cut at a UTF-8
 * boundary with "..." appended. */
void sbk_subs_quote(const char *s, size_t n, char out[80]);

/* A subtitle format: `sniff` says from the content (lines, the first
 * non-blank at `first`) whether the text is this format, NULL: always;
 * `read` fills ctx->subs with cues, errors as above. parse.c keeps the table
 * (vtt, ass, then srt for anything else). */
typedef struct SbkSubsFormat {
    const char *name;
    int (*sniff)(const SbkSubsLine *lines, size_t n, size_t first);
    int (*read)(SbkSubsCtx *ctx, size_t first);
} SbkSubsFormat;

extern const SbkSubsFormat sbk_subs_format_srt;
extern const SbkSubsFormat sbk_subs_format_vtt;
extern const SbkSubsFormat sbk_subs_format_ass;

/* If s (up to end) starts with one of the tags kept in cue text, <i> </i>
 * <b> </b> <u> </u> (exactly, lower case), return its length, else 0. */
size_t sbk_subs_kept_tag(const char *s, const char *end);

#endif
