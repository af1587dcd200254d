/* charset.c - whatever a trainer's tool saved, as UTF-8.
 *
 * Order of decisions (first that applies):
 *   1. a BOM: UTF-8, UTF-16LE/BE, UTF-32LE/BE;
 *   2. valid UTF-8 (no NUL) is taken as is;
 *   3. UTF-16 without a BOM (ASCII-heavy text with every other byte 0);
 *   4. a NUL byte anywhere else: not a text file;
 *   5. UTF-8 with a few broken bytes (a file cut or glued badly): UTF-8, the
 *      bad bytes replaced by U+FFFD;
 *   6. an 8-bit code page: uchardet's answer, checked against a Cyrillic
 *      heuristic choosing between WINDOWS-1251, KOI8-R and IBM866, because
 *      uchardet guesses poorly on the few words of a short subtitle file.
 * Kyrgyz ң ө ү exist in none of those code pages, so Kyrgyz files arrive as
 * UTF-8 or UTF-16; Russian ones are often WINDOWS-1251. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uchardet/uchardet.h>

#include "sabak/core.h"
#include "sabak/subs.h"

#define SAMPLE_MAX (64u << 10) /* the heuristic looks at this much */

static void set_enc(char enc[32], const char *name) { snprintf(enc, 32, "%s", name); }

/* iconv the whole input to UTF-8. An undecodable sequence becomes U+FFFD and
 * `unit` bytes are skipped (1 for 8-bit and UTF-8, 2 or 4 for UTF-16/32);
 * *bad counts them. */
static int convert(const char *from, const uint8_t *in, size_t len, size_t unit, char **out,
                   size_t *out_len, size_t *bad)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return SBK_EUNSUPPORTED;
    size_t cap = len * 3 + 16, used = 0;
    char *buf = malloc(cap);
    char *ip = (char *)in;
    size_t il = len;
    int ret = 0;
    *bad = 0;
    while (buf) {
        char *op = buf + used;
        size_t ol = cap - used - 4; /* room for U+FFFD and the NUL */
        size_t r = il ? iconv(cd, &ip, &il, &op, &ol) : 0;
        int e = errno;
        used = (size_t)(op - buf);
        if (r != (size_t)-1)
            break;
        if (e == E2BIG || cap - used < 8) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                free(buf);
            buf = nb;
            if (e == E2BIG)
                continue;
        }
        if (!buf)
            break;
        if (e == EILSEQ || e == EINVAL) {
            memcpy(buf + used, "\xef\xbf\xbd", 3);
            used += 3;
            size_t skip = unit < il ? unit : il;
            ip += skip;
            il -= skip;
            (*bad)++;
        } else {
            ret = SBK_EIO;
            break;
        }
    }
    iconv_close(cd);
    if (!buf)
        return SBK_ENOMEM;
    if (ret < 0) {
        free(buf);
        return ret;
    }
    buf[used] = '\0';
    *out = buf;
    *out_len = used;
    return 0;
}

/* ---- what kind of bytes ------------------------------------------------ */

static int has_nul(const uint8_t *d, size_t n) { return n && memchr(d, 0, n) != NULL; }

/* UTF-16 without a BOM: subtitle files are full of ASCII digits, so one of
 * every two bytes is mostly 0 and the other never. */
static const char *utf16_without_bom(const uint8_t *d, size_t n)
{
    size_t pairs = n / 2 < 4096 ? n / 2 : 4096, z_even = 0, z_odd = 0;
    if (pairs < 2)
        return NULL;
    for (size_t i = 0; i < pairs; i++) {
        z_even += d[2 * i] == 0;
        z_odd += d[2 * i + 1] == 0;
    }
    /* The other byte is 0 only for the odd U+0400 or U+xx00 character. */
    if (z_odd * 3 >= pairs && z_even * 20 <= z_odd)
        return "UTF-16LE";
    if (z_even * 3 >= pairs && z_odd * 20 <= z_even)
        return "UTF-16BE";
    return NULL;
}

/* UTF-8 with a few bad bytes: many well-formed multibyte characters and at
 * most one bad byte for every 20 of them. 8-bit Cyrillic text almost never
 * forms a valid multibyte sequence, so it does not pass. */
static int mostly_utf8(const uint8_t *d, size_t n)
{
    const char *p = (const char *)d, *end = p + n;
    size_t mb = 0, bad = 0;
    while (p < end) {
        if ((unsigned char)*p < 0x80) {
            p++;
            continue;
        }
        if (sbk_utf8_next(&p, end) < 0)
            bad++;
        else
            mb++;
    }
    return mb >= 4 && bad * 20 <= mb;
}

/* ---- the Cyrillic heuristic ------------------------------------------- */

typedef struct Guess {
    const char *name;
    double score;
    double letter_share; /* of the bytes >= 0x80, how many decode to Cyrillic letters */
    size_t letters;
} Guess;

