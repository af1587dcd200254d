/* src/bundle/minisign.c - the minisign formats (signatures, public and
 * secret keys), written from the format jedisct1/minisign defines:
 *
 *   public key   "untrusted comment: ...\n" base64("Ed" keynum[8] pk[32]) "\n"
 *   secret key   "untrusted comment: ...\n" base64("Ed" "Sc" "B2" salt[32]
 *                opslimit[8 LE] memlimit[8 LE] ENC(keynum[8] sk[64] chk[32])) "\n"
 *                where ENC xors with scrypt(passphrase, salt) and chk is
 *                BLAKE2b-256("Ed" keynum sk)
 *   signature    "untrusted comment: ...\n" base64("ED" keynum[8] sig[64]) "\n"
 *                "trusted comment: TEXT\n" base64(global_sig[64]) "\n"
 *                sig = Ed25519(BLAKE2b-512(file)), global_sig = Ed25519(sig || TEXT)
 *
 * Only libsodium does cryptography here; this file only lays bytes out. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"
#include "sabak/sign.h"
#include "sabak/i18n.h"

#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define SIGNER_TAG "sabak signer: "
#define COMMENT_MAX 1024

typedef struct __attribute__((packed)) SigBytes {
    unsigned char alg[2];
    unsigned char keynum[8];
    unsigned char sig[64];
} SigBytes;

typedef struct __attribute__((packed)) PubBytes {
    unsigned char alg[2];
    unsigned char keynum[8];
    unsigned char pk[32];
} PubBytes;

typedef struct __attribute__((packed)) KeynumSk {
    unsigned char keynum[8];
    unsigned char sk[64];
    unsigned char chk[32];
} KeynumSk;

typedef struct __attribute__((packed)) SecBytes {
    unsigned char sig_alg[2];
    unsigned char kdf_alg[2];
    unsigned char chk_alg[2];
    unsigned char salt[32];
    unsigned char opslimit[8];
    unsigned char memlimit[8];
    KeynumSk ks;
} SecBytes;

struct SbkSecretKey {
    unsigned char keynum[8];
    unsigned char sk[64];
    char key_id[SBK_KEY_ID_HEX];
    char name[SBK_SIGNER_MAX + 1];
};

static int sodium_ready(SbkError *err)
{
    if (sodium_init() < 0)
        return sbk_err(err, SBK_EIO, _("cannot start libsodium"));
    return 0;
}

static void key_id_hex(const unsigned char keynum[8], char out[SBK_KEY_ID_HEX])
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | keynum[i];
    snprintf(out, SBK_KEY_ID_HEX, "%016" PRIX64, v);
}

static uint64_t le64(const unsigned char b[8])
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

static void le64_put(unsigned char b[8], uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
}

/* The next line of text[*pos..len): its start and length without "\r\n".
 * Returns 0, or -1 when there is no complete line (no "\n"). */
static int next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
    if (*pos >= len)
        return -1;
    const char *s = text + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    if (!nl)
        return -1;
    *line = s;
    *n = (size_t)(nl - s);
    if (*n > 0 && s[*n - 1] == '\r')
        (*n)--;
    *pos = (size_t)(nl - text) + 1;
    return 0;
}

static int b64_exact(const char *s, size_t n, void *out, size_t want)
{
    size_t got = 0;
    if (sodium_base642bin(out, want, s, n, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return got == want ? 0 : -1;
}

/* Printable UTF-8 (tab allowed when `tab`), as minisign's is_printable. */
static int printable(const char *s, size_t n, int tab)
{
    if (!sbk_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' && tab)
            continue;
        if (c < 0x20 || c == 0x7f)
            return 0;
        /* C1 controls (U+0080..U+009F) are 0xC2 0x80..0x9F in UTF-8 */
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0)
            return 0;
    }
    return 1;
}

int sbk_signer_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= SBK_SIGNER_MAX && name[0] != ' ' && name[n - 1] != ' ' &&
           printable(name, n, 0);
}

