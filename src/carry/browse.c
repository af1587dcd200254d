/* The browsable offline copy: MOUNT/sabak/index.html (a catalog in
 * ky/ru/en with title search) and each lesson unpacked beside it in
 * MOUNT/sabak/lessons/<id>/, where the bundle's own index.html plays it from
 * file:// with its subtitles inline (browsers block <track> files there).
 *
 * Names are made Windows-safe (no < > : " \ | ? *, no control characters,
 * no trailing dot or space, no device names such as CON, and no two names
 * in one folder that differ only in case); when a name changes, the player's
 * embedded manifest is rewritten to match. Each bundle gets its own folder
 * (lessons/<id>-v<N>, or ...-reduced) whose manifest.json is written last,
 * atomically: a folder without it is unfinished and is neither listed nor
 * kept. The catalog lists the newest complete folder of each lesson and is
 * itself written atomically; older folders are removed after it. */
#include "carry_int.h"
#include "sabak/core.h"
#include "sabak/embed.h"
#include "sabak/lesson.h"
#include "sabak/i18n.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

extern const SbkEmbeddedFile sbk_carry_assets[];

#define MAX_TEXT_ENTRY ((size_t)256 << 20)
#define FILE_OVERHEAD_BROWSE ((int64_t)1 << 20)

char *sbk_carry_safe_name(const char *name)
{
    static const char *const reserved[] = {"CON", "PRN", "AUX", "NUL", NULL};
    size_t l = strlen(name);
    char *o = malloc(l + 3);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < l; i++) {
        unsigned char c = (unsigned char)name[i];
        o[k++] = (c < 0x20 || strchr("<>:\"/\\|?*", c)) ? '_' : (char)c;
    }
    while (k > 0 && (o[k - 1] == '.' || o[k - 1] == ' '))
        k--;
    o[k] = '\0';
    if (k == 0) {
        strcpy(o, "_");
        return o;
    }
    /* device names, with or without an extension: CON, con.txt, COM1, LPT9.pdf */
    size_t stem = strcspn(o, ".");
    int dev = 0;
    for (int i = 0; reserved[i]; i++)
        dev |= stem == 3 && strncasecmp(o, reserved[i], 3) == 0;
    if (stem == 4 && (strncasecmp(o, "COM", 3) == 0 || strncasecmp(o, "LPT", 3) == 0) &&
        o[3] >= '1' && o[3] <= '9')
        dev = 1;
    if (dev) {
        memmove(o + 1, o, k + 1);
        o[0] = '_';
    }
    return o;
}

/* Safe paths for a list of entry names, each component made safe and
 * names that differ only in case (after folding) given "~2", "~3"... */
static char **safe_paths(char **names, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    char **folded = calloc(n ? n : 1, sizeof *folded);
    if (!out || !folded)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        char *copy = strdup(names[i]), *save = NULL, buf[1024] = "";
        if (!copy)
            goto fail;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
            char *s = sbk_carry_safe_name(c);
            if (!s) {
                free(copy);
                goto fail;
            }
            if (*buf)
                strncat(buf, "/", sizeof buf - strlen(buf) - 1);
            strncat(buf, s, sizeof buf - strlen(buf) - 1);
            free(s);
        }
        free(copy);
        for (int t = 1; t < 1000; t++) {
            char cand[1100];
            if (t == 1) {
                snprintf(cand, sizeof cand, "%s", buf);
            } else {
                const char *slash = strrchr(buf, '/');
                const char *dot = strrchr(buf, '.');
                if (dot && (!slash || dot > slash + 1))
                    snprintf(cand, sizeof cand, "%.*s~%d%s", (int)(dot - buf), buf, t, dot);
                else
                    snprintf(cand, sizeof cand, "%s~%d", buf, t);
            }
            char *f = sbk_utf8_fold(cand, strlen(cand));
            int clash = !f;
            for (size_t k = 0; f && k < i; k++)
                clash |= strcmp(folded[k], f) == 0;
            if (!clash) {
                folded[i] = f;
                out[i] = strdup(cand);
                break;
            }
            free(f);
        }
        if (!out[i])
            goto fail;
    }
    for (size_t i = 0; i < n; i++)
        free(folded[i]);
    free(folded);
    return out;
fail:
    for (size_t i = 0; out && i < n; i++)
        free(out[i]);
    for (size_t i = 0; folded && i < n; i++)
        free(folded[i]);
    free(out);
    free(folded);
    return NULL;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Create the folders of rel under base. */
static int make_parents(const char *base, const char *rel, SbkError *err)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s/%s", base, rel);
    for (char *s = buf + strlen(base) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        int r = sbk_carry_mkdir(buf, err);
        *s = '/';
        if (r < 0)
            return r;
    }
    return 0;
}

