/* vtt.c - WebVTT in: header, NOTE/STYLE/REGION blocks, cue identifiers
 * and cue settings are skipped; text keeps <i> <b> <u>. */
#include "subs/subs_int.h"

#include <stdlib.h>
#include <string.h>

static int skip_block(const SbkSubsLine *l)
{
    return sbk_subs_starts_word(l->s, "NOTE") || sbk_subs_starts_word(l->s, "STYLE") ||
           sbk_subs_starts_word(l->s, "REGION");
}

static int read_vtt(SbkSubsCtx *ctx, size_t first)
{
    const SbkSubsLine *L = ctx->lines;
    SbkSubsBuf raw = {0};
    int ret = 0;
    size_t i = first + 1;
    /* The header runs to the first blank line (or to a cue written
     * straight after it). */
    while (i < ctx->n && !sbk_subs_blank(&L[i]) && !strstr(L[i].s, "-->"))
        i++;
    while (i < ctx->n) {
        if (sbk_subs_blank(&L[i])) {
            i++;
            continue;
        }
        if (skip_block(&L[i])) {
            while (i < ctx->n && !sbk_subs_blank(&L[i]))
                i++;
            continue;
        }
        size_t t;
        if (strstr(L[i].s, "-->")) {
            t = i;
        } else if (i + 1 < ctx->n && strstr(L[i + 1].s, "-->")) {
            t = i + 1; /* L[i] is the cue identifier */
        } else if (sbk_subs_looks_like_timing(&L[i])) {
            t = i;
        } else {
            char q[80];
            sbk_subs_quote(L[i].s, L[i].len, q);
            ret = sbk_err(ctx->err, SBK_EINVAL,
                          "%s:%zu: expected a cue timing like \"00:00:01.000 --> 00:00:04.000\", "
                          "found \"%s\"",
                          ctx->name, L[i].no, q);
            goto done;
        }
        int64_t start, end;
        ret = sbk_subs_parse_timing(ctx, &L[t], SBK_SUBS_VTT, &start, &end);
        if (ret < 0)
            goto done;
        raw.len = 0;
        ret = sbk_subs_buf_add(&raw, "", 0);
        for (i = t + 1; ret == 0 && i < ctx->n && !sbk_subs_blank(&L[i]); i++) {
            if (sbk_subs_timing_ok(&L[i], SBK_SUBS_VTT))
                break; /* the next cue, without a blank line before it */
            ret = sbk_subs_buf_add(&raw, L[i].s, L[i].len);
            if (ret == 0)
                ret = sbk_subs_buf_addc(&raw, '\n');
        }
        if (ret < 0) {
            ret = sbk_err(ctx->err, SBK_ENOMEM, "%s: out of memory", ctx->name);
            goto done;
        }
        ret = sbk_subs_add_cue(ctx, start, end, raw.p, raw.len, SBK_SUBS_VTT, L[t].no);
        if (ret < 0)
            goto done;
    }
done:
    free(raw.p);
    return ret;
}

/* A WebVTT file starts (after blank lines) with the word WEBVTT. */
static int sniff_vtt(const SbkSubsLine *lines, size_t n, size_t first)
{
    return first < n && sbk_subs_starts_word(lines[first].s, "WEBVTT");
}

const SbkSubsFormat sbk_subs_format_vtt = {"vtt", sniff_vtt, read_vtt};
