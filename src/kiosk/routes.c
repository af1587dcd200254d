/* src/kiosk/routes.c - strict target decoding, the handlers for the API
 * and lesson URLs, and the route table that names them (see routes.h). */
#include "kiosk/routes.h"

#include <jansson.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kiosk/kiosk_int.h"
#include "kiosk/library.h"
#include "kiosk/mime.h"
#include "kiosk/reply.h"
#include "kiosk/web.h"
#include "sabak/core.h"
#include "sabak/lang.h"

/* ---- decoding ------------------------------------------------------------ */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sbk_route_decode_path(const char *raw, char *out, size_t n)
{
    if (!raw || raw[0] != '/' || n == 0)
        return 400;
    size_t o = 0;
    for (const char *p = raw; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int hi = hexval((unsigned char)p[1]);
            int lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
            if (lo < 0)
                return 400;
            c = hi * 16 + lo;
            p += 2;
        }
        if (c == 0 || c < 0x20 || c == 0x7f || c == '\\')
            return 400;
        if (o + 1 >= n)
            return 414;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (!sbk_utf8_valid(out, o))
        return 400;
    /* Segments: no empty one inside ("//"), no "." or "..". */
    for (const char *seg = out + 1;; ) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (end && len == 0)
            return 400;
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return 400;
        if (!end)
            break;
        seg = end + 1;
    }
    return 0;
}

int sbk_route_decode_query(const char *raw, char *out, size_t n)
{
    if (!raw || n == 0)
        return -1;
    size_t o = 0;
    for (const char *p = raw; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = hexval((unsigned char)p[1]);
            int lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
            if (lo < 0)
                return -1;
            c = hi * 16 + lo;
            p += 2;
        }
        if (c == 0 || o + 1 >= n)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return sbk_utf8_valid(out, o) ? 0 : -1;
}

int sbk_route_query(const SbkQuerySource *q, const char *key, char *buf, size_t n)
{
    const char *raw = q && q->raw ? q->raw(q->opaque, key) : NULL;
    if (!raw)
        return -1;
    return sbk_route_decode_query(raw, buf, n);
}

/* ---- handlers ------------------------------------------------------------ */

static void reply_json(SbkReply *r, int rc, char *json, size_t len, const char *what)
{
    if (rc == SBK_ENOENT) {
        free(json);
        sbk_reply_json_error(r, 404, what);
        return;
    }
    if (rc || !json) {
        free(json);
        sbk_reply_json_error(r, 500, "the catalog could not be built");
        return;
    }
    sbk_reply_owned(r, 200, "application/json", json, len);
    r->cache = "no-store";
    r->compress = 1; /* gzip for clients that accept it (slow links) */
}

/* Move what the library resolved into the reply (fd or data). The
 * headers are made here, from the raw facts: the library knows no HTTP. */
static void reply_resolved(SbkReply *r, SbkResolved *res, const char *mime)
{
    r->status = 200;
    r->entity = 1;
    r->mime = mime;
    r->mtime = res->mtime;
    if (res->data) {
        r->kind = SBK_BODY_MALLOC;
        r->data = res->data;
        r->len = (size_t)res->size;
        res->data = NULL;
    } else if (res->deflated) {
        r->kind = SBK_BODY_INFLATE;
        r->fd = res->fd;
        r->offset = res->offset;
        r->csize = res->csize;
        r->crc32 = res->crc32;
        r->size = res->size;
        r->zfirst = 0;
        r->zlen = res->size;
        res->fd = -1;
    } else {
        r->kind = SBK_BODY_FD;
        r->fd = res->fd;
        r->offset = res->offset;
        r->size = res->size;
        res->fd = -1;
    }
    sbk_resolved_clear(res);
}

/* ?v= equal to the first 16 hex digits of the entry's SHA-256 marks a
 * versioned URL that may be cached for ever. */
static int versioned(const SbkQuerySource *q, const char *sha256)
{
    char v[32];
    if (sbk_route_query(q, "v", v, sizeof v) != 0 || strlen(v) != 16)
        return 0;
    return strncasecmp(sha256, v, 16) == 0;
}

