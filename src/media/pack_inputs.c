/* The lesson's own files, each opened beneath the lesson folder without
 * following a link (sabak/safeopen.h): a link or a FIFO planted in a lesson
 * folder can neither bring an outside file into a bundle nor hang the
 * packer, and no message shows a byte of a file outside the lesson. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "pack_int.h"
#include "sabak/core.h"
#include "sabak/safeopen.h"
#include "sabak/i18n.h"

static const char *rel_in_lesson(const Pack *p, const char *path)
{
    const char *rel = sbk_path_under(p->lesson->dir, path);
    return rel ? rel : path;
}

/* The recording is opened by libavformat by name (in probe.c and
 * transcode.c), so it is checked here first: reached without a link,
 * a regular file. The descriptor stays open and sbk_pack__recheck_video
 * makes sure, after the encode, that the name still leads to the same
 * file. What is left is a swap and a swap back during the pack by someone
 * who can already write into the lesson folder; such a person can put any
 * bytes into the recording anyway, and whatever is read goes through the
 * decoders, never into the bundle as it is. */
int sbk_pack__open_video(Pack *p, SbkError *err)
{
    struct stat st;
    if (!p->lesson->video)
        return 0;
    int fd = sbk_open_beneath(p->dfd, p->lesson->dir, rel_in_lesson(p, p->lesson->video),
                              SBK_OPEN_FILE, &st, err);
    if (fd < 0)
        return fd;
    p->video_fd = fd;
    p->video_dev = st.st_dev;
    p->video_ino = st.st_ino;
    return 0;
}

int sbk_pack__recheck_video(Pack *p, SbkError *err)
{
    struct stat st;
    if (p->video_fd < 0)
        return 0;
    int fd = sbk_open_beneath(p->dfd, p->lesson->dir, rel_in_lesson(p, p->lesson->video),
                              SBK_OPEN_FILE, &st, err);
    if (fd < 0)
        return fd;
    close(fd);
    if (st.st_dev != p->video_dev || st.st_ino != p->video_ino)
        return sbk_err(err, SBK_EIO, _("%s was replaced while it was being packed; pack again"),
                       p->lesson->video);
    return 0;
}

/* Every subtitle file, read beneath the folder, before the slow part. */
int sbk_pack__load_subtitles(Pack *p, SbkError *err)
{
    for (int i = 0; i < p->lesson->n_subs; i++) {
        const char *path = p->lesson->subs[i].path;
        char *raw = NULL, *text = NULL, enc[32];
        size_t len = 0, tlen = 0;
        PackSub *s = &p->subs[p->n_subs];
        snprintf(s->lang, sizeof s->lang, "%s", p->lesson->subs[i].lang);
        int ret = sbk_read_beneath(p->dfd, p->lesson->dir, rel_in_lesson(p, path),
                                   SBK_SUBS_MAX_BYTES, &raw, &len, err);
        if (ret == 0 && (ret = sbk_charset_to_utf8((const uint8_t *)raw, len, &text, &tlen, enc,
                                                   err)) < 0)
            sbk_err_prefix(err, "%s", path);
        if (ret == 0 && strcmp(enc, "UTF-8") != 0)
            sbk_log(SBK_LOG_INFO, _("%s: read as %s"), path, enc);
        if (ret == 0 && (ret = sbk_subs_parse(text, tlen, path, &s->subs, err)) == 0)
            memcpy(s->subs->encoding, enc, sizeof enc);
        free(raw);
        free(text);
        if (ret < 0)
            return ret;
        p->n_subs++;
    }
    return 0;
}

static int cmp_handout(const void *a, const void *b)
{
    return strcmp(((const PackHandout *)a)->name, ((const PackHandout *)b)->name);
}

/* One entry of handouts/: opened if it is a regular file, else left out
 * with a warning naming it. Returns 1 added, 0 left out, or an error. */
