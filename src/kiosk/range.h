/* src/kiosk/range.h - the HTTP Range header (RFC 9110 section 14), resolved
 * against one representation's length, the way nginx answers it. Pure: no
 * I/O, no allocation, so it is unit-tested as a table and fuzzed. */
#ifndef SABAK_KIOSK_RANGE_H
#define SABAK_KIOSK_RANGE_H

#include <stdint.h>

#define SBK_RANGE_MAX 16 /* more ranges than this: answered 200 with the full body */

typedef enum {
    SBK_RANGE_FULL = 200,          /* no Range, unknown unit, bad syntax, too many,
                                      overlapping, or adding up to more than the length */
    SBK_RANGE_PARTIAL = 206,       /* n >= 1 ranges (n == 1: single part) */
    SBK_RANGE_UNSATISFIABLE = 416, /* answer 416 with Content-Range: bytes * /LEN */
} SbkRangeStatus;

typedef struct SbkRange {
    int64_t first, last; /* inclusive, 0 <= first <= last < length */
} SbkRange;

typedef struct SbkRangeSet {
    SbkRangeStatus status;
    int n;                          /* ranges filled when status is PARTIAL */
    SbkRange r[SBK_RANGE_MAX];
} SbkRangeSet;

/* Resolve `header` (the Range field value without the name; NULL means no
 * Range) against a representation of `length` bytes:
 *   bytes=a-b, a-, -n      one part; b past the end is clipped; -n > length is the whole;
 *   start >= length, -0, b < a                    unsatisfiable (nginx: 416);
 *   several                 unsatisfiable parts are dropped; none left -> 416;
 *                           more than SBK_RANGE_MAX, overlapping, or a sum > length -> full;
 *   other unit, bad syntax  full.
 * The unit is case-insensitive and whitespace around ',' and '=' is allowed.
 * Numbers too large for int64 saturate (a huge start is unsatisfiable, a huge
 * end is clipped). Returns out->status. */
SbkRangeStatus sbk_range_parse(const char *header, int64_t length, SbkRangeSet *out);

/* Sum of the part lengths of a PARTIAL set. */
int64_t sbk_range_total(const SbkRangeSet *set);

#endif
