/* sabak pack: lesson folder -> one bundle.
 *
 *   load lesson.ini, open every input beneath the folder (no links, no
 *   FIFOs) -> read every subtitle file -> probe the recording -> check the
 *   chapters against its duration, read its embedded subtitles, make the
 *   WebVTT (everything that can fail without decoding, fails here, in a
 *   second) -> decode once, encode every tier, take the poster -> manifest
 *   -> offline player -> ZIP (atomic).
 *
 * Intermediate files live in a hidden work folder beside the output (same
 * filesystem, so a full disk shows up as early as possible), removed on
 * every exit path. The other steps are in pack_inputs.c, pack_output.c and
 * pack_bundle.c (see pack_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crf_search.h"
#include "media_internal.h"
#include "pack_int.h"
#include "sabak/core.h"
#include "sabak/i18n.h"

/* ---- steps -------------------------------------------------------------------- */
static int parse_tiers(Pack *p, SbkError *err)
{
    const char *list = p->opt->tiers ? p->opt->tiers : sbk_tier_default_list();
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    int ret = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        const SbkTier *t = sbk_tier_find(tok);
        if (!t) {
            ret = sbk_err(err, SBK_EINVAL, _("unknown tier \"%s\" (choose from %s)"), tok,
                          sbk_tier_names());
            goto done;
        }
        int dup = 0;
        for (int i = 0; i < p->n_tiers; i++)
            dup |= p->tiers[i] == t;
        if (dup)
            continue;
        if (t->has_video && !p->probe.has_video) {
            if (!p->lesson->audio_only) /* expected for audio-only lessons */
                sbk_log(SBK_LOG_INFO, _("%s: no video, so no %s rendition"), p->lesson->id, t->name);
            continue;
        }
        if (!t->has_video && !p->probe.has_audio) {
            sbk_log(SBK_LOG_INFO, _("%s: the recording has no sound, so no %s rendition"),
                    p->lesson->id, t->name);
            continue;
        }
        if (p->n_tiers == MAX_TIERS) {
            ret = sbk_err(err, SBK_EINVAL, _("too many tiers"));
            goto done;
        }
        p->tiers[p->n_tiers++] = t;
    }
    /* bundle order is the ladder's order, whatever order the list gave */
    for (int i = 1; i < p->n_tiers; i++)
        for (int j = i; j > 0 && sbk_tier_index(p->tiers[j - 1]) > sbk_tier_index(p->tiers[j]); j--) {
            const SbkTier *x = p->tiers[j];
            p->tiers[j] = p->tiers[j - 1];
            p->tiers[j - 1] = x;
        }
    if (p->n_tiers == 0)
        ret = sbk_err(err, SBK_EINVAL, _("no rendition can be made from %s with tiers \"%s\""),
                      sbk_path_base(p->lesson->video), list);
done:
    free(copy);
    return ret;
}

/* --crf standard=30,low=38: those tiers' CRF, without the search. */
static int parse_crf_option(Pack *p, SbkError *err)
{
    const char *list = p->opt->crf;
    if (!list)
        return 0;
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return sbk_err(err, SBK_ENOMEM, _("out of memory"));
    int ret = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(tok, '='), *end = NULL;
        long v = eq ? strtol(eq + 1, &end, 10) : -1;
        if (!eq || end == eq + 1 || *end || v < 1 || v > 51) {
            ret = sbk_err(err, SBK_EINVAL, _("--crf takes TIER=N with N from 1 to 51, not \"%s\""),
                          tok);
            break;
        }
        *eq = '\0';
        const SbkTier *t = sbk_tier_find(tok);
        if (!t || !t->has_video) {
            ret = sbk_err(err, SBK_EINVAL, _("--crf: \"%s\" is not a video tier (choose from %s)"),
                          tok, sbk_tier_names());
            break;
        }
        for (int i = 0; i < p->n_tiers; i++)
            if (p->tiers[i] == t) {
                p->crf[i] = (int)v;
                p->crf_from[i] = SBK_CRF_OPTION;
            }
    }
    free(copy);
    return ret;
}

/* Each video tier aims at its quality target: a short search on sampled
 * segments picks the CRF (crf_search.c), unless --crf set it. */
