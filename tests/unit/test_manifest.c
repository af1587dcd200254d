/* manifest.json: byte-exact round trip, and a table of bad manifests with
 * the exact one-line message each must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <malloc.h>

#include "sabak/bundle.h"
#include "sabak/core.h"

#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void full_manifest(SbkManifest *m, SbkManifestFile f[3], SbkChapter c[2])
{
    memset(m, 0, sizeof *m);
    memset(f, 0, 3 * sizeof *f);
    memset(c, 0, 2 * sizeof *c);
    m->format_version = 1;
    m->generator = (char *)"sabak 0.1.0";
    m->id = (char *)"online-budget-02";
    m->version = 3;
    m->title[0] = (char *)"Онлайн жарандык бюджет";
    m->title[1] = (char *)"Онлайн гражданский бюджет";
    m->title[2] = (char *)"The online citizen budget";
    m->description[0] = (char *)"Бюджетти кантип окуу керек: ң ө ү \"тырмакча\"";
    m->description[1] = (char *)"Как читать бюджет\nвторая строка";
    m->topic = (char *)"citizen-budget";
    m->order = 2;
    m->duration = 185.1234; /* rounded to 185.123 */
    m->content = (char *)"camera";
    c[0].start_ms = 0;
    c[0].title[0] = (char *)"Киришүү";
    c[0].title[1] = (char *)"Введение";
    c[1].start_ms = 90500;
    c[1].title[1] = (char *)"Доходы";
    m->chapters = c;
    m->n_chapters = 2;
    f[0] = (SbkManifestFile){.path = (char *)"index.html", .kind = (char *)"player",
                             .mime = (char *)"text/html; charset=utf-8", .size = 1234};
    memcpy(f[0].sha256, SHA_A, 65);
    f[1] = (SbkManifestFile){.path = (char *)"subtitles/ky.vtt", .kind = (char *)"subtitles",
                             .mime = (char *)"text/vtt; charset=utf-8", .lang = (char *)"ky", .size = 0};
    memcpy(f[1].sha256, SHA_A, 65);
    f[2] = (SbkManifestFile){.path = (char *)"media/standard.mp4", .kind = (char *)"video",
                             .mime = (char *)"video/mp4", .codecs = (char *)"avc1.64001f, mp4a.40.2",
                             .tier = (char *)"standard", .width = 854, .height = 480,
                             .fps = 30000.0 / 1001.0, .bitrate = 412345, .duration = 185.1,
                             .size = INT64_C(5000000000)};
    memcpy(f[2].sha256, SHA_A, 65);
    m->files = f;
    m->n_files = 3;
}

static void test_round_trip(void **state)
{
    (void)state;
    SbkManifest m;
    SbkManifestFile f[3];
    SbkChapter c[2];
    full_manifest(&m, f, c);
    SbkError err = {0};
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    assert_int_equal(sbk_manifest_to_json(&m, &a, &na, &err), 0);
    assert_int_equal(strlen(a), na);
    /* Cyrillic is written as UTF-8, not \u escapes; reals at 3 decimals. */
    assert_non_null(strstr(a, "\"ky\": \"Онлайн жарандык бюджет\""));
    assert_non_null(strstr(a, "\"duration\": 185.123,"));
    assert_non_null(strstr(a, "\"fps\": 29.97,"));
    assert_non_null(strstr(a, "\"start\": 90.5,"));
    assert_non_null(strstr(a, "\"size\": 5000000000,"));
    assert_null(strstr(a, "\\u"));
    /* Fixed key order. */
    const char *keys[] = {"\"format\"", "\"format_version\"", "\"generator\"", "\"id\"", "\"version\"",
                          "\"title\"", "\"description\"", "\"topic\"", "\"order\"", "\"duration\"",
                          "\"content\"", "\"chapters\"", "\"files\""};
    const char *prev = a;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *p = strstr(a, keys[i]);
        assert_non_null(p);
        assert_true(p >= prev);
        prev = p;
    }
    assert_memory_equal(a, "{\n \"format\": \"sabak-bundle\",\n \"format_version\": 1,\n", 50);
    assert_int_equal(a[na - 1], '\n');

    SbkManifest *p = NULL;
    int r = sbk_manifest_parse(a, na, &p, &err);
    if (r != 0)
        fail_msg("parse: %s", err.msg);
    assert_string_equal(p->id, "online-budget-02");
    assert_int_equal(p->version, 3);
    assert_string_equal(p->title[1], "Онлайн гражданский бюджет");
    assert_string_equal(p->description[1], "Как читать бюджет\nвторая строка");
    assert_int_equal(p->n_chapters, 2);
    assert_int_equal(p->chapters[1].start_ms, 90500);
    assert_null(p->chapters[1].title[0]);
    assert_int_equal(p->n_files, 3);
    assert_int_equal(p->files[2].size, INT64_C(5000000000));
    assert_int_equal(p->files[2].width, 854);
    assert_int_equal(p->files[2].bitrate, 412345);
    assert_string_equal(p->files[1].lang, "ky");
    assert_null(p->files[0].codecs);
    assert_ptr_equal(sbk_manifest_find(p, "media/standard.mp4"), &p->files[2]);
    assert_null(sbk_manifest_find(p, "media/low.mp4"));

    assert_int_equal(sbk_manifest_to_json(p, &b, &nb, &err), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    sbk_manifest_free(&p);
    assert_null(p);
    sbk_manifest_free(&p);
    free(a);
    free(b);
}

