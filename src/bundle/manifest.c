/* manifest.json: serialisation and strict parsing (jansson).
 *
 * The writer emits keys in one fixed order, UTF-8 unescaped, reals rounded to
 * milliseconds, so that the same manifest always gives the same bytes (the
 * bundle is reproducible and its checksum comparable). The parser checks
 * every known key's type and range and returns one line naming the key. */
#include "bundle_internal.h"
#include "sabak/bundle.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_FORMAT "sabak-bundle"
#define ERR_PREFIX "manifest.json: "

/* Language codes of SbkManifest.title[] etc., in SBK_LANG_* order. Kept
 * here so that the bundle module does not depend on the lesson module. */

/* ---- serialisation ------------------------------------------------------ */

/* Seconds rounded to milliseconds (the precision the manifest promises). */
static int64_t to_ms(double s)
{
    /* Without libm (libsabak does not link it): manifests hold at most
     * 1e7 s, far inside int64 milliseconds. */
    if (!isfinite(s) || s > 1e12 || s < -1e12)
        return 0;
    double x = s * 1000.0;
    return (int64_t)(x >= 0 ? x + 0.5 : x - 0.5);
}

static double round_ms(double s) { return (double)to_ms(s) / 1000.0; }
static double round_4(double x) { return (double)(int64_t)(x * 10000.0 + 0.5) / 10000.0; }

static int set_new(json_t *obj, const char *key, json_t *val)
{
    if (!val)
        return -1;
    return json_object_set_new(obj, key, val);
}

static int set_str(json_t *obj, const char *key, const char *s)
{
    if (!s)
        return 0;
    return set_new(obj, key, json_string(s));
}

