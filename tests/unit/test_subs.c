/* Subtitles: encodings, SRT/WebVTT/ASS parsing, validation messages,
 * sorting, WebVTT output and escaping, round trips, loading files.
 * Every group is a table of cases; fixtures in other encodings are made
 * here by small hand-written encoders, not by the iconv under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sabak/core.h"
#include "sabak/subs.h"

/* ---- helpers ------------------------------------------------------------ */

#define EXPECT_STR(label, got, want)                                                       \
    do {                                                                                   \
        const char *g_ = (got), *w_ = (want);                                              \
        if (!g_ || strcmp(g_, w_) != 0)                                                    \
            fail_msg("%s: got \"%s\", want \"%s\"", (label), g_ ? g_ : "(null)", w_);     \
    } while (0)

#define EXPECT_INT(label, got, want)                                                       \
    do {                                                                                   \
        long long g_ = (long long)(got), w_ = (long long)(want);                           \
        if (g_ != w_)                                                                      \
            fail_msg("%s: %s is %lld, want %lld", (label), #got, g_, w_);                  \
    } while (0)

/* Log lines captured from the library. */
static char logged[16][512];
static int nlogged;

static void capture(void *opaque, SbkLogLevel level, const char *line)
{
    (void)opaque;
    if (nlogged < 16)
        snprintf(logged[nlogged++], sizeof logged[0], "%s%s",
                 level == SBK_LOG_WARN ? "WARN " : level == SBK_LOG_INFO ? "INFO " : "LOG ", line);
}

static int setup_log(void **state)
{
    (void)state;
    nlogged = 0;
    sbk_log_set_sink(capture, NULL);
    return 0;
}

static int teardown_log(void **state)
{
    (void)state;
    sbk_log_set_sink(NULL, NULL);
    return 0;
}

typedef enum {
    AS_UTF8,
    AS_UTF8_BOM,
    AS_UTF16LE_BOM,
    AS_UTF16LE,
    AS_UTF16BE_BOM,
    AS_CP1251,
    AS_KOI8R,
    AS_CP866,
} As;

/* UTF-16 by hand (BMP is all our scripts need). */
static uint8_t *to_utf16(const char *s, int big_endian, int bom, size_t *n)
{
    size_t len = strlen(s);
    uint8_t *out = malloc(2 * len + 2), *o = out;
    if (bom) {
        *o++ = big_endian ? 0xfe : 0xff;
        *o++ = big_endian ? 0xff : 0xfe;
    }
    const char *p = s, *end = s + len;
    while (p < end) {
        int32_t cp = sbk_utf8_next(&p, end);
        assert_true(cp >= 0 && cp < 0x10000);
        *o++ = (uint8_t)(big_endian ? cp >> 8 : cp & 0xff);
        *o++ = (uint8_t)(big_endian ? cp & 0xff : cp >> 8);
    }
    *n = (size_t)(o - out);
    return out;
}

/* Russian letters in the three 8-bit code pages, by their layouts. */
static int cyr_byte(int32_t cp, As as)
{
    static const char koi8_lower[] = "юабцдефгхийклмнопярстужвьызшэщчъ";
    if (as == AS_CP1251) {
        if (cp >= 0x410 && cp <= 0x44f)
            return 0xc0 + (cp - 0x410);
        switch (cp) {
        case 0x401: return 0xa8;
        case 0x451: return 0xb8;
        case 0xab: return 0xab;   /* « */
        case 0xbb: return 0xbb;   /* » */
        case 0x2014: return 0x97; /* — */
        case 0x2116: return 0xb9; /* № */
        }
        return -1;
    }
    if (as == AS_CP866) {
        if (cp >= 0x410 && cp <= 0x43f)
            return 0x80 + (cp - 0x410);
        if (cp >= 0x440 && cp <= 0x44f)
            return 0xe0 + (cp - 0x440);
        return cp == 0x401 ? 0xf0 : cp == 0x451 ? 0xf1 : -1;
    }
    /* KOI8-R: 0xc0..0xdf lower case in the order above, 0xe0..0xff upper. */
    if (cp == 0x451)
        return 0xa3;
    if (cp == 0x401)
        return 0xb3;
    int32_t lower = cp >= 0x410 && cp <= 0x42f ? cp + 0x20 : cp;
    const char *p = koi8_lower, *end = koi8_lower + strlen(koi8_lower);
    for (int i = 0; p < end; i++) {
        if (sbk_utf8_next(&p, end) == lower)
            return (lower == cp ? 0xc0 : 0xe0) + i;
    }
    return -1;
}

static uint8_t *to_8bit(const char *s, As as, size_t *n)
{
    size_t len = strlen(s);
    uint8_t *out = malloc(len + 1), *o = out;
    const char *p = s, *end = s + len;
    while (p < end) {
        int32_t cp = sbk_utf8_next(&p, end);
        if (cp < 0x80) {
            *o++ = (uint8_t)cp;
            continue;
        }
        int b = cyr_byte(cp, as);
        assert_true(b >= 0x80);
        *o++ = (uint8_t)b;
    }
    *n = (size_t)(o - out);
    return out;
}

static uint8_t *encode(const char *s, As as, size_t *n)
{
    switch (as) {
    case AS_UTF8:
    case AS_UTF8_BOM: {
        size_t len = strlen(s), off = as == AS_UTF8_BOM ? 3 : 0;
        uint8_t *out = malloc(len + 3);
        memcpy(out, "\xef\xbb\xbf", 3);
        memcpy(out + off, s, len);
        *n = len + off;
        return out;
    }
    case AS_UTF16LE_BOM: return to_utf16(s, 0, 1, n);
    case AS_UTF16LE: return to_utf16(s, 0, 0, n);
    case AS_UTF16BE_BOM: return to_utf16(s, 1, 1, n);
    default: return to_8bit(s, as, n);
    }
}

/* ---- encodings ---------------------------------------------------------- */

#define KY_SRT                                                                             \
    "1\n00:00:01,000 --> 00:00:04,000\nМуниципалдык веб-сайт менен иштөө\n\n"              \
    "2\n00:00:04,500 --> 00:00:07,000\nБүгүн биз маңыздуу кызматтарды үйрөнөбүз.\n"
#define RU_SRT                                                                             \
    "1\n00:00:01,000 --> 00:00:04,000\nРабота с муниципальным веб-сайтом\n\n"              \
    "2\n00:00:04,500 --> 00:00:07,000\nСегодня изучим «Гражданский бюджет» — шаг за шагом.\n"
#define RU_PLAIN                                                                           \
    "1\n00:00:01,000 --> 00:00:04,000\nДобро пожаловать на урок.\n\n"                     \
    "2\n00:00:05,000 --> 00:00:08,000\nСегодня мы изучим муниципальный веб-сайт. Ёлка!\n"

static const struct {
    const char *label;
    const char *text; /* UTF-8; encoded as `as`, then expected back exactly */
    As as;
    const char *enc;
} enc_cases[] = {
    {"ky utf-8", KY_SRT, AS_UTF8, "UTF-8"},
    {"ky utf-8 bom", KY_SRT, AS_UTF8_BOM, "UTF-8 (BOM)"},
    {"ky utf-16le bom", KY_SRT, AS_UTF16LE_BOM, "UTF-16LE"},
    {"ky utf-16le no bom", KY_SRT, AS_UTF16LE, "UTF-16LE"},
    {"ky utf-16be bom", KY_SRT, AS_UTF16BE_BOM, "UTF-16BE"},
    {"ky letters only", "ң ө ү Ң Ө Ү", AS_UTF8, "UTF-8"},
    {"ru cp1251", RU_SRT, AS_CP1251, "WINDOWS-1251"},
    {"ru cp1251 plain", RU_PLAIN, AS_CP1251, "WINDOWS-1251"},
    {"ru cp1251 one word", "Да", AS_CP1251, "WINDOWS-1251"},
    {"ru cp1251 two words", "Шаг 1: Сайт", AS_CP1251, "WINDOWS-1251"},
    /* uchardet 0.0.7 names these ISO-8859-7, WINDOWS-1256, ISO-8859-6,
     * MAC-CYRILLIC, ISO-8859-7 and WINDOWS-1252: the heuristic decides. */
    {"ru cp1251 capitals", "ВНИМАНИЕ", AS_CP1251, "WINDOWS-1251"},
    {"ru cp1251 budget", "Бюджет", AS_CP1251, "WINDOWS-1251"},
    {"ru cp1251 wait", "Ждите...", AS_CP1251, "WINDOWS-1251"},
    {"ru cp1251 login", "Вход на сайт", AS_CP1251, "WINDOWS-1251"},
    {"ru koi8-r one word", "Сайт", AS_KOI8R, "KOI8-R"},
    {"ru cp866 step", "Шаг 1", AS_CP866, "IBM866"},
    {"ru utf-8", RU_SRT, AS_UTF8, "UTF-8"},
    {"ru utf-8 bom", RU_SRT, AS_UTF8_BOM, "UTF-8 (BOM)"},
    {"ru utf-16le bom", RU_SRT, AS_UTF16LE_BOM, "UTF-16LE"},
    {"ru utf-16le no bom", RU_SRT, AS_UTF16LE, "UTF-16LE"},
    {"ru koi8-r", RU_PLAIN, AS_KOI8R, "KOI8-R"},
    {"ru cp866", RU_PLAIN, AS_CP866, "IBM866"},
    {"ascii", "1\n00:00:01,000 --> 00:00:02,000\nhello\n", AS_UTF8, "UTF-8"},
    {"empty", "", AS_UTF8, "UTF-8"},
};

static void test_encodings(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof enc_cases / sizeof enc_cases[0]; i++) {
        size_t n = 0, out_len = 99;
        uint8_t *in = encode(enc_cases[i].text, enc_cases[i].as, &n);
        char *out = NULL, enc[32];
        SbkError err = {0};
        int ret = sbk_charset_to_utf8(in, n, &out, &out_len, enc, &err);
        if (ret != 0)
            fail_msg("%s: failed: %s", enc_cases[i].label, err.msg);
        EXPECT_STR(enc_cases[i].label, enc, enc_cases[i].enc);
        EXPECT_STR(enc_cases[i].label, out, enc_cases[i].text);
        EXPECT_INT(enc_cases[i].label, out_len, strlen(enc_cases[i].text));
        free(out);
        free(in);
    }
}

