/*
 * prsearchd.c - the search daemon's main: options and configuration,
 * opening the index, listeners (including sockets passed by systemd),
 * signals, and the loop. The work is in server.c, http_conn.c and
 * workers.c; this file only wires them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analytics.h"
#include "pr_defaults.h"
#include "search.h"
#include "server.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define MAX_OVERRIDES 32

/* Everything the daemon owns, on main's stack: no global state. */
struct daemon {
    uv_loop_t loop;
    pr_daemon_config cfg;
    const char *config_path;
    const char *override_key[MAX_OVERRIDES];
    const char *override_value[MAX_OVERRIDES];
    int noverrides;
    int socket_given;   /* -s on the command line */
    char *tcp_joined;   /* the --tcp options, comma-separated */
    pr_server srv;
    pr_pool *pool;
    uv_signal_t sigterm, sigint, sighup;
    int exit_code;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: prsearchd [-d DB] [-s SOCKET] [--tcp HOST:PORT] [--threads N] [-c CONFIG]\n"
            "                 [--access-log]\n"
            "Answer searches of a prsearch index over HTTP/1.1 + JSON.\n\n"
            "  -d, --db PATH        index file (default: $" PR_ENV_DB ", else " PR_DEFAULT_DB ")\n"
            "  -s, --socket PATH    Unix socket (default: $" PR_ENV_SOCKET ", else\n"
            "                       " PR_DEFAULT_SOCKET "); 'none' for no Unix socket\n"
            "      --tcp HOST:PORT  also listen on TCP (host defaults to 127.0.0.1);\n"
            "                       may be repeated\n"
            "      --threads N      query worker threads (default: one per CPU)\n"
            "  -c, --config FILE    settings file, 'key = value' lines (reloaded on SIGHUP)\n"
            "      --access-log     log one line per request on stderr\n"
            "  -h, --help           this help\n"
            "      --version        print the version\n\n"
            "Routes: / (the search page), /widget.js, /search, /suggest, /health, /metrics.\n"
            "Signals: SIGHUP reloads the configuration and reopens the index;\n"
            "SIGTERM/SIGINT finish in-flight requests and exit.\n");
}

static int add_override(struct daemon *d, const char *key, const char *value)
{
    if (d->noverrides == MAX_OVERRIDES) {
        fprintf(stderr, "prsearchd: too many options\n");
        return -1;
    }
    d->override_key[d->noverrides] = key;
    d->override_value[d->noverrides++] = value;
    return 0;
}

static int add_tcp(struct daemon *d, const char *hp)
{
    size_t n = d->tcp_joined ? strlen(d->tcp_joined) + 1 : 0;
    char *s = realloc(d->tcp_joined, n + strlen(hp) + 1);
    if (!s) return -1;
    if (n) s[n - 1] = ',';
    strcpy(s + n, hp);
    d->tcp_joined = s;
    return 0;
}

