/* src/kiosk/watcher.c - the library's watcher thread: a burst of inotify
 * events in the folder becomes one rescan (debounced), so a bundle copied in
 * appears in the catalog without a signal.
 *
 * It does not rely on inotify alone:
 *  - the folder moved away or removed (IN_MOVE_SELF, IN_DELETE_SELF,
 *    IN_IGNORED) drops the watch: it is added again on the folder's path
 *    every REARM_MS until that works (a folder created again), then rescans;
 *  - a rescan that fails, or that leaves an unreadable bundle file (EMFILE,
 *    EIO: Item.transient), is tried again after RESCAN_RETRY_MS, doubling;
 *  - and every RESCAN_PERIOD_MS it rescans anyway (a network file system,
 *    a full inotify table, or a lost event cost at most that long). A rescan
 *    that finds nothing changed is readdir and one stat a file. */
#include "kiosk/library_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "kiosk/library.h"
#include "sabak/core.h"

#define WATCH_MASK                                                                                 \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_CREATE | IN_DELETE_SELF |      \
     IN_MOVE_SELF | IN_ONLYDIR)

/* Watch the folder's path (again); 0 or -1. */
static int arm(SbkLibrary *lib)
{
    if (lib->watch_fd < 0)
        return -1;
    lib->watch_wd = inotify_add_watch(lib->watch_fd, lib->dir, WATCH_MASK);
    return lib->watch_wd < 0 ? -1 : 0;
}

/* Read what inotify has; 1 if it asks for a rescan. *lost: the watch is
 * gone (the folder was moved or removed). */
static int drain_events(SbkLibrary *lib, int *lost)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int dirty = 0;
    for (;;) {
        ssize_t n = read(lib->watch_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                dirty = 1; /* events were lost: look at everything */
                continue;
            }
            if (ev->wd != lib->watch_wd)
                continue; /* a watch dropped earlier */
            if ((ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM)) &&
                ev->len && sbk_lib_bundle_name_ok(ev->name))
                dirty = 1; /* IN_CREATE alone is a file still being written */
            if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                sbk_log(SBK_LOG_WARN, "%s: the library folder was moved or removed; watching for it",
                        lib->dir);
                if (ev->mask & IN_MOVE_SELF) /* the watch follows the moved folder: drop it */
                    inotify_rm_watch(lib->watch_fd, lib->watch_wd);
                lib->watch_wd = -1;
                *lost = 1;
                dirty = 1;
            }
        }
    }
    return dirty;
}

/* Does the current snapshot hold a file that could not be read? */
static int has_transient(SbkLibrary *lib)
{
    Snapshot *s = sbk_lib_snap_get(lib);
    int r = s->n_transient > 0;
    sbk_lib_snap_unref(&s);
    return r;
}

static void earliest(int64_t *t, int64_t at)
{
    if (at >= 0 && (*t < 0 || at < *t))
        *t = at;
}

typedef struct WatchState {
    int dirty;           /* events seen, rescan once quiet */
    int64_t first;       /* the first event of the burst */
    int lost;            /* no watch: re-arm at rearm_at */
    int64_t rearm_at;
    int64_t retry_at;    /* a rescan to try again, or -1 */
    int tries;
    int64_t periodic_at;
} WatchState;

/* Rescan now; schedule the retry and the next periodic rescan. */
static void rescan(SbkLibrary *lib, WatchState *w, int64_t now)
{
    SbkError err = {0};
    int failed = sbk_library_rescan(lib, &err) < 0;
    if (failed && w->tries == 0)
        sbk_log(SBK_LOG_WARN, "%s; will try again", err.msg);
    w->dirty = 0;
    w->periodic_at = now + lib->rescan_period_ms;
    if (failed || has_transient(lib)) {
        int shift = w->tries < 16 ? w->tries : 16;
        int64_t delay = (int64_t)RESCAN_RETRY_MS << shift;
        w->retry_at = now + (delay < lib->rescan_period_ms ? delay : lib->rescan_period_ms);
        w->tries++;
    } else {
        w->retry_at = -1;
        w->tries = 0;
    }
}

static void *watch_main(void *arg)
{
    SbkLibrary *lib = arg;
    WatchState w = {.retry_at = -1, .lost = lib->watch_wd < 0};
    int64_t now = sbk_lib_now_ms();
    w.periodic_at = now + lib->rescan_period_ms;
    w.rearm_at = now + REARM_MS;
    if (has_transient(lib))
        w.retry_at = now + RESCAN_RETRY_MS;
    while (!__atomic_load_n(&lib->stop, __ATOMIC_ACQUIRE)) {
        struct pollfd pfd[2] = {{.fd = lib->wake_fd, .events = POLLIN},
                                {.fd = lib->watch_fd, .events = POLLIN}};
        int64_t t = w.periodic_at;
        earliest(&t, w.retry_at);
        if (w.lost && lib->watch_fd >= 0)
            earliest(&t, w.rearm_at);
        if (w.dirty) {
            int64_t quiet = now + DEBOUNCE_MS, cap = w.first + DEBOUNCE_MAX_MS;
            earliest(&t, quiet < cap ? quiet : cap);
        }
        int64_t left = t - sbk_lib_now_ms();
        int r = poll(pfd, lib->watch_fd >= 0 ? 2 : 1, left > 0 ? (int)left : 0);
        if (r < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            break;
        now = sbk_lib_now_ms();
        if (r > 0 && (pfd[1].revents & POLLIN)) {
            int was = w.dirty;
            if (drain_events(lib, &w.lost) && !was) {
                w.dirty = 1;
                w.first = now;
            }
            if (w.dirty && now - w.first < DEBOUNCE_MAX_MS && !w.lost)
                continue; /* a burst: wait until it is quiet */
        }
        if (w.lost && lib->watch_fd >= 0 && now >= w.rearm_at) {
            if (arm(lib) == 0) {
                sbk_log(SBK_LOG_INFO, "%s: watching the library folder again", lib->dir);
                w.lost = 0;
                rescan(lib, &w, now); /* what was copied in before the watch */
                continue;
            }
            w.rearm_at = now + REARM_MS;
        }
        if ((w.dirty && now - w.first >= DEBOUNCE_MS) || now >= w.periodic_at ||
            (w.retry_at >= 0 && now >= w.retry_at))
            rescan(lib, &w, now);
    }
    return NULL;
}

int sbk_lib_watcher_start(SbkLibrary *lib, SbkError *err)
{
    int ret = 0;
    lib->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (lib->wake_fd < 0)
        return sbk_err_errno(err, errno, "eventfd");
    /* Without inotify (a full inotify table, a network file system) the
     * thread still rescans now and then: say so, but do not fail. */
    lib->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (lib->watch_fd < 0 || arm(lib) < 0)
        ret = sbk_err_errno(err, errno, "%s: cannot watch the library folder", lib->dir);
    if (pthread_create(&lib->watch_thr, NULL, watch_main, lib) != 0)
        return sbk_err(err, SBK_ENOMEM, "cannot start the library watcher thread");
    lib->watching = 1;
    return ret;
}

void sbk_lib_watcher_stop(SbkLibrary *lib)
{
    if (lib->watching) {
        uint64_t one = 1;
        if (write(lib->wake_fd, &one, sizeof one) < 0) {
            /* the eventfd cannot be full here; nothing else to do */
        }
        pthread_join(lib->watch_thr, NULL);
        lib->watching = 0;
    }
    if (lib->watch_fd >= 0)
        close(lib->watch_fd);
    if (lib->wake_fd >= 0)
        close(lib->wake_fd);
    lib->watch_fd = lib->wake_fd = lib->watch_wd = -1;
}
