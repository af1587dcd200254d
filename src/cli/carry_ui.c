/* What export and import show while they work: a progress bar on a
 * terminal (bytes, speed, ETA), plain lines otherwise, one line per event,
 * and Ctrl-C turned into a clean cancel. */
#include "carry_ui.h"
#include "cli.h"
#include "sabak/i18n.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int g_cancel;

static void on_signal(int sig)
{
    (void)sig;
    g_cancel = 1;
}

void carry_ui_init(CarryUi *ui, int quiet)
{
    memset(ui, 0, sizeof *ui);
    ui->quiet = quiet;
    ui->tty = isatty(STDERR_FILENO);
    ui->last_pct = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    ui->cb.progress = carry_ui_progress;
    ui->cb.event = carry_ui_event;
    ui->cb.opaque = ui;
    ui->cb.cancel = &g_cancel;
}

int carry_ui_canceled(void) { return g_cancel; }

static void fmt_bytes(double b, char *out, size_t n)
{
    if (b >= 1e9)
        snprintf(out, n, _("%.2f GB"), b / 1e9);
    else
        snprintf(out, n, _("%.1f MB"), b / 1e6);
}

static void fmt_eta(double s, char *out, size_t n)
{
    if (s < 0) {
        snprintf(out, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

static void clear_bar(CarryUi *ui)
{
    if (ui->bar_shown) {
        fputs("\r\033[K", stderr);
        ui->bar_shown = 0;
    }
}

void carry_ui_progress(void *opaque, const SbkCarryProgress *p)
{
    CarryUi *ui = opaque;
    if (ui->quiet)
        return;
    char done[32], total[32], rate[32] = "", eta[16];
    fmt_bytes((double)p->all_done, done, sizeof done);
    fmt_bytes((double)p->all_total, total, sizeof total);
    fmt_eta(p->eta, eta, sizeof eta);
    if (p->rate > 0) {
        fmt_bytes(p->rate, rate, sizeof rate);
        strcat(rate, "/s");
    }
    int pct = p->all_total > 0 ? (int)(p->all_done * 100 / p->all_total) : 100;
    if (ui->tty) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fputs("\r\033[K", stderr);
        fprintf(stderr, _("[%s] %3d%% %s / %s %s ETA %s  %s %s"), bar, pct, done, total,
                rate, eta, p->step, p->name ? p->name : "");
        fflush(stderr);
        ui->bar_shown = 1;
        return;
    }
    /* plain lines: every 10 % of the run, and each verify */
    if (strcmp(p->step, "verify") == 0 && p->done == 0) {
        fprintf(stderr, _("sabak: verifying %s\n"), p->name);
    } else if (strcmp(p->step, "copy") == 0 && pct / 10 != ui->last_pct / 10) {
        ui->last_pct = pct;
        fprintf(stderr, _("sabak: %3d%% %s of %s copied %s ETA %s\n"), pct, done, total, rate, eta);
    }
}

void carry_ui_event(void *opaque, SbkCarryEvent ev, const char *name, const char *detail)
{
    CarryUi *ui = opaque;
    static const char *const tag[] = {N_("copied"), N_("skipped"), N_("resumed"), N_("left out"),
                                      N_("replaced"), N_("REFUSED"), N_("note")};
    clear_bar(ui);
    if (ev == SBK_CARRY_REFUSED || ev == SBK_CARRY_LEFT_OUT) {
        fprintf(stderr, "sabak: %s %s: %s\n", _(tag[ev]), name, detail);
        return;
    }
    if (ui->quiet)
        return;
    printf("%s %s: %s\n", _(tag[ev]), name, detail);
    fflush(stdout);
}

void carry_ui_done(CarryUi *ui) { clear_bar(ui); }

/* Installed: this binary is PREFIX/bin/sabak for the configured PREFIX. */
int cli_installed(void)
{
    char self[PATH_MAX], want[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 0;
    self[n] = '\0';
    snprintf(want, sizeof want, "%s/../../bin/sabak", SABAK_LIBEXECDIR);
    char *real = realpath(want, NULL);
    int same = real && strcmp(real, self) == 0;
    free(real);
    return same;
}
