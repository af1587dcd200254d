/* src/kiosk/verify_cache.c - the verification cache (see verify_cache.h). */
#include "kiosk/verify_cache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/core.h"

#define CACHE_MAGIC "sabak-verify-cache 2"
#define CACHE_MAGIC_V1 "sabak-verify-cache 1"
#define CACHE_MAX_BYTES (8u << 20)
#define REASON_MAX 1000

typedef struct Entry {
    SbkVerifyKey k;
    int ok;
    char *reason;
} Entry;

struct SbkVerifyCache {
    Entry *e; /* sorted by key */
    size_t n, cap;
};

static int key_cmp(const SbkVerifyKey *a, const SbkVerifyKey *b)
{
    if (a->dev != b->dev)
        return a->dev < b->dev ? -1 : 1;
    if (a->ino != b->ino)
        return a->ino < b->ino ? -1 : 1;
    if (a->size != b->size)
        return a->size < b->size ? -1 : 1;
    if (a->mtime_ns != b->mtime_ns)
        return a->mtime_ns < b->mtime_ns ? -1 : 1;
    if (a->ctime_ns != b->ctime_ns)
        return a->ctime_ns < b->ctime_ns ? -1 : 1;
    return 0;
}

/* Index of k, or of where it would go (*found = 0). */
static size_t find(const SbkVerifyCache *c, const SbkVerifyKey *k, int *found)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = key_cmp(&c->e[mid].k, k);
        if (r == 0) {
            *found = 1;
            return mid;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

int sbk_vcache_get(const SbkVerifyCache *c, const SbkVerifyKey *k, const char **reason)
{
    int found;
    if (!c)
        return -1;
    size_t i = find(c, k, &found);
    if (!found)
        return -1;
    if (reason)
        *reason = c->e[i].reason;
    return c->e[i].ok;
}

int sbk_vcache_put(SbkVerifyCache *c, const SbkVerifyKey *k, int ok, const char *reason)
{
    int found;
    char *r = NULL;
    if (!ok) {
        r = strndup(reason && reason[0] ? reason : "damaged", REASON_MAX);
        if (!r)
            return SBK_ENOMEM;
        for (char *p = r; *p; p++) /* one line per entry */
            if (*p == '\n' || *p == '\r')
                *p = ' ';
    }
    size_t i = find(c, k, &found);
    if (found) {
        free(c->e[i].reason);
        c->e[i].ok = ok;
        c->e[i].reason = r;
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        Entry *e = realloc(c->e, cap * sizeof *e);
        if (!e) {
            free(r);
            return SBK_ENOMEM;
        }
        c->e = e;
        c->cap = cap;
    }
    memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof *c->e);
    c->e[i] = (Entry){.k = *k, .ok = ok, .reason = r};
    c->n++;
    return 0;
}

static void parse_line(SbkVerifyCache *c, char *line)
{
    SbkVerifyKey k;
    char status[8];
    int pos = 0;
    uint64_t dev, ino;
    int64_t size, mtime, ctime;
    if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %7s%n", &dev, &ino,
               &size, &mtime, &ctime, status, &pos) != 6)
        return;
    k = (SbkVerifyKey){.dev = dev, .ino = ino, .size = size, .mtime_ns = mtime, .ctime_ns = ctime};
    if (strcmp(status, "ok") == 0) {
        sbk_vcache_put(c, &k, 1, NULL);
    } else if (strcmp(status, "bad") == 0) {
        const char *reason = line + pos;
        while (*reason == ' ')
            reason++;
        sbk_vcache_put(c, &k, 0, reason);
    }
}

int sbk_vcache_load(const char *path, SbkVerifyCache **out)
{
    char *text = NULL;
    size_t len = 0;
    *out = calloc(1, sizeof **out);
    if (!*out)
        return SBK_ENOMEM;
    if (!path || sbk_read_file(path, CACHE_MAX_BYTES, &text, &len, NULL) < 0)
        return 0; /* no cache yet, or unreadable: verify again */
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    if (line && strcmp(line, CACHE_MAGIC) == 0) {
        while ((line = strtok_r(NULL, "\n", &save)) != NULL)
            parse_line(*out, line);
    } else if (line && strcmp(line, CACHE_MAGIC_V1) != 0) { /* v1: keyed without ctime, dropped */
        sbk_log(SBK_LOG_WARN, "%s: not a sabak verify cache, ignored", path);
    }
    free(text);
    return 0;
}

static int kept(const SbkVerifyKey *k, const SbkVerifyKey *keep, size_t n_keep)
{
    if (!keep)
        return 1;
    for (size_t i = 0; i < n_keep; i++)
        if (key_cmp(k, &keep[i]) == 0)
            return 1;
    return 0;
}

int sbk_vcache_save(const SbkVerifyCache *c, const char *path, const SbkVerifyKey *keep,
                    size_t n_keep, SbkError *err)
{
    int ret = 0;
    size_t cap = 64, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    len = (size_t)snprintf(buf, cap, "%s\n", CACHE_MAGIC);
    for (size_t i = 0; i < c->n; i++) {
        const Entry *e = &c->e[i];
        if (!kept(&e->k, keep, n_keep))
            continue;
        size_t need = 128 + (e->reason ? strlen(e->reason) : 0);
        if (len + need > cap) {
            while (len + need > cap)
                cap *= 2;
            char *p = realloc(buf, cap);
            if (!p) {
                ret = sbk_err(err, SBK_ENOMEM, "out of memory");
                goto done;
            }
            buf = p;
        }
        len += (size_t)snprintf(buf + len, cap - len,
                                "%" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %s%s%s\n",
                                e->k.dev, e->k.ino, e->k.size, e->k.mtime_ns, e->k.ctime_ns,
                                e->ok ? "ok" : "bad",
                                e->ok ? "" : " ", e->ok ? "" : e->reason);
    }
    ret = sbk_atomic_write_file(path, buf, len, err);
done:
    free(buf);
    return ret;
}

size_t sbk_vcache_count(const SbkVerifyCache *c) { return c ? c->n : 0; }

void sbk_vcache_free(SbkVerifyCache **pc)
{
    if (!pc || !*pc)
        return;
    SbkVerifyCache *c = *pc;
    for (size_t i = 0; i < c->n; i++)
        free(c->e[i].reason);
    free(c->e);
    free(c);
    *pc = NULL;
}
