/*
 * document.c - one file of the site, bytes to indexable fields (document.h).
 *
 * The indexer reads a file and calls pr_doc_parse; everything between the
 * raw bytes and the fields stored in SQLite happens here, in this order:
 *
 *   reject empty and binary files -> strip the UTF-8 BOM -> CRLF/CR to LF
 *   (line numbers unchanged) -> repair invalid UTF-8 with U+FFFD ->
 *   front matter (frontmatter.c) -> body and chapeau to text
 *   (markdown_text.c) -> title and date fallbacks -> NFC everywhere.
 *
 * NFC matters because a few real titles are stored decomposed (NFD): "é"
 * as "e" + U+0301 would neither display nor search like the "é" visitors
 * type. Size limits are the indexer's business, not ours.
 */
#include "document.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "html_text.h"
#include "markdown_text.h"

void pr_doc_free(pr_doc *doc)
{
    if (!doc)
        return;
    free(doc->title);
    free(doc->date);
    free(doc->chapeau);
    free(doc->headings);
    free(doc->body);
    free(doc->permalink);
    pr_strlist_free(&doc->categories);
    pr_strlist_free(&doc->tags);
    memset(doc, 0, sizeof *doc);
}

/* ---- Bytes ------------------------------------------------------------ */

static int is_blank_byte(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int has_bom(const char *s, size_t len)
{
    return len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3);
}

/* Reasons to refuse a file before reading it; -1 with ERR set, else 0. */
static int check_bytes(const char *src, size_t len, pr_error *err)
{
    const char *nul = memchr(src, '\0', len);
    size_t i = has_bom(src, len) ? 3 : 0;

    if (len >= 2 && (!memcmp(src, "\xFF\xFE", 2) || !memcmp(src, "\xFE\xFF", 2)))
        return pr_error_set(err, 0, 0, "UTF-16 text (only UTF-8 is read)");
    if (nul)
        return pr_error_set(err, 0, 0, "binary file (NUL byte at offset %zu)",
                            (size_t)(nul - src));
    while (i < len && is_blank_byte((unsigned char)src[i]))
        i++;
    if (i == len)
        return pr_error_set(err, 0, 0, "empty file");
    return 0;
}

/* A copy of SRC (BOM already skipped) with CRLF and lone CR as LF - one
 * break for one break, so line numbers stay those of an editor - and
 * invalid UTF-8 replaced by U+FFFD, one per bad byte. The worst case is 3
 * output bytes per input byte. */
static char *clean_copy(const char *src, size_t len, size_t *out_len, int *repaired)
{
    char *o = malloc(len * 3 + 1);
    size_t w = 0, i = 0;

    if (!o)
        return NULL;
    *repaired = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n;
        if (src[i] == '\r') {
            o[w++] = '\n';
            i += i + 1 < len && src[i + 1] == '\n' ? 2 : 1;
            continue;
        }
        if ((unsigned char)src[i] < 0x80) {
            o[w++] = src[i++];
            continue;
        }
        n = utf8proc_iterate((const utf8proc_uint8_t *)src + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n < 0) {
            memcpy(o + w, "\xEF\xBF\xBD", 3);
            w += 3;
            i++;
            *repaired = 1;
        } else {
            memcpy(o + w, src + i, (size_t)n);
            w += (size_t)n;
            i += (size_t)n;
        }
    }
    o[w] = '\0';
    *out_len = w;
    return o;
}

/* ---- Strings ----------------------------------------------------------- */

/*
 * Non-zero when S is sure to be in NFC already: valid UTF-8 made of
 * U+0000..U+02FF, U+2010..U+205F and U+20AC only. Each of these is its own
 * NFC and no two of them combine (checked against utf8proc for every pair
 * in test_document), so any string of them is NFC. French pages nearly
 * always are; utf8proc's decompose/recompose of every page cost the
 * indexer's parser threads 45% of their time.
 */
static int surely_nfc(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    while (*u) {
        if (u[0] < 0x80) {
            u++;
        } else if (u[0] >= 0xC2 && u[0] <= 0xCB && (u[1] & 0xC0) == 0x80) {
            u += 2; /* U+0080..U+02FF */
        } else if (u[0] == 0xE2 && ((u[1] == 0x80 && u[2] >= 0x90 && u[2] <= 0xBF) ||
                                    (u[1] == 0x81 && u[2] >= 0x80 && u[2] <= 0x9F) ||
                                    (u[1] == 0x82 && u[2] == 0xAC))) {
            u += 3; /* U+2010..U+205F, U+20AC */
        } else {
            return 0;
        }
    }
    return 1;
}

/* S in NFC with ASCII blank runs collapsed to one space and trimmed; S is
 * freed. Returns NULL only when out of memory. */
static char *nfc_collapse(char *s)
{
    utf8proc_uint8_t *nfc = NULL;
    size_t w = 0;
    int space = 0;

    if (!s)
        return NULL;
    if (surely_nfc(s)) {
        nfc = (utf8proc_uint8_t *)s;
        s = NULL;
    } else if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &nfc,
                            UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE) < 0) {
        nfc = (utf8proc_uint8_t *)s; /* cannot happen on repaired UTF-8 */
        s = NULL;
    }
    free(s);
    for (size_t r = 0; nfc[r]; r++) {
        if (is_blank_byte(nfc[r])) {
            space = w > 0;
            continue;
        }
        if (space)
            nfc[w++] = ' ';
        nfc[w++] = nfc[r];
        space = 0;
    }
    nfc[w] = '\0';
    return (char *)nfc;
}

