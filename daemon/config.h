/*
 * config.h - prsearchd's settings: built-in defaults, a `key = value`
 * file (-c), and command-line overrides applied on top of it. Kept as
 * separate steps so SIGHUP can re-read the file and apply the same
 * command-line overrides again.
 */
#ifndef PR_DAEMON_CONFIG_H
#define PR_DAEMON_CONFIG_H

#include "index_db.h"
#include "pr_error.h"

typedef struct pr_daemon_config {
    char *db;              /* index file */
    char *socket;          /* Unix socket path; "" means none */
    char *tcp;             /* comma-separated HOST:PORT list; "" means none */
    int threads;           /* query workers; 0 means one per CPU */
    int socket_mode;       /* permission bits of the Unix socket (0660) */
    char *socket_group;    /* group name or gid of the socket; "" keeps ours */
    char *cors_origin;     /* Access-Control-Allow-Origin value; "" none */
    int access_log;        /* one stderr line per request */
    int max_connections;   /* open connections; beyond: 503 and close */
    int max_head_bytes;    /* request line + headers (431 beyond) */
    int max_headers;       /* header count (431 beyond) */
    int max_uri_bytes;     /* request target (414 beyond) */
    int max_body_bytes;    /* a body on GET is read and dropped up to this (413) */
    int max_query_bytes;   /* q after decoding (400 beyond) */
    int idle_timeout_ms;   /* keep-alive connection with no request */
    int request_timeout_ms;/* whole request (head and body) must arrive in this */
    int query_budget_ms;   /* per query time budget (503 beyond) */
    int max_limit;         /* largest `limit` accepted */
    int shutdown_timeout_ms; /* how long SIGTERM waits for in-flight requests */
    int cache_entries;     /* answers kept per index version; 0: no cache */
    int cache_bytes;       /* ... and their total size */
    double weights[PR_NCOLS]; /* bm25: title, headings, chapeau, body, taxonomy */
    int analytics;         /* record settled searches (log=1) */
    char *analytics_db;    /* where; "" means beside the index (analytics.h) */
    int analytics_queue;   /* searches waiting to be written; more are dropped */
} pr_daemon_config;

/* Defaults of SPEC 7 and issue 4. DB and SOCKET are copied (may be NULL). */
void pr_daemon_config_init(pr_daemon_config *cfg, const char *db, const char *socket);

void pr_daemon_config_free(pr_daemon_config *cfg);

/* Deep copy of SRC into DST (DST is not freed first). */
void pr_daemon_config_copy(pr_daemon_config *dst, const pr_daemon_config *src);

/* Set one key from its text value. Returns 0, or -1 with ERR saying why
 * ("unknown setting", "must be an integer from 1 to 100", ...). */
int pr_daemon_config_set(pr_daemon_config *cfg, const char *key, const char *value,
                         pr_error *err);

/* Read PATH: lines `key = value`, blank lines and `#` comments. Returns 0,
 * or -1 with ERR set; ERR's message starts with "PATH:LINE: " for a bad
 * line, so it can be printed as is. */
int pr_daemon_config_load(pr_daemon_config *cfg, const char *path, pr_error *err);

#endif
