/* The passphrase of a secret key: from the file named by
 * SABAK_PASSPHRASE_FILE when it is set (scripts, tests), else typed at the
 * terminal with echo off. Shared by sabak (keygen, sign) and sabak-pack. */
#include "passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "sabak/i18n.h"

static void chomp(char *s)
{
    size_t n = strcspn(s, "\r\n");
    s[n] = '\0';
}

static int from_file(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        cli_error(_("cannot read the passphrase from %s (SABAK_PASSPHRASE_FILE): %s"), path, strerror(errno));
        return -1;
    }
    if (!fgets(buf, (int)n, f))
        buf[0] = '\0';
    fclose(f);
    chomp(buf);
    return 0;
}

static int from_tty(const char *prompt, char *buf, size_t n)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        cli_error(_("no terminal to ask for the passphrase: set SABAK_PASSPHRASE_FILE to a file holding it"));
        return -1;
    }
    struct termios old, quiet;
    int restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, prompt, strlen(prompt)) < 0) { /* nothing to do */
    }
    size_t len = 0;
    char c;
    while (len + 1 < n && read(fd, &c, 1) == 1 && c != '\n')
        buf[len++] = c;
    buf[len] = '\0';
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) { /* nothing to do */
    }
    close(fd);
    return 0;
}

int cli_passphrase(const char *prompt, int twice, char *buf, size_t n)
{
    const char *file = getenv("SABAK_PASSPHRASE_FILE");
    if (file && *file)
        return from_file(file, buf, n);
    if (from_tty(prompt, buf, n) < 0)
        return -1;
    if (twice) {
        char again[CLI_PASSPHRASE_MAX];
        int r = from_tty("Passphrase (again): ", again, sizeof again);
        int same = r == 0 && strcmp(again, buf) == 0;
        memset(again, 0, sizeof again);
        if (!same) {
            cli_error(_("the two passphrases differ; nothing written"));
            return -1;
        }
    }
    return 0;
}

int cli_load_key(const char *path, SbkSecretKey **out)
{
    char *text = NULL, pass[CLI_PASSPHRASE_MAX] = "";
    size_t len = 0;
    SbkError err = {0};
    int ret = -1;
    *out = NULL;
    if (sbk_read_file(path, 64 * 1024, &text, &len, &err) < 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    int enc = sbk_seckey_encrypted(text, len);
    if (enc < 0) {
        cli_error(_("%s: not a minisign secret key (make one with sabak keygen)"), path);
        goto done;
    }
    if (enc && cli_passphrase(_("Passphrase for the signing key: "), 0, pass, sizeof pass) < 0)
        goto done;
    /* a plain minisign key has no signer's name: its file's name stands in */
    char stem[SBK_SIGNER_MAX + 1];
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = '\0';
    if (sbk_seckey_decode(text, len, pass, stem, out, &err) < 0) {
        cli_error("%s: %s", path, err.msg);
        goto done;
    }
    ret = 0;
done:
    memset(pass, 0, sizeof pass);
    if (text)
        memset(text, 0, len);
    free(text);
    return ret;
}
