/* Shared helpers of src/carry/: progress accounting, bundle listing,
 * folders. */
#include "carry_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double sbk_carry_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sbk_carry_canceled(const CarryRun *r)
{
    /* Atomic: the kiosk's admin jobs set it from another thread. */
    return r && r->cb && r->cb->cancel && __atomic_load_n(r->cb->cancel, __ATOMIC_RELAXED);
}

/* At most ~10 calls a second unless forced (start and end of a step). */
void sbk_carry_progress(CarryRun *r, const char *step, const char *name, int64_t done,
                    int64_t total, int force)
{
    if (!r || !r->cb || !r->cb->progress)
        return;
    double now = sbk_carry_now();
    if (!force && now - r->last_report < 0.1)
        return;
    r->last_report = now;
    SbkCarryProgress p = {.step = step, .name = name, .done = done, .total = total,
                          .all_done = r->all_done, .all_total = r->all_total, .eta = -1};
    double el = r->t0 > 0 ? now - r->t0 : 0;
    if (el > 0.5 && r->copied > 0) {
        p.rate = (double)r->copied / el;
        if (r->all_total >= r->all_done)
            p.eta = (double)(r->all_total - r->all_done) / p.rate;
    }
    r->cb->progress(r->cb->opaque, &p);
}

void sbk_carry_event(CarryRun *r, SbkCarryEvent ev, const char *name, const char *fmt, ...)
{
    if (!r || !r->cb || !r->cb->event)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->cb->event(r->cb->opaque, ev, name, line);
}

void sbk_carry_bundle_clear(CarryBundle *b)
{
    free(b->path);
    free(b->name);
    free(b->id);
    memset(b, 0, sizeof *b);
}

int sbk_carry_bundle_load(const char *path, CarryBundle *b, SbkError *err)
{
    SbkBundle *bd = NULL;
    char *mj = NULL;
    size_t mlen = 0;
    json_t *root = NULL;
    memset(b, 0, sizeof *b);
    int ret = sbk_bundle_open(path, &bd, err);
    if (ret < 0)
        return ret;
    ret = sbk_bundle_read_entry(bd, SBK_MANIFEST_NAME, SBK_MANIFEST_MAX_BYTES, &mj, &mlen, err);
    if (ret < 0)
        goto done;
    sbk_sha256_hex(mj, mlen, b->manifest_sha);
    root = json_loadb(mj, mlen, 0, NULL);
    json_t *rf = root ? json_object_get(root, "reduced_from") : NULL;
    if (rf) {
        const char *s = json_string_value(json_object_get(rf, "manifest_sha256"));
        b->reduced = 1;
        snprintf(b->reduced_from, sizeof b->reduced_from, "%s", s ? s : "");
    }
    b->path = strdup(path);
    b->name = strdup(sbk_path_base(path));
    b->id = strdup(bd->manifest->id);
    b->version = bd->manifest->version;
    b->size = bd->file_size;
    b->mtime = bd->mtime;
    b->unpacked = (int64_t)mlen;
    for (int i = 0; i < bd->manifest->n_files; i++)
        b->unpacked += bd->manifest->files[i].size;
    if (!b->path || !b->name || !b->id) {
        sbk_carry_bundle_clear(b);
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    ret = 0;
done:
    json_decref(root);
    free(mj);
    sbk_bundle_close(&bd);
    return ret;
}

static int cmp_bundle(const void *a, const void *b)
{
    const CarryBundle *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    if (x->reduced != y->reduced)
        return x->reduced ? -1 : 1; /* a whole bundle sorts after (wins) */
    return strcmp(x->name, y->name);
}

void sbk_carry_list_free(CarryBundle **list, size_t n)
{
    if (!list || !*list)
        return;
    for (size_t i = 0; i < n; i++)
        sbk_carry_bundle_clear(&(*list)[i]);
    free(*list);
    *list = NULL;
}

int sbk_carry_list_dir(const char *dir, CarryRun *r, CarryBundle **out, size_t *n, SbkError *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return sbk_err_errno(err, errno, _("cannot read folder %s"), dir);
    CarryBundle *list = NULL;
    size_t cnt = 0, cap = 0;
    int ret = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".zip") != 0)
            continue;
        char *p = sbk_path_join(dir, de->d_name);
        if (!p) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
            break;
        }
        struct stat st;
        if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            CarryBundle *nl = realloc(list, cap * sizeof *nl);
            if (!nl) {
                free(p);
                ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
                break;
            }
            list = nl;
        }
        SbkError e2 = {0};
        if (sbk_carry_bundle_load(p, &list[cnt], &e2) == 0)
            cnt++;
        else
            sbk_carry_event(r, SBK_CARRY_NOTE, de->d_name, _("not a usable bundle: %s"), e2.msg);
        free(p);
    }
    closedir(d);
    if (ret < 0) {
        sbk_carry_list_free(&list, cnt);
        return ret;
    }
    if (cnt)
        qsort(list, cnt, sizeof *list, cmp_bundle);
    *out = list;
    *n = cnt;
    return 0;
}

char *sbk_carry_bundle_filename(const char *id, int version, const char *tiers_plus)
{
    char buf[256];
    if (tiers_plus && *tiers_plus)
        snprintf(buf, sizeof buf, "%s-v%d-%s.zip", id, version, tiers_plus);
    else
        snprintf(buf, sizeof buf, "%s-v%d.zip", id, version);
    return strdup(buf);
}

void sbk_carry_fsync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd); /* some filesystems refuse fsync on folders: best effort */
        close(dfd);
    }
}

int sbk_carry_mkdir(const char *path, SbkError *err)
{
    if (mkdir(path, 0755) == 0) {
        char *copy = strdup(path);
        if (copy) {
            char *slash = strrchr(copy, '/');
            if (slash && slash != copy) {
                *slash = '\0';
                sbk_carry_fsync_dir(copy);
            }
            free(copy);
        }
        return 0;
    }
    if (errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        return sbk_err(err, SBK_EIO, _("%s exists and is not a folder"), path);
    }
    return sbk_err_errno(err, errno, _("cannot create folder %s"), path);
}

int sbk_carry_sha256_file(const char *path, char hex[SBK_SHA256_HEX], SbkError *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sbk_err_errno(err, errno, _("cannot open %s"), path);
    int ret = sbk_sha256_fd(fd, 0, -1, hex, err);
    close(fd);
    return ret;
}
