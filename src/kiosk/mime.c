/* src/kiosk/mime.c - the one table of Content-Types (see mime.h). */
#include "kiosk/mime.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *ext;
    const char *type;
} mime_table[] = {
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"m4a", "audio/mp4"},
    {"webm", "video/webm"},
    {"weba", "audio/webm"},
    {"ogg", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"mp3", "audio/mpeg"},
    {"vtt", "text/vtt; charset=utf-8"},
    {"srt", "text/plain; charset=utf-8"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"png", "image/png"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"svg", "image/svg+xml"},
    {"ico", "image/x-icon"},
    {"json", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"zip", "application/zip"},
    {"pdf", "application/pdf"},
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/plain; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
    {"ttf", "font/ttf"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"doc", "application/msword"},
    {"xls", "application/vnd.ms-excel"},
    {"xml", "application/xml"},
    {"xsl", "application/xml"},
    {"xhtml", "application/xhtml+xml"},
    {"xht", "application/xhtml+xml"},
};

int sbk_mime_is_document(const char *mime)
{
    if (!mime)
        return 0;
    size_t len = strcspn(mime, ";");
    while (len && mime[len - 1] == ' ')
        len--;
    if ((len == 9 && strncasecmp(mime, "text/html", 9) == 0) ||
        (len == 8 && strncasecmp(mime, "text/xml", 8) == 0) ||
        (len == 15 && strncasecmp(mime, "application/xml", 15) == 0))
        return 1;
    return len > 4 && strncasecmp(mime + len - 4, "+xml", 4) == 0; /* svg, xhtml, rss... */
}

const char *sbk_mime_for_path(const char *path)
{
    if (!path)
        return "application/octet-stream";
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof mime_table / sizeof mime_table[0]; i++)
        if (strcasecmp(dot + 1, mime_table[i].ext) == 0)
            return mime_table[i].type;
    return "application/octet-stream";
}
