/* "Did you mean ...?": edit distance, closest candidate, id repair and the
 * language a subtitle file's name points at (src/lesson/lesson_suggest.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sabak/core.h"
#include "sabak/lesson.h"

static void test_distance(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        int d;
    } cases[] = {
        {"", "", 0},
        {"video", "video", 0},
        {"video", "VIDEO", 0},        /* case folded */
        {"vidoe", "video", 1},        /* two neighbours swapped: one step */
        {"vide", "video", 1},
        {"videos", "video", 1},
        {"viedo", "video", 1},
        {"kitten", "sitting", 3},
        {"", "abc", 3},
        {"abc", "", 3},
        {"ca", "abc", 3},             /* optimal string alignment, not full Damerau */
        {"тема", "тема", 0},
        {"Тема", "тема", 0},          /* Cyrillic folded too */
        {"тема", "темы", 1},          /* one character, two bytes */
        {"көрсөтүү", "корсотуу", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int d = sbk_edit_distance(cases[i].a, cases[i].b);
        if (d != cases[i].d)
            fail_msg("distance(\"%s\", \"%s\") = %d, want %d", cases[i].a, cases[i].b, d, cases[i].d);
        assert_int_equal(sbk_edit_distance(cases[i].b, cases[i].a), d); /* symmetric */
    }
    assert_int_equal(sbk_edit_distance(NULL, "ab"), 2);
}

static void test_suggest(void **state)
{
    (void)state;
    static const char *const keys[] = {"id", "version", "video", "audio_only", "topic", "order",
                                       "audio_language"};
    static const char *const sections[] = {"lesson", "title", "description", "chapters",
                                           "chapters.ky", "chapters.ru", "chapters.en", "subtitles"};
    size_t nk = sizeof keys / sizeof keys[0], ns = sizeof sections / sizeof sections[0];
    static const struct {
        int sec;
        const char *word, *want; /* want NULL: nothing close enough */
    } cases[] = {
        {0, "vidoe", "video"},
        {0, "Video", NULL},            /* the same key in other case: nothing to suggest */
        {0, "vedio", "video"},
        {0, "versoin", "version"},
        {0, "vesion", "version"},
        {0, "ids", "id"},
        {0, "audio-only", "audio_only"},
        {0, "audioonly", "audio_only"},
        {0, "audio_lang", NULL},       /* 4 edits in 10: too far to guess */
        {0, "topik", "topic"},
        {0, "colour", NULL},
        {0, "x", NULL},
        {0, "", NULL},
        {1, "tittle", "title"},
        {1, "titles", "title"},
        {1, "chapter", "chapters"},
        {1, "subtitle", "subtitles"},
        {1, "subtitels", "subtitles"},
        {1, "lessons", "lesson"},
        {1, "descripton", "description"},
        {1, "chapters.kg", "chapters.ky"},
        {1, "glossary", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = cases[i].sec ? sbk_suggest(cases[i].word, sections, ns)
                                       : sbk_suggest(cases[i].word, keys, nk);
        if ((got == NULL) != (cases[i].want == NULL) ||
            (got && strcmp(got, cases[i].want) != 0))
            fail_msg("suggest(\"%s\") = %s, want %s", cases[i].word, got ? got : "NULL",
                     cases[i].want ? cases[i].want : "NULL");
    }
    assert_null(sbk_suggest("video", NULL, 0));
}

static void test_id(void **state)
{
    (void)state;
    static const struct {
        const char *bad, *want; /* want "": none can be made */
    } cases[] = {
        {"UX News 01", "ux-news-01"},
        {"  Budget  2024 ", "budget-2024"},
        {"-x", "x"},
        {"a/b", "a-b"},
        {"a..b", "a.b"},              /* '.' is valid inside, ".." is not */
        {"..a", "a"},
        {"Урок 1", "urok-1"},
        {"Бюджет: отчёт", "biudzhet-otchiot"},
        {"Көрсөтүү", "korsotuu"},
        {"Жаңы", "zhangy"},
        {"!!!", ""},
        {"", ""},
        {"Ъ", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[72];
        int ok = sbk_lesson_id_suggest(cases[i].bad, out, sizeof out);
        if (strcmp(out, cases[i].want) != 0 || ok != (cases[i].want[0] != '\0'))
            fail_msg("id \"%s\" -> \"%s\" (%d), want \"%s\"", cases[i].bad, out, ok, cases[i].want);
        if (ok)
            assert_true(sbk_lesson_id_ok(out));
    }
    /* never longer than an id may be, and never past the buffer */
    char longname[200], out[72], tiny[4];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    longname[10] = ' ';
    assert_int_equal(sbk_lesson_id_suggest(longname, out, sizeof out), 1);
    assert_true(strlen(out) <= 64);
    assert_int_equal(sbk_lesson_id_suggest("Abcdef", tiny, sizeof tiny), 1);
    assert_string_equal(tiny, "abc");
}

static void test_guess_lang(void **state)
{
    (void)state;
    static const struct {
        const char *name, *want;
    } cases[] = {
        {"Урок 1 рус.srt", "ru"},
        {"урок1_РУС.srt", "ru"},
        {"lesson-russian.vtt", "ru"},
        {"Lesson RU.srt", "ru"},
        {"субтитры орусча.srt", "ru"},
        {"Урок 1 кыр.srt", "ky"},
        {"lesson_kg.srt", "ky"},
        {"Сабак кыргызча.srt", "ky"},
        {"kyrgyz.srt", "ky"},
        {"lesson eng.srt", "en"},
        {"English subtitles.srt", "en"},
        {"run.srt", NULL},             /* a word containing "ru" is not "ru" */
        {"Урок 1.srt", NULL},
        {"notes.ru", NULL},            /* the extension is not part of the name */
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = sbk_lesson_guess_lang(cases[i].name);
        if ((got == NULL) != (cases[i].want == NULL) || (got && strcmp(got, cases[i].want) != 0))
            fail_msg("guess(\"%s\") = %s, want %s", cases[i].name, got ? got : "NULL",
                     cases[i].want ? cases[i].want : "NULL");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_id),
        cmocka_unit_test(test_guess_lang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
