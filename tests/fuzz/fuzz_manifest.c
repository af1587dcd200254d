/* libFuzzer target: sbk_manifest_parse, then sbk_manifest_to_json of what
 * parses; the serialised form must parse again and serialise to the same
 * bytes (the round trip the bundle's reproducibility relies on). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SbkManifest *m = NULL, *m2 = NULL;
    SbkError err = {0};
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    if (sbk_manifest_parse((const char *)data, size, &m, &err) < 0) {
        if (err.msg[0] == '\0' || strchr(err.msg, '\n'))
            abort(); /* every failure gives one non-empty line */
        return 0;
    }
    if (sbk_manifest_to_json(m, &a, &na, &err) < 0)
        abort();
    if (sbk_manifest_parse(a, na, &m2, &err) < 0)
        abort();
    if (sbk_manifest_to_json(m2, &b, &nb, &err) < 0)
        abort();
    if (na != nb || memcmp(a, b, na) != 0)
        abort();
    (void)sbk_manifest_find(m, "media/standard.mp4");
    free(a);
    free(b);
    sbk_manifest_free(&m);
    sbk_manifest_free(&m2);
    return 0;
}
