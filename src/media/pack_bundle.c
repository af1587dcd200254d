/* The bundle's contents: the manifest (built once), the offline player and
 * the ZIP. Each manifest entry is added together with the source of its
 * bytes, so writing the bundle is a plain loop over the list. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media_internal.h"
#include "pack_int.h"
#include "sabak/core.h"
#include "sabak/embed.h"
#include "sabak/i18n.h"
#include "sabak/sign.h"

/* web/offline/, web/common.js and web/i18n/, embedded at build time (see
 * src/CMakeLists.txt). */
extern const SbkEmbeddedFile sbk_offline_assets[];

static int oom(SbkError *err) { return sbk_err(err, SBK_ENOMEM, _("out of memory")); }

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Everything known before the first frame is decoded: lesson.ini and the
 * probe. The chapter check is here so that it fails in a second, not after
 * the encode. */
int sbk_pack__manifest_head(Pack *p, SbkError *err)
{
    SbkManifest *m = &p->m;
    SbkLesson *l = p->lesson;
    int64_t end_ms = (int64_t)(p->probe.duration * 1000);
    for (int i = 0; i < l->n_chapters; i++) {
        if (l->chapters[i].start_ms > end_ms) {
            char at[16], end[16];
            sbk_fmt_hms(l->chapters[i].start_ms, at, sizeof at);
            sbk_fmt_hms(end_ms, end, sizeof end);
            return sbk_err(err, SBK_EINVAL,
                           _("%s: chapter at %s starts after the end of the recording (%s)"),
                           l->ini_path, at, end);
        }
    }
    m->format_version = SBK_BUNDLE_FORMAT_VERSION;
    m->generator = strdup("sabak " SBK_VERSION);
    m->id = strdup(l->id);
    m->version = l->version;
    for (int i = 0; i < SBK_LANG_COUNT; i++) {
        m->title[i] = dup_or_null(l->title[i]);
        m->description[i] = dup_or_null(l->description[i]);
    }
    m->topic = dup_or_null(l->topic);
    m->order = l->order;
    m->duration = p->probe.duration;
    m->content = strdup(sbk_content_name(p->probe.content));
    if (!m->generator || !m->id || !m->content)
        return oom(err);
    m->audio = p->probe.has_audio ? SBK_AUDIO_PRESENT : SBK_AUDIO_NONE;
    if (p->probe.has_audio) {
        m->audio_track = p->probe.audio_track;
        m->audio_tracks = p->probe.n_audio_tracks;
        if (!(m->audio_lang = strdup(p->probe.audio_lang)))
            return oom(err);
    }
    if (l->n_chapters > 0) {
        m->chapters = calloc((size_t)l->n_chapters, sizeof *m->chapters);
        if (!m->chapters)
            return oom(err);
        for (int i = 0; i < l->n_chapters; i++) {
            m->chapters[i].start_ms = l->chapters[i].start_ms;
            for (int k = 0; k < SBK_LANG_COUNT; k++)
                if (l->chapters[i].title[k] &&
                    !(m->chapters[i].title[k] = strdup(l->chapters[i].title[k])))
                    return oom(err);
            m->n_chapters++;
        }
    }
    return 0;
}

/* Append an entry and where its bytes come from. */
static SbkManifestFile *add_file(Pack *p, const char *path, const char *kind, const char *mime,
                                 PackSource src)
{
    size_t n = (size_t)p->m.n_files + 1;
    SbkManifestFile *nf = realloc(p->m.files, n * sizeof *nf);
    if (!nf)
        return NULL;
    p->m.files = nf;
    PackSource *ns = realloc(p->src, n * sizeof *ns);
    if (!ns)
        return NULL;
    p->src = ns;
    p->src[p->m.n_files] = src;
    SbkManifestFile *f = &nf[p->m.n_files++];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    f->kind = strdup(kind);
    f->mime = strdup(mime);
    if (!f->path || !f->kind || !f->mime)
        return NULL;
    return f;
}

