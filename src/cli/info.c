/* sabak info: what a bundle holds, for people (or its manifest, for tools). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sabak/bundle.h"
#include "sabak/i18n.h"
#include "sabak/sign.h"
#include "sabak/i18n.h"

static const char info_usage[] = N_(
    "Usage: sabak info [--json] BUNDLE\n"
    "\n"
    "Show what a lesson bundle holds: its id and version, titles and descriptions\n"
    "in each language (ky, ru, en), topic and order, duration, content type,\n"
    "the audio track used (language, which of the recording's tracks, or none),\n"
    "chapters, and every file with its size, codecs, resolution, frame rate and\n"
    "bitrate; for video, the CRF and how it was set (chosen by the quality\n"
    "search, set by 'sabak pack --crf', or fixed) and the SSIM-Y the search\n"
    "measured on sampled seconds.\n"
    "\n"
    "The bundle's structure and manifest are checked as the kiosk checks them\n"
    "(entry names, manifest.json first, every listed file present with its size);\n"
    "the file data is not hashed: use 'sabak verify' for that.\n"
    "\n"
    "Options:\n"
    "  -j, --json   print manifest.json exactly as stored in the bundle (UTF-8 JSON,\n"
    "               format described in docs/BUNDLE-FORMAT.md)\n"
    "  -t, --trusted DIR  the trusted public keys, for the Signature line (default\n"
    "               when installed: /etc/sabak/trusted.d)\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 shown, 1 the bundle cannot be read or is damaged (the message\n"
    "says why), 2 wrong usage.\n"
    "\n"
    "Example:\n"
    "  sabak info library/municipal-website-01-v1.zip\n");

static void human_size(int64_t n, char *buf, size_t len)
{
    if (n < 1024)
        snprintf(buf, len, "%" PRId64 " B", n);
    else if (n < 1024 * 1024)
        snprintf(buf, len, _("%.1f KiB"), (double)n / 1024.0);
    else if (n < INT64_C(1024) * 1024 * 1024)
        snprintf(buf, len, _("%.1f MiB"), (double)n / (1024.0 * 1024.0));
    else
        snprintf(buf, len, _("%.2f GiB"), (double)n / (1024.0 * 1024.0 * 1024.0));
}

/* Text from a bundle, safe for a terminal: control characters (C0, DEL
 * and the C1 range as UTF-8) become \xNN, so a title cannot move the
 * cursor, clear the screen or set the window title. A few rotating buffers:
 * several may be used in one printf. */
static const char *tty(const char *s)
{
    static char bufs[6][2048];
    static int next;
    char *out = bufs[next];
    next = (next + 1) % 6;
    size_t o = 0, n = sizeof bufs[0];
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && o + 9 < n; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(out + o, n - o, "\\x%02x", *p);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            o += (size_t)snprintf(out + o, n - o, "\\xc2\\x%02x", p[1]);
            p++;
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
    return out;
}

static void print_file(const SbkManifestFile *f)
{
    char size[32];
    human_size(f->size, size, sizeof size);
    printf("  %-24s %-10s %10s", tty(f->path), f->kind, size);
    if (f->tier)
        printf("  %s", tty(f->tier));
    if (f->lang)
        printf("  %s", tty(f->lang));
    if (f->width > 0 && f->height > 0)
        printf("  %dx%d", f->width, f->height);
    if (f->fps > 0)
        printf("  %.3g fps", f->fps);
    if (f->bitrate > 0)
        printf("  %" PRId64 " kb/s", (f->bitrate + 500) / 1000);
    if (f->codecs)
        printf("  %s", tty(f->codecs));
    if (f->crf > 0) {
        /* how the CRF was set: by the quality search, --crf, or the ladder */
        const char *from = !f->crf_from                         ? ""
                           : strcmp(f->crf_from, "search") == 0 ? _("(chosen)")
                           : strcmp(f->crf_from, "option") == 0 ? _("(set by --crf)")
                                                                : _("(fixed)");
        printf("  CRF %d%s%s", f->crf, from[0] ? " " : "", from);
    }
    if (f->quality_metric && f->ssim_y > 0)
        printf("  SSIM-Y %.3f", f->ssim_y);
    putchar('\n');
}

/* Who signed it, against the trusted keys of this machine (installed:
 * /etc/sabak/trusted.d) or of --trusted. */
