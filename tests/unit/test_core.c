/* Core helpers: entry-name and id checks, UTF-8, folding, atomic files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sabak/core.h"

static void test_entry_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int ok;
    } cases[] = {
        {"manifest.json", 1},
        {"media/standard.mp4", 1},
        {"subtitles/ky.vtt", 1},
        {"handouts/Бюджет 2026.pdf", 1},
        {"a..b/c", 1},
        {"", 0},
        {"/etc/passwd", 0},
        {"../evil", 0},
        {"media/../../evil", 0},
        {"media/..", 0},
        {"./x", 0},
        {"media//x", 0},
        {"media/", 0},
        {"a\\b", 0},
        {"C:/x", 0},
        {"media/\x01x", 0},
        {"bad\xff\xfeutf8", 0},
        {"over\xc0\xaflong", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sbk_path_entry_ok(cases[i].name) != cases[i].ok)
            fail_msg("sbk_path_entry_ok(\"%s\") should be %d", cases[i].name, cases[i].ok);
    }
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(sbk_path_entry_ok(longname));
    assert_false(sbk_path_entry_ok(NULL));
}

static void test_lesson_ids(void **state)
{
    (void)state;
    assert_true(sbk_lesson_id_ok("municipal-website-01"));
    assert_true(sbk_lesson_id_ok("budget_2026.v2"));
    assert_true(sbk_lesson_id_ok("0start"));
    assert_false(sbk_lesson_id_ok(""));
    assert_false(sbk_lesson_id_ok("-start"));
    assert_false(sbk_lesson_id_ok(".hidden"));
    assert_false(sbk_lesson_id_ok("Upper"));
    assert_false(sbk_lesson_id_ok("a..b"));
    assert_false(sbk_lesson_id_ok("a/b"));
    assert_false(sbk_lesson_id_ok("сабак"));
    assert_false(sbk_lesson_id_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 65 */
}

static void test_utf8_valid(void **state)
{
    (void)state;
    const char *good = "Жаңылык ө ү ё 😀";
    assert_true(sbk_utf8_valid(good, strlen(good)));
    assert_false(sbk_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(sbk_utf8_valid("\xc1\xbf", 2));         /* overlong */
    assert_false(sbk_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(sbk_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(sbk_utf8_valid("\xd0", 1));             /* cut */
}

static void test_fold(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"БЮДЖЕТ", "бюджет"},
        {"ЁЛКА ёлка", "елка елка"},
        {"ҢӨҮ ңөү", "ңөү ңөү"},
        {"Жаңылыкты ЖАРЫЯЛОО", "жаңылыкты жарыялоо"},
        {"Budget ÀÉ", "budget àé"},
        {"ба\xcc\x81нк", "банк"}, /* stress mark dropped */
        {"Ѐ Ї Ђ", "ѐ ї ђ"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *f = sbk_utf8_fold(cases[i].in, strlen(cases[i].in));
        assert_non_null(f);
        assert_string_equal(f, cases[i].out);
        free(f);
    }
}

static void test_fmt_ms(void **state)
{
    (void)state;
    char b[32];
    sbk_fmt_ms(3723456, b, sizeof b);
    assert_string_equal(b, "01:02:03.456");
    sbk_fmt_hms(67000, b, sizeof b);
    assert_string_equal(b, "00:01:07");
    sbk_fmt_hms(-5, b, sizeof b);
    assert_string_equal(b, "00:00:00");
}

static void test_sha256(void **state)
{
    (void)state;
    char hex[SBK_SHA256_HEX];
    sbk_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sbk_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static char *make_tmpdir(void)
{
    const char *base = getenv("SABAK_TEST_TMP");
    char tmpl[4096];
    if (base) {
        mkdir(base, 0755);
        snprintf(tmpl, sizeof tmpl, "%s/core-XXXXXX", base);
    } else {
        snprintf(tmpl, sizeof tmpl, "/tmp/core-XXXXXX");
    }
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_atomic_file(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *path = sbk_path_join(dir, "out.txt");
    SbkError err = {0};
    /* a good write replaces the old file */
    assert_int_equal(sbk_atomic_write_file(path, "old", 3, &err), 0);
    assert_int_equal(sbk_atomic_write_file(path, "новый", strlen("новый"), &err), 0);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(sbk_read_file(path, 100, &data, &len, &err), 0);
    assert_string_equal(data, "новый");
    free(data);
    /* an aborted write leaves the old file and no temporary file */
    SbkAtomicFile *af = NULL;
    assert_int_equal(sbk_atomic_open(&af, path, &err), 0);
    assert_int_equal(sbk_write_all(sbk_atomic_fd(af), "half", 4), 0);
    assert_int_equal(count_entries(dir), 2);
    sbk_atomic_abort(&af);
    assert_null(af);
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(sbk_read_file(path, 100, &data, &len, &err), 0);
    assert_string_equal(data, "новый");
    free(data);
    /* size limit and a missing file give clear errors */
    assert_int_equal(sbk_read_file(path, 3, &data, &len, &err), SBK_ELIMIT);
    char *missing = sbk_path_join(dir, "nope");
    assert_int_equal(sbk_read_file(missing, 100, &data, &len, &err), SBK_ENOENT);
    assert_non_null(strstr(err.msg, "nope"));
    /* a folder that does not exist */
    char *bad = sbk_path_join(missing, "x");
    assert_int_equal(sbk_atomic_write_file(bad, "x", 1, &err), SBK_ENOENT);
    unlink(path);
    rmdir(dir);
    free(bad);
    free(missing);
    free(path);
    free(dir);
}

static void test_errors(void **state)
{
    (void)state;
    SbkError err = {0};
    assert_int_equal(sbk_err_errno(&err, ENOSPC, "cannot write %s", "x.zip"), SBK_ENOSPC);
    assert_string_equal(err.msg, "cannot write x.zip: disk is full");
    assert_int_equal(sbk_err(&err, SBK_EINVAL, "line\nbreak"), SBK_EINVAL);
    assert_string_equal(err.msg, "line break");
    sbk_err_prefix(&err, "lesson.ini:%d", 3);
    assert_string_equal(err.msg, "lesson.ini:3: line break");
    assert_int_equal(sbk_err(NULL, SBK_EIO, "ignored"), SBK_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_names), cmocka_unit_test(test_lesson_ids),
        cmocka_unit_test(test_utf8_valid),  cmocka_unit_test(test_fold),
        cmocka_unit_test(test_fmt_ms),      cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_atomic_file), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
