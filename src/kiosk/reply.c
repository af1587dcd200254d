/* src/kiosk/reply.c - building SbkReplies (see reply.h). No libmicrohttpd
 * here: http.c is the one place that turns a reply into a response. */
#include "kiosk/reply.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

void sbk_reply_init(SbkReply *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->fd = -1;
}

void sbk_reply_clear(SbkReply *r)
{
    if ((r->kind == SBK_BODY_FD || r->kind == SBK_BODY_INFLATE) && r->fd >= 0)
        close(r->fd);
    if (r->kind == SBK_BODY_MALLOC)
        free((void *)r->data);
    r->kind = SBK_BODY_NONE;
    r->fd = -1;
    r->data = NULL;
    r->len = 0;
    r->size = 0;
}

void sbk_reply_static(SbkReply *r, int status, const char *mime, const char *text)
{
    sbk_reply_clear(r);
    r->status = status;
    r->mime = mime;
    r->kind = SBK_BODY_STATIC;
    r->data = text;
    r->len = strlen(text);
}

void sbk_reply_owned(SbkReply *r, int status, const char *mime, char *data, size_t len)
{
    sbk_reply_clear(r);
    r->status = status;
    r->mime = mime;
    r->kind = SBK_BODY_MALLOC;
    r->data = data;
    r->len = len;
}

void sbk_reply_json_value(SbkReply *r, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        sbk_reply_json_error(r, 500, "out of memory");
        return;
    }
    sbk_reply_owned(r, 200, "application/json", s, strlen(s));
    r->cache = "no-store";
}

void sbk_reply_json_error(SbkReply *r, int status, const char *msg)
{
    char *s = NULL;
    json_t *o = json_pack("{s:s}", "error", msg);
    if (o)
        s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s)
        sbk_reply_owned(r, status, "application/json", s, strlen(s));
    else
        sbk_reply_static(r, status, "application/json", "{\"error\":\"out of memory\"}");
    r->entity = 0;
    r->cache = "no-store";
}

static const struct {
    int status;
    const char *text;
} error_pages[] = {
    {400, "400 Bad Request\n"},
    {404, "404 Not Found\n"},
    {405, "405 Method Not Allowed\n"},
    {412, "412 Precondition Failed\n"},
    {413, "413 Content Too Large\n"},
    {414, "414 URI Too Long\n"},
    {416, "416 Range Not Satisfiable\n"},
    {431, "431 Request Header Fields Too Large\n"},
    {500, "500 Internal Server Error\n"},
    {501, "501 Not Implemented\n"},
    {503, "503 Service Unavailable: busy, try again in a moment\n"},
};

void sbk_reply_error(SbkReply *r, int status)
{
    const char *text = "error\n";
    for (size_t i = 0; i < sizeof error_pages / sizeof error_pages[0]; i++)
        if (error_pages[i].status == status)
            text = error_pages[i].text;
    sbk_reply_static(r, status, "text/plain; charset=utf-8", text);
    r->entity = 0;
    r->cache = "no-store";
}

int64_t sbk_reply_body_length(const SbkReply *r)
{
    if (r->kind == SBK_BODY_INFLATE)
        return r->zlen;
    return r->kind == SBK_BODY_FD ? r->size : (int64_t)r->len;
}

/* ---- content coding ---------------------------------------------------------- */

/* The q of one Accept-Encoding element's parameters (";q=0.5"): 1 unless
 * it says otherwise; any malformed q counts as 0 (refused). */
static int q_nonzero(const char *p, const char *end)
{
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        const char *name = p;
        while (p < end && *p != '=' && *p != ';')
            p++;
        size_t nl = (size_t)(p - name);
        while (nl && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
            nl--;
        if (p < end && *p == '=') {
            const char *v = ++p;
            while (p < end && *p != ';')
                p++;
            while (v < p && (*v == ' ' || *v == '\t'))
                v++;
            if (nl == 1 && (name[0] == 'q' || name[0] == 'Q')) {
                /* qvalue = "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ] */
                if (v < p && *v == '1')
                    return 1;
                for (const char *d = v + 1; v < p && *v == '0' && d < p; d++)
                    if (*d >= '1' && *d <= '9')
                        return 1;
                return 0;
            }
        }
    }
    return 1;
}

int sbk_reply_accepts_gzip(const char *ae)
{
    int gzip = -1, star = -1;
    if (!ae)
        return 0;
    const char *p = ae;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        const char *tok = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t tl = (size_t)(p - tok);
        const char *params = p;
        while (*p && *p != ',')
            p++;
        if (tl == 0)
            continue;
        int ok = q_nonzero(params, p);
        if ((tl == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
            (tl == 6 && strncasecmp(tok, "x-gzip", 6) == 0))
            gzip = ok;
        else if (tl == 1 && tok[0] == '*')
            star = ok;
    }
    return gzip >= 0 ? gzip : star > 0;
}

/* gzip of [data, data+len): *out malloc'ed. */
static int gzip_buf(const void *data, size_t len, unsigned char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uLong cap = deflateBound(&z, (uLong)len);
    unsigned char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

int sbk_reply_gzip(const void *data, size_t len, unsigned char **out, size_t *out_len)
{
    return gzip_buf(data, len, out, out_len);
}

/* "<etag>-gz" inside the quotes: the gzip body is another representation. */
static void etag_gz(SbkReply *r)
{
    size_t n = strlen(r->etag);
    if (n >= 2 && r->etag[n - 1] == '"' && n + 3 < sizeof r->etag) {
        memcpy(r->etag + n - 1, "-gz\"", 5);
    }
}

void sbk_reply_negotiate(SbkReply *r, const char *ae)
{
    if (r->status != 200 || (!r->gz && !r->compress))
        return;
    r->vary = 1;
    if (!sbk_reply_accepts_gzip(ae))
        return;
    if (r->gz) {
        sbk_reply_clear(r);
        r->kind = SBK_BODY_STATIC;
        r->data = r->gz;
        r->len = r->gz_len;
        r->encoding = "gzip";
        etag_gz(r);
        return;
    }
    if ((r->kind != SBK_BODY_MALLOC && r->kind != SBK_BODY_STATIC) || r->len < SBK_REPLY_GZIP_MIN)
        return;
    unsigned char *z = NULL;
    size_t zl = 0;
    if (gzip_buf(r->data, r->len, &z, &zl) != 0)
        return; /* out of memory: send it as it is */
    sbk_reply_clear(r);
    r->kind = SBK_BODY_MALLOC;
    r->data = z;
    r->len = zl;
    r->encoding = "gzip";
    etag_gz(r);
}
