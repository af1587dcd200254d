/* src/kiosk/catalog.c - JSON for /api/lessons, /api/lessons/<id> and
 * /api/search (see catalog.h, docs/API.md). Built with jansson when asked,
 * from the manifests the library holds (nothing is kept serialised),
 * compact, UTF-8 as is (no JSON_ENSURE_ASCII). */
#include "kiosk/catalog.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/mime.h"
#include "sabak/core.h"
#include "sabak/lang.h"
#include "sabak/error.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* Rendition order: the modern codec first (only packed where it pays), then
 * the H.264 tiers from best to smallest, then audio only. */
static const char *const tier_order[] = {"av1", "standard", "low", "audio"};

static int tier_rank(const char *tier)
{
    for (size_t i = 0; tier && i < sizeof tier_order / sizeof tier_order[0]; i++)
        if (strcmp(tier, tier_order[i]) == 0)
            return (int)i;
    return (int)(sizeof tier_order / sizeof tier_order[0]);
}

char *sbk_catalog_entry_url(const char *id, const char *entry, const char *sha256)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen("/lessons/") + strlen(id) + 1 + 3 * strlen(entry) + 4 + 16 + 1;
    char *out = malloc(n);
    if (!out)
        return NULL;
    size_t o = (size_t)snprintf(out, n, "/lessons/%s/", id);
    for (const unsigned char *p = (const unsigned char *)entry; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~/", c)) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    if (sha256 && strlen(sha256) >= 16)
        snprintf(out + o, n - o, "?v=%.16s", sha256);
    return out;
}

/* Rounded to 1/1000 without libm (libsabak does not link it). */
static double milli_round(double v)
{
    if (!isfinite(v) || v < 0 || v > 1e12)
        return 0;
    return (double)(int64_t)(v * 1000.0 + 0.5) / 1000.0;
}

/* Seconds with millisecond precision, so 183.42 prints as 183.42. */
static json_t *seconds(double s) { return json_real(milli_round(s)); }

/* {"ky": "...", "ru": "..."}: the languages present only. */
static json_t *lang_object(char *const v[SBK_LANG_COUNT])
{
    json_t *o = json_object();
    for (int i = 0; o && i < SBK_LANG_COUNT; i++)
        if (v[i] && v[i][0])
            json_object_set_new(o, sbk_lang_codes[i], json_string(v[i]));
    return o;
}

static int set_url(json_t *o, const char *key, const char *id, const SbkManifestFile *f)
{
    char *url = sbk_catalog_entry_url(id, f->path, f->sha256);
    if (!url)
        return SBK_ENOMEM;
    int r = json_object_set_new(o, key, json_string(url));
    free(url);
    return r == 0 ? 0 : SBK_ENOMEM;
}

static const SbkManifestFile *first_of_kind(const SbkManifest *m, const char *kind)
{
    for (int i = 0; i < m->n_files; i++)
        if (m->files[i].kind && strcmp(m->files[i].kind, kind) == 0)
            return &m->files[i];
    return NULL;
}

static int is_kind(const SbkManifestFile *f, const char *kind)
{
    return f->kind && strcmp(f->kind, kind) == 0;
}

static int rendition_cmp(const void *a, const void *b)
{
    const SbkManifestFile *x = *(const SbkManifestFile *const *)a;
    const SbkManifestFile *y = *(const SbkManifestFile *const *)b;
    int rx = tier_rank(x->tier), ry = tier_rank(y->tier);
    if (rx != ry)
        return rx - ry;
    return strcmp(x->path, y->path);
}

static int subtitle_cmp(const void *a, const void *b)
{
    const SbkManifestFile *x = *(const SbkManifestFile *const *)a;
    const SbkManifestFile *y = *(const SbkManifestFile *const *)b;
    int rx = sbk_lang_rank(x->lang), ry = sbk_lang_rank(y->lang);
    if (rx != ry)
        return rx - ry;
    return strcmp(x->path, y->path);
}

