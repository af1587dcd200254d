/* Unit tests for the kiosk library (src/kiosk/library.c, catalog.c,
 * verify_cache.c): scanning a folder of bundles built here with
 * sbk_bundle_write, the catalog JSON, resolving entries, rescans, the
 * inotify watcher, background verification and its cache, search JSON, and
 * a start-up measurement with 1,000 bundles (printed, not asserted). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kiosk/library.h"
#include "sabak/bundle.h"
#include "sabak/core.h"
#include "testutil.h"

static char g_base[512];

/* ---- fixtures ------------------------------------------------------------ */

/* A fresh empty folder under the test's temporary base. */
static char *new_dir(const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_base, name);
    assert_int_equal(mkdir(buf[k], 0755), 0);
    return buf[k];
}

static char *pjoin(const char *dir, const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

typedef struct Spec {
    const char *id;
    int version;
    const char *topic;
    int order;
    const char *title_ky, *title_ru;
    const char *vtt_ru;
    uint32_t seed;      /* media bytes */
    size_t video_size;
} Spec;

/* The handout's name; test_cyrillic_names makes it Cyrillic. */
static const char *HANDOUT = "handouts/budget plan.pdf";

static const char k_index_html[] = "<!doctype html><title>Сабак</title>\n";
static const char k_vtt_ky[] = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nСалам, достор!\n";

/* Everything a bundle of spec holds, so tests can compare bytes. */
typedef struct Made {
    unsigned char video[64 * 1024], low[16 * 1024], audio[8 * 1024], poster[2048], pdf[3000];
    size_t video_size;
    char manifest_sha[SBK_SHA256_HEX];
    char video_sha[SBK_SHA256_HEX];
    char vtt_sha[SBK_SHA256_HEX];
} Made;

/* Write the bundle of `s` to path (atomically, as sbk_bundle_write does). */
static void make_bundle(const char *path, const Spec *s, Made *out)
{
    static Made scratch;
    Made *m = out ? out : &scratch;
    const char *vtt_ru = s->vtt_ru ? s->vtt_ru
                                   : "WEBVTT\n\n00:00:12.500 --> 00:00:15.000\nОткроем сайт.\n";
    m->video_size = s->video_size ? s->video_size : 20000;
    assert_true(m->video_size <= sizeof m->video);
    fill_random(m->video, m->video_size, s->seed + 1);
    fill_random(m->low, sizeof m->low, s->seed + 2);
    fill_random(m->audio, sizeof m->audio, s->seed + 3);
    fill_random(m->poster, sizeof m->poster, s->seed + 4);
    fill_random(m->pdf, sizeof m->pdf, s->seed + 5);

    SbkManifest man;
    SbkManifestFile f[9];
    memset(&man, 0, sizeof man);
    man.format_version = 1;
    man.generator = (char *)"sabak test";
    man.id = (char *)s->id;
    man.version = s->version;
    man.title[0] = (char *)s->title_ky;
    man.title[1] = (char *)s->title_ru;
    man.description[1] = (char *)"Пошаговый урок для сотрудников";
    man.topic = (char *)(s->topic ? s->topic : "municipal-website");
    man.order = s->order;
    man.duration = 183.42;
    man.content = (char *)"screencast";
    SbkChapter ch = {.start_ms = 90000};
    ch.title[0] = (char *)"Бөлүм";
    man.chapters = &ch;
    man.n_chapters = 1;
    /* Deliberately not in catalog order: the catalog sorts them. */
    set_file(&f[0], "index.html", "player", "text/html; charset=utf-8", k_index_html,
             strlen(k_index_html));
    set_file(&f[1], "poster.jpg", "poster", "image/jpeg", m->poster, sizeof m->poster);
    set_file(&f[2], "subtitles/ru.vtt", "subtitles", "text/vtt; charset=utf-8", vtt_ru, strlen(vtt_ru));
    f[2].lang = (char *)"ru";
    set_file(&f[3], "subtitles/ky.vtt", "subtitles", "text/vtt; charset=utf-8", k_vtt_ky,
             strlen(k_vtt_ky));
    f[3].lang = (char *)"ky";
    set_file(&f[4], "media/audio.m4a", "audio", "audio/mp4", m->audio, sizeof m->audio);
    f[4].tier = (char *)"audio";
    f[4].codecs = (char *)"mp4a.40.2";
    f[4].bitrate = 32000;
    f[4].duration = 183.42;
    set_file(&f[5], "media/low.mp4", "video", "video/mp4", m->low, sizeof m->low);
    f[5].tier = (char *)"low";
    f[5].codecs = (char *)"avc1.42c015, mp4a.40.2";
    f[5].width = 426;
    f[5].height = 240;
    f[5].fps = 10;
    f[5].bitrate = 120000;
    f[5].duration = 183.42;
    set_file(&f[6], "media/standard.mp4", "video", "video/mp4", m->video, m->video_size);
    f[6].tier = (char *)"standard";
    f[6].codecs = (char *)"avc1.64001e, mp4a.40.2";
    f[6].width = 854;
    f[6].height = 480;
    f[6].fps = 15;
    f[6].bitrate = 310000;
    f[6].duration = 183.42;
    set_file(&f[7], HANDOUT, "handout", "application/pdf", m->pdf, sizeof m->pdf);
    man.files = f;
    man.n_files = 8;
    memcpy(m->video_sha, f[6].sha256, SBK_SHA256_HEX);
    memcpy(m->vtt_sha, f[2].sha256, SBK_SHA256_HEX);

    char *mjson = NULL;
    size_t mlen = 0;
    SbkError err = {0};
    if (sbk_manifest_to_json(&man, &mjson, &mlen, &err) < 0)
        fail_msg("sbk_manifest_to_json: %s", err.msg);
    sbk_sha256_hex(mjson, mlen, m->manifest_sha);
    SbkBundleInput in[] = {
        {SBK_MANIFEST_NAME, NULL, mjson, mlen, 0},
        {"index.html", NULL, k_index_html, strlen(k_index_html), 0},
        {"poster.jpg", NULL, m->poster, sizeof m->poster, 1},
        {"subtitles/ky.vtt", NULL, k_vtt_ky, strlen(k_vtt_ky), 0},
        {"subtitles/ru.vtt", NULL, vtt_ru, strlen(vtt_ru), 0},
        {"media/standard.mp4", NULL, m->video, m->video_size, 1},
        {"media/low.mp4", NULL, m->low, sizeof m->low, 1},
        {"media/audio.m4a", NULL, m->audio, sizeof m->audio, 1},
        {HANDOUT, NULL, m->pdf, sizeof m->pdf, 1},
    };
    if (sbk_bundle_write(path, in, sizeof in / sizeof in[0], NULL, &err) < 0)
        fail_msg("sbk_bundle_write %s: %s", path, err.msg);
    free(mjson);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void set_mtime(const char *path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static json_t *catalog(SbkLibrary *lib)
{
    char *s = NULL;
    size_t n = 0;
    assert_int_equal(sbk_library_catalog_json(lib, NULL, &s, &n), 0);
    assert_int_equal(strlen(s), n);
    json_error_t je;
    json_t *j = json_loadb(s, n, 0, &je);
    if (!j)
        fail_msg("catalog is not JSON: %s", je.text);
    free(s);
    return j;
}

static SbkLibrary *open_lib(const char *dir, int watch, int verify)
{
    SbkLibrary *lib = NULL;
    SbkError err = {0};
    SbkLibraryOptions opt = {.dir = dir, .watch = watch, .background_verify = verify};
    if (sbk_library_open(&lib, &opt, &err) < 0)
        fail_msg("sbk_library_open: %s", err.msg);
    return lib;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Poll (up to 5 s) until the library counts are as expected. */
static int wait_counts(SbkLibrary *lib, int lessons, int damaged)
{
    for (int i = 0; i < 500; i++) {
        int l = -1, d = -1;
        sbk_library_counts(lib, &l, &d);
        if (l == lessons && d == damaged)
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static const char *lesson_title_ru(SbkLibrary *lib, const char *id)
{
    static char buf[256];
    char *s = NULL;
    size_t n;
    if (sbk_library_lesson_json(lib, id, &s, &n) < 0)
        return NULL;
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(j);
    snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(json_object_get(j, "title"), "ru")));
    json_decref(j);
    return buf;
}

/* ---- scan and catalog ---------------------------------------------------- */

static void test_scan_catalog(void **state)
{
    (void)state;
    const char *dir = new_dir("scan");
    Spec a1 = {"alpha", 1, "t1", 2, "Альфа", "Альфа первая", NULL, 11, 0};
    Spec a2 = {"alpha", 2, "t1", 2, "Альфа", "Альфа вторая", NULL, 12, 0};
    Spec b = {"beta", 1, "t1", 1, "Бета", "Бюджет онлайн", NULL, 13, 0};
    Spec hid = {"hidden", 1, "t0", 1, "Жашыруун", "Скрытый", NULL, 14, 0};
    Spec t_old = {"tie", 3, "t2", 1, "Тең", "старый", NULL, 15, 0};
    Spec t_new = {"tie", 3, "t2", 1, "Тең", "новый", NULL, 16, 0};
    Made ma2;
    make_bundle(pjoin(dir, "alpha-v1.zip"), &a1, NULL);
    make_bundle(pjoin(dir, "alpha-v2.zip"), &a2, &ma2);
    make_bundle(pjoin(dir, "beta.ZIP"), &b, NULL);
    /* by name tie-a.zip would come first: the newer file must win */
    make_bundle(pjoin(dir, "tie-a.zip"), &t_old, NULL);
    make_bundle(pjoin(dir, "tie-b.zip"), &t_new, NULL);
    set_mtime(pjoin(dir, "tie-a.zip"), 1600000000);
    set_mtime(pjoin(dir, "tie-b.zip"), 1700000000);
    /* Not bundles, or not ours to look at: all ignored. */
    make_bundle(pjoin(dir, ".hidden.zip"), &hid, NULL);
    make_bundle(pjoin(dir, ".x.zip.tmp-AbC123"), &hid, NULL);
    make_bundle(pjoin(dir, "copy.zip.part"), &hid, NULL);
    make_bundle(pjoin(dir, "old.zip~"), &hid, NULL);
    assert_int_equal(symlink("alpha-v1.zip", pjoin(dir, "link.zip")), 0);
    assert_int_equal(mkdir(pjoin(dir, "folder.zip"), 0755), 0);
    write_text(pjoin(dir, "notes.txt"), "not a bundle");
    /* Damaged: listed with the reason, never served. */
    write_text(pjoin(dir, "broken.zip"), "this is not a zip archive at all, just text\n");

    SbkLibrary *lib = open_lib(dir, 0, 0);
    int lessons = -1, damaged = -1;
    sbk_library_counts(lib, &lessons, &damaged);
    assert_int_equal(lessons, 3);
    assert_int_equal(damaged, 1);

    char *raw = NULL;
    size_t rawn = 0;
    assert_int_equal(sbk_library_catalog_json(lib, NULL, &raw, &rawn), 0);
    /* UTF-8 as is, no \u escapes */
    assert_non_null(strstr(raw, "\"ru\":\"Бюджет онлайн\""));
    assert_null(strstr(raw, "\\u"));
    free(raw);

    json_t *c = catalog(lib);
    assert_int_equal(json_integer_value(json_object_get(c, "generation")), 1);
    json_t *ls = json_object_get(c, "lessons");
    assert_int_equal(json_array_size(ls), 3);
    /* topic, then order, then id */
    assert_string_equal(json_string_value(json_object_get(json_array_get(ls, 0), "id")), "beta");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ls, 1), "id")), "alpha");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ls, 2), "id")), "tie");
    json_t *dm = json_object_get(c, "damaged");
    assert_int_equal(json_array_size(dm), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(dm, 0), "file")), "broken.zip");
    assert_string_equal(json_string_value(json_object_get(json_array_get(dm, 0), "reason")),
                        "broken.zip: not a zip archive");

    /* The highest version; on a tie the newest file. */
    json_t *al = json_array_get(ls, 1);
    assert_int_equal(json_integer_value(json_object_get(al, "version")), 2);
    assert_string_equal(lesson_title_ru(lib, "alpha"), "Альфа вторая");
    assert_string_equal(lesson_title_ru(lib, "tie"), "новый");

    /* The card: what the catalog page shows, nothing more (issue 11). */
    json_t *card = al;
    assert_null(json_object_get(card, "description"));
    assert_null(json_object_get(card, "chapters"));
    assert_null(json_object_get(card, "handouts"));
    assert_null(json_object_get(card, "poster"));
    assert_true(strncmp(json_string_value(json_object_get(card, "thumbnail")),
                        "/lessons/alpha/poster.jpg?v=", 28) == 0); /* no thumbnail: the poster */
    json_t *crs = json_object_get(card, "renditions");
    assert_int_equal(json_array_size(crs), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(crs, 0), "tier")), "standard");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(crs, 0), "size")),
                     (json_int_t)ma2.video_size);
    assert_null(json_object_get(json_array_get(crs, 0), "url"));
    assert_int_equal(json_array_size(json_object_get(card, "subtitles")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(card, "subtitles"), 1), "lang")), "ru");
    assert_null(json_object_get(json_array_get(json_object_get(card, "subtitles"), 1), "url"));
    /* Titled in the language asked for, with a fallback. */
    for (int k = 0; k < 3; k++) {
        static const char *const ask[] = {"ru", "en", "ky"}, *const got[] = {"ru", "ky", "ky"};
        static const char *const text[] = {"Альфа вторая", "Альфа", "Альфа"};
        char *cs = NULL;
        size_t cn = 0;
        assert_int_equal(sbk_library_catalog_json(lib, ask[k], &cs, &cn), 0);
        json_t *cj = json_loadb(cs, cn, 0, NULL);
        assert_non_null(cj);
        json_t *t = json_object_get(json_array_get(json_object_get(cj, "lessons"), 1), "title");
        assert_int_equal(json_object_size(t), 1);
        assert_string_equal(json_string_value(json_object_get(t, got[k])), text[k]);
        json_decref(cj);
        free(cs);
    }

    /* The lesson object of /api/lessons/<id>, field by field. */
    char *one = NULL;
    size_t onen = 0;
    assert_int_equal(sbk_library_lesson_json(lib, "alpha", &one, &onen), 0);
    al = json_loadb(one, onen, 0, NULL);
    free(one);
    assert_non_null(al);
    assert_string_equal(json_string_value(json_object_get(al, "id")), "alpha");
    assert_string_equal(json_string_value(json_object_get(json_object_get(al, "title"), "ky")), "Альфа");
    assert_null(json_object_get(json_object_get(al, "title"), "en")); /* languages present only */
    assert_null(json_object_get(json_object_get(al, "description"), "ky"));
    assert_string_equal(json_string_value(json_object_get(al, "topic")), "t1");
    assert_int_equal(json_integer_value(json_object_get(al, "order")), 2);
    assert_true(json_real_value(json_object_get(al, "duration")) == 183.42);
    assert_string_equal(json_string_value(json_object_get(al, "content")), "screencast");
    json_t *ch = json_array_get(json_object_get(al, "chapters"), 0);
    assert_true(json_real_value(json_object_get(ch, "start")) == 90.0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ch, "title"), "ky")), "Бөлүм");
    char want[256];
    json_t *rs = json_object_get(al, "renditions");
    assert_int_equal(json_array_size(rs), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 0), "tier")), "standard");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 1), "tier")), "low");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 2), "tier")), "audio");
    json_t *std = json_array_get(rs, 0);
    snprintf(want, sizeof want, "/lessons/alpha/media/standard.mp4?v=%.16s", ma2.video_sha);
    assert_string_equal(json_string_value(json_object_get(std, "url")), want);
    assert_string_equal(json_string_value(json_object_get(std, "mime")), "video/mp4");
    assert_string_equal(json_string_value(json_object_get(std, "codecs")), "avc1.64001e, mp4a.40.2");
    assert_string_equal(json_string_value(json_object_get(std, "kind")), "video");
    assert_int_equal(json_integer_value(json_object_get(std, "width")), 854);
    assert_int_equal(json_integer_value(json_object_get(std, "height")), 480);
    assert_int_equal(json_integer_value(json_object_get(std, "fps")), 15);
    assert_int_equal(json_integer_value(json_object_get(std, "bitrate")), 310000);
    assert_int_equal(json_integer_value(json_object_get(std, "size")), (json_int_t)ma2.video_size);
    json_t *au = json_array_get(rs, 2);
    assert_string_equal(json_string_value(json_object_get(au, "kind")), "audio");
    assert_null(json_object_get(au, "width"));
    json_t *subs = json_object_get(al, "subtitles");
    assert_int_equal(json_array_size(subs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(subs, 0), "lang")), "ky");
    assert_string_equal(json_string_value(json_object_get(json_array_get(subs, 1), "lang")), "ru");
    snprintf(want, sizeof want, "/lessons/alpha/subtitles/ru.vtt?v=%.16s", ma2.vtt_sha);
    assert_string_equal(json_string_value(json_object_get(json_array_get(subs, 1), "url")), want);
    assert_true(strncmp(json_string_value(json_object_get(al, "poster")), "/lessons/alpha/poster.jpg?v=",
                        28) == 0);
    assert_null(json_object_get(al, "thumbnail"));
    json_t *ho = json_array_get(json_object_get(al, "handouts"), 0);
    assert_string_equal(json_string_value(json_object_get(ho, "name")), "budget plan.pdf");
    assert_string_equal(json_string_value(json_object_get(ho, "mime")), "application/pdf");
    assert_int_equal(json_integer_value(json_object_get(ho, "size")), 3000);
    const char *hu = json_string_value(json_object_get(ho, "url"));
    assert_true(strncmp(hu, "/lessons/alpha/handouts/budget%20plan.pdf?v=",
                        strlen("/lessons/alpha/handouts/budget%20plan.pdf?v=")) == 0);
    json_t *dl = json_object_get(al, "download");
    struct stat st;
    assert_int_equal(stat(pjoin(dir, "alpha-v2.zip"), &st), 0);
    assert_string_equal(json_string_value(json_object_get(dl, "url")), "/lessons/alpha.zip");
    assert_string_equal(json_string_value(json_object_get(dl, "name")), "alpha-v2.zip");
    assert_int_equal(json_integer_value(json_object_get(dl, "size")), st.st_size);

    json_decref(al);
    assert_int_equal(sbk_library_lesson_json(lib, "hidden", &one, &onen), SBK_ENOENT);
    assert_int_equal(sbk_library_lesson_json(lib, "broken", &one, &onen), SBK_ENOENT);
    assert_null(one);

    json_decref(c);
    sbk_library_close(&lib);
    assert_null(lib);
    sbk_library_close(&lib);
}

