/* src/bundle/bundle_internal.h - shared by the bundle reader and verifier
 * (internal to libsabak, not installed).
 *
 * The ZIP structure (end of central directory, central directory, local
 * headers) is read here directly with pread(2): libarchive does not tell
 * where an entry's data starts, and the kiosk needs that offset to serve
 * stored entries with sendfile. libarchive still reads the same archive
 * (names, types, manifest, data and CRCs) as an independent second opinion. */
#ifndef SABAK_BUNDLE_INTERNAL_H
#define SABAK_BUNDLE_INTERNAL_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sabak/bundle.h"

typedef struct SbkZipRecord {
    char *name;           /* NUL-terminated copy of the central directory name */
    size_t name_len;      /* bytes in the archive (may differ from strlen if it holds NUL) */
    uint16_t made_by;     /* "version made by": high byte 3 = Unix */
    uint16_t flags;       /* general purpose bit flags */
    uint16_t method;      /* 0 stored, 8 deflated */
    uint32_t crc32;
    uint64_t csize, usize;
    uint64_t lho;         /* local header offset */
    uint32_t ext_attr;    /* external attributes (Unix mode << 16) */
    int64_t data_offset;  /* first byte of the entry's (compressed) data */
} SbkZipRecord;

typedef struct SbkZipDir {
    SbkZipRecord *rec;    /* in central directory order */
    size_t n;
    int64_t file_size;
    int64_t cd_offset, cd_size;
    int64_t end_offset;   /* where the archive ends (after the EOCD and its comment) */
    int64_t trailing;     /* bytes after end_offset: > 0 means garbage appended */
    int zip64;
} SbkZipDir;

/* Read the zip structure of fd. Fails with SBK_EDAMAGED and a message
 * without a path prefix ("not a zip archive", "truncated: ...") when the
 * structure cannot be read; trailing data is reported in dir->trailing, not
 * as a failure. */
int sbk_zipdir_read(int fd, int64_t file_size, SbkZipDir *dir, SbkError *err);
void sbk_zipdir_free(SbkZipDir *dir);

/* The kind of problem a record has, as one line without a path prefix
 * (e.g. "entry \"../x\" has an unsafe name"), or NULL when it is fine.
 * `buf` receives the text. Checks name, type (regular files only),
 * encryption and compression method. */
const char *sbk_zipdir_record_problem(const SbkZipRecord *r, char *buf, size_t n);

/* A libarchive reader with only the seekable zip format registered (no
 * filters), reading fd through pread(2) so that the descriptor's file
 * position is never touched. On success *out is open; on failure *out may
 * still need archive_read_free (its error string says why). *src_out must
 * be freed by the caller after archive_read_free. Returns 0, SBK_ENOMEM or
 * SBK_EDAMAGED. */
struct archive;
int sbk_bundle_archive_open(int fd, int64_t size, struct archive **out, void **src_out);
/* The errno of the last read of that source that failed, 0 if none: tells
 * an I/O error apart from damage when libarchive fails. */
int sbk_bundle_archive_io_errno(const void *src);

/* libarchive converts entry names between UTF-8 (the zip's UTF-8 flag) and
 * the *current locale*; in the C locale (the kiosk under systemd, LANG
 * unset) a Cyrillic name fails with "Pathname cannot be converted". So every
 * libarchive session runs under a thread-local C.UTF-8 LC_CTYPE (uselocale:
 * no other thread is affected). enter never fails: without C.UTF-8 it leaves
 * the locale as it is. */
typedef struct SbkUtf8Locale {
    locale_t loc, old;
} SbkUtf8Locale;
void sbk_bundle_locale_enter(SbkUtf8Locale *l);
void sbk_bundle_locale_leave(SbkUtf8Locale *l);

/* Where the signature entry may be: right after manifest.json. The problem
 * with its place as one line, or NULL: checked by the reader and verify. */
const char *sbk_zipdir_minisig_problem(const SbkZipDir *d);
static inline int sbk_bundle_is_minisig(const char *name)
{
    return strcmp(name, SBK_MINISIG_NAME) == 0;
}

/* sbk_bundle_write, where entry i with slices[i].fd >= 0 is read from that
 * descriptor (len bytes from offset: a stored entry of another bundle)
 * instead of its src_path or data. slices may be NULL. */
typedef struct SbkBundleSlice {
    int fd;
    int64_t offset;
} SbkBundleSlice;
int sbk_bundle_write_slices(const char *out_path, const SbkBundleInput *in, const SbkBundleSlice *slices,
                            size_t n, const volatile int *cancel, SbkError *err);

/* Quote an entry name for messages: printable bytes kept, others \xNN,
 * at most about 80 characters. */
void sbk_bundle_quote(const char *name, size_t len, char *buf, size_t n);

/* manifest_pack.c: a copy of m in one allocation (SbkManifest.packed),
 * equal strings shared; NULL when out of memory. */
SbkManifest *sbk_manifest_pack(const SbkManifest *m);

#endif
