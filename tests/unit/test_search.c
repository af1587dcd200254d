/* Unit tests for the kiosk search index (src/kiosk/search.c): Kyrgyz and
 * Russian case folding, ё = е, AND of words, ranking, subtitle hits with
 * their times, WebVTT cue text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kiosk/search.h"
#include "sabak/core.h"

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
        {"made hand", 0},
        {"добрый", 1},            /* the cue after the comment block */
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

/* The index's byte form of a word, for comparing with parsed queries. */
static size_t enc(const char *word, char *out)
{
    char *f = sbk_utf8_fold(word, strlen(word));
    assert_non_null(f);
    size_t n = sbk_search_encode(f, strlen(f), out);
    free(f);
    return n;
}

static void test_query_parse(void **state)
{
    (void)state;
    SbkSearchQuery q;
    char e[64];
    size_t n;
    assert_int_equal(sbk_search_query_parse(" «Ёлка», ЖАҢЫ-жыл... e-Mail  ёлка", &q), 0);
    assert_int_equal(q.n, 3); /* the repeated word counts once */
    n = enc("елка", e);
    assert_int_equal(n, 4); /* one byte a letter */
    assert_int_equal(q.lens[0], n);
    assert_memory_equal(q.words[0], e, n);
    n = enc("жаңы-жыл", e);
    assert_int_equal(n, 8);
    assert_int_equal(q.lens[1], n);
    assert_memory_equal(q.words[1], e, n);
    assert_int_equal(q.lens[2], 6);
    assert_memory_equal(q.words[2], "e-mail", 6);
    sbk_search_query_clear(&q);
    assert_int_equal(sbk_search_query_parse(",;:!? ... --", &q), 0);
    assert_int_equal(q.n, 0);
    sbk_search_query_clear(&q);
    assert_int_equal(sbk_search_query_parse(NULL, &q), 0);
    assert_int_equal(q.n, 0);
    sbk_search_query_clear(&q);
}

/* Letters outside the one-byte table are escaped: they match exactly, and
 * a one-byte letter never matches inside an escape. */
static void test_encoding(void **state)
{
    (void)state;
    static const struct {
        const char *text, *q;
        int match;
    } cases[] = {
        {"中文 ΑΒΓ ж", "ж", 1},  {"中文 ΑΒΓ ж", "中", 1},   {"中文 ΑΒΓ ж", "文", 1},
        {"中文 ΑΒΓ ж", "ΑΒΓ", 1}, {"中文 ΑΒΓ ж", "中文", 1}, {"中", "ж", 0},
        {"中", "文", 0},         {"ЁЖИК ÀÉ", "ежик àé", 1}, {"ǅ 😀", "😀", 1},
        {"ҒҚҢҮҰҲҶҺӘӨ", "ғқңүұҳҷһәө", 1}, {"ғ", "ң", 0}, {"Ӯ", "ӯ", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SbkSearchDoc *d = NULL;
        SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
        int n;
        assert_int_equal(sbk_search_doc_new(&d), 0);
        assert_int_equal(sbk_search_doc_add(d, SBK_SEARCH_TITLE, "ky", 0, 0, cases[i].text,
                                            strlen(cases[i].text)), 0);
        long score = run(d, cases[i].q, hits, &n);
        if ((score > 0) != cases[i].match)
            fail_msg("\"%s\" in \"%s\": expected %s", cases[i].q, cases[i].text,
                     cases[i].match ? "a match" : "no match");
        if (cases[i].match)
            assert_string_equal(hits[0].text, cases[i].text);
        sbk_search_doc_free(&d);
    }
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
    assert_int_equal(hits[0].cue, -1);
    assert_int_equal(hits[1].kind, SBK_SEARCH_SUBTITLES);
    assert_string_equal(hits[1].lang, "ru");
    assert_int_equal(hits[1].start_ms, 12500);
    assert_int_equal(hits[1].end_ms, 15000);
    assert_null(hits[1].text); /* cue text is read back from the file */
    assert_int_equal(hits[1].cue, 1);

    assert_true(run(d, "ҢАРЫК", hits, &n) > 0);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].start_ms, 62250); /* mm:ss.ttt timing */
    assert_int_equal(hits[0].end_ms, 65000);
    assert_int_equal(hits[0].cue, 2);
    sbk_search_doc_free(&d);

    /* The cues' text as the search returns it. */
    int cues[] = {1, 2, 0, 3, 1};
    char *texts[5];
    assert_int_equal(sbk_search_vtt_cues(VTT_RU, strlen(VTT_RU), cues, 5, texts), 0);
    assert_string_equal(texts[0], "Откроем сайт айыл ӨКМӨТҮ & бюджет <2024>");
    assert_string_equal(texts[1], "Ещё раз: ҢАРЫК"); /* \r removed */
    assert_string_equal(texts[2], "Добрый день!");
    assert_null(texts[3]);
    assert_string_equal(texts[4], texts[0]);
    for (int i = 0; i < 5; i++)
        free(texts[i]);
    assert_int_equal(sbk_search_vtt_cues("1\n00:00:01,000 --> 00:00:02,000\nSRT\n", 36, cues, 1, texts), 0);
    assert_null(texts[0]);
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

