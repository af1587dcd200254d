/* src/kiosk/usage.c - play counts: POST /api/plays records what the web
 * app's player reports, GET /api/stats returns the counts per lesson and
 * per month. The counters live in STATE/stats.sqlite (libsabak-carry,
 * WAL + synchronous=FULL); nothing about who watched is stored. The
 * client's address is only held in memory, in the rate limiter.
 *
 * The insert runs inline on the MHD worker, under one mutex: a report is
 * at most SBK_PLAYS_MAX_EVENTS events, summed per lesson and written in one
 * transaction, so one fsync of the WAL (about a millisecond on an SSD, tens
 * on an SD card). A worker never waits on anything slower. */
#include "kiosk/usage.h"

#include <jansson.h>
#include <math.h> /* isfinite only: no libm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kiosk/library.h"
#include "kiosk/routes.h"
#include "sabak/core.h"

/* Non-negative numbers only; without libm. */
static double dmin(double a, double b) { return a < b ? a : b; }
static double dfloor(double x) { return (double)(int64_t)x; }
static double dround(double x) { return (double)(int64_t)(x + 0.5); }

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sbk_usage_start(SbkKiosk *k, SbkError *err)
{
    SbkUsage *u = calloc(1, sizeof *u);
    if (!u)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    pthread_mutex_init(&u->lock, NULL);
    k->usage = u;
    u->state_dir = k->cfg.state_dir ? strdup(k->cfg.state_dir)
                                    : sbk_state_dir_default(k->cfg.library_dir, 0);
    if (!u->state_dir)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    /* Without its state folder (a read-only disk, a wrong --state) the
     * kiosk still serves every lesson: it only stops counting, and says so. */
    SbkError e2 = {0};
    if (sbk_state_identity(u->state_dir, k->cfg.name, &u->id, &e2) < 0 ||
        sbk_stats_open(u->state_dir, &u->stats, &e2) < 0)
        sbk_log(SBK_LOG_WARN, "plays are not counted: state folder %s (--state DIR): %s",
                u->state_dir, e2.msg);
    return sbk_drives_start(k, err);
}

void sbk_usage_stop(SbkKiosk *k)
{
    SbkUsage *u = k ? k->usage : NULL;
    if (!u)
        return;
    sbk_drives_stop(k);
    sbk_stats_close(&u->stats);
    pthread_mutex_destroy(&u->lock);
    free(u->state_dir);
    free(u);
    k->usage = NULL;
}

/* ---- the rate limiter ------------------------------------------------------ */

/* The bucket of one client address (lock held): a small open-addressed
 * table; when the probe finds no room the stalest slot is taken over. */
