/* sabak/bundle.h - the lesson bundle: one ZIP file holding manifest.json,
 * index.html (offline player), poster, subtitles/<lang>.vtt and media.
 * See docs/BUNDLE-FORMAT.md. Nothing here links FFmpeg: the kiosk uses it. */
#ifndef SABAK_BUNDLE_H
#define SABAK_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "sabak/error.h"
#include "sabak/lang.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SBK_BUNDLE_FORMAT_VERSION 1
#define SBK_MANIFEST_NAME "manifest.json"
#define SBK_MANIFEST_MAX_BYTES (1u << 20)
#define SBK_BUNDLE_MAX_ENTRIES 1000
/* A signed bundle's second entry: the minisign signature of manifest.json
 * (sabak/sign.h). Never listed in the manifest. */
#define SBK_MINISIG_NAME "manifest.json.minisig"
#define SBK_MINISIG_MAX_BYTES 16384

/* ---- manifest ----------------------------------------------------------- */
enum { SBK_AUDIO_UNSAID = 0, SBK_AUDIO_PRESENT = 1, SBK_AUDIO_NONE = 2 };
typedef struct SbkManifestFile {
    char *path;     /* entry name inside the zip, e.g. "media/standard.mp4" */
    char *kind;     /* "player", "poster", "thumbnail", "subtitles", "video", "audio", "handout" */
    char *mime;     /* "video/mp4", "text/vtt; charset=utf-8", ... */
    char *codecs;   /* RFC 6381, e.g. "avc1.64001e, mp4a.40.2"; NULL if not media */
    char *tier;     /* "standard", "low", "audio", "av1"; NULL if not media */
    char *lang;     /* subtitles: "ky", "ru", ...; NULL otherwise */
    int width, height;   /* 0 when not relevant */
    double fps;          /* 0 when not relevant */
    int64_t bitrate;     /* bits/s over the whole file, 0 when not relevant */
    double duration;     /* seconds, media only */
    int crf;             /* video: the CRF it was encoded with; 0 if unsaid */
    char *crf_from;      /* "search", "option" (sabak pack --crf), "ladder"; NULL if unsaid */
    /* "quality": what the CRF search measured on sampled segments; 0/NULL if unsaid */
    double ssim_y, ssim_y_min;
    char *quality_metric; /* "ssim-y-sampled" */
    int64_t size;        /* bytes */
    char sha256[65];     /* lower-case hex */
} SbkManifestFile;

typedef struct SbkManifest {
    int format_version;
    char *generator;     /* "sabak 0.1.0" */
    char *id;
    int version;
    char *title[SBK_LANG_COUNT];
    char *description[SBK_LANG_COUNT];
    char *topic;
    int order;
    double duration;     /* seconds */
    char *content;       /* "screencast", "camera", "audio" */
    /* "audio": the recording's sound. SBK_AUDIO_UNSAID (0) in bundles made
     * before the key existed; SBK_AUDIO_NONE: a silent recording (no audio
     * tier, players show no volume control and say there is no sound). */
    int audio;           /* SBK_AUDIO_UNSAID / SBK_AUDIO_PRESENT / SBK_AUDIO_NONE */
    char *audio_lang;    /* language of the track used ("ky", "und"); NULL if unsaid */
    int audio_track;     /* 1-based: which of the source's audio tracks; 0 if unsaid */
    int audio_tracks;    /* how many audio tracks the source had; 0 if unsaid */
    SbkChapter *chapters;
    int n_chapters;
    SbkManifestFile *files;
    int n_files;
    /* Internal: 1 when sbk_manifest_parse made it, as one allocation that
     * holds the struct, the files, the chapters and every string (shared
     * where equal); sbk_manifest_free then frees that block alone. Such a
     * manifest is read-only. 0 when its members are allocated one by one. */
    int packed;
} SbkManifest;

/* Serialise (stable key order, UTF-8, no host data). *out malloc'ed. */
int sbk_manifest_to_json(const SbkManifest *m, char **out, size_t *out_len, SbkError *err);
/* Parse and validate: required keys, types, safe paths, sha256 format,
 * languages, sizes >= 0, id safe (sbk_lesson_id_ok). */
