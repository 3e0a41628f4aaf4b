/*
 * markdown_text.c - Markdown with Jekyll extras to plain text (markdown_text.h).
 *
 * The body and the chapeau of every page go through here (document.c).
 * Three stages:
 *
 *  1. A pre-pass on the source removes what is not Markdown but would
 *     otherwise reach the index as text: Liquid tags ("{% ... %}",
 *     "{{ ... }}", which may span lines; "{% comment %}" bodies too) and
 *     kramdown attribute lists and extensions ("{: .class}", "{::options
 *     /}", "{::comment}...{:/comment}"). GFM pipe tables, which cmark 0.30
 *     does not know, are rewritten as one paragraph per row with the pipes
 *     and the "---|---" delimiter row gone. Removed spans leave their line
 *     breaks behind so the block structure around them does not change.
 *  2. cmark parses the result.
 *  3. A walk over the tree writes one line per block: paragraphs, list
 *     items, quotes, headings, code; link text without its URL, image alt
 *     text. Blocks holding raw HTML are rendered back to HTML by cmark and
 *     read by html_text.c, so tags split across inline nodes
 *     ("<a href=...>text</a>") are handled by a real HTML parser.
 *
 * Output: text lines trimmed, blank runs collapsed, no empty lines.
 */
#include "markdown_text.h"

#include <cmark.h>
#include <stdlib.h>
#include <string.h>

#include "html_text.h"

/* A growable string; after an allocation failure every append is a no-op
 * and OOM is set, so callers check once at the end. */
typedef struct buf {
    char *s;
    size_t len, cap;
    int oom;
} buf;

static void buf_add(buf *b, const char *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *s;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (!(s = realloc(b->s, cap))) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void buf_str(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* Keeps only the line breaks of [P, P+N): what a removed span leaves. */
static void buf_newlines_of(buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n')
            buf_add(b, "\n", 1);
}

/* First occurrence of NEEDLE in [P, END), or NULL. */
static const char *find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);

    for (; p + n <= end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (!p || p + n > end)
            return NULL;
        if (!memcmp(p, needle, n))
            return p;
    }
    return NULL;
}

/* ---- Stage 1a: Liquid ---------------------------------------------------- */

/* The tag name of a "{% name ... %}" starting at P ("{%-" trims allowed). */
static int liquid_name_is(const char *p, const char *end, const char *name)
{
    size_t n = strlen(name);

    p += 2;
    while (p < end && (*p == '-' || *p == ' ' || *p == '\t' || *p == '\n'))
        p++;
    return (size_t)(end - p) > n && !memcmp(p, name, n) &&
           (p[n] == ' ' || p[n] == '\t' || p[n] == '\n' || p[n] == '-' || p[n] == '%');
}

/* End of the "{% NAME %}" tag found from P on, or NULL. */
static const char *find_liquid_tag(const char *p, const char *end, const char *name)
{
    const char *t, *close;

    for (; (t = find(p, end, "{%")); p = t + 2)
        if (liquid_name_is(t, end, name) && (close = find(t, end, "%}")))
            return close + 2;
    return NULL;
}

/* Start of the "{% NAME %}" tag found from P on, or NULL. */
static const char *find_liquid_start(const char *p, const char *end, const char *name)
{
    const char *t;

    for (; (t = find(p, end, "{%")); p = t + 2)
        if (liquid_name_is(t, end, name))
            return t;
    return NULL;
}

/* The next NEEDLE at or after a position that only moves forward,
 * remembered so that a page full of unclosed "{{" costs linear time, not
 * one scan to the end of the page per "{{". */
typedef struct closer {
    const char *needle, *at;
    int none; /* no NEEDLE after the last position asked: none later */
} closer;

static const char *closer_find(closer *c, const char *from, const char *end)
{
    if (c->none)
        return NULL;
    if (!c->at || c->at < from)
        c->at = find(from, end, c->needle);
    c->none = c->at == NULL;
    return c->at;
}

/* Jekyll runs Liquid over the whole page, code blocks included, so we do
 * too. Unclosed tags are left as text: that is what the reader sees. */
