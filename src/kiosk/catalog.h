/* src/kiosk/catalog.h - the JSON documents of the kiosk API (internal to
 * libsabak): one lesson object per bundle, the catalog, search results.
 * UTF-8 without ASCII escaping, as in docs/API.md. */
#ifndef SABAK_KIOSK_CATALOG_H
#define SABAK_KIOSK_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "kiosk/search.h"
#include "sabak/bundle.h"

/* Who signed a bundle (docs/API.md): "signature" (state: "trusted",
 * "unknown-key", "unsigned"), "publisher" (the trusted key's name, else
 * null), "publisher_key" (its id, else null) and "unverified" (true under
 * require_signature = warn for a bundle no trusted key signed). */
typedef struct SbkCatalogSign {
    const char *state;
    const char *publisher;   /* NULL unless trusted */
    const char *key_id;      /* NULL unless trusted */
    int unverified;
} SbkCatalogSign;

/* The lesson object of /api/lessons/<id> for one bundle of `bundle_size`
 * bytes, with its signature fields when sig is not NULL. *out malloc'ed
 * (caller frees). Returns 0 or SBK_ENOMEM. */
int sbk_catalog_lesson(const SbkManifest *m, int64_t bundle_size, const SbkCatalogSign *sig,
                       char **out, size_t *len);

/* The catalog of cards: {"generation", "lessons": [a card for each manifest,
 * in the order given], "damaged": [{"file", "reason"}]}. A card carries what
 * the catalog page shows: id, version, title (lang: an SBK_LANG_* index for
 * that language or the first in the fallback order; -1: every language),
 * topic, order, duration, thumbnail (or poster) URL, renditions [{tier,
 * size}] and subtitles [{lang}], and the signature fields of sigs[i] (sigs
 * may be NULL). Details: sbk_catalog_lesson. */
int sbk_catalog_cards(uint64_t generation, const SbkManifest *const *m,
                      const SbkCatalogSign *sigs, size_t n, int lang,
                      const char *const *dmg_file, const char *const *dmg_reason, size_t n_dmg,
                      char **out, size_t *len);

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
