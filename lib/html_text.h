/*
 * html_text.h - the readable text of an HTML fragment, through gumbo.
 *
 * Entities decoded; <script>, <style>, <template> (and comments) dropped;
 * block-level elements (p, div, li, br, td, h1-h6, ...) separate words with
 * a newline so "<p>a</p><p>b</p>" never reads "ab".
 */
#ifndef HTML_TEXT_H
#define HTML_TEXT_H

#include <stddef.h>

/* The text of LEN bytes of HTML: a malloc'ed NUL-terminated string the
 * caller frees, or NULL when out of memory. Never fails on bad HTML. */
char *pr_html_to_text(const char *html, size_t len);

#endif
