/* Fixture helpers shared by the unit tests (header-only, static inline). */
#ifndef SABAK_TESTUTIL_H
#define SABAK_TESTUTIL_H

#include <stdint.h>
#include <string.h>

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

#endif
