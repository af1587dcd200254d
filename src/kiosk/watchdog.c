/* src/kiosk/watchdog.c - the slow-reader watchdog (see watchdog.h). */
#include "kiosk/watchdog.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "sabak/core.h"

typedef struct WatchSlot {
    int fd;             /* -1: free */
    int64_t deadline_us;
    const char *why;    /* logged when the deadline passes ... */
    int level;          /* ... at this level */
} WatchSlot;

struct SbkWatch {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    int stop;
    unsigned min_rate;
    WatchSlot *slots;
    size_t n;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int watch_slot(SbkWatch *w, int fd, int64_t seconds, const char *why, int level)
{
    int slot = -1;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n; i++) {
        if (w->slots[i].fd < 0) {
            w->slots[i].fd = fd;
            w->slots[i].deadline_us = now_us() + seconds * 1000000;
            w->slots[i].why = why;
            w->slots[i].level = level;
            slot = (int)i;
            break;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return slot;
}

int sbk_watch_add(SbkWatch *w, int fd, uint64_t body_bytes)
{
    if (!w || !w->min_rate || fd < 0)
        return -1;
    return watch_slot(w, fd, 60 + (int64_t)(body_bytes / w->min_rate),
                      "closed a connection that read too slowly", SBK_LOG_WARN);
}

int sbk_watch_deadline(SbkWatch *w, int fd, unsigned seconds, const char *why)
{
    if (!w || fd < 0 || !seconds)
        return -1;
    /* Debug level: a flood of slow heads must not flood the log. */
    return watch_slot(w, fd, seconds, why, SBK_LOG_DEBUG);
}

void sbk_watch_remove(SbkWatch *w, int slot)
{
    if (!w || slot < 0)
        return;
    pthread_mutex_lock(&w->lock);
    w->slots[slot].fd = -1;
    pthread_mutex_unlock(&w->lock);
}

static void *watch_main(void *arg)
{
    SbkWatch *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
        int64_t now = now_us();
        for (size_t i = 0; i < w->n; i++) {
            if (w->slots[i].fd >= 0 && w->slots[i].deadline_us < now) {
                /* The slot is removed (under this lock) before the server
                 * closes the socket, so the descriptor is still this
                 * connection's. The server sees the error on its next send
                 * and closes it. */
                struct linger lg = {1, 0}; /* and drop what the kernel still holds */
                setsockopt(w->slots[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                shutdown(w->slots[i].fd, SHUT_RDWR);
                sbk_log((SbkLogLevel)w->slots[i].level, "%s", w->slots[i].why);
                w->slots[i].deadline_us = INT64_MAX;
            }
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int sbk_watch_new(SbkWatch **out, unsigned min_rate, size_t slots)
{
    *out = NULL;
    SbkWatch *w = calloc(1, sizeof *w);
    if (!w)
        return SBK_ENOMEM;
    w->min_rate = min_rate;
    w->n = slots;
    w->slots = calloc(w->n ? w->n : 1, sizeof *w->slots);
    if (!w->slots) {
        free(w);
        return SBK_ENOMEM;
    }
    for (size_t i = 0; i < w->n; i++)
        w->slots[i].fd = -1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        free(w->slots);
        free(w);
        return SBK_ENOMEM;
    }
    *out = w;
    return 0;
}

void sbk_watch_free(SbkWatch **pw)
{
    SbkWatch *w = pw ? *pw : NULL;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w->slots);
    free(w);
    *pw = NULL;
}
