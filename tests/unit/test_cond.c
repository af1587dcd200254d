/* ETag lists, If-None-Match / If-Match / If-Modified-Since, If-Range and
 * HTTP dates, as tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kiosk/cond.h"

#define TAG "\"26029925447b11c59a8750fb7b6cc281f86700f9b6e3174b4673af29f308df0a\""
#define OTHER "\"aaaa\""
/* Sun, 06 Nov 1994 08:49:37 GMT */
#define T1994 INT64_C(784111777)

static void test_etag_match(void **state)
{
    (void)state;
    static const struct {
        const char *list;
        int strong, want;
    } cases[] = {
        {TAG, 1, 1},
        {TAG, 0, 1},
        {"W/" TAG, 0, 1},  /* weak comparison ignores W/ */
        {"W/" TAG, 1, 0},  /* strong comparison never matches a weak tag */
        {OTHER ", " TAG, 0, 1},
        {OTHER "," TAG, 1, 1},
        {OTHER, 0, 0},
        {"*", 0, 1},
        {" * ", 1, 1},
        {"*, " TAG, 0, 0},       /* "*" alone or a list, not both */
        {"26029925447b11c5", 0, 0}, /* unquoted: does not parse */
        {"\"26029925447b11c5", 0, 0},
        {"", 0, 0},
        {TAG " junk", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sbk_cond_etag_match(cases[i].list, TAG, cases[i].strong) != cases[i].want)
            fail_msg("case %zu \"%s\" strong=%d: want %d", i, cases[i].list, cases[i].strong,
                     cases[i].want);
    assert_int_equal(sbk_cond_etag_match(NULL, TAG, 0), 0);
    assert_int_equal(sbk_cond_etag_match(TAG, "", 0), 0);
}

static void test_evaluate(void **state)
{
    (void)state;
    static const struct {
        SbkCondRequest req;
        int want;
    } cases[] = {
        {{0}, 0},
        {{.if_none_match = TAG}, 304},
        {{.if_none_match = "W/" TAG}, 304},
        {{.if_none_match = "*"}, 304},
        {{.if_none_match = OTHER}, 0},
        /* If-None-Match wins over If-Modified-Since */
        {{.if_none_match = OTHER, .if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT"}, 0},
        {{.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT"}, 304},
        {{.if_modified_since = "Sun, 06 Nov 1994 08:49:38 GMT"}, 304},
        {{.if_modified_since = "Sun, 06 Nov 1994 08:49:36 GMT"}, 0},
        {{.if_modified_since = "garbage"}, 0},
        {{.if_match = TAG}, 0},
        {{.if_match = "*"}, 0},
        {{.if_match = OTHER}, 412},
        {{.if_match = "W/" TAG}, 412},
        {{.if_unmodified_since = "Sun, 06 Nov 1994 08:49:36 GMT"}, 412},
        {{.if_unmodified_since = "Sun, 06 Nov 1994 08:49:37 GMT"}, 0},
        {{.if_match = OTHER, .if_none_match = TAG}, 412},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = sbk_cond_evaluate(&cases[i].req, TAG, T1994);
        if (got != cases[i].want)
            fail_msg("case %zu: %d, want %d", i, got, cases[i].want);
    }
}

static void test_if_range(void **state)
{
    (void)state;
    static const struct {
        const char *h;
        int want;
    } cases[] = {
        {NULL, 1},
        {TAG, 1},
        {" " TAG " ", 1},
        {"W/" TAG, 0}, /* weak: never for If-Range */
        {OTHER, 0},
        {"\"2602\"", 0},
        {"Sun, 06 Nov 1994 08:49:37 GMT", 1},
        {"Sun, 06 Nov 1994 08:49:38 GMT", 0},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 1},
        {"Sun Nov  6 08:49:37 1994", 1},
        {"yesterday", 0},
        {"", 0},
        {TAG ", " OTHER, 0}, /* a list is not an If-Range value */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sbk_cond_if_range(cases[i].h, TAG, T1994) != cases[i].want)
            fail_msg("case %zu \"%s\": want %d", i, cases[i].h ? cases[i].h : "(null)",
                     cases[i].want);
    /* without a Last-Modified, a date never matches */
    assert_int_equal(sbk_cond_if_range("Sun, 06 Nov 1994 08:49:37 GMT", TAG, 0), 0);
}

static void test_dates(void **state)
{
    (void)state;
    char buf[40];
    sbk_cond_http_date(T1994, buf, sizeof buf);
    assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    sbk_cond_http_date(0, buf, sizeof buf);
    assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    sbk_cond_http_date(INT64_C(1795996800), buf, sizeof buf); /* 2026-11-30 */
    assert_string_equal(buf, "Mon, 30 Nov 2026 00:00:00 GMT");
    int64_t t = 0;
    assert_int_equal(sbk_cond_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    assert_int_equal(t, T1994);
    assert_int_equal(sbk_cond_parse_date("Mon, 30 Nov 2026 00:00:00 GMT", &t), 0);
    assert_int_equal(t, INT64_C(1795996800));
    assert_int_equal(sbk_cond_parse_date("Sun, 06 Foo 1994 08:49:37 GMT", &t), -1);
    assert_int_equal(sbk_cond_parse_date("Sun, 32 Nov 1994 08:49:37 GMT", &t), -1);
    assert_int_equal(sbk_cond_parse_date("Sun, 06 Nov 1994 24:49:37 GMT", &t), -1);
    assert_int_equal(sbk_cond_parse_date("Sun, 06 Nov 1994 08:49:37 GMT x", &t), -1);
    assert_int_equal(sbk_cond_parse_date("Sun, 06 Nov 1994 -8:49:37 GMT", &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag_match),
        cmocka_unit_test(test_evaluate),
        cmocka_unit_test(test_if_range),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
