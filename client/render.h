/*
 * render.h - results for a human at a terminal: title_html/snippet_html
 * turned back into text (entities decoded, <mark> in bold on a terminal,
 * dropped elsewhere) and wrapped by display width, so wide characters
 * (CJK, emoji) and combining accents do not garble the layout.
 */
#ifndef RENDER_H
#define RENDER_H

#include <jansson.h>
#include <stdio.h>

/* How to print: BOLD (ANSI) around highlights, WIDTH columns. */
typedef struct render_opts {
    int bold;
    int width;
} render_opts;

/* The plain text of HTML as produced by the search core (escaped text and
 * <mark>), with ANSI bold for marks when BOLD. Malloc'ed, or NULL. */
char *render_html(const char *html, int bold);

/* Columns TEXT takes on a terminal (ANSI sequences take none). */
int render_width(const char *text);

/* Print TEXT wrapped at OPTS->width, each line indented by INDENT. */
void render_wrapped(FILE *out, const char *text, int indent, const render_opts *opts);

/* The human form of a search result JSON (SPEC section 7). */
void render_result(FILE *out, const json_t *result, const render_opts *opts);

#endif
