/* src/kiosk/admin_manage.c - the admin area's lessons, drives, reports,
 * trusted keys and system page. The work is the library's: the catalog and
 * sbk_library_remove (library*.c), the drive list (drives.c) and what an
 * import would do with each bundle (sbk_carry_import_plan_list), the
 * free-space and FAT facts (sbk_carry_fs_info), the play counts (usage.c,
 * sbk_stats_list). Import and export run as jobs (admin_jobs.c). */
#include "kiosk/admin.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiosk/library.h"
#include "kiosk/usage.h"
#include "sabak/carry.h"
#include "sabak/core.h"
#include "sabak/sign.h"
#include "sabak/kiosk.h"

#define MAX_DRIVES 16
#define KEY_MAX_BYTES 4096

static json_t *body_object(const SbkQuerySource *q, SbkReply *r)
{
    json_t *o = q->body ? json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        sbk_reply_json_error(r, 400, "the body must be a JSON object");
        return NULL;
    }
    return o;
}

/* ---- lessons -------------------------------------------------------------- */

/* The catalog's cards in every language, each with its publisher and
 * signature state (the same fields as /api/lessons, docs/API.md). */
static json_t *catalog(SbkKiosk *k)
{
    char *json = NULL;
    size_t len = 0;
    if (sbk_library_catalog_json(k->lib, NULL, &json, &len) != 0)
        return NULL;
    json_t *c = json_loadb(json, len, 0, NULL);
    free(json);
    return c;
}

void sbk_admin_handle_lessons(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                              SbkReply *r)
{
    (void)m;
    if (q->post) {
        json_t *o = body_object(q, r);
        if (!o)
            return;
        const char *id = json_string_value(json_object_get(o, "delete"));
        SbkError err = {0};
        int rc;
        if (sbk_jobs_busy(k->admin->jobs))
            rc = sbk_err(&err, SBK_ELIMIT, "a task is running: wait until it ends");
        else
            rc = id ? sbk_library_remove(k->lib, id, &err)
                    : sbk_err(&err, SBK_EINVAL, "send {\"delete\": LESSON_ID}");
        if (rc == 0)
            sbk_log(SBK_LOG_INFO, "admin: lesson %s deleted", id);
        json_decref(o);
        if (rc < 0) {
            sbk_reply_json_error(r, rc == SBK_ENOENT ? 404 : rc == SBK_ELIMIT ? 409
                                    : rc == SBK_EINVAL ? 400 : 500, err.msg);
            return;
        }
    }
    json_t *c = catalog(k);
    if (!c) {
        sbk_reply_json_error(r, 500, "the catalog could not be built");
        return;
    }
    sbk_reply_json_value(r, c);
}

/* ---- drives ---------------------------------------------------------------- */

static json_t *drive_object(SbkKiosk *k, const char *mount)
{
    const char *base = strrchr(mount, '/');
    json_t *d = json_pack("{s:s, s:s}", "mount", mount, "label", base && base[1] ? base + 1 : mount);
    SbkFsInfo fs;
    SbkError err = {0};
    if (sbk_carry_fs_info(mount, &fs, &err) == 0) {
        json_object_set_new(d, "fs", json_string(fs.type));
        json_object_set_new(d, "fat", json_boolean(fs.fat));
        json_object_set_new(d, "free", json_integer(fs.free_bytes));
        json_object_set_new(d, "total", json_integer(fs.total_bytes));
    }
    const char *src[1] = {mount};
    SbkImportOptions o = {.library = k->cfg.library_dir, .sources = src, .n_sources = 1};
    SbkPlanItem *items = NULL;
    size_t n = 0;
    json_t *list = json_array();
    if (sbk_carry_import_plan_list(&o, &items, &n, &err) < 0)
        json_object_set_new(d, "error", json_string(err.msg));
    /* Who signed each bundle, against the kiosk's trusted keys: a bad
     * signature is damage, and under require_signature = on a bundle no
     * trusted key signed is "untrusted" (import would refuse it). */
    SbkTrust *trust = NULL;
    if (k->cfg.trusted_dir)
        (void)sbk_trust_load(k->cfg.trusted_dir, &trust, NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        const SbkPlanItem *it = &items[i];
        SbkSignInfo si = {.state = SBK_SIG_UNSIGNED};
        SbkBundle *bb = NULL;
        int opened = it->id[0] && sbk_bundle_open(it->path, &bb, NULL) == 0;
        if (opened)
            sbk_sign_check_bundle(trust, bb, &si);
        sbk_bundle_close(&bb);
        const char *status = it->status;
        const char *detail = it->detail;
        if (opened && si.state == SBK_SIG_BAD) {
            status = "damaged";
            detail = si.reason;
        } else if (opened && si.state != SBK_SIG_TRUSTED &&
                   k->cfg.require_signature == SBK_SIGN_POLICY_ON) {
            status = "untrusted";
        }
        json_t *b = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s}", "name", it->name, "id", it->id,
                              "version", it->version, "size", (json_int_t)it->size, "status",
                              status, "signature", sbk_sign_state_name(si.state));
        if (b) {
            json_object_set_new(b, "publisher",
                                si.state == SBK_SIG_TRUSTED ? json_string(si.publisher) : json_null());
            if (detail[0])
                json_object_set_new(b, "detail", json_string(detail));
        }
        json_array_append_new(list, b);
    }
    sbk_trust_free(&trust);
    sbk_carry_plan_free(&items, n);
    json_object_set_new(d, "bundles", list);
    return d;
}

