/*
 * http_conn.c - one client connection (http_conn.h).
 *
 * A connection parses one request at a time: http_parser is paused at the
 * end of each message, the request is answered (at once, or by a worker),
 * and only then is the next pipelined request parsed from the buffer. So
 * answers leave in request order and a connection never holds more than
 * one job. Bytes that arrive meanwhile wait in a bounded input buffer;
 * when it is full we stop reading, and TCP pushes back on the client.
 *
 * Timers: an idle keep-alive connection is closed after idle_timeout_ms;
 * a request whose head and body are not complete request_timeout_ms after
 * its first byte gets 408 (a client sending a byte a second cannot hold a
 * slot); a client that does not read our answer is dropped after
 * idle_timeout_ms. After an answer that closes the connection we shut
 * down our side and read (and drop) what the client still sends for a
 * moment, so it receives the answer rather than a reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_conn.h"
#include "response.h"

#define IN_CAP 16384           /* input buffer: several pipelined requests */
#define WRITE_HIGH_WATER 65536 /* stop parsing while this much is unsent */
/* The kernel's send buffer of a TCP connection, fixed (Linux doubles it
 * for its bookkeeping: 128 KiB). Left to autotuning, it grows to 4 MiB for
 * a client that stops reading: 1,000 such clients pipelining big answers
 * had the kernel hold 1.1 GB and the loop copy all of it, stalling every
 * other connection for seconds. Fixed, a client that does not read costs
 * at most this plus what the daemon keeps (WRITE_HIGH_WATER and an
 * answer), and an answer of up to 128 KiB still goes out in one write. */
#define TCP_SEND_BUFFER 65536
#define LINGER_MS 2000

enum conn_state {
    C_READING, /* parsing requests */
    C_BUSY,    /* a worker has the current request */
    C_WRITING, /* too much unsent output: wait for the client to read */
    C_CLOSING, /* last answer queued, close once written */
    C_LINGER,  /* our side shut down, dropping what the client sends */
    C_CLOSED
};

struct pr_conn {
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
    } h;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    pr_server *srv;
    pr_conn *prev, *next;
    http_parser parser;
    enum conn_state state;
    char *in;                /* unparsed input is in[in_start, in_end) */
    size_t in_start, in_end;
    char *url;               /* request target of the current request */
    size_t url_len, url_cap;
    size_t head_bytes, body_bytes;
    int nheaders, in_field;
    int in_request;          /* a request began and is not complete */
    int err_status;          /* a limit was hit in a parser callback */
    char err_msg[128];
    int keep_alive, is_head, method;
    int close_after;         /* close once the queued answers are written */
    int read_stopped, eof, reading;
    int writes;              /* uv_write requests in flight */
    size_t out_pending;      /* bytes of answers whose write has not completed */
    int job_pending;
    int handles_open;
    pr_route route;
    uint64_t started;        /* uv_hrtime() at the request's first byte */
};

struct wreq {
    uv_write_t req;
    pr_conn *c;
    size_t len;
    char *body;
    char head[1024];
};

static void conn_process(pr_conn *c);
static void conn_linger(pr_conn *c);

pr_conn *pr_conn_next(pr_conn *c)
{
    return c->next;
}

/* --- closing -------------------------------------------------------- */

static void conn_free(pr_conn *c)
{
    pr_server *srv = c->srv;
    free(c->in);
    free(c->url);
    free(c);
    pr_server_conn_freed(srv);
}

static void on_handle_closed(uv_handle_t *h)
{
    pr_conn *c = h->data;
    if (--c->handles_open == 0 && !c->job_pending)
        conn_free(c);
}

void pr_conn_close(pr_conn *c)
{
    pr_server *srv = c->srv;
    if (c->state == C_CLOSED)
        return;
    c->state = C_CLOSED;
    if (c->prev) c->prev->next = c->next;
    else srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    srv->metrics.open_connections--;
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close(&c->h.handle, on_handle_closed);
}

static void on_timer(uv_timer_t *t)
{
    pr_conn *c = t->data;
    if (c->state == C_READING && c->in_request) {
        c->keep_alive = 0;
        pr_conn_error(c, 408, NULL, "the request was not received in time", NULL);
        return;
    }
    /* Idle keep-alive, a client not reading our answer, or lingering. */
    pr_conn_close(c);
}

