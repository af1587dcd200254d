/* sabak/subs.h - subtitles: SRT / WebVTT (and ASS/SSA dialogue text) in,
 * UTF-8 WebVTT out, whatever encoding an old Windows tool saved them in. */
#ifndef SABAK_SUBS_H
#define SABAK_SUBS_H

#include <stddef.h>
#include <stdint.h>

#include "sabak/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SBK_SUBS_MAX_BYTES (8u << 20)  /* a subtitle file larger than this is rejected */
#define SBK_SUBS_MAX_CUE_TEXT 1024     /* bytes of text per cue */
#define SBK_SUBS_MAX_CUES 100000
#define SBK_SUBS_MAX_MS (12LL * 3600 * 1000)

typedef struct SbkCue {
    int64_t start_ms;
    int64_t end_ms;
    char *text; /* UTF-8, plain text with '\n' between lines; tags like <i> kept
                   only if WebVTT-valid (<i>, <b>, <u>), everything else removed */
} SbkCue;

typedef struct SbkSubs {
    SbkCue *cues;
    size_t n;
    char encoding[32];  /* what the source was read as: "UTF-8", "UTF-8 (BOM)",
                           "UTF-8 (damaged)" (a few bad bytes became U+FFFD),
                           "UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE",
                           "WINDOWS-1251", "KOI8-R", "IBM866", or what uchardet
                           named for non-Cyrillic 8-bit text */
    int sorted;         /* 1 if cues were out of order and had to be sorted */
} SbkSubs;

/* Convert raw bytes to UTF-8. Valid UTF-8 (with or without BOM) is taken as
 * is; UTF-16 is recognised by its BOM; anything else is detected (uchardet,
 * then a Cyrillic heuristic) and converted with iconv. `enc` receives the
 * encoding assumed. *out is malloc'ed, NUL-terminated, BOM removed.
 * Returns 0, SBK_EINVAL (binary data, undecodable text; the message has no
 * file name: callers prefix it), SBK_ELIMIT (> SBK_SUBS_MAX_BYTES) or
 * SBK_ENOMEM. */
int sbk_charset_to_utf8(const uint8_t *data, size_t len, char **out, size_t *out_len,
                        char enc[32], SbkError *err);

/* Parse SRT, WebVTT or ASS/SSA (detected from content, not the name) from
 * UTF-8 text. `name` prefixes messages: "<name>:<line>: <reason>".
 * Out-of-order cues are sorted (sorted=1, and a warning is logged). A cue
 * whose text is longer than SBK_SUBS_MAX_CUE_TEXT is cut at a character
 * boundary with a warning, not refused; cues with no text are dropped.
 * Returns 0 (*out owned by the caller, free with sbk_subs_free),
 * SBK_EINVAL (bad timestamp, end not after start, garbage, no cues:
 * "<name>: no subtitles found"), SBK_ELIMIT (size, SBK_SUBS_MAX_CUES) or
 * SBK_ENOMEM; *out is NULL on failure. */
int sbk_subs_parse(const char *utf8, size_t len, const char *name, SbkSubs **out, SbkError *err);

/* Read a file, convert its encoding, parse it. Logs the encoding assumed
 * (SBK_LOG_INFO "<path>: read as <enc>") when it was not plain UTF-8.
 * A missing file is SBK_ENOENT "<path>: no such file". */
int sbk_subs_load(const char *path, SbkSubs **out, SbkError *err);

/* Serialise as UTF-8 WebVTT ("WEBVTT\n\n" + cues). `<`, `&` and `-->` in
 * text are escaped. *out is malloc'ed and NUL-terminated. */
int sbk_subs_to_vtt(const SbkSubs *subs, char **out, size_t *out_len, SbkError *err);

/* Free and NULL. Accepts NULL. */
void sbk_subs_free(SbkSubs **subs);

#ifdef __cplusplus
}
#endif
#endif
