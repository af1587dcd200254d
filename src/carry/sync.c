/* The drive keeps offices in sync: what each office holds
 * (MOUNT/sabak/offices/<kiosk-id>.json) and how much its lessons were
 * watched (MOUNT/sabak/reports/<kiosk-id>-<yyyy-mm-dd>.csv), and the merge
 * of those reports at the base (sabak reports).
 *
 * Reports carry cumulative counters per (lesson, month), not differences:
 * the merge keeps the highest count per (kiosk, lesson, month), so a report
 * read twice, copied to two drives or written again after a crash never
 * counts anything twice. */
#include "carry_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OFFICE_MAX_BYTES (4u << 20)
#define REPORT_MAX_BYTES (64u << 20)

static int write_office(const char *offices, const SbkKioskId *k, const CarryBundle *lib,
                        size_t n, SbkError *err)
{
    char when[32], path[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "format", json_string("sabak-office"));
    json_object_set_new(o, "format_version", json_integer(1));
    json_object_set_new(o, "kiosk_id", json_string(k->id));
    json_object_set_new(o, "name", json_string(k->name));
    json_object_set_new(o, "time", json_string(when));
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(lib[i + 1].id, lib[i].id) == 0)
            continue; /* sorted: keep the newest of each lesson */
        json_t *l = json_object();
        json_object_set_new(l, "id", json_string(lib[i].id));
        json_object_set_new(l, "version", json_integer(lib[i].version));
        json_object_set_new(l, "manifest_sha256", json_string(lib[i].manifest_sha));
        if (lib[i].reduced)
            json_object_set_new(l, "reduced", json_true());
        json_array_append_new(arr, l);
    }
    json_object_set_new(o, "lessons", arr);
    char *dump = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!dump)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    snprintf(path, sizeof path, "%s/%s.json", offices, k->id);
    size_t len = strlen(dump);
    char *text = realloc(dump, len + 2);
    if (!text) {
        free(dump);
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    }
    dump = text;
    dump[len++] = '\n';
    int ret = sbk_atomic_write_file(path, dump, len, err);
    free(dump);
    return ret;
}

/* Append the new rows to an existing same-day report (the merge takes the
 * highest count per key, so old rows stay correct). */
