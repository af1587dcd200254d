/* The copy engine shared by export and import: a bundle goes to a part
 * file, is fsync'ed, dropped from the page cache and read back through
 * sbk_bundle_verify (every SHA-256, every CRC), and only then renamed to its
 * final name and the folder fsync'ed. A part left by a pulled drive or a
 * power cut is continued from where it stopped once its kept prefix matches
 * the source. */
#include "carry_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (1 << 20)
/* fdatasync this often, so that what a pulled drive keeps is really there
 * (and the page cache does not fill with the drive's data). */
#define SYNC_EVERY ((int64_t)32 << 20)
#define HEAD_CHECK (64 << 10)

typedef struct FirstProblem {
    char line[512];
    int n;
} FirstProblem;

static void on_problem(void *opaque, const char *line)
{
    FirstProblem *fp = opaque;
    if (fp->n++ == 0)
        snprintf(fp->line, sizeof fp->line, "%s", line);
}

static int same_bytes(int a, int b, off_t off, size_t len, char *buf1, char *buf2)
{
    if (sbk_pread_all(a, buf1, len, off) < 0 || sbk_pread_all(b, buf2, len, off) < 0)
        return 0;
    return memcmp(buf1, buf2, len) == 0;
}

/* How much of an existing part can be kept: whole blocks, less the last one
 * (a pulled drive may leave a torn or zero-filled tail), and only if the
 * head, the tail of the kept prefix and a few samples match the source. The
 * final verify catches anything these samples miss. */
static int64_t resumable_prefix(int pfd, int sfd, int64_t src_size, char *b1, char *b2)
{
    struct stat st;
    if (fstat(pfd, &st) < 0 || st.st_size <= 0)
        return 0;
    int64_t keep = (st.st_size / BLOCK - 1) * (int64_t)BLOCK;
    if (keep <= 0 || keep > src_size)
        return 0;
    posix_fadvise(pfd, 0, 0, POSIX_FADV_DONTNEED); /* read what the device holds */
    if (!same_bytes(pfd, sfd, 0, HEAD_CHECK, b1, b2))
        return 0;
    if (!same_bytes(pfd, sfd, keep - BLOCK, BLOCK, b1, b2))
        return 0;
    for (int i = 1; i < 8; i++) {
        int64_t off = keep / 8 * i / BLOCK * BLOCK;
        if (off + HEAD_CHECK <= keep && !same_bytes(pfd, sfd, off, HEAD_CHECK, b1, b2))
            return 0;
    }
    return keep;
}

static int copy_data(CarryRun *r, int sfd, int pfd, int64_t start, int64_t size,
                     const char *name, char *buf, SbkError *err)
{
    int64_t since_sync = 0;
    if (r->t0 <= 0)
        r->t0 = sbk_carry_now();
    for (int64_t off = start; off < size;) {
        if (sbk_carry_canceled(r))
            return sbk_err(err, SBK_ECANCELED, _("interrupted"));
        size_t want = size - off < BLOCK ? (size_t)(size - off) : BLOCK;
        int e = sbk_pread_all(sfd, buf, want, off);
        if (e < 0)
            return sbk_err_errno(err, -e, _("cannot read %s"), name);
        ssize_t w;
        size_t put = 0;
        while (put < want) {
            w = pwrite(pfd, buf + put, want - put, off + (off_t)put);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && (errno == ENOSPC || errno == EDQUOT))
                return sbk_err(err, SBK_ENOSPC,
                               _("the drive is full: %s could not be written completely "
                               "(nothing of it is kept; free some room and run again)"),
                               name);
            if (w < 0)
                return sbk_err_errno(err, errno, _("cannot write %s"), name);
            put += (size_t)w;
        }
        off += (int64_t)want;
        since_sync += (int64_t)want;
        r->copied += (int64_t)want;
        r->all_done += (int64_t)want;
        if (since_sync >= SYNC_EVERY) {
            if (fdatasync(pfd) < 0)
                return sbk_err_errno(err, errno, _("cannot write %s"), name);
            posix_fadvise(pfd, 0, 0, POSIX_FADV_DONTNEED);
            since_sync = 0;
        }
        sbk_carry_progress(r, "copy", name, off, size, off == size);
    }
    return 0;
}

