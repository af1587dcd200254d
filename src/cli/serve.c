/* sabak serve: parse options, start the kiosk, turn signals into rescan and
 * stop. Everything else lives in libsabak (sabak/kiosk.h). */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sabak/carry.h"
#include "sabak/kiosk.h"
#include "sabak/sign.h"
#include "sabak/i18n.h"

static const char serve_usage[] = N_(
    "Usage: sabak serve --library DIR [--listen ADDR:PORT ...] [--config FILE]\n"
    "                   [--web-dir DIR] [--state DIR] [--name NAME] [--quiet]\n"
    "                   [--trusted DIR] [--require-signature off|warn|on]\n"
    "\n"
    "Serve the lesson bundles in DIR to browsers on the office network: the web\n"
    "app, the catalog and search API, and every lesson's media straight from its\n"
    "bundle (nothing is unpacked). Bundles added to DIR are served within a second,\n"
    "removed ones disappear, and a replaced bundle is swapped while clients already\n"
    "watching the old one finish it. A damaged bundle is listed with its reason and\n"
    "never served; the others keep working.\n"
    "\n"
    "Options:\n"
    "  -l, --library DIR       the folder of bundles (*.zip); required here or in --config\n"
    "  -L, --listen ADDR:PORT  where to listen; repeat for several addresses\n"
    "                          (default 0.0.0.0:8080; [::]:8080 for IPv6; port 0 picks one)\n"
    "  -c, --config FILE       read settings from an INI file ([server] section; flags\n"
    "                          given on the command line win)\n"
    "  -w, --web-dir DIR       serve the web app from DIR instead of the copy built into\n"
    "                          sabak (for developing it; reread on SIGHUP)\n"
    "  -t, --trusted DIR       the trainers' public keys (*.pub) whose signed lessons\n"
    "                          show their name (default when installed:\n"
    "                          /etc/sabak/trusted.d); read again at every rescan\n"
    "  -r, --require-signature off|warn|on  lessons no trusted key signed: shown\n"
    "                          (off, the default), shown marked \"unverified source\"\n"
    "                          (warn), or not shown (on)\n"
    "  -s, --state DIR         the kiosk's id and play counts (default /var/lib/sabak\n"
    "                          when installed, else LIBRARY/.sabak-state)\n"
    "  -n, --name NAME         this office's name, for the reports carried on drives\n"
    "                          (default: the stored name, else the host name)\n"
    "  -q, --quiet             no access log and no start-up messages, only problems\n"
    "      --list-routes       print the kiosk's route table and exit (for tests)\n"
    "  -h, --help              show this help\n"
    "\n"
    "Config file keys ([server]): listen (addresses separated by spaces), library,\n"
    "web_dir, cache, connection_limit (512), per_ip_limit (32), header_timeout (5 s to\n"
    "send a request head), reserve (64 slots kept for new addresses), timeout (30 s without\n"
    "progress), memory_limit (32768 bytes per connection), threads (2 per address),\n"
    "backlog (256), min_rate (1024 B/s: a response may last 60 s + size/min_rate,\n"
    "0 turns it off), inflate_budget (33554432 bytes for compressed handouts being sent at once; past\n"
    "it clients get 503), watch, verify, access_log (yes/no), state, name, drive_roots\n"
    "(/media /run/media /mnt: where USB drives are noticed), drive_poll (2 s, 0 off),\n"
    "auto_import (no: import a drive's new lessons with no click; only lessons signed by\n"
    "a trusted key), trusted (STATE/trusted.d; installed: /etc/sabak/trusted.d), require_signature (off/warn/on),\n"
    "upload_max (4294967296 bytes: the largest bundle uploaded in /admin). See docs/SIGNING.md,\n"
    "packaging/sabak.ini and docs/CARRY.md.\n"
    "\n"
    "At start sabak prints one address per network card for staff to type, and a\n"
    "line \"sabak: listening on http://ADDR:PORT/\" per listen address. While it\n"
    "runs it writes one line per request to stderr:\n"
    "  TIME CLIENT METHOD PATH STATUS BYTES MSms\n"
    "\n"
    "Signals: SIGHUP rescans the library (and --web-dir); SIGTERM or SIGINT\n"
    "(Ctrl-C) stop accepting and exit within 2 seconds.\n"
    "\n"
    "Exit status: 0 after SIGTERM/SIGINT, 1 when the server cannot start (the\n"
    "message says why), 2 wrong usage.\n"
    "\n"
    "Example:\n"
    "  sabak serve --library /srv/sabak/library --listen 0.0.0.0:8080\n");

