/* src/kiosk/webmin.c - comment lines and indentation out of the embedded
 * scripts and styles, line by line, never inside a line (see webmin.h). */
#include "kiosk/webmin.h"

#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int starts(const char *p, const char *e, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(e - p) >= n && memcmp(p, s, n) == 0;
}

/* Whether the line opens a block comment that it does not close. */
static int opens_block(const char *b, const char *e)
{
    int open = 0;
    for (const char *p = b; p + 1 < e; p++) {
        if (!open && p[0] == '/' && p[1] == '*') {
            open = 1;
            p++;
        } else if (open && p[0] == '*' && p[1] == '/') {
            open = 0;
            p++;
        }
    }
    return open;
}

int sbk_webmin(const char *src, size_t len, int js, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    char *dst = malloc(len + 1);
    if (!dst)
        return SBK_ENOMEM;
    size_t o = 0;
    int in_block = 0;
    const char *end = src + len;
    for (const char *line = src; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        const char *b = line, *e = le;
        while (b < e && blank(*b))
            b++;
        while (e > b && blank(e[-1]))
            e--;
        const char *close = NULL;
        if (in_block || starts(b, e, "/*")) {
            /* A comment line: it must end where its comment ends, if it does. */
            for (const char *p = in_block ? b : b + 2; p + 1 < e; p++)
                if (p[0] == '*' && p[1] == '/') {
                    close = p + 2;
                    break;
                }
            if (close && close != e)
                goto keep_all;
            in_block = !close;
            line = next;
            continue;
        }
        if (js && starts(b, e, "//")) {
            line = next;
            continue;
        }
        if (b == e) {
            line = next;
            continue;
        }
        /* A string that may span lines, or a comment that opens after code
         * and may close on a line that looks like a comment line. */
        if ((js && memchr(b, '`', (size_t)(e - b))) || e[-1] == '\\' || opens_block(b, e))
            goto keep_all;
        memcpy(dst + o, b, (size_t)(e - b));
        o += (size_t)(e - b);
        dst[o++] = '\n';
        line = next;
    }
    if (in_block)
        goto keep_all;
    *out = dst;
    *out_len = o;
    return 0;
keep_all:
    free(dst);
    return 1;
}