int sbk_carry_copy_bundle(CarryRun *r, const char *src, const char *dir, const char *part_name,
                      const char *final_name, int resume, SbkError *err)
{
    char *part = sbk_path_join(dir, part_name), *final = sbk_path_join(dir, final_name);
    char *b1 = malloc(BLOCK), *b2 = malloc(BLOCK);
    int sfd = -1, pfd = -1, ret, keep_part = 0;
    struct stat st;
    if (!part || !final || !b1 || !b2) {
        ret = sbk_err(err, SBK_ENOMEM, _("out of memory"));
        goto done;
    }
    sfd = open(src, O_RDONLY | O_CLOEXEC);
    if (sfd < 0 || fstat(sfd, &st) < 0) {
        ret = sbk_err_errno(err, errno, _("cannot read %s"), src);
        goto done;
    }
    posix_fadvise(sfd, 0, 0, POSIX_FADV_SEQUENTIAL);
    pfd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (pfd < 0) {
        ret = sbk_err_errno(err, errno, _("cannot write %s"), part);
        goto done;
    }
    int64_t start = resume ? resumable_prefix(pfd, sfd, st.st_size, b1, b2) : 0;
    if (ftruncate(pfd, start) < 0) {
        ret = sbk_err_errno(err, errno, _("cannot write %s"), part);
        goto done;
    }
    if (start > 0)
        sbk_carry_event(r, SBK_CARRY_RESUMED, final_name, _("continued from byte %lld of %lld (%d%%)"),
                    (long long)start, (long long)st.st_size, (int)(start * 100 / st.st_size));
    r->all_done += start;
    keep_part = resume;
    ret = copy_data(r, sfd, pfd, start, st.st_size, final_name, b1, err);
    if (ret == SBK_ENOSPC)
        keep_part = 0; /* it cannot be finished here: give the room back */
    if (ret < 0)
        goto done;
    if (fsync(pfd) < 0) {
        ret = sbk_err_errno(err, errno, _("cannot write %s"), part);
        keep_part = ret != SBK_ENOSPC && resume;
        goto done;
    }
    posix_fadvise(pfd, 0, 0, POSIX_FADV_DONTNEED);
    close(pfd);
    pfd = -1;
    sbk_carry_progress(r, "verify", final_name, 0, st.st_size, 1);
    FirstProblem fp = {0};
    SbkSignInfo si;
    if (sbk_bundle_verify_signed(part, r->trust, &si, on_problem, &fp, NULL) != 0) {
        keep_part = 0;
        FirstProblem sp = {0};
        if (sbk_bundle_verify_signed(src, r->trust, NULL, on_problem, &sp, NULL) != 0)
            ret = sbk_err(err, SBK_EDAMAGED, _("%s is damaged: %s"), src, sp.line);
        else
            ret = sbk_err(err, SBK_EDAMAGED,
                          _("%s: the copy read back from the drive is damaged (%s); the drive "
                          "may be failing or was unplugged"),
                          final_name, fp.line);
        goto done;
    }
    if (r->require_trusted && si.state != SBK_SIG_TRUSTED) {
        /* checked before copying too: the drive changed in between */
        ret = sbk_err(err, SBK_EINVAL, _("%s: not signed by a trusted key"), final_name);
        goto done;
    }
    sbk_carry_progress(r, "verify", final_name, st.st_size, st.st_size, 1);
    if (rename(part, final) < 0) {
        ret = sbk_err_errno(err, errno, _("cannot create %s"), final);
        goto done;
    }
    sbk_carry_fsync_dir(dir);
    ret = 0;
done:
    if (pfd >= 0)
        close(pfd);
    if (sfd >= 0)
        close(sfd);
    if (ret < 0 && part && !keep_part)
        unlink(part);
    free(part);
    free(final);
    free(b1);
    free(b2);
    return ret;
}
