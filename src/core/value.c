/* src/core/value.c - the words a trainer or an administrator types into a
 * setting: whole numbers and yes/no. One reading for lesson.ini and the
 * kiosk's configuration alike. */
#include <strings.h>

#include "sabak/core.h"

int sbk_parse_int(const char *s, long long lo, long long hi, long long *out)
{
    const char *p = s;
    int neg = 0;
    if (!p)
        return SBK_EINVAL;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!*p)
        return SBK_EINVAL;
    long long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return SBK_EINVAL;
        if (v > 1000000000000LL)
            return SBK_EINVAL; /* far beyond any setting; no overflow below */
        v = v * 10 + (*p - '0');
    }
    if (neg)
        v = -v;
    if (v < lo || v > hi)
        return SBK_EINVAL;
    *out = v;
    return 0;
}

int sbk_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "1", "on"};
    static const char *const no[] = {"false", "no", "0", "off"};
    for (size_t i = 0; s && i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return SBK_EINVAL;
}
