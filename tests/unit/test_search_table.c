/* A table of search queries over the sample lessons (lessons/<id>: their
 * titles, descriptions and subtitles, read as sabak pack reads them) with
 * the lessons each must find, in order, and whether as typed or as a close
 * match (issue 11: words typed without a Kyrgyz layout, other word forms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/search.h"
#include "sabak/core.h"
#include "sabak/subs.h"

static const char *const lesson_ids[] = {"citizen-budget-01", "municipal-website-01",
                                         "municipal-website-02"};
enum { N_LESSONS = 3 };
static SbkSearchDoc *docs[N_LESSONS];

static char *path_of(const char *id, const char *rel)
{
    const char *src = getenv("SABAK_SRC");
    char *p = NULL;
    if (asprintf(&p, "%s/lessons/%s/%s", src ? src : ".", id, rel) < 0)
        return NULL;
    return p;
}

/* [title] and [description] of lesson.ini: "ky = text" lines. */
static void add_ini(SbkSearchDoc *d, const char *id)
{
    char *path = path_of(id, "lesson.ini"), *text = NULL;
    size_t len = 0;
    assert_non_null(path);
    assert_int_equal(sbk_read_file(path, 1 << 20, &text, &len, NULL), 0);
    int kind = -1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '[') {
            kind = strcmp(line, "[title]") == 0         ? SBK_SEARCH_TITLE
                   : strcmp(line, "[description]") == 0 ? SBK_SEARCH_DESCRIPTION
                                                        : -1;
            continue;
        }
        if (kind < 0 || strlen(line) < 6 || line[2] != ' ' || line[3] != '=')
            continue;
        char lang[3] = {line[0], line[1], 0};
        assert_int_equal(sbk_search_doc_add(d, kind, lang, 0, 0, line + 5, strlen(line + 5)), 0);
    }
    free(text);
    free(path);
}

static void add_subs(SbkSearchDoc *d, const char *id, const char *lang, const char *file)
{
    char *path = path_of(id, file), *raw = NULL, *utf8 = NULL, *vtt = NULL, enc[32];
    size_t len = 0, ulen = 0, vlen = 0;
    SbkSubs *subs = NULL;
    assert_non_null(path);
    if (sbk_read_file(path, 1 << 20, &raw, &len, NULL) != 0) {
        free(path);
        return; /* this lesson has its other extension */
    }
    assert_int_equal(sbk_charset_to_utf8((const uint8_t *)raw, len, &utf8, &ulen, enc, NULL), 0);
    assert_int_equal(sbk_subs_parse(utf8, ulen, file, &subs, NULL), 0);
    assert_int_equal(sbk_subs_to_vtt(subs, &vtt, &vlen, NULL), 0);
    assert_int_equal(sbk_search_doc_add_vtt(d, lang, vtt, vlen), 0);
    sbk_subs_free(&subs);
    free(vtt);
    free(utf8);
    free(raw);
    free(path);
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < N_LESSONS; i++) {
        assert_int_equal(sbk_search_doc_new(&docs[i]), 0);
        add_ini(docs[i], lesson_ids[i]);
        add_subs(docs[i], lesson_ids[i], "ky", "subtitles/ky.srt");
        add_subs(docs[i], lesson_ids[i], "ru", "subtitles/ru.srt");
        add_subs(docs[i], lesson_ids[i], "ru", "subtitles/ru.vtt");
        sbk_search_doc_finish(docs[i]);
        assert_true(sbk_search_doc_cues(docs[i]) > 10);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < N_LESSONS; i++)
        sbk_search_doc_free(&docs[i]);
    return 0;
}

/* Lessons by a letter: B citizen-budget-01, W municipal-website-01 (the
 * website), A municipal-website-02 (announcements). `found` lists them
 * best first; upper case: found as typed, lower case: a close match. ""
 * finds nothing. */
