/* lesson_parse.c - lesson.ini text to SbkLesson, with inih: keys, values,
 * chapters, subtitles (the line reader is lesson_reader.c).
 *
 * inih (Debian's build: 200-byte stack line buffer, name:value accepted,
 * " ;" inline comments, indented lines continue the previous value) is fed
 * through our own line reader so that:
 *   - every message carries the physical line number (the handler has none);
 *   - lines of any length work: a line longer than inih's buffer is handed
 *     over in pieces that inih sees as continuation lines, and the pieces are
 *     joined again before the key is looked at;
 *   - indentation is ignored (the reader strips it), so an indented
 *     "ru = ..." is a key and never silently glued onto the previous value;
 *   - unknown sections are caught even when they hold no keys.
 * Chapter lines ("00:01:30 = Title") are read from the raw line, because
 * inih splits "name: value" at the first ':'.
 */
#include "lesson/lesson_int.h"

#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sabak/core.h"
#include "sabak/i18n.h"

/* ---- values -------------------------------------------------------------- */

/* "HH:MM:SS", "MM:SS", "H:MM:SS.mmm" (also ',' before the fraction). The
 * first field has 1-3 digits, the others exactly 2 and are < 60. */
static int parse_time(const char *s, size_t n, int64_t *out)
{
    int64_t field[3] = {0, 0, 0};
    int nf = 0, digits = 0;
    int64_t frac = 0;
    int frac_digits = -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (frac_digits >= 0) {
                if (++frac_digits > 3)
                    return 0;
                frac = frac * 10 + (c - '0');
            } else {
                if (++digits > 3)
                    return 0;
                field[nf] = field[nf] * 10 + (c - '0');
            }
        } else if (c == ':' && frac_digits < 0) {
            if (digits == 0 || nf == 2 || (nf > 0 && digits != 2))
                return 0;
            nf++;
            digits = 0;
        } else if ((c == '.' || c == ',') && frac_digits < 0 && nf > 0) {
            if (digits != 2)
                return 0;
            frac_digits = 0;
        } else {
            return 0;
        }
    }
    if (nf == 0 || frac_digits == 0 || (frac_digits < 0 && digits != 2))
        return 0;
    nf++;
    for (int i = 1; i < nf; i++)
        if (field[i] > 59)
            return 0;
    while (frac_digits > 0 && frac_digits < 3) {
        frac *= 10;
        frac_digits++;
    }
    int64_t sec = nf == 3 ? field[0] * 3600 + field[1] * 60 + field[2] : field[0] * 60 + field[1];
    *out = sec * 1000 + frac;
    return 1;
}

/* A path inside the lesson folder: relative, no "..", no backslash. */
static int rel_path_ok(const char *v)
{
    return sbk_path_entry_ok(v);
}

static char *join_dir(const char *dir, const char *rel)
{
    return dir && *dir ? sbk_path_join(dir, rel) : strdup(rel);
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return 1;
    return 0;
}

static char *xstrdup(Parser *p, const char *s)
{
    char *d = strdup(s);
    if (!d)
        p->nomem = 1;
    return d;
}

/* ---- one complete key ---------------------------------------------------- */