/* A UTF-8 file with a broken byte keeps its text, the byte becomes U+FFFD. */
static void test_encoding_damaged_utf8(void **state)
{
    (void)state;
    const char in[] = "Бүгүн биз \xff маңыздуу кызматтарды үйрөнөбүз.";
    char *out = NULL, enc[32];
    SbkError err = {0};
    assert_int_equal(sbk_charset_to_utf8((const uint8_t *)in, strlen(in), &out, NULL, enc, &err), 0);
    assert_string_equal(enc, "UTF-8 (damaged)");
    assert_string_equal(out, "Бүгүн биз \xef\xbf\xbd маңыздуу кызматтарды үйрөнөбүз.");
    free(out);
}

static const struct {
    const char *label;
    const char *bytes;
    size_t n;
    int code;
    const char *msg;
} enc_bad[] = {
    {"zip header", "PK\x03\x04\x14\x00\x00\x00\x08\x00", 10, SBK_EINVAL,
     "not a text file (binary data at byte 5)"},
    {"bom then garbage", "\xef\xbb\xbf\xff\xfe\xfd\xfc", 7, SBK_EINVAL,
     "starts with a UTF-8 mark but is not UTF-8 text; save it as UTF-8"},
    {"utf-16 with NUL character", "\xff\xfe" "a\0\0\0b\0", 8, SBK_EINVAL,
     "not a text file (binary data in UTF-16LE text)"},
};