static void access_line(void *opaque, const char *line)
{
    (void)opaque;
    fprintf(stderr, "%s\n", line);
}

/* Collect the --listen flags into one "a b c" value (the INI key's format). */
static int append_listen(char **acc, const char *v)
{
    size_t old = *acc ? strlen(*acc) : 0;
    char *n = realloc(*acc, old + strlen(v) + 2);
    if (!n)
        return -1;
    if (old)
        n[old++] = ' ';
    strcpy(n + old, v);
    *acc = n;
    return 0;
}

static void print_urls(SbkKiosk *k, int quiet)
{
    const char *const *urls = NULL;
    size_t n = sbk_kiosk_listen_urls(k, &urls);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "sabak: listening on %s\n", urls[i]); /* scripts read it: not translated */
    if (quiet)
        return;
    int lessons = 0, damaged = 0;
    sbk_kiosk_counts(k, &lessons, &damaged);
    fputs("sabak: ", stderr);
    fprintf(stderr, dngettext(SBK_TEXTDOMAIN, "%d lesson ready", "%d lessons ready", (unsigned long)lessons),
            lessons);
    if (damaged)
        fprintf(stderr, dngettext(SBK_TEXTDOMAIN, ", %d damaged bundle (see /api/lessons)",
                                  ", %d damaged bundles (see /api/lessons)", (unsigned long)damaged),
                damaged);
    fputc('\n', stderr);
    n = sbk_kiosk_lan_urls(k, &urls);
    fprintf(stderr, _("sabak: open one of these addresses in a browser on the office network:\n"));
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "    %s\n", urls[i]);
}

/* The route table, one row a line: "PATTERN[*] api|page admin|session|open|- post|stream|-"
 * (tests enumerate the admin routes from it). */
static void list_routes(void)
{
    static const char *const admin[] = {"-", "session", "open"};
    static const char *const post[] = {"-", "post", "stream"};
    SbkRouteInfo ri;
    for (size_t i = 0; sbk_kiosk_route_info(i, &ri) == 0; i++)
        printf("%s%s %s %s %s\n", ri.pattern, ri.prefix ? "*" : "", ri.api ? "api" : "page",
               admin[ri.admin % 3], post[ri.post % 3]);
}

/* Signals are taken synchronously by this thread: they are blocked before
 * any thread exists, so the server's threads never see them. */