/* ---- resolve ------------------------------------------------------------- */

static void test_resolve(void **state)
{
    (void)state;
    const char *dir = new_dir("resolve");
    static Made m;
    Spec s = {"res", 4, NULL, 1, "Чечүү", "Решение", NULL, 21, 50000};
    make_bundle(pjoin(dir, "res.zip"), &s, &m);
    SbkLibrary *lib = open_lib(dir, 0, 0);
    SbkResolved r, r2;

    /* A stored entry: a new descriptor and the slice of the zip holding it. */
    assert_int_equal(sbk_library_resolve_entry(lib, "res", "media/standard.mp4", &r), 0);
    assert_true(r.fd >= 0);
    assert_null(r.data);
    assert_int_equal(r.size, 50000);
    unsigned char *buf = malloc(50000);
    assert_int_equal(sbk_pread_all(r.fd, buf, 50000, (off_t)r.offset), 0);
    assert_memory_equal(buf, m.video, 50000);
    assert_string_equal(r.sha256, m.video_sha);
    assert_string_equal(r.name, "standard.mp4");
    struct stat st;
    assert_int_equal(stat(pjoin(dir, "res.zip"), &st), 0);
    assert_int_equal(r.mtime, st.st_mtime);
    /* Each resolve has its own file position. */
    assert_int_equal(sbk_library_resolve_entry(lib, "res", "media/standard.mp4", &r2), 0);
    assert_true(r2.fd != r.fd);
    assert_int_equal(lseek(r.fd, 1234, SEEK_SET), 1234);
    assert_int_equal(lseek(r2.fd, 0, SEEK_CUR), 0);
    sbk_resolved_clear(&r2);
    sbk_resolved_clear(&r);
    assert_int_equal(r.fd, -1);
    sbk_resolved_clear(&r); /* twice is fine */

    /* Deflated entries come inflated, twice (the second from the cache). */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sbk_library_resolve_entry(lib, "res", "subtitles/ru.vtt", &r), 0);
        assert_int_equal(r.fd, -1);
        const char *vtt = "WEBVTT\n\n00:00:12.500 --> 00:00:15.000\nОткроем сайт.\n";
        assert_int_equal(r.size, (int64_t)strlen(vtt));
        assert_memory_equal(r.data, vtt, strlen(vtt));
        assert_string_equal(r.sha256, m.vtt_sha);
        assert_string_equal(r.name, "ru.vtt");
        sbk_resolved_clear(&r);
    }
    assert_int_equal(sbk_library_resolve_entry(lib, "res", "manifest.json", &r), 0);
    char sha[SBK_SHA256_HEX];
    sbk_sha256_hex(r.data, (size_t)r.size, sha);
    assert_string_equal(sha, m.manifest_sha);
    /* manifest.json's own hash, computed once when the bundle was opened */
    assert_string_equal(r.sha256, m.manifest_sha);
    sbk_resolved_clear(&r);

    /* Only what the manifest lists, only lessons served. */
    static const char *const missing[][2] = {
        {"res", "media/nothing.mp4"}, {"res", "../res.zip"}, {"res", "/etc/passwd"},
        {"res", ""},                  {"res", "media"},      {"res", "media/"},
        {"nope", "media/standard.mp4"}, {"", "index.html"},  {"res.zip", "index.html"},
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        if (sbk_library_resolve_entry(lib, missing[i][0], missing[i][1], &r) != SBK_ENOENT)
            fail_msg("resolve %s / %s: expected SBK_ENOENT", missing[i][0], missing[i][1]);
        assert_int_equal(r.fd, -1);
        assert_null(r.data);
    }

    /* The whole bundle. */
    assert_int_equal(sbk_library_resolve_bundle(lib, "res", &r), 0);
    assert_true(r.fd >= 0);
    assert_int_equal(r.offset, 0);
    assert_int_equal(r.size, st.st_size);
    assert_string_equal(r.sha256, m.manifest_sha);
    assert_string_equal(r.name, "res-v4.zip");
    sbk_resolved_clear(&r);
    assert_int_equal(sbk_library_resolve_bundle(lib, "nope", &r), SBK_ENOENT);
    free(buf);
    sbk_library_close(&lib);
}

