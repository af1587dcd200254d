/* src/kiosk/library.c - the kiosk's catalog of bundles (see library.h).
 *
 * Shape: the library publishes an immutable, reference-counted Snapshot of
 * the folder (every bundle file with its state, the lessons served, the
 * catalog JSON). Readers (HTTP threads) take a reference under a mutex held
 * for a pointer copy, then work without locks; a rescan builds a new
 * snapshot, reusing the LibBundles of files whose inode, size and mtime did
 * not change, and swaps the pointer. A bundle dropped from the folder stays
 * open until the last snapshot naming it is released, and every resolve
 * hands out a descriptor of its own, so a client streaming a replaced bundle
 * finishes the old file.
 *
 * Threads: the caller's (open, rescan, resolve, JSON), the inotify watcher,
 * the background verifier. Locks, always taken in this order:
 *   scan_lock  one rescan at a time; guards the verify cache and generation
 *   vmu        the verifier's wake-up counter
 *   snap_lock  the current snapshot pointer (held only to copy it)
 *   lb->lock   one bundle's deflated-entry reads and text cache */
#include "kiosk/library.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kiosk/catalog.h"
#include "kiosk/mime.h"
#include "kiosk/search.h"
#include "kiosk/verify_cache.h"
#include "sabak/bundle.h"
#include "sabak/core.h"

#define TEXT_MAX_BYTES (32u << 20)        /* a deflated entry answered from memory */
#define TEXT_CACHE_ENTRY_MAX (256u << 10) /* cache deflated entries up to this size ... */
#define TEXT_CACHE_BUDGET (2u << 20)      /* ... within this much memory, whole library */
#define VTT_MAX_BYTES (8u << 20)
#define SCAN_THREADS_MAX 4
#define DEBOUNCE_MS 40       /* gather a burst of inotify events into one rescan */
#define DEBOUNCE_MAX_MS 300  /* but never wait longer than this */
#define CACHE_SAVE_EVERY 16  /* verify results between cache writes */
#define CACHE_NAME ".sabak-cache"

enum { V_PENDING = 0, V_GOOD, V_DONE }; /* V_DONE: failed, or could not be checked */

typedef struct TextEntry {
    struct TextEntry *next;
    char *name;
    char *data;
    size_t len;
} TextEntry;

/* One opened, structurally valid bundle. */
typedef struct LibBundle {
    int refs;
    SbkLibrary *lib;
    SbkBundle *b;
    char *file;                /* base name in the folder */
    SbkVerifyKey key;
    char manifest_sha[SBK_SHA256_HEX];
    char *json;                /* its lesson object */
    size_t json_len;
    SbkSearchDoc *doc;
    int vstate;                /* V_*, atomic */
    char *bad;                 /* why full verification failed (set under scan_lock) */
    pthread_mutex_t lock;
    TextEntry *texts;
} LibBundle;

/* One bundle file in the folder: served (lb) or damaged (reason). */
typedef struct Item {
    char *file;
    SbkVerifyKey key;
    LibBundle *lb;
    char *reason;
} Item;

typedef struct Snapshot {
    int refs;
    uint64_t generation;
    Item *items;           /* sorted by file name */
    size_t n_items;
    LibBundle **by_id;     /* the lessons served, one per id, sorted by id */
    LibBundle **served;    /* the same, sorted by topic, order, id */
    size_t n_served;
    size_t n_damaged;
    char *catalog;
    size_t catalog_len;
} Snapshot;

struct SbkLibrary {
    char *dir;
    char *cache_path;
    pthread_mutex_t scan_lock;
    pthread_mutex_t snap_lock;
    Snapshot *cur;
    uint64_t generation;
    SbkVerifyCache *vcache;
    int vcache_dirty;
    int vcache_warned;
    size_t text_bytes;     /* atomic: memory held by text caches */
    int stop;              /* atomic */
    /* watcher */
    int watch_fd, wake_fd;
    int watching;
    pthread_t watch_thr;
    /* verifier */
    int verifying;
    pthread_t verify_thr;
    pthread_mutex_t vmu;
    pthread_cond_t vcv;
    unsigned vkick;
};

/* ---- bundles ------------------------------------------------------------- */

static LibBundle *lb_ref(LibBundle *lb)
{
    __atomic_add_fetch(&lb->refs, 1, __ATOMIC_RELAXED);
    return lb;
}

