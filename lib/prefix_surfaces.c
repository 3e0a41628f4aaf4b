/*
 * prefix_surfaces.c - the index's list of surface forms with their stems,
 * and the test a prefix query makes of it (prefix_surfaces.h says why).
 *
 * Indexing: each parser thread's fr_tokenizer reports every word it
 * analyses afresh (its cache answers the others) into a set of that
 * thread's; the writer stores the sets at the end of the run. 100k pages
 * give about 20,000 rows, against tens of millions of tokens: the cost is
 * lost in the noise of indexing. When pages reached the index without the
 * parser threads (by hand, FTS5's rebuild), pr_surfaces_list_all() reads
 * every stored page again. The rule a row is tested by
 * (pr_surface_stem_reached) is shared with the tokenizer (fts5_french.c),
 * which gives the rows a prefix needs.
 */
#include "prefix_surfaces.h"

#include <stdlib.h>
#include <string.h>

#include "fr_tokenizer.h"
#include "strmap.h"

struct pr_surface_pairs {
    strmap m; /* "surface\ta\tb" (forms hold no tab) */
};

pr_surface_pairs *pr_surface_pairs_new(void)
{
    pr_surface_pairs *p = calloc(1, sizeof *p);

    if (p)
        strmap_init(&p->m);
    return p;
}

void pr_surface_pairs_free(pr_surface_pairs *p)
{
    if (!p)
        return;
    strmap_free(&p->m);
    free(p);
}

int pr_surface_pairs_add(void *set, const char *surface, int slen, const char *a, int alen,
                         const char *b, int blen)
{
    pr_surface_pairs *p = set;
    char buf[512], *key = buf;
    size_t n = (size_t)slen + (size_t)alen + (size_t)blen + 2;
    int added, rc = 0;

    if (slen <= 0 || alen <= 0 || blen <= 0)
        return 0;
    if (n > sizeof buf && !(key = malloc(n)))
        return -1;
    memcpy(key, surface, (size_t)slen);
    key[slen] = '\t';
    memcpy(key + slen + 1, a, (size_t)alen);
    key[slen + 1 + alen] = '\t';
    memcpy(key + slen + 2 + alen, b, (size_t)blen);
    if (!strmap_put(&p->m, key, n, &added))
        rc = -1;
    if (key != buf)
        free(key);
    return rc;
}

int pr_surface_pairs_write(sqlite3 *db, const pr_surface_pairs *p, pr_error *err)
{
    sqlite3_stmt *st;
    int rc = SQLITE_OK;

    if (!p || p->m.len == 0)
        return 0;
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO prefix_surfaces(surface, a, b)"
                               " VALUES (?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
        return pr_error_set(err, 0, 0, "index write failed (prefix surfaces): %s",
                            sqlite3_errmsg(db));
    for (size_t i = 0; i < p->m.cap && rc == SQLITE_OK; i++) {
        const char *k = p->m.v[i].key, *t1, *t2;
        if (!k || !(t1 = strchr(k, '\t')) || !(t2 = strchr(t1 + 1, '\t')))
            continue;
        sqlite3_bind_text(st, 1, k, (int)(t1 - k), SQLITE_STATIC);
        sqlite3_bind_text(st, 2, t1 + 1, (int)(t2 - t1 - 1), SQLITE_STATIC);
        sqlite3_bind_text(st, 3, t2 + 1, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return pr_error_set(err, 0, 0, "index write failed (prefix surfaces): %s",
                            sqlite3_errmsg(db));
    return 0;
}

static int ignore_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    (void)ctx, (void)flags, (void)token, (void)len, (void)start, (void)end;
    return 0;
}

int pr_surfaces_list_all(sqlite3 *db, pr_error *err)
{
    fr_tokenizer *t = fr_tokenizer_new();
    pr_surface_pairs *p = pr_surface_pairs_new();
    sqlite3_stmt *st = NULL;
    int rc = t && p ? SQLITE_OK : SQLITE_NOMEM;

    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT title, headings, chapeau, body, taxonomy"
                                    " FROM documents", -1, &st, NULL);
    if (rc == SQLITE_OK)
        fr_tokenizer_watch_surfaces(t, pr_surface_pairs_add, p);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        for (int c = 0; rc == SQLITE_OK && c < sqlite3_column_count(st); c++) {
            const char *text = (const char *)sqlite3_column_text(st, c);
            if (text && fr_tokenize(t, FR_MODE_DOCUMENT, text, sqlite3_column_bytes(st, c),
                                    ignore_token, NULL) != 0)
                rc = SQLITE_NOMEM;
        }
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    else
        pr_error_set(err, 0, 0, "index read failed (prefix surfaces): %s",
                     rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    fr_tokenizer_free(t);
    if (rc == SQLITE_OK && pr_surface_pairs_write(db, p, err) != 0)
        rc = SQLITE_ERROR;
    pr_surface_pairs_free(p);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Is a stem of every row of RANGE reached? */
static int range_covered(sqlite3_stmt *range, const char *const *forms, const int *lens,
                         int nforms)
{
    int rows = 0;

    while (sqlite3_step(range) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(range, 1);
        const char *b = (const char *)sqlite3_column_text(range, 2);
        if (!a || !b || ++rows > PR_SURFACES_SCAN)
            return 0;
        if (!pr_surface_stem_reached(a, sqlite3_column_bytes(range, 1), forms, lens, nforms) &&
            !pr_surface_stem_reached(b, sqlite3_column_bytes(range, 2), forms, lens, nforms))
            return 0;
    }
    return 1;
}

int pr_surfaces_covered(sqlite3_stmt *complete, sqlite3_stmt *range, const char *surface,
                        int slen, const char *const *forms, const int *lens, int nforms)
{
    char hi[1024];
    int ok = 0;

    if (!complete || !range || slen <= 0 || slen + 1 > (int)sizeof hi || nforms <= 0)
        return 0;
    if (sqlite3_step(complete) == SQLITE_ROW) {
        pr_surfaces_bind_range(range, surface, slen, hi);
        ok = range_covered(range, forms, lens, nforms);
        sqlite3_reset(range);
        sqlite3_clear_bindings(range);
    }
    sqlite3_reset(complete);
    return ok;
}
