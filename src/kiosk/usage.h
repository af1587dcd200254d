/* src/kiosk/usage.h - the kiosk side of carrying lessons (issue 10): play
 * counts reported by the web app (POST /api/plays, GET /api/stats, usage.c)
 * and USB drives noticed in the mount table (GET /api/drives, drives.c).
 * The counting, the import and the drive sync step are libsabak-carry's
 * (sabak/carry.h); nothing here repeats them. */
#ifndef SABAK_KIOSK_USAGE_H
#define SABAK_KIOSK_USAGE_H

#include <pthread.h>
#include <stddef.h>

#include "kiosk/kiosk_int.h"
#include "kiosk/reply.h"
#include "sabak/carry.h"

#define SBK_PLAYS_MAX_EVENTS 32    /* events in one report */
#define SBK_PLAYS_MAX_SECONDS 600  /* seconds watched in one event */
/* Per client address (token buckets): */
#define SBK_RATE_PLAYS_BURST 20.0  /* plays at once ... */
#define SBK_RATE_PLAYS_PER_S (1.0 / 20) /* ... then one every 20 s */
#define SBK_RATE_SECS_BURST 3600.0 /* seconds watched at once (an hour offline) ... */
#define SBK_RATE_SECS_PER_S 2.0    /* ... then two per second (two screens) */
#define SBK_RATE_SLOTS 1024        /* client addresses remembered */

typedef struct SbkRateSlot {
    char ip[64];
    double plays, secs;   /* tokens left */
    double t;             /* monotonic seconds of the last refill */
} SbkRateSlot;

typedef struct SbkDrives SbkDrives;

typedef struct SbkUsage {
    pthread_mutex_t lock;      /* the stats handle and the rate table */
    SbkStats *stats;
    char *state_dir;
    SbkKioskId id;
    SbkRateSlot rate[SBK_RATE_SLOTS];
    SbkDrives *drives;          /* drives.c, NULL when drive_poll is 0 */
} SbkUsage;

/* Open the state folder (identity, STATE/stats.sqlite) and start the drive
 * watch; sbk_usage_stop undoes it (accepts a kiosk where start failed). */
int sbk_usage_start(SbkKiosk *k, SbkError *err);
void sbk_usage_stop(SbkKiosk *k);

/* The route handlers (POST /api/plays, /api/stats, /api/drives) are
 * declared in routes.h, which names every handler of its table. */

/* drives.c */
int sbk_drives_start(SbkKiosk *k, SbkError *err);
void sbk_drives_stop(SbkKiosk *k);
/* {"drives": [...], "new": N, "auto_import": bool} (malloc'ed). */
char *sbk_drives_json(SbkKiosk *k);
/* The mount points of the drives seen now (at most max), for the admin area. */
size_t sbk_drives_mounts(SbkKiosk *k, char (*out)[4096], size_t max);

#endif
