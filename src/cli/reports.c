/* sabak reports: merge the usage reports that offices wrote to a drive. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "sabak/carry.h"
#include "sabak/i18n.h"

static const char reports_usage[] = N_(
    "Usage: sabak reports --from MOUNT [-o FILE.csv]\n"
    "\n"
    "Merge the usage reports that offices wrote to a drive during imports\n"
    "(MOUNT/sabak/reports/*.csv) into one table, one row per office, lesson and\n"
    "month:\n"
    "  office,kiosk_id,lesson,month,plays,minutes\n"
    "\n"
    "Reports hold running totals, so the same report read twice, or reports of\n"
    "several visits to one office, count nothing twice: running this again over\n"
    "the same drive gives the same table.\n"
    "\n"
    "Options:\n"
    "  -f, --from MOUNT  the drive (or a folder holding sabak/reports/) (required)\n"
    "  -o, --output FILE write the table to FILE (replaced whole) instead of\n"
    "                    standard output\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 wrong usage.\n"
    "\n"
    "Example:\n"
    "  sabak reports --from /media/usb -o views-2026-11.csv\n");

int cmd_reports(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL, *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 'o': out = optarg; break;
        case 'h':
            fputs(_(reports_usage), stdout);
            return CLI_OK;
        default:
            fputs(_("Try 'sabak reports --help'.\n"), stderr);
            return CLI_USAGE;
        }
    }
    if (!from || optind < argc) {
        cli_error(_("reports: %s (sabak reports --from MOUNT)"),
                  from ? _("unexpected argument") : _("--from is needed"));
        return CLI_USAGE;
    }
    SbkError err = {0};
    char *csv = NULL;
    size_t len = 0;
    if (sbk_carry_reports(from, &csv, &len, &err) < 0) {
        cli_error(_("reports: %s"), err.msg);
        return CLI_FAIL;
    }
    int ret = CLI_OK;
    if (out) {
        if (sbk_atomic_write_file(out, csv, len, &err) < 0) {
            cli_error(_("reports: %s"), err.msg);
            ret = CLI_FAIL;
        }
    } else if (fwrite(csv, 1, len, stdout) != len || fflush(stdout) != 0) {
        cli_error(_("reports: cannot write the table"));
        ret = CLI_FAIL;
    }
    free(csv);
    return ret;
}