static void handle_entry(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    SbkResolved res;
    if (sbk_library_resolve_entry(k->lib, m->id, m->arg, &res) != 0) {
        sbk_reply_error(r, 404);
        return;
    }
    /* A strong ETag: the entry's SHA-256, the same on every kiosk. */
    snprintf(r->etag, sizeof r->etag, "\"%s\"", res.sha256);
    r->cache = versioned(q, res.sha256) ? "public, max-age=31536000, immutable" : "no-cache";
    const char *mime = sbk_mime_for_path(m->arg);
    /* A document from a bundle runs in a sandbox of its own (an opaque
     * origin): its scripts still run (the offline player), but they reach
     * neither the kiosk's pages nor their storage. Other entries (video,
     * PDF) go without a policy, which some viewers refuse. */
    r->csp = sbk_mime_is_document(mime) ? "sandbox allow-scripts" : "";
    reply_resolved(r, &res, mime);
}

static void handle_bundle(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    SbkResolved res;
    (void)q;
    if (sbk_library_resolve_bundle(k->lib, m->id, &res) != 0) {
        sbk_reply_error(r, 404);
        return;
    }
    /* Stable across restarts and copies: what the bundle holds (the
     * manifest names every file's SHA-256) and how long it is. */
    snprintf(r->etag, sizeof r->etag, "\"%.48s-%lld\"", res.sha256, (long long)res.size);
    /* The name comes from the catalog (id and version: [a-z0-9._-]). */
    char name[256];
    snprintf(name, sizeof name, "%s", res.name[0] ? res.name : m->id);
    for (char *p = name; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            *p = '_';
    snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s\"", name);
    r->cache = "no-cache";
    r->csp = "";
    reply_resolved(r, &res, "application/zip");
}

static void handle_search(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    char text[512], lang[8], lim[16];
    (void)m;
    char *json = NULL;
    size_t len = 0;
    if (sbk_route_query(q, "q", text, sizeof text) != 0)
        text[0] = '\0';
    const char *langp = NULL;
    if (sbk_route_query(q, "lang", lang, sizeof lang) == 0 &&
        sbk_lang_rank(lang) < SBK_LANG_COUNT)
        langp = lang;
    int limit = 20;
    if (sbk_route_query(q, "limit", lim, sizeof lim) == 0) {
        char *end = NULL;
        long l = strtol(lim, &end, 10);
        if (end == lim || *end || l < 1) {
            sbk_reply_json_error(r, 400, "limit must be a positive number");
            return;
        }
        limit = l > 100 ? 100 : (int)l;
    }
    int rc = sbk_library_search_json(k->lib, text, langp, limit, &json, &len);
    reply_json(r, rc, json, len, "search failed");
}

static void handle_info(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)q;
    (void)m;
    int lessons = 0, damaged = 0;
    sbk_library_counts(k->lib, &lessons, &damaged);
    json_t *urls = json_array();
    for (size_t i = 0; i < k->n_lan_urls; i++)
        json_array_append_new(urls, json_string(k->lan_urls[i]));
    json_t *o = json_pack("{s:s, s:s, s:o, s:i, s:i}", "name", "sabak", "version", SBK_VERSION,
                          "urls", urls, "lessons", lessons, "damaged", damaged);
    sbk_reply_json_value(r, o);
}

/* The SVG of a QR code: one path of unit squares, a 4-module quiet zone. */
static char *qr_svg(const char *text, size_t *len)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return NULL;
    int w = qr->width, size = w + 8;
    size_t cap = 256 + (size_t)w * (size_t)w * 24;
    char *out = malloc(cap);
    if (!out) {
        QRcode_free(qr);
        return NULL;
    }
    size_t o = (size_t)snprintf(out, cap,
                                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                                "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                                "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                                size, size, size, size);
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w; x++)
            if (qr->data[y * w + x] & 1)
                o += (size_t)snprintf(out + o, cap - o, "M%d %dh1v1h-1z", x + 4, y + 4);
    o += (size_t)snprintf(out + o, cap - o, "\"/></svg>\n");
    QRcode_free(qr);
    *len = o;
    return out;
}

