/* Internal to src/carry/: the shared copy engine, the run's progress
 * accounting, and bundle listing. */
#ifndef SABAK_CARRY_INT_H
#define SABAK_CARRY_INT_H

#include <stdint.h>

#include "sabak/bundle.h"
#include "sabak/carry.h"
#include "sabak/core.h"
#include "sabak/sign.h"

/* The run's byte accounting, for progress, speed and ETA. */
typedef struct CarryRun {
    const SbkCarryCallbacks *cb;
    int64_t all_total, all_done;
    int64_t copied;       /* bytes actually written in this run (for the rate) */
    double t0;            /* monotonic seconds when copying started */
    double last_report;   /* monotonic seconds of the last progress call */
    const struct SbkTrust *trust; /* import: the keys trusted ... */
    int require_trusted;          /* ... and whether only their bundles may come in */
} CarryRun;

double sbk_carry_now(void);
void sbk_carry_progress(CarryRun *r, const char *step, const char *name, int64_t done,
                    int64_t total, int force);
void sbk_carry_event(CarryRun *r, SbkCarryEvent ev, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int sbk_carry_canceled(const CarryRun *r);

/* One bundle of a folder: its file, its manifest's identity. */
typedef struct CarryBundle {
    char *path;
    char *name;           /* base name */
    char *id;
    int version;
    int reduced;          /* manifest has "reduced_from" */
    char reduced_from[SBK_SHA256_HEX]; /* the whole bundle's manifest sha256 */
    char manifest_sha[SBK_SHA256_HEX]; /* sha256 of manifest.json's bytes */
    int64_t size;
    int64_t mtime;
    int64_t unpacked;     /* sum of the files' sizes */
} CarryBundle;

/* Read a bundle's identity (sbk_bundle_open: central directory + manifest). */
int sbk_carry_bundle_load(const char *path, CarryBundle *b, SbkError *err);
void sbk_carry_bundle_clear(CarryBundle *b);
/* Every *.zip directly in dir that opens as a bundle (others are skipped
 * with a NOTE event when r != NULL). Sorted by id, then version. */
int sbk_carry_list_dir(const char *dir, CarryRun *r, CarryBundle **out, size_t *n, SbkError *err);
void sbk_carry_list_free(CarryBundle **list, size_t n);
/* "<id>-v<version>.zip", or "<id>-v<version>-<tiers>.zip" for a reduced one. */
char *sbk_carry_bundle_filename(const char *id, int version, const char *tiers_plus);

/* Copy src to dir/final_name through dir/part_name:
 *  resume: continue an existing part after checking that its kept prefix
 *          matches src (else start over);
 *  then fsync, drop from the page cache, sbk_bundle_verify the part (read
 *  back from the device), rename to final_name, fsync dir.
 * On failure the part is kept when `resume` (so a later run continues) and
 * removed otherwise. The final name never holds an unverified file. */
int sbk_carry_copy_bundle(CarryRun *r, const char *src, const char *dir, const char *part_name,
                      const char *final_name, int resume, SbkError *err);

/* fsync a folder (best effort where the filesystem refuses). */
void sbk_carry_fsync_dir(const char *dir);
/* mkdir -p for one or two levels; 0 or SBK_E*. */
int sbk_carry_mkdir(const char *path, SbkError *err);
/* Hash a whole file. */
int sbk_carry_sha256_file(const char *path, char hex[SBK_SHA256_HEX], SbkError *err);

/* Browsable copy (browse.c). */
int sbk_carry_browse_unpack(CarryRun *r, const char *sabak_dir, const CarryBundle *b,
                        SbkError *err);
int sbk_carry_browse_catalog(const char *sabak_dir, SbkError *err);
/* Bytes the unpacked copy of b will take. */
int64_t sbk_carry_browse_cost(const char *sabak_dir, const CarryBundle *b);
/* A Windows-safe version of one name component (malloc'ed). */
char *sbk_carry_safe_name(const char *name);

/* Reduced bundles (reduce.c): write a bundle holding only the listed media
 * tiers (plus every non-media file) to out_path. */
int sbk_carry_reduce(CarryRun *r, const char *src, const char *tiers, const char *out_path,
                 SbkError *err);
/* Rewrite the manifest inside an offline player page (index.html) with
 * `manifest_json`; *out malloc'ed. */
int sbk_carry_player_set_manifest(const char *html, size_t len, const char *manifest_json,
                              char **out, size_t *out_len, SbkError *err);

/* Sync (sync.c): the office record and the usage report on a drive. */
int sbk_carry_sync_drive(CarryRun *r, const char *sabak_dir, const char *library,
                     const char *state_dir, const char *kiosk_name, SbkError *err);

/* Offices on a drive: what each holds. */
typedef struct CarryOfficeLesson {
    char *id;
    int version;
} CarryOfficeLesson;
typedef struct CarryOffice {
    char *kiosk_id;
    char *name;
    CarryOfficeLesson *lessons;
    size_t n;
} CarryOffice;
int sbk_carry_offices_read(const char *sabak_dir, CarryRun *r, CarryOffice **out, size_t *n,
                       SbkError *err);
void sbk_carry_offices_free(CarryOffice **o, size_t n);

#endif
