/* src/kiosk/drives.c - USB drives: a thread polls /proc/self/mountinfo,
 * looks at the mounts under the drive roots (drive_roots, default /media,
 * /run/media, /mnt) that hold a sabak/ folder, and asks libsabak-carry what
 * an import would bring (sbk_carry_import_plan). GET /api/drives shows it to
 * staff ("A USB drive with 3 new lessons is connected"). With auto_import
 * the same thread runs sbk_carry_import on the drive (the CLI's import and
 * sync step, never a copy of it) and rescans the library.
 *
 * The plan reads each bundle's central directory and manifest, so it runs
 * when the mount table changes, when the library's lesson count changes,
 * and every 30 s while a drive is there; never on an HTTP worker. */
#include "kiosk/usage.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kiosk/library.h"
#include "sabak/core.h"
#include "sabak/sign.h"

#define MAX_DRIVES 16
#define MAX_ROOTS 8
#define MOUNTINFO_MAX (4 << 20)
#define REPLAN_S 30

enum { D_READY = 0, D_IMPORTING, D_IMPORTED, D_FAILED };
static const char *const state_names[] = {"ready", "importing", "imported", "failed"};

typedef struct Drive {
    char key[32];           /* the mount id: a new mount is a new drive */
    char mount[PATH_MAX];
    int found, wanted;      /* bundles on it; of them, what an import would bring */
    int state, imported;
    int tried;              /* auto_import ran for this mount */
    char error[256];
} Drive;

struct SbkDrives {
    SbkKiosk *k;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;   /* everything below */
    pthread_cond_t cond;
    int stop;
    volatile int cancel;    /* an import in progress stops at shutdown */
    char *roots[MAX_ROOTS];
    size_t n_roots;
    Drive d[MAX_DRIVES];
    size_t n;
};

static char *read_mountinfo(void)
{
    int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *nb = cap >= MOUNTINFO_MAX ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            buf[len] = '\0';
            break;
        }
        len += (size_t)got;
    }
    close(fd);
    return buf;
}

