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
    j = json_stringn(s, n);
    if (j)
        return j;
    c = pr_utf8_clean(s, n); /* invalid UTF-8 or NUL inside: repair */
    j = c ? json_string(c) : NULL;
    free(c);
    return j;
}

/* ---- the searcher: connection, statements, time budget ----------------- */

static int on_progress(void *ctx)
{
    pr_searcher *s = ctx;
    struct timespec now;

    if (!s->budget_on)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > s->deadline.tv_sec ||
           (now.tv_sec == s->deadline.tv_sec && now.tv_nsec > s->deadline.tv_nsec);
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
    pr_lexicon_free(s->lex); /* another connection: load it again */
    s->lex = NULL;
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

/*
 * FTS5 auxiliary function title_start(fts, MASK): 1 when the title starts
 * with the words as typed, in order, one right after the other; MASK has
 * a bit per FTS5 string of the query that is such a word (pr_query
 * literal_phrases: expansions and exclusions are not), and at least two
 * (a single word is too weak a signal). A title that begins with what was
 * asked for is about it more surely than one that mentions it on the way
 * (ranking, rank_rows()).
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
 * FTS5 auxiliary function title_cover(fts, GROUPS): 1 when the title
 * holds every required part of the query (GROUPS: pr_query phrase_groups,
 * the part of each FTS5 string; a part is covered when any of its strings
 * is in the title: a word, an alternative of an OR, the acronym or its
 * long form), for queries of two parts or more. A title naming all that
 * was asked for is about it (ranking, rank_rows()).
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

static int register_title_pos(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL) == SQLITE_OK)
        sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api)
        return -1;
    if (api->xCreateFunction(api, "title_start", NULL, title_pos, NULL) != SQLITE_OK)
        return -1;
    return api->xCreateFunction(api, "title_cover", NULL, title_cover, NULL) == SQLITE_OK ? 0
                                                                                        : -1;
}

static sqlite3 *open_db(const char *path, pr_searcher *s, pr_error *err)
{
    sqlite3 *db = pr_index_open(path, PR_INDEX_READONLY, err);

    if (db && register_title_pos(db) != 0) {
        pr_error_set(err, 0, 0, "%s: cannot register title_pos: %s", path, sqlite3_errmsg(db));
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

    if (!s || !(s->path = strdup(db_path)) || !(s->tok = fr_tokenizer_new())) {
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

typedef struct match_row {
    sqlite3_int64 id;
    double bm25;     /* -bm25(): larger is better */
    double rank;     /* what the order uses */
    sqlite3_int64 date_ts;
    int dated;
    char *key;       /* fr_fold(title): pages with the same one are duplicates */
    sqlite3_int64 grp; /* near-identical bodies (doc_dups), or 0 */
    int title_start; /* the title starts with the query's words */
    int title_cover; /* the title holds every required part of the query */
    int dup_of;      /* index of the hit this page is folded into, or -1 */
    int dup_next;    /* next page folded into the same hit, or -1 */
    int dup_tail;    /* on a hit: its last folded page, or -1 */
} match_row;

typedef struct match_set {
    match_row *v;
    int n, cap;
    int *hits;       /* indexes of the rows shown as hits, in order */
    int nhits;       /* the result's total */
} match_set;

