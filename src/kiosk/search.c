/* src/kiosk/search.c - in-memory folded-text search index (see search.h and
 * docs/SEARCH.md). */
#include "kiosk/search.h"

#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"
#include "sabak/error.h"


typedef struct Field {
    uint8_t kind, lang;
    uint16_t pad;
    uint32_t orig;            /* offset into `orig`, or UINT32_MAX (a cue: see `cue`) */
    uint32_t fold, fold_len;  /* the encoded folded text */
    uint32_t cue;             /* subtitles added by add_vtt: the cue's ordinal */
    int32_t start_ms, end_ms; /* subtitles: 12 h max fits */
} Field;

struct SbkSearchDoc {
    Field *f;
    uint32_t n, cap;
    char *orig;
    size_t orig_len, orig_cap;
    char *fold;
    size_t fold_len, fold_cap;
    char langs[SBK_SEARCH_MAX_LANGS][16];
    int n_langs;
    size_t n_cues;
};

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
#define ENC_CYR 0x80                      /* U+0430..U+045F: 48 bytes */
#define ENC_EXTRA (ENC_CYR + 48)          /* 10 bytes */
#define ENC_LATIN1 (ENC_EXTRA + 10)       /* U+00E0..U+00FF: 32 bytes, up to 0xD9 */
#define ENC_DIGIT 0xDA                    /* 37 digit bytes, up to 0xFE */
#define ENC_ESC 0xFF

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
    free(d);
    *pdoc = NULL;
}

size_t sbk_search_doc_bytes(const SbkSearchDoc *d)
{
    return d ? sizeof *d + d->cap * sizeof(Field) + d->orig_cap + d->fold_cap : 0;
}

size_t sbk_search_doc_cues(const SbkSearchDoc *d) { return d ? d->n_cues : 0; }

/* Would a field of elen encoded (and keep original) bytes cross the bounds?
 * Counted on lengths, not on capacities: the blobs shrink at finish. */
static int over_bounds(const SbkSearchDoc *d, int kind, size_t elen, size_t keep)
{
    if (kind == SBK_SEARCH_SUBTITLES && d->n_cues >= SBK_SEARCH_MAX_CUES)
        return 1;
    size_t used = (size_t)(d->n + 1) * sizeof(Field) + d->orig_len + d->fold_len;
    return used + elen + 1 + (keep ? keep + 1 : 0) > SBK_SEARCH_DOC_MAX_BYTES;
}

static int blob_append(char **blob, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        while (c < *len + n + 1)
            c *= 2;
        char *p = realloc(*blob, c);
        if (!p)
            return SBK_ENOMEM;
        *blob = p;
        *cap = c;
    }
    memcpy(*blob + *len, s, n);
    (*blob)[*len + n] = '\0';
    *len += n + 1;
    return 0;
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

static int add_field(SbkSearchDoc *d, int kind, const char *lang, int64_t start_ms,
                     int64_t end_ms, const char *text, size_t len, int keep_text, uint32_t cue)
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
    if (over_bounds(d, kind, elen, keep_text ? strnlen(text, len) : 0)) {
        ret = SBK_ELIMIT;
        goto done;
    }
    if (d->n == d->cap) {
        uint32_t c = d->cap ? d->cap * 2 : 16;
        Field *f = realloc(d->f, c * sizeof *f);
        if (!f) {
            ret = SBK_ENOMEM;
            goto done;
        }
        d->f = f;
        d->cap = c;
    }
    Field *f = &d->f[d->n];
    *f = (Field){.kind = (uint8_t)kind, .lang = (uint8_t)slot, .orig = UINT32_MAX,
                 .fold = (uint32_t)d->fold_len, .fold_len = (uint32_t)elen, .cue = cue};
    f->start_ms = (int32_t)(start_ms < 0 ? 0 : start_ms > INT32_MAX ? INT32_MAX : start_ms);
    f->end_ms = (int32_t)(end_ms < 0 ? 0 : end_ms > INT32_MAX ? INT32_MAX : end_ms);
    size_t orig_before = d->orig_len;
    if (keep_text) {
        /* The original must not contain NUL either: fields are NUL-separated. */
        f->orig = (uint32_t)d->orig_len;
        ret = blob_append(&d->orig, &d->orig_len, &d->orig_cap, text, strnlen(text, len));
        if (ret < 0)
            goto done;
    }
    ret = blob_append(&d->fold, &d->fold_len, &d->fold_cap, enc, elen);
    if (ret < 0) {
        d->orig_len = orig_before; /* undo the half-added field */
        goto done;
    }
    d->n++;
    d->n_cues += kind == SBK_SEARCH_SUBTITLES;
