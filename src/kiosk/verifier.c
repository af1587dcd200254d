/* src/kiosk/verifier.c - the library's background verifier: one low-priority
 * thread hashes every entry of every bundle (sbk_bundle_verify), served
 * lessons first, and keeps the verdicts in the verify cache (size + mtime +
 * inode) so a restart does not hash again. A bundle that fails is taken out
 * of the catalog by a rescan. */
#include "kiosk/library_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kiosk/library.h"
#include "sabak/core.h"

void sbk_lib_verifier_kick(SbkLibrary *lib)
{
    pthread_mutex_lock(&lib->vmu);
    lib->vkick++;
    pthread_cond_signal(&lib->vcv);
    pthread_mutex_unlock(&lib->vmu);
}

/* ---- background verification ------------------------------------------- */

/* Save the verify cache, keeping only the files present; scan_lock held. */
void sbk_lib_cache_save_locked(SbkLibrary *lib)
{
    SbkError err = {0};
    Snapshot *s = sbk_lib_snap_get(lib);
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
    sbk_lib_snap_unref(&s);
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
        char *why = sbk_lib_name_reason(line, path, lb->file);
        sbk_log(SBK_LOG_WARN, "damaged: %s", why ? why : line);
        if (why) {
            lb->bad = why;
            sbk_vcache_put(lib->vcache, &lb->key, 0, why);
            lib->vcache_dirty++;
        }
        __atomic_store_n(&lb->vstate, V_DONE, __ATOMIC_RELEASE);
        SbkError err = {0};
        if (sbk_lib_rescan_locked(lib, &err) < 0)
            sbk_log(SBK_LOG_WARN, "%s", err.msg);
    }
    if (lib->vcache_dirty >= CACHE_SAVE_EVERY)
        sbk_lib_cache_save_locked(lib);
    pthread_mutex_unlock(&lib->scan_lock);
}

/* The next bundle not yet verified, referenced; NULL if none. */
static LibBundle *next_unverified(SbkLibrary *lib)
{
    LibBundle *lb = NULL;
    Snapshot *s = sbk_lib_snap_get(lib);
    /* Served lessons first: they are what staff are watching. */
    for (size_t i = 0; !lb && i < s->n_served; i++)
        if (__atomic_load_n(&s->served[i]->vstate, __ATOMIC_ACQUIRE) == V_PENDING)
            lb = sbk_lib_bundle_ref(s->served[i]);
    for (size_t i = 0; !lb && i < s->n_items; i++)
        if (s->items[i].lb && __atomic_load_n(&s->items[i].lb->vstate, __ATOMIC_ACQUIRE) == V_PENDING)
            lb = sbk_lib_bundle_ref(s->items[i].lb);
    sbk_lib_snap_unref(&s);
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
            sbk_lib_bundle_unref(&lb);
            continue;
        }
        pthread_mutex_lock(&lib->scan_lock);
        if (lib->vcache_dirty)
            sbk_lib_cache_save_locked(lib);
        pthread_mutex_unlock(&lib->scan_lock);
        pthread_mutex_lock(&lib->vmu);
        while (lib->vkick == seen && !__atomic_load_n(&lib->stop, __ATOMIC_ACQUIRE))
            pthread_cond_wait(&lib->vcv, &lib->vmu);
        pthread_mutex_unlock(&lib->vmu);
    }
    return NULL;
}

int sbk_lib_verifier_start(SbkLibrary *lib)
{
    __atomic_store_n(&lib->verifying, 1, __ATOMIC_RELEASE);
    if (pthread_create(&lib->verify_thr, NULL, verify_main, lib) != 0) {
        __atomic_store_n(&lib->verifying, 0, __ATOMIC_RELEASE);
        return SBK_ENOMEM;
    }
    return 0;
}

void sbk_lib_verifier_stop(SbkLibrary *lib)
{
    if (!__atomic_load_n(&lib->verifying, __ATOMIC_ACQUIRE))
        return;
    sbk_lib_verifier_kick(lib);
    pthread_join(lib->verify_thr, NULL);
}
