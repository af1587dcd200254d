/* src/kiosk/search.c - in-memory folded-text search index (see search.h and
 * docs/SEARCH.md). */
#include "kiosk/search.h"
#include "kiosk/search_int.h"

#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"
#include "sabak/error.h"


/* ---- the one-byte form of folded text -----------------------------------
 * Folded Kyrgyz and Russian text is almost all lower-case Cyrillic: two
 * bytes a letter in UTF-8. The index keeps it one byte a letter: ASCII as
 * is, the folded Cyrillic block U+0430..U+045F, the letters of Kyrgyz and its
 * neighbours (ғ қ ң ү ұ ҳ ҷ һ ә ө) and Latin-1 lower case as 0x80..0xD9;
 * anything else as 0xFF + four base-37 digits in 0xDA..0xFE. No byte of an
 * escape is a letter byte and 0xFF only starts one, so a byte substring of
 * the encoded text is exactly a substring of the folded text. */
static const uint16_t extra_letters[] = {0x493, 0x49b, 0x4a3, 0x4af, 0x4b1,
                                         0x4b3, 0x4b7, 0x4bb, 0x4d9, 0x4e9};

size_t sbk_search_encode(const char *folded, size_t len, char *out)
{
    const char *p = folded, *end = folded + len;
    unsigned char *o = (unsigned char *)out;
    while (p < end) {
        int32_t cp = sbk_utf8_next(&p, end);
        if (cp <= 0)
            continue; /* invalid bytes and NUL carry no meaning */
        if (cp < 0x80) {
            *o++ = (unsigned char)cp;
            continue;
        }
        if (cp >= 0x430 && cp <= 0x45f) {
            *o++ = (unsigned char)(ENC_CYR + (cp - 0x430));
            continue;
        }
        if (cp >= 0xe0 && cp <= 0xff) {
            *o++ = (unsigned char)(ENC_LATIN1 + (cp - 0xe0));
            continue;
        }
        size_t i;
        for (i = 0; i < sizeof extra_letters / sizeof extra_letters[0]; i++)
            if (extra_letters[i] == cp)
                break;
        if (i < sizeof extra_letters / sizeof extra_letters[0]) {
            *o++ = (unsigned char)(ENC_EXTRA + i);
            continue;
        }
        *o++ = ENC_ESC;
        for (int k = 3; k >= 0; k--) {
            int32_t div = k == 3 ? 37 * 37 * 37 : k == 2 ? 37 * 37 : k == 1 ? 37 : 1;
            *o++ = (unsigned char)(ENC_DIGIT + (cp / div) % 37);
        }
    }
    return (size_t)(o - (unsigned char *)out);
}

/* Fold and encode; *out malloc'ed (not NUL-terminated text, but NUL-free). */
static int fold_encode(const char *text, size_t len, char **out, size_t *out_len)
{
    char *folded = sbk_utf8_fold(text, len);
    if (!folded)
        return SBK_ENOMEM;
    size_t flen = strlen(folded);
    *out = malloc(flen * 5 / 2 + 1); /* a 2-byte character escaped takes 5 */
    if (!*out) {
        free(folded);
        return SBK_ENOMEM;
    }
    *out_len = sbk_search_encode(folded, flen, *out);
    free(folded);
    return 0;
}

int sbk_search_doc_new(SbkSearchDoc **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : SBK_ENOMEM;
}

void sbk_search_doc_free(SbkSearchDoc **pdoc)
{
    if (!pdoc || !*pdoc)
        return;
    SbkSearchDoc *d = *pdoc;
    free(d->f);
    free(d->orig);
    free(d->fold);
    free(d->times);
    free(d);
    *pdoc = NULL;
}

size_t sbk_search_doc_bytes(const SbkSearchDoc *d)
{
    return d ? sizeof *d + d->cap * sizeof(Field) + d->orig_cap + d->fold_cap + d->times_cap : 0;
}

size_t sbk_search_doc_cues(const SbkSearchDoc *d) { return d ? d->n_cues : 0; }

/* Would a field of elen encoded (and keep original) bytes cross the bounds?
 * Counted on lengths, not on capacities: the blobs shrink at finish. */
