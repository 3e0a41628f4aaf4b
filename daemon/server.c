/*
 * server.c - listeners, request routing, worker results and shutdown
 * (server.h). The connection details live in http_conn.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "http_conn.h"
#include "response.h"
#include "server.h"
#include "web_assets.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define STATS_INTERVAL_MS 1000
/* How often the index files are looked at: a reindex is served, not
 * cached answers of the old index, within this. */
#define INDEX_CHECK_MS 100
#define REOPEN_LOG_MS 5000

void pr_log(const char *fmt, ...)
{
    static const char prefix[] = "prsearchd: ";
    char line[2048];
    size_t p = sizeof prefix - 1, n;
    va_list ap;
    int rc;
    memcpy(line, prefix, p);
    va_start(ap, fmt);
    rc = vsnprintf(line + p, sizeof line - p - 1, fmt, ap);
    va_end(ap);
    if (rc < 0) return;
    n = p + ((size_t)rc < sizeof line - p - 2 ? (size_t)rc : sizeof line - p - 2);
    /* A message may carry text from a file or a client: one event stays
     * one line. */
    for (size_t i = p; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[n] = '\n';
    /* One write per line, so lines of concurrent processes do not mix. */
    fwrite(line, 1, n + 1, stderr);
    fflush(stderr);
}

static void on_stats_timer(uv_timer_t *t);
static void on_accept_check(uv_check_t *h);
static void on_accept_idle(uv_idle_t *h);

static pr_cache *new_cache(const pr_daemon_config *cfg)
{
    return pr_cache_new((size_t)cfg->cache_entries, (size_t)cfg->cache_bytes);
}

void pr_server_init(pr_server *srv, uv_loop_t *loop, const pr_daemon_config *cfg)
{
    memset(srv, 0, sizeof *srv);
    srv->cache = new_cache(cfg); /* NULL (out of memory): no cache */
    uv_timer_init(loop, &srv->index_timer);
    srv->index_timer.data = srv;
    srv->loop = loop;
    srv->cfg = cfg;
    pr_metrics_init(&srv->metrics, (double)time(NULL));
    pr_conn_parser_settings(&srv->parser_settings);
    uv_timer_init(loop, &srv->stats_timer);
    srv->stats_timer.data = srv;
    uv_timer_init(loop, &srv->drain_timer);
    srv->drain_timer.data = srv;
    uv_check_init(loop, &srv->accept_check);
    srv->accept_check.data = srv;
    uv_check_start(&srv->accept_check, on_accept_check);
    uv_unref((uv_handle_t *)&srv->accept_check);
    uv_idle_init(loop, &srv->accept_idle);
    srv->accept_idle.data = srv;
}

static void index_sig(const char *db, pr_index_sig *sig)
{
    char wal[4096];
    struct stat st;
    memset(sig, 0, sizeof *sig);
    if (stat(db, &st) == 0) {
        sig->dev = st.st_dev;
        sig->ino = st.st_ino;
        sig->size = st.st_size;
        sig->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    }
    snprintf(wal, sizeof wal, "%s-wal", db);
    if (stat(wal, &st) == 0) {
        int fd = open(wal, O_RDONLY | O_CLOEXEC);
        sig->wal_size = st.st_size;
        sig->wal_mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        if (fd >= 0) {
            if (pread(fd, sig->wal_header, sizeof sig->wal_header, 0) < 0)
                memset(sig->wal_header, 0, sizeof sig->wal_header);
            close(fd);
        }
    }
}

static void forget_answers(pr_server *srv)
{
    srv->cache_gen++;
    if (srv->cache)
        pr_cache_clear(srv->cache);
}

/* Two stat() calls every INDEX_CHECK_MS on the loop: cheap, and no
 * cached answer outlives the index version it was computed on. */
static void on_index_timer(uv_timer_t *t)
{
    pr_server *srv = t->data;
    pr_index_sig now;
    index_sig(srv->cfg->db, &now);
    if (memcmp(&now, &srv->sig, sizeof now) != 0) {
        srv->sig = now;
        forget_answers(srv);
        on_stats_timer(&srv->stats_timer); /* /health follows at once */
    }
}

void pr_server_reconfigured(pr_server *srv)
{
    forget_answers(srv);
    pr_cache_free(srv->cache);
    srv->cache = new_cache(srv->cfg);
}

void pr_server_set_pool(pr_server *srv, pr_pool *pool, long long documents,
                        long long index_mtime, int threads)
{
    index_sig(srv->cfg->db, &srv->sig);
    uv_timer_start(&srv->index_timer, on_index_timer, INDEX_CHECK_MS, INDEX_CHECK_MS);
    srv->pool = pool;
    srv->metrics.documents = documents;
    srv->metrics.index_mtime = index_mtime;
    srv->metrics.threads = threads;
    uv_timer_start(&srv->stats_timer, on_stats_timer, STATS_INTERVAL_MS, STATS_INTERVAL_MS);
}

const char *pr_server_date(pr_server *srv)
{
    time_t now = time(NULL);
    if (now != srv->date_time) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(srv->date, sizeof srv->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        srv->date_time = now;
    }
    return srv->date;
}

/* --- worker results ------------------------------------------------- */

/* The document count for /health is refreshed by a worker every second,
 * so /health answers from the loop even when every worker is busy. */
static void on_stats_timer(uv_timer_t *t)
{
    pr_server *srv = t->data;
    pr_job *job;
    if (srv->stats_pending || srv->draining || !srv->pool)
        return;
    job = pr_job_new(PR_JOB_STATS, NULL);
    if (!job)
        return;
    srv->stats_pending = 1;
    pr_pool_submit(srv->pool, job);
}

static void note_job(pr_server *srv, const pr_job *job)
{
    if (job->have_stats) {
        srv->metrics.documents = job->documents;
        srv->metrics.index_mtime = job->index_mtime;
    }
    if (job->reopened) {
        srv->metrics.index_reopens++;
        pr_log("worker %d reopened the index %s (%lld documents)", job->worker,
               srv->cfg->db, job->have_stats ? job->documents : -1LL);
    }
    if (job->reopen_failed) {
        /* A bad file in place of the index fails every query's reopen:
         * count them all, log one line every few seconds. */
        uint64_t now = uv_now(srv->loop);
        srv->metrics.index_reopen_errors++;
        if (!srv->reopen_error_logged || now - srv->reopen_error_logged >= REOPEN_LOG_MS) {
            srv->reopen_error_logged = now;
            pr_log("worker %d cannot reopen the index, keeps the old one: %s", job->worker,
                   job->error);
        }
    }
    if (job->timed_out)
        srv->metrics.query_timeouts++;
    if (job->status == 500)
        pr_log("error: %s", job->error[0] ? job->error : "internal error");
}

/* Identical queries asked while one is computed wait for its answer
 * instead of queueing the same work again (a popular query right after
 * a reindex emptied the cache). */
static pr_job *find_inflight(pr_server *srv, const char *key, size_t klen)
{
    pr_job *j;
    for (j = srv->inflight; j; j = j->inflight_next)
        if (j->cache_gen == srv->cache_gen && j->cache_key_len == klen &&
            memcmp(j->cache_key, key, klen) == 0)
            return j;
    return NULL;
}

static void remove_inflight(pr_server *srv, pr_job *job)
{
    pr_job **p = &srv->inflight;
    while (*p && *p != job)
        p = &(*p)->inflight_next;
    if (*p)
        *p = job->inflight_next;
    job->inflight_next = NULL;
}

/* A settled search (log=1 in its query string) answered 200 is handed to
 * the analytics recorder: a copy into its queue, nothing more on the loop.
 * KEY is a cache key ('s' and the query string). */
static void record(pr_server *srv, const char *key, size_t klen, const char *body, size_t blen)
{
    long total;
    if (!srv->recorder || !key || klen < 1 || key[0] != 's' ||
        !pr_recorder_wanted(key + 1, klen - 1))
        return;
    total = pr_recorder_total(body, blen);
    if (total < 0)
        return;
    if (pr_recorder_push(srv->recorder, key + 1, klen - 1, total) == 0)
        srv->metrics.analytics_queued++;
    else
        srv->metrics.analytics_dropped++;
}

/* Give JOB's answer to the connections that asked the same meanwhile. */
static void answer_followers(pr_server *srv, pr_job *job)
{
    pr_job *f = job->followers, *next;
    job->followers = NULL;
    for (; f; f = next) {
        next = f->follow_next;
        f->status = job->status;
        f->body = malloc(job->body_len ? job->body_len : 1);
        if (f->body) {
            memcpy(f->body, job->body, job->body_len);
            f->body_len = job->body_len;
            if (job->status == 200)
                record(srv, job->cache_key, job->cache_key_len, f->body, f->body_len);
        } else {
            f->status = 500;
            f->body = pr_json_error(500, NULL, "out of memory", &f->body_len);
        }
        pr_conn_job_done(f->owner, f);
    }
}

void pr_server_job_done(pr_job *job, void *data)
{
    pr_server *srv = data;
    note_job(srv, job);
    if (job->kind == PR_JOB_STATS) {
        srv->stats_pending = 0;
        pr_job_free(job);
        return;
    }
    remove_inflight(srv, job);
    if (job->body)
        answer_followers(srv, job);
    if (job->status == 200 && job->body)
        record(srv, job->cache_key, job->cache_key_len, job->body, job->body_len);
    /* Only an answer computed on the current index version is kept. */
    if (job->status == 200 && job->cache_key && job->cache_gen == srv->cache_gen && srv->cache)
        pr_cache_put(srv->cache, job->cache_key, job->cache_key_len, job->body, job->body_len);
    pr_conn_job_done(job->owner, job);
}

/* --- routing -------------------------------------------------------- */

static void answer_health(pr_server *srv, pr_conn *c)
{
    char *body = malloc(128);
    int n;
    if (!body) {
        pr_conn_error(c, 500, NULL, "out of memory", NULL);
        return;
    }
    n = snprintf(body, 128, "{\"status\":\"ok\",\"documents\":%lld,\"index_mtime\":%lld}",
                 srv->metrics.documents, srv->metrics.index_mtime);
    pr_conn_respond(c, 200, JSON_TYPE, body, (size_t)n, NULL);
}

static void answer_metrics(pr_server *srv, pr_conn *c)
{
    size_t len = 0;
    char *body;
    srv->metrics.queue_depth = srv->pool ? pr_pool_queued(srv->pool) : 0;
    if (srv->cache) {
        size_t entries, bytes;
        pr_cache_stats(srv->cache, &entries, &bytes, &srv->metrics.cache_hits,
                       &srv->metrics.cache_misses);
        srv->metrics.cache_entries = (long long)entries;
        srv->metrics.cache_bytes = (long long)bytes;
    }
    srv->metrics.analytics_on = srv->recorder != NULL;
    if (srv->recorder)
        pr_recorder_counts(srv->recorder, &srv->metrics.analytics_written,
                           &srv->metrics.analytics_errors);
    body = pr_metrics_render(&srv->metrics, (double)time(NULL), &len);
    if (!body) {
        pr_conn_error(c, 500, NULL, "out of memory", NULL);
        return;
    }
    pr_conn_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, len, NULL);
}

