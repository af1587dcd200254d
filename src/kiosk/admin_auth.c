/* src/kiosk/admin_auth.c - the admin password (Argon2id through libsodium,
 * STATE/admin.passwd, mode 0600), sessions (random ids in a bounded table,
 * idle and absolute timeouts, a new id at each login), sign-in throttling per
 * client address with exponential back-off (a bounded table), and the gate
 * every admin route passes at the first access-handler call, before any of
 * its body is read. */
#include "kiosk/admin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kiosk/usage.h"
#include "sabak/core.h"
#include "sabak/kiosk.h"

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sbk_admin_token(char out[SBK_ADMIN_TOKEN_HEX])
{
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, SBK_ADMIN_TOKEN_HEX, b, sizeof b);
    sodium_memzero(b, sizeof b);
}

/* Equal tokens of exactly 64 hex digits, in constant time. */
static int token_eq(const char *a, const char *b)
{
    if (!a || !b || strlen(a) != SBK_ADMIN_TOKEN_HEX - 1 || strlen(b) != SBK_ADMIN_TOKEN_HEX - 1)
        return 0;
    return sodium_memcmp(a, b, SBK_ADMIN_TOKEN_HEX - 1) == 0;
}

/* ---- the password ---------------------------------------------------------- */

int sbk_kiosk_admin_passwd(const char *state_dir, const char *password, SbkError *err)
{
    if (sodium_init() < 0)
        return sbk_err(err, SBK_EIO, "libsodium cannot start");
    size_t len = strlen(password);
    if (len < 8)
        return sbk_err(err, SBK_EINVAL, "the password is too short: use at least 8 characters");
    if (len > 1024)
        return sbk_err(err, SBK_EINVAL, "the password is too long: at most 1024 bytes");
    if (mkdir(state_dir, 0750) < 0 && errno != EEXIST)
        return sbk_err_errno(err, errno, "cannot make the state folder %s", state_dir);
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return sbk_err(err, SBK_ENOMEM, "not enough memory to hash the password");
    char *path = sbk_path_join(state_dir, SBK_ADMIN_PASSWD_FILE);
    SbkAtomicFile *af = NULL;
    int ret = path ? sbk_atomic_open(&af, path, err) : sbk_err(err, SBK_ENOMEM, "out of memory");
    if (ret == 0) {
        size_t hl = strlen(hash);
        hash[hl] = '\n';
        /* Owned like the state folder: `sabak passwd` run as root for a
         * kiosk that runs as its own user must leave a file it can read. */
        struct stat st;
        if (geteuid() == 0 && stat(state_dir, &st) == 0 &&
            fchown(sbk_atomic_fd(af), st.st_uid, st.st_gid) < 0) {
            ret = sbk_err_errno(err, errno, "cannot give %s to the state folder's owner", path);
            sbk_atomic_abort(&af);
        } else if (fchmod(sbk_atomic_fd(af), 0600) < 0 ||
                   sbk_write_all(sbk_atomic_fd(af), hash, hl + 1) < 0) {
            ret = sbk_err_errno(err, errno, "cannot write %s", path);
            sbk_atomic_abort(&af);
        } else {
            ret = sbk_atomic_commit(&af, err);
        }
    }
    sodium_memzero(hash, sizeof hash);
    free(path);
    return ret;
}

