/* What kind of filesystem a drive has, and how much room is left.
 *
 * The type comes from /proc/self/mountinfo (the entry with the same device
 * number whose mount point is the longest prefix of the path), so that FUSE
 * filesystems are told apart ("fuse.fusefat" is FAT; "fuseblk" is exFAT or
 * NTFS through FUSE, neither of which has the 4 GiB limit). statfs's magic
 * number is the fallback when /proc is not there. */
#include "carry_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#define MSDOS_MAGIC 0x4d44
#define EXFAT_MAGIC 0x2011BAB0

static int is_fat_type(const char *t)
{
    static const char *const fat[] = {"vfat", "msdos", "fat", "umsdos", "fuse.fusefat",
                                      "fusefat", NULL};
    for (int i = 0; fat[i]; i++)
        if (strcmp(t, fat[i]) == 0)
            return 1;
    return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
    char *o = s;
    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
            *o++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
            s += 4;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
}

static int prefix_of(const char *mnt, const char *path)
{
    size_t l = strlen(mnt);
    if (strcmp(mnt, "/") == 0)
        return 1;
    return strncmp(mnt, path, l) == 0 && (path[l] == '/' || path[l] == '\0');
}

static int type_from_mountinfo(const char *real, dev_t dev, char *type, size_t n)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    char line[4096];
    size_t best = 0;
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned maj, mnr;
        char mnt[PATH_MAX];
        if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &mnr, mnt) != 3)
            continue;
        if (makedev(maj, mnr) != dev)
            continue;
        unescape(mnt);
        const char *dash = strstr(line, " - ");
        char fstype[64];
        if (!dash || sscanf(dash + 3, "%63s", fstype) != 1)
            continue;
        size_t l = strlen(mnt);
        if (prefix_of(mnt, real) && (found < 0 || l >= best)) {
            best = l;
            snprintf(type, n, "%s", fstype);
            found = 0;
        }
    }
    fclose(f);
    return found;
}

int sbk_carry_fs_info(const char *path, SbkFsInfo *out, SbkError *err)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    struct statvfs sv;
    struct statfs sf;
    if (stat(path, &st) < 0)
        return sbk_err_errno(err, errno, _("cannot use %s"), path);
    if (statvfs(path, &sv) < 0)
        return sbk_err_errno(err, errno, _("cannot read the free space of %s"), path);
    out->free_bytes = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
    out->total_bytes = (int64_t)sv.f_blocks * (int64_t)sv.f_frsize;
    if (sv.f_blocks == 0) /* e.g. fusefat reports no sizes at all: unknown */
        out->free_bytes = out->total_bytes = -1;
    char *real = realpath(path, NULL);
    if (!real || type_from_mountinfo(real, st.st_dev, out->type, sizeof out->type) < 0) {
        if (statfs(path, &sf) == 0 && sf.f_type == MSDOS_MAGIC)
            snprintf(out->type, sizeof out->type, "vfat");
        else if (statfs(path, &sf) == 0 && (unsigned long)sf.f_type == EXFAT_MAGIC)
            snprintf(out->type, sizeof out->type, "exfat");
        else
            snprintf(out->type, sizeof out->type, "unknown");
    }
    free(real);
    out->fat = is_fat_type(out->type);
    return 0;
}
