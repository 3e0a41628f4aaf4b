/*
 * config.c - parsing prsearchd's settings (see config.h). Each key is a
 * row of one table, so the file, the command line and the error messages
 * agree on names and ranges.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

enum kind { K_STR, K_INT, K_BOOL, K_MODE, K_WEIGHTS };

struct key {
    const char *name;
    enum kind kind;
    size_t offset;
    int min, max;
};

#define F(field) offsetof(pr_daemon_config, field)
static const struct key keys[] = {
    {"db", K_STR, F(db), 0, 0},
    {"socket", K_STR, F(socket), 0, 0},
    {"tcp", K_STR, F(tcp), 0, 0},
    {"threads", K_INT, F(threads), 0, 256},
    {"socket_mode", K_MODE, F(socket_mode), 0, 0777},
    {"socket_group", K_STR, F(socket_group), 0, 0},
    {"cors_origin", K_STR, F(cors_origin), 0, 0},
    {"access_log", K_BOOL, F(access_log), 0, 1},
    {"max_connections", K_INT, F(max_connections), 1, 1000000},
    {"max_head_bytes", K_INT, F(max_head_bytes), 256, 1 << 20},
    {"max_headers", K_INT, F(max_headers), 1, 10000},
    {"max_uri_bytes", K_INT, F(max_uri_bytes), 64, 1 << 20},
    {"max_body_bytes", K_INT, F(max_body_bytes), 0, 1 << 24},
    {"max_query_bytes", K_INT, F(max_query_bytes), 1, 1 << 20},
    {"idle_timeout_ms", K_INT, F(idle_timeout_ms), 1, INT_MAX},
    {"request_timeout_ms", K_INT, F(request_timeout_ms), 1, INT_MAX},
    {"query_budget_ms", K_INT, F(query_budget_ms), 0, INT_MAX},
    {"max_limit", K_INT, F(max_limit), 1, 100000},
    {"shutdown_timeout_ms", K_INT, F(shutdown_timeout_ms), 0, INT_MAX},
    {"cache_entries", K_INT, F(cache_entries), 0, 1000000},
    {"cache_bytes", K_INT, F(cache_bytes), 0, INT_MAX},
    {"weights", K_WEIGHTS, F(weights), 0, 0},
    {"analytics", K_BOOL, F(analytics), 0, 1},
    {"analytics_db", K_STR, F(analytics_db), 0, 0},
    {"analytics_queue", K_INT, F(analytics_queue), 1, 1000000},
};
#undef F

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void pr_daemon_config_init(pr_daemon_config *cfg, const char *db, const char *socket)
{
    static const double w[PR_NCOLS] = {10, 5, 4, 1, 3}; /* SPEC 4 */
    memset(cfg, 0, sizeof *cfg);
    cfg->db = dup_or_null(db);
    cfg->socket = dup_or_null(socket);
    cfg->tcp = strdup("");
    cfg->socket_mode = 0660;
    cfg->socket_group = strdup("");
    cfg->cors_origin = strdup("");
    cfg->max_connections = 1024;
    cfg->max_head_bytes = 8192;
    cfg->max_headers = 100;
    /* A 1 KiB query of accented words is up to ~3 KiB once percent-encoded. */
    cfg->max_uri_bytes = 4096;
    cfg->max_body_bytes = 16384;
    cfg->max_query_bytes = 1024;
    cfg->idle_timeout_ms = 30000;
    cfg->request_timeout_ms = 10000;
    cfg->query_budget_ms = 250;
    cfg->max_limit = 100;
    cfg->shutdown_timeout_ms = 10000;
    cfg->cache_entries = 4096;
    cfg->cache_bytes = 8 << 20; /* keeps the daemon well under 64 MB */
    memcpy(cfg->weights, w, sizeof w);
    cfg->analytics = 1;
    cfg->analytics_db = strdup("");
    cfg->analytics_queue = 10000;
}

static void free_str(char **p)
{
    free(*p);
    *p = NULL;
}

void pr_daemon_config_free(pr_daemon_config *cfg)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].kind == K_STR)
            free_str((char **)((char *)cfg + keys[i].offset));
}

void pr_daemon_config_copy(pr_daemon_config *dst, const pr_daemon_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].kind == K_STR) {
            char **d = (char **)((char *)dst + keys[i].offset);
            *d = dup_or_null(*d);
        }
}

