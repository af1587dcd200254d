/* libFuzzer target: the .minisig parser (sbk_minisig_parse), the trusted
 * comment's fields (sbk_minisig_lesson), the public key parser
 * (sbk_pubkey_parse), and the whole verdict (sbk_sign_check, no key
 * trusted) on the same bytes. Every failure is one non-empty line; a
 * verdict is always one of the four states. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(const SbkError *err)
{
    if (err->msg[0] == '\0' || strchr(err->msg, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SbkMinisig s;
    SbkSignedLesson l;
    SbkPubkey k;
    SbkError err = {0};
    const char *text = (const char *)data;
    if (sbk_minisig_parse(text, size, &s, &err) == 0) {
        if (strlen(s.key_id) != 16 || strlen(s.trusted_comment) > SBK_TRUSTED_COMMENT_MAX)
            abort();
        if (sbk_minisig_lesson(&s, &l, &err) == 0) {
            if (!l.id[0] || l.version < 1 || !l.signer[0])
                abort();
        } else {
            one_line(&err);
        }
    } else {
        one_line(&err);
    }
    memset(&err, 0, sizeof err);
    if (sbk_pubkey_parse(text, size, &k, &err) == 0) {
        if (strlen(k.key_id) != 16 || (k.name[0] && !sbk_signer_name_ok(k.name)))
            abort();
    } else {
        one_line(&err);
    }
    SbkManifest m = {.id = (char *)"alpha", .version = 1};
    unsigned char prehash[64] = {0};
    SbkSignInfo si;
    sbk_sign_check(NULL, prehash, &m, text, size, &si);
    if (si.state != SBK_SIG_UNKNOWN && si.state != SBK_SIG_BAD)
        abort();
    if (si.state == SBK_SIG_BAD && (!si.reason[0] || strchr(si.reason, '\n')))
        abort();
    return 0;
}
