/*
 * fuzz_query.c - libFuzzer harness for the query language and the search
 * entry points (lib/query_parse.c, lib/search.c, lib/search_suggest.c,
 * lib/snippet.c) against a real index.
 *
 * LLVMFuzzerInitialize builds a small index (fuzz_common.h) and opens a
 * searcher on it (no time budget: a slow query shows up as a libFuzzer
 * timeout) plus a read-only connection for running FTS5 expressions.
 *
 * Input: byte 0 is flags (bit 0 prefix, bit 1 distinct, bits 2-4 limit,
 * bit 5 also pr_suggest, bits 6-7 offset); the rest is split on NUL bytes
 * into q, tag, category, collection, after, before.
 *
 * Properties, beyond memory safety:
 *  - query_parse() succeeds, or refuses only "too long" / "too many terms";
 *    its match and exclude expressions, and "(match) NOT (exclude)", are
 *    accepted by SQLite's FTS5 (SELECT ... WHERE fts MATCH ? steps to a
 *    row); terms and filter values are valid UTF-8;
 *  - pr_search() answers OK, or BAD_REQUEST with "query too long", "too
 *    many terms", or (only when after/before were given) "bad date";
 *    never a SQL/FTS5 error. The result has as many hits as it says (up to
 *    limit) and every title_html/snippet_html is escaped text where the
 *    only tags are balanced, unnested <mark>...</mark>;
 *  - pr_suggest() answers OK or BAD_REQUEST "query too long".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "query_parse.h"
#include "search.h"

static pr_searcher *searcher;
static sqlite3 *conn;
static sqlite3_stmt *count_st;
static fr_tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *db = fz_build_index();
    pr_search_config cfg;
    pr_error err;
    pr_search_config_init(&cfg);
    cfg.time_budget_ms = 0;
    pr_error_clear(&err);
    searcher = pr_searcher_open(db, &cfg, &err);
    conn = pr_index_open(db, PR_INDEX_READONLY, &err);
    tok = fr_tokenizer_new();
    if (!searcher || !conn || !tok ||
        sqlite3_prepare_v2(conn, "SELECT count(*) FROM fts WHERE fts MATCH ?", -1, &count_st,
                           NULL) != SQLITE_OK) {
        fprintf(stderr, "fuzz_query: cannot open the sample index %s: %s\n", db, err.message);
        exit(1);
    }
    return 0;
}

/* EXPR must be accepted by FTS5. */
static void check_fts(const char *expr, const char *what, const char *q)
{
    int rc;
    sqlite3_bind_text(count_st, 1, expr, -1, SQLITE_STATIC);
    rc = sqlite3_step(count_st);
    FZ_CHECK(rc == SQLITE_ROW, "FTS5 refuses the %s expression [%s] of query [%s]: %s", what,
             expr, q, sqlite3_errmsg(conn));
    sqlite3_reset(count_st);
    sqlite3_clear_bindings(count_st);
}

static int refused_ok(const char *msg, int dates_given)
{
    return !strncmp(msg, "query too long", 14) || !strncmp(msg, "too many terms", 14) ||
           (dates_given && !strncmp(msg, "bad date", 8));
}

static void check_parse(const char *q, size_t len, int prefix)
{
    pr_query_limits lim = {1024, 32, prefix, NULL, NULL, NULL};
    pr_query pq;
    pr_error err;
    pr_error_clear(&err);
    if (query_parse(q, len, &lim, tok, &pq, &err) != 0) {
        FZ_CHECK(refused_ok(err.message, 0), "query_parse refused [%.200s]: %s", q,
                 err.message);
        return;
    }
    if (pq.match)
        check_fts(pq.match, "match", q);
    if (pq.exclude)
        check_fts(pq.exclude, "exclude", q);
    if (pq.match && pq.exclude) {
        size_t n = strlen(pq.match) + strlen(pq.exclude) + 16;
        char *both = malloc(n);
        if (both) {
            snprintf(both, n, "(%s) NOT (%s)", pq.match, pq.exclude);
            check_fts(both, "match NOT exclude", q);
            free(both);
        }
    }
    for (int i = 0; i < pq.nterms; i++)
        fz_check_str(pq.terms[i].text, 0, "query term");
    for (int i = 0; i < pq.nfilters; i++)
        fz_check_str(pq.filters[i].value, 0, "query filter value");
    query_free(&pq);
}

