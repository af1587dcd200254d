/* src/kiosk/search_vtt.c - the cues of a WebVTT file as the search index
 * wants them: start and end times and the text without tags (see search.h).
 * Reads what sbk_subs_to_vtt writes, and skips what it does not know. */
#include "kiosk/search.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/error.h"

/* ---- WebVTT cue text ----------------------------------------------------- */

/* "hh:mm:ss.ttt" or "mm:ss.ttt" at *p; -1 if not a timestamp. */
static int64_t vtt_time(const char **pp, const char *end)
{
    const char *p = *pp;
    int64_t parts[3] = {0, 0, 0};
    int n = 0;
    while (p < end && *p == ' ')
        p++;
    for (;;) {
        if (p >= end || *p < '0' || *p > '9')
            return -1;
        int64_t v = 0;
        int digits = 0;
        while (p < end && *p >= '0' && *p <= '9' && digits < 9) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        if (n == 3)
            return -1;
        parts[n++] = v;
        if (p < end && *p == ':')
            p++;
        else
            break;
    }
    if (n < 2 || p >= end || *p != '.')
        return -1;
    p++;
    int64_t ms = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 3) {
        ms = ms * 10 + (*p++ - '0');
        digits++;
    }
    if (digits != 3)
        return -1;
    int64_t h = n == 3 ? parts[0] : 0, m = parts[n - 2], s = parts[n - 1];
    if (m > 59 || s > 59)
        return -1;
    *pp = p;
    return ((h * 60 + m) * 60 + s) * 1000 + ms;
}

/* Append one cue text line with tags removed and entities decoded. */
static size_t vtt_clean(char *out, size_t o, const char *s, const char *e)
{
    static const struct { const char *name; const char *text; } ent[] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", " "},
        {"&lrm;", ""},  {"&rlm;", ""}, {"&quot;", "\""}, {"&apos;", "'"},
    };
    while (s < e) {
        if (*s == '<') {
            const char *close = memchr(s, '>', (size_t)(e - s));
            s = close ? close + 1 : e;
            continue;
        }
        if (*s == '&') {
            size_t i;
            for (i = 0; i < sizeof ent / sizeof ent[0]; i++) {
                size_t n = strlen(ent[i].name);
                if ((size_t)(e - s) >= n && memcmp(s, ent[i].name, n) == 0) {
                    size_t t = strlen(ent[i].text);
                    memcpy(out + o, ent[i].text, t);
                    o += t;
                    s += n;
                    break;
                }
            }
            if (i < sizeof ent / sizeof ent[0])
                continue;
        }
        out[o++] = *s++;
    }
    return o;
}

static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

static int blank(const char *s, const char *e)
{
    for (; s < e; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r')
            return 0;
    return 1;
}

int sbk_search_vtt_begin(SbkVttCursor *c, const char *vtt, size_t len)
{
    c->p = vtt;
    c->end = vtt + len;
    c->text = NULL;
    if (len >= 3 && memcmp(c->p, "\xef\xbb\xbf", 3) == 0)
        c->p += 3;
    if ((size_t)(c->end - c->p) < 6 || memcmp(c->p, "WEBVTT", 6) != 0)
        return 1; /* not WebVTT: no cues */
    c->text = malloc(len + 1); /* a cue's cleaned text is never longer than the file */
    if (!c->text)
        return SBK_ENOMEM;
    /* Skip the header block. */
    while (c->p < c->end) {
        const char *le = line_end(c->p, c->end);
        int was_blank = blank(c->p, le);
        c->p = le < c->end ? le + 1 : c->end;
        if (was_blank)
            break;
    }
    return 0;
}

/* The next cue with valid times and some text; 0 at the end. */
int sbk_search_vtt_next(SbkVttCursor *c, int64_t *start, int64_t *stop, size_t *tlen)
{
    const char *p = c->p, *end = c->end;
    while (p < end) {
        /* One block: find its timing line (the first or second line). */
        const char *le = line_end(p, end);
        if (blank(p, le)) {
            p = le < end ? le + 1 : end;
            continue;
        }
        const char *arrow = memmem(p, (size_t)(le - p), "-->", 3);
        if (!arrow && le < end) {
            /* a cue identifier, then the timing line */
            const char *p2 = le + 1, *le2 = line_end(p2, end);
            if (!blank(p2, le2) && (arrow = memmem(p2, (size_t)(le2 - p2), "-->", 3)) != NULL) {
                p = p2;
                le = le2;
            }
        }
        if (!arrow) {
            /* NOTE, STYLE, REGION or anything else: skip the whole block */
            while (p < end && !blank(p, le = line_end(p, end)))
                p = le < end ? le + 1 : end;
            continue;
        }
        const char *t = p;
        *start = vtt_time(&t, arrow);
        t = arrow + 3;
        *stop = vtt_time(&t, le);
        p = le < end ? le + 1 : end;
        /* The text lines, up to the next blank line. */
        size_t o = 0;
        while (p < end) {
            le = line_end(p, end);
            if (blank(p, le))
                break;
            const char *te = le;
            if (te > p && te[-1] == '\r')
                te--;
            if (o > 0)
                c->text[o++] = ' ';
            o = vtt_clean(c->text, o, p, te);
            p = le < end ? le + 1 : end;
        }
        if (*start >= 0 && *stop >= 0 && o > 0) {
            c->text[o] = '\0';
            *tlen = o;
            c->p = p;
            return 1;
        }
    }
    c->p = p;
    return 0;
}


int sbk_search_vtt_cues(const char *vtt, size_t len, const int *cues, int n, char **texts)
{
    SbkVttCursor c;
    int64_t start, stop;
    size_t tlen;
    for (int i = 0; i < n; i++)
        texts[i] = NULL;
    int ret = sbk_search_vtt_begin(&c, vtt, len);
    if (ret != 0)
        return ret < 0 ? ret : 0;
    for (int cue = 0; ret == 0 && sbk_search_vtt_next(&c, &start, &stop, &tlen); cue++) {
        for (int i = 0; i < n; i++) {
            if (cues[i] == cue && !texts[i]) {
                texts[i] = strdup(c.text);
                if (!texts[i])
                    ret = SBK_ENOMEM;
            }
        }
    }
    free(c.text);
    if (ret < 0)
        for (int i = 0; i < n; i++) {
            free(texts[i]);
            texts[i] = NULL;
        }
    return ret;
}

