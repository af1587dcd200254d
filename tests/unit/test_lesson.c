/* Unit tests for lesson.ini parsing (sbk_lesson_parse) and lesson folders
 * (sbk_lesson_load). Error cases are a table of exact messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sabak/core.h"
#include "sabak/lesson.h"

#define MINIMAL                                                                                    \
    "[lesson]\n"                                                                                   \
    "id = municipal-website-01\n"                                                                  \
    "version = 1\n"                                                                                \
    "video = recording.mp4\n"                                                                      \
    "topic = municipal-website\n"                                                                  \
    "order = 1\n"                                                                                  \
    "[title]\n"                                                                                    \
    "ky = Муниципалдык веб-сайт менен иштөө\n"                                                     \
    "ru = Работа с муниципальным веб-сайтом\n"                                                     \
    "en = Working with the municipal website\n"

static SbkLesson *parse_ok(const char *text)
{
    SbkLesson *L = NULL;
    SbkError err = {0};
    int rc = sbk_lesson_parse(text, strlen(text), "lessons/x/lesson.ini", "lessons/x", &L, &err);
    if (rc != 0)
        fail_msg("unexpected error %d: %s", rc, err.msg);
    assert_non_null(L);
    return L;
}

static void test_minimal(void **state)
{
    SbkLesson *L = parse_ok(MINIMAL);
    assert_string_equal(L->id, "municipal-website-01");
    assert_int_equal(L->version, 1);
    assert_string_equal(L->video, "lessons/x/recording.mp4");
    assert_string_equal(L->topic, "municipal-website");
    assert_int_equal(L->order, 1);
    assert_int_equal(L->audio_only, 0);
    assert_string_equal(L->title[SBK_LANG_KY], "Муниципалдык веб-сайт менен иштөө");
    assert_string_equal(L->title[SBK_LANG_RU], "Работа с муниципальным веб-сайтом");
    assert_string_equal(L->title[SBK_LANG_EN], "Working with the municipal website");
    assert_null(L->description[0]);
    assert_int_equal(L->n_chapters, 0);
    assert_null(L->chapters);
    assert_int_equal(L->n_subs, 0);
    assert_string_equal(L->dir, "lessons/x");
    assert_string_equal(L->ini_path, "lessons/x/lesson.ini");
    sbk_lesson_free(&L);
    assert_null(L);
    sbk_lesson_free(&L); /* accepts NULL */
    sbk_lesson_free(NULL);
}

