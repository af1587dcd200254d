/* src/kiosk/scan.c - the library's directory scan: readdir, reuse what did
 * not change, open the new bundle files (a few threads), and publish a new
 * snapshot (see library_int.h). */
#include "kiosk/library_int.h"

#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiosk/library.h"
#include "sabak/kiosk.h"
#include "sabak/core.h"

/* Replace every occurrence of `path` (a path we opened: the bundle's, or
 * "/proc/self/fd/N") in s with the file name. malloc'ed. */
char *sbk_lib_name_reason(const char *s, const char *proc, const char *file)
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

/* Who signed lb, and whether the policy lets staff see it: a bad signature
 * is damage in every mode; with require_signature = on, a bundle no trusted
 * key signed is refused with the reason. Returns 0 or SBK_EDAMAGED (err set). */
static int sign_verdict(SbkLibrary *lib, LibBundle *lb, SbkError *err)
{
    SbkSignInfo sig;
    sbk_sign_check_bundle(lib->trust, lb->b, &sig);
    lb->sig_state = sig.state;
    if (sig.state == SBK_SIG_BAD)
        return sbk_err(err, SBK_EDAMAGED, "%s: bad signature: %s", lb->b->path, sig.reason);
    if (lib->sign_policy == SBK_SIGN_POLICY_ON && sig.state == SBK_SIG_UNKNOWN)
        return sbk_err(err, SBK_EDAMAGED, "%s: not shown: signed by an unknown key %s (require_signature = on)",
                       lb->b->path, sig.key_id);
    if (lib->sign_policy == SBK_SIGN_POLICY_ON && sig.state == SBK_SIG_UNSIGNED)
        return sbk_err(err, SBK_EDAMAGED, "%s: not shown: unsigned (require_signature = on)", lb->b->path);
    if (sig.state == SBK_SIG_TRUSTED &&
        (!(lb->sig_publisher = strdup(sig.publisher)) || !(lb->sig_key_id = strdup(sig.key_id))))
        return sbk_err(err, SBK_ENOMEM, "%s: out of memory", lb->b->path);
    return 0;
}

/* The trusted keys, read again: a .pub added or moved out takes effect at
 * the next rescan, which then reloads every bundle. scan_lock held. */
static void trust_reload(SbkLibrary *lib)
{
    SbkTrust *t = NULL;
    SbkError err = {0};
    lib->trust_changed = 0;
    if (!lib->trusted_dir)
        return;
    int r = sbk_trust_load(lib->trusted_dir, &t, NULL, NULL, &err);
    if (r < 0 && r != SBK_ENOENT)
        return; /* unreadable now: keep what was trusted */
    if (strcmp(sbk_trust_digest(t), sbk_trust_digest(lib->trust)) == 0) {
        sbk_trust_free(&t);
        return;
    }
    if (lib->trust || t)
        sbk_log(SBK_LOG_INFO, "trusted keys: %zu in %s", sbk_trust_count(t), lib->trusted_dir);
    sbk_trust_free(&lib->trust);
    lib->trust = t;
    lib->trust_changed = 1;
}

/* One line in the kiosk's log for a damaged bundle, at scan time: the
 * reason names the file ("x.zip: truncated: ..."). A file name may hold
 * any byte but NUL and '/': control bytes are shown as '?', so a name
 * cannot forge log lines. */
