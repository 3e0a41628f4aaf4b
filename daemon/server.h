/*
 * server.h - the daemon's loop side: listeners (Unix socket, TCP, sockets
 * passed by systemd), the set of open connections, routing a complete
 * request to an answer or a worker job, and the graceful shutdown.
 * Everything here runs on the loop thread.
 */
#ifndef PR_SERVER_H
#define PR_SERVER_H

#include <http_parser.h>
#include <time.h>
#include <uv.h>

#include <sys/types.h>

#include "cache.h"
#include "config.h"
#include "metrics.h"
#include "recorder.h"
#include "workers.h"

typedef struct pr_server pr_server;
typedef struct pr_conn pr_conn;

/* What identifies a version of the index: the file (replaced by mv: new
 * inode) and its WAL (each commit of a reindex grows or rewrites it). */
typedef struct pr_index_sig {
    dev_t dev;
    ino_t ino;
    off_t size;
    long long mtime_ns;
    off_t wal_size;
    long long wal_mtime_ns;
    unsigned char wal_header[32]; /* its salts change at each WAL restart, even
                                     where mtimes are coarse */
} pr_index_sig;

typedef struct pr_listener {
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
    } h;
    pr_server *srv;
    int is_unix;
    char *unlink_path;        /* socket file we created, removed at exit */
    char name[300];           /* for logs: "unix:/run/...", "tcp:127.0.0.1:8080" */
    int deferred;             /* a connection waits to be accepted next turn */
    struct pr_listener *next;
} pr_listener;

struct pr_server {
    uv_loop_t *loop;
    const pr_daemon_config *cfg; /* read at each use: SIGHUP may swap it */
    pr_pool *pool;
    pr_metrics metrics;
    http_parser_settings parser_settings;
    pr_listener *listeners;
    pr_conn *conns;           /* open connections (not yet closing) */
    long alive;               /* connection structures not yet freed */
    int draining;             /* shutting down: no new requests */
    int drained;              /* on_drained was called */
    int stats_pending;        /* a stats job is queued */
    uv_timer_t stats_timer;
    uv_timer_t drain_timer;
    void (*on_drained)(pr_server *srv);
    void *data;               /* for on_drained */
    time_t date_time;         /* the Date header, cached per second */
    char date[40];
    pr_cache *cache;          /* answers of the current index version */
    unsigned cache_gen;       /* bumped when the index changes */
    pr_index_sig sig;
    uv_timer_t index_timer;   /* watches the index for changes */
    uint64_t reopen_error_logged; /* uv_now() of the last such line */
    pr_job *inflight;         /* cacheable queries a worker is answering */
    uv_check_t accept_check;  /* after each poll: accept what was deferred */
    uv_idle_t accept_idle;    /* no blocking poll while some are deferred */
    int accepts;              /* connections accepted this loop turn */
    pr_recorder *recorder;    /* search analytics; NULL when off */
};

/* Set up SRV on LOOP with CFG; then give it a pool with pr_server_set_pool. */
void pr_server_init(pr_server *srv, uv_loop_t *loop, const pr_daemon_config *cfg);

/* The pool's done callback; DATA is the server. */
void pr_server_job_done(pr_job *job, void *data);

void pr_server_set_pool(pr_server *srv, pr_pool *pool, long long documents,
                        long long index_mtime, int threads);

/* Listen on the Unix socket PATH (creating its directory if missing,
 * replacing a stale socket file), with permission bits MODE and GROUP
 * ("" keeps ours). Returns 0 or -1 with ERR. */
int pr_server_listen_unix(pr_server *srv, const char *path, int mode, const char *group,
                          pr_error *err);

/* Listen on "HOST:PORT", "[V6]:PORT" or "PORT" (host 127.0.0.1). */
int pr_server_listen_tcp(pr_server *srv, const char *hostport, pr_error *err);

/* Listen on an already bound socket FD (systemd socket activation). */
int pr_server_listen_fd(pr_server *srv, int fd, pr_error *err);

/* Stop accepting, remove our socket files, let in-flight requests finish
 * (at most cfg->shutdown_timeout_ms), then call ON_DRAINED once. */
void pr_server_shutdown(pr_server *srv, void (*on_drained)(pr_server *), void *data);

/* Close the server's own handles (after on_drained). */
void pr_server_close(pr_server *srv);

/* The configuration was reloaded (SIGHUP): forget cached answers. */
void pr_server_reconfigured(pr_server *srv);

/* One log line "prsearchd: ..." on stderr. */
void pr_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Called by http_conn.c with a complete request. */
void pr_server_handle(pr_server *srv, pr_conn *c, int method, const char *url, size_t len);

/* The Date header value for now. */
const char *pr_server_date(pr_server *srv);

/* Free a connection's structure after its handles closed (http_conn.c). */
void pr_server_conn_freed(pr_server *srv);

#endif