static int choose_crf(Pack *p, SbkError *err)
{
    SbkCrfChoice choice[MAX_TIERS];
    int skip[MAX_TIERS];
    for (int i = 0; i < p->n_tiers; i++)
        skip[i] = p->crf_from[i] == SBK_CRF_OPTION;
    SbkError serr = {0};
    int ret = sbk_media_crf_search(p->lesson->video, &p->probe, p->tiers, p->n_tiers, skip,
                                   p->opt->jobs, p->opt->cancel, choice, &p->search_cpu_s, &serr);
    if (ret == SBK_ECANCELED || ret == SBK_ENOMEM) {
        if (err)
            *err = serr;
        return ret;
    }
    if (ret < 0) {
        /* The transcode reads the whole file and says what is wrong with
         * it (one line: a damaged file is not reported twice); a recording
         * that cannot be sampled (one that does not seek) is packed with
         * the ladder's CRFs, which the manifest then records. */
        sbk_log(SBK_LOG_DEBUG, "%s: the quality search failed (%s); using the ladder's CRF",
                p->lesson->id, serr.msg);
        return 0;
    }
    for (int i = 0; i < p->n_tiers; i++)
        if (!skip[i] && choice[i].crf > 0) {
            p->crf[i] = choice[i].crf;
            p->crf_from[i] = SBK_CRF_SEARCH;
            p->ssim_y[i] = choice[i].ssim_y;
            p->ssim_y_min[i] = choice[i].ssim_y_min;
        }
    return 0;
}

/* What the results record: the CRF used and how it was chosen. */
static void note_crf(Pack *p)
{
    int screen = p->probe.content == SBK_CONTENT_SCREENCAST;
    for (int i = 0; i < p->n_tiers; i++) {
        SbkRenditionResult *r = &p->results[i];
        const SbkTier *t = p->tiers[i];
        if (!t->has_video || !t->vencoder)
            continue;
        r->crf = p->crf[i] > 0 ? p->crf[i] : screen ? t->crf_screen : t->crf_camera;
        r->crf_from = p->crf[i] > 0 ? p->crf_from[i] : SBK_CRF_LADDER;
        r->ssim_y = r->crf_from == SBK_CRF_SEARCH ? p->ssim_y[i] : 0;
        r->ssim_y_min = r->crf_from == SBK_CRF_SEARCH ? p->ssim_y_min[i] : 0;
    }
}

static int transcode(Pack *p, SbkError *err)
{
    snprintf(p->poster, sizeof p->poster, "%s/poster.jpg", p->work_dir);
    snprintf(p->thumb, sizeof p->thumb, "%s/thumb.jpg", p->work_dir);
    p->job = (SbkTranscodeJob){
        .src = p->lesson->video,
        .probe = &p->probe,
        .tiers = p->tiers,
        .n_tiers = p->n_tiers,
        .crf = p->crf,
        .work_dir = p->work_dir,
        .threads = p->opt->jobs,
        .progress = p->opt->progress,
        .progress_opaque = p->opt->progress_opaque,
        .cancel = p->opt->cancel,
        .poster_path = p->probe.has_video ? p->poster : NULL,
        .thumb_path = p->probe.has_video ? p->thumb : NULL,
    };
    int ret = sbk_media_transcode(&p->job, p->results, err);
    if (ret == 0)
        note_crf(p);
    return ret;
}

static int add_embedded_subtitles(Pack *p, SbkError *err)
{
    if (p->probe.n_text_subs == 0)
        return 0;
    SbkEmbeddedSubs *emb = NULL;
    int n = 0;
    int ret = sbk_media_extract_subs(p->lesson->video, &emb, &n, err);
    if (ret < 0)
        return ret;
    for (int i = 0; i < n; i++) {
        int have = 0;
        for (int k = 0; k < p->n_subs; k++)
            have |= strcmp(p->subs[k].lang, emb[i].lang) == 0;
        if (have || !emb[i].subs || p->n_subs == MAX_SUBS)
            continue; /* a subtitle file of the same language wins */
        PackSub *s = &p->subs[p->n_subs++];
        snprintf(s->lang, sizeof s->lang, "%s", emb[i].lang);
        s->subs = emb[i].subs;
        emb[i].subs = NULL;
        sbk_log(SBK_LOG_INFO, _("%s: using the %s subtitles inside %s"), p->lesson->id, s->lang,
                sbk_path_base(p->lesson->video));
    }
    sbk_media_embedded_subs_free(&emb, n);
    return 0;
}

