/* src/kiosk/watchdog.h - the slow-reader watchdog: a large response that
 * outlives its allowance (60 s + its size at the minimum rate) gets its
 * socket shut down, and the server then closes the connection. One thread,
 * woken every second; no libmicrohttpd here (http.c passes socket fds). */
#ifndef SABAK_KIOSK_WATCHDOG_H
#define SABAK_KIOSK_WATCHDOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct SbkWatch SbkWatch;

/* Start the thread: min_rate bytes/s (0: responses are not watched, only
 * deadlines), at most `slots` watched at once. Returns 0 or SBK_ENOMEM. */
int sbk_watch_new(SbkWatch **out, unsigned min_rate, size_t slots);
/* Stop the thread and free; NULLs *w, accepts NULL. */
void sbk_watch_free(SbkWatch **w);
/* Watch socket `fd` sending body_bytes; returns the slot, or -1 when none
 * is free (the response is then simply not watched). */
int sbk_watch_add(SbkWatch *w, int fd, uint64_t body_bytes);
/* Shut socket `fd` down unless removed within `seconds`; `why` (a static
 * string) is logged at debug level when that happens. Returns the slot or -1. */
int sbk_watch_deadline(SbkWatch *w, int fd, unsigned seconds, const char *why);
/* The response of `slot` is finished. Accepts w NULL or slot -1. */
void sbk_watch_remove(SbkWatch *w, int slot);

#endif
