/* src/kiosk/http.h - the kiosk's internals shared by server.c (daemons,
 * config), http.c (requests and the one place that creates MHD responses),
 * routes.c (the route table and handlers) and web.c (the web app). */
#ifndef SABAK_KIOSK_HTTP_H
#define SABAK_KIOSK_HTTP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/library.h"
#include "kiosk/routes.h"
#include "sabak/embed.h"
#include "sabak/kiosk.h"

#include <microhttpd.h>

/* The web app: the embedded table, or a copy of --web-dir read at start
 * and on rescan. Each file has its SHA-256 for the ETag. */
typedef struct SbkWebFile {
    char *path;
    unsigned char *data; /* owned when loaded from a folder */
    size_t len;
    char etag[72];
} SbkWebFile;

typedef struct SbkWeb {
    pthread_mutex_t lock;
    SbkWebFile *files;
    size_t n;
    int owned;           /* 1: files[i].data/path are malloc'ed */
    char *dir;           /* --web-dir, or NULL */
    int64_t mtime;       /* start time, Last-Modified of embedded files */
} SbkWeb;

/* Slow-reader watchdog: responses that outlive their allowance get their
 * socket shut down (MHD then closes the connection). */
typedef struct SbkWatch SbkWatch;

struct SbkKiosk {
    SbkKioskConfig cfg;          /* deep copy */
    SbkLibrary *lib;
    SbkWeb web;
    struct MHD_Daemon *daemons[SBK_KIOSK_MAX_LISTEN];
    size_t n_daemons;
    char *listen_urls[SBK_KIOSK_MAX_LISTEN];
    char **lan_urls;
    size_t n_lan_urls;
    SbkWatch *watch;
};

typedef enum {
    SBK_BODY_NONE = 0,
    SBK_BODY_STATIC, /* data/len, persistent */
    SBK_BODY_MALLOC, /* data/len, owned by the reply (freed) */
    SBK_BODY_FD,     /* fd[offset, offset+size), owned by the reply (closed) */
} SbkBodyKind;

/* What a handler answers; http.c turns it into the one MHD response. */
typedef struct SbkReply {
    int status;
    const char *mime;          /* Content-Type */
    const char *cache;         /* Cache-Control */
    SbkBodyKind kind;
    const void *data;
    size_t len;
    int fd;
    int64_t offset, size;
    int entity;                /* 1: a representation: ETag, conditionals, Range apply */
    char etag[80];
    int64_t mtime;             /* Last-Modified, 0: none */
    char disposition[320];     /* Content-Disposition, "" for none */
    const char *allow;         /* Allow, or NULL */
} SbkReply;

/* One request, parsed once at its first access-handler call. */
typedef struct SbkRequest {
    struct MHD_Connection *conn;
    SbkKiosk *kiosk;
    char method[16];
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
} SbkRequest;

/* The value of request header `name`, or NULL. */
const char *sbk_http_header(const SbkRequest *req, const char *name);
/* The decoded query parameter `key` into buf; returns 0, or -1 when absent
 * or not decodable. */
int sbk_http_query(const SbkRequest *req, const char *key, char *buf, size_t n);

/* Reply helpers (handlers fill an SbkReply; they never see MHD). */
void sbk_reply_static(SbkReply *r, int status, const char *mime, const char *text);
/* Takes ownership of the malloc'ed `data`. */
void sbk_reply_owned(SbkReply *r, int status, const char *mime, char *data, size_t len);
/* {"error": msg} with no-store. */
void sbk_reply_json_error(SbkReply *r, int status, const char *msg);
/* The plain error page for status (text/plain). */
void sbk_reply_error(SbkReply *r, int status);
/* Release what the reply owns (fd, data). */
void sbk_reply_clear(SbkReply *r);

/* Route table dispatch (routes.c): fills *r for a GET/HEAD of a matched route. */
void sbk_routes_dispatch(SbkKiosk *k, SbkRequest *req, const SbkRouteMatch *m, SbkReply *r);

/* Web app (web.c). */
int sbk_web_init(SbkWeb *web, const char *dir, SbkError *err);
int sbk_web_reload(SbkWeb *web, SbkError *err);
void sbk_web_free(SbkWeb *web);
void sbk_web_handle(SbkWeb *web, const char *asset, SbkReply *r);

/* The MHD access handler and completion callback (http.c); cls is the SbkKiosk. */
enum MHD_Result sbk_http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls);
void sbk_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe);
/* Build and queue the response of a request; the one place that creates
 * MHD responses. Returns the MHD result. */
enum MHD_Result sbk_http_queue(SbkRequest *req, SbkReply *r);

/* Slow-reader watchdog (http.c). */
int sbk_watch_start(SbkKiosk *k);
void sbk_watch_stop(SbkKiosk *k);

#endif