static void match_set_free(match_set *m)
{
    int i;

    for (i = 0; i < m->n; i++)
        free(m->v[i].key);
    free(m->v);
    free(m->hits);
    memset(m, 0, sizeof *m);
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

static const char *facet_kind_name(pr_filter_kind k)
{
    switch (k) {
    case PR_FILTER_TAG: return "tag";
    case PR_FILTER_CATEGORY: return "category";
    default: return "collection";
    }
}

/* WHERE clauses of the filters; values are bound, never spliced. */
static void add_filter_sql(pr_buf *sql, binds *b, const pr_query *q)
{
    int i;

    for (i = 0; i < q->nfilters; i++) {
        const pr_filter *f = &q->filters[i];
        switch (f->kind) {
        case PR_FILTER_AFTER:
            pr_buf_adds(sql, " AND d.date >= ?");
            bind_text(b, f->value);
            break;
        case PR_FILTER_BEFORE:
            pr_buf_adds(sql, " AND d.date <= ?");
            bind_text(b, f->value);
            break;
        default:
            pr_buf_adds(sql, f->negated ? " AND NOT EXISTS" : " AND EXISTS");
            pr_buf_adds(sql, " (SELECT 1 FROM doc_facets f WHERE f.kind = ? AND f.folded = ?"
                             " AND f.doc_id = d.id)");
            bind_text(b, facet_kind_name(f->kind));
            bind_text(b, f->value);
        }
    }
}

/* The SQL of the match set and its bound values. MATCH_EXPR is kept
 * alive by the caller. */
static void build_match_sql(pr_searcher *s, const pr_query *q, const char *match_expr,
                            pr_buf *sql, binds *b)
{
    int i;

    if (match_expr) {
        pr_buf_adds(sql, "SELECT d.id, -bm25(fts");
        for (i = 0; i < PR_NCOLS; i++) {
            pr_buf_adds(sql, ", ?");
            bind_real(b, s->cfg.weights[i]);
        }
        pr_buf_adds(sql, "), d.date_ts, d.title, g.grp, title_start(fts, ?), title_cover(fts, ?)"
                         " FROM fts JOIN documents d"
                         " ON d.id = fts.rowid LEFT JOIN doc_dups g ON g.doc_id = d.id"
                         " WHERE fts MATCH ?");
        bind_int(b, (sqlite3_int64)q->literal_phrases);
        bind_text(b, q->phrase_groups);
        bind_text(b, match_expr);
    } else {
        pr_buf_adds(sql, "SELECT d.id, 0.0, d.date_ts, d.title, g.grp, 0, 0 FROM documents d"
                         " LEFT JOIN doc_dups g ON g.doc_id = d.id WHERE 1");
        if (q->exclude) {
            pr_buf_adds(sql, " AND d.id NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)");
            bind_text(b, q->exclude);
        }
    }
    add_filter_sql(sql, b, q);
}

static int push_row(match_set *m, sqlite3_stmt *st)
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
    r->id = sqlite3_column_int64(st, 0);
    r->bm25 = sqlite3_column_double(st, 1);
    r->dated = sqlite3_column_type(st, 2) != SQLITE_NULL;
    r->date_ts = r->dated ? sqlite3_column_int64(st, 2) : 0;
    r->dup_of = r->dup_next = r->dup_tail = -1;
    r->grp = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 4);
    r->title_start = sqlite3_column_int(st, 5);
    r->title_cover = sqlite3_column_int(st, 6);
    r->key = fr_fold((const char *)sqlite3_column_text(st, 3), sqlite3_column_bytes(st, 3));
    if (!r->key) {
        m->n--;
        return -1;
    }
    r->rank = r->bm25;
    return 0;
}