static void handle_qr(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)m;
    char text[512];
    const char *t = k->n_lan_urls ? k->lan_urls[0] : NULL;
    if (sbk_route_query(q, "text", text, sizeof text) == 0) {
        /* Only links into this kiosk: a QR code generator for anything
         * would let any page print codes under the office's name. */
        int ours = 0;
        for (size_t i = 0; i < k->n_lan_urls && !ours; i++)
            ours = strncmp(text, k->lan_urls[i], strlen(k->lan_urls[i])) == 0;
        for (size_t i = 0; i < k->n_daemons && !ours; i++)
            ours = strncmp(text, k->listen_urls[i], strlen(k->listen_urls[i])) == 0;
        if (!ours) {
            sbk_reply_json_error(r, 400, "text must be a URL of this kiosk");
            return;
        }
        t = text;
    }
    if (!t) {
        sbk_reply_json_error(r, 404, "no address to encode");
        return;
    }
    size_t len = 0;
    char *svg = qr_svg(t, &len);
    if (!svg) {
        sbk_reply_json_error(r, 500, "cannot make the QR code");
        return;
    }
    sbk_reply_owned(r, 200, "image/svg+xml", svg, len);
    r->cache = "no-cache";
}

static void handle_healthz(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)q;
    (void)m;
    int lessons = 0, damaged = 0;
    sbk_library_counts(k->lib, &lessons, &damaged);
    char *s = NULL;
    if (asprintf(&s, "ok\nlessons: %d\ndamaged: %d\n", lessons, damaged) < 0) {
        sbk_reply_static(r, 200, "text/plain; charset=utf-8", "ok\n");
    } else {
        sbk_reply_owned(r, 200, "text/plain; charset=utf-8", s, strlen(s));
    }
    r->cache = "no-store";
}

static void handle_web(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    char v[32];
    int has_v = sbk_route_query(q, "v", v, sizeof v) == 0;
    sbk_web_handle(&k->web, m->arg, has_v ? v : NULL, r);
}

static void handle_catalog(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    char *json = NULL, lang[8];
    size_t len = 0;
    (void)m;
    /* ?lang=: titles in that language (with a fallback); else all of them. */
    const char *langp = NULL;
    if (sbk_route_query(q, "lang", lang, sizeof lang) == 0 && sbk_lang_rank(lang) < SBK_LANG_COUNT)
        langp = lang;
    int rc = sbk_library_catalog_json(k->lib, langp, &json, &len);
    reply_json(r, rc, json, len, "no catalog");
}

static void handle_lesson(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    char *json = NULL;
    size_t len = 0;
    (void)q;
    int rc = sbk_library_lesson_json(k->lib, m->id, &json, &len);
    reply_json(r, rc, json, len, "no such lesson");
}

/* ---- argument parsers ------------------------------------------------------
 * Each fills m->id / m->arg (pointing into m->buf) from the rest of the
 * path after a prefix route's pattern. They return 0, 404 (no such thing
 * can exist), or NEXT: not this route's shape, try the next row. */

#define NEXT (-1)

/* "/" and "/index.html": the web app's page. */
static int args_index(const char *rest, SbkRouteMatch *m)
{
    (void)rest;
    snprintf(m->buf, sizeof m->buf, "index.html");
    m->arg = m->buf;
    return 0;
}

/* /static/<asset>: the asset's name in the web app. */
static int args_static(const char *rest, SbkRouteMatch *m)
{
    snprintf(m->buf, sizeof m->buf, "%s", rest);
    m->arg = m->buf;
    return sbk_path_entry_ok(m->arg) ? 0 : 404;
}

/* /i18n/<file>: the web app's i18n/<file>. */
static int args_i18n(const char *rest, SbkRouteMatch *m)
{
    snprintf(m->buf, sizeof m->buf, "i18n/%s", rest);
    m->arg = m->buf;
    return sbk_path_entry_ok(m->arg) ? 0 : 404;
}

