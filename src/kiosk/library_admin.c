/* src/kiosk/library_admin.c - what the admin area asks of the library
 * beyond serving: remove a lesson (every bundle file of its id). */
#include "kiosk/library_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kiosk/library.h"
#include "sabak/core.h"

int sbk_library_remove(SbkLibrary *lib, const char *id, SbkError *err)
{
    if (!id || !sbk_lesson_id_ok(id))
        return sbk_err(err, SBK_ENOENT, "no such lesson");
    int removed = 0, ret = 0;
    pthread_mutex_lock(&lib->scan_lock);
    Snapshot *s = sbk_lib_snap_get(lib);
    int dfd = open(lib->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; dfd >= 0 && i < s->n_items; i++) {
        const Item *it = &s->items[i];
        if (!it->lb || strcmp(it->lb->b->manifest->id, id) != 0)
            continue;
        if (unlinkat(dfd, it->file, 0) == 0)
            removed++;
        else if (errno != ENOENT)
            ret = sbk_err_errno(err, errno, "cannot remove %s", it->file);
    }
    if (dfd < 0)
        ret = sbk_err_errno(err, errno, "cannot open the library folder %s", lib->dir);
    else {
        fsync(dfd);
        close(dfd);
    }
    sbk_lib_snap_unref(&s);
    if (removed) {
        SbkError e2 = {0};
        sbk_lib_rescan_locked(lib, &e2);
    }
    pthread_mutex_unlock(&lib->scan_lock);
    if (ret == 0 && !removed)
        ret = sbk_err(err, SBK_ENOENT, "no such lesson");
    return ret;
}
