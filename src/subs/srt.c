/* srt.c - SubRip, as old Windows tools and YouTube write it: optional cue
 * numbers, "," or "." before the milliseconds, 1-digit hours, missing blank
 * lines between cues, blank lines inside a cue's text. */
#include "subs/subs_int.h"

#include <stdlib.h>
#include <string.h>

static int is_number(const SbkSubsLine *l)
{
    if (l->len == 0 || l->len > 9)
        return 0;
    for (size_t i = 0; i < l->len; i++)
        if (l->s[i] < '0' || l->s[i] > '9')
            return 0;
    return 1;
}

/* Does a new cue start at line k: a timing line, or a number followed by
 * one (or by nothing: a stray number at the end)? */
static int cue_starts(const SbkSubsCtx *ctx, size_t k)
{
    const SbkSubsLine *L = ctx->lines;
    if (sbk_subs_looks_like_timing(&L[k]))
        return 1;
    return is_number(&L[k]) &&
           (k + 1 >= ctx->n || sbk_subs_blank(&L[k + 1]) || sbk_subs_looks_like_timing(&L[k + 1]));
}

/* Gather a cue's text from line j on. It ends at a blank line followed by
 * the next cue, or at a timing line (with or without its number) when the
 * blank line is missing. Text after a blank line that does not start a cue
 * belongs to this cue: some tools leave blank lines inside the text.
 * Returns the index of the first line not taken. */
static size_t gather_text(const SbkSubsCtx *ctx, size_t j, SbkSubsBuf *raw, int *ret)
{
    const SbkSubsLine *L = ctx->lines;
    for (;;) {
        while (j < ctx->n && !sbk_subs_blank(&L[j])) {
            if (sbk_subs_timing_ok(&L[j], SBK_SUBS_SRT))
                return j;
            if (is_number(&L[j]) && j + 1 < ctx->n && sbk_subs_timing_ok(&L[j + 1], SBK_SUBS_SRT))
                return j;
            if ((*ret = sbk_subs_buf_add(raw, L[j].s, L[j].len)) < 0 ||
                (*ret = sbk_subs_buf_addc(raw, '\n')) < 0)
                return j;
            j++;
        }
        size_t k = j;
        while (k < ctx->n && sbk_subs_blank(&L[k]))
            k++;
        if (k >= ctx->n || cue_starts(ctx, k))
            return j;
        j = k;
    }
}

static int read_srt(SbkSubsCtx *ctx, size_t first)
{
    const SbkSubsLine *L = ctx->lines;
    SbkSubsBuf raw = {0};
    int ret = 0;
    size_t i = first;
    while (i < ctx->n) {
        if (sbk_subs_blank(&L[i])) {
            i++;
            continue;
        }
        size_t t;
        if (is_number(&L[i]) && i + 1 < ctx->n && sbk_subs_looks_like_timing(&L[i + 1])) {
            t = i + 1;
        } else if (sbk_subs_looks_like_timing(&L[i])) {
            t = i;
        } else if (is_number(&L[i]) && (i + 1 >= ctx->n || sbk_subs_blank(&L[i + 1]))) {
            i++; /* a cue number with no cue: harmless */
            continue;
        } else {
            char q[80];
            sbk_subs_quote(L[i].s, L[i].len, q);
            ret = sbk_err(ctx->err, SBK_EINVAL,
                          "%s:%zu: expected a cue timing like \"00:00:01,000 --> 00:00:04,000\", "
                          "found \"%s\"",
                          ctx->name, L[i].no, q);
            goto done;
        }
        int64_t start, end;
        ret = sbk_subs_parse_timing(ctx, &L[t], SBK_SUBS_SRT, &start, &end);
        if (ret < 0)
            goto done;
        raw.len = 0;
        ret = sbk_subs_buf_add(&raw, "", 0);
        if (ret == 0)
            i = gather_text(ctx, t + 1, &raw, &ret);
        if (ret < 0) {
            ret = sbk_err(ctx->err, SBK_ENOMEM, "%s: out of memory", ctx->name);
            goto done;
        }
        ret = sbk_subs_add_cue(ctx, start, end, raw.p, raw.len, SBK_SUBS_SRT, L[t].no);
        if (ret < 0)
            goto done;
    }
done:
    free(raw.p);
    return ret;
}

/* Anything that is not another format is read as SRT. */
const SbkSubsFormat sbk_subs_format_srt = {"srt", NULL, read_srt};
