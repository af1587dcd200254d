/* The Range parser and resolver as a table: (header, length) -> status and
 * the exact ranges, nginx's answers being the reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "kiosk/range.h"

typedef struct Case {
    const char *header;
    int64_t length;
    int status;
    int n;
    int64_t r[4][2];
} Case;

static const Case cases[] = {
    /* no Range */
    {NULL, 1000, 200, 0, {{0}}},
    /* single ranges */
    {"bytes=0-499", 1000, 206, 1, {{0, 499}}},
    {"bytes=500-999", 1000, 206, 1, {{500, 999}}},
    {"bytes=500-", 1000, 206, 1, {{500, 999}}},
    {"bytes=-500", 1000, 206, 1, {{500, 999}}},
    {"bytes=-1", 1000, 206, 1, {{999, 999}}},
    {"bytes=0-0", 1000, 206, 1, {{0, 0}}},
    {"bytes=999-999", 1000, 206, 1, {{999, 999}}},
    /* end past EOF is clipped; suffix longer than the entity is the whole */
    {"bytes=500-5000", 1000, 206, 1, {{500, 999}}},
    {"bytes=0-99999999999999999999999", 1000, 206, 1, {{0, 999}}},
    {"bytes=-5000", 1000, 206, 1, {{0, 999}}},
    /* unit and whitespace */
    {"BYTES=0-1", 1000, 206, 1, {{0, 1}}},
    {" bytes = 0-1 , 5-6 ", 1000, 206, 2, {{0, 1}, {5, 6}}},
    /* unsatisfiable */
    {"bytes=1000-", 1000, 416, 0, {{0}}},
    {"bytes=1000-2000", 1000, 416, 0, {{0}}},
    {"bytes=-0", 1000, 416, 0, {{0}}},
    {"bytes=500-499", 1000, 416, 0, {{0}}},
    {"bytes=99999999999999999999999-", 1000, 416, 0, {{0}}},
    {"bytes=0-", 0, 416, 0, {{0}}},
    {"bytes=-1", 0, 416, 0, {{0}}},
    {"bytes=2000-3000,4000-5000", 1000, 416, 0, {{0}}},
    /* unknown unit or bad syntax: full */
    {"items=0-1", 1000, 200, 0, {{0}}},
    {"bytes 0-1", 1000, 200, 0, {{0}}},
    {"bytes=", 1000, 200, 0, {{0}}},
    {"bytes=-", 1000, 200, 0, {{0}}},
    {"bytes=a-b", 1000, 200, 0, {{0}}},
    {"bytes=1-2-3", 1000, 200, 0, {{0}}},
    {"bytes=0-1,", 1000, 200, 0, {{0}}},
    {"bytes=,0-1", 1000, 200, 0, {{0}}},
    {"bytes=+1-2", 1000, 200, 0, {{0}}},
    {"bytes=0x10-20", 1000, 200, 0, {{0}}},
    {"bytes=1 -2", 1000, 200, 0, {{0}}},
    {"", 1000, 200, 0, {{0}}},
    /* several ranges */
    {"bytes=0-9,20-29,-10", 1000, 206, 3, {{0, 9}, {20, 29}, {990, 999}}},
    {"bytes=0-9,2000-3000", 1000, 206, 1, {{0, 9}}},   /* unsatisfiable part dropped */
    {"bytes=0-9,5-15", 1000, 200, 0, {{0}}},            /* overlapping */
    {"bytes=0-9,9-15", 1000, 200, 0, {{0}}},            /* overlapping by one byte */
    {"bytes=0-9,10-19", 1000, 206, 2, {{0, 9}, {10, 19}}}, /* adjacent is fine */
    {"bytes=0-,0-", 1000, 200, 0, {{0}}},               /* sum > length */
    {"bytes=-600,0-500", 1000, 200, 0, {{0}}},
    {"bytes=500-,0-10", 1000, 206, 2, {{500, 999}, {0, 10}}}, /* order kept */
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Case *c = &cases[i];
        SbkRangeSet rs;
        int st = (int)sbk_range_parse(c->header, c->length, &rs);
        if (st != c->status || rs.n != c->n)
            fail_msg("case %zu \"%s\" len %lld: status %d n %d, want %d n %d", i,
                     c->header ? c->header : "(null)", (long long)c->length, st, rs.n, c->status,
                     c->n);
        for (int j = 0; j < c->n; j++)
            if (rs.r[j].first != c->r[j][0] || rs.r[j].last != c->r[j][1])
                fail_msg("case %zu \"%s\" part %d: %lld-%lld, want %lld-%lld", i, c->header, j,
                         (long long)rs.r[j].first, (long long)rs.r[j].last, (long long)c->r[j][0],
                         (long long)c->r[j][1]);
    }
}

static void test_limit_16(void **state)
{
    (void)state;
    char h[512] = "bytes=";
    for (int i = 0; i < 16; i++)
        snprintf(h + strlen(h), sizeof h - strlen(h), "%s%d-%d", i ? "," : "", i * 10, i * 10 + 4);
    SbkRangeSet rs;
    assert_int_equal(sbk_range_parse(h, 1000, &rs), SBK_RANGE_PARTIAL);
    assert_int_equal(rs.n, 16);
    assert_int_equal(rs.r[15].first, 150);
    assert_int_equal(rs.r[15].last, 154);
    assert_int_equal(sbk_range_total(&rs), 16 * 5);
    /* a 17th range: answered 200 with the full body */
    snprintf(h + strlen(h), sizeof h - strlen(h), ",900-901");
    assert_int_equal(sbk_range_parse(h, 1000, &rs), SBK_RANGE_FULL);
    assert_int_equal(rs.n, 0);
}

static void test_large(void **state)
{
    (void)state;
    /* entities over 4 GiB: 64-bit all the way */
    int64_t len = INT64_C(5) << 30;
    SbkRangeSet rs;
    assert_int_equal(sbk_range_parse("bytes=4294967296-", len, &rs), SBK_RANGE_PARTIAL);
    assert_int_equal(rs.r[0].first, INT64_C(4294967296));
    assert_int_equal(rs.r[0].last, len - 1);
    assert_int_equal(sbk_range_parse("bytes=-4294967297", len, &rs), SBK_RANGE_PARTIAL);
    assert_int_equal(rs.r[0].first, len - INT64_C(4294967297));
    assert_int_equal(sbk_range_parse("bytes=9223372036854775807-", len, &rs),
                     SBK_RANGE_UNSATISFIABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_limit_16),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
