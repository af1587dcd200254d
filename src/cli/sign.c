/* sabak keygen and sabak sign: a trainer's signing key, and a signed copy
 * of a bundle. The formats and the cryptography are in the library
 * (sabak/sign.h); this file parses options, asks for the passphrase and
 * writes files. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "passphrase.h"
#include "sabak/bundle.h"
#include "sabak/sign.h"
#include "sabak/i18n.h"

static const char keygen_usage[] = N_(
    "Usage: sabak keygen -o KEY --name NAME [--force]\n"
    "\n"
    "Make a signing key for a trainer or a training organisation: KEY (the\n"
    "secret key, encrypted with a passphrase; keep it safe) and the public key\n"
    "beside it (KEY with .pub in place of .key), which kiosks put in their\n"
    "trusted folder. Both are minisign keys: `minisign -Vm FILE -p KEY.pub`\n"
    "checks what sabak signs. The passphrase is asked twice at the terminal,\n"
    "or read from the file named by SABAK_PASSPHRASE_FILE.\n"
    "\n"
    "Options:\n"
    "  -o, --output KEY   where to write the secret key (e.g. trainer.key)\n"
    "  -n, --name NAME    the name kiosks show on the lessons signed with it\n"
    "  -f, --force        replace existing key files\n"
    "  -h, --help         show this help\n"
    "\n"
    "Example:\n"
    "  sabak keygen -o trainer.key --name \"DPI Naryn trainers\"\n");

static const char sign_usage[] = N_(
    "Usage: sabak sign BUNDLE --key KEY [-o OUT.zip]\n"
    "\n"
    "Write a signed copy of BUNDLE: the same entries with the same bytes, and\n"
    "manifest.json.minisig right after manifest.json. The bundle itself is not\n"
    "changed. The signature names the lesson and its version, so it cannot be\n"
    "moved to another lesson.\n"
    "\n"
    "Options:\n"
    "  -k, --key KEY      the secret key (sabak keygen); its passphrase is asked,\n"
    "                     or read from the file named by SABAK_PASSPHRASE_FILE\n"
    "  -o, --output OUT   the signed bundle (default: BUNDLE with -signed before .zip)\n"
    "  -h, --help         show this help\n"
    "\n"
    "Example:\n"
    "  sabak sign budget-01-v2.zip --key trainer.key -o signed/budget-01-v2.zip\n");

/* KEY.key -> KEY.pub; anything else -> KEY.pub appended. malloc'ed. */
static char *pub_path_for(const char *key)
{
    size_t n = strlen(key);
    char *p = malloc(n + 5);
    if (!p)
        return NULL;
    memcpy(p, key, n + 1);
    if (n > 4 && strcmp(key + n - 4, ".key") == 0)
        n -= 4;
    memcpy(p + n, ".pub", 5);
    return p;
}

static int write_private(const char *path, const char *text, SbkError *err)
{
    SbkAtomicFile *af = NULL;
    int ret = sbk_atomic_open(&af, path, err);
    if (ret < 0)
        return ret;
    if (fchmod(sbk_atomic_fd(af), 0600) < 0 || sbk_write_all(sbk_atomic_fd(af), text, strlen(text)) < 0) {
        ret = sbk_err_errno(err, errno, "cannot write %s", path);
        sbk_atomic_abort(&af);
        return ret;
    }
    return sbk_atomic_commit(&af, err);
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"name", required_argument, NULL, 'n'},
        {"force", no_argument, NULL, 'f'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *name = NULL;
    int force = 0, c, ret = CLI_FAIL;
    char *pub = NULL, *sk = NULL, *pk = NULL, pass[CLI_PASSPHRASE_MAX] = "";
    SbkError err = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:n:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'n': name = optarg; break;
        case 'f': force = 1; break;
        case 'h': fputs(_(keygen_usage), stdout); return CLI_OK;
        default: fputs(_("Try 'sabak keygen --help'.\n"), stderr); return CLI_USAGE;
        }
    }
    if (!out || !name || optind < argc) {
        cli_error(_("keygen: give the key file and its name (sabak keygen -o trainer.key --name \"...\")"));
        return CLI_USAGE;
    }
    if (!sbk_signer_name_ok(name)) {
        cli_error(_("keygen: the name must be 1-%d characters, printable, without tabs or outer spaces"),
                  SBK_SIGNER_MAX);
        return CLI_USAGE;
    }
    cli_init_logging(0, 0);
    if (!(pub = pub_path_for(out))) {
        cli_error(_("out of memory"));
        goto done;
    }
    if (!force && (access(out, F_OK) == 0 || access(pub, F_OK) == 0)) {
        cli_error(_("%s already exists: keep it, or give --force to replace it (lessons signed with the old "
                  "key then need its .pub to stay trusted)"), access(out, F_OK) == 0 ? out : pub);
        goto done;
    }
    if (cli_passphrase(_("Passphrase for the new key: "), 1, pass, sizeof pass) < 0)
        goto done;
    if (!pass[0]) {
        cli_error(_("keygen: an empty passphrase would leave the key unprotected"));
        goto done;
    }
    const char *weak = getenv("SABAK_TEST_WEAK_KDF");
    if (sbk_key_generate(name, pass, weak && strcmp(weak, "1") == 0, &sk, &pk, &err) < 0 ||
        write_private(out, sk, &err) < 0 || sbk_atomic_write_file(pub, pk, strlen(pk), &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    SbkPubkey k;
    sbk_pubkey_parse(pk, strlen(pk), &k, NULL);
    printf(_("secret key: %s (keep it safe; it signs as \"%s\")\n"), out, name);
    printf(_("public key: %s (key id %s; give it to the kiosks that should trust you)\n"), pub, k.key_id);
    ret = CLI_OK;
done:
    memset(pass, 0, sizeof pass);
    if (sk)
        memset(sk, 0, strlen(sk));
    free(sk);
    free(pk);
    free(pub);
    return ret;
}

/* BUNDLE.zip -> BUNDLE-signed.zip. malloc'ed. */
static char *signed_name(const char *in)
{
    size_t n = strlen(in);
    char *p = malloc(n + 16);
    if (!p)
        return NULL;
    if (n > 4 && strcmp(in + n - 4, ".zip") == 0)
        snprintf(p, n + 16, "%.*s-signed.zip", (int)(n - 4), in);
    else
        snprintf(p, n + 16, "%s-signed.zip", in);
    return p;
}

int cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *key = NULL, *out = NULL;
    char *def = NULL;
    int c, ret = CLI_FAIL;
    SbkSecretKey *k = NULL;
    SbkError err = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'o': out = optarg; break;
        case 'h': fputs(_(sign_usage), stdout); return CLI_OK;
        default: fputs(_("Try 'sabak sign --help'.\n"), stderr); return CLI_USAGE;
        }
    }
    if (!key || optind != argc - 1) {
        cli_error(_("sign: give one bundle and the key (sabak sign BUNDLE --key KEY)"));
        return CLI_USAGE;
    }
    cli_init_logging(0, 0);
    const char *in = argv[optind];
    if (!out && !(out = def = signed_name(in))) {
        cli_error(_("out of memory"));
        return CLI_FAIL;
    }
    if (cli_load_key(key, &k) < 0)
        goto done;
    if (sbk_bundle_sign_copy(in, out, k, NULL, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    printf(_("signed %s as \"%s\" (key %s): %s\n"), in, sbk_seckey_name(k), sbk_seckey_id(k), out);
    ret = CLI_OK;
done:
    sbk_seckey_free(&k);
    free(def);
    return ret;
}