static void strip_liquid(const char *p, const char *end, buf *o)
{
    closer braces = {"}}", NULL, 0}, percent = {"%}", NULL, 0};

    while (p < end) {
        const char *t = memchr(p, '{', (size_t)(end - p)), *close, *stop;
        if (!t || t + 1 >= end) {
            buf_add(o, p, (size_t)(end - p));
            return;
        }
        buf_add(o, p, (size_t)(t - p));
        if (t[1] == '{' && (close = closer_find(&braces, t + 2, end))) {
            buf_newlines_of(o, t, (size_t)(close + 2 - t));
            p = close + 2;
        } else if (t[1] == '%' && (close = closer_find(&percent, t + 2, end))) {
            stop = close + 2;
            if (liquid_name_is(t, end, "comment")) {
                const char *e = find_liquid_tag(stop, end, "endcomment");
                stop = e ? e : end;
            } else if (liquid_name_is(t, end, "raw")) {
                /* Verbatim up to {% endraw %}: Liquid would not touch it. */
                const char *r = find_liquid_start(stop, end, "endraw");
                const char *e = r ? find(r, end, "%}") : NULL;
                buf_newlines_of(o, t, (size_t)(stop - t));
                buf_add(o, stop, (size_t)((r ? r : end) - stop));
                p = e ? e + 2 : end;
                if (r && e)
                    buf_newlines_of(o, r, (size_t)(p - r));
                continue;
            }
            buf_newlines_of(o, t, (size_t)(stop - t));
            p = stop;
        } else {
            buf_add(o, t, 1);
            p = t + 1;
        }
    }
}

/* ---- Stage 1b: kramdown, line by line ------------------------------------- */

/* Removes kramdown syntax from the line [P, END) (END excludes the line
 * break). *IN_COMMENT carries a "{::comment}" across lines. */
static void strip_kramdown_line(const char *p, const char *end, buf *o, int *in_comment)
{
    while (p < end) {
        if (*in_comment) {
            const char *c = find(p, end, "{:/comment}"), *c2 = find(p, end, "{:/}");
            if (c2 && (!c || c2 < c))
                c = c2;
            if (!c)
                return;
            *in_comment = 0;
            p = memchr(c, '}', (size_t)(end - c)) + 1;
            continue;
        }
        const char *t = find(p, end, "{:");
        const char *close = t ? memchr(t, '}', (size_t)(end - t)) : NULL;
        if (!t || !close) {
            buf_add(o, p, (size_t)(end - p));
            return;
        }
        buf_add(o, p, (size_t)(t - p));
        /* "{::comment}" hides everything up to "{:/comment}" or "{:/}". */
        if (t + 11 <= end && !memcmp(t, "{::comment}", 11))
            *in_comment = 1;
        p = close + 1;
    }
}

/* ---- Stage 1c: GFM pipe tables --------------------------------------------- */

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* A table delimiter row: "|:---|---:|", "--- | ---"... at least one pipe. */
static int is_delimiter_row(const char *p, const char *end)
{
    int pipes = 0, dashes = 0;

    for (p = skip_blanks(p, end); p < end; p++) {
        if (*p == '|')
            pipes++;
        else if (*p == '-')
            dashes++;
        else if (*p != ':' && *p != ' ' && *p != '\t')
            return 0;
    }
    return pipes > 0 && dashes > 0;
}

static int has_pipe(const char *p, const char *end)
{
    return memchr(p, '|', (size_t)(end - p)) != NULL;
}

/* One table row as a paragraph of its own: outer pipes dropped, inner
 * (unescaped) pipes become spaces so the cells' words stay apart. */
static void table_row(const char *p, const char *end, buf *o)
{
    p = skip_blanks(p, end);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p < end && *p == '|')
        p++;
    if (end > p && end[-1] == '|' && !(end - 1 > p && end[-2] == '\\'))
        end--;
    buf_add(o, "\n", 1);
    for (const char *q = p; q < end; q++) {
        if (*q == '\\' && q + 1 < end && q[1] == '|') {
            buf_add(o, q, 2);
            q++;
        } else {
            buf_add(o, *q == '|' ? " " : q, 1);
        }
    }
    buf_add(o, "\n", 1);
}

