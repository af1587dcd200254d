/* sabak verify: the full damage check of one or more bundles. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sabak/bundle.h"

static const char verify_usage[] =
    "Usage: sabak verify [--quiet] BUNDLE...\n"
    "\n"
    "Check lesson bundles for damage before copying, importing or serving them.\n"
    "Every entry is read with libarchive's zip reader and checked:\n"
    "  - the archive is complete: nothing cut off, no data after its end;\n"
    "  - no entry name is absolute, contains '..' or a backslash, or is a link,\n"
    "    a directory or listed twice;\n"
    "  - manifest.json comes first, parses, and lists every other entry;\n"
    "  - every listed file exists with the size and SHA-256 the manifest gives;\n"
    "  - every entry's CRC-32 matches (a libarchive warning counts as damage).\n"
    "\n"
    "For each good bundle 'OK BUNDLE' is printed on standard output; for a bad\n"
    "one, one line 'BUNDLE: problem' per problem on standard error.\n"
    "\n"
    "Options:\n"
    "  -q, --quiet  do not print the OK lines, only problems\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 every bundle is good, 1 at least one is damaged or cannot be\n"
    "read, 2 wrong usage.\n"
    "\n"
    "Example:\n"
    "  sabak verify /media/usb/*.zip\n";

typedef struct Ctx {
    const char *path;
} Ctx;

static void on_problem(void *opaque, const char *line)
{
    const Ctx *c = opaque;
    fprintf(stderr, "%s: %s\n", c->path, line);
}

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(verify_usage, stdout);
            return CLI_OK;
        default:
            fputs("Try 'sabak verify --help'.\n", stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("verify: which bundles? (sabak verify BUNDLE...)");
        return CLI_USAGE;
    }
    cli_init_logging(quiet, 0);
    int bad = 0;
    for (int i = optind; i < argc; i++) {
        Ctx ctx = {argv[i]};
        if (sbk_bundle_verify(argv[i], on_problem, &ctx) == 0) {
            if (!quiet)
                printf("OK %s\n", argv[i]);
        } else {
            bad = 1;
        }
        fflush(stdout);
    }
    return bad ? CLI_FAIL : CLI_OK;
}
