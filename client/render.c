/*
 * render.c - human output of prsearch (see render.h).
 *
 * The search core sends HTML-safe text with <mark> highlights; here it
 * becomes terminal text again. Widths come from utf8proc_charwidth so a
 * wrapped line never runs past the edge because of wide characters, and
 * combining marks (decomposed accents) count for nothing.
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define BOLD_ON "\033[1m"
#define BOLD_OFF "\033[22m"

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        char *np;
        while (cap < b->len + n + 1)
            cap *= 2;
        np = realloc(b->p, cap);
        if (!np)
            return;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static const struct { const char *ent; char c; } entities[] = {
    {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''},
};

char *render_html(const char *html, int bold)
{
    sbuf b = {0};
    size_t i, k;

    sb_add(&b, "", 0);
    for (i = 0; html && html[i];) {
        if (!strncmp(html + i, "<mark>", 6)) {
            if (bold)
                sb_add(&b, BOLD_ON, strlen(BOLD_ON));
            i += 6;
            continue;
        }
        if (!strncmp(html + i, "</mark>", 7)) {
            if (bold)
                sb_add(&b, BOLD_OFF, strlen(BOLD_OFF));
            i += 7;
            continue;
        }
        if (html[i] == '&') {
            for (k = 0; k < sizeof entities / sizeof entities[0]; k++) {
                size_t n = strlen(entities[k].ent);
                if (!strncmp(html + i, entities[k].ent, n)) {
                    sb_add(&b, &entities[k].c, 1);
                    i += n;
                    break;
                }
            }
            if (k < sizeof entities / sizeof entities[0])
                continue;
        }
        /* Never pass control characters (escape sequences) to the terminal. */
        sb_add(&b, (unsigned char)html[i] < ' ' || html[i] == 0x7f ? " " : html + i, 1);
        i++;
    }
    return b.p;
}

/* Length of an ANSI CSI sequence at S, or 0. */
static size_t ansi_len(const char *s)
{
    size_t i = 2;

    if (s[0] != '\033' || s[1] != '[')
        return 0;
    while (s[i] && !(s[i] >= '@' && s[i] <= '~'))
        i++;
    return s[i] ? i + 1 : i;
}

/* Width of the character at S (its byte length in *LEN). */
static int char_width(const char *s, size_t n, size_t *len)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp);
    int w;

    if (l <= 0) {
        *len = 1;
        return 1;
    }
    *len = (size_t)l;
    w = utf8proc_charwidth(cp);
    return w < 0 ? 0 : w;
}

int render_width(const char *text)
{
    size_t i = 0, n = strlen(text), l;
    int w = 0;

    while (i < n) {
        if ((l = ansi_len(text + i)) > 0) {
            i += l;
            continue;
        }
        w += char_width(text + i, n - i, &l);
        i += l;
    }
    return w;
}

static void indent_line(FILE *out, int indent)
{
    fprintf(out, "%*s", indent, "");
}

/* A word too wide for a whole line, cut at character boundaries. */
static void put_long_word(FILE *out, const char *w, size_t n, int indent, int avail, int *col)
{
    size_t i = 0, l;

    while (i < n) {
        size_t a = ansi_len(w + i);
        int cw;
        if (a > 0) {
            fwrite(w + i, 1, a, out);
            i += a;
            continue;
        }
        cw = char_width(w + i, n - i, &l);
        if (*col + cw > avail && *col > 0) {
            fputc('\n', out);
            indent_line(out, indent);
            *col = 0;
        }
        fwrite(w + i, 1, l, out);
        *col += cw;
        i += l;
    }
}

/* Wrap TEXT; the first line's indentation is already printed unless
 * INDENT_FIRST. */
static void wrap(FILE *out, const char *text, int indent, int indent_first,
                 const render_opts *opts)
{
    int avail = opts->width - indent, col = 0;
    const char *p = text;

    if (avail < 20)
        avail = 20;
    if (indent_first)
        indent_line(out, indent);
    while (*p) {
        const char *e;
        char *word;
        int w;

        while (*p == ' ')
            p++;
        if (!*p)
            break;
        e = p;
        while (*e && *e != ' ')
            e++;
        word = strndup(p, (size_t)(e - p));
        if (!word)
            break;
        w = render_width(word);
        if (col > 0 && col + 1 + w > avail) {
            fputc('\n', out);
            indent_line(out, indent);
            col = 0;
        }
        if (col > 0) {
            fputc(' ', out);
            col++;
        }
        if (w > avail)
            put_long_word(out, word, strlen(word), indent, avail, &col);
        else {
            fputs(word, out);
            col += w;
        }
        free(word);
        p = e;
    }
    fputc('\n', out);
}

void render_wrapped(FILE *out, const char *text, int indent, const render_opts *opts)
{
    wrap(out, text, indent, 1, opts);
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Text the visitor typed, without control characters (no escape
 * sequences reach the terminal). */
static void put_plain(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < ' ' || *s == 0x7f ? ' ' : *s, out);
}

void render_result(FILE *out, const json_t *result, const render_opts *opts)
{
    const json_t *hits = json_object_get(result, "hits");
    long long total = json_integer_value(json_object_get(result, "total"));
    long long offset = json_integer_value(json_object_get(result, "offset"));
    size_t i, n = json_array_size(hits);
    const char *suggestion = json_string_value(json_object_get(result, "suggestion"));
    char rank[32];

    /* The search core corrects a query with no hits and answers the
     * corrected one; with fewer than 3 hits it answers the query as typed
     * and only suggests. From 3 hits up, the hits are the correction's. */
    if (suggestion && total >= 3) {
        fputs("Aucun résultat pour « ", out);
        put_plain(out, str(result, "query"));
        fputs(" ».\nRésultats pour : ", out);
        put_plain(out, suggestion);
        fputs("\n\n", out);
    } else if (suggestion) {
        fputs("Vouliez-vous dire : ", out);
        put_plain(out, suggestion);
        fputs(" ?\n\n", out);
    }
    for (i = 0; i < n; i++) {
        const json_t *h = json_array_get(hits, i);
        char *title = render_html(str(h, "title_html"), opts->bold);
        char *snippet = render_html(str(h, "snippet_html"), opts->bold);
        const char *date = json_string_value(json_object_get(h, "date"));
        int rl = snprintf(rank, sizeof rank, "%lld. ", offset + (long long)i + 1);

        fputs(rank, out);
        if (title)
            wrap(out, title, rl, 0, opts);
        fprintf(out, "%*s%s%s%s\n", rl, "", date ? date : "", date ? "  " : "", str(h, "url"));
        if (snippet && *snippet)
            render_wrapped(out, snippet, rl, opts);
        fputc('\n', out);
        free(title);
        free(snippet);
    }
    if (n > 0)
        fprintf(out, "%lld-%lld of %lld hit%s\n", offset + 1, offset + (long long)n, total,
                total == 1 ? "" : "s");
    else
        fprintf(out, "%lld hit%s\n", total, total == 1 ? "" : "s");
}