/* ---- Stage 1: the whole pre-pass -------------------------------------------- */

typedef struct line {
    const char *p, *end; /* end excludes the line break */
} line;

/* Splits [P, END) into lines; returns how many (caller frees *LINES). */
static size_t split_lines(const char *p, const char *end, line **lines)
{
    size_t n = 0, cap = 64;
    line *l = malloc(cap * sizeof *l);

    while (l && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (n == cap) {
            line *m = realloc(l, (cap *= 2) * sizeof *l);
            if (!m) {
                free(l);
                l = NULL;
                break;
            }
            l = m;
        }
        l[n].p = p;
        l[n].end = nl ? nl : end;
        n++;
        p = nl ? nl + 1 : end;
    }
    *lines = l;
    return l ? n : 0;
}

/* A fence opener/closer: up to 3 spaces, then 3+ backticks or tildes.
 * Returns the fence character or 0. */
static char fence_char(const line *l)
{
    const char *p = l->p;
    int i = 0;

    while (i < 3 && p < l->end && *p == ' ')
        p++, i++;
    if (l->end - p >= 3 && (*p == '`' || *p == '~') && p[1] == *p && p[2] == *p)
        return *p;
    return 0;
}

/* A line of nothing but "<br>" tags. cmark would open an HTML block
 * there and swallow the Markdown lines after it as HTML; kramdown (the
 * site's parser) sees line breaks in a paragraph. A blank line is closest. */
static int is_br_line(const line *l)
{
    const char *p = skip_blanks(l->p, l->end);
    int n = 0;

    while (l->end - p >= 4 && p[0] == '<' && (p[1] == 'b' || p[1] == 'B') &&
           (p[2] == 'r' || p[2] == 'R')) {
        p = skip_blanks(p + 3, l->end);
        if (p < l->end && *p == '/')
            p++;
        if (p >= l->end || *p != '>')
            return 0;
        p = skip_blanks(p + 1, l->end);
        n++;
    }
    return n > 0 && p == l->end;
}

/* "###Title": kramdown reads an ATX heading without the space CommonMark
 * requires, and the site has such lines. Returns the '#' count, else 0. */
static int tight_heading(const line *l)
{
    int n = 0;

    while (n < 6 && l->p + n < l->end && l->p[n] == '#')
        n++;
    if (n == 0 || l->p + n >= l->end)
        return 0;
    return l->p[n] == '#' || l->p[n] == ' ' || l->p[n] == '\t' ? 0 : n;
}

/* One table line, kramdown attributes removed, as a paragraph of its own. */
static void table_line(const line *l, buf *o)
{
    buf t = {0};
    int in_comment = 0;

    strip_kramdown_line(l->p, l->end, &t, &in_comment);
    if (t.s)
        table_row(t.s, t.s + t.len, o);
    free(t.s);
    o->oom |= t.oom;
}

/* Does a GFM table start at line I: a row with a pipe, then a delimiter? */
static int table_starts(const line *ls, size_t n, size_t i)
{
    return i + 1 < n && has_pipe(ls[i].p, ls[i].end) && !is_delimiter_row(ls[i].p, ls[i].end) &&
           is_delimiter_row(ls[i + 1].p, ls[i + 1].end);
}

/* Writes the table starting at line I (header, delimiter, rows up to the
 * first line without a pipe); returns the index of its last line. */
static size_t table(const line *ls, size_t n, size_t i, buf *o)
{
    table_line(&ls[i], o);
    for (i += 2; i < n && has_pipe(ls[i].p, ls[i].end); i++)
        table_line(&ls[i], o);
    return i - 1;
}

/* Kramdown and tables, outside fenced code only: kramdown leaves code
 * alone and a "|" in a code sample is no table. */
