/* src/bundle/manifest_pack.c - a parsed manifest as one allocation
 * (sbk_manifest_parse; SbkManifest.packed). */
#include "bundle_internal.h"
#include "sabak/bundle.h"

#include <stdlib.h>
#include <string.h>

/* ---- the packed form ----------------------------------------------------
 * A kiosk holds a thousand manifests for as long as it runs: one block each
 * rather than a hundred small allocations (each with malloc's header and
 * rounding), and the strings every file repeats ("video", "video/mp4",
 * "subtitles", the codecs) once. */
typedef struct Packer {
    char *base;              /* NULL: only count the bytes */
    size_t used;
    const char **seen;       /* short strings placed so far, to share */
    int n_seen, cap_seen;
} Packer;

#define PACK_SHARE_MAX 48    /* strings up to this long are shared when equal */

static char *pack_str(Packer *k, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    if (n <= PACK_SHARE_MAX)
        for (int i = 0; i < k->n_seen; i++)
            if (strcmp(k->seen[i], s) == 0)
                return k->base ? (char *)k->seen[i] : NULL;
    char *at = k->base ? k->base + k->used : NULL;
    if (at)
        memcpy(at, s, n);
    k->used += n;
    if (n <= PACK_SHARE_MAX && k->n_seen < k->cap_seen)
        k->seen[k->n_seen++] = k->base ? at : s;
    return k->base ? at : NULL;
}

static void pack_langs(Packer *k, char *const in[SBK_LANG_COUNT], char *out[SBK_LANG_COUNT])
{
    for (int i = 0; i < SBK_LANG_COUNT; i++)
        out[i] = pack_str(k, in[i]);
}

/* Every string of m into k: a dry run with k->base NULL counts the bytes. */
static void pack_strings(Packer *k, const SbkManifest *m, SbkManifest *p)
{
    SbkManifest scratch;
    SbkChapter ch;
    SbkManifestFile f;
    int real = k->base != NULL;
    if (!real)
        p = &scratch;
    p->generator = pack_str(k, m->generator);
    p->id = pack_str(k, m->id);
    pack_langs(k, m->title, p->title);
    pack_langs(k, m->description, p->description);
    p->topic = pack_str(k, m->topic);
    p->content = pack_str(k, m->content);
    p->audio_lang = pack_str(k, m->audio_lang);
    for (int i = 0; i < m->n_chapters; i++)
        pack_langs(k, m->chapters[i].title, (real ? &p->chapters[i] : &ch)->title);
    for (int i = 0; i < m->n_files; i++) {
        const SbkManifestFile *s = &m->files[i];
        SbkManifestFile *d = real ? &p->files[i] : &f;
        d->path = pack_str(k, s->path);
        d->kind = pack_str(k, s->kind);
        d->mime = pack_str(k, s->mime);
        d->codecs = pack_str(k, s->codecs);
        d->tier = pack_str(k, s->tier);
        d->lang = pack_str(k, s->lang);
        d->crf_from = pack_str(k, s->crf_from);
        d->quality_metric = pack_str(k, s->quality_metric);
    }
}

SbkManifest *sbk_manifest_pack(const SbkManifest *m)
{
    const char *seen[64];
    Packer k = {.seen = seen, .cap_seen = 64};
    pack_strings(&k, m, NULL);
    size_t head = sizeof *m, files = (size_t)m->n_files * sizeof *m->files;
    size_t chapters = (size_t)m->n_chapters * sizeof *m->chapters;
    char *block = malloc(head + files + chapters + k.used);
    if (!block)
        return NULL;
    SbkManifest *p = (SbkManifest *)(void *)block;
    *p = *m;
    p->packed = 1;
    p->files = m->n_files ? (SbkManifestFile *)(void *)(block + head) : NULL;
    p->chapters = m->n_chapters ? (SbkChapter *)(void *)(block + head + files) : NULL;
    if (files)
        memcpy(p->files, m->files, files);
    if (chapters)
        memcpy(p->chapters, m->chapters, chapters);
    k = (Packer){.base = block + head + files + chapters, .seen = seen, .cap_seen = 64};
    pack_strings(&k, m, p);
    return p;
}
