/*
 * search.h - answering a query: the one entry point the client (direct
 * mode) and the daemon share, so both give byte-identical JSON.
 *
 * A pr_searcher owns one read-only connection to the index and the
 * prepared statements it needs. It belongs to one thread at a time (the
 * daemon gives one to each worker for the worker's whole life).
 */
#ifndef SEARCH_H
#define SEARCH_H

#include <jansson.h>
#include "index_db.h"
#include "pr_error.h"

/* Ranking and limits; pr_search_config_init() sets the SPEC defaults. */
typedef struct pr_search_config {
    double weights[PR_NCOLS]; /* bm25 weights: title 10, headings 5,
                                 chapeau 4, body 1, taxonomy 3 */
    int max_query_bytes;      /* 1024 */
    int max_terms;            /* 32 */
    int max_limit;            /* 100 */
    int snippet_words;        /* about 20-30 words; default 24 */
    int time_budget_ms;       /* per query, 0 = none; default 250 */
    double recency_boost;     /* ties and near-ties: the newest match of a
                                 result set gets its score multiplied by
                                 1 + recency_boost, the oldest by 1, the
                                 others in between by date; default 0.02
                                 (measured on tests/eval: larger values
                                 lower MRR@10) */
    double expansion_factor;  /* pages found only through an acronym or a
                                 synonym (not the words as typed) get their
                                 score multiplied by this; default 0.8
                                 (tests/eval: the same MRR from 0.7 to 0.9) */
    double title_start_boost; /* pages whose title starts with a query term
                                 get their score multiplied by 1 + this;
                                 default 0.1 (tests/eval: no change in MRR
                                 from 0 to 0.3; puts the EIG recruitment
                                 release first for "entrepreneurs interet
                                 general") */
    double title_cover_boost; /* pages whose title holds every required
                                 part of the query (a word, one of an OR,
                                 an acronym or its long form) get their
                                 score multiplied by 1 + this; default 0.2
                                 (measured on tests/eval: 0 -> MRR@10
                                 0.984, 0.1 to 0.5 -> 0.988) */
    int match_walk;           /* 1 (default): find and score the matches
                                 by walking each phrase's pages in one
                                 call where the query's shape allows
                                 (search_walk.c); 0: row by row through
                                 SQL, the reference the walk is tested
                                 against (same pages, same scores) */
    int prefix_stems;         /* 1 (default): a prefix whose every word the
                                 index reaches through its stems is
                                 searched without its surface form
                                 (prefix_surfaces.h; same answer, a
                                 third of the cost at 100k pages); 0:
                                 always with it, the reference */
} pr_search_config;

void pr_search_config_init(pr_search_config *cfg);

/* One search, as given by /search parameters or the client's options.
 * NULL strings mean "not given". */
typedef struct pr_search_request {
    const char *q;           /* what the visitor typed (required, may be "") */
    int limit;               /* 1..cfg.max_limit */
    int offset;              /* >= 0 */
    const char *tag;
    const char *category;
    const char *collection;
    const char *after;       /* YYYY-MM-DD, inclusive */
    const char *before;      /* YYYY-MM-DD, inclusive */
    int prefix;              /* last word is a prefix (as you type) */
    int distinct;            /* fold duplicates (default 1) */
} pr_search_request;

void pr_search_request_init(pr_search_request *req);

/* Result codes of pr_search() and pr_suggest(). */
typedef enum pr_search_status {
    PR_SEARCH_OK = 0,
    PR_SEARCH_BAD_REQUEST = 1, /* the request is refused (HTTP 400, exit 2):
                                  query too long, bad date, bad limit... */
    PR_SEARCH_TIMEOUT = 2,     /* time budget exceeded (HTTP 503) */
    PR_SEARCH_ERROR = 3        /* index unreadable, out of memory (HTTP 500) */
} pr_search_status;

typedef struct pr_searcher pr_searcher;

/*
 * Open a searcher on the index file DB_PATH (read-only). CFG is copied
 * (NULL: defaults). Returns NULL with ERR set when the index is missing,
 * unreadable or of an unknown schema.
 */
pr_searcher *pr_searcher_open(const char *db_path, const pr_search_config *cfg,
                              pr_error *err);

void pr_searcher_close(pr_searcher *s);

/*
 * Reopen the connection if the index file was replaced (another inode at
 * the same path) or FORCE is set. Returns 1 when it reopened, 0 when
 * nothing changed, -1 with ERR set when reopening failed (the old
 * connection is kept and still answers).
 */
int pr_searcher_refresh(pr_searcher *s, int force, pr_error *err);

/*
 * Run REQ. On PR_SEARCH_OK, *RESULT is a new JSON object exactly as SPEC
 * section 7 (the caller json_decref()s it). Otherwise *RESULT is NULL and
 * ERR says why in one line, suitable for a 400 message or stderr.
 */
pr_search_status pr_search(pr_searcher *s, const pr_search_request *req,
                           json_t **result, pr_error *err);

/*
 * As-you-type completions for Q (the last word is a prefix): up to LIMIT
 * suggestions, JSON {"query":Q,"suggestions":[{"text","title","url"}...]}.
 */
pr_search_status pr_suggest(pr_searcher *s, const char *q, int limit,
                            json_t **result, pr_error *err);

/*
 * The one way results are printed, so the daemon's /search body and
 * `prsearch --json` are the same bytes: compact, keys in the order they
 * were built (SPEC section 7's order), reals with up to 10 significant
 * digits. Returns a malloc'ed string without a trailing newline (free()
 * it), or NULL when out of memory.
 */
#define PR_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))
char *pr_json_dump(const json_t *json);

/* Load what searches keep in memory (the vocabulary, the page table) if
 * the index changed since they were loaded, so the next search does not
 * pay for it (up to a second at 100k pages). Errors are left for that
 * search to report. */
void pr_searcher_warm(pr_searcher *s);

/* Documents in the index and its file's mtime (Unix seconds), for /health.
 * Returns 0, or -1 on error. */
int pr_searcher_stats(pr_searcher *s, long long *documents, long long *index_mtime);

#endif
