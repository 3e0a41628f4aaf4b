/*
 * search_rank.c - the FTS5 auxiliary functions the searcher ranks with,
 * registered on each of its connections (pr_rank_register):
 *
 *   pr_bm25(fts, W..., EXPR)  the Okapi BM25 score of the row, as FTS5's
 *                             own bm25() computes it, negated likewise;
 *                             EXPR (optional): the MATCH expression, the
 *                             key of the remembered phrase counts;
 *   pr_match_walk(fts, PTR, W..., EXPR)  every matching row and its
 *                             pr_bm25 score in one call (search_walk.c);
 *   pr_match_row(fts, PTR, W...)  keeps the row for the same scores, for
 *                             a lone prefix (search_walk.c);
 *   title_start(fts, MASK)    the title starts with the words as typed;
 *   title_cover(fts, GROUPS)  the title holds every part of the query.
 *
 * Why our own bm25: FTS5's bm25() reads the length of every matching row
 * with xColumnSize, which runs a statement on the fts_docsize table for
 * each row: on a broad query that was most of the search's time.
 * pr_bm25 takes the length from the searcher's page table, read once per
 * index version (search_docs.c), and is otherwise the documented formula
 * (k1 = 1.2, b = 0.75, IDF = ln((N - n + 0.5) / (n + 0.5)), at least 1e-6,
 * phrase frequencies weighted per column), computed in the same order, so
 * the scores are the same numbers, to the last bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index_db.h"
#include "search_internal.h"

/* Per query: what does not change from one row to the next. */
typedef struct bm25_query {
    int nphrase;
    int nweight;
    double avgdl;
    double *idf;   /* per phrase */
    double *freq;  /* per phrase, scratch for one row */
    double *w;     /* per column: the weights asked for */
} bm25_query;

static void bm25_query_free(void *p)
{
    bm25_query *q = p;

    if (q) {
        free(q->idf);
        free(q->freq);
        free(q->w);
        free(q);
    }
}

static int count_row(const Fts5ExtensionApi *api, Fts5Context *fts, void *ctx)
{
    (void)api;
    (void)fts;
    (*(sqlite3_int64 *)ctx)++;
    return SQLITE_OK;
}

/* HITS[i]: the pages phrase i matches; from the page table's memory of
 * the expression EXPR (NULL: none) when it has it, else counted. */
static int phrase_hits(const Fts5ExtensionApi *api, Fts5Context *fts, const char *expr,
                       int nphrase, sqlite3_int64 *hits)
{
    pr_searcher *s = api->xUserData(fts);
    const sqlite3_int64 *known =
        s && s->docs && expr ? pr_docs_phrase_hits(s->docs, expr, nphrase) : NULL;
    int i, rc = SQLITE_OK;

    if (known) {
        memcpy(hits, known, (size_t)nphrase * sizeof *hits);
        return SQLITE_OK;
    }
    for (i = 0; rc == SQLITE_OK && i < nphrase; i++) {
        hits[i] = 0;
        rc = api->xQueryPhrase(fts, i, &hits[i], count_row);
    }
    if (rc == SQLITE_OK && s && s->docs && expr)
        pr_docs_phrase_hits_put(s->docs, expr, hits, nphrase);
    return rc;
}

/* NULL with *RCP set on failure: out of memory, or an error of FTS5 such
 * as SQLITE_INTERRUPT (the query's time budget ran out in xQueryPhrase).
 * VALS: the NWEIGHT column weights, then the expression (or not). */
