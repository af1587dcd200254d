/* src/kiosk/web.h - the kiosk's web app: the table embedded at build time,
 * or a copy of --web-dir read at start and on rescan. */
#ifndef SABAK_KIOSK_WEB_H
#define SABAK_KIOSK_WEB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/reply.h"
#include "sabak/error.h"

/* One file, with its SHA-256 for the ETag and its versioned URLs. */
typedef struct SbkWebFile {
    char *path;
    unsigned char *data; /* owned when loaded from a folder, or own_data */
    size_t len;
    const unsigned char *gz; /* its gzip (embedded text files), or NULL */
    size_t gz_len;
    int own_data, own_gz;    /* index.html with versioned links: made at start */
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

/* dir NULL: the embedded files. Returns 0 or a negative SBK_E* code. */
int sbk_web_init(SbkWeb *web, const char *dir, SbkError *err);
/* Read --web-dir again (nothing to do for the embedded files). */
int sbk_web_reload(SbkWeb *web, SbkError *err);
void sbk_web_free(SbkWeb *web);
/* Answer for the asset named exactly `asset` ("index.html", "i18n/ky.json").
 * index.html links the static assets as /static/<name>?v=<16 hex digits of
 * the file's SHA-256>; `version` is the request's v (or NULL): when it is
 * the asset's, the answer may be cached for ever (immutable). Text assets
 * are gzip-compressed for clients that accept it (sbk_reply_negotiate). */
void sbk_web_handle(SbkWeb *web, const char *asset, const char *version, SbkReply *r);

#endif
