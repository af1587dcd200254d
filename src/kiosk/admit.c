/* src/kiosk/admit.c - connection admission and the request-head deadline
 * (see admit.h). */
#include "kiosk/admit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"

typedef struct Peer {
    unsigned char key[17]; /* family byte + up to 16 address bytes */
    unsigned count;        /* 0: free */
} Peer;

struct SbkAdmit {
    pthread_mutex_t lock;
    unsigned limit, reserve, total;
    Peer *peers;           /* one per possible connection; linear scan */
    size_t n_peers;
    SbkWatch *watch;
    unsigned header_timeout;
};

struct SbkAdmitConn {
    SbkAdmit *a;
    int fd;
    int slot;              /* watchdog slot of the head deadline, -1: none */
    unsigned char key[17];
};

static int peer_key(const struct sockaddr *addr, unsigned char key[17])
{
    memset(key, 0, 17);
    if (!addr)
        return -1;
    if (addr->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)(const void *)addr)->sin_addr, 4);
        return 0;
    }
    if (addr->sa_family == AF_INET6) {
        key[0] = 6;
        memcpy(key + 1, &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

static Peer *find_peer(SbkAdmit *a, const unsigned char key[17], int create)
{
    Peer *free_slot = NULL;
    for (size_t i = 0; i < a->n_peers; i++) {
        Peer *p = &a->peers[i];
        if (p->count && memcmp(p->key, key, 17) == 0)
            return p;
        if (!p->count && !free_slot)
            free_slot = p;
    }
    if (create && free_slot)
        memcpy(free_slot->key, key, 17);
    return create ? free_slot : NULL;
}

int sbk_admit_new(SbkAdmit **out, unsigned limit, unsigned reserve, SbkWatch *watch,
                  unsigned header_timeout)
{
    *out = NULL;
    SbkAdmit *a = calloc(1, sizeof *a);
    if (!a)
        return SBK_ENOMEM;
    a->limit = limit ? limit : 1;
    a->reserve = reserve < a->limit ? reserve : a->limit - 1;
    a->n_peers = a->limit + 1;
    a->peers = calloc(a->n_peers, sizeof *a->peers);
    if (!a->peers) {
        free(a);
        return SBK_ENOMEM;
    }
    a->watch = watch;
    a->header_timeout = header_timeout;
    pthread_mutex_init(&a->lock, NULL);
    *out = a;
    return 0;
}

void sbk_admit_free(SbkAdmit **pa)
{
    SbkAdmit *a = pa ? *pa : NULL;
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    free(a->peers);
    free(a);
    *pa = NULL;
}

int sbk_admit_check(SbkAdmit *a, const struct sockaddr *addr, socklen_t len)
{
    unsigned char key[17];
    (void)len;
    if (!a || peer_key(addr, key) < 0)
        return 1;
    int ok = 1;
    pthread_mutex_lock(&a->lock);
    /* In the reserve, only an address that holds nothing yet gets in. */
    if (a->total + a->reserve >= a->limit && find_peer(a, key, 0))
        ok = 0;
    pthread_mutex_unlock(&a->lock);
    return ok;
}

static void start_deadline(SbkAdmitConn *c)
{
    SbkAdmit *a = c->a;
    if (c->slot < 0 && a->watch && a->header_timeout && c->fd >= 0)
        c->slot = sbk_watch_deadline(a->watch, c->fd, a->header_timeout,
                                     "closed a connection that did not send its request in time");
}

SbkAdmitConn *sbk_admit_opened(SbkAdmit *a, int fd, const struct sockaddr *addr)
{
    if (!a)
        return NULL;
    SbkAdmitConn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->a = a;
    c->fd = fd;
    c->slot = -1;
    if (peer_key(addr, c->key) == 0) {
        pthread_mutex_lock(&a->lock);
        Peer *p = find_peer(a, c->key, 1);
        if (p)
            p->count++;
        else
            c->key[0] = 0; /* not counted (cannot happen: one peer per slot) */
        a->total++;
        pthread_mutex_unlock(&a->lock);
    } else {
        pthread_mutex_lock(&a->lock);
        a->total++;
        pthread_mutex_unlock(&a->lock);
    }
    start_deadline(c);
    return c;
}

void sbk_admit_head_done(SbkAdmitConn *c)
{
    if (!c || c->slot < 0)
        return;
    sbk_watch_remove(c->a->watch, c->slot);
    c->slot = -1;
}

void sbk_admit_rearm(SbkAdmitConn *c)
{
    if (c)
        start_deadline(c);
}

void sbk_admit_closed(SbkAdmitConn *c)
{
    if (!c)
        return;
    SbkAdmit *a = c->a;
    sbk_admit_head_done(c);
    pthread_mutex_lock(&a->lock);
    if (c->key[0]) {
        Peer *p = find_peer(a, c->key, 0);
        if (p && p->count)
            p->count--;
    }
    if (a->total)
        a->total--;
    pthread_mutex_unlock(&a->lock);
    free(c);
}