/* ---- rescans ------------------------------------------------------------- */

static void test_rescan(void **state)
{
    (void)state;
    const char *dir = new_dir("rescan");
    static Made m1, m2;
    Spec one = {"one", 1, NULL, 1, "Бир", "Один", NULL, 31, 0};
    Spec two = {"two", 1, NULL, 2, "Эки", "Два", NULL, 32, 0};
    Spec two_b = {"two", 1, NULL, 2, "Эки", "Два (исправлено)", NULL, 33, 40000};
    make_bundle(pjoin(dir, "one.zip"), &one, NULL);
    SbkLibrary *lib = open_lib(dir, 0, 0);
    SbkError err = {0};
    int l, d;
    json_t *c;

    /* Nothing changed: same generation. */
    assert_int_equal(sbk_library_rescan(lib, &err), 0);
    c = catalog(lib);
    assert_int_equal(json_integer_value(json_object_get(c, "generation")), 1);
    json_decref(c);

    /* Added. */
    make_bundle(pjoin(dir, "two.zip"), &two, &m1);
    assert_int_equal(sbk_library_rescan(lib, &err), 0);
    sbk_library_counts(lib, &l, &d);
    assert_int_equal(l, 2);
    c = catalog(lib);
    assert_int_equal(json_integer_value(json_object_get(c, "generation")), 2);
    json_decref(c);

    /* Replaced (atomic rename) while a client streams the old file. */
    SbkResolved old;
    assert_int_equal(sbk_library_resolve_entry(lib, "two", "media/standard.mp4", &old), 0);
    make_bundle(pjoin(dir, "two.zip"), &two_b, &m2);
    assert_int_equal(sbk_library_rescan(lib, &err), 0);
    assert_string_equal(lesson_title_ru(lib, "two"), "Два (исправлено)");
    unsigned char *buf = malloc(40000);
    assert_int_equal(sbk_pread_all(old.fd, buf, (size_t)old.size, (off_t)old.offset), 0);
    assert_memory_equal(buf, m1.video, (size_t)old.size); /* the old bytes, to the end */
    sbk_resolved_clear(&old);
    SbkResolved now;
    assert_int_equal(sbk_library_resolve_entry(lib, "two", "media/standard.mp4", &now), 0);
    assert_int_equal(now.size, 40000);
    assert_int_equal(sbk_pread_all(now.fd, buf, 40000, (off_t)now.offset), 0);
    assert_memory_equal(buf, m2.video, 40000);
    sbk_resolved_clear(&now);
    c = catalog(lib);
    assert_int_equal(json_integer_value(json_object_get(c, "generation")), 3);
    json_decref(c);

    /* Removed; a resolve taken before keeps working. */
    SbkResolved keep;
    assert_int_equal(sbk_library_resolve_bundle(lib, "one", &keep), 0);
    assert_int_equal(unlink(pjoin(dir, "one.zip")), 0);
    assert_int_equal(sbk_library_rescan(lib, &err), 0);
    sbk_library_counts(lib, &l, &d);
    assert_int_equal(l, 1);
    assert_int_equal(sbk_library_resolve_entry(lib, "one", "index.html", &now), SBK_ENOENT);
    char pk[2];
    assert_int_equal(sbk_pread_all(keep.fd, pk, 2, 0), 0);
    assert_memory_equal(pk, "PK", 2);
    sbk_resolved_clear(&keep);

    /* A bundle that turns bad in place is re-read and becomes damaged. */
    write_text(pjoin(dir, "two.zip"), "garbage");
    assert_int_equal(sbk_library_rescan(lib, &err), 0);
    sbk_library_counts(lib, &l, &d);
    assert_int_equal(l, 0);
    assert_int_equal(d, 1);
    free(buf);
    sbk_library_close(&lib);
}

