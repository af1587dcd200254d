/* src/kiosk/search.h - the kiosk's search index (internal to libsabak).
 *
 * One SbkSearchDoc per lesson, built at scan time from the manifest's titles
 * and descriptions and the cue text of the bundle's subtitles. Every field is
 * folded with sbk_utf8_fold and kept in a compact one-byte-per-letter form
 * (sbk_search_encode) in one NUL-separated blob; titles and descriptions are
 * also kept as written, cues only by their ordinal in the WebVTT file (the
 * text of the few cues a search returns is read back from the bundle with
 * sbk_search_vtt_cues). A query is folded and encoded the same way and split
 * into words; a lesson matches when every word is a substring of one of its
 * fields (AND). See docs/SEARCH.md for why this and not SQLite FTS5.
 *
 * Forgiving matches (search_stem.c): a word not found as typed is looked
 * for loosened (о у н also match ө ү ң, for keyboards without a Kyrgyz
 * layout), then by its stems (Russian: Snowball; Kyrgyz: a suffix table),
 * also loosened. Those are close matches: they rank below lessons where
 * every word is found as typed, and their hits say so (SbkSearchHit.close). */
#ifndef SABAK_KIOSK_SEARCH_H
#define SABAK_KIOSK_SEARCH_H

#include <stddef.h>
#include <stdint.h>

/* Field kinds, in ranking order (title > description > subtitles). */
enum { SBK_SEARCH_TITLE = 0, SBK_SEARCH_DESCRIPTION, SBK_SEARCH_SUBTITLES, SBK_SEARCH_KINDS };

#define SBK_SEARCH_MAX_WORDS 16
#define SBK_SEARCH_MAX_QUERY 512   /* bytes of query looked at */
#define SBK_SEARCH_MAX_HITS 20     /* per lesson */
#define SBK_SEARCH_MAX_LANGS 16
#define SBK_SEARCH_STEMS 2         /* stems tried per query word: Russian, Kyrgyz */
/* In a score: every word of the query was found as typed (no close match). */
#define SBK_SEARCH_EXACT (1L << 24)    /* distinct languages per lesson (all fields) */
/* Bounds on one lesson's index (docs/SEARCH.md): a crafted bundle of a few
 * KiB of deflated WebVTT must not cost hundreds of MiB and seconds a search.
 * Over either, add returns SBK_ELIMIT. */
#define SBK_SEARCH_MAX_CUES 20000             /* subtitle cues, all languages */
#define SBK_SEARCH_DOC_MAX_BYTES (4u << 20)   /* folded text + originals + fields */

typedef struct SbkSearchDoc SbkSearchDoc;

/* An empty document. Returns 0 or SBK_ENOMEM. */
int sbk_search_doc_new(SbkSearchDoc **out);
/* Add one field: `lang` is a language code ("ky", "ru", ...), text is UTF-8
 * (invalid bytes are dropped when folding). start/end (ms) only matter for
 * subtitles. Empty text is ignored. Returns 0 or SBK_ENOMEM/SBK_ELIMIT. */
int sbk_search_doc_add(SbkSearchDoc *doc, int kind, const char *lang, int64_t start_ms,
                       int64_t end_ms, const char *text, size_t len);
/* The same for a title or description that outlives the document and does
 * not change (the manifest's, in the kiosk): not copied; hits point to it.
 * The folded form is still the document's. */
int sbk_search_doc_add_ref(SbkSearchDoc *doc, int kind, const char *lang, const char *text);
/* Add every cue of a WebVTT file (as written by sbk_subs_to_vtt; tags are
 * stripped and entities decoded, a cue's lines joined with a space). Only
 * the folded text is kept: hits give the cue's ordinal (SbkSearchHit.cue).
 * Returns 0 or SBK_ENOMEM/SBK_ELIMIT; text that is not WebVTT adds nothing. */
int sbk_search_doc_add_vtt(SbkSearchDoc *doc, const char *lang, const char *vtt, size_t len);
/* The text of cues by ordinal (as add_vtt numbers them) from the same
 * WebVTT: texts[i] malloc'ed for cues[i], NULL when there is no such cue.
 * Returns 0 or SBK_ENOMEM. */
int sbk_search_vtt_cues(const char *vtt, size_t len, const int *cues, int n, char **texts);
/* A reader of WebVTT cues (search_vtt.c). begin returns 0, 1 when the text
 * is not WebVTT (no cues), or SBK_ENOMEM; next returns 1 with the next cue
 * (times in ms, its cleaned text in c->text, tlen bytes) or 0 at the end.
 * Free c->text when done. */
