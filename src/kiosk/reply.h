/* src/kiosk/reply.h - what a handler answers: an SbkReply (status, body,
 * and the facts the headers are made from). Handlers never see
 * libmicrohttpd; http.c turns a reply into the one MHD response. */
#ifndef SABAK_KIOSK_REPLY_H
#define SABAK_KIOSK_REPLY_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    SBK_BODY_NONE = 0,
    SBK_BODY_STATIC, /* data/len, persistent */
    SBK_BODY_MALLOC, /* data/len, owned by the reply (freed) */
    SBK_BODY_FD,     /* fd[offset, offset+size), owned by the reply (closed) */
    SBK_BODY_INFLATE,/* raw deflate at fd[offset, offset+csize) of `size` bytes (CRC-32
                        crc32); the body is its bytes [zfirst, zfirst+zlen); fd owned */
} SbkBodyKind;

typedef struct SbkReply {
    int status;
    const char *mime;          /* Content-Type */
    const char *cache;         /* Cache-Control */
    SbkBodyKind kind;
    const void *data;
    size_t len;
    int fd;
    int64_t offset, size;
    int64_t csize, zfirst, zlen;
    uint32_t crc32;
    int entity;                /* 1: a representation: ETag, conditionals, Range apply */
    char etag[80];             /* quotes included */
    int64_t mtime;             /* Last-Modified, 0: none */
    char disposition[320];     /* Content-Disposition, "" for none */
    const char *allow;         /* Allow, or NULL */
    const char *csp;           /* Content-Security-Policy; NULL: the kiosk's own strict one */
    int retry_after;           /* Retry-After seconds (503), 0: none */
    /* Content coding (sbk_reply_negotiate): a persistent gzip of the body
     * to send instead (gz/gz_len), or compress = 1 to gzip a malloc'ed body
     * on the way out. Either makes the answer vary on Accept-Encoding. */
    const void *gz;
    size_t gz_len;
    int compress;
    int vary;                  /* Vary: Accept-Encoding */
    const char *encoding;      /* Content-Encoding, or NULL */
    const char *location;      /* Location (a redirect), or NULL */
    char cookie[200];          /* Set-Cookie, "" for none (admin.c) */
} SbkReply;

/* An empty 200 reply with no body. */
void sbk_reply_init(SbkReply *r);
/* `text` is persistent (a literal): never copied, never freed. */
void sbk_reply_static(SbkReply *r, int status, const char *mime, const char *text);
/* Takes ownership of the malloc'ed `data`. */
void sbk_reply_owned(SbkReply *r, int status, const char *mime, char *data, size_t len);
/* {"error": msg} with no-store. */
void sbk_reply_json_error(SbkReply *r, int status, const char *msg);
/* 200 with o serialised (compact, no-store); takes o's reference (NULL: out
 * of memory, answered 500). */
typedef struct json_t json_t;
void sbk_reply_json_value(SbkReply *r, json_t *o);
/* The plain error page for status (text/plain). */
void sbk_reply_error(SbkReply *r, int status);
/* Release what the reply owns (fd, data); the reply stays usable. */
void sbk_reply_clear(SbkReply *r);
/* 1 when an Accept-Encoding header value accepts gzip (a q of 0 refuses;
 * "*" stands for codings not named). NULL or "" accept only identity. */
int sbk_reply_accepts_gzip(const char *accept_encoding);
/* Choose the body's coding for a 200 with gz or compress set: the gzip
 * when the client accepts it (a gzip body has its own ETag, "<etag>-gz"),
 * else the body as is; either way Vary: Accept-Encoding. Bodies under
 * SBK_REPLY_GZIP_MIN bytes are not compressed on the fly. */
#define SBK_REPLY_GZIP_MIN 512
void sbk_reply_negotiate(SbkReply *r, const char *accept_encoding);
/* gzip (zlib, level 6) of len bytes: *out malloc'ed. Returns 0 or -1. */
int sbk_reply_gzip(const void *data, size_t len, unsigned char **out, size_t *out_len);
/* Bytes of the body (fd slice or memory). */
int64_t sbk_reply_body_length(const SbkReply *r);

#endif
