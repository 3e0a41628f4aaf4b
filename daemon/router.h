/*
 * router.h - from a request target to what to do: the route, and the
 * decoded, validated query parameters of /search and /suggest. Pure
 * functions over strings, so they are tested without sockets.
 */
#ifndef PR_ROUTER_H
#define PR_ROUTER_H

#include <stddef.h>
#include "pr_error.h"
#include "search.h"

typedef enum pr_route {
    PR_ROUTE_OTHER = 0, /* unknown path, or no request could be read */
    PR_ROUTE_SEARCH,
    PR_ROUTE_SUGGEST,
    PR_ROUTE_HEALTH,
    PR_ROUTE_METRICS,
    PR_ROUTE_WEB,   /* the search page and its assets (web_assets.h) */
    PR_NROUTES
} pr_route;

/* The route of PATH (exact match, no decoding), PR_ROUTE_OTHER if none. */
pr_route pr_route_find(const char *path, size_t len);

/* "search", "suggest", "health", "metrics", "web", "other": the metrics label. */
const char *pr_route_name(pr_route r);

/*
 * Percent-decode IN (LEN bytes) into OUT (room for LEN + 1 bytes), '+' as
 * a space, NUL-terminated. Returns the decoded length, PR_URL_BAD_ESCAPE
 * for an invalid escape ("%G1", "%4"), or PR_URL_NUL for an escaped NUL
 * byte (%00), which a NUL-terminated value cannot hold.
 */
#define PR_URL_BAD_ESCAPE (-1)
#define PR_URL_NUL (-2)
long pr_url_decode(const char *in, size_t len, char *out);

/* Whether S (LEN bytes) is well-formed UTF-8 with no control characters
 * other than tab. */
int pr_utf8_valid(const char *s, size_t len);

/* Whether S (LEN bytes) holds a control character other than tab: C0
 * (CR, LF, ...), DEL, or C1 (U+0080-U+009F). Such a value is refused
 * with a message that says so, not as invalid UTF-8. */
int pr_has_control(const char *s, size_t len);

/* Limits the parameters are checked against. */
typedef struct pr_param_limits {
    int max_limit;       /* largest limit= */
    int max_query_bytes; /* longest q= after decoding */
} pr_param_limits;

/* Decoded parameters of a /search or /suggest request. The strings of REQ
 * point into STORAGE, which the caller frees with pr_params_free(). */
typedef struct pr_params {
    pr_search_request req; /* /search; for /suggest only q and limit */
    char *storage;
} pr_params;

/*
 * Parse the query string QUERY (LEN bytes, without '?') for ROUTE
 * (PR_ROUTE_SEARCH or PR_ROUTE_SUGGEST). Returns 0, or -1 with ERR naming
 * the parameter at fault ("parameter limit: ..."); then nothing is to be
 * freed.
 */
int pr_params_parse(pr_route route, const char *query, size_t len,
                    const pr_param_limits *lim, pr_params *out, pr_error *err);

void pr_params_free(pr_params *p);

#endif