static int is_cyr_letter(int32_t c) { return (c >= 0x410 && c <= 0x44f) || c == 0x401 || c == 0x451; }

static int is_common(int32_t c)
{
    /* о е а и н т с р в л: two thirds of the letters of any Russian text */
    static const int32_t common[] = {0x43e, 0x435, 0x430, 0x438, 0x43d,
                                     0x442, 0x441, 0x440, 0x432, 0x43b};
    if (c >= 0x410 && c <= 0x42f)
        c += 0x20;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (c == common[i])
            return 1;
    return 0;
}

/* What each byte 0x80..0xff means in `enc` (-1: nothing). */
static int build_table(const char *enc, int32_t tab[128])
{
    iconv_t cd = iconv_open("UTF-32LE", enc);
    if (cd == (iconv_t)-1)
        return -1;
    for (int i = 0; i < 128; i++) {
        char in = (char)(0x80 + i), *ip = &in;
        uint8_t o[8];
        char *op = (char *)o;
        size_t il = 1, ol = sizeof o;
        tab[i] = -1;
        if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 && ol == sizeof o - 4)
            tab[i] = (int32_t)(o[0] | o[1] << 8 | o[2] << 16 | (uint32_t)o[3] << 24);
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    iconv_close(cd);
    return 0;
}

/* Score one code page on the sample: Cyrillic letters are good, lower case
 * is good (running text is mostly lower case), common letters are good,
 * box drawing and undefined bytes are bad. */
static void score(Guess *g, const uint8_t *d, size_t n)
{
    int32_t tab[128];
    g->score = -10;
    g->letter_share = 0;
    g->letters = 0;
    if (build_table(g->name, tab) < 0)
        return;
    size_t high = 0, letters = 0, lower = 0, common = 0, box = 0, undef = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < 0x80)
            continue;
        int32_t c = tab[d[i] - 0x80];
        high++;
        if (c < 0)
            undef++;
        else if (is_cyr_letter(c)) {
            letters++;
            lower += c >= 0x430;
            common += is_common(c);
        } else if (c >= 0x2500 && c <= 0x259f)
            box++;
    }
    if (!high)
        return;
    double L = letters ? (double)letters : 1.0;
    g->letters = letters;
    g->letter_share = (double)letters / (double)high;
    g->score = g->letter_share * (1.0 + 0.5 * (double)lower / L + (double)common / L) -
               (double)box / (double)high - 2.0 * (double)undef / (double)high;
}

/* Cyrillic words are runs of high bytes between spaces and punctuation; in
 * Latin text with accents (café) a high byte sits next to ASCII letters. */
static int looks_cyrillic(const uint8_t *d, size_t n)
{
    size_t high = 0, beside_latin = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < 0x80)
            continue;
        high++;
        int l = i > 0 && d[i - 1] < 0x80 && ((d[i - 1] | 0x20) >= 'a' && (d[i - 1] | 0x20) <= 'z');
        int r = i + 1 < n && d[i + 1] < 0x80 && ((d[i + 1] | 0x20) >= 'a' && (d[i + 1] | 0x20) <= 'z');
        beside_latin += l || r;
    }
    return high > 0 && beside_latin * 10 <= high * 3;
}

static const char *ask_uchardet(const uint8_t *d, size_t n, char *buf, size_t bufsz)
{
    uchardet_t ud = uchardet_new();
    buf[0] = '\0';
    if (!ud)
        return buf;
    if (uchardet_handle_data(ud, (const char *)d, n) == 0) {
        uchardet_data_end(ud);
        const char *cs = uchardet_get_charset(ud);
        snprintf(buf, bufsz, "%s", cs ? cs : "");
    }
    uchardet_delete(ud);
    return buf;
}

static int iconv_knows(const char *enc)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1)
        return 0;
    iconv_close(cd);
    return 1;
}

/* Pick the 8-bit code page; NULL if there is no sensible answer. */
static const char *guess_8bit(const uint8_t *d, size_t n, char *udbuf, size_t udsz)
{
    size_t sn = n < SAMPLE_MAX ? n : SAMPLE_MAX;
    const char *ud = ask_uchardet(d, sn, udbuf, udsz);
    Guess g[] = {{"WINDOWS-1251", 0, 0, 0}, {"KOI8-R", 0, 0, 0}, {"IBM866", 0, 0, 0}};
    size_t best = 0, ud_idx = sizeof g / sizeof g[0];
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        score(&g[i], d, sn);
        /* WINDOWS-1251 is what old Windows tools wrote: the prior that
         * decides one- and two-word files, fading as letters add up. */
        if (i == 0 && g[i].letters)
            g[i].score += 0.6 * g[i].letter_share *
                          (g[i].letters < 4 ? 1.0 : 4.0 / (double)g[i].letters);
        if (g[i].score > g[best].score)
            best = i; /* ties go to the earlier, WINDOWS-1251 the most common */
        if (strcasecmp(ud, g[i].name) == 0 || (i == 2 && strcasecmp(ud, "CP866") == 0))
            ud_idx = i;
    }
    if (looks_cyrillic(d, sn) && g[best].letter_share >= 0.5) {
        /* uchardet decides between close candidates and on a few letters;
         * the heuristic overrules a clearly worse or non-Cyrillic answer. */
        if (ud_idx < sizeof g / sizeof g[0] &&
            (g[ud_idx].score + 0.25 >= g[best].score || g[best].letters < 10))
            return g[ud_idx].name;
        return g[best].name;
    }
    if (ud[0] && strcasecmp(ud, "UTF-8") != 0 && strcasecmp(ud, "ASCII") != 0 && iconv_knows(ud))
        return ud;
    if (g[best].letter_share >= 0.5)
        return g[best].name;
    return NULL;
}