static bm25_query *bm25_query_new(const Fts5ExtensionApi *api, Fts5Context *fts,
                                  int nweight, sqlite3_value **vals, const char *expr, int *rcp)
{
    bm25_query *q = calloc(1, sizeof *q);
    sqlite3_int64 nrow = 0, ntok = 0, *hits = NULL;
    int i, rc;

    *rcp = SQLITE_NOMEM;
    if (!q)
        return NULL;
    q->nphrase = api->xPhraseCount(fts);
    q->nweight = nweight;
    q->idf = calloc((size_t)q->nphrase + 1, sizeof *q->idf);
    q->freq = calloc((size_t)q->nphrase + 1, sizeof *q->freq);
    q->w = calloc((size_t)nweight + 1, sizeof *q->w);
    hits = calloc((size_t)q->nphrase + 1, sizeof *hits);
    for (i = 0; q->w && i < nweight; i++)
        q->w[i] = sqlite3_value_double(vals[i]);
    rc = q->idf && q->freq && q->w && hits ? api->xRowCount(fts, &nrow) : SQLITE_NOMEM;
    if (rc == SQLITE_OK)
        rc = api->xColumnTotalSize(fts, -1, &ntok);
    if (rc == SQLITE_OK)
        q->avgdl = (double)ntok / (double)(nrow > 0 ? nrow : 1);
    if (rc == SQLITE_OK)
        rc = phrase_hits(api, fts, expr, q->nphrase, hits);
    for (i = 0; rc == SQLITE_OK && i < q->nphrase; i++)
        q->idf[i] = pr_bm25_idf(nrow, hits[i]);
    free(hits);
    if (rc != SQLITE_OK) {
        bm25_query_free(q);
        *rcp = rc;
        return NULL;
    }
    *rcp = SQLITE_OK;
    return q;
}

double pr_bm25_part(double idf, double freq, double len, double avgdl)
{
    const double k1 = 1.2, b = 0.75;

    return idf * ((freq * (k1 + 1.0)) / (freq + k1 * (1 - b + b * len / avgdl)));
}

double pr_bm25_idf(sqlite3_int64 nrow, sqlite3_int64 hits)
{
    double idf = log(((double)nrow - (double)hits + 0.5) / ((double)hits + 0.5));

    return idf <= 0.0 ? 1e-6 : idf;
}

/* Tokens in the current row: from the page table, else from FTS5. */
static int row_tokens(const Fts5ExtensionApi *api, Fts5Context *fts, int *ntok)
{
    pr_searcher *s = api->xUserData(fts);
    int n = s && s->docs ? pr_docs_tokens(s->docs, pr_docs_index(s->docs, api->xRowid(fts))) : -1;

    if (n >= 0) {
        *ntok = n;
        return SQLITE_OK;
    }
    return api->xColumnSize(fts, -1, ntok);
}

static void pr_bm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                    int nval, sqlite3_value **vals)
{
    bm25_query *q = api->xGetAuxdata(fts, 0);
    double score = 0.0, len;
    int i, ntok = 0, rc = SQLITE_OK;

    if (!q) {
        /* A text last argument is the expression: the key of the phrase
         * counts (search.c passes it; the weights are numbers). */
        const char *expr = nval > 0 && sqlite3_value_type(vals[nval - 1]) == SQLITE_TEXT
                               ? (const char *)sqlite3_value_text(vals[nval - 1])
                               : NULL;
        if (!(q = bm25_query_new(api, fts, expr ? nval - 1 : nval, vals, expr, &rc))) {
            sqlite3_result_error_code(ctx, rc);
            return;
        }
        if (api->xSetAuxdata(fts, q, bm25_query_free) != SQLITE_OK) {
            sqlite3_result_error_code(ctx, SQLITE_NOMEM);
            return;
        }
    }
    /* Each phrase's instances in order, as xInst would list them, without
     * the merged instance array xInst builds for every row. */
    for (i = 0; rc == SQLITE_OK && i < q->nphrase; i++) {
        Fts5PhraseIter it;
        int col, off;
        double f = 0.0;
        rc = api->xPhraseFirst(fts, i, &it, &col, &off);
        for (; rc == SQLITE_OK && col >= 0; api->xPhraseNext(fts, &it, &col, &off))
            f += col < q->nweight ? q->w[col] : 1.0;
        q->freq[i] = f;
    }
    if (rc == SQLITE_OK)
        rc = row_tokens(api, fts, &ntok);
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    len = (double)ntok;
    for (i = 0; i < q->nphrase; i++)
        score += pr_bm25_part(q->idf[i], q->freq[i], len, q->avgdl);
    sqlite3_result_double(ctx, -1.0 * score);
}

