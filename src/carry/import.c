/* sabak import: bundles from drives, folders or files into a kiosk's
 * library, each verified in full in a temporary file in the library (same
 * filesystem) before it is renamed into place, then the drive sync step. */
#include "carry_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PART_SUFFIX ".import-part"

/* Remove what an interrupted import left: hidden parts, and versions that
 * a newer one already in place should have replaced. */
static void cleanup(CarryRun *r, const char *library)
{
    DIR *d = opendir(library);
    struct dirent *de;
    int removed = 0;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name), s = sizeof PART_SUFFIX - 1;
        if (de->d_name[0] != '.' || l <= s || strcmp(de->d_name + l - s, PART_SUFFIX) != 0)
            continue;
        char *p = sbk_path_join(library, de->d_name);
        if (p && unlinkat(dirfd(d), de->d_name, 0) == 0) {
            sbk_carry_event(r, SBK_CARRY_NOTE, de->d_name, _("removed what an interrupted import left"));
            removed = 1;
        }
        free(p);
    }
    if (d)
        closedir(d);
    CarryBundle *lib = NULL;
    size_t n = 0;
    SbkError e = {0};
    if (sbk_carry_list_dir(library, NULL, &lib, &n, &e) == 0) {
        for (size_t i = 0; i + 1 < n; i++) {
            const CarryBundle *a = &lib[i], *b = &lib[i + 1];
            int older = strcmp(a->id, b->id) == 0 &&
                        (a->version < b->version ||
                         (a->version == b->version && a->reduced && !b->reduced &&
                          strcmp(a->reduced_from, b->manifest_sha) == 0));
            if (older && unlink(a->path) == 0) {
                sbk_carry_event(r, SBK_CARRY_REPLACED, a->name, _("replaced by %s"), b->name);
                removed = 1;
            }
        }
        sbk_carry_list_free(&lib, n);
    }
    if (removed)
        sbk_carry_fsync_dir(library);
}

typedef struct Cands {
    CarryBundle *v;
    size_t n, cap;
} Cands;

static int cand_add(Cands *c, CarryBundle *b)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].manifest_sha, b->manifest_sha) == 0) {
            sbk_carry_bundle_clear(b); /* the same bundle twice (sabak/ and the root) */
            return 0;
        }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        CarryBundle *nv = realloc(c->v, c->cap * sizeof *nv);
        if (!nv)
            return -1;
        c->v = nv;
    }
    c->v[c->n++] = *b;
    return 0;
}

static int add_dir(CarryRun *r, Cands *c, const char *dir, SbkError *err)
{
    CarryBundle *list = NULL;
    size_t n = 0;
    int ret = sbk_carry_list_dir(dir, r, &list, &n, err);
    for (size_t i = 0; ret == 0 && i < n; i++)
        if (cand_add(c, &list[i]) < 0)
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
    for (size_t i = 0; i < n; i++)
        if (ret < 0)
            sbk_carry_bundle_clear(&list[i]);
    free(list);
    return ret;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int collect(const SbkImportOptions *o, CarryRun *r, Cands *c, SbkError *err)
{
    for (size_t i = 0; i < o->n_sources; i++) {
        const char *s = o->sources[i];
        struct stat st;
        int ret = 0;
        if (stat(s, &st) < 0)
            return sbk_err_errno(err, errno, _("cannot read %s"), s);
        if (S_ISDIR(st.st_mode)) {
            char *sd = sbk_path_join(s, "sabak");
            if (!sd)
                return sbk_err(err, SBK_ENOMEM, _("out of memory"));
            if (is_dir(sd))
                ret = add_dir(r, c, sd, err); /* a drive: its sabak/ folder first */
            free(sd);
            if (ret == 0)
                ret = add_dir(r, c, s, err);
        } else {
            CarryBundle b;
            if ((ret = sbk_carry_bundle_load(s, &b, err)) < 0) {
                sbk_err_prefix(err, "%s", s);
                return ret;
            }
            if (cand_add(c, &b) < 0)
                ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        }
        if (ret < 0)
            return ret;
    }
    return 0;
}

static const CarryBundle *lib_same_version(const CarryBundle *lib, size_t n, const CarryBundle *c)
{
    const CarryBundle *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(lib[i].id, c->id) == 0 && lib[i].version == c->version)
            best = &lib[i];
    return best;
}

