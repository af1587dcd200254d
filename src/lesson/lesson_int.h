/* lesson_int.h - shared between lesson_parse.c and lesson_load.c; not public. */
#ifndef SABAK_LESSON_INT_H
#define SABAK_LESSON_INT_H

#include <stddef.h>

#include "sabak/lesson.h"

/* True if s[0..n) is a subtitle language code: 2-3 ASCII letters. Writes it
 * lower-cased and NUL-terminated to out (at least 4 bytes). */
int sbk_lesson__lang_code(const char *s, size_t n, char *out);

#endif
