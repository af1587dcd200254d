/* src/core/lang.c - the one table of languages (see sabak/lang.h). */
#include "sabak/lang.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const sbk_lang_codes[SBK_LANG_COUNT] = {"ky", "ru", "en"};

int sbk_lang_index(const char *code)
{
    if (!code)
        return -1;
    for (int i = 0; i < SBK_LANG_COUNT; i++)
        if (strcasecmp(code, sbk_lang_codes[i]) == 0)
            return i;
    return -1;
}

int sbk_lang_rank(const char *code)
{
    for (int i = 0; code && i < SBK_LANG_COUNT; i++)
        if (strcmp(code, sbk_lang_codes[i]) == 0)
            return i;
    return SBK_LANG_COUNT;
}

const char *sbk_lang_pick(char *const v[SBK_LANG_COUNT], int lang)
{
    if (!v)
        return NULL;
    if (lang >= 0 && lang < SBK_LANG_COUNT && v[lang])
        return v[lang];
    for (int i = 0; i < SBK_LANG_COUNT; i++)
        if (v[i])
            return v[i];
    return NULL;
}

int sbk_lang_code_ok(const char *s)
{
    size_t i = 0;
    if (!s)
        return 0;
    while (s[i] >= 'a' && s[i] <= 'z')
        i++;
    if (i < 2 || i > 3)
        return 0;
    if (s[i] == '\0')
        return 1;
    if (s[i] != '-')
        return 0;
    size_t j = ++i;
    while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
        i++;
    return s[i] == '\0' && i - j >= 2 && i - j <= 8;
}

int sbk_lang_code_fold(const char *s, size_t n, char out[4])
{
    if (n < 2 || n > 3)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z')
            return 0;
        out[i] = c;
    }
    out[n] = '\0';
    return 1;
}

void sbk_lang_from_iso639(const char *iso, char *out, size_t n)
{
    static const char *const map[][2] = {
        {"kir", "ky"}, {"ky", "ky"}, {"rus", "ru"}, {"ru", "ru"}, {"eng", "en"}, {"en", "en"},
        {"uzb", "uz"}, {"kaz", "kk"}, {"tgk", "tg"},
    };
    snprintf(out, n, "und");
    if (!iso)
        return;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(iso, map[i][0]) == 0) {
            snprintf(out, n, "%s", map[i][1]);
            return;
        }
}
