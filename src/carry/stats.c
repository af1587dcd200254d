/* The kiosk's play counts and identity, in its state folder.
 *
 * STATE/stats.sqlite holds one counter row per (lesson, month): plays and
 * seconds watched, and what of them has been reported to a drive. Nothing
 * about who watched is kept. WAL with synchronous=FULL: a counted play
 * survives a power cut once sbk_stats_record has returned.
 *
 * STATE/kiosk.json holds the kiosk's random id (made once) and its name. */
#include "carry_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct SbkStats {
    sqlite3 *db;
    SbkStatsRow *reported;  /* what the last report held */
    size_t n_reported;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS plays ("
    " lesson TEXT NOT NULL, month TEXT NOT NULL,"
    " plays INTEGER NOT NULL DEFAULT 0, seconds REAL NOT NULL DEFAULT 0,"
    " reported_plays INTEGER NOT NULL DEFAULT 0, reported_seconds REAL NOT NULL DEFAULT 0,"
    " PRIMARY KEY (lesson, month));";

char *sbk_state_dir_default(const char *library, int installed)
{
    if (installed)
        return strdup("/var/lib/sabak");
    return sbk_path_join(library, ".sabak-state");
}

static int db_err(SbkError *err, sqlite3 *db, const char *what)
{
    int code = sqlite3_errcode(db);
    return sbk_err(err, code == SQLITE_FULL ? SBK_ENOSPC : SBK_EIO, _("play counts: %s: %s"), what,
                   sqlite3_errmsg(db));
}

int sbk_stats_open(const char *state_dir, SbkStats **out, SbkError *err)
{
    *out = NULL;
    int ret = sbk_carry_mkdir(state_dir, err);
    if (ret < 0)
        return ret;
    SbkStats *s = calloc(1, sizeof *s);
    char *path = sbk_path_join(state_dir, "stats.sqlite");
    if (!s || !path) {
        free(s);
        free(path);
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        ret = sbk_err(err, SBK_EIO, _("cannot open %s: %s"), path,
                      s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        ret = db_err(err, s->db, path);
        goto fail;
    }
    free(path);
    *out = s;
    return 0;
fail:
    free(path);
    sbk_stats_close(&s);
    return ret;
}

void sbk_stats_close(SbkStats **ps)
{
    if (!ps || !*ps)
        return;
    sqlite3_close((*ps)->db);
    free((*ps)->reported);
    free(*ps);
    *ps = NULL;
}

int sbk_stats_record(SbkStats *s, const char *lesson_id, time_t when, int64_t plays,
                     double seconds, SbkError *err)
{
    if (!sbk_lesson_id_ok(lesson_id))
        return sbk_err(err, SBK_EINVAL, _("play counts: \"%s\" is not a lesson id"), lesson_id);
    if (plays < 0 || seconds < 0 || seconds > 1e7)
        return sbk_err(err, SBK_EINVAL, _("play counts: bad numbers for %s"), lesson_id);
    char month[8];
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(month, sizeof month, "%Y-%m", &tm);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO plays (lesson, month, plays, seconds) VALUES (?,?,?,?)"
                                " ON CONFLICT (lesson, month) DO UPDATE SET"
                                " plays = plays + excluded.plays,"
                                " seconds = seconds + excluded.seconds",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, lesson_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, month, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, plays);
        sqlite3_bind_double(st, 4, seconds);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_err(err, s->db, "cannot count a play");
}

int sbk_stats_record_many(SbkStats *s, const SbkStatsRow *rows, size_t n, time_t when,
                          SbkError *err)
{
    if (n == 1)
        return sbk_stats_record(s, rows[0].lesson, when, rows[0].plays, rows[0].seconds, err);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_err(err, s->db, "cannot count a play");
    for (size_t i = 0; i < n; i++) {
        int ret = sbk_stats_record(s, rows[i].lesson, when, rows[i].plays, rows[i].seconds, err);
        if (ret < 0) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return ret;
        }
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int ret = db_err(err, s->db, "cannot count a play");
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return ret;
    }
    return 0;
}

static int select_rows(SbkStats *s, const char *sql, SbkStatsRow **rows, size_t *n,
                       SbkError *err)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            SbkStatsRow *nr = realloc(*rows, cap * sizeof *nr);
            if (!nr) {
                sqlite3_finalize(st);
                free(*rows);
                *rows = NULL;
                *n = 0;
                return sbk_err(err, SBK_ENOMEM, _("out of memory"));
            }
            *rows = nr;
        }
        SbkStatsRow *r = &(*rows)[(*n)++];
        snprintf(r->lesson, sizeof r->lesson, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(r->month, sizeof r->month, "%s", (const char *)sqlite3_column_text(st, 1));
        r->plays = sqlite3_column_int64(st, 2);
        r->seconds = sqlite3_column_double(st, 3);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*rows);
        *rows = NULL;
        *n = 0;
        return db_err(err, s->db, "cannot read");
    }
    return 0;
}

