/*
 * cache.h - answers of /search and /suggest kept in memory, keyed by route
 * and query string, so a query typed by many visitors is computed once per
 * index version. The server empties it whenever the index file or its WAL
 * changes (a reindex commit, a replaced file) and on SIGHUP. Loop thread
 * only: no locks.
 */
#ifndef PR_CACHE_H
#define PR_CACHE_H

#include <stddef.h>

typedef struct pr_cache pr_cache;

/* A cache of at most MAX_ENTRIES answers and MAX_BYTES bytes of keys and
 * bodies (least recently used out first); NULL when out of memory.
 * MAX_ENTRIES 0 gives a cache that keeps nothing. */
pr_cache *pr_cache_new(size_t max_entries, size_t max_bytes);

void pr_cache_free(pr_cache *c);

/* The body stored under KEY (KLEN bytes), its length in *LEN; NULL when
 * absent. Valid until the next put or clear. */
const char *pr_cache_get(pr_cache *c, const char *key, size_t klen, size_t *len);

/* Store a copy of BODY under KEY (replacing an older one). */
void pr_cache_put(pr_cache *c, const char *key, size_t klen, const char *body, size_t len);

/* Forget everything (the index changed). */
void pr_cache_clear(pr_cache *c);

/* Entries, bytes, hits and misses, for /metrics. */
void pr_cache_stats(const pr_cache *c, size_t *entries, size_t *bytes,
                    unsigned long long *hits, unsigned long long *misses);

#endif