static void test_encoding_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof enc_bad / sizeof enc_bad[0]; i++) {
        char *out = (char *)"x", enc[32];
        SbkError err = {0};
        int ret = sbk_charset_to_utf8((const uint8_t *)enc_bad[i].bytes, enc_bad[i].n, &out, NULL,
                                      enc, &err);
        EXPECT_INT(enc_bad[i].label, ret, enc_bad[i].code);
        EXPECT_INT(enc_bad[i].label, err.code, enc_bad[i].code);
        EXPECT_STR(enc_bad[i].label, err.msg, enc_bad[i].msg);
        assert_null(out);
    }
}

/* ---- parsing: good files ------------------------------------------------ */

typedef struct {
    int64_t start, end;
    const char *text;
} Exp;

#define MAXC 4
static const struct {
    const char *label;
    const char *src;
    size_t n;
    Exp cues[MAXC];
} parse_good[] = {
    {"srt crlf",
     "1\r\n00:00:01,000 --> 00:00:04,000\r\nСалам!\r\nКандайсыз?\r\n\r\n"
     "2\r\n00:00:05,000 --> 00:00:06,500\r\nЖакшы.\r\n",
     2, {{1000, 4000, "Салам!\nКандайсыз?"}, {5000, 6500, "Жакшы."}}},
    {"srt no numbers, dots, one-digit hour, trailing blanks, no final newline",
     "0:00:01.000 --> 0:00:02.000   \nText one  \n\n0:00:03.000 --> 0:00:04.000\nText two",
     2, {{1000, 2000, "Text one"}, {3000, 4000, "Text two"}}},
    {"srt cr only",
     "1\r00:00:01,000 --> 00:00:02,000\rбир\r\r2\r00:00:03,000 --> 00:00:04,000\rэки\r",
     2, {{1000, 2000, "бир"}, {3000, 4000, "эки"}}},
    {"srt cr cr lf (a converter's leftovers)",
     "1\r\r\n00:00:01,000 --> 00:00:02,000\r\r\nбир\r\r\nэки\r\r\n\r\r\n"
     "2\r\r\n00:00:03,000 --> 00:00:04,000\r\r\nүч\r\r\n",
     2, {{1000, 2000, "бир\nэки"}, {3000, 4000, "үч"}}},
    {"srt tags",
     "1\n00:00:01,000 --> 00:00:02,000\n<i>Курсив</i> <B>жоон</B> "
     "<font color=\"#ff0000\">кызыл</font> {\\an8}жогору\n",
     1, {{1000, 2000, "<i>Курсив</i> <b>жоон</b> кызыл жогору"}}},
    {"srt blank line inside a cue",
     "1\n00:00:01,000 --> 00:00:03,000\nбиринчи\n\nэкинчи сап\n\n"
     "2\n00:00:04,000 --> 00:00:05,000\nүчүнчү\n",
     2, {{1000, 3000, "биринчи\nэкинчи сап"}, {4000, 5000, "үчүнчү"}}},
    {"srt blank line missing between cues",
     "1\n00:00:01,000 --> 00:00:02,000\nбир\n2\n00:00:03,000 --> 00:00:04,000\nэки\n"
     "00:00:05,000 --> 00:00:06,000\nүч\n",
     3, {{1000, 2000, "бир"}, {3000, 4000, "эки"}, {5000, 6000, "үч"}}},
    {"srt literal < & > and an arrow in text",
     "1\n00:00:01,000 --> 00:00:02,000\n1 < 2 & 3 > 2\nA --> B\n", 1,
     {{1000, 2000, "1 < 2 & 3 > 2\nA --> B"}}},
    {"srt coordinates, empty cue dropped, stray number",
     "1\n00:00:01,000 --> 00:00:02,000 X1:10 X2:20 Y1:5 Y2:6\nөң\n\n"
     "2\n00:00:02,000 --> 00:00:03,000\n\n3\n",
     1, {{1000, 2000, "өң"}}},
    {"vtt",
     "WEBVTT - Сабак 1\nKind: captions\n\nNOTE бул эскертүү\nэки сап\n\n"
     "STYLE\n::cue { color: yellow }\n\nREGION\nid:fred\n\n"
     "intro\n00:01.000 --> 00:04.000 align:start position:10%\n<v Мугалим>Саламатсызбы!</v>\n\n"
     "00:00:05.000 --> 00:00:06.000\n&lt;веб&gt; &amp; <c.yellow>сайт</c> <i.loud>катуу</i>&nbsp;!\n\n"
     "3\n01:00:00.000 --> 01:00:01.500\n<b>Ң Ө Ү</b><00:00:01.200> ң ө ү\n",
     3,
     {{1000, 4000, "Саламатсызбы!"},
      {5000, 6000, "<веб> & сайт <i>катуу</i>\xc2\xa0!"},
      {3600000, 3601500, "<b>Ң Ө Ү</b> ң ө ү"}}},
    {"vtt bom crlf",
     "\xef\xbb\xbfWEBVTT\r\n\r\n00:00.500 --> 00:01.000\r\nok\r\n00:01.000 --> 00:02.000\r\nnext\r\n",
     2, {{500, 1000, "ok"}, {1000, 2000, "next"}}},
    {"vtt braces are text", "WEBVTT\n\n00:01.000 --> 00:02.000\n{\\an8} x\n", 1,
     {{1000, 2000, "{\\an8} x"}}},
    {"ass",
     "[Script Info]\nTitle: Сабак\nScriptType: v4.00+\n\n"
     "[V4+ Styles]\nFormat: Name, Fontname, Fontsize\nStyle: Default,Arial,20\n\n"
     "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
     "Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,эскертүү\n"
     "Dialogue: 0,0:00:01.50,0:00:04.00,Default,,0,0,0,,{\\an8\\i1}Салам{\\i0}, дүйнө!\\NЭкинчи сап\n"
     "Dialogue: 0,0:00:05.00,0:00:06.00,Default,Мугалим,0,0,0,,a, b, c\\hd {комментарий}< 3\n",
     2,
     {{1500, 4000, "<i>Салам</i>, дүйнө!\nЭкинчи сап"}, {5000, 6000, "a, b, c\xc2\xa0" "d < 3"}}},
    {"ssa with Marked",
     "[Script Info]\nScriptType: v4.00\n\n[Events]\n"
     "Format: Marked, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
     "Dialogue: Marked=0,0:00:02.00,0:00:03.00,Default,,0000,0000,0000,,Орусча\n",
     1, {{2000, 3000, "Орусча"}}},
};

