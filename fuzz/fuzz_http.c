/*
 * fuzz_http.c - libFuzzer harness for prsearchd's request handling: the
 * real connection code (daemon/http_conn.c: http_parser callbacks, limits,
 * pipelining, keep-alive, closing), routing and parameters
 * (daemon/server.c, daemon/router.c), answers (daemon/response.c,
 * daemon/metrics.c) and the worker pool running real searches
 * (daemon/workers.c over lib/search.c) on a small index.
 *
 * LLVMFuzzerInitialize builds the index (fuzz_common.h), starts a pr_server
 * with one worker on a libuv loop and listens on a Unix socket in a
 * temporary folder. Each input is one client connection: the bytes are
 * written (whole, or in small pieces when a hash of the input says so, to
 * exercise partial parsing), then the client shuts its sending side and
 * reads until the daemon closes, while the harness runs the daemon's loop
 * on this same thread. Not covered: prsearchd.c's main (options, signals,
 * SIGHUP reload), TCP and systemd listeners, timeouts that take seconds
 * (408, idle), more than one connection at a time.
 *
 * Properties, beyond memory safety and leaks:
 *  - the daemon closes the connection within a few seconds, and then has no
 *    connection left (open_connections == 0, every structure freed);
 *  - what it wrote is a sequence of complete, well-formed HTTP/1.1
 *    responses: status line with a known status (200 400 404 405 408 413
 *    414 431 503; never 500), one Content-Length and a Content-Type, then
 *    exactly Content-Length bytes of body (none for a HEAD request), and a
 *    JSON body that parses (errors: {"error":{"code","message"}});
 *  - at most one answer per request begun plus one; at least one answer
 *    when a complete request was sent; only the last answer may say
 *    "Connection: close", and an answer that does not close is followed by
 *    one for every further complete request.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "http_conn.h"
#include "response.h"
#include "server.h"

static uv_loop_t loop;
static pr_daemon_config cfg;
static pr_server srv;
static pr_pool *pool;
static char sock_path[300];
/* With PR_FUZZ_KNOWN=H1, an error answer may come with or without its body
 * whatever the method (finding H1 of README.md). */
static int lenient_head;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void set(const char *key, const char *value)
{
    pr_error err;
    if (pr_daemon_config_set(&cfg, key, value, &err) < 0) {
        fprintf(stderr, "fuzz_http: %s = %s: %s\n", key, value, err.message);
        exit(1);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *db = fz_build_index();
    pr_search_config sc;
    pr_error err;
    long long docs = 0, mtime = 0;

    signal(SIGPIPE, SIG_IGN);
    lenient_head = fz_known("H1");
    snprintf(sock_path, sizeof sock_path, "%s/d.sock", fz_dir);
    pr_daemon_config_init(&cfg, db, sock_path);
    /* Small limits (all configurable) so that short inputs reach them. */
    set("threads", "1");
    set("max_head_bytes", "2048");
    set("max_headers", "20");
    set("max_uri_bytes", "1024");
    set("max_body_bytes", "512");
    set("max_query_bytes", "256");
    set("idle_timeout_ms", "5000");
    set("request_timeout_ms", "5000");
    set("query_budget_ms", "0");
    set("max_limit", "20");
    set("cors_origin", "https://example.org");

    uv_loop_init(&loop);
    pr_server_init(&srv, &loop, &cfg);
    pr_search_config_init(&sc);
    memcpy(sc.weights, cfg.weights, sizeof sc.weights);
    sc.max_query_bytes = cfg.max_query_bytes;
    sc.max_limit = cfg.max_limit;
    sc.time_budget_ms = cfg.query_budget_ms;
    pr_error_clear(&err);
    pool = pr_pool_start(&loop, cfg.db, &sc, cfg.threads, cfg.request_timeout_ms,
                         pr_server_job_done, &srv, &err);
    if (!pool) {
        fprintf(stderr, "fuzz_http: cannot start the pool: %s\n", err.message);
        exit(1);
    }
    pr_pool_initial_stats(pool, &docs, &mtime);
    pr_server_set_pool(&srv, pool, docs, mtime, cfg.threads);
    if (pr_server_listen_unix(&srv, sock_path, 0600, "", &err) < 0) {
        fprintf(stderr, "fuzz_http: %s\n", err.message);
        exit(1);
    }
    return 0;
}

/* ---- what the client sent, as http_parser reads it ---------------------- */

#define MAX_REQ 512
#define HEAD_MAYBE (-2)

typedef struct sent {
    int begun, complete;
    int method[MAX_REQ]; /* -1 until the request target is read; HEAD_MAYBE:
                            the request began "HEAD" but broke before its
                            target was read (the daemon may answer with or
                            without a body: either is well-formed) */
} sent;

static int s_begin(http_parser *p)
{
    sent *s = p->data;
    if (s->begun < MAX_REQ) s->method[s->begun] = -1;
    s->begun++;
    return 0;
}

static int s_url(http_parser *p, const char *at, size_t len)
{
    sent *s = p->data;
    if (s->begun > 0 && s->begun <= MAX_REQ) s->method[s->begun - 1] = (int)p->method;
    return 0;
}

static int s_complete(http_parser *p)
{
    sent *s = p->data;
    s->complete++;
    return 0;
}

static void read_requests(const char *data, size_t size, sent *s)
{
    http_parser p;
    http_parser_settings st;
    memset(s, 0, sizeof *s);
    http_parser_settings_init(&st);
    st.on_message_begin = s_begin;
    st.on_url = s_url;
    st.on_message_complete = s_complete;
    http_parser_init(&p, HTTP_REQUEST);
    p.data = s;
    http_parser_execute(&p, &st, data, size);
    if (HTTP_PARSER_ERRNO(&p) != HPE_OK && s->begun > 0 && s->begun <= MAX_REQ &&
        s->method[s->begun - 1] == -1 && p.method == HTTP_HEAD)
        s->method[s->begun - 1] = HEAD_MAYBE;
}

/* ---- what the daemon answered ------------------------------------------- */

static const char *find(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m))
            return hay + i;
    return NULL;
}

