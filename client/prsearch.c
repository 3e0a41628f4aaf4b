/*
 * prsearch.c - the command-line client (SPEC section 6).
 *
 *   prsearch [options] QUERY...
 *
 * With -d DB it opens the index itself and calls pr_search(), the very
 * code the daemon runs; otherwise it asks prsearchd over HTTP
 * (http_client.c). Either way it ends up with the same result JSON,
 * printed as is (--json) or for a human (render.c). Exit: 0 hits, 1 none,
 * 2 error with one line "prsearch: message" on stderr.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "analytics.h"
#include "http_client.h"
#include "pr_defaults.h"
#include "render.h"
#include "search.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

enum { EXIT_HITS = 0, EXIT_NONE = 1, EXIT_ERROR = 2 };

typedef struct options {
    const char *db;      /* -d: direct mode */
    const char *socket;  /* -s */
    const char *host;    /* -H */
    int json;
    pr_search_request req;
    char *query;         /* the QUERY words joined by spaces */
} options;

static int fail(const char *fmt, const char *a, const char *b)
{
    fputs("prsearch: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return EXIT_ERROR;
}

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: prsearch [options] QUERY...\n"
        "Search a prsearch index: through the prsearchd daemon, or directly with -d.\n"
        "\n"
        "  -d, --db PATH        search the index file PATH directly (no daemon)\n"
        "  -s, --socket PATH    the daemon's Unix socket (default: $%s, else %s)\n"
        "  -H, --host HOST:PORT the daemon over TCP\n"
        "  -n, --limit N        hits per page, 1-100 (default 10)\n"
        "      --offset N       skip the first N hits\n"
        "      --tag TAG        only pages with this tag\n"
        "      --category CAT   only pages in this category\n"
        "      --collection C   only pages of this collection (communiques, ...)\n"
        "      --after DATE     only pages dated on or after DATE (YYYY-MM-DD)\n"
        "      --before DATE    only pages dated on or before DATE\n"
        "      --prefix         the last word is a prefix (as you type)\n"
        "      --json           print the result JSON (as the daemon's /search)\n"
        "  -h, --help           this help\n"
        "      --version        the version\n"
        "\n"
        "Query: words (all required), \"a phrase\", -excluded, cloud OR souverainete,\n"
        "recru* (prefix), tag:EIG category:\"Communiqué de presse\" collection:communiques\n"
        "year:2021 after:2021-01-01 before:2021-12-31.\n"
        "Exit status: 0 hits, 1 no hits, 2 error.\n",
        PR_ENV_SOCKET, PR_DEFAULT_SOCKET);
}

static int parse_int(const char *s, const char *what, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
        return fail("%s must be a number, not '%s'", what, s);
    *out = (int)v;
    return 0;
}

static char *join_words(int argc, char **argv)
{
    size_t n = 1;
    char *q;
    int i;

    for (i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    q = malloc(n);
    if (!q)
        return NULL;
    q[0] = '\0';
    for (i = 0; i < argc; i++) {
        if (i)
            strcat(q, " ");
        strcat(q, argv[i]);
    }
    return q;
}

/* The options, by name; VAL: takes a value. */
enum { O_DB, O_SOCKET, O_HOST, O_LIMIT, O_OFFSET, O_TAG, O_CATEGORY, O_COLLECTION, O_AFTER,
       O_BEFORE, O_PREFIX, O_JSON, O_HELP, O_VERSION };
static const struct { const char *lng; char shrt; int val; } optdefs[] = {
    [O_DB] = {"db", 'd', 1},          [O_SOCKET] = {"socket", 's', 1},
    [O_HOST] = {"host", 'H', 1},      [O_LIMIT] = {"limit", 'n', 1},
    [O_OFFSET] = {"offset", 0, 1},    [O_TAG] = {"tag", 0, 1},
    [O_CATEGORY] = {"category", 0, 1}, [O_COLLECTION] = {"collection", 0, 1},
    [O_AFTER] = {"after", 0, 1},      [O_BEFORE] = {"before", 0, 1},
    [O_PREFIX] = {"prefix", 0, 0},    [O_JSON] = {"json", 0, 0},
    [O_HELP] = {"help", 'h', 0},      [O_VERSION] = {"version", 0, 0},
};
#define NOPTS ((int)(sizeof optdefs / sizeof optdefs[0]))

/* Which option ARG names (value inline in *INLINE_VAL), or -1: then ARG is
 * a query word. "--name", "--name=value", "-x", "-xvalue". */
static int find_option(const char *arg, const char **inline_val)
{
    int i;

    *inline_val = NULL;
    if (arg[0] != '-' || !arg[1])
        return -1;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        for (i = 0; i < NOPTS; i++)
            if (strlen(optdefs[i].lng) == n && !strncmp(optdefs[i].lng, name, n)) {
                if (eq)
                    *inline_val = eq + 1;
                return i;
            }
        return -2; /* --unknown */
    }
    for (i = 0; i < NOPTS; i++)
        if (optdefs[i].shrt && arg[1] == optdefs[i].shrt &&
            (!arg[2] || optdefs[i].val)) {
            if (arg[2])
                *inline_val = arg + 2;
            return i;
        }
    return -1; /* "-webinaire": an excluded word */
}