typedef struct SbkVttCursor {
    const char *p, *end;
    char *text;   /* one cue's cleaned text (as large as the file) */
} SbkVttCursor;
int sbk_search_vtt_begin(SbkVttCursor *c, const char *vtt, size_t len);
int sbk_search_vtt_next(SbkVttCursor *c, int64_t *start, int64_t *stop, size_t *tlen);
/* The index's byte form of folded UTF-8 text (see search.c): writes at most
 * len * 5 / 2 bytes to out, returns how many. */
size_t sbk_search_encode(const char *folded, size_t len, char *out);
/* Shrink the blobs to their final size (call once all fields are added). */
void sbk_search_doc_finish(SbkSearchDoc *doc);
/* Bytes of heap the document holds (for the memory budget). */
size_t sbk_search_doc_bytes(const SbkSearchDoc *doc);
/* Subtitle cues indexed so far. */
size_t sbk_search_doc_cues(const SbkSearchDoc *doc);
void sbk_search_doc_free(SbkSearchDoc **doc);

/* A parsed query: folded, encoded words (pointers into `enc`), and the
 * encoded, loosened stems of each (none when stemming changes nothing). */
typedef struct SbkSearchQuery {
    char *buf;
    char *enc;
    char *senc;
    const char *words[SBK_SEARCH_MAX_WORDS];
    size_t lens[SBK_SEARCH_MAX_WORDS];
    const char *stems[SBK_SEARCH_MAX_WORDS][SBK_SEARCH_STEMS];
    size_t stem_lens[SBK_SEARCH_MAX_WORDS][SBK_SEARCH_STEMS];
    int n_stems[SBK_SEARCH_MAX_WORDS];
    int n;
} SbkSearchQuery;

/* search_stem.c. Replace ө ү ң by о у н in UTF-8 text, in place. */
void sbk_search_loosen(char *s, size_t len);
/* The length of a loosened Kyrgyz word without its common suffixes (the
 * table in search_stem.c), at least 4 letters; len when nothing is stripped. */
size_t sbk_search_stem_ky(const char *w, size_t len);
/* The stems of one folded word (UTF-8): Russian (Snowball) and Kyrgyz,
 * loosened, written to out (cap >= 2 * len), only those shorter than the
 * word and distinct. Returns how many (0..SBK_SEARCH_STEMS). */
int sbk_search_stems(const char *w, size_t len, char *out, size_t cap,
                     const char *stems[SBK_SEARCH_STEMS], size_t lens[SBK_SEARCH_STEMS]);

/* Fold and split `q` on white space and punctuation that cannot be part of a
 * word. n == 0 means "nothing to search". Returns 0 or SBK_ENOMEM. */
int sbk_search_query_parse(const char *q, SbkSearchQuery *out);
void sbk_search_query_clear(SbkSearchQuery *q);

typedef struct SbkSearchHit {
    int kind;              /* SBK_SEARCH_* */
    const char *lang;      /* points into the document */
    const char *text;      /* the field as written, points into the document;
                              NULL for cues added by add_vtt (see `cue`) */
    int cue;               /* that cue's ordinal in its WebVTT file, else -1 */
    int64_t start_ms, end_ms;
    int words;             /* how many query words this field contains */
    int close;             /* 1: not all of them as typed (loosened or stemmed) */
} SbkSearchHit;

/* Match one document. Returns a score > 0 when every word occurs in some
 * field (AND; as typed, or else loosened, or else by a stem), 0 otherwise.
 * Hits (up to max_hits) are the fields containing at least one word,
 * ordered title, description, subtitles; within a kind by words matched,
 * exact before close, then `pref_lang` first, then time. The score weighs
 * each word by the best kind it occurs in (title > description > subtitles)
 * and has SBK_SEARCH_EXACT added when every word was found as typed. */
long sbk_search_doc_match(const SbkSearchDoc *doc, const SbkSearchQuery *q, const char *pref_lang,
                          SbkSearchHit *hits, int max_hits, int *n_hits);


/* Every unit of a document in insertion order: a title or description
 * (cue -1, text as written), or one subtitle cue (text NULL, its ordinal in
 * its WebVTT file and its times), with its encoded folded text. Start with
 * an iterator of {doc}; returns 1 with the next unit, 0 at the end. For
 * tests and tools: matching walks the index the same way. */
typedef struct SbkSearchIter {
    const SbkSearchDoc *doc;
    uint32_t field, k;
    const char *p;
    const unsigned char *t;
    int64_t prev;
} SbkSearchIter;
int sbk_search_doc_next(SbkSearchIter *it, SbkSearchHit *u, const char **fold, size_t *fold_len);

#endif