static void lb_unref(LibBundle **plb)
{
    LibBundle *lb = *plb;
    *plb = NULL;
    if (!lb || __atomic_sub_fetch(&lb->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    while (lb->texts) {
        TextEntry *t = lb->texts;
        lb->texts = t->next;
        __atomic_sub_fetch(&lb->lib->text_bytes, t->len, __ATOMIC_RELAXED);
        free(t->name);
        free(t->data);
        free(t);
    }
    pthread_mutex_destroy(&lb->lock);
    sbk_bundle_close(&lb->b);
    sbk_search_doc_free(&lb->doc);
    free(lb->file);
    free(lb->json);
    free(lb->bad);
    free(lb);
}

static SbkVerifyKey key_of(const struct stat *st)
{
    return (SbkVerifyKey){.ino = (uint64_t)st->st_ino, .size = (int64_t)st->st_size,
                          .mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec};
}

static int key_eq(const SbkVerifyKey *a, const SbkVerifyKey *b)
{
    return a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

static const char *const index_lang[SBK_LANG_COUNT] = {"ky", "ru", "en"};

/* The (first) subtitles file of a language. */
static const SbkManifestFile *subtitles_for(const SbkManifest *m, const char *lang)
{
    for (int i = 0; i < m->n_files; i++) {
        const SbkManifestFile *f = &m->files[i];
        if (f->kind && strcmp(f->kind, "subtitles") == 0 &&
            strcmp(f->lang ? f->lang : "", lang ? lang : "") == 0)
            return f;
    }
    return NULL;
}

/* Titles, descriptions and subtitle cues of one bundle. */
static int build_index(LibBundle *lb, SbkError *err)
{
    const SbkManifest *m = lb->b->manifest;
    int ret = sbk_search_doc_new(&lb->doc);
    for (int l = 0; ret == 0 && l < SBK_LANG_COUNT; l++)
        if (m->title[l])
            ret = sbk_search_doc_add(lb->doc, SBK_SEARCH_TITLE, index_lang[l], 0, 0, m->title[l],
                                     strlen(m->title[l]));
    for (int l = 0; ret == 0 && l < SBK_LANG_COUNT; l++)
        if (m->description[l])
            ret = sbk_search_doc_add(lb->doc, SBK_SEARCH_DESCRIPTION, index_lang[l], 0, 0,
                                     m->description[l], strlen(m->description[l]));
    if (ret < 0)
        return sbk_err(err, ret, "%s: cannot index the titles: %s", lb->file, sbk_strerror(ret));
    for (int i = 0; i < m->n_files; i++) {
        const SbkManifestFile *f = &m->files[i];
        char *vtt = NULL;
        size_t len = 0;
        if (!f->kind || strcmp(f->kind, "subtitles") != 0 || subtitles_for(m, f->lang) != f)
            continue; /* hits name a cue by language and ordinal: one file per language */
        ret = sbk_bundle_read_entry(lb->b, f->path, VTT_MAX_BYTES, &vtt, &len, err);
        if (ret == 0)
            ret = sbk_search_doc_add_vtt(lb->doc, f->lang ? f->lang : "", vtt, len);
        free(vtt);
        if (ret < 0) {
            if (err && err->code != ret)
                sbk_err(err, ret, "%s: %s: %s", lb->file, f->path, sbk_strerror(ret));
            return ret;
        }
    }
    sbk_search_doc_finish(lb->doc);
    return 0;
}

/* Replace every occurrence of `path` (a path we opened: the bundle's, or
 * "/proc/self/fd/N") in s with the file name. malloc'ed. */
static char *name_reason(const char *s, const char *proc, const char *file)
{
    size_t pl = strlen(proc), fl = strlen(file), n = strlen(s);
    char *out = malloc(n + (n / (pl ? pl : 1) + 1) * fl + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    while (*s) {
        if (strncmp(s, proc, pl) == 0 && !(s[pl] >= '0' && s[pl] <= '9')) {
            memcpy(out + o, file, fl);
            o += fl;
            s += pl;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    return out;
}

/* Open one bundle file into *it: a LibBundle, or a damaged reason. Returns
 * SBK_ENOMEM only; every other failure is a damaged item. */
static int item_load(SbkLibrary *lib, const char *name, const SbkVerifyKey *seen, Item *it)
{
    int ret = 0;
    char *path = NULL, *manifest = NULL;
    size_t mlen = 0;
    LibBundle *lb = NULL;
    SbkError err = {0};
    const char *cached = NULL;
    struct stat st;

    it->key = *seen;
    /* Known bad from an earlier full check: do not even open it. */
    if (sbk_vcache_get(lib->vcache, seen, &cached) == 0) {
        it->reason = strdup(cached);
        return it->reason ? 0 : SBK_ENOMEM;
    }
    path = sbk_path_join(lib->dir, name);
    lb = calloc(1, sizeof *lb);
    if (!path || !lb) {
        free(lb);
        ret = SBK_ENOMEM;
        goto done;
    }
    lb->refs = 1;
    lb->lib = lib;
    pthread_mutex_init(&lb->lock, NULL);
    lb->file = strdup(name);
    if (!lb->file) {
        ret = SBK_ENOMEM;
        goto done;
    }
    ret = sbk_bundle_open(path, &lb->b, &err);
    if (ret < 0)
        goto damaged;
    /* The key of what was opened, not of what readdir saw: if the file was
     * replaced in between, the next event rescans it. */
    if (fstat(lb->b->fd, &st) == 0)
        it->key = key_of(&st);
    lb->key = it->key;
    /* The manifest as sabak serialises it (what the writer stored): a
     * fingerprint of the bundle's content without inflating manifest.json a
     * second time (sbk_bundle_open has read it already). */
    ret = sbk_manifest_to_json(lb->b->manifest, &manifest, &mlen, &err);
    if (ret == SBK_ENOMEM)
        goto done;
    if (ret < 0)
        goto damaged;
    sbk_sha256_hex(manifest, mlen, lb->manifest_sha);
    ret = sbk_catalog_lesson(lb->b->manifest, lb->b->file_size, &lb->json, &lb->json_len);
    if (ret < 0)
        goto done;
    ret = build_index(lb, &err);
    if (ret == SBK_ENOMEM)
        goto done;
    if (ret < 0)
        goto damaged;
    if (sbk_vcache_get(lib->vcache, &lb->key, NULL) == 1)
        lb->vstate = V_GOOD;
    it->lb = lb;
    lb = NULL;
    goto done;
damaged:
    ret = 0;
    if (!err.msg[0])
        snprintf(err.msg, sizeof err.msg, "%s: damaged", name);
    /* Messages name the path we gave; the catalog shows "<file>: why". */
    it->reason = name_reason(err.msg, path, name);
    if (it->reason && !(strncmp(it->reason, name, strlen(name)) == 0 && it->reason[strlen(name)] == ':')) {
        char *r = NULL;
        if (asprintf(&r, "%s: %s", name, it->reason) < 0)
            r = NULL;
        free(it->reason);
        it->reason = r;
    }
    if (!it->reason)
        ret = SBK_ENOMEM;
done:
    lb_unref(&lb);
    free(manifest);
    free(path);
    return ret;
}

/* ---- snapshots ----------------------------------------------------------- */

static void snap_unref(Snapshot **ps)
{
    Snapshot *s = *ps;
    *ps = NULL;
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t i = 0; i < s->n_items; i++) {
        free(s->items[i].file);
        free(s->items[i].reason);
        lb_unref(&s->items[i].lb);
    }
    free(s->items);
    free(s->by_id);
    free(s->served);
    free(s->catalog);
    free(s);
}

static Snapshot *snap_get(SbkLibrary *lib)
{
    pthread_mutex_lock(&lib->snap_lock);
    Snapshot *s = lib->cur;
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&lib->snap_lock);
    return s;
}

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const Item *)a)->file, ((const Item *)b)->file);
}

