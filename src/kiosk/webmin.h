/* src/kiosk/webmin.h - the embedded web app's scripts and styles without
 * their comment lines and indentation (issue 11: bytes on a slow link). */
#ifndef SABAK_KIOSK_WEBMIN_H
#define SABAK_KIOSK_WEBMIN_H

#include <stddef.h>

/* The text of a .js or .css file (`js` 1 or 0) with the lines that are only
 * a comment dropped (a block comment that starts a line and ends one, and,
 * in scripts, a line that starts with //) and every line's leading blanks
 * and trailing blanks cut. Comments after code are kept. Conservative: a
 * script with a backquote or a line ending in a backslash outside such
 * comments (a string that could span lines), or a block comment that ends
 * before the end of its line, is left as it is (returns 1, *out NULL).
 * Returns 0 with *out (malloc'ed, *out_len bytes), 1, or SBK_ENOMEM. */
int sbk_webmin(const char *src, size_t len, int js, char **out, size_t *out_len);

#endif
