/* sabak-pack: the `sabak pack` command. A helper of its own because it is the
 * only part of sabak that links FFmpeg (sabak runs it, git-style). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "passphrase.h"
#include "sabak/i18n.h"
#include "sabak/media.h"

static const char usage_text[] = N_(
    "Usage: sabak pack LESSON_DIR... [-o OUT] [--tiers LIST] [--crf TIER=N] [--jobs N]\n"
    "                  [--sign KEY] [--quiet]\n"
    "\n"
    "Turn a lesson folder (lesson.ini, the recording, subtitles/<lang>.srt|.vtt,\n"
    "optional handouts/) into one lesson bundle: low-bitrate renditions, WebVTT\n"
    "subtitles, a poster, manifest.json and an offline player, in one ZIP file.\n"
    "The recording is decoded once; every rendition is made from that one pass.\n"
    "\n"
    "Options:\n"
    "  -o, --output OUT    the bundle to write (OUT.zip), or a folder to write\n"
    "                      <id>-v<version>.zip into (default: the current folder)\n"
    "  -t, --tiers LIST    renditions, comma-separated, best first (default:\n"
    "                      standard,low,audio,audio-aac):\n"
    "                        standard   H.264 High <=480p + AAC mono 16 kbit/s, every device\n"
    "                        low        H.264 360p (screencasts 480p 10 fps) + Opus\n"
    "                                   12 kbit/s, weak WiFi\n"
    "                        audio      sound only, Opus mono 12 kbit/s: the smallest\n"
    "                        audio-aac  sound only, AAC mono 10 kbit/s, for browsers\n"
    "                                   without Opus (old Safari)\n"
    "                        av1        AV1 (SVT-AV1) + Opus, smaller; slow to encode\n"
    "  -c, --crf TIER=N    encode that video tier at CRF N (1-51) instead of\n"
    "                      searching: each video tier otherwise aims at a quality\n"
    "                      (SSIM-Y), and a short search on a few sampled seconds\n"
    "                      picks the CRF per lesson; repeat or comma-separate\n"
    "                      (--crf standard=30,low=38)\n"
    "  -j, --jobs N        encoder threads per video rendition (default 2; the\n"
    "                      renditions also run in parallel); the same N gives the\n"
    "                      same bytes on every machine\n"
    "  -s, --sign KEY      sign the bundle with a key from 'sabak keygen' (its\n"
    "                      passphrase is asked, or read from SABAK_PASSPHRASE_FILE)\n"
    "  -q, --quiet         no progress line, notes or summary; only warnings and errors\n"
    "  -v, --verbose       also print what the probe found\n"
    "  -V, --version       print the version\n"
    "  -h, --help          show this help\n"
    "\n"
    "A damaged recording is an error (\"recording.mp4 is damaged: decoding failed\n"
    "at 00:01:07\"), never a silently shorter lesson. Subtitles in Windows-1251,\n"
    "UTF-16 or UTF-8 are converted to UTF-8 WebVTT; the encoding assumed is shown.\n"
    "The bundle is written under a temporary name and renamed when complete:\n"
    "Ctrl-C or a full disk never leaves a file that looks finished.\n"
    "Every pack ends with a summary, and warns about each file it did not use.\n"
    "Messages follow LANG or LANGUAGE: Russian (ru), Kyrgyz (ky), else English.\n"
    "\n"
    "Exit status: 0 packed, 1 failed (the message says why), 2 wrong usage,\n"
    "130 interrupted.\n"
    "\n"
    "Example:\n"
    "  sabak pack lessons/municipal-website-01 -o library/\n");

static volatile int g_cancel;

static void fmt_size(int64_t b, char *out, size_t n)
{
    if (b >= 1000 * 1000)
        snprintf(out, n, _("%.1f MB"), (double)b / 1e6);
    else
        snprintf(out, n, _("%.0f KB"), (double)b / 1e3 + 0.5);
}

/* The end of every pack: what went into the bundle, so that a trainer sees
 * a missing language or a short recording without opening the bundle. */
