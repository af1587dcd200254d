/* sabak export: lessons onto a USB drive (src/carry/export.c does the work). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carry_ui.h"
#include "cli.h"
#include "sabak/i18n.h"

static const char export_usage[] = N_(
    /* xgettext:no-c-format */
    "Usage: sabak export --library DIR --to MOUNT [OPTIONS]\n"
    "\n"
    "Copy lessons from a library onto a USB drive, for offices with or without a\n"
    "kiosk. The newest version of each lesson goes to MOUNT/sabak/<id>-v<N>.zip.\n"
    "\n"
    "Every bundle is first written as MOUNT/sabak/<name>.part, flushed to the\n"
    "drive, dropped from memory and read back from the drive with every SHA-256\n"
    "checked; only then does it get its real name. A copy cut short (drive pulled,\n"
    "power cut, Ctrl-C) continues from its .part at the next run. Bundles already\n"
    "on the drive are not copied again. Older versions on the drive are removed\n"
    "once the new one is in place.\n"
    "\n"
    "Before copying, the free space is checked (a margin is kept free) and so is\n"
    "the filesystem: FAT32 holds no file of 4 GiB or more, so such a bundle is\n"
    "refused with advice (fewer tiers, or an exFAT drive).\n"
    "\n"
    "Unless --no-browsable is given, the drive also gets MOUNT/sabak/index.html:\n"
    "open it on any computer (no internet, no install) to find a lesson by its\n"
    "title in Kyrgyz, Russian or English and watch it with subtitles. Each\n"
    "lesson is unpacked beside it in MOUNT/sabak/lessons/<id>/ with names that\n"
    "are safe on Windows.\n"
    "\n"
    "Options:\n"
    "  -l, --library DIR    the folder of lesson bundles to copy from (required)\n"
    "  -t, --to MOUNT       where the drive is mounted, e.g. /media/usb (required)\n"
    "      --lesson ID      copy only this lesson (repeat for more)\n"
    "      --tiers LIST     copy reduced bundles holding only these renditions,\n"
    "                       e.g. low,audio; they say so in their manifest\n"
    "                       (\"reduced_from\") and verify like any bundle\n"
    "      --for-offices    copy what at least one office that wrote to this drive\n"
    "                       lacks or has in an older version, newest lessons first,\n"
    "                       as many as fit; what is left out is listed with why\n"
    "      --no-browsable   do not write index.html and the unpacked lessons\n"
    "      --margin MB      megabytes to leave free (default: 2% of the drive,\n"
    "                       at most 256, plus 8)\n"
    "  -q, --quiet          print only problems\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 everything wanted is on the drive and verified, 1 failure (the\n"
    "message says what to do), 2 wrong usage, 130 interrupted (run again to\n"
    "continue).\n"
    "\n"
    "Examples:\n"
    "  sabak export --library /srv/sabak --to /media/usb\n"
    "  sabak export --library /srv/sabak --to /media/usb --for-offices\n"
    "  sabak export --library /srv/sabak --to /media/usb --lesson budget-01 --tiers low,audio\n");

int cmd_export(int argc, char **argv)
{
    enum { OPT_LESSON = 256, OPT_TIERS, OPT_NO_BROWSE, OPT_OFFICES, OPT_MARGIN };
    static const struct option opts[] = {
        {"library", required_argument, NULL, 'l'},
        {"to", required_argument, NULL, 't'},
        {"lesson", required_argument, NULL, OPT_LESSON},
        {"tiers", required_argument, NULL, OPT_TIERS},
        {"no-browsable", no_argument, NULL, OPT_NO_BROWSE},
        {"for-offices", no_argument, NULL, OPT_OFFICES},
        {"margin", required_argument, NULL, OPT_MARGIN},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    SbkExportOptions o = {.browsable = 1, .margin = -1};
    const char **lessons = calloc((size_t)argc + 1, sizeof *lessons);
    int quiet = 0, c, ret = CLI_USAGE;
    if (!lessons)
        return CLI_FAIL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:t:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': o.library = optarg; break;
        case 't': o.mount = optarg; break;
        case OPT_LESSON: lessons[o.n_lessons++] = optarg; break;
        case OPT_TIERS: o.tiers = optarg; break;
        case OPT_NO_BROWSE: o.browsable = 0; break;
        case OPT_OFFICES: o.for_offices = 1; break;
        case OPT_MARGIN: {
            char *end;
            double mb = strtod(optarg, &end);
            if (*end || mb < 0) {
                cli_error(_("export: --margin wants megabytes, e.g. --margin 100"));
                goto out;
            }
            o.margin = (int64_t)(mb * 1048576.0);
            break;
        }
        case 'q': quiet = 1; break;
        case 'h':
            fputs(_(export_usage), stdout);
            ret = CLI_OK;
            goto out;
        default:
            fputs(_("Try 'sabak export --help'.\n"), stderr);
            goto out;
        }
    }
    if (!o.library || !o.mount || optind < argc) {
        cli_error(_("export: %s (sabak export --library DIR --to MOUNT)"),
                  optind < argc ? _("unexpected argument") : _("--library and --to are needed"));
        goto out;
    }
    o.lessons = lessons;
    cli_init_logging(quiet, 0);
    CarryUi ui;
    carry_ui_init(&ui, quiet);
    SbkError err = {0};
    int r = sbk_carry_export(&o, &ui.cb, &err);
    carry_ui_done(&ui);
    if (r == SBK_ECANCELED || carry_ui_canceled()) {
        cli_error(_("export: interrupted; run the same command again to continue"));
        ret = CLI_INTERRUPTED;
    } else if (r < 0) {
        cli_error(_("export: %s"), err.msg);
        ret = CLI_FAIL;
    } else {
        if (!quiet)
            printf(_("done: the drive %s is ready\n"), o.mount);
        ret = CLI_OK;
    }
out:
    free(lessons);
    return ret;
}