/* Size and SHA-256 of a file in the work folder, or of a held descriptor. */
static int hash_source(const PackSource *s, SbkManifestFile *f, SbkError *err)
{
    int fd = s->fd;
    if (fd < 0 && (fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0)
        return sbk_err_errno(err, errno, _("cannot read %s"), s->path);
    int ret = sbk_sha256_fd(fd, 0, -1, f->sha256, err);
    struct stat st;
    if (ret == 0 && fstat(fd, &st) == 0)
        f->size = st.st_size;
    if (fd != s->fd)
        close(fd);
    return ret;
}

static int add_work_file(Pack *p, const char *entry, const char *kind, const char *mime,
                         const char *path, SbkManifestFile **out, SbkError *err)
{
    PackSource src = {.path = path, .fd = -1, .store = 1};
    SbkManifestFile *f = add_file(p, entry, kind, mime, src);
    if (!f)
        return oom(err);
    *out = f;
    return hash_source(&p->src[p->m.n_files - 1], f, err);
}

/* The file list in bundle order: player (filled in by build_player),
 * poster, thumbnail, subtitles, media, handouts. */
int sbk_pack__manifest_files(Pack *p, SbkError *err)
{
    SbkManifestFile *f;
    int ret;
    if (!add_file(p, "index.html", "player", "text/html; charset=utf-8", (PackSource){.fd = -1}))
        return oom(err);
    if (p->job.poster_path && p->job.poster_w > 0) {
        if ((ret = add_work_file(p, "poster.jpg", "poster", "image/jpeg", p->poster, &f, err)) < 0)
            return ret;
        f->width = p->job.poster_w;
        f->height = p->job.poster_h;
        if ((ret = add_work_file(p, "thumb.jpg", "thumbnail", "image/jpeg", p->thumb, &f, err)) < 0)
            return ret;
        f->width = p->job.thumb_w;
        f->height = p->job.thumb_h;
    }
    for (int i = 0; i < p->n_subs; i++) {
        char path[64];
        PackSub *s = &p->subs[i];
        snprintf(path, sizeof path, "subtitles/%s.vtt", s->lang);
        PackSource src = {.fd = -1, .data = s->vtt, .len = s->vtt_len};
        if (!(f = add_file(p, path, "subtitles", "text/vtt; charset=utf-8", src)) ||
            !(f->lang = strdup(s->lang)))
            return oom(err);
        f->size = (int64_t)s->vtt_len;
        sbk_sha256_hex(s->vtt, s->vtt_len, f->sha256);
    }
    for (int i = 0; i < p->n_tiers; i++) {
        SbkRenditionResult *r = &p->results[i];
        ret = add_work_file(p, r->entry, r->tier->kind, r->mime, r->path, &f, err);
        if (ret < 0)
            return ret;
        if (!(f->codecs = strdup(r->codecs)) || !(f->tier = strdup(sbk_tier_name(r->tier))))
            return oom(err);
        f->width = r->width;
        f->height = r->height;
        f->fps = r->fps;
        f->bitrate = r->bitrate;
        f->duration = r->duration;
        if (r->crf > 0) {
            static const char *const from[] = {"ladder", "search", "option"};
            f->crf = r->crf;
            if (!(f->crf_from = strdup(from[r->crf_from])))
                return oom(err);
            if (r->crf_from == SBK_CRF_SEARCH) {
                f->ssim_y = r->ssim_y;
                f->ssim_y_min = r->ssim_y_min;
                if (!(f->quality_metric = strdup("ssim-y-sampled")))
                    return oom(err);
            }
        }
    }
    for (int i = 0; i < p->n_handouts; i++) {
        PackHandout *h = &p->handouts[i];
        char entry[512];
        snprintf(entry, sizeof entry, "handouts/%s", h->name);
        /* The writer opens by name: give it the descriptor's own name, so
         * that it reads the very file checked and hashed here, whatever
         * happens to handouts/ meanwhile. */
        snprintf(h->fd_path, sizeof h->fd_path, "/proc/self/fd/%d", h->fd);
        PackSource src = {.path = h->fd_path, .fd = h->fd, .store = h->store};
        if (!(f = add_file(p, entry, "handout", sbk_pack__handout_mime(h->name), src)))
            return oom(err);
        if ((ret = hash_source(&p->src[p->m.n_files - 1], f, err)) < 0)
            return ret;
    }
    return 0;
}

/* "</" inside a <script> would end it early: copy s with "<\/" (same JSON,
 * same JavaScript). Returns the end of the copy. */
static char *put_script_safe(char *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *o++ = s[i];
        if (s[i] == '<' && i + 1 < n && s[i + 1] == '/')
            *o++ = '\\';
    }
    return o;
}

static size_t script_safe_len(const char *s, size_t n)
{
    size_t extra = 0;
    for (size_t i = 0; i + 1 < n; i++)
        extra += s[i] == '<' && s[i + 1] == '/';
    return n + extra;
}

/* The data the player carries: {"manifest":...,"subtitles":...,"i18n":...}.
 * The manifest is the file list without the player itself (files[0]). */