static int lib_max_version(const CarryBundle *lib, size_t n, const char *id)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(lib[i].id, id) == 0 && lib[i].version > v)
            v = lib[i].version;
    return v;
}

/* 1: import it; 0: skip (event sent); -1: refused (event sent). */
static int decide(CarryRun *r, const CarryBundle *lib, size_t n_lib, const Cands *c, size_t ci)
{
    const CarryBundle *b = &c->v[ci];
    for (size_t i = 0; i < c->n; i++)
        if (i != ci && strcmp(c->v[i].id, b->id) == 0 &&
            (c->v[i].version > b->version ||
             (c->v[i].version == b->version && b->reduced && !c->v[i].reduced))) {
            sbk_carry_event(r, SBK_CARRY_SKIPPED, b->name, _("%s is also there"), c->v[i].name);
            return 0;
        }
    int maxv = lib_max_version(lib, n_lib, b->id);
    if (maxv > b->version) {
        sbk_carry_event(r, SBK_CARRY_SKIPPED, b->name, _("the library has the newer version %d"), maxv);
        return 0;
    }
    const CarryBundle *l = lib_same_version(lib, n_lib, b);
    if (!l)
        return 1;
    if (strcmp(l->manifest_sha, b->manifest_sha) == 0) {
        sbk_carry_event(r, SBK_CARRY_SKIPPED, b->name, _("already in the library"));
        return 0;
    }
    if (b->reduced && (strcmp(b->reduced_from, l->manifest_sha) == 0 || l->reduced)) {
        sbk_carry_event(r, SBK_CARRY_SKIPPED, b->name, _("the library already has %s"), l->name);
        return 0;
    }
    if (l->reduced && !b->reduced && strcmp(l->reduced_from, b->manifest_sha) == 0)
        return 1; /* the whole bundle replaces a reduced one */
    char hs[SBK_SHA256_HEX] = "?", hl[SBK_SHA256_HEX] = "?";
    SbkError e = {0};
    sbk_carry_sha256_file(b->path, hs, &e);
    sbk_carry_sha256_file(l->path, hl, &e);
    sbk_carry_event(r, SBK_CARRY_REFUSED, b->name,
                _("%s version %d differs from the library's %s (sha256 %s here, %s in the "
                "library): refused; a changed lesson needs a new version number"),
                b->id, b->version, l->name, hs, hl);
    return -1;
}

static void remove_replaced(CarryRun *r, const char *library, const CarryBundle *lib, size_t n,
                            const CarryBundle *b, const char *name)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(lib[i].id, b->id) != 0 || strcmp(lib[i].name, name) == 0)
            continue;
        if (lib[i].version < b->version || (lib[i].version == b->version && lib[i].reduced)) {
            if (unlink(lib[i].path) == 0) {
                sbk_carry_event(r, SBK_CARRY_REPLACED, lib[i].name, _("replaced by %s"), name);
                any = 1;
            }
        }
    }
    if (any)
        sbk_carry_fsync_dir(library);
}

int sbk_carry_import_plan(const SbkImportOptions *o, int *found, int *wanted, SbkError *err)
{
    CarryRun r = {0}; /* no callbacks: decide()'s events go nowhere */
    Cands c = {0};
    CarryBundle *lib = NULL;
    size_t n_lib = 0;
    *found = *wanted = 0;
    int ret = collect(o, &r, &c, err);
    if (ret == 0)
        ret = sbk_carry_list_dir(o->library, NULL, &lib, &n_lib, err);
    for (size_t i = 0; ret == 0 && i < c.n; i++)
        *wanted += decide(&r, lib, n_lib, &c, i) > 0;
    if (ret == 0)
        *found = (int)c.n;
    for (size_t i = 0; i < c.n; i++)
        sbk_carry_bundle_clear(&c.v[i]);
    free(c.v);
    sbk_carry_list_free(&lib, n_lib);
    return ret;
}