int sbk_admin_has_password(SbkAdmin *a)
{
    struct stat st;
    return stat(a->passwd_path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* 0 match, SBK_EINVAL no match, SBK_ENOENT no password set. Read at every
 * sign-in: `sabak passwd` takes effect without a restart. */
static int check_password(SbkAdmin *a, const char *password)
{
    char *text = NULL;
    size_t len = 0;
    SbkError e = {0};
    if (sbk_read_file(a->passwd_path, 4096, &text, &len, &e) < 0)
        return SBK_ENOENT;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    int ok = len > 0 && len < crypto_pwhash_STRBYTES &&
             crypto_pwhash_str_verify(text, password, strlen(password)) == 0;
    free(text);
    return ok ? 0 : SBK_EINVAL;
}

/* ---- sessions ------------------------------------------------------------- */

static int alive(const SbkAdminSession *s, double now)
{
    return s->id[0] && now - s->last < SBK_ADMIN_IDLE_S && now - s->created < SBK_ADMIN_LIFETIME_S;
}

/* The live session with this id (lock held), or NULL; expired ones are wiped. */
static SbkAdminSession *find_session(SbkAdmin *a, const char *sid, double now)
{
    SbkAdminSession *found = NULL;
    for (size_t i = 0; i < SBK_ADMIN_SESSIONS; i++) {
        SbkAdminSession *s = &a->s[i];
        if (s->id[0] && !alive(s, now))
            sodium_memzero(s, sizeof *s);
        else if (s->id[0] && token_eq(s->id, sid))
            found = s;
    }
    return found;
}

int sbk_admin_session_new(SbkAdmin *a, char sid[SBK_ADMIN_TOKEN_HEX])
{
    double now = mono();
    pthread_mutex_lock(&a->lock);
    SbkAdminSession *slot = NULL;
    for (size_t i = 0; i < SBK_ADMIN_SESSIONS; i++) {
        SbkAdminSession *s = &a->s[i];
        if (!alive(s, now)) {
            slot = s;
            break;
        }
        if (!slot || s->last < slot->last)
            slot = s; /* the table is full: the least recently used goes */
    }
    sodium_memzero(slot, sizeof *slot);
    sbk_admin_token(slot->id);
    sbk_admin_token(slot->csrf);
    slot->created = slot->last = now;
    snprintf(sid, SBK_ADMIN_TOKEN_HEX, "%s", slot->id);
    pthread_mutex_unlock(&a->lock);
    return 0;
}

int sbk_admin_session_csrf(SbkAdmin *a, const char *sid, char out[SBK_ADMIN_TOKEN_HEX])
{
    pthread_mutex_lock(&a->lock);
    SbkAdminSession *s = find_session(a, sid, mono());
    if (s)
        snprintf(out, SBK_ADMIN_TOKEN_HEX, "%s", s->csrf);
    pthread_mutex_unlock(&a->lock);
    return s ? 0 : -1;
}

/* The session of a request: found, and its idle clock restarted. */
static int touch_session(SbkAdmin *a, const char *sid, char csrf[SBK_ADMIN_TOKEN_HEX])
{
    double now = mono();
    pthread_mutex_lock(&a->lock);
    SbkAdminSession *s = find_session(a, sid, now);
    if (s) {
        s->last = now;
        snprintf(csrf, SBK_ADMIN_TOKEN_HEX, "%s", s->csrf);
    }
    pthread_mutex_unlock(&a->lock);
    return s ? 0 : -1;
}

void sbk_admin_logout(SbkAdmin *a, const char *sid)
{
    pthread_mutex_lock(&a->lock);
    SbkAdminSession *s = find_session(a, sid, mono());
    if (s)
        sodium_memzero(s, sizeof *s);
    pthread_mutex_unlock(&a->lock);
}

/* ---- throttling ------------------------------------------------------------- */

/* The slot of ip (lock held). With make, a new one takes an empty or
 * expired slot of its probe window; a window full of addresses still in
 * back-off gives NULL: a flood of addresses never frees anyone's back-off. */
static SbkAdminThrottle *throttle_slot(SbkAdmin *a, const char *ip, double now, int make)
{
    uint32_t h = 2166136261u;
    for (const char *p = ip; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    SbkAdminThrottle *free_slot = NULL;
    for (unsigned i = 0; i < 32; i++) {
        SbkAdminThrottle *t = &a->t[(h + i) % SBK_ADMIN_THROTTLE_SLOTS];
        if (t->ip[0] && strcmp(t->ip, ip) == 0)
            return t;
        int stale = !t->ip[0] || (t->until <= now && now - t->last > SBK_ADMIN_BACKOFF_MAX_S) ||
                    (t->fails < SBK_ADMIN_FREE_TRIES && now - t->last > 600);
        if (stale && (!free_slot || t->last < free_slot->last))
            free_slot = t;
    }
    if (!make || !free_slot)
        return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    snprintf(free_slot->ip, sizeof free_slot->ip, "%s", ip);
    free_slot->last = now;
    return free_slot;
}

int sbk_admin_login(SbkAdmin *a, const char *ip, const char *password,
                    char sid[SBK_ADMIN_TOKEN_HEX], int *retry)
{
    double now = mono();
    *retry = 0;
    pthread_mutex_lock(&a->lock);
    SbkAdminThrottle *t = throttle_slot(a, ip, now, 1);
    int wait = !t ? 60 : t->until > now ? (int)(t->until - now) + 1 : 0;
    pthread_mutex_unlock(&a->lock);
    if (wait) {
        *retry = wait;
        return SBK_ELIMIT;
    }
    /* Argon2id takes 64 MiB: one verification at a time. */
    if (pthread_mutex_trylock(&a->verify_lock) != 0) {
        *retry = 1;
        return SBK_ELIMIT;
    }
    int rc = check_password(a, password);
    pthread_mutex_unlock(&a->verify_lock);
    if (rc == SBK_ENOENT)
        return rc;
    now = mono();
    pthread_mutex_lock(&a->lock);
    t = throttle_slot(a, ip, now, 1);
    if (t && rc == 0) {
        memset(t, 0, sizeof *t);
    } else if (t) {
        t->fails++;
        t->last = now;
        if (t->fails >= SBK_ADMIN_FREE_TRIES) {
            int shift = t->fails - SBK_ADMIN_FREE_TRIES;
            double d = shift > 10 ? SBK_ADMIN_BACKOFF_MAX_S : (double)(SBK_ADMIN_BACKOFF_S << shift);
            t->until = now + (d > SBK_ADMIN_BACKOFF_MAX_S ? SBK_ADMIN_BACKOFF_MAX_S : d);
        }
    }
    pthread_mutex_unlock(&a->lock);
    if (rc)
        return rc;
    return sbk_admin_session_new(a, sid);
}

/* ---- cookies and the gate --------------------------------------------------- */

int sbk_admin_cookie(const char *h, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = h; p && *p;) {
        p += strspn(p, " \t;");
        const char *end = p + strcspn(p, ";");
        if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = (size_t)(end - p) - nl - 1;
            if (vl + 1 > n)
                return -1;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return 0;
        }
        p = end;
    }
    return -1;
}

int sbk_admin_is_loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
           strncmp(ip, "::ffff:127.", 11) == 0;
}

