/* src/kiosk/config.c - the kiosk's settings: defaults, one key table for
 * command-line flags and sabak.ini, and the deep copy the kiosk keeps. */
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kiosk/inflate.h"
#include "kiosk/kiosk_int.h"
#include "sabak/core.h"
#include "sabak/kiosk.h"

/* ---- configuration -------------------------------------------------------- */

void sbk_kiosk_config_init(SbkKioskConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->connection_limit = 512;
    cfg->per_ip_limit = 32;
    cfg->header_timeout = 5;
    cfg->reserve = 64;
    cfg->timeout = 30;
    cfg->memory_limit = 32 * 1024;
    cfg->threads = 2;
    cfg->backlog = 256;
    cfg->min_rate = 1024;
    cfg->inflate_budget = SBK_INFLATE_BUDGET_DEFAULT;
    cfg->watch = 1;
    cfg->verify = 1;
    cfg->access_log = 1;
    cfg->drive_poll = 2;
    cfg->upload_max = (size_t)4 << 30;
}

static void clear_listen(SbkKioskConfig *cfg)
{
    for (int i = 0; i < cfg->n_listen; i++) {
        free(cfg->listen[i]);
        cfg->listen[i] = NULL;
    }
    cfg->n_listen = 0;
}

void sbk_kiosk_config_clear(SbkKioskConfig *cfg)
{
    if (!cfg)
        return;
    clear_listen(cfg);
    free(cfg->library_dir);
    free(cfg->web_dir);
    free(cfg->cache_path);
    cfg->library_dir = cfg->web_dir = cfg->cache_path = NULL;
    free(cfg->state_dir);
    free(cfg->name);
    free(cfg->drive_roots);
    cfg->state_dir = cfg->name = cfg->drive_roots = NULL;
    free(cfg->trusted_dir);
    cfg->trusted_dir = NULL;
}

/* A setting's number: digits only (no sign), at most max. */
int sbk_kiosk_parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
    long long n;
    if (!v || *v < '0' || *v > '9' || sbk_parse_int(v, 0, (long long)max, &n) < 0)
        return SBK_EINVAL;
    *out = (unsigned long long)n;
    return 0;
}

static int set_string(char **field, const char *v, SbkError *err)
{
    char *s = strdup(v);
    if (!s)
        return sbk_err(err, SBK_ENOMEM, "out of memory");
    free(*field);
    *field = *v ? s : NULL;
    if (!*v)
        free(s);
    return 0;
}

static int set_listen(SbkKioskConfig *cfg, const char *v, SbkError *err)
{
    clear_listen(cfg);
    const char *p = v;
    while (*p) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (!len)
            break;
        if (cfg->n_listen == SBK_KIOSK_MAX_LISTEN)
            return sbk_err(err, SBK_EINVAL, "listen: at most %d addresses", SBK_KIOSK_MAX_LISTEN);
        cfg->listen[cfg->n_listen] = strndup(p, len);
        if (!cfg->listen[cfg->n_listen])
            return sbk_err(err, SBK_ENOMEM, "out of memory");
        cfg->n_listen++;
        p += len;
    }
    return 0;
}

/* The one key table: flags and INI keys both land here. */
typedef enum { K_UINT, K_SIZE, K_BOOL, K_STR, K_LISTEN, K_POLICY } KeyType;
typedef struct ConfigKey {
    const char *name;
    KeyType type;
    size_t offset;
    unsigned long long min, max;
} ConfigKey;

#define F(field) offsetof(SbkKioskConfig, field)
static const ConfigKey config_keys[] = {
    {"listen", K_LISTEN, 0, 0, 0},
    {"library", K_STR, F(library_dir), 0, 0},
    {"web_dir", K_STR, F(web_dir), 0, 0},
    {"cache", K_STR, F(cache_path), 0, 0},
    {"connection_limit", K_UINT, F(connection_limit), 1, 100000},
    {"per_ip_limit", K_UINT, F(per_ip_limit), 0, 100000},
    {"header_timeout", K_UINT, F(header_timeout), 0, 3600},
    {"reserve", K_UINT, F(reserve), 0, 100000},
    {"timeout", K_UINT, F(timeout), 1, 86400},
    {"memory_limit", K_SIZE, F(memory_limit), 8192, 16u << 20},
    {"threads", K_UINT, F(threads), 1, 64},
    {"backlog", K_UINT, F(backlog), 1, 65535},
    {"min_rate", K_UINT, F(min_rate), 0, 1u << 30},
    {"inflate_budget", K_SIZE, F(inflate_budget), SBK_INFLATE_COST, 1u << 30},
    {"watch", K_BOOL, F(watch), 0, 1},
    {"verify", K_BOOL, F(verify), 0, 1},
    {"access_log", K_BOOL, F(access_log), 0, 1},
    {"state", K_STR, F(state_dir), 0, 0},
    {"name", K_STR, F(name), 0, 0},
    {"drive_roots", K_STR, F(drive_roots), 0, 0},
    {"drive_poll", K_UINT, F(drive_poll), 0, 3600},
    {"auto_import", K_BOOL, F(auto_import), 0, 1},
    {"trusted", K_STR, F(trusted_dir), 0, 0},
    {"require_signature", K_POLICY, F(require_signature), 0, 2},
    {"upload_max", K_SIZE, F(upload_max), 1, (unsigned long long)1 << 40},
};
#undef F

