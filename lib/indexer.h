/*
 * indexer.h - one prsearch-index run: walk the given paths, parse what
 * changed, write it to the index in a single transaction.
 *
 * The run is incremental: a file whose size and mtime match the index is
 * skipped without being read; one whose bytes hash the same only has its
 * mtime refreshed. Files are read and parsed on worker threads while the
 * calling thread, the only writer, inserts them in order.
 */
#ifndef INDEXER_H
#define INDEXER_H

#include <sqlite3.h>
#include "pr_error.h"

typedef struct pr_index_options {
    int full;            /* rebuild every page under the paths */
    int threads;         /* parser threads; 0 = number of cores */
    long long max_size;  /* bigger files are rejected; 0 = default */
    const char *synonyms; /* text of a synonyms file to store in the index
                             (docs/synonyms.md), "" to remove it; NULL
                             keeps what the index has */
} pr_index_options;

typedef struct pr_index_stats {
    long files, added, updated, removed, unchanged, rejected;
    long long documents; /* in the index after the run */
    double seconds;
} pr_index_stats;

/* What the run tells its caller as it goes. */
typedef enum pr_index_event {
    PR_EVENT_REJECTED,  /* a file is not indexed: ERR says why */
    PR_EVENT_WARNING,   /* indexed, but something was repaired */
    PR_EVENT_PROGRESS   /* DONE of TOTAL files handled */
} pr_index_event;

typedef struct pr_index_report {
    pr_index_event event;
    const char *path;    /* as given on the command line + relative part */
    const pr_error *err; /* REJECTED, WARNING */
    long done, total;    /* PROGRESS */
} pr_index_report;

typedef void (*pr_index_report_fn)(void *ctx, const pr_index_report *r);

/*
 * Index PATHS (files, folders or Jekyll site roots) into DB, a connection
 * from pr_index_open() that no other thread uses meanwhile. Everything is
 * committed at once, or nothing: on a fatal error (unreadable PATH, disk
 * full, ...) the index is left as it was and -1 is returned with ERR set.
 * Returns 0 otherwise (rejected files are counted in STATS, not fatal).
 * REPORT may be NULL.
 */
int pr_index_run(sqlite3 *db, char *const *paths, int npaths, const pr_index_options *opts,
                 pr_index_stats *stats, pr_index_report_fn report, void *ctx, pr_error *err);

#endif
