/* libFuzzer target for the subtitle reader: raw bytes through the charset
 * detection, the SRT/WebVTT/ASS parser and the WebVTT writer, as
 * sbk_subs_load does with a trainer's file. Whatever is accepted must come
 * out as WebVTT that parses again to the same cues. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sabak/subs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = NULL, *vtt = NULL, *vtt2 = NULL, enc[32];
    size_t len = 0, vlen = 0, vlen2 = 0;
    SbkSubs *subs = NULL, *again = NULL;
    SbkError err = {0};
    if (sbk_charset_to_utf8(data, size, &text, &len, enc, &err) < 0)
        goto done;
    if (sbk_subs_parse(text, len, "fuzz.srt", &subs, &err) < 0)
        goto done;
    if (sbk_subs_to_vtt(subs, &vtt, &vlen, &err) < 0)
        abort();
    /* Our own output must read back to the same cues and the same text. */
    if (sbk_subs_parse(vtt, vlen, "fuzz.vtt", &again, &err) < 0 || again->n != subs->n)
        abort();
    for (size_t i = 0; i < subs->n; i++)
        if (again->cues[i].start_ms != subs->cues[i].start_ms ||
            again->cues[i].end_ms != subs->cues[i].end_ms)
            abort();
    if (sbk_subs_to_vtt(again, &vtt2, &vlen2, &err) < 0 || vlen2 != vlen || memcmp(vtt, vtt2, vlen))
        abort();
done:
    free(vtt2);
    free(vtt);
    free(text);
    sbk_subs_free(&again);
    sbk_subs_free(&subs);
    return 0;
}
