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
#include "testutil.h"

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
    if (test_tmpdir(g_dir, sizeof g_dir, "test_bundle") < 0)
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
    return test_tmpdir_remove(g_dir);
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


/* ---- hostile archives ------------------------------------------------------ */

typedef struct RawEntry {
    const char *name;
    const char *data;   /* NUL-terminated text */
    int type;           /* 0 regular, 1 symlink (data = target), 2 directory */
} RawEntry;

/* A zip written with libarchive directly, with no sabak checks. */
static void write_raw_zip(const char *path, const RawEntry *e, size_t n)
{
    struct archive *a = archive_write_new();
    assert_non_null(a);
    assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *x = archive_entry_new();
        archive_entry_set_pathname(x, e[i].name);
        size_t len = e[i].type == 0 ? strlen(e[i].data) : 0;
        if (e[i].type == 1) {
            archive_entry_set_filetype(x, AE_IFLNK);
            archive_entry_set_symlink(x, e[i].data);
            archive_entry_set_perm(x, 0777);
        } else if (e[i].type == 2) {
            archive_entry_set_filetype(x, AE_IFDIR);
            archive_entry_set_perm(x, 0755);
        } else {
            archive_entry_set_filetype(x, AE_IFREG);
            archive_entry_set_perm(x, 0644);
            archive_entry_set_size(x, (la_int64_t)len);
        }
        assert_int_equal(archive_write_header(a, x), ARCHIVE_OK);
        if (len)
            assert_int_equal(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
        archive_entry_free(x);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* manifest.json listing index.html (with a size/sha that may be wrong) and
 * optionally more paths of the given text. */
static char *small_manifest(int size_delta, int bad_sha, const char *extra_path, int format_version)
{
    SbkManifest m;
    SbkManifestFile f[2];
    memset(&m, 0, sizeof m);
    memset(f, 0, sizeof f);
    m.format_version = format_version;
    m.id = (char *)"budget-01";
    m.version = 2;
    m.title[1] = (char *)"Бюджет";
    set_file(&f[0], "index.html", "player", "text/html; charset=utf-8", index_html, strlen(index_html));
    f[0].size += size_delta;
    if (bad_sha)
        f[0].sha256[0] = f[0].sha256[0] == 'a' ? 'b' : 'a';
    m.files = f;
    m.n_files = 1;
    if (extra_path) {
        set_file(&f[1], extra_path, "video", "video/mp4", "x", 1);
        m.n_files = 2;
    }
    char *out = NULL;
    SbkError err = {0};
    assert_int_equal(sbk_manifest_to_json(&m, &out, NULL, &err), 0);
    if (format_version != 1) {
        /* to_json writes what it is given; the parser must refuse it. */
    }
    return out;
}

typedef struct Lines {
    char *v[16];
    int n;
} Lines;

static void collect(void *opaque, const char *line)
{
    Lines *l = opaque;
    if (l->n < 16)
        l->v[l->n] = strdup(line);
    l->n++;
}

static void lines_free(Lines *l)
{
    for (int i = 0; i < l->n && i < 16; i++)
        free(l->v[i]);
    l->n = 0;
}

/* Prefix match when the expectation ends with '*'. */
static void assert_msg(const char *got, const char *want)
{
    size_t n = strlen(want);
    if (n && want[n - 1] == '*') {
        if (strncmp(got, want, n - 1) != 0)
            fail_msg("got \"%s\", want prefix \"%.*s\"", got, (int)(n - 1), want);
    } else if (strcmp(got, want) != 0) {
        fail_msg("got \"%s\", want \"%s\"", got, want);
    }
}

/* open fails with `open_msg` (after "PATH: "), or succeeds when NULL;
 * verify reports exactly `lines` (NULL-terminated). */
static void expect(const char *path, int open_code, const char *open_msg, const char *const *lines)
{
    SbkBundle *b = NULL;
    SbkError err = {0};
    int r = sbk_bundle_open(path, &b, &err);
    if (!open_msg) {
        if (r != 0)
            fail_msg("%s: open failed: %s", path, err.msg);
        sbk_bundle_close(&b);
    } else {
        assert_null(b);
        if (r != open_code)
            fail_msg("%s: open returned %d (%s), want %d", path, r, err.msg, open_code);
        size_t pl = strlen(path);
        if (strncmp(err.msg, path, pl) != 0 || strncmp(err.msg + pl, ": ", 2) != 0)
            fail_msg("message lacks the path: %s", err.msg);
        assert_msg(err.msg + pl + 2, open_msg);
    }
    Lines got = {0};
    r = sbk_bundle_verify(path, collect, &got);
    int want_n = 0;
    while (lines[want_n])
        want_n++;
    if (got.n != want_n) {
        for (int i = 0; i < got.n && i < 16; i++)
            fprintf(stderr, "  got: %s\n", got.v[i]);
        fail_msg("%s: %d problem lines, want %d", path, got.n, want_n);
    }
    for (int i = 0; i < want_n; i++)
        assert_msg(got.v[i], lines[i]);
    if (want_n)
        assert_int_not_equal(r, 0);
    else
        assert_int_equal(r, 0);
    lines_free(&got);
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_LINES ((const char *const[]){NULL})

static void test_hostile_names(void **state)
{
    (void)state;
    char *man = small_manifest(0, 0, NULL, 1);
    struct {
        const char *name;
        int type;
        const char *open_msg;
        const char *line;
    } cases[] = {
        {"../evil", 0, "entry \"../evil\" has an unsafe name", "entry \"../evil\" has an unsafe name"},
        {"/abs", 0, "entry \"/abs\" has an unsafe name", "entry \"/abs\" has an unsafe name"},
        {"a\\b", 0, "entry \"a\\b\" has an unsafe name", "entry \"a\\b\" has an unsafe name"},
        {"media/x/../../y", 0, "entry \"media/x/../../y\" has an unsafe name",
         "entry \"media/x/../../y\" has an unsafe name"},
        {"link", 1, "entry \"link\" is a symbolic link", "entry \"link\" is a symbolic link"},
        {"dir/", 2, "entry \"dir/\" is a directory", "entry \"dir/\" is a directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        RawEntry e[] = {{"manifest.json", man, 0},
                        {"index.html", index_html, 0},
                        {cases[i].name, cases[i].type == 1 ? "/etc/passwd" : "x", cases[i].type}};
        write_raw_zip(tpath("hostile.zip"), e, 3);
        char notlisted[300];
        snprintf(notlisted, sizeof notlisted, "entry \"%s\" is not listed in manifest.json", cases[i].name);
        expect(tpath("hostile.zip"), SBK_EDAMAGED, cases[i].open_msg, LINES(cases[i].line, notlisted));
    }
    free(man);
}

static void test_hostile_manifest(void **state)
{
    (void)state;
    char *man = small_manifest(0, 0, NULL, 1);
    char *man_missing = small_manifest(0, 0, "media/x.mp4", 1);
    char *man_size = small_manifest(1, 0, NULL, 1);
    char *man_sha = small_manifest(0, 1, NULL, 1);
    char *man_v2 = small_manifest(0, 0, NULL, 2);
    char size_msg[200];
    snprintf(size_msg, sizeof size_msg, "\"index.html\" is %zu bytes, manifest.json says %zu", strlen(index_html),
             strlen(index_html) + 1);

    RawEntry no_manifest[] = {{"index.html", index_html, 0}};
    write_raw_zip(tpath("m.zip"), no_manifest, 1);
    expect(tpath("m.zip"), SBK_EDAMAGED, "manifest.json is missing", LINES("manifest.json is missing"));

    RawEntry not_first[] = {{"index.html", index_html, 0}, {"manifest.json", man, 0}};
    write_raw_zip(tpath("m.zip"), not_first, 2);
    expect(tpath("m.zip"), SBK_EDAMAGED, "manifest.json is not the first entry",
           LINES("manifest.json is not the first entry"));

    RawEntry missing[] = {{"manifest.json", man_missing, 0}, {"index.html", index_html, 0}};
    write_raw_zip(tpath("m.zip"), missing, 2);
    expect(tpath("m.zip"), SBK_EDAMAGED, "\"media/x.mp4\" is listed in manifest.json but missing from the archive",
           LINES("\"media/x.mp4\" is listed in manifest.json but missing from the archive"));

    RawEntry size[] = {{"manifest.json", man_size, 0}, {"index.html", index_html, 0}};
    write_raw_zip(tpath("m.zip"), size, 2);
    expect(tpath("m.zip"), SBK_EDAMAGED, size_msg, LINES(size_msg));

    /* open does not hash: only verify sees a wrong SHA-256. */
    RawEntry sha[] = {{"manifest.json", man_sha, 0}, {"index.html", index_html, 0}};
    write_raw_zip(tpath("m.zip"), sha, 2);
    expect(tpath("m.zip"), 0, NULL,
           LINES("\"index.html\": SHA-256 does not match manifest.json (damaged or altered)"));

    RawEntry v2[] = {{"manifest.json", man_v2, 0}, {"index.html", index_html, 0}};
    write_raw_zip(tpath("m.zip"), v2, 2);
    expect(tpath("m.zip"), SBK_EUNSUPPORTED, "bundle format 2 is newer than this sabak understands",
           LINES("bundle format 2 is newer than this sabak understands"));

    RawEntry notjson[] = {{"manifest.json", "{\"format\": ", 0}, {"index.html", index_html, 0}};
    write_raw_zip(tpath("m.zip"), notjson, 2);
    expect(tpath("m.zip"), SBK_EDAMAGED, "manifest.json: line 1 column 11: *",
           LINES("manifest.json: line 1 column 11: *"));

    RawEntry extra[] = {{"manifest.json", man, 0}, {"index.html", index_html, 0}, {"extra.txt", "hi", 0}};
    write_raw_zip(tpath("m.zip"), extra, 3);
    expect(tpath("m.zip"), SBK_EDAMAGED, "entry \"extra.txt\" is not listed in manifest.json",
           LINES("entry \"extra.txt\" is not listed in manifest.json"));

    RawEntry dup[] = {{"manifest.json", man, 0}, {"index.html", index_html, 0}, {"index.html", index_html, 0}};
    write_raw_zip(tpath("m.zip"), dup, 3);
    expect(tpath("m.zip"), SBK_EDAMAGED, "entry \"index.html\" appears twice",
           LINES("entry \"index.html\" appears twice"));

    RawEntry good[] = {{"manifest.json", man, 0}, {"index.html", index_html, 0}};
    write_raw_zip(tpath("m.zip"), good, 2);
    expect(tpath("m.zip"), 0, NULL, NO_LINES);

    free(man);
    free(man_missing);
    free(man_size);
    free(man_sha);
    free(man_v2);
}

static void flip_byte(const char *path, int64_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x10;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static void copy_file(const char *from, const char *to, int64_t len, const char *append)
{
    size_t n;
    unsigned char *buf = slurp(from, &n);
    if (len >= 0 && (size_t)len < n)
        n = (size_t)len;
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    if (append)
        fputs(append, f);
    fclose(f);
    free(buf);
}

static void test_damaged_files(void **state)
{
    (void)state;
    write_good(tpath("good.zip"));
    struct stat st;
    assert_int_equal(stat(tpath("good.zip"), &st), 0);
    SbkBundle *b = NULL;
    SbkError err = {0};
    assert_int_equal(sbk_bundle_open(tpath("good.zip"), &b, &err), 0);
    int64_t video_off = b->entries[3].offset;
    sbk_bundle_close(&b);

    /* A bit flip inside a stored entry: CRC (libarchive WARN) fails. */
    copy_file(tpath("good.zip"), tpath("flip.zip"), -1, NULL);
    flip_byte(tpath("flip.zip"), video_off + 1000);
    expect(tpath("flip.zip"), 0, NULL, LINES("entry \"media/standard.mp4\" is damaged: ZIP bad CRC*"));

    /* A bit flip inside deflated text: the local header of index.html is
     * found by its name; its data follows the 30-byte header, name, extra. */
    size_t n;
    unsigned char *z = slurp(tpath("good.zip"), &n);
    unsigned char *p = memmem(z, n, "index.html", 10);
    assert_non_null(p);
    int64_t lho = (p - z) - 30;
    assert_memory_equal(z + lho, "PK\3\4", 4);
    int64_t data = lho + 30 + (z[lho + 26] | z[lho + 27] << 8) + (z[lho + 28] | z[lho + 29] << 8);
    free(z);
    copy_file(tpath("good.zip"), tpath("flip.zip"), -1, NULL);
    flip_byte(tpath("flip.zip"), data + 3);
    expect(tpath("flip.zip"), 0, NULL, LINES("entry \"index.html\" is damaged: *"));

    copy_file(tpath("good.zip"), tpath("cut.zip"), st.st_size / 2, NULL);
    expect(tpath("cut.zip"), SBK_EDAMAGED, "truncated: the end of the archive is missing",
           LINES("truncated: the end of the archive is missing"));
    copy_file(tpath("good.zip"), tpath("cut.zip"), st.st_size - 1, NULL);
    expect(tpath("cut.zip"), SBK_EDAMAGED, "truncated: the end of the archive is missing",
           LINES("truncated: the end of the archive is missing"));
    copy_file(tpath("good.zip"), tpath("tail.zip"), -1, "garbage\n");
    expect(tpath("tail.zip"), SBK_EDAMAGED, "8 bytes of unexpected data after the end of the archive",
           LINES("8 bytes of unexpected data after the end of the archive"));
    write_bytes(tpath("empty.zip"), "", 0);
    expect(tpath("empty.zip"), SBK_EDAMAGED, "empty file, not a zip archive",
           LINES("empty file, not a zip archive"));
    write_bytes(tpath("text.zip"), "hello, this is text\n", 20);
    expect(tpath("text.zip"), SBK_EDAMAGED, "not a zip archive", LINES("not a zip archive"));

    assert_int_equal(sbk_bundle_open(tpath("nothing-here.zip"), &b, &err), SBK_ENOENT);
    char want[1200];
    snprintf(want, sizeof want, "cannot open %s: No such file or directory", tpath("nothing-here.zip"));
    assert_string_equal(err.msg, want);
}

/* ZIP64: a stored entry over 4 GiB from a sparse source, followed by a small
 * entry whose local header lies beyond 4 GiB. Writes 4 GiB of real data, so
 * it runs only with SABAK_SLOW_TESTS=1. */
static void test_zip64_over_4gib(void **state)
{
    (void)state;
    if (!getenv("SABAK_SLOW_TESTS") || strcmp(getenv("SABAK_SLOW_TESTS"), "1") != 0)
        skip();
    const int64_t big = (INT64_C(1) << 32) + 100;
    int fd = open(tpath("sparse.bin"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, big), 0);
    assert_int_equal(pwrite(fd, "END", 3, big - 3), 3);
    close(fd);
    const char tail[] = "after the big one";
    SbkManifest m;
    SbkManifestFile f[2];
    memset(&m, 0, sizeof m);
    memset(f, 0, sizeof f);
    m.format_version = 1;
    m.id = (char *)"big";
    m.version = 1;
    m.title[2] = (char *)"Big";
    set_file(&f[0], "media/big.mp4", "video", "video/mp4", "", 0);
    f[0].size = big;
    set_file(&f[1], "tail.txt", "handout", "text/plain", tail, strlen(tail));
    m.files = f;
    m.n_files = 2;
    char *man = NULL;
    size_t man_len = 0;
    SbkError err = {0};
    assert_int_equal(sbk_manifest_to_json(&m, &man, &man_len, &err), 0);
    SbkBundleInput in[] = {{SBK_MANIFEST_NAME, NULL, man, man_len, 0},
                           {"media/big.mp4", tpath("sparse.bin"), NULL, 0, 1},
                           {"tail.txt", NULL, tail, strlen(tail), 1}};
    int r = sbk_bundle_write(tpath("big.zip"), in, 3, NULL, &err);
    unlink(tpath("sparse.bin"));
    free(man);
    if (r != 0)
        fail_msg("write: %s", err.msg);
    SbkBundle *b = NULL;
    r = sbk_bundle_open(tpath("big.zip"), &b, &err);
    if (r != 0) {
        unlink(tpath("big.zip"));
        fail_msg("open: %s", err.msg);
    }
    assert_int_equal(b->entries[1].size, big);
    assert_true(b->entries[2].offset > big);
    char buf[32] = {0};
    assert_int_equal(sbk_pread_all(b->fd, buf, 3, b->entries[1].offset + big - 3), 0);
    assert_memory_equal(buf, "END", 3);
    assert_int_equal(sbk_pread_all(b->fd, buf, strlen(tail), b->entries[2].offset), 0);
    assert_memory_equal(buf, tail, strlen(tail));
    sbk_bundle_close(&b);
    unlink(tpath("big.zip"));
}

/* Cyrillic entry names work whatever the process locale: the kiosk runs
 * under systemd with LANG unset (the C locale, which this test keeps). */
static void test_cyrillic_names(void **state)
{
    (void)state;
    const char *name = "handouts/бюджет 2024.pdf";
    const char pdf[] = "%PDF-1.4 not really\n";
    SbkManifest m;
    SbkManifestFile f[1];
    memset(&m, 0, sizeof m);
    memset(f, 0, sizeof f);
    m.format_version = 1;
    m.id = (char *)"cyr";
    m.version = 1;
    m.title[0] = (char *)"Бюджет";
    set_file(&f[0], name, "handout", "application/pdf", pdf, strlen(pdf));
    m.files = f;
    m.n_files = 1;
    char *man = NULL;
    size_t man_len = 0;
    SbkError err = {0};
    assert_int_equal(sbk_manifest_to_json(&m, &man, &man_len, &err), 0);
    SbkBundleInput in[] = {{SBK_MANIFEST_NAME, NULL, man, man_len, 0}, {name, NULL, pdf, strlen(pdf), 1}};
    int r = sbk_bundle_write(tpath("cyr.zip"), in, 2, NULL, &err);
    free(man);
    if (r != 0)
        fail_msg("write: %s", err.msg);
    /* The name is stored as UTF-8 bytes with the UTF-8 flag (bit 11). */
    size_t n;
    unsigned char *z = slurp(tpath("cyr.zip"), &n);
    unsigned char *p = memmem(z, n, name, strlen(name));
    assert_non_null(p);
    int64_t lho = (p - z) - 30;
    assert_memory_equal(z + lho, "PK\3\4", 4);
    assert_true((z[lho + 6] | z[lho + 7] << 8) & 0x800);
    free(z);
    SbkBundle *b = NULL;
    r = sbk_bundle_open(tpath("cyr.zip"), &b, &err);
    if (r != 0)
        fail_msg("open: %s", err.msg);
    assert_string_equal(b->entries[1].name, name);
    assert_non_null(sbk_bundle_find(b, name));
    char *out = NULL;
    assert_int_equal(sbk_bundle_read_entry(b, name, 1000, &out, &n, &err), 0);
    assert_string_equal(out, pdf);
    free(out);
    sbk_bundle_close(&b);
    assert_int_equal(sbk_bundle_verify(tpath("cyr.zip"), no_problem, NULL), 0);
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
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_hostile_manifest),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_cyrillic_names),
        cmocka_unit_test(test_zip64_over_4gib),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