static void print_summary(const SbkPackSummary *s)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%d:%02d:%02d", (int)(s->duration / 3600),
             (int)s->duration / 60 % 60, (int)s->duration % 60);
    const char *content = !strcmp(s->content, "screencast") ? _("screencast")
                          : !strcmp(s->content, "camera")   ? _("camera")
                          : !strcmp(s->content, "audio")    ? _("sound only")
                                                            : s->content;
    fprintf(stderr, _("  duration: %s (%s)\n"), buf, content);
    fputs(_("  tiers:"), stderr);
    for (int i = 0; i < s->n_tiers; i++) {
        fmt_size(s->tiers[i].size, buf, sizeof buf);
        fprintf(stderr, "%s %s %s", i ? "," : "", s->tiers[i].name, buf);
        if (s->tiers[i].height)
            fprintf(stderr, _(" (%dp, %lld kbit/s)"), s->tiers[i].height,
                    (long long)(s->tiers[i].bitrate + 500) / 1000);
        else
            fprintf(stderr, _(" (%lld kbit/s)"), (long long)(s->tiers[i].bitrate + 500) / 1000);
    }
    fputc('\n', stderr);
    fputs(_("  subtitles:"), stderr);
    if (!s->n_subs)
        fprintf(stderr, " %s", _("none"));
    for (int i = 0; i < s->n_subs; i++) {
        fprintf(stderr, "%s %s ", i ? "," : "", s->subs[i].lang);
        fprintf(stderr, dngettext(SBK_TEXTDOMAIN, "%d cue", "%d cues", (unsigned long)s->subs[i].cues), s->subs[i].cues);
        if (s->subs[i].embedded)
            fprintf(stderr, " %s", _("(from inside the recording)"));
        if (s->subs[i].trimmed)
            fprintf(stderr, _(" (%d trimmed at the end)"), s->subs[i].trimmed);
    }
    if (s->n_no_subs) {
        fputs(_("; none in"), stderr);
        for (int i = 0; i < s->n_no_subs; i++)
            fprintf(stderr, "%s %s", i ? "," : "", s->no_subs[i]);
        fputs(_(" (the lesson has a title in it)"), stderr);
    }
    fputc('\n', stderr);
    int crf_shown = 0;
    for (int i = 0; i < s->n_tiers; i++) {
        if (!s->tiers[i].crf)
            continue;
        fprintf(stderr, "%s %s CRF %d", crf_shown++ ? "," : _("  quality:"), s->tiers[i].name,
                s->tiers[i].crf);
        if (s->tiers[i].ssim_y > 0)
            fprintf(stderr, _(" (SSIM-Y %.3f)"), s->tiers[i].ssim_y);
        else if (s->tiers[i].crf_from == SBK_CRF_OPTION)
            fprintf(stderr, " %s", _("(--crf)"));
    }
    if (crf_shown && s->search_cpu_s > 0)
        fprintf(stderr, _("; search %.1f s of CPU"), s->search_cpu_s);
    if (crf_shown)
        fputc('\n', stderr);
    fprintf(stderr, _("  chapters: %d\n"), s->n_chapters);
    if (s->n_handouts) {
        fmt_size(s->handouts_size, buf, sizeof buf);
        fprintf(stderr, _("  handouts: %d (%s), downloadable from the lesson page\n"), s->n_handouts, buf);
    } else {
        fprintf(stderr, _("  handouts: none\n"));
    }
}

static void on_signal(int sig)
{
    (void)sig;
    g_cancel = 1;
}