/* ---- inotify -------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
    char *data = NULL;
    size_t n = 0;
    SbkError err = {0};
    assert_int_equal(sbk_read_file(from, 1u << 26, &data, &n, &err), 0);
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    /* in two halves, so a scan in between would see a partial file */
    assert_int_equal(sbk_write_all(fd, data, n / 2), 0);
    sleep_ms(50);
    assert_int_equal(sbk_write_all(fd, data + n / 2, n - n / 2), 0);
    assert_int_equal(close(fd), 0);
    free(data);
}

static void test_watch(void **state)
{
    (void)state;
    const char *dir = new_dir("watch");
    const char *elsewhere = new_dir("watch-src");
    SbkLibrary *lib = open_lib(dir, 1, 0);
    assert_true(wait_counts(lib, 0, 0));

    /* Renamed into place (sbk_bundle_write is atomic): IN_MOVED_TO. */
    Spec a = {"watched-a", 1, NULL, 1, "А", "А", NULL, 41, 0};
    make_bundle(pjoin(dir, "a.zip"), &a, NULL);
    assert_true(wait_counts(lib, 1, 0));

    /* Copied in place, closed after writing: IN_CLOSE_WRITE. */
    Spec b = {"watched-b", 1, NULL, 2, "Б", "Б", NULL, 42, 0};
    make_bundle(pjoin(elsewhere, "b.zip"), &b, NULL);
    copy_file(pjoin(elsewhere, "b.zip"), pjoin(dir, "b.zip"));
    assert_true(wait_counts(lib, 2, 0));

    /* Temporary and hidden names never show up. */
    copy_file(pjoin(elsewhere, "b.zip"), pjoin(dir, "c.zip.part"));
    copy_file(pjoin(elsewhere, "b.zip"), pjoin(dir, ".c.zip"));
    sleep_ms(400);
    int l, d;
    sbk_library_counts(lib, &l, &d);
    assert_int_equal(l, 2);
    assert_int_equal(d, 0);

    /* Renamed to its final name: served. Then moved away, then deleted. */
    assert_int_equal(rename(pjoin(dir, "c.zip.part"), pjoin(dir, "c.zip")), 0);
    assert_true(wait_counts(lib, 2, 0)); /* same id as b.zip: still 2 lessons */
    assert_int_equal(rename(pjoin(dir, "a.zip"), pjoin(elsewhere, "a.zip")), 0);
    assert_true(wait_counts(lib, 1, 0));
    assert_int_equal(unlink(pjoin(dir, "b.zip")), 0);
    assert_int_equal(unlink(pjoin(dir, "c.zip")), 0);
    assert_true(wait_counts(lib, 0, 0));
    sbk_library_close(&lib);
}

