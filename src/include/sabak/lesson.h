/* sabak/lesson.h - a trainer's lesson folder, described by lesson.ini.
 *
 *   [lesson]      id, version, video (or audio), topic, order, audio_only, audio_language
 *   [title]       ky/ru/en = ...      (at least one required)
 *   [description] ky/ru/en = ...
 *   [chapters]    00:01:30 = title    (one per line; the title for every language)
 *   [chapters.ky] 00:01:30 = title    (per-language titles; merged by time)
 *   [subtitles]   ky = subtitles/ky.srt  (optional; otherwise found by
 *                 convention as subtitles/<lang>.srt|.vtt)
 */
#ifndef SABAK_LESSON_H
#define SABAK_LESSON_H

#include <stdint.h>

#include "sabak/error.h"
#include "sabak/lang.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SBK_MAX_SUBTITLES 8

typedef struct SbkLessonSubs {
    char lang[16];  /* BCP 47-ish: "ky", "ru", "en" */
    char *path;     /* absolute or relative to the cwd (already joined with the lesson dir) */
} SbkLessonSubs;

typedef struct SbkLesson {
    char *dir;            /* the lesson folder as given */
    char *ini_path;       /* dir/lesson.ini */
    char *id;
    int version;          /* >= 1 */
    char *video;          /* path joined with dir; NULL only if audio_only and `audio` set */
    int audio_only;       /* [lesson] audio_only = true: the source is audio */
    char *audio_language; /* [lesson] audio_language: which audio track to use ("ky",
                             "rus", ...); NULL: the default-marked or first one */
    char *topic;
    int order;
    char *title[SBK_LANG_COUNT];       /* NULL when absent */
    char *description[SBK_LANG_COUNT]; /* NULL when absent */
    SbkChapter *chapters;
    int n_chapters;
    SbkLessonSubs subs[SBK_MAX_SUBTITLES];
    int n_subs;
    char *handouts_dir;   /* dir/handouts if it exists, else NULL */
} SbkLesson;

/* Parse a lesson descriptor held in memory. `name` is used in messages
 * ("lessons/x/lesson.ini:7: unknown key \"vidoe\" in [lesson]"). Paths inside
 * are joined with `dir`. Does not touch the filesystem. */
int sbk_lesson_parse(const char *text, size_t len, const char *name, const char *dir,
                     SbkLesson **out, SbkError *err);

/* Load DIR/lesson.ini, then check the files it names exist and find
 * subtitles by convention (subtitles/<lang>.srt|.vtt) when [subtitles] is
 * absent. A subtitle named in lesson.ini but missing is an error. */
int sbk_lesson_load(const char *dir, SbkLesson **out, SbkError *err);

/* Free and NULL. Accepts NULL. */
void sbk_lesson_free(SbkLesson **lesson);

#ifdef __cplusplus
}
#endif
#endif
