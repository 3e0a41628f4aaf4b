/*
 * search_spell.c - "did you mean": a corrected query when words were not
 * found as typed (the `suggestion` of SPEC section 7).
 *
 * Only asked when a query has no hits. Each plain word of the query whose
 * index terms are not all in the index vocabulary is replaced by the
 * closest vocabulary entry (Damerau-Levenshtein distance 1, or 2 for
 * words of 8 letters or more; never for words under 4 letters, where
 * everything is one edit away). Candidates share the word's first letter
 * (typos rarely hit it, and it bounds the scan to one slice of the
 * vocabulary). Surface forms (FR_SURFACE_MARK entries, what people type)
 * are preferred to stems at equal distance, then the most frequent.
 */
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"
#include "search_util.h"

enum { SPELL_MAX = 64 }; /* longer words are not corrected */

/* Edit distance with transpositions, or MAXD + 1 when it exceeds MAXD. */
static int edit_distance(const char *a, int n, const char *b, int m, int maxd)
{
    int d[SPELL_MAX + 1][SPELL_MAX + 1];
    int i, j;

    if (n > SPELL_MAX || m > SPELL_MAX || abs(n - m) > maxd)
        return maxd + 1;
    for (i = 0; i <= n; i++)
        d[i][0] = i;
    for (j = 0; j <= m; j++)
        d[0][j] = j;
    for (i = 1; i <= n; i++) {
        int row_min = maxd + 1;
        for (j = 1; j <= m; j++) {
            int c = a[i - 1] == b[j - 1] ? 0 : 1, v = d[i - 1][j - 1] + c;
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

typedef struct vocab_check {
    pr_searcher *s;
    sqlite3_stmt *st;
    int missing;
    int failed;
} vocab_check;

static int check_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    vocab_check *c = ctx;
    int rc;

    (void)start; (void)end;
    if (flags & FR_TOKEN_COLOCATED)
        return 0; /* the first form is the one a query searches */
    sqlite3_reset(c->st);
    sqlite3_bind_text(c->st, 1, token, len, SQLITE_TRANSIENT);
    rc = sqlite3_step(c->st);
    if (rc == SQLITE_DONE)
        c->missing++;
    else if (rc != SQLITE_ROW)
        c->failed = 1;
    sqlite3_reset(c->st);
    return c->failed;
}

/* 1 when a term of WORD is missing from the index, 0 when all are there,
 * -1 on a read error. */
static int word_missing(pr_searcher *s, const char *word, int len, pr_error *err)
{
    vocab_check c = {s, NULL, 0, 0};

    c.st = pr_searcher_stmt(s, "SELECT 1 FROM temp.fts_vocab WHERE term = ?", err);
    if (!c.st)
        return -1;
    fr_tokenize(s->tok, FR_MODE_QUERY, word, len, check_token, &c);
    if (c.failed) {
        pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    return c.missing > 0;
}

/* The best replacement of the folded word W, malloc'ed, or NULL. */
static char *closest_term(pr_searcher *s, const char *w, pr_error *err)
{
    sqlite3_stmt *st;
    char lo1[2] = {w[0], 0}, hi1[2] = {(char)(w[0] + 1), 0};
    char lo2[3] = {FR_SURFACE_MARK, w[0], 0}, hi2[3] = {FR_SURFACE_MARK, (char)(w[0] + 1), 0};
    int n = (int)strlen(w), maxd = n >= 8 ? 2 : 1, best_d = maxd + 1, best_surface = 0;
    long long best_docs = -1;
    char *best = NULL;

    /* Two ranges by UNION ALL: fts5vocab answers an OR of them wrongly
     * (SQLite 3.40 returns only part of the rows). */
    st = pr_searcher_stmt(s, "SELECT term, doc FROM temp.fts_vocab WHERE term >= ?1 AND term < ?2"
                             " UNION ALL SELECT term, doc FROM temp.fts_vocab"
                             " WHERE term >= ?3 AND term < ?4", err);
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, lo1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hi1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, lo2, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, hi2, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        long long docs = sqlite3_column_int64(st, 1);
        int surface = t && t[0] == FR_SURFACE_MARK, d;
        if (!t)
            continue;
        if (surface)
            t++;
        d = edit_distance(w, n, t, (int)strlen(t), maxd);
        if (d == 0 || d > maxd)
            continue;
        if (d < best_d || (d == best_d && (surface > best_surface ||
                                           (surface == best_surface && docs > best_docs)))) {
            char *copy = strdup(t);
            if (!copy)
                break;
            free(best);
            best = copy;
            best_d = d;
            best_surface = surface;
            best_docs = docs;
        }
    }
    sqlite3_reset(st);
    return best;
}

/* A plain word: not an operator, filter, phrase, prefix or exclusion. */
static int plain_word(const char *w, size_t n)
{
    size_t i;

    if (n < 4 || w[0] == '-' || w[0] == '+' || w[n - 1] == '*')
        return 0;
    if ((n == 2 && !strncmp(w, "OR", 2)) || (n == 3 && (!strncmp(w, "AND", 3) ||
                                                         !strncmp(w, "NOT", 3))))
        return 0;
    for (i = 0; i < n; i++)
        if (w[i] == '"' || w[i] == ':')
            return 0;
    return 1;
}

/* Fold W and check that it is one run of ASCII letters; NULL otherwise. */
static char *folded_letters(const char *w, size_t n)
{
    char *f = fr_fold(w, (int)n);
    size_t i;

    if (!f)
        return NULL;
    for (i = 0; f[i]; i++)
        if (f[i] < 'a' || f[i] > 'z') {
            free(f);
            return NULL;
        }
    return f;
}

/*
 * A corrected version of Q in *OUT (malloc'ed): returns 1 when some word
 * was replaced, 0 when there is nothing to correct, -1 on a read error.
 * Words inside quotes are left alone.
 */
int pr_spell_correct(pr_searcher *s, const char *q, char **out, pr_error *err)
{
    pr_buf b;
    size_t i = 0, n = strlen(q);
    int changed = 0, in_quote = 0;

    *out = NULL;
    if (!s->vocab_ready &&
        sqlite3_exec(s->db, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab"
                            " USING fts5vocab(main, fts, row)", NULL, NULL, NULL) != SQLITE_OK)
        return pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(s->db));
    s->vocab_ready = 1;
    pr_buf_init(&b);
    while (i < n) {
        size_t e = i;
        char *f, *fix = NULL;
        int miss;

        if (q[i] == ' ') {
            pr_buf_addc(&b, ' ');
            i++;
            continue;
        }
        while (e < n && q[e] != ' ')
            e++;
        if (!in_quote && plain_word(q + i, e - i) && (f = folded_letters(q + i, e - i))) {
            miss = word_missing(s, q + i, (int)(e - i), err);
            if (miss < 0) {
                free(f);
                pr_buf_free(&b);
                return -1;
            }
            if (miss)
                fix = closest_term(s, f, err);
            free(f);
        }
        for (size_t k = i; k < e; k++)
            if (q[k] == '"')
                in_quote = !in_quote;
        if (fix) {
            pr_buf_adds(&b, fix);
            changed = 1;
            free(fix);
        } else {
            pr_buf_add(&b, q + i, e - i);
        }
        i = e;
    }
    if (!changed || b.oom) {
        pr_buf_free(&b);
        return 0;
    }
    *out = pr_buf_take(&b);
    return *out ? 1 : 0;
}