/* The mount point field: octal escapes (\040 for a space) undone. */
static void unescape(const char *s, size_t len, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < n; i++) {
        if (s[i] == '\\' && i + 3 < len + 1 && s[i + 1] >= '0' && s[i + 1] <= '3') {
            out[o++] = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
            i += 3;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
}

static int under_root(const SbkDrives *dr, const char *mount)
{
    for (size_t i = 0; i < dr->n_roots; i++) {
        size_t l = strlen(dr->roots[i]);
        if (strncmp(mount, dr->roots[i], l) == 0 && (mount[l] == '\0' || mount[l] == '/'))
            return 1;
    }
    return 0;
}

static int has_sabak_dir(const char *mount)
{
    char p[PATH_MAX + 8];
    struct stat st;
    snprintf(p, sizeof p, "%s/sabak", mount);
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The drives in the mount table now: key and mount of each. */
static size_t list_mounts(const SbkDrives *dr, const char *info, Drive *out)
{
    size_t n = 0;
    for (const char *line = info; line && *line && n < MAX_DRIVES;) {
        const char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ..." */
        const char *f[5];
        size_t fl[5], nf = 0;
        for (const char *p = line; nf < 5 && p < line + ll;) {
            while (p < line + ll && *p == ' ')
                p++;
            const char *e = p;
            while (e < line + ll && *e != ' ')
                e++;
            if (e == p)
                break;
            f[nf] = p;
            fl[nf++] = (size_t)(e - p);
            p = e;
        }
        if (nf == 5 && fl[0] < sizeof out[n].key) {
            Drive *d = &out[n];
            memset(d, 0, sizeof *d);
            unescape(f[4], fl[4], d->mount, sizeof d->mount);
            snprintf(d->key, sizeof d->key, "%.*s", (int)fl[0], f[0]);
            int dup = 0;
            for (size_t i = 0; i < n; i++)
                dup |= strcmp(out[i].mount, d->mount) == 0;
            if (!dup && under_root(dr, d->mount) && has_sabak_dir(d->mount))
                n++;
        }
        line = eol ? eol + 1 : NULL;
    }
    return n;
}

static void plan(SbkDrives *dr, Drive *d)
{
    const char *src[1] = {d->mount};
    SbkImportOptions o = {.library = dr->k->cfg.library_dir, .sources = src, .n_sources = 1};
    SbkError err = {0};
    if (sbk_carry_import_plan(&o, &d->found, &d->wanted, &err) < 0) {
        d->found = d->wanted = 0;
        snprintf(d->error, sizeof d->error, "%s", err.msg);
    }
}

static void count_event(void *opaque, SbkCarryEvent ev, const char *name, const char *detail)
{
    (void)name;
    (void)detail;
    if (ev == SBK_CARRY_COPIED)
        (*(int *)opaque)++;
}

/* Import one drive with the carry library (this thread; the lock is not held). */
static void auto_import(SbkDrives *dr, Drive *d)
{
    SbkKiosk *k = dr->k;
    const char *src[1] = {d->mount};
    int copied = 0;
    SbkCarryCallbacks cb = {.event = count_event, .opaque = &copied,
                            .cancel = (const volatile int *)&dr->cancel};
    /* Unasked, only what a trusted key signed comes in (docs/SIGNING.md). */
    SbkTrust *trust = NULL;
    if (k->cfg.trusted_dir)
        (void)sbk_trust_load(k->cfg.trusted_dir, &trust, NULL, NULL, NULL);
    SbkImportOptions o = {.library = k->cfg.library_dir, .sources = src, .n_sources = 1,
                          .state_dir = k->usage->state_dir, .kiosk_name = k->cfg.name,
                          .trust = trust, .require_trusted = 2};
    SbkError err = {0};
    int ret = sbk_carry_import(&o, &cb, &err);
    sbk_trust_free(&trust);
    SbkError e2 = {0};
    if (copied)
        sbk_library_rescan(k->lib, &e2);
    d->imported = copied;
    d->state = ret < 0 ? D_FAILED : D_IMPORTED;
    d->error[0] = '\0';
    if (ret < 0)
        snprintf(d->error, sizeof d->error, "%s", err.msg);
    sbk_log(ret < 0 ? SBK_LOG_WARN : SBK_LOG_INFO, "drive %s: %d lesson%s imported%s%s", d->mount,
            copied, copied == 1 ? "" : "s", ret < 0 ? ": " : "", ret < 0 ? err.msg : "");
}

static void publish(SbkDrives *dr, const Drive *d, size_t n)
{
    pthread_mutex_lock(&dr->lock);
    memcpy(dr->d, d, n * sizeof *d);
    dr->n = n;
    pthread_mutex_unlock(&dr->lock);
}

static void *drive_thread(void *arg)
{
    SbkDrives *dr = arg;
    SbkKiosk *k = dr->k;
    char *last = NULL;
    int last_lessons = -1;
    double last_plan = 0;
    Drive *cur = calloc(MAX_DRIVES, sizeof *cur), *now = calloc(MAX_DRIVES, sizeof *now);
    size_t n_cur = 0;
    for (int first = 1; cur && now; first = 0) {
        pthread_mutex_lock(&dr->lock);
        if (!first && !dr->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)k->cfg.drive_poll;
            pthread_cond_timedwait(&dr->cond, &dr->lock, &ts);
        }
        int stop = dr->stop;
        pthread_mutex_unlock(&dr->lock);
        if (stop)
            break;
        char *info = read_mountinfo();
        int lessons = 0, damaged = 0;
        sbk_library_counts(k->lib, &lessons, &damaged);
        struct timespec mt;
        clock_gettime(CLOCK_MONOTONIC, &mt);
        double t = (double)mt.tv_sec;
        int changed = !info || !last || strcmp(info, last) != 0 || lessons != last_lessons ||
                      (n_cur && t - last_plan >= REPLAN_S);
        if (!changed) {
            free(info);
            continue;
        }
        free(last);
        last = info;
        last_lessons = lessons;
        last_plan = t;
        size_t n = info ? list_mounts(dr, info, now) : 0;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n_cur; j++)
                if (strcmp(cur[j].key, now[i].key) == 0 && strcmp(cur[j].mount, now[i].mount) == 0) {
                    now[i] = cur[j]; /* the same mount: keep what was done with it */
                    now[i].error[0] = '\0';
                }
            plan(dr, &now[i]);
        }
        Drive *sw = cur;
        cur = now;
        now = sw;
        n_cur = n;
        publish(dr, cur, n_cur);
        for (size_t i = 0; k->cfg.auto_import && i < n_cur; i++) {
            Drive *d = &cur[i];
            if (d->tried)
                continue; /* once per mount, even when it found nothing new: the sync step */
            d->tried = 1;
            d->state = D_IMPORTING;
            publish(dr, cur, n_cur);
            auto_import(dr, d);
            plan(dr, d);
            publish(dr, cur, n_cur);
            sbk_library_counts(k->lib, &last_lessons, &damaged);
        }
    }
    free(last);
    free(cur);
    free(now);
    return NULL;
}

