/*
 * search_util.c - string buffer, UTF-8 validation and HTML escaping for the
 * search core (see search_util.h). Everything that leaves the search core
 * as text goes through here, so jansson never sees invalid UTF-8 and
 * title_html / snippet_html never carry markup of their own.
 */
#include "search_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void pr_buf_init(pr_buf *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void pr_buf_free(pr_buf *b)
{
    free(b->p);
    pr_buf_init(b);
}

static int pr_buf_grow(pr_buf *b, size_t extra)
{
    size_t want = b->len + extra + 1, cap;
    char *np;

    if (b->oom)
        return -1;
    if (want <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < want)
        cap *= 2;
    np = realloc(b->p, cap);
    if (!np) {
        b->oom = 1;
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

void pr_buf_add(pr_buf *b, const char *s, size_t n)
{
    if (pr_buf_grow(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void pr_buf_adds(pr_buf *b, const char *s)
{
    pr_buf_add(b, s, strlen(s));
}

void pr_buf_addc(pr_buf *b, char c)
{
    pr_buf_add(b, &c, 1);
}

char *pr_buf_take(pr_buf *b)
{
    char *p;

    if (b->oom) {
        pr_buf_free(b);
        return NULL;
    }
    if (!b->p && pr_buf_grow(b, 0) != 0)
        return NULL;
    b->p[b->len] = '\0';
    p = b->p;
    pr_buf_init(b);
    return p;
}

int pr_utf8_char(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c, min;
    int len, i;

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80) {
        len = 1; min = 0;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2; c &= 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3; c &= 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4; c &= 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    if (cp)
        *cp = c;
    return len;
}

int pr_utf8_wellformed(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    uint64_t w;
    int l;

    while (i < n) {
        if (i + 8 <= n) {
            memcpy(&w, u + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        if ((l = pr_utf8_char(u + i, n - i, NULL)) == 0)
            return 0;
        i += (size_t)l;
    }
    return 1;
}

int pr_is_control(unsigned cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

void pr_buf_add_utf8(pr_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    unsigned cp;
    int l;

    while (i < n) {
        l = pr_utf8_char(u + i, n - i, &cp);
        if (l == 0) {
            pr_buf_add(b, "\xEF\xBF\xBD", 3);
            i++;
        } else if (pr_is_control(cp)) {
            pr_buf_addc(b, ' ');
            i += l;
        } else {
            pr_buf_add(b, s + i, l);
            i += l;
        }
    }
}

static const char *html_entity(unsigned char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

/* Length of the run at the start of S (N bytes) that pr_buf_add_html
 * copies as it is: valid UTF-8 but controls and & < > " ', and spaces
 * that do not follow a space (*LAST_SPACE: "the byte before is one",
 * updated). */
static size_t html_plain_run(const unsigned char *u, size_t n, int *last_space)
{
    size_t i = 0;
    int sp = *last_space, l;
    unsigned cp;

    while (i < n) {
        unsigned char c = u[i];
        if (c > ' ' && c < 0x7F) {
            if (c == '&' || c == '<' || c == '>' || c == '"' || c == '\'')
                break;
            sp = 0;
            i++;
        } else if (c == ' ' && !sp) {
            sp = 1;
            i++;
        } else if (c >= 0xC2 && c <= 0xDF && i + 1 < n && (u[i + 1] & 0xC0) == 0x80 &&
                   (c != 0xC2 || u[i + 1] >= 0xA0)) {
            sp = 0; /* two bytes, not a C1 control */
            i += 2;
        } else if (c >= 0xE0 && (l = pr_utf8_char(u + i, n - i, &cp)) > 0) {
            sp = 0;
            i += (size_t)l;
        } else {
            break;
        }
    }
    *last_space = sp;
    return i;
}

void pr_buf_add_html(pr_buf *b, const char *s, size_t n, int *last_space)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run;
    unsigned cp;
    const char *ent;
    int l;

    while (i < n) {
        run = html_plain_run(u + i, n - i, last_space);
        if (run > 0) {
            pr_buf_add(b, s + i, run);
            i += run;
            if (i >= n)
                break;
        }
        l = pr_utf8_char(u + i, n - i, &cp);
        if (l == 0) {
            pr_buf_add(b, "\xEF\xBF\xBD", 3);
            *last_space = 0;
            i++;
            continue;
        }
        if (cp == ' ' || pr_is_control(cp)) {
            if (!*last_space)
                pr_buf_addc(b, ' ');
            *last_space = 1;
        } else if ((ent = html_entity(u[i])) != NULL) {
            pr_buf_adds(b, ent);
            *last_space = 0;
        } else {
            pr_buf_add(b, s + i, l);
            *last_space = 0;
        }
        i += l;
    }
}

char *pr_utf8_clean(const char *s, size_t n)
{
    pr_buf b;

    pr_buf_init(&b);
    pr_buf_add_utf8(&b, s, n);
    return pr_buf_take(&b);
}
