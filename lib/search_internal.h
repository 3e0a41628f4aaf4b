/*
 * search_internal.h - the searcher's insides, shared by search.c (queries
 * and results) and search_suggest.c (as-you-type completions). Not for
 * the daemon or the client: they see search.h only.
 */
#ifndef SEARCH_INTERNAL_H
#define SEARCH_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "fr_tokenizer.h"
#include "search.h"
#include "snippet.h"

#define PR_STMT_CACHE 24

struct pr_synonyms;
/* The index's vocabulary and expansion rules, in memory (search_lexicon.c). */
typedef struct search_lexicon search_lexicon;
/* What ranking, folding and facets need of every page, in memory
 * (search_docs.c). */
typedef struct search_docs search_docs;

/* A prepared statement kept for the life of the connection, found again
 * by its SQL text (the search SQL depends on which filters are used). */
typedef struct pr_stmt_slot {
    char *sql;
    sqlite3_stmt *st;
    unsigned long used; /* for least-recently-used eviction */
} pr_stmt_slot;

struct pr_searcher {
    char *path;
    sqlite3 *db;
    dev_t dev;
    ino_t ino;
    pr_search_config cfg;
    fr_tokenizer *tok;
    snippet_terms *terms;     /* the running query's, cleared for each */
    pr_stmt_slot cache[PR_STMT_CACHE];
    unsigned long tick;
    struct timespec deadline; /* time budget of the running query */
    int budget_on;
    int vocab_ready;          /* temp.fts_vocab exists on this connection */
    search_lexicon *lex;      /* NULL until first needed; see pr_lexicon_get */
    search_docs *docs;        /* NULL until first needed; see pr_docs_get */
};

/* PRAGMA data_version of the connection: moves when another connection
 * commits. -1 on a read error. */
long long pr_searcher_data_version(pr_searcher *s);

/* The cached statement for SQL, reset with no bindings, or NULL with ERR
 * set. */
sqlite3_stmt *pr_searcher_stmt(pr_searcher *s, const char *sql, pr_error *err);

/* Start / stop the time budget (cfg.time_budget_ms) of one request. */
void pr_searcher_budget_start(pr_searcher *s);
void pr_searcher_budget_stop(pr_searcher *s);
/* Non-zero when the running request's budget is spent. Work done inside
 * one call of an FTS5 function runs no SQL opcode, so SQLite's progress
 * handler cannot stop it: such work asks this now and then. */
int pr_searcher_over_budget(pr_searcher *s);


/* Status for a failed sqlite3_step(): TIMEOUT when the budget ran out,
 * else ERROR; ERR gets the message. */
pr_search_status pr_searcher_step_error(pr_searcher *s, int rc, pr_error *err);

/* A corrected version of the query Q in *OUT (search_spell.c): words
 * that match nothing are replaced by their closest vocabulary word; with
 * RARE_TOO, so are words that match so few pages (the query had few
 * hits) that a close word is far more common. 1 when corrected, 0 when
 * not, -1 on a read error. */
int pr_spell_correct(pr_searcher *s, const char *q, int rare_too, char **out, pr_error *err);

/* The lexicon of the index as it is now: loaded on first use, reloaded
 * when the index changed. NULL with ERR set on a read error. */
search_lexicon *pr_lexicon_get(pr_searcher *s, pr_error *err);
void pr_lexicon_free(search_lexicon *lx);
const struct pr_synonyms *pr_lexicon_synonyms(const search_lexicon *lx);

/* Pages using the folded word TERM (0 when it is not in the vocabulary). */
long long pr_lexicon_df(const search_lexicon *lx, const char *term);

/* The closest vocabulary word to the folded word W within MAXD edits
 * (distance first, then the most pages), ignoring words used by fewer
 * than MIN_DF pages; NULL when none. *DIST gets its distance. */
const char *pr_lexicon_correct(const search_lexicon *lx, const char *w, int maxd,
                               long long min_df, int *dist);

/* Up to LIMIT words starting with the folded PREFIX, most pages first:
 * their display forms in FORMS and frequencies in DFS. Returns how many. */
int pr_lexicon_complete(const search_lexicon *lx, const char *prefix, int limit,
                        const char **forms, long long *dfs);

/* ---- search_rank.c ---- */

/* Register pr_bm25(), title_start() and title_cover() on DB, S's
 * connection (pr_bm25 reads S's page table). 0, or -1 on failure. */
int pr_rank_register(sqlite3 *db, pr_searcher *s);

/* One phrase's part of a bm25 score (search_rank.c): pr_bm25 and
 * pr_match_walk both add these, so they give the same bits. */
double pr_bm25_part(double idf, double freq, double len, double avgdl);
/* bm25's IDF of a phrase in HITS of NROW rows. */
double pr_bm25_idf(sqlite3_int64 nrow, sqlite3_int64 hits);

/* The auxiliary functions pr_match_walk and pr_match_row, for
 * pr_rank_register. */
void pr_match_walk(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                   int nval, sqlite3_value **vals);
void pr_match_row(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                  int nval, sqlite3_value **vals);