/* The cache key: the route's letter, then the query string as sent. */
static char *cache_key(pr_route route, const char *query, size_t qlen, size_t *klen)
{
    char *k = malloc(qlen + 1);
    if (!k) return NULL;
    k[0] = route == PR_ROUTE_SEARCH ? 's' : 'g';
    memcpy(k + 1, query, qlen);
    *klen = qlen + 1;
    return k;
}

/* Answer from the cache if this exact query was answered on the current
 * index version. */
static int answer_cached(pr_server *srv, pr_conn *c, const char *key, size_t klen)
{
    size_t len;
    const char *hit = srv->cache ? pr_cache_get(srv->cache, key, klen, &len) : NULL;
    char *body;
    if (!hit || !(body = malloc(len ? len : 1)))
        return 0;
    memcpy(body, hit, len);
    record(srv, key, klen, body, len);
    pr_conn_respond(c, 200, JSON_TYPE, body, len, NULL);
    return 1;
}

static void submit_query(pr_server *srv, pr_conn *c, pr_route route, const char *query,
                         size_t qlen)
{
    pr_param_limits lim = {srv->cfg->max_limit, srv->cfg->max_query_bytes};
    pr_job *job;
    pr_error err;
    size_t klen = 0;
    char *key = cache_key(route, query, qlen, &klen);
    pr_error_clear(&err);
    if (key && answer_cached(srv, c, key, klen)) {
        free(key);
        return;
    }
    job = pr_job_new(route == PR_ROUTE_SEARCH ? PR_JOB_SEARCH : PR_JOB_SUGGEST, c);
    if (job && key && srv->cfg->cache_entries > 0) {
        pr_job *leader = find_inflight(srv, key, klen);
        if (leader) {
            free(key);
            job->follow_next = leader->followers;
            leader->followers = job;
            srv->metrics.coalesced++;
            pr_conn_wait(c);
            return;
        }
    }
    if (!job) {
        free(key);
        pr_conn_error(c, 500, NULL, "out of memory", NULL);
        return;
    }
    job->cache_key = key;
    job->cache_key_len = klen;
    job->cache_gen = srv->cache_gen;
    if (pr_params_parse(route, query, qlen, &lim, &job->params, &err) < 0) {
        pr_job_free(job);
        pr_conn_error(c, 400, NULL, err.message, NULL);
        return;
    }
    if (key && srv->cfg->cache_entries > 0) {
        job->inflight_next = srv->inflight;
        srv->inflight = job;
    }
    pr_conn_wait(c);
    pr_pool_submit(srv->pool, job);
}