static int strip_blocks(const char *src, size_t len, buf *o)
{
    line *ls;
    size_t n = split_lines(src, src + len, &ls);
    char fence = 0, f;
    int in_comment = 0, h;

    if (!ls && len)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const line *l = &ls[i];
        if (in_comment) {
            strip_kramdown_line(l->p, l->end, o, &in_comment);
        } else if (fence || (f = fence_char(l))) {
            if (!fence)
                fence = f;
            else if (fence_char(l) == fence)
                fence = 0;
            buf_add(o, l->p, (size_t)(l->end - l->p));
        } else if (is_br_line(l)) {
            /* nothing: the line stays, blank */
        } else if ((h = tight_heading(l))) {
            buf_add(o, l->p, (size_t)h);
            buf_add(o, " ", 1);
            strip_kramdown_line(l->p + h, l->end, o, &in_comment);
        } else if (table_starts(ls, n, i)) {
            i = table(ls, n, i, o);
        } else {
            strip_kramdown_line(l->p, l->end, o, &in_comment);
        }
        buf_add(o, "\n", 1);
    }
    free(ls);
    return 0;
}

/* ---- Stage 3: walking the tree --------------------------------------------- */

static int has_inline_html(cmark_node *leaf)
{
    cmark_iter *it = cmark_iter_new(leaf);
    cmark_event_type ev;
    int found = 0;

    while (!found && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
        found = ev == CMARK_EVENT_ENTER &&
                cmark_node_get_type(cmark_iter_get_node(it)) == CMARK_NODE_HTML_INLINE;
    cmark_iter_free(it);
    return found;
}

/* The text of a paragraph or heading without HTML: text and code spans as
 * written, breaks as spaces; links and images give their text (the image
 * "children" are its alt text), never their URL. */
static void inline_text(cmark_node *leaf, buf *o)
{
    cmark_iter *it = cmark_iter_new(leaf);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        switch (cmark_node_get_type(n)) {
        case CMARK_NODE_TEXT:
        case CMARK_NODE_CODE:
        case CMARK_NODE_HTML_INLINE: /* only met in reparse(): it is text */
            buf_str(o, cmark_node_get_literal(n));
            break;
        case CMARK_NODE_SOFTBREAK:
        case CMARK_NODE_LINEBREAK:
        case CMARK_NODE_IMAGE: /* alt text stands apart from what is around */
            buf_add(o, " ", 1);
            break;
        default:
            break;
        }
    }
    cmark_iter_free(it);
}

/* The text of a paragraph or heading, into O. */
static void leaf_text(cmark_node *leaf, buf *o)
{
    if (has_inline_html(leaf)) {
        char *html = cmark_render_html(leaf, CMARK_OPT_UNSAFE);
        char *t = html ? pr_html_to_text(html, strlen(html)) : NULL;
        if (t)
            buf_str(o, t);
        else
            o->oom = 1;
        free(t);
        free(html);
    } else {
        inline_text(leaf, o);
    }
}

static void walk(cmark_node *doc, buf *text, buf *headings, int nested);

/* Markdown inside raw HTML. kramdown, unlike cmark, reads Markdown in the
 * content of many HTML elements ("<p>see [this](url)</p>" is a link on
 * the site), so the text gumbo finds in an HTML block goes through cmark
 * once more, each line a paragraph of its own; HTML met on that second
 * pass is text that was written as entities, and stays text. */
static void reparse(const char *t, buf *text, buf *headings)
{
    buf src = {0};
    cmark_node *doc;

    for (const char *p = t; *p; p++) {
        if (*p == '\n')
            buf_str(&src, "\n\n");
        else
            buf_add(&src, p, 1);
    }
    if (src.oom) {
        text->oom = 1;
        free(src.s);
        return;
    }
    doc = cmark_parse_document(src.s ? src.s : "", src.len, CMARK_OPT_DEFAULT);
    free(src.s);
    if (!doc) {
        text->oom = 1;
        return;
    }
    walk(doc, text, headings, 1);
    cmark_node_free(doc);
}

static void html_block_text(cmark_node *n, buf *text, buf *headings, int nested)
{
    const char *lit = cmark_node_get_literal(n);
    char *t;

    if (!lit)
        return;
    if (nested) {
        buf_str(text, lit);
        return;
    }
    if (!(t = pr_html_to_text(lit, strlen(lit)))) {
        text->oom = 1;
        return;
    }
    if (strpbrk(t, "[*_`#>\\"))
        reparse(t, text, headings);
    else
        buf_str(text, t);
    free(t);
}

