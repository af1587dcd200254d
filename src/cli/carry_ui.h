/* The CLI's progress display for export and import (carry_ui.c). */
#ifndef SABAK_CLI_CARRY_UI_H
#define SABAK_CLI_CARRY_UI_H

#include "sabak/carry.h"

typedef struct CarryUi {
    SbkCarryCallbacks cb;
    int quiet, tty, bar_shown, last_pct;
} CarryUi;

/* Set up the callbacks and the SIGINT/SIGTERM handlers (cancel flag). */
void carry_ui_init(CarryUi *ui, int quiet);
void carry_ui_progress(void *opaque, const SbkCarryProgress *p);
void carry_ui_event(void *opaque, SbkCarryEvent ev, const char *name, const char *detail);
/* Clear the bar before the final message. */
void carry_ui_done(CarryUi *ui);
int carry_ui_canceled(void);

#endif