static json_t *lang_object(char *const v[SBK_LANG_COUNT])
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (int i = 0; i < SBK_LANG_COUNT; i++) {
        if (v[i] && set_str(o, sbk_lang_codes[i], v[i]) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int has_any(char *const v[SBK_LANG_COUNT])
{
    for (int i = 0; i < SBK_LANG_COUNT; i++)
        if (v[i])
            return 1;
    return 0;
}

static json_t *file_object(const SbkManifestFile *f)
{
    json_t *o = json_object();
    int bad = !o;
    if (!bad) {
        bad |= set_str(o, "path", f->path) < 0;
        bad |= set_str(o, "kind", f->kind) < 0;
        bad |= set_str(o, "mime", f->mime) < 0;
        bad |= set_new(o, "size", json_integer(f->size)) < 0;
        bad |= set_str(o, "sha256", f->sha256) < 0;
        bad |= set_str(o, "lang", f->lang) < 0;
        bad |= set_str(o, "tier", f->tier) < 0;
        bad |= set_str(o, "codecs", f->codecs) < 0;
        if (f->width > 0)
            bad |= set_new(o, "width", json_integer(f->width)) < 0;
        if (f->height > 0)
            bad |= set_new(o, "height", json_integer(f->height)) < 0;
        if (round_ms(f->fps) > 0)
            bad |= set_new(o, "fps", json_real(round_ms(f->fps))) < 0;
        if (f->bitrate > 0)
            bad |= set_new(o, "bitrate", json_integer(f->bitrate)) < 0;
        if (round_ms(f->duration) > 0)
            bad |= set_new(o, "duration", json_real(round_ms(f->duration))) < 0;
        if (f->crf > 0)
            bad |= set_new(o, "crf", json_integer(f->crf)) < 0;
        bad |= set_str(o, "crf_from", f->crf_from) < 0;
        if (f->quality_metric && !bad) {
            json_t *q = json_object();
            bad |= !q;
            if (q) {
                bad |= set_str(q, "metric", f->quality_metric) < 0;
                bad |= set_new(q, "ssim_y", json_real(round_4(f->ssim_y))) < 0;
                bad |= set_new(q, "ssim_y_min", json_real(round_4(f->ssim_y_min))) < 0;
                bad |= set_new(o, "quality", q) < 0;
            }
        }
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *manifest_object(const SbkManifest *m)
{
    json_t *root = json_object();
    json_t *chapters = json_array();
    json_t *files = json_array();
    int bad = !root || !chapters || !files;
    if (bad)
        goto done;
    bad |= set_str(root, "format", MANIFEST_FORMAT) < 0;
    bad |= set_new(root, "format_version", json_integer(m->format_version ? m->format_version
                                                                          : SBK_BUNDLE_FORMAT_VERSION)) < 0;
    bad |= set_str(root, "generator", m->generator) < 0;
    bad |= set_str(root, "id", m->id) < 0;
    bad |= set_new(root, "version", json_integer(m->version)) < 0;
    bad |= set_new(root, "title", lang_object(m->title)) < 0;
    if (has_any(m->description))
        bad |= set_new(root, "description", lang_object(m->description)) < 0;
    bad |= set_str(root, "topic", m->topic) < 0;
    bad |= set_new(root, "order", json_integer(m->order)) < 0;
    bad |= set_new(root, "duration", json_real(round_ms(m->duration))) < 0;
    bad |= set_str(root, "content", m->content) < 0;
    if (m->audio != SBK_AUDIO_UNSAID && !bad) {
        json_t *a = json_object();
        bad |= !a;
        if (a) {
            bad |= set_new(a, "present", json_boolean(m->audio == SBK_AUDIO_PRESENT)) < 0;
            bad |= set_str(a, "lang", m->audio_lang) < 0;
            if (m->audio_track > 0)
                bad |= set_new(a, "track", json_integer(m->audio_track)) < 0;
            if (m->audio_tracks > 0)
                bad |= set_new(a, "tracks", json_integer(m->audio_tracks)) < 0;
            bad |= set_new(root, "audio", a) < 0;
        }
    }
    for (int i = 0; i < m->n_chapters && !bad; i++) {
        json_t *c = json_object();
        bad |= !c;
        if (c) {
            bad |= set_new(c, "start", json_real(round_ms((double)m->chapters[i].start_ms / 1000.0))) < 0;
            bad |= set_new(c, "title", lang_object(m->chapters[i].title)) < 0;
            bad |= json_array_append_new(chapters, c) < 0;
        }
    }
    for (int i = 0; i < m->n_files && !bad; i++)
        bad |= json_array_append_new(files, file_object(&m->files[i])) < 0;
    bad |= json_object_set(root, "chapters", chapters) < 0;
    bad |= json_object_set(root, "files", files) < 0;
done:
    json_decref(chapters);
    json_decref(files);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int sbk_manifest_to_json(const SbkManifest *m, char **out, size_t *out_len, SbkError *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!m || !m->id)
        return sbk_err(err, SBK_EINVAL, _("manifest has no lesson id"));
    json_t *root = manifest_object(m);
    if (!root)
        return sbk_err(err, SBK_ENOMEM, _("out of memory writing manifest.json"));
    /* Insertion order is kept (jansson >= 2.8 always preserves it; the flag
     * says so explicitly). One-space indent: readable, still small.
     * 15 significant digits print 3-decimal values without binary noise. */
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (!s)
        return sbk_err(err, SBK_ENOMEM, _("out of memory writing manifest.json"));
    size_t n = strlen(s);
    char *buf = malloc(n + 2);
    if (!buf) {
        free(s);
        return sbk_err(err, SBK_ENOMEM, _("out of memory writing manifest.json"));
    }
    memcpy(buf, s, n);
    buf[n] = '\n';
    buf[n + 1] = '\0';
    free(s);
    *out = buf;
    if (out_len)
        *out_len = n + 1;
    return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static int bad(SbkError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(SbkError *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = sbk_errv(err, SBK_EDAMAGED, ERR_PREFIX, fmt, ap);
    va_end(ap);
    return ret;
}

/* Copy of a string member. Returns 0 (also when absent and optional),
 * or an error naming `where`. */
static int get_str(json_t *obj, const char *key, const char *where, int required, char **out,
                   SbkError *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return bad(err, "missing \"%s\"%s%s", key, where[0] ? " in " : "", where);
        return 0;
    }
    if (!json_is_string(v))
        return bad(err, "%s%s\"%s\" must be a string", where, where[0] ? "." : "", key);
    if (required && json_string_length(v) == 0)
        return bad(err, "%s%s\"%s\" must not be empty", where, where[0] ? "." : "", key);
    *out = strdup(json_string_value(v));
    if (!*out)
        return sbk_err(err, SBK_ENOMEM, _("out of memory reading manifest.json"));
    return 0;
}

/* An integer member in [lo, hi]. */
static int get_int(json_t *obj, const char *key, const char *where, int required, long long lo,
                   long long hi, long long *out, SbkError *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return bad(err, "missing \"%s\"%s%s", key, where[0] ? " in " : "", where);
        return 0;
    }
    if (!json_is_integer(v))
        return bad(err, "%s%s\"%s\" must be an integer", where, where[0] ? "." : "", key);
    long long x = json_integer_value(v);
    if (x < lo || x > hi)
        return bad(err, "%s%s\"%s\" is out of range (%lld)", where, where[0] ? "." : "", key, x);
    *out = x;
    return 0;
}

/* A number member (integer or real) in [lo, hi]. */
static int get_num(json_t *obj, const char *key, const char *where, int required, double lo,
                   double hi, double *out, SbkError *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return bad(err, "missing \"%s\"%s%s", key, where[0] ? " in " : "", where);
        return 0;
    }
    if (!json_is_number(v))
        return bad(err, "%s%s\"%s\" must be a number", where, where[0] ? "." : "", key);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return bad(err, "%s%s\"%s\" is out of range (%g)", where, where[0] ? "." : "", key, x);
    *out = x;
    return 0;
}

/* {"ky": "...", "ru": "..."}: known languages are kept, other well-formed
 * language codes are ignored (a later sabak may add languages). */
static int get_langs(json_t *obj, const char *key, const char *where, int required,
                     char *out[SBK_LANG_COUNT], SbkError *err)
{
    json_t *v = json_object_get(obj, key);
    const char *dot = where[0] ? "." : "";
    if (!v) {
        if (required)
            return bad(err, "missing \"%s\"%s%s", key, where[0] ? " in " : "", where);
        return 0;
    }
    if (!json_is_object(v))
        return bad(err, "%s%s\"%s\" must be an object of language: text", where, dot, key);
    const char *lang;
    json_t *t;
    int found = 0;
    json_object_foreach(v, lang, t) {
        if (!sbk_lang_code_ok(lang))
            return bad(err, "%s%s\"%s\" has a bad language code \"%.16s\"", where, dot, key, lang);
        if (!json_is_string(t))
            return bad(err, "%s%s\"%s\".%s must be a string", where, dot, key, lang);
        for (int i = 0; i < SBK_LANG_COUNT; i++) {
            if (strcmp(lang, sbk_lang_codes[i]) == 0) {
                out[i] = strdup(json_string_value(t));
                if (!out[i])
                    return sbk_err(err, SBK_ENOMEM, _("out of memory reading manifest.json"));
                found = 1;
            }
        }
    }
    if (required && !found)
        return bad(err, "%s%s\"%s\" has no text in ky, ru or en", where, dot, key);
    return 0;
}

static int sha_ok(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 64;
}

static int parse_file(json_t *o, int idx, SbkManifestFile *f, SbkError *err)
{
    char where[48];
    snprintf(where, sizeof where, "files[%d]", idx);
    if (!json_is_object(o))
        return bad(err, "%s must be an object", where);
    int ret;
    long long x = 0;
    char *sha = NULL;
    if ((ret = get_str(o, "path", where, 1, &f->path, err)) < 0)
        return ret;
    char q[128];
    if (!sbk_path_entry_ok(f->path)) {
        snprintf(q, sizeof q, "%s", f->path);
        return bad(err, "%s.path is not a safe entry name: \"%.80s\"", where, q);
    }
    if (strcmp(f->path, SBK_MANIFEST_NAME) == 0)
        return bad(err, "%s.path must not be manifest.json itself", where);
    if (strcmp(f->path, SBK_MINISIG_NAME) == 0)
        return bad(err, "%s.path must not be the signature (%s)", where, SBK_MINISIG_NAME);
    if ((ret = get_str(o, "kind", where, 1, &f->kind, err)) < 0 ||
        (ret = get_str(o, "mime", where, 1, &f->mime, err)) < 0)
        return ret;
    if ((ret = get_int(o, "size", where, 1, 0, INT64_MAX, &x, err)) < 0)
        return ret;
    f->size = x;
    if ((ret = get_str(o, "sha256", where, 1, &sha, err)) < 0)
        return ret;
    int ok = sha_ok(sha);
    if (ok)
        memcpy(f->sha256, sha, 65);
    free(sha);
    if (!ok)
        return bad(err, "%s.sha256 must be 64 lower-case hex digits", where);
    if ((ret = get_str(o, "lang", where, 0, &f->lang, err)) < 0 ||
        (ret = get_str(o, "tier", where, 0, &f->tier, err)) < 0 ||
        (ret = get_str(o, "codecs", where, 0, &f->codecs, err)) < 0)
        return ret;
    if (f->lang && !sbk_lang_code_ok(f->lang))
        return bad(err, "%s.lang is not a language code: \"%.16s\"", where, f->lang);
    x = 0;
    if ((ret = get_int(o, "width", where, 0, 0, 1 << 16, &x, err)) < 0)
        return ret;
    f->width = (int)x;
    x = 0;
    if ((ret = get_int(o, "height", where, 0, 0, 1 << 16, &x, err)) < 0)
        return ret;
    f->height = (int)x;
    if ((ret = get_num(o, "fps", where, 0, 0, 1000, &f->fps, err)) < 0)
        return ret;
    x = 0;
    if ((ret = get_int(o, "bitrate", where, 0, 0, INT64_MAX, &x, err)) < 0)
        return ret;
    f->bitrate = x;
    if ((ret = get_num(o, "duration", where, 0, 0, 1e7, &f->duration, err)) < 0)
        return ret;
    x = 0;
    if ((ret = get_int(o, "crf", where, 0, 0, 63, &x, err)) < 0 ||
        (ret = get_str(o, "crf_from", where, 0, &f->crf_from, err)) < 0)
        return ret;
    f->crf = (int)x;
    json_t *qo = json_object_get(o, "quality");
    if (qo) {
        char qwhere[64];
        snprintf(qwhere, sizeof qwhere, "%s.quality", where);
        if (!json_is_object(qo))
            return bad(err, "%s must be an object", qwhere);
        if ((ret = get_str(qo, "metric", qwhere, 1, &f->quality_metric, err)) < 0 ||
            (ret = get_num(qo, "ssim_y", qwhere, 0, 0, 1, &f->ssim_y, err)) < 0 ||
            (ret = get_num(qo, "ssim_y_min", qwhere, 0, 0, 1, &f->ssim_y_min, err)) < 0)
            return ret;
    }
    return 0;
}

static int parse_chapter(json_t *o, int idx, SbkChapter *c, SbkError *err)
{
    char where[48];
    snprintf(where, sizeof where, "chapters[%d]", idx);
    if (!json_is_object(o))
        return bad(err, "%s must be an object", where);
    double start = 0;
    int ret = get_num(o, "start", where, 1, 0, 1e7, &start, err);
    if (ret < 0)
        return ret;
    c->start_ms = to_ms(start);
    return get_langs(o, "title", where, 1, c->title, err);
}

static int parse_root(json_t *root, SbkManifest *m, SbkError *err)
{
    int ret;
    long long x = 0;
    char *fmt = NULL;
    if (!json_is_object(root))
        return bad(err, "not a JSON object");
    if ((ret = get_str(root, "format", "", 1, &fmt, err)) < 0)
        return ret;
    int fmt_ok = strcmp(fmt, MANIFEST_FORMAT) == 0;
    free(fmt);
    if (!fmt_ok)
        return bad(err, "\"format\" must be \"" MANIFEST_FORMAT "\"");
    if ((ret = get_int(root, "format_version", "", 1, 1, INT_MAX, &x, err)) < 0)
        return ret;
    if (x > SBK_BUNDLE_FORMAT_VERSION)
        return sbk_err(err, SBK_EUNSUPPORTED, _("bundle format %lld is newer than this sabak understands"), x);
    m->format_version = (int)x;
    if ((ret = get_str(root, "generator", "", 0, &m->generator, err)) < 0 ||
        (ret = get_str(root, "id", "", 1, &m->id, err)) < 0)
        return ret;
    if (!sbk_lesson_id_ok(m->id))
        return bad(err, "\"id\" is not a valid lesson id: \"%.80s\"", m->id);
    if ((ret = get_int(root, "version", "", 1, 1, INT_MAX, &x, err)) < 0)
        return ret;
    m->version = (int)x;
    if ((ret = get_langs(root, "title", "", 1, m->title, err)) < 0 ||
        (ret = get_langs(root, "description", "", 0, m->description, err)) < 0 ||
        (ret = get_str(root, "topic", "", 0, &m->topic, err)) < 0)
        return ret;
    x = 0;
    if ((ret = get_int(root, "order", "", 0, INT_MIN, INT_MAX, &x, err)) < 0)
        return ret;
    m->order = (int)x;
    if ((ret = get_num(root, "duration", "", 0, 0, 1e7, &m->duration, err)) < 0 ||
        (ret = get_str(root, "content", "", 0, &m->content, err)) < 0)
        return ret;

    json_t *au = json_object_get(root, "audio");
    if (au) {
        json_t *present = json_object_get(au, "present");
        if (!json_is_object(au) || !json_is_boolean(present))
            return bad(err, "\"audio\" must be an object with a true/false \"present\"");
        m->audio = json_is_true(present) ? SBK_AUDIO_PRESENT : SBK_AUDIO_NONE;
        x = 0;
        if ((ret = get_str(au, "lang", "audio", 0, &m->audio_lang, err)) < 0 ||
            (ret = get_int(au, "track", "audio", 0, 1, 1000, &x, err)) < 0)
            return ret;
        m->audio_track = (int)x;
        x = 0;
        if ((ret = get_int(au, "tracks", "audio", 0, 1, 1000, &x, err)) < 0)
            return ret;
        m->audio_tracks = (int)x;
        if (m->audio_lang && !sbk_lang_code_ok(m->audio_lang) && strcmp(m->audio_lang, "und") != 0)
            return bad(err, "audio.\"lang\" is not a language code: \"%.20s\"", m->audio_lang);
    }

    json_t *ch = json_object_get(root, "chapters");
    if (ch && !json_is_array(ch))
        return bad(err, "\"chapters\" must be an array");
    size_t nch = ch ? json_array_size(ch) : 0;
    if (nch > SBK_MAX_CHAPTERS)
        return bad(err, "too many chapters (%zu, at most %d)", nch, SBK_MAX_CHAPTERS);
    if (nch) {
        m->chapters = calloc(nch, sizeof *m->chapters);
        if (!m->chapters)
            return sbk_err(err, SBK_ENOMEM, _("out of memory reading manifest.json"));
    }
    for (size_t i = 0; i < nch; i++) {
        m->n_chapters = (int)i + 1;
        if ((ret = parse_chapter(json_array_get(ch, i), (int)i, &m->chapters[i], err)) < 0)
            return ret;
    }

    json_t *files = json_object_get(root, "files");
    if (!files)
        return bad(err, "missing \"files\"");
    if (!json_is_array(files))
        return bad(err, "\"files\" must be an array");
    size_t nf = json_array_size(files);
    if (nf > SBK_BUNDLE_MAX_ENTRIES)
        return bad(err, "too many files (%zu, at most %d)", nf, SBK_BUNDLE_MAX_ENTRIES);
    if (nf) {
        m->files = calloc(nf, sizeof *m->files);
        if (!m->files)
            return sbk_err(err, SBK_ENOMEM, _("out of memory reading manifest.json"));
    }
    for (size_t i = 0; i < nf; i++) {
        m->n_files = (int)i + 1;
        if ((ret = parse_file(json_array_get(files, i), (int)i, &m->files[i], err)) < 0)
            return ret;
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->files[j].path, m->files[i].path) == 0)
                return bad(err, "files[%zu].path \"%.80s\" is listed twice", i, m->files[i].path);
    }
    return 0;
}

int sbk_manifest_parse(const char *json, size_t len, SbkManifest **out, SbkError *err)
{
    *out = NULL;
    if (len > SBK_MANIFEST_MAX_BYTES)
        return sbk_err(err, SBK_ELIMIT, ERR_PREFIX "too large (%zu bytes, limit %u)", len,
                       SBK_MANIFEST_MAX_BYTES);
    json_error_t jerr;
    /* Duplicate keys are rejected: two readers must never disagree on which
     * of two "sha256" values counts. */
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return sbk_err(err, SBK_EDAMAGED, ERR_PREFIX "line %d column %d: %s", jerr.line, jerr.column,
                       jerr.text);
    SbkManifest *m = calloc(1, sizeof *m);
    int ret = m ? parse_root(root, m, err) : sbk_err(err, SBK_ENOMEM, "out of memory reading manifest.json");
    json_decref(root);
    SbkManifest *p = ret == 0 ? sbk_manifest_pack(m) : NULL;
    if (ret == 0 && !p)
        ret = sbk_err(err, SBK_ENOMEM, "out of memory reading manifest.json");
    sbk_manifest_free(&m);
    if (ret < 0)
        return ret;
    *out = p;
    return 0;
}

static void free_langs(char *v[SBK_LANG_COUNT])
{
    for (int i = 0; i < SBK_LANG_COUNT; i++)
        free(v[i]);
}

void sbk_manifest_free(SbkManifest **pm)
{
    if (!pm || !*pm)
        return;
    SbkManifest *m = *pm;
    if (m->packed) {
        free(m);
        *pm = NULL;
        return;
    }
    free(m->generator);
    free(m->id);
    free_langs(m->title);
    free_langs(m->description);
    free(m->topic);
    free(m->content);
    free(m->audio_lang);
    for (int i = 0; i < m->n_chapters; i++)
        free_langs(m->chapters[i].title);
    free(m->chapters);
    for (int i = 0; i < m->n_files; i++) {
        SbkManifestFile *f = &m->files[i];
        free(f->path);
        free(f->kind);
        free(f->mime);
        free(f->codecs);
        free(f->crf_from);
        free(f->quality_metric);
        free(f->tier);
        free(f->lang);
    }
    free(m->files);
    free(m);
    *pm = NULL;
}

const SbkManifestFile *sbk_manifest_find(const SbkManifest *m, const char *path)
{
    if (!m || !path)
        return NULL;
    for (int i = 0; i < m->n_files; i++)
        if (m->files[i].path && strcmp(m->files[i].path, path) == 0)
            return &m->files[i];
    return NULL;
}
