/* src/bundle/trust.c - which keys a kiosk trusts (a folder of minisign
 * .pub files), the verdict on a bundle's signature, and signing a copy of
 * an existing bundle. The formats are in minisign.c. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle_internal.h"
#include "sabak/core.h"
#include "sabak/sign.h"
#include "sabak/i18n.h"

#define PUB_MAX_BYTES 4096

struct SbkTrust {
    SbkPubkey *keys;
    size_t n;
    char digest[65];
};

static int key_cmp(const void *a, const void *b)
{
    return memcmp(((const SbkPubkey *)a)->keynum, ((const SbkPubkey *)b)->keynum, 8);
}

static int pub_name_ok(const char *n)
{
    size_t l = strlen(n);
    return l > 4 && n[0] != '.' && strcmp(n + l - 4, ".pub") == 0;
}

static void problem_line(SbkProblemFn fn, void *opaque, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem_line(SbkProblemFn fn, void *opaque, const char *fmt, ...)
{
    SbkError e;
    va_list ap;
    va_start(ap, fmt);
    sbk_errv(&e, SBK_EINVAL, NULL, fmt, ap);
    va_end(ap);
    if (fn)
        fn(opaque, e.msg);
}

/* The digest: BLAKE2b-256 over the sorted keys and their names. */
static void trust_digest(SbkTrust *t)
{
    crypto_generichash_state hs;
    unsigned char h[32];
    crypto_generichash_init(&hs, NULL, 0, sizeof h);
    for (size_t i = 0; i < t->n; i++) {
        crypto_generichash_update(&hs, t->keys[i].keynum, 8);
        crypto_generichash_update(&hs, t->keys[i].pk, 32);
        crypto_generichash_update(&hs, (const unsigned char *)t->keys[i].name, strlen(t->keys[i].name) + 1);
    }
    crypto_generichash_final(&hs, h, sizeof h);
    sodium_bin2hex(t->digest, sizeof t->digest, h, sizeof h);
}

int sbk_trust_load(const char *dir, SbkTrust **out, SbkProblemFn problem, void *opaque,
                   SbkError *err)
{
    int ret = 0;
    DIR *d = NULL;
    SbkTrust *t = NULL;
    size_t cap = 0;
    *out = NULL;
    if (sodium_init() < 0)
        return sbk_err(err, SBK_EIO, _("cannot start libsodium"));
    if (!(t = calloc(1, sizeof *t)))
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    if (!(d = opendir(dir))) {
        ret = sbk_err_errno(err, errno, _("%s: cannot read the trusted keys folder"), dir);
        goto done;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!pub_name_ok(de->d_name))
            continue;
        char *path = sbk_path_join(dir, de->d_name), *text = NULL;
        size_t len = 0;
        SbkError e = {0};
        SbkPubkey k;
        if (!path) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
            goto done;
        }
        int r = sbk_read_file(path, PUB_MAX_BYTES, &text, &len, &e);
        if (r == 0)
            r = sbk_pubkey_parse(text, len, &k, &e);
        free(text);
        if (r < 0) {
            problem_line(problem, opaque, _("%s: %s (skipped)"), path, e.msg);
            free(path);
            continue;
        }
        free(path);
        if (!k.name[0]) { /* a plain minisign key: named after its file */
            size_t l = strlen(de->d_name) - 4;
            snprintf(k.name, sizeof k.name, "%.*s", (int)(l < SBK_SIGNER_MAX ? l : SBK_SIGNER_MAX),
                     de->d_name);
            if (!sbk_signer_name_ok(k.name))
                snprintf(k.name, sizeof k.name, "%s", k.key_id);
        }
        if (t->n == cap) {
            size_t c = cap ? cap * 2 : 8;
            SbkPubkey *nk = realloc(t->keys, c * sizeof *nk);
            if (!nk) {
                ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
                goto done;
            }
            t->keys = nk;
            cap = c;
        }
        t->keys[t->n++] = k;
    }
    if (t->n)
        qsort(t->keys, t->n, sizeof *t->keys, key_cmp);
    trust_digest(t);
    *out = t;
    t = NULL;
done:
    if (d)
        closedir(d);
    sbk_trust_free(&t);
    return ret;
}

size_t sbk_trust_count(const SbkTrust *t) { return t ? t->n : 0; }
const char *sbk_trust_digest(const SbkTrust *t) { return t ? t->digest : ""; }

void sbk_trust_free(SbkTrust **t)
{
    if (t && *t) {
        free((*t)->keys);
        free(*t);
        *t = NULL;
    }
}

static const SbkPubkey *trust_find(const SbkTrust *t, const unsigned char keynum[8])
{
    if (!t || !t->n)
        return NULL;
    SbkPubkey probe;
    memcpy(probe.keynum, keynum, 8);
    return bsearch(&probe, t->keys, t->n, sizeof *t->keys, key_cmp);
}

const char *sbk_sign_state_name(int state)
{
    switch (state) {
    case SBK_SIG_TRUSTED: return "trusted";
    case SBK_SIG_UNKNOWN: return "unknown-key";
    case SBK_SIG_BAD: return "bad";
    default: return "unsigned";
    }
}

