/* src/kiosk/server.c - starting and stopping one libmicrohttpd daemon per
 * listen address over the library (settings: config.c; admission:
 * admit.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <ini.h>
#include <malloc.h>
#include <pthread.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kiosk/http.h"
#include "kiosk/inflate.h"
#include "kiosk/admin.h"
#include "kiosk/usage.h"
#include "sabak/core.h"
#include "sabak/kiosk.h"

/* ---- addresses -------------------------------------------------------------- */

typedef union SockAddr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} SockAddr;

/* "1.2.3.4:80", "[::1]:80", ":80" / "*:80" (all IPv4), "80". */
static int parse_listen(const char *s, SockAddr *out, SbkError *err)
{
    char host[128] = "";
    const char *port;
    memset(out, 0, sizeof *out);
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            return sbk_err(err, SBK_EINVAL, "listen address \"%s\": expected [IPV6]:PORT", s);
        memcpy(host, s + 1, (size_t)(end - s - 1));
        port = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon && (size_t)(colon - s) < sizeof host) {
            memcpy(host, s, (size_t)(colon - s));
            port = colon + 1;
        } else if (!colon) {
            port = s;
        } else {
            return sbk_err(err, SBK_EINVAL, "listen address \"%s\" is too long", s);
        }
    }
    unsigned long long p;
    if (sbk_kiosk_parse_uint(port, 65535, &p) != 0)
        return sbk_err(err, SBK_EINVAL, "listen address \"%s\": bad port \"%s\"", s, port);
    if (!host[0] || strcmp(host, "*") == 0)
        snprintf(host, sizeof host, "0.0.0.0");
    if (inet_pton(AF_INET, host, &out->in.sin_addr) == 1) {
        out->in.sin_family = AF_INET;
        out->in.sin_port = htons((uint16_t)p);
    } else if (inet_pton(AF_INET6, host, &out->in6.sin6_addr) == 1) {
        out->in6.sin6_family = AF_INET6;
        out->in6.sin6_port = htons((uint16_t)p);
    } else {
        return sbk_err(err, SBK_EINVAL,
                       "listen address \"%s\": \"%s\" is not an IP address (use 0.0.0.0 for all)",
                       s, host);
    }
    return 0;
}

static char *url_for(const struct sockaddr *sa, unsigned port)
{
    char ip[INET6_ADDRSTRLEN] = "";
    char *url = NULL;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip, sizeof ip);
        if (asprintf(&url, "http://%s:%u/", ip, port) < 0)
            url = NULL;
    } else {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
                  sizeof ip);
        if (asprintf(&url, "http://[%s]:%u/", ip, port) < 0)
            url = NULL;
    }
    return url;
}

static int add_url(SbkKiosk *k, char *url)
{
    if (!url)
        return SBK_ENOMEM;
    for (size_t i = 0; i < k->n_lan_urls; i++)
        if (strcmp(k->lan_urls[i], url) == 0) {
            free(url);
            return 0;
        }
    char **nu = realloc(k->lan_urls, (k->n_lan_urls + 1) * sizeof *nu);
    if (!nu) {
        free(url);
        return SBK_ENOMEM;
    }
    k->lan_urls = nu;
    k->lan_urls[k->n_lan_urls++] = url;
    return 0;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

/* One URL per LAN address a wildcard listener answers on (IPv4 for 0.0.0.0,
 * global IPv6 for "::"); a specific address is its own URL. */
static int collect_lan_urls(SbkKiosk *k, const SockAddr *bound, const unsigned *ports)
{
    struct ifaddrs *ifa = NULL;
    int have_ifa = getifaddrs(&ifa) == 0;
    for (size_t d = 0; d < k->n_daemons; d++) {
        const SockAddr *b = &bound[d];
        int any4 = b->sa.sa_family == AF_INET && b->in.sin_addr.s_addr == htonl(INADDR_ANY);
        int any6 = b->sa.sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&b->in6.sin6_addr);
        if (!any4 && !any6) {
            if (add_url(k, url_for(&b->sa, ports[d])))
                goto nomem;
            continue;
        }
        for (struct ifaddrs *i = have_ifa ? ifa : NULL; i; i = i->ifa_next) {
            if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || is_loopback(i->ifa_addr))
                continue;
            /* MHD binds "::" IPv6-only (so that 0.0.0.0 and :: can share a
             * port): each wildcard lists its own family's addresses. */
            if ((any4 && i->ifa_addr->sa_family == AF_INET) ||
                (any6 && i->ifa_addr->sa_family == AF_INET6 &&
                 !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr)))
                if (add_url(k, url_for(i->ifa_addr, ports[d])))
                    goto nomem;
        }
    }
    if (ifa)
        freeifaddrs(ifa);
    /* Nothing but loopback: that is what staff can type on the kiosk itself. */
    for (size_t d = 0; d < k->n_daemons && k->n_lan_urls == 0; d++) {
        SockAddr lo = bound[d];
        if (lo.sa.sa_family == AF_INET)
            lo.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else
            lo.in6.sin6_addr = in6addr_loopback;
        if (add_url(k, url_for(&lo.sa, ports[d])))
            return SBK_ENOMEM;
    }
    return 0;
