/* src/kiosk/inflate.h - stream one deflated ZIP entry out of a bundle file
 * with a bounded buffer: raw inflate over the entry's compressed bytes
 * (pread from the bundle's descriptor, no lock held), its CRC-32 and size
 * checked when the stream ends. Every live inflater holds a share of one
 * process-wide budget; past it sbk_inflater_new refuses (SBK_ELIMIT) and the
 * caller answers 503. No libmicrohttpd here (http.c wraps it). */
#ifndef SABAK_KIOSK_INFLATE_H
#define SABAK_KIOSK_INFLATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What one inflater costs against the budget: zlib's state and 32 KiB
 * window, the input buffer, and the response block MHD allocates. */
#define SBK_INFLATE_COST (96u << 10)
#define SBK_INFLATE_BLOCK (16u << 10)  /* MHD block size for inflated bodies */
#define SBK_INFLATE_BUDGET_DEFAULT (32u << 20)

typedef struct SbkInflater SbkInflater;

/* The budget for all inflaters together (bytes); 0 restores the default.
 * Shrinking it never stops a stream already running. */
void sbk_inflate_set_budget(size_t bytes);
/* Bytes held by live inflaters now (for tests and /api/stats). */
size_t sbk_inflate_in_use(void);

/* Takes ownership of fd (closed by sbk_inflater_free, also on failure).
 * data_offset/csize: the compressed bytes in the file; usize/crc32: what
 * the central directory promises. Returns 0, SBK_ELIMIT (over the budget)
 * or SBK_ENOMEM. */
int sbk_inflater_new(SbkInflater **out, int fd, int64_t data_offset, int64_t csize, int64_t usize,
                     uint32_t crc32);
/* Up to n bytes of the entry from uncompressed offset pos into buf (reading
 * forward is cheap; going backwards restarts the stream). Returns the
 * bytes (> 0), 0 at the end of the entry, SBK_EDAMAGED when the data does
 * not inflate, its length or its CRC-32 differs from the central directory
 * (checked when the stream was inflated from its first byte to its end),
 * or SBK_EIO when the file cannot be read. */
ssize_t sbk_inflater_read(SbkInflater *inf, int64_t pos, char *buf, size_t n);
void sbk_inflater_free(SbkInflater *inf);

#endif