static json_t *rendition(const char *id, const SbkManifestFile *f)
{
    json_t *r = json_object();
    if (!r)
        return NULL;
    json_object_set_new(r, "tier", json_string(f->tier ? f->tier : ""));
    json_object_set_new(r, "kind", json_string(f->kind));
    json_object_set_new(r, "mime", json_string(f->mime ? f->mime : sbk_mime_for_path(f->path)));
    if (f->codecs)
        json_object_set_new(r, "codecs", json_string(f->codecs));
    if (f->width > 0 && f->height > 0) {
        json_object_set_new(r, "width", json_integer(f->width));
        json_object_set_new(r, "height", json_integer(f->height));
    }
    if (f->fps > 0) {
        if (f->fps < 1e6 && f->fps == (double)(int64_t)f->fps)
            json_object_set_new(r, "fps", json_integer((json_int_t)f->fps));
        else
            json_object_set_new(r, "fps", json_real(milli_round(f->fps)));
    }
    if (f->bitrate > 0)
        json_object_set_new(r, "bitrate", json_integer(f->bitrate));
    json_object_set_new(r, "size", json_integer(f->size));
    if (set_url(r, "url", id, f) < 0) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* An array of the files of one kind, sorted by cmp, each made by `make`. */
static json_t *file_array(const SbkManifest *m, int (*want)(const SbkManifestFile *),
                          int (*cmp)(const void *, const void *),
                          json_t *(*make)(const char *, const SbkManifestFile *))
{
    json_t *arr = json_array();
    const SbkManifestFile **sel = calloc((size_t)m->n_files + 1, sizeof *sel);
    size_t n = 0;
    if (!arr || !sel)
        goto fail;
    for (int i = 0; i < m->n_files; i++)
        if (want(&m->files[i]))
            sel[n++] = &m->files[i];
    qsort(sel, n, sizeof *sel, cmp);
    for (size_t i = 0; i < n; i++) {
        json_t *o = make(m->id, sel[i]);
        if (!o || json_array_append_new(arr, o) < 0)
            goto fail;
    }
    free(sel);
    return arr;
fail:
    free(sel);
    json_decref(arr);
    return NULL;
}

static int want_rendition(const SbkManifestFile *f)
{
    return is_kind(f, "video") || is_kind(f, "audio");
}
static int want_subtitles(const SbkManifestFile *f) { return is_kind(f, "subtitles"); }
static int want_handout(const SbkManifestFile *f) { return is_kind(f, "handout"); }

static int path_cmp(const void *a, const void *b)
{
    return strcmp((*(const SbkManifestFile *const *)a)->path,
                  (*(const SbkManifestFile *const *)b)->path);
}

static json_t *subtitle(const char *id, const SbkManifestFile *f)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "lang", json_string(f->lang ? f->lang : ""));
    if (set_url(o, "url", id, f) < 0) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "size", json_integer(f->size));
    return o;
}

static json_t *handout(const char *id, const SbkManifestFile *f)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "name", json_string(sbk_path_base(f->path)));
    if (set_url(o, "url", id, f) < 0) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "size", json_integer(f->size));
    json_object_set_new(o, "mime", json_string(f->mime ? f->mime : sbk_mime_for_path(f->path)));
    return o;
}

static json_t *chapters(const SbkManifest *m)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < m->n_chapters; i++) {
        json_t *c = json_object();
        if (!c || json_array_append_new(arr, c) < 0) {
            json_decref(arr);
            return NULL;
        }
        json_object_set_new(c, "start", seconds((double)m->chapters[i].start_ms / 1000.0));
        json_object_set_new(c, "title", lang_object(m->chapters[i].title));
    }
    return arr;
}

static json_t *lesson_object(const SbkManifest *m, int64_t bundle_size)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_string(m->id));
    json_object_set_new(o, "version", json_integer(m->version));
    json_object_set_new(o, "title", lang_object(m->title));
    json_object_set_new(o, "description", lang_object(m->description));
    json_object_set_new(o, "topic", json_string(m->topic ? m->topic : ""));
    json_object_set_new(o, "order", json_integer(m->order));
    json_object_set_new(o, "duration", seconds(m->duration));
    json_object_set_new(o, "content", json_string(m->content ? m->content : ""));
    if (m->audio != SBK_AUDIO_UNSAID) /* older bundles do not say */
        json_object_set_new(o, "sound", json_string(m->audio == SBK_AUDIO_NONE ? "none" : "present"));
    json_object_set_new(o, "chapters", chapters(m));
    const SbkManifestFile *poster = first_of_kind(m, "poster");
    const SbkManifestFile *thumb = first_of_kind(m, "thumbnail");
    if (poster && set_url(o, "poster", m->id, poster) < 0)
        goto fail;
    if (thumb && set_url(o, "thumbnail", m->id, thumb) < 0)
        goto fail;
    json_t *r = file_array(m, want_rendition, rendition_cmp, rendition);
    json_t *s = file_array(m, want_subtitles, subtitle_cmp, subtitle);
    json_t *h = file_array(m, want_handout, path_cmp, handout);
    json_object_set_new(o, "renditions", r);
    json_object_set_new(o, "subtitles", s);
    json_object_set_new(o, "handouts", h);
    if (!r || !s || !h)
        goto fail;
    json_t *dl = json_object();
    if (!dl || json_object_set_new(o, "download", dl) < 0)
        goto fail;
    char buf[128 + 64];
    snprintf(buf, sizeof buf, "/lessons/%s.zip", m->id);
    json_object_set_new(dl, "url", json_string(buf));
    snprintf(buf, sizeof buf, "%s-v%d.zip", m->id, m->version);
    json_object_set_new(dl, "name", json_string(buf));
    json_object_set_new(dl, "size", json_integer(bundle_size));
    return o;
