/* lesson_int.h - shared between lesson_parse.c and lesson_load.c; not public. */
#ifndef SABAK_LESSON_INT_H
#define SABAK_LESSON_INT_H

#include <stddef.h>

#include "sabak/lesson.h"

#endif