static int write_file(const char *path, const void *data, size_t len, int from_fd, int64_t off,
                      SbkError *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sbk_err_errno(err, errno, _("cannot write %s"), path);
    int ret = 0, e;
    if (from_fd < 0) {
        if ((e = sbk_write_all(fd, data, len)) < 0)
            ret = sbk_err_errno(err, -e, _("cannot write %s"), path);
    } else {
        char *buf = malloc(1 << 20);
        if (!buf)
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        for (size_t done = 0; ret == 0 && done < len;) {
            size_t n = len - done < (1 << 20) ? len - done : (1 << 20);
            if ((e = sbk_pread_all(from_fd, buf, n, off + (off_t)done)) < 0)
                ret = sbk_err_errno(err, -e, _("cannot read the bundle"));
            else if ((e = sbk_write_all(fd, buf, n)) < 0)
                ret = sbk_err_errno(err, -e, _("cannot write %s"), path);
            done += n;
        }
        free(buf);
    }
    if (ret == 0 && fsync(fd) < 0)
        ret = sbk_err_errno(err, errno, _("cannot write %s"), path);
    close(fd);
    return ret;
}

/* lessons/<id>-v<N> (whole) or lessons/<id>-v<N>-reduced: one folder per
 * bundle, so a new version is unpacked beside the old one. */
static char *folder_name(const CarryBundle *b)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s-v%d%s", b->id, b->version, b->reduced ? "-reduced" : "");
    return sbk_carry_safe_name(buf);
}

static int folder_has(const char *dir, const char *sha)
{
    char *p = sbk_path_join(dir, SBK_MANIFEST_NAME);
    char hex[SBK_SHA256_HEX];
    SbkError e = {0};
    int same = p && sbk_carry_sha256_file(p, hex, &e) == 0 && strcmp(hex, sha) == 0;
    free(p);
    return same;
}

int64_t sbk_carry_browse_cost(const char *sabak_dir, const CarryBundle *b)
{
    char *d = folder_name(b), path[2048];
    if (!d)
        return b->unpacked;
    snprintf(path, sizeof path, "%s/lessons/%s", sabak_dir, d);
    free(d);
    if (folder_has(path, b->manifest_sha))
        return 0;
    return b->unpacked + FILE_OVERHEAD_BROWSE;
}

/* The player page with its embedded manifest's paths renamed. */
static int remap_player(const char *html, size_t len, json_t *man, char **names, char **safe,
                        size_t n, char **out, size_t *out_len, SbkError *err)
{
    json_t *m = json_deep_copy(man), *files = json_object_get(m, "files"), *nf = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(files, i, v) {
        const char *kind = json_string_value(json_object_get(v, "kind"));
        if (kind && strcmp(kind, "player") == 0)
            continue;
        const char *p = json_string_value(json_object_get(v, "path"));
        for (size_t k = 0; p && k < n; k++)
            if (strcmp(names[k], p) == 0) {
                json_object_set_new(v, "path", json_string(safe[k])); /* frees p */
                break;
            }
        json_array_append(nf, v);
    }
    json_object_set_new(m, "files", nf);
    char *mj = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(m);
    if (!mj)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    int ret = sbk_carry_player_set_manifest(html, len, mj, out, out_len, err);
    free(mj);
    return ret;
}

