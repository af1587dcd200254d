/* kiosk/webmin.c: comment lines and indentation out of scripts and styles,
 * and files it must leave alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/webmin.h"

static char *slim(const char *src, int js, int *rc)
{
    char *out = NULL;
    size_t len = 0;
    *rc = sbk_webmin(src, strlen(src), js, &out, &len);
    if (*rc)
        return NULL;
    char *z = malloc(len + 1);
    assert_non_null(z);
    memcpy(z, out, len);
    z[len] = '\0';
    free(out);
    return z;
}

static void test_script(void **state)
{
    (void)state;
    int rc;
    char *s = slim("/* head\n * more */\n(function () {\n  'use strict';\n\n"
                   "  // a note\n  var a = 1; // kept: after code\n"
                   "  /* one line */\n  return a /* inline */ + 2;\n})();\n", 1, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(s, "(function () {\n'use strict';\nvar a = 1; // kept: after code\n"
                           "return a /* inline */ + 2;\n})();\n");
    free(s);
    /* No newline at the end: one is added. */
    s = slim("  x();", 1, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(s, "x();\n");
    free(s);
}

static void test_style(void **state)
{
    (void)state;
    int rc;
    /* In CSS // is no comment: the line stays. */
    char *s = slim("/* colours */\n.a {\n  color: red;\n}\n// not a comment\n", 0, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(s, ".a {\ncolor: red;\n}\n// not a comment\n");
    free(s);
}

static void test_left_alone(void **state)
{
    (void)state;
    int rc;
    static const char *const js[] = {
        "var s = `a\n// not a comment\n`;\n",        /* a template literal */
        "var s = 'a\\\n// not a comment';\n",        /* a continued string */
        "/* c */ x();\n",                             /* code after a comment line */
        "x(); /* opens\n/* and closes */\ny();\n",    /* a comment opened after code */
        "/* never closed\nx();\n",
    };
    for (size_t i = 0; i < sizeof js / sizeof js[0]; i++) {
        char *s = slim(js[i], 1, &rc);
        assert_int_equal(rc, 1);
        assert_null(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script),
        cmocka_unit_test(test_style),
        cmocka_unit_test(test_left_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
