/* Private to the packer (src/media/pack*.c): the state of one `sabak pack`.
 *
 *   pack.c         the steps in order, up to and including the encode
 *   pack_inputs.c  the lesson's files, opened beneath the folder (no links)
 *   pack_output.c  the output path, the work folder, stale debris
 *   pack_bundle.c  manifest entries with their sources, player, ZIP
 *   pack_summary.c cues past the end, the summary for the trainer */
#ifndef SABAK_MEDIA_PACK_INT_H
#define SABAK_MEDIA_PACK_INT_H

#include <sys/types.h>

#include "sabak/bundle.h"
#include "sabak/lesson.h"
#include "sabak/media.h"
#include "sabak/subs.h"

enum { MAX_TIERS = 8, MAX_HANDOUTS = 64, MAX_SUBS = SBK_MAX_SUBTITLES + 8 };

typedef struct PackSub {
    char lang[16];
    SbkSubs *subs;   /* owned */
    char *vtt;       /* owned */
    size_t vtt_len;
    int trimmed;     /* cues dropped or cut at the end of the recording */
} PackSub;

typedef struct PackHandout {
    char *name;      /* file name in handouts/ (owned) */
    char *path;      /* <lesson>/handouts/<name>, for messages (owned) */
    char fd_path[32];/* "/proc/self/fd/N": what the ZIP writer opens */
    int fd;          /* opened beneath the lesson folder, owned */
    int store;       /* 1: deflate would not gain enough */
} PackHandout;

/* Where one bundle entry's bytes come from; kept beside the manifest's file
 * list (same index), so writing the bundle is a plain loop. */
typedef struct PackSource {
    const char *path;   /* a file in the work folder, or "/proc/self/fd/N" */
    int fd;             /* >= 0: the descriptor `path` names (a handout) */
    const void *data;   /* or memory */
    size_t len;
    int store;
} PackSource;

typedef struct Pack {
    SbkPackOptions *opt;
    SbkLesson *lesson;
    int dfd;            /* the lesson folder */
    int video_fd;       /* the recording, checked: regular, no link */
    dev_t video_dev;
    ino_t video_ino;
    PackSub subs[MAX_SUBS];
    int n_subs;
    SbkProbe probe;
    const SbkTier *tiers[MAX_TIERS];
    int n_tiers;
    SbkRenditionResult results[MAX_TIERS];
    int crf[MAX_TIERS];       /* per tier: the CRF to encode with, 0 = the ladder's */
    int crf_from[MAX_TIERS];  /* SBK_CRF_* */
    double ssim_y[MAX_TIERS], ssim_y_min[MAX_TIERS];
    double search_cpu_s;
    char *work_dir;
    char poster[4096], thumb[4096];
    SbkTranscodeJob job;
    PackHandout handouts[MAX_HANDOUTS];
    int n_handouts;
    SbkManifest m;      /* built once: head before the encode, files after */
    PackSource *src;    /* one per m.files[i] */
    char *player;       /* index.html */
    size_t player_len;
    char *manifest_json;
    size_t manifest_len;
} Pack;

/* pack_inputs.c */
int sbk_pack__open_video(Pack *p, SbkError *err);
int sbk_pack__recheck_video(Pack *p, SbkError *err);
int sbk_pack__load_subtitles(Pack *p, SbkError *err);
int sbk_pack__list_handouts(Pack *p, SbkError *err);
const char *sbk_pack__handout_mime(const char *name);
/* 1 if deflating the first bytes of fd gains less than 5 %: store it. */
int sbk_pack__should_store(int fd);

/* pack_output.c */
int sbk_pack__resolve_output(Pack *p, SbkError *err);
int sbk_pack__check_target(Pack *p, SbkError *err);
void sbk_pack__remove_work_dir(Pack *p);

/* pack_summary.c */
/* Drop the cues that start after the end of the recording and cut the ones
 * that run past it, with a warning naming the file. */
int sbk_pack__trim_cues(Pack *p);
/* Fill opt->summary (when set) after the bundle is written. */
void sbk_pack__summary(Pack *p);

/* pack_bundle.c */
int sbk_pack__manifest_head(Pack *p, SbkError *err);
int sbk_pack__manifest_files(Pack *p, SbkError *err);
int sbk_pack__build_player(Pack *p, SbkError *err);
int sbk_pack__write_bundle(Pack *p, SbkError *err);

#endif
