/*
 * search_suggest.c - as-you-type completions (/suggest, pr_suggest()).
 *
 * The last word of what was typed is a prefix. First come page titles
 * with a word starting with it (and containing the earlier words
 * anywhere), best match then newest first, each with its URL, a title
 * shown once; then words of the index starting with it, most pages first,
 * as written in the pages (the vocabulary, lexicon.h). The title query
 * uses FTS5's prefix indexes (index_db.c, measured in docs/as-you-type.md).
 * Everything the visitor typed reaches SQL as bound values or as quoted
 * FTS5 strings written by query_parse.c.
 */
#include <stdlib.h>
#include <string.h>

#include "query_parse.h"
#include "search_internal.h"
#include "search_util.h"

/* The last word of Q, folded, as the vocabulary stores terms: after the
 * last space and the last apostrophe ("l'ét" -> "et"), letters and digits. */
static char *last_prefix(const char *q, size_t *start)
{
    size_t n = strlen(q), b = n, e;
    char *f, *w;
    size_t i, j;

    while (b > 0 && q[b - 1] != ' ' && q[b - 1] != '\'' && q[b - 1] != '"' &&
           !((unsigned char)q[b - 1] < ' '))
        b--;
    /* ’ (E2 80 99) as an apostrophe too */
    for (i = n; i >= b + 3; i--)
        if (!memcmp(q + i - 3, "\xE2\x80\x99", 3)) {
            b = i;
            break;
        }
    *start = b;
    e = n;
    f = fr_fold(q + b, (int)(e - b));
    if (!f)
        return NULL;
    w = malloc(strlen(f) + 1);
    if (w) {
        for (i = j = 0; f[i]; i++) /* keep letters, digits and non-ASCII */
            if ((unsigned char)f[i] >= 0x80 || (f[i] >= 'a' && f[i] <= 'z') ||
                (f[i] >= '0' && f[i] <= '9'))
                w[j++] = f[i];
        w[j] = '\0';
    }
    free(f);
    return w;
}

/* FTS5 expression: the earlier words anywhere, the prefix in the title. */
static char *title_match(pr_searcher *s, const char *q, size_t start, const char *prefix)
{
    pr_query_limits lim = {s->cfg.max_query_bytes, s->cfg.max_terms, 0, NULL, NULL, NULL};
    pr_query pq;
    pr_error err;
    pr_buf b;

    pr_buf_init(&b);
    if (start > 0 && query_parse(q, start, &lim, s->tok, &pq, &err) == 0) {
        if (pq.match) {
            pr_buf_adds(&b, pq.match);
            pr_buf_adds(&b, " AND ");
        }
        query_free(&pq);
    }
    pr_buf_adds(&b, "title : \"");
    pr_buf_adds(&b, prefix); /* letters and digits only: nothing to quote */
    pr_buf_adds(&b, "\" *");
    return pr_buf_take(&b);
}

/* Non-zero when OUT already suggests TEXT (a page published twice). */
static int already(const json_t *out, const char *text)
{
    size_t i;
    json_t *v;

    json_array_foreach(out, i, v) {
        const char *t = json_string_value(json_object_get(v, "text"));
        if (t && text && !strcmp(t, text))
            return 1;
    }
    return 0;
}

static json_t *suggestion(json_t *text, json_t *title, json_t *url)
{
    json_t *o = json_object();

    json_object_set_new(o, "text", text);
    json_object_set_new(o, "title", title);
    json_object_set_new(o, "url", url);
    return o;
}

