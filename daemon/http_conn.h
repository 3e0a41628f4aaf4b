/*
 * http_conn.h - one client connection: reading and parsing requests with
 * http_parser (keep-alive, pipelining in order), the limits and timeouts
 * that keep a client from holding a slot, writing answers, closing.
 */
#ifndef PR_HTTP_CONN_H
#define PR_HTTP_CONN_H

#include "server.h"

/* The callbacks every connection's parser uses. */
void pr_conn_parser_settings(http_parser_settings *s);

/* Accept a connection waiting on listener L. */
void pr_conn_accept(pr_server *srv, pr_listener *l);

/* The route the current request goes to (for metrics and logs). */
void pr_conn_set_route(pr_conn *c, pr_route route);

/* Answer the current request: STATUS with BODY (LEN bytes, malloc'd,
 * ownership taken; not sent for HEAD). EXTRA_HEADERS: NULL or whole
 * "Name: value\r\n" lines. */
void pr_conn_respond(pr_conn *c, int status, const char *content_type, char *body, size_t len,
                     const char *extra_headers);

/* Answer with a JSON error. */
void pr_conn_error(pr_conn *c, int status, const char *code, const char *message,
                   const char *extra_headers);

/* The current request went to a worker as JOB; wait for it. */
void pr_conn_wait(pr_conn *c);

/* The worker finished the job of C: answer and go on with the next
 * pipelined request. Takes ownership of JOB. */
void pr_conn_job_done(pr_conn *c, pr_job *job);

/* Shutdown: close C if it has nothing in flight, else close it after the
 * answer. */
void pr_conn_drain(pr_conn *c);

/* Close C now (drain timeout). */
void pr_conn_close(pr_conn *c);

/* The next connection in the server's list. */
pr_conn *pr_conn_next(pr_conn *c);

#endif
