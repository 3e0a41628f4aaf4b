/*
 * lexicon.h - what the index knows about its own words, beyond FTS5:
 * the vocabulary (folded surface words with document frequency and the
 * form to display), the acronyms the pages define, and a fingerprint of
 * each page's body for near-duplicate detection.
 *
 * The indexer keeps these tables in step with `documents` (schema in
 * index_db.h): for each page it changes, pr_derived_doc(-1) before the
 * change (the old text leaves the vocabulary) and pr_derived_doc(+1)
 * after it, then pr_derived_finish() once before COMMIT. The searcher
 * only reads them (search_lexicon.c): typo correction and as-you-type
 * terms come from `vocab`, acronym expansion from `doc_acronyms`,
 * duplicate folding from `doc_dups`.
 *
 * Words are cut here, not by the FTS5 tokenizer: the vocabulary holds
 * what people type (surface words, folded), not stems.
 */
#ifndef LEXICON_H
#define LEXICON_H

#include <sqlite3.h>
#include <stdint.h>

#include "pr_error.h"

/*
 * Called for each word of a text: FOLDED is the folded word (lower case,
 * no diacritics), FORM the word as it should be displayed (lower case
 * unless it has capitals after its first letter: "FranceConnect", "DINUM"),
 * both NUL-terminated and valid during the call only. START/END: byte span
 * of the word in the text. Return non-zero to stop.
 */
typedef int (*pr_word_fn)(void *ctx, const char *folded, const char *form, int start, int end);

/*
 * Cut TEXT (LEN bytes of UTF-8) into words: runs of letters (a word with
 * a digit or of one letter is passed over), apostrophes and hyphens
 * separate words. Returns 0, the first non-zero value FN returned, or -1
 * out of memory.
 */
int pr_words(const char *text, int len, pr_word_fn fn, void *ctx);

/* 64-bit SimHash of the word 3-shingles of TEXT; 0 when the text has
 * fewer than PR_SIMHASH_MIN_WORDS words (too short to judge). */
#define PR_SIMHASH_MIN_WORDS 40
uint64_t pr_simhash(const char *text, int len);

/* Two bodies whose SimHash differ in at most this many bits are the same
 * page. Measured on the corpus (docs/duplicates.md): every pair at 0 to 9
 * bits is one release twice (word overlap 0.82 to 1.0), the nearest
 * different pages are 12 bits apart, the rest 17 or more. */
#define PR_SIMHASH_MAX_BITS 7

/* A word of a text as pr_words cuts it, with what the vocabulary, the
 * acronyms and the fingerprint need. */
typedef struct pr_word {
    int start, end;            /* bytes [start, end) of the text */
    const char *folded, *form; /* as pr_word_fn receives them */
    int flen, mlen;            /* their lengths */
    int stop;                  /* folded is a stop word */
    uint64_t fh;               /* FNV-1a 64 of folded */
    long long *pages;          /* the lexer's count for this spelling */
} pr_word;

/* Word cutting with a cache of folded and display forms (French text is
 * Zipfian): one per thread. */
typedef struct pr_lexer pr_lexer;

pr_lexer *pr_lexer_new(void);
/* Free LX; counts not moved by pr_lexer_flush_counts() are lost. */
void pr_lexer_free(pr_lexer *lx);
/* Reset LX's cache when it holds more than N spellings (default 1M),
 * between pages: a bound on memory, and how tests make it reset. */
void pr_lexer_set_max_entries(pr_lexer *lx, size_t n);

/*
 * What one page gives the derived tables, computed from its text alone
 * (no index needed: the indexer's parser threads do it). The columns are
 * those of fts: title, headings, chapeau, body, taxonomy.
 */