done:
    free(enc);
    return ret;
}

int sbk_search_doc_add(SbkSearchDoc *d, int kind, const char *lang, int64_t start_ms,
                       int64_t end_ms, const char *text, size_t len)
{
    return add_field(d, kind, lang, start_ms, end_ms, text, len, 1, UINT32_MAX);
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
    if (d->cap > d->n && d->n > 0) {
        Field *f = realloc(d->f, d->n * sizeof *f);
        if (f) {
            d->f = f;
            d->cap = d->n;
        }
    }
}

int sbk_search_doc_add_vtt(SbkSearchDoc *d, const char *lang, const char *vtt, size_t len)
{
    SbkVttCursor c;
    int64_t start, stop;
    size_t tlen;
    int ret = sbk_search_vtt_begin(&c, vtt, len);
    if (ret != 0)
        return ret < 0 ? ret : 0;
    for (uint32_t cue = 0; ret == 0 && sbk_search_vtt_next(&c, &start, &stop, &tlen); cue++)
        ret = add_field(d, SBK_SEARCH_SUBTITLES, lang, start, stop, c.text, tlen, 0, cue);
    free(c.text);
    return ret;
}


/* ---- queries ------------------------------------------------------------- */

void sbk_search_query_clear(SbkSearchQuery *q)
{
    if (!q)
        return;
    free(q->buf);
    free(q->enc);
    free(q->senc);
    memset(q, 0, sizeof *q);
}

/* Separators: ASCII space and punctuation that never belongs inside a word we
 * search for, plus the typographic quotes and dashes people paste. '-', '.',
 * '\'' stay inside words ("e-mail", "2.5") but are trimmed at their ends. */
static size_t sep_len(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    if (c < 0x80)
        return (c <= ' ' || strchr(",;:!?\"()[]{}<>/\\|*+=#", c)) ? 1 : 0;
    static const char *const u[] = {"\xc2\xa0", "\xc2\xab", "\xc2\xbb", "\xe2\x80\x9c",
                                    "\xe2\x80\x9d", "\xe2\x80\x9e", "\xe2\x80\x94",
                                    "\xe2\x80\x93", "\xe2\x80\xa6", "\xe2\x80\xaf"};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        size_t n = strlen(u[i]);
        if ((size_t)(end - p) >= n && memcmp(p, u[i], n) == 0)
            return n;
    }
    return 0;
}

/* The stems of the folded word [w, w+len), encoded into q->senc at *so. */
static void add_stems(SbkSearchQuery *q, int i, const char *w, size_t len, char *tmp, size_t *so)
{
    const char *st[SBK_SEARCH_STEMS];
    size_t sl[SBK_SEARCH_STEMS];
    int n = sbk_search_stems(w, len, tmp, 2 * len, st, sl);
    q->n_stems[i] = 0;
    for (int k = 0; k < n; k++) {
        char *e = q->senc + *so;
        size_t elen = sbk_search_encode(st[k], sl[k], e);
        if (elen == 0)
            continue;
        q->stems[i][q->n_stems[i]] = e;
        q->stem_lens[i][q->n_stems[i]++] = elen;
        *so += elen;
    }
}

