/*
 * markdown_text.h - Markdown (with raw HTML, Liquid and kramdown) to text.
 *
 * Parses with cmark and walks the tree, keeping the words a visitor reads
 * (SPEC section 2): paragraphs, list items, quotes, headings, tables, code,
 * link text and image alt text; raw HTML goes through html_text.h. Liquid
 * tags and kramdown attribute lists/extensions are removed first.
 */
#ifndef MARKDOWN_TEXT_H
#define MARKDOWN_TEXT_H

#include <stddef.h>

typedef struct pr_text {
    char *text;     /* all the readable text: one line per block (paragraph,
                       list item, heading, table row, code line, HTML block
                       element), lines joined by "\n", blanks collapsed, no
                       empty line, no trailing "\n"; valid UTF-8 */
    char *headings; /* the headings' text only, one per line ("" if none);
                       headings are in TEXT as well */
} pr_text;

/*
 * Convert LEN bytes of UTF-8 Markdown MD. Fills OUT with malloc'ed strings
 * (free with pr_text_free) and returns 0, or -1 when out of memory.
 * Never fails on malformed input.
 */
int pr_markdown_to_text(const char *md, size_t len, pr_text *out);

void pr_text_free(pr_text *t);

#endif
