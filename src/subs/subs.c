/* subs.c - the public ends of the subtitle module: load a file, write
 * WebVTT, free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"
#include "subs/subs_int.h"

void sbk_subs_free(SbkSubs **psubs)
{
    if (!psubs || !*psubs)
        return;
    SbkSubs *s = *psubs;
    for (size_t i = 0; i < s->n; i++)
        free(s->cues[i].text);
    free(s->cues);
    free(s);
    *psubs = NULL;
}

/* One line of cue text, escaped: the kept tags pass, every other '<' and
 * every '&' and '>' become entities (so "-->" cannot appear either). */
static int put_escaped_line(SbkSubsBuf *b, const char *s, const char *e)
{
    int ret = 0;
    while (s < e && ret == 0) {
        size_t k = *s == '<' ? sbk_subs_kept_tag(s, e) : 0;
        if (k) {
            ret = sbk_subs_buf_add(b, s, k);
            s += k;
            continue;
        }
        switch (*s) {
        case '<': ret = sbk_subs_buf_add(b, "&lt;", 4); break;
        case '>': ret = sbk_subs_buf_add(b, "&gt;", 4); break;
        case '&': ret = sbk_subs_buf_add(b, "&amp;", 5); break;
        default: ret = sbk_subs_buf_addc(b, *s); break;
        }
        s++;
    }
    return ret;
}

/* Cue text, line by line; blank (or blank-looking) lines are left out
 * because a blank line ends a WebVTT cue. */
static int put_text(SbkSubsBuf *b, const char *text)
{
    const char *p = text ? text : "";
    int ret = 0, any = 0;
    while (*p && ret == 0) {
        size_t n = strcspn(p, "\r\n");
        const char *s = p, *e = p + n;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        if (s < e) {
            if (any)
                ret = sbk_subs_buf_addc(b, '\n');
            if (ret == 0)
                ret = put_escaped_line(b, p, e);
            any = 1;
        }
        p = e;
        if (*p)
            p++;
    }
    return ret;
}

int sbk_subs_to_vtt(const SbkSubs *subs, char **out, size_t *out_len, SbkError *err)
{
    SbkSubsBuf b = {0};
    int ret = 0;
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!subs)
        return sbk_err(err, SBK_EINVAL, "no subtitles to write");
    ret = sbk_subs_buf_add(&b, "WEBVTT\n\n", 8);
    for (size_t i = 0; i < subs->n && ret == 0; i++) {
        char a[24], z[24], line[64];
        sbk_fmt_ms(subs->cues[i].start_ms, a, sizeof a);
        sbk_fmt_ms(subs->cues[i].end_ms, z, sizeof z);
        int n = snprintf(line, sizeof line, "%s --> %s\n", a, z);
        ret = sbk_subs_buf_add(&b, line, (size_t)n);
        if (ret == 0)
            ret = put_text(&b, subs->cues[i].text);
        if (ret == 0)
            ret = sbk_subs_buf_add(&b, "\n\n", 2);
    }
    if (ret < 0) {
        free(b.p);
        return sbk_err(err, SBK_ENOMEM, "out of memory writing WebVTT");
    }
    *out = b.p;
    if (out_len)
        *out_len = b.len;
    return 0;
}

int sbk_subs_load(const char *path, SbkSubs **out, SbkError *err)
{
    char *raw = NULL, *text = NULL, enc[32];
    size_t len = 0, tlen = 0;
    *out = NULL;
    int ret = sbk_read_file(path, SBK_SUBS_MAX_BYTES, &raw, &len, err);
    if (ret == SBK_ENOENT) {
        ret = sbk_err(err, SBK_ENOENT, "%s: no such file", path);
        goto done;
    }
    if (ret < 0)
        goto done;
    ret = sbk_charset_to_utf8((const uint8_t *)raw, len, &text, &tlen, enc, err);
    if (ret < 0) {
        sbk_err_prefix(err, "%s", path);
        goto done;
    }
    if (strcmp(enc, "UTF-8") != 0)
        sbk_log(SBK_LOG_INFO, "%s: read as %s", path, enc);
    ret = sbk_subs_parse(text, tlen, path, out, err);
    if (ret < 0)
        goto done;
    memcpy((*out)->encoding, enc, sizeof enc);
done:
    free(text);
    free(raw);
    return ret;
}
