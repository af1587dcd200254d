/* Path resolution: strict percent-decoding, the traversal list, and the
 * route table mapping URLs to (lesson id, entry) - never to a file path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kiosk/routes.h"

typedef struct Case {
    const char *url;
    int status;
    SbkRouteKind kind;
    const char *id, *arg;
} Case;

static const Case cases[] = {
    /* the web app */
    {"/", 0, SBK_ROUTE_WEB, NULL, "index.html"},
    {"/index.html", 0, SBK_ROUTE_WEB, NULL, "index.html"},
    {"/static/app.js", 0, SBK_ROUTE_WEB, NULL, "app.js"},
    {"/static/icons/play.svg", 0, SBK_ROUTE_WEB, NULL, "icons/play.svg"},
    {"/i18n/ky.json", 0, SBK_ROUTE_WEB, NULL, "i18n/ky.json"},
    {"/static/", 404, SBK_ROUTE_NONE, NULL, NULL},
    /* the API */
    {"/api/lessons", 0, SBK_ROUTE_API_LESSONS, NULL, NULL},
    {"/api/lessons/municipal-website-01", 0, SBK_ROUTE_API_LESSON, "municipal-website-01", NULL},
    {"/api/lessons/Bad_Id", 404, SBK_ROUTE_NONE, NULL, NULL},
    {"/api/lessons/a/b", 404, SBK_ROUTE_NONE, NULL, NULL},
    {"/api/search", 0, SBK_ROUTE_API_SEARCH, NULL, NULL},
    {"/api/info", 0, SBK_ROUTE_API_INFO, NULL, NULL},
    {"/api/qr.svg", 0, SBK_ROUTE_API_QR, NULL, NULL},
    {"/api/nothing", 404, SBK_ROUTE_NONE, NULL, NULL},
    {"/healthz", 0, SBK_ROUTE_HEALTHZ, NULL, NULL},
    /* lessons */
    {"/lessons/budget-01/media/standard.mp4", 0, SBK_ROUTE_ENTRY, "budget-01", "media/standard.mp4"},
    {"/lessons/budget-01/subtitles/ky.vtt", 0, SBK_ROUTE_ENTRY, "budget-01", "subtitles/ky.vtt"},
    {"/lessons/budget-01/poster.jpg", 0, SBK_ROUTE_ENTRY, "budget-01", "poster.jpg"},
    {"/lessons/budget-01/handouts/%D0%B1%D1%8E%D0%B4%D0%B6%D0%B5%D1%82.pdf", 0, SBK_ROUTE_ENTRY,
     "budget-01", "handouts/бюджет.pdf"},
    {"/lessons/budget-01/handouts/a%20b.pdf", 0, SBK_ROUTE_ENTRY, "budget-01", "handouts/a b.pdf"},
    {"/lessons/budget-01.zip", 0, SBK_ROUTE_BUNDLE, "budget-01", NULL},
    {"/lessons/budget-01", 404, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/.zip", 404, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/UPPER/x.mp4", 404, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/", 404, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/media/", 404, SBK_ROUTE_NONE, NULL, NULL},
    {"/nothing", 404, SBK_ROUTE_NONE, NULL, NULL},
    /* the traversal list */
    {"/lessons/../../etc/passwd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/../../../etc/passwd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/%2e%2e/%2e%2e/etc/passwd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/.%2e/x", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/./poster.jpg", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/poster.jpg%00.mp4", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/%00", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01%5c..%5c..%5cetc%5cpasswd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01%5Cposter.jpg", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01\\poster.jpg", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"//etc/passwd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons//etc/passwd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01//poster.jpg", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/%2Fetc%2Fpasswd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/static/..%2f..%2fetc%2fpasswd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"http://example.org/etc/passwd", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"http://127.0.0.1/lessons/budget-01/poster.jpg", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"*", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"lessons/budget-01/poster.jpg", 400, SBK_ROUTE_NONE, NULL, NULL},
    /* bad escapes, control bytes, invalid UTF-8 */
    {"/lessons/budget-01/poster%2", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/poster%zz", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/a%0ab", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/a%7fb", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/%ff%fe", 400, SBK_ROUTE_NONE, NULL, NULL},
    {"/lessons/budget-01/%c0%af", 400, SBK_ROUTE_NONE, NULL, NULL}, /* overlong '/' */
};

static void test_table(void **state)
{
    (void)state;
    static SbkRouteMatch m;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Case *c = &cases[i];
        int st = sbk_route_match(c->url, &m);
        if (st != c->status)
            fail_msg("%s: status %d, want %d", c->url, st, c->status);
        if (st)
            continue;
        if (m.kind != c->kind)
            fail_msg("%s: kind %d, want %d", c->url, m.kind, c->kind);
        if ((c->id == NULL) != (m.id == NULL) || (c->id && strcmp(c->id, m.id) != 0))
            fail_msg("%s: id %s, want %s", c->url, m.id ? m.id : "(null)", c->id ? c->id : "(null)");
        if ((c->arg == NULL) != (m.arg == NULL) || (c->arg && strcmp(c->arg, m.arg) != 0))
            fail_msg("%s: arg %s, want %s", c->url, m.arg ? m.arg : "(null)",
                     c->arg ? c->arg : "(null)");
    }
}

static void test_api_flag(void **state)
{
    (void)state;
    static SbkRouteMatch m;
    assert_int_equal(sbk_route_match("/api/nothing", &m), 404);
    assert_int_equal(m.api, 1);
    assert_int_equal(sbk_route_match("/nothing", &m), 404);
    assert_int_equal(m.api, 0);
}

static void test_long(void **state)
{
    (void)state;
    static char url[SBK_URL_MAX + 64];
    static SbkRouteMatch m;
    memset(url, 'a', sizeof url - 1);
    url[0] = '/';
    url[sizeof url - 1] = '\0';
    assert_int_equal(sbk_route_match(url, &m), 414);
}

static void test_query(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(sbk_route_decode_query("%D0%B1%D1%8E%D0%B4%D0%B6%D0%B5%D1%82+2", buf, sizeof buf), 0);
    assert_string_equal(buf, "бюджет 2");
    assert_int_equal(sbk_route_decode_query("100%25", buf, sizeof buf), 0);
    assert_string_equal(buf, "100%");
    assert_int_equal(sbk_route_decode_query("a%00b", buf, sizeof buf), -1);
    assert_int_equal(sbk_route_decode_query("%ff", buf, sizeof buf), -1);
    assert_int_equal(sbk_route_decode_query("%4", buf, sizeof buf), -1);
    assert_int_equal(sbk_route_decode_query("abcdef", buf, 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_api_flag),
        cmocka_unit_test(test_long),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
