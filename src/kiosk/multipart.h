/* src/kiosk/multipart.h - a multipart/byteranges body over several ranges of
 * one entity (RFC 9110 14.6), generated as MHD reads it: part headers, then
 * the bytes from the bundle (pread), from memory, or inflated on the fly. */
#ifndef SABAK_KIOSK_MULTIPART_H
#define SABAK_KIOSK_MULTIPART_H

#include <stdint.h>
#include <sys/types.h>

#include "kiosk/inflate.h"
#include "kiosk/range.h"
#include "kiosk/reply.h"

typedef struct Multipart Multipart;

/* Take the reply's body into a generator over the ranges rs of an entity of
 * `length` bytes; writes the Content-Type (with its boundary) to ctype.
 * NULL on failure, *rc then says why (SBK_ELIMIT: over the inflation budget). */
Multipart *sbk_multipart_new(SbkReply *r, const SbkRangeSet *rs, int64_t length, char *ctype,
                             size_t ctype_n, int *rc);
uint64_t sbk_multipart_total(const Multipart *mp);
/* MHD content-reader callbacks. */
ssize_t sbk_multipart_read(void *cls, uint64_t pos, char *buf, size_t max);
void sbk_multipart_free(void *cls);
/* A deflated reply's inflater (it takes the reply's fd). 0, SBK_ELIMIT
 * (over the inflation budget) or SBK_ENOMEM. */
int sbk_reply_take_inflater(SbkReply *r, SbkInflater **inf);

#endif
