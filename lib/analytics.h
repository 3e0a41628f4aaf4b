/*
 * analytics.h - search analytics: what visitors look for, and what they
 * do not find. prsearchd writes one row per (day, normalised query) into
 * a SQLite file of its own, beside the index (never the index itself: a
 * replaced index must not take the figures with it); `prsearch --stats`
 * reads it. Nothing personal is kept: no address, no cookie, no user
 * agent, no time finer than the day.
 */
#ifndef PR_ANALYTICS_H
#define PR_ANALYTICS_H

#include <stddef.h>
#include <time.h>

#include "pr_error.h"

/*
 * The analytics file of the index DB when none is configured: DB with its
 * ".db" suffix replaced by ".analytics.db" (prsearch.db ->
 * prsearch.analytics.db), else DB + ".analytics.db". Malloc'd; NULL when
 * out of memory.
 */
char *pr_analytics_default_path(const char *db);

/* What a flood of unique searches can cost: a stored query is cut to
 * PR_ANALYTICS_QUERY_MAX bytes, and past PR_ANALYTICS_MAX_PER_DAY distinct
 * queries in a day only those already seen that day are still counted
 * (about 3 MB a day at worst). */
#define PR_ANALYTICS_QUERY_MAX 256
#define PR_ANALYTICS_MAX_PER_DAY 10000

/*
 * The normalised form of a search: Q folded (lower case, no diacritics,
 * typographic apostrophes as '), whitespace collapsed, then its filters
 * in a fixed order in the query language's syntax (`collection:x`,
 * `category:"y z"`, `tag:t`, `year:2021` for a whole year, else `after:`
 * and `before:`), cut to PR_ANALYTICS_QUERY_MAX bytes at a character
 * boundary. Any argument may be NULL. Malloc'd; NULL when empty
 * (nothing worth counting) or out of memory.
 */
char *pr_analytics_normalize(const char *q, const char *collection, const char *category,
                             const char *tag, const char *after, const char *before);

/* A writer: one connection, for one thread at a time. */
typedef struct pr_analytics pr_analytics;

/* Open PATH for writing, creating it and its table if missing. Returns
 * NULL with ERR set when it cannot be written. */
pr_analytics *pr_analytics_open(const char *path, pr_error *err);

/* Count one search of QUERY (normalised) on the day of WHEN (UTC) that
 * found HITS pages. Call between begin and commit to batch. */
int pr_analytics_add(pr_analytics *a, time_t when, const char *query, long hits,
                     pr_error *err);
int pr_analytics_begin(pr_analytics *a, pr_error *err);
int pr_analytics_commit(pr_analytics *a, pr_error *err);

void pr_analytics_close(pr_analytics *a);

/*
 * `prsearch --stats [--since DATE] [-n N] [--json] [-d DB | --analytics FILE]`:
 * top queries, queries with no results, searches per day (or per week
 * over long periods). ARGV is the whole command line of prsearch;
 * "--stats" is skipped. Returns the exit status: 0, or 2 on error.
 */
int pr_analytics_stats_main(int argc, char **argv);

#endif
