/*
 * search_lexicon.c - the searcher's in-memory copy of the index's
 * vocabulary and expansion rules (tables written by lexicon.c, rules by
 * synonyms.c), for typo correction, as-you-type terms and acronyms.
 *
 * Loaded on first use and again whenever the index changed: SQLite's
 * PRAGMA data_version moves when another connection (prsearch-index)
 * commits, and a reopened connection (pr_searcher_refresh) starts afresh.
 * Each searcher has its own copy (one per daemon worker): no locks.
 *
 * Typo candidates are found by a scan of the words of nearby lengths,
 * each first checked with two cheap bounds (length difference, and the
 * letters present: one edit changes at most two bits of that 26-bit set)
 * before the edit distance proper. At 100k pages (~300k words) that is a
 * few hundred microseconds per word.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"
#include "synonyms.h"

enum { MAX_WORD = 64 };

typedef struct vword {
    char *term;       /* folded */
    char *form;       /* as displayed (most pages' form) */
    long long df;
    uint32_t letters; /* bit i: letter 'a' + i occurs */
    int len;
} vword;

struct search_lexicon {
    vword *v;          /* sorted by term */
    int n;
    int *by_len;       /* indexes into v, by length */
    int len_start[MAX_WORD + 2];
    pr_synonyms *syn;
    long long data_version;
};

static uint32_t letter_set(const char *w)
{
    uint32_t m = 0;

    for (; *w; w++)
        if (*w >= 'a' && *w <= 'z')
            m |= 1u << (*w - 'a');
    return m;
}

void pr_lexicon_free(search_lexicon *lx)
{
    int i;

    if (!lx)
        return;
    for (i = 0; i < lx->n; i++) {
        free(lx->v[i].term);
        free(lx->v[i].form);
    }
    free(lx->v);
    free(lx->by_len);
    pr_synonyms_free(lx->syn);
    free(lx);
}