static void test_full(void **state)
{
    /* A long Kyrgyz description (over inih's 200-byte line buffer), a BOM,
     * CRLF line ends, indentation, comments, [subtitles] and chapters. */
    char desc[2048];
    snprintf(desc, sizeof desc, "%s", "Бул сабакта айыл өкмөтүнүн кызматкери сайттын башкаруу "
                                      "панелине кирип, сүрөтү бар жаңылыкты жарыялайт, байланыш "
                                      "барагын жаңыртат; кулактандырууларды да өзү жазат. Ң ө ү.");
    char text[8192];
    snprintf(text, sizeof text,
             "\xEF\xBB\xBF; a trainer's comment\r\n"
             "[lesson]\r\n"
             "  id = citizen-budget-01\r\n"
             "version=3\r\n"
             "video = media/camera.mp4   ; inline comment\r\n"
             "audio_only = No\r\n"
             "topic = citizen-budget\r\n"
             "order = -2\r\n"
             "\r\n"
             "[ Title ]\r\n"
             "ky = Онлайн жарандык бюджет\r\n"
             "ru = Онлайн гражданский бюджет\r\n"
             "en =\r\n"
             "[description]\r\n"
             "ky = %s\r\n"
             "ru = Что такое гражданский бюджет: цифры, предложения жителей, итоги.\r\n"
             "# a hash comment\r\n"
             "[chapters]\r\n"
             "00:00:00 = Introduction\r\n"
             "01:30 = Budget figures: where to find them\r\n"
             "0:02:05.5 = Proposals = ideas\r\n"
             "[subtitles]\r\n"
             "ru = subs/ru-cp1251.srt\r\n"
             "KY = subs/ky.VTT\r\n",
             desc);
    SbkLesson *L = parse_ok(text);
    assert_string_equal(L->id, "citizen-budget-01");
    assert_int_equal(L->version, 3);
    assert_string_equal(L->video, "lessons/x/media/camera.mp4");
    assert_int_equal(L->order, -2);
    assert_int_equal(L->audio_only, 0);
    assert_string_equal(L->title[SBK_LANG_KY], "Онлайн жарандык бюджет");
    assert_null(L->title[SBK_LANG_EN]); /* "en =" means none yet */
    assert_true(strlen(desc) > 200);
    assert_string_equal(L->description[SBK_LANG_KY], desc);
    assert_string_equal(L->description[SBK_LANG_RU],
                        "Что такое гражданский бюджет: цифры, предложения жителей, итоги.");
    assert_int_equal(L->n_chapters, 3);
    static const int64_t starts[] = {0, 90000, 125500};
    static const char *const titles[] = {"Introduction", "Budget figures: where to find them",
                                         "Proposals = ideas"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(L->chapters[i].start_ms, starts[i]);
        for (int l = 0; l < SBK_LANG_COUNT; l++)
            assert_string_equal(L->chapters[i].title[l], titles[i]);
    }
    assert_int_equal(L->n_subs, 2);
    assert_string_equal(L->subs[0].lang, "ru");
    assert_string_equal(L->subs[0].path, "lessons/x/subs/ru-cp1251.srt");
    assert_string_equal(L->subs[1].lang, "ky");
    assert_string_equal(L->subs[1].path, "lessons/x/subs/ky.VTT");
    sbk_lesson_free(&L);
}

static void test_long_values(void **state)
{
    /* Lines of any length, cut by the reader and joined again; values with
     * ';' not after a blank and with many words. */
    char big[6000] = "";
    for (int i = 0; i < 60; i++)
        strcat(big, i % 2 ? "жаңылык;сүрөт " : "үй-бүлө ӨҢҮ ");
    big[strlen(big) - 1] = '\0';
    char chap[1024] = "";
    for (int i = 0; i < 40; i++)
        strcat(chap, "Бөлүм ");
    chap[strlen(chap) - 1] = '\0';
    char text[8192];
    snprintf(text, sizeof text, "[lesson]\nid=a\nversion=1\nvideo=v.mp4\n[title]\nky=T\n[description]\nru = %s\n"
             "[chapters]\n00:01:00 = %s\n", big, chap);
    SbkLesson *L = parse_ok(text);
    assert_string_equal(L->description[SBK_LANG_RU], big);
    assert_int_equal(L->n_chapters, 1);
    assert_true(strlen(chap) > 200);
    assert_string_equal(L->chapters[0].title[SBK_LANG_EN], chap);
    sbk_lesson_free(&L);
}

static void test_chapter_merge(void **state)
{
    const char *text = "[lesson]\nid=a\nversion=1\nvideo=v.mp4\n[title]\nen=T\n"
                       "[chapters.ru]\n"
                       "00:02:00 = Итоги\n"
                       "00:00:00 = Введение\n"
                       "[chapters]\n"
                       "00:00 = Intro\n"
                       "01:00 = Budget\n"
                       "[chapters.ky]\n"
                       "0:00:00.000 = Киришүү\n"
                       "1:00 = Бюджет\n"
                       "[chapters.en]\n"
                       "2:00 = Results\n";
    SbkLesson *L = parse_ok(text);
    assert_int_equal(L->n_chapters, 3);
    static const struct {
        int64_t ms;
        const char *t[SBK_LANG_COUNT];
    } want[] = {
        {0, {"Киришүү", "Введение", "Intro"}},
        {60000, {"Бюджет", "Budget", "Budget"}},
        {120000, {NULL, "Итоги", "Results"}},
    };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(L->chapters[i].start_ms, want[i].ms);
        for (int l = 0; l < SBK_LANG_COUNT; l++) {
            if (want[i].t[l])
                assert_string_equal(L->chapters[i].title[l], want[i].t[l]);
            else
                assert_null(L->chapters[i].title[l]);
        }
    }
    sbk_lesson_free(&L);
}