/* The search page and its assets, from the binary. */
static void answer_web(pr_server *srv, pr_conn *c, const pr_web_asset *a)
{
    char headers[768];
    char *body = malloc(a->len ? a->len : 1);
    (void)srv;
    if (!body) {
        pr_conn_error(c, 500, NULL, "out of memory", NULL);
        return;
    }
    memcpy(body, a->data, a->len);
    snprintf(headers, sizeof headers, "%sETag: %s\r\n", pr_web_asset_headers(a), a->etag);
    pr_conn_respond(c, 200, a->content_type, body, a->len, headers);
}

void pr_server_handle(pr_server *srv, pr_conn *c, int method, const char *url, size_t len)
{
    const pr_web_asset *asset = NULL;
    struct http_parser_url u;
    const char *query = "";
    size_t qlen = 0;
    pr_route route;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, len, 0, &u) != 0 || !(u.field_set & (1 << UF_PATH))) {
        pr_conn_error(c, 400, NULL, "malformed request target", NULL);
        return;
    }
    route = pr_route_find(url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
    if (route == PR_ROUTE_OTHER &&
        (asset = pr_web_asset_find(url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len)))
        route = PR_ROUTE_WEB;
    pr_conn_set_route(c, route);
    if (route == PR_ROUTE_OTHER) {
        pr_conn_error(c, 404, NULL,
                      "no such path; try /, /search, /suggest, /health or /metrics", NULL);
        return;
    }
    if (method != HTTP_GET && method != HTTP_HEAD) {
        pr_conn_error(c, 405, NULL, "only GET and HEAD are allowed", "Allow: GET, HEAD\r\n");
        return;
    }
    if (u.field_set & (1 << UF_QUERY)) {
        query = url + u.field_data[UF_QUERY].off;
        qlen = u.field_data[UF_QUERY].len;
    }
    switch (route) {
    case PR_ROUTE_WEB:
        answer_web(srv, c, asset);
        return;
    case PR_ROUTE_HEALTH:
        answer_health(srv, c);
        return;
    case PR_ROUTE_METRICS:
        answer_metrics(srv, c);
        return;
    default:
        submit_query(srv, c, route, query, qlen);
        return;
    }
}