static int write_report(const char *reports, const SbkKioskId *k, const char *csv, size_t len,
                        SbkError *err)
{
    char day[16], path[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(path, sizeof path, "%s/%s-%s.csv", reports, k->id, day);
    char *old = NULL, *all = NULL;
    size_t olen = 0;
    SbkError e2 = {0};
    if (sbk_read_file(path, REPORT_MAX_BYTES, &old, &olen, &e2) == 0 && olen > 0) {
        const char *body = strchr(csv, '\n');
        body = body ? body + 1 : csv + len;
        size_t blen = len - (size_t)(body - csv);
        all = malloc(olen + blen + 2);
        if (!all) {
            free(old);
            return sbk_err(err, SBK_ENOMEM, _("out of memory"));
        }
        memcpy(all, old, olen);
        if (old[olen - 1] != '\n')
            all[olen++] = '\n';
        memcpy(all + olen, body, blen);
        len = olen + blen;
        csv = all;
    }
    int ret = sbk_atomic_write_file(path, csv, len, err);
    free(old);
    free(all);
    return ret;
}

int sbk_carry_sync_drive(CarryRun *r, const char *sabak_dir, const char *library,
                     const char *state_dir, const char *kiosk_name, SbkError *err)
{
    char offices[2048], reports[2048];
    SbkKioskId k;
    CarryBundle *lib = NULL;
    size_t n = 0, len = 0;
    SbkStats *st = NULL;
    char *csv = NULL;
    int ret;
    snprintf(offices, sizeof offices, "%s/offices", sabak_dir);
    snprintf(reports, sizeof reports, "%s/reports", sabak_dir);
    if ((ret = sbk_state_identity(state_dir, kiosk_name, &k, err)) < 0 ||
        (ret = sbk_carry_mkdir(offices, err)) < 0 || (ret = sbk_carry_mkdir(reports, err)) < 0 ||
        (ret = sbk_carry_list_dir(library, NULL, &lib, &n, err)) < 0 ||
        (ret = write_office(offices, &k, lib, n, err)) < 0)
        goto done;
    sbk_carry_event(r, SBK_CARRY_NOTE, k.id, _("office record written for \"%s\" (%s/%s.json)"), k.name,
                offices, k.id);
    if ((ret = sbk_stats_open(state_dir, &st, err)) < 0 ||
        (ret = sbk_stats_report_csv(st, &k, &csv, &len, err)) < 0)
        goto done;
    const char *nl = strchr(csv, '\n');
    if (nl && nl[1]) {
        if ((ret = write_report(reports, &k, csv, len, err)) < 0 ||
            (ret = sbk_stats_mark_reported(st, err)) < 0)
            goto done;
        sbk_carry_event(r, SBK_CARRY_NOTE, k.id, _("usage report written to %s"), reports);
    } else {
        sbk_carry_event(r, SBK_CARRY_NOTE, k.id, _("no new plays to report since the last visit"));
    }
    ret = 0;
done:
    free(csv);
    sbk_stats_close(&st);
    sbk_carry_list_free(&lib, n);
    return ret;
}

void sbk_carry_offices_free(CarryOffice **o, size_t n)
{
    if (!o || !*o)
        return;
    for (size_t i = 0; i < n; i++) {
        free((*o)[i].kiosk_id);
        free((*o)[i].name);
        for (size_t k = 0; k < (*o)[i].n; k++)
            free((*o)[i].lessons[k].id);
        free((*o)[i].lessons);
    }
    free(*o);
    *o = NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int sbk_carry_offices_read(const char *sabak_dir, CarryRun *r, CarryOffice **out, size_t *n,
                       SbkError *err)
{
    char dir[2048];
    *out = NULL;
    *n = 0;
    snprintf(dir, sizeof dir, "%s/offices", sabak_dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* no office has written yet */
    CarryOffice *list = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !ends_with(de->d_name, ".json"))
            continue;
        char path[2400], *text = NULL;
        size_t len = 0;
        SbkError e2 = {0};
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        json_t *root = NULL;
        if (sbk_read_file(path, OFFICE_MAX_BYTES, &text, &len, &e2) == 0)
            root = json_loadb(text, len, 0, NULL);
        free(text);
        const char *kid = root ? json_string_value(json_object_get(root, "kiosk_id")) : NULL;
        json_t *ls = root ? json_object_get(root, "lessons") : NULL;
        if (!kid || !json_is_array(ls)) {
            sbk_carry_event(r, SBK_CARRY_NOTE, de->d_name, _("not an office record; ignored"));
            json_decref(root);
            continue;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            CarryOffice *nl = realloc(list, cap * sizeof *nl);
            if (!nl) {
                json_decref(root);
                break;
            }
            list = nl;
        }
        CarryOffice *of = &list[cnt++];
        memset(of, 0, sizeof *of);
        of->kiosk_id = strdup(kid);
        const char *nm = json_string_value(json_object_get(root, "name"));
        of->name = strdup(nm ? nm : kid);
        of->lessons = calloc(json_array_size(ls) + 1, sizeof *of->lessons);
        size_t i;
        json_t *v;
        json_array_foreach(ls, i, v) {
            const char *id = json_string_value(json_object_get(v, "id"));
            if (!id || !of->lessons)
                continue;
            of->lessons[of->n].id = strdup(id);
            of->lessons[of->n].version = (int)json_integer_value(json_object_get(v, "version"));
            of->n++;
        }
        json_decref(root);
    }
    closedir(d);
    *out = list;
    *n = cnt;
    (void)err;
    return 0;
}

/* ---- sabak reports ------------------------------------------------------ */
typedef struct Row {
    char kiosk[40];
    char name[256];
    char lesson[65];
    char month[8];
    long long plays;
    double seconds;
} Row;

/* Split one CSV line into at most max fields (double quotes, "" inside). */
static int csv_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *o = p;
        f[n++] = p;
        if (*p == '"') {
            char *q = p + 1;
            for (;;) {
                if (*q == '\0')
                    return -1;
                if (*q == '"' && q[1] == '"') {
                    *o++ = '"';
                    q += 2;
                } else if (*q == '"') {
                    q++;
                    break;
                } else {
                    *o++ = *q++;
                }
            }
            *o = '\0';
            if (*q == ',') {
                p = q + 1;
                continue;
            }
            return *q == '\0' ? n : -1;
        }
        char *c = strchr(p, ',');
        if (!c)
            return n;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int add_row(Row **rows, size_t *n, size_t *cap, const Row *r)
{
    for (size_t i = 0; i < *n; i++) {
        Row *x = &(*rows)[i];
        if (strcmp(x->kiosk, r->kiosk) == 0 && strcmp(x->lesson, r->lesson) == 0 &&
            strcmp(x->month, r->month) == 0) {
            if (r->plays > x->plays)
                x->plays = r->plays;
            if (r->seconds > x->seconds)
                x->seconds = r->seconds;
            return 0;
        }
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        Row *nr = realloc(*rows, *cap * sizeof *nr);
        if (!nr)
            return -1;
        *rows = nr;
    }
    (*rows)[(*n)++] = *r;
    return 0;
}

static int parse_report(const char *path, Row **rows, size_t *n, size_t *cap, SbkError *err)
{
    char *text = NULL;
    size_t len = 0;
    int ret = sbk_read_file(path, REPORT_MAX_BYTES, &text, &len, err);
    if (ret < 0)
        return ret;
    char *save = NULL;
    int line_no = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[l - 1] = '\0';
        if (line_no == 1 || !*line)
            continue; /* the header */
        char *f[6];
        Row r = {0};
        if (csv_split(line, f, 6) != 6 || strlen(f[0]) >= sizeof r.kiosk ||
            !sbk_lesson_id_ok(f[2]) || strlen(f[3]) != 7) {
            ret = sbk_err(err, SBK_EINVAL, _("%s:%d: not a usage report line"), path, line_no);
            break;
        }
        snprintf(r.kiosk, sizeof r.kiosk, "%s", f[0]);
        snprintf(r.name, sizeof r.name, "%s", f[1]);
        snprintf(r.lesson, sizeof r.lesson, "%s", f[2]);
        snprintf(r.month, sizeof r.month, "%s", f[3]);
        r.plays = strtoll(f[4], NULL, 10);
        r.seconds = strtod(f[5], NULL);
        if (add_row(rows, n, cap, &r) < 0) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
            break;
        }
    }
    free(text);
    return ret;
}

