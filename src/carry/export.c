/* sabak export: the newest version of each chosen lesson onto a drive.
 *
 * Order of work: pick the bundles (all, --lesson, or --for-offices), build
 * reduced ones (--tiers), skip those already on the drive, check the
 * filesystem (4 GiB on FAT) and the free space (with a margin), copy each
 * through the copy engine (part, fsync, read back + verify, rename, fsync
 * dir), remove older versions from the drive, then the browsable copy. */
#include "carry_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


typedef struct Item {
    const CarryBundle *lib;  /* the library's bundle */
    char *src;               /* what is copied: lib->path or a reduced build */
    char *name;              /* name on the drive */
    int64_t size;
    char manifest_sha[SBK_SHA256_HEX];
    int on_drive;            /* already there, verified when written */
    int64_t cost;            /* bytes it needs on the drive */
    int chosen;
} Item;

static int64_t default_margin(const SbkFsInfo *fs)
{
    int64_t m = fs->total_bytes / 50;
    if (m > ((int64_t)256 << 20))
        m = (int64_t)256 << 20;
    return m + ((int64_t)8 << 20);
}

static int tiers_ok(const char *t, char *plus, size_t n)
{
    size_t l = strlen(t);
    if (l == 0 || l >= n)
        return 0;
    for (size_t i = 0; i < l; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == ',' && i && t[i + 1] && t[i + 1] != ',')))
            return 0;
        plus[i] = c == ',' ? '+' : c;
    }
    plus[l] = '\0';
    return 1;
}

static const CarryBundle *newest(const CarryBundle *lib, size_t n, const char *id)
{
    const CarryBundle *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(lib[i].id, id) == 0)
            best = &lib[i]; /* sorted: the last one is the newest, whole wins */
    return best;
}

static int office_needs(const CarryOffice *of, size_t n_of, const CarryBundle *b)
{
    for (size_t i = 0; i < n_of; i++) {
        int has = 0;
        for (size_t k = 0; k < of[i].n; k++)
            if (strcmp(of[i].lessons[k].id, b->id) == 0 && of[i].lessons[k].version >= b->version)
                has = 1;
        if (!has)
            return 1;
    }
    return 0;
}

static int cmp_newest_first(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    if (x->lib->mtime != y->lib->mtime)
        return x->lib->mtime > y->lib->mtime ? -1 : 1;
    return strcmp(x->lib->id, y->lib->id);
}

/* Remove the drive's older versions of a lesson once the new one is in place. */
static void remove_older(CarryRun *r, const char *sabak_dir, const Item *it)
{
    CarryBundle *d = NULL;
    size_t n = 0;
    SbkError e = {0};
    if (sbk_carry_list_dir(sabak_dir, NULL, &d, &n, &e) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i].id, it->lib->id) == 0 && d[i].version < it->lib->version &&
            unlink(d[i].path) == 0)
            sbk_carry_event(r, SBK_CARRY_REPLACED, d[i].name, _("older version removed from the drive"));
    sbk_carry_fsync_dir(sabak_dir);
    sbk_carry_list_free(&d, n);
}

static void free_items(Item *items, size_t n, int remove_src)
{
    for (size_t i = 0; items && i < n; i++) {
        if (remove_src && items[i].src && items[i].src != items[i].lib->path)
            unlink(items[i].src);
        if (items[i].src != items[i].lib->path)
            free(items[i].src);
        free(items[i].name);
    }
    free(items);
}

