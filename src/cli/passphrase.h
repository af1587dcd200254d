/* Reading a secret key's passphrase (passphrase.c). */
#ifndef SABAK_CLI_PASSPHRASE_H
#define SABAK_CLI_PASSPHRASE_H

#include <stddef.h>

#include "sabak/sign.h"

#define CLI_PASSPHRASE_MAX 1024

/* SABAK_PASSPHRASE_FILE's first line, or typed at /dev/tty without echo
 * (twice, when `twice`). Returns 0, or -1 after printing why. */
int cli_passphrase(const char *prompt, int twice, char *buf, size_t n);

/* Read and decrypt a secret key file (asking for its passphrase when it is
 * encrypted). Returns 0, or -1 after printing why. */
int cli_load_key(const char *path, SbkSecretKey **out);

#endif
