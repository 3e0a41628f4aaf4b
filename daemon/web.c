/*
 * web.c - looking up the embedded web assets and the headers they are
 * served with (web_assets.h). The page is HTML that must follow a new
 * version of the daemon at once (no-cache: revalidated each time); its
 * CSS and JS are small and cached briefly so an upgrade shows within
 * minutes. The CSP lets the page talk only to its own origin and load
 * nothing from elsewhere; the widget is made to run on other sites, so
 * it is only marked as a script.
 */
#include <string.h>

#include "web_assets.h"

const pr_web_asset *pr_web_asset_find(const char *path, size_t len)
{
    /* "/index.html" is what a proxy or a person may ask for the page. */
    if (len == 11 && memcmp(path, "/index.html", 11) == 0)
        path = "/", len = 1;
    for (const pr_web_asset *a = pr_web_assets; a->path; a++)
        if (strlen(a->path) == len && memcmp(a->path, path, len) == 0)
            return a;
    return NULL;
}

#define CSP "Content-Security-Policy: default-src 'self'; script-src 'self'; " \
            "style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; " \
            "form-action 'self'; frame-ancestors 'self'\r\n"
#define COMMON "Referrer-Policy: same-origin\r\n"

const char *pr_web_asset_headers(const pr_web_asset *a)
{
    if (strcmp(a->path, "/") == 0)
        return CSP COMMON "Cache-Control: no-cache\r\n";
    if (strcmp(a->path, "/widget.js") == 0)
        return COMMON "Cache-Control: public, max-age=300\r\n";
    return CSP COMMON "Cache-Control: public, max-age=300\r\n";
}
