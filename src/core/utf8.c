#include "sabak/core.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int32_t sbk_utf8_next(const char **pp, const char *end)
{
    const unsigned char *p = (const unsigned char *)*pp;
    const unsigned char *e = (const unsigned char *)end;
    if (p >= e)
        return -1;
    unsigned c = p[0];
    int n;
    int32_t cp, min;
    if (c < 0x80) {
        *pp += 1;
        return (int32_t)c;
    } else if ((c & 0xe0) == 0xc0) {
        n = 1; cp = c & 0x1f; min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 2; cp = c & 0x0f; min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 3; cp = c & 0x07; min = 0x10000;
    } else {
        *pp += 1;
        return -1;
    }
    if (e - p <= n) {
        *pp += 1;
        return -1;
    }
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            *pp += 1;
            return -1;
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        *pp += 1;
        return -1;
    }
    *pp += n + 1;
    return cp;
}

int sbk_utf8_valid(const char *s, size_t len)
{
    const char *p = s, *end = s + len;
    while (p < end) {
        if ((unsigned char)*p < 0x80) {
            p++;
            continue;
        }
        if (sbk_utf8_next(&p, end) < 0)
            return 0;
    }
    return 1;
}

int sbk_utf8_put(char *out, int32_t cp)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Simple case folding for the scripts our users write: Latin, Latin-1,
 * Cyrillic with its extensions (Kyrgyz ң ө ү live in U+04A2..U+04E9). */
static int32_t fold_cp(int32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xc0 && c <= 0xde && c != 0xd7)
        return c + 32;
    if (c >= 0x410 && c <= 0x42f) /* А..Я */
        return c + 32;
    if (c >= 0x400 && c <= 0x40f) /* Ѐ..Џ */
        c += 80;
    if (c == 0x451) /* ё -> е */
        return 0x435;
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf) || (c >= 0x4d0 && c <= 0x52f))
        return c | 1; /* upper case is the even code point in these blocks */
    if (c >= 0x4c1 && c <= 0x4ce)
        return (c & 1) ? c + 1 : c;
    if (c == 0x4c0)
        return 0x4cf;
    return c;
}

char *sbk_utf8_fold(const char *s, size_t len)
{
    char *out = malloc(len + 1); /* folding never grows these scripts */
    if (!out)
        return NULL;
    const char *p = s, *end = s + len;
    size_t o = 0;
    while (p < end) {
        int32_t cp = sbk_utf8_next(&p, end);
        if (cp < 0)
            continue; /* drop invalid bytes */
        if (cp == 0x301)
            continue; /* stress marks in teaching texts: "ба\u0301нк" matches "банк" */
        cp = fold_cp(cp);
        char tmp[4];
        int n = sbk_utf8_put(tmp, cp);
        if (o + (size_t)n > len)
            break;
        memcpy(out + o, tmp, (size_t)n);
        o += (size_t)n;
    }
    out[o] = '\0';
    return out;
}

void sbk_fmt_ms(int64_t ms, char *buf, size_t n)
{
    if (ms < 0)
        ms = 0;
    snprintf(buf, n, "%02" PRId64 ":%02d:%02d.%03d", ms / 3600000, (int)(ms / 60000 % 60),
             (int)(ms / 1000 % 60), (int)(ms % 1000));
}

void sbk_fmt_hms(int64_t ms, char *buf, size_t n)
{
    if (ms < 0)
        ms = 0;
    snprintf(buf, n, "%02" PRId64 ":%02d:%02d", ms / 3600000, (int)(ms / 60000 % 60),
             (int)(ms / 1000 % 60));
}