static int args_lesson_id(const char *rest, SbkRouteMatch *m)
{
    snprintf(m->buf, sizeof m->buf, "%s", rest);
    m->id = m->buf;
    return sbk_lesson_id_ok(m->id) ? 0 : 404;
}

/* /lessons/<id>.zip */
static int args_bundle(const char *rest, SbkRouteMatch *m)
{
    if (strchr(rest, '/'))
        return NEXT;
    size_t len = strlen(rest);
    if (len <= 4 || strcmp(rest + len - 4, ".zip") != 0)
        return 404;
    snprintf(m->buf, sizeof m->buf, "%.*s", (int)(len - 4), rest);
    m->id = m->buf;
    return sbk_lesson_id_ok(m->id) ? 0 : 404;
}

/* /lessons/<id>/<entry as in the manifest> */
static int args_entry(const char *rest, SbkRouteMatch *m)
{
    snprintf(m->buf, sizeof m->buf, "%s", rest);
    char *slash = strchr(m->buf, '/');
    if (!slash)
        return 404;
    *slash = '\0';
    m->id = m->buf;
    m->arg = slash + 1;
    return sbk_lesson_id_ok(m->id) && sbk_path_entry_ok(m->arg) ? 0 : 404;
}

/* Any rest: the row only gates (a session first), then answers 404. */
static int args_any(const char *rest, SbkRouteMatch *m)
{
    (void)rest;
    (void)m;
    return 0;
}

/* ---- the table ------------------------------------------------------------- */

typedef struct SbkRoute {
    const char *pattern;
    int prefix;           /* 1: pattern is a prefix, the rest goes to args() */
    SbkRouteKind kind;
    int api;              /* 1: errors are answered in JSON */
    int (*args)(const char *rest, SbkRouteMatch *m); /* NULL: no arguments */
    void (*handle)(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r);
    int admin;            /* SBK_ADMIN_*: the admin gate runs first (admin_auth.c) */
    int post;             /* SBK_POST_*: what it does with a POST body */
} SbkRoute;

static const SbkRoute route_table[] = {
    {"/", 0, SBK_ROUTE_WEB, 0, args_index, handle_web, 0, 0},
    {"/index.html", 0, SBK_ROUTE_WEB, 0, args_index, handle_web, 0, 0},
    {"/static/", 1, SBK_ROUTE_WEB, 0, args_static, handle_web, 0, 0},
    {"/i18n/", 1, SBK_ROUTE_WEB, 0, args_i18n, handle_web, 0, 0},
    {"/api/lessons", 0, SBK_ROUTE_API_LESSONS, 1, NULL, handle_catalog, 0, 0},
    {"/api/lessons/", 1, SBK_ROUTE_API_LESSON, 1, args_lesson_id, handle_lesson, 0, 0},
    {"/api/search", 0, SBK_ROUTE_API_SEARCH, 1, NULL, handle_search, 0, 0},
    {"/api/info", 0, SBK_ROUTE_API_INFO, 1, NULL, handle_info, 0, 0},
    {"/api/qr.svg", 0, SBK_ROUTE_API_QR, 1, NULL, handle_qr, 0, 0},
    {"/api/plays", 0, SBK_ROUTE_API_PLAYS, 1, NULL, sbk_usage_handle_plays, 0, SBK_POST_SMALL},
    {"/api/stats", 0, SBK_ROUTE_API_STATS, 1, NULL, sbk_usage_handle_stats, 0, 0},
    {"/api/drives", 0, SBK_ROUTE_API_DRIVES, 1, NULL, sbk_usage_handle_drives, 0, 0},
    {"/healthz", 0, SBK_ROUTE_HEALTHZ, 0, NULL, handle_healthz, 0, 0},
    {"/lessons/", 1, SBK_ROUTE_BUNDLE, 0, args_bundle, handle_bundle, 0, 0},
    {"/lessons/", 1, SBK_ROUTE_ENTRY, 0, args_entry, handle_entry, 0, 0},
    /* The admin area (admin*.c): every row but sign-in needs a session. */
    {"/admin", 0, SBK_ROUTE_ADMIN, 0, NULL, sbk_admin_handle_page, SBK_ADMIN_SESSION, 0},
    {"/admin/login", 0, SBK_ROUTE_ADMIN, 0, NULL, sbk_admin_handle_login, SBK_ADMIN_OPEN,
     SBK_POST_SMALL},
    {"/admin/login.json", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_login_info,
     SBK_ADMIN_OPEN, 0},
    {"/admin/setup", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_setup, SBK_ADMIN_OPEN,
     SBK_POST_SMALL},
    {"/admin/logout", 0, SBK_ROUTE_ADMIN, 0, NULL, sbk_admin_handle_logout, SBK_ADMIN_SESSION,
     SBK_POST_SMALL},
    {"/admin/api/session", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_session,
     SBK_ADMIN_SESSION, 0},
    {"/admin/api/lessons", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_lessons,
     SBK_ADMIN_SESSION, SBK_POST_SMALL},
    {"/admin/api/drives", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_drives,
     SBK_ADMIN_SESSION, SBK_POST_SMALL},
    {"/admin/api/jobs", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_jobs, SBK_ADMIN_SESSION,
     SBK_POST_SMALL},
    {"/admin/api/stats", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_stats, SBK_ADMIN_SESSION,
     0},
    {"/admin/api/stats.csv", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_stats_csv,
     SBK_ADMIN_SESSION, 0},
    {"/admin/api/upload", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_upload,
     SBK_ADMIN_SESSION, SBK_POST_STREAM},
    {"/admin/api/keys", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_keys, SBK_ADMIN_SESSION,
     SBK_POST_SMALL},
    {"/admin/api/system", 0, SBK_ROUTE_ADMIN, 1, NULL, sbk_admin_handle_system,
     SBK_ADMIN_SESSION, 0},
    /* Anything else under /admin/: a session first, then 404. */
    {"/admin/api/", 1, SBK_ROUTE_ADMIN, 1, args_any, NULL, SBK_ADMIN_SESSION, 0},
    {"/admin/", 1, SBK_ROUTE_ADMIN, 0, args_any, NULL, SBK_ADMIN_SESSION, 0},
};

