/*
 * synonyms.h - query expansion: acronyms learned from the corpus
 * (doc_acronyms, see acronyms.h) and the site's synonyms file, stored in
 * the index by `prsearch-index --synonyms FILE` (meta 'synonyms').
 *
 * The synonyms file (docs/synonyms.md), one rule per line:
 *
 *   # a comment
 *   cloud = informatique en nuage = nuage    each finds the others
 *   EIG => entrepreneurs d'intérêt général   the left side also finds the right
 *   !ADA                                     forget what was learned for ADA
 *
 * A word or phrase the file puts on a left side (or in a group) replaces
 * every pair learned for it; "!X" drops them. A learned pair works both
 * ways: the acronym finds its long form, the long form its acronym.
 *
 * The searcher loads the rules once per index version (search_lexicon.c)
 * and query_parse.c looks each run of plain query words up with
 * pr_synonyms_match(). Rules compare analysed tokens (the french
 * tokenizer in QUERY mode, of the words as written and folded), so
 * "entrepreneur interet general" meets "Entrepreneurs d’intérêt général".
 */
#ifndef SYNONYMS_H
#define SYNONYMS_H

#include <sqlite3.h>

#include "fr_tokenizer.h"
#include "pr_error.h"

typedef struct pr_synonyms pr_synonyms;

/* Check the text of a synonyms file. Returns 0, or -1 with ERR set (line
 * and column of the first bad line). */
int pr_synonyms_check(const char *text, pr_error *err);

/*
 * The rules of the index DB: learned acronyms (the MAX_LONG most frequent
 * long forms of each) and the synonyms file stored in it, with the
 * file's overrides applied. TOK analyses the words. NULL with ERR set on a
 * read error or when out of memory (an index without rules gives an empty
 * set).
 */
pr_synonyms *pr_synonyms_load(sqlite3 *db, fr_tokenizer *tok, pr_error *err);

void pr_synonyms_free(pr_synonyms *s);

/* Number of rules (0: nothing can expand). */
int pr_synonyms_count(const pr_synonyms *s);

/*
 * The longest rule whose left side is the start of TOKS (NTOKS analysed
 * query tokens, one per position). Returns how many tokens it covers (0:
 * none) and its alternatives (texts to search for as phrases) in *ALTS /
 * *NALTS, valid as long as S lives.
 */
int pr_synonyms_match(const pr_synonyms *s, const char *const *toks, int ntoks,
                      const char *const **alts, int *nalts);

/*
 * Every pair as `prsearch-index --list-acronyms` shows it: learned pairs
 * with the number of pages that define them (ORIGIN "learned", or
 * "cancelled" when the synonyms file overrides them), then the file's
 * rules (ORIGIN "synonyms", DOCS -1). FN returns non-zero to stop.
 */
typedef int (*pr_pair_fn)(void *ctx, const char *left, const char *right, long long docs,
                          const char *origin);
int pr_synonyms_list(sqlite3 *db, pr_pair_fn fn, void *ctx, pr_error *err);

#endif
