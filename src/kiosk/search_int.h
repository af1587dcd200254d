/* src/kiosk/search_int.h - the search index's layout, shared by search.c
 * (building it) and search_match.c (queries, matching); nothing else. */
#ifndef SABAK_KIOSK_SEARCH_INT_H
#define SABAK_KIOSK_SEARCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kiosk/search.h"

/* A field: a title or description (one unit, kept as written in `orig`),
 * or a run of subtitle cues added by one add_vtt (n units). A run has no
 * record per cue: its cues are consecutive NUL-terminated strings in `fold`
 * (an empty one for a cue with no searchable text, so that the position of a
 * cue in the run is its ordinal), and their times are varints in `times`
 * (search.c, put_varint), read back only for the cues a search returns. */
typedef struct Field {
    uint8_t kind, lang, run;
    uint8_t pad;
    uint32_t orig;            /* offset into `orig`, or UINT32_MAX (none, or see `ref`) */
    uint32_t fold, fold_len;  /* the encoded folded text; a run: all its cues, NULs included */
    uint32_t seq;             /* insertion order of the (first) unit: hits keep it */
    uint32_t n;               /* units: 1, or the run's cues */
    uint32_t times;           /* a run: offset into `times` */
    int32_t start_ms, end_ms; /* one subtitle field added with sbk_search_doc_add */
    const char *ref;          /* the text as written, the caller's (sbk_search_doc_add_ref) */
} Field;

/* A field's text as written: NULL for a run. */
static inline const char *field_text(const char *orig, const Field *f)
{
    return f->ref ? f->ref : f->orig == UINT32_MAX ? NULL : orig + f->orig;
}

struct SbkSearchDoc {
    Field *f;
    uint32_t n, cap;
    uint32_t units;           /* fields plus cues: the most hits a match can have */
    char *orig;
    size_t orig_len, orig_cap;
    char *fold;
    size_t fold_len, fold_cap;
    unsigned char *times;
    size_t times_len, times_cap;
    char langs[SBK_SEARCH_MAX_LANGS][16];
    int n_langs;
    size_t n_cues;
};

/* The one-byte form of folded text (search.c, sbk_search_encode). */
#define ENC_CYR 0x80                      /* U+0430..U+045F: 48 bytes */
#define ENC_EXTRA (ENC_CYR + 48)          /* 10 bytes */
#define ENC_LATIN1 (ENC_EXTRA + 10)       /* U+00E0..U+00FF: 32 bytes, up to 0xD9 */
#define ENC_DIGIT 0xDA                    /* 37 digit bytes, up to 0xFE */
#define ENC_ESC 0xFF

static inline const unsigned char *get_varint(const unsigned char *p, int64_t *v)
{
    uint64_t z = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        unsigned char c = *p++;
        z |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80))
            break;
    }
    *v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    return p;
}

/* The times of cue k of run f (search.c). */
void sbk_search_run_times(const SbkSearchDoc *d, const Field *f, uint32_t k, int32_t *start,
                          int32_t *end);

#endif