/* The signature policy, on the source before copying: 1 import it, -1
 * refused (event sent). What cannot be opened is left to the copy's verify. */
static int sign_ok(CarryRun *r, const SbkImportOptions *o, const CarryBundle *b)
{
    SbkBundle *bb = NULL;
    SbkSignInfo si;
    if (sbk_bundle_open(b->path, &bb, NULL) < 0)
        return 1;
    sbk_sign_check_bundle(o->trust, bb, &si);
    sbk_bundle_close(&bb);
    if (si.state == SBK_SIG_BAD) {
        sbk_carry_event(r, SBK_CARRY_REFUSED, b->name, _("bad signature: %s"), si.reason);
        return -1;
    }
    if (o->require_trusted && si.state != SBK_SIG_TRUSTED) {
        SbkCarryEvent ev = o->require_trusted == 2 ? SBK_CARRY_SKIPPED : SBK_CARRY_REFUSED;
        if (si.state == SBK_SIG_UNKNOWN)
            sbk_carry_event(r, ev, b->name,
                            _("signed by an unknown key %s; only lessons signed by a trusted key are imported"),
                            si.key_id);
        else
            sbk_carry_event(r, ev, b->name, _("unsigned; only lessons signed by a trusted key are imported"));
        return ev == SBK_CARRY_SKIPPED ? 0 : -1;
    }
    return 1;
}

typedef struct PlanList {
    SbkPlanItem *v;
    size_t n, cap;
    int failed;
    const char *dir;
} PlanList;

static SbkPlanItem *plan_add(PlanList *p)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        SbkPlanItem *nv = realloc(p->v, cap * sizeof *nv);
        if (!nv) {
            p->failed = 1;
            return NULL;
        }
        p->v = nv;
        p->cap = cap;
    }
    SbkPlanItem *it = &p->v[p->n++];
    memset(it, 0, sizeof *it);
    return it;
}

/* list_dir's notes: the files that are not usable bundles. */
static void plan_note(void *opaque, SbkCarryEvent ev, const char *name, const char *detail)
{
    PlanList *p = opaque;
    if (ev != SBK_CARRY_NOTE || !name || strncmp(detail, "not a usable bundle", 19) != 0)
        return;
    SbkPlanItem *it = plan_add(p);
    if (!it)
        return;
    snprintf(it->name, sizeof it->name, "%s", name);
    snprintf(it->detail, sizeof it->detail, "%s", detail);
    it->status = "damaged";
}

int sbk_carry_import_plan_list(const SbkImportOptions *o, SbkPlanItem **items, size_t *n,
                               SbkError *err)
{
    PlanList p = {0};
    SbkCarryCallbacks cb = {.event = plan_note, .opaque = &p};
    CarryRun r = {.cb = &cb}, quiet = {0};
    Cands c = {0};
    CarryBundle *lib = NULL;
    size_t n_lib = 0;
    *items = NULL;
    *n = 0;
    int ret = collect(o, &r, &c, err);
    if (ret == 0)
        ret = sbk_carry_list_dir(o->library, NULL, &lib, &n_lib, err);
    for (size_t i = 0; ret == 0 && i < c.n; i++) {
        const CarryBundle *b = &c.v[i];
        int d = decide(&quiet, lib, n_lib, &c, i), maxv = lib_max_version(lib, n_lib, b->id);
        SbkPlanItem *it = plan_add(&p);
        if (!it || !(it->path = strdup(b->path))) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
            break;
        }
        snprintf(it->name, sizeof it->name, "%s", b->name);
        snprintf(it->id, sizeof it->id, "%s", b->id);
        it->version = b->version;
        it->size = b->size;
        it->status = d < 0 ? "conflict" : d > 0 ? (maxv ? "newer" : "new")
                                                  : (maxv > b->version ? "older" : "same");
    }
    if (ret == 0 && p.failed)
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
    for (size_t i = 0; i < c.n; i++)
        sbk_carry_bundle_clear(&c.v[i]);
    free(c.v);
    sbk_carry_list_free(&lib, n_lib);
    if (ret < 0) {
        sbk_carry_plan_free(&p.v, p.n);
        return ret;
    }
    *items = p.v;
    *n = p.n;
    return 0;
}