/* Escaped text whose only tags are <mark> and </mark>, balanced, unnested. */
static void check_html(const char *s, const char *what)
{
    static const char *entities[] = {"amp;", "lt;", "gt;", "quot;", "#39;", "#x27;", "apos;"};
    int open = 0;
    fz_check_str(s, 0, what);
    for (const char *p = s; *p; p++) {
        if (!strncmp(p, "<mark>", 6)) {
            FZ_CHECK(!open, "%s: nested <mark> in [%s]", what, s);
            open = 1;
            p += 5;
        } else if (!strncmp(p, "</mark>", 7)) {
            FZ_CHECK(open, "%s: </mark> without <mark> in [%s]", what, s);
            open = 0;
            p += 6;
        } else if (*p == '<' || *p == '>') {
            FZ_CHECK(0, "%s: unescaped '%c' in [%s]", what, *p, s);
        } else if (*p == '&') {
            int known = 0;
            for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++)
                known |= !strncmp(p + 1, entities[i], strlen(entities[i]));
            FZ_CHECK(known, "%s: bare '&' in [%s]", what, s);
        }
    }
    FZ_CHECK(!open, "%s: <mark> left open in [%s]", what, s);
}

static void check_result(json_t *r, const pr_search_request *req)
{
    json_t *hits = json_object_get(r, "hits");
    json_t *total = json_object_get(r, "total");
    size_t i;
    json_t *h;
    char *dump;
    FZ_CHECK(json_is_array(hits) && json_is_integer(total), "result without hits or total");
    FZ_CHECK(json_array_size(hits) <= (size_t)req->limit, "more hits (%zu) than limit %d",
             json_array_size(hits), req->limit);
    FZ_CHECK((json_int_t)json_array_size(hits) <= json_integer_value(total) ||
                 json_integer_value(total) < 0,
             "%zu hits but total %lld", json_array_size(hits),
             (long long)json_integer_value(total));
    json_array_foreach(hits, i, h) {
        check_html(json_string_value(json_object_get(h, "title_html")), "title_html");
        check_html(json_string_value(json_object_get(h, "snippet_html")), "snippet_html");
    }
    dump = pr_json_dump(r);
    FZ_CHECK(dump != NULL, "pr_json_dump returned NULL");
    fz_check_str(dump, 0, "result JSON");
    free(dump);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *fields[6] = {0};
    size_t nf = 0, start = 1;
    unsigned flags;
    pr_search_request req;
    pr_error err;
    json_t *r = NULL;
    pr_search_status st;
    int dates;
    if (size < 1)
        return 0;
    flags = data[0];
    buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (size_t i = 1; i <= size && nf < 6; i++) {
        if (i == size || buf[i] == '\0') {
            buf[i] = '\0';
            fields[nf++] = buf + start;
            start = i + 1;
        }
    }

    check_parse(fields[0], strlen(fields[0]), flags & 1);

    pr_search_request_init(&req);
    req.q = fields[0];
    req.prefix = flags & 1;
    req.distinct = (flags >> 1) & 1;
    req.limit = 1 + (int)((flags >> 2) & 7) * 14;
    req.offset = (int)(flags >> 6);
    req.tag = fields[1];
    req.category = fields[2];
    req.collection = fields[3];
    req.after = fields[4];
    req.before = fields[5];
    dates = (fields[4] && *fields[4]) || (fields[5] && *fields[5]);
    pr_error_clear(&err);
    st = pr_search(searcher, &req, &r, &err);
    if (st == PR_SEARCH_OK) {
        FZ_CHECK(r != NULL, "pr_search OK without a result");
        check_result(r, &req);
        json_decref(r);
    } else {
        FZ_CHECK(st == PR_SEARCH_BAD_REQUEST && refused_ok(err.message, dates),
                 "pr_search status %d for q=[%.300s]: %s", (int)st, fields[0], err.message);
        FZ_CHECK(r == NULL, "pr_search failed but gave a result");
    }

    if (flags & 0x20) {
        r = NULL;
        pr_error_clear(&err);
        st = pr_suggest(searcher, fields[0], 1 + (int)((flags >> 2) & 7), &r, &err);
        if (st == PR_SEARCH_OK) {
            char *dump = pr_json_dump(r);
            FZ_CHECK(dump != NULL, "pr_json_dump(suggest) returned NULL");
            fz_check_str(dump, 0, "suggest JSON");
            free(dump);
            json_decref(r);
        } else {
            FZ_CHECK(st == PR_SEARCH_BAD_REQUEST && !strncmp(err.message, "query too long", 14),
                     "pr_suggest status %d for q=[%.300s]: %s", (int)st, fields[0], err.message);
        }
    }
    free(buf);
    return 0;
}