static int over_bounds(const SbkSearchDoc *d, int kind, size_t elen, size_t keep)
{
    if (kind == SBK_SEARCH_SUBTITLES && d->n_cues >= SBK_SEARCH_MAX_CUES)
        return 1;
    size_t used = (size_t)(d->n + 1) * sizeof(Field) + d->orig_len + d->fold_len + d->times_len;
    return used + elen + 1 + (keep ? keep + 1 : 0) > SBK_SEARCH_DOC_MAX_BYTES;
}

static int grow(char **blob, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 1024;
    while (c < need)
        c *= 2;
    char *p = realloc(*blob, c);
    if (!p)
        return SBK_ENOMEM;
    *blob = p;
    *cap = c;
    return 0;
}

static int blob_append(char **blob, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (grow(blob, cap, *len + n + 1) < 0)
        return SBK_ENOMEM;
    memcpy(*blob + *len, s, n);
    (*blob)[*len + n] = '\0';
    *len += n + 1;
    return 0;
}

/* ---- a run's cue times ----------------------------------------------------
 * Per cue two zigzag varints: its start less the previous cue's end (the
 * run starts at 0), then its length; a cue of a few seconds right after
 * the previous one takes 3 bytes, where two int32 took 8. */
static unsigned char *put_varint(unsigned char *o, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z >= 0x80) {
        *o++ = (unsigned char)(z | 0x80);
        z >>= 7;
    }
    *o++ = (unsigned char)z;
    return o;
}

static int32_t clamp_ms(int64_t ms) { return (int32_t)(ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : ms); }

/* The times of cue k of run f. */
void sbk_search_run_times(const SbkSearchDoc *d, const Field *f, uint32_t k, int32_t *start,
                          int32_t *end)
{
    const unsigned char *p = d->times + f->times;
    int64_t prev = 0, s = 0, len = 0;
    for (uint32_t i = 0; i <= k; i++) {
        p = get_varint(p, &s);
        p = get_varint(p, &len);
        s += prev;
        prev = s + len;
    }
    *start = (int32_t)s;
    *end = (int32_t)(s + len);
}

static int lang_slot(SbkSearchDoc *d, const char *lang)
{
    if (!lang)
        lang = "";
    for (int i = 0; i < d->n_langs; i++)
        if (strcmp(d->langs[i], lang) == 0)
            return i;
    if (d->n_langs == SBK_SEARCH_MAX_LANGS || strlen(lang) >= sizeof d->langs[0])
        return -1;
    strcpy(d->langs[d->n_langs], lang);
    return d->n_langs++;
}

static Field *new_field(SbkSearchDoc *d)
{
    if (d->n == d->cap) {
        uint32_t c = d->cap ? d->cap * 2 : 8;
        Field *f = realloc(d->f, c * sizeof *f);
        if (!f)
            return NULL;
        d->f = f;
        d->cap = c;
    }
    return &d->f[d->n];
}

static int add_text(SbkSearchDoc *d, int kind, const char *lang, int64_t start_ms, int64_t end_ms,
                    const char *text, size_t len, int borrow)
{
    int ret = 0;
    char *enc = NULL;
    size_t elen = 0;
    if (kind < 0 || kind >= SBK_SEARCH_KINDS)
        return SBK_EINVAL;
    if (!text || len == 0)
        return 0;
    int slot = lang_slot(d, lang);
    if (slot < 0)
        return SBK_ELIMIT;
    ret = fold_encode(text, len, &enc, &elen);
    if (ret < 0)
        return ret;
    if (elen == 0)
        goto done;
    size_t keep = borrow ? 0 : strnlen(text, len); /* the original must not contain NUL either */
    if (over_bounds(d, kind, elen, keep)) {
        ret = SBK_ELIMIT;
        goto done;
    }
    Field *f = new_field(d);
    if (!f) {
        ret = SBK_ENOMEM;
        goto done;
    }
    *f = (Field){.kind = (uint8_t)kind, .lang = (uint8_t)slot,
                 .orig = borrow ? UINT32_MAX : (uint32_t)d->orig_len, .fold = (uint32_t)d->fold_len,
                 .fold_len = (uint32_t)elen, .seq = d->units, .n = 1,
                 .start_ms = clamp_ms(start_ms), .end_ms = clamp_ms(end_ms),
                 .ref = borrow ? text : NULL};
    size_t orig_before = d->orig_len;
    if (!borrow)
        ret = blob_append(&d->orig, &d->orig_len, &d->orig_cap, text, keep);
    if (ret < 0)
        goto done;
    ret = blob_append(&d->fold, &d->fold_len, &d->fold_cap, enc, elen);
    if (ret < 0) {
        d->orig_len = orig_before; /* undo the half-added field */
        goto done;
    }
    d->n++;
    d->units++;
    d->n_cues += kind == SBK_SEARCH_SUBTITLES;
done:
    free(enc);
    return ret;
}

