/* src/kiosk/library_search.c - the library's search: each bundle's index
 * (titles, descriptions, subtitle cues, built at scan time) and
 * sbk_library_search_json over the current snapshot. The index itself is
 * search.c, the JSON catalog.c; this file joins them to the library. */
#include "kiosk/library_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/catalog.h"
#include "kiosk/library.h"
#include "kiosk/search.h"
#include "sabak/core.h"
#include "sabak/lang.h"

/* The (first) subtitles file of a language. */
static const SbkManifestFile *subtitles_for(const SbkManifest *m, const char *lang)
{
    for (int i = 0; i < m->n_files; i++) {
        const SbkManifestFile *f = &m->files[i];
        if (f->kind && strcmp(f->kind, "subtitles") == 0 &&
            strcmp(f->lang ? f->lang : "", lang ? lang : "") == 0)
            return f;
    }
    return NULL;
}

/* Titles and descriptions: short, bounded by the manifest's own limits.
 * Hits point to the manifest's text (it lives as long as lb->doc). */
static int index_titles(LibBundle *lb)
{
    const SbkManifest *m = lb->b->manifest;
    int ret = 0;
    for (int l = 0; ret == 0 && l < SBK_LANG_COUNT; l++)
        if (m->title[l])
            ret = sbk_search_doc_add_ref(lb->doc, SBK_SEARCH_TITLE, sbk_lang_codes[l], m->title[l]);
    for (int l = 0; ret == 0 && l < SBK_LANG_COUNT; l++)
        if (m->description[l])
            ret = sbk_search_doc_add_ref(lb->doc, SBK_SEARCH_DESCRIPTION, sbk_lang_codes[l],
                                         m->description[l]);
    return ret;
}

/* The cues of each language's subtitles, within the bounds of search.h. */
static int index_subtitles(LibBundle *lb, SbkError *err)
{
    const SbkManifest *m = lb->b->manifest;
    int ret = 0, langs = 0;
    for (int i = 0; i < m->n_files; i++) {
        const SbkManifestFile *f = &m->files[i];
        if (f->kind && strcmp(f->kind, "subtitles") == 0 && subtitles_for(m, f->lang) == f)
            langs++;
    }
    if (langs > INDEX_MAX_SUB_LANGS)
        return sbk_err(err, SBK_ELIMIT,
                       "%s: subtitles in %d languages; the search index takes at most %d", lb->file,
                       langs, INDEX_MAX_SUB_LANGS);
    for (int i = 0; i < m->n_files; i++) {
        const SbkManifestFile *f = &m->files[i];
        char *vtt = NULL;
        size_t len = 0;
        if (!f->kind || strcmp(f->kind, "subtitles") != 0 || subtitles_for(m, f->lang) != f)
            continue; /* hits name a cue by language and ordinal: one file per language */
        ret = sbk_bundle_read_entry(lb->b, f->path, VTT_MAX_BYTES, &vtt, &len, err);
        if (ret == 0)
            ret = sbk_search_doc_add_vtt(lb->doc, f->lang ? f->lang : "", vtt, len);
        free(vtt);
        if (ret == SBK_ELIMIT && (!err || err->code != ret))
            return sbk_err(err, ret,
                           "%s: %s: the subtitles are over the search index's bounds (%d cues, "
                           "%u KiB a lesson)",
                           lb->file, f->path, SBK_SEARCH_MAX_CUES, SBK_SEARCH_DOC_MAX_BYTES >> 10);
        if (ret < 0) {
            if (err && err->code != ret)
                sbk_err(err, ret, "%s: %s: %s", lb->file, f->path, sbk_strerror(ret));
            return ret;
        }
    }
    return 0;
}

/* Titles, descriptions and subtitle cues of one bundle. A bundle over a
 * bound of its own fails (SBK_ELIMIT: listed as damaged, with the reason);
 * one that would take the library's indexes over INDEX_TOTAL_MAX_BYTES is
 * served with its titles and descriptions searchable, not its subtitles. */
int sbk_lib_index_bundle(LibBundle *lb, SbkError *err)
{
    int ret = sbk_search_doc_new(&lb->doc);
    if (ret == 0)
        ret = index_titles(lb);
    if (ret < 0)
        return sbk_err(err, ret, "%s: cannot index the titles: %s", lb->file, sbk_strerror(ret));
    ret = index_subtitles(lb, err);
    if (ret < 0)
        return ret;
    sbk_search_doc_finish(lb->doc);
    SbkLibrary *lib = lb->lib;
    size_t bytes = sbk_search_doc_bytes(lb->doc);
    size_t total = __atomic_add_fetch(&lib->index_bytes, bytes, __ATOMIC_RELAXED);
    if (total > lib->index_budget) {
        __atomic_sub_fetch(&lib->index_bytes, bytes, __ATOMIC_RELAXED);
        sbk_log(SBK_LOG_WARN,
                "%s: the library's search index is full (%zu MiB): its subtitles are not searched",
                lb->file, lib->index_budget >> 20);
        sbk_search_doc_free(&lb->doc);
        ret = sbk_search_doc_new(&lb->doc);
        if (ret == 0)
            ret = index_titles(lb);
        if (ret < 0)
            return sbk_err(err, ret, "%s: cannot index the titles: %s", lb->file, sbk_strerror(ret));
        sbk_search_doc_finish(lb->doc);
        bytes = sbk_search_doc_bytes(lb->doc);
        __atomic_add_fetch(&lib->index_bytes, bytes, __ATOMIC_RELAXED);
    }
    lb->doc_bytes = bytes;
    return 0;
}