static int player_data(Pack *p, char **out, SbkError *err)
{
    SbkManifest view = p->m;
    char *mjson = NULL, *rest = NULL;
    size_t mlen = 0;
    json_t *root = json_object(), *subs = json_object(),
           *i18n = sbk_embed_i18n(sbk_offline_assets);
    int ret;
    view.files++;
    view.n_files--;
    *out = NULL;
    if ((ret = sbk_manifest_to_json(&view, &mjson, &mlen, err)) < 0)
        goto done;
    ret = oom(err);
    if (!root || !subs || !i18n)
        goto done;
    for (int i = 0; i < p->n_subs; i++)
        json_object_set_new(subs, p->subs[i].lang, json_stringn(p->subs[i].vtt, p->subs[i].vtt_len));
    json_object_set(root, "subtitles", subs);
    json_object_set(root, "i18n", i18n);
    rest = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!rest)
        goto done;
    /* {"manifest":<mjson>,<rest without its opening brace> */
    size_t n = strlen("{\"manifest\":") + mlen + 1 + strlen(rest);
    if (!(*out = malloc(n + 1)))
        goto done;
    snprintf(*out, n + 1, "{\"manifest\":%s,%s", mjson, rest + 1);
    ret = 0;
done:
    free(mjson);
    free(rest);
    json_decref(subs);
    json_decref(i18n);
    json_decref(root);
    return ret;
}

/* index.html: the template with {{SABAK_COMMON}} replaced by web/common.js
 * and {{SABAK_DATA}} by the lesson data, so it plays from file:// (where
 * browsers refuse <track> files) as one self-contained file. */
int sbk_pack__build_player(Pack *p, SbkError *err)
{
    static const char mark_common[] = "{{SABAK_COMMON}}", mark_data[] = "{{SABAK_DATA}}";
    const SbkEmbeddedFile *tpl = sbk_embed_find(sbk_offline_assets, "offline/player.html");
    const SbkEmbeddedFile *common = sbk_embed_find(sbk_offline_assets, "common.js");
    char *data = NULL;
    int ret;
    if (!tpl || !common)
        return sbk_err(err, SBK_EIO, _("this sabak was built without its offline player"));
    const char *t = (const char *)tpl->data;
    const char *at_c = strstr(t, mark_common), *at_d = strstr(t, mark_data);
    if (!at_c || !at_d || at_d < at_c)
        return sbk_err(err, SBK_EIO, _("the offline player template has no %s then %s"), mark_common,
                       mark_data);
    if ((ret = player_data(p, &data, err)) < 0)
        return ret;
    size_t dlen = strlen(data);
    size_t a = (size_t)(at_c - t), b = (size_t)(at_d - at_c) - (sizeof mark_common - 1);
    size_t c = tpl->len - a - (sizeof mark_common - 1) - b - (sizeof mark_data - 1);
    const char *cs = (const char *)common->data;
    p->player_len = a + script_safe_len(cs, common->len) + b + script_safe_len(data, dlen) + c;
    p->player = malloc(p->player_len + 1);
    if (!p->player) {
        free(data);
        return oom(err);
    }
    char *o = p->player;
    memcpy(o, t, a);
    o = put_script_safe(o + a, cs, common->len);
    memcpy(o, at_c + sizeof mark_common - 1, b);
    o = put_script_safe(o + b, data, dlen);
    memcpy(o, at_d + sizeof mark_data - 1, c);
    o[c] = '\0';
    free(data);
    SbkManifestFile *f = &p->m.files[0];
    f->size = (int64_t)p->player_len;
    sbk_sha256_hex(p->player, p->player_len, f->sha256);
    p->src[0].data = p->player;
    p->src[0].len = p->player_len;
    return sbk_manifest_to_json(&p->m, &p->manifest_json, &p->manifest_len, err);
}

/* manifest.json, its signature when signing, then every entry of the
 * manifest in its order. */
int sbk_pack__write_bundle(Pack *p, SbkError *err)
{
    int sign = p->opt->sign_key != NULL;
    size_t n = (size_t)p->m.n_files + 1 + (size_t)sign, k = 0;
    char *sig = NULL;
    size_t sig_len = 0;
    SbkBundleInput *in = calloc(n, sizeof *in);
    if (!in)
        return oom(err);
    in[k++] = (SbkBundleInput){.name = SBK_MANIFEST_NAME, .data = p->manifest_json,
                               .len = p->manifest_len};
    int ret = 0;
    if (sign) {
        ret = sbk_sign_manifest(p->opt->sign_key, p->manifest_json, p->manifest_len, p->m.id,
                                p->m.version, &sig, &sig_len, err);
        in[k++] = (SbkBundleInput){.name = SBK_MINISIG_NAME, .data = sig, .len = sig_len};
    }
    for (int i = 0; i < p->m.n_files; i++) {
        const PackSource *s = &p->src[i];
        in[k++] = (SbkBundleInput){.name = p->m.files[i].path, .src_path = s->path,
                                   .data = s->data, .len = s->len, .store = s->store};
    }
    if (ret == 0)
        ret = sbk_pack__check_target(p, err);
    if (ret == 0)
        ret = sbk_bundle_write(p->opt->out_path, in, n, p->opt->cancel, err);
    free(sig);
    free(in);
    return ret;
}