void sbk_carry_plan_free(SbkPlanItem **items, size_t n)
{
    if (!items || !*items)
        return;
    for (size_t i = 0; i < n; i++)
        free((*items)[i].path);
    free(*items);
    *items = NULL;
}

int sbk_carry_import(const SbkImportOptions *o, const SbkCarryCallbacks *cb, SbkError *err)
{
    CarryRun r = {.cb = cb, .trust = o->trust, .require_trusted = o->require_trusted};
    Cands c = {0};
    CarryBundle *lib = NULL;
    size_t n_lib = 0;
    int *todo = NULL, refused = 0, ret;
    int lfd = open(o->library, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lfd < 0)
        return sbk_err_errno(err, errno, _("cannot use the library folder %s"), o->library);
    if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
        close(lfd);
        return sbk_err(err, SBK_EIO, _("another sabak import into %s is running; wait for it"),
                       o->library);
    }
    cleanup(&r, o->library);
    if ((ret = collect(o, &r, &c, err)) < 0 ||
        (ret = sbk_carry_list_dir(o->library, NULL, &lib, &n_lib, err)) < 0)
        goto done;
    todo = calloc(c.n + 1, sizeof *todo);
    if (!todo) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    for (size_t i = 0; i < c.n; i++) {
        todo[i] = decide(&r, lib, n_lib, &c, i);
        if (todo[i] > 0)
            todo[i] = sign_ok(&r, o, &c.v[i]);
        refused += todo[i] < 0;
        if (todo[i] > 0)
            r.all_total += c.v[i].size;
    }
    for (size_t i = 0; i < c.n; i++) {
        if (todo[i] <= 0)
            continue;
        const CarryBundle *b = &c.v[i];
        char *name = b->reduced ? strdup(b->name) : sbk_carry_bundle_filename(b->id, b->version, NULL);
        char part[300];
        if (!name) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
            goto done;
        }
        snprintf(part, sizeof part, ".%s" PART_SUFFIX, name);
        ret = sbk_carry_copy_bundle(&r, b->path, o->library, part, name, 0, err);
        if (ret == 0) {
            sbk_carry_event(&r, SBK_CARRY_COPIED, name, _("imported and verified (%.1f MB)"),
                        (double)b->size / 1e6);
            remove_replaced(&r, o->library, lib, n_lib, b, name);
        }
        free(name);
        if (ret < 0)
            goto done;
    }
    if (o->state_dir) {
        for (size_t i = 0; i <= o->n_sources; i++) {
            const char *src = i < o->n_sources ? o->sources[i] : o->sync_drive;
            int again = 0;
            for (size_t s = 0; src && i == o->n_sources && s < o->n_sources; s++)
                again |= strcmp(o->sources[s], src) == 0;
            char *sd = src && !again ? sbk_path_join(src, "sabak") : NULL;
            if (sd && is_dir(sd))
                ret = sbk_carry_sync_drive(&r, sd, o->library, o->state_dir, o->kiosk_name, err);
            free(sd);
            if (ret < 0)
                goto done;
        }
    }
    if (refused)
        ret = sbk_err(err, SBK_EINVAL, dngettext(SBK_TEXTDOMAIN, "%d bundle was refused (see above)",
                                                "%d bundles were refused (see above)", (unsigned long)refused),
                      refused);
done:
    free(todo);
    for (size_t i = 0; i < c.n; i++)
        sbk_carry_bundle_clear(&c.v[i]);
    free(c.v);
    sbk_carry_list_free(&lib, n_lib);
    close(lfd);
    return ret;
}
