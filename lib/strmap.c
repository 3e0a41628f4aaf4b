/*
 * strmap.c - string hash map (see strmap.h): linear probing, FNV-1a,
 * grown at 50% load so probes stay short.
 */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

uint64_t strmap_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void strmap_init(strmap *m)
{
    memset(m, 0, sizeof *m);
}

void strmap_clear(strmap *m)
{
    size_t i;

    for (i = 0; i < m->cap; i++) {
        free(m->v[i].key);
        free(m->v[i].aux);
    }
    if (m->v)
        memset(m->v, 0, m->cap * sizeof *m->v);
    m->len = 0;
}

void strmap_free(strmap *m)
{
    strmap_clear(m);
    free(m->v);
    memset(m, 0, sizeof *m);
}

/* The slot of KEY (LEN bytes, hash H): its entry, or the empty slot where
 * it goes. A key is read only when its entry's hash and length match. */
static size_t slot_of(const strmap_entry *v, size_t cap, const char *key, size_t len, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);

    while (v[i].key && !(v[i].h == h && v[i].len == len && memcmp(v[i].key, key, len) == 0))
        i = (i + 1) & (cap - 1);
    return i;
}

strmap_entry *strmap_find(const strmap *m, const char *key, size_t len)
{
    size_t i;

    if (!m->cap)
        return NULL;
    i = slot_of(m->v, m->cap, key, len, strmap_hash(key, len));
    return m->v[i].key ? &m->v[i] : NULL;
}

static int grow(strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64, i, j;
    strmap_entry *v = calloc(cap, sizeof *v);

    if (!v)
        return -1;
    for (i = 0; i < m->cap; i++) {
        if (!m->v[i].key)
            continue;
        for (j = (size_t)m->v[i].h & (cap - 1); v[j].key; j = (j + 1) & (cap - 1))
            ; /* keys are distinct: the first empty slot */
        v[j] = m->v[i];
    }
    free(m->v);
    m->v = v;
    m->cap = cap;
    return 0;
}

strmap_entry *strmap_put(strmap *m, const char *key, size_t len, int *added)
{
    uint64_t h = strmap_hash(key, len);
    strmap_entry *e;
    size_t i;

    *added = 0;
    if ((m->len + 1) * 2 > m->cap && grow(m) != 0)
        return NULL;
    i = slot_of(m->v, m->cap, key, len, h);
    e = &m->v[i];
    if (e->key)
        return e;
    e->key = malloc(len + 1);
    if (!e->key)
        return NULL;
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->n = 0;
    e->aux = NULL;
    e->h = h;
    e->len = len;
    m->len++;
    *added = 1;
    return e;
}