static pr_search_status collect_matches(pr_searcher *s, const pr_query *q, match_set *m,
                                        pr_error *err)
{
    pr_buf sql, expr;
    binds b;
    sqlite3_stmt *st;
    pr_search_status status = PR_SEARCH_OK;
    int i, rc;

    memset(m, 0, sizeof *m);
    b.n = 0;
    pr_buf_init(&sql);
    pr_buf_init(&expr);
    if (q->match) {
        if (q->exclude) { /* FTS5 does NOT itself when there is something to subtract from */
            pr_buf_adds(&expr, "(");
            pr_buf_adds(&expr, q->match);
            pr_buf_adds(&expr, ") NOT (");
            pr_buf_adds(&expr, q->exclude);
            pr_buf_adds(&expr, ")");
        } else {
            pr_buf_adds(&expr, q->match);
        }
    }
    build_match_sql(s, q, q->match ? expr.p : NULL, &sql, &b);
    if (sql.oom || expr.oom) {
        status = PR_SEARCH_ERROR;
        pr_error_set(err, 0, 0, "out of memory");
        goto done;
    }
    st = pr_searcher_stmt(s, sql.p, err);
    if (!st) {
        status = PR_SEARCH_ERROR;
        goto done;
    }
    for (i = 0; i < b.n; i++) {
        if (b.v[i].s)
            sqlite3_bind_text(st, i + 1, b.v[i].s, -1, SQLITE_STATIC);
        else if (b.v[i].isint)
            sqlite3_bind_int64(st, i + 1, b.v[i].i);
        else
            sqlite3_bind_double(st, i + 1, b.v[i].d);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (push_row(m, st) != 0) {
            status = PR_SEARCH_ERROR;
            pr_error_set(err, 0, 0, "out of memory");
            break;
        }
    }
    if (status == PR_SEARCH_OK && rc != SQLITE_DONE)
        status = pr_searcher_step_error(s, rc, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
done:
    pr_buf_free(&sql);
    pr_buf_free(&expr);
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
typedef struct lit_row {
    sqlite3_int64 id;
    double bm25;
} lit_row;

static int cmp_lit(const void *pa, const void *pb)
{
    const lit_row *a = pa, *b = pb;

    return a->id < b->id ? -1 : a->id > b->id;
}

static void demote_expanded(pr_searcher *s, const pr_query *q, match_set *m)
{
    lit_row *lit = NULL, key, *hit;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st;
    pr_error err;
    int i;

    if (!q->literal || m->n == 0)
        return;
    st = pr_searcher_stmt(s, "SELECT rowid, -bm25(fts, ?, ?, ?, ?, ?) FROM fts WHERE fts MATCH ?"
                             " ORDER BY rowid", &err);
    if (!st)
        return;
    for (i = 0; i < PR_NCOLS; i++)
        sqlite3_bind_double(st, i + 1, s->cfg.weights[i]);
    sqlite3_bind_text(st, PR_NCOLS + 1, q->literal, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            lit_row *nv = realloc(lit, (cap = cap ? cap * 2 : 256) * sizeof *nv);
            if (!nv)
                break;
            lit = nv;
        }
        lit[n].id = sqlite3_column_int64(st, 0);
        lit[n++].bm25 = sqlite3_column_double(st, 1);
    }
    sqlite3_reset(st);
    for (i = 0; i < m->n; i++) {
        key.id = m->v[i].id;
        hit = n ? bsearch(&key, lit, n, sizeof *lit, cmp_lit) : NULL;
        double via = m->v[i].bm25 * s->cfg.expansion_factor; /* found only so */
        m->v[i].bm25 = hit ? hit->bm25 : via;
    }
    free(lit);
}

/* ---- step 3: order -------------------------------------------------------- */

static int cmp_rows(const void *pa, const void *pb)
{
    const match_row *a = pa, *b = pb;

    if (a->rank != b->rank)
        return a->rank > b->rank ? -1 : 1;
    if (a->date_ts != b->date_ts)
        return a->date_ts > b->date_ts ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
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
        if (!m->v[i].dated)
            continue;
        if (!seen || m->v[i].date_ts < lo)
            lo = m->v[i].date_ts;
        if (!seen || m->v[i].date_ts > hi)
            hi = m->v[i].date_ts;
        seen = 1;
    }
    for (i = 0; i < m->n; i++) {
        match_row *r = &m->v[i];
        double rec = (r->dated && hi > lo) ? (double)(r->date_ts - lo) / (double)(hi - lo) : 0;
        r->rank = r->bm25 * (1.0 + boost * rec);
        if (r->title_start)
            r->rank *= 1.0 + title_start;
        if (r->title_cover)
            r->rank *= 1.0 + title_cover;
        if (!r->dated)
            r->date_ts = INT64_MIN; /* undated last among equals */
    }
    if (m->n > 1)
        qsort(m->v, m->n, sizeof *m->v, cmp_rows);
}

/* ---- step 3b: duplicates ------------------------------------------------ */

/*
 * The same page published twice (old and new file name, or as a release
 * and as a news item): the same folded title, or near-identical bodies
 * (doc_dups, from the fingerprints the indexer computes). Issue 5 asks
 * for these to be shown once whatever their dates; the former rule (dates
 * at most 7 days apart) let recurring titles through, two hits with one
 * title on a page. Pages are grouped by either key (union-find), the
 * group takes the place of its best-ranked page and is shown as its
 * newest page, the others' URLs in "duplicates".
 */
