/* libFuzzer target: the Range parser against lengths taken from the input.
 * Checks the invariants every answer must keep. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t length = 0;
    /* the first 8 bytes (when present, after a '\n') pick the length */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - data) : size;
    if (nl && size - hlen - 1 >= 8) {
        memcpy(&length, nl + 1, 8);
        length &= INT64_MAX;
    } else {
        length = 1000;
    }
    char *h = malloc(hlen + 1);
    if (!h)
        return 0;
    memcpy(h, data, hlen);
    h[hlen] = '\0';
    SbkRangeSet rs;
    SbkRangeStatus st = sbk_range_parse(h, length, &rs);
    if (st != rs.status)
        abort();
    if (st == SBK_RANGE_PARTIAL) {
        if (rs.n < 1 || rs.n > SBK_RANGE_MAX)
            abort();
        for (int i = 0; i < rs.n; i++)
            if (rs.r[i].first < 0 || rs.r[i].first > rs.r[i].last || rs.r[i].last >= length)
                abort();
        if (sbk_range_total(&rs) > length)
            abort();
    } else if (rs.n != 0) {
        abort();
    }
    free(h);
    return 0;
}
