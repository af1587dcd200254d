/* src/core/embed.c - lookup in a table of files embedded at build time
 * (cmake/Embed.cmake): the kiosk's web app, the offline player. Core, so that
 * sabak-pack finds its player template without linking the kiosk. */
#include <string.h>

#include "sabak/embed.h"

const SbkEmbeddedFile *sbk_embed_find(const SbkEmbeddedFile *table, const char *path)
{
    if (!table || !path)
        return NULL;
    for (const SbkEmbeddedFile *f = table; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}
