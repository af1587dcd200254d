/* sabak/sign.h - signed bundles: Ed25519 signatures (libsodium) in the
 * minisign format, so that `minisign -V` checks a bundle without sabak.
 * See docs/BUNDLE-FORMAT.md section 7 and docs/SIGNING.md.
 *
 * A signed bundle holds `manifest.json.minisig` right after manifest.json:
 * a prehashed ("ED") minisign signature of manifest.json (BLAKE2b-512 of its
 * bytes), whose trusted comment names the lesson id, version and signer:
 *   "lesson:<id>\tversion:<n>\tsigner:<name>"
 * The manifest holds the SHA-256 of every other entry, so signing it signs
 * the bundle. Keys are minisign's: "Ed" public keys, "Ed"+"Sc"+"B2" secret
 * keys encrypted with scrypt (crypto_pwhash_scryptsalsa208sha256). */
#ifndef SABAK_SIGN_H
#define SABAK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "sabak/bundle.h"
#include "sabak/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SBK_TRUSTED_DIR_DEFAULT "/etc/sabak/trusted.d"
#define SBK_SIGNER_MAX 128         /* bytes of a signer's display name */
#define SBK_TRUSTED_COMMENT_MAX 1024
#define SBK_KEY_ID_HEX 17          /* 16 hex digits, as minisign prints them */

/* ---- the .minisig text ---------------------------------------------------- */
typedef struct SbkMinisig {
    int prehashed;                 /* 1: "ED" (BLAKE2b-512 of the file); 0: legacy "Ed" */
    unsigned char keynum[8];
    unsigned char sig[64];
    unsigned char global_sig[64];  /* over sig || trusted comment */
    char key_id[SBK_KEY_ID_HEX];
    char trusted_comment[SBK_TRUSTED_COMMENT_MAX + 1];
} SbkMinisig;

/* Parse a .minisig strictly: four lines ("untrusted comment: ...", base64
 * of "ED"+key id+signature, "trusted comment: ...", base64 of the global
 * signature), each ended by "\n" (a "\r" before it is allowed), nothing after.
 * Returns 0 or SBK_EDAMAGED with a reason ("truncated", ...). */
int sbk_minisig_parse(const char *text, size_t len, SbkMinisig *out, SbkError *err);

/* The trusted comment's fields. Returns 0, or SBK_EDAMAGED when the comment
 * is not sabak's "lesson:...\tversion:...\tsigner:...". */
typedef struct SbkSignedLesson {
    char id[65];
    int version;
    char signer[SBK_SIGNER_MAX + 1];
} SbkSignedLesson;
int sbk_minisig_lesson(const SbkMinisig *s, SbkSignedLesson *out, SbkError *err);

/* 1 when `name` can be a signer's display name: 1..SBK_SIGNER_MAX bytes of
 * printable UTF-8, no tab or control character, no leading/trailing space. */
int sbk_signer_name_ok(const char *name);

/* ---- keys ------------------------------------------------------------------ */
typedef struct SbkPubkey {
    unsigned char keynum[8];
    unsigned char pk[32];
    char key_id[SBK_KEY_ID_HEX];
    char name[SBK_SIGNER_MAX + 1]; /* from "sabak signer: NAME" in the comment, else "" */
} SbkPubkey;

/* Parse a minisign public key file (comment line + base64 line). */
int sbk_pubkey_parse(const char *text, size_t len, SbkPubkey *out, SbkError *err);

typedef struct SbkSecretKey SbkSecretKey; /* opaque, kept in guarded memory */

/* Make a key pair named `name`, its secret key encrypted with `passphrase`
 * (scrypt with minisign's limits, or libsodium's "interactive" ones when
 * `weak_kdf` is set: for tests only). *sk_text and *pk_text are the file
 * contents, malloc'ed. */
int sbk_key_generate(const char *name, const char *passphrase, int weak_kdf, char **sk_text,
                     char **pk_text, SbkError *err);
/* Decrypt a minisign secret key file's text. A wrong passphrase gives
 * SBK_EINVAL "wrong passphrase for this key". *out freed with
 * sbk_seckey_free. The signer's name is read from "sabak signer: NAME" in
 * the comment; `fallback_name` is used when there is none. */