/* The compact index (no record per cue: a run's cues are NUL-separated in
 * the folded blob, their times varints): walking it gives back every cue of
 * the WebVTT with its ordinal, its times and its folded text, in order, with
 * the fields added around the runs in their places. Times that go back
 * (overlapping cues), jump by hours or reach the 32-bit limit, and a cue with
 * no searchable text (kept empty, so that the ordinals after it hold). */
static void test_compact_walk(void **state)
{
    (void)state;
    static const char vtt[] =
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:04.000\nпервый\n\n"
        "00:00:03.500 --> 00:00:03.900\nвнахлёст\n\n"      /* starts before the last ended */
        "00:00:05.000 --> 00:00:06.000\n\xff\xfe\n\n"      /* nothing searchable */
        "09:59:59.999 --> 10:00:00.000\nчерез часы бюджет\n\n"
        "00:00:00.000 --> 00:00:00.000\nназад\n\n"
        "600:00:00.000 --> 900:00:00.000\nдальше предела\n";
    static const char ky[] = "WEBVTT\n\n00:00:02.000 --> 00:00:03.000\nбюджет ачык\n";
    SbkSearchDoc *d = NULL;
    assert_int_equal(sbk_search_doc_new(&d), 0);
    static const char desc[] = "Описание бюджета"; /* not copied: hits point here */
    assert_int_equal(sbk_search_doc_add(d, SBK_SEARCH_TITLE, "ru", 0, 0, "Бюджет", 12), 0);
    assert_int_equal(sbk_search_doc_add_ref(d, SBK_SEARCH_DESCRIPTION, "ru", desc), 0);
    assert_int_equal(sbk_search_doc_add_vtt(d, "ru", vtt, strlen(vtt)), 0);
    assert_int_equal(sbk_search_doc_add(d, SBK_SEARCH_SUBTITLES, "en", 7000, 8000, "budget", 6), 0);
    assert_int_equal(sbk_search_doc_add_vtt(d, "ky", ky, strlen(ky)), 0);
    sbk_search_doc_finish(d);
    assert_int_equal(sbk_search_doc_cues(d), 5 + 1 + 1); /* the empty cue is not counted */

    SbkSearchIter it = {.doc = d};
    SbkSearchHit u;
    const char *fold;
    size_t flen;
    char enc[256];
    assert_int_equal(sbk_search_doc_next(&it, &u, &fold, &flen), 1);
    assert_int_equal(u.kind, SBK_SEARCH_TITLE);
    assert_string_equal(u.text, "Бюджет");
    assert_int_equal(u.cue, -1);
    assert_int_equal(sbk_search_doc_next(&it, &u, &fold, &flen), 1);
    assert_int_equal(u.kind, SBK_SEARCH_DESCRIPTION);
    assert_ptr_equal(u.text, desc);
    /* the ru run: the cues as the WebVTT reader gives them */
    const char *srcs[] = {vtt, ky};
    const char *langs[] = {"ru", "ky"};
    for (int r = 0; r < 2; r++) {
        SbkVttCursor c;
        int64_t s0, s1;
        size_t tlen;
        assert_int_equal(sbk_search_vtt_begin(&c, srcs[r], strlen(srcs[r])), 0);
        for (int k = 0; sbk_search_vtt_next(&c, &s0, &s1, &tlen); k++) {
            assert_int_equal(sbk_search_doc_next(&it, &u, &fold, &flen), 1);
            assert_int_equal(u.kind, SBK_SEARCH_SUBTITLES);
            assert_string_equal(u.lang, langs[r]);
            assert_null(u.text);
            assert_int_equal(u.cue, k);
            assert_int_equal(u.start_ms, s0 > INT32_MAX ? INT32_MAX : s0);
            assert_int_equal(u.end_ms, s1 > INT32_MAX ? INT32_MAX : s1);
            char *f = sbk_utf8_fold(c.text, tlen);
            assert_non_null(f);
            size_t elen = sbk_search_encode(f, strlen(f), enc);
            free(f);
            assert_int_equal(flen, elen);
            assert_memory_equal(fold, enc, elen);
            if (k == 2)
                assert_int_equal(flen, 0);
        }
        free(c.text);
        if (r == 0) { /* the field added between the runs */
            assert_int_equal(sbk_search_doc_next(&it, &u, &fold, &flen), 1);
            assert_string_equal(u.text, "budget");
            assert_int_equal(u.start_ms, 7000);
            assert_int_equal(u.end_ms, 8000);
        }
    }
    assert_int_equal(sbk_search_doc_next(&it, &u, &fold, &flen), 0);
    assert_int_equal(sbk_search_doc_next(&it, &u, &fold, &flen), 0);

    /* A hit after the empty cue names the right cue and times. */
    SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
    int n = 0;
    assert_true(run(d, "часы", hits, &n) > 0);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].cue, 3);
    assert_int_equal(hits[0].start_ms, 35999999);
    assert_int_equal(hits[0].end_ms, 36000000);
    assert_true(run(d, "предела", hits, &n) > 0);
    assert_int_equal(hits[0].cue, 5);
    assert_int_equal(hits[0].start_ms, INT32_MAX);
    assert_int_equal(hits[0].end_ms, INT32_MAX);
    /* title, description, then subtitles: ru cue 3, ky cue 0 in order */
    assert_true(run(d, "бюджет", hits, &n) > 0);
    assert_int_equal(n, 4);
    assert_int_equal(hits[0].kind, SBK_SEARCH_TITLE);
    assert_ptr_equal(hits[1].text, desc);
    assert_int_equal(hits[2].cue, 3);
    assert_string_equal(hits[3].lang, "ky");
    assert_int_equal(hits[3].start_ms, 2000);
    sbk_search_doc_free(&d);
}