static int cmp_row(const void *a, const void *b)
{
    const Row *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (!c)
        c = strcmp(x->kiosk, y->kiosk);
    if (!c)
        c = strcmp(x->lesson, y->lesson);
    return c ? c : strcmp(x->month, y->month);
}

int sbk_carry_reports(const char *mount, char **csv, size_t *len, SbkError *err)
{
    char dir[2048];
    Row *rows = NULL;
    size_t n = 0, cap = 0;
    int ret = 0;
    *csv = NULL;
    *len = 0;
    snprintf(dir, sizeof dir, "%s/sabak/reports", mount);
    DIR *d = opendir(dir);
    if (!d)
        return sbk_err_errno(err, errno, _("no usage reports on %s (looked in %s)"), mount, dir);
    struct dirent *de;
    while (ret == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !ends_with(de->d_name, ".csv"))
            continue;
        char path[2400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        ret = parse_report(path, &rows, &n, &cap, err);
    }
    closedir(d);
    if (ret < 0) {
        free(rows);
        return ret;
    }
    /* the office's current name: from its office record when there is one */
    char sabak_dir[2100];
    snprintf(sabak_dir, sizeof sabak_dir, "%s/sabak", mount);
    CarryOffice *of = NULL;
    size_t n_of = 0;
    sbk_carry_offices_read(sabak_dir, NULL, &of, &n_of, err);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n_of; k++)
            if (strcmp(of[k].kiosk_id, rows[i].kiosk) == 0)
                snprintf(rows[i].name, sizeof rows[i].name, "%s", of[k].name);
    sbk_carry_offices_free(&of, n_of);
    if (n)
        qsort(rows, n, sizeof *rows, cmp_row);
    size_t bcap = 64 + n * 400;
    char *buf = malloc(bcap);
    if (!buf) {
        free(rows);
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    }
    size_t l = (size_t)snprintf(buf, bcap, "office,kiosk_id,lesson,month,plays,minutes\n");
    for (size_t i = 0; i < n; i++) {
        char q[600];
        size_t k = 0;
        q[k++] = '"';
        for (const char *s = rows[i].name; *s && k < sizeof q - 3; s++) {
            if (*s == '"')
                q[k++] = '"';
            q[k++] = *s;
        }
        q[k++] = '"';
        q[k] = '\0';
        l += (size_t)snprintf(buf + l, bcap - l, "%s,%s,%s,%s,%lld,%.1f\n", q, rows[i].kiosk,
                              rows[i].lesson, rows[i].month, rows[i].plays,
                              rows[i].seconds / 60.0);
    }
    free(rows);
    *csv = buf;
    *len = l;
    return 0;
}
