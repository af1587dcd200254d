/* The whitelists are tables of FFmpeg demuxer and DECODER names (FFmpeg
 * matches codec_whitelist against decoder names). A name FFmpeg does not
 * know is a silent hole, so every name must resolve; and the codecs real
 * recordings use must each have a listed decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "media/media_internal.h"

static void test_demuxers_resolve(void **state)
{
    (void)state;
    int n = 0;
    for (const char *const *d = sbk_media_demuxers; *d; d++, n++)
        if (!av_find_input_format(*d))
            fail_msg("demuxer \"%s\" is on the whitelist but FFmpeg has no such demuxer", *d);
    assert_true(n > 10);
}

static void check_decoders(const char *const *names, enum AVMediaType type)
{
    for (const char *const *d = names; *d; d++) {
        const AVCodec *c = avcodec_find_decoder_by_name(*d);
        if (!c)
            fail_msg("decoder \"%s\" is on the whitelist but FFmpeg has no such decoder", *d);
        if (type != AVMEDIA_TYPE_UNKNOWN && c->type != type)
            fail_msg("decoder \"%s\" is a %s decoder, listed as %s", *d,
                     av_get_media_type_string(c->type), av_get_media_type_string(type));
    }
}

static void test_decoders_resolve(void **state)
{
    (void)state;
    check_decoders(sbk_media_video_decoders, AVMEDIA_TYPE_VIDEO);
    check_decoders(sbk_media_audio_decoders, AVMEDIA_TYPE_AUDIO);
    check_decoders(sbk_media_other_decoders, AVMEDIA_TYPE_UNKNOWN);
}

/* What trainers' recordings use, by codec id: each needs an accepted decoder. */
static const struct {
    enum AVCodecID id;
    const char *what;
} needed[] = {
    {AV_CODEC_ID_H264, "H.264"},
    {AV_CODEC_ID_HEVC, "HEVC (phones)"},
    {AV_CODEC_ID_MPEG4, "DivX/Xvid"},
    {AV_CODEC_ID_MSMPEG4V3, "DivX 3 (div3)"},
    {AV_CODEC_ID_MSMPEG4V2, "MS-MPEG4 v2"},
    {AV_CODEC_ID_MSMPEG4V1, "MS-MPEG4 v1"},
    {AV_CODEC_ID_DVVIDEO, "DV camcorders"},
    {AV_CODEC_ID_MPEG1VIDEO, "MPEG-1"},
    {AV_CODEC_ID_MPEG2VIDEO, "DVD / MPEG-TS"},
    {AV_CODEC_ID_H263, "H.263 (3GP phones)"},
    {AV_CODEC_ID_H263P, "H.263+"},
    {AV_CODEC_ID_FLV1, "Flash video"},
    {AV_CODEC_ID_WMV1, "WMV 7"},
    {AV_CODEC_ID_WMV2, "WMV 8"},
    {AV_CODEC_ID_WMV3, "WMV 9"},
    {AV_CODEC_ID_VC1, "VC-1"},
    {AV_CODEC_ID_MJPEG, "MJPEG (photo cameras)"},
    {AV_CODEC_ID_THEORA, "Theora"},
    {AV_CODEC_ID_VP8, "VP8"},
    {AV_CODEC_ID_VP9, "VP9"},
    {AV_CODEC_ID_AV1, "AV1"},
    {AV_CODEC_ID_PRORES, "ProRes"},
    {AV_CODEC_ID_PCM_S16LE, "PCM 16 LE"},
    {AV_CODEC_ID_PCM_S16BE, "PCM 16 BE"},
    {AV_CODEC_ID_PCM_S16LE_PLANAR, "PCM 16 planar"},
    {AV_CODEC_ID_PCM_S24LE, "PCM 24 LE"},
    {AV_CODEC_ID_PCM_S24BE, "PCM 24 BE"},
    {AV_CODEC_ID_PCM_S32LE, "PCM 32 LE"},
    {AV_CODEC_ID_PCM_F32LE, "PCM float LE"},
    {AV_CODEC_ID_PCM_F32BE, "PCM float BE"},
    {AV_CODEC_ID_PCM_U8, "PCM 8"},
    {AV_CODEC_ID_PCM_MULAW, "mu-law"},
    {AV_CODEC_ID_PCM_ALAW, "A-law"},
    {AV_CODEC_ID_PCM_DVD, "DVD LPCM"},
    {AV_CODEC_ID_ADPCM_IMA_WAV, "IMA ADPCM"},
    {AV_CODEC_ID_ADPCM_IMA_QT, "QuickTime IMA ADPCM"},
    {AV_CODEC_ID_ADPCM_MS, "MS ADPCM"},
    {AV_CODEC_ID_ADPCM_G726, "G.726"},
    {AV_CODEC_ID_ADPCM_YAMAHA, "Yamaha ADPCM"},
    {AV_CODEC_ID_ADPCM_SWF, "Flash ADPCM"},
    {AV_CODEC_ID_AMR_NB, "AMR-NB"},
    {AV_CODEC_ID_AMR_WB, "AMR-WB"},
    {AV_CODEC_ID_GSM, "GSM"},
    {AV_CODEC_ID_GSM_MS, "GSM (MS)"},
    {AV_CODEC_ID_WMAV1, "WMA 1"},
    {AV_CODEC_ID_WMAV2, "WMA 2"},
    {AV_CODEC_ID_AC3, "AC-3"},
    {AV_CODEC_ID_MP2, "MP2"},
    {AV_CODEC_ID_MP3, "MP3"},
    {AV_CODEC_ID_AAC, "AAC"},
    {AV_CODEC_ID_OPUS, "Opus"},
    {AV_CODEC_ID_VORBIS, "Vorbis"},
    {AV_CODEC_ID_FLAC, "FLAC"},
    {AV_CODEC_ID_SUBRIP, "SubRip subtitles"},
    {AV_CODEC_ID_MOV_TEXT, "MP4 text subtitles"},
};

static void test_recordings_have_decoders(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (!sbk_media_find_decoder(needed[i].id))
            fail_msg("%s (%s): no decoder on the whitelist", needed[i].what,
                     avcodec_get_name(needed[i].id));
}

static void test_refused(void **state)
{
    (void)state;
    /* not on the list: must stay refused */
    assert_false(sbk_media_decoder_allowed("msmpeg4v3")); /* an id name, not a decoder */
    assert_false(sbk_media_decoder_allowed("rawvideo"));
    assert_false(sbk_media_decoder_allowed("bink"));
    assert_null(sbk_media_find_decoder(AV_CODEC_ID_BINKVIDEO));
    assert_true(sbk_media_decoder_allowed("msmpeg4"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demuxers_resolve),
        cmocka_unit_test(test_decoders_resolve),
        cmocka_unit_test(test_recordings_have_decoders),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
