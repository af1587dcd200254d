/* src/kiosk/admin_routes.c - the admin area's pages, sign-in and sign-out,
 * jobs and the upload (the other handlers: admin_manage.c). Every handler
 * here runs after the gate (admin_auth.c): a session route has its session,
 * and a POST has passed the Origin and CSRF checks. */
#include "kiosk/admin.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kiosk/usage.h"
#include "sabak/core.h"
#include "sabak/kiosk.h"

#define COOKIE_ATTRS "; HttpOnly; SameSite=Strict; Path=/admin"

/* The JSON object of a small POST body, or NULL (answered 400). */
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

static void set_session_cookie(SbkReply *r, const char *sid)
{
    snprintf(r->cookie, sizeof r->cookie, SBK_ADMIN_COOKIE "=%s" COOKIE_ATTRS, sid);
}

void sbk_admin_handle_page(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)q, (void)m;
    sbk_web_handle(&k->web, "admin/admin.html", NULL, r);
    r->cache = "no-store";
}

void sbk_admin_handle_login(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)m;
    if (!q->post) {
        sbk_web_handle(&k->web, "admin/login.html", NULL, r);
        r->cache = "no-store";
        return;
    }
    json_t *o = body_object(q, r);
    if (!o)
        return;
    const char *pw = json_string_value(json_object_get(o, "password"));
    char sid[SBK_ADMIN_TOKEN_HEX];
    int retry = 0;
    int rc = pw ? sbk_admin_login(k->admin, q->client, pw, sid, &retry) : SBK_EINVAL;
    json_decref(o);
    if (rc == 0) {
        set_session_cookie(r, sid);
        sbk_reply_json_value(r, json_pack("{s:b}", "ok", 1));
    } else if (rc == SBK_ELIMIT) {
        sbk_reply_json_error(r, 429, "too many wrong passwords: wait and try again");
        r->retry_after = retry;
    } else if (rc == SBK_ENOENT) {
        sbk_reply_json_error(r, 409, "no password is set yet: run sabak passwd on the kiosk");
    } else {
        sbk_reply_json_error(r, 401, "wrong password");
    }
}

void sbk_admin_handle_login_info(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                                 SbkReply *r)
{
    (void)m;
    char token[SBK_ADMIN_TOKEN_HEX];
    sbk_admin_token(token);
    int has = sbk_admin_has_password(k->admin);
    sbk_reply_json_value(r, json_pack("{s:s, s:b, s:b}", "csrf", token, "password", has, "setup",
                                      !has && sbk_admin_is_loopback(q->client)));
    snprintf(r->cookie, sizeof r->cookie, SBK_ADMIN_LOGIN_COOKIE "=%s" COOKIE_ATTRS, token);
}

/* The first password, from the kiosk itself only, and only while none is set. */
void sbk_admin_handle_setup(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)m;
    if (!q->post) {
        sbk_reply_json_error(r, 405, "send the password with POST");
        r->allow = "POST";
        return;
    }
    if (sbk_admin_has_password(k->admin) || !sbk_admin_is_loopback(q->client)) {
        sbk_reply_json_error(r, 403, "a password is set already, or this is not the kiosk itself");
        return;
    }
    json_t *o = body_object(q, r);
    if (!o)
        return;
    const char *pw = json_string_value(json_object_get(o, "password"));
    SbkError err = {0};
    int rc = pw ? sbk_kiosk_admin_passwd(k->usage->state_dir, pw, &err)
                : sbk_err(&err, SBK_EINVAL, "send {\"password\": \"...\"}");
    json_decref(o);
    if (rc < 0) {
        sbk_reply_json_error(r, rc == SBK_EINVAL ? 400 : 500, err.msg);
        return;
    }
    char sid[SBK_ADMIN_TOKEN_HEX];
    sbk_admin_session_new(k->admin, sid);
    set_session_cookie(r, sid);
    sbk_reply_json_value(r, json_pack("{s:b}", "ok", 1));
}

void sbk_admin_handle_logout(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)m;
    if (!q->post) {
        sbk_reply_error(r, 405);
        r->allow = "POST";
        return;
    }
    sbk_admin_logout(k->admin, q->session);
    snprintf(r->cookie, sizeof r->cookie, SBK_ADMIN_COOKIE "=; Max-Age=0" COOKIE_ATTRS);
    sbk_reply_json_value(r, json_pack("{s:b}", "ok", 1));
}

void sbk_admin_handle_session(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m,
                              SbkReply *r)
{
    (void)m;
    char csrf[SBK_ADMIN_TOKEN_HEX];
    if (sbk_admin_session_csrf(k->admin, q->session, csrf) != 0) {
        sbk_reply_json_error(r, 401, "sign in first");
        return;
    }
    const char *const *urls = NULL;
    size_t n = sbk_kiosk_lan_urls(k, &urls);
    json_t *u = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(u, json_string(urls[i]));
    sbk_reply_json_value(r, json_pack("{s:s, s:s, s:o, s:I}", "csrf", csrf, "version", SBK_VERSION,
                                      "urls", u, "upload_max", (json_int_t)k->admin->upload_max));
}

void sbk_admin_handle_jobs(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)m;
    if (q->post) {
        json_t *o = body_object(q, r);
        if (!o)
            return;
        json_t *c = json_object_get(o, "cancel");
        int ok = json_is_integer(c) && sbk_jobs_cancel(k->admin->jobs, (int)json_integer_value(c)) == 0;
        json_decref(o);
        if (!ok) {
            sbk_reply_json_error(r, 404, "no such task is running");
            return;
        }
    }
    char *s = sbk_jobs_json(k->admin->jobs);
    if (!s) {
        sbk_reply_json_error(r, 500, "out of memory");
        return;
    }
    sbk_reply_owned(r, q->post ? 202 : 200, "application/json", s, strlen(s));
    r->cache = "no-store";
}

/* POST /admin/api/upload?name=FILE.zip: the body is in the staging folder
 * already (admin_upload.c); an upload job imports it. */
void sbk_admin_handle_upload(SbkKiosk *k, const SbkQuerySource *q, const SbkRouteMatch *m, SbkReply *r)
{
    (void)m;
    if (!q->post) {
        sbk_reply_json_error(r, 405, "send the bundle with POST");
        r->allow = "POST";
        return;
    }
    int64_t size = 0;
    char *path = sbk_admin_upload_take(q->upload, &size);
    if (!path) {
        sbk_reply_json_error(r, 400, "the upload was cut short: send it again");
        return;
    }
    char name[160];
    if (sbk_route_query(q, "name", name, sizeof name) != 0)
        snprintf(name, sizeof name, "upload.zip");
    SbkJobSpec spec = {.kind = "upload", .sources = &path, .n_sources = 1, .label = name};
    SbkError err = {0};
    int id = sbk_jobs_start(k->admin->jobs, &spec, &err);
    if (id < 0) {
        unlink(path);
        free(path);
        sbk_reply_json_error(r, id == SBK_ELIMIT ? 409 : 500, err.msg);
        return;
    }
    free(path);
    sbk_reply_json_value(r, json_pack("{s:i, s:I}", "job", id, "size", (json_int_t)size));
    r->status = 202;
}
