/*
 * strmap.h - a small open-addressing hash map from strings to a number
 * and an optional string, for the indexer's run-wide tables (vocabulary
 * deltas, fold cache) and the searcher's lexicon. Keys are copied (and
 * NUL-terminated; a key is its LEN bytes, NUL or not).
 * Not thread-safe: one owner at a time.
 */
#ifndef STRMAP_H
#define STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct strmap_entry {
    char *key;        /* NULL: empty slot */
    long long n;
    char *aux;        /* owned by the map (freed with it), may be NULL */
    uint64_t h;       /* strmap_hash() of the key, kept so that probes and
                       * growth read no other entry's key */
    size_t len;       /* of the key */
} strmap_entry;

typedef struct strmap {
    strmap_entry *v;
    size_t cap, len;
} strmap;

/* The map's hash of N bytes at S (FNV-1a, 64 bits). */
uint64_t strmap_hash(const char *s, size_t n);

void strmap_init(strmap *m);
void strmap_free(strmap *m);
/* Empty the map, keeping its memory for reuse. */
void strmap_clear(strmap *m);

/* The entry for KEY (LEN bytes), or NULL. */
strmap_entry *strmap_find(const strmap *m, const char *key, size_t len);

/* The entry for KEY, created (n = 0, aux = NULL) when missing; *ADDED
 * says which. NULL when out of memory. */
strmap_entry *strmap_put(strmap *m, const char *key, size_t len, int *added);

#endif
