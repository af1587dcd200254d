/* Front-end helpers shared by the sabak commands. Only public library
 * headers are included by the CLI. */
#ifndef SABAK_CLI_H
#define SABAK_CLI_H

#include "sabak/core.h"

/* Install the stderr log sink ("sabak: warning: ..."). quiet drops INFO. */
void cli_init_logging(int quiet, int verbose);
/* Choose the language of messages from the environment (gettext, domain
 * "sabak"; English when nothing is asked for or found). Call first. */
void cli_init_i18n(void);
/* 1 when this binary is the installed PREFIX/bin/sabak (state in /var/lib/sabak). */
int cli_installed(void);
/* Print "sabak: <msg>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_reports(int argc, char **argv);
int cmd_passwd(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);

/* The trusted keys: DIR, else SBK_TRUSTED_DIR_DEFAULT when installed (a
 * missing default folder: none). *out NULL when none. Returns 0, or -1
 * after printing why. verify.c. */
typedef struct SbkTrust SbkTrust;
typedef struct SbkSignInfo SbkSignInfo;
int cli_trust_load(const char *dir, SbkTrust **out);
/* "signed by NAME, trusted key ID", "signed by an unknown key ID", "unsigned". */
void cli_signer_text(const SbkSignInfo *si, char *buf, size_t n);

/* Exit codes, shared by every command (documented in `sabak --help`). */
enum {
    CLI_OK = 0,
    CLI_FAIL = 1,      /* the input is bad or the work failed */
    CLI_USAGE = 2,     /* wrong command line */
    CLI_INTERRUPTED = 130,
};

#endif
