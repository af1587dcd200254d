/* src/kiosk/library.c - the kiosk's catalog of bundles (see library.h):
 * bundle references, snapshots, open/close and resolve. The scan, the
 * verifier, the watcher, the JSON and the search live beside it; the shape
 * and the lock order are described in library_int.h. */
#include "kiosk/library_int.h"

#include "kiosk/library.h"
#include "kiosk/search.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiosk/catalog.h"
#include "kiosk/library.h"
#include "kiosk/search.h"
#include "sabak/core.h"
#include "sabak/kiosk.h"
#include "sabak/lang.h"

/* ---- bundles ------------------------------------------------------------- */

LibBundle *sbk_lib_bundle_ref(LibBundle *lb)
{
    __atomic_add_fetch(&lb->refs, 1, __ATOMIC_RELAXED);
    return lb;
}

void sbk_lib_bundle_unref(LibBundle **plb)
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
    __atomic_sub_fetch(&lb->lib->index_bytes, lb->doc_bytes, __ATOMIC_RELAXED);
    sbk_bundle_close(&lb->b);
    sbk_search_doc_free(&lb->doc);
    free(lb->file);
    free(lb->bad);
    free(lb->sig_publisher);
    free(lb->sig_key_id);
    free(lb);
}

/* ---- snapshots ----------------------------------------------------------- */

void sbk_lib_snap_unref(Snapshot **ps)
{
    Snapshot *s = *ps;
    *ps = NULL;
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t i = 0; i < s->n_items; i++) {
        free(s->items[i].file);
        free(s->items[i].reason);
        sbk_lib_bundle_unref(&s->items[i].lb);
    }
    free(s->items);
    free(s->by_id);
    free(s->served);
    free(s);
}

Snapshot *sbk_lib_snap_get(SbkLibrary *lib)
{
    pthread_mutex_lock(&lib->snap_lock);
    Snapshot *s = lib->cur;
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&lib->snap_lock);
    return s;
}

const Item *sbk_lib_snap_find_file(const Snapshot *s, const char *file)
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

LibBundle *sbk_lib_snap_find_id(const Snapshot *s, const char *id)
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
    lib->watch_fd = lib->wake_fd = lib->watch_wd = -1;
    lib->vretry_ms = VERIFY_RETRY_MS;
    lib->rescan_period_ms = RESCAN_PERIOD_MS;
    lib->index_budget = INDEX_TOTAL_MAX_BYTES;
    pthread_mutex_init(&lib->scan_lock, NULL);
    pthread_mutex_init(&lib->snap_lock, NULL);
    pthread_mutex_init(&lib->vmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* retry deadlines ignore clock changes */
    pthread_cond_init(&lib->vcv, &ca);
    pthread_condattr_destroy(&ca);
    lib->sign_policy = opt->sign_policy;
    if (opt->trusted_dir && !(lib->trusted_dir = strdup(opt->trusted_dir))) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto fail;
    }
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
        if (sbk_lib_watcher_start(lib, &werr) < 0) {
            if (lib->watching)
                sbk_log(SBK_LOG_WARN, "%s; new bundles appear within %d s, or at once on SIGHUP",
                        werr.msg, lib->rescan_period_ms / 1000);
            else
                sbk_log(SBK_LOG_WARN, "%s; new bundles appear only after a rescan (SIGHUP)", werr.msg);
            if (!lib->watching)
                sbk_lib_watcher_stop(lib);
        }
    }
    if (opt->background_verify && sbk_lib_verifier_start(lib) < 0) {
        ret = sbk_err(err, SBK_ENOMEM, "cannot start the verifier thread");
        goto fail;
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
    sbk_lib_watcher_stop(lib);
    sbk_lib_verifier_stop(lib);
    if (lib->vcache_dirty && lib->cur) {
        pthread_mutex_lock(&lib->scan_lock);
        sbk_lib_cache_save_locked(lib);
        pthread_mutex_unlock(&lib->scan_lock);
    }
    sbk_lib_snap_unref(&lib->cur);
    sbk_vcache_free(&lib->vcache);
    pthread_cond_destroy(&lib->vcv);
    pthread_mutex_destroy(&lib->vmu);
    pthread_mutex_destroy(&lib->snap_lock);
    pthread_mutex_destroy(&lib->scan_lock);
    free(lib->dir);
    free(lib->cache_path);
    free(lib->trusted_dir);
    sbk_trust_free(&lib->trust);
    free(lib);
    *plib = NULL;
}

void sbk_library_counts(SbkLibrary *lib, int *lessons, int *damaged)
{
    Snapshot *s = sbk_lib_snap_get(lib);
    if (lessons)
        *lessons = (int)s->n_served;
    if (damaged)
        *damaged = (int)s->n_damaged;
    sbk_lib_snap_unref(&s);
}

