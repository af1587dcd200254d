/* libFuzzer target: the bundle reader (our own ZIP central-directory and
 * local-header parser, then libarchive's zip reader) and the full verify,
 * over arbitrary bytes. Each failure must be one non-empty line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_memfd.h"

#include "sabak/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_problem(void *opaque, const char *line)
{
    (void)opaque;
    if (line[0] == '\0' || strchr(line, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfd(data, size, path);
    if (fd < 0)
        return 0;
    SbkBundle *b = NULL;
    SbkError err = {0};
    if (sbk_bundle_open(path, &b, &err) == 0) {
        for (size_t i = 0; i < b->n_entries; i++) {
            const SbkBundleEntry *e = &b->entries[i];
            if (e->stored && (e->offset < 0 || e->offset + e->size > b->file_size))
                abort(); /* the kiosk would sendfile outside the entry */
        }
        char *out = NULL;
        size_t len = 0;
        if (b->n_entries > 0 &&
            sbk_bundle_read_entry(b, b->entries[b->n_entries - 1].name, 1 << 20, &out, &len, &err) == 0)
            free(out);
        sbk_bundle_close(&b);
    } else if (err.msg[0] == '\0' || strchr(err.msg, '\n')) {
        abort();
    }
    sbk_bundle_verify(path, on_problem, NULL);
    close(fd);
    return 0;
}