static int set_option(options *o, int id, const char *v)
{
    switch (id) {
    case O_DB: o->db = v; break;
    case O_SOCKET: o->socket = v; break;
    case O_HOST: o->host = v; break;
    case O_LIMIT: return parse_int(v, "--limit", &o->req.limit) ? EXIT_ERROR : -1;
    case O_OFFSET: return parse_int(v, "--offset", &o->req.offset) ? EXIT_ERROR : -1;
    case O_TAG: o->req.tag = v; break;
    case O_CATEGORY: o->req.category = v; break;
    case O_COLLECTION: o->req.collection = v; break;
    case O_AFTER: o->req.after = v; break;
    case O_BEFORE: o->req.before = v; break;
    case O_PREFIX: o->req.prefix = 1; break;
    case O_JSON: o->json = 1; break;
    case O_HELP: usage(stdout); return EXIT_HITS;
    case O_VERSION: printf("prsearch %s\n", PACKAGE_VERSION); return EXIT_HITS;
    }
    return -1;
}

/*
 * Options may come anywhere among the query words (prsearch eig --json).
 * A word starting with '-' that is no option is a query word: "-webinaire"
 * excludes. After "--" everything is a query word. Returns -1 to go on,
 * or the exit status.
 */
static int parse_options(int argc, char **argv, options *o)
{
    char **words = calloc((size_t)argc + 1, sizeof *words);
    int i, nw = 0, rc, only_words = 0;

    memset(o, 0, sizeof *o);
    pr_search_request_init(&o->req);
    if (!words)
        return fail("%s%s", "out of memory", "");
    for (i = 1; i < argc; i++) {
        const char *v;
        int id = only_words ? -1 : find_option(argv[i], &v);
        if (!only_words && !strcmp(argv[i], "--")) {
            only_words = 1;
            continue;
        }
        if (id == -1) {
            words[nw++] = argv[i];
            continue;
        }
        if (id == -2) {
            free(words);
            return fail("unknown option %s (see prsearch --help)", argv[i], "");
        }
        if (optdefs[id].val && !v) {
            if (i + 1 >= argc) {
                free(words);
                return fail("option %s needs a value (see prsearch --help)", argv[i], "");
            }
            v = argv[++i];
        } else if (!optdefs[id].val && v) {
            free(words);
            return fail("option --%s takes no value%s", optdefs[id].lng, "");
        }
        if ((rc = set_option(o, id, v)) >= 0) {
            free(words);
            return rc;
        }
    }
    if (nw == 0) {
        free(words);
        usage(stderr);
        return EXIT_ERROR;
    }
    o->query = join_words(nw, words);
    free(words);
    if (!o->query)
        return fail("%s%s", "out of memory", "");
    o->req.q = o->query;
    return -1;
}

/* ---- direct mode -------------------------------------------------------- */

static int search_direct(const options *o, json_t **result, char **raw)
{
    pr_error err;
    pr_search_config cfg;
    pr_searcher *s;
    pr_search_status st;

    /* The daemon's 250 ms budget protects a shared server; someone at a
     * shell would rather wait a little than get nothing. */
    pr_search_config_init(&cfg);
    cfg.time_budget_ms = 10000;
    s = pr_searcher_open(o->db, &cfg, &err);

    *raw = NULL;
    if (!s)
        return fail("%s%s", err.message, "");
    st = pr_search(s, &o->req, result, &err);
    pr_searcher_close(s);
    if (st != PR_SEARCH_OK)
        return fail("%s%s", err.message, "");
    *raw = pr_json_dump(*result);
    return *raw ? 0 : fail("%s%s", "out of memory", "");
}

/* ---- daemon mode -------------------------------------------------------- */