static void set_bad(SbkSignInfo *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_bad(SbkSignInfo *out, const char *fmt, ...)
{
    va_list ap;
    out->state = SBK_SIG_BAD;
    out->publisher[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

void sbk_sign_check(const SbkTrust *trust, const unsigned char prehash[64], const SbkManifest *m,
                    const char *minisig, size_t minisig_len, SbkSignInfo *out)
{
    SbkMinisig s;
    SbkSignedLesson sl;
    SbkError e = {0};
    memset(out, 0, sizeof *out);
    if (!minisig) {
        out->state = SBK_SIG_UNSIGNED;
        return;
    }
    if (sodium_init() < 0) {
        set_bad(out, _("cannot check the signature (libsodium)"));
        return;
    }
    if (sbk_minisig_parse(minisig, minisig_len, &s, &e) < 0) {
        set_bad(out, "%s: %s", SBK_MINISIG_NAME, e.msg);
        return;
    }
    memcpy(out->key_id, s.key_id, sizeof out->key_id);
    if (!s.prehashed) {
        set_bad(out, _("%s: a legacy (not prehashed) signature; sign again with sabak sign"), SBK_MINISIG_NAME);
        return;
    }
    const SbkPubkey *k = trust_find(trust, s.keynum);
    if (!k) {
        out->state = SBK_SIG_UNKNOWN;
        return;
    }
    size_t tl = strlen(s.trusted_comment);
    unsigned char *buf = malloc(64 + tl);
    if (!buf) {
        set_bad(out, _("out of memory checking the signature"));
        return;
    }
    memcpy(buf, s.sig, 64);
    memcpy(buf + 64, s.trusted_comment, tl);
    int r = crypto_sign_verify_detached(s.global_sig, buf, 64 + tl, k->pk);
    free(buf);
    if (r != 0) {
        set_bad(out, _("%s: the trusted comment was altered (its signature does not match key %s)"),
                SBK_MINISIG_NAME, s.key_id);
        return;
    }
    if (sbk_minisig_lesson(&s, &sl, &e) < 0) {
        set_bad(out, "%s: %s", SBK_MINISIG_NAME, e.msg);
        return;
    }
    if (strcmp(sl.id, m->id) != 0 || sl.version != m->version) {
        set_bad(out, _("%s: the signature is for lesson %s v%d, not %s v%d (moved from another lesson)"),
                SBK_MINISIG_NAME, sl.id, sl.version, m->id, m->version);
        return;
    }
    if (crypto_sign_verify_detached(s.sig, prehash, 64, k->pk) != 0) {
        set_bad(out, _("%s: manifest.json was changed after it was signed (signature by key %s does not match)"),
                SBK_MINISIG_NAME, s.key_id);
        return;
    }
    out->state = SBK_SIG_TRUSTED;
    /* The kiosk's own name for the key wins over the one the key signed. */
    snprintf(out->publisher, sizeof out->publisher, "%s", k->name[0] ? k->name : sl.signer);
}

void sbk_sign_check_bundle(const SbkTrust *trust, const SbkBundle *b, SbkSignInfo *out)
{
    sbk_sign_check(trust, b->manifest_prehash, b->manifest, b->minisig, b->minisig_len, out);
}

/* ---- signing an existing bundle ------------------------------------------- */

int sbk_bundle_sign_copy(const char *in_path, const char *out_path, const SbkSecretKey *k,
                         const volatile int *cancel, SbkError *err)
{
    SbkBundle *b = NULL;
    char *mj = NULL, *sig = NULL;
    char **mem = NULL;
    size_t mlen = 0, slen = 0, n_in = 0;
    SbkBundleInput *in = NULL;
    SbkBundleSlice *sl = NULL;
    struct stat so;
    int ret = sbk_bundle_open(in_path, &b, err);
    if (ret < 0)
        return ret;
    if (stat(out_path, &so) == 0 && so.st_dev == b->dev && so.st_ino == b->ino) {
        ret = sbk_err(err, SBK_EINVAL, _("%s: sign writes a new bundle; give another output name"), out_path);
        goto done;
    }
    if ((ret = sbk_bundle_read_entry(b, SBK_MANIFEST_NAME, SBK_MANIFEST_MAX_BYTES, &mj, &mlen, err)) < 0 ||
        (ret = sbk_sign_manifest(k, mj, mlen, b->manifest->id, b->manifest->version, &sig, &slen, err)) < 0)
        goto done;
    in = calloc(b->n_entries + 1, sizeof *in);
    mem = calloc(b->n_entries + 1, sizeof *mem);
    sl = calloc(b->n_entries + 1, sizeof *sl);
    if (!in || !mem || !sl) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    for (size_t i = 0; i <= b->n_entries; i++)
        sl[i].fd = -1;
    in[n_in++] = (SbkBundleInput){.name = SBK_MANIFEST_NAME, .data = mj, .len = mlen};
    in[n_in++] = (SbkBundleInput){.name = SBK_MINISIG_NAME, .data = sig, .len = slen};
    for (size_t i = 1; i < b->n_entries; i++) {
        const SbkBundleEntry *e = &b->entries[i];
        if (sbk_bundle_is_minisig(e->name))
            continue; /* replaced */
        SbkBundleInput *o = &in[n_in++];
        *o = (SbkBundleInput){.name = e->name};
        if (e->stored && e->offset >= 0) {
            /* stored (media): the very bytes, straight from the old file */
            sl[n_in - 1] = (SbkBundleSlice){.fd = b->fd, .offset = e->offset};
            o->len = (size_t)e->size;
            o->store = 1;
        } else {
            size_t l = 0;
            if ((ret = sbk_bundle_read_entry(b, e->name, (size_t)e->size + 1, &mem[i], &l, err)) < 0)
                goto done;
            o->data = mem[i];
            o->len = l;
        }
    }
    ret = sbk_bundle_write_slices(out_path, in, sl, n_in, cancel, err);
done:
    for (size_t i = 0; mem && i <= b->n_entries; i++)
        free(mem[i]);
    free(mem);
    free(sl);
    free(in);
    free(mj);
    free(sig);
    sbk_bundle_close(&b);
    return ret;
}