#define bad(err, ...) sbk_err(err, SBK_EDAMAGED, __VA_ARGS__)

int sbk_minisig_parse(const char *text, size_t len, SbkMinisig *out, SbkError *err)
{
    const char *l[4];
    size_t n[4], pos = 0;
    SigBytes sb;
    memset(out, 0, sizeof *out);
    if (len > SBK_MINISIG_MAX_BYTES)
        return bad(err, _("signature is too large (%zu bytes)"), len);
    for (int i = 0; i < 4; i++)
        if (next_line(text, len, &pos, &l[i], &n[i]) < 0)
            return bad(err, _("signature is truncated (%d of 4 lines)"), i);
    if (pos != len)
        return bad(err, _("signature has %zu unexpected bytes after its end"), len - pos);
    if (n[0] < sizeof COMMENT_PREFIX - 1 || memcmp(l[0], COMMENT_PREFIX, sizeof COMMENT_PREFIX - 1) != 0 ||
        n[0] >= COMMENT_MAX)
        return bad(err, _("signature does not start with \"untrusted comment:\""));
    if (b64_exact(l[1], n[1], &sb, sizeof sb) < 0)
        return bad(err, _("signature line 2 is not a minisign signature"));
    if (memcmp(sb.alg, "ED", 2) == 0)
        out->prehashed = 1;
    else if (memcmp(sb.alg, "Ed", 2) == 0)
        out->prehashed = 0;
    else
        return bad(err, _("signature algorithm is not Ed25519"));
    if (n[2] < sizeof TRUSTED_PREFIX - 1 || memcmp(l[2], TRUSTED_PREFIX, sizeof TRUSTED_PREFIX - 1) != 0)
        return bad(err, _("signature has no \"trusted comment:\" line"));
    size_t tl = n[2] - (sizeof TRUSTED_PREFIX - 1);
    const char *tc = l[2] + sizeof TRUSTED_PREFIX - 1;
    if (tl > SBK_TRUSTED_COMMENT_MAX)
        return bad(err, _("signature's trusted comment is too long"));
    if (!printable(tc, tl, 1))
        return bad(err, _("signature's trusted comment has unprintable characters"));
    if (b64_exact(l[3], n[3], out->global_sig, sizeof out->global_sig) < 0)
        return bad(err, _("signature line 4 is not a minisign comment signature"));
    memcpy(out->keynum, sb.keynum, 8);
    memcpy(out->sig, sb.sig, 64);
    memcpy(out->trusted_comment, tc, tl);
    out->trusted_comment[tl] = '\0';
    key_id_hex(out->keynum, out->key_id);
    return 0;
}

int sbk_minisig_lesson(const SbkMinisig *s, SbkSignedLesson *out, SbkError *err)
{
    const char *p = s->trusted_comment;
    int have = 0;
    memset(out, 0, sizeof *out);
    while (*p) {
        const char *end = strchr(p, '\t');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 7 && strncmp(p, "lesson:", 7) == 0 && n - 7 < sizeof out->id) {
            memcpy(out->id, p + 7, n - 7);
            have |= 1;
        } else if (n > 8 && n < 20 && strncmp(p, "version:", 8) == 0) {
            char v[16] = {0};
            char *e = NULL;
            memcpy(v, p + 8, n - 8);
            long x = strtol(v, &e, 10);
            if (*e == '\0' && x >= 1 && x <= 1000000000) {
                out->version = (int)x;
                have |= 2;
            }
        } else if (n > 7 && strncmp(p, "signer:", 7) == 0 && n - 7 <= SBK_SIGNER_MAX) {
            memcpy(out->signer, p + 7, n - 7);
            have |= 4;
        }
        p += n + (end != NULL);
    }
    if (have != 7)
        return bad(err, _("signature's trusted comment does not name a lesson, version and signer"));
    return 0;
}

