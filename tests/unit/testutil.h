/* Fixture helpers shared by the unit tests (header-only, static inline). */
#ifndef SABAK_TESTUTIL_H
#define SABAK_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sabak/bundle.h"
#include "sabak/core.h"

/* Deterministic bytes that do not compress (xorshift). */
static inline void fill_random(unsigned char *p, size_t n, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

/* A manifest file record for `data` (borrowed strings, not freed); other
 * fields start at zero, set them after the call. */
static inline void set_file(SbkManifestFile *f, const char *path, const char *kind,
                            const char *mime, const void *data, size_t n)
{
    memset(f, 0, sizeof *f);
    f->path = (char *)path;
    f->kind = (char *)kind;
    f->mime = (char *)mime;
    f->size = (int64_t)n;
    sbk_sha256_hex(data, n, f->sha256);
}

/* A fresh folder for one test program under $SABAK_TEST_TMP (or /tmp):
 * <base>/<name>-XXXXXX written to buf. 0, or -1 if it cannot be made. */
static inline int test_tmpdir(char *buf, size_t n, const char *name)
{
    const char *base = getenv("SABAK_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755);
    snprintf(buf, n, "%s/%s-XXXXXX", base, name);
    return mkdtemp(buf) ? 0 : -1;
}

/* Remove that folder, unless $SABAK_KEEP_TMP is set. 0 or -1. */
static inline int test_tmpdir_remove(const char *dir)
{
    if (getenv("SABAK_KEEP_TMP"))
        return 0;
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}
#endif