static int push_word(search_lexicon *lx, int *cap, const char *term, const char *form,
                     long long df)
{
    vword *w;

    if (lx->n == *cap) {
        int nc = *cap ? *cap * 2 : 1024;
        vword *nv = realloc(lx->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return -1;
        lx->v = nv;
        *cap = nc;
    }
    w = &lx->v[lx->n];
    w->term = strdup(term);
    w->form = strdup(form);
    if (!w->term || !w->form) {
        free(w->term);
        free(w->form);
        return -1;
    }
    w->df = df;
    w->len = (int)strlen(term);
    w->letters = letter_set(term);
    lx->n++;
    return 0;
}

/* The vocabulary, one entry per folded word: its most used form, the sum
 * of its forms' frequencies. */
static int load_vocab(pr_searcher *s, search_lexicon *lx, pr_error *err)
{
    sqlite3_stmt *st = pr_searcher_stmt(
        s, "SELECT term, form, df FROM vocab ORDER BY term, df DESC, form", err);
    int cap = 0, rc, i, len;

    if (!st)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *f = (const char *)sqlite3_column_text(st, 1);
        long long df = sqlite3_column_int64(st, 2);
        if (!t || !f)
            continue;
        if (lx->n > 0 && !strcmp(lx->v[lx->n - 1].term, t)) {
            lx->v[lx->n - 1].df += df;
            continue;
        }
        if (push_word(lx, &cap, t, f, df) != 0) {
            sqlite3_reset(st);
            return pr_error_set(err, 0, 0, "out of memory");
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(s->db));
    /* Counting sort by length: the typo scan reads only nearby lengths. */
    lx->by_len = malloc((size_t)(lx->n ? lx->n : 1) * sizeof *lx->by_len);
    if (!lx->by_len)
        return pr_error_set(err, 0, 0, "out of memory");
    memset(lx->len_start, 0, sizeof lx->len_start);
    for (i = 0; i < lx->n; i++)
        lx->len_start[(lx->v[i].len > MAX_WORD ? MAX_WORD : lx->v[i].len) + 1]++;
    for (len = 1; len <= MAX_WORD + 1; len++)
        lx->len_start[len] += lx->len_start[len - 1];
    {
        int fill[MAX_WORD + 1];
        memcpy(fill, lx->len_start, sizeof fill);
        for (i = 0; i < lx->n; i++)
            lx->by_len[fill[lx->v[i].len > MAX_WORD ? MAX_WORD : lx->v[i].len]++] = i;
    }
    return 0;
}

search_lexicon *pr_lexicon_get(pr_searcher *s, pr_error *err)
{
    long long v = pr_searcher_data_version(s);
    search_lexicon *lx;

    if (s->lex && s->lex->data_version == v && v >= 0)
        return s->lex;
    lx = calloc(1, sizeof *lx);
    if (!lx) {
        pr_error_set(err, 0, 0, "out of memory");
        return NULL;
    }
    lx->data_version = v;
    if (load_vocab(s, lx, err) != 0 || !(lx->syn = pr_synonyms_load(s->db, s->tok, err))) {
        pr_lexicon_free(lx);
        return NULL;
    }
    pr_lexicon_free(s->lex);
    s->lex = lx;
    return lx;
}

const pr_synonyms *pr_lexicon_synonyms(const search_lexicon *lx)
{
    return lx ? lx->syn : NULL;
}

/* ---- lookups ---------------------------------------------------------------- */

static int find_first(const search_lexicon *lx, const char *prefix, size_t n)
{
    int lo = 0, hi = lx->n;

    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strncmp(lx->v[mid].term, prefix, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

long long pr_lexicon_df(const search_lexicon *lx, const char *term)
{
    size_t n = strlen(term);
    int i = find_first(lx, term, n);

    return i < lx->n && !strcmp(lx->v[i].term, term) ? lx->v[i].df : 0;
}

/* Optimal string alignment distance (edits and adjacent swaps), or
 * MAXD + 1 as soon as it must exceed MAXD. */
static int edit_distance(const char *a, int n, const char *b, int m, int maxd)
{
    int d[MAX_WORD + 1][MAX_WORD + 1];
    int i, j;

    if (n > MAX_WORD || m > MAX_WORD || abs(n - m) > maxd)
        return maxd + 1;
    for (i = 0; i <= n; i++)
        d[i][0] = i;
    for (j = 0; j <= m; j++)
        d[0][j] = j;
    for (i = 1; i <= n; i++) {
        int row_min = maxd + 1;
        for (j = 1; j <= m; j++) {
            int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
            if (v < row_min)
                row_min = v;
        }
        if (row_min > maxd)
            return maxd + 1;
    }
    return d[n][m];
}

const char *pr_lexicon_correct(const search_lexicon *lx, const char *w, int maxd,
                               long long min_df, int *dist)
{
    int n = (int)strlen(w), len, k, best = -1, best_d = maxd + 1;
    uint32_t letters = letter_set(w);

    for (len = n - maxd; len <= n + maxd; len++) {
        if (len < 1 || len > MAX_WORD)
            continue;
        for (k = lx->len_start[len]; k < lx->len_start[len + 1]; k++) {
            const vword *c = &lx->v[lx->by_len[k]];
            int d;
            if (c->df < min_df || __builtin_popcount(c->letters ^ letters) > 2 * maxd)
                continue;
            d = edit_distance(w, n, c->term, c->len, maxd);
            if (d == 0 || d > maxd)
                continue;
            if (d < best_d || (d == best_d && c->df > lx->v[best].df)) {
                best = lx->by_len[k];
                best_d = d;
            }
        }
    }
    if (dist)
        *dist = best_d;
    return best >= 0 ? lx->v[best].term : NULL;
}

int pr_lexicon_complete(const search_lexicon *lx, const char *prefix, int limit,
                        const char **forms, long long *dfs)
{
    size_t n = strlen(prefix);
    int i = find_first(lx, prefix, n), got = 0, j;

    for (; i < lx->n && !strncmp(lx->v[i].term, prefix, n); i++) {
        const vword *w = &lx->v[i];
        if (got == limit && w->df <= dfs[got - 1])
            continue;
        j = got < limit ? got++ : got - 1; /* insertion into the top LIMIT */
        while (j > 0 && dfs[j - 1] < w->df) {
            forms[j] = forms[j - 1];
            dfs[j] = dfs[j - 1];
            j--;
        }
        forms[j] = w->form;
        dfs[j] = w->df;
    }
    return got;
}