typedef struct Found {
    long score;
    size_t shelf;   /* position in the catalog: ties keep the shelf order */
    SbkSearchHit *hits;
    char **texts;   /* cue texts read back for the hits (owned) */
    int n_hits;
    LibBundle *lb;
} Found;

/* The index keeps cues only folded: read the text of the cues hit back
 * from the bundle's WebVTT (inflated once, then from the text cache). */
static int fill_cue_texts(Found *f)
{
    int ret = 0;
    f->texts = calloc((size_t)f->n_hits + 1, sizeof *f->texts);
    if (!f->texts)
        return SBK_ENOMEM;
    for (int i = 0; i < f->n_hits && ret == 0; i++) {
        if (f->hits[i].cue < 0 || f->texts[i])
            continue;
        /* every hit of this language in one pass over its file */
        const char *lang = f->hits[i].lang;
        int idx[SBK_SEARCH_MAX_HITS], at[SBK_SEARCH_MAX_HITS], n = 0;
        char *got[SBK_SEARCH_MAX_HITS];
        for (int k = i; k < f->n_hits && n < SBK_SEARCH_MAX_HITS; k++)
            if (f->hits[k].cue >= 0 && strcmp(f->hits[k].lang, lang) == 0) {
                idx[n] = f->hits[k].cue;
                at[n++] = k;
            }
        const SbkManifestFile *sf = subtitles_for(f->lb->b->manifest, lang);
        char *vtt = NULL;
        size_t len = 0;
        if (!sf || sbk_lib_read_text(f->lb, sf->path, &vtt, &len) < 0)
            continue; /* leave those texts empty rather than fail the search */
        ret = sbk_search_vtt_cues(vtt, len, idx, n, got);
        free(vtt);
        for (int k = 0; ret == 0 && k < n; k++)
            f->texts[at[k]] = got[k];
    }
    for (int i = 0; i < f->n_hits; i++)
        if (f->hits[i].cue >= 0)
            f->hits[i].text = f->texts[i] ? f->texts[i] : "";
    return ret;
}

static int found_cmp(const void *a, const void *b)
{
    const Found *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->shelf < y->shelf ? -1 : x->shelf > y->shelf;
}

int sbk_library_search_json(SbkLibrary *lib, const char *query, const char *lang, int limit,
                            char **out, size_t *len)
{
    int ret = 0;
    SbkSearchQuery q = {0};
    Found *found = NULL;
    SbkCatalogResult *res = NULL;
    size_t nf = 0;
    SbkSearchHit scratch[SBK_SEARCH_MAX_HITS];
    Snapshot *s = sbk_lib_snap_get(lib);
    *out = NULL;
    if (limit <= 0)
        limit = 20;
    if (limit > 100)
        limit = 100;
    ret = sbk_search_query_parse(query, &q);
    if (ret < 0)
        goto done;
    found = calloc(s->n_served + 1, sizeof *found);
    res = calloc(s->n_served + 1, sizeof *res);
    if (!found || !res) {
        ret = SBK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; q.n > 0 && i < s->n_served; i++) {
        int nh = 0;
        long score = sbk_search_doc_match(s->served[i]->doc, &q, lang, scratch,
                                          SBK_SEARCH_MAX_HITS, &nh);
        if (score <= 0)
            continue;
        found[nf] = (Found){.score = score, .shelf = i, .n_hits = nh, .lb = s->served[i]};
        found[nf].hits = malloc((size_t)(nh ? nh : 1) * sizeof *scratch);
        if (!found[nf].hits) {
            ret = SBK_ENOMEM;
            goto done;
        }
        memcpy(found[nf].hits, scratch, (size_t)nh * sizeof *scratch);
        nf++;
    }
    qsort(found, nf, sizeof *found, found_cmp);
    size_t n = nf < (size_t)limit ? nf : (size_t)limit;
    for (size_t i = 0; i < n; i++) {
        ret = fill_cue_texts(&found[i]);
        if (ret < 0)
            goto done;
        res[i] = (SbkCatalogResult){.m = found[i].lb->b->manifest, .hits = found[i].hits,
                                    .n_hits = found[i].n_hits,
                                    .close = found[i].score < SBK_SEARCH_EXACT};
    }
    /* Hits point into the snapshot's documents: build the JSON before
     * letting the snapshot go. */
    ret = sbk_catalog_search(query ? query : "", res, n, out, len);
done:
    for (size_t i = 0; found && i < nf; i++) {
        for (int k = 0; found[i].texts && k < found[i].n_hits; k++)
            free(found[i].texts[k]);
        free(found[i].texts);
        free(found[i].hits);
    }
    free(found);
    free(res);
    sbk_search_query_clear(&q);
    sbk_lib_snap_unref(&s);
    if (nf > 0)
        sbk_lib_trim(0);
    return ret;
}