typedef struct keyed {
    const char *key;
    sqlite3_int64 grp;
    int row;
} keyed;

static int cmp_by_key(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);

    return c ? c : a->row - b->row;
}

static int cmp_by_grp(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;

    if (a->grp != b->grp)
        return a->grp < b->grp ? -1 : 1;
    return a->row - b->row;
}

static int uf_root(int *parent, int i)
{
    while (parent[i] != i)
        i = parent[i] = parent[parent[i]];
    return i;
}

/* Join rows with equal keys (titles, then body groups); roots are the
 * best-ranked rows (smallest index). */
static void join_equal(keyed *order, int n, int *parent, int by_grp)
{
    int i, g;

    qsort(order, (size_t)n, sizeof *order, by_grp ? cmp_by_grp : cmp_by_key);
    for (g = 0; g < n; g = i)
        for (i = g + 1; i < n && (by_grp ? order[i].grp == order[g].grp
                                         : !strcmp(order[i].key, order[g].key)); i++) {
            int a = uf_root(parent, order[g].row), b = uf_root(parent, order[i].row);
            if (by_grp && !order[g].grp)
                break;
            if (a != b)
                parent[a > b ? a : b] = a < b ? a : b;
        }
}

/* In each group, the newest page (the best ranked among equals) is shown:
 * SHOWN[root] is its row. */
static void pick_shown(const match_set *m, int *parent, int *shown)
{
    int i;

    for (i = 0; i < m->n; i++)
        shown[i] = -1;
    for (i = 0; i < m->n; i++) {
        int r = uf_root(parent, i);
        if (shown[r] < 0 || m->v[i].date_ts > m->v[shown[r]].date_ts)
            shown[r] = i;
    }
}

static void link_dup(match_set *m, int hit, int r)
{
    m->v[r].dup_of = hit;
    if (m->v[hit].dup_tail < 0)
        m->v[hit].dup_next = r;
    else
        m->v[m->v[hit].dup_tail].dup_next = r;
    m->v[hit].dup_tail = r;
}

/*
 * The hits: every row, or with DISTINCT each page once. Rows are in rank
 * order. Returns 0, or -1 out of memory.
 */
static int fold_duplicates(match_set *m, int distinct)
{
    keyed *order = NULL;
    int *parent = NULL, *shown = NULL, i;

    m->hits = malloc((m->n + 1) * sizeof *m->hits);
    if (!m->hits)
        return -1;
    m->nhits = 0;
    if (!distinct || m->n < 2) {
        for (i = 0; i < m->n; i++)
            m->hits[m->nhits++] = i;
        return 0;
    }
    order = malloc(m->n * sizeof *order);
    parent = malloc(m->n * sizeof *parent);
    shown = malloc(m->n * sizeof *shown);
    if (!order || !parent || !shown) {
        free(order), free(parent), free(shown);
        return -1;
    }
    for (i = 0; i < m->n; i++) {
        order[i].key = m->v[i].key;
        order[i].grp = m->v[i].grp;
        order[i].row = i;
        parent[i] = i;
    }
    join_equal(order, m->n, parent, 0);
    join_equal(order, m->n, parent, 1);
    pick_shown(m, parent, shown);
    for (i = 0; i < m->n; i++) { /* groups in the order of their best row */
        int r = uf_root(parent, i);
        if (r == i)
            m->hits[m->nhits++] = shown[r];
    }
    for (i = 0; i < m->n; i++) {
        int hit = shown[uf_root(parent, i)];
        if (i != hit)
            link_dup(m, hit, i);
    }
    free(order);
    free(parent);
    free(shown);
    return 0;
}

/* ---- step 4a: facets -------------------------------------------------------- */

enum { FK_COLLECTION, FK_CATEGORY, FK_TAG, FK_YEAR, FK_N };
static const char *const facet_json_names[FK_N] = {"collection", "categories", "tags", "year"};

