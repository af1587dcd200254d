/* src/kiosk/admin_jobs.c - the admin area's background jobs: an upload
 * (the staged file through sbk_carry_import), an import from a drive
 * (sbk_carry_import of the chosen bundles, then the drive's sync step) and
 * an export (sbk_carry_export). One at a time, in a thread of its own at
 * idle I/O priority (ioprio_set) and the lowest CPU priority, so serving
 * never waits on it. Progress comes from the carry library's callbacks;
 * cancel sets the flag those functions poll. A cancelled or failed job
 * leaves the library as the carry functions do: every bundle is verified
 * in a hidden part file and renamed into place whole, or not at all. */
#include "kiosk/admin.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kiosk/library.h"
#include "kiosk/usage.h"
#include "sabak/carry.h"
#include "sabak/core.h"
#include "sabak/kiosk.h"
#include "sabak/sign.h"

#define JOBS_KEPT 8
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

enum { J_RUNNING = 0, J_DONE, J_FAILED, J_CANCELED };
static const char *const job_states[] = {"running", "done", "failed", "canceled"};

typedef struct Job {
    int id;
    char kind[16];
    char label[160];
    int state;
    char step[16];
    char name[160];
    int64_t done, total;     /* bytes of the whole run */
    int copied, skipped, refused;
    char error[512];
    char last[320];          /* the last event, one line */
    int64_t started, ended;  /* wall clock seconds */
} Job;

struct SbkJobs {
    SbkKiosk *k;
    pthread_mutex_t lock;
    pthread_mutex_t start_lock; /* one sbk_jobs_start at a time (HTTP workers) */
    pthread_t thread;
    int joinable;
    volatile int cancel;
    Job jobs[JOBS_KEPT];     /* [0] newest */
    size_t n;
    int next_id;
    /* the running job's arguments (the thread's own) */
    char **sources;
    size_t n_sources;
    char *mount;
};

int sbk_jobs_new(SbkKiosk *k, SbkJobs **out)
{
    SbkJobs *j = calloc(1, sizeof *j);
    if (!j)
        return SBK_ENOMEM;
    j->k = k;
    j->next_id = 1;
    pthread_mutex_init(&j->lock, NULL);
    pthread_mutex_init(&j->start_lock, NULL);
    *out = j;
    return 0;
}

static void free_args(SbkJobs *j)
{
    for (size_t i = 0; i < j->n_sources; i++)
        free(j->sources[i]);
    free(j->sources);
    free(j->mount);
    j->sources = NULL;
    j->n_sources = 0;
    j->mount = NULL;
}

void sbk_jobs_free(SbkJobs **pj)
{
    SbkJobs *j = pj ? *pj : NULL;
    if (!j)
        return;
    __atomic_store_n(&j->cancel, 1, __ATOMIC_RELAXED);
    if (j->joinable)
        pthread_join(j->thread, NULL);
    free_args(j);
    pthread_mutex_destroy(&j->lock);
    pthread_mutex_destroy(&j->start_lock);
    free(j);
    *pj = NULL;
}

int sbk_jobs_busy(SbkJobs *j)
{
    if (!j)
        return 0;
    pthread_mutex_lock(&j->lock);
    int busy = j->n && j->jobs[0].state == J_RUNNING;
    pthread_mutex_unlock(&j->lock);
    return busy;
}

static void on_progress(void *opaque, const SbkCarryProgress *p)
{
    SbkJobs *j = opaque;
    pthread_mutex_lock(&j->lock);
    Job *job = &j->jobs[0];
    snprintf(job->step, sizeof job->step, "%s", p->step ? p->step : "");
    snprintf(job->name, sizeof job->name, "%s", p->name ? p->name : "");
    job->done = p->all_done;
    job->total = p->all_total;
    pthread_mutex_unlock(&j->lock);
}

static void on_event(void *opaque, SbkCarryEvent ev, const char *name, const char *detail)
{
    SbkJobs *j = opaque;
    pthread_mutex_lock(&j->lock);
    Job *job = &j->jobs[0];
    job->copied += ev == SBK_CARRY_COPIED;
    job->skipped += ev == SBK_CARRY_SKIPPED;
    job->refused += ev == SBK_CARRY_REFUSED;
    snprintf(job->last, sizeof job->last, "%s: %s", name ? name : "", detail ? detail : "");
    pthread_mutex_unlock(&j->lock);
}