/* The mount, if it is one of the drives seen now (never any path a client names). */
static int known_mount(SbkKiosk *k, const char *mount)
{
    char (*mounts)[4096] = malloc(MAX_DRIVES * sizeof *mounts);
    size_t n = mounts ? sbk_drives_mounts(k, mounts, MAX_DRIVES) : 0;
    int found = 0;
    for (size_t i = 0; mount && i < n && !found; i++)
        found = strcmp(mounts[i], mount) == 0;
    free(mounts);
    return found;
}

/* {"import": {"mount": M, "bundles": [NAME, ...]}} or
 * {"export": {"mount": M, "lessons": [ID, ...]}}: a job. */
static int drive_job(SbkKiosk *k, json_t *o, SbkReply *r)
{
    json_t *imp = json_object_get(o, "import"), *exp = json_object_get(o, "export");
    json_t *a = imp ? imp : exp;
    const char *mount = json_string_value(json_object_get(a, "mount"));
    json_t *list = json_object_get(a, imp ? "bundles" : "lessons");
    if (!json_is_object(a) || !mount || !json_is_array(list) || !json_array_size(list) ||
        json_array_size(list) > 4096) {
        sbk_reply_json_error(r, 400, "send {\"import\": {\"mount\", \"bundles\"}} or "
                                     "{\"export\": {\"mount\", \"lessons\"}}");
        return -1;
    }
    if (!known_mount(k, mount)) {
        sbk_reply_json_error(r, 404, "no such drive is plugged in");
        return -1;
    }
    size_t n = json_array_size(list), got = 0;
    char **src = calloc(n, sizeof *src);
    SbkPlanItem *items = NULL;
    size_t n_items = 0;
    SbkError err = {0};
    int ret = src ? 0 : sbk_err(&err, SBK_ENOMEM, "out of memory");
    if (ret == 0 && imp) {
        /* Only bundles the plan found on that drive: by name, to their path. */
        const char *s1[1] = {mount};
        SbkImportOptions po = {.library = k->cfg.library_dir, .sources = s1, .n_sources = 1};
        ret = sbk_carry_import_plan_list(&po, &items, &n_items, &err);
    }
    for (size_t i = 0; ret == 0 && i < n; i++) {
        const char *v = json_string_value(json_array_get(list, i));
        const char *pick = NULL;
        for (size_t j = 0; imp && v && j < n_items; j++)
            if (items[j].path && strcmp(items[j].name, v) == 0)
                pick = items[j].path;
        if (exp && v && sbk_lesson_id_ok(v))
            pick = v;
        if (!pick)
            ret = sbk_err(&err, SBK_ENOENT, "%s is not there", v ? v : "(not a name)");
        else if (!(src[got++] = strdup(pick)))
            ret = sbk_err(&err, SBK_ENOMEM, "out of memory");
    }
    if (ret == 0) {
        const char *base = strrchr(mount, '/');
        SbkJobSpec spec = {.kind = imp ? "import" : "export", .sources = src, .n_sources = got,
                           .mount = mount, .label = base && base[1] ? base + 1 : mount};
        ret = sbk_jobs_start(k->admin->jobs, &spec, &err);
    }
    for (size_t i = 0; i < got; i++)
        free(src[i]);
    free(src);
    sbk_carry_plan_free(&items, n_items);
    if (ret < 0) {
        sbk_reply_json_error(r, ret == SBK_ELIMIT ? 409 : ret == SBK_ENOENT ? 404 : 500, err.msg);
        return -1;
    }
    sbk_reply_json_value(r, json_pack("{s:i}", "job", ret));
    r->status = 202;
    return 0;
}

