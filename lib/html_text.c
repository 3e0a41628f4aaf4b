/*
 * html_text.c - the readable text of an HTML fragment (see html_text.h).
 *
 * Used by markdown_text.c for raw HTML blocks and for paragraphs holding
 * inline HTML. gumbo does the parsing (entities, unclosed tags, implied
 * ends: everything a browser would do); this file only walks the tree and
 * decides where words may touch. Inline elements join their text as the
 * browser shows it ("<b>a</b>b" is "ab"); block elements and <br> start a
 * new line. Whitespace runs collapse to one space, as in rendered HTML.
 */
#include "html_text.h"

#include <gumbo.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Output being built, with the separator owed before the next word: it is
 * written lazily so that text never starts or ends with blanks and a run of
 * closing blocks gives a single newline. */
typedef struct out {
    char *s;
    size_t len, cap;
    int oom;
    int pending; /* 0 none, 1 a space, 2 a newline */
} out;

static void out_raw(out *o, const char *p, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        char *s;
        while (cap < o->len + n + 1)
            cap *= 2;
        if (!(s = realloc(o->s, cap))) {
            o->oom = 1;
            return;
        }
        o->s = s;
        o->cap = cap;
    }
    memcpy(o->s + o->len, p, n);
    o->len += n;
    o->s[o->len] = '\0';
}

static void out_sep(out *o, int kind)
{
    if (kind > o->pending)
        o->pending = kind;
}

/* Appends one word as valid UTF-8: gumbo decodes numeric character
 * references that overflow (&#x800000099;) into bytes that are not UTF-8,
 * and nothing invalid may reach the index. */
static void out_word(out *o, const char *p, size_t n)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)p;
    utf8proc_int32_t cp;
    size_t i = 0, good = 0;

    while (i < n) {
        utf8proc_ssize_t k = utf8proc_iterate(u + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k > 0) {
            i += (size_t)k;
            continue;
        }
        out_raw(o, p + good, i - good);
        out_raw(o, "\xEF\xBF\xBD", 3);
        good = ++i;
    }
    out_raw(o, p + good, n - good);
}

/* Appends text, collapsing ASCII whitespace (not U+00A0: in French it
 * holds "3 500" and "« mot »" together on purpose). */
static void out_text(out *o, const char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' || p[i] == '\f') {
            out_sep(o, 1);
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !(p[j] == ' ' || p[j] == '\t' || p[j] == '\n' || p[j] == '\r' ||
                          p[j] == '\f'))
            j++;
        if (o->pending && o->len)
            out_raw(o, o->pending == 2 ? "\n" : " ", 1);
        o->pending = 0;
        out_word(o, p + i, j - i);
        i = j;
    }
}

/* Elements whose content is never shown as text. */
static int is_hidden(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_IFRAME: case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_HEAD: case GUMBO_TAG_TITLE: case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH: case GUMBO_TAG_CANVAS: case GUMBO_TAG_SELECT:
        return 1;
    default:
        return 0;
    }
}

/* Elements that break the line in a browser, so their words stand apart. */
static int is_block(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_BR: case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_CENTER: case GUMBO_TAG_DD: case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIV: case GUMBO_TAG_DL: case GUMBO_TAG_DT:
    case GUMBO_TAG_FIELDSET: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_FORM: case GUMBO_TAG_H1: case GUMBO_TAG_H2:
    case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
    case GUMBO_TAG_HEADER: case GUMBO_TAG_HGROUP: case GUMBO_TAG_HR: case GUMBO_TAG_LI:
    case GUMBO_TAG_LEGEND: case GUMBO_TAG_MAIN: case GUMBO_TAG_NAV: case GUMBO_TAG_OL:
    case GUMBO_TAG_OPTION: case GUMBO_TAG_P: case GUMBO_TAG_PRE: case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SUMMARY: case GUMBO_TAG_TABLE: case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TH: case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TR: case GUMBO_TAG_UL: case GUMBO_TAG_BODY: case GUMBO_TAG_HTML:
    case GUMBO_TAG_BUTTON: case GUMBO_TAG_LABEL: case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_AUDIO:
        return 1;
    default:
        return 0;
    }
}

static const GumboVector *children(const GumboNode *n)
{
    if (n->type == GUMBO_NODE_DOCUMENT)
        return &n->v.document.children;
    if (n->type == GUMBO_NODE_ELEMENT && !is_hidden(n->v.element.tag))
        return &n->v.element.children;
    return NULL; /* text, comments, <template> and hidden elements */
}

/* What an element says on the way in (ENTERING) and on the way out. */
static void element_edge(out *o, const GumboElement *e, int entering)
{
    if (is_block(e->tag))
        out_sep(o, 2);
    if (entering && e->tag == GUMBO_TAG_IMG) {
        /* The alt text is what the image says to those who cannot see it. */
        GumboAttribute *alt = gumbo_get_attribute(&e->attributes, "alt");
        if (alt && alt->value[0]) {
            out_sep(o, 1);
            out_text(o, alt->value, strlen(alt->value));
            out_sep(o, 1);
        }
    }
}