int sbk_search_query_parse(const char *qs, SbkSearchQuery *q)
{
    memset(q, 0, sizeof *q);
    if (!qs)
        return 0;
    size_t len = strnlen(qs, SBK_SEARCH_MAX_QUERY);
    q->buf = sbk_utf8_fold(qs, len);
    if (!q->buf)
        return SBK_ENOMEM;
    size_t flen = strlen(q->buf), eo = 0, so = 0;
    q->enc = malloc(flen * 5 / 2 + 1);
    q->senc = malloc(flen * 5 + 1); /* two stems a word, each shorter than it */
    char *tmp = malloc(2 * flen + 2);
    if (!q->enc || !q->senc || !tmp) {
        free(tmp);
        sbk_search_query_clear(q);
        return SBK_ENOMEM;
    }
    char *p = q->buf, *end = q->buf + flen;
    while (p < end && q->n < SBK_SEARCH_MAX_WORDS) {
        size_t s;
        while (p < end && (s = sep_len(p, end)) > 0)
            p += s;
        char *w = p;
        while (p < end && sep_len(p, end) == 0)
            p++;
        char *we = p;
        while (w < we && (*w == '-' || *w == '.' || *w == '\''))
            w++;
        while (we > w && (we[-1] == '-' || we[-1] == '.' || we[-1] == '\''))
            we--;
        char *e = q->enc + eo;
        size_t elen = sbk_search_encode(w, (size_t)(we - w), e);
        if (elen == 0)
            continue;
        /* Drop duplicates: "банк банк" is one word. */
        int dup = 0;
        for (int i = 0; i < q->n; i++)
            if (q->lens[i] == elen && memcmp(q->words[i], e, elen) == 0)
                dup = 1;
        if (dup)
            continue;
        q->words[q->n] = e;
        q->lens[q->n] = elen;
        add_stems(q, q->n, w, (size_t)(we - w), tmp, &so);
        q->n++;
        eo += elen;
    }
    free(tmp);
    return 0;
}

/* ---- matching ------------------------------------------------------------ */

/* Loosened comparison of encoded text: ө ү ң (ENC_EXTRA + 9, 3, 2) are the
 * same as о у н. No escape byte is one of these, so escapes still match
 * only themselves. */
static inline unsigned char loose(unsigned char c)
{
    switch (c) {
    case ENC_EXTRA + 9:
        return ENC_CYR + (0x43e - 0x430); /* ө -> о */
    case ENC_EXTRA + 3:
        return ENC_CYR + (0x443 - 0x430); /* ү -> у */
    case ENC_EXTRA + 2:
        return ENC_CYR + (0x43d - 0x430); /* ң -> н */
    default:
        return c;
    }
}

/* A byte that only ever equals itself when loosened (not о у н ө ү ң). */
static inline int plain_byte(unsigned char c)
{
    return loose(c) == c && c != ENC_CYR + (0x43e - 0x430) && c != ENC_CYR + (0x443 - 0x430) &&
           c != ENC_CYR + (0x43d - 0x430);
}

/* How rare a letter is in Kyrgyz and Russian text: the most common letters
 * (folded, encoded) from the most frequent; anything else is rarer. */
static int rarity(unsigned char c)
{
    static const uint16_t common[] = {0x43e, 0x430, 0x435, 0x438, 0x43d, 0x442, 0x441, 0x440,
                                      0x44b, 0x43b, 0x43a, 0x432, 0x434, 0x43c, 0x443, 0x43f,
                                      0x431, 0x433, 0x437, 0x44f, 0x447, 0x436, 0x439, 0x44c};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (c == ENC_CYR + (common[i] - 0x430))
            return (int)i;
    return 100;
}

static int loose_find(const char *hay, size_t hl, const char *needle, size_t nl)
{
    const unsigned char *h = (const unsigned char *)hay, *n = (const unsigned char *)needle;
    if (nl == 0 || nl > hl)
        return nl == 0;
    /* Candidates by memchr on the needle's rarest plain byte, then a
     * loosened compare of the whole needle. */
    size_t k = nl;
    int best = -1;
    for (size_t j = 0; j < nl; j++) {
        int r = plain_byte(n[j]) ? rarity(n[j]) : -1;
        if (r > best) {
            best = r;
            k = j;
        }
    }
    for (size_t i = 0; i + nl <= hl; i++) {
        if (k < nl) {
            const unsigned char *c = memchr(h + i + k, n[k], hl - nl + 1 - i);
            if (!c)
                return 0;
            i = (size_t)(c - h) - k;
        }
        size_t j = 0;
        while (j < nl && loose(h[i + j]) == loose(n[j]))
            j++;
        if (j == nl)
            return 1;
    }
    return 0;
}

enum { LV_EXACT = 0, LV_LOOSE, LV_STEM, LV_NONE };

/* How word w occurs in [s, s+len): as typed, loosened, by a stem, or not. */
static int word_level(const char *s, size_t len, const SbkSearchQuery *q, int w)
{
    if (memmem(s, len, q->words[w], q->lens[w]))
        return LV_EXACT;
    if (loose_find(s, len, q->words[w], q->lens[w]))
        return LV_LOOSE;
    for (int k = 0; k < q->n_stems[w]; k++)
        if (loose_find(s, len, q->stems[w][k], q->stem_lens[w][k]))
            return LV_STEM;
    return LV_NONE;
}

