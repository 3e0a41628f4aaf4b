/*
 * search_docs.c - the searcher's in-memory table of what ranking, folding
 * and facets need of every page (see search_internal.h): its date, its
 * duplicate group, its length and its facet values; and, for the same
 * index version, how many pages each phrase of a query matched (bm25's
 * IDF, remembered by pr_docs_phrase_hits_put).
 *
 * A broad query matches tens of thousands of pages. Reading those facts
 * from SQL costs a b-tree descent or two per page and per fact (the date
 * sits in a row of several KB, the facets in another table), tens of
 * microseconds a page; from these arrays it costs a few nanoseconds. The
 * table is read from the small structures of the index (the date index,
 * doc_dups, doc_facets), never from the rows of `documents`, and again
 * whenever the index changed (PRAGMA data_version, as search_lexicon.c).
 * Each searcher has its own copy (one per daemon worker): no locks.
 *
 * Facets: every distinct (kind, folded, value) is a "form"; forms with the
 * same (kind, folded) make one facet value (a group), named in answers by
 * the smallest of its forms that the counted pages use. Each page lists
 * its forms (CSR arrays: forms of page i are form_of[off[i] .. off[i+1])).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index_db.h"
#include "search_internal.h"
#include "search_util.h"
#include "strmap.h"

struct search_docs {
    long long data_version;
    int n;                   /* pages */
    sqlite3_int64 max_id;
    int *index_of;           /* page id -> index, -1 when absent; max_id + 1 */
    sqlite3_int64 *id;       /* per page */
    sqlite3_int64 *date_ts;  /* per page; PR_DOCS_UNDATED when none */
    int *day;                /* per page: its date as YYYYMMDD, 0 when none */
    sqlite3_int64 *grp;      /* per page: duplicate group, 0 when alone */
    int *ntok;               /* per page: tokens in FTS5 (fts_docsize), -1 unknown */
    int *off;                /* per page + 1: into form_of */
    int *form_of;
    int nforms;
    pr_docs_form *forms;     /* each group's consecutive (group_forms) */
    int ngroups;             /* groups are numbered 0 .. ngroups-1 */
    strmap phrase_hits;      /* FTS5 expression -> pages each phrase matches */
    size_t phrase_hits_bytes;
};

/* Bound on the memory of the remembered expressions, per searcher (one
 * per daemon worker): past it, start again. In bytes, not entries: a
 * flood of unique 1 KiB queries must not hold megabytes per worker. */
#define PHRASE_HITS_BYTES (256 * 1024)

void pr_docs_free(search_docs *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->nforms; i++) {
        free(d->forms[i].folded);
        free(d->forms[i].value);
    }
    free(d->forms);
    free(d->index_of);
    free(d->id);
    free(d->date_ts);
    free(d->day);
    free(d->grp);
    free(d->ntok);
    free(d->off);
    free(d->form_of);
    strmap_free(&d->phrase_hits);
    free(d);
}

static int read_failed(pr_searcher *s, pr_error *err)
{
    return pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(s->db));
}

static int oom(pr_error *err)
{
    return pr_error_set(err, 0, 0, "out of memory");
}

