/* libFuzzer target for the lesson.ini parser. Besides not crashing, a
 * parsed lesson must hold what the parser promises: required fields set,
 * chapters strictly ordered, errors with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/lesson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    SbkLesson *L = NULL;
    SbkError err = {0};
    int rc = sbk_lesson_parse((const char *)data, size, "fuzz/lesson.ini", "fuzz", &L, &err);
    if (rc < 0) {
        if (L || err.code != rc || !err.msg[0] || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    if (!L || !L->id || !L->video || L->version < 1 ||
        !(L->title[0] || L->title[1] || L->title[2]) || L->n_chapters > SBK_MAX_CHAPTERS ||
        L->n_subs > SBK_MAX_SUBTITLES)
        abort();
    for (int i = 0; i < L->n_chapters; i++) {
        if (i > 0 && L->chapters[i].start_ms <= L->chapters[i - 1].start_ms)
            abort();
        if (!sbk_lang_pick(L->chapters[i].title, SBK_LANG_KY))
            abort();
    }
    sbk_lesson_free(&L);
    return 0;
}