/* S in NFC, line structure kept; S is freed. */
static char *nfc(char *s)
{
    utf8proc_uint8_t *o = NULL;

    if (!s || surely_nfc(s))
        return s;
    if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &o,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE) < 0)
        return s;
    free(s);
    return (char *)o;
}

static int tidy_list(pr_strlist *l)
{
    size_t w = 0, n = l->n;

    for (size_t i = 0; i < n; i++) {
        char *s = nfc_collapse(l->items[i]);
        if (!s) {
            /* Keep the list freeable: items before W are good, I is gone. */
            for (size_t j = i + 1; j < n; j++)
                free(l->items[j]);
            l->n = w;
            return -1;
        }
        if (*s)
            l->items[w++] = s;
        else
            free(s);
    }
    l->n = w;
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ---- Fields ------------------------------------------------------------ */

/* The chapeau as plain text. YAML decodes "\n" in double-quoted strings,
 * but the site also has a literal backslash-n (plain scalars, or "\\n"),
 * meant as a break and never as text: it becomes a space. */
static char *chapeau_text(const char *md)
{
    size_t n = md ? strlen(md) : 0, w = 0;
    char *s = malloc(n + 1);
    pr_text t;

    if (!s)
        return NULL;
    for (size_t r = 0; r < n; r++) {
        if (md[r] == '\\' && r + 1 < n && md[r + 1] == 'n') {
            s[w++] = ' ';
            r++;
        } else {
            s[w++] = md[r];
        }
    }
    s[w] = '\0';
    if (pr_markdown_to_text(s, w, &t) < 0) {
        free(s);
        return NULL;
    }
    free(s);
    free(t.headings);
    return t.text;
}

/* Title fallbacks: front matter, else the first heading, else the file name
 * without its extension. */
static char *pick_title(const pr_frontmatter *fm, const char *headings, const char *basename)
{
    const char *slash = strrchr(basename, '/'), *dot;
    char *t;

    if (fm->title) {
        /* Jekyll layouts print the title unescaped: "&nbsp;" in it is
         * an entity and "<br>" a tag, as far as the reader can see. */
        if (strpbrk(fm->title, "&<"))
            t = pr_html_to_text(fm->title, strlen(fm->title));
        else
            t = strdup(fm->title);
        if (!(t = nfc_collapse(t)) || *t)
            return t;
        free(t);
    }
    if (*headings) {
        const char *nl = strchr(headings, '\n');
        return nfc_collapse(dup_n(headings, nl ? (size_t)(nl - headings) : strlen(headings)));
    }
    if (slash)
        basename = slash + 1;
    dot = strrchr(basename, '.');
    if (!dot || dot == basename)
        dot = basename + strlen(basename);
    return nfc_collapse(dup_n(basename, (size_t)(dot - basename)));
}

static int pick_date(pr_doc *doc, pr_frontmatter *fm, const char *basename)
{
    char buf[11];

    if (fm->date) {
        doc->date = fm->date;
        doc->date_ts = fm->date_ts;
        fm->date = NULL;
    } else if (pr_date_from_filename(basename, buf, &doc->date_ts)) {
        if (!(doc->date = strdup(buf)))
            return -1;
    }
    return 0;
}

/* Fills DOC from the cleaned source S: the steps after the byte checks. */
static int build(pr_doc *doc, const char *s, size_t len, const char *basename, pr_error *err)
{
    pr_frontmatter fm;
    size_t body_off;
    pr_text body;

    if (pr_frontmatter_parse(s, len, &fm, &body_off, err) < 0)
        return -1;
    if (pr_markdown_to_text(s + body_off, len - body_off, &body) < 0) {
        pr_frontmatter_free(&fm);
        return pr_error_set(err, 0, 0, "out of memory");
    }
    doc->body = nfc(body.text);
    doc->headings = nfc(body.headings);
    doc->chapeau = nfc(chapeau_text(fm.chapeau_md));
    doc->title = pick_title(&fm, doc->headings ? doc->headings : "", basename);
    doc->published = fm.published;
    doc->permalink = fm.permalink;
    doc->categories = fm.categories;
    doc->tags = fm.tags;
    fm.permalink = NULL;
    memset(&fm.categories, 0, sizeof fm.categories);
    memset(&fm.tags, 0, sizeof fm.tags);
    int rc = pick_date(doc, &fm, basename);
    pr_frontmatter_free(&fm);
    if (rc < 0 || !doc->body || !doc->headings || !doc->chapeau || !doc->title ||
        tidy_list(&doc->categories) < 0 || tidy_list(&doc->tags) < 0)
        return pr_error_set(err, 0, 0, "out of memory");
    return 0;
}

int pr_doc_parse(const char *src, size_t len, const char *basename, pr_doc *doc,
                 pr_error *err)
{
    char *s;
    size_t n = 0;
    int repaired = 0, rc;

    memset(doc, 0, sizeof *doc);
    pr_error_clear(err);
    if (check_bytes(src, len, err) < 0)
        return -1;
    if (has_bom(src, len)) {
        src += 3;
        len -= 3;
    }
    if (!(s = clean_copy(src, len, &n, &repaired)))
        return pr_error_set(err, 0, 0, "out of memory");
    rc = build(doc, s, n, basename ? basename : "", err);
    free(s);
    if (rc < 0) {
        pr_doc_free(doc);
        return -1;
    }
    doc->utf8_repaired = repaired;
    return 0;
}
