/*
 * test_daemon_cache.c - the daemon's answer cache: hits, replacement,
 * least-recently-used eviction by count and by size, clearing.
 */
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "unit.h"

static const char *get(pr_cache *c, const char *k)
{
    static char buf[256];
    size_t len;
    const char *v = pr_cache_get(c, k, strlen(k), &len);
    if (!v) return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)len, v);
    return buf;
}

static void put(pr_cache *c, const char *k, const char *v)
{
    pr_cache_put(c, k, strlen(k), v, strlen(v));
}

int main(void)
{
    pr_cache *c = pr_cache_new(3, 1000), *none = pr_cache_new(0, 1000);
    size_t entries, bytes;
    unsigned long long hits, misses;
    put(c, "sq=a", "A");
    put(c, "sq=b", "B");
    CHECK_STR(get(c, "sq=a"), "A");
    CHECK_STR(get(c, "sq=c"), NULL);
    put(c, "sq=a", "A2");
    CHECK_STR_MSG(get(c, "sq=a"), "A2", "a newer answer replaces the old one");
    put(c, "sq=c", "C");
    put(c, "sq=d", "D"); /* evicts b, the least recently used */
    CHECK_STR(get(c, "sq=b"), NULL);
    CHECK_STR(get(c, "sq=a"), "A2");
    CHECK_STR(get(c, "sq=d"), "D");
    pr_cache_stats(c, &entries, &bytes, &hits, &misses);
    CHECK(entries == 3);
    CHECK(bytes == strlen("sq=aA2sq=cCsq=dD"));
    CHECK(hits == 4 && misses == 2);
    put(c, "sq=big", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    CHECK_MSG(get(c, "sq=big") == NULL, "an answer over a quarter of the budget is not kept");
    pr_cache_clear(c);
    CHECK(get(c, "sq=a") == NULL && get(c, "sq=d") == NULL);
    pr_cache_stats(c, &entries, &bytes, &hits, &misses);
    CHECK(entries == 0 && bytes == 0);
    put(none, "sq=a", "A");
    CHECK_MSG(get(none, "sq=a") == NULL, "cache_entries = 0 keeps nothing");
    pr_cache_free(c);
    pr_cache_free(none);
    return unit_done();
}
