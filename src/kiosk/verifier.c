/* src/kiosk/verifier.c - the library's background verifier: one low-priority
 * thread hashes every entry of every bundle (sbk_bundle_verify_ex), served
 * lessons first, and keeps the verdicts in the verify cache (see
 * verify_cache.h for the key) so a restart does not hash again. A bundle
 * that fails is taken out of the catalog by a rescan.
 *
 * Only damage is a verdict. A bundle that cannot be opened or read right
 * now (EMFILE, ENFILE, EIO, EACCES) stays served and pending, and is tried
 * again after a back-off (VERIFY_RETRY_MS, doubling); nothing is cached for
 * it. Closing the library stops a verification within one 64 KiB block. */
#include "kiosk/library_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
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

/* No verdict (the file could not be read now): leave it served and
 * pending, and try again after a back-off. Verifier thread only. */
static void retry_later(SbkLibrary *lib, LibBundle *lb, const char *why)
{
    int shift = lb->vtries < 16 ? lb->vtries : 16;
    int64_t delay = (int64_t)lib->vretry_ms << shift;
    if (delay > VERIFY_RETRY_MAX_MS)
        delay = VERIFY_RETRY_MAX_MS;
    if (lb->vtries++ == 0) /* once per bundle: a shortage hits them all */
        sbk_log(SBK_LOG_WARN, "%s: cannot verify now (%s); will try again", lb->file, why);
    lb->vnext_ms = sbk_lib_now_ms() + delay;
    __atomic_add_fetch(&lib->vretries, 1, __ATOMIC_RELEASE);
}

/* Hash every entry of one bundle; record the result. */
static void verify_one(SbkLibrary *lib, LibBundle *lb)
{
    char proc[48];
    Problems pr = {{0}, 0};
    /* Check the very inode that is being served, even if the path has been
     * replaced since: through /proc, or by the path when /proc is absent. */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", lb->b->fd);
    const char *path = access(proc, F_OK) == 0 ? proc : lb->b->path;
    int r = sbk_bundle_verify_ex(path, on_problem, &pr, &lib->stop);
    if (r == SBK_ECANCELED)
        return; /* closing: still pending, nothing learnt */
    if (r != 0 && r != SBK_EDAMAGED) {
        retry_later(lib, lb, pr.n ? pr.first : sbk_strerror(r));
        return;
    }

    pthread_mutex_lock(&lib->scan_lock);
    if (r == 0) {
        __atomic_store_n(&lb->vstate, V_GOOD, __ATOMIC_RELEASE);
        sbk_vcache_put(lib->vcache, &lb->key, 1, NULL);
        lib->vcache_dirty++;
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

/* 1 if lb is pending and due now; else lowers *wake to when it is due. */
static int due(const LibBundle *lb, int64_t now, int64_t *wake)
{
    if (__atomic_load_n(&lb->vstate, __ATOMIC_ACQUIRE) != V_PENDING)
        return 0;
    if (lb->vnext_ms <= now)
        return 1;
    if (*wake < 0 || lb->vnext_ms < *wake)
        *wake = lb->vnext_ms;
    return 0;
}

/* The next bundle due for verification, referenced; NULL if none, with
 * *wake the earliest retry (monotonic ms) or -1. */
static LibBundle *next_unverified(SbkLibrary *lib, int64_t *wake)
{
    LibBundle *lb = NULL;
    int64_t now = sbk_lib_now_ms();
    Snapshot *s = sbk_lib_snap_get(lib);
    *wake = -1;
    /* Served lessons first: they are what staff are watching. */
    for (size_t i = 0; !lb && i < s->n_served; i++)
        if (due(s->served[i], now, wake))
            lb = sbk_lib_bundle_ref(s->served[i]);
    for (size_t i = 0; !lb && i < s->n_items; i++)
        if (s->items[i].lb && due(s->items[i].lb, now, wake))
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
        int64_t wake = -1;
        LibBundle *lb = next_unverified(lib, &wake);
        if (lb) {
            verify_one(lib, lb);
            sbk_lib_bundle_unref(&lb);
            continue;
        }
        pthread_mutex_lock(&lib->scan_lock);
        if (lib->vcache_dirty)
            sbk_lib_cache_save_locked(lib);
        pthread_mutex_unlock(&lib->scan_lock);
        struct timespec until = {(time_t)(wake / 1000), (long)(wake % 1000) * 1000000};
        pthread_mutex_lock(&lib->vmu);
        while (lib->vkick == seen && !__atomic_load_n(&lib->stop, __ATOMIC_ACQUIRE)) {
            if (wake < 0)
                pthread_cond_wait(&lib->vcv, &lib->vmu);
            else if (pthread_cond_timedwait(&lib->vcv, &lib->vmu, &until) != 0)
                break; /* a retry is due */
        }
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
