/* Front-end helpers shared by the sabak commands. Only public library
 * headers are included by the CLI. */
#ifndef SABAK_CLI_H
#define SABAK_CLI_H

#include "sabak/core.h"

/* Install the stderr log sink ("sabak: warning: ..."). quiet drops INFO. */
void cli_init_logging(int quiet, int verbose);
/* Print "sabak: <msg>" to stderr. */
/* 1 when this binary is the installed PREFIX/bin/sabak (state in /var/lib/sabak). */
int cli_installed(void);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_reports(int argc, char **argv);
int cmd_passwd(int argc, char **argv);

/* Exit codes, shared by every command (documented in `sabak --help`). */
enum {
    CLI_OK = 0,
    CLI_FAIL = 1,      /* the input is bad or the work failed */
    CLI_USAGE = 2,     /* wrong command line */
    CLI_INTERRUPTED = 130,
};

#endif