/* Highest version first; ties: the newest file; then by name, so the
 * choice is the same on every scan. */
static int version_cmp(const void *a, const void *b)
{
    const LibBundle *x = *(LibBundle *const *)a, *y = *(LibBundle *const *)b;
    int r = strcmp(x->b->manifest->id, y->b->manifest->id);
    if (r)
        return r;
    if (x->b->manifest->version != y->b->manifest->version)
        return x->b->manifest->version > y->b->manifest->version ? -1 : 1;
    if (x->key.mtime_ns != y->key.mtime_ns)
        return x->key.mtime_ns > y->key.mtime_ns ? -1 : 1;
    return strcmp(x->file, y->file);
}

static int shelf_cmp(const void *a, const void *b)
{
    const SbkManifest *x = (*(LibBundle *const *)a)->b->manifest;
    const SbkManifest *y = (*(LibBundle *const *)b)->b->manifest;
    int r = strcmp(x->topic ? x->topic : "", y->topic ? y->topic : "");
    if (r)
        return r;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Fill the derived parts of s from its items: which bundle serves each id,
 * the shelf order, the catalog JSON. */
static int snap_finish(Snapshot *s)
{
    int ret = 0;
    const char **lessons = NULL, **dfile = NULL, **dreason = NULL;
    size_t *lens = NULL, nd = 0, ng = 0;
    if (s->n_items)
        qsort(s->items, s->n_items, sizeof *s->items, item_cmp);
    s->by_id = calloc(s->n_items + 1, sizeof *s->by_id);
    s->served = calloc(s->n_items + 1, sizeof *s->served);
    lessons = calloc(s->n_items + 1, sizeof *lessons);
    lens = calloc(s->n_items + 1, sizeof *lens);
    dfile = calloc(s->n_items + 1, sizeof *dfile);
    dreason = calloc(s->n_items + 1, sizeof *dreason);
    if (!s->by_id || !s->served || !lessons || !lens || !dfile || !dreason) {
        ret = SBK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < s->n_items; i++) {
        if (s->items[i].lb) {
            s->by_id[ng++] = s->items[i].lb;
        } else {
            dfile[nd] = s->items[i].file;
            dreason[nd++] = s->items[i].reason;
        }
    }
    qsort(s->by_id, ng, sizeof *s->by_id, version_cmp);
    size_t n = 0;
    for (size_t i = 0; i < ng; i++)
        if (n == 0 || strcmp(s->by_id[n - 1]->b->manifest->id, s->by_id[i]->b->manifest->id) != 0)
            s->by_id[n++] = s->by_id[i];
    s->n_served = n;
    s->n_damaged = nd;
    memcpy(s->served, s->by_id, n * sizeof *s->served);
    qsort(s->served, n, sizeof *s->served, shelf_cmp);
    for (size_t i = 0; i < n; i++) {
        lessons[i] = s->served[i]->json;
        lens[i] = s->served[i]->json_len;
    }
    ret = sbk_catalog_assemble(s->generation, lessons, lens, n, dfile, dreason, nd, &s->catalog,
                               &s->catalog_len);
done:
    free(lessons);
    free(lens);
    free(dfile);
    free(dreason);
    return ret;
}

static int snap_same(const Snapshot *a, const Snapshot *b)
{
    if (!a || !b || a->n_items != b->n_items)
        return 0;
    for (size_t i = 0; i < a->n_items; i++) {
        const Item *x = &a->items[i], *y = &b->items[i];
        if (strcmp(x->file, y->file) != 0 || x->lb != y->lb)
            return 0;
        if ((x->reason == NULL) != (y->reason == NULL) ||
            (x->reason && strcmp(x->reason, y->reason) != 0))
            return 0;
    }
    return 1;
}

static const Item *snap_find_file(const Snapshot *s, const char *file)
{
    if (!s)
        return NULL;
    size_t lo = 0, hi = s->n_items;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(s->items[mid].file, file);
        if (r == 0)
            return &s->items[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static LibBundle *snap_find_id(const Snapshot *s, const char *id)
{
    size_t lo = 0, hi = s->n_served;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(s->by_id[mid]->b->manifest->id, id);
        if (r == 0)
            return s->by_id[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- scanning ------------------------------------------------------------ */

/* Bundles only: "*.zip", not hidden. Temporary names (".x.tmp-*", "*.part",
 * "*~") are hidden or do not end in .zip. */
static int bundle_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && name[0] != '.' && strcasecmp(name + n - 4, ".zip") == 0;
}

typedef struct ScanJob {
    SbkLibrary *lib;
    Item *todo;
    size_t n;
    size_t next;  /* atomic */
    int ret;      /* atomic: first failure */
} ScanJob;

static void *scan_worker(void *arg)
{
    ScanJob *job = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (i >= job->n)
            break;
        Item *it = &job->todo[i];
        int r = item_load(job->lib, it->file, &it->key, it);
        if (r < 0)
            __atomic_store_n(&job->ret, r, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* Open the new files, a few at a time: 1,000 bundles must be ready within a
 * second, and opening is mostly waiting for small reads. */
static int load_items(SbkLibrary *lib, Item *todo, size_t n)
{
    ScanJob job = {.lib = lib, .todo = todo, .n = n};
    pthread_t thr[SCAN_THREADS_MAX];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = (size_t)(cpus > 1 ? cpus : 1);
    if (nt > SCAN_THREADS_MAX)
        nt = SCAN_THREADS_MAX;
    if (nt > (n + 15) / 16)
        nt = (n + 15) / 16;
    size_t started = 0;
    for (size_t i = 1; i < nt; i++)
        if (pthread_create(&thr[started], NULL, scan_worker, &job) == 0)
            started++;
    scan_worker(&job);
    for (size_t i = 0; i < started; i++)
        pthread_join(thr[i], NULL);
    return job.ret;
}

static void verify_kick(SbkLibrary *lib)
{
    pthread_mutex_lock(&lib->vmu);
    lib->vkick++;
    pthread_cond_signal(&lib->vcv);
    pthread_mutex_unlock(&lib->vmu);
}

/* The scan proper; scan_lock held. */
static int rescan_locked(SbkLibrary *lib, SbkError *err)
{
    int ret = 0;
    DIR *d = NULL;
    Snapshot *old = lib->cur ? snap_get(lib) : NULL, *s = NULL;
    Item *todo = NULL;
    size_t n_todo = 0, cap = 0;

    s = calloc(1, sizeof *s);
    if (!s) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    s->refs = 1;
    d = opendir(lib->dir);
    if (!d) {
        ret = sbk_err_errno(err, errno, "%s: cannot read the library folder", lib->dir);
        goto done;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (!bundle_name_ok(de->d_name))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (s->n_items + n_todo + 1 > cap) {
            size_t c = cap ? cap * 2 : 64;
            Item *a = realloc(s->items, c * sizeof *a), *b = a ? realloc(todo, c * sizeof *b) : NULL;
            if (a)
                s->items = a;
            if (!a || !b) {
                ret = sbk_err(err, SBK_ENOMEM, "out of memory");
                goto done;
            }
            todo = b;
            cap = c;
        }
        SbkVerifyKey key = key_of(&st);
        const Item *prev = snap_find_file(old, de->d_name);
        Item it = {.file = strdup(de->d_name), .key = key};
        if (!it.file) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        if (prev && key_eq(&prev->key, &key)) {
            /* Unchanged: reuse, unless full verification has failed since. */
            if (prev->lb && prev->lb->bad)
                it.reason = strdup(prev->lb->bad);
            else if (prev->lb)
                it.lb = lb_ref(prev->lb);
            else
                it.reason = strdup(prev->reason);
            if (!it.lb && !it.reason) {
                free(it.file);
                ret = sbk_err(err, SBK_ENOMEM, "out of memory");
                goto done;
            }
            s->items[s->n_items++] = it;
        } else {
            todo[n_todo++] = it;
        }
    }
    ret = load_items(lib, todo, n_todo);
    for (size_t i = 0; i < n_todo; i++)
        s->items[s->n_items++] = todo[i];
    n_todo = 0;
    if (ret < 0) {
        sbk_err(err, ret, "%s: cannot scan the library: %s", lib->dir, sbk_strerror(ret));
        goto done;
    }
    s->generation = lib->generation + 1;
    ret = snap_finish(s);
    if (ret < 0) {
        sbk_err(err, ret, "out of memory");
        goto done;
    }
    if (old && snap_same(old, s))
        goto done; /* nothing changed: keep the generation */
    lib->generation = s->generation;
    pthread_mutex_lock(&lib->snap_lock);
    Snapshot *prev = lib->cur;
    lib->cur = s;
    pthread_mutex_unlock(&lib->snap_lock);
    s = prev;
    if (__atomic_load_n(&lib->verifying, __ATOMIC_ACQUIRE))
        verify_kick(lib);
done:
    for (size_t i = 0; i < n_todo; i++) {
        free(todo[i].file);
        free(todo[i].reason);
        lb_unref(&todo[i].lb);
    }
    free(todo);
    if (d)
        closedir(d);
    snap_unref(&s);
    snap_unref(&old);
    return ret;
}

int sbk_library_rescan(SbkLibrary *lib, SbkError *err)
{
    pthread_mutex_lock(&lib->scan_lock);
    int ret = rescan_locked(lib, err);
    pthread_mutex_unlock(&lib->scan_lock);
    return ret;
}

/* ---- background verification ------------------------------------------- */

/* Save the verify cache, keeping only the files present; scan_lock held. */
static void cache_save_locked(SbkLibrary *lib)
{
    SbkError err = {0};
    Snapshot *s = snap_get(lib);
    SbkVerifyKey *keep = calloc(s->n_items + 1, sizeof *keep);
    if (keep) {
        for (size_t i = 0; i < s->n_items; i++)
            keep[i] = s->items[i].key;
        if (sbk_vcache_save(lib->vcache, lib->cache_path, keep, s->n_items, &err) == 0) {
            lib->vcache_dirty = 0;
        } else if (!lib->vcache_warned) {
            /* A read-only folder (a USB drive): verify again next start. */
            sbk_log(SBK_LOG_WARN, "verify cache not saved: %s", err.msg);
            lib->vcache_warned = 1;
            lib->vcache_dirty = 0;
        }
    }
    free(keep);
    snap_unref(&s);
}

typedef struct Problems {
    char first[SBK_ERROR_MAX];
    int n;
} Problems;

static void on_problem(void *opaque, const char *line)
{
    Problems *p = opaque;
    if (p->n++ == 0)
        snprintf(p->first, sizeof p->first, "%s", line);
}

/* Hash every entry of one bundle; record the result. */
static void verify_one(SbkLibrary *lib, LibBundle *lb)
{
    char proc[48];
    Problems pr = {{0}, 0};
    /* Check the very inode that is being served, even if the path has been
     * replaced since: through /proc, or by the path when /proc is absent. */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", lb->b->fd);
    const char *path = access(proc, R_OK) == 0 ? proc : lb->b->path;
    int r = sbk_bundle_verify(path, on_problem, &pr);

    pthread_mutex_lock(&lib->scan_lock);
    if (r == 0) {
        __atomic_store_n(&lb->vstate, V_GOOD, __ATOMIC_RELEASE);
        sbk_vcache_put(lib->vcache, &lb->key, 1, NULL);
        lib->vcache_dirty++;
    } else if (r == SBK_ENOMEM) {
        __atomic_store_n(&lb->vstate, V_DONE, __ATOMIC_RELEASE); /* not a verdict: retry next start */
    } else {
        /* "<file>: <first problem> (and N more problems)": problems come
         * without a path; any that quotes one gets the file name instead. */
        char line[SBK_ERROR_MAX + 64];
        snprintf(line, sizeof line, "%s: %s", lb->file, pr.n ? pr.first : sbk_strerror(r));
        if (pr.n > 1)
            snprintf(line + strnlen(line, sizeof line - 40), 40, " (and %d more)", pr.n - 1);
        char *why = name_reason(line, path, lb->file);
        sbk_log(SBK_LOG_WARN, "damaged: %s", why ? why : line);
        if (why) {
            lb->bad = why;
            sbk_vcache_put(lib->vcache, &lb->key, 0, why);
            lib->vcache_dirty++;
        }
        __atomic_store_n(&lb->vstate, V_DONE, __ATOMIC_RELEASE);
        SbkError err = {0};
        if (rescan_locked(lib, &err) < 0)
            sbk_log(SBK_LOG_WARN, "%s", err.msg);
    }
    if (lib->vcache_dirty >= CACHE_SAVE_EVERY)
        cache_save_locked(lib);
    pthread_mutex_unlock(&lib->scan_lock);
}

/* The next bundle not yet verified, referenced; NULL if none. */
static LibBundle *next_unverified(SbkLibrary *lib)
{
    LibBundle *lb = NULL;
    Snapshot *s = snap_get(lib);
    /* Served lessons first: they are what staff are watching. */
    for (size_t i = 0; !lb && i < s->n_served; i++)
        if (__atomic_load_n(&s->served[i]->vstate, __ATOMIC_ACQUIRE) == V_PENDING)
            lb = lb_ref(s->served[i]);
    for (size_t i = 0; !lb && i < s->n_items; i++)
        if (s->items[i].lb && __atomic_load_n(&s->items[i].lb->vstate, __ATOMIC_ACQUIRE) == V_PENDING)
            lb = lb_ref(s->items[i].lb);
    snap_unref(&s);
    return lb;
}

static void *verify_main(void *arg)
{
    SbkLibrary *lib = arg;
    /* Low priority: nice 19 for this thread, and the idle I/O class, so
     * hashing never slows down a video being served. Failures are harmless. */
    pid_t tid = (pid_t)syscall(SYS_gettid);
    (void)setpriority(PRIO_PROCESS, (id_t)tid, 19);
#ifdef SYS_ioprio_set
    (void)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, tid, 3 << 13 /* IOPRIO_CLASS_IDLE */);
#endif
    while (!__atomic_load_n(&lib->stop, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&lib->vmu);
        unsigned seen = lib->vkick;
        pthread_mutex_unlock(&lib->vmu);
        LibBundle *lb = next_unverified(lib);
        if (lb) {
            verify_one(lib, lb);
            lb_unref(&lb);
            continue;
        }
        pthread_mutex_lock(&lib->scan_lock);
        if (lib->vcache_dirty)
            cache_save_locked(lib);
        pthread_mutex_unlock(&lib->scan_lock);
        pthread_mutex_lock(&lib->vmu);
        while (lib->vkick == seen && !__atomic_load_n(&lib->stop, __ATOMIC_ACQUIRE))
            pthread_cond_wait(&lib->vcv, &lib->vmu);
        pthread_mutex_unlock(&lib->vmu);
    }
    return NULL;
}

/* ---- watching ----------------------------------------------------------- */

/* Read what inotify has; 1 if it asks for a rescan. */
static int drain_events(SbkLibrary *lib)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int dirty = 0;
    for (;;) {
        ssize_t n = read(lib->watch_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                dirty = 1; /* events were lost: look at everything */
            else if ((ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM)) &&
                     ev->len && bundle_name_ok(ev->name))
                dirty = 1; /* IN_CREATE alone is a file still being written */
            if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
                sbk_log(SBK_LOG_WARN, "%s: the library folder was moved or removed", lib->dir);
            p += sizeof *ev + ev->len;
        }
    }
    return dirty;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *watch_main(void *arg)
{
    SbkLibrary *lib = arg;
    int dirty = 0;
    int64_t first = 0;
    while (!__atomic_load_n(&lib->stop, __ATOMIC_ACQUIRE)) {
        struct pollfd pfd[2] = {{.fd = lib->watch_fd, .events = POLLIN},
                                {.fd = lib->wake_fd, .events = POLLIN}};
        int timeout = -1;
        if (dirty) {
            int64_t left = first + DEBOUNCE_MAX_MS - now_ms();
            timeout = left < DEBOUNCE_MS ? (int)(left > 0 ? left : 0) : DEBOUNCE_MS;
        }
        int r = poll(pfd, 2, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (pfd[1].revents)
            break;
        if (r > 0 && (pfd[0].revents & POLLIN)) {
            if (drain_events(lib) && !dirty) {
                dirty = 1;
                first = now_ms();
            }
            if (!dirty || now_ms() - first < DEBOUNCE_MAX_MS)
                continue; /* a burst: wait until it is quiet */
        }
        if (dirty) {
            SbkError err = {0};
            dirty = 0;
            if (sbk_library_rescan(lib, &err) < 0)
                sbk_log(SBK_LOG_WARN, "%s", err.msg);
        }
    }
    return NULL;
}

static int watch_start(SbkLibrary *lib, SbkError *err)
{
    lib->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (lib->watch_fd < 0)
        return sbk_err_errno(err, errno, "%s: cannot watch the library folder", lib->dir);
    if (inotify_add_watch(lib->watch_fd, lib->dir,
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_CREATE |
                              IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) < 0)
        return sbk_err_errno(err, errno, "%s: cannot watch the library folder", lib->dir);
    lib->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (lib->wake_fd < 0)
        return sbk_err_errno(err, errno, "eventfd");
    if (pthread_create(&lib->watch_thr, NULL, watch_main, lib) != 0)
        return sbk_err(err, SBK_ENOMEM, "cannot start the library watcher thread");
    lib->watching = 1;
    return 0;
}

/* ---- open / close -------------------------------------------------------- */

int sbk_library_open(SbkLibrary **out, const SbkLibraryOptions *opt, SbkError *err)
{
    int ret = 0;
    SbkLibrary *lib = NULL;
    struct stat st;
    *out = NULL;
    if (!opt || !opt->dir || !opt->dir[0])
        return sbk_err(err, SBK_EINVAL, "no library folder given");
    if (stat(opt->dir, &st) < 0)
        return sbk_err_errno(err, errno, "%s", opt->dir);
    if (!S_ISDIR(st.st_mode))
        return sbk_err(err, SBK_EINVAL, "%s: not a folder", opt->dir);
    lib = calloc(1, sizeof *lib);
    if (!lib)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    lib->watch_fd = lib->wake_fd = -1;
    pthread_mutex_init(&lib->scan_lock, NULL);
    pthread_mutex_init(&lib->snap_lock, NULL);
    pthread_mutex_init(&lib->vmu, NULL);
    pthread_cond_init(&lib->vcv, NULL);
    lib->dir = strdup(opt->dir);
    lib->cache_path = opt->cache_path ? strdup(opt->cache_path) : sbk_path_join(opt->dir, CACHE_NAME);
    if (!lib->dir || !lib->cache_path) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto fail;
    }
    ret = sbk_vcache_load(lib->cache_path, &lib->vcache);
    if (ret < 0) {
        sbk_err(err, ret, "out of memory");
        goto fail;
    }
    ret = sbk_library_rescan(lib, err);
    if (ret < 0)
        goto fail;
    /* Set before any thread exists: the watcher's and verifier's rescans
     * read it to wake the verifier. */
    __atomic_store_n(&lib->verifying, opt->background_verify ? 1 : 0, __ATOMIC_RELEASE);
    if (opt->watch) {
        /* No inotify (a full inotify table, a network file system): serve
         * what is there and rescan on SIGHUP rather than refuse to start. */
        SbkError werr = {0};
        if (watch_start(lib, &werr) < 0) {
            sbk_log(SBK_LOG_WARN, "%s; new bundles appear only after a rescan (SIGHUP)", werr.msg);
            if (lib->watch_fd >= 0)
                close(lib->watch_fd);
            if (lib->wake_fd >= 0)
                close(lib->wake_fd);
            lib->watch_fd = lib->wake_fd = -1;
        }
    }
    if (opt->background_verify) {
        if (pthread_create(&lib->verify_thr, NULL, verify_main, lib) != 0) {
            __atomic_store_n(&lib->verifying, 0, __ATOMIC_RELEASE);
            ret = sbk_err(err, SBK_ENOMEM, "cannot start the verifier thread");
            goto fail;
        }
    }
    *out = lib;
    return 0;
fail:
    sbk_library_close(&lib);
    return ret;
}

void sbk_library_close(SbkLibrary **plib)
{
    if (!plib || !*plib)
        return;
    SbkLibrary *lib = *plib;
    __atomic_store_n(&lib->stop, 1, __ATOMIC_RELEASE);
    if (lib->watching) {
        uint64_t one = 1;
        if (write(lib->wake_fd, &one, sizeof one) < 0) {
            /* the eventfd cannot be full here; nothing else to do */
        }
        pthread_join(lib->watch_thr, NULL);
    }
    if (__atomic_load_n(&lib->verifying, __ATOMIC_ACQUIRE)) {
        verify_kick(lib);
        pthread_join(lib->verify_thr, NULL);
    }
    if (lib->vcache_dirty && lib->cur) {
        pthread_mutex_lock(&lib->scan_lock);
        cache_save_locked(lib);
        pthread_mutex_unlock(&lib->scan_lock);
    }
    if (lib->watch_fd >= 0)
        close(lib->watch_fd);
    if (lib->wake_fd >= 0)
        close(lib->wake_fd);
    snap_unref(&lib->cur);
    sbk_vcache_free(&lib->vcache);
    pthread_cond_destroy(&lib->vcv);
    pthread_mutex_destroy(&lib->vmu);
    pthread_mutex_destroy(&lib->snap_lock);
    pthread_mutex_destroy(&lib->scan_lock);
    free(lib->dir);
    free(lib->cache_path);
    free(lib);
    *plib = NULL;
}

void sbk_library_counts(SbkLibrary *lib, int *lessons, int *damaged)
{
    Snapshot *s = snap_get(lib);
    if (lessons)
        *lessons = (int)s->n_served;
    if (damaged)
        *damaged = (int)s->n_damaged;
    snap_unref(&s);
}

int sbk_library_verify_pending(SbkLibrary *lib)
{
    int n = 0;
    Snapshot *s = snap_get(lib);
    int on = __atomic_load_n(&lib->verifying, __ATOMIC_ACQUIRE);
    for (size_t i = 0; on && i < s->n_items; i++)
        if (s->items[i].lb && __atomic_load_n(&s->items[i].lb->vstate, __ATOMIC_ACQUIRE) == V_PENDING)
            n++;
    snap_unref(&s);
    return n;
}

/* ---- resolving ----------------------------------------------------------- */

void sbk_resolved_clear(SbkResolved *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->data);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

/* A descriptor of the bundle's inode with its own file offset: reopened
 * through /proc, so nothing the caller does to it (MHD, lseek) can disturb
 * another request, and it outlives a rename or unlink of the path. Without
 * /proc, a dup: MHD 0.9.75 reads fd responses only with sendfile and pread
 * at explicit offsets, never the shared file position. */
static int reopen_fd(int fd)
{
    char p[48];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    int nfd = open(p, O_RDONLY | O_CLOEXEC);
    if (nfd < 0)
        nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return nfd;
}

/* The bytes of a deflated entry, from the bundle's text cache or inflated
 * now (and cached if small). *out malloc'ed for the caller. */
static int read_text(LibBundle *lb, const char *entry, char **out, size_t *len)
{
    int ret = 0;
    SbkError err = {0};
    SbkLibrary *lib = lb->lib;
    pthread_mutex_lock(&lb->lock);
    for (TextEntry *t = lb->texts; t; t = t->next) {
        if (strcmp(t->name, entry) == 0) {
            *out = malloc(t->len + 1);
            if (!*out) {
                ret = SBK_ENOMEM;
                goto done;
            }
            memcpy(*out, t->data, t->len);
            (*out)[t->len] = '\0';
            *len = t->len;
            goto done;
        }
    }
    ret = sbk_bundle_read_entry(lb->b, entry, TEXT_MAX_BYTES, out, len, &err);
    if (ret < 0) {
        sbk_log(SBK_LOG_WARN, "%s: %s", lb->file, err.msg);
        goto done;
    }
    if (*len <= TEXT_CACHE_ENTRY_MAX) {
        size_t total = __atomic_add_fetch(&lib->text_bytes, *len, __ATOMIC_RELAXED);
        TextEntry *t = total <= TEXT_CACHE_BUDGET ? calloc(1, sizeof *t) : NULL;
        if (t && (t->name = strdup(entry)) && (t->data = malloc(*len ? *len : 1))) {
            memcpy(t->data, *out, *len);
            t->len = *len;
            t->next = lb->texts;
            lb->texts = t;
        } else {
            /* over budget (or out of memory): serve it without caching */
            if (t)
                free(t->name);
            free(t);
            __atomic_sub_fetch(&lib->text_bytes, *len, __ATOMIC_RELAXED);
        }
    }
done:
    pthread_mutex_unlock(&lb->lock);
    return ret;
}

int sbk_library_resolve_entry(SbkLibrary *lib, const char *id, const char *entry, SbkResolved *out)
{
    int ret = 0;
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (!id || !entry)
        return SBK_ENOENT;
    Snapshot *s = snap_get(lib);
    LibBundle *lb = snap_find_id(s, id);
    const char *sha = NULL;
    if (!lb) {
        ret = SBK_ENOENT;
        goto done;
    }
    char manifest_sha[SBK_SHA256_HEX];
    if (strcmp(entry, SBK_MANIFEST_NAME) == 0) {
        sha = manifest_sha; /* hashed below, from the bytes served */
    } else {
        const SbkManifestFile *f = sbk_manifest_find(lb->b->manifest, entry);
        if (!f) {
            ret = SBK_ENOENT;
            goto done;
        }
        sha = f->sha256;
    }
    const SbkBundleEntry *be = sbk_bundle_find(lb->b, entry);
    if (!be) {
        ret = SBK_ENOENT;
        goto done;
    }
    if (be->stored && be->offset >= 0) {
        out->fd = reopen_fd(lb->b->fd);
        if (out->fd < 0) {
            ret = SBK_EIO;
            goto done;
        }
        out->offset = be->offset;
        out->size = be->size;
        if (sha == manifest_sha &&
            sbk_sha256_fd(out->fd, (off_t)out->offset, out->size, manifest_sha, NULL) < 0) {
            ret = SBK_EIO;
            goto done;
        }
    } else {
        size_t len = 0;
        ret = read_text(lb, entry, &out->data, &len);
        if (ret < 0)
            goto done;
        out->size = (int64_t)len;
        if (sha == manifest_sha)
            sbk_sha256_hex(out->data, len, manifest_sha);
    }
    snprintf(out->etag, sizeof out->etag, "\"%s\"", sha);
    out->mtime = lb->key.mtime_ns / 1000000000;
    out->mime = sbk_mime_for_path(entry);
    snprintf(out->filename, sizeof out->filename, "%s", sbk_path_base(entry));
done:
    if (ret < 0)
        sbk_resolved_clear(out);
    snap_unref(&s);
    return ret;
}

int sbk_library_resolve_bundle(SbkLibrary *lib, const char *id, SbkResolved *out)
{
    int ret = 0;
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (!id)
        return SBK_ENOENT;
    Snapshot *s = snap_get(lib);
    LibBundle *lb = snap_find_id(s, id);
    if (!lb) {
        ret = SBK_ENOENT;
        goto done;
    }
    out->fd = reopen_fd(lb->b->fd);
    if (out->fd < 0) {
        ret = SBK_EIO;
        goto done;
    }
    out->offset = 0;
    out->size = lb->b->file_size;
    /* Stable across restarts and copies: what the bundle holds (the
     * manifest names every file's SHA-256) and how long it is. */
    snprintf(out->etag, sizeof out->etag, "\"%.48s-%lld\"", lb->manifest_sha,
             (long long)lb->b->file_size);
    out->mtime = lb->key.mtime_ns / 1000000000;
    out->mime = sbk_mime_for_path("x.zip");
    snprintf(out->filename, sizeof out->filename, "%s-v%d.zip", lb->b->manifest->id,
             lb->b->manifest->version);
done:
    snap_unref(&s);
    return ret;
}

/* ---- JSON ---------------------------------------------------------------- */

static int copy_out(const char *s, size_t n, char **out, size_t *len)
{
    *out = malloc(n + 1);
    if (!*out)
        return SBK_ENOMEM;
    memcpy(*out, s, n);
    (*out)[n] = '\0';
    if (len)
        *len = n;
    return 0;
}

int sbk_library_catalog_json(SbkLibrary *lib, char **out, size_t *len)
{
    Snapshot *s = snap_get(lib);
    int ret = copy_out(s->catalog, s->catalog_len, out, len);
    snap_unref(&s);
    return ret;
}

int sbk_library_lesson_json(SbkLibrary *lib, const char *id, char **out, size_t *len)
{
    *out = NULL;
    Snapshot *s = snap_get(lib);
    LibBundle *lb = id ? snap_find_id(s, id) : NULL;
    int ret = lb ? copy_out(lb->json, lb->json_len, out, len) : SBK_ENOENT;
    snap_unref(&s);
    return ret;
}

typedef struct Found {
    long score;
    size_t shelf;   /* position in the catalog: ties keep the shelf order */
    SbkSearchHit *hits;
    char **texts;   /* cue texts read back for the hits (owned) */
    int n_hits;
    LibBundle *lb;
} Found;

/* The index keeps cues only folded: read the text of the cues hit back
 * from the bundle's WebVTT (inflated once, then from the text cache). */
static int fill_cue_texts(Found *f)
{
    int ret = 0;
    f->texts = calloc((size_t)f->n_hits + 1, sizeof *f->texts);
    if (!f->texts)
        return SBK_ENOMEM;
    for (int i = 0; i < f->n_hits && ret == 0; i++) {
        if (f->hits[i].cue < 0 || f->texts[i])
            continue;
        /* every hit of this language in one pass over its file */
        const char *lang = f->hits[i].lang;
        int idx[SBK_SEARCH_MAX_HITS], at[SBK_SEARCH_MAX_HITS], n = 0;
        char *got[SBK_SEARCH_MAX_HITS];
        for (int k = i; k < f->n_hits && n < SBK_SEARCH_MAX_HITS; k++)
            if (f->hits[k].cue >= 0 && strcmp(f->hits[k].lang, lang) == 0) {
                idx[n] = f->hits[k].cue;
                at[n++] = k;
            }
        const SbkManifestFile *sf = subtitles_for(f->lb->b->manifest, lang);
        char *vtt = NULL;
        size_t len = 0;
        if (!sf || read_text(f->lb, sf->path, &vtt, &len) < 0)
            continue; /* leave those texts empty rather than fail the search */
        ret = sbk_search_vtt_cues(vtt, len, idx, n, got);
        free(vtt);
        for (int k = 0; ret == 0 && k < n; k++)
            f->texts[at[k]] = got[k];
    }
    for (int i = 0; i < f->n_hits; i++)
        if (f->hits[i].cue >= 0)
            f->hits[i].text = f->texts[i] ? f->texts[i] : "";
    return ret;
}

static int found_cmp(const void *a, const void *b)
{
    const Found *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->shelf < y->shelf ? -1 : x->shelf > y->shelf;
}

int sbk_library_search_json(SbkLibrary *lib, const char *query, const char *lang, int limit,
                            char **out, size_t *len)
{
    int ret = 0;
    SbkSearchQuery q = {0};
    Found *found = NULL;
    SbkCatalogResult *res = NULL;
    size_t nf = 0;
    SbkSearchHit scratch[SBK_SEARCH_MAX_HITS];
    Snapshot *s = snap_get(lib);
    *out = NULL;
    if (limit <= 0)
        limit = 20;
    if (limit > 100)
        limit = 100;
    ret = sbk_search_query_parse(query, &q);
    if (ret < 0)
        goto done;
    found = calloc(s->n_served + 1, sizeof *found);
    res = calloc(s->n_served + 1, sizeof *res);
    if (!found || !res) {
        ret = SBK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; q.n > 0 && i < s->n_served; i++) {
        int nh = 0;
        long score = sbk_search_doc_match(s->served[i]->doc, &q, lang, scratch,
                                          SBK_SEARCH_MAX_HITS, &nh);
        if (score <= 0)
            continue;
        found[nf] = (Found){.score = score, .shelf = i, .n_hits = nh, .lb = s->served[i]};
        found[nf].hits = malloc((size_t)(nh ? nh : 1) * sizeof *scratch);
        if (!found[nf].hits) {
            ret = SBK_ENOMEM;
            goto done;
        }
        memcpy(found[nf].hits, scratch, (size_t)nh * sizeof *scratch);
        nf++;
    }
    qsort(found, nf, sizeof *found, found_cmp);
    size_t n = nf < (size_t)limit ? nf : (size_t)limit;
    for (size_t i = 0; i < n; i++) {
        ret = fill_cue_texts(&found[i]);
        if (ret < 0)
            goto done;
        res[i] = (SbkCatalogResult){.m = found[i].lb->b->manifest, .hits = found[i].hits,
                                    .n_hits = found[i].n_hits};
    }
    /* Hits point into the snapshot's documents: build the JSON before
     * letting the snapshot go. */
    ret = sbk_catalog_search(query ? query : "", res, n, out, len);
done:
    for (size_t i = 0; found && i < nf; i++) {
        for (int k = 0; found[i].texts && k < found[i].n_hits; k++)
            free(found[i].texts[k]);
        free(found[i].texts);
        free(found[i].hits);
    }
    free(found);
    free(res);
    sbk_search_query_clear(&q);
    snap_unref(&s);
    return ret;
}
