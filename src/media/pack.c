/* sabak pack: lesson folder -> one bundle.
 *
 *   load lesson.ini -> read every subtitle file (fail early, before the slow
 *   part) -> probe the recording -> decode once, encode every tier, take the
 *   poster -> WebVTT -> manifest -> offline player -> ZIP (atomic).
 *
 * Intermediate files live in a hidden work folder beside the output (same
 * filesystem, so a full disk shows up as early as possible), removed on
 * every exit path. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sabak/bundle.h"
#include "sabak/core.h"
#include "sabak/embed.h"
#include "sabak/lesson.h"
#include "sabak/media.h"
#include "media_internal.h"

/* web/offline/ and web/i18n/, embedded at build time (see src/CMakeLists.txt). */
extern const SbkEmbeddedFile sbk_offline_assets[];

enum { MAX_TIERS = 8, MAX_HANDOUTS = 64, MAX_SUBS = SBK_MAX_SUBTITLES + 8 };

typedef struct PackSub {
    char lang[16];
    SbkSubs *subs;   /* owned */
    char *vtt;       /* owned */
    size_t vtt_len;
} PackSub;

typedef struct Pack {
    SbkPackOptions *opt;
    SbkLesson *lesson;
    PackSub subs[MAX_SUBS];
    int n_subs;
    SbkProbe probe;
    const SbkTier *tiers[MAX_TIERS];
    int n_tiers;
    SbkRenditionResult results[MAX_TIERS];
    char *work_dir;
    char poster[4096], thumb[4096];
    SbkTranscodeJob job;
    char *handouts[MAX_HANDOUTS];
    int n_handouts;
    SbkManifest m;
    char *player;     /* index.html */
    size_t player_len;
    char *manifest_json;
    size_t manifest_len;
} Pack;

/* ---- steps -------------------------------------------------------------------- */
static int load_subtitles(Pack *p, SbkError *err)
{
    for (int i = 0; i < p->lesson->n_subs; i++) {
        PackSub *s = &p->subs[p->n_subs];
        snprintf(s->lang, sizeof s->lang, "%s", p->lesson->subs[i].lang);
        int ret = sbk_subs_load(p->lesson->subs[i].path, &s->subs, err);
        if (ret < 0)
            return ret;
        p->n_subs++;
    }
    return 0;
}

static int parse_tiers(Pack *p, SbkError *err)
{
    const char *list = p->opt->tiers ? p->opt->tiers : sbk_tier_default_list();
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    int ret = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        const SbkTier *t = sbk_tier_find(tok);
        if (!t) {
            ret = sbk_err(err, SBK_EINVAL,
                          "unknown tier \"%s\" (choose from standard, low, audio, av1)", tok);
            goto done;
        }
        int dup = 0;
        for (int i = 0; i < p->n_tiers; i++)
            dup |= p->tiers[i] == t;
        if (dup)
            continue;
        if (t->has_video && !p->probe.has_video) {
            if (!p->lesson->audio_only) /* expected for audio-only lessons */
                sbk_log(SBK_LOG_INFO, "%s: no video, so no %s rendition", p->lesson->id, t->name);
            continue;
        }
        if (!t->has_video && !p->probe.has_audio) {
            sbk_log(SBK_LOG_WARN, "%s: the recording has no sound, so no %s rendition",
                    p->lesson->id, t->name);
            continue;
        }
        if (p->n_tiers == MAX_TIERS) {
            ret = sbk_err(err, SBK_EINVAL, "too many tiers");
            goto done;
        }
        p->tiers[p->n_tiers++] = t;
    }
    if (p->n_tiers == 0)
        ret = sbk_err(err, SBK_EINVAL, "no rendition can be made from %s with tiers \"%s\"",
                      sbk_path_base(p->lesson->video), list);
done:
    free(copy);
    return ret;
}

