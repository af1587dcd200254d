/* sabak/embed.h - files embedded into the binary at build time by
 * cmake/Embed.cmake (sabak_embed): the kiosk's web app, the offline player. */
#ifndef SABAK_EMBED_H
#define SABAK_EMBED_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct SbkEmbeddedFile {
    const char *path;          /* relative to the embedded folder, '/'-separated */
    const unsigned char *data; /* len bytes, followed by a NUL not counted in len */
    size_t len;
} SbkEmbeddedFile;

/* The entry of `table` (terminated by {NULL, NULL, 0}) named exactly
 * `path`, or NULL. */
const SbkEmbeddedFile *sbk_embed_find(const SbkEmbeddedFile *table, const char *path);

#ifdef __cplusplus
}
#endif
#endif