static void test_times(void **state)
{
    static const struct {
        const char *t;
        int64_t ms; /* -1: rejected */
    } cases[] = {
        {"00:01:30", 90000},  {"01:30", 90000},     {"1:30", 90000},       {"1:00:00", 3600000},
        {"0:02:05.5", 125500}, {"0:02:05,25", 125250}, {"10:00:00.001", 36000001},
        {"123:00", 7380000},  {"1:2:3:4", -1},      {"1:2:3", -1},         {"90", -1},
        {"00:60", -1},        {"00:61:00", -1},     {"1:30.", -1},         {"1:30.1234", -1},
        {"a:30", -1},         {"", -1},             {"1::30", -1},         {"1:30:", -1},
        {"-1:30", -1},        {"1:30.5.5", -1},     {"1234:00", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "[lesson]\nid=a\nversion=1\nvideo=v.mp4\n[title]\nky=T\n"
                 "[chapters]\n%s = Бөлүм\n", cases[i].t);
        SbkLesson *L = NULL;
        SbkError err = {0};
        int rc = sbk_lesson_parse(text, strlen(text), "l.ini", "", &L, &err);
        if (cases[i].ms < 0) {
            char want[128];
            snprintf(want, sizeof want, "l.ini:8: bad chapter time \"%s\": ", cases[i].t);
            if (rc != SBK_EINVAL || strncmp(err.msg, want, strlen(want)) != 0)
                fail_msg("time \"%s\": rc %d, message \"%s\"", cases[i].t, rc, err.msg);
            assert_null(L);
        } else {
            if (rc != 0)
                fail_msg("time \"%s\": %s", cases[i].t, err.msg);
            assert_int_equal(L->chapters[0].start_ms, cases[i].ms);
            assert_string_equal(L->video, "v.mp4"); /* no dir: not joined */
            sbk_lesson_free(&L);
        }
    }
    /* the message says why (issue 11): the part to change */
    static const char *const why[][2] = {
        {"00:75", "seconds must be under 60"},
        {"00:61:00", "minutes must be under 60"},
        {"90", "write minutes and seconds at least"},
        {"1:2:3:4", "at most three parts"},
        {"a:30", "use digits and ':' only"},
    };
    for (size_t i = 0; i < sizeof why / sizeof why[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "[lesson]\nid=a\nversion=1\nvideo=v.mp4\n[title]\nky=T\n"
                 "[chapters]\n%s = Бөлүм\n", why[i][0]);
        SbkLesson *L = NULL;
        SbkError err = {0};
        assert_int_equal(sbk_lesson_parse(text, strlen(text), "l.ini", "", &L, &err), SBK_EINVAL);
        if (!strstr(err.msg, why[i][1]))
            fail_msg("time \"%s\": \"%s\" does not say \"%s\"", why[i][0], err.msg, why[i][1]);
    }
}

#define HEAD "[lesson]\nid = a\nversion = 1\nvideo = v.mp4\n"
#define TITLE "[title]\nky = Т\n"