/* --- listeners ------------------------------------------------------ */

/* At most ACCEPT_BATCH connections are accepted per loop turn: a burst of
 * thousands must not keep the loop from answering the connections it has
 * (libuv would accept until the listen queue is empty). A connection not
 * accepted in its callback stops libuv watching the listener until
 * uv_accept, which the check handle calls after the next poll. */
#define ACCEPT_BATCH 32

static void on_connection(uv_stream_t *server, int status)
{
    pr_listener *l = server->data;
    pr_server *srv = l->srv;
    if (status < 0) {
        pr_log("accept on %s: %s", l->name, uv_strerror(status));
        return;
    }
    if (srv->accepts >= ACCEPT_BATCH) {
        l->deferred = 1;
        uv_idle_start(&srv->accept_idle, on_accept_idle);
        return;
    }
    srv->accepts++;
    pr_conn_accept(srv, l);
}

static void on_accept_idle(uv_idle_t *h)
{
    (void)h; /* only keeps poll from blocking */
}

static void on_accept_check(uv_check_t *h)
{
    pr_server *srv = h->data;
    int pending = 0;
    srv->accepts = 0;
    for (pr_listener *l = srv->listeners; l; l = l->next)
        if (l->deferred) {
            l->deferred = 0;
            srv->accepts++;
            pr_conn_accept(srv, l); /* uv_accept: libuv watches the listener again */
        }
    for (pr_listener *l = srv->listeners; l; l = l->next)
        pending |= l->deferred;
    if (!pending)
        uv_idle_stop(&srv->accept_idle);
}

