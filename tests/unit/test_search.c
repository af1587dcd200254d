/* Unit tests for the kiosk search index (src/kiosk/search.c): Kyrgyz and
 * Russian case folding, ё = е, AND of words, ranking, subtitle hits with
 * their times, WebVTT cue text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/search.h"

static const char VTT_RU[] =
    "WEBVTT\n"
    "\n"
    "NOTE made by hand\n"
    "\n"
    "1\n"
    "00:00:01.000 --> 00:00:04.000\n"
    "Добрый день!\n"
    "\n"
    "00:00:12.500 --> 00:00:15.000 align:start\n"
    "Откроем <i>сайт</i> айыл\n"
    "ӨКМӨТҮ &amp; бюджет &lt;2024&gt;\n"
    "\n"
    "01:02.250 --> 01:05.000\r\n"
    "Ещё раз: ҢАРЫК\r\n";

static SbkSearchDoc *make_doc(void)
{
    SbkSearchDoc *d = NULL;
    assert_int_equal(sbk_search_doc_new(&d), 0);
    const char *ky = "Айыл өкмөтүнүн сайты";
    const char *ru = "Сайт айыльного округа";
    const char *desc = "Как опубликовать Бюджет на сайте";
    assert_int_equal(sbk_search_doc_add(d, SBK_SEARCH_TITLE, "ky", 0, 0, ky, strlen(ky)), 0);
    assert_int_equal(sbk_search_doc_add(d, SBK_SEARCH_TITLE, "ru", 0, 0, ru, strlen(ru)), 0);
    assert_int_equal(sbk_search_doc_add(d, SBK_SEARCH_DESCRIPTION, "ru", 0, 0, desc, strlen(desc)), 0);
    assert_int_equal(sbk_search_doc_add_vtt(d, "ru", VTT_RU, strlen(VTT_RU)), 0);
    sbk_search_doc_finish(d);
    return d;
}

static long run(const SbkSearchDoc *d, const char *q, SbkSearchHit *hits, int *n)
{
    SbkSearchQuery sq;
    assert_int_equal(sbk_search_query_parse(q, &sq), 0);
    long score = sbk_search_doc_match(d, &sq, "ru", hits, SBK_SEARCH_MAX_HITS, n);
    sbk_search_query_clear(&sq);
    return score;
}

/* Which queries match the document at all (AND of words, folding). */
static void test_match_table(void **state)
{
    (void)state;
    static const struct {
        const char *q;
        int match;
    } cases[] = {
        {"сайт", 1},
        {"САЙТ", 1},              /* Russian upper case */
        {"Сайт", 1},
        {"ӨКМӨТҮ", 1},            /* Kyrgyz Ө Ү upper case against the lower-case title */
        {"өкмөтү", 1},
        {"Өкмөтүнүн", 1},
        {"ңарык", 1},             /* Ң in the cue, ң in the query */
        {"ҢАРЫК", 1},
        {"еще", 1},               /* ё in the cue, е in the query */
        {"ЕЩЁ", 1},
        {"ещё", 1},
        {"бюджет сайт", 1},       /* both words, in different fields */
        {"бюджет трактор", 0},    /* AND: one word missing */
        {"трактор", 0},
        {"  «Бюджет»,  сайте. ", 1}, /* quotes and punctuation are not part of words */
        {"&amp;", 0},             /* entities were decoded */
        {"<2024>", 1},            /* ... into their characters; < > separate words */
        {"<i>", 0},               /* tags were stripped */
        {"откроем сайт айыл", 1}, /* a cue's lines are joined with a space */
        {"айыл өкмөтү", 1},
        {"NOTE", 0},              /* comments are not cue text */
        {"", 0},
        {"   ", 0},
    };
    SbkSearchDoc *d = make_doc();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
        int n = -1;
        long score = run(d, cases[i].q, hits, &n);
        if ((score > 0) != cases[i].match)
            fail_msg("query \"%s\": expected %s, score %ld", cases[i].q,
                     cases[i].match ? "a match" : "no match", score);
        if (!cases[i].match)
            assert_int_equal(n, 0);
    }
    sbk_search_doc_free(&d);
    assert_null(d);
}

static void test_query_parse(void **state)
{
    (void)state;
    SbkSearchQuery q;
    assert_int_equal(sbk_search_query_parse(" «Ёлка», ЖАҢЫ-жыл... e-Mail  ёлка", &q), 0);
    assert_int_equal(q.n, 3); /* the repeated word counts once */
    assert_int_equal(q.lens[0], strlen("елка"));
    assert_memory_equal(q.words[0], "елка", q.lens[0]);
    assert_int_equal(q.lens[1], strlen("жаңы-жыл"));
    assert_memory_equal(q.words[1], "жаңы-жыл", q.lens[1]);
    assert_int_equal(q.lens[2], strlen("e-mail"));
    assert_memory_equal(q.words[2], "e-mail", q.lens[2]);
    sbk_search_query_clear(&q);
    assert_int_equal(sbk_search_query_parse(",;:!? ... --", &q), 0);
    assert_int_equal(q.n, 0);
    sbk_search_query_clear(&q);
    assert_int_equal(sbk_search_query_parse(NULL, &q), 0);
    assert_int_equal(q.n, 0);
    sbk_search_query_clear(&q);
}