static int run(SbkKiosk *k, const sigset_t *set)
{
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            SbkError err = {0};
            if (sbk_kiosk_rescan(k, &err) != 0)
                cli_error(_("rescan: %s"), err.msg);
            else
                fprintf(stderr, _("sabak: library rescanned\n"));
            continue;
        }
        fprintf(stderr, _("sabak: stopping (%s)\n"), sig == SIGINT ? _("interrupted") : _("terminated"));
        sbk_kiosk_quiesce(k);
        return CLI_OK;
    }
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"library", required_argument, NULL, 'l'}, {"listen", required_argument, NULL, 'L'},
        {"config", required_argument, NULL, 'c'},  {"web-dir", required_argument, NULL, 'w'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {"state", required_argument, NULL, 's'},   {"name", required_argument, NULL, 'n'},
        {"trusted", required_argument, NULL, 't'}, {"require-signature", required_argument, NULL, 'r'},
        {"list-routes", no_argument, NULL, 'R'},   {NULL, 0, NULL, 0},
    };
    const char *library = NULL, *config = NULL, *web_dir = NULL, *state = NULL, *name = NULL;
    const char *trusted = NULL, *require = NULL;
    char *def_state = NULL;
    char *listen = NULL;
    int quiet = 0, c, ret = CLI_FAIL;
    SbkKioskConfig cfg;
    SbkKiosk *k = NULL;
    SbkError err = {0};
    sbk_kiosk_config_init(&cfg);
    /* Without TZ, glibc stats /etc/localtime on every localtime() call, and
     * libarchive makes dozens per bundle: a third of the scan time with
     * 1,000 bundles. A TZ naming the file makes glibc read it once. */
    setenv("TZ", ":/etc/localtime", 0);
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:L:c:w:s:n:t:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': library = optarg; break;
        case 'L':
            if (append_listen(&listen, optarg) != 0) {
                cli_error(_("out of memory"));
                goto done;
            }
            break;
        case 'c': config = optarg; break;
        case 'w': web_dir = optarg; break;
        case 's': state = optarg; break;
        case 'n': name = optarg; break;
        case 't': trusted = optarg; break;
        case 'r': require = optarg; break;
        case 'q': quiet = 1; break;
        case 'R':
            list_routes();
            ret = CLI_OK;
            goto done;
        case 'h':
            fputs(_(serve_usage), stdout);
            ret = CLI_OK;
            goto done;
        default:
            fprintf(stderr, _("Try 'sabak serve --help'.\n"));
            ret = CLI_USAGE;
            goto done;
        }
    }
    if (optind < argc) {
        cli_error(_("serve: unexpected argument '%s' (try 'sabak serve --help')"), argv[optind]);
        ret = CLI_USAGE;
        goto done;
    }
    cli_init_logging(quiet, 0);
    if (config && sbk_kiosk_config_load_ini(&cfg, config, &err) != 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    if ((library && sbk_kiosk_config_set(&cfg, "library", library, &err) != 0) ||
        (web_dir && sbk_kiosk_config_set(&cfg, "web_dir", web_dir, &err) != 0) ||
        (listen && sbk_kiosk_config_set(&cfg, "listen", listen, &err) != 0) ||
        (state && sbk_kiosk_config_set(&cfg, "state", state, &err) != 0) ||
        (name && sbk_kiosk_config_set(&cfg, "name", name, &err) != 0) ||
        (trusted && sbk_kiosk_config_set(&cfg, "trusted", trusted, &err) != 0) ||
        (require && sbk_kiosk_config_set(&cfg, "require_signature", require, &err) != 0)) {
        cli_error("%s", err.msg);
        ret = CLI_USAGE;
        goto done;
    }
    if (!cfg.library_dir) {
        cli_error(_("serve: which folder of bundles? (--library DIR; see 'sabak serve --help')"));
        ret = CLI_USAGE;
        goto done;
    }
    /* Installed: trust the keys of /etc/sabak/trusted.d unless told otherwise. */
    if (!cfg.trusted_dir && cli_installed() &&
        sbk_kiosk_config_set(&cfg, "trusted", SBK_TRUSTED_DIR_DEFAULT, &err) != 0) {
        cli_error(_("out of memory"));
        goto done;
    }
    if (!cfg.state_dir &&
        ((def_state = sbk_state_dir_default(cfg.library_dir, cli_installed())) == NULL ||
         sbk_kiosk_config_set(&cfg, "state", def_state, &err) != 0)) {
        cli_error(_("out of memory"));
        goto done;
    }
    /* Otherwise the state folder's trusted.d: where /admin adds keys. */
    if (!cfg.trusted_dir) {
        char *td = sbk_path_join(cfg.state_dir, "trusted.d");
        int bad = !td || sbk_kiosk_config_set(&cfg, "trusted", td, &err) != 0;
        free(td);
        if (bad) {
            cli_error(_("out of memory"));
            goto done;
        }
    }
    if (quiet)
        cfg.access_log = 0;
    cfg.access_log_fn = access_line;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN); /* sendfile to a closed socket */
    setvbuf(stderr, NULL, _IOLBF, 0);

    if (sbk_kiosk_start(&k, &cfg, &err) != 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    print_urls(k, quiet);
    ret = run(k, &set);
done:
    /* Stopping closes the connections still open; MHD waits for its threads,
     * which finish their current send at most. */
    sbk_kiosk_stop(&k);
    sbk_kiosk_config_clear(&cfg);
    free(listen);
    free(def_state);
    return ret;
}
