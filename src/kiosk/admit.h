/* src/kiosk/admit.h - who gets a connection slot, and how long a client may
 * take to send its request head (red-team finding 5).
 *
 * Two rules against slow-header floods from many addresses at once:
 *  - the request head (request line and headers) must arrive within
 *    header_timeout seconds of the connection opening, or of the previous
 *    answer on a kept-alive connection; the watchdog shuts the socket down
 *    otherwise, whatever MHD's inactivity timeout says;
 *  - the last `reserve` slots of a listener are kept for addresses that hold
 *    no connection yet, so a new office PC is served while others hog slots.
 * No libmicrohttpd here: http.c and server.c feed it addresses and fds. */
#ifndef SABAK_KIOSK_ADMIT_H
#define SABAK_KIOSK_ADMIT_H

#include <stddef.h>
#include <sys/socket.h>

#include "kiosk/watchdog.h"

typedef struct SbkAdmit SbkAdmit;

/* One per listener. limit: its connection limit; reserve: slots kept for new
 * addresses (clamped below limit); watch: the watchdog that enforces the
 * head deadline (NULL: no deadline); header_timeout in seconds (0: none). */
int sbk_admit_new(SbkAdmit **out, unsigned limit, unsigned reserve, SbkWatch *watch,
                  unsigned header_timeout);
void sbk_admit_free(SbkAdmit **a);

/* May a connection from addr be accepted now? 1 yes, 0 no. */
int sbk_admit_check(SbkAdmit *a, const struct sockaddr *addr, socklen_t len);

/* A connection's own record, kept by the server for the connection's life. */
typedef struct SbkAdmitConn SbkAdmitConn;
/* The connection opened (fd, peer address): counts it and starts its head
 * deadline. Returns NULL when out of memory (the connection is then simply
 * not counted). */
SbkAdmitConn *sbk_admit_opened(SbkAdmit *a, int fd, const struct sockaddr *addr);
/* Its request head arrived: the deadline stops. Accepts NULL. */
void sbk_admit_head_done(SbkAdmitConn *c);
/* Its answer is done and the connection stays open for another request: the
 * next head must arrive within header_timeout too. Accepts NULL. */
void sbk_admit_rearm(SbkAdmitConn *c);
/* The connection closed: uncount it, stop its deadline, free it. */
void sbk_admit_closed(SbkAdmitConn *c);

#endif
