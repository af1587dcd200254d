/* src/kiosk/admin.h - the kiosk's admin area (/admin, issue 13): the
 * password and sessions (admin_auth.c), the gate every admin route passes
 * before any body is read (admin_auth.c), the browser upload streamed to the
 * library's staging folder (admin_upload.c), one background job at a time
 * (admin_jobs.c) and the route handlers (admin_routes.c, admin_manage.c).
 *
 * The admin area adds no logic of its own for lessons: an upload, a drive
 * import and an export run sbk_carry_import / sbk_carry_export (the CLI's
 * functions), drives come from drives.c, play counts from usage.c. */
#ifndef SABAK_KIOSK_ADMIN_H
#define SABAK_KIOSK_ADMIN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/kiosk_int.h"
#include "kiosk/reply.h"
#include "kiosk/routes.h"

#define SBK_ADMIN_SESSIONS 64         /* sessions at once; the oldest goes first */
#define SBK_ADMIN_IDLE_S (30 * 60)    /* a session unused this long ends */
#define SBK_ADMIN_LIFETIME_S (12 * 3600) /* and every session ends after this */
#define SBK_ADMIN_THROTTLE_SLOTS 512  /* client addresses with failed sign-ins */
#define SBK_ADMIN_FREE_TRIES 5        /* bad passwords before the back-off */
#define SBK_ADMIN_BACKOFF_S 30        /* first wait, doubled at every further failure */
#define SBK_ADMIN_BACKOFF_MAX_S 3600
#define SBK_ADMIN_COOKIE "sabak_admin"
#define SBK_ADMIN_LOGIN_COOKIE "sabak_login"
#define SBK_ADMIN_PASSWD_FILE "admin.passwd"
#define SBK_ADMIN_TOKEN_HEX 65        /* 32 random bytes in hex, NUL */

/* The admin and post columns of the route table: routes.h. */

typedef struct SbkAdminSession {
    char id[SBK_ADMIN_TOKEN_HEX];
    char csrf[SBK_ADMIN_TOKEN_HEX];
    double created, last;   /* monotonic seconds */
} SbkAdminSession;

typedef struct SbkAdminThrottle {
    char ip[64];
    int fails;
    double until;           /* monotonic: no attempt before this */
    double last;
} SbkAdminThrottle;

typedef struct SbkJobs SbkJobs;
typedef struct SbkAdminUpload SbkAdminUpload;

typedef struct SbkAdmin {
    pthread_mutex_t lock;   /* sessions, throttle, uploading */
    pthread_mutex_t verify_lock; /* one Argon2id verification at a time (64 MiB) */
    char *passwd_path;      /* STATE/admin.passwd */
    char *staging;          /* LIBRARY/.sabak-upload */
    char *keys_dir;         /* trusted publisher keys (*.pub) */
    int64_t upload_max;
    SbkAdminSession s[SBK_ADMIN_SESSIONS];
    SbkAdminThrottle t[SBK_ADMIN_THROTTLE_SLOTS];
    int uploading;          /* one upload streaming at a time */
    struct SbkJobs *jobs;
} SbkAdmin;

/* What the gate needs of a request: its headers through a lookup. */
typedef struct SbkAdminReq {
    const char *(*header)(void *opaque, const char *name);
    void *opaque;
    const char *method;
    const char *client;     /* the client's address */
} SbkAdminReq;

int sbk_admin_start(SbkKiosk *k, SbkError *err);
void sbk_admin_stop(SbkKiosk *k);

/* The gate, at the first access-handler call of a request to an admin
 * route (nothing of its body read yet). Returns 0 to go on (sid filled for
 * a route that needs a session; *upload opened for the upload route), or 1
 * with the refusal in r: 401 (API) or 303 to /admin/login (a page) without
 * a session, 403 for a POST without the CSRF token or from another origin,
 * 413 for an upload over the cap, 409 while a job or upload runs. */
int sbk_admin_gate(SbkKiosk *k, const SbkRouteMatch *m, const SbkAdminReq *q, SbkReply *r,
                   char sid[SBK_ADMIN_TOKEN_HEX], SbkAdminUpload **upload);

/* admin_auth.c */
int sbk_admin_has_password(SbkAdmin *a);
int sbk_admin_is_loopback(const char *ip);
/* A session's CSRF token into out; 0, or -1 when the session is gone. */
int sbk_admin_session_csrf(SbkAdmin *a, const char *sid, char out[SBK_ADMIN_TOKEN_HEX]);
/* Check a password for client ip (throttled). 0 and a new session
 * (sid, csrf), SBK_EINVAL wrong password, SBK_ELIMIT throttled
 * (*retry seconds), SBK_ENOENT no password set. */
int sbk_admin_login(SbkAdmin *a, const char *ip, const char *password,
                    char sid[SBK_ADMIN_TOKEN_HEX], int *retry);
/* Open a session with no password check (after the first-run setup). */
int sbk_admin_session_new(SbkAdmin *a, char sid[SBK_ADMIN_TOKEN_HEX]);
void sbk_admin_logout(SbkAdmin *a, const char *sid);
/* The value of cookie `name` in a Cookie header into out; 0 or -1. */
int sbk_admin_cookie(const char *header, const char *name, char *out, size_t n);
/* A random token: 32 bytes as 64 hex digits. */
void sbk_admin_token(char out[SBK_ADMIN_TOKEN_HEX]);

/* admin_upload.c: the body of POST /admin/api/upload, written as it comes
 * into a file in the staging folder; never held in memory. */
int sbk_admin_upload_open(SbkAdmin *a, int64_t declared, SbkAdminUpload **out, SbkError *err);
/* 0, or -1: over the cap or a write failed (the connection is closed). */
int sbk_admin_upload_write(SbkAdminUpload *u, const char *data, size_t n);
/* Remove the staged file (unless handed to a job) and free. Accepts NULL. */
void sbk_admin_upload_free(SbkAdminUpload **u);
/* The staged file's path once complete; ownership passes to the caller
 * (malloc'ed), NULL when the body was short. */
char *sbk_admin_upload_take(SbkAdminUpload *u, int64_t *size);

/* admin_jobs.c: one job at a time in a thread of its own at idle I/O
 * priority. Kinds: "upload" (sources: the staged file, removed after),
 * "import" (bundles on a drive, then its sync step), "export". */
typedef struct SbkJobSpec {
    const char *kind;
    char **sources;          /* import/upload: files; export: lesson ids */
    size_t n_sources;
    const char *mount;       /* import: the drive (sync step); export: the target */
    const char *label;       /* shown in the page */
} SbkJobSpec;
int sbk_jobs_new(SbkKiosk *k, struct SbkJobs **out);
void sbk_jobs_free(struct SbkJobs **j);
/* Start a job: its id (> 0), or SBK_ELIMIT when one runs already. */
int sbk_jobs_start(struct SbkJobs *j, const SbkJobSpec *spec, SbkError *err);
int sbk_jobs_busy(struct SbkJobs *j);
int sbk_jobs_cancel(struct SbkJobs *j, int id);
/* {"jobs": [...]} newest first (malloc'ed). */
char *sbk_jobs_json(struct SbkJobs *j);

#endif