void sbk_admin_handle_drives(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                             SbkReply *r)
{
    (void)m;
    if (q->post) {
        json_t *o = body_object(q, r);
        if (o)
            drive_job(k, o, r);
        json_decref(o);
        return;
    }
    /* The plan reads each bundle's central directory on this worker: a
     * drive of many bundles answers slowly (the page asks on demand). */
    char (*mounts)[4096] = malloc(MAX_DRIVES * sizeof *mounts);
    size_t n = mounts ? sbk_drives_mounts(k, mounts, MAX_DRIVES) : 0;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, drive_object(k, mounts[i]));
    free(mounts);
    sbk_reply_json_value(r, json_pack("{s:o, s:b}", "drives", list, "watching",
                                      k->usage && k->usage->drives));
}

/* ---- reports --------------------------------------------------------------- */

void sbk_admin_handle_stats(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                            SbkReply *r)
{
    sbk_usage_handle_stats(k, q, m, r); /* the same counts as /api/stats */
}

/* A lesson's title in lang (else ru, ky, en, else the id), for the CSV. */
static char *title_of(SbkKiosk *k, const char *id, const char *lang)
{
    char *json = NULL;
    size_t len = 0;
    char *out = NULL;
    if (sbk_library_lesson_json(k->lib, id, &json, &len) == 0) {
        json_t *o = json_loadb(json, len, 0, NULL);
        json_t *t = json_object_get(o, "title");
        const char *order[4] = {lang, "ru", "ky", "en"};
        for (int i = 0; i < 4 && !out; i++) {
            const char *s = order[i] ? json_string_value(json_object_get(t, order[i])) : NULL;
            if (s && *s)
                out = strdup(s);
        }
        json_decref(o);
        free(json);
    }
    return out ? out : strdup(id);
}

/* One CSV field: quoted when it holds a comma, quote or newline; a leading
 * = + - @ is neutralised (a spreadsheet would run it as a formula). */
static void csv_field(FILE *f, const char *s)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@", s[0]) != NULL;
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (strchr("=+-@", s[0]) && s[0])
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void sbk_admin_handle_stats_csv(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                                SbkReply *r)
{
    (void)m;
    SbkUsage *u = k->usage;
    char lang[8];
    if (sbk_route_query(q, "lang", lang, sizeof lang) != 0)
        snprintf(lang, sizeof lang, "ru");
    SbkStatsRow *rows = NULL;
    size_t n = 0;
    SbkError err = {0};
    int ret = SBK_EIO;
    if (u->stats) {
        pthread_mutex_lock(&u->lock);
        ret = sbk_stats_list(u->stats, &rows, &n, &err);
        pthread_mutex_unlock(&u->lock);
    }
    if (ret < 0) {
        sbk_reply_json_error(r, 503, "the play counts cannot be read");
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        free(rows);
        sbk_reply_json_error(r, 500, "out of memory");
        return;
    }
    /* UTF-8 with a BOM: Excel on Windows then reads the Cyrillic right. */
    fputs("\xEF\xBB\xBFlesson,title,month,plays,minutes\r\n", f);
    for (size_t i = 0; i < n; i++) {
        char *title = title_of(k, rows[i].lesson, lang);
        csv_field(f, rows[i].lesson);
        fputc(',', f);
        csv_field(f, title ? title : "");
        fprintf(f, ",%s,%lld,%.1f\r\n", rows[i].month, (long long)rows[i].plays,
                rows[i].seconds / 60.0);
        free(title);
    }
    fclose(f);
    free(rows);
    sbk_reply_owned(r, 200, "text/csv; charset=utf-8", buf, len);
    snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"sabak-plays.csv\"");
    r->cache = "no-store";
}

/* ---- trusted keys ------------------------------------------------------------ */

