/* sabak passwd: set the password of the kiosk's admin area (/admin). The
 * hashing and the file are libsabak's (sbk_kiosk_admin_passwd); this only
 * finds the state folder the way `sabak serve` does and reads the password
 * twice from the terminal with echo off (or once from SABAK_PASSWORD_FILE). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "sabak/carry.h"
#include "sabak/kiosk.h"
#include "sabak/i18n.h"

static const char passwd_usage[] = N_(
    "Usage: sabak passwd [--library DIR | --state DIR] [--config FILE]\n"
    "\n"
    "Set the password of the kiosk's admin area (http://KIOSK/admin), where office\n"
    "staff add lessons from the browser or a USB drive, remove them, and print the\n"
    "monthly report. It is stored hashed (Argon2id) in STATE/admin.passwd, readable\n"
    "only by its owner; a running kiosk uses it at the next sign-in.\n"
    "\n"
    "Options:\n"
    "  -l, --library DIR   the kiosk's folder of bundles (its state folder is found\n"
    "                      as 'sabak serve' finds it)\n"
    "  -s, --state DIR     the state folder itself\n"
    "  -c, --config FILE   read library and state from an INI file ([server])\n"
    "  -h, --help          show this help\n"
    "\n"
    "The password is asked twice on the terminal. For scripts, put it in a file\n"
    "(one line) and set SABAK_PASSWORD_FILE=FILE.\n"
    "\n"
    "Exit status: 0 set, 1 failure (the message says why), 2 wrong usage.\n");

/* One line from f into buf (newline removed); 0 or -1. */
static int read_line(FILE *f, char *buf, size_t n)
{
    if (!fgets(buf, (int)n, f))
        return -1;
    size_t l = strcspn(buf, "\r\n");
    if (buf[l] == '\0' && l + 1 == n && !feof(f))
        return -1; /* longer than the buffer */
    buf[l] = '\0';
    return 0;
}

static int ask(const char *prompt, char *buf, size_t n)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return -1;
    struct termios old, quiet;
    int have = tcgetattr(fileno(tty), &old) == 0;
    if (have) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    fputs(prompt, tty);
    fflush(tty);
    int ret = read_line(tty, buf, n);
    if (have)
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputs("\n", tty);
    fclose(tty);
    return ret;
}

int cmd_passwd(int argc, char **argv)
{
    static const struct option opts[] = {
        {"library", required_argument, NULL, 'l'}, {"state", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *library = NULL, *state = NULL, *config = NULL;
    int c, ret = CLI_FAIL;
    char pw[1100], again[1100];
    char *def_state = NULL;
    SbkKioskConfig cfg;
    SbkError err = {0};
    sbk_kiosk_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:s:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': library = optarg; break;
        case 's': state = optarg; break;
        case 'c': config = optarg; break;
        case 'h':
            fputs(_(passwd_usage), stdout);
            ret = CLI_OK;
            goto done;
        default:
            fprintf(stderr, _("Try 'sabak passwd --help'.\n"));
            ret = CLI_USAGE;
            goto done;
        }
    }
    if (optind < argc) {
        cli_error(_("passwd: unexpected argument '%s' (try 'sabak passwd --help')"), argv[optind]);
        ret = CLI_USAGE;
        goto done;
    }
    if ((config && sbk_kiosk_config_load_ini(&cfg, config, &err) != 0) ||
        (library && sbk_kiosk_config_set(&cfg, "library", library, &err) != 0) ||
        (state && sbk_kiosk_config_set(&cfg, "state", state, &err) != 0)) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (!cfg.state_dir && !cfg.library_dir) {
        cli_error(_("passwd: which kiosk? (--library DIR or --state DIR; see 'sabak passwd --help')"));
        ret = CLI_USAGE;
        goto done;
    }
    const char *dir = cfg.state_dir;
    if (!dir && !(dir = def_state = sbk_state_dir_default(cfg.library_dir, cli_installed()))) {
        cli_error(_("out of memory"));
        goto done;
    }
    const char *file = getenv("SABAK_PASSWORD_FILE");
    if (file && *file) {
        FILE *f = fopen(file, "r");
        if (!f || read_line(f, pw, sizeof pw) != 0) {
            cli_error(_("cannot read the password from %s: %s"), file, f ? _("empty or too long")
                                                                       : strerror(errno));
            if (f)
                fclose(f);
            goto done;
        }
        fclose(f);
    } else {
        if (ask(_("New admin password: "), pw, sizeof pw) != 0 ||
            ask(_("The same password again: "), again, sizeof again) != 0) {
            cli_error(_("passwd: no terminal to ask on (set SABAK_PASSWORD_FILE=FILE for scripts)"));
            goto done;
        }
        if (strcmp(pw, again) != 0) {
            cli_error(_("the two passwords differ: nothing changed"));
            goto done;
        }
    }
    if (sbk_kiosk_admin_passwd(dir, pw, &err) != 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    fprintf(stderr, _("sabak: admin password set (%s/admin.passwd)\n"), dir);
    ret = CLI_OK;
done:
    memset(pw, 0, sizeof pw);
    memset(again, 0, sizeof again);
    free(def_state);
    sbk_kiosk_config_clear(&cfg);
    return ret;
}