static void test_errors(void **state)
{
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } cases[] = {
        /* unknown key, with its line */
        {"[lesson]\nid = a\nversion = 1\nvidoe = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:4: unknown key \"vidoe\" in [lesson] (did you mean \"video\"?)"},
        /* missing required keys, named */
        {"[lesson]\nversion = 1\nvideo = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini: missing required key \"id\" in [lesson]"},
        {"[lesson]\nid = a\nvideo = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini: missing required key \"version\" in [lesson]"},
        {"[lesson]\nid = a\nversion = 1\naudio_only = yes\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini: missing required key \"video\" in [lesson]"},
        {HEAD, SBK_EINVAL,
         "lessons/x/lesson.ini: missing [title]: give at least one of ky, ru, en"},
        {HEAD "[title]\nru =\n", SBK_EINVAL,
         "lessons/x/lesson.ini: missing [title]: give at least one of ky, ru, en"},
        {"", SBK_EINVAL, "lessons/x/lesson.ini: missing required key \"id\" in [lesson]"},
        /* bad chapter time */
        {HEAD TITLE "[chapters]\n00:01:30 = Ок\n1:2:3:4 = Бөлүм\n", SBK_EINVAL,
         "lessons/x/lesson.ini:9: bad chapter time \"1:2:3:4\": at most three parts: "
         "hours:minutes:seconds, as in 01:02:03"},
        {HEAD TITLE "[chapters]\n00:01:30 - Title\n", SBK_EINVAL,
         "lessons/x/lesson.ini:8: expected \"00:01:30 = title\" in [chapters]"},
        {HEAD TITLE "[chapters.ru]\n00:01:30 =\n", SBK_EINVAL,
         "lessons/x/lesson.ini:8: chapter at 00:01:30 has no title"},
        {HEAD TITLE "[chapters.ky]\n00:01:30 = A\n1:30 = B\n", SBK_EINVAL,
         "lessons/x/lesson.ini:9: duplicate chapter time 00:01:30 in [chapters.ky] (first on line 8)"},
        /* duplicate keys */
        {HEAD "id = b\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:5: duplicate key \"id\" in [lesson] (first set on line 2)"},
        {HEAD TITLE "[lesson]\nVersion = 2\n", SBK_EINVAL,
         "lessons/x/lesson.ini:8: duplicate key \"version\" in [lesson] (first set on line 3)"},
        {HEAD TITLE "ky = Экинчи\n", SBK_EINVAL,
         "lessons/x/lesson.ini:7: duplicate key \"ky\" in [title] (first set on line 6)"},
        {HEAD TITLE "[subtitles]\nru = a.srt\nru = b.srt\n", SBK_EINVAL,
         "lessons/x/lesson.ini:9: duplicate key \"ru\" in [subtitles]"},
        /* paths that leave the lesson folder */
        {"[lesson]\nid = a\nversion = 1\nvideo = ../other/v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:4: video \"../other/v.mp4\" must be a relative path inside the lesson "
         "folder (no \"..\", no \"\\\")"},
        {"[lesson]\nid = a\nversion = 1\nvideo = /etc/passwd\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:4: video \"/etc/passwd\" must be a relative path inside the lesson "
         "folder (no \"..\", no \"\\\")"},
        {"[lesson]\nid = a\nversion = 1\nvideo = media/../../v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:4: video \"media/../../v.mp4\" must be a relative path inside the "
         "lesson folder (no \"..\", no \"\\\")"},
        {"[lesson]\nid = a\nversion = 1\nvideo = C:\\rec\\v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:4: video \"C:\\rec\\v.mp4\" must be a relative path inside the "
         "lesson folder (no \"..\", no \"\\\")"},
        {HEAD TITLE "[subtitles]\nky = ../ky.srt\n", SBK_EINVAL,
         "lessons/x/lesson.ini:8: subtitles \"../ky.srt\" must be a relative path inside the lesson "
         "folder (no \"..\", no \"\\\")"},
        /* bad ids and values */
        {"[lesson]\nid = Муниципалдык\nversion = 1\nvideo = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:2: bad id \"Муниципалдык\": use 1-64 of a-z 0-9 . _ - starting with "
         "a letter or digit, e.g. \"munitsipaldyk\""},
        {"[lesson]\nid = UX News 01\nversion = 1\nvideo = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:2: bad id \"UX News 01\": use 1-64 of a-z 0-9 . _ - starting with "
         "a letter or digit, e.g. \"ux-news-01\""},
        {"[lesson]\nvidoe = v.mp4\n", SBK_EINVAL,
         "lessons/x/lesson.ini:2: unknown key \"vidoe\" in [lesson] (did you mean \"video\"?)"},
        {"[lesson]\ncolour = red\n", SBK_EINVAL,
         "lessons/x/lesson.ini:2: unknown key \"colour\" in [lesson] (the keys are id, version, "
         "video, audio_only, topic, order, audio_language)"},
        {HEAD TITLE "[tittle]\n", SBK_EINVAL,
         "lessons/x/lesson.ini:7: unknown section [tittle] (did you mean [title]?)"},
        {"[lesson]\nid = -x\nversion = 1\nvideo = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:2: bad id \"-x\": use 1-64 of a-z 0-9 . _ - starting with a letter "
         "or digit, e.g. \"x\""},
        {"[lesson]\nid = a/b\nversion = 1\nvideo = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:2: bad id \"a/b\": use 1-64 of a-z 0-9 . _ - starting with a letter "
         "or digit, e.g. \"a-b\""},
        {HEAD "topic = Budget\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:5: bad topic \"Budget\": use 1-64 of a-z 0-9 . _ - starting with a "
         "letter or digit, e.g. \"budget\""},
        {"[lesson]\nid = a\nversion = 0\nvideo = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:3: bad version \"0\": use a whole number from 1"},
        {"[lesson]\nid = a\nversion = 1.5\nvideo = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:3: bad version \"1.5\": use a whole number from 1"},
        {"[lesson]\nid = a\nversion = 99999999999999999999\nvideo = v.mp4\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:3: bad version \"99999999999999999999\": use a whole number from 1"},
        {HEAD "order = first\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:5: bad order \"first\": use a whole number"},
        {HEAD "audio_only = maybe\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:5: bad audio_only \"maybe\": use true or false"},
        {HEAD "topic =\n" TITLE, SBK_EINVAL, "lessons/x/lesson.ini:5: \"topic\" in [lesson] is empty"},
        /* sections and languages */
        {HEAD TITLE "[chapter]\n", SBK_EINVAL, "lessons/x/lesson.ini:7: unknown section [chapter] (did you mean [chapters]?)"},
        {HEAD TITLE "[chapters.de]\n00:00 = Anfang\n", SBK_EINVAL,
         "lessons/x/lesson.ini:7: unknown section [chapters.de] (chapter titles are in [chapters] or "
         "in [chapters.ky], [chapters.ru], [chapters.en])"},
        {HEAD TITLE "[chapters.kg]\n00:00 = Башы\n", SBK_EINVAL,
         "lessons/x/lesson.ini:7: unknown section [chapters.kg] (did you mean [chapters.ky]?)"},
        {HEAD "[title]\nkg = Аталыш\n", SBK_EINVAL,
         "lessons/x/lesson.ini:6: unknown key \"kg\" in [title] (languages are ky, ru, en)"},
        {HEAD TITLE "[description]\nde = Text\n", SBK_EINVAL,
         "lessons/x/lesson.ini:8: unknown key \"de\" in [description] (languages are ky, ru, en)"},
        {HEAD TITLE "[subtitles]\nkyrgyz = ky.srt\n", SBK_EINVAL,
         "lessons/x/lesson.ini:8: bad language \"kyrgyz\" in [subtitles]: use a 2-3 letter code "
         "such as ky or ru"},
        {HEAD TITLE "[subtitles]\nky = ky.txt\n", SBK_EINVAL,
         "lessons/x/lesson.ini:8: subtitles \"ky.txt\": expected a .srt, .vtt or .ass file"},
        {"id = a\n" HEAD TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:1: key \"id\" is outside any section (put it under [lesson])"},
        /* syntax */
        {HEAD "this line has no equals sign\n" TITLE, SBK_EINVAL,
         "lessons/x/lesson.ini:5: expected \"key = value\""},
        {HEAD "[title\nky = x\n", SBK_EINVAL,
         "lessons/x/lesson.ini:5: bad section line (expected [name])"},
        /* encodings */
        {HEAD "[title]\nru = \xD0\xE0\xE1\xEE\xF2\xE0\n", SBK_EINVAL,
         "lessons/x/lesson.ini:6: not valid UTF-8 (save the file as UTF-8)"},
        {"\xFF\xFE[\0l\0", SBK_EINVAL, "lessons/x/lesson.ini: the file is UTF-16; save it as UTF-8"},
        {HEAD "[title]\nru = a\x01z\n", SBK_EINVAL,
         "lessons/x/lesson.ini:6: control character in the value of \"ru\""},
        /* the first error wins, even when inih's own comes later */
        {"[lesson]\nvidoe = v\nno equals\n", SBK_EINVAL,
         "lessons/x/lesson.ini:2: unknown key \"vidoe\" in [lesson] (did you mean \"video\"?)"},
        {"[lesson]\nno equals\nvidoe = v\n", SBK_EINVAL,
         "lessons/x/lesson.ini:2: expected \"key = value\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SbkLesson *L = NULL;
        SbkError err = {0};
        size_t len = strlen(cases[i].text);
        if (cases[i].text[0] == '\xFF')
            len = 6;
        int rc = sbk_lesson_parse(cases[i].text, len, "lessons/x/lesson.ini", "lessons/x", &L, &err);
        if (rc != cases[i].code || strcmp(err.msg, cases[i].msg) != 0)
            fail_msg("case %zu: rc %d (want %d)\n  got:  %s\n  want: %s", i, rc, cases[i].code,
                     err.msg, cases[i].msg);
        assert_null(L);
    }
}

