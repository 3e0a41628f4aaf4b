/*
 * search.c - answering one search (see search.h), the code path shared by
 * `prsearch -d` and the daemon.
 *
 * One request:
 *   1. check the request and parse the query (query_parse.c) into an FTS5
 *      expression and filters;
 *   2. run one SQL statement for the whole match set (ids, bm25 score,
 *      date): FTS5 MATCH plus bound filter values, or a plain scan of
 *      documents when only exclusions/filters were given;
 *   3. order it in C: bm25 with the field weights, nudged by date so that
 *      ties and near-ties put the newest first;
 *   4. count facets over the whole set, then read the page's documents and
 *      cut highlighted titles and snippets from their stored text
 *      (snippet.c);
 *   5. build the JSON of SPEC section 7.
 * The whole set is collected so `total` is exact and facets count every
 * match, not just the page.
 */
#include "search.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "prefix_surfaces.h"
#include "query_parse.h"
#include "search_internal.h"
#include "search_util.h"
#include "snippet.h"

void pr_search_config_init(pr_search_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->weights[PR_COL_TITLE] = 10;
    cfg->weights[PR_COL_HEADINGS] = 5;
    cfg->weights[PR_COL_CHAPEAU] = 4;
    cfg->weights[PR_COL_BODY] = 1;
    cfg->weights[PR_COL_TAXONOMY] = 3;
    cfg->max_query_bytes = 1024;
    cfg->max_terms = 32;
    cfg->max_limit = 100;
    cfg->snippet_words = 24;
    cfg->time_budget_ms = 250;
    cfg->recency_boost = 0.02;
    cfg->expansion_factor = 0.8;
    cfg->title_start_boost = 0.1;
    cfg->title_cover_boost = 0.2;
    cfg->match_walk = 1;
    cfg->prefix_stems = 1;
}

void pr_search_request_init(pr_search_request *req)
{
    memset(req, 0, sizeof *req);
    req->q = "";
    req->limit = 10;
    req->distinct = 1;
}

/* JSON text safe to embed: '<', '>' and '&' only occur inside strings,
 * where \u003c, \u003e, \u0026 mean the same characters. */
char *pr_json_dump(const json_t *json)
{
    char *s = json_dumps(json, PR_JSON_FLAGS), *out, *o;
    size_t n = 0;
    if (!s)
        return NULL;
    for (const char *p = s; *p; p++)
        n += (*p == '<' || *p == '>' || *p == '&') ? 6 : 1;
    if (!(out = malloc(n + 1))) {
        free(s);
        return NULL;
    }
    o = out;
    for (const char *p = s; *p; p++) {
        if (*p == '<' || *p == '>' || *p == '&') {
            o += sprintf(o, "\\u%04x", (unsigned)*p);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    free(s);
    return out;
}

json_t *pr_json_text(const char *s, size_t n)
{
    json_t *j;
    char *c;

    if (!s)
        return json_null();
    if (pr_utf8_wellformed(s, n) && (j = json_stringn_nocheck(s, n)))
        return j;
    c = pr_utf8_clean(s, n); /* invalid UTF-8: repair */
    j = c ? json_string(c) : NULL;
    free(c);
    return j;
}

/* ---- the searcher: connection, statements, time budget ----------------- */

int pr_searcher_over_budget(pr_searcher *s)
{
    struct timespec now;

    if (!s->budget_on)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > s->deadline.tv_sec ||
           (now.tv_sec == s->deadline.tv_sec && now.tv_nsec > s->deadline.tv_nsec);
}

static int on_progress(void *ctx)
{
    return pr_searcher_over_budget(ctx);
}

void pr_searcher_budget_start(pr_searcher *s)
{
    long ms = s->cfg.time_budget_ms;

    s->budget_on = ms > 0;
    if (!s->budget_on)
        return;
    clock_gettime(CLOCK_MONOTONIC, &s->deadline);
    s->deadline.tv_sec += ms / 1000;
    s->deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (s->deadline.tv_nsec >= 1000000000L) {
        s->deadline.tv_sec++;
        s->deadline.tv_nsec -= 1000000000L;
    }
}

void pr_searcher_budget_stop(pr_searcher *s)
{
    s->budget_on = 0;
}

pr_search_status pr_searcher_step_error(pr_searcher *s, int rc, pr_error *err)
{
    if ((rc & 0xff) == SQLITE_INTERRUPT) {
        pr_error_set(err, 0, 0, "query took longer than %d ms", s->cfg.time_budget_ms);
        return PR_SEARCH_TIMEOUT;
    }
    pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(s->db));
    return PR_SEARCH_ERROR;
}

static void clear_cache(pr_searcher *s)
{
    int i;

    for (i = 0; i < PR_STMT_CACHE; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
        memset(&s->cache[i], 0, sizeof s->cache[i]);
    }
    s->vocab_ready = 0;
    pr_lexicon_free(s->lex); /* another connection: load them again */
    s->lex = NULL;
    pr_docs_free(s->docs);
    s->docs = NULL;
}

long long pr_searcher_data_version(pr_searcher *s)
{
    pr_error err;
    sqlite3_stmt *st = pr_searcher_stmt(s, "PRAGMA data_version", &err);
    long long v = -1;

    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    if (st)
        sqlite3_reset(st);
    return v;
}

sqlite3_stmt *pr_searcher_stmt(pr_searcher *s, const char *sql, pr_error *err)
{
    int i, victim = 0;
    pr_stmt_slot *slot;

    s->tick++;
    for (i = 0; i < PR_STMT_CACHE; i++) {
        slot = &s->cache[i];
        if (slot->sql && strcmp(slot->sql, sql) == 0) {
            slot->used = s->tick;
            sqlite3_reset(slot->st);
            sqlite3_clear_bindings(slot->st);
            return slot->st;
        }
        if (!slot->sql || slot->used < s->cache[victim].used)
            victim = i;
        if (!slot->sql)
            break;
    }
    slot = &s->cache[victim];
    sqlite3_finalize(slot->st);
    free(slot->sql);
    memset(slot, 0, sizeof *slot);
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->st, NULL) !=
        SQLITE_OK) {
        pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(s->db));
        sqlite3_finalize(slot->st);
        slot->st = NULL;
        return NULL;
    }
    slot->sql = strdup(sql);
    if (!slot->sql) {
        sqlite3_finalize(slot->st);
        slot->st = NULL;
        pr_error_set(err, 0, 0, "out of memory");
        return NULL;
    }
    slot->used = s->tick;
    return slot->st;
}

