/* src/kiosk/library_int.h - the library's private types, shared by its
 * files (and by nothing else):
 *
 *   library.c   snapshots, bundle references, open/close, resolve
 *   scan.c      the directory scan and item loading (a new snapshot)
 *   verifier.c  the background SHA-256 thread and the verify cache
 *   watcher.c   the inotify thread
 *   library_search.c  each bundle's search index (search.c) and
 *               sbk_library_search_json (JSON by catalog.c)
 *
 * Shape: the library publishes an immutable, reference-counted Snapshot of
 * the folder (every bundle file with its state, the lessons served; the
 * JSON is made from their manifests when asked). Readers (HTTP threads) take a reference under a mutex held
 * for a pointer copy, then work without locks; a rescan builds a new
 * snapshot, reusing the LibBundles of files whose key (device, inode, size,
 * mtime, ctime) did not change, and swaps the pointer. A bundle dropped from the folder stays
 * open until the last snapshot naming it is released, and every resolve
 * hands out a descriptor of its own, so a client streaming a replaced bundle
 * finishes the old file.
 *
 * Threads: the caller's (open, rescan, resolve, JSON), the inotify watcher,
 * the background verifier. Locks, always taken in this order:
 *   scan_lock  one rescan at a time; guards the verify cache and generation
 *   vmu        the verifier's wake-up counter
 *   snap_lock  the current snapshot pointer (held only to copy it)
 *   lb->lock   one bundle's deflated-entry reads and text cache */
#ifndef SABAK_KIOSK_LIBRARY_INT_H
#define SABAK_KIOSK_LIBRARY_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "kiosk/verify_cache.h"
#include "sabak/bundle.h"
#include "sabak/sign.h"

/* Declared again rather than included: this header sits below library.h,
 * search.h and catalog.h, which the files of the library include as they
 * need them (tools/check-include-cycles). */
typedef struct SbkLibrary SbkLibrary;
typedef struct SbkSearchDoc SbkSearchDoc;

#define TEXT_MAX_BYTES (32u << 20)        /* a deflated entry answered from memory */
#define TEXT_CACHE_ENTRY_MAX (256u << 10) /* cache deflated entries up to this size ... */
#define TEXT_CACHE_BUDGET (2u << 20)      /* ... within this much memory, whole library */
#define VTT_MAX_BYTES (4u << 20)  /* one subtitles file read for the index */
#define INDEX_MAX_SUB_LANGS 8     /* subtitle languages indexed per lesson */
#define INDEX_TOTAL_MAX_BYTES (64u << 20) /* all lessons' search indexes */
#define SCAN_THREADS_MAX 4
#define DEBOUNCE_MS 40       /* gather a burst of inotify events into one rescan */
#define DEBOUNCE_MAX_MS 300  /* but never wait longer than this */
#define CACHE_SAVE_EVERY 16  /* verify results between cache writes */
#define CACHE_NAME ".sabak-cache"
/* A bundle that could not be read (EMFILE, EIO, EACCES) is tried again:
 * the verifier after VERIFY_RETRY_MS, doubling up to VERIFY_RETRY_MAX_MS;
 * the watcher rescans an unreadable file, or after a failed rescan, after
 * RESCAN_RETRY_MS doubling up to RESCAN_PERIOD_MS. */
#define VERIFY_RETRY_MS 2000
#define VERIFY_RETRY_MAX_MS (10 * 60 * 1000)
#define RESCAN_RETRY_MS 1000
#define RESCAN_PERIOD_MS 30000 /* a rescan at least this often, events or not */
#define REARM_MS 250           /* try to watch a vanished folder again this often */

enum { V_PENDING = 0, V_GOOD, V_DONE }; /* V_DONE: failed, or could not be checked */

typedef struct TextEntry {
    struct TextEntry *next;
    char *name;
    char *data;
    size_t len;
} TextEntry;

/* One opened, structurally valid bundle. */
typedef struct LibBundle {
    int refs;
    SbkLibrary *lib;
    SbkBundle *b;
    char *file;                /* base name in the folder */
    SbkVerifyKey key;
    SbkSearchDoc *doc;
    size_t doc_bytes;          /* counted in lib->index_bytes */
    int vstate;                /* V_*, atomic */
    char *bad;                 /* why full verification failed (set under scan_lock) */
    int sig_state;             /* who signed it (SBK_SIG_*), against the trust of its scan; */
    char *sig_publisher;       /* trusted: the key's name and id (else NULL: not the whole */
    char *sig_key_id;          /* SbkSignInfo, 400 bytes a lesson mostly blank) */
    int vtries;                /* verifier thread only: failed reads so far ... */
    int64_t vnext_ms;          /* ... and when to try again (monotonic ms) */
    pthread_mutex_t lock;
    TextEntry *texts;
} LibBundle;

