/* sabak/carry.h - carrying lessons on USB drives: export to a drive, import
 * from it, the drive's office records and usage reports, and the kiosk's
 * durable play counts. See docs/CARRY.md.
 *
 * Everything here is a library function: it reports progress and events
 * through SbkCarryCallbacks, never prints, and returns 0 or a negative
 * SBK_E* code with a one-line message in SbkError. The CLI (sabak export,
 * import, reports) and the kiosk call the same functions.
 *
 * Durability: every file that becomes visible on a drive or in a library is
 * written under a temporary name, fsync'ed, checked where it is a bundle
 * (read back from the device after dropping it from the page cache, every
 * SHA-256), renamed, and its folder fsync'ed. */
#ifndef SABAK_CARRY_H
#define SABAK_CARRY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sabak/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- progress and events ------------------------------------------------ */
typedef struct SbkCarryProgress {
    const char *step;     /* "copy", "verify", "unpack", "reduce" */
    const char *name;     /* the bundle's file name */
    int64_t done, total;  /* bytes of this step */
    int64_t all_done;     /* bytes copied so far in the whole run */
    int64_t all_total;    /* bytes to copy in the whole run */
    double rate;          /* bytes/s of copying so far, 0 until known */
    double eta;           /* seconds left for the run, < 0 when unknown */
} SbkCarryProgress;

typedef enum {
    SBK_CARRY_COPIED = 0, /* a bundle was written and verified */
    SBK_CARRY_SKIPPED,    /* nothing to do for it (detail says why) */
    SBK_CARRY_RESUMED,    /* a .part was continued (detail: from which byte) */
    SBK_CARRY_LEFT_OUT,   /* wanted but not written (detail says why) */
    SBK_CARRY_REPLACED,   /* an older version was removed after the new one */
    SBK_CARRY_REFUSED,    /* a conflicting bundle was refused (detail says why) */
    SBK_CARRY_NOTE,       /* anything else worth one line */
} SbkCarryEvent;

typedef struct SbkCarryCallbacks {
    void (*progress)(void *opaque, const SbkCarryProgress *p); /* may be NULL */
    void (*event)(void *opaque, SbkCarryEvent ev, const char *name, const char *detail);
    void *opaque;
    const volatile int *cancel; /* polled between blocks; non-zero: SBK_ECANCELED */
} SbkCarryCallbacks;

/* ---- filesystems --------------------------------------------------------- */
typedef struct SbkFsInfo {
    char type[32];       /* "vfat", "fuse.fusefat", "exfat", "ext4", ... */
    int fat;             /* 1 when files must stay under 4 GiB */
    int64_t free_bytes;  /* available to us; -1 when the filesystem does not say */
    int64_t total_bytes; /* -1 when the filesystem does not say */
} SbkFsInfo;

/* Filesystem type (from /proc/self/mountinfo, falling back to statfs) and
 * free space of the filesystem holding `path`. */
int sbk_carry_fs_info(const char *path, SbkFsInfo *out, SbkError *err);
#define SBK_FAT_MAX_FILE ((int64_t)4294967295) /* 4 GiB - 1 */

/* ---- export -------------------------------------------------------------- */
typedef struct SbkExportOptions {
    const char *library;          /* folder of bundles */
    const char *mount;            /* the drive; bundles go to MOUNT/sabak/ */
    const char *const *lessons;   /* ids to export; NULL/0: every lesson */
    size_t n_lessons;
    const char *tiers;            /* "low,audio": reduced bundles; NULL: whole */
    int browsable;                /* also unpack + MOUNT/sabak/index.html */
    int for_offices;              /* only what an office on the drive lacks */
    int64_t margin;               /* bytes to leave free; < 0: the default */
    const char *work_dir;         /* where reduced bundles are built; NULL: MOUNT/sabak */
} SbkExportOptions;

/* Copy the newest version of each chosen lesson onto the drive.
 * Returns 0 when everything wanted is on the drive and verified (lessons
 * left out by --for-offices for lack of space are events, not failures),
 * SBK_ENOSPC when a chosen bundle does not fit, SBK_ELIMIT for a file too
 * big for FAT, or another code. A failure leaves on the drive only complete
 * verified bundles and resumable MOUNT/sabak/<name>.part files. */
int sbk_carry_export(const SbkExportOptions *o, const SbkCarryCallbacks *cb, SbkError *err);

/* ---- import -------------------------------------------------------------- */
typedef struct SbkImportOptions {
    const char *library;          /* the kiosk's folder of bundles */
    const char *const *sources;   /* bundle files, folders or mounted drives */
    size_t n_sources;
    const char *state_dir;        /* NULL: no sync step (no identity, no stats) */
    const char *kiosk_name;       /* NULL: the stored name, else the host name */
    /* Signatures (sabak/sign.h): a bad signature is always refused; with
     * require_trusted (require_signature = on, and every auto-import) so is
     * a bundle no key of `trust` signed (SBK_CARRY_REFUSED; with 2, as an
     * auto-import does, it is SBK_CARRY_SKIPPED and not a failure). trust
     * may be NULL: none trusted. */
    const struct SbkTrust *trust;
    int require_trusted;
    const char *sync_drive;       /* a drive whose sync step runs even when only some of
                                     its bundles are the sources (the kiosk's admin) */
} SbkImportOptions;

