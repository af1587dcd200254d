/* src/kiosk/catalog.h - the JSON documents of the kiosk API (internal to
 * libsabak): one lesson object per bundle, the catalog, search results.
 * UTF-8 without ASCII escaping, as in docs/API.md. */
#ifndef SABAK_KIOSK_CATALOG_H
#define SABAK_KIOSK_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "kiosk/search.h"
#include "sabak/bundle.h"

/* The lesson object of /api/lessons for one bundle of `bundle_size` bytes.
 * *out malloc'ed (caller frees). Returns 0 or SBK_ENOMEM. */
int sbk_catalog_lesson(const SbkManifest *m, int64_t bundle_size, char **out, size_t *len);

/* The whole catalog: {"generation", "lessons": [the given objects, in the
 * order given], "damaged": [{"file", "reason"}]}. */
int sbk_catalog_assemble(uint64_t generation, const char *const *lessons, const size_t *lens,
                         size_t n, const char *const *dmg_file, const char *const *dmg_reason,
                         size_t n_dmg, char **out, size_t *len);

/* One lesson found by a search. */
typedef struct SbkCatalogResult {
    const SbkManifest *m;
    const SbkSearchHit *hits;
    int n_hits;
    int close;   /* 1: not every word found as typed */
} SbkCatalogResult;

/* {"query": q, "results": [{"id", "title", "poster", "duration", "hits"}]};
 * a close result and each close hit also have "close": true. */
int sbk_catalog_search(const char *query, const SbkCatalogResult *res, size_t n, char **out,
                       size_t *len);

/* The URL path of an entry: "/lessons/<id>/<entry, percent-encoded>"; with
 * sha256 also "?v=<first 16 hex digits>". malloc'ed, NULL on ENOMEM. */
char *sbk_catalog_entry_url(const char *id, const char *entry, const char *sha256);

#endif
