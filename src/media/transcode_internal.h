/* Private to the transcoder's files: transcode.c (decode loop, poster,
 * checks), graph.c (the one filter graph) and encode.c (one encoder + muxer
 * thread per rendition). */
#ifndef SABAK_TRANSCODE_INTERNAL_H
#define SABAK_TRANSCODE_INTERNAL_H

#include <libavfilter/avfilter.h>
#include <pthread.h>

#include "media_internal.h"

enum { MAX_OUT = 8, POSTER_SAMPLES = 9, QUEUE_CAP = 16 };

/* Frames handed from the decoding thread to one rendition's encoder thread.
 * kind: 0 video, 1 audio; frame NULL = that stream has ended. */
typedef struct QueueItem {
    AVFrame *frame;
    int kind;
} QueueItem;

typedef struct FrameQueue {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    QueueItem items[QUEUE_CAP];
    int head, count;
} FrameQueue;

typedef struct Output {
    const SbkTier *tier;
    SbkRenditionResult *res;
    AVFormatContext *oc;
    AVCodecContext *venc, *aenc;
    AVStream *vst, *ast;
    AVFilterContext *vsink, *asink;
    int w, h;
    AVRational fps;
    int crf;                 /* the job's CRF for this tier; 0: the ladder's */
    int64_t vframes;
    int64_t last_vpts, last_apts; /* in encoder time bases, for the duration check */
    int header_written;
    /* the encoder thread: encodes and muxes this rendition while the main
     * thread decodes and filters the next frames */
    pthread_t thread;
    int thread_started;
    FrameQueue q;
    AVPacket *pkt;
    int failed;              /* set by the worker (under q.mu) */
    int abort;               /* set by the main thread: stop encoding, just drain */
    int sent_eof[2];         /* end markers pushed for video / audio */
    SbkError err;            /* the worker's error */
    const char *src;
} Output;

typedef struct Transcoder {
    SbkTranscodeJob *job;
    const char *base;        /* source base name, for messages */
    AVFormatContext *ifmt;
    AVCodecContext *vdec, *adec;
    int vidx, aidx;
    int64_t start_us;        /* container start time, subtracted from every pts */
    AVFilterGraph *graph;
    AVFilterContext *vsrc, *asrc;
    Output out[MAX_OUT];
    int nout;
    int want_video, want_audio;
    AVPacket *pkt;
    AVFrame *frame, *filt;
    double pos;              /* seconds of source decoded so far */
    double end[2];           /* where the decoded video / audio reached (pts + duration), s */
    int64_t next_vpts;       /* for frames without a timestamp */
    /* poster */
    AVFrame *best;
    double best_score;
    int next_sample;
    struct SwsContext *score_sws;
} Transcoder;

/* graph.c */
int sbk_tc_source_is_hdr(const AVCodecContext *dec);
int sbk_tc_build_graph(Transcoder *t, SbkError *err);

/* graph.c: the filters before the split (deinterlace, turn, HDR to SDR),
 * each followed by a comma, or "" */
void sbk_tc_pre_chain(const AVCodecContext *dec, int rotation, char *out, size_t n);

/* encode.c */
void sbk_tc_video_settings(AVCodecContext *c, const SbkTier *tier, int screen, int crf, int w,
                           int h, AVRational fps, int threads);
int sbk_tc_open_output(Transcoder *t, Output *o, SbkError *err);
void sbk_tc_queue_init(FrameQueue *q);
void sbk_tc_queue_destroy(FrameQueue *q);
void *sbk_tc_output_thread(void *opaque);
int sbk_tc_queue_push(Output *o, AVFrame *frame, int kind, SbkError *err);
int sbk_tc_join_outputs(Transcoder *t, int abort, SbkError *err);

#endif