int sbk_carry_browse_unpack(CarryRun *r, const char *sabak_dir, const CarryBundle *b,
                           SbkError *err)
{
    char lessons[2048], final[2200];
    char *dname = folder_name(b), **names = NULL, **safe = NULL, *mj = NULL;
    SbkBundle *bd = NULL;
    json_t *man = NULL;
    size_t n = 0, mlen = 0;
    int ret;
    if (!dname)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    snprintf(lessons, sizeof lessons, "%s/lessons", sabak_dir);
    snprintf(final, sizeof final, "%s/%s", lessons, dname);
    free(dname);
    if (folder_has(final, b->manifest_sha))
        return 0;
    rm_rf(final); /* an unfinished (or different) unpack of it */
    if ((ret = sbk_carry_mkdir(lessons, err)) < 0 || (ret = sbk_carry_mkdir(final, err)) < 0 ||
        (ret = sbk_bundle_open(b->path, &bd, err)) < 0 ||
        (ret = sbk_bundle_read_entry(bd, SBK_MANIFEST_NAME, SBK_MANIFEST_MAX_BYTES, &mj, &mlen,
                                     err)) < 0)
        goto done;
    man = json_loadb(mj, mlen, 0, NULL);
    n = (size_t)bd->manifest->n_files;
    names = calloc(n + 1, sizeof *names);
    if (!man || !names) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = bd->manifest->files[i].path;
    if (!(safe = safe_paths(names, n))) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    char path[2400];
    for (size_t i = 0; i < n; i++) {
        const SbkManifestFile *f = &bd->manifest->files[i];
        const SbkBundleEntry *e = sbk_bundle_find(bd, f->path);
        snprintf(path, sizeof path, "%s/%s", final, safe[i]);
        if (!e || (ret = make_parents(final, safe[i], err)) < 0) {
            ret = e ? ret : sbk_err(err, SBK_EDAMAGED, _("%s: no entry %s"), b->name, f->path);
            goto done;
        }
        sbk_carry_progress(r, "unpack", b->name, (int64_t)i, (int64_t)n, 0);
        if (strcmp(f->kind, "player") == 0 || !e->stored || e->offset < 0) {
            char *data = NULL, *page = NULL;
            size_t len = 0, plen = 0;
            if ((ret = sbk_bundle_read_entry(bd, f->path, MAX_TEXT_ENTRY, &data, &len, err)) < 0)
                goto done;
            if (strcmp(f->kind, "player") == 0 &&
                (ret = remap_player(data, len, man, names, safe, n, &page, &plen, err)) < 0) {
                free(data);
                goto done;
            }
            ret = write_file(path, page ? page : data, page ? plen : len, -1, 0, err);
            free(data);
            free(page);
        } else {
            ret = write_file(path, NULL, (size_t)e->size, bd->fd, e->offset, err);
        }
        if (ret < 0)
            goto done;
    }
    sbk_carry_fsync_dir(final);
    /* manifest.json last, atomically: the folder counts only once it is there
     * (folders are not renamed: fusefat loses a renamed folder's files) */
    snprintf(path, sizeof path, "%s/%s", final, SBK_MANIFEST_NAME);
    ret = sbk_atomic_write_file(path, mj, mlen, err);
done:
    if (ret < 0)
        rm_rf(final);
    for (size_t i = 0; safe && i < n; i++)
        free(safe[i]);
    free(safe);
    free(names);
    json_decref(man);
    free(mj);
    sbk_bundle_close(&bd);
    return ret;
}

static json_t *lang_obj(char *const v[SBK_LANG_COUNT])
{
    json_t *o = json_object();
    for (int i = 0; i < SBK_LANG_COUNT; i++)
        if (v[i])
            json_object_set_new(o, sbk_lang_codes[i], json_string(v[i]));
    return o;
}

/* One catalog entry from a lesson folder, or NULL when it is not one. */
static json_t *catalog_entry(const char *lessons, const char *dname)
{
    char path[2400];
    char *mj = NULL;
    size_t len = 0;
    SbkManifest *m = NULL;
    SbkError e = {0};
    snprintf(path, sizeof path, "%s/%s/%s", lessons, dname, SBK_MANIFEST_NAME);
    if (sbk_read_file(path, SBK_MANIFEST_MAX_BYTES, &mj, &len, &e) < 0 ||
        sbk_manifest_parse(mj, len, &m, &e) < 0) {
        free(mj);
        return NULL;
    }
    json_t *raw = json_loadb(mj, len, 0, NULL);
    char **names = calloc((size_t)m->n_files + 1, sizeof *names), **safe = NULL;
    for (int i = 0; names && i < m->n_files; i++)
        names[i] = m->files[i].path;
    safe = names ? safe_paths(names, (size_t)m->n_files) : NULL;
    json_t *o = json_object(), *tiers = json_array();
    json_object_set_new(o, "id", json_string(m->id));
    json_object_set_new(o, "version", json_integer(m->version));
    json_object_set_new(o, "title", lang_obj(m->title));
    json_object_set_new(o, "description", lang_obj(m->description));
    json_object_set_new(o, "topic", json_string(m->topic ? m->topic : ""));
    json_object_set_new(o, "order", json_integer(m->order));
    json_object_set_new(o, "duration", json_real(m->duration));
    json_object_set_new(o, "reduced", json_boolean(raw && json_object_get(raw, "reduced_from")));
    char href[2400];
    snprintf(href, sizeof href, "lessons/%s/index.html", dname);
    json_object_set_new(o, "href", json_string(href));
    json_object_set_new(o, "dir", json_string(dname));
    for (int i = 0; safe && i < m->n_files; i++) {
        const SbkManifestFile *f = &m->files[i];
        if ((strcmp(f->kind, "thumbnail") == 0 ||
             (strcmp(f->kind, "poster") == 0 && !json_object_get(o, "poster")))) {
            snprintf(href, sizeof href, "lessons/%s/%s", dname, safe[i]);
            json_object_set_new(o, "poster", json_string(href));
        }
        if (f->tier && (strcmp(f->kind, "video") == 0 || strcmp(f->kind, "audio") == 0))
            json_array_append_new(tiers, json_string(f->tier));
    }
    json_object_set_new(o, "tiers", tiers);
    for (int i = 0; safe && i < m->n_files; i++)
        free(safe[i]);
    free(safe);
    free(names);
    json_decref(raw);
    sbk_manifest_free(&m);
    free(mj);
    return o;
}