static int set_roots(SbkDrives *dr, const char *spec, SbkError *err)
{
    for (const char *p = spec; *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (!len)
            break;
        if (dr->n_roots == MAX_ROOTS)
            return sbk_err(err, SBK_EINVAL, "drive_roots: at most %d folders", MAX_ROOTS);
        char *r = strndup(p, len), *real = r ? realpath(r, NULL) : NULL;
        if (!r)
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        if (real) { /* the mount table names real paths */
            free(r);
            r = real;
        }
        size_t l = strlen(r);
        while (l > 1 && r[l - 1] == '/')
            r[--l] = '\0';
        dr->roots[dr->n_roots++] = r;
        p += len;
    }
    return 0;
}

int sbk_drives_start(SbkKiosk *k, SbkError *err)
{
    if (!k->cfg.drive_poll)
        return 0;
    SbkDrives *dr = calloc(1, sizeof *dr);
    if (!dr)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    dr->k = k;
    pthread_mutex_init(&dr->lock, NULL);
    pthread_cond_init(&dr->cond, NULL);
    k->usage->drives = dr;
    int ret = set_roots(dr, k->cfg.drive_roots ? k->cfg.drive_roots : "/media /run/media /mnt", err);
    if (ret)
        return ret;
    if (pthread_create(&dr->thread, NULL, drive_thread, dr) != 0) {
        k->usage->drives = NULL;
        for (size_t i = 0; i < dr->n_roots; i++)
            free(dr->roots[i]);
        free(dr);
        return sbk_err(err, SBK_ENOMEM, "cannot start the drive watch");
    }
    dr->started = 1;
    return 0;
}

void sbk_drives_stop(SbkKiosk *k)
{
    SbkDrives *dr = k->usage ? k->usage->drives : NULL;
    if (!dr)
        return;
    if (dr->started) {
        pthread_mutex_lock(&dr->lock);
        dr->stop = 1;
        dr->cancel = 1;
        pthread_cond_signal(&dr->cond);
        pthread_mutex_unlock(&dr->lock);
        pthread_join(dr->thread, NULL);
    }
    pthread_cond_destroy(&dr->cond);
    pthread_mutex_destroy(&dr->lock);
    for (size_t i = 0; i < dr->n_roots; i++)
        free(dr->roots[i]);
    free(dr);
    k->usage->drives = NULL;
}

size_t sbk_drives_mounts(SbkKiosk *k, char (*out)[4096], size_t max)
{
    SbkDrives *dr = k->usage ? k->usage->drives : NULL;
    size_t n = 0;
    if (!dr)
        return 0;
    pthread_mutex_lock(&dr->lock);
    for (size_t i = 0; i < dr->n && n < max; i++)
        snprintf(out[n++], 4096, "%s", dr->d[i].mount);
    pthread_mutex_unlock(&dr->lock);
    return n;
}

char *sbk_drives_json(SbkKiosk *k)
{
    SbkDrives *dr = k->usage ? k->usage->drives : NULL;
    json_t *list = json_array();
    int total = 0;
    if (dr) {
        pthread_mutex_lock(&dr->lock);
        for (size_t i = 0; i < dr->n; i++) {
            const Drive *d = &dr->d[i];
            const char *base = strrchr(d->mount, '/');
            json_t *o = json_pack("{s:s, s:i, s:i, s:s, s:i}", "label",
                                  base && base[1] ? base + 1 : d->mount, "bundles", d->found,
                                  "new", d->wanted, "state", state_names[d->state], "imported",
                                  d->imported);
            if (o && d->error[0])
                json_object_set_new(o, "error", json_string(d->error));
            json_array_append_new(list, o);
            total += d->wanted;
        }
        pthread_mutex_unlock(&dr->lock);
    }
    json_t *o = json_pack("{s:o, s:i, s:b, s:b}", "drives", list, "new", total, "auto_import",
                          k->cfg.auto_import, "watching", dr != NULL);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}