static pr_listener *listener_new(pr_server *srv, int is_unix, const char *name)
{
    pr_listener *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->srv = srv;
    l->is_unix = is_unix;
    snprintf(l->name, sizeof l->name, "%s", name);
    return l;
}

static void on_listener_closed(uv_handle_t *h)
{
    pr_listener *l = h->data;
    free(l->unlink_path);
    free(l);
}

/* Listen on L's handle (initialised, bound) and keep it in SRV's list. */
static int listener_start(pr_server *srv, pr_listener *l, pr_error *err)
{
    int rc;
    l->h.handle.data = l;
    rc = uv_listen(&l->h.stream, 4096, on_connection); /* bursts; capped by somaxconn */
    if (rc != 0) {
        pr_error_set(err, 0, 0, "cannot listen on %s: %s", l->name, uv_strerror(rc));
        if (l->unlink_path) unlink(l->unlink_path);
        uv_close(&l->h.handle, on_listener_closed);
        return -1;
    }
    l->next = srv->listeners;
    srv->listeners = l;
    pr_log("listening on %s", l->name);
    return 0;
}

/* Make the socket's directory if it is missing (one level, as
 * /run/prsearch outside systemd). */
static int socket_dir(const char *path, pr_error *err)
{
    char *copy = strdup(path), *dir;
    struct stat st;
    int rc = 0;
    if (!copy)
        return pr_error_set(err, 0, 0, "out of memory");
    dir = dirname(copy);
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || mkdir(dir, 0755) != 0)
            rc = pr_error_set(err, 0, 0, "cannot create the socket directory %s: %s", dir,
                              strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        rc = pr_error_set(err, 0, 0, "%s is not a directory", dir);
    }
    free(copy);
    return rc;
}

/* A socket file left by a daemon that died is removed; one that answers
 * belongs to a running daemon and is kept. */