static char *work_dir(const SbkExportOptions *o, SbkError *err)
{
    char *w = o->work_dir ? strdup(o->work_dir) : sbk_path_join(o->library, ".sabak-state");
    if (!w || sbk_carry_mkdir(w, err) < 0)
        goto fallback;
    if (!o->work_dir) {
        char *r = sbk_path_join(w, "reduce");
        free(w);
        w = r;
        if (!w || sbk_carry_mkdir(w, err) < 0)
            goto fallback;
    }
    return w;
fallback:
    free(w);
    sbk_err_clear(err);
    char buf[128];
    snprintf(buf, sizeof buf, "%s/sabak-reduce-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getuid());
    return sbk_carry_mkdir(buf, err) < 0 ? NULL : strdup(buf);
}

/* Build the list of items: every chosen lesson with its source and cost. */
static int plan(const SbkExportOptions *o, CarryRun *r, const char *sabak_dir,
                const CarryBundle *lib, size_t n_lib, const CarryBundle *drive, size_t n_drive,
                const char *plus, Item **out, size_t *n_out, SbkError *err)
{
    Item *items = calloc(n_lib ? n_lib : 1, sizeof *items);
    size_t n = 0;
    char *wd = NULL;
    int ret = 0;
    if (!items)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    for (size_t i = 0; i < o->n_lessons; i++)
        if (!newest(lib, n_lib, o->lessons[i])) {
            ret = sbk_err(err, SBK_ENOENT, _("the library %s has no lesson \"%s\""), o->library,
                          o->lessons[i]);
            goto fail;
        }
    for (size_t i = 0; i < n_lib; i++) {
        const CarryBundle *b = &lib[i];
        if (b->reduced || newest(lib, n_lib, b->id) != b)
            continue;
        int wanted = o->n_lessons == 0;
        for (size_t k = 0; k < o->n_lessons; k++)
            wanted |= strcmp(o->lessons[k], b->id) == 0;
        if (!wanted)
            continue;
        Item *it = &items[n++];
        it->lib = b;
        it->name = sbk_carry_bundle_filename(b->id, b->version, plus);
        if (!it->name) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
            goto fail;
        }
        if (*plus) {
            if (!wd && !(wd = work_dir(o, err))) {
                ret = err ? err->code : SBK_EIO;
                goto fail;
            }
            it->src = sbk_path_join(wd, it->name);
            if (!it->src) {
                ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
                goto fail;
            }
            sbk_carry_progress(r, "reduce", it->name, 0, 1, 1);
            if ((ret = sbk_carry_reduce(r, b->path, o->tiers, it->src, err)) < 0)
                goto fail;
            CarryBundle rb;
            if ((ret = sbk_carry_bundle_load(it->src, &rb, err)) < 0)
                goto fail;
            it->size = rb.size;
            memcpy(it->manifest_sha, rb.manifest_sha, sizeof it->manifest_sha);
            sbk_carry_bundle_clear(&rb);
        } else {
            it->src = b->path;
            it->size = b->size;
            memcpy(it->manifest_sha, b->manifest_sha, sizeof it->manifest_sha);
        }
        for (size_t d = 0; d < n_drive; d++)
            if (strcmp(drive[d].name, it->name) == 0 && drive[d].size == it->size &&
                strcmp(drive[d].manifest_sha, it->manifest_sha) == 0)
                it->on_drive = 1;
        it->cost = it->on_drive ? 0 : it->size;
        if (!it->on_drive) {
            /* a .part of it already holds some of the room it needs */
            char part[300];
            struct stat st;
            snprintf(part, sizeof part, "%s/%s.part", sabak_dir, it->name);
            if (stat(part, &st) == 0 && st.st_size <= it->cost)
                it->cost -= st.st_size;
        }
        if (o->browsable) {
            CarryBundle tmp = *b;
            memcpy(tmp.manifest_sha, it->manifest_sha, sizeof tmp.manifest_sha);
            it->cost += sbk_carry_browse_cost(sabak_dir, &tmp);
        }
    }
    free(wd);
    *out = items;
    *n_out = n;
    return 0;
fail:
    free(wd);
    free_items(items, n, 1);
    return ret;
}

static int choose(const SbkExportOptions *o, CarryRun *r, const char *sabak_dir,
                  const SbkFsInfo *fs, Item *items, size_t n, SbkError *err)
{
    int64_t margin = o->margin >= 0 ? o->margin : default_margin(fs);
    int64_t room = fs->free_bytes - margin, need = 0;
    if (fs->free_bytes < 0) {
        room = INT64_MAX; /* a full drive still fails cleanly, mid-copy */
        sbk_carry_event(r, SBK_CARRY_NOTE, o->mount,
                        _("this %s drive does not report its free space; copying anyway"),
                        fs->type);
    }
    CarryOffice *of = NULL;
    size_t n_of = 0;
    int ret = 0;
    if (o->for_offices) {
        if ((ret = sbk_carry_offices_read(sabak_dir, r, &of, &n_of, err)) < 0)
            return ret;
        if (n_of == 0)
            return sbk_err(err, SBK_ENOENT,
                           _("no office has written to this drive yet (%s/offices/ is empty): "
                           "import from it at an office first, or export without --for-offices"),
                           sabak_dir);
        qsort(items, n, sizeof *items, cmp_newest_first);
    }
    for (size_t i = 0; i < n; i++) {
        Item *it = &items[i];
        if (fs->fat && it->size > SBK_FAT_MAX_FILE) {
            ret = sbk_err(err, SBK_ELIMIT,
                          _("%s is %.1f GiB, too big for this %s drive (FAT32 holds files under "
                          "4 GiB): export it with --tiers low,audio, or format the drive as exFAT"),
                          it->name, (double)it->size / 1073741824.0, fs->type);
            goto done;
        }
        if (o->for_offices && !office_needs(of, n_of, it->lib)) {
            sbk_carry_event(r, SBK_CARRY_SKIPPED, it->name, _("every office on the drive has it"));
            continue;
        }
        if (o->for_offices && need + it->cost > room) {
            sbk_carry_event(r, SBK_CARRY_LEFT_OUT, it->name,
                        _("does not fit: needs %.1f MB, %.1f MB left on the drive"),
                        (double)it->cost / 1e6, (double)(room - need > 0 ? room - need : 0) / 1e6);
            continue;
        }
        it->chosen = 1;
        need += it->cost;
    }
    if (need > room) {
        ret = sbk_err(err, SBK_ENOSPC,
                      _("the drive has %.1f MB free but these lessons need %.1f MB (and %.1f MB "
                      "kept free): choose fewer with --lesson, add --tiers low,audio, or "
                      "--no-browsable"),
                      (double)fs->free_bytes / 1e6, (double)need / 1e6, (double)margin / 1e6);
        goto done;
    }
done:
    sbk_carry_offices_free(&of, n_of);
    return ret;
}