/* "YYYY-MM-DD" as YYYYMMDD, 0 for anything else. */
static int day_number(const unsigned char *t, int n)
{
    int v = 0;

    if (!t || n != 10 || t[4] != '-' || t[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (t[i] < '0' || t[i] > '9')
            return 0;
        v = v * 10 + (t[i] - '0');
    }
    return v;
}

static int grow_pages(search_docs *d, int *cap)
{
    int nc = *cap ? *cap * 2 : 1024;
    sqlite3_int64 *ni = realloc(d->id, (size_t)nc * sizeof *ni);
    if (ni)
        d->id = ni;
    sqlite3_int64 *nd = ni ? realloc(d->date_ts, (size_t)nc * sizeof *nd) : NULL;
    if (nd)
        d->date_ts = nd;
    int *ny = nd ? realloc(d->day, (size_t)nc * sizeof *ny) : NULL;
    if (ny)
        d->day = ny;
    if (!ny)
        return -1;
    *cap = nc;
    return 0;
}

/*
 * Put the pages in id order (the scan gives them in date order). A query's
 * rows come in id order (FTS5 gives rowids ascending), and each row reads
 * its page's date, group, length and facets: in id order these reads go
 * front to back through the arrays; in date order each was a cache miss,
 * a quarter of a broad query's time at 100k pages (perf).
 * Pages with a negative id (never given by SQLite, but legal) go last.
 */
static int order_by_id(search_docs *d)
{
    size_t n = (size_t)d->n + 1;
    sqlite3_int64 *id = malloc(n * sizeof *id), *date_ts = malloc(n * sizeof *date_ts);
    int *day = malloc(n * sizeof *day), k = 0;

    if (!id || !date_ts || !day) {
        free(id);
        free(date_ts);
        free(day);
        return -1;
    }
    for (sqlite3_int64 v = 0; v <= d->max_id; v++) {
        int j = d->index_of[v];
        if (j < 0)
            continue;
        id[k] = v;
        date_ts[k] = d->date_ts[j];
        day[k] = d->day[j];
        d->index_of[v] = k++;
    }
    for (int j = 0; j < d->n; j++)
        if (d->id[j] < 0) {
            id[k] = d->id[j];
            date_ts[k] = d->date_ts[j];
            day[k++] = d->day[j];
        }
    free(d->id);
    free(d->date_ts);
    free(d->day);
    d->id = id;
    d->date_ts = date_ts;
    d->day = day;
    return 0;
}

/* Pages, their dates and days: an index-only scan of documents_dates
 * (schema 4; older indexes: the table itself, slower but the same). */
static int load_pages(pr_searcher *s, search_docs *d, pr_error *err)
{
    sqlite3_stmt *st = pr_searcher_stmt(
        s, "SELECT id, date_ts, date FROM documents INDEXED BY documents_dates", err);
    int cap = 0, rc, nomem = 0;

    if (!st && !(st = pr_searcher_stmt(s, "SELECT id, date_ts, date FROM documents", err)))
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (d->n == cap && (nomem = grow_pages(d, &cap) != 0))
            break;
        d->id[d->n] = sqlite3_column_int64(st, 0);
        d->date_ts[d->n] = sqlite3_column_type(st, 1) == SQLITE_NULL
                               ? PR_DOCS_UNDATED
                               : sqlite3_column_int64(st, 1);
        d->day[d->n] = day_number(sqlite3_column_text(st, 2), sqlite3_column_bytes(st, 2));
        if (d->id[d->n] > d->max_id)
            d->max_id = d->id[d->n];
        d->n++;
    }
    sqlite3_reset(st);
    if (!nomem && rc != SQLITE_DONE)
        return read_failed(s, err);
    if (!nomem && d->max_id >= INT32_MAX)
        return pr_error_set(err, 0, 0, "page ids out of range");
    d->index_of = nomem ? NULL : malloc((size_t)(d->max_id + 1) * sizeof *d->index_of);
    d->grp = nomem ? NULL : calloc((size_t)d->n + 1, sizeof *d->grp);
    if (!d->index_of || !d->grp)
        return oom(err);
    memset(d->index_of, 0xff, (size_t)(d->max_id + 1) * sizeof *d->index_of);
    for (int i = 0; i < d->n; i++)
        if (d->id[i] >= 0)
            d->index_of[d->id[i]] = i;
    return order_by_id(d) == 0 ? 0 : oom(err);
}

/* Sum of the varints of an fts_docsize blob: the page's tokens in every
 * column, what FTS5's xColumnSize(-1) gives (SQLite varints, at most 9
 * bytes; column sizes fit 32 bits). -1 when malformed. */
static int docsize_sum(const unsigned char *p, int n)
{
    long long sum = 0;
    int i = 0;

    while (i < n) {
        unsigned long long v = 0;
        int k;
        for (k = 0; k < 8 && i < n && (p[i] & 0x80); k++)
            v = (v << 7) | (p[i++] & 0x7f);
        if (i >= n)
            return -1;
        v = k == 8 ? (v << 8) | p[i++] : (v << 7) | p[i++];
        sum += (long long)(v & 0xffffffffu);
    }
    return sum > INT32_MAX ? -1 : (int)sum;
}

static int load_sizes(pr_searcher *s, search_docs *d, pr_error *err)
{
    sqlite3_stmt *st = pr_searcher_stmt(s, "SELECT id, sz FROM fts_docsize", err);
    int rc;

    if (!st)
        return -1;
    if (!(d->ntok = malloc(((size_t)d->n + 1) * sizeof *d->ntok))) {
        sqlite3_reset(st);
        return oom(err);
    }
    memset(d->ntok, 0xff, ((size_t)d->n + 1) * sizeof *d->ntok);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int i = pr_docs_index(d, sqlite3_column_int64(st, 0));
        if (i >= 0)
            d->ntok[i] = docsize_sum(sqlite3_column_blob(st, 1), sqlite3_column_bytes(st, 1));
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : read_failed(s, err);
}