static int set_lesson_key(Parser *p, const char *name, const char *v)
{
    SbkLesson *L = p->L;
    int k = -1;
    for (int i = 0; i < K_COUNT; i++)
        if (strcasecmp(name, sbk_lesson_keys[i]) == 0)
            k = i;
    if (k < 0) {
        const char *near = sbk_suggest(name, sbk_lesson_keys, K_COUNT);
        if (near)
            sbk_lesson_fail(p, SBK_EINVAL, _("unknown key \"%s\" in [lesson] (did you mean \"%s\"?)"),
                            name, near);
        else
            sbk_lesson_fail(p, SBK_EINVAL, _("unknown key \"%s\" in [lesson] (the keys are %s)"), name,
                            "id, version, video, audio_only, topic, order, audio_language");
        return 0;
    }
    if (p->lesson_line[k]) {
        sbk_lesson_fail(p, SBK_EINVAL, _("duplicate key \"%s\" in [lesson] (first set on line %d)"), sbk_lesson_keys[k],
             p->lesson_line[k]);
        return 0;
    }
    p->lesson_line[k] = p->rd.lineno;
    if (!*v) {
        sbk_lesson_fail(p, SBK_EINVAL, _("\"%s\" in [lesson] is empty"), sbk_lesson_keys[k]);
        return 0;
    }
    long long n = 0;
    switch (k) {
    case K_ID:
    case K_TOPIC:
        if (!sbk_lesson_id_ok(v)) {
            char good[72];
            if (sbk_lesson_id_suggest(v, good, sizeof good))
                sbk_lesson_fail(p, SBK_EINVAL,
                                _("bad %s \"%s\": use 1-64 of a-z 0-9 . _ - starting with a letter or digit, "
                                  "e.g. \"%s\""),
                                sbk_lesson_keys[k], v, good);
            else
                sbk_lesson_fail(p, SBK_EINVAL,
                                _("bad %s \"%s\": use 1-64 of a-z 0-9 . _ - starting with a letter or digit"),
                                sbk_lesson_keys[k], v);
            return 0;
        }
        if (k == K_ID)
            L->id = xstrdup(p, v);
        else
            L->topic = xstrdup(p, v);
        break;
    case K_VERSION:
        if (sbk_parse_int(v, 1, 1000000, &n) < 0) {
            sbk_lesson_fail(p, SBK_EINVAL, _("bad version \"%s\": use a whole number from 1"), v);
            return 0;
        }
        L->version = (int)n;
        break;
    case K_ORDER:
        if (sbk_parse_int(v, -1000000, 1000000, &n) < 0) {
            sbk_lesson_fail(p, SBK_EINVAL, _("bad order \"%s\": use a whole number"), v);
            return 0;
        }
        L->order = (int)n;
        break;
    case K_AUDIO_LANGUAGE: {
        /* which audio track of a recording with several: a language code
         * as in stream tags, "ky" or "kir" */
        size_t len = strlen(v), i = 0;
        while (i < len && v[i] >= 'a' && v[i] <= 'z')
            i++;
        if (i != len || len < 2 || len > 3) {
            sbk_lesson_fail(p, SBK_EINVAL, _("bad audio_language \"%s\": use a language code such as ky, ru or en"),
                 v);
            return 0;
        }
        L->audio_language = xstrdup(p, v);
        break;
    }
    case K_AUDIO_ONLY:
        if (sbk_parse_bool(v, &L->audio_only) < 0) {
            sbk_lesson_fail(p, SBK_EINVAL, _("bad audio_only \"%s\": use true or false"), v);
            return 0;
        }
        break;
    case K_VIDEO:
        if (!rel_path_ok(v)) {
            sbk_lesson_fail(p, SBK_EINVAL,
                 _("video \"%s\" must be a relative path inside the lesson folder (no \"..\", no \"\\\")"),
                 v);
            return 0;
        }
        L->video = join_dir(p->dir, v);
        if (!L->video)
            p->nomem = 1;
        break;
    default:
        break;
    }
    return 1;
}

static int set_text_key(Parser *p, Section sec, const char *name, const char *v)
{
    int lang = sbk_lang_index(name);
    const char *sname = sbk_lesson_section_names[sec];
    if (lang < 0) {
        sbk_lesson_fail(p, SBK_EINVAL, _("unknown key \"%s\" in [%s] (languages are ky, ru, en)"), name, sname);
        return 0;
    }
    int *lines = sec == SEC_TITLE ? p->title_line : p->desc_line;
    char **slot = sec == SEC_TITLE ? &p->L->title[lang] : &p->L->description[lang];
    if (lines[lang]) {
        sbk_lesson_fail(p, SBK_EINVAL, _("duplicate key \"%s\" in [%s] (first set on line %d)"),
             sbk_lang_codes[lang], sname, lines[lang]);
        return 0;
    }
    lines[lang] = p->rd.lineno;
    size_t max = sec == SEC_TITLE ? MAX_TITLE : MAX_DESCRIPTION;
    if (strlen(v) > max) {
        sbk_lesson_fail(p, SBK_EINVAL, _("%s in [%s] is too long (%zu bytes, at most %zu)"), sbk_lang_codes[lang],
             sname, strlen(v), max);
        return 0;
    }
    if (*v) /* "en =" in a template means: no English yet */
        *slot = xstrdup(p, v);
    return 1;
}