static sqlite3 *open_db(const char *path, pr_searcher *s, pr_error *err)
{
    sqlite3 *db = pr_index_open(path, PR_INDEX_READONLY, err);

    if (db && pr_rank_register(db, s) != 0) {
        pr_error_set(err, 0, 0, "%s: cannot register the ranking functions: %s", path,
                     sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    if (db)
        sqlite3_progress_handler(db, 1000, on_progress, s);
    return db;
}

pr_searcher *pr_searcher_open(const char *db_path, const pr_search_config *cfg, pr_error *err)
{
    pr_searcher *s = calloc(1, sizeof *s);
    struct stat sb;

    if (!s || !(s->path = strdup(db_path)) || !(s->tok = fr_tokenizer_new()) ||
        !(s->terms = snippet_terms_new())) {
        pr_error_set(err, 0, 0, "out of memory");
        pr_searcher_close(s);
        return NULL;
    }
    if (cfg)
        s->cfg = *cfg;
    else
        pr_search_config_init(&s->cfg);
    if (stat(db_path, &sb) == 0) {
        s->dev = sb.st_dev;
        s->ino = sb.st_ino;
    }
    s->db = open_db(db_path, s, err);
    if (!s->db) {
        pr_searcher_close(s);
        return NULL;
    }
    return s;
}

void pr_searcher_close(pr_searcher *s)
{
    if (!s)
        return;
    clear_cache(s);
    sqlite3_close(s->db);
    fr_tokenizer_free(s->tok);
    snippet_terms_free(s->terms);
    free(s->path);
    free(s);
}

int pr_searcher_refresh(pr_searcher *s, int force, pr_error *err)
{
    struct stat sb;
    sqlite3 *db;

    if (stat(s->path, &sb) != 0) {
        if (!force)
            return 0; /* gone for a moment (being replaced): keep answering */
        pr_error_set(err, 0, 0, "no index at %s (%s)", s->path, strerror(errno));
        return -1;
    }
    if (!force && sb.st_dev == s->dev && sb.st_ino == s->ino)
        return 0;
    db = open_db(s->path, s, err);
    if (!db)
        return -1;
    clear_cache(s);
    sqlite3_close(s->db);
    s->db = db;
    s->dev = sb.st_dev;
    s->ino = sb.st_ino;
    return 1;
}

/* Run SQL ("BEGIN", "COMMIT") through the statement cache: parsed once,
 * not at every search. Errors are the next statement's to report. */
static void run_cached(pr_searcher *s, const char *sql)
{
    pr_error err;
    sqlite3_stmt *st = pr_searcher_stmt(s, sql, &err);

    if (st) {
        sqlite3_step(st);
        sqlite3_reset(st);
    }
}

void pr_searcher_warm(pr_searcher *s)
{
    pr_error err;

    run_cached(s, "BEGIN");
    pr_lexicon_get(s, &err);
    pr_docs_get(s, &err);
    run_cached(s, "COMMIT");
}

int pr_searcher_stats(pr_searcher *s, long long *documents, long long *index_mtime)
{
    struct stat sb;
    char wal[4096];
    long long n = pr_index_count(s->db), m;

    if (n < 0 || stat(s->path, &sb) != 0)
        return -1;
    m = (long long)sb.st_mtime;
    /* In WAL mode a commit touches the -wal file, not the main one. */
    snprintf(wal, sizeof wal, "%s-wal", s->path);
    if (stat(wal, &sb) == 0 && (long long)sb.st_mtime > m)
        m = (long long)sb.st_mtime;
    if (documents)
        *documents = n;
    if (index_mtime)
        *index_mtime = m;
    return 0;
}

/* ---- step 2: the match set ---------------------------------------------- */

/*
 * One matching page. Its date and duplicate group come from the
 * searcher's page table (search_docs.c), not from SQL: a broad query
 * matches tens of thousands of pages, and the SQL join to `documents`
 * cost a b-tree descent into rows of several KB for each.
 */
typedef struct match_row {
    sqlite3_int64 id;
    double bm25;     /* -bm25(): larger is better */
    double rank;     /* what the order uses */
    sqlite3_int64 date_ts; /* PR_DOCS_UNDATED when none */
    sqlite3_int64 grp; /* duplicate group (doc_dups), or 0 */
    int doc;         /* index in the page table, -1 if unknown */
    int title_start; /* the title starts with the query's words */
    int title_cover; /* the title holds every required part of the query */
    int dup_next;    /* on a hit: the next page folded into it, or -1 */
} match_row;

/* A hit: the group of pages shown as one (or one page), placed by its
 * best-ranked page and shown as its newest. */
typedef struct hit {
    double rank;     /* of the best page: the order */
    sqlite3_int64 date_ts, id;
    int shown;       /* row shown */
    int group;       /* its slot in fold_duplicates' group table, or -1 */
} hit;

typedef struct match_set {
    match_row *v;
    int n, cap;
    hit *hits;       /* every hit; the first nordered in result order */
    int nhits;       /* the result's total */
    int nordered;
    int demoted;     /* bm25 already as demote_expanded() sets it */
} match_set;

static void match_set_free(match_set *m)
{
    free(m->v);
    free(m->hits);
    memset(m, 0, sizeof *m);
}

static int cmp_id(const void *pa, const void *pb)
{
    sqlite3_int64 a = *(const sqlite3_int64 *)pa, b = *(const sqlite3_int64 *)pb;

    return a < b ? -1 : a > b;
}

/* Values bound to the '?' of the SQL, in order. */
typedef struct binds {
    int n;
    struct { const char *s; double d; sqlite3_int64 i; int isint; } v[96];
} binds;

static void bind_text(binds *b, const char *s)
{
    if (b->n < (int)(sizeof b->v / sizeof b->v[0]))
        b->v[b->n++].s = s;
}

static void bind_int(binds *b, sqlite3_int64 i)
{
    if (b->n < (int)(sizeof b->v / sizeof b->v[0])) {
        b->v[b->n].s = NULL;
        b->v[b->n].isint = 1;
        b->v[b->n++].i = i;
    }
}

static void bind_real(binds *b, double d)
{
    if (b->n < (int)(sizeof b->v / sizeof b->v[0])) {
        b->v[b->n].s = NULL;
        b->v[b->n].isint = 0;
        b->v[b->n++].d = d;
    }
}

/* Parts of the query named in GROUPS (pr_query phrase_groups). */
static int distinct_groups(const char *groups)
{
    unsigned long long seen = 0;

    for (; *groups; groups++)
        seen |= 1ULL << ((*groups - 'A') & 63);
    return __builtin_popcountll(seen);
}

/* The SQL of the match set of MATCH_EXPR (kept alive by the caller) and
 * its bound values. Columns: id, score, title_start, title_cover. */
static void build_match_sql(pr_searcher *s, const pr_query *q, const char *match_expr,
                            pr_buf *sql, binds *b)
{
    int i;

    pr_buf_adds(sql, "SELECT fts.rowid, -pr_bm25(fts");
    for (i = 0; i < PR_NCOLS; i++) {
        pr_buf_adds(sql, ", ?");
        bind_real(b, s->cfg.weights[i]);
    }
    pr_buf_adds(sql, ", ?)");
    bind_text(b, match_expr);
    /* Both title signals need two words or more: for one, skip a call
     * per matching row. */
    if (__builtin_popcountll(q->literal_phrases) >= 2) {
        pr_buf_adds(sql, ", title_start(fts, ?)");
        bind_int(b, (sqlite3_int64)q->literal_phrases);
    } else {
        pr_buf_adds(sql, ", 0");
    }
    if (distinct_groups(q->phrase_groups) >= 2) {
        pr_buf_adds(sql, ", title_cover(fts, ?)");
        bind_text(b, q->phrase_groups);
    } else {
        pr_buf_adds(sql, ", 0");
    }
    pr_buf_adds(sql, " FROM fts WHERE fts MATCH ?");
    bind_text(b, match_expr);
}

/*
 * The query's filters, checked on the page table: a facet filter wants
 * (negated: refuses) pages with a form of GROUP (-1: no page has the
 * value); a date filter wants pages whose day is at least AFTER / at
 * most BEFORE (YYYYMMDD; undated pages never pass one).
 */
typedef struct facet_filter {
    int group, negated;
} facet_filter;

typedef struct filters {
    facet_filter *facet;
    int nfacet;
    int after, before; /* 0: none */
} filters;

static int facet_of_filter(pr_filter_kind k)
{
    switch (k) {
    case PR_FILTER_TAG: return PR_FACET_TAG;
    case PR_FILTER_CATEGORY: return PR_FACET_CATEGORY;
    default: return PR_FACET_COLLECTION;
    }
}

/* "YYYY-MM-DD" (query_parse checked it) as YYYYMMDD. */
static int filter_day(const char *v)
{
    int y = 0, m = 0, d = 0;

    return sscanf(v, "%4d-%2d-%2d", &y, &m, &d) == 3 ? y * 10000 + m * 100 + d : 0;
}

static int resolve_filters(const search_docs *d, const pr_query *q, filters *fl)
{
    memset(fl, 0, sizeof *fl);
    if (!(fl->facet = malloc(((size_t)q->nfilters + 1) * sizeof *fl->facet)))
        return -1;
    for (int i = 0; i < q->nfilters; i++) {
        const pr_filter *f = &q->filters[i];
        int day;
        if (f->kind == PR_FILTER_AFTER || f->kind == PR_FILTER_BEFORE) {
            day = filter_day(f->value);
            if (f->kind == PR_FILTER_AFTER && day > fl->after)
                fl->after = day;
            if (f->kind == PR_FILTER_BEFORE && (!fl->before || day < fl->before))
                fl->before = day;
            continue;
        }
        fl->facet[fl->nfacet].group = pr_docs_find_group(d, facet_of_filter(f->kind), f->value);
        fl->facet[fl->nfacet++].negated = f->negated;
    }
    return 0;
}

static int passes(const search_docs *d, int doc, const filters *fl)
{
    if (fl->after || fl->before) {
        int day = pr_docs_day(d, doc);
        if (!day || (fl->after && day < fl->after) || (fl->before && day > fl->before))
            return 0;
    }
    for (int i = 0; i < fl->nfacet; i++) {
        const facet_filter *f = &fl->facet[i];
        int has = f->group >= 0 && pr_docs_has_group(d, doc, f->group);
        if (has == f->negated)
            return 0;
    }
    return 1;
}

static int push_row(match_set *m, const search_docs *d, sqlite3_int64 id, double bm25,
                    int title_start, int title_cover)
{
    match_row *r;

    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 64;
        match_row *nv = realloc(m->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        m->v = nv;
        m->cap = cap;
    }
    r = &m->v[m->n++];
    r->id = id;
    r->bm25 = bm25;
    r->title_start = title_start;
    r->title_cover = title_cover;
    r->doc = pr_docs_index(d, id);
    r->date_ts = pr_docs_date(d, r->doc);
    r->grp = pr_docs_group(d, r->doc);
    r->dup_next = -1;
    r->rank = r->bm25;
    return 0;
}

static void bind_all(sqlite3_stmt *st, const binds *b)
{
    for (int i = 0; i < b->n; i++) {
        if (b->v[i].s)
            sqlite3_bind_text(st, i + 1, b->v[i].s, -1, SQLITE_STATIC);
        else if (b->v[i].isint)
            sqlite3_bind_int64(st, i + 1, b->v[i].i);
        else
            sqlite3_bind_double(st, i + 1, b->v[i].d);
    }
}

/*
 * Every page matching EXPR, walked and scored in one call (pr_match_walk,
 * search_walk.c) instead of a statement step and a pr_bm25 call per row;
 * a lone prefix, whose pages FTS5 merges anew for each cursor, row by row
 * (pr_match_row keeps each row, then they are scored). LITERAL and GROUPS
 * are what title_start() and title_cover() are given (0 and NULL when
 * only bm25 is wanted); WANT_LITERAL asks for the literal form's scores
 * too (pr_scored_row lit_ok, lit_score). Fills SC (ascending ids; the
 * caller frees SC->v) and sets *HANDLED when done; when not (a shape it
 * does not walk), SC is empty and the caller runs the SQL.
 */
static pr_search_status walk_scored(pr_searcher *s, const char *expr, unsigned long long literal,
                                    const char *groups, int want_literal, pr_scored *sc,
                                    int *handled, pr_error *err)
{
    pr_search_status status = PR_SEARCH_OK;
    sqlite3_stmt *st;
    int rc, i, by_rows;

    memset(sc, 0, sizeof *sc);
    *handled = 0;
    sc->literal = literal;
    sc->groups = groups;
    sc->want_literal = want_literal;
    by_rows = pr_walk_by_rows(expr);
    st = pr_searcher_stmt(s, by_rows ? "SELECT pr_match_row(fts, ?1, ?2, ?3, ?4, ?5, ?6)"
                                       " FROM fts WHERE fts MATCH ?7"
                                     : "SELECT pr_match_walk(fts, ?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                                       " FROM fts WHERE fts MATCH ?7 LIMIT 1",
                          err);
    if (!st)
        return PR_SEARCH_ERROR;
    sqlite3_bind_pointer(st, 1, sc, PR_SCORED_PTR, NULL);
    for (i = 0; i < PR_NCOLS; i++)
        sqlite3_bind_double(st, i + 2, s->cfg.weights[i]);
    sqlite3_bind_text(st, PR_NCOLS + 2, expr, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && by_rows)
        ; /* pr_match_row keeps each row */
    if (rc == SQLITE_DONE && by_rows)
        pr_scored_finish(sc, s, expr);
    else if (rc == SQLITE_DONE) /* no row at all */
        *handled = 1;
    else if (rc != SQLITE_ROW)
        status = pr_searcher_step_error(s, rc, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (status == PR_SEARCH_OK && sc->handled)
        *handled = 1;
    if (!*handled) {
        free(sc->v);
        sc->v = NULL;
        sc->n = 0;
    }
    return status;
}

/* walk_scored() for the query: the walked rows that pass FL go to M.
 * When the walk scored the literal form too, the rows get the scores
 * demote_expanded() would give them, and M says so. */
static pr_search_status walked_rows(pr_searcher *s, const pr_query *q, const char *expr,
                                   const search_docs *d, const filters *fl, match_set *m,
                                   int *handled, pr_error *err)
{
    pr_scored sc;
    pr_search_status status = walk_scored(s, expr, q->literal_phrases, q->phrase_groups,
                                          q->literal != NULL, &sc, handled, err);
    int i, demoted = *handled && q->literal && sc.literal_done;

    for (i = 0; *handled && i < sc.n && status == PR_SEARCH_OK; i++) {
        const pr_scored_row *r = &sc.v[i];
        double bm25 = !demoted ? r->score
                      : r->lit_ok ? r->lit_score
                                  : r->score * s->cfg.expansion_factor;
        if (passes(d, pr_docs_index(d, r->id), fl) &&
            push_row(m, d, r->id, bm25, r->title_start, r->title_cover) != 0) {
            status = PR_SEARCH_ERROR;
            pr_error_set(err, 0, 0, "out of memory");
        }
    }
    if (demoted && status == PR_SEARCH_OK)
        m->demoted = 1;
    free(sc.v);
    return status;
}

/* Rows of the pages matching EXPR that pass FL. */
static pr_search_status match_rows(pr_searcher *s, const pr_query *q, const char *expr,
                                   const search_docs *d, const filters *fl, match_set *m,
                                   pr_error *err)
{
    pr_search_status status = PR_SEARCH_OK;
    sqlite3_stmt *st;
    pr_buf sql;
    binds b;
    int rc, handled = 0;

    if (s->cfg.match_walk) {
        status = walked_rows(s, q, expr, d, fl, m, &handled, err);
        if (status != PR_SEARCH_OK || handled)
            return status;
    }
    b.n = 0;
    pr_buf_init(&sql);
    build_match_sql(s, q, expr, &sql, &b);
    st = sql.oom ? NULL : pr_searcher_stmt(s, sql.p, err);
    if (!st) {
        if (sql.oom)
            pr_error_set(err, 0, 0, "out of memory");
        pr_buf_free(&sql);
        return PR_SEARCH_ERROR;
    }
    bind_all(st, &b);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (!passes(d, pr_docs_index(d, id), fl))
            continue;
        if (push_row(m, d, id, sqlite3_column_double(st, 1), sqlite3_column_int(st, 2),
                     sqlite3_column_int(st, 3)) != 0) {
            status = PR_SEARCH_ERROR;
            pr_error_set(err, 0, 0, "out of memory");
            break;
        }
    }
    if (status == PR_SEARCH_OK && rc != SQLITE_DONE)
        status = pr_searcher_step_error(s, rc, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pr_buf_free(&sql);
    return status;
}

/* The pages of EXCLUDE (an FTS5 expression), ascending, in *OUT. */
static pr_search_status excluded_ids(pr_searcher *s, const char *exclude, sqlite3_int64 **out,
                                     int *n, pr_error *err)
{
    sqlite3_stmt *st = pr_searcher_stmt(s, "SELECT rowid FROM fts WHERE fts MATCH ?", err);
    sqlite3_int64 *v = NULL;
    int cap = 0, rc, sorted = 1;

    *out = NULL;
    *n = 0;
    if (!st)
        return PR_SEARCH_ERROR;
    sqlite3_bind_text(st, 1, exclude, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            sqlite3_int64 *nv = realloc(v, (size_t)(cap = cap ? cap * 2 : 256) * sizeof *nv);
            if (!nv) {
                sqlite3_reset(st);
                free(v);
                pr_error_set(err, 0, 0, "out of memory");
                return PR_SEARCH_ERROR;
            }
            v = nv;
        }
        v[*n] = sqlite3_column_int64(st, 0);
        sorted = sorted && (*n == 0 || v[*n - 1] < v[*n]);
        (*n)++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return pr_searcher_step_error(s, rc, err);
    }
    if (!sorted)
        qsort(v, (size_t)*n, sizeof *v, cmp_id);
    *out = v;
    return PR_SEARCH_OK;
}

/* Nothing to match, only filters and exclusions: every page of the
 * table that passes, score 0 (ties: newest first). */
static pr_search_status filter_rows(pr_searcher *s, const pr_query *q, const search_docs *d,
                                    const filters *fl, match_set *m, pr_error *err)
{
    sqlite3_int64 *ex = NULL;
    int nex = 0;
    pr_search_status st = PR_SEARCH_OK;

    if (q->exclude && (st = excluded_ids(s, q->exclude, &ex, &nex, err)) != PR_SEARCH_OK)
        return st;
    for (int i = 0; i < pr_docs_count(d) && st == PR_SEARCH_OK; i++) {
        sqlite3_int64 id = pr_docs_id(d, i);
        if (!passes(d, i, fl) || (nex && bsearch(&id, ex, (size_t)nex, sizeof *ex, cmp_id)))
            continue;
        if (push_row(m, d, id, 0.0, 0, 0) != 0) {
            pr_error_set(err, 0, 0, "out of memory");
            st = PR_SEARCH_ERROR;
        }
    }
    free(ex);
    return st;
}

static pr_search_status collect_matches(pr_searcher *s, const pr_query *q, match_set *m,
                                        pr_error *err)
{
    pr_search_status status;
    search_docs *d;
    filters fl;
    pr_buf expr;

    memset(m, 0, sizeof *m);
    if (!(d = s->docs)) { /* pr_search loads it before the budget starts */
        pr_error_set(err, 0, 0, "index read failed: no page table");
        return PR_SEARCH_ERROR;
    }
    if (resolve_filters(d, q, &fl) != 0) {
        pr_error_set(err, 0, 0, "out of memory");
        return PR_SEARCH_ERROR;
    }
    if (!q->match) {
        status = filter_rows(s, q, d, &fl, m, err);
        free(fl.facet);
        return status;
    }
    pr_buf_init(&expr);
    if (q->exclude) { /* FTS5 does NOT itself when there is something to subtract from */
        pr_buf_adds(&expr, "(");
        pr_buf_adds(&expr, q->match);
        pr_buf_adds(&expr, ") NOT (");
        pr_buf_adds(&expr, q->exclude);
        pr_buf_adds(&expr, ")");
    } else {
        pr_buf_adds(&expr, q->match);
    }
    if (expr.oom) {
        status = PR_SEARCH_ERROR;
        pr_error_set(err, 0, 0, "out of memory");
    } else {
        status = match_rows(s, q, expr.p, d, &fl, m, err);
    }
    pr_buf_free(&expr);
    free(fl.facet);
    return status;
}

/*
 * Queries with an expansion (an acronym's long form, a synonym): pages
 * that match the words as typed keep the score of those words alone (the
 * expansion adds nothing to them, so a page naming both the acronym and
 * its long form does not jump ahead; taking the better of both scores
 * measured worse on tests/eval), pages found only through the expansion
 * get theirs multiplied by cfg.expansion_factor: a little below literal
 * matches. Failures only mean no adjustment.
 */
static int cmp_scored(const void *pa, const void *pb)
{
    const pr_scored_row *a = pa, *b = pb;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* The literal query's pages and bm25 through SQL, one pr_bm25 call per
 * row (when the walk is off or does not take the expression). */
static void sql_scored(pr_searcher *s, const char *literal, pr_scored *sc)
{
    int sorted = 1, i;
    sqlite3_stmt *st;
    pr_error err;

    /* FTS5 returns rowids in ascending order; an ORDER BY here cost a
     * sort of every row. */
    st = pr_searcher_stmt(
        s, "SELECT rowid, -pr_bm25(fts, ?, ?, ?, ?, ?, ?6) FROM fts WHERE fts MATCH ?6", &err);
    if (!st)
        return;
    for (i = 0; i < PR_NCOLS; i++)
        sqlite3_bind_double(st, i + 1, s->cfg.weights[i]);
    sqlite3_bind_text(st, PR_NCOLS + 1, literal, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        pr_scored_row *v = pr_room_for_one(sc->v, sc->n, &sc->cap, sizeof *v);
        if (!v)
            break;
        sc->v = v;
        v[sc->n].id = sqlite3_column_int64(st, 0);
        v[sc->n].score = sqlite3_column_double(st, 1);
        sorted = sorted && (sc->n == 0 || v[sc->n - 1].id < v[sc->n].id);
        sc->n++;
    }
    sqlite3_reset(st);
    if (!sorted)
        qsort(sc->v, (size_t)sc->n, sizeof *sc->v, cmp_scored);
}

static void demote_expanded(pr_searcher *s, const pr_query *q, match_set *m)
{
    pr_scored lit = {0};
    pr_scored_row key, *found;
    pr_error err;
    int i, handled = 0;

    if (!q->literal || m->n == 0 || m->demoted)
        return;
    if (s->cfg.match_walk &&
        walk_scored(s, q->literal, 0, NULL, 0, &lit, &handled, &err) != PR_SEARCH_OK)
        return;
    if (!handled)
        sql_scored(s, q->literal, &lit);
    for (i = 0; i < m->n; i++) {
        key.id = m->v[i].id;
        found = lit.n ? bsearch(&key, lit.v, (size_t)lit.n, sizeof *lit.v, cmp_scored) : NULL;
        double via = m->v[i].bm25 * s->cfg.expansion_factor; /* found only so */
        m->v[i].bm25 = found ? found->score : via;
    }
    free(lit.v);
}

/* ---- step 3: order -------------------------------------------------------- */

/* Better first: higher rank, then newer, then the smaller id. */
static int cmp_order(double ra, sqlite3_int64 da, sqlite3_int64 ia, double rb, sqlite3_int64 db,
                     sqlite3_int64 ib)
{
    if (ra != rb)
        return ra > rb ? -1 : 1;
    if (da != db)
        return da > db ? -1 : 1;
    return ia < ib ? -1 : ia > ib;
}

static int cmp_rows(const match_row *a, const match_row *b)
{
    return cmp_order(a->rank, a->date_ts, a->id, b->rank, b->date_ts, b->id);
}

static int cmp_hits(const void *pa, const void *pb)
{
    const hit *a = pa, *b = pb;

    return cmp_order(a->rank, a->date_ts, a->id, b->rank, b->date_ts, b->id);
}

/*
 * bm25 multiplied by 1 + boost * (how recent the page is within the match
 * set, 0 for the oldest or undated, 1 for the newest): among pages that
 * match about as well, the newest wins; a much better match still wins.
 */
static void rank_rows(match_set *m, double boost, double title_start, double title_cover)
{
    sqlite3_int64 lo = 0, hi = 0;
    int i, seen = 0;

    for (i = 0; i < m->n; i++) {
        if (m->v[i].date_ts == PR_DOCS_UNDATED)
            continue;
        if (!seen || m->v[i].date_ts < lo)
            lo = m->v[i].date_ts;
        if (!seen || m->v[i].date_ts > hi)
            hi = m->v[i].date_ts;
        seen = 1;
    }
    for (i = 0; i < m->n; i++) {
        match_row *r = &m->v[i];
        int dated = r->date_ts != PR_DOCS_UNDATED;
        double rec = (dated && hi > lo) ? (double)(r->date_ts - lo) / (double)(hi - lo) : 0;
        r->rank = r->bm25 * (1.0 + boost * rec);
        if (r->title_start)
            r->rank *= 1.0 + title_start;
        if (r->title_cover)
            r->rank *= 1.0 + title_cover;
    }
}

/* Heap of the K best hits seen so far, the worst at the top. */
static void heap_down(hit *v, int k, int i)
{
    for (;;) {
        int w = i, c;
        for (c = 2 * i + 1; c <= 2 * i + 2 && c < k; c++)
            if (cmp_hits(&v[c], &v[w]) > 0)
                w = c;
        if (w == i)
            return;
        hit t = v[i];
        v[i] = v[w];
        v[w] = t;
        i = w;
    }
}

/* Put the K best of the N hits of V first, in order; the rest after them
 * in no order. A page of results needs only its first offset + limit
 * hits ordered, not the tens of thousands of a broad query. */
static void order_hits(hit *v, int n, int k)
{
    if (k <= 0)
        return;
    if (k >= n / 4) {
        qsort(v, (size_t)n, sizeof *v, cmp_hits);
        return;
    }
    for (int i = k / 2 - 1; i >= 0; i--)
        heap_down(v, k, i);
    for (int i = k; i < n; i++)
        if (cmp_hits(&v[i], &v[0]) < 0) {
            hit t = v[0];
            v[0] = v[i];
            v[i] = t;
            heap_down(v, k, 0);
        }
    qsort(v, (size_t)k, sizeof *v, cmp_hits);
}

/* ---- step 3b: duplicates ------------------------------------------------ */

/*
 * The same page published twice (old and new file name, or as a release
 * and as a news item): the indexer groups pages with the same folded
 * title or near-identical bodies (doc_dups, lexicon.c). Issue 5 asks for
 * these to be shown once whatever their dates. A group matched by the
 * query takes the place of its best-ranked page and is shown as its
 * newest page (the best ranked among equals); the others' URLs go to
 * "duplicates", best ranked first.
 */
/* A group of duplicates met in the match set, in an open-addressing
 * table keyed by group: a broad query brings tens of thousands of
 * grouped rows, and sorting them all by group cost a quarter of its
 * time; only the groups shown on the page need their pages in order. */
typedef struct group_slot {
    sqlite3_int64 grp;  /* 0: free slot */
    int best, shown;    /* rows */
    int first;          /* a member row; the others follow through next[] */
} group_slot;

typedef struct group_table {
    group_slot *v;
    int *next;          /* per row: the next member of its group, or -1 */
    size_t mask;
} group_table;

static void add_hit(match_set *m, int best, int shown, int group)
{
    hit *h = &m->hits[m->nhits++];

    h->rank = m->v[best].rank;
    h->date_ts = m->v[best].date_ts;
    h->id = m->v[best].id;
    h->shown = shown;
    h->group = group;
}

static group_slot *group_slot_of(group_table *t, sqlite3_int64 grp)
{
    size_t i = ((sqlite3_uint64)grp * 0x9E3779B97F4A7C15ULL >> 20) & t->mask;

    while (t->v[i].grp && t->v[i].grp != grp)
        i = (i + 1) & t->mask;
    return &t->v[i];
}

/* Shown: the newest page of the group, the best ranked among equals. */
static int newer_shown(const match_row *r, const match_row *shown)
{
    if (r->date_ts != shown->date_ts)
        return r->date_ts > shown->date_ts;
    return cmp_rows(r, shown) < 0;
}

/* Files row I into its group's slot. */
static void group_add(group_table *t, const match_set *m, int i)
{
    group_slot *g = group_slot_of(t, m->v[i].grp);

    if (!g->grp) {
        g->grp = m->v[i].grp;
        g->best = g->shown = g->first = i;
        t->next[i] = -1;
        return;
    }
    if (cmp_rows(&m->v[i], &m->v[g->best]) < 0)
        g->best = i;
    if (newer_shown(&m->v[i], &m->v[g->shown]))
        g->shown = i;
    t->next[i] = g->first;
    g->first = i;
}

static int cmp_row_ptrs(const void *pa, const void *pb)
{
    return cmp_rows(*(const match_row *const *)pa, *(const match_row *const *)pb);
}

/* Chains the pages of group G other than the one shown, best ranked
 * first, from the shown row's dup_next. Returns 0, or -1 out of memory. */
static int chain_group(match_set *m, const group_table *t, const group_slot *g)
{
    const match_row **v;
    int n = 0, k, prev = g->shown;

    for (k = g->first; k >= 0; k = t->next[k])
        n++;
    if (n < 2)
        return 0;
    if (!(v = malloc((size_t)n * sizeof *v)))
        return -1;
    n = 0;
    for (k = g->first; k >= 0; k = t->next[k])
        if (k != g->shown)
            v[n++] = &m->v[k];
    qsort(v, (size_t)n, sizeof *v, cmp_row_ptrs);
    for (k = 0; k < n; k++) {
        int row = (int)(v[k] - m->v);
        m->v[prev].dup_next = row;
        prev = row;
    }
    m->v[prev].dup_next = -1;
    free(v);
    return 0;
}

/* One hit per group of T, GROUPED rows in all. */
static int fold_groups(match_set *m, group_table *t, int grouped)
{
    size_t cap = 16, i;

    while (cap < 2 * (size_t)grouped)
        cap *= 2;
    t->mask = cap - 1;
    t->v = calloc(cap, sizeof *t->v);
    t->next = malloc((size_t)m->n * sizeof *t->next);
    if (!t->v || !t->next)
        return -1;
    for (int r = 0; r < m->n; r++)
        if (m->v[r].grp)
            group_add(t, m, r);
    for (i = 0; i < cap; i++)
        if (t->v[i].grp)
            add_hit(m, t->v[i].best, t->v[i].shown, (int)i);
    return 0;
}

/*
 * The hits: every row, or with DISTINCT each group of duplicates once;
 * the first ORDERED of them in result order, their duplicates chained.
 * Returns 0, or -1 out of memory.
 */
static int fold_duplicates(match_set *m, int distinct, long long ordered)
{
    group_table t = {0};
    int i, grouped = 0, rc = 0;

    m->hits = malloc(((size_t)m->n + 1) * sizeof *m->hits);
    if (!m->hits)
        return -1;
    m->nhits = 0;
    for (i = 0; i < m->n; i++) {
        m->v[i].dup_next = -1;
        if (!distinct || !m->v[i].grp)
            add_hit(m, i, i, -1);
        else
            grouped++;
    }
    if (grouped > 0)
        rc = fold_groups(m, &t, grouped);
    m->nordered = ordered < m->nhits ? (int)ordered : m->nhits;
    if (rc == 0)
        order_hits(m->hits, m->nhits, m->nordered);
    for (i = 0; rc == 0 && i < m->nordered; i++)
        if (m->hits[i].group >= 0)
            rc = chain_group(m, &t, &t.v[m->hits[i].group]);
    free(t.v);
    free(t.next);
    return rc;
}

/* ---- step 4a: facets -------------------------------------------------------- */

static const char *const facet_json_names[PR_FACET_N] = {"collection", "categories", "tags",
                                                         "year"};

typedef struct facet_val {
    int kind;
    const char *value; /* owned by the page table */
    int count;
} facet_val;

typedef struct facet_list {
    facet_val *v;
    int n;
} facet_list;

static void facet_list_free(facet_list *l)
{
    free(l->v);
}

/* Display order within a kind: most frequent first (years: newest first). */
static int cmp_facet_show(const void *pa, const void *pb)
{
    const facet_val *a = pa, *b = pb;

    if (a->kind != b->kind)
        return a->kind - b->kind;
    if (a->kind == PR_FACET_YEAR)
        return strcmp(b->value, a->value);
    if (a->count != b->count)
        return b->count - a->count;
    return strcmp(a->value, b->value);
}

/* The value of the forms [F, END) of one group used by the counted pages:
 * its count in *COUNT and the smallest such spelling as its name. */
static const char *group_name(const search_docs *d, const int *fcount, int f, int end, int *count)
{
    const char *name = NULL;

    *count = 0;
    for (; f < end; f++) {
        const char *v = pr_docs_form_at(d, f)->value;
        if (!fcount[f])
            continue;
        *count += fcount[f];
        if (!name || strcmp(v, name) < 0)
            name = v;
    }
    return name;
}

/* Facet values of the hits (each page once: duplicates folded), counted
 * on the page table. */
static pr_search_status collect_facets(pr_searcher *s, const match_set *m, facet_list *l,
                                       pr_error *err)
{
    const search_docs *d = s->docs;
    int ngroups, nforms, *fcount, f, end, i, k;

    memset(l, 0, sizeof *l);
    if (!d || m->nhits == 0)
        return PR_SEARCH_OK;
    nforms = pr_docs_nforms(d, &ngroups);
    fcount = calloc((size_t)nforms + 1, sizeof *fcount);
    l->v = malloc(((size_t)ngroups + 1) * sizeof *l->v);
    if (!fcount || !l->v) {
        free(fcount);
        pr_error_set(err, 0, 0, "out of memory");
        return PR_SEARCH_ERROR;
    }
    for (i = 0; i < m->nhits; i++) {
        const int *forms;
        int n = pr_docs_forms(d, m->v[m->hits[i].shown].doc, &forms);
        for (k = 0; k < n; k++)
            fcount[forms[k]]++;
    }
    for (f = 0; f < nforms; f = end) {
        int group = pr_docs_form_at(d, f)->group, count;
        const char *name;
        for (end = f + 1; end < nforms && pr_docs_form_at(d, end)->group == group; end++)
            ;
        if (!(name = group_name(d, fcount, f, end, &count)))
            continue;
        l->v[l->n].kind = pr_docs_form_at(d, f)->kind;
        l->v[l->n].value = name;
        l->v[l->n++].count = count;
    }
    free(fcount);
    qsort(l->v, (size_t)l->n, sizeof *l->v, cmp_facet_show);
    return PR_SEARCH_OK;
}

/* Whether S holds no control character (C0, DEL, C1 in UTF-8): then
 * pr_utf8_clean changes nothing of it if it is valid UTF-8. */
static int no_controls(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    for (; *u; u++)
        if (*u < ' ' || *u == 0x7F || (*u == 0xC2 && u[1] >= 0x80 && u[1] < 0xA0))
            return 0;
    return 1;
}

static json_t *facets_json(const facet_list *l)
{
    json_t *o = json_object(), *k[PR_FACET_N];
    int i;

    for (i = 0; i < PR_FACET_N; i++) {
        k[i] = json_object();
        json_object_set_new(o, facet_json_names[i], k[i]);
    }
    for (i = 0; i < l->n; i++) {
        json_t *kind = k[l->v[i].kind];
        char *key;
        /* jansson refuses a key that is not UTF-8: repaired then */
        if (no_controls(l->v[i].value) &&
            pr_utf8_wellformed(l->v[i].value, strlen(l->v[i].value)) &&
            json_object_set_new_nocheck(kind, l->v[i].value, json_integer(l->v[i].count)) == 0)
            continue;
        key = pr_utf8_clean(l->v[i].value, strlen(l->v[i].value));
        if (key)
            json_object_set_new(kind, key, json_integer(l->v[i].count));
        free(key);
    }
    return o;
}

/* ---- step 4b: the page's hits ---------------------------------------------- */

static const char doc_sql[] =
    "SELECT path, url, collection, title, date, categories, tags, chapeau, body"
    " FROM documents WHERE id = ?";
enum { DC_PATH, DC_URL, DC_COLLECTION, DC_TITLE, DC_DATE, DC_CATEGORIES, DC_TAGS,
       DC_CHAPEAU, DC_BODY };

static json_t *col_text(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);

    return t ? pr_json_text(t, sqlite3_column_bytes(st, col)) : json_null();
}

/*
 * The strings of T (N bytes) appended to OUT when T is a flat list of
 * plain strings: '[', items '"..."' holding valid UTF-8 without a
 * backslash or a control byte, separated by ',', then ']' and nothing
 * else. Returns 0 (OUT unchanged) for any other text, jansson's to read.
 *
 * Why: the indexer stores categories and tags with json_dumps (json_list,
 * indexer.c), so nearly every stored list has this form, and the parser's
 * fixed cost (about 5,000 instructions a list) was a tenth of a broad
 * query's answer. Every text taken here is read by json_loadb as the same
 * strings (JSON's grammar for such a list has no other reading).
 */
static int plain_string_list(const char *t, size_t n, json_t *out)
{
    size_t i = 1, start;
    json_t *v;

    if (n < 2 || t[0] != '[' || t[n - 1] != ']')
        return 0;
    while (i < n - 1) {
        if (t[i] != '"')
            goto other;
        for (start = ++i; i < n - 1 && t[i] != '"'; i++)
            if (t[i] == '\\' || (unsigned char)t[i] < 0x20)
                goto other;
        if (i == n - 1 || !pr_utf8_wellformed(t + start, i - start) ||
            !(v = json_stringn_nocheck(t + start, i - start)) || json_array_append_new(out, v))
            goto other;
        if (++i < n - 1 && (t[i++] != ',' || i == n - 1))
            goto other;
    }
    return 1;
other:
    json_array_clear(out);
    return 0;
}

/* A JSON array of strings stored as text; [] when it is anything else. */
static json_t *col_string_array(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
    json_t *out = json_array(), *a, *v;
    size_t i;

    if (!t || !out || plain_string_list(t, n, out))
        return out;
    a = json_loadb(t, n, 0, NULL);
    if (json_is_array(a))
        json_array_foreach(a, i, v)
            if (json_is_string(v))
                json_array_append(out, v);
    json_decref(a);
    return out;
}

static double round_to(double x, double unit)
{
    return floor(x / unit + 0.5) * unit;
}

/* The snippet: from the chapeau or the body, whichever window matches the
 * query better (the chapeau on a tie: it is the summary). */
static char *hit_snippet(pr_searcher *s, const snippet_terms *terms, sqlite3_stmt *st)
{
    const char *chap = (const char *)sqlite3_column_text(st, DC_CHAPEAU);
    const char *body = (const char *)sqlite3_column_text(st, DC_BODY);
    int clen = chap ? sqlite3_column_bytes(st, DC_CHAPEAU) : 0;
    int blen = body ? sqlite3_column_bytes(st, DC_BODY) : 0;
    int cs = 0, bs = 0;
    char *c = NULL, *b = NULL;

    if (clen > 0)
        c = snippet_build(terms, s->tok, chap, clen, s->cfg.snippet_words, &cs);
    if (blen > 0)
        b = snippet_build(terms, s->tok, body, blen, s->cfg.snippet_words, &bs);
    if (c && (!b || cs >= bs)) {
        free(b);
        return c;
    }
    free(c);
    return b ? b : strdup("");
}

/* A highlighted string as JSON ("" when NULL: out of memory). It is valid
 * UTF-8 as snippet.h promises (pr_buf_add_html), so jansson's own check,
 * a byte at a time, is skipped. */
static json_t *html_string(const char *html)
{
    return json_string_nocheck(html ? html : "");
}

static json_t *hit_json(pr_searcher *s, const snippet_terms *terms, sqlite3_stmt *st,
                        double score)
{
    json_t *h = json_object();
    const char *title = (const char *)sqlite3_column_text(st, DC_TITLE);
    char *th = snippet_highlight(terms, s->tok, title ? title : "",
                                 title ? sqlite3_column_bytes(st, DC_TITLE) : 0);
    char *sn = hit_snippet(s, terms, st);

    /* The keys are ASCII literals: not checked either. */
    json_object_set_new_nocheck(h, "path", col_text(st, DC_PATH));
    json_object_set_new_nocheck(h, "url", col_text(st, DC_URL));
    json_object_set_new_nocheck(h, "collection", col_text(st, DC_COLLECTION));
    json_object_set_new_nocheck(h, "title", col_text(st, DC_TITLE));
    json_object_set_new_nocheck(h, "title_html", html_string(th));
    json_object_set_new_nocheck(h, "date", col_text(st, DC_DATE));
    json_object_set_new_nocheck(h, "categories", col_string_array(st, DC_CATEGORIES));
    json_object_set_new_nocheck(h, "tags", col_string_array(st, DC_TAGS));
    json_object_set_new_nocheck(h, "snippet_html", html_string(sn));
    json_object_set_new_nocheck(h, "score", json_real(round_to(score, 0.001)));
    json_object_set_new_nocheck(h, "duplicates", json_array());
    free(th);
    free(sn);
    return h;
}

/* The searcher's snippet terms, made the query's; NULL when out of
 * memory. */
static const snippet_terms *query_terms(pr_searcher *s, const pr_query *q)
{
    int i;

    snippet_terms_clear(s->terms);
    for (i = 0; i < q->nterms; i++)
        if (snippet_terms_add(s->terms, s->tok, q->terms[i].text,
                              (int)strlen(q->terms[i].text), q->terms[i].prefix, i) != 0)
            return NULL;
    return s->terms;
}

/* The URLs of the pages folded into the hit R, best ranked first.
 * Returns SQLITE_DONE, or the failed step's code. */
static int add_duplicates(pr_searcher *s, const match_set *m, const match_row *r, json_t *out)
{
    sqlite3_stmt *st;
    pr_error err;
    int k, rc = SQLITE_DONE;

    if (r->dup_next < 0)
        return SQLITE_DONE;
    st = pr_searcher_stmt(s, "SELECT url FROM documents WHERE id = ?", &err);
    if (!st)
        return SQLITE_ERROR;
    for (k = r->dup_next; k >= 0; k = m->v[k].dup_next) {
        sqlite3_bind_int64(st, 1, m->v[k].id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            json_array_append_new(out, col_text(st, 0));
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return rc;
    }
    return SQLITE_DONE;
}

static pr_search_status page_hits(pr_searcher *s, const pr_query *q, const match_set *m,
                                  int offset, int limit, json_t *hits, pr_error *err)
{
    const snippet_terms *terms = query_terms(s, q);
    sqlite3_stmt *st;
    int i, rc;

    if (!terms) {
        pr_error_set(err, 0, 0, "out of memory");
        return PR_SEARCH_ERROR;
    }
    st = pr_searcher_stmt(s, doc_sql, err);
    if (!st)
        return PR_SEARCH_ERROR;
    for (i = offset; i < m->nhits && i < offset + limit; i++) {
        const match_row *r = &m->v[m->hits[i].shown];
        json_t *h = NULL;
        sqlite3_bind_int64(st, 1, r->id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            json_array_append_new(hits, h = hit_json(s, terms, st, r->rank));
        sqlite3_reset(st);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = h ? add_duplicates(s, m, r, json_object_get(h, "duplicates")) : SQLITE_DONE;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return pr_searcher_step_error(s, rc, err);
    }
    return PR_SEARCH_OK;
}

/* ---- step 1 and 5: the request and the whole answer --------------------------- */

static pr_search_status check_request(const pr_searcher *s, const pr_search_request *req,
                                      pr_error *err)
{
    if (req->limit < 1 || req->limit > s->cfg.max_limit) {
        pr_error_set(err, 0, 0, "limit must be between 1 and %d", s->cfg.max_limit);
        return PR_SEARCH_BAD_REQUEST;
    }
    if (req->offset < 0 || req->offset > 1000000) {
        pr_error_set(err, 0, 0, "offset must be between 0 and 1000000");
        return PR_SEARCH_BAD_REQUEST;
    }
    return PR_SEARCH_OK;
}

/* pr_query_limits stems_cover: the index's surface list says whether the
 * prefix's surface form adds words (prefix_surfaces.h). */
static int prefix_stems_cover(void *ctx, const char *surface, int slen, const char *const *forms,
                              const int *lens, int nforms)
{
    pr_searcher *s = ctx;
    sqlite3_stmt *complete, *range;
    pr_error err;
    int listed;

    if (!(complete = pr_searcher_stmt(s, PR_SURFACES_COMPLETE_SQL, &err)))
        return 0;
    listed = sqlite3_step(complete) == SQLITE_ROW; /* else an older index */
    sqlite3_reset(complete);
    if (!listed || !(range = pr_searcher_stmt(s, PR_SURFACES_RANGE_SQL, &err)))
        return 0;
    return pr_surfaces_covered(complete, range, surface, slen, forms, lens, nforms);
}

/* The query text and the request's own filters, parsed. */
static pr_search_status parse_request(pr_searcher *s, const pr_search_request *req,
                                      pr_query *q, pr_error *err)
{
    pr_query_limits lim = {s->cfg.max_query_bytes, s->cfg.max_terms, req->prefix, NULL,
                           s->cfg.prefix_stems ? prefix_stems_cover : NULL, s};
    const char *text = req->q ? req->q : "";
    pr_error lex_err;
    search_lexicon *lx = pr_lexicon_get(s, &lex_err);
    struct { pr_filter_kind kind; const char *value; } extra[] = {
        {PR_FILTER_TAG, req->tag},         {PR_FILTER_CATEGORY, req->category},
        {PR_FILTER_COLLECTION, req->collection}, {PR_FILTER_AFTER, req->after},
        {PR_FILTER_BEFORE, req->before},
    };
    size_t i;

    lim.syn = lx ? pr_lexicon_synonyms(lx) : NULL; /* unreadable: no expansion */
    if (query_parse(text, strlen(text), &lim, s->tok, q, err) != 0)
        return strncmp(err->message, "out of memory", 13) ? PR_SEARCH_BAD_REQUEST
                                                          : PR_SEARCH_ERROR;
    for (i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        if (!extra[i].value || !*extra[i].value)
            continue;
        if (query_add_filter(q, extra[i].kind, extra[i].value, err) != 0) {
            query_free(q);
            return strncmp(err->message, "out of memory", 13) ? PR_SEARCH_BAD_REQUEST
                                                              : PR_SEARCH_ERROR;
        }
    }
    return PR_SEARCH_OK;
}

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static json_t *result_json(const pr_search_request *req, int total, json_t *hits,
                           json_t *facets, double took, const char *suggestion)
{
    json_t *r = json_object();
    const char *qtext = req->q ? req->q : "";

    json_object_set_new(r, "query", pr_json_text(qtext, strlen(qtext)));
    json_object_set_new(r, "total", json_integer(total));
    json_object_set_new(r, "offset", json_integer(req->offset));
    json_object_set_new(r, "limit", json_integer(req->limit));
    json_object_set_new(r, "took_ms", json_real(round_to(took, 0.01)));
    json_object_set_new(r, "hits", hits);
    json_object_set_new(r, "facets", facets);
    json_object_set_new(r, "suggestion", suggestion ? pr_json_text(suggestion, strlen(suggestion))
                                                    : json_null());
    return r;
}

/* Distinct pages of M (duplicates folded), for "few hits". */
static int distinct_pages(match_set *m)
{
    int n;

    if (fold_duplicates(m, 1, 0) != 0)
        return m->n;
    n = m->nhits;
    free(m->hits);
    m->hits = NULL;
    m->nhits = m->nordered = 0;
    return n;
}

/* The match set of the query text FIXED with REQ's other parameters;
 * 0 with *Q2 and *M2 filled, -1 (nothing to free) otherwise. */
static int search_fixed(pr_searcher *s, const pr_search_request *req, const char *fixed,
                        pr_query *q2, match_set *m2)
{
    pr_search_request fixed_req = *req;
    pr_error err;

    fixed_req.q = fixed;
    memset(m2, 0, sizeof *m2);
    if (parse_request(s, &fixed_req, q2, &err) != PR_SEARCH_OK)
        return -1;
    if ((q2->match || q2->exclude) && collect_matches(s, q2, m2, &err) == PR_SEARCH_OK) {
        demote_expanded(s, q2, m2);
        return 0;
    }
    match_set_free(m2);
    query_free(q2);
    return -1;
}

/*
 * Words not found as typed (search_spell.c). With no hits, the hits of
 * the corrected query replace the empty set (*Q and *M swapped). With
 * few hits (fewer than FEW_HITS pages), the hits stay those of the query
 * as typed and the correction is only suggested, when it finds more.
 * *SUGGESTION names the corrected query. Failures here only mean no
 * suggestion.
 */
enum { FEW_HITS = 3 };

static void try_correction(pr_searcher *s, const pr_search_request *req, pr_query *q,
                           match_set *m, char **suggestion)
{
    pr_query q2;
    match_set m2;
    pr_error err;
    char *fixed = NULL;
    int have = m->n ? distinct_pages(m) : 0;

    if (!req->q || have >= FEW_HITS ||
        pr_spell_correct(s, req->q, have > 0, &fixed, &err) != 1)
        return;
    if (search_fixed(s, req, fixed, &q2, &m2) == 0) {
        if (have == 0 && m2.n > 0) {
            query_free(q);
            *q = q2;
            match_set_free(m);
            *m = m2;
            *suggestion = fixed;
            return;
        }
        if (have > 0 && distinct_pages(&m2) > have) {
            *suggestion = fixed;
            fixed = NULL;
        }
        match_set_free(&m2);
        query_free(&q2);
    }
    free(fixed);
}

pr_search_status pr_search(pr_searcher *s, const pr_search_request *req, json_t **result,
                           pr_error *err)
{
    char *suggestion = NULL;
    struct timespec t0;
    pr_query q;
    match_set m = {0};
    facet_list fl = {0};
    json_t *hits = NULL;
    pr_search_status st;

    *result = NULL;
    pr_error_clear(err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((st = check_request(s, req, err)) != PR_SEARCH_OK)
        return st;
    /* One read transaction for the whole search: every step sees the same
     * index state even if a reindex commits meanwhile, and SQLite takes its
     * locks once instead of at each of the thousands of statements a broad
     * query runs (facets read one document at a time). */
    run_cached(s, "BEGIN");
    if ((st = parse_request(s, req, &q, err)) != PR_SEARCH_OK) {
        run_cached(s, "COMMIT");
        return st;
    }
    /* The page table is loaded once per index version, outside the time
     * budget like the lexicon (parse_request): a budget smaller than the
     * load would otherwise fail every search until something else loads
     * it. */
    if ((q.match || q.exclude || q.nfilters > 0) && !pr_docs_get(s, err)) {
        run_cached(s, "COMMIT");
        query_free(&q);
        return PR_SEARCH_ERROR;
    }
    pr_searcher_budget_start(s);
    /* Nothing that can match and nothing to filter by: no hits, not "all". */
    if (q.match || q.exclude || q.nfilters > 0) {
        st = collect_matches(s, &q, &m, err);
        if (st == PR_SEARCH_OK)
            demote_expanded(s, &q, &m);
        if (st == PR_SEARCH_OK && q.match)
            try_correction(s, req, &q, &m, &suggestion);
        if (st == PR_SEARCH_OK)
            rank_rows(&m, s->cfg.recency_boost, s->cfg.title_start_boost, s->cfg.title_cover_boost);
        if (st == PR_SEARCH_OK && fold_duplicates(&m, req->distinct, (long long)req->offset + req->limit) != 0) {
            pr_error_set(err, 0, 0, "out of memory");
            st = PR_SEARCH_ERROR;
        }
        if (st == PR_SEARCH_OK)
            st = collect_facets(s, &m, &fl, err);
    }
    /* The budget guards against costly matches (a prefix of one letter on
     * a big index); the page itself is bounded work (limit <= max_limit). */
    pr_searcher_budget_stop(s);
    hits = json_array();
    if (st == PR_SEARCH_OK)
        st = page_hits(s, &q, &m, req->offset, req->limit, hits, err);
    run_cached(s, "COMMIT");
    if (st == PR_SEARCH_OK)
        *result = result_json(req, m.nhits, hits, facets_json(&fl), elapsed_ms(&t0), suggestion);
    else
        json_decref(hits);
    if (st == PR_SEARCH_OK && !*result) {
        pr_error_set(err, 0, 0, "out of memory");
        st = PR_SEARCH_ERROR;
    }
    facet_list_free(&fl);
    match_set_free(&m);
    free(suggestion);
    query_free(&q);
    return st;
}