/* A POST from a page of this kiosk: Origin (or, without it, Referer) names
 * the host the request was sent to. */
static int same_origin(const SbkAdminReq *q)
{
    const char *host = q->header(q->opaque, "Host");
    const char *origin = q->header(q->opaque, "Origin");
    const char *referer = q->header(q->opaque, "Referer");
    if (!host || !*host)
        return 0;
    char want[300];
    snprintf(want, sizeof want, "http://%s", host);
    size_t wl = strlen(want);
    if (origin)
        return strcmp(origin, want) == 0;
    return referer && strncmp(referer, want, wl) == 0 && referer[wl] == '/';
}

static void refuse(SbkReply *r, const SbkRouteMatch *m, int status, const char *msg)
{
    if (m->api)
        sbk_reply_json_error(r, status, msg);
    else
        sbk_reply_error(r, status);
}

int sbk_admin_gate(SbkKiosk *k, const SbkRouteMatch *m, const SbkAdminReq *q, SbkReply *r,
                   char sid[SBK_ADMIN_TOKEN_HEX], SbkAdminUpload **upload)
{
    SbkAdmin *a = k->admin;
    int flags = sbk_route_admin(m), post = strcmp(q->method, "POST") == 0;
    char csrf[SBK_ADMIN_TOKEN_HEX] = "";
    sid[0] = '\0';
    if (!a) {
        refuse(r, m, 503, "the admin area is not running");
        return 1;
    }
    const char *cookies = q->header(q->opaque, "Cookie");
    if (flags == SBK_ADMIN_SESSION) {
        char c[SBK_ADMIN_TOKEN_HEX + 8];
        if (sbk_admin_cookie(cookies, SBK_ADMIN_COOKIE, c, sizeof c) != 0 ||
            touch_session(a, c, csrf) != 0) {
            if (m->api) {
                sbk_reply_json_error(r, 401, "sign in first");
            } else {
                sbk_reply_static(r, 303, "text/plain; charset=utf-8", "sign in: /admin/login\n");
                r->location = "/admin/login";
            }
            return 1;
        }
        snprintf(sid, SBK_ADMIN_TOKEN_HEX, "%s", c);
    } else if (post && sbk_admin_cookie(cookies, SBK_ADMIN_LOGIN_COOKIE, csrf, sizeof csrf) != 0) {
        csrf[0] = '\0';
    }
    if (!post)
        return 0;
    if (!same_origin(q)) {
        refuse(r, m, 403, "this request came from another site");
        return 1;
    }
    if (!token_eq(q->header(q->opaque, "X-CSRF-Token"), csrf)) {
        refuse(r, m, 403, "the form's security token is missing or old: reload the page");
        return 1;
    }
    if (sbk_route_post(m) != SBK_POST_STREAM)
        return 0;
    const char *ct = q->header(q->opaque, "Content-Type");
    if (!ct || strncasecmp(ct, "application/zip", 15) != 0) {
        refuse(r, m, 415, "send the bundle as Content-Type: application/zip");
        return 1;
    }
    const char *cl = q->header(q->opaque, "Content-Length");
    int64_t declared = cl ? (int64_t)strtoll(cl, NULL, 10) : -1;
    if (declared > a->upload_max) {
        char msg[160];
        snprintf(msg, sizeof msg, "the bundle is larger than the upload limit (%lld MB)",
                 (long long)(a->upload_max / 1000000));
        refuse(r, m, 413, msg);
        return 1;
    }
    if (sbk_jobs_busy(a->jobs)) {
        refuse(r, m, 409, "another task is running: wait until it ends");
        return 1;
    }
    SbkError e = {0};
    if (sbk_admin_upload_open(a, declared, upload, &e) < 0) {
        refuse(r, m, e.code == SBK_ELIMIT ? 409 : 500, e.msg);
        return 1;
    }
    return 0;
}