static int add_handout(Pack *p, int hfd, const char *name, SbkError *err)
{
    const char *dir = p->lesson->handouts_dir;
    char entry[512];
    SbkError why = {0};
    int fd = sbk_open_beneath(hfd, dir, name, SBK_OPEN_FILE, NULL, &why);
    if (fd == SBK_EUNSUPPORTED || fd == SBK_EINVAL) { /* a link, FIFO, device */
        sbk_log(SBK_LOG_WARN, _("%s; left out"), why.msg);
        return 0;
    }
    if (fd < 0)
        return sbk_err(err, fd, "%s", why.msg);
    int ret = SBK_EINVAL;
    snprintf(entry, sizeof entry, "handouts/%s", name);
    if (!sbk_path_entry_ok(entry)) {
        ret = sbk_err(err, SBK_EINVAL, _("%s/%s: this file name cannot go into a bundle"), dir, name);
        goto fail;
    }
    if (p->n_handouts == MAX_HANDOUTS) {
        ret = sbk_err(err, SBK_ELIMIT, _("%s: more than %d handouts"), dir, MAX_HANDOUTS);
        goto fail;
    }
    PackHandout *h = &p->handouts[p->n_handouts];
    h->name = strdup(name);
    h->path = sbk_path_join(dir, name);
    h->fd = fd;
    h->store = sbk_pack__should_store(fd);
    p->n_handouts++;
    if (!h->name || !h->path)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    return 1;
fail:
    close(fd);
    return ret;
}

/* Regular files directly in handouts/, sorted so the bundle is
 * reproducible. Links, FIFOs, devices and sub-folders are left out. */
int sbk_pack__list_handouts(Pack *p, SbkError *err)
{
    if (!p->lesson->handouts_dir)
        return 0;
    int hfd = sbk_open_beneath(p->dfd, p->lesson->dir, "handouts", SBK_OPEN_DIR, NULL, err);
    if (hfd < 0)
        return hfd;
    DIR *d = fdopendir(hfd);
    if (!d) {
        close(hfd);
        return sbk_err_errno(err, errno, _("cannot read %s"), p->lesson->handouts_dir);
    }
    struct dirent *e;
    int ret = 0;
    while (ret >= 0 && (e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
            continue; /* sub-folders are not part of the format */
        ret = add_handout(p, dirfd(d), e->d_name, err);
    }
    closedir(d);
    qsort(p->handouts, (size_t)p->n_handouts, sizeof p->handouts[0], cmp_handout);
    return ret < 0 ? ret : 0;
}

const char *sbk_pack__handout_mime(const char *name)
{
    static const char *const map[][2] = {
        {".pdf", "application/pdf"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"}, {".txt", "text/plain; charset=utf-8"},
        {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
        {".odt", "application/vnd.oasis.opendocument.text"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(dot, map[i][0]) == 0)
            return map[i][1];
    return "application/octet-stream";
}

/* Store or deflate? Decided by trying, not by the name: .pptx, .docx, .pdf,
 * images and archives are already compressed and deflate gains nothing
 * (and a deflated entry costs the kiosk an inflate on every request). The
 * first TRIAL_BYTES are deflated as the ZIP writer would (zlib's default
 * level); under MIN_GAIN percent saved, the file is stored. */
enum { TRIAL_BYTES = 4 << 20, TRIAL_CHUNK = 64 << 10, MIN_GAIN = 5 };

int sbk_pack__should_store(int fd)
{
    z_stream z = {0};
    unsigned char *in = malloc(TRIAL_CHUNK), *out = malloc(TRIAL_CHUNK);
    uint64_t read_total = 0, out_total = 0;
    int store = 0;
    if (!in || !out || deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                                    Z_DEFAULT_STRATEGY) != Z_OK)
        goto done; /* cannot tell: deflate, as before */
    for (;;) {
        ssize_t n = read_total < TRIAL_BYTES ? pread(fd, in, TRIAL_CHUNK, (off_t)read_total) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            n = 0; /* the bundle writer reports read errors */
        read_total += (uint64_t)n;
        z.next_in = in;
        z.avail_in = (uInt)n;
        int flush = n == 0 ? Z_FINISH : Z_NO_FLUSH, r;
        do {
            z.next_out = out;
            z.avail_out = TRIAL_CHUNK;
            r = deflate(&z, flush);
            out_total += TRIAL_CHUNK - z.avail_out;
        } while (z.avail_out == 0 && r != Z_STREAM_END);
        if (n == 0)
            break;
    }
    store = read_total == 0 || out_total * 100 > read_total * (100 - MIN_GAIN);
    deflateEnd(&z);
done:
    free(in);
    free(out);
    return store;
}
