/* src/kiosk/kiosk_int.h - the running kiosk (SbkKiosk of sabak/kiosk.h),
 * shared by server.c (daemons, config), http.c (requests) and routes.c
 * (handlers). No libmicrohttpd types beyond an opaque daemon pointer. */
#ifndef SABAK_KIOSK_KIOSK_INT_H
#define SABAK_KIOSK_KIOSK_INT_H

#include <stddef.h>

#include "kiosk/library.h"
#include "kiosk/admit.h"
#include "kiosk/watchdog.h"
#include "kiosk/web.h"
#include "sabak/kiosk.h"

struct MHD_Daemon;

struct SbkKiosk {
    SbkKioskConfig cfg;          /* deep copy */
    SbkLibrary *lib;
    SbkWeb web;
    struct MHD_Daemon *daemons[SBK_KIOSK_MAX_LISTEN];
    size_t n_daemons;
    char *listen_urls[SBK_KIOSK_MAX_LISTEN];
    char **lan_urls;
    size_t n_lan_urls;
    int lan_urls_ready;          /* atomic: set (release) once lan_urls is complete;
                                    the daemons already answer while it is built */
    SbkWatch *watch;             /* slow readers and request-head deadlines */
    SbkAdmit *admit[SBK_KIOSK_MAX_LISTEN]; /* per listener: slots and head deadline */
    struct SbkUsage *usage;      /* play counts and drives (usage.c, drives.c) */
    struct SbkAdmin *admin;      /* the admin area (admin*.c) */
};

/* Deep copy of a configuration (config.c); an empty listen list becomes
 * 0.0.0.0:8080. 0 or SBK_ENOMEM (dst then holds what was copied). */
int sbk_kiosk_config_copy(SbkKioskConfig *dst, const SbkKioskConfig *src);
/* A setting's unsigned number: digits only (no sign), at most max. 0 or SBK_EINVAL. */
int sbk_kiosk_parse_uint(const char *v, unsigned long long max, unsigned long long *out);

#endif
