/* lesson_reader.c - the line reader that feeds lesson.ini to inih (see
 * lesson_parse.c for why), the section names, and the parser's messages.
 *
 * inih (Debian's build: 200-byte stack line buffer, name:value accepted,
 * " ;" inline comments, indented lines continue the previous value) gets the
 * text through sbk_lesson_reader_next so that every message carries the
 * physical line number, lines of any length work (handed over in pieces
 * that inih sees as continuation lines), indentation is ignored, and unknown
 * sections are caught even when they hold no keys. */
#include "lesson/lesson_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sabak/core.h"
#include "sabak/i18n.h"

const char *const sbk_lesson_section_names[SEC_COUNT] = {
    "lesson", "title", "description", "chapters",
    "chapters.ky", "chapters.ru", "chapters.en", "subtitles",
};

const char *const sbk_lesson_keys[K_COUNT] = {
    "id", "version", "video", "audio_only", "topic", "order", "audio_language",
};

/* The section named s[0..n), blanks around it ignored, or SEC_NONE. */
Section sbk_lesson_section_find(const char *s, size_t n)
{
    while (n && is_blank(*s)) {
        s++;
        n--;
    }
    while (n && is_blank(s[n - 1]))
        n--;
    for (int i = 0; i < SEC_COUNT; i++)
        if (strlen(sbk_lesson_section_names[i]) == n && strncasecmp(s, sbk_lesson_section_names[i], n) == 0)
            return (Section)i;
    return SEC_NONE;
}

/* "unknown section [x]", with the closest valid name when there is one. */
void sbk_lesson_unknown_section(Parser *p, const char *s, size_t n)
{
    char name[64];
    while (n && is_blank(*s)) {
        s++;
        n--;
    }
    while (n && is_blank(s[n - 1]))
        n--;
    snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), s);
    const char *near = sbk_suggest(name, sbk_lesson_section_names, SEC_COUNT);
    if (strncasecmp(name, "chapters.", 9) == 0) {
        /* [chapters.de]: the language is what is wrong; [chapters.kg]: a typo */
        static const char *const langs[] = {"chapters.ky", "chapters.ru", "chapters.en"};
        const char *const codes[] = {"ky", "ru", "en"};
        const char *l = sbk_suggest(name + 9, codes, 3);
        near = l ? langs[l == codes[0] ? 0 : l == codes[1] ? 1 : 2] : NULL;
        if (!near) {
            sbk_lesson_fail(p, SBK_EINVAL,
                            _("unknown section [%s] (chapter titles are in [chapters] or in "
                              "[chapters.ky], [chapters.ru], [chapters.en])"),
                            name);
            return;
        }
    }
    if (near)
        sbk_lesson_fail(p, SBK_EINVAL, _("unknown section [%s] (did you mean [%s]?)"), name, near);
    else
        sbk_lesson_fail(p, SBK_EINVAL, _("unknown section [%s] (the sections are [lesson], [title], "
                                         "[description], [chapters], [chapters.ky|ru|en], [subtitles])"),
                        name);
}

/* Record the first error, "name:line: message". */
void sbk_lesson_fail(Parser *p, int code, const char *fmt, ...)
{
    if (p->err_piece)
        return;
    char prefix[SBK_ERROR_MAX];
    snprintf(prefix, sizeof prefix, "%s:%d: ", p->name, p->rd.lineno);
    p->err_piece = p->rd.piece > 0 ? p->rd.piece : 1;
    va_list ap;
    va_start(ap, fmt);
    sbk_errv(p->err, code, prefix, fmt, ap);
    va_end(ap);
}

/* Where to cut a long key line: at most cap bytes, on a character boundary,
 * between two non-blank characters, and not before ';' or '#' (inih would
 * take the next piece for a comment). Returns 0 if there is no such place. */
static size_t split_point(const char *s, size_t avail, size_t cap)
{
    for (size_t n = cap < avail ? cap : avail - 1; n >= 1; n--) {
        unsigned char c = (unsigned char)s[n];
        if ((c & 0xc0) == 0x80 || is_blank((char)c) || is_blank(s[n - 1]) || c == ';' || c == '#')
            continue;
        return n;
    }
    return 0;
}