/* Import bundles: each verified fully in a temporary file in the library,
 * then renamed into place; an older version of the same lesson is removed
 * only after that. The same id and version with different content is
 * refused (SBK_CARRY_REFUSED, both SHA-256 in the detail) and makes the
 * result SBK_EINVAL once everything else is done. When a source is a drive
 * (has a sabak/ folder) and state_dir is set, the sync step follows: the
 * office record MOUNT/sabak/offices/<kiosk-id>.json and the usage report
 * MOUNT/sabak/reports/<kiosk-id>-<yyyy-mm-dd>.csv are written atomically.
 * Leftovers of an interrupted import are removed first. */
int sbk_carry_import(const SbkImportOptions *o, const SbkCarryCallbacks *cb, SbkError *err);
/* What sbk_carry_import would do with these sources, without copying or
 * locking: *found bundles were found, *wanted of them it would import (a
 * lesson the library lacks, or a newer version). The kiosk's drive notice. */
int sbk_carry_import_plan(const SbkImportOptions *o, int *found, int *wanted, SbkError *err);

/* What the import would do with each bundle found, for the kiosk's admin
 * page: status "new" (the library lacks the lesson), "newer" (it has an
 * older version), "same", "older", "conflict" (same version, other
 * content: refused) or "damaged" (not a usable bundle; detail says why). */
typedef struct SbkPlanItem {
    char *path;           /* the bundle file (malloc'ed) */
    char name[256];       /* its base name */
    char id[65];          /* empty when damaged */
    int version;
    int64_t size;
    const char *status;   /* a literal, as above */
    char detail[512];
} SbkPlanItem;
int sbk_carry_import_plan_list(const SbkImportOptions *o, SbkPlanItem **items, size_t *n,
                               SbkError *err);
void sbk_carry_plan_free(SbkPlanItem **items, size_t n);

/* ---- reports --------------------------------------------------------------- */
/* Merge MOUNT/sabak/reports/ (every *.csv) into one CSV table
 * "office,kiosk_id,lesson,month,plays,minutes" (*csv malloc'ed, NUL-terminated).
 * Reports carry cumulative counts, so the same report read twice, or two
 * reports of one kiosk, count nothing twice (the highest count wins). */
int sbk_carry_reports(const char *mount, char **csv, size_t *len, SbkError *err);

/* ---- kiosk identity and play counts (the state directory) ----------------- */
typedef struct SbkKioskId {
    char id[33];          /* 32 hex digits, random, made once */
    char name[128];       /* from --name / the config, else the host name */
} SbkKioskId;

/* Read STATE/kiosk.json, creating the folder and the identity on first use.
 * A non-NULL name replaces the stored one. */
int sbk_state_identity(const char *state_dir, const char *name, SbkKioskId *out, SbkError *err);

/* The default state folder: /var/lib/sabak when `installed`, else
 * LIBRARY/.sabak-state. malloc'ed. */
char *sbk_state_dir_default(const char *library, int installed);

typedef struct SbkStats SbkStats;

typedef struct SbkStatsRow {
    char lesson[65];
    char month[8];        /* "2026-11" (UTC) */
    int64_t plays;
    double seconds;       /* watched */
} SbkStatsRow;

/* Open (create) STATE/stats.sqlite: WAL, synchronous=FULL. */
int sbk_stats_open(const char *state_dir, SbkStats **out, SbkError *err);
void sbk_stats_close(SbkStats **s);
/* Add plays and seconds watched for a lesson in the month of `when`. No
 * personal data is stored: only (lesson, month) counters. */
int sbk_stats_record(SbkStats *s, const char *lesson_id, time_t when, int64_t plays,
                     double seconds, SbkError *err);
/* sbk_stats_record for each row (lesson, plays, seconds; month ignored) in
 * one transaction: one fsync for all of them, all or nothing. */
int sbk_stats_record_many(SbkStats *s, const SbkStatsRow *rows, size_t n, time_t when,
                          SbkError *err);
/* Every counter, by lesson then month. *rows malloc'ed (NULL when none). */
int sbk_stats_list(SbkStats *s, SbkStatsRow **rows, size_t *n, SbkError *err);
/* The usage report: a CSV "kiosk_id,kiosk_name,lesson,month,plays,seconds"
 * with the cumulative counts of every (lesson, month) that changed since the
 * last report marked with sbk_stats_mark_reported (*csv malloc'ed). */
int sbk_stats_report_csv(SbkStats *s, const SbkKioskId *k, char **csv, size_t *len,
                         SbkError *err);
/* Remember that what the last sbk_stats_report_csv on this handle returned
 * has been delivered (counters that moved since then stay "changed"). */
int sbk_stats_mark_reported(SbkStats *s, SbkError *err);

#ifdef __cplusplus
}
#endif
#endif