/* A parsed manifest is one allocation (SbkManifest.packed): every string,
 * chapter and file inside the block, equal short strings stored once. */
static void in_block(const SbkManifest *p, size_t size, const void *x)
{
    if (!x)
        return;
    const char *c = x, *b = (const char *)p;
    assert_true(c >= b && c < b + size);
}

static void test_packed(void **state)
{
    (void)state;
    SbkManifest m;
    SbkManifestFile f[3];
    SbkChapter c[2];
    full_manifest(&m, f, c);
    f[1].mime = (char *)"video/mp4"; /* as f[2] */
    f[1].kind = (char *)"video";
    f[1].lang = NULL;
    f[1].tier = (char *)"low";
    f[1].codecs = (char *)"avc1.64001f, mp4a.40.2";
    f[1].width = 426;
    f[1].height = 240;
    f[1].path = (char *)"media/low.mp4";
    f[1].crf = 41;
    f[1].crf_from = (char *)"search";
    f[1].ssim_y = 0.952;
    f[1].quality_metric = (char *)"ssim-y-sampled";
    SbkError err = {0};
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    assert_int_equal(sbk_manifest_to_json(&m, &a, &na, &err), 0);
    SbkManifest *p = NULL;
    assert_int_equal(sbk_manifest_parse(a, na, &p, &err), 0);
    assert_int_equal(p->packed, 1);
    size_t size = malloc_usable_size(p);
    in_block(p, size, p->files);
    in_block(p, size, p->chapters);
    in_block(p, size, p->generator);
    in_block(p, size, p->id);
    in_block(p, size, p->topic);
    in_block(p, size, p->content);
    for (int l = 0; l < SBK_LANG_COUNT; l++) {
        in_block(p, size, p->title[l]);
        in_block(p, size, p->description[l]);
        for (int i = 0; i < p->n_chapters; i++)
            in_block(p, size, p->chapters[i].title[l]);
    }
    for (int i = 0; i < p->n_files; i++) {
        const SbkManifestFile *x = &p->files[i];
        in_block(p, size, x->path);
        in_block(p, size, x->kind);
        in_block(p, size, x->mime);
        in_block(p, size, x->codecs);
        if (i == 1)
            assert_string_equal(x->crf_from, "search");
        in_block(p, size, x->crf_from);
        in_block(p, size, x->quality_metric);
        in_block(p, size, x->tier);
        in_block(p, size, x->lang);
    }
    assert_ptr_equal(p->files[1].mime, p->files[2].mime);
    assert_ptr_equal(p->files[1].kind, p->files[2].kind);
    assert_ptr_equal(p->files[1].codecs, p->files[2].codecs);
    assert_ptr_not_equal(p->files[1].tier, p->files[2].tier);
    assert_string_equal(p->files[1].path, "media/low.mp4");
    assert_string_equal(p->files[2].tier, "standard");
    assert_int_equal(sbk_manifest_to_json(p, &b, &nb, &err), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    sbk_manifest_free(&p);
    free(a);
    free(b);
}

/* A valid manifest with one placeholder replaced. */
static const char base_json[] =
    "{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a-1\", \"version\": 1,"
    " \"title\": {\"ru\": \"Урок\"}, @TOP@"
    " \"files\": [{\"path\": \"media/a.mp4\", \"kind\": \"video\", \"mime\": \"video/mp4\","
    " \"size\": 10, \"sha256\": \"" SHA_A "\" @FILE@}]}";

static char *make_json(const char *top, const char *file)
{
    char *out = malloc(strlen(base_json) + strlen(top) + strlen(file) + 1);
    const char *t = strstr(base_json, "@TOP@"), *f = strstr(base_json, "@FILE@");
    size_t o = 0;
    memcpy(out, base_json, (size_t)(t - base_json));
    o = (size_t)(t - base_json);
    strcpy(out + o, top);
    o += strlen(top);
    memcpy(out + o, t + 5, (size_t)(f - (t + 5)));
    o += (size_t)(f - (t + 5));
    strcpy(out + o, file);
    o += strlen(file);
    strcpy(out + o, f + 6);
    return out;
}

typedef struct BadCase {
    const char *json;   /* whole document, or NULL to use top/file in base_json */
    const char *top;
    const char *file;
    int code;
    const char *msg;
} BadCase;

static const BadCase bad_cases[] = {
    {"", NULL, NULL, SBK_EDAMAGED, "manifest.json: line 1 column 0: '[' or '{' expected near end of file"},
    {"[1]", NULL, NULL, SBK_EDAMAGED, "manifest.json: not a JSON object"},
    {"{\"format\": \"zip\"}", NULL, NULL, SBK_EDAMAGED, "manifest.json: \"format\" must be \"sabak-bundle\""},
    {"{\"id\": \"x\"}", NULL, NULL, SBK_EDAMAGED, "manifest.json: missing \"format\""},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 2}", NULL, NULL, SBK_EUNSUPPORTED,
     "bundle format 2 is newer than this sabak understands"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": \"1\"}", NULL, NULL, SBK_EDAMAGED,
     "manifest.json: \"format_version\" must be an integer"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 0}", NULL, NULL, SBK_EDAMAGED,
     "manifest.json: \"format_version\" is out of range (0)"},
    {"{\"format\": \"sabak-bundle\", \"format\": \"sabak-bundle\"}", NULL, NULL, SBK_EDAMAGED,
     "manifest.json: line 1 column 35: duplicate object key near '\"format\"'"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"../etc\", \"version\": 1}", NULL, NULL,
     SBK_EDAMAGED, "manifest.json: \"id\" is not a valid lesson id: \"../etc\""},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\"}", NULL, NULL, SBK_EDAMAGED,
     "manifest.json: missing \"version\""},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1}", NULL, NULL,
     SBK_EDAMAGED, "manifest.json: missing \"title\""},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"de\": \"x\"}}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: \"title\" has no text in ky, ru or en"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"KY\": \"x\"}}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: \"title\" has a bad language code \"KY\""},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"}}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: missing \"files\""},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 0}", NULL, NULL,
     SBK_EDAMAGED, "manifest.json: \"version\" is out of range (0)"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": \"x\"}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: \"title\" must be an object of language: text"},
    {NULL, "\"order\": 1.5,", "", SBK_EDAMAGED, "manifest.json: \"order\" must be an integer"},
    {NULL, "\"duration\": -1,", "", SBK_EDAMAGED, "manifest.json: \"duration\" is out of range (-1)"},
    {NULL, "\"duration\": \"90\",", "", SBK_EDAMAGED, "manifest.json: \"duration\" must be a number"},
    {NULL, "\"topic\": 5,", "", SBK_EDAMAGED, "manifest.json: \"topic\" must be a string"},
    {NULL, "\"description\": [],", "", SBK_EDAMAGED,
     "manifest.json: \"description\" must be an object of language: text"},
    {NULL, "\"chapters\": {},", "", SBK_EDAMAGED, "manifest.json: \"chapters\" must be an array"},
    {NULL, "\"chapters\": [{\"title\": {\"ru\": \"a\"}}],", "", SBK_EDAMAGED,
     "manifest.json: missing \"start\" in chapters[0]"},
    {NULL, "\"chapters\": [{\"start\": 1, \"title\": {\"ru\": 7}}],", "", SBK_EDAMAGED,
     "manifest.json: chapters[0].\"title\".ru must be a string"},
    {NULL, "\"chapters\": [1],", "", SBK_EDAMAGED, "manifest.json: chapters[0] must be an object"},
    {NULL, "", ", \"width\": -5", SBK_EDAMAGED, "manifest.json: files[0].\"width\" is out of range (-5)"},
    {NULL, "", ", \"fps\": \"30\"", SBK_EDAMAGED, "manifest.json: files[0].\"fps\" must be a number"},
    {NULL, "", ", \"lang\": \"Kyrgyz\"", SBK_EDAMAGED, "manifest.json: files[0].lang is not a language code: \"Kyrgyz\""},
    {NULL, "", ", \"codecs\": 1", SBK_EDAMAGED, "manifest.json: files[0].\"codecs\" must be a string"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"},"
     " \"files\": [{\"path\": \"../x\"}]}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: files[0].path is not a safe entry name: \"../x\""},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"},"
     " \"files\": [{\"path\": \"a\\\\b\"}]}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: files[0].path is not a safe entry name: \"a\\b\""},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"},"
     " \"files\": [{\"path\": \"manifest.json\"}]}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: files[0].path must not be manifest.json itself"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"},"
     " \"files\": [{\"path\": \"a.mp4\", \"kind\": \"video\", \"mime\": \"video/mp4\", \"size\": 1,"
     " \"sha256\": \"" SHA_A "\"}, {\"path\": \"a.mp4\", \"kind\": \"video\", \"mime\": \"video/mp4\","
     " \"size\": 1, \"sha256\": \"" SHA_A "\"}]}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: files[1].path \"a.mp4\" is listed twice"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"},"
     " \"files\": [{\"path\": \"a.mp4\", \"kind\": \"video\", \"mime\": \"video/mp4\", \"size\": -1}]}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: files[0].\"size\" is out of range (-1)"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"},"
     " \"files\": [{\"path\": \"a.mp4\", \"kind\": \"video\", \"mime\": \"video/mp4\", \"size\": 1,"
     " \"sha256\": \"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"}]}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: files[0].sha256 must be 64 lower-case hex digits"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"},"
     " \"files\": [{\"path\": \"a.mp4\", \"mime\": \"video/mp4\"}]}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: missing \"kind\" in files[0]"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"},"
     " \"files\": [{\"path\": \"a.mp4\", \"kind\": \"\", \"mime\": \"video/mp4\"}]}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: files[0].\"kind\" must not be empty"},
    {"{\"format\": \"sabak-bundle\", \"format_version\": 1, \"id\": \"a\", \"version\": 1, \"title\": {\"ru\": \"x\"},"
     " \"files\": \"a.mp4\"}",
     NULL, NULL, SBK_EDAMAGED, "manifest.json: \"files\" must be an array"},
    {"{\"format\": \"sabak-bundle\", \"id\": \"a\\u0000b\"}", NULL, NULL, SBK_EDAMAGED,
     "manifest.json: line 1 column 43: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"'"},
};