int sbk_seckey_decode(const char *text, size_t len, const char *passphrase,
                      const char *fallback_name, SbkSecretKey **out, SbkError *err);
/* 1 when the text is an encrypted key (needs a passphrase), 0 when not, <0 when not a key. */
int sbk_seckey_encrypted(const char *text, size_t len);
const char *sbk_seckey_name(const SbkSecretKey *k);
const char *sbk_seckey_id(const SbkSecretKey *k);
void sbk_seckey_free(SbkSecretKey **k);

/* Sign manifest.json (its exact bytes) for lesson id/version: *out is the
 * .minisig text, malloc'ed. Deterministic (Ed25519, no timestamp), so a
 * signed bundle is as reproducible as an unsigned one. */
int sbk_sign_manifest(const SbkSecretKey *k, const char *manifest, size_t len, const char *id,
                      int version, char **out, size_t *out_len, SbkError *err);

/* ---- trust ------------------------------------------------------------------ */
typedef struct SbkTrust SbkTrust;

/* Load every "*.pub" of `dir` (not hidden). A file that is not a minisign
 * public key is skipped and reported through `problem` (may be NULL).
 * A missing folder gives SBK_ENOENT (callers with a default folder treat it
 * as "no key trusted"). */
int sbk_trust_load(const char *dir, SbkTrust **out, SbkProblemFn problem, void *opaque,
                   SbkError *err);
size_t sbk_trust_count(const SbkTrust *t);
/* Hex digest of the keys and names trusted: equal digests, equal trust. */
const char *sbk_trust_digest(const SbkTrust *t);
void sbk_trust_free(SbkTrust **t);

enum {
    SBK_SIG_UNSIGNED = 0,   /* no manifest.json.minisig */
    SBK_SIG_TRUSTED = 1,    /* good signature by a key in the trusted folder */
    SBK_SIG_UNKNOWN = 2,    /* signed by a key this kiosk does not trust */
    SBK_SIG_BAD = 3,        /* damaged, altered, or moved from another lesson */
};

typedef struct SbkSignInfo {
    int state;                        /* SBK_SIG_* */
    char key_id[SBK_KEY_ID_HEX];      /* "" when unsigned or unreadable */
    char publisher[SBK_SIGNER_MAX + 1]; /* trusted only: the key's name (the .pub's
                                           "sabak signer", else the signed one) */
    char reason[256];                 /* bad: why, one line */
} SbkSignInfo;

/* "trusted", "unknown-key", "unsigned", "bad". */
const char *sbk_sign_state_name(int state);

/* Classify a manifest (its BLAKE2b-512, `prehash`, and its parsed form `m`)
 * with the .minisig text (NULL when unsigned) against `trust` (NULL: no key
 * trusted). The checks, in order, each with its own reason: the .minisig
 * parses; its key is trusted (else UNKNOWN); the trusted comment's signature
 * holds; the comment names this lesson and version; the signature of
 * manifest.json holds. Never fails: the verdict is in *out. */
void sbk_sign_check(const SbkTrust *trust, const unsigned char prehash[64], const SbkManifest *m,
                    const char *minisig, size_t minisig_len, SbkSignInfo *out);
/* The same for an opened bundle (sbk_bundle_open keeps both). */
void sbk_sign_check_bundle(const SbkTrust *trust, const SbkBundle *b, SbkSignInfo *out);
/* BLAKE2b-512 of bytes: the prehash minisign signs. */
void sbk_sign_prehash(const void *data, size_t len, unsigned char out[64]);

/* sbk_bundle_verify_ex, and the signature: a damaged .minisig or a bad
 * signature is one more problem (SBK_EDAMAGED). *sig (may be NULL) gets the
 * verdict when the manifest could be read; else state SBK_SIG_BAD. */
int sbk_bundle_verify_signed(const char *path, const SbkTrust *trust, SbkSignInfo *sig,
                             SbkProblemFn problem, void *opaque, const volatile int *cancel);

/* Write a signed copy of bundle `in_path` to `out_path` (never the same
 * file): manifest.json, then its signature, then every other entry with
 * its bytes and compression unchanged. An existing signature is replaced. */
int sbk_bundle_sign_copy(const char *in_path, const char *out_path, const SbkSecretKey *k,
                         const volatile int *cancel, SbkError *err);

#ifdef __cplusplus
}
#endif
#endif