/* ---- background verification and its cache ---------------------------- */

/* Flip one byte inside a stored entry's data (the structure stays valid). */
static void flip_byte(const char *path, const char *entry)
{
    SbkBundle *b = NULL;
    SbkError err = {0};
    assert_int_equal(sbk_bundle_open(path, &b, &err), 0);
    const SbkBundleEntry *e = sbk_bundle_find(b, entry);
    assert_non_null(e);
    assert_true(e->stored);
    off_t off = (off_t)(e->offset + e->size / 2);
    sbk_bundle_close(&b);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x10;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static void test_verify(void **state)
{
    (void)state;
    const char *dir = new_dir("verify");
    Spec v1 = {"dup", 1, NULL, 1, "Бир", "Версия 1", NULL, 51, 0};
    Spec v2 = {"dup", 2, NULL, 1, "Эки", "Версия 2", NULL, 52, 0};
    Spec ok = {"fine", 1, NULL, 2, "Жакшы", "Хороший", NULL, 53, 0};
    make_bundle(pjoin(dir, "dup-v1.zip"), &v1, NULL);
    make_bundle(pjoin(dir, "dup-v2.zip"), &v2, NULL);
    make_bundle(pjoin(dir, "fine.zip"), &ok, NULL);
    flip_byte(pjoin(dir, "dup-v2.zip"), "media/standard.mp4");

    /* Structure is fine: served until the background check finds out. */
    SbkLibrary *lib = open_lib(dir, 0, 1);
    assert_true(wait_counts(lib, 2, 1));
    for (int i = 0; i < 500 && sbk_library_verify_pending(lib) > 0; i++)
        sleep_ms(10);
    assert_int_equal(sbk_library_verify_pending(lib), 0);
    assert_string_equal(lesson_title_ru(lib, "dup"), "Версия 1"); /* the next version takes over */
    json_t *c = catalog(lib);
    json_t *dm = json_array_get(json_object_get(c, "damaged"), 0);
    assert_string_equal(json_string_value(json_object_get(dm, "file")), "dup-v2.zip");
    const char *reason = json_string_value(json_object_get(dm, "reason"));
    if (strncmp(reason, "dup-v2.zip: ", 12) != 0 || !strstr(reason, "media/standard.mp4") ||
        strstr(reason, "/proc/"))
        fail_msg("unexpected reason: %s", reason);
    char *saved_reason = strdup(reason);
    json_decref(c);
    sbk_library_close(&lib);

    /* The cache holds all three results. */
    char *cache = NULL;
    size_t n = 0;
    SbkError err = {0};
    assert_int_equal(sbk_read_file(pjoin(dir, ".sabak-cache"), 1 << 20, &cache, &n, &err), 0);
    assert_true(strncmp(cache, "sabak-verify-cache 2\n", 21) == 0);
    int lines = 0, oks = 0;
    for (char *p = cache; *p; p++)
        lines += *p == '\n';
    for (char *p = cache; (p = strstr(p, " ok\n")); p++)
        oks++;
    assert_int_equal(lines, 4);
    assert_int_equal(oks, 2);
    assert_non_null(strstr(cache, saved_reason));

    /* A restart trusts the cache: the damaged bundle is damaged at once,
     * without background verification. */
    lib = open_lib(dir, 0, 0);
    int l, d;
    sbk_library_counts(lib, &l, &d);
    assert_int_equal(l, 2);
    assert_int_equal(d, 1);
    c = catalog(lib);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(c, "damaged"), 0),
                                                          "reason")),
                        saved_reason);
    json_decref(c);
    sbk_library_close(&lib);

    /* The cache is really consulted: mark fine.zip bad in it by hand. */
    struct stat st;
    assert_int_equal(stat(pjoin(dir, "fine.zip"), &st), 0);
    char line[256];
    snprintf(line, sizeof line, "%llu %llu %lld %lld %lld bad fine.zip: marked by hand\n",
             (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (long long)st.st_size,
             (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
             (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec);
    char *edited = malloc(n + sizeof line);
    char *okline = NULL;
    /* drop fine.zip's "ok" line (its key prefix) and append the bad one */
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%llu %llu %lld ", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino, (long long)st.st_size);
    okline = strstr(cache, prefix);
    assert_non_null(okline);
    char *eol = strchr(okline, '\n');
    size_t head = (size_t)(okline - cache);
    memcpy(edited, cache, head);
    strcpy(edited + head, eol + 1);
    strcat(edited, line);
    assert_int_equal(sbk_atomic_write_file(pjoin(dir, ".sabak-cache"), edited, strlen(edited), &err), 0);
    lib = open_lib(dir, 0, 0);
    sbk_library_counts(lib, &l, &d);
    assert_int_equal(l, 1);
    assert_int_equal(d, 2);
    assert_int_equal(sbk_library_lesson_json(lib, "fine", &okline, &n), SBK_ENOENT);
    sbk_library_close(&lib);
    free(edited);
    free(cache);
    free(saved_reason);
}

/* Entry names in Cyrillic (a handout "бюджет 2024.pdf") are served, with a
 * percent-encoded URL, whatever the process locale (the kiosk runs under
 * systemd with LANG unset, i.e. the C locale). */
static void test_cyrillic_names(void **state)
{
    (void)state;
    const char *dir = new_dir("cyrillic");
    Spec a = {"cyr", 1, NULL, 1, "Бюджет", "Бюджет", NULL, 71, 0};
    HANDOUT = "handouts/бюджет 2024.pdf";
    make_bundle(pjoin(dir, "cyr.zip"), &a, NULL);
    HANDOUT = "handouts/budget plan.pdf";
    SbkLibrary *lib = open_lib(dir, 0, 0);
    json_t *c = catalog(lib);
    json_t *dm = json_array_get(json_object_get(c, "damaged"), 0);
    if (dm)
        fail_msg("damaged: %s", json_string_value(json_object_get(dm, "reason")));
    json_decref(c);
    char *one = NULL;
    size_t onen = 0;
    assert_int_equal(sbk_library_lesson_json(lib, "cyr", &one, &onen), 0);
    c = json_loadb(one, onen, 0, NULL);
    free(one);
    assert_non_null(c);
    json_t *ho = json_array_get(json_object_get(c, "handouts"), 0);
    assert_string_equal(json_string_value(json_object_get(ho, "name")), "бюджет 2024.pdf");
    const char *want = "/lessons/cyr/handouts/%D0%B1%D1%8E%D0%B4%D0%B6%D0%B5%D1%82%202024.pdf?v=";
    assert_true(strncmp(json_string_value(json_object_get(ho, "url")), want, strlen(want)) == 0);
    SbkResolved r;
    assert_int_equal(sbk_library_resolve_entry(lib, "cyr", "handouts/бюджет 2024.pdf", &r), 0);
    assert_int_equal(r.size, 3000);
    assert_string_equal(r.name, "бюджет 2024.pdf");
    sbk_resolved_clear(&r);
    json_decref(c);
    sbk_library_close(&lib);
}

/* ---- search --------------------------------------------------------------- */

static void test_search_json(void **state)
{
    (void)state;
    const char *dir = new_dir("search");
    Spec a = {"budget-01", 1, "budget", 1, "Бюджет онлайн", "Гражданский бюджет", NULL, 61, 0};
    Spec b = {"site-01", 1, "site", 1, "Сайт", "Сайт айыл өкмөтү",
              "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nВведение\n\n"
              "00:00:12.500 --> 00:00:15.000\nЗдесь публикуется ЁЛКА и бюджет\n",
              62, 0};
    make_bundle(pjoin(dir, "a.zip"), &a, NULL);
    make_bundle(pjoin(dir, "b.zip"), &b, NULL);
    SbkLibrary *lib = open_lib(dir, 0, 0);
    char *s = NULL;
    size_t n = 0;

    assert_int_equal(sbk_library_search_json(lib, "БЮДЖЕТ", "ru", 0, &s, &n), 0);
    json_t *j = json_loadb(s, n, 0, NULL);
    assert_non_null(j);
    assert_non_null(strstr(s, "\"query\":\"БЮДЖЕТ\""));
    free(s);
    json_t *rs = json_object_get(j, "results");
    assert_int_equal(json_array_size(rs), 2);
    /* the title hit first */
    json_t *r0 = json_array_get(rs, 0), *r1 = json_array_get(rs, 1);
    assert_string_equal(json_string_value(json_object_get(r0, "id")), "budget-01");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r0, "title"), "ru")),
                        "Гражданский бюджет");
    assert_true(json_real_value(json_object_get(r0, "duration")) == 183.42);
    assert_non_null(json_object_get(r0, "poster"));
    json_t *h = json_array_get(json_object_get(r0, "hits"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "field")), "title");
    assert_string_equal(json_string_value(json_object_get(h, "lang")), "ru");
    assert_string_equal(json_string_value(json_object_get(h, "text")), "Гражданский бюджет");
    assert_null(json_object_get(h, "start"));
    assert_string_equal(json_string_value(json_object_get(r1, "id")), "site-01");
    h = json_array_get(json_object_get(r1, "hits"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "field")), "subtitles");
    assert_string_equal(json_string_value(json_object_get(h, "lang")), "ru");
    assert_true(json_real_value(json_object_get(h, "start")) == 12.5);
    assert_true(json_real_value(json_object_get(h, "end")) == 15.0);
    assert_string_equal(json_string_value(json_object_get(h, "text")), "Здесь публикуется ЁЛКА и бюджет");
    json_decref(j);

    static const struct {
        const char *q;
        int limit;
        size_t results;
    } table[] = {
        {"бюджет", 1, 1},       {"елка бюджет", 0, 1}, {"ёлка", 0, 1},  {"ӨКМӨТҮ", 0, 1},
        {"бюджет трактор", 0, 0}, {"", 0, 0},            {"   ", 0, 0}, {"салам", 0, 2},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        assert_int_equal(sbk_library_search_json(lib, table[i].q, NULL, table[i].limit, &s, &n), 0);
        j = json_loadb(s, n, 0, NULL);
        assert_non_null(j);
        if (json_array_size(json_object_get(j, "results")) != table[i].results)
            fail_msg("query \"%s\": %s", table[i].q, s);
        json_decref(j);
        free(s);
    }
    sbk_library_close(&lib);
}