static int cmp_entry(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(json_string_value(json_object_get(x, "topic")),
                   json_string_value(json_object_get(y, "topic")));
    if (c)
        return c;
    json_int_t ox = json_integer_value(json_object_get(x, "order"));
    json_int_t oy = json_integer_value(json_object_get(y, "order"));
    if (ox != oy)
        return ox < oy ? -1 : 1;
    return strcmp(json_string_value(json_object_get(x, "id")),
                  json_string_value(json_object_get(y, "id")));
}

/* Is catalog entry a a better copy of the same lesson than b? */
static int better(json_t *a, json_t *b)
{
    if (strcmp(json_string_value(json_object_get(a, "id")),
               json_string_value(json_object_get(b, "id"))) != 0)
        return 0;
    json_int_t va = json_integer_value(json_object_get(a, "version"));
    json_int_t vb = json_integer_value(json_object_get(b, "version"));
    if (va != vb)
        return va > vb;
    int ra = json_is_true(json_object_get(a, "reduced")), rb = json_is_true(json_object_get(b, "reduced"));
    return ra < rb;
}

int sbk_carry_browse_catalog(const char *sabak_dir, SbkError *err)
{
    char lessons[2048];
    snprintf(lessons, sizeof lessons, "%s/lessons", sabak_dir);
    const SbkEmbeddedFile *tpl = sbk_embed_find(sbk_carry_assets, "offline/catalog.html");
    if (!tpl)
        return sbk_err(err, SBK_EIO, _("this sabak was built without the drive catalog page"));
    json_t **list = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(lessons);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        json_t *o = catalog_entry(lessons, de->d_name);
        if (!o)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            json_t **nl = realloc(list, cap * sizeof *nl);
            if (!nl) {
                json_decref(o);
                break;
            }
            list = nl;
        }
        list[n++] = o;
    }
    if (d)
        closedir(d);
    if (n)
        qsort(list, n, sizeof *list, cmp_entry);
    json_t *root = json_object(), *arr = json_array(), *i18n = sbk_embed_i18n(sbk_carry_assets);
    json_t *dropped = json_array();
    for (size_t i = 0; i < n; i++) {
        int keep = 1;
        for (size_t k = 0; k < n && keep; k++)
            if (k != i && better(list[k], list[i]))
                keep = 0;
        json_array_append_new(keep ? arr : dropped, list[i]);
    }
    free(list);
    json_object_set_new(root, "lessons", arr);
    json_object_set_new(root, "i18n", i18n);
    char *data = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (!data)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    static const char mark[] = "{{SABAK_DATA}}";
    const char *t = (const char *)tpl->data, *at = strstr(t, mark);
    if (!at) {
        free(data);
        return sbk_err(err, SBK_EIO, _("the catalog page template has no %s"), mark);
    }
    size_t dlen = strlen(data), before = (size_t)(at - t);
    size_t after = tpl->len - before - (sizeof mark - 1);
    char *page = malloc(before + 2 * dlen + after + 1), *o = page;
    if (!page) {
        free(data);
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    }
    memcpy(o, t, before);
    o += before;
    for (size_t i = 0; i < dlen; i++) {
        *o++ = data[i];
        if (data[i] == '<' && i + 1 < dlen && data[i + 1] == '/')
            *o++ = '\\';
    }
    memcpy(o, at + sizeof mark - 1, after);
    o += after;
    free(data);
    char *out = sbk_path_join(sabak_dir, "index.html");
    int ret = out ? sbk_atomic_write_file(out, page, (size_t)(o - page), err)
                  : sbk_err(err, SBK_ENOMEM, _("out of memory"));
    free(out);
    free(page);
    size_t i;
    json_t *v;
    json_array_foreach(dropped, i, v) {
        char path[2400];
        snprintf(path, sizeof path, "%s/%s", lessons,
                 json_string_value(json_object_get(v, "dir")));
        if (ret == 0)
            rm_rf(path);
    }
    json_decref(dropped);
    return ret;
}