static int parse_int(const char *v, int base, long min, long max, int *out)
{
    char *end;
    long n;
    errno = 0;
    n = strtol(v, &end, base);
    if (errno || end == v || *end || n < min || n > max)
        return -1;
    *out = (int)n;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *yes[] = {"1", "yes", "true", "on"}, *no[] = {"0", "no", "false", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = 0, 0;
    }
    return -1;
}

/* "10,5,4,1,3": one non-negative number per FTS column, in column order. */
static int parse_weights(const char *v, double *w)
{
    double tmp[PR_NCOLS];
    const char *p = v;
    for (int i = 0; i < PR_NCOLS; i++) {
        char *end;
        errno = 0;
        tmp[i] = strtod(p, &end);
        if (errno || end == p || tmp[i] < 0 || tmp[i] > 1e6)
            return -1;
        while (isspace((unsigned char)*end)) end++;
        if (i < PR_NCOLS - 1 && *end != ',')
            return -1;
        p = end + (i < PR_NCOLS - 1);
    }
    if (*p)
        return -1;
    memcpy(w, tmp, sizeof tmp);
    return 0;
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

int pr_daemon_config_set(pr_daemon_config *cfg, const char *key, const char *value,
                         pr_error *err)
{
    const struct key *k = find_key(key);
    void *field;
    if (!k)
        return pr_error_set(err, 0, 0, "unknown setting '%s'", key);
    field = (char *)cfg + k->offset;
    switch (k->kind) {
    case K_STR: {
        char *copy = strdup(value);
        if (!copy)
            return pr_error_set(err, 0, 0, "out of memory");
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case K_INT:
        if (parse_int(value, 10, k->min, k->max, field) < 0)
            return pr_error_set(err, 0, 0, "%s must be an integer from %d to %d", key,
                                k->min, k->max);
        return 0;
    case K_BOOL:
        if (parse_bool(value, field) < 0)
            return pr_error_set(err, 0, 0, "%s must be yes or no", key);
        return 0;
    case K_MODE:
        if (parse_int(value, 8, 0, 0777, field) < 0)
            return pr_error_set(err, 0, 0, "%s must be an octal mode such as 0660", key);
        return 0;
    case K_WEIGHTS:
        if (parse_weights(value, field) < 0)
            return pr_error_set(err, 0, 0,
                                "%s must be %d non-negative numbers separated by commas "
                                "(title,headings,chapeau,body,taxonomy)", key, PR_NCOLS);
        return 0;
    }
    return pr_error_set(err, 0, 0, "unknown setting '%s'", key);
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s)) s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) e--;
    *e = '\0';
    return s;
}

/* One line of the file; returns 0 or -1 with ERR (without file:line). */
static int load_line(pr_daemon_config *cfg, char *line, pr_error *err)
{
    char *eq, *key, *value, *hash;
    line = trim(line);
    if (*line == '\0' || *line == '#')
        return 0;
    eq = strchr(line, '=');
    if (!eq)
        return pr_error_set(err, 0, 0, "expected 'key = value'");
    *eq = '\0';
    key = trim(line);
    value = eq + 1;
    /* A '#' after the value starts a comment, as on its own line. */
    hash = strstr(value, " #");
    if (hash) *hash = '\0';
    value = trim(value);
    if (!*key)
        return pr_error_set(err, 0, 0, "expected 'key = value'");
    /* Quotes are optional around a value: socket = "/run/x.sock". */
    size_t n = strlen(value);
    if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
        value[n - 1] = '\0';
        value++;
    }
    return pr_daemon_config_set(cfg, key, value, err);
}

int pr_daemon_config_load(pr_daemon_config *cfg, const char *path, pr_error *err)
{
    char line[4096];
    int lineno = 0, rc = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return pr_error_set(err, 0, 0, "%s: cannot read: %s", path, strerror(errno));
    while (rc == 0 && fgets(line, sizeof line, f)) {
        pr_error e;
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = pr_error_set(err, lineno, 0, "%s:%d: line too long", path, lineno);
            break;
        }
        pr_error_clear(&e);
        if (load_line(cfg, line, &e) < 0)
            rc = pr_error_set(err, lineno, 0, "%s:%d: %s", path, lineno, e.message);
    }
    if (rc == 0 && ferror(f))
        rc = pr_error_set(err, 0, 0, "%s: read error", path);
    fclose(f);
    return rc;
}