/* ---- readers during swaps --------------------------------------------- */

typedef struct Reader {
    SbkLibrary *lib;
    int *stop;
    int served, checked_bytes;
} Reader;

/* Resolve, read and search in a loop while bundles are swapped: every
 * resolve either fails cleanly or gives bytes that match its own ETag. */
static void *reader_main(void *arg)
{
    Reader *r = arg;
    unsigned char *buf = malloc(64 * 1024);
    while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE) && buf) {
        SbkResolved res;
        if (sbk_library_resolve_entry(r->lib, "swap", "media/standard.mp4", &res) == 0) {
            char sha[SBK_SHA256_HEX];
            if (sbk_pread_all(res.fd, buf, (size_t)res.size, (off_t)res.offset) == 0) {
                sbk_sha256_hex(buf, (size_t)res.size, sha);
                r->checked_bytes += strcmp(sha, res.sha256) == 0 ? 1 : -1000000;
            }
            sbk_resolved_clear(&res);
            r->served++;
        }
        char *s = NULL;
        size_t n;
        if (sbk_library_resolve_entry(r->lib, "swap", "subtitles/ru.vtt", &res) == 0)
            sbk_resolved_clear(&res);
        if (sbk_library_catalog_json(r->lib, NULL, &s, &n) == 0)
            free(s);
        if (sbk_library_search_json(r->lib, "откроем", "ru", 5, &s, &n) == 0)
            free(s);
    }
    free(buf);
    return NULL;
}