static int status_known(int st)
{
    static const int ok[] = {200, 400, 404, 405, 408, 413, 414, 431, 503};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (st == ok[i])
            return 1;
    return 0;
}

static void check_responses(const char *out, size_t n, const sent *s, const char *in,
                            size_t insize)
{
    size_t pos = 0;
    int k = 0, closed = 0;
    while (pos < n) {
        const char *r = out + pos, *end = find(r, n - pos, "\r\n\r\n"), *line, *eol;
        long long clen = -1;
        int status, ctype = 0, json = 0, is_head;
        size_t head;
        FZ_CHECK(!closed, "an answer follows one that said Connection: close");
        FZ_CHECK(end, "answer %d: truncated or malformed head: [%.*s]", k,
                 (int)(n - pos > 300 ? 300 : n - pos), r);
        head = (size_t)(end - r) + 4;
        FZ_CHECK(n - pos >= 13 && !memcmp(r, "HTTP/1.1 ", 9) && r[12] == ' ',
                 "answer %d: bad status line [%.60s]", k, r);
        status = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
        FZ_CHECK(status_known(status), "answer %d: status %d [%.200s]", k, status, r);
        eol = find(r, head, "\r\n");
        FZ_CHECK(eol && eol > r + 13 && !strncmp(r + 13, pr_http_reason(status),
                                                  (size_t)(eol - r - 13)),
                 "answer %d: reason phrase [%.60s]", k, r);
        for (line = eol + 2; line < end; line = eol + 2) {
            const char *colon;
            eol = find(line, (size_t)(end + 2 - line), "\r\n");
            colon = memchr(line, ':', (size_t)(eol - line));
            FZ_CHECK(colon && colon > line && colon[1] == ' ',
                     "answer %d: malformed header line [%.*s]", k, (int)(eol - line), line);
            for (const char *c = line; c < eol; c++)
                FZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
                         "answer %d: control byte in header [%.*s]", k, (int)(eol - line), line);
            if (!strncasecmp(line, "Content-Length: ", 16)) {
                FZ_CHECK(clen < 0, "answer %d: two Content-Length headers", k);
                clen = strtoll(line + 16, NULL, 10);
            } else if (!strncasecmp(line, "Content-Type: ", 14)) {
                ctype++;
                json = !strncmp(line + 14, "application/json", 16);
            } else if (!strncasecmp(line, "Connection: close", 17)) {
                closed = 1;
            }
        }
        FZ_CHECK(clen >= 0, "answer %d: no Content-Length", k);
        FZ_CHECK(ctype == 1, "answer %d: %d Content-Type headers", k, ctype);
        is_head = k < s->begun && k < MAX_REQ && s->method[k] == HTTP_HEAD;
        pos += head;
        if ((lenient_head && status >= 400) || /* see PR_FUZZ_KNOWN above */
            (k < s->begun && k < MAX_REQ && s->method[k] == HEAD_MAYBE))
            is_head = pos == n || (n - pos >= 9 && !memcmp(out + pos, "HTTP/1.1 ", 9));
        if (is_head)
            FZ_CHECK(pos == n || (n - pos >= 9 && !memcmp(out + pos, "HTTP/1.1 ", 9)),
                     "answer %d (status %d) to a HEAD request carries a body: [%.*s]", k, status,
                     (int)(n - pos > 200 ? 200 : n - pos), out + pos);
        if (!is_head) {
            FZ_CHECK((long long)(n - pos) >= clen,
                     "answer %d (status %d): body of %zu bytes, Content-Length %lld", k, status,
                     n - pos, clen);
            if (json) {
                json_error_t je;
                json_t *j = json_loadb(out + pos, (size_t)clen, 0, &je);
                FZ_CHECK(j, "answer %d: body is not JSON (%s): [%.*s]", k, je.text,
                         (int)(clen > 300 ? 300 : clen), out + pos);
                if (status >= 400) {
                    json_t *e = json_object_get(j, "error");
                    FZ_CHECK(json_is_string(json_object_get(e, "code")) &&
                                 json_is_string(json_object_get(e, "message")),
                             "answer %d: error body without code and message", k);
                }
                json_decref(j);
            }
            pos += (size_t)clen;
        }
        k++;
    }
    FZ_CHECK(k <= s->begun + 1, "%d answers to %d requests", k, s->begun);
    FZ_CHECK(s->complete == 0 || k >= 1, "no answer to %d complete requests", s->complete);
    FZ_CHECK(closed || k >= s->complete,
             "last answer kept the connection open, but %d complete requests got %d answers",
             s->complete, k);
    (void)in;
    (void)insize;
}