static void expect_cues(const char *label, const SbkSubs *s, size_t n, const Exp *cues)
{
    EXPECT_INT(label, s->n, n);
    for (size_t j = 0; j < n; j++) {
        char l[256];
        snprintf(l, sizeof l, "%s, cue %zu", label, j + 1);
        EXPECT_INT(l, s->cues[j].start_ms, cues[j].start);
        EXPECT_INT(l, s->cues[j].end_ms, cues[j].end);
        EXPECT_STR(l, s->cues[j].text, cues[j].text);
    }
}

static void test_parse_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_good / sizeof parse_good[0]; i++) {
        SbkSubs *s = NULL;
        SbkError err = {0};
        int ret = sbk_subs_parse(parse_good[i].src, strlen(parse_good[i].src), "x", &s, &err);
        if (ret != 0)
            fail_msg("%s: failed: %s", parse_good[i].label, err.msg);
        expect_cues(parse_good[i].label, s, parse_good[i].n, parse_good[i].cues);
        EXPECT_INT(parse_good[i].label, s->sorted, 0);
        EXPECT_STR(parse_good[i].label, s->encoding, "UTF-8");
        sbk_subs_free(&s);
        assert_null(s);
    }
}

/* ---- parsing: bad files ------------------------------------------------- */

static const struct {
    const char *label;
    const char *name;
    const char *src;
    int code;
    const char *msg;
} parse_bad[] = {
    {"one-digit seconds", "ru.srt",
     "1\n00:01:05,000 --> 00:01:08,000\nбир\n\n2\n00:01:6,000 --> 00:01:08,000\nэки\n", SBK_EINVAL,
     "ru.srt:6: bad timestamp \"00:01:6,000\""},
    {"minutes 60", "x.srt", "00:60:00,000 --> 01:00:01,000\nx\n", SBK_EINVAL,
     "x.srt:1: bad timestamp \"00:60:00,000\""},
    {"seconds 60", "x.srt", "00:00:60,000 --> 00:01:01,000\nx\n", SBK_EINVAL,
     "x.srt:1: bad timestamp \"00:00:60,000\""},
    {"two-digit milliseconds", "x.srt", "00:00:01,00 --> 00:00:02,000\nx\n", SBK_EINVAL,
     "x.srt:1: bad timestamp \"00:00:01,00\""},
    {"end without milliseconds", "x.srt", "00:00:01,000 --> 00:00:02\nx\n", SBK_EINVAL,
     "x.srt:1: bad timestamp \"00:00:02\""},
    {"end before start", "x.srt", "1\n00:00:05,000 --> 00:00:04,000\nx\n", SBK_EINVAL,
     "x.srt:2: cue ends before it starts"},
    {"zero length", "x.srt", "1\n00:00:05,000 --> 00:00:05,000\nx\n", SBK_EINVAL,
     "x.srt:2: cue ends as soon as it starts"},
    {"past 12 hours", "x.srt", "12:00:00,001 --> 12:00:01,000\nx\n", SBK_EINVAL,
     "x.srt:1: timestamp \"12:00:00,001\" is past the 12-hour limit"},
    {"garbage", "x.srt", "Бул субтитр эмес\nжөн эле текст\n", SBK_EINVAL,
     "x.srt:1: expected a cue timing like \"00:00:01,000 --> 00:00:04,000\", found \"Бул субтитр эмес\""},
    {"long garbage is cut in the message", "x.srt",
     "Бул субтитр эмес, бул жөн эле узун текст, аны эч ким окубайт\n", SBK_EINVAL,
     "x.srt:1: expected a cue timing like \"00:00:01,000 --> 00:00:04,000\", found \"Бул субтитр эмес, бул жөн эле узу...\""},
    {"no arrow", "x.srt", "1\n00:00:01,000 - 00:00:02,000\nx\n", SBK_EINVAL,
     "x.srt:2: bad cue timing \"00:00:01,000 - 00:00:02,000\" (expected \"00:00:01,000 --> 00:00:04,000\")"},
    {"crlf line numbers", "x.srt",
     "1\r\n00:00:01,000 --> 00:00:02,000\r\nx\r\n\r\n2\r\n00:00:03,000 --> 00:00:0,000\r\n", SBK_EINVAL,
     "x.srt:6: bad timestamp \"00:00:0,000\""},
    {"empty", "x.srt", "", SBK_EINVAL, "x.srt: no subtitles found"},
    {"blank lines only", "x.srt", "\n\n  \r\n", SBK_EINVAL, "x.srt: no subtitles found"},
    {"cues without text", "x.srt", "1\n00:00:01,000 --> 00:00:02,000\n\n", SBK_EINVAL,
     "x.srt: no subtitles found"},
    {"vtt header only", "x.vtt", "WEBVTT\n\nNOTE nothing here\n", SBK_EINVAL,
     "x.vtt: no subtitles found"},
    {"vtt garbage", "x.vtt", "WEBVTT\n\nhello\nworld\n", SBK_EINVAL,
     "x.vtt:3: expected a cue timing like \"00:00:01.000 --> 00:00:04.000\", found \"hello\""},
    {"vtt short fraction", "x.vtt", "WEBVTT\n\n00:01.5 --> 00:02.000\nx\n", SBK_EINVAL,
     "x.vtt:3: bad timestamp \"00:01.5\""},
    {"vtt end before start", "x.vtt", "WEBVTT\n\nid\n00:03.000 --> 00:02.000\nx\n", SBK_EINVAL,
     "x.vtt:4: cue ends before it starts"},
    {"ass bad time", "x.ass",
     "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
     "Dialogue: 0,0:00:0x.00,0:00:02.00,Default,,0,0,0,,x\n",
     SBK_EINVAL, "x.ass:3: bad timestamp \"0:00:0x.00\""},
    {"ass too few fields", "x.ass", "[Events]\nDialogue: 0,0:00:01.00\n", SBK_EINVAL,
     "x.ass:2: Dialogue line has fewer than 10 fields"},
    {"ass end before start", "x.ass",
     "[Events]\nDialogue: 0,0:00:03.00,0:00:02.00,Default,,0,0,0,,x\n", SBK_EINVAL,
     "x.ass:2: cue ends before it starts"},
    {"ass format without text last", "x.ass", "[Events]\nFormat: Start, End, Text, Style\n", SBK_EINVAL,
     "x.ass:2: the Format line needs Start, End and, last, Text"},
    {"invalid utf-8 after cr cr lf", "x.srt", "1\r\r\n00:00:01,000 --> 00:00:02,000\r\r\nab\xc3\r\r\n",
     SBK_EINVAL, "x.srt:3: text is not valid UTF-8"},
    {"invalid utf-8", "x.srt", "1\n00:00:01,000 --> 00:00:02,000\nab\xff\n", SBK_EINVAL,
     "x.srt:3: text is not valid UTF-8"},
};

