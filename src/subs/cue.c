/* cue.c - the helpers every subtitle reader shares: timestamps, timing
 * lines, the checks on a cue's times, adding a cue, quoting for messages.
 * The readers (srt.c, vtt.c, ass.c) call these; nothing here calls a
 * reader or parse.c. */
#include "subs/subs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"

void sbk_subs_quote(const char *s, size_t n, char out[80])
{
    const size_t max = 60;
    if (n <= max) {
        memcpy(out, s, n);
        out[n] = '\0';
        return;
    }
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--; /* do not cut a Cyrillic letter in half */
    memcpy(out, s, k);
    memcpy(out + k, "...", 4);
}

/* Read exactly `want` digits (want > 0) or 1..-want digits (want < 0). */
static int digits(const char **pp, const char *end, int want, int64_t *v)
{
    const char *p = *pp;
    int n = 0, max = want > 0 ? want : -want;
    int64_t x = 0;
    while (p < end && *p >= '0' && *p <= '9' && n < max) {
        x = x * 10 + (*p - '0');
        p++;
        n++;
    }
    if (n == 0 || (want > 0 && n != want) || (p < end && *p >= '0' && *p <= '9'))
        return -1;
    *pp = p;
    *v = x;
    return 0;
}

int sbk_subs_parse_ts(const char *s, size_t n, SbkSubsStyle style, int64_t *ms)
{
    const char *p = s, *end = s + n;
    int64_t f[3] = {0, 0, 0}, frac = 0;
    int nf = 0;
    /* Up to three colon-separated fields; the first may be 1-3 digits. */
    if (digits(&p, end, -3, &f[nf++]) < 0)
        return -1;
    while (p < end && *p == ':' && nf < 3) {
        p++;
        if (digits(&p, end, 2, &f[nf++]) < 0)
            return -1;
    }
    if (p >= end || (*p != '.' && *p != ','))
        return -1;
    if (style == SBK_SUBS_ASS && *p != '.')
        return -1;
    p++;
    if (digits(&p, end, style == SBK_SUBS_ASS ? 2 : 3, &frac) < 0 || p != end)
        return -1;
    if (style == SBK_SUBS_ASS)
        frac *= 10;
    int64_t h, m, sec;
    if (nf == 3) {
        h = f[0], m = f[1], sec = f[2];
    } else if (nf == 2 && style == SBK_SUBS_VTT) {
        /* WebVTT may leave the hours out: "01:02.500" */
        h = 0, m = f[0], sec = f[1];
        if (s[2] != ':') /* minutes must then be 2 digits */
            return -1;
    } else {
        return -1;
    }
    if (m >= 60 || sec >= 60)
        return -1;
    *ms = ((h * 60 + m) * 60 + sec) * 1000 + frac;
    return 0;
}