static int make_vtt(Pack *p, SbkError *err)
{
    for (int i = 0; i < p->n_subs; i++) {
        int ret = sbk_subs_to_vtt(p->subs[i].subs, &p->subs[i].vtt, &p->subs[i].vtt_len, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static void free_pack(Pack *p)
{
    sbk_pack__remove_work_dir(p);
    for (int i = 0; i < p->n_subs; i++) {
        sbk_subs_free(&p->subs[i].subs);
        free(p->subs[i].vtt);
    }
    for (int i = 0; i < p->n_handouts; i++) {
        free(p->handouts[i].name);
        free(p->handouts[i].path);
        if (p->handouts[i].fd >= 0)
            close(p->handouts[i].fd);
    }
    /* The manifest owns its strings; sbk_manifest_free frees the struct too,
     * so free the members through a heap copy. */
    SbkManifest *m = malloc(sizeof *m);
    if (m) {
        *m = p->m;
        sbk_manifest_free(&m);
    }
    free(p->src);
    free(p->player);
    free(p->manifest_json);
    if (p->video_fd >= 0)
        close(p->video_fd);
    if (p->dfd >= 0)
        close(p->dfd);
    sbk_lesson_free(&p->lesson);
}

/* Everything that needs only lesson.ini, the subtitle files and the probe. */
static int prepare(Pack *p, SbkError *err)
{
    SbkPackOptions *opt = p->opt;
    int ret;
    if ((ret = sbk_lesson_load(opt->lesson_dir, &p->lesson, err)) < 0)
        return ret;
    p->dfd = open(opt->lesson_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->dfd < 0)
        return sbk_err_errno(err, errno, _("cannot open %s"), opt->lesson_dir);
    if ((ret = sbk_pack__open_video(p, err)) < 0 || (ret = sbk_pack__load_subtitles(p, err)) < 0 ||
        (ret = sbk_pack__list_handouts(p, err)) < 0)
        return ret;
    if ((ret = sbk_media_probe(p->lesson->video, p->lesson->audio_only, p->lesson->audio_language,
                               &p->probe, err)) < 0)
        return ret;
    if ((ret = parse_tiers(p, err)) < 0 || (ret = parse_crf_option(p, err)) < 0 ||
        (ret = sbk_pack__manifest_head(p, err)) < 0 ||
        (ret = add_embedded_subtitles(p, err)) < 0 || (ret = sbk_pack__trim_cues(p)) < 0 ||
        (ret = make_vtt(p, err)) < 0)
        return ret;
    return sbk_pack__resolve_output(p, err);
}

int sbk_pack(SbkPackOptions *opt, SbkError *err)
{
    Pack p = {.opt = opt, .dfd = -1, .video_fd = -1};
    int ret;
    opt->out_path[0] = '\0';
    if ((ret = prepare(&p, err)) < 0)
        goto done;
    sbk_log(SBK_LOG_DEBUG, "%s: %s %dx%d %.2f fps, %.1f s, %s (motion %.3f)", p.lesson->id,
            p.probe.vcodec, p.probe.width, p.probe.height, p.probe.fps, p.probe.duration,
            sbk_content_name(p.probe.content), p.probe.motion);
    if ((ret = choose_crf(&p, err)) < 0 || (ret = transcode(&p, err)) < 0)
        goto done;
    if ((ret = sbk_pack__recheck_video(&p, err)) < 0)
        goto done;
    if ((ret = sbk_pack__manifest_files(&p, err)) < 0)
        goto done;
    if ((ret = sbk_pack__build_player(&p, err)) < 0)
        goto done;
    if (opt->cancel && *opt->cancel) {
        ret = sbk_err(err, SBK_ECANCELED, _("interrupted"));
        goto done;
    }
    ret = sbk_pack__write_bundle(&p, err);
    if (ret == 0)
        sbk_pack__summary(&p);
done:
    free_pack(&p);
    if (ret < 0)
        opt->out_path[0] = '\0';
    return ret;
}