static const long kind_weight[SBK_SEARCH_KINDS] = {1000, 100, 10};

typedef struct Cand {
    uint32_t field;
    int kind, words, close, pref;
} Cand;

/* Hit order: kind (title, description, subtitles), more words first, exact
 * before close, the preferred language first, then insertion order (cues in
 * time order). */
static int cand_cmp(const void *a, const void *b)
{
    const Cand *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    if (x->words != y->words)
        return y->words - x->words;
    if (x->close != y->close)
        return x->close - y->close;
    if (x->pref != y->pref)
        return y->pref - x->pref;
    return x->field < y->field ? -1 : x->field > y->field;
}

long sbk_search_doc_match(const SbkSearchDoc *d, const SbkSearchQuery *q, const char *pref_lang,
                          SbkSearchHit *hits, int max_hits, int *n_hits)
{
    long score = 0;
    Cand *cand = NULL;
    if (n_hits)
        *n_hits = 0;
    if (!d || !q || q->n == 0 || d->n == 0)
        return 0;
    /* Fast rejection: every word somewhere in the lesson, at the level it
     * is found there at best. Fields are NUL-separated, so no match spans
     * two fields. */
    int level[SBK_SEARCH_MAX_WORDS];
    for (int w = 0; w < q->n; w++)
        if ((level[w] = word_level(d->fold, d->fold_len, q, w)) == LV_NONE)
            return 0;

    int pref = -1;
    for (int i = 0; pref_lang && i < d->n_langs; i++)
        if (strcmp(d->langs[i], pref_lang) == 0)
            pref = i;

    cand = malloc(d->n * sizeof *cand);
    if (!cand)
        return 0;
    int best[SBK_SEARCH_MAX_WORDS];
    for (int w = 0; w < q->n; w++)
        best[w] = SBK_SEARCH_KINDS;
    int all_in_one[SBK_SEARCH_KINDS] = {0};
    uint32_t n_subs = 0, n = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        const Field *f = &d->f[i];
        const char *s = d->fold + f->fold;
        int words = 0, close = 0;
        for (int w = 0; w < q->n; w++) {
            /* Only at the lesson's best level for the word: a lesson that
             * has "бюджет" as typed does not also hit every "бюджетный". */
            int lv = level[w] == LV_EXACT
                         ? (memmem(s, f->fold_len, q->words[w], q->lens[w]) ? LV_EXACT : LV_NONE)
                         : word_level(s, f->fold_len, q, w);
            if (lv == LV_NONE)
                continue;
            words++;
            close |= lv != LV_EXACT;
            if (f->kind < best[w])
                best[w] = f->kind;
        }
        if (!words)
            continue;
        if (words == q->n)
            all_in_one[f->kind] = 1;
        n_subs += f->kind == SBK_SEARCH_SUBTITLES;
        cand[n++] = (Cand){.field = i, .kind = f->kind, .words = words, .close = close,
                           .pref = f->lang == pref};
    }
    int exact = 1;
    for (int w = 0; w < q->n; w++) {
        score += best[w] < SBK_SEARCH_KINDS ? kind_weight[best[w]] : 0;
        exact &= level[w] == LV_EXACT;
    }
    for (int k = 0; k < SBK_SEARCH_KINDS; k++)
        if (all_in_one[k])
            score += kind_weight[k] / 2;
    score += n_subs > 9 ? 9 : n_subs;
    if (exact)
        score += SBK_SEARCH_EXACT;

    qsort(cand, n, sizeof *cand, cand_cmp);
    int out = 0;
    for (uint32_t i = 0; hits && i < n && out < max_hits; i++) {
        const Field *f = &d->f[cand[i].field];
        hits[out++] = (SbkSearchHit){.kind = f->kind, .lang = d->langs[f->lang],
                                     .text = f->orig == UINT32_MAX ? NULL : d->orig + f->orig,
                                     .cue = f->orig == UINT32_MAX ? (int)f->cue : -1,
                                     .start_ms = f->start_ms, .end_ms = f->end_ms,
                                     .words = cand[i].words, .close = cand[i].close};
    }
    if (n_hits)
        *n_hits = out;
    free(cand);
    return score;
}
