/* src/kiosk/mime.h - the one table of Content-Types the kiosk sends. */
#ifndef SABAK_KIOSK_MIME_H
#define SABAK_KIOSK_MIME_H

/* Content-Type for a path by its extension (case-insensitive), e.g.
 * "video/mp4", "text/vtt; charset=utf-8"; "application/octet-stream" when
 * unknown. Returns a static string. */
const char *sbk_mime_for_path(const char *path);

#endif
