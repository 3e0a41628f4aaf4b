/*
 * pr_error.h - error reports shared by the whole core library.
 *
 * Library functions never print: they fill a caller-provided pr_error with a
 * message and, where the failure has a place in an input file, its 1-based
 * line and column (0 when unknown). The programs decide how to show it,
 * normally as "path:line:col: message".
 */
#ifndef PR_ERROR_H
#define PR_ERROR_H

#include <stddef.h>

typedef struct pr_error {
    int line;          /* 1-based line in the input, 0 if unknown */
    int col;           /* 1-based column (in bytes), 0 if unknown */
    char message[512]; /* human-readable, no trailing newline, "" if none */
} pr_error;

/* Clear an error report (no message, no position). E may be NULL. */
void pr_error_clear(pr_error *e);

/* Set message and position, printf-style. E may be NULL (then a no-op).
 * Always returns -1 so callers can write `return pr_error_set(...)`. */
int pr_error_set(pr_error *e, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format as "path:line:col: message" (or "path: message" when the line is
 * unknown) into BUF of SIZE bytes; returns BUF. */
char *pr_error_format(const pr_error *e, const char *path, char *buf, size_t size);

#endif