int sbk_pubkey_parse(const char *text, size_t len, SbkPubkey *out, SbkError *err)
{
    const char *l[2];
    size_t n[2], pos = 0;
    PubBytes pb;
    memset(out, 0, sizeof *out);
    if (len > 4096)
        return sbk_err(err, SBK_EINVAL, _("not a minisign public key (too large)"));
    for (int i = 0; i < 2; i++) {
        if (next_line(text, len, &pos, &l[i], &n[i]) < 0) {
            /* the last line may lack its newline */
            if (i == 1 && pos < len) {
                l[1] = text + pos;
                n[1] = len - pos;
                while (n[1] && (l[1][n[1] - 1] == '\r' || l[1][n[1] - 1] == ' '))
                    n[1]--;
                break;
            }
            return sbk_err(err, SBK_EINVAL, _("not a minisign public key (it has no key line)"));
        }
    }
    if (n[0] < sizeof COMMENT_PREFIX - 1 || memcmp(l[0], COMMENT_PREFIX, sizeof COMMENT_PREFIX - 1) != 0)
        return sbk_err(err, SBK_EINVAL, _("not a minisign public key (no \"untrusted comment:\" line)"));
    if (b64_exact(l[1], n[1], &pb, sizeof pb) < 0 || memcmp(pb.alg, "Ed", 2) != 0)
        return sbk_err(err, SBK_EINVAL, _("not a minisign Ed25519 public key"));
    memcpy(out->keynum, pb.keynum, 8);
    memcpy(out->pk, pb.pk, 32);
    key_id_hex(out->keynum, out->key_id);
    const char *tag = memmem(l[0], n[0], SIGNER_TAG, sizeof SIGNER_TAG - 1);
    if (tag) {
        size_t off = (size_t)(tag - l[0]) + sizeof SIGNER_TAG - 1, k = n[0] - off;
        if (k <= SBK_SIGNER_MAX) {
            memcpy(out->name, l[0] + off, k);
            out->name[k] = '\0';
            if (!sbk_signer_name_ok(out->name))
                out->name[0] = '\0';
        }
    }
    return 0;
}

static void seckey_chk(const SecBytes *s, unsigned char chk[32])
{
    crypto_generichash_state hs;
    crypto_generichash_init(&hs, NULL, 0, 32);
    crypto_generichash_update(&hs, s->sig_alg, 2);
    crypto_generichash_update(&hs, s->ks.keynum, 8);
    crypto_generichash_update(&hs, s->ks.sk, 64);
    crypto_generichash_final(&hs, chk, 32);
}

/* XOR keynum/sk/chk with scrypt(passphrase, salt) under the limits stored. */
static int kdf_xor(SecBytes *s, const char *passphrase, SbkError *err)
{
    unsigned char *stream = sodium_malloc(sizeof s->ks);
    if (!stream)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    int r = crypto_pwhash_scryptsalsa208sha256(stream, sizeof s->ks, passphrase, strlen(passphrase),
                                               s->salt, le64(s->opslimit), (size_t)le64(s->memlimit));
    if (r == 0) {
        unsigned char *p = (unsigned char *)&s->ks;
        for (size_t i = 0; i < sizeof s->ks; i++)
            p[i] ^= stream[i];
    }
    sodium_free(stream);
    if (r != 0)
        return sbk_err(err, SBK_ENOMEM, _("cannot derive the key from the passphrase (out of memory?)"));
    return 0;
}

