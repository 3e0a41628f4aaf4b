/*
 * snippet.h - highlighted extracts of stored text for result pages.
 *
 * A word of the text is highlighted when one of its index tokens (the
 * french tokenizer in DOCUMENT mode, colocated forms included) equals a
 * token of a query term (QUERY mode), or starts with one for prefix terms
 * (PREFIX mode). So the same analysis that decided the match decides the
 * highlight: `recrutement` marks `recrute`, `etat` marks `État` in
 * `l’État`. Output is HTML-escaped text with <mark>…</mark> and nothing
 * else, valid UTF-8 whatever the input.
 */
#ifndef SNIPPET_H
#define SNIPPET_H

#include "fr_tokenizer.h"

/* The query's tokens, built once per query. It also remembers the words
 * analysed for it, so like the tokenizer it serves one thread at a time. */
typedef struct snippet_terms snippet_terms;

snippet_terms *snippet_terms_new(void);
void snippet_terms_free(snippet_terms *st);

/*
 * Add the tokens of one query term (LEN bytes of TEXT) under the id TERM
 * (windows with more distinct terms win). PREFIX: match words starting
 * with its tokens. Returns 0, or -1 when out of memory.
 */
int snippet_terms_add(snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                      int prefix, int term);

/* Forget the terms added, as a new one would have none: cheaper than
 * making a new one, which builds tables every query shares. */
void snippet_terms_clear(snippet_terms *st);

/* Number of tokens added (0: nothing can be highlighted). */
int snippet_terms_count(const snippet_terms *st);

/*
 * All of TEXT (LEN bytes), escaped, with matched words marked. Returns a
 * malloc'ed string, or NULL when out of memory.
 */
char *snippet_highlight(const snippet_terms *st, fr_tokenizer *tok, const char *text, int len);

/*
 * A window of about NWORDS words of TEXT around its densest cluster of
 * matched words (or its beginning when nothing matches), "…" where cut.
 * *SCORE (when not NULL) gets how good the window is: 0 when nothing in it
 * matches, more for more distinct terms and more matches. Returns a
 * malloc'ed string ("" for an empty text), or NULL when out of memory.
 */
char *snippet_build(const snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                    int nwords, int *score);

#endif