static void timer_start(pr_conn *c, int ms)
{
    uv_timer_start(&c->timer, on_timer, (uint64_t)ms, 0);
}

/* --- reading -------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    pr_conn *c = h->data;
    if (c->state >= C_CLOSING)
        c->in_start = c->in_end = 0; /* dropping input: reuse the buffer */
    if (!c->in) {
        c->in = malloc(IN_CAP);
        c->in_start = c->in_end = 0;
        if (!c->in) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
    }
    if (c->in_start > 0 && (c->in_end == IN_CAP || c->in_start == c->in_end)) {
        memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
        c->in_end -= c->in_start;
        c->in_start = 0;
    }
    *buf = uv_buf_init(c->in + c->in_end, (unsigned)(IN_CAP - c->in_end));
}

static void read_stop(pr_conn *c)
{
    if (c->reading) {
        uv_read_stop(&c->h.stream);
        c->reading = 0;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void read_start(pr_conn *c)
{
    if (!c->reading && !c->eof && c->state != C_CLOSED) {
        if (uv_read_start(&c->h.stream, on_alloc, on_read) == 0)
            c->reading = 1;
    }
}

static void on_eof(pr_conn *c)
{
    c->eof = 1;
    read_stop(c);
    switch (c->state) {
    case C_READING:
        conn_process(c); /* answer what was fully received, then close */
        break;
    case C_LINGER:
        pr_conn_close(c);
        break;
    default:
        break; /* the pending answer is written, then we close */
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    pr_conn *c = s->data;
    if (nread > 0) {
        if (c->state >= C_CLOSING) {
            c->in_start = c->in_end = 0;
            return;
        }
        c->in_end += (size_t)nread;
        if (c->state == C_READING)
            conn_process(c);
        else if (c->in_end == IN_CAP && c->in_start == 0)
            read_stop(c); /* full: resume when the current request is answered */
        return;
    }
    if (nread == 0)
        return;
    if (nread == UV_ENOBUFS) {
        read_stop(c);
        return;
    }
    if (nread == UV_EOF) {
        on_eof(c);
        return;
    }
    pr_conn_close(c); /* reset by peer and the like */
}

/* --- parser callbacks ----------------------------------------------- */

static int fail(pr_conn *c, int status, const char *fmt, long n)
{
    c->err_status = status;
    snprintf(c->err_msg, sizeof c->err_msg, fmt, n);
    return -1;
}

static int add_head(pr_conn *c, size_t n)
{
    c->head_bytes += n;
    if (c->head_bytes > (size_t)c->srv->cfg->max_head_bytes)
        return fail(c, 431, "the request head is larger than %ld bytes",
                    c->srv->cfg->max_head_bytes);
    return 0;
}

static int on_message_begin(http_parser *p)
{
    pr_conn *c = p->data;
    c->in_request = 1;
    c->url_len = 0;
    c->head_bytes = c->body_bytes = 0;
    c->nheaders = c->in_field = 0;
    c->err_status = 0;
    c->route = PR_ROUTE_OTHER;
    c->started = uv_hrtime();
    /* Unknown until the method is read: an error answer carries its body. */
    c->is_head = 0;
    c->method = -1;
    timer_start(c, c->srv->cfg->request_timeout_ms);
    return 0;
}

/* The request line was read: its method says whether answers, errors
 * included, carry a body. Until then (garbage, an invalid target) an error
 * answer has its body, however the bytes arrived. */
static void request_line_read(pr_conn *c)
{
    c->method = (int)c->parser.method;
    c->is_head = c->parser.method == HTTP_HEAD;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    pr_conn *c = p->data;
    size_t max = (size_t)c->srv->cfg->max_uri_bytes;
    /* The target ends within the bytes given to the parser (not merely
     * where they stop): the request line is read. */
    if (at + len < c->in + c->in_end)
        request_line_read(c);
    if (c->url_len + len > max) {
        request_line_read(c); /* a valid target, only too long */
        return fail(c, 414, "the request target is longer than %ld bytes", (long)max);
    }
    if (c->url_len + len + 1 > c->url_cap) {
        size_t cap = c->url_cap ? c->url_cap * 2 : 256;
        char *u;
        while (cap < c->url_len + len + 1) cap *= 2;
        if (!(u = realloc(c->url, cap)))
            return fail(c, 500, "out of memory%.0ld", 0);
        c->url = u;
        c->url_cap = cap;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = '\0';
    return add_head(c, len);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    pr_conn *c = p->data;
    if (c->method < 0)
        request_line_read(c);
    if (!c->in_field) {
        c->in_field = 1;
        if (++c->nheaders > c->srv->cfg->max_headers)
            return fail(c, 431, "more than %ld header fields", c->srv->cfg->max_headers);
        if (add_head(c, 4) < 0) /* ": " and CRLF */
            return -1;
    }
    return add_head(c, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    pr_conn *c = p->data;
    c->in_field = 0;
    return add_head(c, len);
}

static int on_headers_complete(http_parser *p)
{
    pr_conn *c = p->data;
    long max = c->srv->cfg->max_body_bytes;
    if (c->method < 0)
        request_line_read(c);
    /* Refuse a declared large body at once instead of reading it. */
    if (p->content_length != ULLONG_MAX && p->content_length > (uint64_t)max)
        return fail(c, 413, "a request body over %ld bytes", max);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    pr_conn *c = p->data;
    long max = c->srv->cfg->max_body_bytes;
    c->body_bytes += len; /* a body on GET is read and dropped */
    if (c->body_bytes > (size_t)max)
        return fail(c, 413, "a request body over %ld bytes", max);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    /* Stop here: the next pipelined request waits for this answer. */
    http_parser_pause(p, 1);
    return 0;
}

void pr_conn_parser_settings(http_parser_settings *s)
{
    http_parser_settings_init(s);
    s->on_message_begin = on_message_begin;
    s->on_url = on_url;
    s->on_header_field = on_header_field;
    s->on_header_value = on_header_value;
    s->on_headers_complete = on_headers_complete;
    s->on_body = on_body;
    s->on_message_complete = on_message_complete;
}

/* --- requests ------------------------------------------------------- */

static void dispatch(pr_conn *c)
{
    c->in_request = 0;
    uv_timer_stop(&c->timer);
    c->method = (int)c->parser.method;
    c->is_head = c->parser.method == HTTP_HEAD;
    /* An Upgrade or CONNECT request ends HTTP on this connection. */
    c->keep_alive = http_should_keep_alive(&c->parser) && !c->parser.upgrade;
    pr_server_handle(c->srv, c, c->method, c->url ? c->url : "", c->url_len);
}

static void parse_error(pr_conn *c, enum http_errno e)
{
    c->keep_alive = 0;
    c->in_request = 0;
    if (c->err_status) {
        pr_conn_error(c, c->err_status, NULL, c->err_msg, NULL);
    } else if (e == HPE_HEADER_OVERFLOW) {
        pr_conn_error(c, 431, NULL, "the request head is too large", NULL);
    } else {
        char msg[160];
        snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_errno_description(e));
        pr_conn_error(c, 400, NULL, msg, NULL);
    }
}

/* What to do once the buffer is parsed as far as it can be. */
static void after_process(pr_conn *c)
{
    if (c->state == C_CLOSED)
        return;
    if (c->in && c->in_start == c->in_end && c->state == C_READING) {
        free(c->in); /* idle connections keep no buffer */
        c->in = NULL;
        c->in_start = c->in_end = 0;
    }
    if (c->state != C_READING)
        return;
    if (c->eof) {
        if (c->in_request || c->writes == 0) {
            pr_conn_close(c); /* the client left, maybe mid-request */
        } else {
            c->close_after = 1;
            c->state = C_CLOSING;
        }
        return;
    }
    read_start(c);
    if (!c->in_request)
        timer_start(c, c->srv->cfg->idle_timeout_ms);
}

static void conn_process(pr_conn *c)
{
    while (c->state == C_READING && c->in && c->in_start < c->in_end) {
        size_t avail = c->in_end - c->in_start;
        size_t n = http_parser_execute(&c->parser, &c->srv->parser_settings,
                                       c->in + c->in_start, avail);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        c->in_start += n;
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            dispatch(c);
        } else if (e != HPE_OK) {
            parse_error(c, e);
        } else if (n < avail) {
            break; /* after an upgrade: the rest is not HTTP; we close */
        }
    }
    after_process(c);
}

/* --- writing -------------------------------------------------------- */

static void on_write(uv_write_t *req, int status)
{
    struct wreq *w = req->data;
    pr_conn *c = w->c;
    c->out_pending -= w->len;
    free(w->body);
    free(w);
    c->writes--;
    if (c->state == C_CLOSED)
        return;
    if (status < 0) {
        pr_conn_close(c);
        return;
    }
    if (c->state == C_WRITING && c->out_pending < WRITE_HIGH_WATER / 2) {
        c->state = C_READING;
        conn_process(c);
    } else if (c->state == C_CLOSING && c->writes == 0) {
        conn_linger(c);
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    pr_conn *c = req->data;
    if (c->state == C_CLOSED)
        return;
    if (status < 0 || c->eof) {
        pr_conn_close(c);
        return;
    }
    read_start(c);
    timer_start(c, LINGER_MS);
}

static void conn_linger(pr_conn *c)
{
    c->state = C_LINGER;
    c->shutdown.data = c;
    if (c->eof || uv_shutdown(&c->shutdown, &c->h.stream, on_shutdown) != 0)
        pr_conn_close(c);
}

/* Bytes of TEXT safe for a log line: no controls, no spaces, short. */
static void log_safe(char *out, size_t size, const char *text, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < size; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
}

static void account(pr_conn *c, int status, size_t len)
{
    pr_server *srv = c->srv;
    double secs = c->started ? (double)(uv_hrtime() - c->started) / 1e9 : 0;
    pr_metrics_observe(&srv->metrics, c->route, status, secs);
    if (srv->cfg->access_log) {
        char target[512];
        log_safe(target, sizeof target, c->url ? c->url : "", c->url ? c->url_len : 0);
        pr_log("access %s %s %d %zu %.3fms",
               c->method >= 0 ? http_method_str((enum http_method)c->method) : "-",
               *target ? target : "-", status, len, secs * 1e3);
    }
    c->started = 0;
}

static int format_head(pr_conn *c, struct wreq *w, int status, const char *ctype, size_t len,
                       const char *extra)
{
    const char *cors = c->srv->cfg->cors_origin;
    const char *conn_hdr = c->close_after ? "Connection: close\r\n"
                           : c->parser.http_minor == 0 ? "Connection: keep-alive\r\n" : "";
    return snprintf(w->head, sizeof w->head,
                    "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\n"
                    "Content-Length: %zu\r\nX-Content-Type-Options: nosniff\r\n%s%s%s%s%s\r\n",
                    status, pr_http_reason(status), pr_server_date(c->srv), ctype, len,
                    conn_hdr, *cors ? "Access-Control-Allow-Origin: " : "", cors,
                    *cors ? "\r\n" : "", extra ? extra : "");
}

void pr_conn_respond(pr_conn *c, int status, const char *content_type, char *body, size_t len,
                     const char *extra_headers)
{
    struct wreq *w;
    uv_buf_t bufs[2];
    int n;
    if (c->state == C_CLOSED || c->state >= C_CLOSING) {
        free(body);
        return;
    }
    if (!c->keep_alive || c->srv->draining)
        c->close_after = 1;
    w = malloc(sizeof *w);
    if (!w) {
        free(body);
        pr_conn_close(c);
        return;
    }
    w->c = c;
    w->body = body;
    w->req.data = w;
    n = format_head(c, w, status, content_type, len, extra_headers);
    if (n < 0 || (size_t)n >= sizeof w->head) n = 0;
    bufs[0] = uv_buf_init(w->head, (unsigned)n);
    bufs[1] = uv_buf_init(body, (unsigned)len);
    account(c, status, len);
    if (uv_write(&w->req, &c->h.stream, bufs, (c->is_head || !len) ? 1 : 2, on_write) != 0) {
        free(w->body);
        free(w);
        pr_conn_close(c);
        return;
    }
    c->writes++;
    w->len = (size_t)n + ((c->is_head || !len) ? 0 : len);
    c->out_pending += w->len;
    /* What follows (an error on garbage before any method) is not this
     * request's: no HEAD, no target. */
    c->is_head = 0;
    c->method = -1;
    c->url_len = 0;
    if (c->url) c->url[0] = '\0';
    if (c->close_after) {
        c->state = C_CLOSING;
        timer_start(c, c->srv->cfg->idle_timeout_ms);
    } else if (c->out_pending > WRITE_HIGH_WATER) {
        c->state = C_WRITING;
        timer_start(c, c->srv->cfg->idle_timeout_ms);
    } else {
        c->state = C_READING;
    }
}

void pr_conn_error(pr_conn *c, int status, const char *code, const char *message,
                   const char *extra_headers)
{
    size_t len = 0;
    char *body = pr_json_error(status, code, message, &len);
    if (!body) {
        pr_conn_close(c);
        return;
    }
    pr_conn_respond(c, status, "application/json; charset=utf-8", body, len, extra_headers);
}

void pr_conn_set_route(pr_conn *c, pr_route route)
{
    c->route = route;
}

void pr_conn_wait(pr_conn *c)
{
    c->state = C_BUSY;
    c->job_pending = 1;
}

void pr_conn_job_done(pr_conn *c, pr_job *job)
{
    c->job_pending = 0;
    if (c->state == C_CLOSED) {
        pr_job_free(job);
        if (c->handles_open == 0)
            conn_free(c);
        return;
    }
    c->state = C_READING; /* respond() decides the next state */
    pr_conn_respond(c, job->status, "application/json; charset=utf-8", job->body,
                    job->body_len, NULL);
    job->body = NULL;
    pr_job_free(job);
    conn_process(c);
}

void pr_conn_drain(pr_conn *c)
{
    switch (c->state) {
    case C_READING:
        if (c->in_request)
            break; /* let it arrive; its answer closes */
        if (c->writes == 0) {
            pr_conn_close(c);
        } else {
            c->close_after = 1;
            c->state = C_CLOSING;
        }
        break;
    case C_WRITING:
        c->close_after = 1;
        c->state = C_CLOSING;
        break;
    default:
        break; /* busy: the answer closes; closing: already going */
    }
}

/* --- accepting ------------------------------------------------------ */

/* Returns 0, -1 when the handle could not be made, -2 when the accept
 * failed (the handle is then to be closed). */
static int init_stream(pr_server *srv, pr_listener *l, pr_conn *c)
{
    int rc = l->is_unix ? uv_pipe_init(srv->loop, &c->h.pipe, 0)
                        : uv_tcp_init(srv->loop, &c->h.tcp);
    if (rc != 0)
        return -1;
    c->h.handle.data = c;
    if (uv_accept(&l->h.stream, &c->h.stream) != 0)
        return -2;
    if (!l->is_unix) {
        int sndbuf = TCP_SEND_BUFFER;
        uv_tcp_nodelay(&c->h.tcp, 1);
        uv_send_buffer_size(&c->h.handle, &sndbuf); /* best effort: autotuned if refused */
    }
    return 0;
}

void pr_conn_accept(pr_server *srv, pr_listener *l)
{
    pr_conn *c = calloc(1, sizeof *c);
    int rc;
    if (!c)
        return;
    c->srv = srv;
    rc = init_stream(srv, l, c);
    if (rc == -1) {
        free(c);
        return;
    }
    if (rc == -2) {
        c->state = C_CLOSED;
        c->handles_open = 1;
        srv->alive++;
        uv_close(&c->h.handle, on_handle_closed);
        return;
    }
    uv_timer_init(srv->loop, &c->timer);
    c->timer.data = c;
    c->handles_open = 2;
    srv->alive++;
    c->next = srv->conns;
    if (c->next) c->next->prev = c;
    srv->conns = c;
    srv->metrics.open_connections++;
    srv->metrics.connections_accepted++;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->keep_alive = 1;
    c->method = -1;
    if (srv->metrics.open_connections > srv->cfg->max_connections) {
        srv->metrics.connections_rejected++;
        c->keep_alive = 0;
        pr_conn_error(c, 503, "too_many_connections",
                      "too many open connections, try again later", NULL);
        return;
    }
    read_start(c);
    timer_start(c, srv->cfg->idle_timeout_ms);
}
