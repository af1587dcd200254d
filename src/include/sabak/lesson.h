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

#include <stddef.h>
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

/* Suggestions for a trainer's typing (src/lesson/lesson_suggest.c). */
/* Edit distance between two UTF-8 words (insert, delete, substitute, swap
 * two neighbours), case folded, over at most 64 characters. */
int sbk_edit_distance(const char *a, const char *b);
/* The candidate closest to `word` when it is close enough to be a typo
 * (1 edit in words of up to 4 characters, 2 up to 8, a third beyond);
 * NULL when none is, or when `word` is itself a candidate. */
const char *sbk_suggest(const char *word, const char *const *candidates, size_t n);
/* A valid lesson id made from an invalid one ("UX News 01" -> "ux-news-01",
 * Cyrillic transliterated). Returns 1 with it in out, or 0 and "". */
int sbk_lesson_id_suggest(const char *bad, char *out, size_t size);
/* The language a subtitle file's name points at ("Урок 1 рус.srt" -> "ru",
 * "lesson_kg.srt" -> "ky"), or NULL. */
const char *sbk_lesson_guess_lang(const char *name);

#ifdef __cplusplus
}
#endif
#endif
