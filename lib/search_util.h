/*
 * search_util.h - small helpers shared by the search core (query parser,
 * snippets, result JSON): a growable string buffer and the UTF-8 / HTML
 * routines that keep everything we hand to jansson or a browser valid.
 *
 * Internal to lib/: the daemon and the client only see search.h.
 */
#ifndef SEARCH_UTIL_H
#define SEARCH_UTIL_H

#include <stddef.h>

/* A growable NUL-terminated string. After an allocation failure `oom` is
 * set and further appends are no-ops, so callers check once at the end. */
typedef struct pr_buf {
    char *p;
    size_t len, cap;
    int oom;
} pr_buf;

void pr_buf_init(pr_buf *b);
void pr_buf_free(pr_buf *b);
void pr_buf_add(pr_buf *b, const char *s, size_t n);
void pr_buf_adds(pr_buf *b, const char *s);
void pr_buf_addc(pr_buf *b, char c);
/* Hand over the string (never NULL unless out of memory); B is reset. */
char *pr_buf_take(pr_buf *b);

/*
 * Length of the valid UTF-8 character at S (at most N bytes), or 0 when the
 * bytes there are not one (bad lead, truncated, overlong, surrogate, out of
 * range). *CP receives the code point when not NULL.
 */
int pr_utf8_char(const unsigned char *s, size_t n, unsigned *cp);

/*
 * 1 when all N bytes of S are valid UTF-8 by pr_utf8_char (NUL bytes
 * included), else 0: exactly the strings jansson's json_stringn() accepts,
 * so they can go to json_stringn_nocheck() instead (its own check reads a
 * byte at a time; this one eight ASCII bytes at a time).
 */
int pr_utf8_wellformed(const char *s, size_t n);

/* Non-zero for code points we never pass on: C0/C1 controls and DEL. */
int pr_is_control(unsigned cp);

/*
 * Append N bytes of S to B as valid UTF-8: invalid bytes become U+FFFD,
 * control characters a space. Used for text that goes into JSON as is.
 */
void pr_buf_add_utf8(pr_buf *b, const char *s, size_t n);

/*
 * Append N bytes of S HTML-escaped (& < > " ') and valid UTF-8 (as
 * pr_buf_add_utf8); runs of white space and controls become one space.
 * *LAST_SPACE carries "the last thing written was a space" across calls so
 * runs split over several calls still collapse.
 */
void pr_buf_add_html(pr_buf *b, const char *s, size_t n, int *last_space);

/* A malloc'ed valid-UTF-8 copy of N bytes of S (see pr_buf_add_utf8). */
char *pr_utf8_clean(const char *s, size_t n);

#endif
