/*
 * router.c - request targets to routes and search parameters (router.h).
 * Every refusal names the parameter and never quotes its value: the
 * message goes back to the client and into logs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

static const struct {
    const char *path;
    pr_route route;
} routes[] = {
    {"/search", PR_ROUTE_SEARCH},
    {"/suggest", PR_ROUTE_SUGGEST},
    {"/health", PR_ROUTE_HEALTH},
    {"/metrics", PR_ROUTE_METRICS},
};

pr_route pr_route_find(const char *path, size_t len)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strlen(routes[i].path) == len && memcmp(routes[i].path, path, len) == 0)
            return routes[i].route;
    return PR_ROUTE_OTHER;
}

const char *pr_route_name(pr_route r)
{
    static const char *names[PR_NROUTES] = {"other", "search", "suggest", "health", "metrics", "web"};
    return (unsigned)r < PR_NROUTES ? names[r] : "other";
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long pr_url_decode(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '+') {
            out[o++] = ' ';
        } else if (in[i] == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return PR_URL_BAD_ESCAPE;
            hi = hexval(in[i + 1]);
            lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return PR_URL_BAD_ESCAPE;
            if (hi == 0 && lo == 0)
                return PR_URL_NUL;
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    return (long)o;
}

int pr_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        int n;
        unsigned cp;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) n = 3, cp = c & 0x07;
        else return 0;
        if (i + (size_t)n >= len)
            return 0;
        for (int k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates and C1 controls are refused. */
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
            return 0;
        i += n + 1;
    }
    return 1;
}

int pr_has_control(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len; i++)
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f ||
            (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] < 0xa0))
            return 1;
    return 0;
}

/* Parameters that are strings, and where in the request they go. */
enum param { P_Q, P_LIMIT, P_OFFSET, P_TAG, P_CATEGORY, P_COLLECTION, P_AFTER, P_BEFORE,
             P_PREFIX, P_DISTINCT, P_UNKNOWN };

static enum param param_of(pr_route route, const char *key)
{
    static const char *names[] = {"q", "limit", "offset", "tag", "category", "collection",
                                  "after", "before", "prefix", "distinct"};
    for (int i = 0; i < P_UNKNOWN; i++)
        if (strcmp(key, names[i]) == 0) {
            /* /suggest takes q and limit only; other names are ignored
             * like any unknown parameter (cache busters, trackers...). */
            if (route == PR_ROUTE_SUGGEST && i != P_Q && i != P_LIMIT)
                return P_UNKNOWN;
            return (enum param)i;
        }
    return P_UNKNOWN;
}

static int parse_uint(const char *v, long max, int *out)
{
    char *end;
    long n;
    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || *end || n > max)
        return -1;
    *out = (int)n;
    return 0;
}

static int parse_flag(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        return *out = 1, 0;
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
        return *out = 0, 0;
    return -1;
}

