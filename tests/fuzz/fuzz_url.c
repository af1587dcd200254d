/* libFuzzer target: the URL resolver (strict decoding + route table).
 * Whatever it accepts must be safe to hand to the catalog. The same bytes
 * also go through the Accept-Encoding parser (src/kiosk/reply.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/reply.h"
#include "kiosk/routes.h"
#include "sabak/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static SbkRouteMatch m;
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    int st = sbk_route_match(url, &m);
    if (st != 0 && st != 400 && st != 404 && st != 414)
        abort();
    if (st == 0) {
        if (m.path[0] != '/' || strstr(m.path, "//") || strstr(m.path, "/../") ||
            strchr(m.path, '\\') || !sbk_utf8_valid(m.path, strlen(m.path)))
            abort();
        if (m.id && !sbk_lesson_id_ok(m.id))
            abort();
        if (m.arg && !sbk_path_entry_ok(m.arg))
            abort();
        if ((m.kind == SBK_ROUTE_ENTRY || m.kind == SBK_ROUTE_BUNDLE || m.kind == SBK_ROUTE_API_LESSON) && !m.id)
            abort();
    }
    char q[64];
    sbk_route_decode_query(url, q, sizeof q);
    int gz = sbk_reply_accepts_gzip(url);
    if (gz != 0 && gz != 1)
        abort();
    free(url);
    return 0;
}
