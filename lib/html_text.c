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
        out_raw(o, p + i, j - i);
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

static void walk(out *o, const GumboNode *n, int depth);

static void walk_element(out *o, const GumboElement *e, int depth)
{
    int block = is_block(e->tag);

    if (is_hidden(e->tag))
        return;
    if (block)
        out_sep(o, 2);
    if (e->tag == GUMBO_TAG_IMG) {
        /* The alt text is what the image says to those who cannot see it. */
        GumboAttribute *alt = gumbo_get_attribute(&e->attributes, "alt");
        if (alt && alt->value[0]) {
            out_sep(o, 1);
            out_text(o, alt->value, strlen(alt->value));
            out_sep(o, 1);
        }
    }
    for (unsigned i = 0; i < e->children.length; i++)
        walk(o, e->children.data[i], depth + 1);
    if (block)
        out_sep(o, 2);
}

static void walk(out *o, const GumboNode *n, int depth)
{
    /* gumbo caps nesting itself, but a recursion bound costs nothing. */
    if (depth > 400)
        return;
    switch (n->type) {
    case GUMBO_NODE_DOCUMENT:
        for (unsigned i = 0; i < n->v.document.children.length; i++)
            walk(o, n->v.document.children.data[i], depth + 1);
        break;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE:
        if (n->type == GUMBO_NODE_ELEMENT)
            walk_element(o, &n->v.element, depth);
        break;
    case GUMBO_NODE_TEXT:
    case GUMBO_NODE_CDATA:
    case GUMBO_NODE_WHITESPACE:
        out_text(o, n->v.text.text, strlen(n->v.text.text));
        break;
    default: /* comments */
        break;
    }
}

char *pr_html_to_text(const char *html, size_t len)
{
    GumboOptions opt = kGumboDefaultOptions;
    GumboOutput *g;
    out o = {0};

    /* Parsed as a whole document, not with gumbo's fragment mode: in
     * gumbo 0.10.1 that mode reads uninitialised memory on tables
     * (valgrind). Leading <style>/<script> land in <head>, which is hidden
     * anyway; text always lands in <body>. */
    g = gumbo_parse_with_options(&opt, html, len);
    if (!g)
        return NULL;
    walk(&o, g->root, 0);
    gumbo_destroy_output(&opt, g);
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    return o.s ? o.s : strdup("");
}
