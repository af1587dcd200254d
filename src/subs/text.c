/* text.c - cue text: from what a trainer's tool wrote (SRT with <font>
 * tags, WebVTT with entities and <v> spans, ASS with {\i1} overrides) to the
 * stored form: UTF-8 lines, only <i> <b> <u> kept, no control characters,
 * no blank lines, capped in length. */
#include "subs/subs_int.h"

#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"

/* A '<' with no '>' this close is a plain '<', a '{' with no '}' a plain
 * '{': the bounds keep a hostile file from making the scan quadratic. */
#define TAG_SCAN_MAX 256
#define BRACE_SCAN_MAX 1024

int sbk_subs_buf_add(SbkSubsBuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return SBK_ENOMEM;
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int sbk_subs_buf_addc(SbkSubsBuf *b, char c) { return sbk_subs_buf_add(b, &c, 1); }

static const char *const kept_tags[] = {"<i>", "</i>", "<b>", "</b>", "<u>", "</u>"};

size_t sbk_subs_kept_tag(const char *s, const char *end)
{
    for (size_t i = 0; i < sizeof kept_tags / sizeof kept_tags[0]; i++) {
        size_t n = strlen(kept_tags[i]);
        if ((size_t)(end - s) >= n && memcmp(s, kept_tags[i], n) == 0)
            return n;
    }
    return 0;
}

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* A tag's body (between '<' and '>'): keep <i>, <b>, <u> (any case, VTT
 * classes such as <i.loud> dropped), turn <br> into a line break, drop the
 * rest (<font ...>, <v Name>, <c.yellow>, <00:00:01.000>, ...) but keep the
 * text around them. */
static int put_tag(SbkSubsBuf *b, const char *s, size_t n, SbkSubsStyle style)
{
    int close = n > 0 && s[0] == '/';
    const char *p = s + close, *e = s + n;
    size_t k = 0;
    while (p + k < e && is_alpha(p[k]))
        k++;
    char t = k == 1 ? (char)(p[0] | 0x20) : 0;
    if (t == 'i' || t == 'b' || t == 'u') {
        /* Bare, or with WebVTT classes or annotation ("<i.loud>"); an SRT
         * "<b and c>" is not a tag we know. */
        if (p + k == e || (style == SBK_SUBS_VTT && (p[k] == '.' || p[k] == ' '))) {
            char tag[4];
            size_t m = 0;
            tag[m++] = '<';
            if (close)
                tag[m++] = '/';
            tag[m++] = t;
            tag[m++] = '>';
            return sbk_subs_buf_add(b, tag, m);
        }
        return 0;
    }
    if (k == 2 && (p[0] | 0x20) == 'b' && (p[1] | 0x20) == 'r')
        return sbk_subs_buf_addc(b, '\n');
    return 0;
}

/* ASS override block "{\i1\b0\pos(1,2)}": styles that WebVTT can show
 * become tags, everything else goes. */
static int put_override(SbkSubsBuf *b, const char *s, size_t n)
{
    const char *p = s, *e = s + n;
    int ret = 0;
    while (p < e && ret == 0) {
        const char *q = memchr(p, '\\', (size_t)(e - p));
        if (!q)
            break;
        q++;
        const char *r = q;
        while (r < e && *r != '\\')
            r++;
        if (r - q == 2 && (q[0] == 'i' || q[0] == 'b' || q[0] == 'u') && (q[1] == '0' || q[1] == '1')) {
            char tag[4] = {'<', q[0], '>', 0};
            char ctag[5] = {'<', '/', q[0], '>', 0};
            ret = q[1] == '1' ? sbk_subs_buf_add(b, tag, 3) : sbk_subs_buf_add(b, ctag, 4);
        }
        p = r;
    }
    return ret;
}

/* A WebVTT character reference at s ("&amp;", "&#1187;", ...): append what it
 * stands for and return its length, or 0 if it is not one we know. */
static size_t put_entity(SbkSubsBuf *b, const char *s, const char *end, int *ret)
{
    static const struct {
        const char *name;
        int32_t cp;
    } named[] = {{"amp", '&'},      {"lt", '<'},       {"gt", '>'},      {"nbsp", 0xa0},
                 {"lrm", 0x200e},   {"rlm", 0x200f},   {"quot", '"'},    {"apos", '\''}};
    const char *semi = memchr(s, ';', (size_t)(end - s) < 12 ? (size_t)(end - s) : 12);
    if (!semi)
        return 0;
    const char *nm = s + 1;
    size_t n = (size_t)(semi - nm);
    int32_t cp = -1;
    if (n >= 2 && nm[0] == '#') {
        int hex = nm[1] == 'x' || nm[1] == 'X';
        const char *d = nm + 1 + hex;
        int64_t v = 0;
        if (d == semi)
            return 0;
        for (; d < semi; d++) {
            int x = *d >= '0' && *d <= '9'                 ? *d - '0'
                    : hex && *d >= 'a' && *d <= 'f'        ? *d - 'a' + 10
                    : hex && *d >= 'A' && *d <= 'F'        ? *d - 'A' + 10
                                                           : -1;
            if (x < 0 || v > 0x10ffff)
                return 0;
            v = v * (hex ? 16 : 10) + x;
        }
        if (v < 0x20 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || (v >= 0x7f && v < 0xa0))
            return 0;
        cp = (int32_t)v;
    } else {
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
            if (strlen(named[i].name) == n && memcmp(nm, named[i].name, n) == 0)
                cp = named[i].cp;
    }
    if (cp < 0)
        return 0;
    char u[4];
    *ret = sbk_subs_buf_add(b, u, (size_t)sbk_utf8_put(u, cp));
    return (size_t)(semi - s) + 1;
}

