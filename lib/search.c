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
}

void pr_search_request_init(pr_search_request *req)
{
    memset(req, 0, sizeof *req);
    req->q = "";
    req->limit = 10;
    req->distinct = 1;
}

char *pr_json_dump(const json_t *json)
{
    return json_dumps(json, PR_JSON_FLAGS);
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
    char *key;       /* fr_fold(title): pages with the same one may be duplicates */
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
    struct { const char *s; double d; } v[96];
} binds;

static void bind_text(binds *b, const char *s)
{
    if (b->n < (int)(sizeof b->v / sizeof b->v[0]))
        b->v[b->n++].s = s;
}

static void bind_real(binds *b, double d)
{
    if (b->n < (int)(sizeof b->v / sizeof b->v[0])) {
        b->v[b->n].s = NULL;
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
        pr_buf_adds(sql, "), d.date_ts, d.title FROM fts JOIN documents d ON d.id = fts.rowid"
                         " WHERE fts MATCH ?");
        bind_text(b, match_expr);
    } else {
        pr_buf_adds(sql, "SELECT d.id, 0.0, d.date_ts, d.title FROM documents d WHERE 1");
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
static void rank_rows(match_set *m, double boost)
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
        if (!r->dated)
            r->date_ts = INT64_MIN; /* undated last among equals */
    }
    if (m->n > 1)
        qsort(m->v, m->n, sizeof *m->v, cmp_rows);
}

/* ---- step 3b: duplicates ------------------------------------------------ */

/* The same page published twice (old and new file name, or as a release
 * and as a news item): same folded title, dates at most this far apart. */
#define DUP_MAX_DAYS 7

typedef struct keyed {
    const char *key;
    int row;
} keyed;

static int cmp_by_key(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);

    return c ? c : a->row - b->row;
}

static int same_page(const match_row *a, const match_row *b)
{
    sqlite3_int64 d;

    if (a->dated != b->dated)
        return 0;
    if (!a->dated)
        return 1;
    d = a->date_ts > b->date_ts ? a->date_ts - b->date_ts : b->date_ts - a->date_ts;
    return d <= (sqlite3_int64)DUP_MAX_DAYS * 86400;
}

/*
 * The hits: every row, or with DISTINCT each page once, its duplicates
 * folded into its best-ranked copy (listed in that hit's "duplicates").
 * Rows are in rank order. Returns 0, or -1 out of memory.
 */
static int fold_duplicates(match_set *m, int distinct)
{
    keyed *order;
    int i, j, g;

    m->hits = malloc((m->n + 1) * sizeof *m->hits);
    if (!m->hits)
        return -1;
    m->nhits = 0;
    if (distinct && m->n > 1) {
        order = malloc(m->n * sizeof *order);
        if (!order)
            return -1;
        for (i = 0; i < m->n; i++) {
            order[i].key = m->v[i].key;
            order[i].row = i;
        }
        qsort(order, m->n, sizeof *order, cmp_by_key);
        for (g = 0; g < m->n; g = i) { /* a run of equal titles, in rank order */
            for (i = g + 1; i < m->n && !strcmp(order[i].key, order[g].key); i++) {
                int r = order[i].row;
                for (j = g; j < i; j++) {
                    int k = order[j].row;
                    if (m->v[k].dup_of < 0 && same_page(&m->v[k], &m->v[r])) {
                        m->v[r].dup_of = k;
                        if (m->v[k].dup_tail < 0)
                            m->v[k].dup_next = r;
                        else
                            m->v[m->v[k].dup_tail].dup_next = r;
                        m->v[k].dup_tail = r;
                        break;
                    }
                }
            }
        }
        free(order);
    }
    for (i = 0; i < m->n; i++)
        if (m->v[i].dup_of < 0)
            m->hits[m->nhits++] = i;
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
    pr_query_limits lim = {s->cfg.max_query_bytes, s->cfg.max_terms, req->prefix};
    const char *text = req->q ? req->q : "";
    struct { pr_filter_kind kind; const char *value; } extra[] = {
        {PR_FILTER_TAG, req->tag},         {PR_FILTER_CATEGORY, req->category},
        {PR_FILTER_COLLECTION, req->collection}, {PR_FILTER_AFTER, req->after},
        {PR_FILTER_BEFORE, req->before},
    };
    size_t i;

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

/*
 * No hits and words not found as typed: when the corrected query (search
 * _spell.c) has hits, they replace the empty set (*Q and *M swapped) and
 * *SUGGESTION names the query they answer. Failures here only mean no
 * suggestion.
 */
static void try_correction(pr_searcher *s, const pr_search_request *req, pr_query *q,
                           match_set *m, char **suggestion)
{
    pr_search_request fixed_req = *req;
    pr_query q2;
    match_set m2 = {0};
    pr_error err;
    char *fixed = NULL;

    if (!req->q || pr_spell_correct(s, req->q, &fixed, &err) != 1)
        return;
    fixed_req.q = fixed;
    if (parse_request(s, &fixed_req, &q2, &err) != PR_SEARCH_OK) {
        free(fixed);
        return;
    }
    if ((q2.match || q2.exclude) && collect_matches(s, &q2, &m2, &err) == PR_SEARCH_OK &&
        m2.n > 0) {
        query_free(q);
        *q = q2;
        match_set_free(m);
        *m = m2;
        *suggestion = fixed;
        return;
    }
    match_set_free(&m2);
    query_free(&q2);
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
    if ((st = parse_request(s, req, &q, err)) != PR_SEARCH_OK)
        return st;
    pr_searcher_budget_start(s);
    /* Nothing that can match and nothing to filter by: no hits, not "all". */
    if (q.match || q.exclude || q.nfilters > 0) {
        st = collect_matches(s, &q, &m, err);
        if (st == PR_SEARCH_OK && m.n == 0 && q.match)
            try_correction(s, req, &q, &m, &suggestion);
        if (st == PR_SEARCH_OK)
            rank_rows(&m, s->cfg.recency_boost);
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