int sbk_search_doc_add(SbkSearchDoc *d, int kind, const char *lang, int64_t start_ms,
                       int64_t end_ms, const char *text, size_t len)
{
    return add_text(d, kind, lang, start_ms, end_ms, text, len, 0);
}

int sbk_search_doc_add_ref(SbkSearchDoc *d, int kind, const char *lang, const char *text)
{
    return add_text(d, kind, lang, 0, 0, text, text ? strlen(text) : 0, 1);
}

static void shrink(char **blob, size_t len, size_t *cap)
{
    if (*cap > len) {
        char *p = realloc(*blob, len ? len : 1);
        if (p) {
            *blob = p;
            *cap = len ? len : 1;
        }
    }
}

void sbk_search_doc_finish(SbkSearchDoc *d)
{
    if (!d)
        return;
    shrink(&d->orig, d->orig_len, &d->orig_cap);
    shrink(&d->fold, d->fold_len, &d->fold_cap);
    shrink((char **)&d->times, d->times_len, &d->times_cap);
    if (d->cap > d->n && d->n > 0) {
        Field *f = realloc(d->f, d->n * sizeof *f);
        if (f) {
            d->f = f;
            d->cap = d->n;
        }
    }
}

/* One cue onto the run being built (the last field). */
static int add_cue(SbkSearchDoc *d, Field *f, int64_t *prev_end, int64_t start, int64_t stop,
                   const char *text, size_t len)
{
    char *enc = NULL;
    size_t elen = 0;
    int ret = fold_encode(text, len, &enc, &elen);
    if (ret < 0)
        return ret;
    if (elen > 0 && over_bounds(d, SBK_SEARCH_SUBTITLES, elen + 6, 0)) {
        free(enc);
        return SBK_ELIMIT;
    }
    int32_t s = clamp_ms(start), e = clamp_ms(stop);
    ret = grow((char **)&d->times, &d->times_cap, d->times_len + 20);
    if (ret == 0)
        ret = blob_append(&d->fold, &d->fold_len, &d->fold_cap, enc, elen);
    free(enc);
    if (ret < 0)
        return ret;
    unsigned char *o = d->times + d->times_len;
    o = put_varint(o, (int64_t)s - *prev_end);
    o = put_varint(o, (int64_t)e - s);
    d->times_len = (size_t)(o - d->times);
    *prev_end = e;
    f->fold_len += (uint32_t)elen + 1;
    f->n++;
    d->units++;
    d->n_cues += elen > 0;
    return 0;
}

int sbk_search_doc_add_vtt(SbkSearchDoc *d, const char *lang, const char *vtt, size_t len)
{
    SbkVttCursor c;
    int64_t start, stop, prev_end = 0;
    size_t tlen;
    int ret = sbk_search_vtt_begin(&c, vtt, len);
    if (ret != 0)
        return ret < 0 ? ret : 0;
    if (!sbk_search_vtt_next(&c, &start, &stop, &tlen)) {
        free(c.text);
        return 0; /* no cues */
    }
    int slot = lang_slot(d, lang);
    Field *f = slot < 0 ? NULL : new_field(d);
    if (!f) {
        free(c.text);
        return slot < 0 ? SBK_ELIMIT : SBK_ENOMEM;
    }
    *f = (Field){.kind = SBK_SEARCH_SUBTITLES, .lang = (uint8_t)slot, .run = 1,
                 .orig = UINT32_MAX, .fold = (uint32_t)d->fold_len, .seq = d->units,
                 .times = (uint32_t)d->times_len};
    do
        ret = add_cue(d, f, &prev_end, start, stop, c.text, tlen);
    while (ret == 0 && sbk_search_vtt_next(&c, &start, &stop, &tlen));
    free(c.text);
    if (f->n > 0) /* what was added before a bound stays searchable */
        d->n++;
    return ret;
}