int sbk_carry_export(const SbkExportOptions *o, const SbkCarryCallbacks *cb, SbkError *err)
{
    CarryRun r = {.cb = cb};
    CarryBundle *lib = NULL, *drive = NULL;
    size_t n_lib = 0, n_drive = 0, n_items = 0;
    Item *items = NULL;
    SbkFsInfo fs;
    char plus[128] = "";
    char *sabak_dir = sbk_path_join(o->mount, "sabak");
    int ret;
    if (!sabak_dir)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    if (o->tiers && !tiers_ok(o->tiers, plus, sizeof plus)) {
        ret = sbk_err(err, SBK_EINVAL, _("--tiers \"%s\": give tier names separated by commas, "
                      "e.g. low,audio"), o->tiers);
        goto done;
    }
    if ((ret = sbk_carry_fs_info(o->mount, &fs, err)) < 0 ||
        (ret = sbk_carry_mkdir(sabak_dir, err)) < 0 ||
        (ret = sbk_carry_list_dir(o->library, &r, &lib, &n_lib, err)) < 0 ||
        (ret = sbk_carry_list_dir(sabak_dir, &r, &drive, &n_drive, err)) < 0)
        goto done;
    if (n_lib == 0) {
        ret = sbk_err(err, SBK_ENOENT, _("the library %s holds no lesson bundles"), o->library);
        goto done;
    }
    if ((ret = plan(o, &r, sabak_dir, lib, n_lib, drive, n_drive, plus, &items, &n_items, err)) < 0 ||
        (ret = choose(o, &r, sabak_dir, &fs, items, n_items, err)) < 0)
        goto done;
    for (size_t i = 0; i < n_items; i++)
        if (items[i].chosen && !items[i].on_drive)
            r.all_total += items[i].size;
    for (size_t i = 0; i < n_items && ret == 0; i++) {
        Item *it = &items[i];
        if (!it->chosen)
            continue;
        if (it->on_drive) {
            sbk_carry_event(&r, SBK_CARRY_SKIPPED, it->name, _("already on the drive"));
        } else {
            char part[300];
            snprintf(part, sizeof part, "%s.part", it->name);
            if ((ret = sbk_carry_copy_bundle(&r, it->src, sabak_dir, part, it->name, 1, err)) < 0)
                break;
            sbk_carry_event(&r, SBK_CARRY_COPIED, it->name, _("written and verified (%.1f MB)"),
                        (double)it->size / 1e6);
        }
        remove_older(&r, sabak_dir, it);
        if (o->browsable) {
            CarryBundle db;
            char *p = sbk_path_join(sabak_dir, it->name);
            if (!p) {
                ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
                break;
            }
            ret = sbk_carry_bundle_load(p, &db, err);
            free(p);
            if (ret == 0) {
                ret = sbk_carry_browse_unpack(&r, sabak_dir, &db, err);
                sbk_carry_bundle_clear(&db);
            }
        }
    }
    if (ret == 0 && o->browsable)
        ret = sbk_carry_browse_catalog(sabak_dir, err);
done:
    free_items(items, n_items, 1);
    sbk_carry_list_free(&lib, n_lib);
    sbk_carry_list_free(&drive, n_drive);
    free(sabak_dir);
    return ret;
}
