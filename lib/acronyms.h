/*
 * acronyms.h - acronyms a text defines, learned at index time.
 *
 * French administrative writing defines its acronyms in parentheses:
 *
 *   Entrepreneurs d’intérêt général (EIG)
 *   direction interministérielle du numérique (DINUM)
 *   la DINUM (direction interministérielle du numérique)
 *
 * The acronym's letters are matched, right to left, to the initials of
 * the words next to it: every content word gives the start of itself
 * (one letter, or several: "numérique" gives NUM), stop words and elided
 * articles may be skipped or give their initial ("Pour des IA
 * Francophones (PIAF)"), nothing else may be skipped, and the words must
 * stay in one sentence. Mixed-case acronyms use their capitals only
 * (DGFiP -> D G F P). The indexer stores what this finds per page
 * (doc_acronyms); the searcher expands queries with it.
 */
#ifndef ACRONYMS_H
#define ACRONYMS_H

/*
 * Called for each definition found: ACRONYM as written ("EIG"), LONG_FORM
 * as written but lower-cased word by word unless a word has inner
 * capitals ("entrepreneurs d’intérêt général"), KEY its folded content
 * words joined by single spaces ("entrepreneurs interet general"). All
 * NUL-terminated, valid during the call. Return non-zero to stop.
 */
typedef int (*pr_acronym_fn)(void *ctx, const char *acronym, const char *long_form,
                             const char *key);

/* Find the definitions in LEN bytes of TEXT. Returns 0, the first non-zero
 * value FN returned, or -1 out of memory. */
int pr_acronyms_learn(const char *text, int len, pr_acronym_fn fn, void *ctx);

/* The same, TEXT already cut into its N WORDS by pr_words (a pr_lexer,
 * lexicon.h). */
struct pr_word;
int pr_acronyms_learn_words(const char *text, int len, const struct pr_word *words, int n,
                            pr_acronym_fn fn, void *ctx);

#endif