int sbk_stats_list(SbkStats *s, SbkStatsRow **rows, size_t *n, SbkError *err)
{
    return select_rows(s, "SELECT lesson, month, plays, seconds FROM plays ORDER BY lesson, month",
                       rows, n, err);
}

/* A CSV field in double quotes (the kiosk name may hold commas). */
static void csv_quote(const char *s, char *out, size_t n)
{
    size_t k = 0;
    out[k++] = '"';
    for (; *s && k + 3 < n; s++) {
        if (*s == '"')
            out[k++] = '"';
        out[k++] = (*s == '\n' || *s == '\r') ? ' ' : *s;
    }
    out[k++] = '"';
    out[k] = '\0';
}

int sbk_stats_report_csv(SbkStats *s, const SbkKioskId *k, char **csv, size_t *len, SbkError *err)
{
    SbkStatsRow *rows = NULL;
    size_t n = 0, cap = 4096, l = 0;
    *csv = NULL;
    *len = 0;
    int ret = select_rows(s,
                          "SELECT lesson, month, plays, seconds FROM plays WHERE plays > "
                          "reported_plays OR seconds > reported_seconds ORDER BY lesson, month",
                          &rows, &n, err);
    if (ret < 0)
        return ret;
    char *buf = malloc(cap);
    if (!buf) {
        free(rows);
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    }
    l = (size_t)snprintf(buf, cap, "kiosk_id,kiosk_name,lesson,month,plays,seconds\n");
    char qname[300];
    csv_quote(k->name, qname, sizeof qname);
    for (size_t i = 0; i < n; i++) {
        char line[512];
        int ll = snprintf(line, sizeof line, "%s,%s,%s,%s,%lld,%.1f\n", k->id, qname,
                          rows[i].lesson, rows[i].month, (long long)rows[i].plays,
                          rows[i].seconds);
        if (ll < 0 || (size_t)ll >= sizeof line)
            continue;
        if (l + (size_t)ll + 1 > cap) {
            cap = (l + (size_t)ll + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                free(rows);
                return sbk_err(err, SBK_ENOMEM, _("out of memory"));
            }
            buf = nb;
        }
        memcpy(buf + l, line, (size_t)ll + 1);
        l += (size_t)ll;
    }
    free(s->reported);
    s->reported = rows;
    s->n_reported = n;
    *csv = buf;
    *len = l;
    return 0;
}

int sbk_stats_mark_reported(SbkStats *s, SbkError *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db,
                                "UPDATE plays SET reported_plays = MAX(reported_plays, ?),"
                                " reported_seconds = MAX(reported_seconds, ?)"
                                " WHERE lesson = ? AND month = ?",
                                -1, &st, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < s->n_reported; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, s->reported[i].plays);
        sqlite3_bind_double(st, 2, s->reported[i].seconds);
        sqlite3_bind_text(st, 3, s->reported[i].lesson, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, s->reported[i].month, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int ret = db_err(err, s->db, "cannot mark the report");
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return ret;
    }
    free(s->reported);
    s->reported = NULL;
    s->n_reported = 0;
    return 0;
}

int sbk_state_identity(const char *state_dir, const char *name, SbkKioskId *out, SbkError *err)
{
    memset(out, 0, sizeof *out);
    int ret = sbk_carry_mkdir(state_dir, err);
    if (ret < 0)
        return ret;
    char *path = sbk_path_join(state_dir, "kiosk.json"), *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    int dirty = 0;
    if (!path)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    SbkError e2 = {0};
    if (sbk_read_file(path, 1 << 16, &text, &len, &e2) == 0)
        root = json_loadb(text, len, 0, NULL);
    const char *id = root ? json_string_value(json_object_get(root, "id")) : NULL;
    const char *stored = root ? json_string_value(json_object_get(root, "name")) : NULL;
    if (id && strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32) {
        memcpy(out->id, id, 33);
    } else {
        unsigned char rnd[16];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            ret = sbk_err_errno(err, errno, _("cannot make a kiosk id"));
            goto done;
        }
        for (int i = 0; i < 16; i++)
            snprintf(out->id + 2 * i, 3, "%02x", rnd[i]);
        dirty = 1;
    }
    if (name && *name) {
        snprintf(out->name, sizeof out->name, "%s", name);
        dirty |= !stored || strcmp(stored, out->name) != 0;
    } else if (stored && *stored) {
        snprintf(out->name, sizeof out->name, "%s", stored);
    } else {
        gethostname(out->name, sizeof out->name - 1);
        dirty = 1;
    }
    if (dirty) {
        json_t *o = json_pack("{s:s, s:s}", "id", out->id, "name", out->name);
        char *dump = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!dump) {
            ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
            goto done;
        }
        ret = sbk_atomic_write_file(path, dump, strlen(dump), err);
        free(dump);
        if (ret < 0)
            goto done;
    }
    ret = 0;
done:
    json_decref(root);
    free(text);
    free(path);
    return ret;
}