int sbk_library_verify_pending(SbkLibrary *lib)
{
    int n = 0;
    Snapshot *s = sbk_lib_snap_get(lib);
    int on = __atomic_load_n(&lib->verifying, __ATOMIC_ACQUIRE);
    for (size_t i = 0; on && i < s->n_items; i++)
        if (s->items[i].lb && __atomic_load_n(&s->items[i].lb->vstate, __ATOMIC_ACQUIRE) == V_PENDING)
            n++;
    sbk_lib_snap_unref(&s);
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
int sbk_lib_read_text(LibBundle *lb, const char *entry, char **out, size_t *len)
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
    Snapshot *s = sbk_lib_snap_get(lib);
    LibBundle *lb = sbk_lib_snap_find_id(s, id);
    const char *sha = NULL;
    if (!lb) {
        ret = SBK_ENOENT;
        goto done;
    }
    if (strcmp(entry, SBK_MANIFEST_NAME) == 0) {
        sha = lb->b->manifest_sha256; /* hashed once, when the bundle was opened */
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
    } else if (be->size > (int64_t)TEXT_CACHE_ENTRY_MAX && be->data_offset >= 0) {
        /* Large deflated entries stream (http.c inflates them as they are
         * sent, with a bounded buffer): never whole in memory, no lock. */
        out->fd = reopen_fd(lb->b->fd);
        if (out->fd < 0) {
            ret = SBK_EIO;
            goto done;
        }
        out->deflated = 1;
        out->offset = be->data_offset;
        out->csize = be->csize;
        out->size = be->size;
        out->crc32 = be->crc32;
    } else {
        size_t len = 0;
        ret = sbk_lib_read_text(lb, entry, &out->data, &len);
        if (ret < 0)
            goto done;
        out->size = (int64_t)len;
    }
    snprintf(out->sha256, sizeof out->sha256, "%s", sha);
    out->mtime = lb->key.mtime_ns / 1000000000;
    snprintf(out->name, sizeof out->name, "%s", sbk_path_base(entry));
done:
    if (ret < 0)
        sbk_resolved_clear(out);
    sbk_lib_snap_unref(&s);
    return ret;
}

int sbk_library_resolve_bundle(SbkLibrary *lib, const char *id, SbkResolved *out)
{
    int ret = 0;
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (!id)
        return SBK_ENOENT;
    Snapshot *s = sbk_lib_snap_get(lib);
    LibBundle *lb = sbk_lib_snap_find_id(s, id);
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
    snprintf(out->sha256, sizeof out->sha256, "%s", lb->b->manifest_sha256);
    out->mtime = lb->key.mtime_ns / 1000000000;
    snprintf(out->name, sizeof out->name, "%s-v%d.zip", lb->b->manifest->id,
             lb->b->manifest->version);
done:
    sbk_lib_snap_unref(&s);
    return ret;
}

/* ---- JSON (built by catalog.c from the manifests, when asked) ------------- */

/* The signature fields of lb's card and details, under the library's policy. */
static SbkCatalogSign catalog_sign(const SbkLibrary *lib, const LibBundle *lb)
{
    int trusted = lb->sig_state == SBK_SIG_TRUSTED;
    return (SbkCatalogSign){
        .state = sbk_sign_state_name(lb->sig_state),
        .publisher = trusted ? lb->sig_publisher : NULL,
        .key_id = trusted ? lb->sig_key_id : NULL,
        .unverified = lib->sign_policy == SBK_SIGN_POLICY_WARN && !trusted,
    };
}

void sbk_lib_trim(int now)
{
    static int64_t last_ms; /* atomic */
    int64_t t = sbk_lib_now_ms(), was = __atomic_load_n(&last_ms, __ATOMIC_RELAXED);
    if (!now && t - was < TRIM_EVERY_MS)
        return;
    if (!__atomic_compare_exchange_n(&last_ms, &was, t, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return; /* another thread trims now */
    malloc_trim(0);
}

int sbk_library_catalog_json(SbkLibrary *lib, const char *lang, char **out, size_t *len)
{
    int ret = 0;
    *out = NULL;
    Snapshot *s = sbk_lib_snap_get(lib);
    const SbkManifest **m = calloc(s->n_served + 1, sizeof *m);
    SbkCatalogSign *sigs = calloc(s->n_served + 1, sizeof *sigs);
    const char **dfile = calloc(s->n_damaged + 1, sizeof *dfile);
    const char **dreason = calloc(s->n_damaged + 1, sizeof *dreason);
    size_t nd = 0;
    if (!m || !sigs || !dfile || !dreason) {
        ret = SBK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < s->n_served; i++) {
        m[i] = s->served[i]->b->manifest;
        sigs[i] = catalog_sign(lib, s->served[i]);
    }
    for (size_t i = 0; i < s->n_items && nd < s->n_damaged; i++)
        if (!s->items[i].lb) {
            dfile[nd] = s->items[i].file;
            dreason[nd++] = s->items[i].reason;
        }
    ret = sbk_catalog_cards(s->generation, m, sigs, s->n_served, lang ? sbk_lang_index(lang) : -1, dfile,
                            dreason, nd, out, len);
done:
    free(m);
    free(sigs);
    free(dfile);
    free(dreason);
    sbk_lib_snap_unref(&s);
    sbk_lib_trim(1);
    return ret;
}

int sbk_library_lesson_json(SbkLibrary *lib, const char *id, char **out, size_t *len)
{
    *out = NULL;
    Snapshot *s = sbk_lib_snap_get(lib);
    LibBundle *lb = id ? sbk_lib_snap_find_id(s, id) : NULL;
    SbkCatalogSign sig = lb ? catalog_sign(lib, lb) : (SbkCatalogSign){0};
    int ret = lb ? sbk_catalog_lesson(lb->b->manifest, lb->b->file_size, &sig, out, len) : SBK_ENOENT;
    sbk_lib_snap_unref(&s);
    return ret;
}
