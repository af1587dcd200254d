/* sabak/lang.h - the languages every module shares: the codes lessons,
 * manifests, the catalog and the web app use, their fallback order, and
 * the checks on a language code. One table (core/lang.c), used by lesson,
 * bundle, media, kiosk and the CLI alike. */
#ifndef SABAK_LANG_H
#define SABAK_LANG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Interface and content languages, in display fallback order. */
enum { SBK_LANG_KY = 0, SBK_LANG_RU, SBK_LANG_EN, SBK_LANG_COUNT };
extern const char *const sbk_lang_codes[SBK_LANG_COUNT]; /* "ky", "ru", "en" */

/* Index of a language code (case-insensitive), or -1. */
int sbk_lang_index(const char *code);
/* Position of `code` (exact) in the fallback order; SBK_LANG_COUNT for any
 * other language and for NULL, so known languages sort first. */
int sbk_lang_rank(const char *code);
/* The first non-NULL of v[lang], then ky, ru, en. */
const char *sbk_lang_pick(char *const v[SBK_LANG_COUNT], int lang);
/* A code as manifests carry it: 2-3 lower-case letters, optionally "-" and
 * 2-8 letters or digits ("ky", "ru", "zh-hant"). */
int sbk_lang_code_ok(const char *s);
/* s[0..n) as a subtitle file or key names a language: 2-3 ASCII letters,
 * folded to lower case into out (4 bytes). Returns 1, or 0 if not a code. */
int sbk_lang_code_fold(const char *s, size_t n, char out[4]);
/* ISO 639-2 as containers store it ("kir", "rus") to the code lessons use
 * ("ky", "ru"); "und" when unknown. out holds n bytes. */
void sbk_lang_from_iso639(const char *iso, char *out, size_t n);

/* A chapter mark: where it starts, and its title in each language. Shared
 * by lesson.ini and manifest.json, so it lives here, below both. */
#define SBK_MAX_CHAPTERS 200
typedef struct SbkChapter {
    int64_t start_ms;
    char *title[SBK_LANG_COUNT]; /* UTF-8, NULL where a language has none */
} SbkChapter;

#ifdef __cplusplus
}
#endif
#endif
