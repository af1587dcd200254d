/* src/kiosk/watcher.c - the library's inotify thread: a burst of events
 * in the folder becomes one rescan (debounced), so a bundle copied in appears
 * in the catalog without a signal. */
#include "kiosk/library_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "kiosk/library.h"
#include "sabak/core.h"

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
                     ev->len && sbk_lib_bundle_name_ok(ev->name))
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

int sbk_lib_watcher_start(SbkLibrary *lib, SbkError *err)
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
    lib->watch_fd = lib->wake_fd = -1;
}