int sbk_subs_check_times(SbkSubsCtx *ctx, const SbkSubsLine *l, const char *stok, size_t slen,
                         int64_t start, const char *etok, size_t elen, int64_t end)
{
    char q[80];
    if (start > SBK_SUBS_MAX_MS || end > SBK_SUBS_MAX_MS) {
        int first = start > SBK_SUBS_MAX_MS;
        sbk_subs_quote(first ? stok : etok, first ? slen : elen, q);
        return sbk_err(ctx->err, SBK_EINVAL, "%s:%zu: timestamp \"%s\" is past the 12-hour limit",
                       ctx->name, l->no, q);
    }
    if (end < start)
        return sbk_err(ctx->err, SBK_EINVAL, "%s:%zu: cue ends before it starts", ctx->name, l->no);
    if (end == start)
        return sbk_err(ctx->err, SBK_EINVAL, "%s:%zu: cue ends as soon as it starts", ctx->name,
                       l->no);
    return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* Find the two timestamps of a timing line: [a, a+an) before "-->" and the
 * first word after it. Returns -1 without an arrow or with an empty side. */
static int split_timing(const SbkSubsLine *l, const char **a, size_t *an, const char **c, size_t *cn)
{
    const char *s = l->s, *e = l->s + l->len;
    const char *arrow = strstr(s, "-->");
    if (!arrow)
        return -1;
    const char *x = s, *y = arrow;
    while (x < y && is_space(*x))
        x++;
    while (y > x && is_space(y[-1]))
        y--;
    const char *u = arrow + 3, *v;
    while (u < e && is_space(*u))
        u++;
    for (v = u; v < e && !is_space(*v);)
        v++;
    *a = x, *an = (size_t)(y - x), *c = u, *cn = (size_t)(v - u);
    return x == y || u == v ? -1 : 0;
}

int sbk_subs_timing_ok(const SbkSubsLine *l, SbkSubsStyle style)
{
    const char *a, *c;
    size_t an, cn;
    int64_t t;
    return split_timing(l, &a, &an, &c, &cn) == 0 && sbk_subs_parse_ts(a, an, style, &t) == 0 &&
           sbk_subs_parse_ts(c, cn, style, &t) == 0;
}

int sbk_subs_looks_like_timing(const SbkSubsLine *l)
{
    if (strstr(l->s, "-->"))
        return 1;
    const char *p = l->s;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > l->s && p[0] == ':' && p[1] >= '0' && p[1] <= '9';
}

int sbk_subs_parse_timing(SbkSubsCtx *ctx, const SbkSubsLine *l, SbkSubsStyle style,
                          int64_t *start, int64_t *end)
{
    const char *a, *c;
    size_t an, cn;
    char q[80];
    if (split_timing(l, &a, &an, &c, &cn) < 0) {
        sbk_subs_quote(l->s, l->len, q);
        return sbk_err(ctx->err, SBK_EINVAL, "%s:%zu: bad cue timing \"%s\" (expected \"%s\")",
                       ctx->name, l->no, q,
                       style == SBK_SUBS_VTT ? "00:00:01.000 --> 00:00:04.000"
                                             : "00:00:01,000 --> 00:00:04,000");
    }
    if (sbk_subs_parse_ts(a, an, style, start) < 0) {
        sbk_subs_quote(a, an, q);
        return sbk_err(ctx->err, SBK_EINVAL, "%s:%zu: bad timestamp \"%s\"", ctx->name, l->no, q);
    }
    if (sbk_subs_parse_ts(c, cn, style, end) < 0) {
        sbk_subs_quote(c, cn, q);
        return sbk_err(ctx->err, SBK_EINVAL, "%s:%zu: bad timestamp \"%s\"", ctx->name, l->no, q);
    }
    return sbk_subs_check_times(ctx, l, a, an, *start, c, cn, *end);
}

int sbk_subs_add_cue(SbkSubsCtx *ctx, int64_t start, int64_t end, const char *raw, size_t len,
                     SbkSubsStyle style, size_t lineno)
{
    char *text = NULL;
    int ret = sbk_subs_clean_text(ctx, raw, len, style, lineno, &text);
    if (ret < 0)
        return ret;
    if (!text[0]) {
        free(text); /* a cue with nothing to show is not worth a line in the output */
        return 0;
    }
    SbkSubs *s = ctx->subs;
    if (s->n >= SBK_SUBS_MAX_CUES) {
        free(text);
        return sbk_err(ctx->err, SBK_ELIMIT, "%s:%zu: more than %d cues", ctx->name, lineno,
                       SBK_SUBS_MAX_CUES);
    }
    if (s->n == ctx->cap) {
        size_t cap = ctx->cap ? ctx->cap * 2 : 64;
        SbkCue *nc = realloc(s->cues, cap * sizeof *nc);
        if (!nc) {
            free(text);
            return sbk_err(ctx->err, SBK_ENOMEM, "%s: out of memory", ctx->name);
        }
        s->cues = nc;
        ctx->cap = cap;
    }
    s->cues[s->n++] = (SbkCue){.start_ms = start, .end_ms = end, .text = text};
    return 0;
}

int sbk_subs_starts_word(const char *s, const char *w)
{
    size_t n = strlen(w);
    return strncmp(s, w, n) == 0 && (s[n] == '\0' || s[n] == ' ' || s[n] == '\t');
}
