/* src/kiosk/reply.c - building SbkReplies (see reply.h). No libmicrohttpd
 * here: http.c is the one place that turns a reply into a response. */
#include "kiosk/reply.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
