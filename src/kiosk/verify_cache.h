/* src/kiosk/verify_cache.h - results of full bundle verification, kept in a
 * small text file so that a restart does not hash every bundle again
 * (internal to libsabak).
 *
 * A result is keyed by the file's device, inode, size, mtime and ctime (ns).
 * A bundle replaced by rename gets a new inode; one rewritten in place a new
 * ctime even when its size and mtime are kept (cp -p, rsync --inplace,
 * touch -r: the kernel sets ctime on every write and every utimensat, and
 * it cannot be set back); a library moved to another drive a new device.
 * Either way it is verified again. Bit rot under an unchanged inode changes
 * nothing the kernel can see: that needs a full check (sabak verify, or
 * deleting the cache). The file (DIR/.sabak-cache by default) is hidden, so
 * the library scan ignores it, and written atomically
 * (sbk_atomic_write_file). Format, one line each:
 *   sabak-verify-cache 2
 *   <dev> <inode> <size> <mtime_ns> <ctime_ns> ok
 *   <dev> <inode> <size> <mtime_ns> <ctime_ns> bad <reason>
 * A cache of format 1 (no device, no ctime) is dropped: verified again. */
#ifndef SABAK_KIOSK_VERIFY_CACHE_H
#define SABAK_KIOSK_VERIFY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "sabak/error.h"

typedef struct SbkVerifyKey {
    uint64_t dev;
    uint64_t ino;
    int64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
} SbkVerifyKey;

typedef struct SbkVerifyCache SbkVerifyCache;

/* Read the cache at path. A missing file gives an empty cache; unreadable
 * or malformed lines are skipped (the cache is only an optimisation).
 * Returns 0 or SBK_ENOMEM. */
int sbk_vcache_load(const char *path, SbkVerifyCache **out);
/* 1: verified good, 0: damaged (*reason points into the cache, valid until
 * the next put/free), -1: unknown. */
int sbk_vcache_get(const SbkVerifyCache *c, const SbkVerifyKey *k, const char **reason);
/* Record a result (replacing an older one for the same key). */
int sbk_vcache_put(SbkVerifyCache *c, const SbkVerifyKey *k, int ok, const char *reason);
/* Write the entries whose keys are in keep[0..n_keep) (all when keep is
 * NULL) to path atomically. */
int sbk_vcache_save(const SbkVerifyCache *c, const char *path, const SbkVerifyKey *keep,
                    size_t n_keep, SbkError *err);
/* Number of entries. */
size_t sbk_vcache_count(const SbkVerifyCache *c);
void sbk_vcache_free(SbkVerifyCache **c);

#endif
