/* src/kiosk/cond.c - see cond.h. */
#include "kiosk/cond.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Compare the opaque tag etag[0..elen) (quotes included) with `etag`. */
static int tag_equal(const char *tag, size_t len, const char *etag)
{
    return strlen(etag) == len && memcmp(tag, etag, len) == 0;
}

int sbk_cond_etag_match(const char *list, const char *etag, int strong)
{
    if (!list || !etag || !*etag)
        return 0;
    const char *p = skip_ows(list);
    if (*p == '*')
        return *skip_ows(p + 1) == '\0';
    int etag_weak = strncmp(etag, "W/", 2) == 0;
    const char *etag_opaque = etag_weak ? etag + 2 : etag;
    int found = 0; /* the whole list must parse before a match counts */
    while (*p) {
        int weak = 0;
        if (p[0] == 'W' && p[1] == '/') {
            weak = 1;
            p += 2;
        }
        if (*p != '"')
            return 0;
        const char *end = strchr(p + 1, '"');
        if (!end)
            return 0;
        size_t len = (size_t)(end - p) + 1;
        if (tag_equal(p, len, etag_opaque) && !(strong && (weak || etag_weak)))
            found = 1;
        p = skip_ows(end + 1);
        if (*p == ',')
            p = skip_ows(p + 1);
        else if (*p)
            return 0;
    }
    return found;
}

int sbk_cond_evaluate(const SbkCondRequest *req, const char *etag, int64_t mtime)
{
    int64_t t;
    if (req->if_match) {
        if (!sbk_cond_etag_match(req->if_match, etag, 1))
            return 412;
    } else if (req->if_unmodified_since && mtime > 0 &&
               sbk_cond_parse_date(req->if_unmodified_since, &t) == 0 && mtime > t) {
        return 412;
    }
    if (req->if_none_match) {
        if (sbk_cond_etag_match(req->if_none_match, etag, 0))
            return 304;
    } else if (req->if_modified_since && mtime > 0 &&
               sbk_cond_parse_date(req->if_modified_since, &t) == 0 && mtime <= t) {
        return 304;
    }
    return 0;
}

int sbk_cond_if_range(const char *if_range, const char *etag, int64_t mtime)
{
    if (!if_range)
        return 1;
    const char *p = skip_ows(if_range);
    if (*p == '"' || (p[0] == 'W' && p[1] == '/')) {
        if (*p != '"' || !etag)
            return 0;
        const char *end = strchr(p + 1, '"');
        if (!end || *skip_ows(end + 1) != '\0')
            return 0;
        return tag_equal(p, (size_t)(end - p) + 1, etag) && strncmp(etag, "W/", 2) != 0;
    }
    int64_t t;
    return mtime > 0 && sbk_cond_parse_date(p, &t) == 0 && t == mtime;
}

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void sbk_cond_http_date(int64_t t, char *buf, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, n, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(buf, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int month_index(const char *m)
{
    for (int i = 0; i < 12; i++)
        if (strncmp(m, months[i], 3) == 0)
            return i;
    return -1;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int to_time(int y, int mon, int d, int hh, int mm, int ss, int64_t *out)
{
    if (mon < 0 || d < 1 || d > 31 || hh < 0 || mm < 0 || ss < 0 || hh > 23 || mm > 59 || ss > 60 || y < 1900 || y > 9999)
        return -1;
    *out = days_from_civil(y, mon + 1, d) * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

int sbk_cond_parse_date(const char *s, int64_t *out)
{
    char wd[16], mon[4];
    int d, y, hh, mm, ss, used = 0;
    s = skip_ows(s);
    /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
    if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", wd, &d, mon, &y, &hh, &mm, &ss, &used) == 7 &&
        used > 0 && *skip_ows(s + used) == '\0')
        return to_time(y, month_index(mon), d, hh, mm, ss, out);
    /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
    used = 0;
    if (sscanf(s, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", wd, &d, mon, &y, &hh, &mm, &ss,
               &used) == 7 &&
        used > 0 && *skip_ows(s + used) == '\0')
        return to_time(y < 70 ? 2000 + y : 1900 + y, month_index(mon), d, hh, mm, ss, out);
    /* asctime: Sun Nov  6 08:49:37 1994 */
    used = 0;
    if (sscanf(s, "%3s %3s %2d %2d:%2d:%2d %4d%n", wd, mon, &d, &hh, &mm, &ss, &y, &used) == 7 &&
        used > 0 && *skip_ows(s + used) == '\0')
        return to_time(y, month_index(mon), d, hh, mm, ss, out);
    return -1;
}