static int add_chapter(Parser *p, Section sec)
{
    const char *s = p->rd.raw;
    size_t n = p->rd.raw_len;
    const char *eq = memchr(s, '=', n);
    if (!eq) {
        sbk_lesson_fail(p, SBK_EINVAL, _("expected \"00:01:30 = title\" in [%s]"), sbk_lesson_section_names[sec]);
        return 0;
    }
    const char *t = s;
    size_t tn = (size_t)(eq - s);
    while (tn && is_blank(t[tn - 1]))
        tn--;
    const char *title = eq + 1;
    size_t title_n = n - (size_t)(title - s);
    while (title_n && is_blank(*title)) {
        title++;
        title_n--;
    }
    int64_t ms = 0;
    if (!parse_time(t, tn, &ms)) {
        sbk_lesson_fail(p, SBK_EINVAL, _("bad chapter time \"%.*s\": %s"), (int)(tn > 40 ? 40 : tn), t,
                        sbk_lesson_time_problem(t, tn));
        return 0;
    }
    char hms[24];
    sbk_fmt_hms(ms, hms, sizeof hms);
    if (title_n == 0) {
        sbk_lesson_fail(p, SBK_EINVAL, _("chapter at %s has no title"), hms);
        return 0;
    }
    if (title_n > MAX_TITLE) {
        sbk_lesson_fail(p, SBK_EINVAL, _("chapter title at %s is too long (%zu bytes, at most %d)"), hms, title_n,
             MAX_TITLE);
        return 0;
    }
    for (int i = 0; i < p->n_ch; i++) {
        if (p->ch[i].section == (int)sec && p->ch[i].ms == ms) {
            sbk_lesson_fail(p, SBK_EINVAL, _("duplicate chapter time %s in [%s] (first on line %d)"), hms,
                 sbk_lesson_section_names[sec], p->ch[i].line);
            return 0;
        }
    }
    if (p->n_ch_sec[sec] >= SBK_MAX_CHAPTERS) {
        sbk_lesson_fail(p, SBK_EINVAL, _("too many chapters in [%s] (at most %d)"), sbk_lesson_section_names[sec],
             SBK_MAX_CHAPTERS);
        return 0;
    }
    if (p->n_ch == p->cap_ch) {
        int cap = p->cap_ch ? p->cap_ch * 2 : 16;
        ChapterEntry *nc = realloc(p->ch, (size_t)cap * sizeof *nc);
        if (!nc) {
            p->nomem = 1;
            return 0;
        }
        p->ch = nc;
        p->cap_ch = cap;
    }
    char *tt = strndup(title, title_n);
    if (!tt) {
        p->nomem = 1;
        return 0;
    }
    p->ch[p->n_ch] = (ChapterEntry){.ms = ms, .section = (int)sec, .seq = p->n_ch,
                                    .line = p->rd.lineno, .title = tt};
    p->n_ch++;
    p->n_ch_sec[sec]++;
    return 1;
}

static int add_subtitle(Parser *p, const char *name, const char *v)
{
    SbkLesson *L = p->L;
    char lang[4];
    if (!sbk_lang_code_fold(name, strlen(name), lang)) {
        sbk_lesson_fail(p, SBK_EINVAL, _("bad language \"%s\" in [subtitles]: use a 2-3 letter code such as ky or ru"),
             name);
        return 0;
    }
    for (int i = 0; i < L->n_subs; i++) {
        if (strcmp(L->subs[i].lang, lang) == 0) {
            sbk_lesson_fail(p, SBK_EINVAL, _("duplicate key \"%s\" in [subtitles]"), lang);
            return 0;
        }
    }
    if (!rel_path_ok(v)) {
        sbk_lesson_fail(p, SBK_EINVAL,
             _("subtitles \"%s\" must be a relative path inside the lesson folder (no \"..\", no \"\\\")"),
             v);
        return 0;
    }
    const char *dot = strrchr(v, '.');
    if (!dot || (strcasecmp(dot, ".srt") && strcasecmp(dot, ".vtt") && strcasecmp(dot, ".ass") &&
                 strcasecmp(dot, ".ssa"))) {
        sbk_lesson_fail(p, SBK_EINVAL, _("subtitles \"%s\": expected a .srt, .vtt or .ass file"), v);
        return 0;
    }
    if (L->n_subs >= SBK_MAX_SUBTITLES) {
        sbk_lesson_fail(p, SBK_EINVAL, _("too many subtitle files (at most %d)"), SBK_MAX_SUBTITLES);
        return 0;
    }
    int i = L->n_subs;
    memcpy(L->subs[i].lang, lang, sizeof lang);
    L->subs[i].path = join_dir(p->dir, v);
    L->n_subs++;
    if (!L->subs[i].path)
        p->nomem = 1;
    return 1;
}