/* Heading text as one line of HEADINGS (a <br> inside must not split it). */
static void add_heading(const char *s, size_t n, buf *headings)
{
    for (size_t i = 0; i < n; i++)
        buf_add(headings, s[i] == '\n' ? " " : s + i, 1);
    buf_add(headings, "\n", 1);
}

/* One line per block into TEXT, headings also into HEADINGS. NESTED: the
 * tree comes from reparse(), where HTML is text. */
static void walk(cmark_node *doc, buf *text, buf *headings, int nested)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        size_t start = text->len;
        if (ev != CMARK_EVENT_ENTER)
            continue;
        switch (cmark_node_get_type(n)) {
        case CMARK_NODE_PARAGRAPH:
        case CMARK_NODE_HEADING:
            if (nested)
                inline_text(n, text);
            else
                leaf_text(n, text);
            /* An empty first heading leaves the buffer unallocated. */
            if (cmark_node_get_type(n) == CMARK_NODE_HEADING && !text->oom && text->s)
                add_heading(text->s + start, text->len - start, headings);
            /* Its inlines are done: go straight to its exit. */
            cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
            break;
        case CMARK_NODE_CODE_BLOCK:
            buf_str(text, cmark_node_get_literal(n));
            break;
        case CMARK_NODE_HTML_BLOCK:
            html_block_text(n, text, headings, nested);
            break;
        default:
            continue; /* containers: their children come next */
        }
        buf_add(text, "\n", 1);
    }
    cmark_iter_free(it);
}

/* ---- Output --------------------------------------------------------------- */

/* Collapses blank runs to one space, trims lines and drops empty ones,
 * in place. U+00A0 is not touched (see html_text.c). */
static void tidy(buf *b)
{
    size_t w = 0;
    int space = 0, line_has_text = 0;

    if (!b->s)
        return;
    for (size_t r = 0; r < b->len; r++) {
        char c = b->s[r];
        if ((unsigned char)c > ' ') { /* a run of text, most of the bytes */
            if (space)
                b->s[w++] = ' ';
            while (r + 1 < b->len && (unsigned char)b->s[r + 1] > ' ')
                b->s[w++] = b->s[r++];
            b->s[w++] = b->s[r];
            space = 0;
            line_has_text = 1;
        } else if (c == '\n') {
            if (line_has_text)
                b->s[w++] = '\n';
            space = line_has_text = 0;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            space = line_has_text;
        } else {
            if (space)
                b->s[w++] = ' ';
            b->s[w++] = c;
            space = 0;
            line_has_text = 1;
        }
    }
    if (w && b->s[w - 1] == '\n')
        w--;
    b->s[w] = '\0';
    b->len = w;
}

static char *take(buf *b)
{
    char *s = b->s ? b->s : strdup("");

    b->s = NULL;
    return s;
}

void pr_text_free(pr_text *t)
{
    if (!t)
        return;
    free(t->text);
    free(t->headings);
    t->text = t->headings = NULL;
}

int pr_markdown_to_text(const char *md, size_t len, pr_text *out)
{
    buf liquid = {0}, clean = {0}, text = {0}, headings = {0};
    cmark_node *doc = NULL;
    int oom;

    out->text = out->headings = NULL;
    strip_liquid(md, md + len, &liquid);
    if (!liquid.oom && strip_blocks(liquid.s ? liquid.s : "", liquid.len, &clean) < 0)
        clean.oom = 1;
    oom = liquid.oom || clean.oom;
    free(liquid.s);
    if (!oom)
        doc = cmark_parse_document(clean.s ? clean.s : "", clean.len, CMARK_OPT_DEFAULT);
    free(clean.s);
    if (doc) {
        walk(doc, &text, &headings, 0);
        cmark_node_free(doc);
    }
    if (!doc || text.oom || headings.oom) {
        free(text.s);
        free(headings.s);
        return -1;
    }
    tidy(&text);
    tidy(&headings);
    out->text = take(&text);
    out->headings = take(&headings);
    if (!out->text || !out->headings) {
        pr_text_free(out);
        return -1;
    }
    return 0;
}