static void check_section_line(Reader *r)
{
    const char *close = memchr(r->raw, ']', r->raw_len);
    if (!close || !r->p)
        return; /* inih reports the missing ']' itself */
    const char *s = r->raw + 1;
    size_t n = (size_t)(close - s);
    if (sbk_lesson_section_find(s, n) == SEC_NONE)
        sbk_lesson_unknown_section(r->p, s, n);
}

/* Cut an inline comment (a ';' after a blank, as inih does) and trailing
 * blanks from a key line. */
static void cut_inline_comment(Reader *r)
{
    for (size_t i = 1; i < r->raw_len; i++) {
        if (r->raw[i] == ';' && is_blank(r->raw[i - 1])) {
            r->raw_len = i;
            break;
        }
    }
    while (r->raw_len && is_blank(r->raw[r->raw_len - 1]))
        r->raw_len--;
}

static char *emit(char *str, int lead_space, const char *s, size_t n)
{
    size_t o = 0;
    if (lead_space)
        str[o++] = ' ';
    memcpy(str + o, s, n);
    o += n;
    str[o++] = '\n';
    str[o] = '\0';
    return str;
}

/* The ini_reader: hands inih one piece per call (see the file comment). */
char *sbk_lesson_reader_next(char *str, int num, void *stream)
{
    Reader *r = stream;
    if (num < 16)
        return NULL;
    size_t cap = (size_t)num - 3; /* room for the leading blank, '\n', NUL */

    if (r->more) {
        const char *s = r->raw + r->raw_off;
        size_t rem = r->raw_len - r->raw_off;
        size_t n = rem;
        if (rem > cap) {
            n = split_point(s, rem, cap);
            if (!n) {
                r->too_long = 1;
                n = rem; /* unreachable by any sane text; stop below */
            }
        }
        if (r->too_long) {
            r->more = 0;
            r->piece++;
            r->join = 1;
            return emit(str, 1, "", 0);
        }
        r->raw_off += n;
        r->more = r->raw_off < r->raw_len;
        r->join = 1;
        r->piece++;
        return emit(str, 1, s, n);
    }

    if (r->pos >= r->len)
        return NULL;
    const char *line = r->text + r->pos;
    const char *nl = memchr(line, '\n', r->len - r->pos);
    size_t llen = nl ? (size_t)(nl - line) : r->len - r->pos;
    r->pos += llen + (nl ? 1 : 0);
    r->lineno++;
    r->piece++;
    r->join = 0;
    r->more = 0;
    r->raw_off = 0;
    if (r->lineno == 1 && llen >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3;
        llen -= 3;
    }
    while (llen && is_blank(*line)) {
        line++;
        llen--;
    }
    while (llen && is_blank(line[llen - 1]))
        llen--;
    r->raw = line;
    r->raw_len = llen;

    if (llen == 0 || line[0] == ';' || line[0] == '#')
        return emit(str, 0, line, llen < cap ? llen : cap); /* comments: cut is harmless */
    if (line[0] == '[') {
        check_section_line(r);
        return emit(str, 0, line, llen < cap ? llen : cap);
    }
    cut_inline_comment(r);
    if (r->raw_len <= cap)
        return emit(str, 0, r->raw, r->raw_len);
    size_t n = split_point(r->raw, r->raw_len, cap);
    if (!n) {
        r->too_long = 1;
        if (r->p)
            sbk_lesson_fail(r->p, SBK_EINVAL, _("line is too long to read (%zu bytes without a break)"),
                 r->raw_len);
        return emit(str, 0, "", 0);
    }
    r->raw_off = n;
    r->more = 1;
    return emit(str, 0, r->raw, n);
}


/* The line number of inih's piece `piece` (replays the reader). */
int sbk_lesson_piece_line(const char *text, size_t len, int num, int piece, const char **raw)
{
    Reader r = {.text = text, .len = len};
    char *buf = malloc((size_t)num);
    if (!buf)
        return 0;
    *raw = "";
    while (r.piece < piece && sbk_lesson_reader_next(buf, num, &r))
        ;
    free(buf);
    *raw = r.raw ? r.raw : "";
    return r.lineno;
}

