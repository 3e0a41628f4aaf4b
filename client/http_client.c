/*
 * http_client.c - one HTTP/1.1 GET to prsearchd (see http_client.h).
 *
 * Connects (Unix socket or TCP), writes the request, reads until the
 * parser says the message is complete or the server closes, and collects
 * status and body through http_parser's callbacks (chunked bodies
 * included: the parser hands over the de-chunked data).
 */
#include "http_client.h"

#include <errno.h>
#include <http_parser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct reader {
    char *body;
    size_t len, cap;
    int complete;
    int oom;
} reader;

static int on_body(http_parser *p, const char *at, size_t n)
{
    reader *r = p->data;

    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        char *nb;
        while (cap < r->len + n + 1)
            cap *= 2;
        nb = realloc(r->body, cap);
        if (!nb) {
            r->oom = 1;
            return -1;
        }
        r->body = nb;
        r->cap = cap;
    }
    memcpy(r->body + r->len, at, n);
    r->len += n;
    r->body[r->len] = '\0';
    return 0;
}

static int on_complete(http_parser *p)
{
    ((reader *)p->data)->complete = 1;
    return 0;
}

static int connect_unix(const char *path, char *err, size_t errsize)
{
    struct sockaddr_un sa;
    int fd;

    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errsize, "connect: socket path too long");
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errsize, "socket: %s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errsize, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_tcp(const char *host_port, char *err, size_t errsize)
{
    char host[256];
    const char *colon = strrchr(host_port, ':');
    struct addrinfo hints, *res, *ai;
    size_t hl;
    int fd = -1, rc, saved = 0;

    if (!colon || colon == host_port || !colon[1] || (size_t)(colon - host_port) >= sizeof host) {
        snprintf(err, errsize, "bad address %s (want HOST:PORT)", host_port);
        return -1;
    }
    hl = (size_t)(colon - host_port);
    memcpy(host, host_port, hl);
    host[hl] = '\0';
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') { /* [::1]:8080 */
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        snprintf(err, errsize, "connect: %s", gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errsize, "connect: %s", strerror(saved ? saved : ECONNREFUSED));
    return fd;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read and parse the response on FD. */
static int read_response(int fd, pr_http_response *resp, char *err, size_t errsize)
{
    http_parser parser;
    http_parser_settings settings;
    reader r;
    char buf[16384];
    ssize_t n;

    memset(&r, 0, sizeof r);
    memset(&settings, 0, sizeof settings);
    settings.on_body = on_body;
    settings.on_message_complete = on_complete;
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = &r;
    for (;;) {
        n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errsize, "reading the answer: %s",
                     errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            free(r.body);
            return PR_HTTP_FAILED;
        }
        /* n == 0 tells the parser about EOF (ends a body read to close). */
        if (http_parser_execute(&parser, &settings, buf, (size_t)n) != (size_t)n ||
            HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
            snprintf(err, errsize, "bad HTTP answer: %s",
                     r.oom ? "out of memory" : http_errno_description(HTTP_PARSER_ERRNO(&parser)));
            free(r.body);
            return PR_HTTP_FAILED;
        }
        if (r.complete || n == 0)
            break;
    }
    if (!r.complete) {
        snprintf(err, errsize, "the daemon closed the connection before answering");
        free(r.body);
        return PR_HTTP_FAILED;
    }
    resp->status = parser.status_code;
    resp->body = r.body ? r.body : strdup("");
    resp->body_len = r.len;
    return resp->body ? PR_HTTP_OK : PR_HTTP_FAILED;
}

int pr_http_get(const pr_http_target *t, const char *path_and_query, int timeout_s,
                pr_http_response *resp, char *err, size_t errsize)
{
    struct timeval tv = {timeout_s, 0};
    char *req;
    int fd, rc;
    size_t n;

    memset(resp, 0, sizeof *resp);
    fd = t->host_port ? connect_tcp(t->host_port, err, errsize)
                      : connect_unix(t->socket_path, err, errsize);
    if (fd < 0)
        return PR_HTTP_CONNECT;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    n = strlen(path_and_query) + 128;
    req = malloc(n);
    if (!req) {
        close(fd);
        snprintf(err, errsize, "out of memory");
        return PR_HTTP_FAILED;
    }
    snprintf(req, n, "GET %s HTTP/1.1\r\nHost: prsearchd\r\nAccept: application/json\r\n"
                     "Connection: close\r\n\r\n", path_and_query);
    if (write_all(fd, req, strlen(req)) != 0) {
        snprintf(err, errsize, "sending the request: %s", strerror(errno));
        rc = PR_HTTP_FAILED;
    } else {
        rc = read_response(fd, resp, err, errsize);
    }
    free(req);
    close(fd);
    return rc;
}

int pr_url_encode(char *out, size_t size, size_t *len, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = *len;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~';
        if (n + (plain ? 1 : 3) >= size)
            return -1;
        if (plain) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
    *len = n;
    return 0;
}
