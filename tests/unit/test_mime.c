/* The one MIME table: every type the issue names, case-insensitive
 * extensions, and the fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kiosk/mime.h"

static const struct {
    const char *path, *type;
} cases[] = {
    {"media/standard.mp4", "video/mp4"},
    {"media/audio.m4a", "audio/mp4"},
    {"media/av1.webm", "video/webm"},
    {"subtitles/ky.vtt", "text/vtt; charset=utf-8"},
    {"poster.jpg", "image/jpeg"},
    {"thumb.JPEG", "image/jpeg"},
    {"icons/logo.png", "image/png"},
    {"icons/logo.svg", "image/svg+xml"},
    {"manifest.json", "application/json"},
    {"x/lesson-v1.zip", "application/zip"},
    {"index.html", "text/html; charset=utf-8"},
    {"app.css", "text/css; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"handouts/budget.pdf", "application/pdf"},
    {"handouts/readme.txt", "text/plain; charset=utf-8"},
    {"handouts/бюджет.PDF", "application/pdf"},
    {"handouts/noext", "application/octet-stream"},
    {"handouts/.vtt", "application/octet-stream"},
    {"dir.mp4/file", "application/octet-stream"},
    {"archive.tar.gz", "application/octet-stream"},
    {"", "application/octet-stream"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(sbk_mime_for_path(cases[i].path), cases[i].type) != 0)
            fail_msg("%s: %s, want %s", cases[i].path, sbk_mime_for_path(cases[i].path),
                     cases[i].type);
    assert_string_equal(sbk_mime_for_path(NULL), "application/octet-stream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_table)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
