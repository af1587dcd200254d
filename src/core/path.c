#include "sabak/core.h"

#include <stdlib.h>
#include <string.h>

int sbk_path_entry_ok(const char *name)
{
    if (!name)
        return 0;
    size_t len = strlen(name);
    if (len == 0 || len > 255 || name[0] == '/' || name[len - 1] == '/')
        return 0;
    if (!sbk_utf8_valid(name, len))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '\\' || c == ':')
            return 0;
    }
    /* Check each component. */
    const char *p = name;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n;
        if (*p == '/')
            p++;
    }
    return 1;
}

int sbk_lesson_id_ok(const char *id)
{
    if (!id)
        return 0;
    size_t len = strlen(id);
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (i == 0 && !alnum)
            return 0;
        if (!alnum && c != '-' && c != '_' && c != '.')
            return 0;
    }
    return strstr(id, "..") == NULL;
}

char *sbk_path_join(const char *dir, const char *rel)
{
    size_t a = strlen(dir), b = strlen(rel);
    while (a > 1 && dir[a - 1] == '/')
        a--;
    char *out = malloc(a + b + 2);
    if (!out)
        return NULL;
    memcpy(out, dir, a);
    out[a] = '/';
    memcpy(out + a + 1, rel, b + 1);
    return out;
}

const char *sbk_path_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}