int sbk_kiosk_config_set(SbkKioskConfig *cfg, const char *key, const char *value, SbkError *err)
{
    for (size_t i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
        const ConfigKey *k = &config_keys[i];
        if (strcmp(k->name, key) != 0)
            continue;
        char *base = (char *)cfg + k->offset;
        unsigned long long n;
        int b;
        switch (k->type) {
        case K_LISTEN:
            return set_listen(cfg, value, err);
        case K_STR:
            return set_string((char **)(void *)base, value, err);
        case K_POLICY:
            if (strcmp(value, "off") == 0)
                *(int *)(void *)base = SBK_SIGN_POLICY_OFF;
            else if (strcmp(value, "warn") == 0)
                *(int *)(void *)base = SBK_SIGN_POLICY_WARN;
            else if (strcmp(value, "on") == 0)
                *(int *)(void *)base = SBK_SIGN_POLICY_ON;
            else
                return sbk_err(err, SBK_EINVAL, "%s: expected off, warn or on, not \"%s\"", key, value);
            return 0;
        case K_BOOL:
            if (sbk_parse_bool(value, &b) < 0)
                return sbk_err(err, SBK_EINVAL, "%s: expected yes or no, not \"%s\"", key, value);
            *(int *)(void *)base = b;
            return 0;
        case K_UINT:
        case K_SIZE:
            if (sbk_kiosk_parse_uint(value, k->max, &n) != 0 || n < k->min)
                return sbk_err(err, SBK_EINVAL, "%s: expected a number from %llu to %llu, not \"%s\"",
                               key, k->min, k->max, value);
            if (k->type == K_UINT)
                *(unsigned *)(void *)base = (unsigned)n;
            else
                *(size_t *)(void *)base = (size_t)n;
            return 0;
        }
    }
    return sbk_err(err, SBK_EINVAL, "unknown setting \"%s\"", key);
}

typedef struct IniCtx {
    SbkKioskConfig *cfg;
    SbkError *err;
    int failed;
} IniCtx;

static int config_ini_line(void *user, const char *section, const char *name, const char *value)
{
    IniCtx *c = user;
    if (c->failed)
        return 0;
    if (strcmp(section, "server") != 0) {
        sbk_err(c->err, SBK_EINVAL, "setting \"%s\" outside the [server] section", name);
        c->failed = 1;
        return 0;
    }
    if (sbk_kiosk_config_set(c->cfg, name, value, c->err) != 0) {
        c->failed = 1;
        return 0;
    }
    return 1;
}

int sbk_kiosk_config_load_ini(SbkKioskConfig *cfg, const char *path, SbkError *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sbk_err_errno(err, errno, "%s", path);
    IniCtx c = {cfg, err, 0};
    int line = ini_parse_file(f, config_ini_line, &c);
    fclose(f);
    if (line == 0)
        return 0;
    if (c.failed) {
        sbk_err_prefix(err, "%s:%d", path, line);
        return SBK_EINVAL;
    }
    if (line < 0)
        return sbk_err(err, SBK_ENOMEM, "%s: cannot read", path);
    return sbk_err(err, SBK_EINVAL, "%s:%d: not an INI line (expected key = value)", path, line);
}

int sbk_kiosk_config_copy(SbkKioskConfig *dst, const SbkKioskConfig *src)
{
    *dst = *src;
    dst->library_dir = dst->web_dir = dst->cache_path = NULL;
    dst->state_dir = dst->name = dst->drive_roots = NULL;
    dst->trusted_dir = NULL;
    if (src->trusted_dir && !(dst->trusted_dir = strdup(src->trusted_dir)))
        return SBK_ENOMEM;
    for (int i = 0; i < SBK_KIOSK_MAX_LISTEN; i++)
        dst->listen[i] = NULL;
    dst->n_listen = 0;
    if (src->library_dir && !(dst->library_dir = strdup(src->library_dir)))
        return SBK_ENOMEM;
    if (src->web_dir && !(dst->web_dir = strdup(src->web_dir)))
        return SBK_ENOMEM;
    if (src->cache_path && !(dst->cache_path = strdup(src->cache_path)))
        return SBK_ENOMEM;
    if ((src->state_dir && !(dst->state_dir = strdup(src->state_dir))) ||
        (src->name && !(dst->name = strdup(src->name))) ||
        (src->drive_roots && !(dst->drive_roots = strdup(src->drive_roots))))
        return SBK_ENOMEM;
    for (int i = 0; i < src->n_listen; i++) {
        if (!(dst->listen[i] = strdup(src->listen[i])))
            return SBK_ENOMEM;
        dst->n_listen++;
    }
    if (dst->n_listen == 0) {
        if (!(dst->listen[0] = strdup("0.0.0.0:8080")))
            return SBK_ENOMEM;
        dst->n_listen = 1;
    }
    return 0;
}