static char *b64_line(const void *bin, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    if (s)
        sodium_bin2base64(s, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

int sbk_key_generate(const char *name, const char *passphrase, int weak_kdf, char **sk_text,
                     char **pk_text, SbkError *err)
{
    int ret = sodium_ready(err);
    SecBytes *s = NULL;
    PubBytes pb;
    char *b1 = NULL, *b2 = NULL, id[SBK_KEY_ID_HEX];
    *sk_text = *pk_text = NULL;
    if (ret < 0)
        return ret;
    if (!sbk_signer_name_ok(name))
        return sbk_err(err, SBK_EINVAL,
                       _("the key's name must be 1-%d characters, printable, without tabs"), SBK_SIGNER_MAX);
    if (!(s = sodium_malloc(sizeof *s)))
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    memset(s, 0, sizeof *s);
    memcpy(s->sig_alg, "Ed", 2);
    memcpy(s->kdf_alg, "Sc", 2);
    memcpy(s->chk_alg, "B2", 2);
    randombytes_buf(s->ks.keynum, 8);
    memcpy(pb.alg, "Ed", 2);
    memcpy(pb.keynum, s->ks.keynum, 8);
    crypto_sign_keypair(pb.pk, s->ks.sk);
    randombytes_buf(s->salt, sizeof s->salt);
    le64_put(s->opslimit, weak_kdf ? crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_INTERACTIVE
                                   : crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE);
    le64_put(s->memlimit, weak_kdf ? crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE
                                   : crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE);
    seckey_chk(s, s->ks.chk);
    key_id_hex(s->ks.keynum, id);
    if ((ret = kdf_xor(s, passphrase, err)) < 0)
        goto done;
    b1 = b64_line(s, sizeof *s);
    b2 = b64_line(&pb, sizeof pb);
    if (!b1 || !b2 ||
        asprintf(sk_text, COMMENT_PREFIX "minisign encrypted secret key; " SIGNER_TAG "%s\n%s\n", name, b1) < 0 ||
        asprintf(pk_text, COMMENT_PREFIX "minisign public key %s; " SIGNER_TAG "%s\n%s\n", id, name, b2) < 0) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
done:
    if (ret < 0) {
        free(*sk_text);
        free(*pk_text);
        *sk_text = *pk_text = NULL;
    }
    if (b1)
        sodium_memzero(b1, strlen(b1));
    free(b1);
    free(b2);
    sodium_free(s);
    return ret;
}

/* The comment line and the key bytes of a secret key file. */
static int seckey_bytes(const char *text, size_t len, SecBytes *s, const char **c, size_t *cn)
{
    const char *l[2];
    size_t n[2], pos = 0;
    for (int i = 0; i < 2; i++)
        if (next_line(text, len, &pos, &l[i], &n[i]) < 0)
            return -1;
    if (n[0] < sizeof COMMENT_PREFIX - 1 || memcmp(l[0], COMMENT_PREFIX, sizeof COMMENT_PREFIX - 1) != 0)
        return -1;
    if (b64_exact(l[1], n[1], s, sizeof *s) < 0 || memcmp(s->sig_alg, "Ed", 2) != 0 ||
        memcmp(s->chk_alg, "B2", 2) != 0)
        return -1;
    *c = l[0];
    *cn = n[0];
    return 0;
}

int sbk_seckey_encrypted(const char *text, size_t len)
{
    if (sodium_init() < 0)
        return SBK_EIO;
    SecBytes *s = sodium_malloc(sizeof *s);
    const char *c;
    size_t cn;
    int ret = SBK_EINVAL;
    if (s && seckey_bytes(text, len, s, &c, &cn) == 0)
        ret = memcmp(s->kdf_alg, "Sc", 2) == 0;
    if (s)
        sodium_free(s);
    return s ? ret : SBK_ENOMEM;
}

int sbk_seckey_decode(const char *text, size_t len, const char *passphrase,
                      const char *fallback_name, SbkSecretKey **out, SbkError *err)
{
    int ret = sodium_ready(err);
    SecBytes *s = NULL;
    SbkSecretKey *k = NULL;
    const char *c = NULL;
    size_t cn = 0;
    unsigned char chk[32];
    *out = NULL;
    if (ret < 0)
        return ret;
    s = sodium_malloc(sizeof *s);
    k = sodium_malloc(sizeof *k);
    if (!s || !k) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    memset(k, 0, sizeof *k);
    if (seckey_bytes(text, len, s, &c, &cn) < 0) {
        ret = sbk_err(err, SBK_EINVAL, _("not a minisign secret key"));
        goto done;
    }
    if (memcmp(s->kdf_alg, "Sc", 2) == 0) {
        if ((ret = kdf_xor(s, passphrase ? passphrase : "", err)) < 0)
            goto done;
    } else if (memcmp(s->kdf_alg, "\0\0", 2) != 0) {
        ret = sbk_err(err, SBK_EINVAL, _("the secret key uses an unknown key derivation"));
        goto done;
    }
    seckey_chk(s, chk);
    if (sodium_memcmp(chk, s->ks.chk, 32) != 0) {
        ret = sbk_err(err, SBK_EINVAL, _("wrong passphrase for this key"));
        goto done;
    }
    memcpy(k->keynum, s->ks.keynum, 8);
    memcpy(k->sk, s->ks.sk, 64);
    key_id_hex(k->keynum, k->key_id);
    const char *tag = memmem(c, cn, SIGNER_TAG, sizeof SIGNER_TAG - 1);
    if (tag) {
        size_t off = (size_t)(tag - c) + sizeof SIGNER_TAG - 1;
        if (cn - off <= SBK_SIGNER_MAX) {
            memcpy(k->name, c + off, cn - off);
            k->name[cn - off] = '\0';
        }
    }
    if (!sbk_signer_name_ok(k->name))
        snprintf(k->name, sizeof k->name, "%s", fallback_name ? fallback_name : "");
    if (!sbk_signer_name_ok(k->name)) {
        ret = sbk_err(err, SBK_EINVAL, _("the key has no signer's name (make keys with sabak keygen --name)"));
        goto done;
    }
    *out = k;
    k = NULL;
done:
    sodium_memzero(chk, sizeof chk);
    if (s)
        sodium_free(s);
    if (k)
        sodium_free(k);
    return ret;
}

const char *sbk_seckey_name(const SbkSecretKey *k) { return k->name; }
const char *sbk_seckey_id(const SbkSecretKey *k) { return k->key_id; }

void sbk_seckey_free(SbkSecretKey **k)
{
    if (k && *k) {
        sodium_free(*k);
        *k = NULL;
    }
}

void sbk_sign_prehash(const void *data, size_t len, unsigned char out[64])
{
    crypto_generichash(out, 64, data, len, NULL, 0);
}

int sbk_sign_manifest(const SbkSecretKey *k, const char *manifest, size_t len, const char *id,
                      int version, char **out, size_t *out_len, SbkError *err)
{
    int ret = sodium_ready(err);
    unsigned char hash[64], gsig[64];
    unsigned char *sig_tc = NULL;
    char tc[SBK_TRUSTED_COMMENT_MAX + 1];
    char *b1 = NULL, *b2 = NULL;
    SigBytes sb;
    *out = NULL;
    if (ret < 0)
        return ret;
    int tl = snprintf(tc, sizeof tc, "lesson:%s\tversion:%d\tsigner:%s", id, version, k->name);
    if (tl < 0 || (size_t)tl >= sizeof tc)
        return sbk_err(err, SBK_EINVAL, _("the signature's comment is too long"));
    sbk_sign_prehash(manifest, len, hash);
    memcpy(sb.alg, "ED", 2);
    memcpy(sb.keynum, k->keynum, 8);
    crypto_sign_detached(sb.sig, NULL, hash, sizeof hash, k->sk);
    if (!(sig_tc = malloc(64 + (size_t)tl)))
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    memcpy(sig_tc, sb.sig, 64);
    memcpy(sig_tc + 64, tc, (size_t)tl);
    crypto_sign_detached(gsig, NULL, sig_tc, 64 + (size_t)tl, k->sk);
    b1 = b64_line(&sb, sizeof sb);
    b2 = b64_line(gsig, sizeof gsig);
    int n = -1;
    if (b1 && b2)
        n = asprintf(out, COMMENT_PREFIX "signature of lesson %s v%d by %s (sabak)\n%s\n"
                     TRUSTED_PREFIX "%s\n%s\n", id, version, k->name, b1, tc, b2);
    if (n < 0) {
        *out = NULL;
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
    } else {
        *out_len = (size_t)n;
    }
    free(sig_tc);
    free(b1);
    free(b2);
    return ret;
}