static void visit(out *o, const GumboNode *n, int entering)
{
    if (n->type == GUMBO_NODE_ELEMENT && !is_hidden(n->v.element.tag))
        element_edge(o, &n->v.element, entering);
    else if (entering && (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA ||
                          n->type == GUMBO_NODE_WHITESPACE))
        out_text(o, n->v.text.text, strlen(n->v.text.text));
}

/* Depth-first, without recursion: the tree can be as deep as the input
 * has tags, and every node knows its parent and its place. */
static void walk(out *o, const GumboNode *root)
{
    const GumboNode *n = root;

    for (;;) {
        const GumboVector *kids = children(n);
        visit(o, n, 1);
        if (kids && kids->length) {
            n = kids->data[0];
            continue;
        }
        /* No children: close N, then climb until a next sibling. */
        for (;;) {
            const GumboVector *sib;
            if (n != root)
                visit(o, n, 0);
            if (n == root || !n->parent)
                return;
            sib = children(n->parent);
            if (n->index_within_parent + 1 < sib->length) {
                n = sib->data[n->index_within_parent + 1];
                break;
            }
            n = n->parent;
        }
    }
}

/* ---- Very large fragments ---------------------------------------------- */

/* gumbo spends time quadratic in the nesting depth (each start tag scans
 * the stack of open elements), so 100 000 nested <div> take minutes. A
 * fragment is therefore parsed in pieces of about CHUNK_TAGS tags, cut
 * before a block start tag when one comes within CHUNK_SLACK more tags
 * (each piece then begins where a fresh parse reads it the same way).
 * Real pages never come close in one HTML block: this is a guard. */
#define CHUNK_TAGS 2048
#define CHUNK_SLACK 1024

static int starts_ci(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != word[i])
            return 0;
    return 1;
}

/* Where a raw-text element or a comment opened at P ends, or NULL when P
 * opens neither. Used only to never cut inside one: their content would
 * come out as text in the next piece. */
static const char *skip_raw(const char *p, const char *end)
{
    static const char *const raw[][2] = {
        {"<script", "</script"}, {"<style", "</style"}, {"<textarea", "</textarea"},
        {"<title", "</title"}, {"<xmp", "</xmp"}, {"<!--", "-->"},
    };

    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        if (!starts_ci(p, end, raw[i][0]))
            continue;
        for (const char *q = p + 1; q < end; q++)
            if (starts_ci(q, end, raw[i][1]))
                return q;
        return end;
    }
    return NULL;
}

/* Does P start a tag after which a fresh parse loses no context? */
static int good_cut(const char *p, const char *end)
{
    static const char *const tags[] = {"<div", "<p>", "<p ", "<section", "<article",
                                       "<table", "<ul", "<ol", "<blockquote", "<h1",
                                       "<h2", "<h3", "<h4", "<h5", "<h6"};

    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        if (starts_ci(p, end, tags[i]))
            return 1;
    return 0;
}

/* Length of the next piece of [H, H+LEN) to hand to gumbo: all of it
 * unless it holds more than CHUNK_TAGS tags; never inside a script, style
 * or comment. */
static size_t next_piece(const char *h, size_t len)
{
    const char *p = h, *end = h + len, *r;
    size_t tags = 0;

    while ((p = memchr(p, '<', (size_t)(end - p)))) {
        if (p > h && tags >= CHUNK_TAGS &&
            (tags >= CHUNK_TAGS + CHUNK_SLACK || good_cut(p, end)))
            return (size_t)(p - h);
        tags++;
        if ((r = skip_raw(p, end)))
            p = r;
        if (p < end)
            p++;
        if (p >= end)
            break;
    }
    return len;
}

static void parse_piece(out *o, const char *html, size_t len)
{
    GumboOptions opt = kGumboDefaultOptions;
    GumboOutput *g;

    /* Parsed as a whole document, not with gumbo's fragment mode: in
     * gumbo 0.10.1 that mode reads uninitialised memory on tables
     * (valgrind). Leading <style>/<script> land in <head>, which is hidden
     * anyway; text always lands in <body>. Parse errors are not kept:
     * nobody reads them, and recording them copies the open-element
     * stack each time. */
    opt.max_errors = 0;
    g = gumbo_parse_with_options(&opt, html, len);
    if (!g) {
        o->oom = 1;
        return;
    }
    walk(o, g->document);
    gumbo_destroy_output(&opt, g);
}

char *pr_html_to_text(const char *html, size_t len)
{
    out o = {0};

    do {
        size_t n = next_piece(html, len);
        parse_piece(&o, html, n);
        out_sep(&o, 2);
        html += n;
        len -= n;
    } while (len && !o.oom);
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    return o.s ? o.s : strdup("");
}
