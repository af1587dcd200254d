/* src/kiosk/http.c - one request from libmicrohttpd's access handler to its
 * response: parse once into an SbkRequest, refuse what MHD 0.9.75 lets
 * through (request smuggling headers), dispatch through the route table,
 * apply conditionals and Range, and create the MHD response (the only place
 * that does), plus the access log. */
#include "kiosk/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kiosk/admin.h"
#include "kiosk/cond.h"
#include "kiosk/framing.h"
#include "kiosk/inflate.h"
#include "kiosk/multipart.h"
#include "kiosk/range.h"
#include "kiosk/routes.h"
#include "sabak/core.h"

#define ALLOW_METHODS "GET, HEAD, OPTIONS"
#define MAX_DROPPED_BODY (64 * 1024)
/* The kiosk's own pages: nothing inline, nothing from elsewhere. */
#define KIOSK_CSP "default-src 'self'; img-src 'self' data:; media-src 'self'; " \
                  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- request accessors --------------------------------------------------- */

const char *sbk_http_header(const SbkRequest *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* Query parameters for the handlers, raw: the daemon's unescape callback
 * is a no-op (see server.c), and routes.c decodes them strictly. */
static const char *query_raw(void *opaque, const char *key)
{
    return MHD_lookup_connection_value(opaque, MHD_GET_ARGUMENT_KIND, key);
}

/* ---- the one place that creates MHD responses ---------------------------- */

/* A deflated entry's bytes [first, first+len), inflated as MHD asks. */
typedef struct ZBody {
    SbkInflater *inf;
    int64_t first, len;
} ZBody;

static void zbody_free(void *cls)
{
    ZBody *z = cls;
    sbk_inflater_free(z->inf);
    free(z);
}

static ssize_t zbody_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    ZBody *z = cls;
    if (pos >= (uint64_t)z->len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    uint64_t left = (uint64_t)z->len - pos;
    ssize_t got = sbk_inflater_read(z->inf, z->first + (int64_t)pos, buf,
                                    left < max ? (size_t)left : max);
    if (got == SBK_EDAMAGED)
        sbk_log(SBK_LOG_WARN, "http: a deflated entry does not inflate to its size and CRC-32 "
                              "(damaged bundle?): connection closed");
    if (got <= 0)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* closes short of Content-Length */
    return got;
}

/* A 304 has no body, but MHD 0.9.75 sends the response's size as its
 * Content-Length. RFC 9110 8.6 allows only the 200's length there, so the
 * response claims that size and is never read. */
static ssize_t no_body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls, (void)pos, (void)buf, (void)max;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

/* Returns a response owning the body (fd closed / data freed by MHD), or
 * NULL after releasing the body itself. */
static struct MHD_Response *make_response(SbkReply *r, Multipart *mp, SbkInflater *inf)
{
    struct MHD_Response *resp = NULL;
    if (mp) {
        resp = MHD_create_response_from_callback(sbk_multipart_total(mp), 64 * 1024, sbk_multipart_read, mp,
                                                 sbk_multipart_free);
        if (!resp)
            sbk_multipart_free(mp);
        return resp;
    }
    if (inf) {
        ZBody *z = calloc(1, sizeof *z);
        if (!z) {
            sbk_inflater_free(inf);
            return NULL;
        }
        *z = (ZBody){inf, r->zfirst, r->zlen};
        resp = MHD_create_response_from_callback((uint64_t)r->zlen, SBK_INFLATE_BLOCK, zbody_read,
                                                 z, zbody_free);
        if (!resp)
            zbody_free(z);
        r->kind = SBK_BODY_NONE;
        return resp;
    }
    switch (r->kind) {
    case SBK_BODY_INFLATE:
        break; /* no inflater: an empty body */
    case SBK_BODY_FD:
        if (r->size == 0)
            break;
        resp = MHD_create_response_from_fd_at_offset64((uint64_t)r->size, r->fd,
                                                       (uint64_t)r->offset);
        if (!resp)
            close(r->fd); /* MHD owns the fd only on success */
        r->fd = -1;
        r->kind = SBK_BODY_NONE;
        return resp;
    case SBK_BODY_MALLOC:
        resp = MHD_create_response_from_buffer(r->len, (void *)r->data, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free((void *)r->data);
        r->data = NULL;
        r->kind = SBK_BODY_NONE;
        return resp;
    case SBK_BODY_STATIC:
        return MHD_create_response_from_buffer(r->len, (void *)r->data, MHD_RESPMEM_PERSISTENT);
    case SBK_BODY_NONE:
        break;
    }
    sbk_reply_clear(r);
    return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
}

/* Narrow the body to one range [first, last]. */
static int narrow_body(SbkReply *r, const SbkRange *rg)
{
    int64_t n = rg->last - rg->first + 1;
    if (r->kind == SBK_BODY_INFLATE) {
        r->zfirst += rg->first;
        r->zlen = n;
        return 0;
    }
    if (r->kind == SBK_BODY_FD) {
        r->offset += rg->first;
        r->size = n;
        return 0;
    }
    char *copy = malloc((size_t)n ? (size_t)n : 1);
    if (!copy)
        return -1;
    memcpy(copy, (const char *)r->data + rg->first, (size_t)n);
    sbk_reply_owned(r, r->status, r->mime, copy, (size_t)n);
    return 0;
}

/* Conditionals and Range for an entity; may change status and body. Fills
 * content_range and, for several ranges, *mp and ctype. */
static void apply_entity(SbkRequest *req, SbkReply *r, char *content_range, size_t cr_n,
                         Multipart **mp, char *ctype, size_t ctype_n, int64_t *length_304)
{
    SbkCondRequest c = {
        .if_match = sbk_http_header(req, MHD_HTTP_HEADER_IF_MATCH),
        .if_none_match = sbk_http_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH),
        .if_modified_since = sbk_http_header(req, MHD_HTTP_HEADER_IF_MODIFIED_SINCE),
        .if_unmodified_since = sbk_http_header(req, MHD_HTTP_HEADER_IF_UNMODIFIED_SINCE),
        .if_range = sbk_http_header(req, MHD_HTTP_HEADER_IF_RANGE),
    };
    int cond = sbk_cond_evaluate(&c, r->etag, r->mtime);
    if (cond == 304) {
        *length_304 = sbk_reply_body_length(r);
        sbk_reply_clear(r);
        r->status = 304;
        return;
    }
    if (cond == 412) {
        sbk_reply_error(r, 412);
        return;
    }
    const char *range = sbk_http_header(req, MHD_HTTP_HEADER_RANGE);
    if (!range || !sbk_cond_if_range(c.if_range, r->etag, r->mtime))
        return;
    int64_t length = sbk_reply_body_length(r);
    SbkRangeSet rs;
    switch (sbk_range_parse(range, length, &rs)) {
    case SBK_RANGE_FULL:
        return;
    case SBK_RANGE_UNSATISFIABLE:
        sbk_reply_error(r, 416);
        r->entity = 1; /* keep ETag, Last-Modified, Accept-Ranges */
        snprintf(content_range, cr_n, "bytes */%" PRId64, length);
        return;
    case SBK_RANGE_PARTIAL:
        break;
    }
    if (rs.n == 1) {
        if (narrow_body(r, &rs.r[0]) != 0) {
            sbk_reply_error(r, 500);
            return;
        }
        r->status = 206;
        snprintf(content_range, cr_n, "bytes %" PRId64 "-%" PRId64 "/%" PRId64, rs.r[0].first,
                 rs.r[0].last, length);
        return;
    }
    int rc = 0;
    *mp = sbk_multipart_new(r, &rs, length, ctype, ctype_n, &rc);
    if (!*mp) {
        sbk_reply_error(r, rc == SBK_ELIMIT ? 503 : 500);
        if (rc == SBK_ELIMIT)
            r->retry_after = 2;
        return;
    }
    r->status = 206;
}

/* Watch a large answer for a slow reader (watchdog.c). */
static void watch_add(SbkRequest *req, uint64_t body_bytes)
{
    if (!req->kiosk->watch)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        req->watch_slot = sbk_watch_add(req->kiosk->watch, ci->connect_fd, body_bytes);
}

enum MHD_Result sbk_http_queue(SbkRequest *req, SbkReply *r)
{
    char content_range[96] = "", ctype[96] = "", lastmod[40] = "";
    Multipart *mp = NULL;
    int64_t length_304 = -1;
    /* gzip or not first: conditionals and ranges apply to what is sent. */
    sbk_reply_negotiate(r, sbk_http_header(req, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    if (r->entity && r->status == 200)
        apply_entity(req, r, content_range, sizeof content_range, &mp, ctype, sizeof ctype,
                     &length_304);
    SbkInflater *inf = NULL;
    if (r->kind == SBK_BODY_INFLATE && !mp) {
        int rc = sbk_reply_take_inflater(r, &inf);
        if (rc) {
            /* Over the budget for inflation in flight: come back shortly. */
            sbk_reply_error(r, rc == SBK_ELIMIT ? 503 : 500);
            if (rc == SBK_ELIMIT)
                r->retry_after = 2;
        }
    }
    int64_t bytes = mp ? (int64_t)sbk_multipart_total(mp) : sbk_reply_body_length(r);
    struct MHD_Response *resp =
        r->status == 304 && length_304 >= 0
            ? MHD_create_response_from_callback((uint64_t)length_304, 1, no_body_read, NULL, NULL)
            : make_response(r, mp, inf);
    if (!resp)
        return MHD_NO;
    if (r->status != 304) {
        const char *type = mp ? ctype : r->mime;
        if (type)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    }
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (!r->csp)
        MHD_add_response_header(resp, "Content-Security-Policy", KIOSK_CSP);
    else if (r->csp[0])
        MHD_add_response_header(resp, "Content-Security-Policy", r->csp);
    if (r->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache ? r->cache : "no-store");
    if (r->vary)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (r->encoding && r->status != 304)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, r->encoding);
    if (r->entity) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
        if (r->etag[0])
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
        if (r->mtime > 0) {
            sbk_cond_http_date(r->mtime, lastmod, sizeof lastmod);
            MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lastmod);
        }
    }
    if (content_range[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    if (r->disposition[0] && (r->status == 200 || r->status == 206))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, r->disposition);
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->cookie);
    req->status = r->status;
    req->bytes = req->head || r->status == 304 || r->status == 204 ? 0 : bytes;
    if (req->close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(req->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    req->answered = 1;
    /* Small answers fit in the socket buffers: MHD is done with them at
     * once, so only large ones are watched for slow readers. */
    if (ret == MHD_YES && req->bytes > 64 * 1024)
        watch_add(req, (uint64_t)req->bytes);
    return ret;
}

/* ---- the access handler -------------------------------------------------- */

static const char *header_of(void *opaque, const char *name)
{
    return MHD_lookup_connection_value(opaque, MHD_HEADER_KIND, name);
}

/* The route's columns, looked up once the head is in: a POST is read only
 * for a route that takes one (req->post; req->stream for the upload), and
 * an admin route passes its gate here, before any byte of a body is read.
 * Returns 1 with the gate's refusal in r. */
static int classify(SbkRequest *req, const char *url, SbkReply *r)
{
    int is_post = strcmp(req->method, "POST") == 0;
    /* A GET of anything but /admin... is matched once, in answer(), which
     * also gates an admin route reached through percent-encoding. */
    if (!is_post && strncmp(url ? url : "", "/admin", 6) != 0)
        return 0;
    SbkRouteMatch *m = malloc(sizeof *m);
    if (!m)
        return 0;
    int st = sbk_route_match(url ? url : "", m), refused = 0;
    req->post = st == 0 && is_post && sbk_route_post(m) != SBK_POST_NONE;
    req->stream = req->post && sbk_route_post(m) == SBK_POST_STREAM;
    if (st == 0 && sbk_route_admin(m) && (req->post || req->head || !strcmp(req->method, "GET"))) {
        SbkAdminReq aq = {header_of, req->conn, req->method, req->client};
        refused = sbk_admin_gate(req->kiosk, m, &aq, r, req->sid, &req->upload);
        req->gated = 1;
    }
    free(m);
    return refused;
}

/* A declared Content-Length over the limit is refused before any byte. */
static int post_too_long(SbkRequest *req)
{
    const char *cl = sbk_http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl && strtoll(cl, NULL, 10) > SBK_ROUTE_POST_MAX;
}

static void client_address(struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, n, "-");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

/* The target for the log: printable ASCII only. */
static void log_target(const char *url, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = url ? url : ""; *p && o + 5 < n; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x21 || c > 0x7e)
            o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

static enum MHD_Result answer(SbkKiosk *k, SbkRequest *req, const char *url)
{
    SbkReply r;
    sbk_reply_init(&r);
    int get = strcmp(req->method, "GET") == 0 || req->head;
    int options = strcmp(req->method, "OPTIONS") == 0;
    if (options && strcmp(url, "*") == 0) {
        r.status = 204;
        r.allow = ALLOW_METHODS;
        return sbk_http_queue(req, &r);
    }
    SbkRouteMatch *m = malloc(sizeof *m);
    if (!m)
        return MHD_NO;
    int st = sbk_route_match(url, m);
    if (st == 400 || st == 414) {
        req->close = 1; /* whatever follows on this connection is suspect too */
        sbk_reply_error(&r, st);
    } else if (options) {
        r.status = 204;
        r.allow = ALLOW_METHODS;
    } else if (!get && !req->post) {
        sbk_reply_error(&r, 405);
        r.allow = ALLOW_METHODS;
    } else if (st) {
        if (m->api)
            sbk_reply_json_error(&r, st, "no such API");
        else
            sbk_reply_error(&r, st);
    } else if (sbk_route_admin(m) && !req->gated &&
               sbk_admin_gate(k, m, &(SbkAdminReq){header_of, req->conn, req->method, req->client},
                              &r, req->sid, &req->upload)) {
        /* an admin route not seen as one at the first call: gated now */
    } else {
        SbkQuerySource q = {query_raw, req->conn, req->post, req->body, req->body_len,
                            sbk_http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE), req->client,
                            req->sid, req->upload};
        sbk_routes_dispatch(k, &q, m, &r);
    }
    free(m);
    return sbk_http_queue(req, &r);
}

enum MHD_Result sbk_http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    SbkKiosk *k = cls;
    SbkRequest *req = *con_cls;
    if (!req || !req->conn) {
        if (!req)
            req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        req->conn = conn;
        req->kiosk = k;
        req->start_us = now_us();
        /* The request head is complete: its deadline (admit.c) stops. */
        const union MHD_ConnectionInfo *sc =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (sc)
            sbk_admit_head_done(sc->socket_context);
        req->watch_slot = -1;
        snprintf(req->method, sizeof req->method, "%s", method ? method : "");
        req->head = strcmp(req->method, "HEAD") == 0;
        log_target(url, req->target, sizeof req->target);
        /* The method goes to the log too: escaped like the target. */
        log_target(req->method, req->method_log, sizeof req->method_log);
        client_address(conn, req->client, sizeof req->client);
        int framing = req->too_many_args ? 414 : sbk_http_check_framing(req->conn, version, MAX_DROPPED_BODY);
        SbkReply gate;
        sbk_reply_init(&gate);
        if ((!framing || framing == 413) && classify(req, url, &gate)) {
            req->close = 1; /* refused before its body: nothing of it is read */
            return sbk_http_queue(req, &gate);
        }
        int known = strcmp(req->method, "GET") == 0 || req->head ||
                    strcmp(req->method, "OPTIONS") == 0 || req->post;
        if (framing == 413 && (!known || req->stream))
            framing = 0; /* the method is refused first (405); an upload is read */
        if (!framing && req->post && !req->stream && post_too_long(req)) {
            SbkReply r;
            sbk_reply_init(&r);
            req->close = 1;
            sbk_reply_json_error(&r, 413, "the body is too long");
            return sbk_http_queue(req, &r);
        }
        if (framing || !known) {
            /* Queued at the first call: MHD reads nothing more from this
             * connection (no upload is ever read) and closes it after the
             * answer. */
            SbkReply r;
            sbk_reply_init(&r);
            req->close = 1;
            if (framing) {
                sbk_reply_error(&r, framing);
            } else {
                sbk_reply_error(&r, 405);
                r.allow = ALLOW_METHODS;
            }
            return sbk_http_queue(req, &r);
        }
        /* Answer at the next call, once MHD has the whole request: a
         * response queued now would also close the connection. */
        return MHD_YES;
    }
    if (*upload_data_size && req->stream) {
        /* The upload, to its staging file as it comes (admin_upload.c): over
         * the cap or on a write error the connection is closed. */
        if (!req->upload || sbk_admin_upload_write(req->upload, upload_data, *upload_data_size) < 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size && req->post) {
        /* The body of the one POST route, bounded: past the limit (a
         * chunked body that lied about nothing) the connection is closed. */
        if (req->body_len + *upload_data_size > SBK_ROUTE_POST_MAX)
            return MHD_NO;
        if (!req->body && !(req->body = malloc(SBK_ROUTE_POST_MAX + 1)))
            return MHD_NO;
        memcpy(req->body + req->body_len, upload_data, *upload_data_size);
        req->body_len += *upload_data_size;
        req->body[req->body_len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* A body nobody asked for (GET with a body): read and dropped, up
         * to a limit; past it the connection is closed. */
        req->dropped += *upload_data_size;
        *upload_data_size = 0;
        /* A body announced over the limit was answered 413 at the first
         * call; a chunked one that grows past it is closed (MHD 0.9.75
         * cannot queue an answer in the middle of a body). */
        return req->dropped > MAX_DROPPED_BODY ? MHD_NO : MHD_YES;
    }
    if (req->answered)
        return MHD_YES;
    return answer(k, req, url ? url : "");
}

/* MHD's URI log callback: the raw target, before MHD splits the query into
 * its connection pool. Hundreds of parameters would exhaust that pool and
 * MHD would close without an answer; past SBK_MAX_QUERY_ARGS the query is
 * cut here (MHD 0.9.75 parses it from this very buffer, after this call)
 * and the request is answered 414. */
void *sbk_http_uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    char *q = uri ? strchr(uri, '?') : NULL;
    if (!q)
        return NULL;
    int n = 1;
    for (const char *p = q; *p; p++)
        n += *p == '&' || *p == ';';
    if (n <= SBK_MAX_QUERY_ARGS)
        return NULL;
    SbkRequest *req = calloc(1, sizeof *req);
    if (req)
        req->too_many_args = 1;
    q[1] = '\0';
    return req;
}

/* ---- access log ---------------------------------------------------------- */

void sbk_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    SbkKiosk *k = cls;
    SbkRequest *req = *con_cls;
    /* A kept-alive connection must send its next request head in time too. */
    const union MHD_ConnectionInfo *sc =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    if (sc && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        sbk_admit_rearm(sc->socket_context);
    if (!req)
        return;
    sbk_watch_remove(k->watch, req->watch_slot);
    req->watch_slot = -1;
    if (k->cfg.access_log && req->answered) {
        char stamp[32], line[512];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        int64_t ms = (now_us() - req->start_us) / 1000;
        snprintf(line, sizeof line, "%s %s %s %s %d %" PRId64 " %" PRId64 "ms%s", stamp,
                 req->client, req->method_log, req->target, req->status, req->bytes, ms,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
        if (k->cfg.access_log_fn)
            k->cfg.access_log_fn(k->cfg.access_log_opaque, line);
        else
            sbk_log(SBK_LOG_INFO, "%s", line);
    }
    sbk_admin_upload_free(&req->upload); /* a staged body no job took is removed */
    free(req->body);
    free(req);
    *con_cls = NULL;
}