int sbk_manifest_parse(const char *json, size_t len, SbkManifest **out, SbkError *err);
void sbk_manifest_free(SbkManifest **m);
const SbkManifestFile *sbk_manifest_find(const SbkManifest *m, const char *path);

/* ---- writer ------------------------------------------------------------- */
typedef struct SbkBundleInput {
    const char *name;      /* entry name (must pass sbk_path_entry_ok) */
    const char *src_path;  /* read from this file, or ... */
    const void *data;      /* ... from memory when src_path is NULL */
    size_t len;
    int store;             /* 1: stored (media), 0: deflated (text) */
} SbkBundleInput;

/* Write the entries, in the order given, to out_path atomically (temporary
 * name, fsync, rename, fsync dir). Reproducible: fixed timestamps,
 * permissions and owner, no host data. ZIP64 where needed. On failure
 * nothing is left at out_path nor beside it. `cancel`, if not NULL, is
 * polled; non-zero aborts with SBK_ECANCELED. */
int sbk_bundle_write(const char *out_path, const SbkBundleInput *in, size_t n,
                     const volatile int *cancel, SbkError *err);

/* ---- reader ------------------------------------------------------------- */
typedef struct SbkBundleEntry {
    char *name;
    int64_t offset;     /* file offset of the entry's data (stored entries), else -1 */
    int64_t size;       /* uncompressed size */
    int64_t csize;      /* compressed size */
    int64_t data_offset; /* file offset of the entry's (compressed) data, every entry */
    int stored;         /* 1 if stored without compression */
    uint32_t crc32;
} SbkBundleEntry;

typedef struct SbkBundle {
    char *path;
    int fd;             /* O_RDONLY|O_CLOEXEC, owned; stays valid if the path is replaced */
    int64_t file_size;
    int64_t mtime;
    uint64_t dev, ino;
    SbkManifest *manifest;
    char manifest_sha256[65]; /* of manifest.json as stored (lower-case hex) */
    SbkBundleEntry *entries;  /* in archive order */
    size_t n_entries;
    /* Signed bundles: manifest.json.minisig's text (NULL when unsigned) and
     * the BLAKE2b-512 of manifest.json, for sbk_sign_check_bundle. */
    char *minisig;
    size_t minisig_len;
    unsigned char manifest_prehash[64];
} SbkBundle;

/* Open a bundle for serving: read the central directory with libarchive
 * (zip reader only), check every entry name (sbk_path_entry_ok), reject
 * links and non-regular entries, parse manifest.json (which must be the first
 * entry), check that every manifest file exists with the manifest's size,
 * and find each stored entry's data offset. Does NOT hash the data (see
 * sbk_bundle_verify). Returns SBK_EDAMAGED with a reason for a bad bundle. */
int sbk_bundle_open(const char *path, SbkBundle **out, SbkError *err);
const SbkBundleEntry *sbk_bundle_find(const SbkBundle *b, const char *name);
/* Decompress one entry into memory (max bytes). *out malloc'ed, NUL-terminated. */
int sbk_bundle_read_entry(const SbkBundle *b, const char *name, size_t max, char **out,
                          size_t *out_len, SbkError *err);
void sbk_bundle_close(SbkBundle **b);

/* Full check of a bundle file: streams every entry through libarchive (zip
 * reader only; a libarchive WARN such as a CRC mismatch is a failure), checks
 * names, links, the manifest, and every file's size and SHA-256. Calls
 * `problem` once per problem found (one line each, no newline). Returns 0
 * only when everything holds, SBK_EDAMAGED when problems were reported, or
 * another code when the file cannot be read at all (also reported). */
typedef void (*SbkProblemFn)(void *opaque, const char *line);
int sbk_bundle_verify(const char *path, SbkProblemFn problem, void *opaque);
/* The same, with a stop: `cancel`, if not NULL, is polled before each entry
 * and each 64 KiB block; non-zero gives SBK_ECANCELED at once, with no
 * problem reported. SBK_EIO (or SBK_ENOENT) with one "cannot ..." problem
 * means the file could not be opened or read (EMFILE, EACCES, EIO): no
 * verdict, try again later. Only SBK_EDAMAGED says the bytes are wrong. */
int sbk_bundle_verify_ex(const char *path, SbkProblemFn problem, void *opaque,
                         const volatile int *cancel);

#ifdef __cplusplus
}
#endif
#endif