/*
 * The rows pr_match_walk(fts, PTR, W..., EXPR) scored (search_walk.c):
 * PTR is one of these, bound with sqlite3_bind_pointer(.., PR_SCORED_PTR,
 * ..); W the column weights; EXPR the MATCH expression. Called on the
 * first matching row, when the expression has a shape it walks, it finds
 * every matching row from the phrases' own rows, scores them with
 * pr_bm25's arithmetic and sets HANDLED; else it leaves HANDLED 0 and the
 * caller runs the SQL. The caller frees V.
 *
 * For a lone prefix (pr_walk_by_rows), FTS5 merges the pages of every
 * word the prefix starts when a cursor starts, and a walk would merge
 * them twice: there pr_match_row(fts, PTR, W...) is called on every row
 * instead (it keeps the row, returns NULL) and pr_scored_finish() scores.
 */
#define PR_SCORED_PTR "pr_scored"
typedef struct pr_scored_row {
    sqlite3_int64 id;    /* ascending */
    double score;        /* bm25, larger is better (pr_bm25 negated) */
    int title_start, title_cover; /* as title_start() and title_cover() */
    int ntok;            /* scratch: the row's length */
    /* With WANT_LITERAL: whether the row matches the query's words as
     * typed (pr_query literal) and their score there, the bits pr_bm25
     * gives on the literal expression */
    int lit_ok;
    double lit_score;
} pr_scored_row;

typedef struct pr_scored {
    /* in: the arguments search.c gives title_start() and title_cover() */
    unsigned long long literal; /* pr_query literal_phrases */
    const char *groups;         /* pr_query phrase_groups */
    int want_literal;           /* the query has a literal form: score it */
    int literal_done;           /* out: lit_ok and lit_score are set */
    /* out */
    pr_scored_row *v;
    int n, cap;
    int handled;
    /* pr_match_row's state */
    int started, failed;
    sqlite3_int64 nrow, ntok;   /* rows and tokens of the table */
    double w[8];
    int nweight;
} pr_scored;

/* V (N used of *CAP items of SIZE bytes) with room for one more: V or a
 * new block, *CAP updated (doubling, 256 first); NULL out of memory (V is
 * left as it was, still owned by the caller). */
void *pr_room_for_one(void *v, int n, int *cap, size_t size);

/* Is EXPR a lone prefix, scored row by row (pr_match_row)? */
int pr_walk_by_rows(const char *expr);
/* Scores the rows pr_match_row collected; sets HANDLED unless it failed.
 * S (may be NULL) remembers the phrase count of EXPR. */
void pr_scored_finish(pr_scored *sc, pr_searcher *s, const char *expr);

/* ---- search_docs.c ---- */

/* Facet kinds, in the order of the answer's "facets" object. */
enum { PR_FACET_COLLECTION, PR_FACET_CATEGORY, PR_FACET_TAG, PR_FACET_YEAR, PR_FACET_N };

/* The facet kind named K in doc_facets ("tag"...), or -1. */
int pr_docs_facet_kind(const char *k);

/* A page's date when it has none (sorts before every real one). */
#define PR_DOCS_UNDATED INT64_MIN

/* One spelling of a facet value; the forms of one value share GROUP. */
typedef struct pr_docs_form {
    int kind;      /* PR_FACET_* */
    int group;
    char *folded;
    char *value;
} pr_docs_form;

/* The table of the index as it is now, in the searcher's read
 * transaction: loaded on first use, reloaded when the index changed.
 * Owned by S. NULL with ERR set on a read error or out of memory. */
search_docs *pr_docs_get(pr_searcher *s, pr_error *err);
void pr_docs_free(search_docs *d);

/* Index of the page ID in D's arrays, or -1 when D does not know it. The
 * accessors below take such an index; -1 gives "undated, alone, no facet". */
int pr_docs_index(const search_docs *d, sqlite3_int64 id);
int pr_docs_count(const search_docs *d);
sqlite3_int64 pr_docs_date(const search_docs *d, int i);
/* The page's day (its `date`) as YYYYMMDD, 0 when it has none. */
int pr_docs_day(const search_docs *d, int i);
/* The id of page I (0 <= I < pr_docs_count()). */
sqlite3_int64 pr_docs_id(const search_docs *d, int i);
sqlite3_int64 pr_docs_group(const search_docs *d, int i);
/* Tokens of page I in the FTS5 table (its fts_docsize), -1 if unknown. */
int pr_docs_tokens(const search_docs *d, int i);
/* The forms of page I in *FORMS (indexes for pr_docs_form_at); returns
 * how many. */
int pr_docs_forms(const search_docs *d, int i, const int **forms);
/* Number of forms; *NGROUPS (if not NULL) gets the number of groups. */
int pr_docs_nforms(const search_docs *d, int *ngroups);
const pr_docs_form *pr_docs_form_at(const search_docs *d, int f);
/* The group of the facet value (KIND, FOLDED), or -1 when no page has it. */
int pr_docs_find_group(const search_docs *d, int kind, const char *folded);
/* Non-zero when page I has a form of GROUP. */
int pr_docs_has_group(const search_docs *d, int i, int group);

/* The number of pages each of the NPHRASE phrases of the FTS5 expression
 * EXPR matches in D's index version, as remembered by
 * pr_docs_phrase_hits_put, or NULL (not seen, or cleared). Owned by D. */
const sqlite3_int64 *pr_docs_phrase_hits(const search_docs *d, const char *expr, int nphrase);
/* Remember HITS (copied) for EXPR; silently not on out of memory. */
void pr_docs_phrase_hits_put(search_docs *d, const char *expr, const sqlite3_int64 *hits,
                             int nphrase);

/* A JSON string of N bytes of S (any bytes: repaired to valid UTF-8). */
json_t *pr_json_text(const char *s, size_t n);

#endif
