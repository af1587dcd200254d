/* src/core/embed.c - lookup in a table of files embedded at build time
 * (cmake/Embed.cmake): the kiosk's web app, the offline player. Core, so that
 * sabak-pack finds its player template without linking the kiosk. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "sabak/embed.h"
#include "sabak/lang.h"

const SbkEmbeddedFile *sbk_embed_find(const SbkEmbeddedFile *table, const char *path)
{
    if (!table || !path)
        return NULL;
    for (const SbkEmbeddedFile *f = table; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

json_t *sbk_embed_i18n(const SbkEmbeddedFile *table)
{
    json_t *i18n = json_object();
    for (int i = 0; i18n && i < SBK_LANG_COUNT; i++) {
        char name[64];
        snprintf(name, sizeof name, "i18n/%s.json", sbk_lang_codes[i]);
        const SbkEmbeddedFile *e = sbk_embed_find(table, name);
        json_t *strings = e ? json_loadb((const char *)e->data, e->len, 0, NULL) : NULL;
        if (strings)
            json_object_set_new(i18n, sbk_lang_codes[i], strings);
    }
    return i18n;
}
