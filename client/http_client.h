/*
 * http_client.h - the client side of prsearchd's HTTP/1.1 API: one GET
 * over a Unix socket or TCP, the response read with http_parser.
 *
 * Only what `prsearch` needs: one request per connection
 * (Connection: close), the status code and the whole body.
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stddef.h>

typedef struct pr_http_response {
    int status;   /* HTTP status code */
    char *body;   /* NUL-terminated (malloc'ed); body_len bytes */
    size_t body_len;
} pr_http_response;

/* Where the daemon listens: a Unix socket path, or HOST:PORT for TCP. */
typedef struct pr_http_target {
    const char *socket_path; /* used when host_port is NULL */
    const char *host_port;
} pr_http_target;

enum {
    PR_HTTP_OK = 0,
    PR_HTTP_CONNECT = -1, /* nothing answers there (ERR: "connect: ...") */
    PR_HTTP_FAILED = -2   /* it answered, but not with HTTP we can read */
};

/*
 * GET PATH_AND_QUERY from T. Returns PR_HTTP_OK with RESP filled (free
 * RESP->body), or an error code with a one-line reason in ERR.
 */
int pr_http_get(const pr_http_target *t, const char *path_and_query, int timeout_s,
                pr_http_response *resp, char *err, size_t errsize);

/* Append S URL-encoded (RFC 3986 unreserved kept, the rest %XX) to OUT of
 * SIZE bytes at *LEN; returns -1 when it does not fit. */
int pr_url_encode(char *out, size_t size, size_t *len, const char *s);

#endif
