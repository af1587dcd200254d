/* ass.c - the dialogue text of ASS/SSA files: the Format line of [Events]
 * says where Start, End and Text are; override blocks go, except italic,
 * bold and underline, which WebVTT can show. */
#include "subs/subs_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ASS_MAX_FIELDS 32

typedef struct AssFormat {
    int start, end, text, nfields;
} AssFormat;

static const char *skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text" */
static int read_format(SbkSubsCtx *ctx, const SbkSubsLine *l, const char *p, AssFormat *f)
{
    AssFormat nf = {-1, -1, -1, 0};
    while (*p && nf.nfields < ASS_MAX_FIELDS) {
        p = skip_blanks(p);
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 5 && strncasecmp(p, "Start", 5) == 0)
            nf.start = nf.nfields;
        else if (n == 3 && strncasecmp(p, "End", 3) == 0)
            nf.end = nf.nfields;
        else if (n == 4 && strncasecmp(p, "Text", 4) == 0)
            nf.text = nf.nfields;
        nf.nfields++;
        if (!c)
            break;
        p = c + 1;
    }
    /* Text is the last field because it may hold commas itself. */
    if (nf.start < 0 || nf.end < 0 || nf.text != nf.nfields - 1)
        return sbk_err(ctx->err, SBK_EINVAL,
                       "%s:%zu: the Format line needs Start, End and, last, Text", ctx->name, l->no);
    *f = nf;
    return 0;
}

static int read_dialogue(SbkSubsCtx *ctx, const SbkSubsLine *l, const char *p, const AssFormat *f)
{
    const char *field[ASS_MAX_FIELDS];
    size_t flen[ASS_MAX_FIELDS];
    for (int i = 0; i < f->nfields; i++) {
        p = skip_blanks(p);
        const char *c = i == f->nfields - 1 ? NULL : strchr(p, ',');
        if (!c && i < f->nfields - 1)
            return sbk_err(ctx->err, SBK_EINVAL, "%s:%zu: Dialogue line has fewer than %d fields",
                           ctx->name, l->no, f->nfields);
        size_t n = c ? (size_t)(c - p) : strlen(p);
        field[i] = p;
        flen[i] = n;
        while (flen[i] > 0 && (p[flen[i] - 1] == ' ' || p[flen[i] - 1] == '\t'))
            flen[i]--;
        p = c ? c + 1 : p + n;
    }
    int64_t t[2];
    const int idx[2] = {f->start, f->end};
    for (int k = 0; k < 2; k++) {
        if (sbk_subs_parse_ts(field[idx[k]], flen[idx[k]], SBK_SUBS_ASS, &t[k]) < 0) {
            char q[80];
            sbk_subs_quote(field[idx[k]], flen[idx[k]], q);
            return sbk_err(ctx->err, SBK_EINVAL, "%s:%zu: bad timestamp \"%s\"", ctx->name, l->no, q);
        }
    }
    int ret = sbk_subs_check_times(ctx, l, field[f->start], flen[f->start], t[0], field[f->end],
                                   flen[f->end], t[1]);
    if (ret < 0)
        return ret;
    return sbk_subs_add_cue(ctx, t[0], t[1], field[f->text], flen[f->text], SBK_SUBS_ASS, l->no);
}

static int read_ass(SbkSubsCtx *ctx, size_t first)
{
    /* The usual ASS v4+ order, for files with no Format line. */
    AssFormat f = {.start = 1, .end = 2, .text = 9, .nfields = 10};
    int in_events = 0, ret = 0;
    for (size_t i = first; i < ctx->n && ret == 0; i++) {
        const SbkSubsLine *l = &ctx->lines[i];
        const char *s = skip_blanks(l->s);
        if (s[0] == '[') {
            in_events = strcasecmp(s, "[Events]") == 0;
            continue;
        }
        if (!in_events)
            continue;
        if (strncasecmp(s, "Format:", 7) == 0)
            ret = read_format(ctx, l, s + 7, &f);
        else if (strncasecmp(s, "Dialogue:", 9) == 0)
            ret = read_dialogue(ctx, l, s + 9, &f);
        /* Comment:, Picture:, Sound:, Movie:, Command: carry no text to show. */
    }
    return ret;
}

/* An ASS/SSA file has an [Events] or [Script Info] section somewhere. */
static int sniff_ass(const SbkSubsLine *lines, size_t n, size_t first)
{
    for (size_t i = first; i < n; i++)
        if (strcasecmp(lines[i].s, "[Events]") == 0 || strcasecmp(lines[i].s, "[Script Info]") == 0)
            return 1;
    return 0;
}

const SbkSubsFormat sbk_subs_format_ass = {"ass", sniff_ass, read_ass};
