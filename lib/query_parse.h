/*
 * query_parse.h - what a visitor typed, turned into something safe to run
 * (SPEC section 5).
 *
 * The parser never lets user text reach FTS5 or SQL as syntax: every word
 * or phrase becomes a double-quoted FTS5 string (the "french" tokenizer
 * then analyses it), operators are only ever written by the parser, and
 * filters become values for bound SQL parameters. Words that analyse to
 * nothing (stop words, punctuation) are dropped up front, so FTS5 never
 * sees an empty phrase.
 *
 *   eig recrutement          -> "eig" AND "recrutement"
 *   cloud OR souverainete    -> ("cloud" OR "souverainete")
 *   "talents du numerique"   -> "talents du numerique"
 *   recru*                   -> "recru" *
 *   -webinaire               -> exclusion (FTS5 NOT, or SQL NOT IN alone)
 *   tag:EIG year:2021        -> filters (folded value / date range)
 */
#ifndef QUERY_PARSE_H
#define QUERY_PARSE_H

#include "fr_tokenizer.h"
#include "pr_error.h"

/* What a filter restricts. */
typedef enum pr_filter_kind {
    PR_FILTER_TAG,
    PR_FILTER_CATEGORY,
    PR_FILTER_COLLECTION,
    PR_FILTER_AFTER,  /* value: YYYY-MM-DD, inclusive */
    PR_FILTER_BEFORE  /* value: YYYY-MM-DD, inclusive */
} pr_filter_kind;

typedef struct pr_filter {
    pr_filter_kind kind;
    int negated;  /* -tag:EIG: documents without that tag */
    char *value;  /* facets: fr_fold()ed; dates: YYYY-MM-DD */
} pr_filter;

/* A positive word or phrase, kept for highlighting. */
typedef struct pr_query_term {
    char *text;  /* as typed (cleaned UTF-8), without quotes or '*' */
    int prefix;  /* match words starting with it */
    int phrase;
} pr_query_term;

typedef struct pr_query {
    char *match;     /* FTS5 expression of the required part, or NULL */
    char *literal;   /* the same without synonym/acronym expansions, when
                        some word was expanded (else NULL): pages that
                        match only through an expansion rank lower */
    char *exclude;   /* FTS5 expression any excluded term matches, or NULL */
    int dropped;     /* words typed that analyse to nothing (stop words) */
    int nwords;      /* positive words and phrases kept in match */
    unsigned long long literal_phrases; /* bit i: the i-th FTS5 string of
                        match is a word as typed (not an expansion) */
    char phrase_groups[65]; /* for each FTS5 string of match (at most 64),
                        'A' + the index of the required part (a word, an
                        OR group, an expanded run) it belongs to */
    int ngroups;     /* required parts (ANDed) */
    pr_filter *filters;
    int nfilters;
    pr_query_term *terms;
    int nterms;
} pr_query;

struct pr_synonyms;

/* Limits, from pr_search_config, and the expansion rules. */
typedef struct pr_query_limits {
    int max_bytes;  /* longer input: "query too long (max N bytes)" */
    int max_terms;  /* more terms: "too many terms (max N)" */
    int prefix;     /* the last word is a prefix (as-you-type) */
    const struct pr_synonyms *syn; /* NULL: no expansion. Runs of plain
                        words (not quoted, not prefixes, not in an OR)
                        that a rule matches become (words OR "alt" ...) */
    /* NULL, or: does the index reach every word starting with the folded
     * prefix SURFACE (SLEN bytes) through the prefix's other FORMS
     * (prefix_surfaces.h)? Then the prefix is searched without its
     * surface alternative (fts5_french.h FTS5_FRENCH_STEMS_ONLY). */
    int (*stems_cover)(void *ctx, const char *surface, int slen, const char *const *forms,
                       const int *lens, int nforms);
    void *cover_ctx;
} pr_query_limits;

/*
 * Parse the LEN bytes of Q (any bytes at all). TOK analyses words to tell
 * which ones can match. On success fills OUT (free it with query_free())
 * and returns 0; returns -1 with ERR set only when the query is refused
 * (too long, too many terms) or memory runs out (then OUT is empty).
 */
int query_parse(const char *q, size_t len, const pr_query_limits *lim,
                fr_tokenizer *tok, pr_query *out, pr_error *err);

void query_free(pr_query *q);

/*
 * Add a filter given outside the query text (request parameters). VALUE is
 * folded (facets) or checked and normalised (dates: YYYY, YYYY-MM or
 * YYYY-MM-DD). Returns 0, or -1 with ERR set for a bad date or no memory.
 */
int query_add_filter(pr_query *q, pr_filter_kind kind, const char *value,
                     pr_error *err);

/*
 * Normalise a date filter value: "2021" / "2021-03" / "2021-03-01" to a
 * full YYYY-MM-DD in OUT (11 bytes), the first (AFTER) or last (BEFORE)
 * day of the period. Returns 0, or -1 when VALUE is not such a date.
 */
int query_date_bound(const char *value, size_t len, int last, char out[11]);

#endif
