/* sabak/safeopen.h - open inputs beneath a folder without following links.
 *
 * A lesson folder comes from a trainer's laptop, a USB stick or a shared
 * folder; a symbolic link in it ("handouts/shadow.txt -> /etc/shadow") must
 * not carry an outside file into a bundle, and a FIFO or device must not
 * hang or feed the packer. Every component is opened relative to the one
 * before it with O_NOFOLLOW, so no link is followed anywhere on the way,
 * ".." and absolute paths are refused, and the type is checked with
 * fstatat(AT_SYMLINK_NOFOLLOW) before the last open (a FIFO is never
 * opened) and with fstat after it (O_NONBLOCK as well, in case it was
 * swapped in between). */
#ifndef SABAK_SAFEOPEN_H
#define SABAK_SAFEOPEN_H

#include <stddef.h>
#include <sys/stat.h>

#include "sabak/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SBK_OPEN_FILE = 0, SBK_OPEN_DIR = 1 } SbkOpenKind;

/* Open `rel` ("handouts/a.pdf") beneath the folder open at `dirfd`.
 * `shown` is how that folder is named in messages ("lessons/x"). Returns a
 * descriptor (O_RDONLY|O_CLOEXEC, blocking, owned by the caller) and fills
 * *st if not NULL, or:
 *   SBK_ENOENT        a component is missing: "<shown>/<rel>: no such file"
 *   SBK_EUNSUPPORTED  a component is a symbolic link; the message names
 *                     the component and never its target
 *   SBK_EINVAL        a component is not a folder, or the last one is not a
 *                     regular file / folder (FIFO, device, socket); or rel
 *                     is absolute, empty or has a ".." component
 *   SBK_EIO           another open error (errno text) */
int sbk_open_beneath(int dirfd, const char *shown, const char *rel, SbkOpenKind kind,
                     struct stat *st, SbkError *err);

/* sbk_open_beneath(SBK_OPEN_FILE) and read the whole file into a
 * NUL-terminated malloc'ed buffer; SBK_ELIMIT above max_len. */
int sbk_read_beneath(int dirfd, const char *shown, const char *rel, size_t max_len, char **out,
                     size_t *len, SbkError *err);

/* The part of `path` after "dir/" (`path` as made by sbk_path_join(dir,
 * ...)), or NULL if path is not under dir. */
const char *sbk_path_under(const char *dir, const char *path);

#ifdef __cplusplus
}
#endif
#endif
