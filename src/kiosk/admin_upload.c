/* src/kiosk/admin_upload.c - the body of POST /admin/api/upload, written to
 * a file in the library's staging folder (LIBRARY/.sabak-upload, the same
 * filesystem, never scanned: the library lists only *.zip at its top) as
 * MHD hands it over. Nothing of it is held in memory, and nothing of it is
 * visible until an upload job has run it through sbk_carry_import (verify,
 * then rename into the library). One upload at a time; over the cap the
 * connection is closed and the file removed. */
#include "kiosk/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sabak/core.h"

struct SbkAdminUpload {
    SbkAdmin *a;
    int fd;
    char *path;
    int64_t declared;  /* Content-Length, -1 for chunked */
    int64_t got;
    int failed;
};

int sbk_admin_upload_open(SbkAdmin *a, int64_t declared, SbkAdminUpload **out, SbkError *err)
{
    *out = NULL;
    pthread_mutex_lock(&a->lock);
    int busy = a->uploading;
    if (!busy)
        a->uploading = 1;
    pthread_mutex_unlock(&a->lock);
    if (busy)
        return sbk_err(err, SBK_ELIMIT, "another upload is running: wait until it ends");
    SbkAdminUpload *u = calloc(1, sizeof *u);
    int ret = 0;
    if (!u || !(u->path = malloc(strlen(a->staging) + 32))) {
        ret = sbk_err(err, SBK_ENOMEM, "out of memory");
        goto fail;
    }
    u->a = a;
    u->fd = -1;
    u->declared = declared;
    if (mkdir(a->staging, 0750) < 0 && errno != EEXIST) {
        ret = sbk_err_errno(err, errno, "cannot make the staging folder %s", a->staging);
        goto fail;
    }
    sprintf(u->path, "%s/upload-XXXXXX.zip", a->staging);
    u->fd = mkostemps(u->path, 4, O_CLOEXEC);
    if (u->fd < 0) {
        ret = sbk_err_errno(err, errno, "cannot write in %s", a->staging);
        goto fail;
    }
    *out = u;
    return 0;
fail:
    if (u)
        free(u->path);
    free(u);
    pthread_mutex_lock(&a->lock);
    a->uploading = 0;
    pthread_mutex_unlock(&a->lock);
    return ret;
}

int sbk_admin_upload_write(SbkAdminUpload *u, const char *data, size_t n)
{
    if (u->failed)
        return -1;
    u->got += (int64_t)n;
    if (u->got > u->a->upload_max || (u->declared >= 0 && u->got > u->declared) ||
        sbk_write_all(u->fd, data, n) < 0) {
        u->failed = 1;
        if (ftruncate(u->fd, 0) < 0) { /* give the space back at once; unlinked at the end */
        }
        return -1;
    }
    return 0;
}

char *sbk_admin_upload_take(SbkAdminUpload *u, int64_t *size)
{
    if (!u || u->failed || u->fd < 0 || (u->declared >= 0 && u->got != u->declared))
        return NULL;
    close(u->fd);
    u->fd = -1;
    char *p = u->path;
    u->path = NULL;
    *size = u->got;
    return p;
}

void sbk_admin_upload_free(SbkAdminUpload **pu)
{
    SbkAdminUpload *u = pu ? *pu : NULL;
    if (!u)
        return;
    if (u->fd >= 0)
        close(u->fd);
    if (u->path)
        unlink(u->path);
    free(u->path);
    pthread_mutex_lock(&u->a->lock);
    u->a->uploading = 0;
    pthread_mutex_unlock(&u->a->lock);
    free(u);
    *pu = NULL;
}
