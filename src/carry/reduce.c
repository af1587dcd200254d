/* Reduced bundles (sabak export --tiers low,audio): the same lesson with
 * fewer media renditions, for small drives and slow office PCs.
 *
 * Every kept file keeps its bytes (media stay stored, text deflated); only
 * manifest.json and the offline player (which embeds the manifest) change.
 * The manifest gains "reduced_from": {"manifest_sha256", "tiers"} so that
 * anyone can tell it is reduced and from which whole bundle. The writer is
 * reproducible, so building the same reduction twice gives the same bytes,
 * which is what lets an interrupted copy of it be resumed. */
#include "carry_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TEXT_ENTRY ((size_t)256 << 20)

static const char DATA_OPEN[] = "<script id=\"sabak-data\" type=\"application/json\">";

int sbk_carry_player_set_manifest(const char *html, size_t len, const char *manifest_json,
                              char **out, size_t *out_len, SbkError *err)
{
    *out = NULL;
    const char *a = strstr(html, DATA_OPEN);
    const char *b = a ? strstr(a + sizeof DATA_OPEN - 1, "</script>") : NULL;
    if (!a || !b)
        return sbk_err(err, SBK_EDAMAGED, _("the offline player has no lesson data"));
    a += sizeof DATA_OPEN - 1;
    json_t *data = json_loadb(a, (size_t)(b - a), 0, NULL);
    json_t *m = json_loads(manifest_json, 0, NULL);
    char *dump = NULL;
    int ret = 0;
    if (!data || !m || !json_is_object(data)) {
        ret = sbk_err(err, SBK_EDAMAGED, _("the offline player's lesson data does not parse"));
        goto done;
    }
    json_object_set(data, "manifest", m);
    dump = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (!dump) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    size_t dlen = strlen(dump), extra = 0;
    for (size_t i = 0; i + 1 < dlen; i++)
        extra += dump[i] == '<' && dump[i + 1] == '/';
    size_t before = (size_t)(a - html), after = len - (size_t)(b - html);
    char *o = malloc(before + dlen + extra + after + 1);
    if (!o) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    *out = o;
    memcpy(o, html, before);
    o += before;
    /* "</" would end the <script> early: "<\/" is the same JSON. */
    for (size_t i = 0; i < dlen; i++) {
        *o++ = dump[i];
        if (dump[i] == '<' && i + 1 < dlen && dump[i + 1] == '/')
            *o++ = '\\';
    }
    memcpy(o, b, after);
    o[after] = '\0';
    *out_len = before + dlen + extra + after;
done:
    free(dump);
    json_decref(m);
    json_decref(data);
    return ret;
}

static int tier_wanted(const char *tiers, const char *tier)
{
    size_t l = strlen(tier);
    for (const char *p = tiers; *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == l && strncmp(p, tier, l) == 0)
            return 1;
        p += n + (c ? 1 : 0);
    }
    return 0;
}

static int is_media(json_t *f)
{
    const char *k = json_string_value(json_object_get(f, "kind"));
    return k && (strcmp(k, "video") == 0 || strcmp(k, "audio") == 0);
}

/* The reduced manifest as a jansson object (keys in the original order,
 * "reduced_from" just before "files"), without the player's entry when
 * `with_player` is 0. */
static json_t *reduced_manifest(json_t *orig, const char *tiers, const char *orig_sha,
                                json_t *player_entry, int *kept_media)
{
    json_t *m = json_object(), *files = json_array(), *rf = json_object(), *tl = json_array();
    const char *key;
    json_t *v;
    *kept_media = 0;
    size_t i;
    json_array_foreach(json_object_get(orig, "files"), i, v) {
        const char *kind = json_string_value(json_object_get(v, "kind"));
        if (kind && strcmp(kind, "player") == 0) {
            if (player_entry)
                json_array_append(files, player_entry);
            continue;
        }
        if (is_media(v)) {
            const char *tier = json_string_value(json_object_get(v, "tier"));
            if (!tier || !tier_wanted(tiers, tier))
                continue;
            (*kept_media)++;
            json_array_append_new(tl, json_string(tier));
        }
        json_array_append(files, v);
    }
    json_object_set_new(rf, "manifest_sha256", json_string(orig_sha));
    json_object_set_new(rf, "tiers", tl);
    json_object_foreach(orig, key, v) {
        if (strcmp(key, "reduced_from") == 0)
            continue;
        if (strcmp(key, "files") == 0) {
            json_object_set(m, "reduced_from", rf);
            json_object_set(m, "files", files);
        } else {
            json_object_set(m, key, v);
        }
    }
    json_decref(rf);
    json_decref(files);
    return m;
}

static char *dump_manifest(json_t *m, size_t *len)
{
    char *s = json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (!s)
        return NULL;
    size_t l = strlen(s);
    char *o = realloc(s, l + 2);
    if (!o) {
        free(s);
        return NULL;
    }
    o[l] = '\n';
    o[l + 1] = '\0';
    *len = l + 1;
    return o;
}

/* A stored entry's bytes into a file of its own (the writer reads files). */
static int extract_stored(const SbkBundle *b, const SbkBundleEntry *e, const char *path,
                          SbkError *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sbk_err_errno(err, errno, _("cannot write %s"), path);
    char *buf = malloc(1 << 20);
    int ret = buf ? 0 : sbk_err(err, SBK_ENOMEM, "out of memory");
    for (int64_t off = 0; ret == 0 && off < e->size;) {
        size_t n = e->size - off < (1 << 20) ? (size_t)(e->size - off) : (1 << 20);
        int r = sbk_pread_all(b->fd, buf, n, e->offset + off);
        if (r < 0)
            ret = sbk_err_errno(err, -r, _("cannot read %s"), b->path);
        else if ((r = sbk_write_all(fd, buf, n)) < 0)
            ret = sbk_err_errno(err, -r, _("cannot write %s"), path);
        off += (int64_t)n;
    }
    free(buf);
    if (close(fd) < 0 && ret == 0)
        ret = sbk_err_errno(err, errno, _("cannot write %s"), path);
    return ret;
}