static int add_param(char *url, size_t size, size_t *len, const char *name, const char *value)
{
    size_t nl = strlen(name);

    if (!value)
        return 0;
    if (*len + nl + 2 >= size)
        return -1;
    url[(*len)++] = strchr(url, '?') ? '&' : '?';
    memcpy(url + *len, name, nl);
    *len += nl;
    url[(*len)++] = '=';
    url[*len] = '\0';
    return pr_url_encode(url, size, len, value);
}

static char *search_url(const options *o)
{
    size_t size = 4 * strlen(o->query) + 4096, len;
    char *url = malloc(size), num[32];
    int bad = 0;

    if (!url)
        return NULL;
    strcpy(url, "/search");
    len = strlen(url);
    bad |= add_param(url, size, &len, "q", o->query);
    snprintf(num, sizeof num, "%d", o->req.limit);
    bad |= add_param(url, size, &len, "limit", num);
    snprintf(num, sizeof num, "%d", o->req.offset);
    bad |= add_param(url, size, &len, "offset", num);
    bad |= add_param(url, size, &len, "tag", o->req.tag);
    bad |= add_param(url, size, &len, "category", o->req.category);
    bad |= add_param(url, size, &len, "collection", o->req.collection);
    bad |= add_param(url, size, &len, "after", o->req.after);
    bad |= add_param(url, size, &len, "before", o->req.before);
    bad |= add_param(url, size, &len, "prefix", o->req.prefix ? "1" : NULL);
    if (bad) {
        free(url);
        return NULL;
    }
    return url;
}

/* The message of an error answer {"error":{"code","message"}}. */
static int daemon_error(const pr_http_response *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    char status[32];

    snprintf(status, sizeof status, "%d", r->status);
    if (m)
        fail("%s%s", m, "");
    else
        fail("the daemon answered HTTP %s%s", status, "");
    json_decref(j);
    return EXIT_ERROR;
}

static int search_daemon(const options *o, json_t **result, char **raw)
{
    pr_http_target t = {o->socket, o->host};
    pr_http_response r;
    char err[512], where[1024];
    char *url = search_url(o);
    int rc;

    *raw = NULL;
    if (!t.socket_path)
        t.socket_path = getenv(PR_ENV_SOCKET);
    if (!t.socket_path || !*t.socket_path)
        t.socket_path = PR_DEFAULT_SOCKET;
    if (!url)
        return fail("%s%s", "out of memory", "");
    rc = pr_http_get(&t, url, 30, &r, err, sizeof err);
    free(url);
    snprintf(where, sizeof where, "%s", t.host_port ? t.host_port : t.socket_path);
    if (rc == PR_HTTP_CONNECT) {
        fprintf(stderr, "prsearch: no daemon at %s (%s); start prsearchd or search the index "
                        "directly with -d %s\n", where, err, PR_DEFAULT_DB);
        return EXIT_ERROR;
    }
    if (rc != PR_HTTP_OK)
        return fail("daemon at %s: %s", where, err);
    if (r.status != 200) {
        rc = daemon_error(&r);
        free(r.body);
        return rc;
    }
    *result = json_loadb(r.body, r.body_len, 0, NULL);
    if (!json_is_object(*result)) {
        json_decref(*result);
        *result = NULL;
        free(r.body);
        return fail("daemon at %s: the answer is not JSON%s", where, "");
    }
    *raw = r.body; /* printed as received: the daemon's bytes */
    return 0;
}

/* ---- output -------------------------------------------------------------- */

static int terminal_width(void)
{
    struct winsize ws;
    const char *c = getenv("COLUMNS");

    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (c && atoi(c) > 0)
        return atoi(c);
    return 80;
}

static int print_result(const options *o, const json_t *result, const char *raw)
{
    long long total = json_integer_value(json_object_get(result, "total"));

    if (o->json) {
        size_t n = strlen(raw);
        fputs(raw, stdout);
        if (n == 0 || raw[n - 1] != '\n')
            fputc('\n', stdout);
    } else {
        render_opts ro = {isatty(STDOUT_FILENO), terminal_width()};
        render_result(stdout, result, &ro);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        return fail("writing the results: %s%s", strerror(errno), "");
    return total > 0 ? EXIT_HITS : EXIT_NONE;
}

int main(int argc, char **argv)
{
    options o;
    json_t *result = NULL;
    char *raw = NULL;
    int rc;

    /* `prsearch --stats ...`: the search analytics report (lib/analytics.c). */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--stats") == 0)
            return pr_analytics_stats_main(argc, argv);
    rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    rc = o.db ? search_direct(&o, &result, &raw) : search_daemon(&o, &result, &raw);
    if (rc == 0)
        rc = print_result(&o, result, raw);
    json_decref(result);
    free(raw);
    free(o.query);
    return rc;
}
