/* sabak import: lessons from USB drives or folders into a kiosk's library,
 * then the drive sync step (src/carry/import.c does the work). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carry_ui.h"
#include "sabak/sign.h"
#include "cli.h"
#include "sabak/i18n.h"

static const char import_usage[] = N_(
    "Usage: sabak import SRC... --library DIR [OPTIONS]\n"
    "\n"
    "Bring lessons into a kiosk's library from USB drives, folders or bundle\n"
    "files. For a drive (a folder with a sabak/ folder) the bundles in sabak/\n"
    "come first, then any other .zip at its top.\n"
    "\n"
    "Each bundle is copied into the library under a hidden temporary name, read\n"
    "back and checked in full (structure, manifest, every SHA-256), and only\n"
    "then given its real name, so the kiosk never sees half a lesson. A newer\n"
    "version replaces the older one once it is fully in place. The same lesson\n"
    "and version with different content is refused and both SHA-256 are shown:\n"
    "a changed lesson must get a new version number. What an interrupted import\n"
    "left behind is removed when the next one starts.\n"
    "\n"
    "Importing from a drive also writes back to it (the sync step):\n"
    "  MOUNT/sabak/offices/<kiosk-id>.json       this office's name and lessons,\n"
    "                                            so the next export at the base\n"
    "                                            (--for-offices) brings what it lacks\n"
    "  MOUNT/sabak/reports/<kiosk-id>-<date>.csv how often each lesson was watched,\n"
    "                                            per month (no personal data)\n"
    "\n"
    "Options:\n"
    "  -l, --library DIR  the kiosk's folder of lesson bundles (required)\n"
    "      --state DIR    the kiosk's state folder: its id and play counts\n"
    "                     (default /var/lib/sabak when installed, else\n"
    "                     LIBRARY/.sabak-state)\n"
    "      --name NAME    this office's name, kept in the state folder\n"
    "                     (default: the stored name, else the host name)\n"
    "      --no-sync      do not write the office record and report to drives\n"
    "  -t, --trusted DIR  the trusted public keys (*.pub; default when installed:\n"
    "                     /etc/sabak/trusted.d); a bad signature is always refused\n"
    "  -r, --require-signature off|warn|on  the kiosk's policy: with on, lessons no\n"
    "                     trusted key signed are refused too\n"
    "  -q, --quiet        print only problems\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 success, 1 failure or a bundle refused (the message says\n"
    "why), 2 wrong usage, 130 interrupted.\n"
    "\n"
    "Examples:\n"
    "  sabak import /media/usb --library /srv/sabak --name \"Kara-Suu aiyl okmotu\"\n"
    "  sabak import ~/Downloads/budget-01-v2.zip --library /srv/sabak\n");

int cmd_import(int argc, char **argv)
{
    enum { OPT_STATE = 256, OPT_NAME, OPT_NO_SYNC };
    static const struct option opts[] = {
        {"library", required_argument, NULL, 'l'},
        {"state", required_argument, NULL, OPT_STATE},
        {"name", required_argument, NULL, OPT_NAME},
        {"no-sync", no_argument, NULL, OPT_NO_SYNC},
        {"trusted", required_argument, NULL, 't'},
        {"require-signature", required_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    SbkImportOptions o = {0};
    const char *state = NULL, *trusted = NULL;
    SbkTrust *trust = NULL;
    int quiet = 0, no_sync = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:t:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': o.library = optarg; break;
        case OPT_STATE: state = optarg; break;
        case OPT_NAME: o.kiosk_name = optarg; break;
        case OPT_NO_SYNC: no_sync = 1; break;
        case 't': trusted = optarg; break;
        case 'r':
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "warn") != 0 && strcmp(optarg, "off") != 0) {
                cli_error(_("import: --require-signature wants off, warn or on, not \"%s\""), optarg);
                return CLI_USAGE;
            }
            o.require_trusted = strcmp(optarg, "on") == 0;
            break;
        case 'q': quiet = 1; break;
        case 'h':
            fputs(_(import_usage), stdout);
            return CLI_OK;
        default:
            fputs(_("Try 'sabak import --help'.\n"), stderr);
            return CLI_USAGE;
        }
    }
    if (!o.library || optind >= argc) {
        cli_error(_("import: %s (sabak import SRC... --library DIR)"),
                  o.library ? _("from where? give a drive, folder or bundle") : _("--library is needed"));
        return CLI_USAGE;
    }
    o.sources = (const char *const *)(argv + optind);
    o.n_sources = (size_t)(argc - optind);
    char *def = NULL;
    if (!no_sync)
        o.state_dir = state ? state : (def = sbk_state_dir_default(o.library, cli_installed()));
    cli_init_logging(quiet, 0);
    if (cli_trust_load(trusted, &trust) < 0) {
        free(def);
        return CLI_FAIL;
    }
    o.trust = trust;
    CarryUi ui;
    carry_ui_init(&ui, quiet);
    SbkError err = {0};
    int r = sbk_carry_import(&o, &ui.cb, &err);
    carry_ui_done(&ui);
    free(def);
    sbk_trust_free(&trust);
    if (r == SBK_ECANCELED || carry_ui_canceled()) {
        cli_error(_("import: interrupted; nothing half-copied is visible in the library"));
        return CLI_INTERRUPTED;
    }
    if (r < 0) {
        cli_error(_("import: %s"), err.msg);
        return CLI_FAIL;
    }
    return CLI_OK;
}
