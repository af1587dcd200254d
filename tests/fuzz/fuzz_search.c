/* libFuzzer target for the search query parser and its stemmers
 * (src/kiosk/search.c, search_stem.c): the first line is a query, the rest
 * WebVTT cue text for the index. The query's own text, added as a title,
 * must always be found as typed (an exact match). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ql = nl ? (size_t)(nl - data) : size;
    if (ql > SBK_SEARCH_MAX_QUERY - 1)
        ql = SBK_SEARCH_MAX_QUERY - 1;
    char *qs = malloc(ql + 1);
    if (!qs)
        return 0;
    memcpy(qs, data, ql);
    qs[ql] = '\0';
    SbkSearchDoc *d = NULL;
    SbkSearchQuery q;
    SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
    int n = 0;
    if (sbk_search_doc_new(&d) < 0 || sbk_search_query_parse(qs, &q) < 0) {
        sbk_search_doc_free(&d);
        free(qs);
        return 0;
    }
    if (q.n < 0 || q.n > SBK_SEARCH_MAX_WORDS)
        abort();
    for (int w = 0; w < q.n; w++) {
        if (q.lens[w] == 0 || q.n_stems[w] < 0 || q.n_stems[w] > SBK_SEARCH_STEMS)
            abort();
        for (int k = 0; k < q.n_stems[w]; k++)
            if (q.stem_lens[w][k] == 0)
                abort();
    }
    const char *rest = nl ? (const char *)nl + 1 : "";
    size_t rl = nl ? size - ql - 1 : 0;
    if (nl)
        rl = size - (size_t)(nl - data) - 1;
    sbk_search_doc_add_vtt(d, "ru", rest, rl);
    /* strlen: the title is the query as parsed (up to a NUL). */
    int added = sbk_search_doc_add(d, SBK_SEARCH_TITLE, "ky", 0, 0, qs, strlen(qs)) == 0;
    sbk_search_doc_finish(d);
    long score = sbk_search_doc_match(d, &q, "ky", hits, SBK_SEARCH_MAX_HITS, &n);
    if (added && q.n > 0 && score < SBK_SEARCH_EXACT)
        abort();
    if (n < 0 || n > SBK_SEARCH_MAX_HITS)
        abort();
    sbk_search_query_clear(&q);
    sbk_search_doc_free(&d);
    free(qs);
    return 0;
}
