/* lesson_suggest.c - "did you mean ...?" for a trainer's typing: the
 * closest valid key or section by edit distance, a valid id made from an
 * invalid one, the language a subtitle file's name hints at, and why a
 * chapter time was refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson/lesson_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"
#include "sabak/lesson.h"

enum { MAX_CHARS = 64 };

/* UTF-8 to code points, ASCII letters folded to lower case; at most
 * MAX_CHARS kept. Returns the count. */
static int decode(const char *s, unsigned *out)
{
    const unsigned char *u = (const unsigned char *)s;
    int n = 0;
    while (*u && n < MAX_CHARS) {
        unsigned c = *u++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        if (more)
            c &= 0x3fu >> more;
        for (; more && (*u & 0xc0) == 0x80; more--)
            c = (c << 6) | (*u++ & 0x3fu);
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        else if (c >= 0x410 && c <= 0x42f) /* Cyrillic А-Я */
            c += 0x20;
        out[n++] = c;
    }
    return n;
}

int sbk_edit_distance(const char *a, const char *b)
{
    unsigned x[MAX_CHARS], y[MAX_CHARS];
    int n = decode(a ? a : "", x), m = decode(b ? b : "", y);
    /* optimal string alignment: insert, delete, substitute, swap two
     * neighbours ("vidoe" is one step from "video") */
    int d[MAX_CHARS + 1][MAX_CHARS + 1];
    for (int i = 0; i <= n; i++)
        d[i][0] = i;
    for (int j = 0; j <= m; j++)
        d[0][j] = j;
    for (int i = 1; i <= n; i++) {
        for (int j = 1; j <= m; j++) {
            int cost = x[i - 1] != y[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[n][m];
}

const char *sbk_suggest(const char *word, const char *const *candidates, size_t n)
{
    unsigned tmp[MAX_CHARS];
    int len = decode(word ? word : "", tmp);
    /* close enough to be a typo: 1 edit in short words, 2 from 5
     * characters, a third of the word from 9 */
    int limit = len <= 4 ? 1 : len <= 8 ? 2 : len / 3;
    const char *best = NULL;
    int best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i])
            continue;
        int d = sbk_edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best_d == 0 ? NULL : best; /* same word: nothing to suggest */
}

/* Latin letters for Kyrgyz and Russian Cyrillic (lower case), so that an id
 * typed in Cyrillic still suggests something usable. */
static const char *translit(unsigned c)
{
    static const char *const ru[] = {
        "a", "b", "v", "g", "d", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p",
        "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "iu", "ia",
    };
    if (c >= 0x410 && c <= 0x42f)
        c += 0x20;
    if (c >= 0x430 && c <= 0x44f)
        return ru[c - 0x430];
    switch (c) {
    case 0x401: case 0x451: return "io";      /* Ё ё */
    case 0x4a2: case 0x4a3: return "ng";      /* Ң ң */
    case 0x4e8: case 0x4e9: return "o";       /* Ө ө */
    case 0x4ae: case 0x4af: return "u";       /* Ү ү */
    default: return NULL;
    }
}

int sbk_lesson_id_suggest(const char *bad, char *out, size_t size)
{
    const unsigned char *u = (const unsigned char *)(bad ? bad : "");
    size_t o = 0;
    int dash = 0; /* a separator is pending */
    if (size == 0)
        return 0;
    while (*u) {
        unsigned c = *u++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        if (more)
            c &= 0x3fu >> more;
        for (; more && (*u & 0xc0) == 0x80; more--)
            c = (c << 6) | (*u++ & 0x3fu);
        char ascii[8] = "";
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            ascii[0] = (char)c;
        else if (c >= 'A' && c <= 'Z')
            ascii[0] = (char)(c + 'a' - 'A');
        else if ((c == '.' || c == '_') && o > 0 && !dash && !strchr("._-", out[o - 1]))
            ascii[0] = (char)c;
        else if ((c == '.' || c == '_') && o > 0 && strchr("._-", out[o - 1]))
            continue; /* "a..b" -> "a.b": never two in a row */
        else if (translit(c))
            snprintf(ascii, sizeof ascii, "%s", translit(c));
        else {
            dash = o > 0; /* blanks, punctuation, anything else: one '-' */
            continue;
        }
        size_t an = strlen(ascii);
        if (an == 0)
            continue;
        if (o + (size_t)dash + an >= size || o + (size_t)dash + an > 64)
            break;
        if (dash)
            out[o++] = '-';
        dash = 0;
        memcpy(out + o, ascii, an);
        o += an;
    }
    while (o > 0 && (out[o - 1] == '.' || out[o - 1] == '_' || out[o - 1] == '-'))
        o--;
    out[o] = '\0';
    return sbk_lesson_id_ok(out) ? 1 : (out[0] = '\0', 0);
}

/* Words in a file name that say which language it holds. Matched as whole
 * words (between non-letters), case folded. */
static const struct {
    const char *word;
    const char *lang;
} lang_words[] = {
    {"ru", "ru"}, {"rus", "ru"}, {"russian", "ru"}, {"russkii", "ru"}, {"рус", "ru"},
    {"русский", "ru"}, {"русс", "ru"}, {"ру", "ru"}, {"орус", "ru"}, {"орусча", "ru"},
    {"ky", "ky"}, {"kg", "ky"}, {"kir", "ky"}, {"kgz", "ky"}, {"kyr", "ky"}, {"kyrgyz", "ky"},
    {"kirghiz", "ky"}, {"кыр", "ky"}, {"кырг", "ky"}, {"кыргыз", "ky"}, {"кыргызча", "ky"},
    {"кыргызский", "ky"}, {"кг", "ky"}, {"en", "en"}, {"eng", "en"}, {"english", "en"},
    {"англ", "en"}, {"английский", "en"}, {"англисче", "en"},
};

static int is_letter(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 0x400 && c <= 0x4ff);
}

