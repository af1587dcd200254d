/* src/carry/: Windows-safe names (a table of cases), the kiosk identity,
 * and the play counts in SQLite (record, list, report since the last visit,
 * reopen after close). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "carry/carry_int.h"
#include "sabak/carry.h"

static void test_safe_names(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"standard.mp4", "standard.mp4"},
        {"a:b?.pdf", "a_b_.pdf"},
        {"what*is<this>|\"x\".txt", "what_is_this___x_.txt"},
        {"back\\slash", "back_slash"},
        {"trailing. . ", "trailing"},
        {"...", "_"},
        {"CON", "_CON"},
        {"con.txt", "_con.txt"},
        {"COM1.pdf", "_COM1.pdf"},
        {"LPT9", "_LPT9"},
        {"COM0", "COM0"},
        {"CONSOLE.txt", "CONSOLE.txt"},
        {"Бюджет: жыл?.pdf", "Бюджет_ жыл_.pdf"},
        {"tab\there", "tab_here"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = sbk_carry_safe_name(cases[i].in);
        assert_non_null(s);
        if (strcmp(s, cases[i].out) != 0)
            fail_msg("safe name of \"%s\": got \"%s\", want \"%s\"", cases[i].in, s, cases[i].out);
        free(s);
    }
}

static char *make_tmp(void)
{
    const char *root = getenv("SABAK_TEST_TMP");
    char buf[512];
    snprintf(buf, sizeof buf, "%s/carry-unit-XXXXXX", root && *root ? root : "/tmp");
    if (root && *root)
        sbk_carry_mkdir(root, NULL);
    char *d = mkdtemp(buf);
    return d ? strdup(d) : NULL;
}

static void test_identity(void **state)
{
    (void)state;
    char *dir = make_tmp();
    assert_non_null(dir);
    char *st = sbk_path_join(dir, "state");
    SbkKioskId a, b, c;
    SbkError err = {0};
    assert_int_equal(sbk_state_identity(st, "Kara-Suu", &a, &err), 0);
    assert_int_equal(strlen(a.id), 32);
    assert_string_equal(a.name, "Kara-Suu");
    /* kept: same id, stored name, until a new name is given */
    assert_int_equal(sbk_state_identity(st, NULL, &b, &err), 0);
    assert_string_equal(a.id, b.id);
    assert_string_equal(b.name, "Kara-Suu");
    assert_int_equal(sbk_state_identity(st, "Ak-Tash", &c, &err), 0);
    assert_string_equal(a.id, c.id);
    assert_string_equal(c.name, "Ak-Tash");
    free(st);
    free(dir);
}

static void test_stats(void **state)
{
    (void)state;
    char *dir = make_tmp();
    assert_non_null(dir);
    SbkStats *s = NULL;
    SbkError err = {0};
    SbkKioskId k = {.id = "0123456789abcdef0123456789abcdef", .name = "Office, \"A\""};
    time_t nov = 1793491200; /* 2026-11-01 UTC */
    time_t dec = 1796083200; /* 2026-12-01 UTC */
    assert_int_equal(sbk_stats_open(dir, &s, &err), 0);
    assert_int_equal(sbk_stats_record(s, "budget-01", nov + 10, 1, 30, &err), 0);
    assert_int_equal(sbk_stats_record(s, "budget-01", nov + 99, 1, 90.5, &err), 0);
    assert_int_equal(sbk_stats_record(s, "budget-01", dec + 5, 1, 12, &err), 0);
    assert_int_equal(sbk_stats_record(s, "web-01", dec + 5, 0, 60, &err), 0);
    assert_int_equal(sbk_stats_record(s, "../etc", dec, 1, 1, &err), SBK_EINVAL);
    assert_int_equal(sbk_stats_record(s, "web-01", dec, -1, 1, &err), SBK_EINVAL);

    SbkStatsRow *rows = NULL;
    size_t n = 0;
    assert_int_equal(sbk_stats_list(s, &rows, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].lesson, "budget-01");
    assert_string_equal(rows[0].month, "2026-11");
    assert_int_equal(rows[0].plays, 2);
    assert_true(rows[0].seconds > 120.4 && rows[0].seconds < 120.6);
    assert_string_equal(rows[1].month, "2026-12");
    assert_string_equal(rows[2].lesson, "web-01");
    free(rows);

    char *csv = NULL;
    size_t len = 0;
    assert_int_equal(sbk_stats_report_csv(s, &k, &csv, &len, &err), 0);
    assert_string_equal(csv,
                        "kiosk_id,kiosk_name,lesson,month,plays,seconds\n"
                        "0123456789abcdef0123456789abcdef,\"Office, \"\"A\"\"\",budget-01,2026-11,2,120.5\n"
                        "0123456789abcdef0123456789abcdef,\"Office, \"\"A\"\"\",budget-01,2026-12,1,12.0\n"
                        "0123456789abcdef0123456789abcdef,\"Office, \"\"A\"\"\",web-01,2026-12,0,60.0\n");
    free(csv);
    /* a play after the report was made but before it was marked stays new */
    assert_int_equal(sbk_stats_record(s, "web-01", dec + 50, 1, 5, &err), 0);
    assert_int_equal(sbk_stats_mark_reported(s, &err), 0);
    sbk_stats_close(&s);
    assert_null(s);

    /* reopened: only what changed since the report, with running totals */
    assert_int_equal(sbk_stats_open(dir, &s, &err), 0);
    assert_int_equal(sbk_stats_report_csv(s, &k, &csv, &len, &err), 0);
    assert_string_equal(csv, "kiosk_id,kiosk_name,lesson,month,plays,seconds\n"
                             "0123456789abcdef0123456789abcdef,\"Office, \"\"A\"\"\",web-01,2026-12,1,65.0\n");
    free(csv);
    assert_int_equal(sbk_stats_mark_reported(s, &err), 0);
    assert_int_equal(sbk_stats_report_csv(s, &k, &csv, &len, &err), 0);
    assert_string_equal(csv, "kiosk_id,kiosk_name,lesson,month,plays,seconds\n");
    free(csv);
    sbk_stats_close(&s);
    sbk_stats_close(&s); /* accepts NULL */
    free(dir);
}

static void test_state_default(void **state)
{
    (void)state;
    char *a = sbk_state_dir_default("/srv/lib", 0), *b = sbk_state_dir_default("/srv/lib", 1);
    assert_string_equal(a, "/srv/lib/.sabak-state");
    assert_string_equal(b, "/var/lib/sabak");
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safe_names),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_state_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