int sbk_carry_reduce(CarryRun *r, const char *src, const char *tiers, const char *out_path,
                 SbkError *err)
{
    SbkBundle *b = NULL;
    char *mj = NULL, *player = NULL, *newplayer = NULL, *mtext = NULL, *nopl = NULL;
    size_t mlen = 0, plen = 0, nplen = 0, mtlen = 0;
    json_t *orig = NULL, *m1 = NULL, *m2 = NULL, *pe = NULL;
    SbkBundleInput *in = NULL;
    char **tmp = NULL, **mem = NULL;
    size_t n_in = 0, n_files = 0;
    int ret, kept = 0;
    char orig_sha[SBK_SHA256_HEX], psha[SBK_SHA256_HEX];
    if ((ret = sbk_bundle_open(src, &b, err)) < 0)
        return ret;
    if ((ret = sbk_bundle_read_entry(b, SBK_MANIFEST_NAME, SBK_MANIFEST_MAX_BYTES, &mj, &mlen,
                                     err)) < 0)
        goto done;
    sbk_sha256_hex(mj, mlen, orig_sha);
    orig = json_loadb(mj, mlen, JSON_DECODE_ANY, NULL);
    if (!orig || json_object_get(orig, "reduced_from")) {
        ret = sbk_err(err, SBK_EINVAL, _("%s is already a reduced bundle"), src);
        goto done;
    }
    /* 1. the manifest the player embeds: every kept file but the player */
    m1 = reduced_manifest(orig, tiers, orig_sha, NULL, &kept);
    if (kept == 0) {
        ret = sbk_err(err, SBK_EINVAL, _("%s has none of the tiers %s"), b->manifest->id, tiers);
        goto done;
    }
    size_t nlen = 0;
    if (!(nopl = dump_manifest(m1, &nlen))) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    if ((ret = sbk_bundle_read_entry(b, "index.html", MAX_TEXT_ENTRY, &player, &plen, err)) < 0 ||
        (ret = sbk_carry_player_set_manifest(player, plen, nopl, &newplayer, &nplen, err)) < 0)
        goto done;
    sbk_sha256_hex(newplayer, nplen, psha);
    /* 2. the real manifest: with the new player's size and hash */
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(orig, "files"), i, v) {
        const char *kind = json_string_value(json_object_get(v, "kind"));
        if (kind && strcmp(kind, "player") == 0)
            pe = json_deep_copy(v);
    }
    if (!pe) {
        ret = sbk_err(err, SBK_EDAMAGED, _("%s has no offline player"), src);
        goto done;
    }
    json_object_set_new(pe, "size", json_integer((json_int_t)nplen));
    json_object_set_new(pe, "sha256", json_string(psha));
    m2 = reduced_manifest(orig, tiers, orig_sha, pe, &kept);
    if (!(mtext = dump_manifest(m2, &mtlen))) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    SbkManifest *check = NULL;
    if ((ret = sbk_manifest_parse(mtext, mtlen, &check, err)) < 0)
        goto done;
    sbk_manifest_free(&check);
    /* 3. the entries, in the manifest's order */
    json_t *files = json_object_get(m2, "files");
    n_files = json_array_size(files);
    in = calloc(n_files + 1, sizeof *in);
    tmp = calloc(n_files + 1, sizeof *tmp);
    mem = calloc(n_files + 1, sizeof *mem);
    if (!in || !tmp || !mem) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    in[n_in++] = (SbkBundleInput){.name = SBK_MANIFEST_NAME, .data = mtext, .len = mtlen};
    json_array_foreach(files, i, v) {
        const char *path = json_string_value(json_object_get(v, "path"));
        const SbkBundleEntry *e = sbk_bundle_find(b, path);
        SbkBundleInput *o = &in[n_in++];
        *o = (SbkBundleInput){.name = path};
        if (strcmp(path, "index.html") == 0) {
            o->data = newplayer;
            o->len = nplen;
        } else if (e && e->stored && e->offset >= 0) {
            size_t tl = strlen(out_path) + 32;
            if (!(tmp[i] = malloc(tl))) {
                ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
                goto done;
            }
            snprintf(tmp[i], tl, "%s.entry-%zu", out_path, i);
            if ((ret = extract_stored(b, e, tmp[i], err)) < 0)
                goto done;
            o->src_path = tmp[i];
            o->store = 1;
        } else {
            size_t l = 0;
            if ((ret = sbk_bundle_read_entry(b, path, MAX_TEXT_ENTRY, &mem[i], &l, err)) < 0)
                goto done;
            o->data = mem[i];
            o->len = l;
        }
        sbk_carry_progress(r, "reduce", sbk_path_base(out_path), (int64_t)i, (int64_t)n_files, 0);
    }
    ret = sbk_bundle_write(out_path, in, n_in, r && r->cb ? r->cb->cancel : NULL, err);
done:
    for (size_t k = 0; tmp && k <= n_files; k++) {
        if (tmp[k])
            unlink(tmp[k]);
        free(tmp[k]);
    }
    for (size_t k = 0; mem && k <= n_files; k++)
        free(mem[k]);
    free(tmp);
    free(mem);
    free(in);
    json_decref(pe);
    json_decref(m1);
    json_decref(m2);
    json_decref(orig);
    free(nopl);
    free(mtext);
    free(player);
    free(newplayer);
    free(mj);
    sbk_bundle_close(&b);
    return ret;
}