static int stale_socket(const char *path, pr_error *err)
{
    struct stat st;
    struct sockaddr_un sa;
    int fd, live;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return pr_error_set(err, 0, 0, "%s exists and is not a socket", path);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return pr_error_set(err, 0, 0, "socket: %s", strerror(errno));
    live = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    if (live)
        return pr_error_set(err, 0, 0, "another daemon is already listening on %s", path);
    if (unlink(path) != 0)
        return pr_error_set(err, 0, 0, "cannot remove the stale socket %s: %s", path,
                            strerror(errno));
    return 0;
}

static int socket_owner(const char *path, int mode, const char *group, pr_error *err)
{
    if (chmod(path, (mode_t)mode) != 0)
        return pr_error_set(err, 0, 0, "chmod %s: %s", path, strerror(errno));
    if (group && *group) {
        struct group *g = getgrnam(group);
        char *end;
        long gid = g ? (long)g->gr_gid : strtol(group, &end, 10);
        if (!g && (*end || end == group))
            return pr_error_set(err, 0, 0, "socket_group: no group named %s", group);
        if (chown(path, (uid_t)-1, (gid_t)gid) != 0)
            return pr_error_set(err, 0, 0, "chown %s to group %s: %s", path, group,
                                strerror(errno));
    }
    return 0;
}

int pr_server_listen_unix(pr_server *srv, const char *path, int mode, const char *group,
                          pr_error *err)
{
    char name[300];
    pr_listener *l;
    mode_t old;
    int rc;
    if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return pr_error_set(err, 0, 0, "socket path too long: %s", path);
    if (socket_dir(path, err) < 0 || stale_socket(path, err) < 0)
        return -1;
    snprintf(name, sizeof name, "unix:%s", path);
    if (!(l = listener_new(srv, 1, name)) || !(l->unlink_path = strdup(path))) {
        free(l);
        return pr_error_set(err, 0, 0, "out of memory");
    }
    uv_pipe_init(srv->loop, &l->h.pipe, 0);
    l->h.handle.data = l;
    old = umask(0777 & ~(mode_t)mode); /* no window with looser bits */
    rc = uv_pipe_bind(&l->h.pipe, path);
    umask(old);
    if (rc != 0) {
        pr_error_set(err, 0, 0, "cannot bind %s: %s", path, uv_strerror(rc));
        free(l->unlink_path);
        l->unlink_path = NULL;
        uv_close(&l->h.handle, on_listener_closed);
        return -1;
    }
    if (socket_owner(path, mode, group, err) < 0) {
        unlink(path);
        uv_close(&l->h.handle, on_listener_closed);
        return -1;
    }
    return listener_start(srv, l, err);
}