fail:
    json_decref(o);
    return NULL;
}

static int dump(json_t *o, char **out, size_t *len)
{
    if (!o)
        return SBK_ENOMEM;
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    if (!s)
        return SBK_ENOMEM;
    *out = s;
    if (len)
        *len = strlen(s);
    return 0;
}

/* A JSON string of text that may not be valid UTF-8 (a file name found on
 * disk, a reason quoting one): invalid bytes become U+FFFD. */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    size_t n = strlen(s);
    char *fixed = malloc(3 * n + 1);
    if (!fixed)
        return NULL;
    const char *p = s, *end = s + n;
    size_t o = 0;
    while (p < end) {
        const char *q = p;
        int32_t cp = sbk_utf8_next(&q, end);
        if (cp < 0) {
            memcpy(fixed + o, "\xef\xbf\xbd", 3);
            o += 3;
        } else {
            memcpy(fixed + o, p, (size_t)(q - p));
            o += (size_t)(q - p);
        }
        p = q;
    }
    j = json_stringn(fixed, o);
    free(fixed);
    return j;
}

/* Who signed the bundle (docs/API.md), on a card and on the details. */
static void add_sign(json_t *o, const SbkCatalogSign *sig)
{
    if (!o || !sig)
        return;
    json_object_set_new(o, "signature", json_string(sig->state ? sig->state : "unsigned"));
    json_object_set_new(o, "publisher", sig->publisher ? json_text(sig->publisher) : json_null());
    json_object_set_new(o, "publisher_key", sig->key_id ? json_string(sig->key_id) : json_null());
    json_object_set_new(o, "unverified", json_boolean(sig->unverified));
}

int sbk_catalog_lesson(const SbkManifest *m, int64_t bundle_size, const SbkCatalogSign *sig,
                       char **out, size_t *len)
{
    *out = NULL;
    json_t *o = lesson_object(m, bundle_size);
    add_sign(o, sig);
    return dump(o, out, len);
}

/* The title in `lang` (an index, or -1 for every language): with one
 * language, {"<code>": text} of the first present in the fallback order. */
static json_t *card_title(const SbkManifest *m, int lang)
{
    if (lang < 0)
        return lang_object(m->title);
    json_t *o = json_object();
    for (int r = 0; o && r <= SBK_LANG_COUNT; r++) {
        int l = r == 0 ? lang : r - 1;
        if (m->title[l] && m->title[l][0]) {
            json_object_set_new(o, sbk_lang_codes[l], json_string(m->title[l]));
            break;
        }
    }
    return o;
}

/* What a card shows: tier and size of each rendition, no URL. */
static json_t *card_tier(const char *id, const SbkManifestFile *f)
{
    (void)id;
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "tier", json_string(f->tier ? f->tier : ""));
        json_object_set_new(o, "size", json_integer(f->size));
    }
    return o;
}

static json_t *card_subtitle(const char *id, const SbkManifestFile *f)
{
    (void)id;
    json_t *o = json_object();
    if (o)
        json_object_set_new(o, "lang", json_string(f->lang ? f->lang : ""));
    return o;
}