/* One bundle file in the folder: served (lb) or damaged (reason). */
typedef struct Item {
    char *file;
    SbkVerifyKey key;
    LibBundle *lb;
    char *reason;
    int transient;         /* reason is a read error, not a verdict: load again */
} Item;

typedef struct Snapshot {
    int refs;
    uint64_t generation;
    Item *items;           /* sorted by file name */
    size_t n_items;
    LibBundle **by_id;     /* the lessons served, one per id, sorted by id */
    LibBundle **served;    /* the same, sorted by topic, order, id */
    size_t n_served;
    size_t n_damaged;
    size_t n_transient;    /* items with a read error: the watcher retries */
} Snapshot;

struct SbkLibrary {
    char *dir;
    char *cache_path;
    pthread_mutex_t scan_lock;
    pthread_mutex_t snap_lock;
    Snapshot *cur;
    uint64_t generation;
    SbkVerifyCache *vcache;
    int vcache_dirty;
    int vcache_warned;
    size_t text_bytes;     /* atomic: memory held by text caches */
    size_t index_bytes;    /* atomic: memory held by search indexes */
    size_t index_budget;   /* INDEX_TOTAL_MAX_BYTES; tests lower it */
    int stop;              /* atomic */
    /* watcher */
    int watch_fd, wake_fd, watch_wd;
    int watching;
    int rescan_period_ms;  /* RESCAN_PERIOD_MS; tests shorten it */
    pthread_t watch_thr;
    /* verifier */
    int verifying;
    pthread_t verify_thr;
    pthread_mutex_t vmu;
    pthread_cond_t vcv;    /* on CLOCK_MONOTONIC */
    unsigned vkick;
    int vretry_ms;         /* VERIFY_RETRY_MS; tests shorten it */
    unsigned vretries;     /* atomic: verifications that could not read */
    /* signatures: the trusted keys, read again by every rescan (scan_lock) */
    char *trusted_dir;
    int sign_policy;
    SbkTrust *trust;
    int trust_changed;     /* this rescan: reload every bundle (scan_lock) */
};

static inline int64_t sbk_lib_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The verify cache's key, also what a rescan compares to reuse a bundle:
 * ctime catches in-place rewrites that keep size and mtime (verify_cache.h). */
static inline SbkVerifyKey sbk_lib_key_of(const struct stat *st)
{
    return (SbkVerifyKey){.dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino,
                          .size = (int64_t)st->st_size,
                          .mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
                          .ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec};
}

static inline int sbk_lib_key_eq(const SbkVerifyKey *a, const SbkVerifyKey *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* library.c */
/* Give the free pages of malloc's arenas back to the system. The catalog's
 * and search's JSON are built as jansson trees, 5 MB of small nodes for
 * 1,000 lessons, freed at once: without this the holes they leave stay in
 * RSS (10 MB after the first page load; tools/bench/catalog). It costs
 * about 5 ms of CPU (the pages are faulted in again by the next request), so
 * searches trim at most every TRIM_EVERY_MS (now = 0); the catalog, asked
 * for once a page load, always (now = 1). */
#define TRIM_EVERY_MS 2000
void sbk_lib_trim(int now);
LibBundle *sbk_lib_bundle_ref(LibBundle *lb);
void sbk_lib_bundle_unref(LibBundle **lb);
Snapshot *sbk_lib_snap_get(SbkLibrary *lib);      /* the current one, referenced */
void sbk_lib_snap_unref(Snapshot **s);
const Item *sbk_lib_snap_find_file(const Snapshot *s, const char *file);
LibBundle *sbk_lib_snap_find_id(const Snapshot *s, const char *id);
/* The bytes of a deflated entry, from the bundle's text cache or inflated
 * now (and cached if small). *out malloc'ed for the caller. */
int sbk_lib_read_text(LibBundle *lb, const char *entry, char **out, size_t *len);

/* scan.c */
/* Rescan the folder and publish a new snapshot if anything changed; scan_lock held. */
int sbk_lib_rescan_locked(SbkLibrary *lib, SbkError *err);
/* Bundles only: "*.zip", not hidden. */
int sbk_lib_bundle_name_ok(const char *name);
/* s with every occurrence of the path `proc` replaced by `file`; malloc'ed. */
char *sbk_lib_name_reason(const char *s, const char *proc, const char *file);

/* verifier.c */
int sbk_lib_verifier_start(SbkLibrary *lib);
void sbk_lib_verifier_stop(SbkLibrary *lib);
void sbk_lib_verifier_kick(SbkLibrary *lib);
/* Save the verify cache, keeping only the files present; scan_lock held. */
void sbk_lib_cache_save_locked(SbkLibrary *lib);

/* watcher.c */
int sbk_lib_watcher_start(SbkLibrary *lib, SbkError *err);
void sbk_lib_watcher_stop(SbkLibrary *lib);

/* library_search.c */
/* Titles, descriptions and subtitle cues of one bundle into lb->doc. */
int sbk_lib_index_bundle(LibBundle *lb, SbkError *err);

#endif