nomem:
    if (ifa)
        freeifaddrs(ifa);
    return SBK_ENOMEM;
}

/* ---- daemons ---------------------------------------------------------------- */

/* MHD hands us its own printf format: the callback signature is fixed. */
static void mhd_logger(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* At most LOG_BURST of MHD's lines per LOG_WINDOW seconds, then one line
 * counting what was left out: out of descriptors, MHD 0.9.75 logs "Error
 * accepting connection" in a busy loop (2 million lines in 15 s). */
#define LOG_BURST 20
#define LOG_WINDOW 10
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t log_window_start;
static unsigned log_in_window, log_dropped;

static int log_allowed(void)
{
    time_t now = time(NULL);
    unsigned dropped = 0;
    int ok;
    pthread_mutex_lock(&log_lock);
    if (now - log_window_start >= LOG_WINDOW) {
        dropped = log_dropped;
        log_window_start = now;
        log_in_window = 0;
        log_dropped = 0;
    }
    ok = log_in_window < LOG_BURST;
    if (ok)
        log_in_window++;
    else
        log_dropped++;
    pthread_mutex_unlock(&log_lock);
    if (dropped)
        sbk_log(SBK_LOG_WARN, "http: %u more messages like the above left out", dropped);
    return ok;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    if (!log_allowed())
        return;
    vsnprintf(line, sizeof line, fmt, ap);
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    sbk_log(SBK_LOG_WARN, "http: %s", line);
}

/* MHD would percent-decode the path and the query before the handler sees
 * them; routes.c decodes strictly itself, so this leaves them as sent. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* Admission (admit.c): the last `reserve` slots go only to addresses that
 * hold no connection yet; every connection gets a request-head deadline. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
    return sbk_admit_check(cls, addr, len) ? MHD_YES : MHD_NO;
}

static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ad =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        *socket_context = sbk_admit_opened(cls, fd ? fd->connect_fd : -1,
                                           ad ? ad->client_addr : NULL);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        sbk_admit_closed(*socket_context);
        *socket_context = NULL;
    }
}

static int start_daemon(SbkKiosk *k, const char *listen, SockAddr *bound, unsigned *port,
                        SbkError *err)
{
    SockAddr addr;
    int rc = parse_listen(listen, &addr, err);
    if (rc)
        return rc;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (addr.sa.sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    const SbkKioskConfig *c = &k->cfg;
    SbkAdmit *admit = NULL;
    if (sbk_admit_new(&admit, c->connection_limit, c->reserve, k->watch, c->header_timeout))
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    k->admit[k->n_daemons] = admit; /* freed with the kiosk, after the daemons */
    errno = 0;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, accept_policy, admit, sbk_http_access, k,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL, /* first, to catch every message */
        MHD_OPTION_NOTIFY_CONNECTION, notify_connection, admit,
        MHD_OPTION_SOCK_ADDR, &addr.sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(c->threads > 1 ? c->threads : 0),
        MHD_OPTION_CONNECTION_LIMIT, c->connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->per_ip_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, c->timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, c->memory_limit,
        /* 0, not 1: MHD 0.9.75's strict mode adds only the Host check,
         * whose 400 repeats its header block; http.c checks Host, field
         * names and values itself (same answers otherwise, RELIABILITY.md). */
        MHD_OPTION_STRICT_FOR_CLIENT, (int)0,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, c->backlog,
        MHD_OPTION_NOTIFY_COMPLETED, sbk_http_completed, k,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, sbk_http_uri_seen, NULL,
        MHD_OPTION_END);
    if (!d) {
        int e = errno;
        if (e == EMFILE || e == ENFILE) {
            struct rlimit rl = {0};
            getrlimit(RLIMIT_NOFILE, &rl);
            return sbk_err(err, SBK_EIO,
                           "cannot listen on %s: out of file descriptors (limit %llu; raise "
                           "LimitNOFILE= or ulimit -n)", listen, (unsigned long long)rl.rlim_cur);
        }
        if (e == EADDRINUSE || e == EACCES || e == EADDRNOTAVAIL)
            return sbk_err(err, SBK_EIO, "cannot listen on %s: %s", listen, strerror(e));
        return sbk_err(err, SBK_EIO,
                       "cannot listen on %s (address in use, not on this machine, or a "
                       "port below 1024 without permission)", listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    *bound = addr;
    k->daemons[k->n_daemons] = d;
    k->listen_urls[k->n_daemons] = url_for(&addr.sa, *port);
    k->n_daemons++;
    if (!k->listen_urls[k->n_daemons - 1])
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    return 0;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            sbk_log(SBK_LOG_WARN, "cannot raise the open-file limit: %s", strerror(errno));
    }
}

