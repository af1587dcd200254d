/* sabak/kiosk.h - the kiosk web server (`sabak serve`) over a folder of
 * lesson bundles, on libmicrohttpd. The CLI only parses options, starts the
 * kiosk, and turns signals into rescan/stop calls (as kiwix-serve does).
 *
 *   SbkKioskConfig cfg;
 *   sbk_kiosk_config_init(&cfg);
 *   sbk_kiosk_config_load_ini(&cfg, "/etc/sabak.ini", &err);   // optional
 *   sbk_kiosk_config_set(&cfg, "library", "/srv/lessons", &err);
 *   sbk_kiosk_start(&k, &cfg, &err);  ...  sbk_kiosk_stop(&k);
 *   sbk_kiosk_config_clear(&cfg);
 */
#ifndef SABAK_KIOSK_H
#define SABAK_KIOSK_H

#include <stddef.h>
#include <stdint.h>

#include "sabak/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SBK_KIOSK_MAX_LISTEN 8

/* One line per request: "<time> <client> <method> <path> <status> <bytes> <ms>ms". */
typedef void (*SbkAccessLogFn)(void *opaque, const char *line);

/* require_signature: what staff see of bundles no trusted key signed. */
enum {
    SBK_SIGN_POLICY_OFF = 0,  /* served as any other (a trusted one shows its publisher) */
    SBK_SIGN_POLICY_WARN = 1, /* served with "unverified": true (an "unverified source" mark) */
    SBK_SIGN_POLICY_ON = 2,   /* not served: listed with the damaged ones, with the reason */
};

typedef struct SbkKioskConfig {
    char *listen[SBK_KIOSK_MAX_LISTEN]; /* "ADDR:PORT", "[V6]:PORT", ":PORT" (all IPv4) */
    int n_listen;                       /* 0: "0.0.0.0:8080" */
    char *library_dir;                  /* required */
    char *web_dir;                      /* NULL: the web app embedded in the binary */
    char *cache_path;                   /* verify cache; NULL: the library's default */
    unsigned connection_limit;          /* all clients, per listen address (512) */
    unsigned per_ip_limit;              /* connections from one address (32) */
    unsigned header_timeout;            /* seconds to send a request head (5; 0: off) */
    unsigned reserve;                   /* slots kept for addresses holding none (64) */
    unsigned timeout;                   /* seconds without progress before closing (30) */
    size_t memory_limit;                /* bytes of request buffer per connection (32 KiB) */
    unsigned threads;                   /* worker threads per listen address (2) */
    unsigned backlog;                   /* listen(2) backlog (256) */
    unsigned min_rate;                  /* slow readers: a response may last at most
                                           60 s + size / min_rate seconds (B/s; 1024, 0: off) */
    size_t inflate_budget;              /* bytes for all deflated entries being sent at
                                           once (32 MiB, about 340 streams); over it: 503 */
    int watch;                          /* inotify the library folder (1) */
    int verify;                         /* background SHA-256 check of every bundle (1) */
    int access_log;                     /* one line per request (1) */
    char *state_dir;                    /* play counts and kiosk id; NULL: LIBRARY/.sabak-state */
    char *name;                         /* the office's name; NULL: the stored one, else host */
    char *drive_roots;                  /* where drives are mounted (spaces or commas);
                                           NULL: "/media /run/media /mnt" */
    unsigned drive_poll;                /* seconds between mount table checks (2; 0: off) */
    int auto_import;                    /* import a drive's new lessons unasked (0);
                                           only bundles signed by a trusted key */
    char *trusted_dir;                  /* trusted public keys (*.pub); NULL: none */
    int require_signature;              /* SBK_SIGN_POLICY_*: off (0), warn, on */
    size_t upload_max;                  /* bytes of one bundle uploaded in /admin (4 GiB) */
    SbkAccessLogFn access_log_fn;       /* NULL: through sbk_log at INFO */
    void *access_log_opaque;
} SbkKioskConfig;

/* Defaults as documented above; nothing allocated yet. */
void sbk_kiosk_config_init(SbkKioskConfig *cfg);
/* Free the strings the config owns (accepts a zeroed config). */
void sbk_kiosk_config_clear(SbkKioskConfig *cfg);
/* Set one key as named in the INI [server] section: listen (a list separated
 * by spaces or commas, replacing earlier ones), library, web_dir, cache,
 * connection_limit, per_ip_limit, header_timeout, reserve, timeout, memory_limit, threads, backlog,
 * min_rate, inflate_budget, watch, verify, access_log (yes/no/true/false/1/0), state, name,
 * drive_roots, drive_poll, auto_import, trusted, require_signature (off/warn/on). Returns 0,
 * or SBK_EINVAL with a message naming the key and the value. */
int sbk_kiosk_config_set(SbkKioskConfig *cfg, const char *key, const char *value, SbkError *err);
/* Read an INI file; keys live in [server]. Errors name FILE:LINE. */
int sbk_kiosk_config_load_ini(SbkKioskConfig *cfg, const char *path, SbkError *err);

typedef struct SbkKiosk SbkKiosk;

/* Open the library (scan, watch) and start listening on every address.
 * Raises RLIMIT_NOFILE to its hard limit. Returns 0, SBK_EINVAL (bad
 * address), SBK_EIO (cannot bind: the message names the address), or the
 * library's error. The config is copied. */
int sbk_kiosk_start(SbkKiosk **out, const SbkKioskConfig *cfg, SbkError *err);
/* Where the kiosk listens, one "http://ADDR:PORT/" per listen address with
 * the real port (port 0 resolved). Valid until stop. */
size_t sbk_kiosk_listen_urls(const SbkKiosk *k, const char *const **urls);
/* The URLs staff can type: one per LAN address (loopback only when there is
 * nothing else). Valid until stop. */
size_t sbk_kiosk_lan_urls(const SbkKiosk *k, const char *const **urls);
/* Rescan the library now (SIGHUP). */
int sbk_kiosk_rescan(SbkKiosk *k, SbkError *err);
/* Lesson and damaged-bundle counts. */
void sbk_kiosk_counts(SbkKiosk *k, int *lessons, int *damaged);
/* Stop accepting new connections (listen sockets closed); requests in
 * flight go on. */
void sbk_kiosk_quiesce(SbkKiosk *k);
/* Stop everything, close the library, free, NULL *k. Accepts NULL. */
void sbk_kiosk_stop(SbkKiosk **k);

/* Set the password of the admin area (/admin): hashed with Argon2id
 * (libsodium crypto_pwhash_str) into STATE/admin.passwd, mode 0600, written
 * atomically. At least 8 characters. 0, SBK_EINVAL or SBK_EIO. */
int sbk_kiosk_admin_passwd(const char *state_dir, const char *password, SbkError *err);

/* One row of the kiosk's route table, for tests and `sabak serve
 * --list-routes`: admin 1 = needs a session, 2 = an open admin route
 * (sign-in); post 1 = takes a small POST body, 2 = a streamed upload. */
typedef struct SbkRouteInfo {
    const char *pattern;
    int prefix, api, admin, post;
} SbkRouteInfo;
/* Row i of the table into out; 0, or -1 past the end. */
int sbk_kiosk_route_info(size_t i, SbkRouteInfo *out);

#ifdef __cplusplus
}
#endif
#endif