static void test_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_bad / sizeof parse_bad[0]; i++) {
        SbkSubs *s = (SbkSubs *)&s;
        SbkError err = {0};
        int ret = sbk_subs_parse(parse_bad[i].src, strlen(parse_bad[i].src), parse_bad[i].name, &s,
                                 &err);
        EXPECT_INT(parse_bad[i].label, ret, parse_bad[i].code);
        EXPECT_INT(parse_bad[i].label, err.code, parse_bad[i].code);
        EXPECT_STR(parse_bad[i].label, err.msg, parse_bad[i].msg);
        assert_null(s);
    }
}

/* ---- sorting --------------------------------------------------------------- */

static void test_sorting(void **state)
{
    (void)state;
    const char *src = "1\n00:00:05,000 --> 00:00:06,000\nүчүнчү\n\n"
                      "2\n00:00:01,000 --> 00:00:02,000\nбиринчи\n\n"
                      "3\n00:00:03,000 --> 00:00:04,000\nэкинчи (a)\n\n"
                      "4\n00:00:03,000 --> 00:00:03,500\nэкинчи (b)\n";
    const Exp want[] = {{1000, 2000, "биринчи"},
                        {3000, 4000, "экинчи (a)"},
                        {3000, 3500, "экинчи (b)"},
                        {5000, 6000, "үчүнчү"}};
    SbkSubs *s = NULL;
    SbkError err = {0};
    assert_int_equal(sbk_subs_parse(src, strlen(src), "ru.srt", &s, &err), 0);
    expect_cues("sorted", s, 4, want);
    assert_int_equal(s->sorted, 1);
    assert_int_equal(nlogged, 1);
    assert_string_equal(logged[0], "WARN ru.srt: cues were out of order; sorted");
    sbk_subs_free(&s);

    /* Overlapping cues in order are left alone, silently. */
    nlogged = 0;
    src = "00:00:01,000 --> 00:00:05,000\na\n\n00:00:02,000 --> 00:00:03,000\nb\n";
    assert_int_equal(sbk_subs_parse(src, strlen(src), "ru.srt", &s, &err), 0);
    assert_int_equal(s->sorted, 0);
    assert_int_equal(nlogged, 0);
    sbk_subs_free(&s);
}

