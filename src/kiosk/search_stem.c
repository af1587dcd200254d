/* src/kiosk/search_stem.c - the forgiving half of search (docs/SEARCH.md):
 * the letters people type without a Kyrgyz layout, Russian stems from
 * Snowball (Debian's libstemmer) and a small table of Kyrgyz suffixes.
 *
 * Only queries are stemmed. The index keeps whole words, and a query word
 * matches a field when it is a substring of it: the stem of a query word
 * ("бюджет" of "бюджетов") is a substring of every form of the word in the
 * text ("бюджета", "бюджет"), so stemming the query is enough. */
#include "kiosk/search.h"

#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>

/* ө ү ң in UTF-8, and the letters typed for them: о у н. Each is two bytes
 * both ways, so loosening works in place. */
static const struct {
    const char from[3], to[3];
} loose_map[] = {
    {"\xd3\xa9", "\xd0\xbe"}, /* ө -> о */
    {"\xd2\xaf", "\xd1\x83"}, /* ү -> у */
    {"\xd2\xa3", "\xd0\xbd"}, /* ң -> н */
};

void sbk_search_loosen(char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        for (size_t k = 0; k < sizeof loose_map / sizeof loose_map[0]; k++)
            if (s[i] == loose_map[k].from[0] && s[i + 1] == loose_map[k].from[1]) {
                s[i] = loose_map[k].to[0];
                s[i + 1] = loose_map[k].to[1];
                i++;
                break;
            }
}

static size_t letters(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/* Common Kyrgyz suffixes, written loosened (о for ө, у for ү, н for ң), as
 * the word is when they are stripped. Kyrgyz is agglutinative and its
 * suffixes follow vowel harmony: each comes in the forms below. The table
 * is deliberately small: it is for finding, not for linguistics; a stem is
 * only searched as a close match, after the words as typed. */
static const char *const ky_suffixes[] = {
    /* 2nd person polite, possessive and imperative: көрсөтүңүз, сайтыңыз */
    "ыныз", "иниз", "унуз",
    "ныз", "низ", "нуз", "сыз", "сиз", "суз",
    /* 1st person plural: биз */
    "ыбыз", "ибиз", "убуз", "быз", "биз", "буз",
    /* genitive: өкмөтүнүн, бюджеттин */
    "нын", "нин", "нун", "дын", "дин", "дун", "тын", "тин", "тун",
    /* ablative */
    "дан", "ден", "дон", "тан", "тен", "тон", "нан", "нен", "нон",
    /* locative */
    "нда", "нде", "ндо", "да", "де", "до", "та", "те", "то",
    /* plural */
    "лар", "лер", "лор", "дар", "дер", "дор", "тар", "тер", "тор",
    /* past participle, verbal noun, converb */
    "ган", "ген", "гон", "кан", "кен", "кон", "уу", "оо", "ып", "ип", "уп",
    /* dative */
    "га", "ге", "го", "ка", "ке", "ко", "на", "не", "но",
    /* accusative */
    "ны", "ни", "ну", "ды", "ди", "ду", "ты", "ти", "ту",
    /* 3rd person possessive after a vowel */
    "сы", "си", "су",
};

#define KY_MIN_STEM 4   /* letters left after stripping */
#define KY_MAX_ROUNDS 3 /* suffixes stripped one after another */

size_t sbk_search_stem_ky(const char *w, size_t len)
{
    for (int round = 0; round < KY_MAX_ROUNDS; round++) {
        size_t best = 0;
        for (size_t i = 0; i < sizeof ky_suffixes / sizeof ky_suffixes[0]; i++) {
            size_t sl = strlen(ky_suffixes[i]);
            if (sl <= best || sl >= len || memcmp(w + len - sl, ky_suffixes[i], sl) != 0)
                continue;
            if (letters(w, len - sl) >= KY_MIN_STEM)
                best = sl;
        }
        if (!best)
            break;
        len -= best;
    }
    return len;
}

#define RU_MIN_STEM 3

int sbk_search_stems(const char *w, size_t len, char *out, size_t cap,
                     const char *stems[SBK_SEARCH_STEMS], size_t lens[SBK_SEARCH_STEMS])
{
    int n = 0;
    size_t used = 0;
    if (len == 0 || 2 * len > cap)
        return 0;
    /* Russian: Snowball's stemmer, on the word as folded (lower case, ё = е). */
    struct sb_stemmer *st = sb_stemmer_new("russian", "UTF_8");
    if (st) {
        const sb_symbol *s = sb_stemmer_stem(st, (const sb_symbol *)w, (int)len);
        int sl = s ? sb_stemmer_length(st) : 0;
        if (s && sl > 0 && (size_t)sl < len && letters((const char *)s, (size_t)sl) >= RU_MIN_STEM) {
            memcpy(out, s, (size_t)sl);
            sbk_search_loosen(out, (size_t)sl);
            stems[n] = out;
            lens[n++] = (size_t)sl;
            used = (size_t)sl;
        }
        sb_stemmer_delete(st);
    }
    /* Kyrgyz: the suffix table, on the word loosened. */
    char *k = out + used;
    memcpy(k, w, len);
    sbk_search_loosen(k, len);
    size_t kl = sbk_search_stem_ky(k, len);
    if (kl < len && !(n == 1 && lens[0] == kl && memcmp(out, k, kl) == 0)) {
        stems[n] = k;
        lens[n++] = kl;
    }
    return n;
}
