/*
 * recorder.h - search analytics off the request path. The loop hands each
 * settled search (a /search answered 200 whose request said log=1) to a
 * bounded queue, in constant time and without I/O; one thread of its own
 * parses, normalises and writes them to the analytics file in batches
 * (lib/analytics.h). When the queue is full, searches are dropped and
 * counted: a slow disk never slows a visitor.
 */
#ifndef PR_RECORDER_H
#define PR_RECORDER_H

#include <stddef.h>
#include "pr_error.h"

typedef struct pr_recorder pr_recorder;

/* Open PATH for writing (creating it) and start the thread; at most
 * CAPACITY searches wait. NULL with ERR set when PATH cannot be written. */
pr_recorder *pr_recorder_start(const char *path, int capacity, pr_error *err);

/* Queue the search whose query string was QUERY (QLEN bytes, as sent,
 * without '?') and which found HITS pages. Returns 0, or -1 when it was
 * dropped (queue full, out of memory). Loop thread. */
int pr_recorder_push(pr_recorder *r, const char *query, size_t qlen, long hits);

/* Searches written, and write errors, so far (for /metrics). */
void pr_recorder_counts(pr_recorder *r, unsigned long long *written,
                        unsigned long long *errors);

/* Write what is queued, stop the thread, close the file, free R. */
void pr_recorder_stop(pr_recorder *r);

/* Whether the query string QUERY asks to be counted: a parameter log=1. */
int pr_recorder_wanted(const char *query, size_t qlen);

/* The "total" of a /search answer BODY (LEN bytes), -1 if none. */
long pr_recorder_total(const char *body, size_t len);

#endif