/* Returns -1 to exit 0 (help, version), 0 to go on, 2 on usage error. */
static int parse_args(struct daemon *d, int argc, char **argv)
{
    enum { O_TCP = 256, O_THREADS, O_ACCESS_LOG, O_VERSION };
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},       {"socket", required_argument, NULL, 's'},
        {"tcp", required_argument, NULL, O_TCP},    {"threads", required_argument, NULL, O_THREADS},
        {"config", required_argument, NULL, 'c'},   {"access-log", no_argument, NULL, O_ACCESS_LOG},
        {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0}};
    int o, rc = 0;
    while ((o = getopt_long(argc, argv, "d:s:c:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': rc = add_override(d, "db", optarg); break;
        case 's': rc = add_override(d, "socket", optarg); d->socket_given = 1; break;
        case O_TCP: rc = add_tcp(d, optarg); break;
        case O_THREADS: rc = add_override(d, "threads", optarg); break;
        case 'c': d->config_path = optarg; break;
        case O_ACCESS_LOG: rc = add_override(d, "access_log", "yes"); break;
        case 'h': usage(stdout); return -1;
        case O_VERSION: printf("prsearchd %s\n", PACKAGE_VERSION); return -1;
        default: usage(stderr); return 2;
        }
        if (rc < 0) return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "prsearchd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (d->tcp_joined && add_override(d, "tcp", d->tcp_joined) < 0)
        return 2;
    return 0;
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* Defaults, then the file, then the command line: what SIGHUP redoes. */
static int build_config(struct daemon *d, pr_daemon_config *cfg, pr_error *err)
{
    pr_daemon_config_init(cfg, env_or(PR_ENV_DB, PR_DEFAULT_DB),
                          env_or(PR_ENV_SOCKET, PR_DEFAULT_SOCKET));
    if (d->config_path && pr_daemon_config_load(cfg, d->config_path, err) < 0)
        return -1;
    for (int i = 0; i < d->noverrides; i++)
        if (pr_daemon_config_set(cfg, d->override_key[i], d->override_value[i], err) < 0)
            return -1;
    if (cfg->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n < 1 ? 1 : n > 64 ? 64 : (int)n;
    }
    return 0;
}

static void search_config(const pr_daemon_config *cfg, pr_search_config *sc)
{
    pr_search_config_init(sc);
    memcpy(sc->weights, cfg->weights, sizeof sc->weights);
    sc->max_query_bytes = cfg->max_query_bytes;
    sc->max_limit = cfg->max_limit;
    sc->time_budget_ms = cfg->query_budget_ms;
}

/* --- signals -------------------------------------------------------- */

static void close_signals(struct daemon *d)
{
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
}

static void on_drained(pr_server *srv)
{
    struct daemon *d = srv->data;
    if (d->pool)
        pr_pool_stop(d->pool);
    d->pool = NULL;
    pr_recorder_stop(srv->recorder); /* writes what is still queued */
    srv->recorder = NULL;
    pr_server_close(srv);
    close_signals(d);
}

static void on_stop_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    pr_log("%s: finishing in-flight requests, then exiting", strsignal(signum));
    pr_server_shutdown(&d->srv, on_drained, d);
}

/* A setting that only a restart applies: keep the running value. */
static void keep_running(const char *key, char **now, char **next)
{
    if (strcmp(*now ? *now : "", *next ? *next : "") != 0)
        pr_log("reload: %s changed; restart prsearchd to apply it", key);
    free(*next);
    *next = *now;
    *now = NULL;
}

static void on_sighup(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    pr_daemon_config next;
    pr_search_config sc;
    pr_error err;
    pr_error_clear(&err);
    if (build_config(d, &next, &err) < 0) {
        pr_log("reload: %s; keeping the current configuration", err.message);
        pr_daemon_config_free(&next);
    } else {
        keep_running("db", &d->cfg.db, &next.db);
        keep_running("socket", &d->cfg.socket, &next.socket);
        keep_running("tcp", &d->cfg.tcp, &next.tcp);
        keep_running("socket_group", &d->cfg.socket_group, &next.socket_group);
        keep_running("analytics_db", &d->cfg.analytics_db, &next.analytics_db);
        if (next.analytics != d->cfg.analytics)
            pr_log("reload: analytics changed; restart prsearchd to apply it");
        next.analytics = d->cfg.analytics;
        if (next.threads != d->cfg.threads || next.socket_mode != d->cfg.socket_mode)
            pr_log("reload: threads or socket_mode changed; restart prsearchd to apply it");
        next.threads = d->cfg.threads;
        next.socket_mode = d->cfg.socket_mode;
        pr_daemon_config_free(&d->cfg);
        d->cfg = next;
        pr_log("reload: configuration read%s%s", d->config_path ? " from " : "",
               d->config_path ? d->config_path : "");
    }
    search_config(&d->cfg, &sc);
    pr_pool_reconfigure(d->pool, &sc, d->cfg.request_timeout_ms);
    pr_server_reconfigured(&d->srv);
    pr_log("reload: workers reopen the index %s before their next query", d->cfg.db);
}

static void start_signals(struct daemon *d)
{
    uv_signal_t *sigs[] = {&d->sigterm, &d->sigint, &d->sighup};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&d->loop, sigs[i]);
        sigs[i]->data = d;
    }
    uv_signal_start(&d->sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&d->sigint, on_stop_signal, SIGINT);
    uv_signal_start(&d->sighup, on_sighup, SIGHUP);
}

/* --- listeners ------------------------------------------------------ */

/* Sockets passed by systemd (sd_listen_fds protocol, without libsystemd):
 * fds 3.. when LISTEN_PID is us. */
static int systemd_fds(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    int n;
    if (!pid || !fds || atol(pid) != (long)getpid())
        return 0;
    n = atoi(fds);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    for (int i = 0; i < n; i++)
        fcntl(3 + i, F_SETFD, FD_CLOEXEC);
    return n < 0 ? 0 : n;
}

static int listen_tcp_list(struct daemon *d, pr_error *err)
{
    char *list = strdup(d->cfg.tcp), *save = NULL, *hp;
    int rc = 0;
    if (!list)
        return pr_error_set(err, 0, 0, "out of memory");
    for (hp = strtok_r(list, ", \t", &save); hp && rc == 0; hp = strtok_r(NULL, ", \t", &save))
        rc = pr_server_listen_tcp(&d->srv, hp, err);
    free(list);
    return rc;
}