static pr_search_status add_titles(pr_searcher *s, const char *q, size_t start,
                                   const char *prefix, int limit, json_t *out, pr_error *err)
{
    char *match = title_match(s, q, start, prefix);
    sqlite3_stmt *st;
    int rc;

    if (!match) {
        pr_error_set(err, 0, 0, "out of memory");
        return PR_SEARCH_ERROR;
    }
    st = pr_searcher_stmt(s, "SELECT d.title, d.url FROM fts JOIN documents d ON d.id = fts.rowid"
                             " WHERE fts MATCH ? ORDER BY bm25(fts, 10, 5, 4, 1, 3),"
                             " d.date_ts DESC LIMIT ?", err);
    if (!st) {
        free(match);
        return PR_SEARCH_ERROR;
    }
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *u = (const char *)sqlite3_column_text(st, 1);
        int tl = sqlite3_column_bytes(st, 0), ul = sqlite3_column_bytes(st, 1);
        json_t *text = pr_json_text(t, tl);
        if (already(out, json_string_value(text))) {
            json_decref(text);
            continue;
        }
        json_array_append_new(out, suggestion(text, pr_json_text(t, tl), pr_json_text(u, ul)));
    }
    sqlite3_reset(st);
    free(match);
    return rc == SQLITE_DONE ? PR_SEARCH_OK : pr_searcher_step_error(s, rc, err);
}

/* Words of the index starting with PREFIX, most pages first, as they are
 * written in the pages ("recrutés", not the folded "recrutes"), from the
 * searcher's copy of the vocabulary (search_lexicon.c). */
static pr_search_status add_terms(pr_searcher *s, const char *q, size_t start,
                                  const char *prefix, int limit, json_t *out, pr_error *err)
{
    search_lexicon *lx = pr_lexicon_get(s, err);
    const char *forms[128];
    long long dfs[128];
    int n, i;

    if (!lx)
        return PR_SEARCH_ERROR;
    n = pr_lexicon_complete(lx, prefix, limit < 128 ? limit : 128, forms, dfs);
    for (i = 0; i < n && (int)json_array_size(out) < limit; i++) {
        pr_buf text;
        pr_buf_init(&text);
        pr_buf_add_utf8(&text, q, start);
        pr_buf_adds(&text, forms[i]);
        if (text.oom) {
            pr_buf_free(&text);
            pr_error_set(err, 0, 0, "out of memory");
            return PR_SEARCH_ERROR;
        }
        if (!already(out, text.p))
            json_array_append_new(out, suggestion(json_string(text.p), json_null(), json_null()));
        pr_buf_free(&text);
    }
    return PR_SEARCH_OK;
}

pr_search_status pr_suggest(pr_searcher *s, const char *q, int limit, json_t **result,
                            pr_error *err)
{
    json_t *sugg;
    char *prefix;
    size_t start = 0;
    pr_search_status st = PR_SEARCH_OK;

    *result = NULL;
    pr_error_clear(err);
    if (!q)
        q = "";
    if ((int)strlen(q) > s->cfg.max_query_bytes) {
        pr_error_set(err, 0, 0, "query too long (max %d bytes)", s->cfg.max_query_bytes);
        return PR_SEARCH_BAD_REQUEST;
    }
    if (limit < 1 || limit > s->cfg.max_limit) {
        pr_error_set(err, 0, 0, "limit must be between 1 and %d", s->cfg.max_limit);
        return PR_SEARCH_BAD_REQUEST;
    }
    prefix = last_prefix(q, &start);
    if (!prefix) {
        pr_error_set(err, 0, 0, "out of memory");
        return PR_SEARCH_ERROR;
    }
    sugg = json_array();
    pr_searcher_budget_start(s);
    if (*prefix)
        st = add_titles(s, q, start, prefix, limit, sugg, err);
    if (*prefix && st == PR_SEARCH_OK && (int)json_array_size(sugg) < limit)
        st = add_terms(s, q, start, prefix, limit, sugg, err);
    pr_searcher_budget_stop(s);
    free(prefix);
    if (st != PR_SEARCH_OK) {
        json_decref(sugg);
        return st;
    }
    *result = json_object();
    json_object_set_new(*result, "query", pr_json_text(q, strlen(q)));
    json_object_set_new(*result, "suggestions", sugg);
    return PR_SEARCH_OK;
}