/* ---- the length cap ------------------------------------------------------- */

static void test_cue_text_cap(void **state)
{
    (void)state;
    static const struct {
        const char *label;
        const char *prefix;
        const char *unit;
        int reps;
        size_t want_len;
    } cases[] = {
        {"even cut", "", "ө", 700, 1024},
        {"cut inside a letter moves back", "a", "ө", 700, 1023},
        {"cut inside a kept tag drops it", "", "a", 1022, 1022}, /* then "<i>b</i>" */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *src = malloc(4096);
        size_t o = (size_t)sprintf(src, "1\n00:00:01,000 --> 00:00:02,000\n%s", cases[i].prefix);
        for (int k = 0; k < cases[i].reps; k++)
            o += (size_t)sprintf(src + o, "%s", cases[i].unit);
        sprintf(src + o, "%s\n", i == 2 ? "<i>b</i>" : "");
        SbkSubs *s = NULL;
        SbkError err = {0};
        nlogged = 0;
        assert_int_equal(sbk_subs_parse(src, strlen(src), "ky.srt", &s, &err), 0);
        EXPECT_INT(cases[i].label, strlen(s->cues[0].text), cases[i].want_len);
        assert_true(sbk_utf8_valid(s->cues[0].text, strlen(s->cues[0].text)));
        assert_null(strchr(s->cues[0].text, '<'));
        assert_int_equal(nlogged, 1);
        assert_string_equal(logged[0], "WARN ky.srt:2: cue text is longer than 1024 bytes; cut");
        sbk_subs_free(&s);
        free(src);
    }
}

