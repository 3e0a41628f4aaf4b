/*
 * pr_error.c - filling and formatting pr_error reports (see pr_error.h).
 */
#include "pr_error.h"

#include <stdarg.h>
#include <stdio.h>

void pr_error_clear(pr_error *e)
{
    if (!e)
        return;
    e->line = 0;
    e->col = 0;
    e->message[0] = '\0';
}

int pr_error_set(pr_error *e, int line, int col, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return -1;
    e->line = line;
    e->col = col;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

char *pr_error_format(const pr_error *e, const char *path, char *buf, size_t size)
{
    if (e->line > 0 && e->col > 0)
        snprintf(buf, size, "%s:%d:%d: %s", path, e->line, e->col, e->message);
    else if (e->line > 0)
        snprintf(buf, size, "%s:%d: %s", path, e->line, e->message);
    else
        snprintf(buf, size, "%s: %s", path, e->message);
    return buf;
}