static int load_groups(pr_searcher *s, search_docs *d, pr_error *err)
{
    sqlite3_stmt *st = pr_searcher_stmt(s, "SELECT doc_id, grp FROM doc_dups", err);
    int rc;

    if (!st)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int i = pr_docs_index(d, sqlite3_column_int64(st, 0));
        if (i >= 0)
            d->grp[i] = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : read_failed(s, err);
}

/* A page and one of its forms. */
typedef struct pair {
    int doc, form;
} pair;

/* What load_facets gathers: the forms met, found again through maps
 * keyed by (kind, folded) for groups and (kind, folded, value) for forms;
 * the (page, form) pairs. */
typedef struct facet_load {
    strmap groups, forms;
    pr_buf key; /* scratch for the maps' keys */
    pair *p;
    int np, pcap, fcap;
} facet_load;

/* The form (KIND, FOLDED, VALUE), numbered as met (renumbered by
 * group_forms), made when new. Returns its index, or -1 out of memory. */
static int form_id(search_docs *d, facet_load *fl, int kind, const char *folded,
                   const char *value)
{
    pr_buf *key = &fl->key;
    strmap_entry *g, *e;
    pr_docs_form *f;
    size_t glen;
    int added;

    key->len = 0;
    pr_buf_addc(key, (char)('0' + kind));
    pr_buf_add(key, folded, strlen(folded));
    glen = key->len;
    pr_buf_addc(key, '\0');
    pr_buf_add(key, value, strlen(value));
    if (key->oom || !(e = strmap_put(&fl->forms, key->p, key->len, &added)))
        return -1;
    if (!added)
        return (int)e->n;
    if (!(g = strmap_put(&fl->groups, key->p, glen, &added)))
        return -1;
    if (added)
        g->n = d->ngroups++;
    if (d->nforms == fl->fcap) {
        int nc = fl->fcap ? fl->fcap * 2 : 256;
        pr_docs_form *nv = realloc(d->forms, (size_t)nc * sizeof *nv);
        if (!nv)
            return -1;
        d->forms = nv;
        fl->fcap = nc;
    }
    f = &d->forms[d->nforms];
    f->kind = kind;
    f->group = (int)g->n;
    f->folded = strdup(folded);
    f->value = strdup(value);
    if (!f->folded || !f->value) {
        free(f->folded);
        free(f->value);
        return -1;
    }
    e->n = d->nforms;
    return d->nforms++;
}

/* Page -> forms, from the (page, form) pairs: a counting sort by page. */
static int build_csr(search_docs *d, const pair *p, int np)
{
    d->off = calloc((size_t)d->n + 1, sizeof *d->off);
    d->form_of = malloc((size_t)(np ? np : 1) * sizeof *d->form_of);
    if (!d->off || !d->form_of)
        return -1;
    for (int i = 0; i < np; i++)
        d->off[p[i].doc + 1]++;
    for (int i = 0; i < d->n; i++)
        d->off[i + 1] += d->off[i];
    int *next = malloc((size_t)(d->n ? d->n : 1) * sizeof *next);
    if (!next)
        return -1;
    memcpy(next, d->off, (size_t)d->n * sizeof *next);
    for (int i = 0; i < np; i++)
        d->form_of[next[p[i].doc]++] = p[i].form;
    free(next);
    return 0;
}

/* Renumber the forms so that each group's are consecutive (what
 * collect_facets walks), in the order they were met within a group, and
 * the pairs with them. -1 out of memory. */
static int group_forms(search_docs *d, pair *p, int np)
{
    int *start = calloc((size_t)d->ngroups + 1, sizeof *start);
    int *to = malloc((size_t)(d->nforms ? d->nforms : 1) * sizeof *to);
    pr_docs_form *v = malloc((size_t)(d->nforms ? d->nforms : 1) * sizeof *v);
    int i;

    if (!start || !to || !v) {
        free(start);
        free(to);
        free(v);
        return -1;
    }
    for (i = 0; i < d->nforms; i++)
        start[d->forms[i].group + 1]++;
    for (i = 0; i < d->ngroups; i++)
        start[i + 1] += start[i];
    for (i = 0; i < d->nforms; i++) {
        to[i] = start[d->forms[i].group]++;
        v[to[i]] = d->forms[i];
    }
    for (i = 0; i < np; i++)
        p[i].form = to[p[i].form];
    free(d->forms);
    d->forms = v;
    free(start);
    free(to);
    return 0;
}

/* The next NUL-terminated string of the blob [*AT, END), or NULL when
 * the blob ends first. */