/* YYYY-MM-DD with a plausible month and day. */
static int valid_date(const char *v)
{
    static const char shape[] = "dddd-dd-dd";
    int month, day;
    if (strlen(v) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (v[i] < '0' || v[i] > '9') : v[i] != '-')
            return 0;
    month = (v[5] - '0') * 10 + (v[6] - '0');
    day = (v[8] - '0') * 10 + (v[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static const char **string_slot(pr_search_request *r, enum param p)
{
    switch (p) {
    case P_Q: return &r->q;
    case P_TAG: return &r->tag;
    case P_CATEGORY: return &r->category;
    case P_COLLECTION: return &r->collection;
    case P_AFTER: return &r->after;
    case P_BEFORE: return &r->before;
    default: return NULL;
    }
}

/* A value with CR, LF, NUL...: the message says what is wrong with it,
 * without quoting it. */
#define CONTROL_MSG "parameter %s: control characters (such as %%00, %%0A, %%0D) are not allowed"

/* Check and store one decoded parameter. */
static int set_param(pr_route route, enum param p, const char *key, char *v, size_t vlen,
                     const pr_param_limits *lim, pr_search_request *r, pr_error *err)
{
    const char **slot = string_slot(r, p);
    if (slot) {
        if (pr_has_control(v, vlen))
            return pr_error_set(err, 0, 0, CONTROL_MSG, key);
        if (!pr_utf8_valid(v, vlen))
            return pr_error_set(err, 0, 0, "parameter %s: not valid UTF-8 text", key);
        if (p == P_Q && vlen > (size_t)lim->max_query_bytes)
            return pr_error_set(err, 0, 0, "parameter q: query longer than %d bytes",
                                lim->max_query_bytes);
        if ((p == P_AFTER || p == P_BEFORE) && vlen && !valid_date(v))
            return pr_error_set(err, 0, 0, "parameter %s: expected a date YYYY-MM-DD", key);
        /* An empty filter (tag=) means no filter, as forms send them. */
        *slot = (vlen || p == P_Q) ? v : NULL;
        return 0;
    }
    if (vlen == 0)
        return 0; /* limit= and friends: keep the default */
    switch (p) {
    case P_LIMIT:
        if (parse_uint(v, lim->max_limit, &r->limit) < 0 || r->limit < 1)
            return pr_error_set(err, 0, 0, "parameter limit: expected an integer from 1 to %d",
                                lim->max_limit);
        return 0;
    case P_OFFSET:
        if (parse_uint(v, 1000000, &r->offset) < 0)
            return pr_error_set(err, 0, 0,
                                "parameter offset: expected an integer from 0 to 1000000");
        return 0;
    case P_PREFIX:
    case P_DISTINCT:
        if (parse_flag(v, p == P_PREFIX ? &r->prefix : &r->distinct) < 0)
            return pr_error_set(err, 0, 0, "parameter %s: expected 0 or 1", key);
        return 0;
    default:
        (void)route;
        return 0;
    }
}

static void request_defaults(pr_route route, pr_search_request *r)
{
    memset(r, 0, sizeof *r);
    r->q = "";
    r->limit = route == PR_ROUTE_SUGGEST ? 8 : 10; /* SPEC 7 */
    r->offset = 0;
    r->prefix = 0;
    r->distinct = 1;
}

#define KEY_TOO_LONG (-3)

int pr_params_parse(pr_route route, const char *query, size_t len,
                    const pr_param_limits *lim, pr_params *out, pr_error *err)
{
    /* Decoded values are never longer than their encoding, plus a NUL each. */
    char *storage = malloc(2 * len + 2), *w = storage;
    const char *p = query, *end = query + len;
    if (!storage)
        return pr_error_set(err, 0, 0, "out of memory");
    request_defaults(route, &out->req);
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
        char key[32];
        long klen, vlen;
        if (!amp) amp = end;
        eq = memchr(p, '=', (size_t)(amp - p));
        if (!eq) eq = amp;
        if (eq - p == 0) { p = amp + 1; continue; } /* "&&" or "=x" */
        if (eq - p >= (long)sizeof key) {
            klen = KEY_TOO_LONG; /* too long to be one of ours */
        } else {
            klen = pr_url_decode(p, (size_t)(eq - p), key);
        }
        if (klen == PR_URL_BAD_ESCAPE || klen == PR_URL_NUL) {
            free(storage);
            return pr_error_set(err, 0, 0, klen == PR_URL_NUL
                                               ? "control character %%00 in a parameter name"
                                               : "invalid percent-escape in a parameter name");
        }
        vlen = pr_url_decode(eq < amp ? eq + 1 : amp, eq < amp ? (size_t)(amp - eq - 1) : 0, w);
        if (vlen < 0) {
            int known = klen >= 0 && param_of(route, key) != P_UNKNOWN;
            free(storage);
            if (vlen == PR_URL_NUL)
                return known ? pr_error_set(err, 0, 0, CONTROL_MSG, key)
                             : pr_error_set(err, 0, 0, "control character %%00 in a parameter value");
            if (!known)
                return pr_error_set(err, 0, 0, "invalid percent-escape in a parameter value");
            return pr_error_set(err, 0, 0, "parameter %s: invalid percent-escape", key);
        }
        if (klen >= 0) {
            enum param prm = param_of(route, key);
            if (prm != P_UNKNOWN) {
                if (set_param(route, prm, key, w, (size_t)vlen, lim, &out->req, err) < 0) {
                    free(storage);
                    return -1;
                }
                w += vlen + 1;
            }
        }
        p = amp + 1;
    }
    out->storage = storage;
    return 0;
}

void pr_params_free(pr_params *p)
{
    free(p->storage);
    p->storage = NULL;
}
