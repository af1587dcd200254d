/* src/kiosk/http.h - one request from libmicrohttpd's access handler to its
 * response (http.c): the only kiosk file besides server.c that knows MHD.
 * Layering inside the kiosk: server -> http -> routes -> (web, library,
 * catalog, reply); nothing below http calls back into it. */
#ifndef SABAK_KIOSK_HTTP_H
#define SABAK_KIOSK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "kiosk/kiosk_int.h"
#include "kiosk/reply.h"

#include <microhttpd.h>

/* One request, parsed once at its first access-handler call. */
typedef struct SbkRequest {
    struct MHD_Connection *conn;
    SbkKiosk *kiosk;
    char method[16];
    char method_log[72];
    int too_many_args;     /* set by sbk_http_uri_seen: answer 414 */   /* method escaped for the log (log_target) */
    int head;                  /* HEAD: headers only */
    char target[256];          /* the raw path for the access log (cut) */
    char client[64];
    int64_t start_us;
    int status;
    int64_t bytes;
    int answered;
    int close;                 /* answer with Connection: close */
    size_t dropped;            /* request body bytes read and dropped */
    int watch_slot;            /* slow-reader watchdog slot, -1 none */
    int post;                  /* a POST to the route that takes one */
    char *body;                /* its body so far (at most SBK_ROUTE_POST_MAX) */
    size_t body_len;
    int stream;                /* the upload route: the body goes to req->upload */
    struct SbkAdminUpload *upload;
    char sid[65];              /* an admin route: the session the gate found */
    int gated;                 /* the admin gate has run */
} SbkRequest;

/* The value of request header `name`, or NULL. */
const char *sbk_http_header(const SbkRequest *req, const char *name);

/* The MHD access handler and completion callback; cls is the SbkKiosk. */
enum MHD_Result sbk_http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls);
void sbk_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe);
/* Build and queue the response of a request; the one place that creates
 * MHD responses. Returns the MHD result. */
enum MHD_Result sbk_http_queue(SbkRequest *req, SbkReply *r);

/* More query parameters than this are answered 414. */
#define SBK_MAX_QUERY_ARGS 64
void *sbk_http_uri_seen(void *cls, const char *uri, struct MHD_Connection *conn);

#endif