/* ---- one connection ----------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_un sa;
    int fd, eof = 0, shut = 0;
    size_t sent_n = 0, out_n = 0, out_cap = 65536, chunk = size;
    char *out;
    sent s;
    uint32_t h = 2166136261u;
    double deadline = now_s() + 8;

    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    if ((h & 3) == 0)
        chunk = 1 + (h >> 8) % 61; /* a quarter of the inputs arrive in pieces */

    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    FZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
    FZ_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect: %s", strerror(errno));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    out = malloc(out_cap);
    FZ_CHECK(out != NULL, "out of memory");

    while (!eof) {
        int progress = 0;
        if (sent_n < size) {
            size_t want = size - sent_n < chunk ? size - sent_n : chunk;
            ssize_t w = send(fd, data + sent_n, want, MSG_NOSIGNAL);
            if (w > 0) {
                sent_n += (size_t)w;
                progress = 1;
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                sent_n = size; /* the daemon closed: stop sending */
            }
        }
        if (sent_n == size && !shut) {
            shutdown(fd, SHUT_WR);
            shut = 1;
        }
        uv_run(&loop, UV_RUN_NOWAIT);
        for (;;) {
            ssize_t r;
            if (out_n == out_cap) {
                char *o = realloc(out, out_cap * 2);
                FZ_CHECK(o != NULL, "out of memory");
                out = o;
                out_cap *= 2;
            }
            r = recv(fd, out + out_n, out_cap - out_n, 0);
            if (r > 0) {
                out_n += (size_t)r;
                progress = 1;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                eof = 1; /* closed, or reset after the answers */
                break;
            } else {
                break;
            }
        }
        if (!eof && !progress) {
            struct pollfd pfd[2] = {{fd, POLLIN, 0}, {uv_backend_fd(&loop), POLLIN, 0}};
            int t = uv_backend_timeout(&loop);
            poll(pfd, 2, t < 0 || t > 10 ? 10 : t);
        }
        FZ_CHECK(now_s() < deadline, "the daemon did not close the connection within 8 s "
                 "(%zu of %zu bytes sent, %zu bytes answered)", sent_n, size, out_n);
    }
    close(fd);
    /* Let the daemon finish closing its side. */
    while (srv.alive > 0 || srv.metrics.open_connections > 0) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (srv.alive > 0) {
            struct pollfd pfd = {uv_backend_fd(&loop), POLLIN, 0};
            poll(&pfd, 1, 5);
        }
        FZ_CHECK(now_s() < deadline, "connection not freed after close (alive %ld, open %lld)",
                 srv.alive, srv.metrics.open_connections);
    }

    if (getenv("FUZZ_HTTP_DUMP")) /* to see what the daemon answered */
        fwrite(out, 1, out_n, stderr);
    read_requests((const char *)data, size, &s);
    check_responses(out, out_n, &s, (const char *)data, size);
    free(out);
    return 0;
}
