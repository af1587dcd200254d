/* Translated messages: gettext, text domain "sabak" (po/, installed under
 * share/locale). The library only marks and looks up its messages; the
 * programs choose the language (cli_init_i18n). Without a binding, or in an
 * English locale, dgettext returns the English text unchanged. */
#ifndef SABAK_I18N_H
#define SABAK_I18N_H

#include <libintl.h>

#define SBK_TEXTDOMAIN "sabak"
#ifndef _
#define _(s) dgettext(SBK_TEXTDOMAIN, s)
#endif
#ifndef N_
#define N_(s) s
#endif

#endif