static void *job_thread(void *arg)
{
    SbkJobs *j = arg;
    SbkKiosk *k = j->k;
    /* Idle I/O class: the disk serves lessons first. */
    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
    char kind[16];
    pthread_mutex_lock(&j->lock);
    snprintf(kind, sizeof kind, "%s", j->jobs[0].kind);
    pthread_mutex_unlock(&j->lock);
    SbkCarryCallbacks cb = {.progress = on_progress, .event = on_event, .opaque = j,
                            .cancel = (const volatile int *)&j->cancel};
    SbkError err = {0};
    int ret;
    if (strcmp(kind, "export") == 0) {
        SbkExportOptions o = {.library = k->cfg.library_dir, .mount = j->mount,
                              .lessons = (const char *const *)j->sources,
                              .n_lessons = j->n_sources, .margin = -1};
        ret = sbk_carry_export(&o, &cb, &err);
    } else {
        /* upload and import: the CLI's import, under the kiosk's signature
         * policy (a bad signature is always refused; with require_signature
         * = on, so is a bundle no trusted key signed); a drive's sync step
         * follows. */
        SbkTrust *trust = NULL;
        if (k->cfg.trusted_dir)
            (void)sbk_trust_load(k->cfg.trusted_dir, &trust, NULL, NULL, NULL);
        SbkImportOptions o = {.library = k->cfg.library_dir,
                              .sources = (const char *const *)j->sources,
                              .n_sources = j->n_sources,
                              .state_dir = j->mount ? k->usage->state_dir : NULL,
                              .kiosk_name = k->cfg.name,
                              .sync_drive = j->mount,
                              .trust = trust,
                              .require_trusted = k->cfg.require_signature == SBK_SIGN_POLICY_ON};
        ret = sbk_carry_import(&o, &cb, &err);
        sbk_trust_free(&trust);
        SbkError e2 = {0};
        sbk_library_rescan(k->lib, &e2);
    }
    if (strcmp(kind, "upload") == 0)
        for (size_t i = 0; i < j->n_sources; i++)
            unlink(j->sources[i]); /* the staged file: imported or refused, it goes */
    pthread_mutex_lock(&j->lock);
    Job *job = &j->jobs[0];
    job->state = ret == SBK_ECANCELED ? J_CANCELED : ret < 0 ? J_FAILED : J_DONE;
    if (ret < 0)
        snprintf(job->error, sizeof job->error, "%s", err.msg);
    job->ended = (int64_t)time(NULL);
    pthread_mutex_unlock(&j->lock);
    sbk_log(ret < 0 ? SBK_LOG_WARN : SBK_LOG_INFO, "admin job %d (%s %s): %s%s%s", job->id, kind,
            job->label, job_states[job->state], ret < 0 ? ": " : "", ret < 0 ? err.msg : "");
    return NULL;
}

static int start_locked(SbkJobs *j, const SbkJobSpec *spec, SbkError *err)
{
    pthread_mutex_lock(&j->lock);
    if (j->n && j->jobs[0].state == J_RUNNING) {
        pthread_mutex_unlock(&j->lock);
        return sbk_err(err, SBK_ELIMIT, "another task is running: wait until it ends");
    }
    pthread_mutex_unlock(&j->lock);
    if (j->joinable) {
        pthread_join(j->thread, NULL); /* the last one has ended: reap it */
        j->joinable = 0;
    }
    free_args(j);
    j->sources = calloc(spec->n_sources + 1, sizeof *j->sources);
    int oom = !j->sources || (spec->mount && !(j->mount = strdup(spec->mount)));
    for (size_t i = 0; !oom && i < spec->n_sources; i++, j->n_sources++)
        oom = !(j->sources[i] = strdup(spec->sources[i]));
    if (oom) {
        free_args(j);
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    }
    pthread_mutex_lock(&j->lock);
    memmove(&j->jobs[1], &j->jobs[0], (JOBS_KEPT - 1) * sizeof j->jobs[0]);
    if (j->n < JOBS_KEPT)
        j->n++;
    Job *job = &j->jobs[0];
    memset(job, 0, sizeof *job);
    job->id = j->next_id++;
    snprintf(job->kind, sizeof job->kind, "%s", spec->kind);
    snprintf(job->label, sizeof job->label, "%s", spec->label ? spec->label : "");
    job->started = (int64_t)time(NULL);
    job->state = J_RUNNING;
    int id = job->id;
    __atomic_store_n(&j->cancel, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&j->lock);
    if (pthread_create(&j->thread, NULL, job_thread, j) != 0) {
        pthread_mutex_lock(&j->lock);
        job->state = J_FAILED;
        snprintf(job->error, sizeof job->error, "cannot start a thread");
        pthread_mutex_unlock(&j->lock);
        return sbk_err(err, SBK_ENOMEM, "cannot start a thread for the task");
    }
    j->joinable = 1;
    return id;
}

int sbk_jobs_start(SbkJobs *j, const SbkJobSpec *spec, SbkError *err)
{
    pthread_mutex_lock(&j->start_lock);
    int ret = start_locked(j, spec, err);
    pthread_mutex_unlock(&j->start_lock);
    return ret;
}

int sbk_jobs_cancel(SbkJobs *j, int id)
{
    pthread_mutex_lock(&j->lock);
    int ok = j->n && j->jobs[0].id == id && j->jobs[0].state == J_RUNNING;
    if (ok)
        __atomic_store_n(&j->cancel, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&j->lock);
    return ok ? 0 : -1;
}

char *sbk_jobs_json(SbkJobs *j)
{
    json_t *list = json_array();
    pthread_mutex_lock(&j->lock);
    for (size_t i = 0; i < j->n; i++) {
        const Job *b = &j->jobs[i];
        json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:i, s:s, s:I, s:I}",
                              "id", b->id, "kind", b->kind, "label", b->label, "state",
                              job_states[b->state], "step", b->step, "name", b->name, "done",
                              (json_int_t)b->done, "total", (json_int_t)b->total, "copied",
                              b->copied, "skipped", b->skipped, "refused", b->refused, "last",
                              b->last, "started", (json_int_t)b->started, "ended",
                              (json_int_t)b->ended);
        if (o && b->error[0])
            json_object_set_new(o, "error", json_string(b->error));
        json_array_append_new(list, o);
    }
    pthread_mutex_unlock(&j->lock);
    json_t *o = json_pack("{s:o}", "jobs", list);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}