static int key_name_ok(const char *s)
{
    size_t l = s ? strlen(s) : 0;
    if (l < 5 || l > 100 || strcmp(s + l - 4, ".pub") != 0 || s[0] == '.')
        return 0;
    for (size_t i = 0; i < l; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
            return 0;
    return 1;
}

/* A minisign public key: "untrusted comment: ..." and one base64 line. */
static int key_text_ok(const char *t)
{
    const char *nl = t ? strchr(t, '\n') : NULL;
    if (!nl || strncmp(t, "untrusted comment:", 18) != 0 || strlen(t) > KEY_MAX_BYTES)
        return 0;
    const char *b = nl + 1;
    size_t bl = strcspn(b, "\r\n");
    if (bl != 56)
        return 0;
    for (size_t i = 0; i < bl; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", b[i]))
            return 0;
    return b[bl + strspn(b + bl, "\r\n")] == '\0';
}

static json_t *keys_list(const char *dir)
{
    json_t *list = json_array();
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!key_name_ok(de->d_name))
            continue;
        char *p = sbk_path_join(dir, de->d_name), *text = NULL;
        size_t len = 0;
        SbkError e = {0};
        json_t *o = json_pack("{s:s}", "name", de->d_name);
        if (p && sbk_read_file(p, KEY_MAX_BYTES, &text, &len, &e) == 0) {
            size_t cl = strcspn(text, "\r\n");
            json_object_set_new(o, "comment", json_stringn(text, cl));
        }
        free(text);
        free(p);
        json_array_append_new(list, o);
    }
    if (d)
        closedir(d);
    return list;
}

void sbk_admin_handle_keys(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)m;
    const char *dir = k->admin->keys_dir;
    if (q->post) {
        json_t *o = body_object(q, r);
        if (!o)
            return;
        json_t *add = json_object_get(o, "add");
        const char *rm = json_string_value(json_object_get(o, "remove"));
        const char *name = add ? json_string_value(json_object_get(add, "name")) : rm;
        const char *text = add ? json_string_value(json_object_get(add, "key")) : NULL;
        SbkError err = {0};
        int rc = 0;
        char *p = key_name_ok(name) ? sbk_path_join(dir, name) : NULL;
        if (!p)
            rc = sbk_err(&err, SBK_EINVAL, "a key file name is letters, digits, . _ - and ends in .pub");
        else if (add && !key_text_ok(text))
            rc = sbk_err(&err, SBK_EINVAL, "not a minisign public key (two lines: "
                                           "\"untrusted comment: ...\" and the key)");
        else if (add && mkdir(dir, 0755) < 0 && errno != EEXIST)
            rc = sbk_err_errno(&err, errno, "cannot make the keys folder %s", dir);
        else if (add)
            rc = sbk_atomic_write_file(p, text, strlen(text), &err);
        else if (unlink(p) < 0)
            rc = sbk_err_errno(&err, errno, "cannot remove %s", name);
        if (rc == 0)
            sbk_log(SBK_LOG_INFO, "admin: trusted key %s %s", name, add ? "added" : "removed");
        free(p);
        json_decref(o);
        if (rc < 0) {
            sbk_reply_json_error(r, rc == SBK_EINVAL ? 400 : rc == SBK_ENOENT ? 404 : 500, err.msg);
            return;
        }
    }
    sbk_reply_json_value(r, json_pack("{s:o, s:s}", "keys", keys_list(dir), "folder", dir));
}

/* ---- the system page ---------------------------------------------------------- */

void sbk_admin_handle_system(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                             SbkReply *r)
{
    (void)q, (void)m;
    int lessons = 0, damaged = 0;
    sbk_library_counts(k->lib, &lessons, &damaged);
    json_t *urls = json_array();
    const char *const *lan = NULL;
    size_t n_lan = sbk_kiosk_lan_urls(k, &lan);
    for (size_t i = 0; i < n_lan; i++)
        json_array_append_new(urls, json_string(lan[i]));
    json_t *o = json_pack("{s:s, s:o, s:i, s:i, s:s}", "version", SBK_VERSION, "urls", urls,
                          "lessons", lessons, "damaged", damaged, "name",
                          k->usage ? k->usage->id.name : "");
    SbkFsInfo fs;
    SbkError err = {0};
    if (sbk_carry_fs_info(k->cfg.library_dir, &fs, &err) == 0)
        json_object_set_new(o, "disk", json_pack("{s:s, s:I, s:I}", "fs", fs.type, "free",
                                                 (json_int_t)fs.free_bytes, "total",
                                                 (json_int_t)fs.total_bytes));
    sbk_reply_json_value(r, o);
}
