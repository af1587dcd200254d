/* parse.c - sbk_subs_parse: split the text into lines, pick the reader
 * from the content (never the file name) through the format table, then
 * check and sort the cues. The helpers the readers share are in cue.c. */
#include "subs/subs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sabak/core.h"

/* Split into lines at LF, CRLF, CR (and the CR CR LF some converters
 * leave), drop trailing blanks. The lines point into `buf`, a copy. */
static int split_lines(const char *text, size_t len, char **pbuf, SbkSubsLine **plines, size_t *pn)
{
    char *buf = malloc(len + 1);
    size_t cap = 64, n = 0;
    SbkSubsLine *lines = malloc(cap * sizeof *lines);
    if (!buf || !lines) {
        free(buf);
        free(lines);
        return SBK_ENOMEM;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    size_t i = 0, no = 1;
    while (i < len) {
        size_t st = i;
        while (i < len && buf[i] != '\n' && buf[i] != '\r')
            i++;
        size_t e = i;
        if (i < len) {
            if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
                i++;
            else if (buf[i] == '\r' && i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
                i += 2;
            i++;
        }
        while (e > st && (buf[e - 1] == ' ' || buf[e - 1] == '\t'))
            e--;
        buf[e] = '\0';
        if (n == cap) {
            cap *= 2;
            SbkSubsLine *nl = realloc(lines, cap * sizeof *nl);
            if (!nl) {
                free(buf);
                free(lines);
                return SBK_ENOMEM;
            }
            lines = nl;
        }
        lines[n++] = (SbkSubsLine){.s = buf + st, .len = e - st, .no = no++};
    }
    *pbuf = buf;
    *plines = lines;
    *pn = n;
    return 0;
}

/* The 1-based line of the first NUL byte or invalid UTF-8 sequence, or 0
 * if the text is clean. */
static size_t find_bad_text(const char *s, size_t len, int *is_nul)
{
    const char *p = s, *end = s + len;
    size_t no = 1;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == 0) {
            *is_nul = 1;
            return no;
        }
        if (c == '\n' || (c == '\r' && (p + 1 == end || (p[1] != '\n' &&
                                                            !(p[1] == '\r' && p + 2 < end && p[2] == '\n')))))
            no++; /* line ends counted as split_lines does */
        if (c < 0x80)
            p++;
        else if (sbk_utf8_next(&p, end) < 0)
            return no;
    }
    return 0;
}

/* Tried in this order; the last one (SRT) takes whatever is left. */
static const SbkSubsFormat *const formats[] = {&sbk_subs_format_vtt, &sbk_subs_format_ass,
                                               &sbk_subs_format_srt};

/* Stable merge sort by start time: cues that start together keep the order
 * the trainer wrote them in. */
static void merge_sort(SbkCue *v, SbkCue *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(v, tmp, h);
    merge_sort(v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = v[j].start_ms < v[i].start_ms ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static int sort_cues(SbkSubsCtx *ctx)
{
    SbkSubs *s = ctx->subs;
    size_t i;
    for (i = 1; i < s->n; i++)
        if (s->cues[i].start_ms < s->cues[i - 1].start_ms)
            break;
    if (i >= s->n)
        return 0;
    SbkCue *tmp = malloc(s->n * sizeof *tmp);
    if (!tmp)
        return sbk_err(ctx->err, SBK_ENOMEM, "%s: out of memory", ctx->name);
    merge_sort(s->cues, tmp, s->n);
    free(tmp);
    s->sorted = 1;
    sbk_log(SBK_LOG_WARN, "%s: cues were out of order; sorted", ctx->name);
    return 0;
}

int sbk_subs_parse(const char *utf8, size_t len, const char *name, SbkSubs **out, SbkError *err)
{
    char *buf = NULL;
    SbkSubsLine *lines = NULL;
    size_t n = 0;
    SbkSubs *subs = NULL;
    int ret = 0;
    *out = NULL;
    if (!name)
        name = "subtitles";
    if (!utf8) {
        utf8 = "";
        len = 0;
    }
    /* The file limit applies to the bytes read; converted to UTF-8, a
     * Windows-1251 file doubles and UTF-16 grows by half. */
    if (len > 3 * (size_t)SBK_SUBS_MAX_BYTES) {
        ret = sbk_err(err, SBK_ELIMIT, "%s: too large for a subtitle file (%zu bytes)", name, len);
        goto done;
    }
    if (len >= 3 && memcmp(utf8, "\xef\xbb\xbf", 3) == 0) {
        utf8 += 3;
        len -= 3;
    }
    int is_nul = 0;
    size_t bad_line = find_bad_text(utf8, len, &is_nul);
    if (bad_line) {
        ret = sbk_err(err, SBK_EINVAL, "%s:%zu: %s", name, bad_line,
                      is_nul ? "binary data (a NUL byte) in a text file" : "text is not valid UTF-8");
        goto done;
    }
    if (split_lines(utf8, len, &buf, &lines, &n) < 0) {
        ret = sbk_err(err, SBK_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    subs = calloc(1, sizeof *subs);
    if (!subs) {
        ret = sbk_err(err, SBK_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    snprintf(subs->encoding, sizeof subs->encoding, "UTF-8");
    SbkSubsCtx ctx = {.lines = lines, .n = n, .name = name, .subs = subs, .err = err};
    size_t first = 0;
    while (first < n && sbk_subs_blank(&lines[first]))
        first++;
    const SbkSubsFormat *fmt = NULL;
    for (size_t i = 0; !fmt; i++)
        if (!formats[i]->sniff || formats[i]->sniff(lines, n, first))
            fmt = formats[i];
    ret = fmt->read(&ctx, first);
    if (ret < 0)
        goto done;
    if (subs->n == 0) {
        ret = sbk_err(err, SBK_EINVAL, "%s: no subtitles found", name);
        goto done;
    }
    ret = sort_cues(&ctx);
    if (ret < 0)
        goto done;
    *out = subs;
    subs = NULL;
done:
    sbk_subs_free(&subs);
    free(lines);
    free(buf);
    return ret;
}
