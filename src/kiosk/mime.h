/* src/kiosk/mime.h - the one table of Content-Types the kiosk sends. */
#ifndef SABAK_KIOSK_MIME_H
#define SABAK_KIOSK_MIME_H

/* Content-Type for a path by its extension (case-insensitive), e.g.
 * "video/mp4", "text/vtt; charset=utf-8"; "application/octet-stream" when
 * unknown. Returns a static string. */
const char *sbk_mime_for_path(const char *path);
/* 1 for the types a browser renders as a document that can run script:
 * HTML, XML and any "+xml" (SVG, XHTML). */
int sbk_mime_is_document(const char *mime);

#endif