#define PR_FACT_COLS 5
#define PR_VOCAB_KEY_MAX 512 /* longer folded + form pairs are not counted */
/* WHAT: PR_FACTS_ALL: also acronyms and fingerprint, else words only;
 * PR_FACTS_COUNT: count the words (+1 each, as pr_vocab_delta_count()
 * would) on the lexer's cache entries instead of listing them in WORDS,
 * for the delta given to pr_lexer_count_into(): no string is built and no
 * map probed per word of a page, only once per spelling when the counts
 * are moved. */
enum { PR_FACTS_ALL = 1, PR_FACTS_COUNT = 2 };
typedef struct pr_page_facts {
    char *words;      /* NWORDS "folded\tform\0": each folded word once, first form
                         (none with PR_FACTS_COUNT) */
    int nwords;
    char *acronyms;   /* NACRONYMS "acronym\0long form\0key\0" (acronyms.h) */
    int nacronyms;
    uint64_t simhash; /* of chapeau + "\n" + body (pr_simhash), 0 for none */
    void *priv;
} pr_page_facts;

int pr_page_facts_compute(pr_lexer *lx, const char *const text[PR_FACT_COLS],
                          const int len[PR_FACT_COLS], int what, pr_page_facts *f);
void pr_page_facts_free(pr_page_facts *f);

/* The run-wide state of the derived tables (vocabulary deltas, caches). */
typedef struct pr_derived pr_derived;

pr_derived *pr_derived_new(sqlite3 *db);
void pr_derived_free(pr_derived *d);

/*
 * Account for page ID as it is now in `documents`: SIGN -1 before it is
 * changed or deleted (its words leave the vocabulary), +1 after it was
 * written (its words enter the vocabulary, its acronyms and fingerprint
 * are stored). Returns 0, or -1 with ERR set.
 */
int pr_derived_doc(pr_derived *d, sqlite3_int64 id, int sign, pr_error *err);

/*
 * pr_derived_doc(+1) for a page whose facts were computed beforehand
 * (pr_page_facts_compute with PR_FACTS_ALL on the text just written), except
 * the fingerprint, which the caller stores in documents.simhash itself, and
 * the words, which the caller counts (pr_vocab_delta_count, on the thread
 * that computed the facts) and hands over with pr_derived_merge.
 * FRESH: the row ID was just inserted, so it has no acronyms to replace.
 */
int pr_derived_add(pr_derived *d, sqlite3_int64 id, int fresh, const pr_page_facts *f,
                   pr_error *err);

/* Changes of document frequency per (folded word, form): counted apart,
 * one per thread, then added to a run's own changes. */
typedef struct pr_vocab_delta pr_vocab_delta;

pr_vocab_delta *pr_vocab_delta_new(void);
void pr_vocab_delta_free(pr_vocab_delta *v);
/* Count each word of F, SIGN times. Returns 0, or -1 out of memory. */
int pr_vocab_delta_count(pr_vocab_delta *v, const pr_page_facts *f, int sign);
/* Have LX count pages computed with PR_FACTS_COUNT for V. */
void pr_lexer_count_into(pr_lexer *lx, pr_vocab_delta *v);
/* Move LX's counts to its delta (also done before LX resets its cache).
 * Returns 0, or -1 out of memory (the counts not moved stay). */
int pr_lexer_flush_counts(pr_lexer *lx);
/* Add V to the run's changes (before pr_derived_finish). */
int pr_derived_merge(pr_derived *d, const pr_vocab_delta *v, pr_error *err);

/* Write the vocabulary deltas and, when pages were added, changed or
 * removed, regroup duplicates; inside the run's transaction. Returns 0, or
 * -1 with ERR set. */
int pr_derived_finish(pr_derived *d, pr_error *err);

/* Recompute the duplicate groups alone (schema migration). */
int pr_derived_regroup(sqlite3 *db, pr_error *err);

/* Recompute every derived table from all of `documents` (schema
 * migration, tests). Runs inside the caller's transaction if any.
 * Returns 0, or -1 with ERR set. */
int pr_derived_rebuild(sqlite3 *db, pr_error *err);

#endif