static int process_key(Parser *p, const char *section, const char *name, const char *v)
{
    if (!*section) {
        sbk_lesson_fail(p, SBK_EINVAL, _("key \"%s\" is outside any section (put it under [lesson])"), name);
        return 0;
    }
    Section sec = sbk_lesson_section_find(section, strlen(section));
    if (sec == SEC_NONE) {
        sbk_lesson_unknown_section(p, section, strlen(section));
        return 0;
    }
    if (has_control(v)) {
        sbk_lesson_fail(p, SBK_EINVAL, _("control character in the value of \"%s\""), name);
        return 0;
    }
    switch (sec) {
    case SEC_LESSON:
        return set_lesson_key(p, name, v);
    case SEC_TITLE:
    case SEC_DESCRIPTION:
        return set_text_key(p, sec, name, v);
    case SEC_SUBTITLES:
        return add_subtitle(p, name, v);
    default:
        return add_chapter(p, sec);
    }
}

/* The ini_handler: joins the pieces of a long line, then processes it. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
    Parser *p = user;
    if (p->err_piece || p->nomem)
        return 1; /* only the first error is reported */
    if (p->rd.join) {
        if (!p->acc) {
            sbk_lesson_fail(p, SBK_EINVAL, _("unexpected continuation line"));
            return 0;
        }
    } else {
        free(p->acc);
        p->acc = NULL;
        p->acc_len = 0;
        snprintf(p->acc_name, sizeof p->acc_name, "%s", name);
    }
    size_t n = strlen(value);
    if (p->acc_len + n > MAX_VALUE) {
        sbk_lesson_fail(p, SBK_EINVAL, _("value of \"%s\" is too long (at most %d bytes)"), p->acc_name, MAX_VALUE);
        return 0;
    }
    char *na = realloc(p->acc, p->acc_len + n + 1);
    if (!na) {
        p->nomem = 1;
        return 0;
    }
    memcpy(na + p->acc_len, value, n + 1);
    p->acc = na;
    p->acc_len += n;
    if (p->rd.more)
        return 1;
    int ok = process_key(p, section, p->acc_name, p->acc);
    free(p->acc);
    p->acc = NULL;
    p->acc_len = 0;
    return ok;
}

/* ---- after the last line --------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
    const ChapterEntry *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    return x->seq - y->seq;
}

/* Merge the chapter sections by start time: a per-language section sets its
 * language; [chapters] fills every language left empty. */
static int merge_chapters(Parser *p)
{
    SbkLesson *L = p->L;
    if (p->n_ch == 0)
        return 0;
    qsort(p->ch, (size_t)p->n_ch, sizeof *p->ch, cmp_entry);
    int distinct = 0;
    for (int i = 0; i < p->n_ch; i++)
        if (i == 0 || p->ch[i].ms != p->ch[i - 1].ms)
            distinct++;
    if (distinct > SBK_MAX_CHAPTERS)
        return sbk_err(p->err, SBK_ELIMIT, _("%s: too many chapters (%d, at most %d)"), p->name,
                       distinct, SBK_MAX_CHAPTERS);
    L->chapters = calloc((size_t)distinct, sizeof *L->chapters);
    if (!L->chapters)
        return SBK_ENOMEM;
    int i = 0;
    while (i < p->n_ch) {
        int j = i;
        SbkChapter *c = &L->chapters[L->n_chapters++];
        c->start_ms = p->ch[i].ms;
        for (; j < p->n_ch && p->ch[j].ms == c->start_ms; j++) {
            int lang = p->ch[j].section - SEC_CHAPTERS - 1;
            if (lang >= 0 && !c->title[lang]) {
                c->title[lang] = p->ch[j].title;
                p->ch[j].title = NULL;
            }
        }
        for (int k = i; k < j; k++) {
            if (p->ch[k].section != SEC_CHAPTERS)
                continue;
            for (int lang = 0; lang < SBK_LANG_COUNT; lang++) {
                if (!c->title[lang] && !(c->title[lang] = strdup(p->ch[k].title)))
                    return SBK_ENOMEM;
            }
        }
        i = j;
    }
    return 0;
}