static void test_nul_byte(void **state)
{
    static const char text[] = "[lesson]\nid = a\0b\n";
    SbkLesson *L = NULL;
    SbkError err = {0};
    assert_int_equal(sbk_lesson_parse(text, sizeof text - 1, "l.ini", "d", &L, &err), SBK_EINVAL);
    assert_string_equal(err.msg, "l.ini:2: NUL byte: this is not a text file");
    assert_null(L);
}

static void test_langs(void **state)
{
    assert_string_equal(sbk_lang_codes[SBK_LANG_KY], "ky");
    assert_string_equal(sbk_lang_codes[SBK_LANG_RU], "ru");
    assert_string_equal(sbk_lang_codes[SBK_LANG_EN], "en");
    assert_int_equal(sbk_lang_index("ky"), SBK_LANG_KY);
    assert_int_equal(sbk_lang_index("RU"), SBK_LANG_RU);
    assert_int_equal(sbk_lang_index("en"), SBK_LANG_EN);
    assert_int_equal(sbk_lang_index("kg"), -1);
    assert_int_equal(sbk_lang_index(""), -1);
    assert_int_equal(sbk_lang_index(NULL), -1);
    char ru[] = "Русский", en[] = "English", ky[] = "Кыргызча";
    char *v[SBK_LANG_COUNT] = {NULL, ru, en};
    assert_string_equal(sbk_lang_pick(v, SBK_LANG_EN), "English");
    assert_string_equal(sbk_lang_pick(v, SBK_LANG_KY), "Русский");
    assert_string_equal(sbk_lang_pick(v, 7), "Русский");
    char *w[SBK_LANG_COUNT] = {ky, NULL, NULL};
    assert_string_equal(sbk_lang_pick(w, SBK_LANG_RU), "Кыргызча");
    char *none[SBK_LANG_COUNT] = {NULL, NULL, NULL};
    assert_null(sbk_lang_pick(none, SBK_LANG_KY));
}

