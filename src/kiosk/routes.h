/* src/kiosk/routes.h - the kiosk's route table: each row carries its
 * argument parser and its handler. A request target is
 * percent-decoded strictly and matched against the table; lesson URLs become
 * (lesson id, entry name) pairs that only the catalog resolves. No URL text
 * is ever joined onto a filesystem path. */
#ifndef SABAK_KIOSK_ROUTES_H
#define SABAK_KIOSK_ROUTES_H

#include <stddef.h>

#include "kiosk/reply.h"
#include "sabak/kiosk.h"

#define SBK_URL_MAX 2048

typedef enum {
    SBK_ROUTE_NONE = 0,
    SBK_ROUTE_WEB,         /* arg: the web asset, "index.html", "app.js", "i18n/ky.json" */
    SBK_ROUTE_API_LESSONS, /* the catalog */
    SBK_ROUTE_API_LESSON,  /* id */
    SBK_ROUTE_API_SEARCH,
    SBK_ROUTE_API_INFO,
    SBK_ROUTE_API_QR,
    SBK_ROUTE_HEALTHZ,
    SBK_ROUTE_ENTRY,       /* id, arg: entry name as in the manifest */
    SBK_ROUTE_BUNDLE,      /* id: the whole bundle (/lessons/<id>.zip) */
    SBK_ROUTE_API_PLAYS,   /* POST: the player's play reports (usage.c) */
    SBK_ROUTE_API_STATS,   /* play counts per lesson and month */
    SBK_ROUTE_API_DRIVES,  /* USB drives with lessons (drives.c) */
    SBK_ROUTE_ADMIN,       /* /admin and /admin/api/... (admin*.c) */
} SbkRouteKind;

struct SbkRoute;

typedef struct SbkRouteMatch {
    const struct SbkRoute *route; /* the table row matched (its handler), or NULL */
    SbkRouteKind kind;
    int api;                  /* 1: errors are answered in JSON */
    const char *id;           /* into buf, or NULL */
    const char *arg;          /* into buf, or NULL */
    char path[SBK_URL_MAX];   /* the decoded path */
    char buf[SBK_URL_MAX + 8];
} SbkRouteMatch;

/* What a handler may ask of its request: query parameters, raw (the
 * server's callback; NULL when absent). */
typedef struct SbkQuerySource {
    const char *(*raw)(void *opaque, const char *key);
    void *opaque;
    int post;                 /* a POST (only to a route that takes one) */
    const char *body;         /* its body (bounded), body_len bytes */
    size_t body_len;
    const char *content_type; /* its Content-Type, or NULL */
    const char *client;       /* the client's address, for rate limits */
    const char *session;      /* an admin route: the session id the gate found ("" none) */
    struct SbkAdminUpload *upload; /* the upload route: the staged body */
} SbkQuerySource;

/* The most body a route with a small POST (the post column) reads. */
#define SBK_ROUTE_POST_MAX 8192

/* Percent-decode a path (no query) strictly: it must start with '/';
 * %XX needs two hex digits; NUL (%00), control bytes, backslashes (raw or
 * %5C), invalid UTF-8, "//" and "." or ".." segments are refused. Returns 0,
 * 400, or 414 (longer than n - 1). */
int sbk_route_decode_path(const char *raw, char *out, size_t n);

/* Decode a query value (application/x-www-form-urlencoded: '+' is a space).
 * Refuses NUL and invalid UTF-8. Returns 0 or -1. */
int sbk_route_decode_query(const char *raw, char *out, size_t n);

/* Decode `raw` and find its route. Returns 0 (m->kind set), 400/414 (bad
 * target) or 404 (no route, or an id or entry name that can never exist). */
int sbk_route_match(const char *raw, SbkRouteMatch *m);

/* The decoded query parameter `key` into buf (sbk_route_decode_query);
 * returns 0, or -1 when absent or not decodable. */
int sbk_route_query(const SbkQuerySource *q, const char *key, char *buf, size_t n);

/* Handlers of the table that live in usage.c and drives.c (issue 10). */
void sbk_usage_handle_plays(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                            SbkReply *r);
void sbk_usage_handle_stats(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                            SbkReply *r);
void sbk_usage_handle_drives(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                             SbkReply *r);

/* The admin column of the route table: the admin gate runs first (admin.h). */
enum { SBK_ADMIN_NONE = 0, SBK_ADMIN_SESSION = 1, SBK_ADMIN_OPEN = 2 };
/* What a route does with a POST body (the post column). */
enum { SBK_POST_NONE = 0, SBK_POST_SMALL = 1, SBK_POST_STREAM = 2 };

/* The handlers of the admin rows of the route table (routes.c), in admin_routes.c and
 * admin_manage.c. */
#define SBK_ADMIN_HANDLER(name)                                                                   \
    void name(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
SBK_ADMIN_HANDLER(sbk_admin_handle_page);       /* GET /admin */
SBK_ADMIN_HANDLER(sbk_admin_handle_login);      /* GET: the page; POST {"password"} */
SBK_ADMIN_HANDLER(sbk_admin_handle_login_info); /* GET /admin/login.json */
SBK_ADMIN_HANDLER(sbk_admin_handle_setup);      /* POST: the first password (loopback) */
SBK_ADMIN_HANDLER(sbk_admin_handle_logout);
SBK_ADMIN_HANDLER(sbk_admin_handle_session);
SBK_ADMIN_HANDLER(sbk_admin_handle_jobs);
SBK_ADMIN_HANDLER(sbk_admin_handle_upload);
/* admin_manage.c */
SBK_ADMIN_HANDLER(sbk_admin_handle_lessons);
SBK_ADMIN_HANDLER(sbk_admin_handle_drives);
SBK_ADMIN_HANDLER(sbk_admin_handle_stats);
SBK_ADMIN_HANDLER(sbk_admin_handle_stats_csv);
SBK_ADMIN_HANDLER(sbk_admin_handle_keys);
SBK_ADMIN_HANDLER(sbk_admin_handle_system);

/* The admin and post columns of the matched row (SBK_ADMIN_*, SBK_POST_*);
 * 0 when none matched. */
int sbk_route_admin(const SbkRouteMatch *m);
int sbk_route_post(const SbkRouteMatch *m);

/* Answer a GET/HEAD of a matched route with the handler its table row
 * carries (a JSON or plain 404 when there is none). */
void sbk_routes_dispatch(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r);

#endif