static int check_required(Parser *p)
{
    SbkLesson *L = p->L;
    const char *missing = !L->id ? "id" : !p->lesson_line[K_VERSION] ? "version"
                                      : !L->video                    ? "video"
                                                                     : NULL;
    if (missing)
        return sbk_err(p->err, SBK_EINVAL, _("%s: missing required key \"%s\" in [lesson]"), p->name,
                       missing);
    if (!L->title[0] && !L->title[1] && !L->title[2])
        return sbk_err(p->err, SBK_EINVAL, _("%s: missing [title]: give at least one of ky, ru, en"),
                       p->name);
    return 0;
}

/* Reject what is not UTF-8 text, naming the line. */
static int check_text(const char *text, size_t len, const char *name, SbkError *err)
{
    const unsigned char *u = (const unsigned char *)text;
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return sbk_err(err, SBK_EINVAL, _("%s: the file is UTF-16; save it as UTF-8"), name);
    const char *p = text, *end = text + len;
    int line = 1;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n') {
            line++;
            p++;
        } else if (c == 0) {
            return sbk_err(err, SBK_EINVAL, _("%s:%d: NUL byte: this is not a text file"), name, line);
        } else if (c < 0x80) {
            p++;
        } else if (sbk_utf8_next(&p, end) < 0) {
            return sbk_err(err, SBK_EINVAL, _("%s:%d: not valid UTF-8 (save the file as UTF-8)"), name,
                           line);
        }
    }
    return 0;
}

int sbk_lesson_parse(const char *text, size_t len, const char *name, const char *dir,
                     SbkLesson **out, SbkError *err)
{
    int ret = 0;
    Parser p = {0};
    SbkLesson *L = NULL;
    *out = NULL;
    if (!name)
        name = "lesson.ini";
    if ((ret = check_text(text, len, name, err)) < 0)
        goto done;
    L = calloc(1, sizeof *L);
    if (!L) {
        ret = sbk_err(err, SBK_ENOMEM, _("%s: out of memory"), name);
        goto done;
    }
    L->dir = strdup(dir && *dir ? dir : ".");
    L->ini_path = strdup(name);
    if (!L->dir || !L->ini_path) {
        ret = sbk_err(err, SBK_ENOMEM, _("%s: out of memory"), name);
        goto done;
    }
    p.name = name;
    p.dir = dir;
    p.L = L;
    p.err = err;
    p.rd = (Reader){.text = text, .len = len, .p = &p};

    int rc = ini_parse_stream(sbk_lesson_reader_next, &p.rd, handler, &p);
    if (rc == -2 || p.nomem) {
        ret = sbk_err(err, SBK_ENOMEM, _("%s: out of memory"), name);
        goto done;
    }
    if (rc > 0 && (!p.err_piece || rc < p.err_piece)) {
        const char *raw = "";
        int line = sbk_lesson_piece_line(text, len, 200, rc, &raw);
        if (*raw == '[')
            ret = sbk_err(err, SBK_EINVAL, _("%s:%d: bad section line (expected [name])"), name, line);
        else
            ret = sbk_err(err, SBK_EINVAL, _("%s:%d: expected \"key = value\""), name, line);
        goto done;
    }
    if (p.err_piece) {
        ret = SBK_EINVAL;
        goto done;
    }
    if ((ret = check_required(&p)) < 0)
        goto done;
    if ((ret = merge_chapters(&p)) < 0) {
        if (ret == SBK_ENOMEM)
            sbk_err(err, SBK_ENOMEM, _("%s: out of memory"), name);
        goto done;
    }
    *out = L;
    L = NULL;
done:
    free(p.acc);
    for (int i = 0; i < p.n_ch; i++)
        free(p.ch[i].title);
    free(p.ch);
    sbk_lesson_free(&L);
    return ret;
}

void sbk_lesson_free(SbkLesson **lesson)
{
    if (!lesson || !*lesson)
        return;
    SbkLesson *s = *lesson;
    free(s->dir);
    free(s->ini_path);
    free(s->id);
    free(s->video);
    free(s->topic);
    free(s->audio_language);
    for (int i = 0; i < SBK_LANG_COUNT; i++) {
        free(s->title[i]);
        free(s->description[i]);
    }
    for (int i = 0; i < s->n_chapters; i++)
        for (int j = 0; j < SBK_LANG_COUNT; j++)
            free(s->chapters[i].title[j]);
    free(s->chapters);
    for (int i = 0; i < s->n_subs && i < SBK_MAX_SUBTITLES; i++)
        free(s->subs[i].path);
    free(s->handouts_dir);
    free(s);
    *lesson = NULL;
}