static SbkRateSlot *rate_slot(SbkUsage *u, const char *ip, double now)
{
    uint32_t h = 2166136261u;
    for (const char *p = ip; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    SbkRateSlot *stalest = NULL;
    for (unsigned i = 0; i < 16; i++) {
        SbkRateSlot *s = &u->rate[(h + i) % SBK_RATE_SLOTS];
        if (s->ip[0] && strcmp(s->ip, ip) == 0)
            return s;
        if (!s->ip[0] || !stalest || s->t < stalest->t)
            stalest = s;
        if (!s->ip[0])
            break;
    }
    snprintf(stalest->ip, sizeof stalest->ip, "%s", ip);
    stalest->plays = SBK_RATE_PLAYS_BURST;
    stalest->secs = SBK_RATE_SECS_BURST;
    stalest->t = now;
    return stalest;
}

static void rate_refill(SbkRateSlot *s, double now)
{
    double dt = now > s->t ? now - s->t : 0;
    s->plays = dmin(SBK_RATE_PLAYS_BURST, s->plays + dt * SBK_RATE_PLAYS_PER_S);
    s->secs = dmin(SBK_RATE_SECS_BURST, s->secs + dt * SBK_RATE_SECS_PER_S);
    s->t = now;
}

/* ---- POST /api/plays ------------------------------------------------------- */

/* One event: {"lesson": ID, "play": 0|1|true|false, "seconds": 0..600}. */
static int parse_event(json_t *e, const char **lesson, int *play, double *secs)
{
    json_t *l = json_object_get(e, "lesson"), *p = json_object_get(e, "play"),
           *s = json_object_get(e, "seconds");
    if (!json_is_object(e) || !json_is_string(l) || !sbk_lesson_id_ok(json_string_value(l)))
        return -1;
    *lesson = json_string_value(l);
    *play = 0;
    if (json_is_true(p) || (json_is_integer(p) && json_integer_value(p) == 1))
        *play = 1;
    else if (p && !json_is_false(p) && !(json_is_integer(p) && json_integer_value(p) == 0))
        return -1;
    *secs = 0;
    if (s) {
        if (!json_is_number(s))
            return -1;
        *secs = json_number_value(s);
        if (!isfinite(*secs) || *secs < 0 || *secs > SBK_PLAYS_MAX_SECONDS)
            return -1;
    }
    return 0;
}

static int lesson_known(SbkKiosk *k, const char *id)
{
    SbkResolved res;
    if (sbk_library_resolve_bundle(k->lib, id, &res) != 0)
        return 0;
    sbk_resolved_clear(&res);
    return 1;
}

void sbk_usage_handle_plays(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                            SbkReply *r)
{
    (void)m;
    SbkUsage *u = k->usage;
    if (!q->post) {
        sbk_reply_json_error(r, 405, "send the plays with POST");
        r->allow = "POST";
        return;
    }
    if (!u->stats) {
        sbk_reply_json_error(r, 503, "this kiosk cannot store play counts (see its log)");
        return;
    }
    const char *ct = q->content_type ? q->content_type : "";
    if (strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
        /* Not a form or text/plain: a page of another site cannot post here
         * without a CORS preflight, which this kiosk never allows. */
        sbk_reply_json_error(r, 415, "the body must be application/json");
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(q->body ? q->body : "", q->body_len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *events = root ? json_object_get(root, "events") : NULL;
    size_t n = json_array_size(events);
    if (!json_is_array(events) || n == 0 || n > SBK_PLAYS_MAX_EVENTS) {
        json_decref(root);
        sbk_reply_json_error(r, 400, "expected {\"events\": [{\"lesson\", \"play\", \"seconds\"}, ...]} "
                                     "with 1 to 32 events");
        return;
    }
    SbkStatsRow rows[SBK_PLAYS_MAX_EVENTS];
    size_t n_rows = 0;
    int unknown = 0, limited = 0, counted = 0;
    for (size_t i = 0; i < n; i++) {
        const char *lesson;
        int play;
        double secs;
        if (parse_event(json_array_get(events, i), &lesson, &play, &secs) != 0) {
            json_decref(root);
            sbk_reply_json_error(r, 400, "an event needs a lesson id, play 0 or 1, and seconds "
                                         "from 0 to 600");
            return;
        }
        if (!lesson_known(k, lesson)) {
            unknown++; /* removed since it was played: nothing to retry */
            continue;
        }
        size_t j = 0;
        while (j < n_rows && strcmp(rows[j].lesson, lesson) != 0)
            j++;
        if (j == n_rows) {
            memset(&rows[j], 0, sizeof rows[j]);
            snprintf(rows[j].lesson, sizeof rows[j].lesson, "%s", lesson);
            n_rows++;
        }
        rows[j].plays += play;
        rows[j].seconds += secs;
    }
    json_decref(root);
    double now = mono_now();
    SbkError err = {0};
    int ret = 0;
    pthread_mutex_lock(&u->lock);
    SbkRateSlot *s = rate_slot(u, q->client ? q->client : "-", now);
    rate_refill(s, now);
    for (size_t j = 0; j < n_rows; j++) {
        if (rows[j].plays > (int64_t)s->plays) {
            limited++;
            rows[j].plays = (int64_t)s->plays;
        }
        s->plays -= (double)rows[j].plays;
        if (rows[j].seconds > s->secs) {
            limited++;
            rows[j].seconds = dfloor(s->secs);
        }
        s->secs -= rows[j].seconds;
        counted += rows[j].plays > 0 || rows[j].seconds > 0;
    }
    if (n_rows)
        ret = sbk_stats_record_many(u->stats, rows, n_rows, time(NULL), &err);
    pthread_mutex_unlock(&u->lock);
    if (ret < 0) {
        sbk_log(SBK_LOG_WARN, "%s", err.msg);
        sbk_reply_json_error(r, 503, "the play could not be stored; try again later");
        return;
    }
    if (limited)
        sbk_log(SBK_LOG_INFO, "plays from %s over the rate limit: cut", q->client ? q->client : "-");
    char *out = NULL;
    if (asprintf(&out, "{\"lessons\":%d,\"unknown\":%d,\"limited\":%d}", counted, unknown,
                 limited) < 0) {
        sbk_reply_json_error(r, 500, "out of memory");
        return;
    }
    sbk_reply_owned(r, 200, "application/json", out, strlen(out));
    r->cache = "no-store";
}

/* ---- GET /api/stats -------------------------------------------------------- */

static double minutes(double seconds) { return dround(seconds / 6.0) / 10.0; }

static json_t *counter(const char *key, const char *value, int64_t plays, double seconds)
{
    return json_pack("{s:s, s:I, s:f, s:f}", key, value, "plays", (json_int_t)plays, "seconds",
                     dround(seconds * 10) / 10, "minutes", minutes(seconds));
}

void sbk_usage_handle_stats(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                            SbkReply *r)
{
    (void)q;
    (void)m;
    SbkUsage *u = k->usage;
    SbkStatsRow *rows = NULL;
    size_t n = 0;
    SbkError err = {0};
    if (!u->stats) {
        sbk_reply_json_error(r, 503, "this kiosk cannot store play counts (see its log)");
        return;
    }
    pthread_mutex_lock(&u->lock);
    int ret = sbk_stats_list(u->stats, &rows, &n, &err);
    pthread_mutex_unlock(&u->lock);
    if (ret < 0) {
        sbk_log(SBK_LOG_WARN, "%s", err.msg);
        sbk_reply_json_error(r, 503, "the play counts cannot be read");
        return;
    }
    json_t *lessons = json_array(), *months = json_array();
    int64_t total_plays = 0;
    double total_secs = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int64_t plays = 0;
        double secs = 0;
        json_t *per_month = json_array();
        for (; j < n && strcmp(rows[j].lesson, rows[i].lesson) == 0; j++) {
            plays += rows[j].plays;
            secs += rows[j].seconds;
            json_array_append_new(per_month, counter("month", rows[j].month, rows[j].plays,
                                                     rows[j].seconds));
        }
        json_t *l = counter("lesson", rows[i].lesson, plays, secs);
        json_object_set_new(l, "months", per_month);
        json_array_append_new(lessons, l);
        total_plays += plays;
        total_secs += secs;
        i = j;
    }
    /* Per month over every lesson: months sorted, few (one a month). */
    char done_month[8] = "";
    for (;;) {
        const char *next = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].month, done_month) > 0 && (!next || strcmp(rows[i].month, next) < 0))
                next = rows[i].month;
        if (!next)
            break;
        int64_t plays = 0;
        double secs = 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].month, next) == 0) {
                plays += rows[i].plays;
                secs += rows[i].seconds;
            }
        json_array_append_new(months, counter("month", next, plays, secs));
        snprintf(done_month, sizeof done_month, "%s", next);
    }
    free(rows);
    json_t *o = json_pack("{s:{s:s, s:s}, s:I, s:f, s:f, s:o, s:o}", "kiosk", "id", u->id.id, "name",
                          u->id.name, "plays", (json_int_t)total_plays, "seconds",
                          dround(total_secs * 10) / 10, "minutes", minutes(total_secs), "lessons",
                          lessons, "months", months);
    sbk_reply_json_value(r, o);
}

/* ---- GET /api/drives --------------------------------------------------------- */

void sbk_usage_handle_drives(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                             SbkReply *r)
{
    (void)q;
    (void)m;
    char *s = sbk_drives_json(k);
    if (!s) {
        sbk_reply_json_error(r, 500, "out of memory");
        return;
    }
    sbk_reply_owned(r, 200, "application/json", s, strlen(s));
    r->cache = "no-store";
}