/*
 * title_start(fts, MASK): 1 when the title starts with the words as
 * typed, in order, one right after the other; MASK has a bit per FTS5
 * string of the query that is such a word (pr_query literal_phrases:
 * expansions and exclusions are not), and at least two (a single word is
 * too weak a signal). A title that begins with what was asked for is
 * about it more surely than one that mentions it on the way (ranking,
 * rank_rows() in search.c).
 */
static int inst_at(const Fts5ExtensionApi *api, Fts5Context *fts, int n, int phrase, int pos)
{
    int i, p, col, off;

    for (i = 0; i < n; i++)
        if (api->xInst(fts, i, &p, &col, &off) == SQLITE_OK && p == phrase &&
            col == PR_COL_TITLE && off == pos)
            return 1;
    return 0;
}

static void title_pos(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                      int nval, sqlite3_value **vals)
{
    sqlite3_uint64 mask = nval > 0 ? (sqlite3_uint64)sqlite3_value_int64(vals[0]) : 0;
    int n = 0, p, pos = 0, np = api->xPhraseCount(fts);

    if (__builtin_popcountll(mask) < 2 || api->xInstCount(fts, &n) != SQLITE_OK) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    for (p = 0; p < np && p < 64; p++) {
        if (!(mask >> p & 1))
            continue;
        if (!inst_at(api, fts, n, p, pos)) {
            sqlite3_result_int(ctx, 0);
            return;
        }
        pos += api->xPhraseSize(fts, p);
    }
    sqlite3_result_int(ctx, 1);
}

/*
 * title_cover(fts, GROUPS): 1 when the title holds every required part of
 * the query (GROUPS: pr_query phrase_groups, the part of each FTS5
 * string; a part is covered when any of its strings is in the title: a
 * word, an alternative of an OR, the acronym or its long form), for
 * queries of two parts or more. A title naming all that was asked for is
 * about it (ranking, rank_rows()).
 */
static void title_cover(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                        int nval, sqlite3_value **vals)
{
    const char *groups = nval > 0 ? (const char *)sqlite3_value_text(vals[0]) : NULL;
    unsigned long long want = 0, have = 0;
    int n = 0, i, p, col, off, len = groups ? (int)strlen(groups) : 0;

    for (i = 0; i < len; i++)
        want |= 1ULL << (groups[i] - 'A');
    if (__builtin_popcountll(want) < 2 || api->xInstCount(fts, &n) != SQLITE_OK) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    for (i = 0; i < n; i++)
        if (api->xInst(fts, i, &p, &col, &off) == SQLITE_OK && col == PR_COL_TITLE && p < len)
            have |= 1ULL << (groups[p] - 'A');
    sqlite3_result_int(ctx, have == want);
}

int pr_rank_register(sqlite3 *db, pr_searcher *s)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL) == SQLITE_OK)
        sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api)
        return -1;
    if (api->xCreateFunction(api, "pr_bm25", s, pr_bm25, NULL) != SQLITE_OK ||
        api->xCreateFunction(api, "pr_match_walk", s, pr_match_walk, NULL) != SQLITE_OK ||
        api->xCreateFunction(api, "pr_match_row", s, pr_match_row, NULL) != SQLITE_OK ||
        api->xCreateFunction(api, "title_start", NULL, title_pos, NULL) != SQLITE_OK)
        return -1;
    return api->xCreateFunction(api, "title_cover", NULL, title_cover, NULL) == SQLITE_OK ? 0
                                                                                        : -1;
}
