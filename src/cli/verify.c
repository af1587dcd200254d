/* sabak verify: the full damage check of one or more bundles. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sabak/bundle.h"
#include "sabak/sign.h"
#include "sabak/i18n.h"

/* TRANSLATORS: %s is the default folder of trusted keys, /etc/sabak/trusted.d */
static const char verify_usage[] = N_(
    "Usage: sabak verify [--trusted DIR] [--require-signature] [--quiet] BUNDLE...\n"
    "\n"
    "Check lesson bundles for damage before copying, importing or serving them.\n"
    "Every entry is read with libarchive's zip reader and checked:\n"
    "  - the archive is complete: nothing cut off, no data after its end;\n"
    "  - no entry name is absolute, contains '..' or a backslash, or is a link,\n"
    "    a directory or listed twice;\n"
    "  - manifest.json comes first, parses, and lists every other entry;\n"
    "  - every listed file exists with the size and SHA-256 the manifest gives;\n"
    "  - every entry's CRC-32 matches (a libarchive warning counts as damage);\n"
    "  - a signature (manifest.json.minisig) is whole, names this lesson and\n"
    "    version, and matches manifest.json, when its key is trusted.\n"
    "\n"
    "For each good bundle 'OK BUNDLE (who signed it)' is printed on standard\n"
    "output: 'signed by NAME, trusted key ID', 'signed by an unknown key ID' or\n"
    "'unsigned' (just 'OK BUNDLE' for an unsigned one when no key is trusted);\n"
    "for a bad one, one line 'BUNDLE: problem' per problem on standard error.\n"
    "\n"
    "Options:\n"
    "  -t, --trusted DIR        the public keys (*.pub) to trust (default when\n"
    "                           installed: %s)\n"
    "  -r, --require-signature  a bundle not signed by a trusted key fails too\n"
    "  -q, --quiet  do not print the OK lines, only problems\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 every bundle is good (and, with --require-signature, signed by\n"
    "a trusted key), 1 at least one is not, 2 wrong usage.\n"
    "\n"
    "Example:\n"
    "  sabak verify /media/usb/*.zip\n");

typedef struct Ctx {
    const char *path;
} Ctx;

static void on_key_problem(void *opaque, const char *line)
{
    (void)opaque;
    sbk_log(SBK_LOG_WARN, "%s", line);
}

static void on_problem(void *opaque, const char *line)
{
    const Ctx *c = opaque;
    fprintf(stderr, "%s: %s\n", c->path, line);
}

int cli_trust_load(const char *dir, SbkTrust **out)
{
    SbkError err = {0};
    *out = NULL;
    const char *use = dir ? dir : cli_installed() ? SBK_TRUSTED_DIR_DEFAULT : NULL;
    if (!use)
        return 0;
    int r = sbk_trust_load(use, out, on_key_problem, NULL, &err);
    if (r == SBK_ENOENT && !dir)
        return 0; /* installed, but no key trusted yet */
    if (r < 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

void cli_signer_text(const SbkSignInfo *si, char *buf, size_t n)
{
    switch (si->state) {
    case SBK_SIG_TRUSTED:
        snprintf(buf, n, _("signed by %s, trusted key %s"), si->publisher, si->key_id);
        break;
    case SBK_SIG_UNKNOWN:
        snprintf(buf, n, _("signed by an unknown key %s"), si->key_id);
        break;
    case SBK_SIG_BAD:
        snprintf(buf, n, _("bad signature: %s"), si->reason);
        break;
    default:
        snprintf(buf, n, _("unsigned"));
    }
}

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"trusted", required_argument, NULL, 't'},
        {"require-signature", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int quiet = 0, require = 0, c;
    const char *trusted = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qt:rh", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            trusted = optarg;
            break;
        case 'r':
            require = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            printf(_(verify_usage), SBK_TRUSTED_DIR_DEFAULT);
            return CLI_OK;
        default:
            fputs(_("Try 'sabak verify --help'.\n"), stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error(_("verify: which bundles? (sabak verify BUNDLE...)"));
        return CLI_USAGE;
    }
    cli_init_logging(quiet, 0);
    SbkTrust *trust = NULL;
    if (cli_trust_load(trusted, &trust) < 0)
        return CLI_FAIL;
    if (require && sbk_trust_count(trust) == 0)
        sbk_log(SBK_LOG_WARN, "no trusted keys: with --require-signature every bundle fails");
    int bad = 0;
    for (int i = optind; i < argc; i++) {
        Ctx ctx = {argv[i]};
        SbkSignInfo si;
        char who[SBK_SIGNER_MAX + 64];
        if (sbk_bundle_verify_signed(argv[i], trust, &si, on_problem, &ctx, NULL) != 0) {
            bad = 1;
            fflush(stdout);
            continue;
        }
        cli_signer_text(&si, who, sizeof who);
        if (require && si.state != SBK_SIG_TRUSTED) {
            fprintf(stderr, _("%s: not signed by a trusted key (%s)\n"), argv[i], who);
            bad = 1;
        } else if (!quiet && si.state == SBK_SIG_UNSIGNED && !trust && !require) {
            printf("OK %s\n", argv[i]); /* as before signatures existed */
        } else if (!quiet) {
            printf("OK %s (%s)\n", argv[i], who);
        }
        fflush(stdout);
    }
    sbk_trust_free(&trust);
    return bad ? CLI_FAIL : CLI_OK;
}
