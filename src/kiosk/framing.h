/* src/kiosk/framing.h - the request smuggling checks of the access handler
 * (framing.c): what decides where a request's body ends, checked before
 * anything is answered. */
#ifndef SABAK_KIOSK_FRAMING_H
#define SABAK_KIOSK_FRAMING_H

#include <stdint.h>

#include <microhttpd.h>

/* 0 when the framing headers of the request on `conn` are sane, else the
 * status to answer with (and close): 400 for two Content-Length or Host
 * fields, none of Host on HTTP/1.1, a field name that is not a token or
 * glues an obs-fold onto Content-Length/Transfer-Encoding, CR or LF in a
 * value, Content-Length with Transfer-Encoding; 501 for a transfer coding
 * other than chunked; 413 for a body announced over max_dropped_body that
 * nobody would read. */
int sbk_http_check_framing(struct MHD_Connection *conn, const char *version, int64_t max_dropped_body);

#endif