static void test_concurrent_swaps(void **state)
{
    (void)state;
    const char *dir = new_dir("swaps");
    Spec s = {"swap", 1, NULL, 1, "Алмаштыруу", "Замена", NULL, 81, 30000};
    make_bundle(pjoin(dir, "swap.zip"), &s, NULL);
    SbkLibrary *lib = open_lib(dir, 1, 1);
    int stop = 0;
    Reader rd[3];
    pthread_t thr[3];
    for (int i = 0; i < 3; i++) {
        rd[i] = (Reader){.lib = lib, .stop = &stop};
        assert_int_equal(pthread_create(&thr[i], NULL, reader_main, &rd[i]), 0);
    }
    SbkError err = {0};
    for (int k = 0; k < 15; k++) {
        s.seed = 100 + (uint32_t)k;
        s.version = 1 + k % 3;
        make_bundle(pjoin(dir, "swap.zip"), &s, NULL); /* renamed over: the watcher swaps it */
        if (k % 4 == 0)
            assert_int_equal(sbk_library_rescan(lib, &err), 0);
        sleep_ms(20);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    int total = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(thr[i], NULL);
        assert_true(rd[i].checked_bytes >= 0);
        total += rd[i].served;
    }
    assert_true(total > 0);
    assert_true(wait_counts(lib, 1, 0));
    sbk_library_close(&lib);
}