static const struct {
    const char *q;
    const char *found;
} table[] = {
    /* Kyrgyz typed without ө ү ң */
    {"көрсөтүңүз", "Baw"},        /* as typed in B; its stem "корсот" in the others */
    {"корсотунуз", "baw"},        /* the same word typed without ө ү ң: all close */
    {"окмотунун", "wb"},          /* өкмөтүнүн in W, loosened; өкмөтү... in B */
    {"кулактандыруу", "AW"},
    {"КУЛАКТАНДЫРУУЛАР", "WA"},
    {"кулактандырууларды", "Wa"}, /* as typed in W; plural and accusative stripped for A */
    {"бюджеттин", "B"},
    {"бюджеттердин", "b"},        /* the suffix table: not in the text in this form */
    /* Russian forms */
    {"отчёт", "B"},
    {"отчет", "B"},
    {"отчета", "b"},
    {"отчётов", "b"},
    {"бюджет", "B"},
    {"бюджетов", "b"},
    {"бюджетами", "b"},
    {"объявлений", "Aw"},
    {"опубликовать объявление", "AW"},
    {"бюджетов сайте", "b"},      /* AND still holds for close words */
    /* not there, in any form */
    {"трактор", ""},
    {"тракторов", ""},
    {"бюджетов трактор", ""},
    {"самолётами", ""},
    {"корсотунуз трактор", ""},
};

static void test_table(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t t = 0; t < sizeof table / sizeof table[0]; t++) {
        SbkSearchQuery q;
        SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
        long score[N_LESSONS];
        int n;
        assert_int_equal(sbk_search_query_parse(table[t].q, &q), 0);
        for (int i = 0; i < N_LESSONS; i++)
            score[i] = sbk_search_doc_match(docs[i], &q, "ky", hits, SBK_SEARCH_MAX_HITS, &n);
        sbk_search_query_clear(&q);
        /* The lessons found, best first, as the library orders them. */
        char got[N_LESSONS + 1] = "";
        int ng = 0;
        for (;;) {
            int best = -1;
            for (int i = 0; i < N_LESSONS; i++)
                if (score[i] > 0 && (best < 0 || score[i] > score[best]))
                    best = i;
            if (best < 0)
                break;
            char c = "BWA"[best];
            got[ng++] = score[best] >= SBK_SEARCH_EXACT ? c : (char)(c - 'A' + 'a');
            score[best] = 0;
        }
        got[ng] = '\0';
        if (strcmp(got, table[t].found) != 0) {
            print_error("search \"%s\": found \"%s\", expected \"%s\"\n", table[t].q, got,
                        table[t].found);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* A close match marks its hits; a match as typed does not. */
static void test_close_hits(void **state)
{
    (void)state;
    SbkSearchQuery q;
    SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
    int n = 0;
    assert_int_equal(sbk_search_query_parse("корсотунуз", &q), 0);
    long s = sbk_search_doc_match(docs[0], &q, "ky", hits, SBK_SEARCH_MAX_HITS, &n);
    sbk_search_query_clear(&q);
    assert_true(s > 0 && s < SBK_SEARCH_EXACT);
    assert_true(n > 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(hits[i].close, 1);
    assert_int_equal(sbk_search_query_parse("көрсөтүңүз", &q), 0);
    s = sbk_search_doc_match(docs[0], &q, "ky", hits, SBK_SEARCH_MAX_HITS, &n);
    sbk_search_query_clear(&q);
    assert_true(s >= SBK_SEARCH_EXACT);
    assert_int_equal(hits[0].close, 0);
}

/* The stems themselves, on words from the sample lessons. */
static void test_stems(void **state)
{
    (void)state;
    static const struct {
        const char *word, *stems; /* stems joined by '|', loosened */
    } cases[] = {
        {"бюджетов", "бюджет"},
        {"отчета", "отчет|отче"},
        {"көрсөтүңүз", "корсот"},
        {"бюджеттин", "бюджет"},   /* Snowball and the table agree: once */
        {"кулактандырууларды", "кулактандыруулард|кулактандыр"},
        {"сайт", ""},
        {"банк", ""},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256], joined[256] = "";
        const char *st[SBK_SEARCH_STEMS];
        size_t sl[SBK_SEARCH_STEMS];
        char *f = sbk_utf8_fold(cases[i].word, strlen(cases[i].word));
        assert_non_null(f);
        int n = sbk_search_stems(f, strlen(f), out, sizeof out, st, sl);
        free(f);
        for (int k = 0; k < n; k++)
            snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%.*s",
                     k ? "|" : "", (int)sl[k], st[k]);
        if (strcmp(joined, cases[i].stems) != 0) {
            print_error("stems of \"%s\": \"%s\", expected \"%s\"\n", cases[i].word, joined,
                        cases[i].stems);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_close_hits),
        cmocka_unit_test(test_stems),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
