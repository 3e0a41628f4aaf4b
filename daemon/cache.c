/*
 * cache.c - the answer cache (cache.h): a hash table of entries chained
 * in a least-recently-used list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

struct entry {
    struct entry *hnext;        /* same bucket */
    struct entry *prev, *next;  /* LRU list, most recent first */
    uint64_t hash;
    size_t klen, len;
    char *body;                 /* key bytes, then body bytes */
};

struct pr_cache {
    size_t max_entries, max_bytes;
    size_t nbuckets;
    struct entry **buckets;
    struct entry *head, *tail;
    size_t entries, bytes;
    unsigned long long hits, misses;
};

/* FNV-1a: keys are short query strings. */
static uint64_t hash_key(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ull;
    }
    return h;
}

pr_cache *pr_cache_new(size_t max_entries, size_t max_bytes)
{
    pr_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    c->nbuckets = 64;
    while (c->nbuckets < max_entries) c->nbuckets *= 2;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    return c;
}

static void lru_unlink(pr_cache *c, struct entry *e)
{
    if (e->prev) e->prev->next = e->next;
    else c->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(pr_cache *c, struct entry *e)
{
    e->next = c->head;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
}

static struct entry **find_slot(pr_cache *c, const char *key, size_t klen, uint64_t h)
{
    struct entry **p = &c->buckets[h & (c->nbuckets - 1)];
    while (*p && !((*p)->hash == h && (*p)->klen == klen && !memcmp((*p)->body, key, klen)))
        p = &(*p)->hnext;
    return p;
}

static void drop(pr_cache *c, struct entry *e)
{
    struct entry **p = find_slot(c, e->body, e->klen, e->hash);
    *p = e->hnext;
    lru_unlink(c, e);
    c->entries--;
    c->bytes -= e->klen + e->len;
    free(e->body);
    free(e);
}

const char *pr_cache_get(pr_cache *c, const char *key, size_t klen, size_t *len)
{
    struct entry *e = *find_slot(c, key, klen, hash_key(key, klen));
    if (!e) {
        c->misses++;
        return NULL;
    }
    c->hits++;
    lru_unlink(c, e);
    lru_push(c, e);
    *len = e->len;
    return e->body + e->klen;
}

void pr_cache_put(pr_cache *c, const char *key, size_t klen, const char *body, size_t len)
{
    uint64_t h = hash_key(key, klen);
    struct entry **p, *e;
    if (c->max_entries == 0 || klen + len > c->max_bytes / 4)
        return; /* nothing kept, or one answer would crowd out the rest */
    p = find_slot(c, key, klen, h);
    if (*p)
        drop(c, *p);
    while (c->tail && (c->entries >= c->max_entries || c->bytes + klen + len > c->max_bytes))
        drop(c, c->tail);
    if (!(e = calloc(1, sizeof *e)) || !(e->body = malloc(klen + len))) {
        free(e);
        return;
    }
    memcpy(e->body, key, klen);
    memcpy(e->body + klen, body, len);
    e->hash = h;
    e->klen = klen;
    e->len = len;
    p = find_slot(c, key, klen, h);
    *p = e;
    lru_push(c, e);
    c->entries++;
    c->bytes += klen + len;
}

void pr_cache_clear(pr_cache *c)
{
    while (c->tail)
        drop(c, c->tail);
}

void pr_cache_free(pr_cache *c)
{
    if (!c) return;
    pr_cache_clear(c);
    free(c->buckets);
    free(c);
}

void pr_cache_stats(const pr_cache *c, size_t *entries, size_t *bytes,
                    unsigned long long *hits, unsigned long long *misses)
{
    *entries = c->entries;
    *bytes = c->bytes;
    *hits = c->hits;
    *misses = c->misses;
}
