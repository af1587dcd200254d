/* Unit tests for content coding in src/kiosk/reply.c: which Accept-Encoding
 * values accept gzip, and what sbk_reply_negotiate does to a reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kiosk/reply.h"

static void test_accepts_gzip(void **state)
{
    (void)state;
    static const struct {
        const char *ae;
        int gzip;
    } cases[] = {
        {NULL, 0},
        {"", 0},
        {"identity", 0},
        {"gzip", 1},
        {"GZIP", 1},
        {"gzip, deflate, br", 1},          /* Chromium */
        {"br;q=1.0, gzip;q=0.8, *;q=0.1", 1},
        {"deflate, gzip;q=1.0, *;q=0.5", 1}, /* curl --compressed and friends */
        {"x-gzip", 1},
        {"gzip;q=0", 0},
        {"gzip; q=0.000", 0},
        {"gzip;q=0.001", 1},
        {"*", 1},
        {"*;q=0", 0},
        {"gzip;q=0, *", 0},               /* named beats the wildcard */
        {"*, gzip;q=0", 0},
        {"deflate", 0},
        {"gzipx", 0},
        {"br, x-gzip ; q = 0.5", 1},
        {"gzip;q=abc", 0},
        {",,, ;;", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sbk_reply_accepts_gzip(cases[i].ae) != cases[i].gzip)
            fail_msg("Accept-Encoding \"%s\": expected %d", cases[i].ae ? cases[i].ae : "(none)",
                     cases[i].gzip);
}

static char *gunzip(const void *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    char *out = malloc(1 << 20);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = 1 << 20;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    inflateEnd(&z);
    return out;
}

/* A compressible JSON body is gzipped only for a client that accepts it,
 * and varies either way; a small one is left alone. */
static void test_negotiate_json(void **state)
{
    (void)state;
    char *json = malloc(8000);
    for (int i = 0; i < 7999; i++)
        json[i] = "{\"lessons\":[]} "[i % 15];
    json[7999] = '\0';
    SbkReply r;
    sbk_reply_init(&r);
    sbk_reply_owned(&r, 200, "application/json", strdup(json), 7999);
    r.compress = 1;
    sbk_reply_negotiate(&r, "gzip, deflate");
    assert_int_equal(r.vary, 1);
    assert_string_equal(r.encoding, "gzip");
    assert_true(r.len < 1000);
    size_t n = 0;
    char *plain = gunzip(r.data, r.len, &n);
    assert_int_equal(n, 7999);
    assert_memory_equal(plain, json, n);
    free(plain);
    sbk_reply_clear(&r);

    sbk_reply_init(&r);
    sbk_reply_owned(&r, 200, "application/json", strdup(json), 7999);
    r.compress = 1;
    sbk_reply_negotiate(&r, "identity");
    assert_int_equal(r.vary, 1);
    assert_null(r.encoding);
    assert_int_equal(r.len, 7999);
    sbk_reply_clear(&r);

    sbk_reply_init(&r);
    sbk_reply_owned(&r, 200, "application/json", strdup("{}"), 2);
    r.compress = 1;
    sbk_reply_negotiate(&r, "gzip");
    assert_null(r.encoding); /* too small to gain anything */
    sbk_reply_clear(&r);

    /* Errors are not compressed, nor marked as varying. */
    sbk_reply_init(&r);
    sbk_reply_json_error(&r, 404, "no such lesson");
    r.compress = 1;
    sbk_reply_negotiate(&r, "gzip");
    assert_int_equal(r.vary, 0);
    assert_null(r.encoding);
    sbk_reply_clear(&r);
    free(json);
}

/* A static asset with a gzip made at build time: that is sent, under an
 * ETag of its own. */
static void test_negotiate_static(void **state)
{
    (void)state;
    static const char body[] = "body { color: black }\n";
    static const unsigned char gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3};
    SbkReply r;
    sbk_reply_init(&r);
    sbk_reply_static(&r, 200, "text/css", body);
    r.gz = gz;
    r.gz_len = sizeof gz;
    r.entity = 1;
    strcpy(r.etag, "\"abc\"");
    sbk_reply_negotiate(&r, "br, gzip");
    assert_ptr_equal(r.data, gz);
    assert_int_equal(r.len, sizeof gz);
    assert_string_equal(r.encoding, "gzip");
    assert_string_equal(r.etag, "\"abc-gz\"");
    assert_int_equal(r.vary, 1);
    sbk_reply_clear(&r);

    sbk_reply_init(&r);
    sbk_reply_static(&r, 200, "text/css", body);
    r.gz = gz;
    r.gz_len = sizeof gz;
    strcpy(r.etag, "\"abc\"");
    sbk_reply_negotiate(&r, NULL);
    assert_ptr_equal(r.data, body);
    assert_string_equal(r.etag, "\"abc\"");
    assert_int_equal(r.vary, 1);
    sbk_reply_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_gzip),
        cmocka_unit_test(test_negotiate_json),
        cmocka_unit_test(test_negotiate_static),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
