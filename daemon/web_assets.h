/*
 * web_assets.h - the files of web/ (search page, its CSS and JS, the
 * drop-in widget) compiled into prsearchd by daemon/embed_web.sh, and
 * how they are answered: which path, Content-Type, caching and
 * Content-Security-Policy headers.
 */
#ifndef PR_WEB_ASSETS_H
#define PR_WEB_ASSETS_H

#include <stddef.h>

typedef struct pr_web_asset {
    const char *path;          /* "/", "/search.js", ... */
    const char *content_type;
    const unsigned char *data; /* LEN bytes (plus a NUL) */
    size_t len;
    const char *etag;          /* "\"CRC-LEN\"" */
} pr_web_asset;

/* The table, ended by an entry with a NULL path (web_assets.c). */
extern const pr_web_asset pr_web_assets[];

/* The asset served at PATH (LEN bytes, no query), NULL if none. */
const pr_web_asset *pr_web_asset_find(const char *path, size_t len);

/* The extra header lines of A's answer ("Name: value\r\n"...), static. */
const char *pr_web_asset_headers(const pr_web_asset *a);

#endif