static void test_bad_manifests(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const BadCase *c = &bad_cases[i];
        char *json = c->json ? strdup(c->json) : make_json(c->top, c->file);
        SbkManifest *m = NULL;
        SbkError err = {0};
        int r = sbk_manifest_parse(json, strlen(json), &m, &err);
        if (r != c->code || strcmp(err.msg, c->msg) != 0) {
            print_error("case %zu: got %d \"%s\", want %d \"%s\"\n  json: %s\n", i, r, err.msg, c->code,
                        c->msg, json);
            failures++;
        }
        assert_null(m);
        free(json);
    }
    assert_int_equal(failures, 0);
}

static void test_base_is_valid(void **state)
{
    (void)state;
    /* The table's base document parses, so each bad case fails for its own
     * reason; unknown keys are ignored (later versions may add keys). */
    char *json = make_json("\"future_key\": {\"x\": [1]}, \"description\": {\"ky\": \"сабак\", \"uz\": \"dars\"},",
                           ", \"future\": true");
    SbkManifest *m = NULL;
    SbkError err = {0};
    int r = sbk_manifest_parse(json, strlen(json), &m, &err);
    if (r != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(m->description[0], "сабак");
    assert_null(m->description[2]);
    assert_int_equal(m->files[0].size, 10);
    assert_int_equal(m->order, 0);
    sbk_manifest_free(&m);
    free(json);
    /* Too large. */
    char *big = malloc(SBK_MANIFEST_MAX_BYTES + 2);
    memset(big, ' ', SBK_MANIFEST_MAX_BYTES + 1);
    big[SBK_MANIFEST_MAX_BYTES + 1] = '\0';
    assert_int_equal(sbk_manifest_parse(big, SBK_MANIFEST_MAX_BYTES + 1, &m, &err), SBK_ELIMIT);
    assert_string_equal(err.msg, "manifest.json: too large (1048577 bytes, limit 1048576)");
    free(big);
    /* to_json needs an id. */
    SbkManifest empty = {0};
    char *out = NULL;
    assert_int_equal(sbk_manifest_to_json(&empty, &out, NULL, &err), SBK_EINVAL);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_packed),
        cmocka_unit_test(test_bad_manifests),
        cmocka_unit_test(test_base_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
