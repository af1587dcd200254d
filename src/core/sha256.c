#include "sabak/core.h"
#include "sabak/i18n.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <unistd.h>

/* nettle is already a dependency of Debian's libarchive, so hashing costs
 * the kiosk no extra shared library. */
_Static_assert(sizeof(SbkSha256) >= sizeof(struct sha256_ctx), "SbkSha256 too small");

void sbk_sha256_init(SbkSha256 *ctx) { sha256_init((struct sha256_ctx *)ctx); }

void sbk_sha256_update(SbkSha256 *ctx, const void *data, size_t len)
{
    sha256_update((struct sha256_ctx *)ctx, len, data);
}

void sbk_sha256_final_hex(SbkSha256 *ctx, char hex[SBK_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest((struct sha256_ctx *)ctx, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

void sbk_sha256_hex(const void *data, size_t len, char hex[SBK_SHA256_HEX])
{
    SbkSha256 c;
    sbk_sha256_init(&c);
    sbk_sha256_update(&c, data, len);
    sbk_sha256_final_hex(&c, hex);
}

int sbk_sha256_fd(int fd, off_t off, int64_t len, char hex[SBK_SHA256_HEX], SbkError *err)
{
    enum { CHUNK = 256 * 1024 };
    char *buf = malloc(CHUNK);
    if (!buf)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    SbkSha256 c;
    sbk_sha256_init(&c);
    int ret = 0;
    while (len != 0) {
        size_t want = CHUNK;
        if (len > 0 && (int64_t)want > len)
            want = (size_t)len;
        ssize_t n = pread(fd, buf, want, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ret = sbk_err_errno(err, errno, _("read failed"));
            goto done;
        }
        if (n == 0) {
            if (len > 0)
                ret = sbk_err(err, SBK_EDAMAGED, _("file is shorter than expected"));
            break;
        }
        sbk_sha256_update(&c, buf, (size_t)n);
        off += n;
        if (len > 0)
            len -= n;
    }
    if (ret == 0)
        sbk_sha256_final_hex(&c, hex);
done:
    free(buf);
    return ret;
}