typedef struct facet_val {
    int kind;
    char *folded;
    char *value;
    int count;
} facet_val;

typedef struct facet_list {
    facet_val *v;
    int n, cap;
} facet_list;

static int facet_kind(const char *k)
{
    if (!k)
        return -1;
    if (!strcmp(k, "collection")) return FK_COLLECTION;
    if (!strcmp(k, "category")) return FK_CATEGORY;
    if (!strcmp(k, "tag")) return FK_TAG;
    if (!strcmp(k, "year")) return FK_YEAR;
    return -1;
}

static int facet_push(facet_list *l, int kind, const char *folded, const char *value)
{
    facet_val *f;

    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        facet_val *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    f = &l->v[l->n];
    f->kind = kind;
    f->folded = strdup(folded);
    f->value = strdup(value);
    f->count = 1;
    if (!f->folded || !f->value) {
        free(f->folded);
        free(f->value);
        return -1;
    }
    l->n++;
    return 0;
}

static void facet_list_free(facet_list *l)
{
    int i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i].folded);
        free(l->v[i].value);
    }
    free(l->v);
}

static int cmp_facet_key(const void *pa, const void *pb)
{
    const facet_val *a = pa, *b = pb;
    int c;

    if (a->kind != b->kind)
        return a->kind - b->kind;
    c = strcmp(a->folded, b->folded);
    return c ? c : strcmp(a->value, b->value);
}

/* Display order within a kind: most frequent first (years: newest first). */
static int cmp_facet_show(const void *pa, const void *pb)
{
    const facet_val *a = pa, *b = pb;

    if (a->kind != b->kind)
        return a->kind - b->kind;
    if (a->kind == FK_YEAR)
        return strcmp(b->value, a->value);
    if (a->count != b->count)
        return b->count - a->count;
    return strcmp(a->value, b->value);
}

/* Every facet row of every matching document, then counted per folded
 * value (the first display form seen names it). */