const char *sbk_lesson_guess_lang(const char *name)
{
    unsigned s[MAX_CHARS];
    int n = decode(name ? name : "", s);
    /* the extension is not a word of the name */
    for (int i = n - 1; i > 0; i--)
        if (s[i] == '.') {
            n = i;
            break;
        }
    for (int i = 0; i < n;) {
        if (!is_letter(s[i])) {
            i++;
            continue;
        }
        int j = i;
        while (j < n && is_letter(s[j]))
            j++;
        for (size_t w = 0; w < sizeof lang_words / sizeof lang_words[0]; w++) {
            unsigned ww[MAX_CHARS];
            int wn = decode(lang_words[w].word, ww);
            if (wn == j - i && memcmp(ww, s + i, (size_t)wn * sizeof ww[0]) == 0)
                return lang_words[w].lang;
        }
        i = j;
    }
    return NULL;
}

/* Why parse_time refused s[0..n): the part a trainer has to change. */
const char *sbk_lesson_time_problem(const char *s, size_t n)
{
    long field[3] = {0, 0, 0};
    int nf = 0, digits = 0;
    for (size_t i = 0; i < n && s[i] != '.' && s[i] != ','; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (digits++ < 6)
                field[nf] = field[nf] * 10 + (s[i] - '0');
        } else if (s[i] == ':' && nf < 2) {
            nf++;
            digits = 0;
        } else if (s[i] == ':') {
            return _("at most three parts: hours:minutes:seconds, as in 01:02:03");
        } else {
            return _("use digits and ':' only, as in 00:01:30 or 01:30");
        }
    }
    if (nf == 0)
        return _("write minutes and seconds at least, as in 01:30 (or 00:01:30)");
    if (field[nf] > 59)
        return _("seconds must be under 60 (01:15 is a minute and 15 seconds)");
    if (nf == 2 && field[1] > 59)
        return _("minutes must be under 60 (write 01:15:00 for 75 minutes)");
    return _("write each part after the first with two digits, as in 00:01:30 or 01:30.5");
}