/* "HOST:PORT", "[V6]:PORT" or "PORT" to an address; host names resolve. */
static int parse_hostport(const char *hp, struct sockaddr_storage *ss, pr_error *err)
{
    char host[256] = "127.0.0.1";
    const char *port = hp, *colon = strrchr(hp, ':');
    struct addrinfo hints, *res = NULL;
    int rc;
    if (colon) {
        size_t n = (size_t)(colon - hp);
        if (n >= 2 && hp[0] == '[' && hp[n - 1] == ']') { hp++; n -= 2; }
        if (n == 0 || n >= sizeof host)
            return pr_error_set(err, 0, 0, "bad TCP address '%s': expected HOST:PORT", hp);
        memcpy(host, hp, n);
        host[n] = '\0';
        port = colon + 1;
    }
    if (!*port || strspn(port, "0123456789") != strlen(port) || atoi(port) > 65535)
        return pr_error_set(err, 0, 0, "bad TCP port in '%s'", hp);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res)
        return pr_error_set(err, 0, 0, "cannot resolve %s: %s", host, gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int pr_server_listen_tcp(pr_server *srv, const char *hostport, pr_error *err)
{
    struct sockaddr_storage ss;
    char name[300];
    pr_listener *l;
    int rc;
    if (parse_hostport(hostport, &ss, err) < 0)
        return -1;
    snprintf(name, sizeof name, "tcp:%s%s", strchr(hostport, ':') ? "" : "127.0.0.1:",
             hostport);
    if (!(l = listener_new(srv, 0, name)))
        return pr_error_set(err, 0, 0, "out of memory");
    uv_tcp_init(srv->loop, &l->h.tcp);
    l->h.handle.data = l;
    rc = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
    if (rc != 0) {
        pr_error_set(err, 0, 0, "cannot bind %s: %s", hostport, uv_strerror(rc));
        uv_close(&l->h.handle, on_listener_closed);
        return -1;
    }
    return listener_start(srv, l, err);
}

int pr_server_listen_fd(pr_server *srv, int fd, pr_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char name[64];
    pr_listener *l;
    int rc, is_unix;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return pr_error_set(err, 0, 0, "passed fd %d is not a socket: %s", fd, strerror(errno));
    is_unix = ss.ss_family == AF_UNIX;
    snprintf(name, sizeof name, "%s fd %d (systemd)", is_unix ? "unix" : "tcp", fd);
    if (!(l = listener_new(srv, is_unix, name)))
        return pr_error_set(err, 0, 0, "out of memory");
    if (is_unix) {
        uv_pipe_init(srv->loop, &l->h.pipe, 0);
        rc = uv_pipe_open(&l->h.pipe, fd);
    } else {
        uv_tcp_init(srv->loop, &l->h.tcp);
        rc = uv_tcp_open(&l->h.tcp, fd);
    }
    l->h.handle.data = l;
    if (rc != 0) {
        pr_error_set(err, 0, 0, "cannot use passed fd %d: %s", fd, uv_strerror(rc));
        uv_close(&l->h.handle, on_listener_closed);
        return -1;
    }
    return listener_start(srv, l, err);
}

/* --- shutdown ------------------------------------------------------- */

static void check_drained(pr_server *srv)
{
    if (srv->draining && !srv->drained && srv->alive == 0) {
        srv->drained = 1;
        uv_timer_stop(&srv->drain_timer);
        if (srv->on_drained)
            srv->on_drained(srv);
    }
}

void pr_server_conn_freed(pr_server *srv)
{
    srv->alive--;
    check_drained(srv);
}

static void on_drain_timeout(uv_timer_t *t)
{
    pr_server *srv = t->data;
    pr_conn *c = srv->conns, *next;
    pr_log("shutdown: closing %ld connections still open", (long)srv->metrics.open_connections);
    for (; c; c = next) {
        next = pr_conn_next(c);
        pr_conn_close(c);
    }
}

void pr_server_shutdown(pr_server *srv, void (*on_drained)(pr_server *), void *data)
{
    pr_listener *l, *lnext;
    pr_conn *c, *cnext;
    if (srv->draining)
        return;
    srv->draining = 1;
    srv->on_drained = on_drained;
    srv->data = data;
    for (l = srv->listeners; l; l = lnext) {
        lnext = l->next;
        if (l->unlink_path)
            unlink(l->unlink_path);
        uv_close(&l->h.handle, on_listener_closed);
    }
    srv->listeners = NULL;
    uv_timer_stop(&srv->stats_timer);
    uv_timer_stop(&srv->index_timer);
    for (c = srv->conns; c; c = cnext) {
        cnext = pr_conn_next(c);
        pr_conn_drain(c);
    }
    uv_timer_start(&srv->drain_timer, on_drain_timeout, (uint64_t)srv->cfg->shutdown_timeout_ms,
                   0);
    check_drained(srv);
}

void pr_server_close(pr_server *srv)
{
    uv_close((uv_handle_t *)&srv->accept_check, NULL);
    uv_close((uv_handle_t *)&srv->accept_idle, NULL);
    uv_close((uv_handle_t *)&srv->stats_timer, NULL);
    uv_close((uv_handle_t *)&srv->drain_timer, NULL);
    uv_close((uv_handle_t *)&srv->index_timer, NULL);
    pr_cache_free(srv->cache);
    srv->cache = NULL;
}