static pr_search_status collect_facets(pr_searcher *s, const match_set *m, facet_list *l,
                                       pr_error *err)
{
    sqlite3_stmt *st = pr_searcher_stmt(
        s, "SELECT kind, folded, value FROM doc_facets WHERE doc_id = ?", err);
    int i, rc = SQLITE_DONE, n = 0;

    memset(l, 0, sizeof *l);
    if (!st)
        return PR_SEARCH_ERROR;
    for (i = 0; i < m->nhits; i++) { /* each page once: duplicates folded */
        sqlite3_bind_int64(st, 1, m->v[m->hits[i]].id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int k = facet_kind((const char *)sqlite3_column_text(st, 0));
            const char *folded = (const char *)sqlite3_column_text(st, 1);
            const char *value = (const char *)sqlite3_column_text(st, 2);
            if (k < 0 || !folded || !value)
                continue;
            if (facet_push(l, k, folded, value) != 0) {
                sqlite3_reset(st);
                pr_error_set(err, 0, 0, "out of memory");
                return PR_SEARCH_ERROR;
            }
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return pr_searcher_step_error(s, rc, err);
    }
    if (l->n == 0)
        return PR_SEARCH_OK;
    qsort(l->v, l->n, sizeof *l->v, cmp_facet_key);
    for (i = 0; i < l->n; i++) { /* fold runs of equal (kind, folded) */
        if (n > 0 && l->v[n - 1].kind == l->v[i].kind &&
            !strcmp(l->v[n - 1].folded, l->v[i].folded)) {
            l->v[n - 1].count++;
            free(l->v[i].folded);
            free(l->v[i].value);
        } else {
            l->v[n++] = l->v[i];
        }
    }
    l->n = n;
    qsort(l->v, l->n, sizeof *l->v, cmp_facet_show);
    return PR_SEARCH_OK;
}

static json_t *facets_json(const facet_list *l)
{
    json_t *o = json_object(), *k[FK_N];
    int i;

    for (i = 0; i < FK_N; i++) {
        k[i] = json_object();
        json_object_set_new(o, facet_json_names[i], k[i]);
    }
    for (i = 0; i < l->n; i++) {
        char *key = pr_utf8_clean(l->v[i].value, strlen(l->v[i].value));
        if (key)
            json_object_set_new(k[l->v[i].kind], key, json_integer(l->v[i].count));
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

/* A JSON array of strings stored as text; [] when it is anything else. */
static json_t *col_string_array(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    json_t *a = t ? json_loadb(t, sqlite3_column_bytes(st, col), 0, NULL) : NULL;
    json_t *out = json_array(), *v;
    size_t i;

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

static json_t *hit_json(pr_searcher *s, const snippet_terms *terms, sqlite3_stmt *st,
                        double score)
{
    json_t *h = json_object();
    const char *title = (const char *)sqlite3_column_text(st, DC_TITLE);
    char *th = snippet_highlight(terms, s->tok, title ? title : "",
                                 title ? sqlite3_column_bytes(st, DC_TITLE) : 0);
    char *sn = hit_snippet(s, terms, st);

    json_object_set_new(h, "path", col_text(st, DC_PATH));
    json_object_set_new(h, "url", col_text(st, DC_URL));
    json_object_set_new(h, "collection", col_text(st, DC_COLLECTION));
    json_object_set_new(h, "title", col_text(st, DC_TITLE));
    json_object_set_new(h, "title_html", th ? json_string(th) : json_string(""));
    json_object_set_new(h, "date", col_text(st, DC_DATE));
    json_object_set_new(h, "categories", col_string_array(st, DC_CATEGORIES));
    json_object_set_new(h, "tags", col_string_array(st, DC_TAGS));
    json_object_set_new(h, "snippet_html", sn ? json_string(sn) : json_string(""));
    json_object_set_new(h, "score", json_real(round_to(score, 0.001)));
    json_object_set_new(h, "duplicates", json_array());
    free(th);
    free(sn);
    return h;
}

static snippet_terms *query_terms(pr_searcher *s, const pr_query *q)
{
    snippet_terms *t = snippet_terms_new();
    int i;

    for (i = 0; t && i < q->nterms; i++) {
        if (snippet_terms_add(t, s->tok, q->terms[i].text, (int)strlen(q->terms[i].text),
                              q->terms[i].prefix, i) != 0) {
            snippet_terms_free(t);
            return NULL;
        }
    }
    return t;
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
    snippet_terms *terms = query_terms(s, q);
    sqlite3_stmt *st;
    int i, rc;

    if (!terms) {
        pr_error_set(err, 0, 0, "out of memory");
        return PR_SEARCH_ERROR;
    }
    st = pr_searcher_stmt(s, doc_sql, err);
    if (!st) {
        snippet_terms_free(terms);
        return PR_SEARCH_ERROR;
    }
    for (i = offset; i < m->nhits && i < offset + limit; i++) {
        const match_row *r = &m->v[m->hits[i]];
        json_t *h = NULL;
        sqlite3_bind_int64(st, 1, r->id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            json_array_append_new(hits, h = hit_json(s, terms, st, r->rank));
        sqlite3_reset(st);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = h ? add_duplicates(s, m, r, json_object_get(h, "duplicates")) : SQLITE_DONE;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            snippet_terms_free(terms);
            return pr_searcher_step_error(s, rc, err);
        }
    }
    snippet_terms_free(terms);
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

/* The query text and the request's own filters, parsed. */
static pr_search_status parse_request(pr_searcher *s, const pr_search_request *req,
                                      pr_query *q, pr_error *err)
{
    pr_query_limits lim = {s->cfg.max_query_bytes, s->cfg.max_terms, req->prefix, NULL};
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

    if (fold_duplicates(m, 1) != 0)
        return m->n;
    n = m->nhits;
    free(m->hits);
    m->hits = NULL;
    m->nhits = 0;
    for (int i = 0; i < m->n; i++)
        m->v[i].dup_of = m->v[i].dup_next = m->v[i].dup_tail = -1;
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
    sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    if ((st = parse_request(s, req, &q, err)) != PR_SEARCH_OK) {
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        return st;
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
        if (st == PR_SEARCH_OK && fold_duplicates(&m, req->distinct) != 0) {
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
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
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