static SbkTrust *g_trust;
static void print_signature(const SbkBundle *b)
{
    SbkSignInfo si;
    char who[SBK_SIGNER_MAX + 300];
    sbk_sign_check_bundle(g_trust, b, &si);
    cli_signer_text(&si, who, sizeof who);
    printf(_("Signature: %s\n"), tty(who));
}

static void print_human(const SbkBundle *b)
{
    const SbkManifest *m = b->manifest;
    char t[32], size[32];
    printf(_("%s  version %d\n"), tty(m->id), m->version);
    for (int i = 0; i < SBK_LANG_COUNT; i++)
        if (m->title[i])
            printf(_("  title (%s): %s\n"), sbk_lang_codes[i], tty(m->title[i]));
    for (int i = 0; i < SBK_LANG_COUNT; i++)
        if (m->description[i])
            printf(_("  description (%s): %s\n"), sbk_lang_codes[i], tty(m->description[i]));
    if (m->topic)
        printf(_("Topic:     %s (order %d)\n"), tty(m->topic), m->order);
    else
        printf(_("Order:     %d\n"), m->order);
    sbk_fmt_hms((int64_t)(m->duration * 1000.0 + 0.5), t, sizeof t);
    printf(_("Duration:  %s\n"), t);
    if (m->content)
        printf(_("Content:   %s\n"), tty(m->content));
    if (m->audio == SBK_AUDIO_NONE)
        printf(_("Audio:     none (the recording has no sound)\n"));
    else if (m->audio == SBK_AUDIO_PRESENT)
        printf(_("Audio:     %s, track %d of %d\n"), m->audio_lang ? tty(m->audio_lang) : "und",
               m->audio_track > 0 ? m->audio_track : 1, m->audio_tracks > 0 ? m->audio_tracks : 1);
    if (m->n_chapters) {
        printf(_("Chapters:\n"));
        for (int i = 0; i < m->n_chapters; i++) {
            sbk_fmt_hms(m->chapters[i].start_ms, t, sizeof t);
            printf("  %s ", t);
            const char *sep = " ";
            for (int l = 0; l < SBK_LANG_COUNT; l++) {
                if (m->chapters[i].title[l]) {
                    printf("%s%s", sep, tty(m->chapters[i].title[l]));
                    sep = " / ";
                }
            }
            putchar('\n');
        }
    }
    printf(_("Files:\n"));
    for (int i = 0; i < m->n_files; i++)
        print_file(&m->files[i]);
    human_size(b->file_size, size, sizeof size);
    print_signature(b);
    printf(_("Bundle:    %s, %s, format %d%s%s\n"), tty(b->path), size, m->format_version,
           m->generator ? ", made by " : "", m->generator ? tty(m->generator) : "");
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"trusted", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;
    const char *trusted = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jt:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            trusted = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(_(info_usage), stdout);
            return CLI_OK;
        default:
            fputs(_("Try 'sabak info --help'.\n"), stderr);
            return CLI_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error("%s", argc == optind ? _("info: which bundle? (sabak info BUNDLE)")
                                       : _("info: one bundle at a time (sabak info BUNDLE)"));
        return CLI_USAGE;
    }
    cli_init_logging(0, 0);
    const char *path = argv[optind];
    SbkBundle *b = NULL;
    SbkError err = {0};
    if (sbk_bundle_open(path, &b, &err) < 0) {
        cli_error("%s", err.msg);
        return CLI_FAIL;
    }
    int ret = CLI_OK;
    if (json) {
        char *text = NULL;
        size_t len = 0;
        if (sbk_bundle_read_entry(b, SBK_MANIFEST_NAME, SBK_MANIFEST_MAX_BYTES, &text, &len, &err) < 0) {
            cli_error("%s", err.msg);
            ret = CLI_FAIL;
        } else {
            fwrite(text, 1, len, stdout);
            if (len && text[len - 1] != '\n')
                putchar('\n');
            free(text);
        }
    } else if (cli_trust_load(trusted, &g_trust) < 0) {
        ret = CLI_FAIL;
    } else {
        print_human(b);
    }
    sbk_trust_free(&g_trust);
    sbk_bundle_close(&b);
    if (fflush(stdout) != 0) {
        cli_error(_("info: cannot write the output"));
        ret = CLI_FAIL;
    }
    return ret;
}
