/* Signatures (sabak/sign.h): key generation and decryption, the .minisig
 * text, and every verdict of sbk_sign_check, as a table. Keys use scrypt's
 * "interactive" limits (weak_kdf) so the test stays fast; the minisign
 * program itself is checked against sabak in tests/integration/test_sign.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"
#include "sabak/sign.h"
#include "testutil.h"

static const char MANIFEST[] = "{\n \"format\": \"sabak-bundle\",\n \"id\": \"alpha\"\n}\n";

typedef struct Fx {
    char dir[512];
    SbkSecretKey *a, *b;
    char *pub_a;
    SbkTrust *trust; /* key a only */
    char *sig;       /* MANIFEST signed by a for alpha v1 */
    size_t sig_len;
} Fx;
static Fx g;

static int setup(void **state)
{
    (void)state;
    char *sk = NULL, *sk2 = NULL, *pk2 = NULL, path[600];
    SbkError err = {0};
    if (test_tmpdir(g.dir, sizeof g.dir, "test_sign") < 0)
        return -1;
    if (sbk_key_generate("DPI Naryn trainers", "pw", 1, &sk, &g.pub_a, &err) < 0 ||
        sbk_seckey_decode(sk, strlen(sk), "pw", NULL, &g.a, &err) < 0 ||
        sbk_key_generate("Stranger", "pw2", 1, &sk2, &pk2, &err) < 0 ||
        sbk_seckey_decode(sk2, strlen(sk2), "pw2", NULL, &g.b, &err) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/a.pub", g.dir);
    if (sbk_atomic_write_file(path, g.pub_a, strlen(g.pub_a), &err) < 0 ||
        sbk_trust_load(g.dir, &g.trust, NULL, NULL, &err) < 0)
        return -1;
    if (sbk_sign_manifest(g.a, MANIFEST, sizeof MANIFEST - 1, "alpha", 1, &g.sig, &g.sig_len, &err) < 0)
        return -1;
    free(sk);
    free(sk2);
    free(pk2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sbk_seckey_free(&g.a);
    sbk_seckey_free(&g.b);
    sbk_trust_free(&g.trust);
    free(g.pub_a);
    free(g.sig);
    test_tmpdir_remove(g.dir);
    return 0;
}

static void test_keys(void **state)
{
    (void)state;
    char *sk = NULL, *pk = NULL;
    SbkSecretKey *k = NULL;
    SbkPubkey p;
    SbkError err = {0};
    assert_int_equal(sbk_key_generate("Кара-Суу окутуучулары", "secret", 1, &sk, &pk, &err), 0);
    assert_int_equal(sbk_seckey_encrypted(sk, strlen(sk)), 1);
    assert_int_equal(sbk_seckey_decode(sk, strlen(sk), "wrong", NULL, &k, &err), SBK_EINVAL);
    assert_string_equal(err.msg, "wrong passphrase for this key");
    assert_null(k);
    assert_int_equal(sbk_seckey_decode(sk, strlen(sk), "secret", NULL, &k, &err), 0);
    assert_string_equal(sbk_seckey_name(k), "Кара-Суу окутуучулары");
    assert_int_equal(sbk_pubkey_parse(pk, strlen(pk), &p, &err), 0);
    assert_string_equal(p.key_id, sbk_seckey_id(k));
    assert_string_equal(p.name, "Кара-Суу окутуучулары");
    assert_int_equal(strncmp(pk, "untrusted comment: minisign public key ", 39), 0);
    free(sk);
    free(pk);
    /* names: printable, no tab, no outer spaces, at most 128 bytes */
    assert_int_equal(sbk_key_generate("a\tb", "x", 1, &sk, &pk, &err) < 0, 1);
    assert_null(sk);
    assert_int_equal(sbk_signer_name_ok(" x"), 0);
    assert_int_equal(sbk_signer_name_ok("x\x1b[2J"), 0);
    assert_int_equal(sbk_signer_name_ok("DPI Naryn"), 1);
    assert_int_equal(sbk_pubkey_parse("untrusted comment: x\nnot base64\n", 32, &p, &err), SBK_EINVAL);
    sbk_seckey_free(&k);
}

static void test_parse(void **state)
{
    (void)state;
    SbkMinisig s;
    SbkSignedLesson l;
    SbkError err = {0};
    assert_int_equal(sbk_minisig_parse(g.sig, g.sig_len, &s, &err), 0);
    assert_int_equal(s.prehashed, 1);
    assert_string_equal(s.key_id, sbk_seckey_id(g.a));
    assert_string_equal(s.trusted_comment, "lesson:alpha\tversion:1\tsigner:DPI Naryn trainers");
    assert_int_equal(sbk_minisig_lesson(&s, &l, &err), 0);
    assert_string_equal(l.id, "alpha");
    assert_int_equal(l.version, 1);
    assert_string_equal(l.signer, "DPI Naryn trainers");
    /* deterministic: the same bytes again */
    char *again = NULL;
    size_t n = 0;
    assert_int_equal(sbk_sign_manifest(g.a, MANIFEST, sizeof MANIFEST - 1, "alpha", 1, &again, &n, &err), 0);
    assert_int_equal(n, g.sig_len);
    assert_memory_equal(again, g.sig, n);
    free(again);
    /* CRLF line ends are accepted */
    char crlf[4096];
    size_t o = 0;
    for (size_t i = 0; i < g.sig_len; i++) {
        if (g.sig[i] == '\n')
            crlf[o++] = '\r';
        crlf[o++] = g.sig[i];
    }
    assert_int_equal(sbk_minisig_parse(crlf, o, &s, &err), 0);
}

/* One verdict row: a mutation of the good signature, manifest or lesson. */
typedef struct Row {
    const char *what;
    int state;
    const char *reason; /* a part of it, for SBK_SIG_BAD */
} Row;

static void check(const char *sig, size_t len, const char *manifest, const char *id, int version,
                  const SbkTrust *trust, const Row *row)
{
    SbkManifest m = {.id = (char *)id, .version = version};
    unsigned char prehash[64];
    SbkSignInfo si;
    sbk_sign_prehash(manifest, strlen(manifest), prehash);
    sbk_sign_check(trust, prehash, &m, sig, len, &si);
    if (si.state != row->state || (row->reason && !strstr(si.reason, row->reason)))
        fail_msg("%s: state %d (%s), want %d (%s)", row->what, si.state, si.reason, row->state,
                 row->reason ? row->reason : "");
}

static void test_verdicts(void **state)
{
    (void)state;
    char buf[4096];
    const Row good = {"good", SBK_SIG_TRUSTED, NULL};
    check(g.sig, g.sig_len, MANIFEST, "alpha", 1, g.trust, &good);
    SbkManifest m = {.id = (char *)"alpha", .version = 1};
    unsigned char ph[64];
    SbkSignInfo si;
    sbk_sign_prehash(MANIFEST, sizeof MANIFEST - 1, ph);
    sbk_sign_check(g.trust, ph, &m, g.sig, g.sig_len, &si);
    assert_string_equal(si.publisher, "DPI Naryn trainers");
    assert_string_equal(si.key_id, sbk_seckey_id(g.a));

    const Row unsigned_row = {"unsigned", SBK_SIG_UNSIGNED, NULL};
    check(NULL, 0, MANIFEST, "alpha", 1, g.trust, &unsigned_row);
    const Row unknown = {"no key trusted", SBK_SIG_UNKNOWN, NULL};
    check(g.sig, g.sig_len, MANIFEST, "alpha", 1, NULL, &unknown);

    const Row edited = {"manifest changed", SBK_SIG_BAD, "manifest.json was changed after it was signed"};
    check(g.sig, g.sig_len, "{\"id\": \"alpha\", \"evil\": 1}\n", "alpha", 1, g.trust, &edited);
    const Row moved = {"moved", SBK_SIG_BAD, "the signature is for lesson alpha v1, not beta v1"};
    check(g.sig, g.sig_len, MANIFEST, "beta", 1, g.trust, &moved);
    const Row version = {"other version", SBK_SIG_BAD, "not alpha v2"};
    check(g.sig, g.sig_len, MANIFEST, "alpha", 2, g.trust, &version);

    /* the trusted comment edited: its signature fails */
    char *p = strstr(memcpy(buf, g.sig, g.sig_len + 1), "version:1");
    p[8] = '2';
    const Row comment = {"comment altered", SBK_SIG_BAD, "the trusted comment was altered"};
    check(buf, g.sig_len, MANIFEST, "alpha", 2, g.trust, &comment);

    /* truncated: the first two lines only */
    const char *nl = strchr(strchr(g.sig, '\n') + 1, '\n');
    const Row trunc = {"truncated", SBK_SIG_BAD, "signature is truncated (2 of 4 lines)"};
    check(g.sig, (size_t)(nl + 1 - g.sig), MANIFEST, "alpha", 1, g.trust, &trunc);
    const Row empty = {"empty", SBK_SIG_BAD, "signature is truncated (0 of 4 lines)"};
    check("", 0, MANIFEST, "alpha", 1, g.trust, &empty);
    /* trailing bytes */
    memcpy(buf, g.sig, g.sig_len);
    memcpy(buf + g.sig_len, "x\n", 3);
    const Row trail = {"trailing", SBK_SIG_BAD, "unexpected bytes after its end"};
    check(buf, g.sig_len + 2, MANIFEST, "alpha", 1, g.trust, &trail);
    /* signed by b, only a trusted */
    char *sb = NULL;
    size_t nb = 0;
    SbkError err = {0};
    assert_int_equal(sbk_sign_manifest(g.b, MANIFEST, sizeof MANIFEST - 1, "alpha", 1, &sb, &nb, &err), 0);
    const Row other = {"untrusted key", SBK_SIG_UNKNOWN, NULL};
    check(sb, nb, MANIFEST, "alpha", 1, g.trust, &other);
    free(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_verdicts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
