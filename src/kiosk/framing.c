/* src/kiosk/framing.c - request smuggling checks (framing.h): MHD frames the
 * request; this checks that nothing about the framing is ambiguous, since a
 * proxy or a client might frame it otherwise (RFC 9112 6, 9110 5.5). */
#include "kiosk/framing.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

typedef struct HeaderScan {
    int n_cl, n_te, n_host;
    int cl_bad;
    int bad_name;
    int te_unknown;
    int64_t cl;
} HeaderScan;

/* RFC 9110 5.6.2: a field name is one or more tchar. */
static int is_token(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int alnum = (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
        if (!alnum && !(c && strchr("!#$%&'*+-.^_`|~", c)))
            return 0;
    }
    return 1;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    HeaderScan *h = cls;
    (void)kind;
    if (!key)
        return MHD_YES;
    if (!value)
        value = "", value_size = 0;
    /* "Content-Length : 5", an empty name or other bytes outside a token
     * must not slip by as another field. */
    if (!is_token(key, key_size))
        h->bad_name = 1;
    /* RFC 9110 5.5: CR, LF or NUL inside a field value is refused. */
    if (memchr(value, '\r', value_size) || memchr(value, '\n', value_size) ||
        strlen(value) != value_size)
        h->bad_name = 1;
    /* An obs-fold line reaches us glued onto the name ("Content-Length7"),
     * and MHD then frames the request without it: a framing field name
     * with anything after it is refused (RFC 9112 5.2). */
    if ((strncasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH, 14) == 0 && key[14]) ||
        (strncasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING, 17) == 0 && key[17]))
        h->bad_name = 1;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        h->n_cl++;
        const char *p = value;
        while (*p == ' ' || *p == '\t')
            p++;
        int64_t v = 0;
        int digits = 0;
        for (; *p >= '0' && *p <= '9'; p++, digits++)
            v = v > INT64_MAX / 10 - 9 ? INT64_MAX : v * 10 + (*p - '0');
        while (*p == ' ' || *p == '\t')
            p++;
        if (!digits || *p)
            h->cl_bad = 1; /* "5, 6", "+5", "0x5", "" */
        h->cl = v;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        h->n_te++;
        const char *p = value;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len != 7 || strncasecmp(p, "chunked", 7) != 0)
            h->te_unknown = 1;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
        h->n_host++;
    }
    return MHD_YES;
}

int sbk_http_check_framing(struct MHD_Connection *conn, const char *version, int64_t max_dropped_body)
{
    HeaderScan h = {0};
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &h);
    if (h.n_cl == 1 && !h.cl_bad && h.cl > max_dropped_body && !h.bad_name && !h.n_te)
        return 413; /* a body nobody reads, over the limit: say so before closing */
    /* RFC 9112 3.2: an HTTP/1.1 request without Host is a 400. */
    int need_host = version && strcmp(version, MHD_HTTP_VERSION_1_0) != 0;
    if (h.n_host > 1 || (need_host && h.n_host == 0) || h.n_cl > 1 || h.cl_bad || h.bad_name || h.n_te > 1 || (h.n_te && h.n_cl))
        return 400;
    if (h.te_unknown)
        return 501;
    return 0;
}