/* ---- start and stop ------------------------------------------------------------- */

int sbk_admin_start(SbkKiosk *k, SbkError *err)
{
    if (sodium_init() < 0)
        return sbk_err(err, SBK_EIO, "libsodium cannot start");
    SbkAdmin *a = calloc(1, sizeof *a);
    if (!a)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->verify_lock, NULL);
    k->admin = a;
    const char *state = k->usage->state_dir;
    a->passwd_path = sbk_path_join(state, SBK_ADMIN_PASSWD_FILE);
    a->staging = sbk_path_join(k->cfg.library_dir, ".sabak-upload");
    a->keys_dir = k->cfg.trusted_dir ? strdup(k->cfg.trusted_dir) : sbk_path_join(state, "trusted.d");
    a->upload_max = (int64_t)k->cfg.upload_max;
    if (!a->passwd_path || !a->staging || !a->keys_dir)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    if (sbk_jobs_new(k, &a->jobs) < 0)
        return sbk_err(err, SBK_ENOMEM, "cannot start the admin jobs");
    /* What a kiosk stopped in the middle of an upload left in staging. */
    DIR *d = opendir(a->staging);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strncmp(de->d_name, "upload-", 7) == 0 && unlinkat(dirfd(d), de->d_name, 0) == 0)
            sbk_log(SBK_LOG_INFO, "admin: removed an unfinished upload (%s)", de->d_name);
    if (d)
        closedir(d);
    return 0;
}

void sbk_admin_stop(SbkKiosk *k)
{
    SbkAdmin *a = k ? k->admin : NULL;
    if (!a)
        return;
    sbk_jobs_free(&a->jobs);
    sodium_memzero(a->s, sizeof a->s);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->verify_lock);
    free(a->passwd_path);
    free(a->staging);
    free(a->keys_dir);
    free(a);
    k->admin = NULL;
}
