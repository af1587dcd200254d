/* src/kiosk/cond.h - conditional requests (RFC 9110 section 13): ETag lists,
 * If-None-Match, If-Match, If-Modified-Since, If-Range, and HTTP dates.
 * Pure functions; the server calls sbk_cond_evaluate once per entity. */
#ifndef SABAK_KIOSK_COND_H
#define SABAK_KIOSK_COND_H

#include <stddef.h>
#include <stdint.h>

/* The request's conditional fields (NULL when absent). */
typedef struct SbkCondRequest {
    const char *if_match;
    const char *if_none_match;
    const char *if_modified_since;
    const char *if_unmodified_since;
    const char *if_range;
} SbkCondRequest;

/* True if the entity-tag list `list` ("*", or "\"a\", W/\"b\"") matches
 * `etag` (quotes included). strong: a weak tag on either side never matches
 * (strong comparison); otherwise W/ is ignored (weak comparison). A list
 * that does not parse matches nothing. */
int sbk_cond_etag_match(const char *list, const char *etag, int strong);

/* The precondition answer for a GET/HEAD of an entity with `etag` and
 * Last-Modified `mtime` (Unix seconds, <= 0: unknown), in RFC 9110 13.2.2
 * order: 412 (If-Match / If-Unmodified-Since fails), 304 (If-None-Match
 * matches, or without it If-Modified-Since is not older than mtime), or 0
 * to go on with the request. */
int sbk_cond_evaluate(const SbkCondRequest *req, const char *etag, int64_t mtime);

/* If-Range: true (serve the Range) when the field is absent, or is a strong
 * ETag equal to `etag`, or an HTTP date equal to `mtime` (nginx's rule);
 * false (send 200 with the full body) otherwise, weak tags included. */
int sbk_cond_if_range(const char *if_range, const char *etag, int64_t mtime);

/* Format Unix time as an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"
 * (buf >= 30). Independent of the locale. */
void sbk_cond_http_date(int64_t t, char *buf, size_t n);
/* Parse an IMF-fixdate, an RFC 850 date or an asctime date (locale
 * independent). Returns 0 and *out, or -1. */
int sbk_cond_parse_date(const char *s, int64_t *out);

#endif
