/* libFuzzer target: the kiosk's INI config reader (inih + the key table),
 * fed through a memfd so the real file path is exercised. Every failure
 * must be one non-empty line; whatever loads must be freed cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_memfd.h"

#include "sabak/kiosk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfd(data, size, path);
    if (fd < 0)
        return 0;
    SbkKioskConfig cfg;
    SbkError err = {0};
    sbk_kiosk_config_init(&cfg);
    if (sbk_kiosk_config_load_ini(&cfg, path, &err) < 0 && (err.msg[0] == '\0' || strchr(err.msg, '\n')))
        abort();
    sbk_kiosk_config_clear(&cfg);
    close(fd);
    return 0;
}
