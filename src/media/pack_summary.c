/* What the trainer is told besides errors: subtitles that run past the end
 * of the recording (trimmed, with a warning), and the summary of what went
 * into the bundle (SbkPackSummary, printed by sabak pack). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pack_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"
#include "sabak/safeopen.h"

/* Where subs[i] came from, for messages. */
static const char *sub_source(const Pack *p, int i, char *buf, size_t n)
{
    if (i < p->lesson->n_subs) {
        const char *rel = sbk_path_under(p->lesson->dir, p->lesson->subs[i].path);
        return rel ? rel : p->lesson->subs[i].path;
    }
    snprintf(buf, n, _("the %s subtitles inside %s"), p->subs[i].lang,
             sbk_path_base(p->lesson->video));
    return buf;
}

int sbk_pack__trim_cues(Pack *p)
{
    int64_t end = (int64_t)(p->probe.duration * 1000.0 + 0.5);
    if (end <= 0)
        return 0;
    for (int i = 0; i < p->n_subs; i++) {
        SbkSubs *s = p->subs[i].subs;
        size_t keep = 0, dropped = 0, cut = 0;
        int64_t first_late = -1;
        if (!s)
            continue;
        for (size_t k = 0; k < s->n; k++) {
            SbkCue *c = &s->cues[k];
            if (c->start_ms >= end) {
                if (first_late < 0 || c->start_ms < first_late)
                    first_late = c->start_ms;
                free(c->text);
                dropped++;
                continue;
            }
            if (c->end_ms > end) {
                c->end_ms = end;
                cut++;
            }
            s->cues[keep++] = *c;
        }
        s->n = keep;
        p->subs[i].trimmed = (int)(dropped + cut);
        if (!dropped && !cut)
            continue;
        char buf[256], at[24], len[24];
        const char *src = sub_source(p, i, buf, sizeof buf);
        sbk_fmt_hms(end, len, sizeof len);
        if (dropped) {
            sbk_fmt_hms(first_late, at, sizeof at);
            sbk_log(SBK_LOG_WARN,
                    dngettext(SBK_TEXTDOMAIN,
                              "%s: %zu cue from %s on comes after the end of the recording (%s) and "
                              "was left out; are the subtitles for this recording?",
                              "%s: %zu cues from %s on come after the end of the recording (%s) and "
                              "were left out; are the subtitles for this recording?",
                              (unsigned long)dropped),
                    src, dropped, at, len);
        }
        if (cut) /* a cue that ends a little late is common: a note, not a warning */
            sbk_log(SBK_LOG_INFO,
                    dngettext(SBK_TEXTDOMAIN,
                              "%s: %zu cue ran past the end of the recording (%s); cut there",
                              "%s: %zu cues ran past the end of the recording (%s); cut there",
                              (unsigned long)cut),
                    src, cut, len);
    }
    return 0;
}

void sbk_pack__summary(Pack *p)
{
    SbkPackSummary *sum = p->opt->summary;
    if (!sum)
        return;
    memset(sum, 0, sizeof *sum);
    snprintf(sum->id, sizeof sum->id, "%s", p->lesson->id);
    sum->version = p->lesson->version;
    sum->duration = p->probe.duration;
    snprintf(sum->content, sizeof sum->content, "%s", p->m.content ? p->m.content : "");
    for (int i = 0; i < p->m.n_files; i++) {
        const SbkManifestFile *f = &p->m.files[i];
        if (f->tier && sum->n_tiers < (int)(sizeof sum->tiers / sizeof sum->tiers[0])) {
            __typeof__(sum->tiers[0]) *t = &sum->tiers[sum->n_tiers++];
            snprintf(t->name, sizeof t->name, "%s", f->tier);
            t->size = f->size;
            t->bitrate = f->bitrate;
            t->width = f->width;
            t->height = f->height;
            t->crf = f->crf;
            t->crf_from = !f->crf_from                       ? SBK_CRF_LADDER
                          : strcmp(f->crf_from, "search") == 0 ? SBK_CRF_SEARCH
                          : strcmp(f->crf_from, "option") == 0 ? SBK_CRF_OPTION
                                                               : SBK_CRF_LADDER;
            t->ssim_y = f->ssim_y;
        } else if (f->kind && strcmp(f->kind, "handout") == 0) {
            sum->n_handouts++;
            sum->handouts_size += f->size;
        }
    }
    for (int i = 0; i < p->n_subs && sum->n_subs < SBK_SUMMARY_MAX; i++) {
        __typeof__(sum->subs[0]) *s = &sum->subs[sum->n_subs++];
        snprintf(s->lang, sizeof s->lang, "%s", p->subs[i].lang);
        s->cues = p->subs[i].subs ? (int)p->subs[i].subs->n : 0;
        s->trimmed = p->subs[i].trimmed;
        s->embedded = i >= p->lesson->n_subs;
    }
    for (int l = 0; l < SBK_LANG_COUNT; l++) {
        int have = 0;
        for (int i = 0; i < p->n_subs; i++)
            have |= strcmp(p->subs[i].lang, sbk_lang_codes[l]) == 0;
        if (!have && p->lesson->title[l] && sum->n_no_subs < 4)
            snprintf(sum->no_subs[sum->n_no_subs++], sizeof sum->no_subs[0], "%s", sbk_lang_codes[l]);
    }
    sum->n_chapters = p->lesson->n_chapters;
    sum->search_cpu_s = p->search_cpu_s;
    struct stat st;
    if (stat(p->opt->out_path, &st) == 0)
        sum->bundle_size = (int64_t)st.st_size;
}