static int resolve_output(Pack *p, SbkError *err)
{
    const char *out = p->opt->out;
    struct stat st;
    char name[256];
    snprintf(name, sizeof name, "%s-v%d.zip", p->lesson->id, p->lesson->version);
    if (!out || !*out)
        out = ".";
    size_t n = strlen(out);
    if (out[n - 1] == '/' || (stat(out, &st) == 0 && S_ISDIR(st.st_mode))) {
        char *path = sbk_path_join(out, name);
        if (!path)
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        snprintf(p->opt->out_path, sizeof p->opt->out_path, "%s", path);
        free(path);
    } else {
        snprintf(p->opt->out_path, sizeof p->opt->out_path, "%s", out);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", p->opt->out_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return sbk_err(err, SBK_ENOENT, "output folder %s does not exist", dir);
    if (access(dir, W_OK | X_OK) < 0)
        return sbk_err_errno(err, errno, "cannot write to folder %s", dir);
    char tmpl[4200];
    snprintf(tmpl, sizeof tmpl, "%s/.sabak-pack-%s-XXXXXX", dir, p->lesson->id);
    if (!mkdtemp(tmpl))
        return sbk_err_errno(err, errno, "cannot write to folder %s", dir);
    p->work_dir = strdup(tmpl);
    if (!p->work_dir) {
        rmdir(tmpl);
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    }
    return 0;
}

static void remove_work_dir(Pack *p)
{
    if (!p->work_dir)
        return;
    DIR *d = opendir(p->work_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = sbk_path_join(p->work_dir, e->d_name);
        if (path)
            unlink(path);
        free(path);
    }
    if (d)
        closedir(d);
    rmdir(p->work_dir);
    free(p->work_dir);
    p->work_dir = NULL;
}

static int transcode(Pack *p, SbkError *err)
{
    snprintf(p->poster, sizeof p->poster, "%s/poster.jpg", p->work_dir);
    snprintf(p->thumb, sizeof p->thumb, "%s/thumb.jpg", p->work_dir);
    p->job = (SbkTranscodeJob){
        .src = p->lesson->video,
        .probe = &p->probe,
        .tiers = p->tiers,
        .n_tiers = p->n_tiers,
        .work_dir = p->work_dir,
        .threads = p->opt->jobs,
        .progress = p->opt->progress,
        .progress_opaque = p->opt->progress_opaque,
        .cancel = p->opt->cancel,
        .poster_path = p->probe.has_video ? p->poster : NULL,
        .thumb_path = p->probe.has_video ? p->thumb : NULL,
    };
    return sbk_media_transcode(&p->job, p->results, err);
}

static int add_embedded_subtitles(Pack *p, SbkError *err)
{
    if (p->probe.n_text_subs == 0)
        return 0;
    SbkEmbeddedSubs *emb = NULL;
    int n = 0;
    int ret = sbk_media_extract_subs(p->lesson->video, &emb, &n, err);
    if (ret < 0)
        return ret;
    for (int i = 0; i < n; i++) {
        int have = 0;
        for (int k = 0; k < p->n_subs; k++)
            have |= strcmp(p->subs[k].lang, emb[i].lang) == 0;
        if (have || !emb[i].subs || p->n_subs == MAX_SUBS)
            continue; /* a subtitle file of the same language wins */
        PackSub *s = &p->subs[p->n_subs++];
        snprintf(s->lang, sizeof s->lang, "%s", emb[i].lang);
        s->subs = emb[i].subs;
        emb[i].subs = NULL;
        sbk_log(SBK_LOG_INFO, "%s: using the %s subtitles inside %s", p->lesson->id, s->lang,
                sbk_path_base(p->lesson->video));
    }
    sbk_media_embedded_subs_free(&emb, n);
    return 0;
}

static int make_vtt(Pack *p, SbkError *err)
{
    for (int i = 0; i < p->n_subs; i++) {
        int ret = sbk_subs_to_vtt(p->subs[i].subs, &p->subs[i].vtt, &p->subs[i].vtt_len, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files directly in handouts/, sorted so the bundle is reproducible. */
static int list_handouts(Pack *p, SbkError *err)
{
    if (!p->lesson->handouts_dir)
        return 0;
    DIR *d = opendir(p->lesson->handouts_dir);
    if (!d)
        return sbk_err_errno(err, errno, "cannot read %s", p->lesson->handouts_dir);
    struct dirent *e;
    int ret = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = sbk_path_join(p->lesson->handouts_dir, e->d_name);
        struct stat st;
        if (!path) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            break;
        }
        int regular = stat(path, &st) == 0 && S_ISREG(st.st_mode);
        free(path);
        if (!regular)
            continue;
        char entry[512];
        snprintf(entry, sizeof entry, "handouts/%s", e->d_name);
        if (!sbk_path_entry_ok(entry)) {
            ret = sbk_err(err, SBK_EINVAL, "%s/%s: this file name cannot go into a bundle",
                          p->lesson->handouts_dir, e->d_name);
            break;
        }
        if (p->n_handouts == MAX_HANDOUTS) {
            ret = sbk_err(err, SBK_ELIMIT, "%s: more than %d handouts", p->lesson->handouts_dir,
                          MAX_HANDOUTS);
            break;
        }
        p->handouts[p->n_handouts] = strdup(e->d_name);
        if (!p->handouts[p->n_handouts++]) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            break;
        }
    }
    closedir(d);
    qsort(p->handouts, (size_t)p->n_handouts, sizeof p->handouts[0], cmp_str);
    return ret;
}

static const char *handout_mime(const char *name)
{
    static const char *const map[][2] = {
        {".pdf", "application/pdf"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"}, {".txt", "text/plain; charset=utf-8"},
        {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {".odt", "application/vnd.oasis.opendocument.text"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(dot, map[i][0]) == 0)
            return map[i][1];
    return "application/octet-stream";
}

/* Already-compressed handouts are stored; text-like ones are deflated. */
static int handout_store(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *const packed[] = {".pdf", ".png", ".jpg", ".jpeg", ".docx", ".xlsx",
                                         ".odt", ".zip", ".mp4", ".m4a", ".mp3"};
    for (size_t i = 0; dot && i < sizeof packed / sizeof packed[0]; i++)
        if (strcasecmp(dot, packed[i]) == 0)
            return 1;
    return 0;
}

static SbkManifestFile *add_file(Pack *p, const char *path, const char *kind, const char *mime)
{
    SbkManifestFile *nf = realloc(p->m.files, (size_t)(p->m.n_files + 1) * sizeof *nf);
    if (!nf)
        return NULL;
    p->m.files = nf;
    SbkManifestFile *f = &nf[p->m.n_files++];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    f->kind = strdup(kind);
    f->mime = strdup(mime);
    if (!f->path || !f->kind || !f->mime)
        return NULL;
    return f;
}

static int hash_file(const char *path, SbkManifestFile *f, SbkError *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sbk_err_errno(err, errno, "cannot read %s", path);
    int ret = sbk_sha256_fd(fileno(fp), 0, -1, f->sha256, err);
    struct stat st;
    if (ret == 0 && fstat(fileno(fp), &st) == 0)
        f->size = st.st_size;
    fclose(fp);
    return ret;
}

/* Everything but the player; the player embeds this list, then is added. */
static int build_manifest(Pack *p, SbkError *err)
{
    SbkManifest *m = &p->m;
    SbkLesson *l = p->lesson;
    SbkManifestFile *f;
    int ret;
    m->format_version = SBK_BUNDLE_FORMAT_VERSION;
    m->generator = strdup("sabak " SBK_VERSION);
    m->id = strdup(l->id);
    m->version = l->version;
    for (int i = 0; i < SBK_LANG_COUNT; i++) {
        m->title[i] = l->title[i] ? strdup(l->title[i]) : NULL;
        m->description[i] = l->description[i] ? strdup(l->description[i]) : NULL;
    }
    m->topic = l->topic ? strdup(l->topic) : NULL;
    m->order = l->order;
    m->duration = p->probe.duration;
    m->content = strdup(sbk_content_name(p->probe.content));
    if (!m->generator || !m->id || !m->content)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    if (l->n_chapters > 0) {
        m->chapters = calloc((size_t)l->n_chapters, sizeof *m->chapters);
        if (!m->chapters)
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        for (int i = 0; i < l->n_chapters; i++) {
            if (l->chapters[i].start_ms > (int64_t)(p->probe.duration * 1000)) {
                char at[16], end[16];
                sbk_fmt_hms(l->chapters[i].start_ms, at, sizeof at);
                sbk_fmt_hms((int64_t)(p->probe.duration * 1000), end, sizeof end);
                return sbk_err(err, SBK_EINVAL,
                               "%s: chapter at %s starts after the end of the recording (%s)",
                               l->ini_path, at, end);
            }
            m->chapters[i].start_ms = l->chapters[i].start_ms;
            for (int k = 0; k < SBK_LANG_COUNT; k++)
                if (l->chapters[i].title[k] && !(m->chapters[i].title[k] = strdup(l->chapters[i].title[k])))
                    return sbk_err(err, SBK_ENOMEM, "out of memory");
            m->n_chapters++;
        }
    }
    if (p->job.poster_path && p->job.poster_w > 0) {
        if (!(f = add_file(p, "poster.jpg", "poster", "image/jpeg")))
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        f->width = p->job.poster_w;
        f->height = p->job.poster_h;
        if ((ret = hash_file(p->poster, f, err)) < 0)
            return ret;
        if (!(f = add_file(p, "thumb.jpg", "thumbnail", "image/jpeg")))
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        f->width = p->job.thumb_w;
        f->height = p->job.thumb_h;
        if ((ret = hash_file(p->thumb, f, err)) < 0)
            return ret;
    }
    for (int i = 0; i < p->n_subs; i++) {
        char path[64];
        snprintf(path, sizeof path, "subtitles/%s.vtt", p->subs[i].lang);
        if (!(f = add_file(p, path, "subtitles", "text/vtt; charset=utf-8")))
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        f->lang = strdup(p->subs[i].lang);
        f->size = (int64_t)p->subs[i].vtt_len;
        sbk_sha256_hex(p->subs[i].vtt, p->subs[i].vtt_len, f->sha256);
    }
    for (int i = 0; i < p->n_tiers; i++) {
        SbkRenditionResult *r = &p->results[i];
        if (!(f = add_file(p, r->entry, r->tier->has_video ? "video" : "audio", r->mime)))
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        f->codecs = strdup(r->codecs);
        f->tier = strdup(sbk_tier_name(r->tier));
        f->width = r->width;
        f->height = r->height;
        f->fps = r->fps;
        f->bitrate = r->bitrate;
        f->duration = r->duration;
        if ((ret = hash_file(r->path, f, err)) < 0)
            return ret;
    }
    for (int i = 0; i < p->n_handouts; i++) {
        char entry[512];
        snprintf(entry, sizeof entry, "handouts/%s", p->handouts[i]);
        if (!(f = add_file(p, entry, "handout", handout_mime(p->handouts[i]))))
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        char *src = sbk_path_join(p->lesson->handouts_dir, p->handouts[i]);
        if (!src)
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        ret = hash_file(src, f, err);
        free(src);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* index.html: the template with {{SABAK_DATA}} replaced by the manifest, the
 * subtitles and the interface strings, so it plays from file:// where
 * browsers refuse <track> files. */
static int build_player(Pack *p, SbkError *err)
{
    const SbkEmbeddedFile *tpl = sbk_embed_find(sbk_offline_assets, "offline/player.html");
    char *mjson = NULL, *data = NULL;
    size_t mlen = 0;
    json_t *root = NULL, *subs = NULL, *i18n = NULL;
    int ret;
    if (!tpl)
        return sbk_err(err, SBK_EIO, "this sabak was built without its offline player");
    if ((ret = sbk_manifest_to_json(&p->m, &mjson, &mlen, err)) < 0)
        return ret;
    root = json_object();
    subs = json_object();
    i18n = json_object();
    json_t *mobj = json_loadb(mjson, mlen, 0, NULL);
    free(mjson);
    if (!root || !subs || !i18n || !mobj) {
        json_decref(mobj);
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    json_object_set_new(root, "manifest", mobj);
    for (int i = 0; i < p->n_subs; i++)
        json_object_set_new(subs, p->subs[i].lang, json_stringn(p->subs[i].vtt, p->subs[i].vtt_len));
    for (int i = 0; i < SBK_LANG_COUNT; i++) {
        char name[64];
        snprintf(name, sizeof name, "i18n/%s.json", sbk_lang_codes[i]);
        const SbkEmbeddedFile *e = sbk_embed_find(sbk_offline_assets, name);
        json_t *strings = e ? json_loadb((const char *)e->data, e->len, 0, NULL) : NULL;
        if (strings)
            json_object_set_new(i18n, sbk_lang_codes[i], strings);
    }
    json_object_set(root, "subtitles", subs);
    json_object_set(root, "i18n", i18n);
    data = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!data) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    /* "</" inside a <script> would end it early: write "<\/" (same JSON). */
    size_t dlen = strlen(data), extra = 0;
    for (size_t i = 0; i + 1 < dlen; i++)
        extra += data[i] == '<' && data[i + 1] == '/';
    static const char mark[] = "{{SABAK_DATA}}";
    const char *t = (const char *)tpl->data;
    const char *at = strstr(t, mark);
    if (!at) {
        ret = sbk_err(err, SBK_EIO, "the offline player template has no %s", mark);
        goto done;
    }
    size_t before = (size_t)(at - t), after = tpl->len - before - (sizeof mark - 1);
    p->player_len = before + dlen + extra + after;
    p->player = malloc(p->player_len + 1);
    if (!p->player) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    char *o = p->player;
    memcpy(o, t, before);
    o += before;
    for (size_t i = 0; i < dlen; i++) {
        *o++ = data[i];
        if (data[i] == '<' && i + 1 < dlen && data[i + 1] == '/')
            *o++ = '\\';
    }
    memcpy(o, at + sizeof mark - 1, after);
    o[after] = '\0';
    ret = 0;
done:
    free(data);
    json_decref(subs);
    json_decref(i18n);
    json_decref(root);
    return ret;
}

/* Put the player first in the file list (bundle order), then serialise. */
static int finish_manifest(Pack *p, SbkError *err)
{
    SbkManifestFile *f = add_file(p, "index.html", "player", "text/html; charset=utf-8");
    if (!f)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    f->size = (int64_t)p->player_len;
    sbk_sha256_hex(p->player, p->player_len, f->sha256);
    SbkManifestFile player = *f;
    memmove(&p->m.files[1], &p->m.files[0], (size_t)(p->m.n_files - 1) * sizeof *f);
    p->m.files[0] = player;
    return sbk_manifest_to_json(&p->m, &p->manifest_json, &p->manifest_len, err);
}

/* The manifest's file list is already in bundle order (player, poster,
 * thumbnail, subtitles, media, handouts): write manifest.json, then it. */
static int write_bundle(Pack *p, SbkError *err)
{
    SbkBundleInput in[1 + 3 + MAX_SUBS + MAX_TIERS + MAX_HANDOUTS];
    char *paths[MAX_HANDOUTS] = {0};
    int n_paths = 0;
    size_t n = 0;
    int ret = 0;
    in[n++] = (SbkBundleInput){.name = SBK_MANIFEST_NAME, .data = p->manifest_json,
                               .len = p->manifest_len};
    for (int i = 0; i < p->m.n_files && ret == 0; i++) {
        const SbkManifestFile *f = &p->m.files[i];
        SbkBundleInput *e = &in[n++];
        *e = (SbkBundleInput){.name = f->path};
        if (strcmp(f->kind, "player") == 0) {
            e->data = p->player;
            e->len = p->player_len;
        } else if (strcmp(f->kind, "poster") == 0) {
            e->src_path = p->poster;
            e->store = 1;
        } else if (strcmp(f->kind, "thumbnail") == 0) {
            e->src_path = p->thumb;
            e->store = 1;
        } else if (strcmp(f->kind, "subtitles") == 0) {
            for (int k = 0; k < p->n_subs; k++)
                if (strcmp(p->subs[k].lang, f->lang) == 0) {
                    e->data = p->subs[k].vtt;
                    e->len = p->subs[k].vtt_len;
                }
        } else if (strcmp(f->kind, "handout") == 0) {
            paths[n_paths] = sbk_path_join(p->lesson->handouts_dir, f->path + strlen("handouts/"));
            if (!paths[n_paths])
                ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            e->src_path = paths[n_paths++];
            e->store = handout_store(f->path);
        } else {
            for (int k = 0; k < p->n_tiers; k++)
                if (strcmp(p->results[k].entry, f->path) == 0)
                    e->src_path = p->results[k].path;
            e->store = 1;
        }
    }
    if (ret == 0)
        ret = sbk_bundle_write(p->opt->out_path, in, n, p->opt->cancel, err);
    for (int i = 0; i < n_paths; i++)
        free(paths[i]);
    return ret;
}

static void free_pack(Pack *p)
{
    remove_work_dir(p);
    for (int i = 0; i < p->n_subs; i++) {
        sbk_subs_free(&p->subs[i].subs);
        free(p->subs[i].vtt);
    }
    for (int i = 0; i < p->n_handouts; i++)
        free(p->handouts[i]);
    /* The manifest owns its strings; sbk_manifest_free frees the struct too,
     * so free the members through a heap copy. */
    SbkManifest *m = malloc(sizeof *m);
    if (m) {
        *m = p->m;
        sbk_manifest_free(&m);
    }
    free(p->player);
    free(p->manifest_json);
    sbk_lesson_free(&p->lesson);
}

int sbk_pack(SbkPackOptions *opt, SbkError *err)
{
    Pack p = {.opt = opt};
    int ret;
    opt->out_path[0] = '\0';
    if ((ret = sbk_lesson_load(opt->lesson_dir, &p.lesson, err)) < 0)
        goto done;
    if ((ret = load_subtitles(&p, err)) < 0)
        goto done;
    if ((ret = list_handouts(&p, err)) < 0)
        goto done;
    if ((ret = sbk_media_probe(p.lesson->video, p.lesson->audio_only, &p.probe, err)) < 0)
        goto done;
    if ((ret = parse_tiers(&p, err)) < 0)
        goto done;
    if ((ret = resolve_output(&p, err)) < 0)
        goto done;
    sbk_log(SBK_LOG_DEBUG, "%s: %s %dx%d %.2f fps, %.1f s, %s (motion %.3f)", p.lesson->id,
            p.probe.vcodec, p.probe.width, p.probe.height, p.probe.fps, p.probe.duration,
            sbk_content_name(p.probe.content), p.probe.motion);
    if ((ret = transcode(&p, err)) < 0)
        goto done;
    if ((ret = add_embedded_subtitles(&p, err)) < 0)
        goto done;
    if ((ret = make_vtt(&p, err)) < 0)
        goto done;
    if ((ret = build_manifest(&p, err)) < 0)
        goto done;
    if ((ret = build_player(&p, err)) < 0)
        goto done;
    if ((ret = finish_manifest(&p, err)) < 0)
        goto done;
    if (opt->cancel && *opt->cancel) {
        ret = sbk_err(err, SBK_ECANCELED, "interrupted");
        goto done;
    }
    ret = write_bundle(&p, err);
done:
    free_pack(&p);
    if (ret < 0)
        opt->out_path[0] = '\0';
    return ret;
}
