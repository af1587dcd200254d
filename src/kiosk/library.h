/* src/kiosk/library.h - the kiosk's catalog of lesson bundles (internal to
 * libsabak; the CLI reaches the kiosk through sabak/kiosk.h).
 *
 * A library is a folder of bundles. It is scanned at open, watched with
 * inotify (a thread of its own), rescanned on request (SIGHUP), and checked in
 * the background (full SHA-256, cached by size + mtime + inode). Every public
 * function here is thread-safe: the HTTP threads call resolve/catalog while
 * the watcher swaps bundles in and out. */
#ifndef SABAK_KIOSK_LIBRARY_H
#define SABAK_KIOSK_LIBRARY_H

#include <stddef.h>
#include <stdint.h>

#include "sabak/error.h"

typedef struct SbkLibrary SbkLibrary;

typedef struct SbkLibraryOptions {
    const char *dir;          /* the folder of bundles */
    int watch;                /* 1: start the inotify thread */
    int background_verify;    /* 1: hash every entry in a low-priority thread */
    const char *cache_path;   /* verify cache file; NULL: DIR/.sabak-cache */
    const char *trusted_dir;  /* trusted public keys, read again at each rescan; NULL: none */
    int sign_policy;          /* SBK_SIGN_POLICY_* (sabak/kiosk.h) */
} SbkLibraryOptions;

/* Scan opt->dir and start the watcher/verifier threads as asked. A damaged
 * bundle never fails the open: it is listed as damaged with its reason. */
int sbk_library_open(SbkLibrary **out, const SbkLibraryOptions *opt, SbkError *err);
/* Stop the threads, free everything, NULL *lib. Accepts NULL. */
void sbk_library_close(SbkLibrary **lib);
/* Rescan the folder now (SIGHUP). */
int sbk_library_rescan(SbkLibrary *lib, SbkError *err);
/* Counts, for /healthz and start-up messages. */
void sbk_library_counts(SbkLibrary *lib, int *lessons, int *damaged);
/* Bundles whose full background verification has not finished yet (for
 * /healthz and tests); 0 when background_verify is off and nothing is cached. */
int sbk_library_verify_pending(SbkLibrary *lib);

/* The facts the HTTP layer needs to answer for one entry or one whole
 * bundle. Raw facts only: the routes layer turns them into headers (ETag,
 * Content-Type, Content-Disposition). */
typedef struct SbkResolved {
    int fd;            /* a NEW descriptor of the bundle file (owned by the caller:
                          close it, or hand it to MHD), -1 when `data` is used */
    int64_t offset;    /* the bytes to send are fd[offset, offset+size) ... */
    int64_t size;
    char *data;        /* ... or, for small deflated entries, these bytes (malloc'ed, caller frees) */
    int deflated;      /* 1: fd[offset, offset+csize) is raw deflate of `size` bytes
                          with CRC-32 crc32, to be inflated as it is sent */
    int64_t csize;
    uint32_t crc32;
    char sha256[65];   /* lower-case hex: the entry's SHA-256 (from the manifest, or
                          of manifest.json itself); whole bundle: its manifest.json's */
    int64_t mtime;     /* the bundle file's mtime (seconds) */
    char name[256];    /* display name: the entry's base name; whole bundle
                          "<id>-v<version>.zip" */
} SbkResolved;

/* Resolve lesson `id` (highest version served) and entry path `entry` (as in
 * the manifest) through the catalog. Never joins text onto a filesystem path.
 * Returns 0, or SBK_ENOENT (unknown lesson/entry, or a damaged bundle). */
int sbk_library_resolve_entry(SbkLibrary *lib, const char *id, const char *entry, SbkResolved *out);
/* The whole bundle file of lesson `id`. */
int sbk_library_resolve_bundle(SbkLibrary *lib, const char *id, SbkResolved *out);
/* Close fd / free data; leaves r reusable. */
void sbk_resolved_clear(SbkResolved *r);

/* Remove every bundle file of lesson `id` and rescan (the admin area).
 * 0, SBK_ENOENT (no such lesson) or SBK_EIO. */
int sbk_library_remove(SbkLibrary *lib, const char *id, SbkError *err);

/* JSON documents for the API, malloc'ed UTF-8 (caller frees), built from
 * the manifests when asked. The catalog holds a card per lesson (catalog.h),
 * titled in `lang` ("ky"/"ru"/"en", with a fallback; NULL: every language). */
int sbk_library_catalog_json(SbkLibrary *lib, const char *lang, char **out, size_t *len);
int sbk_library_lesson_json(SbkLibrary *lib, const char *id, char **out, size_t *len);
/* Search titles, descriptions and subtitle text (Cyrillic-aware folding,
 * sbk_utf8_fold); lang ("ky"/"ru"/"en" or NULL) only orders results. */
int sbk_library_search_json(SbkLibrary *lib, const char *query, const char *lang, int limit,
                            char **out, size_t *len);

#endif