int sbk_kiosk_start(SbkKiosk **out, const SbkKioskConfig *cfg, SbkError *err)
{
    int ret = 0;
    SockAddr bound[SBK_KIOSK_MAX_LISTEN];
    unsigned ports[SBK_KIOSK_MAX_LISTEN];
    SbkKiosk *k = calloc(1, sizeof *k);
    *out = NULL;
    if (!k)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    if (sbk_kiosk_config_copy(&k->cfg, cfg) != 0) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto fail;
    }
    if (!k->cfg.library_dir) {
        ret = sbk_err(err, SBK_EINVAL, "no library folder (--library DIR or library= in [server])");
        goto fail;
    }
    raise_nofile();
    /* A kiosk holds many small objects (each lesson's manifest and search
     * index) made by several threads (scan, verifier, HTTP) among large
     * short-lived buffers (libarchive's, inflated subtitles): an arena per
     * thread keeps those buffers' holes as RSS. Two arenas: 1,000 lessons
     * in 30 MB, not 35, once the background check has run
     * (tools/bench/catalog, docs/BENCHMARKS.md). A fixed mmap threshold
     * saved 2 MB more but cost 0.5 s of CPU at start-up. */
    mallopt(M_ARENA_MAX, 2);
    sbk_inflate_set_budget(k->cfg.inflate_budget);
    ret = sbk_web_init(&k->web, k->cfg.web_dir, err);
    if (ret)
        goto fail;
    SbkLibraryOptions lo = {
        .dir = k->cfg.library_dir,
        .watch = k->cfg.watch,
        .background_verify = k->cfg.verify,
        .cache_path = k->cfg.cache_path,
        .trusted_dir = k->cfg.trusted_dir,
        .sign_policy = k->cfg.require_signature,
    };
    ret = sbk_library_open(&k->lib, &lo, err);
    if (ret)
        goto fail;
    /* Two slots per connection: its head deadline and a slow-reader watch. */
    if (sbk_watch_new(&k->watch, k->cfg.min_rate,
                      2 * (size_t)k->cfg.connection_limit *
                              (size_t)(k->cfg.n_listen ? k->cfg.n_listen : 1) + 16) != 0) {
        ret = sbk_err(err, SBK_ENOMEM, "cannot start the watchdog");
        goto fail;
    }
    ret = sbk_usage_start(k, err); /* play counts, drive watch (usage.c) */
    if (ret)
        goto fail;
    ret = sbk_admin_start(k, err); /* the admin area (admin_auth.c) */
    if (ret)
        goto fail;
    for (int i = 0; i < k->cfg.n_listen; i++) {
        ret = start_daemon(k, k->cfg.listen[i], &bound[k->n_daemons], &ports[k->n_daemons], err);
        if (ret)
            goto fail;
    }
    if (collect_lan_urls(k, bound, ports) != 0) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto fail;
    }
    __atomic_store_n(&k->lan_urls_ready, 1, __ATOMIC_RELEASE);
    *out = k;
    return 0;
fail:
    sbk_kiosk_stop(&k);
    return ret;
}

size_t sbk_kiosk_listen_urls(const SbkKiosk *k, const char *const **urls)
{
    *urls = (const char *const *)k->listen_urls;
    return k->n_daemons;
}

size_t sbk_kiosk_lan_urls(const SbkKiosk *k, const char *const **urls)
{
    /* Workers may ask while start-up still builds the list: none until then. */
    if (!__atomic_load_n(&k->lan_urls_ready, __ATOMIC_ACQUIRE)) {
        *urls = NULL;
        return 0;
    }
    *urls = (const char *const *)k->lan_urls;
    return k->n_lan_urls;
}

int sbk_kiosk_rescan(SbkKiosk *k, SbkError *err)
{
    int rc = sbk_library_rescan(k->lib, err);
    if (rc)
        return rc;
    return sbk_web_reload(&k->web, err);
}

void sbk_kiosk_counts(SbkKiosk *k, int *lessons, int *damaged)
{
    sbk_library_counts(k->lib, lessons, damaged);
}

void sbk_kiosk_quiesce(SbkKiosk *k)
{
    for (size_t i = 0; k && i < k->n_daemons; i++) {
        MHD_socket fd = MHD_quiesce_daemon(k->daemons[i]);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
}

void sbk_kiosk_stop(SbkKiosk **pk)
{
    SbkKiosk *k = pk ? *pk : NULL;
    if (!k)
        return;
    for (size_t i = 0; i < k->n_daemons; i++) {
        MHD_stop_daemon(k->daemons[i]);
        free(k->listen_urls[i]);
    }
    for (size_t i = 0; i < SBK_KIOSK_MAX_LISTEN; i++)
        sbk_admit_free(&k->admit[i]); /* after the daemons: no callback runs now */
    sbk_watch_free(&k->watch);
    sbk_admin_stop(k); /* its job thread ends before the library closes */
    sbk_usage_stop(k);
    sbk_library_close(&k->lib);
    sbk_web_free(&k->web);
    for (size_t i = 0; i < k->n_lan_urls; i++)
        free(k->lan_urls[i]);
    free(k->lan_urls);
    sbk_kiosk_config_clear(&k->cfg);
    free(k);
    *pk = NULL;
}