int sbk_route_match(const char *raw, SbkRouteMatch *m)
{
    memset(m, 0, sizeof *m);
    int st = sbk_route_decode_path(raw, m->path, sizeof m->path);
    if (st)
        return st;
    for (size_t i = 0; i < sizeof route_table / sizeof route_table[0]; i++) {
        const SbkRoute *rt = &route_table[i];
        size_t plen = strlen(rt->pattern);
        const char *rest;
        if (!rt->prefix) {
            if (strcmp(m->path, rt->pattern) != 0)
                continue;
            rest = "";
        } else {
            if (strncmp(m->path, rt->pattern, plen) != 0 || m->path[plen] == '\0')
                continue;
            rest = m->path + plen;
        }
        m->api = rt->api;
        st = rt->args ? rt->args(rest, m) : 0;
        if (st == NEXT) {
            m->id = m->arg = NULL;
            continue;
        }
        if (st == 0) {
            m->route = rt;
            m->kind = rt->kind;
        } else {
            m->id = m->arg = NULL;
        }
        return st;
    }
    m->api = strncmp(m->path, "/api/", 5) == 0;
    return 404;
}

int sbk_route_admin(const SbkRouteMatch *m)
{
    return m && m->route ? m->route->admin : SBK_ADMIN_NONE;
}

int sbk_route_post(const SbkRouteMatch *m)
{
    return m && m->route ? m->route->post : SBK_POST_NONE;
}

int sbk_kiosk_route_info(size_t i, SbkRouteInfo *out)
{
    if (i >= sizeof route_table / sizeof route_table[0])
        return -1;
    const SbkRoute *rt = &route_table[i];
    *out = (SbkRouteInfo){rt->pattern, rt->prefix, rt->api, rt->admin, rt->post};
    return 0;
}

void sbk_routes_dispatch(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    if (m->route && m->route->handle)
        m->route->handle(k, q, m, r);
    else if (m->api)
        sbk_reply_json_error(r, 404, "no such API");
    else
        sbk_reply_error(r, 404);
}