/* A subtitle hit gives the cue as written and its times. */
static void test_subtitle_hit(void **state)
{
    (void)state;
    SbkSearchDoc *d = make_doc();
    SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
    int n = 0;
    assert_true(run(d, "бюджет", hits, &n) > 0);
    /* the description first, then the cue */
    assert_int_equal(n, 2);
    assert_int_equal(hits[0].kind, SBK_SEARCH_DESCRIPTION);
    assert_string_equal(hits[0].text, "Как опубликовать Бюджет на сайте");
    assert_int_equal(hits[1].kind, SBK_SEARCH_SUBTITLES);
    assert_string_equal(hits[1].lang, "ru");
    assert_int_equal(hits[1].start_ms, 12500);
    assert_int_equal(hits[1].end_ms, 15000);
    assert_string_equal(hits[1].text, "Откроем сайт айыл ӨКМӨТҮ & бюджет <2024>");

    assert_true(run(d, "ҢАРЫК", hits, &n) > 0);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].start_ms, 62250); /* mm:ss.ttt timing */
    assert_int_equal(hits[0].end_ms, 65000);
    assert_string_equal(hits[0].text, "Ещё раз: ҢАРЫК"); /* \r removed */
    sbk_search_doc_free(&d);
}

/* Hits: title, description, subtitles; more words first; at most max. */
static void test_hit_order(void **state)
{
    (void)state;
    SbkSearchDoc *d = make_doc();
    SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
    int n = 0;
    assert_true(run(d, "сайт айыл", hits, &n) > 0);
    assert_int_equal(n, 4);
    assert_int_equal(hits[0].kind, SBK_SEARCH_TITLE);
    assert_string_equal(hits[0].lang, "ru"); /* both words, preferred language */
    assert_int_equal(hits[1].kind, SBK_SEARCH_TITLE);
    assert_string_equal(hits[1].lang, "ky");
    assert_int_equal(hits[2].kind, SBK_SEARCH_DESCRIPTION);
    assert_int_equal(hits[3].kind, SBK_SEARCH_SUBTITLES);
    assert_int_equal(hits[3].words, 2);
    assert_int_equal(hits[3].start_ms, 12500);

    SbkSearchQuery q;
    assert_int_equal(sbk_search_query_parse("сайт", &q), 0);
    assert_true(sbk_search_doc_match(d, &q, NULL, hits, 2, &n) > 0);
    assert_int_equal(n, 2);
    sbk_search_query_clear(&q);
    sbk_search_doc_free(&d);
}

/* Title beats description beats subtitles. */
static void test_ranking(void **state)
{
    (void)state;
    SbkSearchDoc *t = NULL, *ds = NULL, *s = NULL;
    assert_int_equal(sbk_search_doc_new(&t), 0);
    assert_int_equal(sbk_search_doc_new(&ds), 0);
    assert_int_equal(sbk_search_doc_new(&s), 0);
    assert_int_equal(sbk_search_doc_add(t, SBK_SEARCH_TITLE, "ky", 0, 0, "Бюджет", 12), 0);
    assert_int_equal(sbk_search_doc_add(ds, SBK_SEARCH_DESCRIPTION, "ky", 0, 0, "Бюджет", 12), 0);
    for (int i = 0; i < 30; i++) /* many subtitle hits still rank below one title hit */
        assert_int_equal(sbk_search_doc_add(s, SBK_SEARCH_SUBTITLES, "ky", i * 1000, i * 1000 + 900,
                                            "бюджет", 12), 0);
    SbkSearchQuery q;
    int n;
    SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
    assert_int_equal(sbk_search_query_parse("БЮДЖЕТ", &q), 0);
    long st = sbk_search_doc_match(t, &q, NULL, hits, SBK_SEARCH_MAX_HITS, &n);
    long sd = sbk_search_doc_match(ds, &q, NULL, hits, SBK_SEARCH_MAX_HITS, &n);
    long ss = sbk_search_doc_match(s, &q, NULL, hits, SBK_SEARCH_MAX_HITS, &n);
    assert_int_equal(n, SBK_SEARCH_MAX_HITS); /* capped */
    assert_true(st > sd);
    assert_true(sd > ss);
    assert_true(ss > 0);
    sbk_search_query_clear(&q);
    sbk_search_doc_free(&t);
    sbk_search_doc_free(&ds);
    sbk_search_doc_free(&s);
}

/* Stress marks and invalid bytes do not break matching; not-WebVTT text adds
 * nothing. */
static void test_odd_text(void **state)
{
    (void)state;
    SbkSearchDoc *d = NULL;
    SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
    int n;
    assert_int_equal(sbk_search_doc_new(&d), 0);
    const char *t = "Ба\xcc\x81нк \xff доход";
    assert_int_equal(sbk_search_doc_add(d, SBK_SEARCH_TITLE, "ru", 0, 0, t, strlen(t)), 0);
    const char *srt = "1\n00:00:01,000 --> 00:00:02,000\nтрактор\n";
    assert_int_equal(sbk_search_doc_add_vtt(d, "ru", srt, strlen(srt)), 0);
    assert_true(run(d, "банк", hits, &n) > 0);
    assert_true(run(d, "банк доход", hits, &n) > 0);
    assert_int_equal(run(d, "трактор", hits, &n), 0);
    assert_true(sbk_search_doc_bytes(d) > 0);
    sbk_search_doc_free(&d);
    sbk_search_doc_free(&d); /* NULL is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),  cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_subtitle_hit), cmocka_unit_test(test_hit_order),
        cmocka_unit_test(test_ranking),      cmocka_unit_test(test_odd_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
