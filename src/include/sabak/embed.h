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
    const unsigned char *gz;   /* its gzip (tables embedded with GZIP, text files), or NULL */
    size_t gz_len;
} SbkEmbeddedFile;

/* The entry of `table` (terminated by {NULL, NULL, 0}) named exactly
 * `path`, or NULL. */
const SbkEmbeddedFile *sbk_embed_find(const SbkEmbeddedFile *table, const char *path);

/* The interface strings of every language in `table` (i18n/<lang>.json), as
 * one JSON object {"ky": {...}, "ru": {...}, ...} for a page that carries
 * them inline (the offline player, the drive's catalog). A language whose
 * file is missing or unreadable is left out. New reference (a jansson
 * json_t *), NULL when out of memory. */
struct json_t;
struct json_t *sbk_embed_i18n(const SbkEmbeddedFile *table);

#ifdef __cplusplus
}
#endif
#endif
