/*
 * search_internal.h - the searcher's insides, shared by search.c (queries
 * and results) and search_suggest.c (as-you-type completions). Not for
 * the daemon or the client: they see search.h only.
 */
#ifndef SEARCH_INTERNAL_H
#define SEARCH_INTERNAL_H

#include <sys/types.h>
#include <time.h>

#include "fr_tokenizer.h"
#include "search.h"

#define PR_STMT_CACHE 24

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
    pr_stmt_slot cache[PR_STMT_CACHE];
    unsigned long tick;
    struct timespec deadline; /* time budget of the running query */
    int budget_on;
    int vocab_ready;          /* temp.fts_vocab exists on this connection */
};

/* The cached statement for SQL, reset with no bindings, or NULL with ERR
 * set. */
sqlite3_stmt *pr_searcher_stmt(pr_searcher *s, const char *sql, pr_error *err);

/* Start / stop the time budget (cfg.time_budget_ms) of one request. */
void pr_searcher_budget_start(pr_searcher *s);
void pr_searcher_budget_stop(pr_searcher *s);

/* Status for a failed sqlite3_step(): TIMEOUT when the budget ran out,
 * else ERROR; ERR gets the message. */
pr_search_status pr_searcher_step_error(pr_searcher *s, int rc, pr_error *err);

/* A corrected version of the query Q in *OUT when some of its words are
 * not in the index (search_spell.c): 1 when corrected, 0 when not, -1 on
 * a read error. */
int pr_spell_correct(pr_searcher *s, const char *q, char **out, pr_error *err);

/* A JSON string of N bytes of S (any bytes: repaired to valid UTF-8). */
json_t *pr_json_text(const char *s, size_t n);

#endif
