/* Bundle writer, reader and verifier: determinism, offsets, and hostile
 * archives made at test time (with libarchive directly, or by damaging a
 * good bundle). Every case asserts the exact message. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sabak/bundle.h"
#include "sabak/core.h"

static char g_dir[512];

/* ---- fixtures ------------------------------------------------------------ */

static char *tpath(const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* Deterministic bytes that do not compress (xorshift). */
static void fill_random(unsigned char *p, size_t n, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    char *buf = NULL;
    SbkError err = {0};
    assert_int_equal(sbk_read_file(path, 1u << 30, &buf, n, &err), 0);
    return (unsigned char *)buf;
}

#define VIDEO_SIZE (3u * 1024 * 1024 + 12345) /* several 1 MiB copy blocks */
#define AUDIO_SIZE 70001u

static const char index_html[] = "<!doctype html><title>Сабак</title><p>Муниципалдык веб-сайт</p>\n";
static const char vtt_ky[] = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nҢ Ө Ү ң ө ү\n";

typedef struct Fixture {
    unsigned char *video;  /* also written to video.mp4 */
    unsigned char *audio;
    char *manifest;
    size_t manifest_len;
} Fixture;

static Fixture g_fx;

static void set_file(SbkManifestFile *f, const char *path, const char *kind, const char *mime,
                     const void *data, size_t n)
{
    f->path = (char *)path;
    f->kind = (char *)kind;
    f->mime = (char *)mime;
    f->size = (int64_t)n;
    sbk_sha256_hex(data, n, f->sha256);
}

/* The manifest for the standard fixture (borrowed strings, not freed). */
static void fixture_manifest(SbkManifest *m, SbkManifestFile files[4])
{
    memset(m, 0, sizeof *m);
    memset(files, 0, 4 * sizeof *files);
    m->format_version = 1;
    m->generator = (char *)"sabak test";
    m->id = (char *)"municipal-website-01";
    m->version = 1;
    m->title[0] = (char *)"Муниципалдык веб-сайт менен иштөө";
    m->title[1] = (char *)"Работа с муниципальным веб-сайтом";
    m->topic = (char *)"municipal-website";
    m->order = 1;
    m->duration = 12.5;
    m->content = (char *)"screencast";
    set_file(&files[0], "index.html", "player", "text/html; charset=utf-8", index_html,
             strlen(index_html));
    set_file(&files[1], "subtitles/ky.vtt", "subtitles", "text/vtt; charset=utf-8", vtt_ky, strlen(vtt_ky));
    files[1].lang = (char *)"ky";
    set_file(&files[2], "media/standard.mp4", "video", "video/mp4", g_fx.video, VIDEO_SIZE);
    files[2].codecs = (char *)"avc1.64001e, mp4a.40.2";
    files[2].tier = (char *)"standard";
    files[2].width = 854;
    files[2].height = 480;
    files[2].fps = 15;
    files[2].bitrate = 300000;
    files[2].duration = 12.5;
    set_file(&files[3], "media/audio.m4a", "audio", "audio/mp4", g_fx.audio, AUDIO_SIZE);
    files[3].tier = (char *)"audio";
    files[3].codecs = (char *)"mp4a.40.2";
    m->files = files;
    m->n_files = 4;
}

static int setup_all(void **state)
{
    (void)state;
    const char *base = getenv("SABAK_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755);
    snprintf(g_dir, sizeof g_dir, "%s/test_bundle-XXXXXX", base);
    if (!mkdtemp(g_dir))
        return -1;
    g_fx.video = malloc(VIDEO_SIZE);
    g_fx.audio = malloc(AUDIO_SIZE);
    fill_random(g_fx.video, VIDEO_SIZE, 7);
    fill_random(g_fx.audio, AUDIO_SIZE, 99);
    write_bytes(tpath("video.mp4"), g_fx.video, VIDEO_SIZE);
    SbkManifest m;
    SbkManifestFile files[4];
    fixture_manifest(&m, files);
    SbkError err = {0};
    if (sbk_manifest_to_json(&m, &g_fx.manifest, &g_fx.manifest_len, &err) < 0)
        return -1;
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    free(g_fx.video);
    free(g_fx.audio);
    free(g_fx.manifest);
    if (getenv("SABAK_KEEP_TMP"))
        return 0;
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static size_t fixture_inputs(SbkBundleInput in[5])
{
    memset(in, 0, 5 * sizeof *in);
    in[0] = (SbkBundleInput){SBK_MANIFEST_NAME, NULL, g_fx.manifest, g_fx.manifest_len, 0};
    in[1] = (SbkBundleInput){"index.html", NULL, index_html, strlen(index_html), 0};
    in[2] = (SbkBundleInput){"subtitles/ky.vtt", NULL, vtt_ky, strlen(vtt_ky), 0};
    in[3] = (SbkBundleInput){"media/standard.mp4", tpath("video.mp4"), NULL, 0, 1};
    in[4] = (SbkBundleInput){"media/audio.m4a", NULL, g_fx.audio, AUDIO_SIZE, 1};
    return 5;
}

static void write_good(const char *path)
{
    SbkBundleInput in[5];
    size_t n = fixture_inputs(in);
    SbkError err = {0};
    int r = sbk_bundle_write(path, in, n, NULL, &err);
    if (r != 0)
        fail_msg("sbk_bundle_write: %s", err.msg);
}

/* Nothing but the named files in g_dir (no temporary files left). */
static int count_hidden_files(void)
{
    DIR *d = opendir(g_dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

/* ---- writer ------------------------------------------------------------- */

static void test_write_is_reproducible(void **state)
{
    (void)state;
    write_good(tpath("a.zip"));
    write_good(tpath("b.zip"));
    size_t na, nb;
    unsigned char *a = slurp(tpath("a.zip"), &na);
    unsigned char *b = slurp(tpath("b.zip"), &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    /* No host data: no time stamps beyond the fixed DOS minimum; the local
     * header of the first entry carries DOS time 0 and date 1980-01-01. */
    assert_memory_equal(a, "PK\3\4", 4);
    assert_int_equal(a[10] | a[11] << 8, 0);      /* time 00:00:00 */
    assert_int_equal(a[12] | a[13] << 8, 0x21);   /* date 1980-01-01 */
    free(a);
    free(b);
    /* The same under another time zone. */
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", "Asia/Bishkek", 1);
    write_good(tpath("c.zip"));
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    size_t nc;
    unsigned char *c = slurp(tpath("c.zip"), &nc);
    a = slurp(tpath("a.zip"), &na);
    assert_int_equal(na, nc);
    assert_memory_equal(a, c, na);
    free(a);
    free(c);
    assert_int_equal(count_hidden_files(), 0);
}

static void test_open_finds_offsets(void **state)
{
    (void)state;
    write_good(tpath("good.zip"));
    SbkBundle *b = NULL;
    SbkError err = {0};
    int r = sbk_bundle_open(tpath("good.zip"), &b, &err);
    if (r != 0)
        fail_msg("open: %s", err.msg);
    assert_int_equal(b->n_entries, 5);
    const char *order[] = {"manifest.json", "index.html", "subtitles/ky.vtt", "media/standard.mp4",
                           "media/audio.m4a"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(b->entries[i].name, order[i]);
    /* Text is deflated (no offset), media stored with an exact offset. */
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(b->entries[i].stored, 0);
        assert_int_equal(b->entries[i].offset, -1);
    }
    assert_int_equal(b->entries[3].stored, 1);
    assert_int_equal(b->entries[3].size, VIDEO_SIZE);
    assert_int_equal(b->entries[3].csize, VIDEO_SIZE);
    assert_int_equal(b->entries[4].size, AUDIO_SIZE);
    unsigned char *buf = malloc(VIDEO_SIZE);
    assert_int_equal(sbk_pread_all(b->fd, buf, VIDEO_SIZE, b->entries[3].offset), 0);
    assert_memory_equal(buf, g_fx.video, VIDEO_SIZE);
    assert_int_equal(sbk_pread_all(b->fd, buf, AUDIO_SIZE, b->entries[4].offset), 0);
    assert_memory_equal(buf, g_fx.audio, AUDIO_SIZE);
    free(buf);
    /* The manifest as written. */
    assert_string_equal(b->manifest->id, "municipal-website-01");
    assert_string_equal(b->manifest->title[0], "Муниципалдык веб-сайт менен иштөө");
    assert_int_equal(b->manifest->n_files, 4);
    assert_string_equal(b->manifest->files[2].codecs, "avc1.64001e, mp4a.40.2");
    struct stat st;
    assert_int_equal(stat(tpath("good.zip"), &st), 0);
    assert_int_equal(b->file_size, st.st_size);
    assert_int_equal(b->ino, st.st_ino);
    assert_true(fcntl(b->fd, F_GETFD) & FD_CLOEXEC);
    assert_non_null(sbk_bundle_find(b, "media/audio.m4a"));
    assert_null(sbk_bundle_find(b, "media/none.mp4"));
    sbk_bundle_close(&b);
    assert_null(b);
    sbk_bundle_close(&b); /* accepts NULL */
}

static void test_read_entry(void **state)
{
    (void)state;
    write_good(tpath("good.zip"));
    SbkBundle *b = NULL;
    SbkError err = {0};
    assert_int_equal(sbk_bundle_open(tpath("good.zip"), &b, &err), 0);
    char *out = NULL;
    size_t n = 0;
    assert_int_equal(sbk_bundle_read_entry(b, "subtitles/ky.vtt", 1 << 20, &out, &n, &err), 0);
    assert_int_equal(n, strlen(vtt_ky));
    assert_string_equal(out, vtt_ky);
    free(out);
    assert_int_equal(sbk_bundle_read_entry(b, SBK_MANIFEST_NAME, 1 << 20, &out, &n, &err), 0);
    assert_int_equal(n, g_fx.manifest_len);
    assert_memory_equal(out, g_fx.manifest, n);
    free(out);
    assert_int_equal(sbk_bundle_read_entry(b, "media/audio.m4a", 1 << 20, &out, &n, &err), 0);
    assert_int_equal(n, AUDIO_SIZE);
    assert_memory_equal(out, g_fx.audio, n);
    free(out);
    assert_int_equal(sbk_bundle_read_entry(b, "media/standard.mp4", 1000, &out, &n, &err), SBK_ELIMIT);
    assert_null(out);
    assert_int_equal(sbk_bundle_read_entry(b, "nope.txt", 1000, &out, &n, &err), SBK_ENOENT);
    sbk_bundle_close(&b);
}

static void no_problem(void *opaque, const char *line)
{
    (void)opaque;
    fail_msg("unexpected problem: %s", line);
}

static void test_verify_good(void **state)
{
    (void)state;
    write_good(tpath("good.zip"));
    assert_int_equal(sbk_bundle_verify(tpath("good.zip"), no_problem, NULL), 0);
}

static void test_write_cancel_leaves_nothing(void **state)
{
    (void)state;
    SbkBundleInput in[5];
    size_t n = fixture_inputs(in);
    SbkError err = {0};
    volatile int cancel = 1;
    unlink(tpath("cancel.zip"));
    assert_int_equal(sbk_bundle_write(tpath("cancel.zip"), in, n, &cancel, &err), SBK_ECANCELED);
    assert_string_equal(err.msg, "interrupted");
    assert_int_equal(access(tpath("cancel.zip"), F_OK), -1);
    assert_int_equal(count_hidden_files(), 0);
}

static void test_write_bad_inputs(void **state)
{
    (void)state;
    SbkError err = {0};
    SbkBundleInput bad[] = {{"../evil", NULL, "x", 1, 0}};
    assert_int_equal(sbk_bundle_write(tpath("bad.zip"), bad, 1, NULL, &err), SBK_EINVAL);
    assert_string_equal(err.msg, "bad entry name \"../evil\"");
    SbkBundleInput dup[] = {{"a.txt", NULL, "x", 1, 0}, {"a.txt", NULL, "y", 1, 0}};
    assert_int_equal(sbk_bundle_write(tpath("bad.zip"), dup, 2, NULL, &err), SBK_EINVAL);
    assert_string_equal(err.msg, "entry \"a.txt\" is given twice");
    SbkBundleInput missing[] = {{"a.txt", NULL, "x", 1, 0}, {"b.mp4", tpath("no-such.mp4"), NULL, 0, 1}};
    assert_int_equal(sbk_bundle_write(tpath("bad.zip"), missing, 2, NULL, &err), SBK_ENOENT);
    char want[1200];
    snprintf(want, sizeof want, "cannot open %s: No such file or directory", tpath("no-such.mp4"));
    assert_string_equal(err.msg, want);
    assert_int_equal(access(tpath("bad.zip"), F_OK), -1);
    assert_int_equal(count_hidden_files(), 0);
}

/* A full disk: a 1 MiB tmpfs (needs root and mount; skipped otherwise). */
static void test_write_full_disk(void **state)
{
    (void)state;
    char mnt[600];
    snprintf(mnt, sizeof mnt, "%s/tiny", g_dir);
    mkdir(mnt, 0755);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=1m sabak-test '%s' 2>/dev/null", mnt);
    if (geteuid() != 0 || system(cmd) != 0) {
        rmdir(mnt);
        skip();
    }
    SbkBundleInput in[5];
    size_t n = fixture_inputs(in);
    SbkError err = {0};
    char out[700];
    snprintf(out, sizeof out, "%s/full.zip", mnt);
    int r = sbk_bundle_write(out, in, n, NULL, &err);
    int left = 0;
    DIR *d = opendir(mnt);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            left++;
    if (d)
        closedir(d);
    snprintf(cmd, sizeof cmd, "umount '%s'", mnt);
    assert_int_equal(system(cmd), 0);
    rmdir(mnt);
    assert_int_equal(r, SBK_ENOSPC);
    char want[800];
    snprintf(want, sizeof want, "cannot write %s: disk is full", out);
    assert_string_equal(err.msg, want);
    assert_int_equal(left, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_is_reproducible),
        cmocka_unit_test(test_open_finds_offsets),
        cmocka_unit_test(test_read_entry),
        cmocka_unit_test(test_verify_good),
        cmocka_unit_test(test_write_cancel_leaves_nothing),
        cmocka_unit_test(test_write_bad_inputs),
        cmocka_unit_test(test_write_full_disk),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