static const char *blob_str(const char **at, const char *end)
{
    const char *s = *at, *nul = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;

    if (!nul)
        return NULL;
    *at = nul + 1;
    return s;
}

/* Whether the pairs P[0..N) (one page's so far) hold a form of GROUP. */
static int pairs_have_group(const search_docs *d, const pair *p, int n, int group)
{
    for (int i = 0; i < n; i++)
        if (d->forms[p[i].form].group == group)
            return 1;
    return 0;
}

/* Page DOC has the form (KIND, FOLDED, VALUE), unless one of its pairs
 * from FIRST on already has its group. -1 out of memory. */
static int add_facet(search_docs *d, facet_load *fl, int doc, int first, const char *k,
                     const char *folded, const char *value)
{
    int kind = pr_docs_facet_kind(k), f;

    if (kind < 0)
        return 0;
    if ((f = form_id(d, fl, kind, folded, value)) < 0)
        return -1;
    if (fl->np > first && pairs_have_group(d, fl->p + first, fl->np - first, d->forms[f].group))
        return 0;
    if (fl->np == fl->pcap) {
        int cap = fl->pcap ? fl->pcap * 2 : 4096;
        pair *nv = realloc(fl->p, (size_t)cap * sizeof *nv);
        if (!nv)
            return -1;
        fl->p = nv;
        fl->pcap = cap;
    }
    fl->p[fl->np].doc = doc;
    fl->p[fl->np++].form = f;
    return 0;
}

/* A page's row of doc_facets: its "kind\0folded\0value\0" triples. */
static int add_page_facets(search_docs *d, facet_load *fl, sqlite3_stmt *st)
{
    int doc = pr_docs_index(d, sqlite3_column_int64(st, 0)), first = fl->np;
    const char *at = sqlite3_column_blob(st, 1), *end, *k, *folded, *value;

    if (doc < 0 || !at) /* a page without facets: an empty blob, NULL */
        return 0;
    end = at + sqlite3_column_bytes(st, 1);
    while ((k = blob_str(&at, end)) && (folded = blob_str(&at, end)) &&
           (value = blob_str(&at, end)))
        if (add_facet(d, fl, doc, first, k, folded, value) != 0)
            return -1;
    return 0;
}

/* A row of a per-value doc_facets (before schema 8): unique by its key. */
static int add_value_row(search_docs *d, facet_load *fl, sqlite3_stmt *st)
{
    int doc = pr_docs_index(d, sqlite3_column_int64(st, 3));
    const char *k = (const char *)sqlite3_column_text(st, 0);
    const char *folded = (const char *)sqlite3_column_text(st, 1);
    const char *value = (const char *)sqlite3_column_text(st, 2);

    if (doc < 0 || !k || !folded || !value)
        return 0;
    return add_facet(d, fl, doc, fl->np, k, folded, value);
}

/* The pages' facets (index_db.h): each (kind, folded) once a page. */
static int load_facets(pr_searcher *s, search_docs *d, pr_error *err)
{
    int by_value = pr_index_facets_by_value(s->db), rc, bad = 0;
    sqlite3_stmt *st = pr_searcher_stmt(
        s, by_value ? "SELECT kind, folded, value, doc_id FROM doc_facets"
                    : "SELECT doc_id, facets FROM doc_facets", err);
    facet_load fl;

    if (!st)
        return -1;
    memset(&fl, 0, sizeof fl);
    strmap_init(&fl.groups);
    strmap_init(&fl.forms);
    pr_buf_init(&fl.key);
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW)
        bad = (by_value ? add_value_row(d, &fl, st) : add_page_facets(d, &fl, st)) != 0;
    sqlite3_reset(st);
    strmap_free(&fl.groups);
    strmap_free(&fl.forms);
    pr_buf_free(&fl.key);
    if (!bad && rc == SQLITE_DONE && group_forms(d, fl.p, fl.np) == 0 &&
        build_csr(d, fl.p, fl.np) == 0) {
        free(fl.p);
        return 0;
    }
    free(fl.p);
    return bad || rc == SQLITE_DONE ? oom(err) : read_failed(s, err);
}

search_docs *pr_docs_get(pr_searcher *s, pr_error *err)
{
    long long v = pr_searcher_data_version(s);
    search_docs *d;

    if (s->docs && s->docs->data_version == v && v >= 0)
        return s->docs;
    if (!(d = calloc(1, sizeof *d))) {
        pr_error_set(err, 0, 0, "out of memory");
        return NULL;
    }
    d->data_version = v;
    strmap_init(&d->phrase_hits);
    if (load_pages(s, d, err) != 0 || load_groups(s, d, err) != 0 || load_sizes(s, d, err) != 0 ||
        load_facets(s, d, err) != 0) {
        pr_docs_free(d);
        return NULL;
    }
    pr_docs_free(s->docs);
    s->docs = d;
    return d;
}