/* The end of a tag starting at '<' in s, or NULL if this '<' is plain text:
 * a '>' on the same line, not too far, with no other '<' before it. In SRT
 * and ASS a tag must also start with a letter (or "/" and a letter), so that
 * "x < 3" stays as it is. */
static const char *tag_end(const char *s, const char *end, SbkSubsStyle style)
{
    if (style == SBK_SUBS_ASS)
        return NULL;
    if (style == SBK_SUBS_SRT) {
        const char *p = s + 1;
        if (p < end && *p == '/')
            p++;
        if (p >= end || !is_alpha(*p))
            return NULL;
    }
    for (const char *p = s + 1; p < end && p - s < TAG_SCAN_MAX; p++) {
        if (*p == '>')
            return p;
        if (*p == '<' || *p == '\n')
            return NULL;
    }
    return NULL;
}

/* Stage 1: markup to stored form, one character at a time. */
static int filter_markup(const char *raw, size_t len, SbkSubsStyle style, SbkSubsBuf *b)
{
    const char *p = raw, *end = raw + len;
    int ret = 0;
    while (p < end && ret == 0) {
        unsigned char c = (unsigned char)*p;
        if (c == '<') {
            const char *q = tag_end(p, end, style);
            if (q) {
                ret = put_tag(b, p + 1, (size_t)(q - p - 1), style);
                p = q + 1;
                continue;
            }
        } else if (c == '&' && style == SBK_SUBS_VTT) {
            size_t n = put_entity(b, p, end, &ret);
            if (n) {
                p += n;
                continue;
            }
        } else if (c == '{' && (style == SBK_SUBS_ASS ||
                                (style == SBK_SUBS_SRT && p + 1 < end && p[1] == '\\'))) {
            /* ASS overrides, also found in SRT ("{\an8}"); WebVTT has none. */
            size_t span = (size_t)(end - p) < BRACE_SCAN_MAX ? (size_t)(end - p) : BRACE_SCAN_MAX;
            const char *q = memchr(p, '}', span);
            if (q && !memchr(p, '\n', (size_t)(q - p))) {
                ret = put_override(b, p + 1, (size_t)(q - p - 1));
                p = q + 1;
                continue;
            }
        } else if (c == '\\' && style == SBK_SUBS_ASS && p + 1 < end &&
                   (p[1] == 'N' || p[1] == 'n' || p[1] == 'h')) {
            ret = p[1] == 'N' ? sbk_subs_buf_addc(b, '\n')
                  : p[1] == 'n' ? sbk_subs_buf_addc(b, ' ')
                                : sbk_subs_buf_add(b, "\xc2\xa0", 2);
            p += 2;
            continue;
        } else if (c >= 0x80) {
            const char *q = p;
            int32_t cp = sbk_utf8_next(&q, end);
            /* C1 controls come from a wrong guess or a broken tool; a BOM in
             * the middle of a cue from files glued together. */
            if (cp >= 0 && !(cp >= 0x80 && cp < 0xa0) && cp != 0xfeff)
                ret = sbk_subs_buf_add(b, p, (size_t)(q - p));
            p = q;
            continue;
        } else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            p++;
            continue;
        }
        ret = sbk_subs_buf_addc(b, (char)c);
        p++;
    }
    return ret;
}

/* Stage 2: trim every line, drop the empty ones (a blank line would end a
 * WebVTT cue), join with '\n'. Works in place. */
static void drop_blank_lines(SbkSubsBuf *b)
{
    char *r = b->p, *end = b->p + b->len, *w = b->p;
    while (r < end) {
        char *nl = memchr(r, '\n', (size_t)(end - r));
        char *le = nl ? nl : end;
        char *s = r, *e = le;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s) {
            if (w > b->p)
                *w++ = '\n';
            memmove(w, s, (size_t)(e - s));
            w += e - s;
        }
        r = nl ? nl + 1 : end;
    }
    b->len = (size_t)(w - b->p);
    b->p[b->len] = '\0';
}

/* Stage 3: the length cap. Cut at a character boundary, never inside a tag
 * we keep, and say so: a trainer would rather see a long cue shortened than
 * a lesson refused. */
static void cap_length(SbkSubsCtx *ctx, SbkSubsBuf *b, size_t lineno)
{
    if (b->len <= SBK_SUBS_MAX_CUE_TEXT)
        return;
    size_t k = SBK_SUBS_MAX_CUE_TEXT;
    while (k > 0 && ((unsigned char)b->p[k] & 0xc0) == 0x80)
        k--;
    for (size_t j = k; j > 0 && k - j < 4; j--) {
        if (b->p[j - 1] == '>')
            break;
        if (b->p[j - 1] == '<') {
            k = j - 1;
            break;
        }
    }
    while (k > 0 && (b->p[k - 1] == '\n' || b->p[k - 1] == ' ' || b->p[k - 1] == '\t'))
        k--;
    b->len = k;
    b->p[k] = '\0';
    sbk_log(SBK_LOG_WARN, "%s:%zu: cue text is longer than %d bytes; cut", ctx->name, lineno,
            SBK_SUBS_MAX_CUE_TEXT);
}

int sbk_subs_clean_text(SbkSubsCtx *ctx, const char *raw, size_t len, SbkSubsStyle style,
                        size_t lineno, char **out)
{
    SbkSubsBuf b = {0};
    *out = NULL;
    int ret = sbk_subs_buf_add(&b, "", 0);
    if (ret == 0)
        ret = filter_markup(raw, len, style, &b);
    if (ret < 0) {
        free(b.p);
        return sbk_err(ctx->err, SBK_ENOMEM, "%s: out of memory", ctx->name);
    }
    drop_blank_lines(&b);
    cap_length(ctx, &b, lineno);
    *out = b.p;
    return 0;
}