/* ---- start-up with 1,000 bundles (measured, not asserted) ---------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the whole process (all threads). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_startup_1000(void **state)
{
    (void)state;
    const char *dir = new_dir("thousand");
    const int count = getenv("SABAK_LIBRARY_BUNDLES") ? atoi(getenv("SABAK_LIBRARY_BUNDLES")) : 1000;
    char id[32], file[64], title[64];
    double t0 = now_s();
    for (int i = 0; i < count; i++) {
        snprintf(id, sizeof id, "lesson-%04d", i);
        snprintf(file, sizeof file, "%s-v1.zip", id);
        snprintf(title, sizeof title, "Сабак %d", i);
        Spec s = {id, 1, "bulk", i, title, title, NULL, (uint32_t)i, 4096};
        make_bundle(pjoin(dir, file), &s, NULL);
    }
    double t1 = now_s();
    long rss0 = rss_kb();
    double c1 = cpu_s();
    SbkLibrary *lib = open_lib(dir, 1, 0);
    double t2 = now_s(), c2 = cpu_s();
    long rss1 = rss_kb();
    int l, d;
    sbk_library_counts(lib, &l, &d);
    assert_int_equal(l, count);
    assert_int_equal(d, 0);
    char *s = NULL;
    size_t n;
    double t3 = now_s();
    assert_int_equal(sbk_library_search_json(lib, "салам достор", "ky", 20, &s, &n), 0);
    double t4 = now_s();
    free(s);
    sbk_library_close(&lib);
    /* Again, as after a restart (warm page cache). */
    double t5 = now_s(), c5 = cpu_s();
    lib = open_lib(dir, 1, 0);
    double t6 = now_s(), c6 = cpu_s();
    sbk_library_close(&lib);
    print_message("library: %d bundles written in %.2f s; ready (scan + index + catalog) in %.0f ms "
                  "(%.0f ms CPU), again %.0f ms (%.0f ms CPU); RSS +%ld KiB; "
                  "search over all subtitles %.2f ms\n",
                  count, t1 - t0, (t2 - t1) * 1000, (c2 - c1) * 1000, (t6 - t5) * 1000,
                  (c6 - c5) * 1000, rss1 - rss0, (t4 - t3) * 1000);
}

/* ---- main ----------------------------------------------------------------- */

static int setup_all(void **state)
{
    (void)state;
    return test_tmpdir(g_base, sizeof g_base, "test_library");
}

static int teardown_all(void **state)
{
    (void)state;
    return test_tmpdir_remove(g_base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_catalog), cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_rescan),       cmocka_unit_test(test_watch),
        cmocka_unit_test(test_verify),       cmocka_unit_test(test_cyrillic_names),
        cmocka_unit_test(test_search_json),  cmocka_unit_test(test_concurrent_swaps),
        cmocka_unit_test(test_startup_1000),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
