/*
 * html_text.h - the readable text of an HTML fragment, through gumbo.
 *
 * Entities decoded; <script>, <style>, <template> (and comments) dropped;
 * block-level elements (p, div, li, br, td, h1-h6, ...) separate words with
 * a newline so "<p>a</p><p>b</p>" never reads "ab"; inline elements join
 * ("<b>a</b>b" is "ab"). ASCII blank runs collapse to one space (U+00A0
 * is kept); no leading, trailing or empty lines. <img> gives its alt text.
 */
#ifndef HTML_TEXT_H
#define HTML_TEXT_H

#include <stddef.h>

/* The text of LEN bytes of HTML: a malloc'ed NUL-terminated string the
 * caller frees, or NULL when out of memory. Never fails on bad HTML. */
char *pr_html_to_text(const char *html, size_t len);

#endif
