/* src/kiosk/range.c - see range.h. */
#include "kiosk/range.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* A spec before resolution: first/last as written, -1 when absent. */
typedef struct RawSpec {
    int64_t first, last; /* first < 0: suffix form "-last" */
} RawSpec;

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parse 1*DIGIT saturating at INT64_MAX. Returns the end or NULL if no digit. */
static const char *parse_num(const char *p, int64_t *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            v = INT64_MAX;
        else
            v = v * 10 + d;
        p++;
    }
    *out = v;
    return p;
}

/* Parse "bytes=spec, spec ..." into raw specs. Returns the count, 0 on bad
 * syntax or another unit, or SBK_RANGE_MAX + 1 when there are too many. */
static int parse_specs(const char *h, RawSpec *specs)
{
    const char *p = skip_ows(h);
    if (strncasecmp(p, "bytes", 5) != 0)
        return 0;
    p = skip_ows(p + 5);
    if (*p++ != '=')
        return 0;
    int n = 0;
    for (;;) {
        p = skip_ows(p);
        RawSpec s = {-1, -1};
        if (*p == '-') {
            p = parse_num(p + 1, &s.last);
            if (!p)
                return 0;
        } else {
            p = parse_num(p, &s.first);
            if (!p || *p++ != '-')
                return 0;
            if (*p >= '0' && *p <= '9')
                p = parse_num(p, &s.last);
        }
        if (n == SBK_RANGE_MAX)
            return SBK_RANGE_MAX + 1;
        specs[n++] = s;
        p = skip_ows(p);
        if (*p == '\0')
            return n;
        if (*p++ != ',')
            return 0;
    }
}

/* Turn one raw spec into an inclusive range; 0 when unsatisfiable. */
static int resolve_spec(const RawSpec *s, int64_t length, SbkRange *out)
{
    if (s->first < 0) { /* suffix: the last n bytes */
        if (s->last == 0 || length == 0)
            return 0;
        out->first = s->last >= length ? 0 : length - s->last;
        out->last = length - 1;
        return 1;
    }
    if (s->first >= length)
        return 0;
    if (s->last >= 0 && s->last < s->first)
        return 0;
    out->first = s->first;
    out->last = (s->last < 0 || s->last >= length) ? length - 1 : s->last;
    return 1;
}

static int overlapping(const SbkRange *r, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (r[i].first <= r[j].last && r[j].first <= r[i].last)
                return 1;
    return 0;
}

SbkRangeStatus sbk_range_parse(const char *header, int64_t length, SbkRangeSet *out)
{
    RawSpec specs[SBK_RANGE_MAX];
    memset(out, 0, sizeof *out);
    out->status = SBK_RANGE_FULL;
    if (!header || length < 0)
        return out->status;
    int n = parse_specs(header, specs);
    if (n == 0 || n > SBK_RANGE_MAX)
        return out->status;
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (resolve_spec(&specs[i], length, &out->r[kept]))
            kept++;
    if (kept == 0) {
        out->status = SBK_RANGE_UNSATISFIABLE;
        return out->status;
    }
    if (kept > 1) {
        int64_t sum = 0;
        int too_much = 0;
        for (int i = 0; i < kept && !too_much; i++) {
            int64_t part = out->r[i].last - out->r[i].first + 1;
            too_much = part > length - sum; /* sum + part > length, without overflow */
            sum += too_much ? 0 : part;
        }
        if (too_much || overlapping(out->r, kept)) {
            memset(out->r, 0, sizeof out->r);
            return out->status;
        }
    }
    out->n = kept;
    out->status = SBK_RANGE_PARTIAL;
    return out->status;
}

int64_t sbk_range_total(const SbkRangeSet *set)
{
    int64_t sum = 0;
    for (int i = 0; i < set->n; i++)
        sum += set->r[i].last - set->r[i].first + 1;
    return sum;
}
