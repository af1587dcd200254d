/* src/kiosk/search_match.c - queries and matching over the index of
 * search.c (see search.h and docs/SEARCH.md). */
#include "kiosk/search.h"
#include "kiosk/search_int.h"

#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"
#include "sabak/error.h"

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
    uint32_t field, k;  /* the field, and the cue in a run */
    uint32_t seq;       /* insertion order */
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
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct MatchState {
    const SbkSearchQuery *q;
    const int *level;
    int best[SBK_SEARCH_MAX_WORDS];
    int all_in_one[SBK_SEARCH_KINDS];
    uint32_t n_subs, n;
    int pref;
    Cand *cand;
} MatchState;

/* Match one unit (a field, or one cue of a run): [s, s+len). */
static void match_unit(MatchState *m, const Field *f, uint32_t field, uint32_t k, const char *s,
                       size_t len)
{
    const SbkSearchQuery *q = m->q;
    int words = 0, close = 0;
    for (int w = 0; w < q->n; w++) {
        /* Only at the lesson's best level for the word: a lesson that
         * has "бюджет" as typed does not also hit every "бюджетный". */
        int lv = m->level[w] == LV_EXACT
                     ? (memmem(s, len, q->words[w], q->lens[w]) ? LV_EXACT : LV_NONE)
                     : word_level(s, len, q, w);
        if (lv == LV_NONE)
            continue;
        words++;
        close |= lv != LV_EXACT;
        if (f->kind < m->best[w])
            m->best[w] = f->kind;
    }
    if (!words)
        return;
    if (words == q->n)
        m->all_in_one[f->kind] = 1;
    m->n_subs += f->kind == SBK_SEARCH_SUBTITLES;
    m->cand[m->n++] = (Cand){.field = field, .k = k, .seq = f->seq + k, .kind = f->kind,
                             .words = words, .close = close, .pref = f->lang == m->pref};
}

long sbk_search_doc_match(const SbkSearchDoc *d, const SbkSearchQuery *q, const char *pref_lang,
                          SbkSearchHit *hits, int max_hits, int *n_hits)
{
    long score = 0;
    if (n_hits)
        *n_hits = 0;
    if (!d || !q || q->n == 0 || d->n == 0)
        return 0;
    /* Fast rejection: every word somewhere in the lesson, at the level it
     * is found there at best. Fields and cues are NUL-separated, so no
     * match spans two of them. */
    int level[SBK_SEARCH_MAX_WORDS];
    for (int w = 0; w < q->n; w++)
        if ((level[w] = word_level(d->fold, d->fold_len, q, w)) == LV_NONE)
            return 0;

    MatchState m = {.q = q, .level = level, .pref = -1};
    for (int i = 0; pref_lang && i < d->n_langs; i++)
        if (strcmp(d->langs[i], pref_lang) == 0)
            m.pref = i;
    m.cand = malloc(d->units * sizeof *m.cand);
    if (!m.cand)
        return 0;
    for (int w = 0; w < q->n; w++)
        m.best[w] = SBK_SEARCH_KINDS;
    for (uint32_t i = 0; i < d->n; i++) {
        const Field *f = &d->f[i];
        const char *s = d->fold + f->fold;
        if (!f->run) {
            match_unit(&m, f, i, 0, s, f->fold_len);
            continue;
        }
        /* a run: its cues one by one */
        const char *end = s + f->fold_len;
        for (uint32_t k = 0; s < end; k++) {
            size_t len = strlen(s);
            if (len > 0)
                match_unit(&m, f, i, k, s, len);
            s += len + 1;
        }
    }
    int exact = 1;
    for (int w = 0; w < q->n; w++) {
        score += m.best[w] < SBK_SEARCH_KINDS ? kind_weight[m.best[w]] : 0;
        exact &= level[w] == LV_EXACT;
    }
    for (int k = 0; k < SBK_SEARCH_KINDS; k++)
        if (m.all_in_one[k])
            score += kind_weight[k] / 2;
    score += m.n_subs > 9 ? 9 : m.n_subs;
    if (exact)
        score += SBK_SEARCH_EXACT;

    qsort(m.cand, m.n, sizeof *m.cand, cand_cmp);
    int out = 0;
    for (uint32_t i = 0; hits && i < m.n && out < max_hits; i++) {
        const Cand *c = &m.cand[i];
        const Field *f = &d->f[c->field];
        int32_t start = f->start_ms, end = f->end_ms;
        if (f->run)
            sbk_search_run_times(d, f, c->k, &start, &end);
        hits[out++] = (SbkSearchHit){.kind = f->kind, .lang = d->langs[f->lang],
                                     .text = field_text(d->orig, f),
                                     .cue = f->run ? (int)c->k : -1, .start_ms = start,
                                     .end_ms = end, .words = c->words, .close = c->close};
    }
    if (n_hits)
        *n_hits = out;
    free(m.cand);
    return score;
}

/* ---- walking the index (tests, tools) ------------------------------------ */

int sbk_search_doc_next(SbkSearchIter *it, SbkSearchHit *u, const char **fold, size_t *fold_len)
{
    const SbkSearchDoc *d = it->doc;
    while (d && it->field < d->n) {
        const Field *f = &d->f[it->field];
        if (!f->run) {
            *u = (SbkSearchHit){.kind = f->kind, .lang = d->langs[f->lang], .text = field_text(d->orig, f),
                                .cue = -1, .start_ms = f->start_ms, .end_ms = f->end_ms};
            *fold = d->fold + f->fold;
            *fold_len = f->fold_len;
            it->field++;
            return 1;
        }
        if (it->k == 0) {
            it->p = d->fold + f->fold;
            it->t = d->times + f->times;
            it->prev = 0;
        }
        if (it->k == f->n) {
            it->field++;
            it->k = 0;
            continue;
        }
        int64_t s, len;
        it->t = get_varint(get_varint(it->t, &s), &len);
        s += it->prev;
        it->prev = s + len;
        *u = (SbkSearchHit){.kind = f->kind, .lang = d->langs[f->lang], .cue = (int)it->k,
                            .start_ms = s, .end_ms = s + len};
        *fold = it->p;
        *fold_len = strlen(it->p);
        it->p += *fold_len + 1;
        it->k++;
        return 1;
    }
    return 0;
}