static int start_listeners(struct daemon *d, pr_error *err)
{
    int nfds = systemd_fds();
    const char *sock = d->cfg.socket;
    int want_unix = sock && *sock && strcmp(sock, "none") != 0;
    /* Under socket activation the socket is systemd's to make: another one
     * only when -s or the config file names it. */
    if (nfds > 0 && !d->socket_given &&
        strcmp(sock, env_or(PR_ENV_SOCKET, PR_DEFAULT_SOCKET)) == 0)
        want_unix = 0;
    for (int i = 0; i < nfds; i++)
        if (pr_server_listen_fd(&d->srv, 3 + i, err) < 0)
            return -1;
    if (want_unix &&
        pr_server_listen_unix(&d->srv, sock, d->cfg.socket_mode, d->cfg.socket_group, err) < 0)
        return -1;
    if (listen_tcp_list(d, err) < 0)
        return -1;
    if (!d->srv.listeners)
        return pr_error_set(err, 0, 0, "nothing to listen on (no socket, no --tcp)");
    return 0;
}

/* --- main ----------------------------------------------------------- */

/* Search analytics are on unless `analytics = off`; a file that cannot be
 * written turns them off with one log line, and the daemon serves on.
 * Where: analytics_db, else $PRSEARCH_ANALYTICS (the service's), else
 * beside the index. */
static void start_recorder(struct daemon *d)
{
    const char *env = env_or(PR_ENV_ANALYTICS, NULL);
    char *path;
    pr_error err;
    pr_error_clear(&err);
    if (!d->cfg.analytics) {
        pr_log("analytics: off");
        return;
    }
    path = *d->cfg.analytics_db ? strdup(d->cfg.analytics_db)
           : env                ? strdup(env)
                                : pr_analytics_default_path(d->cfg.db);
    if (!path)
        return;
    d->srv.recorder = pr_recorder_start(path, d->cfg.analytics_queue, &err);
    if (d->srv.recorder)
        pr_log("analytics: recording settled searches (log=1) in %s", path);
    else
        pr_log("analytics: off, cannot write %s: %s", path, err.message);
    free(path);
}

static int start(struct daemon *d)
{
    pr_search_config sc;
    pr_error err;
    long long docs = 0, mtime = 0;
    pr_error_clear(&err);
    search_config(&d->cfg, &sc);
    d->pool = pr_pool_start(&d->loop, d->cfg.db, &sc, d->cfg.threads, d->cfg.request_timeout_ms,
                            pr_server_job_done, &d->srv, &err);
    if (!d->pool) {
        fprintf(stderr, "prsearchd: cannot open the index %s: %s\n", d->cfg.db, err.message);
        return 2;
    }
    pr_pool_initial_stats(d->pool, &docs, &mtime);
    start_recorder(d);
    pr_server_set_pool(&d->srv, d->pool, docs, mtime, d->cfg.threads);
    start_signals(d);
    if (start_listeners(d, &err) < 0) {
        pr_log("%s", err.message);
        d->exit_code = 2;
        pr_server_shutdown(&d->srv, on_drained, d);
        return 0;
    }
    pr_log("prsearchd %s started: index %s (%lld documents), %d workers, pid %ld",
           PACKAGE_VERSION, d->cfg.db, docs, d->cfg.threads, (long)getpid());
    return 0;
}

int main(int argc, char **argv)
{
    struct daemon d;
    pr_error err;
    int rc;
    memset(&d, 0, sizeof d);
    pr_error_clear(&err);
    rc = parse_args(&d, argc, argv);
    if (rc != 0) {
        free(d.tcp_joined);
        return rc < 0 ? 0 : rc;
    }
    if (build_config(&d, &d.cfg, &err) < 0) {
        fprintf(stderr, "prsearchd: %s\n", err.message);
        pr_daemon_config_free(&d.cfg);
        free(d.tcp_joined);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a client that went away is an error code, not a death */
    uv_loop_init(&d.loop);
    pr_server_init(&d.srv, &d.loop, &d.cfg);
    rc = start(&d);
    if (rc == 0) {
        uv_run(&d.loop, UV_RUN_DEFAULT);
        rc = d.exit_code;
        if (rc == 0)
            pr_log("stopped");
    } else {
        pr_server_close(&d.srv);
        uv_run(&d.loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&d.loop);
    pr_daemon_config_free(&d.cfg);
    free(d.tcp_joined);
    return rc;
}