/* ---- the entry point --------------------------------------------------- */

int sbk_charset_to_utf8(const uint8_t *data, size_t len, char **out, size_t *out_len,
                        char enc[32], SbkError *err)
{
    char *buf = NULL, udbuf[64];
    size_t n = 0, bad = 0, skip = 0, unit = 1;
    const char *from = NULL, *name = NULL;
    int ret = 0;
    *out = NULL;
    if (out_len)
        *out_len = 0;
    set_enc(enc, "");
    if (!data) {
        data = (const uint8_t *)"";
        len = 0;
    }
    if (len > SBK_SUBS_MAX_BYTES)
        return sbk_err(err, SBK_ELIMIT, "too large for a subtitle file (%zu bytes, limit %u)", len,
                       SBK_SUBS_MAX_BYTES);

    if (len >= 4 && memcmp(data, "\xff\xfe\0\0", 4) == 0)
        from = name = "UTF-32LE", skip = 4, unit = 4;
    else if (len >= 4 && memcmp(data, "\0\0\xfe\xff", 4) == 0)
        from = name = "UTF-32BE", skip = 4, unit = 4;
    else if (len >= 2 && memcmp(data, "\xff\xfe", 2) == 0)
        from = name = "UTF-16LE", skip = 2, unit = 2;
    else if (len >= 2 && memcmp(data, "\xfe\xff", 2) == 0)
        from = name = "UTF-16BE", skip = 2, unit = 2;
    else if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        skip = 3;
        if (!has_nul(data + 3, len - 3) && sbk_utf8_valid((const char *)data + 3, len - 3))
            name = "UTF-8 (BOM)";
        else if (!has_nul(data + 3, len - 3) && mostly_utf8(data + 3, len - 3))
            from = "UTF-8", name = "UTF-8 (damaged)";
        else {
            ret = sbk_err(err, SBK_EINVAL,
                          "starts with a UTF-8 mark but is not UTF-8 text; save it as UTF-8");
            goto done;
        }
    } else if (!has_nul(data, len) && sbk_utf8_valid((const char *)data, len)) {
        name = "UTF-8";
    } else if ((from = utf16_without_bom(data, len))) {
        name = from, unit = 2;
    } else if (has_nul(data, len)) {
        ret = sbk_err(err, SBK_EINVAL, "not a text file (binary data at byte %zu)",
                      (size_t)((const uint8_t *)memchr(data, 0, len) - data));
        goto done;
    } else if (mostly_utf8(data, len)) {
        from = "UTF-8", name = "UTF-8 (damaged)";
    } else {
        from = name = guess_8bit(data, len, udbuf, sizeof udbuf);
        if (!from) {
            ret = sbk_err(err, SBK_EINVAL,
                          "cannot tell which encoding the text is in; save it as UTF-8");
            goto done;
        }
    }

    if (!from) { /* UTF-8 already: copy without the BOM */
        n = len - skip;
        buf = malloc(n + 1);
        if (!buf) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        memcpy(buf, data + skip, n);
        buf[n] = '\0';
    } else {
        ret = convert(from, data + skip, len - skip, unit, &buf, &n, &bad);
        if (ret == SBK_EUNSUPPORTED) {
            ret = sbk_err(err, ret, "cannot convert from %s", from);
            goto done;
        } else if (ret < 0) {
            ret = sbk_err(err, ret, "out of memory converting from %s", from);
            goto done;
        }
        /* A few undefined bytes are typos; many mean the guess is wrong. */
        if (bad > 0 && bad * 100 > (len - skip) / unit + 100) {
            ret = sbk_err(err, SBK_EINVAL,
                          "cannot read the text as %s (%zu bad characters); save it as UTF-8", name,
                          bad);
            goto done;
        }
        if (has_nul((const uint8_t *)buf, n)) {
            ret = sbk_err(err, SBK_EINVAL, "not a text file (binary data in %s text)", name);
            goto done;
        }
    }
    set_enc(enc, name);
    *out = buf;
    buf = NULL;
    if (out_len)
        *out_len = n;
done:
    free(buf);
    return ret;
}