static void test_max_cues(void **state)
{
    (void)state;
    size_t n = SBK_SUBS_MAX_CUES + 1, cap = n * 40, o = 0;
    char *src = malloc(cap);
    for (size_t i = 0; i < n; i++) {
        char a[16], b[16];
        sbk_fmt_ms((int64_t)i * 100, a, sizeof a);
        sbk_fmt_ms((int64_t)i * 100 + 50, b, sizeof b);
        o += (size_t)snprintf(src + o, cap - o, "%s --> %s\nx\n\n", a, b);
    }
    SbkSubs *s = NULL;
    SbkError err = {0};
    assert_int_equal(sbk_subs_parse(src, o, "big.srt", &s, &err), SBK_ELIMIT);
    assert_string_equal(err.msg, "big.srt:300001: more than 100000 cues");
    assert_null(s);
    free(src);
}

/* ---- WebVTT output ---------------------------------------------------------- */

static void test_to_vtt_escaping(void **state)
{
    (void)state;
    SbkCue cues[] = {
        {0, 1500, (char *)"a < b & c --> d"},
        {1500, 3723004, (char *)"<i>курсив</i> <b>x</b> <u>y</u> <font>z</font> <i"},
        {3723004, 3723005, (char *)"бир\n\n\nэки\n  \r\nүч\n"},
        {4000000, 4000001, (char *)"--><!-- &amp;"},
    };
    SbkSubs subs = {.cues = cues, .n = 4};
    char *out = NULL;
    size_t len = 0;
    SbkError err = {0};
    assert_int_equal(sbk_subs_to_vtt(&subs, &out, &len, &err), 0);
    const char *want = "WEBVTT\n\n"
                       "00:00:00.000 --> 00:00:01.500\n"
                       "a &lt; b &amp; c --&gt; d\n\n"
                       "00:00:01.500 --> 01:02:03.004\n"
                       "<i>курсив</i> <b>x</b> <u>y</u> &lt;font&gt;z&lt;/font&gt; &lt;i\n\n"
                       "01:02:03.004 --> 01:02:03.005\n"
                       "бир\nэки\nүч\n\n"
                       "01:06:40.000 --> 01:06:40.001\n"
                       "--&gt;&lt;!-- &amp;amp;\n\n";
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    free(out);
    assert_int_equal(sbk_subs_to_vtt(NULL, &out, &len, &err), SBK_EINVAL);
    assert_null(out);
}

/* parse -> vtt -> parse gives the same cues, and vtt output is a fixed point. */
static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_good / sizeof parse_good[0]; i++) {
        const char *label = parse_good[i].label;
        SbkSubs *a = NULL, *b = NULL;
        char *va = NULL, *vb = NULL;
        size_t la = 0, lb = 0;
        SbkError err = {0};
        assert_int_equal(sbk_subs_parse(parse_good[i].src, strlen(parse_good[i].src), "x", &a, &err), 0);
        assert_int_equal(sbk_subs_to_vtt(a, &va, &la, &err), 0);
        if (sbk_subs_parse(va, la, "x.vtt", &b, &err) != 0)
            fail_msg("%s: own output does not parse: %s\n%s", label, err.msg, va);
        expect_cues(label, b, parse_good[i].n, parse_good[i].cues);
        assert_int_equal(sbk_subs_to_vtt(b, &vb, &lb, &err), 0);
        EXPECT_STR(label, vb, va);
        for (const char *q = strstr(va, "-->"); q; q = strstr(q + 3, "-->"))
            if (q - va < 13 || memcmp(q - 1, " --> ", 5) != 0 || q[-2] < '0' || q[-2] > '9')
                fail_msg("%s: \"-->\" outside a timing line:\n%s", label, va);
        sbk_subs_free(&a);
        sbk_subs_free(&b);
        free(va);
        free(vb);
    }
}

/* ---- loading files ------------------------------------------------------------ */

static char tmpdir[512];

static int setup_dir(void **state)
{
    const char *base = getenv("SABAK_TEST_TMP");
    if (base)
        mkdir(base, 0755);
    snprintf(tmpdir, sizeof tmpdir, "%s/subs-XXXXXX", base ? base : "/tmp");
    assert_non_null(mkdtemp(tmpdir));
    return setup_log(state);
}