static json_t *card_object(const SbkManifest *m, int lang, const SbkCatalogSign *sig)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_string(m->id));
    json_object_set_new(o, "version", json_integer(m->version));
    json_object_set_new(o, "title", card_title(m, lang));
    json_object_set_new(o, "topic", json_string(m->topic ? m->topic : ""));
    json_object_set_new(o, "order", json_integer(m->order));
    json_object_set_new(o, "duration", seconds(m->duration));
    const SbkManifestFile *img = first_of_kind(m, "thumbnail");
    if (!img)
        img = first_of_kind(m, "poster");
    if (img && set_url(o, "thumbnail", m->id, img) < 0)
        goto fail;
    json_t *r = file_array(m, want_rendition, rendition_cmp, card_tier);
    json_t *s = file_array(m, want_subtitles, subtitle_cmp, card_subtitle);
    json_object_set_new(o, "renditions", r);
    json_object_set_new(o, "subtitles", s);
    if (!r || !s)
        goto fail;
    add_sign(o, sig);
    return o;
fail:
    json_decref(o);
    return NULL;
}

int sbk_catalog_cards(uint64_t generation, const SbkManifest *const *m,
                      const SbkCatalogSign *sigs, size_t n, int lang, const char *const *dmg_file, const char *const *dmg_reason, size_t n_dmg,
                      char **out, size_t *len)
{
    *out = NULL;
    json_t *root = json_object(), *lessons = json_array(), *dmg = json_array();
    if (!root || !lessons || !dmg) {
        json_decref(root);
        json_decref(lessons);
        json_decref(dmg);
        return SBK_ENOMEM;
    }
    json_object_set_new(root, "generation", json_integer((json_int_t)generation));
    json_object_set_new(root, "lessons", lessons);
    json_object_set_new(root, "damaged", dmg);
    for (size_t i = 0; i < n; i++) {
        json_t *c = card_object(m[i], lang, sigs ? &sigs[i] : NULL);
        if (!c || json_array_append_new(lessons, c) < 0) {
            json_decref(root);
            return SBK_ENOMEM;
        }
    }
    for (size_t i = 0; i < n_dmg; i++) {
        json_t *d = json_object();
        if (!d || json_array_append_new(dmg, d) < 0) {
            json_decref(root);
            return SBK_ENOMEM;
        }
        json_object_set_new(d, "file", json_text(dmg_file[i]));
        json_object_set_new(d, "reason", json_text(dmg_reason[i]));
    }
    return dump(root, out, len);
}

static const char *const kind_name[SBK_SEARCH_KINDS] = {"title", "description", "subtitles"};

int sbk_catalog_search(const char *query, const SbkCatalogResult *res, size_t n, char **out,
                       size_t *len)
{
    *out = NULL;
    json_t *root = json_object();
    json_t *results = json_array();
    if (!root || !results) {
        json_decref(root);
        json_decref(results);
        return SBK_ENOMEM;
    }
    /* Echo the query only when it is text jansson accepts (valid UTF-8). */
    json_t *q = query ? json_string(query) : NULL;
    json_object_set_new(root, "query", q ? q : json_string(""));
    json_object_set_new(root, "results", results);
    for (size_t i = 0; i < n; i++) {
        const SbkManifest *m = res[i].m;
        json_t *r = json_object(), *hits = json_array();
        if (!r || !hits || json_array_append_new(results, r) < 0) {
            json_decref(hits);
            json_decref(root);
            return SBK_ENOMEM;
        }
        json_object_set_new(r, "id", json_string(m->id));
        json_object_set_new(r, "title", lang_object(m->title));
        const SbkManifestFile *poster = first_of_kind(m, "poster");
        if (poster && set_url(r, "poster", m->id, poster) < 0) {
            json_decref(hits);
            json_decref(root);
            return SBK_ENOMEM;
        }
        json_object_set_new(r, "duration", seconds(m->duration));
        if (res[i].close)
            json_object_set_new(r, "close", json_true());
        json_object_set_new(r, "hits", hits);
        for (int k = 0; k < res[i].n_hits; k++) {
            const SbkSearchHit *h = &res[i].hits[k];
            json_t *o = json_object();
            if (!o || json_array_append_new(hits, o) < 0)
                break;
            json_object_set_new(o, "field", json_string(kind_name[h->kind]));
            json_object_set_new(o, "lang", json_string(h->lang));
            if (h->kind == SBK_SEARCH_SUBTITLES) {
                json_object_set_new(o, "start", seconds((double)h->start_ms / 1000.0));
                json_object_set_new(o, "end", seconds((double)h->end_ms / 1000.0));
            }
            json_object_set_new(o, "text", json_text(h->text));
            if (h->close)
                json_object_set_new(o, "close", json_true());
        }
    }
    return dump(root, out, len);
}