/* ---- lesson folders ------------------------------------------------------- */

static char *tmp_root;

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *make_lesson(const char *name, const char *ini)
{
    char *dir = NULL;
    assert_true(asprintf(&dir, "%s/%s", tmp_root, name) > 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    write_file(dir, "lesson.ini", ini);
    return dir;
}

static int setup_tmp(void **state)
{
    const char *base = getenv("SABAK_TEST_TMP");
    char tmpl[1024];
    if (base && *base) {
        mkdir(base, 0755);
        snprintf(tmpl, sizeof tmpl, "%s/lesson-XXXXXX", base);
    } else {
        snprintf(tmpl, sizeof tmpl, "/tmp/sabak-lesson-XXXXXX");
    }
    if (!mkdtemp(tmpl))
        return -1;
    tmp_root = strdup(tmpl);
    return 0;
}

static int teardown_tmp(void **state)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    int rc = system(cmd);
    free(tmp_root);
    return rc == 0 ? 0 : -1;
}

static void test_load_convention(void **state)
{
    char *dir = make_lesson("conv", HEAD TITLE);
    write_file(dir, "v.mp4", "not really a video; the loader only checks it exists");
    write_file(dir, "subtitles/ru.vtt", "WEBVTT\n");
    write_file(dir, "subtitles/ky.srt", "1\n");
    write_file(dir, "subtitles/EN.SRT", "1\n");
    write_file(dir, "subtitles/notes.txt", "not a subtitle");
    write_file(dir, "subtitles/kyrgyz.srt", "4-letter base name: not a language code");
    write_file(dir, "subtitles/ky.old.srt", "not a language code either");
    write_file(dir, "handouts/budget.pdf", "%PDF-");
    SbkLesson *L = NULL;
    SbkError err = {0};
    if (sbk_lesson_load(dir, &L, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(L->n_subs, 3);
    static const char *const langs[] = {"en", "ky", "ru"};
    static const char *const files[] = {"subtitles/EN.SRT", "subtitles/ky.srt", "subtitles/ru.vtt"};
    for (int i = 0; i < 3; i++) {
        char want[1024];
        snprintf(want, sizeof want, "%s/%s", dir, files[i]);
        assert_string_equal(L->subs[i].lang, langs[i]);
        assert_string_equal(L->subs[i].path, want);
    }
    char want[1024];
    snprintf(want, sizeof want, "%s/handouts", dir);
    assert_string_equal(L->handouts_dir, want);
    snprintf(want, sizeof want, "%s/lesson.ini", dir);
    assert_string_equal(L->ini_path, want);
    sbk_lesson_free(&L);

    /* two files for one language */
    write_file(dir, "subtitles/ky.vtt", "WEBVTT\n");
    assert_int_equal(sbk_lesson_load(dir, &L, &err), SBK_EINVAL);
    assert_null(L);
    char w1[1024], w2[1024];
    snprintf(w1, sizeof w1, "%s/subtitles: two subtitle files for \"ky\": ky.srt and ky.vtt; keep one", dir);
    snprintf(w2, sizeof w2, "%s/subtitles: two subtitle files for \"ky\": ky.vtt and ky.srt; keep one", dir);
    if (strcmp(err.msg, w1) && strcmp(err.msg, w2))
        fail_msg("got: %s", err.msg);
    free(dir);
}

static char last_warning[1024];

static void capture_log(void *opaque, SbkLogLevel level, const char *line)
{
    if (level == SBK_LOG_WARN)
        snprintf(last_warning, sizeof last_warning, "%s", line);
}

static void test_load_listed(void **state)
{
    char *dir = make_lesson("listed", HEAD TITLE "[subtitles]\nru = subtitles/ru-1251.srt\n"
                                                  "ky = subtitles/ky.srt\n");
    write_file(dir, "v.mp4", "x");
    write_file(dir, "subtitles/ru-1251.srt", "1\n");
    write_file(dir, "subtitles/en.srt", "1\n"); /* not listed: left out with a warning */
    SbkLesson *L = NULL;
    SbkError err = {0};
    assert_int_equal(sbk_lesson_load(dir, &L, &err), SBK_ENOENT);
    assert_null(L);
    char want[1024];
    snprintf(want, sizeof want, "%s/lesson.ini: subtitles \"subtitles/ky.srt\" not found in %s", dir,
             dir);
    assert_string_equal(err.msg, want);

    write_file(dir, "subtitles/ky.srt", "1\n");
    sbk_log_set_sink(capture_log, NULL);
    int rc = sbk_lesson_load(dir, &L, &err);
    sbk_log_set_sink(NULL, NULL);
    if (rc != 0)
        fail_msg("%s", err.msg);
    snprintf(want, sizeof want,
             "%s/lesson.ini: subtitles/en.srt is not listed under [subtitles] and is left out", dir);
    assert_string_equal(last_warning, want);
    assert_int_equal(L->n_subs, 2);
    assert_string_equal(L->subs[0].lang, "ru"); /* listed order is kept */
    assert_string_equal(L->subs[1].lang, "ky");
    assert_null(L->handouts_dir);
    sbk_lesson_free(&L);
    free(dir);
}

static void test_load_errors(void **state)
{
    SbkLesson *L = NULL;
    SbkError err = {0};
    char want[1024];

    char *dir = make_lesson("novideo", "[lesson]\nid = a\nversion = 1\nvideo = recording.mp4\n" TITLE);
    assert_int_equal(sbk_lesson_load(dir, &L, &err), SBK_ENOENT);
    snprintf(want, sizeof want,
             "%s/lesson.ini: video \"recording.mp4\" not found, and %s holds no video file: copy the "
             "recording into the folder and name it in lesson.ini (video = ...)", dir, dir);
    assert_string_equal(err.msg, want);
    assert_null(L);
    /* the recordings that are there are named (issue 11) */
    char other[1100];
    snprintf(other, sizeof other, "%s/Урок 1.mp4", dir);
    FILE *f = fopen(other, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(sbk_lesson_load(dir, &L, &err), SBK_ENOENT);
    snprintf(want, sizeof want,
             "%s/lesson.ini: video \"recording.mp4\" not found in %s; the video file there is "
             "\"Урок 1.mp4\": set video = <its name> in [lesson], or rename the file", dir, dir);
    assert_string_equal(err.msg, want);
    assert_null(L);
    unlink(other);

    /* a folder where the video should be */
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/recording.mp4", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(sbk_lesson_load(dir, &L, &err), SBK_EINVAL);
    snprintf(want, sizeof want, "%s/lesson.ini: video \"recording.mp4\" in %s is not a file", dir, dir);
    assert_string_equal(err.msg, want);
    free(dir);

    /* parse errors carry the path */
    dir = make_lesson("badkey", "[lesson]\nid = a\nvidoe = v.mp4\n");
    assert_int_equal(sbk_lesson_load(dir, &L, &err), SBK_EINVAL);
    snprintf(want, sizeof want, "%s/lesson.ini:3: unknown key \"vidoe\" in [lesson] (did you mean \"video\"?)", dir);
    assert_string_equal(err.msg, want);
    free(dir);

    /* no lesson.ini, no folder */
    assert_true(asprintf(&dir, "%s/empty", tmp_root) > 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(sbk_lesson_load(dir, &L, &err), SBK_ENOENT);
    snprintf(want, sizeof want, "%s: no lesson.ini (every lesson folder needs one)", dir);
    assert_string_equal(err.msg, want);
    free(dir);
    assert_true(asprintf(&dir, "%s/absent", tmp_root) > 0);
    assert_int_equal(sbk_lesson_load(dir, &L, &err), SBK_ENOENT);
    snprintf(want, sizeof want, "%s: no such lesson folder", dir);
    assert_string_equal(err.msg, want);
    free(dir);
}

/* The real lessons in lessons/ must load (their recordings are generated,
 * so the video is checked by the parse only). */
static void test_repo_lessons(void **state)
{
    const char *src = getenv("SABAK_SRC");
    if (!src)
        skip();
    static const char *const ids[] = {"municipal-website-01", "municipal-website-02",
                                      "citizen-budget-01"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char path[1100], dir[1024];
        snprintf(dir, sizeof dir, "%s/lessons/%s", src, ids[i]);
        snprintf(path, sizeof path, "%s/lesson.ini", dir);
        char *text = NULL;
        size_t len = 0;
        SbkError err = {0};
        if (sbk_read_file(path, 1 << 20, &text, &len, &err) != 0)
            fail_msg("%s", err.msg);
        SbkLesson *L = NULL;
        if (sbk_lesson_parse(text, len, path, dir, &L, &err) != 0)
            fail_msg("%s", err.msg);
        assert_string_equal(L->id, ids[i]);
        for (int l = 0; l < SBK_LANG_COUNT; l++) {
            assert_non_null(L->title[l]);
            assert_non_null(L->description[l]);
        }
        assert_true(L->n_chapters >= 3);
        for (int c = 0; c < L->n_chapters; c++) {
            assert_non_null(L->chapters[c].title[SBK_LANG_KY]);
            assert_non_null(L->chapters[c].title[SBK_LANG_RU]);
        }
        sbk_lesson_free(&L);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_long_values),
        cmocka_unit_test(test_chapter_merge),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_langs),
        cmocka_unit_test(test_load_convention),
        cmocka_unit_test(test_load_listed),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_repo_lessons),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
