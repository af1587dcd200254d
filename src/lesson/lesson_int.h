/* lesson_int.h - private to src/lesson: the parser's state, shared by
 * lesson_reader.c (the line reader fed to inih, section names, messages),
 * lesson_parse.c (keys and values) and lesson_load.c. Global names carry the
 * sbk_lesson_ prefix only for tools/check-symbols. */
#ifndef SABAK_LESSON_INT_H
#define SABAK_LESSON_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sabak/lesson.h"

#define MAX_VALUE 65536     /* any one value, bytes */
#define MAX_TITLE 500       /* titles and chapter titles, bytes */
#define MAX_DESCRIPTION 8000

typedef enum {
    SEC_NONE = -1,
    SEC_LESSON = 0,
    SEC_TITLE,
    SEC_DESCRIPTION,
    SEC_CHAPTERS,      /* SEC_CHAPTERS + 1 + lang: per-language chapters */
    SEC_CHAPTERS_KY,
    SEC_CHAPTERS_RU,
    SEC_CHAPTERS_EN,
    SEC_SUBTITLES,
    SEC_COUNT
} Section;

extern const char *const sbk_lesson_section_names[SEC_COUNT];

enum { K_ID = 0, K_VERSION, K_VIDEO, K_AUDIO_ONLY, K_TOPIC, K_ORDER, K_AUDIO_LANGUAGE, K_COUNT };

extern const char *const sbk_lesson_keys[K_COUNT];

typedef struct ChapterEntry {
    int64_t ms;
    int section;   /* SEC_CHAPTERS.. SEC_CHAPTERS_EN */
    int seq;       /* input order, for a stable sort */
    int line;
    char *title;
} ChapterEntry;

typedef struct Parser Parser;

typedef struct Reader {
    const char *text;
    size_t len, pos;
    int lineno;           /* physical line of the current piece */
    int piece;            /* pieces handed to inih so far (inih's line number) */
    const char *raw;      /* current physical line: indentation, BOM, inline */
    size_t raw_len;       /*   comment and trailing blanks removed */
    size_t raw_off;       /* bytes of raw already handed over */
    int join;             /* current piece continues the previous one */
    int more;             /* more pieces of this physical line follow */
    int too_long;         /* a line could not be split */
    Parser *p;            /* NULL when only replaying to count lines */
} Reader;

struct Parser {
    Reader rd;
    const char *name;     /* for messages */
    const char *dir;
    SbkLesson *L;
    SbkError *err;
    int err_piece;        /* piece of the first recorded error, 0 if none */
    int nomem;
    /* the key being assembled from pieces */
    char *acc;
    size_t acc_len;
    char acc_name[64];
    int acc_section;
    int acc_line;
    /* where each key was first set, for duplicates */
    int lesson_line[K_COUNT];
    int title_line[SBK_LANG_COUNT];
    int desc_line[SBK_LANG_COUNT];
    ChapterEntry *ch;
    int n_ch, cap_ch, n_ch_sec[SEC_COUNT];
};

static inline int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The section named s[0..n), blanks around it ignored, or SEC_NONE. */
Section sbk_lesson_section_find(const char *s, size_t n);

/* Record the first error, "name:line: message", for the current line. */
void sbk_lesson_fail(Parser *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Why a chapter time s[0..n) was refused, in words a trainer can act on
 * ("seconds must be under 60 ..."); lesson_suggest.c. */
const char *sbk_lesson_time_problem(const char *s, size_t n);

/* Fail with "unknown section [s]" and the closest valid one. */
void sbk_lesson_unknown_section(Parser *p, const char *s, size_t n);

/* inih's stream reader over r->text: one piece of a physical line per call
 * (see lesson_reader.c). */
char *sbk_lesson_reader_next(char *str, int num, void *stream);

/* The physical line number of inih's piece `piece` (replays the reader);
 * *raw is that line's text. */
int sbk_lesson_piece_line(const char *text, size_t len, int num, int piece, const char **raw);

#endif