static int teardown_dir(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    return teardown_log(state);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        const char *text;
        As as;
        const char *enc;
        const char *log; /* the INFO line, after the path; NULL: none */
        const char *first_cue;
    } cases[] = {
        {"ru.srt", RU_SRT, AS_CP1251, "WINDOWS-1251", ": read as WINDOWS-1251",
         "Работа с муниципальным веб-сайтом"},
        {"ky.srt", KY_SRT, AS_UTF8, "UTF-8", NULL, "Муниципалдык веб-сайт менен иштөө"},
        {"ky16.srt", KY_SRT, AS_UTF16LE_BOM, "UTF-16LE", ": read as UTF-16LE",
         "Муниципалдык веб-сайт менен иштөө"},
        {"ru-bom.srt", RU_SRT, AS_UTF8_BOM, "UTF-8 (BOM)", ": read as UTF-8 (BOM)",
         "Работа с муниципальным веб-сайтом"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[600], want_log[700];
        size_t n;
        snprintf(path, sizeof path, "%s/%s", tmpdir, cases[i].file);
        uint8_t *data = encode(cases[i].text, cases[i].as, &n);
        write_file(path, data, n);
        free(data);
        SbkSubs *s = NULL;
        SbkError err = {0};
        nlogged = 0;
        if (sbk_subs_load(path, &s, &err) != 0)
            fail_msg("%s: %s", cases[i].file, err.msg);
        EXPECT_STR(cases[i].file, s->encoding, cases[i].enc);
        EXPECT_INT(cases[i].file, s->n, 2);
        EXPECT_STR(cases[i].file, s->cues[0].text, cases[i].first_cue);
        EXPECT_INT(cases[i].file, nlogged, cases[i].log ? 1 : 0);
        if (cases[i].log) {
            snprintf(want_log, sizeof want_log, "INFO %s%s", path, cases[i].log);
            EXPECT_STR(cases[i].file, logged[0], want_log);
        }
        sbk_subs_free(&s);
    }
}

static void test_load_errors(void **state)
{
    (void)state;
    char path[600], want[800];
    SbkSubs *s = NULL;
    SbkError err = {0};

    snprintf(path, sizeof path, "%s/missing.srt", tmpdir);
    assert_int_equal(sbk_subs_load(path, &s, &err), SBK_ENOENT);
    snprintf(want, sizeof want, "%s: no such file", path);
    assert_string_equal(err.msg, want);
    assert_null(s);

    snprintf(path, sizeof path, "%s/video.srt", tmpdir);
    write_file(path, "PK\x03\x04\x14\x00\x00\x00\x08\x00", 10);
    assert_int_equal(sbk_subs_load(path, &s, &err), SBK_EINVAL);
    snprintf(want, sizeof want, "%s: not a text file (binary data at byte 5)", path);
    assert_string_equal(err.msg, want);
    assert_null(s);

    /* The line number of a Windows-1251 file is the line in that file. */
    snprintf(path, sizeof path, "%s/bad.srt", tmpdir);
    size_t n;
    uint8_t *data = encode("1\r\n00:00:01,000 --> 00:00:02,000\r\nДобрый день\r\n\r\n"
                           "2\r\n00:00:03,000 --> 00:00:2,000\r\nДо свидания\r\n",
                           AS_CP1251, &n);
    write_file(path, data, n);
    free(data);
    assert_int_equal(sbk_subs_load(path, &s, &err), SBK_EINVAL);
    snprintf(want, sizeof want, "%s:6: bad timestamp \"00:00:2,000\"", path);
    assert_string_equal(err.msg, want);
    assert_null(s);

    snprintf(path, sizeof path, "%s/empty.srt", tmpdir);
    write_file(path, "", 0);
    assert_int_equal(sbk_subs_load(path, &s, &err), SBK_EINVAL);
    snprintf(want, sizeof want, "%s: no subtitles found", path);
    assert_string_equal(err.msg, want);
}

static void test_free_null(void **state)
{
    (void)state;
    SbkSubs *s = NULL;
    sbk_subs_free(&s);
    sbk_subs_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_encoding_damaged_utf8),
        cmocka_unit_test(test_encoding_errors),
        cmocka_unit_test_setup_teardown(test_parse_good, setup_log, teardown_log),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test_setup_teardown(test_sorting, setup_log, teardown_log),
        cmocka_unit_test_setup_teardown(test_cue_text_cap, setup_log, teardown_log),
        cmocka_unit_test(test_max_cues),
        cmocka_unit_test(test_to_vtt_escaping),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test_setup_teardown(test_load, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_errors, setup_dir, teardown_dir),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests_name("subs", tests, NULL, NULL);
}