static void log_damaged(const char *reason)
{
    char line[512];
    size_t o = 0;
    for (const char *p = reason; *p && o + 1 < sizeof line; p++)
        line[o++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
    line[o] = '\0';
    sbk_log(SBK_LOG_WARN, "damaged: %s", line);
}

/* Open one bundle file into *it: a LibBundle, or a damaged reason. Returns
 * SBK_ENOMEM only; every other failure is a damaged item (logged). */
static int item_load(SbkLibrary *lib, const char *name, const SbkVerifyKey *seen, Item *it)
{
    int ret = 0;
    char *path = NULL;
    LibBundle *lb = NULL;
    SbkError err = {0};
    const char *cached = NULL;
    struct stat st;

    it->key = *seen;
    /* Known bad from an earlier full check: do not even open it. */
    if (sbk_vcache_get(lib->vcache, seen, &cached) == 0) {
        it->reason = strdup(cached);
        if (it->reason)
            log_damaged(it->reason);
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
        it->key = sbk_lib_key_of(&st);
    lb->key = it->key;
    if ((ret = sign_verdict(lib, lb, &err)) < 0)
        goto damaged;
    ret = sbk_lib_index_bundle(lb, &err);
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
    /* A read error (EMFILE, EIO, EACCES, the file gone since readdir) is
     * no verdict: listed with its reason for now, loaded again at the next
     * rescan, which the watcher schedules (watcher.c). */
    it->transient = err.code == SBK_EIO || err.code == SBK_ENOENT;
    if (!err.msg[0])
        snprintf(err.msg, sizeof err.msg, "%s: damaged", name);
    /* Messages name the path we gave; the catalog shows "<file>: why". */
    it->reason = sbk_lib_name_reason(err.msg, path, name);
    if (it->reason && !(strncmp(it->reason, name, strlen(name)) == 0 && it->reason[strlen(name)] == ':')) {
        char *r = NULL;
        if (asprintf(&r, "%s: %s", name, it->reason) < 0)
            r = NULL;
        free(it->reason);
        it->reason = r;
    }
    if (!it->reason)
        ret = SBK_ENOMEM;
    else
        log_damaged(it->reason);
done:
    sbk_lib_bundle_unref(&lb);
    free(path);
    return ret;
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
 * the shelf order. */
static int snap_finish(Snapshot *s)
{
    size_t nd = 0, ng = 0;
    if (s->n_items)
        qsort(s->items, s->n_items, sizeof *s->items, item_cmp);
    s->by_id = calloc(s->n_items + 1, sizeof *s->by_id);
    s->served = calloc(s->n_items + 1, sizeof *s->served);
    if (!s->by_id || !s->served)
        return SBK_ENOMEM;
    for (size_t i = 0; i < s->n_items; i++) {
        if (s->items[i].lb) {
            s->by_id[ng++] = s->items[i].lb;
        } else {
            nd++;
            s->n_transient += s->items[i].transient != 0;
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
    return 0;
}

static int snap_same(const Snapshot *a, const Snapshot *b)
{
    if (!a || !b || a->n_items != b->n_items)
        return 0;
    for (size_t i = 0; i < a->n_items; i++) {
        const Item *x = &a->items[i], *y = &b->items[i];
        if (strcmp(x->file, y->file) != 0 || x->lb != y->lb)
            return 0;
        if (x->transient != y->transient || (x->reason == NULL) != (y->reason == NULL) ||
            (x->reason && strcmp(x->reason, y->reason) != 0))
            return 0;
    }
    return 1;
}

/* ---- scanning ------------------------------------------------------------ */

/* Bundles only: "*.zip", not hidden. Temporary names (".x.tmp-*", "*.part",
 * "*~") are hidden or do not end in .zip. */
int sbk_lib_bundle_name_ok(const char *name)
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

/* The scan proper; scan_lock held. */
int sbk_lib_rescan_locked(SbkLibrary *lib, SbkError *err)
{
    int ret = 0;
    DIR *d = NULL;
    Snapshot *old = lib->cur ? sbk_lib_snap_get(lib) : NULL, *s = NULL;
    Item *todo = NULL;
    size_t n_todo = 0, cap = 0;

    s = calloc(1, sizeof *s);
    if (!s) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto done;
    }
    s->refs = 1;
    trust_reload(lib);
    d = opendir(lib->dir);
    if (!d) {
        ret = sbk_err_errno(err, errno, "%s: cannot read the library folder", lib->dir);
        goto done;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (!sbk_lib_bundle_name_ok(de->d_name))
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
        SbkVerifyKey key = sbk_lib_key_of(&st);
        const Item *prev = sbk_lib_snap_find_file(old, de->d_name);
        Item it = {.file = strdup(de->d_name), .key = key};
        if (!it.file) {
            ret = sbk_err(err, SBK_ENOMEM, "out of memory");
            goto done;
        }
        if (prev && !prev->transient && !lib->trust_changed && sbk_lib_key_eq(&prev->key, &key)) {
            /* Unchanged: reuse, unless full verification has failed since. */
            if (prev->lb && prev->lb->bad)
                it.reason = strdup(prev->lb->bad);
            else if (prev->lb)
                it.lb = sbk_lib_bundle_ref(prev->lb);
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
        sbk_lib_verifier_kick(lib);
    /* Opening bundles (libarchive's buffers, inflated subtitles) leaves
     * free holes in the scan threads' malloc arenas: give them back, or
     * 1,000 bundles cost twice their memory in RSS (tools/bench/catalog). */
    malloc_trim(0);
done:
    for (size_t i = 0; i < n_todo; i++) {
        free(todo[i].file);
        free(todo[i].reason);
        sbk_lib_bundle_unref(&todo[i].lb);
    }
    free(todo);
    if (d)
        closedir(d);
    sbk_lib_snap_unref(&s);
    sbk_lib_snap_unref(&old);
    return ret;
}

int sbk_library_rescan(SbkLibrary *lib, SbkError *err)
{
    pthread_mutex_lock(&lib->scan_lock);
    int ret = sbk_lib_rescan_locked(lib, err);
    pthread_mutex_unlock(&lib->scan_lock);
    return ret;
}
