/* sabak - lesson bundles for offline village offices.
 *
 * This binary never links FFmpeg: `sabak pack` runs the sabak-pack helper
 * (git-style), so the kiosk (`sabak serve`) stays small. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sabak/i18n.h"

static const char usage_text[] = N_(
    "Usage: sabak COMMAND [OPTIONS] ...\n"
    "\n"
    "sabak turns a trainer's recording and subtitles into one small, verifiable\n"
    "lesson bundle (.zip), and serves bundles to browsers on the office network.\n"
    "\n"
    "Commands:\n"
    "  pack LESSON_DIR [-o OUT.zip]   transcode a lesson folder into a bundle\n"
    "  info BUNDLE [--json]           show what a bundle holds\n"
    "  verify BUNDLE...               check bundles for damage (exit 0 only if all are good)\n"
    "  keygen -o KEY --name NAME      make a trainer's signing key (and KEY.pub)\n"
    "  sign BUNDLE --key KEY          write a signed copy of a bundle\n"
    "  serve --library DIR            run the kiosk web server over a folder of bundles\n"
    "  export --library DIR --to MOUNT  copy lessons onto a USB drive (verified, resumable)\n"
    "  import SRC... --library DIR    bring lessons in from drives, folders or bundles\n"
    "  reports --from MOUNT           merge the usage reports offices wrote to a drive\n"
    "  passwd --library DIR           set the password of the kiosk's admin area (/admin)\n"
    "  version                        print the version\n"
    "  help [COMMAND]                 show help for a command\n"
    "\n"
    "Run 'sabak COMMAND --help' for the options of one command.\n"
    "\n"
    "Exit status: 0 success, 1 failure (the message says why), 2 wrong usage,\n"
    "130 interrupted.\n");

/* Find the sabak-pack helper: $SABAK_LIBEXEC, then beside this binary, then
 * the installed libexec folder. */
static int exec_pack(int argc, char **argv)
{
    char path[PATH_MAX];
    const char *env = getenv("SABAK_LIBEXEC");
    char *candidates[3] = {NULL, NULL, NULL};
    int n = 0;
    if (env && *env) {
        snprintf(path, sizeof path, "%s/sabak-pack", env);
        candidates[n++] = strdup(path);
    }
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof path, "%s/sabak-pack", self);
            candidates[n++] = strdup(path);
        }
    }
    candidates[n++] = strdup(SABAK_LIBEXECDIR "/sabak-pack");
    for (int i = 0; i < n; i++) {
        if (candidates[i] && access(candidates[i], X_OK) == 0) {
            argv[0] = candidates[i];
            execv(candidates[i], argv);
            cli_error(_("cannot run %s: %s"), candidates[i], strerror(errno));
            return CLI_FAIL;
        }
    }
    (void)argc;
    cli_error(_("the packing helper sabak-pack is not installed (looked beside %s and in %s)"),
              len > 0 ? self : "sabak", SABAK_LIBEXECDIR);
    for (int i = 0; i < n; i++)
        free(candidates[i]);
    return CLI_FAIL;
}

int main(int argc, char **argv)
{
    char *sub[4] = {NULL, NULL, NULL, NULL}; /* "help CMD" becomes "CMD --help" */
    cli_init_i18n();
    if (argc < 2) {
        fputs(_(usage_text), stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            sub[0] = argv[0];
            sub[1] = argv[2];
            sub[2] = (char *)"--help";
            argv = sub;
            argc = 3;
            cmd = argv[1];
        } else {
            fputs(_(usage_text), stdout);
            return CLI_OK;
        }
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("sabak %s\n", SBK_VERSION);
        return CLI_OK;
    }
    if (!strcmp(cmd, "pack"))
        return exec_pack(argc - 1, argv + 1);
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify"))
        return cmd_verify(argc - 1, argv + 1);
    if (!strcmp(cmd, "keygen"))
        return cmd_keygen(argc - 1, argv + 1);
    if (!strcmp(cmd, "sign"))
        return cmd_sign(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "import"))
        return cmd_import(argc - 1, argv + 1);
    if (!strcmp(cmd, "reports"))
        return cmd_reports(argc - 1, argv + 1);
    if (!strcmp(cmd, "passwd"))
        return cmd_passwd(argc - 1, argv + 1);
    cli_error(_("unknown command '%s' (try 'sabak --help')"), cmd);
    return CLI_USAGE;
}