/* Scale: 1,000 lessons with two languages of subtitles (120 cues each, about
 * the size of a 10-minute screencast). Prints the index size and query
 * times; asserts only the results. */
static void test_scale(void **state)
{
    (void)state;
    enum { LESSONS = 1000, CUES = 120 };
    static const char *const words_ru[] = {"откройте", "страницу", "бюджета", "нажмите", "кнопку",
                                           "сохранить", "документ", "жители", "айыльного", "округа"};
    static const char *const words_ky[] = {"ачыңыз", "барагын", "бюджеттин", "басыңыз", "баскычын",
                                           "сактоо", "документти", "тургундар", "айыл", "өкмөтү"};
    SbkSearchDoc **docs = calloc(LESSONS, sizeof *docs);
    char *vtt = malloc(CUES * 600 + 16);
    assert_non_null(docs);
    assert_non_null(vtt);
    size_t bytes = 0, text = 0;
    char cue[512];
    for (int i = 0; i < LESSONS; i++) {
        assert_int_equal(sbk_search_doc_new(&docs[i]), 0);
        snprintf(cue, sizeof cue, "Сабак %d: айыл өкмөтүнүн сайты", i);
        assert_int_equal(sbk_search_doc_add(docs[i], SBK_SEARCH_TITLE, "ky", 0, 0, cue, strlen(cue)), 0);
        for (int l = 0; l < 2; l++) {
            const char *const *w = l ? words_ru : words_ky;
            size_t o = (size_t)sprintf(vtt, "WEBVTT\n");
            for (int c = 0; c < CUES; c++) {
                int n = snprintf(cue, sizeof cue, "%s %s %s %s %s, %s %s %d", w[c % 10], w[(c + i) % 10],
                                 w[(c * 3) % 10], w[(c + 7) % 10], w[(i + 1) % 10], w[(c * 7) % 10],
                                 w[(c + 2) % 10], c);
                /* one rare word in one cue of one lesson */
                if (i == 777 && c == 99 && l == 1)
                    n = snprintf(cue, sizeof cue, "Здесь ЁЛКА и Ңарык");
                text += (size_t)n;
                o += (size_t)sprintf(vtt + o, "\n%02d:%02d:%02d.000 --> %02d:%02d:%02d.500\n%s\n",
                                     c * 4 / 3600, c * 4 / 60 % 60, c * 4 % 60, (c * 4 + 3) / 3600,
                                     (c * 4 + 3) / 60 % 60, (c * 4 + 3) % 60, cue);
            }
            assert_int_equal(sbk_search_doc_add_vtt(docs[i], l ? "ru" : "ky", vtt, o), 0);
        }
        sbk_search_doc_finish(docs[i]);
        bytes += sbk_search_doc_bytes(docs[i]);
    }
    free(vtt);
    static const struct {
        const char *q;
        int lessons;
    } qs[] = {{"елка ңарык", 1}, {"бюджета кнопку", LESSONS}, {"трактор", 0}, {"ө", LESSONS}};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        SbkSearchQuery q;
        SbkSearchHit hits[SBK_SEARCH_MAX_HITS];
        int n, found = 0;
        struct timespec t0, t1;
        assert_int_equal(sbk_search_query_parse(qs[k].q, &q), 0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < LESSONS; i++)
            if (sbk_search_doc_match(docs[i], &q, "ru", hits, SBK_SEARCH_MAX_HITS, &n) > 0) {
                found++;
                if (qs[k].lessons == 1) {
                    assert_int_equal(i, 777);
                    assert_int_equal(hits[0].start_ms, 99 * 4000);
                    assert_int_equal(hits[0].end_ms, 99 * 4000 + 3500);
                    assert_int_equal(hits[0].cue, 99);
                }
            }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        sbk_search_query_clear(&q);
        assert_int_equal(found, qs[k].lessons);
        print_message("search: \"%s\" over %d lessons: %d found in %.2f ms\n", qs[k].q, LESSONS, found,
                      (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    print_message("search: index of %d lessons x %d cues x 2 languages: %.1f MiB of cue text, "
                  "%.1f MiB indexed (%.1f KiB per lesson)\n",
                  LESSONS, CUES, (double)text / 1048576.0, (double)bytes / 1048576.0,
                  (double)bytes / LESSONS / 1024.0);
    for (int i = 0; i < LESSONS; i++)
        sbk_search_doc_free(&docs[i]);
    free(docs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),  cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_subtitle_hit), cmocka_unit_test(test_hit_order),
        cmocka_unit_test(test_ranking),      cmocka_unit_test(test_odd_text),
        cmocka_unit_test(test_scale),        cmocka_unit_test(test_compact_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