typedef struct Progress {
    const char *id;
    int tty;
    struct timespec start;
    int printed;
} Progress;

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One line, rewritten in place: percent, speed (x realtime), ETA. */
static void show_progress(void *opaque, double done, double total)
{
    Progress *p = opaque;
    if (!p->tty || total <= 0)
        return;
    double el = since(&p->start);
    double pct = 100.0 * done / total;
    if (pct > 100)
        pct = 100;
    double speed = el > 0 ? done / el : 0;
    char eta[32] = "--:--";
    if (speed > 0 && done < total) {
        int s = (int)((total - done) / speed + 0.5);
        snprintf(eta, sizeof eta, "%d:%02d", s / 60, s % 60);
    } else if (done >= total) {
        snprintf(eta, sizeof eta, "0:00");
    }
    fprintf(stderr, "\r\033[K%s: %5.1f%%  %.1fx realtime  ETA %s", p->id, pct, speed, eta);
    fflush(stderr);
    p->printed = 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"tiers", required_argument, NULL, 't'},
        {"jobs", required_argument, NULL, 'j'},   {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"sign", required_argument, NULL, 's'},
        {"crf", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *tiers = NULL, *sign = NULL;
    char crf[256] = "";
    SbkSecretKey *key = NULL;
    int jobs = 0, quiet = 0, verbose = 0, c;
    cli_init_i18n();
    while ((c = getopt_long(argc, argv, "o:t:c:j:s:qvVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 't': tiers = optarg; break;
        case 'c':
            if (strlen(crf) + strlen(optarg) + 2 > sizeof crf) {
                cli_error(_("--crf: too many tiers"));
                return CLI_USAGE;
            }
            if (crf[0])
                strcat(crf, ",");
            strcat(crf, optarg);
            break;
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 64) {
                cli_error(_("--jobs wants a number from 1 to 64, not \"%s\""), optarg);
                return CLI_USAGE;
            }
            jobs = (int)v;
            break;
        }
        case 's': sign = optarg; break;
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        case 'h': fputs(_(usage_text), stdout); return CLI_OK;
        case 'V': printf("sabak-pack %s\n", SBK_VERSION); return CLI_OK;
        default: fputs(_("Try 'sabak pack --help'.\n"), stderr); return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error(_("pack: which lesson folder? (try 'sabak pack --help')"));
        return CLI_USAGE;
    }
    if (argc - optind > 1 && out) {
        size_t n = strlen(out);
        if (n < 4 || strcmp(out + n - 4, ".zip") == 0) {
            cli_error(_("pack: with several lessons, -o must be a folder"));
            return CLI_USAGE;
        }
    }
    cli_init_logging(quiet, verbose);
    /* The passphrase first: nobody should wait for an encode to be asked. */
    if (sign && cli_load_key(sign, &key) < 0)
        return CLI_FAIL;
    sbk_media_init();
    /* SVT-AV1 prints to stderr on its own; keep it to warnings unless -v. */
    setenv("SVT_LOG", verbose ? "3" : "2", 0);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    int status = CLI_OK;
    for (int i = optind; i < argc && !g_cancel; i++) {
        Progress prog = {.id = argv[i], .tty = !quiet && isatty(STDERR_FILENO)};
        clock_gettime(CLOCK_MONOTONIC, &prog.start);
        SbkPackOptions opt = {
            .lesson_dir = argv[i],
            .out = out,
            .tiers = tiers,
            .crf = crf[0] ? crf : NULL,
            .jobs = jobs,
            .progress = show_progress,
            .progress_opaque = &prog,
            .cancel = &g_cancel,
            .sign_key = key,
        };
        SbkPackSummary summary;
        opt.summary = &summary;
        SbkError err = {0};
        int ret = sbk_pack(&opt, &err);
        if (prog.printed)
            fputs("\r\033[K", stderr);
        if (ret == SBK_ECANCELED || g_cancel) {
            cli_error(_("%s: interrupted; nothing was written"), argv[i]);
            sbk_seckey_free(&key);
            return CLI_INTERRUPTED;
        }
        if (ret < 0) {
            cli_error("%s", err.msg);
            status = CLI_FAIL;
            continue;
        }
        if (!quiet) {
            char size[32];
            fmt_size(summary.bundle_size, size, sizeof size);
            fprintf(stderr, _("sabak: packed %s (%s) in %.1f s\n"), opt.out_path, size,
                    since(&prog.start));
            print_summary(&summary);
        }
        printf("%s\n", opt.out_path);
    }
    sbk_seckey_free(&key);
    return status;
}