int pr_docs_index(const search_docs *d, sqlite3_int64 id)
{
    return id >= 0 && id <= d->max_id ? d->index_of[id] : -1;
}

int pr_docs_count(const search_docs *d)
{
    return d->n;
}

sqlite3_int64 pr_docs_date(const search_docs *d, int i)
{
    return i >= 0 ? d->date_ts[i] : PR_DOCS_UNDATED;
}

sqlite3_int64 pr_docs_group(const search_docs *d, int i)
{
    return i >= 0 ? d->grp[i] : 0;
}

sqlite3_int64 pr_docs_id(const search_docs *d, int i)
{
    return d->id[i];
}

int pr_docs_day(const search_docs *d, int i)
{
    return i >= 0 ? d->day[i] : 0;
}

int pr_docs_tokens(const search_docs *d, int i)
{
    return i >= 0 ? d->ntok[i] : -1;
}

int pr_docs_forms(const search_docs *d, int i, const int **forms)
{
    if (i < 0) {
        *forms = NULL;
        return 0;
    }
    *forms = d->form_of + d->off[i];
    return d->off[i + 1] - d->off[i];
}

int pr_docs_nforms(const search_docs *d, int *ngroups)
{
    if (ngroups)
        *ngroups = d->ngroups;
    return d->nforms;
}

const pr_docs_form *pr_docs_form_at(const search_docs *d, int f)
{
    return &d->forms[f];
}

int pr_docs_find_group(const search_docs *d, int kind, const char *folded)
{
    for (int i = 0; i < d->nforms; i++)
        if (d->forms[i].kind == kind && !strcmp(d->forms[i].folded, folded))
            return d->forms[i].group;
    return -1;
}

int pr_docs_has_group(const search_docs *d, int i, int group)
{
    const int *f;
    int n = pr_docs_forms(d, i, &f);

    for (int k = 0; k < n; k++)
        if (d->forms[f[k]].group == group)
            return 1;
    return 0;
}

int pr_docs_facet_kind(const char *k)
{
    if (!k)
        return -1;
    if (!strcmp(k, "collection")) return PR_FACET_COLLECTION;
    if (!strcmp(k, "category")) return PR_FACET_CATEGORY;
    if (!strcmp(k, "tag")) return PR_FACET_TAG;
    if (!strcmp(k, "year")) return PR_FACET_YEAR;
    return -1;
}

/*
 * Phrase counts: bm25's IDF needs, for each phrase of the query, how many
 * pages it matches, and FTS5 can only count by walking the phrase's whole
 * page list (xQueryPhrase): as costly as the match itself for a broad
 * word, twice that for a prefix, whose list FTS5 merges from every word
 * it starts. The counts depend only on the expression and the index
 * version, which is this table's: remembered here, they are dropped with
 * it when the index changes. Stored as the entry's aux (NPHRASE counts).
 */
const sqlite3_int64 *pr_docs_phrase_hits(const search_docs *d, const char *expr, int nphrase)
{
    strmap_entry *e = strmap_find(&d->phrase_hits, expr, strlen(expr));

    return e && e->n == nphrase && e->aux ? (const sqlite3_int64 *)(void *)e->aux : NULL;
}

void pr_docs_phrase_hits_put(search_docs *d, const char *expr, const sqlite3_int64 *hits,
                             int nphrase)
{
    /* the key, the counts, and about what malloc and the slot add */
    size_t cost = strlen(expr) + (size_t)nphrase * sizeof *hits + 64;
    sqlite3_int64 *copy;
    strmap_entry *e;
    int added = 0;

    if (nphrase <= 0 || cost > PHRASE_HITS_BYTES / 16 ||
        !(copy = malloc((size_t)nphrase * sizeof *copy)))
        return;
    memcpy(copy, hits, (size_t)nphrase * sizeof *copy);
    if (d->phrase_hits_bytes + cost > PHRASE_HITS_BYTES) {
        strmap_clear(&d->phrase_hits);
        d->phrase_hits_bytes = 0;
    }
    if (!(e = strmap_put(&d->phrase_hits, expr, strlen(expr), &added))) {
        free(copy);
        return;
    }
    free(e->aux);
    e->aux = (char *)copy;
    e->n = nphrase;
    if (added)
        d->phrase_hits_bytes += cost;
}
