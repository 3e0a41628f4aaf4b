/*
 * search_walk.c - the match of a query computed in C from each phrase's
 * rows, for the FTS5 auxiliary function pr_match_walk (registered with
 * the others by pr_rank_register, search_rank.c; used by search.c
 * match_rows).
 *
 * Why: a broad query matches tens of thousands of pages. Through SQL, each
 * matching row costs a step of the virtual machine, a call of pr_bm25 and
 * the reading of its columns, and pr_bm25 walks every phrase's rows once
 * more to count them (its IDF). Walking each phrase's rows once with
 * xQueryPhrase gives both the counts and the frequencies; the lists are
 * then combined here (AND: intersection, OR: union, NOT: difference) and
 * scored with pr_bm25's own arithmetic, so the rows and their scores are
 * the ones the SQL would give, bit for bit.
 *
 * FTS5 gives a phrase's instances in a row when the phrase's node sits on
 * that row (sqlite3Fts5ExprPoslist): for a phrase under ORs and the
 * top-level ANDs, when it occurs in the row; for a phrase under an AND
 * that is itself under an OR (an acronym's long form typed as words:
 * ((a AND b) OR "acronym")), only when that AND matches the row, since an
 * AND's children all move to its next match together (and an exhausted
 * AND marks them all exhausted). The walk does the same. Shapes walked: a
 * tree of phrases, ANDs and ORs, maybe NOT a phrase or an OR of phrases;
 * an AND under an OR only over single words (a phrase of several words
 * can sit on a row it does not match). Others are left to the SQL.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index_db.h"
#include "search_internal.h"

enum { W_MAX_PHRASES = 64, W_MAX_NODES = 2 * W_MAX_PHRASES };

/* ---- the expression ------------------------------------------------------ */

typedef enum { N_LEAF, N_AND, N_OR, N_NOT } node_kind;

typedef struct node {
    node_kind kind;
    int a, b;     /* children (nodes), or a = the phrase of a leaf */
} node;

typedef struct expr_parser {
    const char *s;
    int i, bad;
    node v[W_MAX_NODES];
    int n, nphrase;
} expr_parser;

static void skip_blanks(expr_parser *p)
{
    while (p->s[p->i] == ' ')
        p->i++;
}

/* Is the keyword KW (followed by a blank, a parenthesis or a quote) next?
 * Consumed when CONSUME. */
static int at_keyword(expr_parser *p, const char *kw, int consume)
{
    size_t n = strlen(kw);
    char after;

    skip_blanks(p);
    if (strncmp(p->s + p->i, kw, n) != 0)
        return 0;
    after = p->s[p->i + n];
    if (after != ' ' && after != '(' && after != '"')
        return 0;
    if (consume)
        p->i += (int)n;
    return 1;
}

static int new_node(expr_parser *p, node_kind k, int a, int b)
{
    if (p->n == W_MAX_NODES) {
        p->bad = 1;
        return 0;
    }
    p->v[p->n].kind = k;
    p->v[p->n].a = a;
    p->v[p->n].b = b;
    return p->n++;
}

static int parse_or(expr_parser *p);

/* "string" (quotes doubled inside), maybe followed by '*'; or ( ... ). */
static int parse_primary(expr_parser *p)
{
    int n, closed = 0;

    skip_blanks(p);
    if (p->s[p->i] == '(') {
        p->i++;
        n = parse_or(p);
        skip_blanks(p);
        if (p->s[p->i] != ')')
            p->bad = 1;
        else
            p->i++;
        return n;
    }
    if (p->s[p->i] != '"') {
        p->bad = 1;
        return 0;
    }
    for (p->i++; p->s[p->i] && !closed; p->i++) {
        if (p->s[p->i] != '"')
            continue;
        if (p->s[p->i + 1] == '"')
            p->i++; /* a quote inside */
        else
            closed = 1;
    }
    if (!closed || p->nphrase == W_MAX_PHRASES) {
        p->bad = 1;
        return 0;
    }
    skip_blanks(p);
    if (p->s[p->i] == '*') /* a prefix: query_parse writes "word" * */
        p->i++;
    return new_node(p, N_LEAF, p->nphrase++, 0);
}

/* FTS5's precedence, tightest first: NOT, AND (or nothing), OR. */
static int parse_not(expr_parser *p)
{
    int n = parse_primary(p);

    while (!p->bad && at_keyword(p, "NOT", 1))
        n = new_node(p, N_NOT, n, parse_primary(p));
    return n;
}

/* Terms side by side, or joined by AND. */
static int parse_and(expr_parser *p)
{
    int n = parse_not(p);

    for (;;) {
        skip_blanks(p);
        if (p->bad || !p->s[p->i] || p->s[p->i] == ')' || at_keyword(p, "OR", 0))
            return n;
        at_keyword(p, "AND", 1);
        n = new_node(p, N_AND, n, parse_not(p));
    }
}

static int parse_or(expr_parser *p)
{
    int n = parse_and(p);

    while (!p->bad && at_keyword(p, "OR", 1))
        n = new_node(p, N_OR, n, parse_and(p));
    return n;
}

/* ---- the shape ----------------------------------------------------------- */

/* The plan: the rows are those in every unit (a unit: an OR of phrases)
 * and in no excluded phrase. */
typedef struct walk_plan {
    int unit_of[W_MAX_PHRASES];  /* per phrase: its unit, or -1 if excluded */
    int nunits, nphrase;
    /* or a tree (an AND under an OR): units mean nothing then */
    int tree, root;              /* root: the node of the match (not NOT) */
    expr_parser ex;
    int single[W_MAX_PHRASES];   /* must be one word (under such an AND) */
    /* the title signals (search_rank.c title_start, title_cover) */
    int start;                   /* title_start applies */
    int start_at[W_MAX_PHRASES]; /* its token in the title, -1: not asked */
    int cover;                   /* title_cover applies */
    uint64_t want;               /* the parts title_cover wants */
    int group_of[W_MAX_PHRASES]; /* per phrase: its part, or -1 */
    /* the literal form (pr_query literal: expansions left out), scored
     * on the way: its phrases, and those a row must hold to match it
     * (the words of an expanded part, all required there) */
    int lit;
    uint64_t lit_phrase, lit_need;
} walk_plan;

/* Phrases of the OR-of-phrases N into unit U; 0 when N is something else. */
static int or_of_leaves(const expr_parser *p, int n, walk_plan *pl, int u)
{
    const node *x = &p->v[n];

    if (x->kind == N_LEAF) {
        pl->unit_of[x->a] = u;
        return 1;
    }
    return x->kind == N_OR && or_of_leaves(p, x->a, pl, u) && or_of_leaves(p, x->b, pl, u);
}

static int and_of_units(const expr_parser *p, int n, walk_plan *pl)
{
    const node *x = &p->v[n];

    if (x->kind == N_AND)
        return and_of_units(p, x->a, pl) && and_of_units(p, x->b, pl);
    return or_of_leaves(p, n, pl, pl->nunits++);
}

/* Can node N (under an OR when UNDER_OR) be walked as a tree? Marks the
 * phrases that must be single words, and puts every phrase in unit 0. */
static int tree_ok(const expr_parser *p, int n, int under_or, int in_and_under_or,
                   walk_plan *pl)
{
    const node *x = &p->v[n];

    switch (x->kind) {
    case N_LEAF:
        pl->unit_of[x->a] = 0;
        pl->single[x->a] = in_and_under_or;
        return 1;
    case N_OR:
        return !in_and_under_or && tree_ok(p, x->a, 1, 0, pl) && tree_ok(p, x->b, 1, 0, pl);
    case N_AND:
        return tree_ok(p, x->a, under_or, under_or, pl) &&
               tree_ok(p, x->b, under_or, under_or, pl);
    default:
        return 0;
    }
}

/* 0 when EXPR is not a shape walked here (see the top of the file). */
static int plan_walk(const char *expr, walk_plan *pl)
{
    expr_parser *p = &pl->ex;
    int root, i;

    memset(pl, 0, sizeof *pl);
    p->s = expr;
    root = parse_or(p);
    skip_blanks(p);
    if (p->bad || p->s[p->i] || p->nphrase == 0)
        return 0;
    pl->nphrase = p->nphrase;
    for (i = 0; i < p->nphrase; i++)
        pl->unit_of[i] = -2;
    if (p->v[root].kind == N_NOT) {
        if (!or_of_leaves(p, p->v[root].b, pl, -1))
            return 0;
        root = p->v[root].a;
    }
    pl->root = root;
    if (!and_of_units(p, root, pl)) {
        pl->nunits = 0;
        pl->tree = 1;
        if (!tree_ok(p, root, 0, 0, pl))
            return 0;
    }
    for (i = 0; i < p->nphrase; i++)
        if (pl->unit_of[i] == -2)
            return 0;
    return 1;
}

/*
 * The literal form of an expanded query, as query_parse() builds it: the
 * parts ANDed as in the match, an expanded part ((w1 AND w2) OR "alt"...)
 * reduced to its words as typed (w1 AND w2), any other part as it is. A
 * row of the match matches it when it holds every typed word of every
 * expanded part (an AND under an OR keeps its words only on rows where
 * it matches, as FTS5 does, so holding them all is that AND matching);
 * its score there is the parts of the typed words, in phrase order: the
 * bits pr_bm25 adds on the literal expression, whose phrases are these,
 * with the same page counts. Not planned past 64 phrases (the masks).
 */
static void plan_literal(const pr_scored *out, walk_plan *pl, int ngroups_len)
{
    uint64_t expanded = 0;
    int p;

    pl->lit = out->want_literal && pl->nphrase <= 64;
    pl->lit_phrase = pl->lit_need = 0;
    if (!pl->lit)
        return;
    for (p = 0; p < pl->nphrase && p < ngroups_len; p++)
        if (!(out->literal >> p & 1))
            expanded |= (uint64_t)1 << pl->group_of[p];
    for (p = 0; p < pl->nphrase && p < ngroups_len; p++) {
        if (!(out->literal >> p & 1) || pl->unit_of[p] < 0)
            continue;
        pl->lit_phrase |= (uint64_t)1 << p;
        if (expanded >> pl->group_of[p] & 1)
            pl->lit_need |= (uint64_t)1 << p;
    }
}

/* What the title signals ask of each phrase, as title_start() and
 * title_cover() read it from OUT's LITERAL and GROUPS. 0 when title_start
 * wants a phrase at token 64 or later of the title: the walk keeps only
 * the first 64 tokens' instances. */
static int plan_titles(const Fts5ExtensionApi *api, Fts5Context *fts, const pr_scored *out,
                       walk_plan *pl)
{
    int p, pos = 0, len = out->groups ? (int)strlen(out->groups) : 0;

    pl->start = __builtin_popcountll(out->literal) >= 2;
    for (p = 0; p < pl->nphrase; p++) {
        pl->start_at[p] = -1;
        if (!pl->start || !(out->literal >> p & 1))
            continue;
        if (pos >= 64)
            return 0;
        pl->start_at[p] = pos;
        pos += api->xPhraseSize(fts, p);
    }
    pl->want = 0;
    for (p = 0; p < pl->nphrase; p++) {
        pl->group_of[p] = p < len ? (out->groups[p] - 'A') & 63 : -1;
        if (pl->group_of[p] >= 0)
            pl->want |= (uint64_t)1 << pl->group_of[p];
    }
    pl->cover = __builtin_popcountll(pl->want) >= 2;
    for (p = 0; p < pl->nphrase; p++)
        if (pl->single[p] && api->xPhraseSize(fts, p) != 1)
            return 0;
    plan_literal(out, pl, len);
    return 1;
}

/* ---- the walk ------------------------------------------------------------ */

/* A row of a phrase: the weighted frequency of its instances, the row's
 * length, and where the phrase stands in the title. */
typedef struct walked_row {
    sqlite3_int64 id;
    double freq;
    uint64_t title;      /* bit k: an instance at token k of the title */
    int ntok;
    int in_title;        /* some instance in the title */
} walked_row;

/* One phrase's rows, ascending (those of its unit that can still match;
 * only ids for an exclusion). */
typedef struct phrase_rows {
    walked_row *v;
    int n, cap;
    sqlite3_int64 hits;  /* all its rows, recorded or not */
} phrase_rows;

typedef struct walk_state {
    pr_searcher *s;
    const double *w;
    int nweight;
    int keep_freq;          /* record frequencies (not for exclusions) */
    const sqlite3_int64 *cand; /* NULL, or only rows in these (ascending) */
    int ncand, at;
    phrase_rows *out;
    unsigned long seen;     /* rows walked, to look at the clock now and then */
} walk_state;

/* V (N used of *CAP items of SIZE bytes) with room for one more: V or a
 * new block, *CAP updated; NULL out of memory (V is left as it was). */
void *pr_room_for_one(void *v, int n, int *cap, size_t size)
{
    int nc;

    if (n < *cap)
        return v;
    nc = *cap ? *cap * 2 : 256;
    if (!(v = realloc(v, (size_t)nc * size)))
        return NULL;
    *cap = nc;
    return v;
}

/* Room for one more row in R, or NULL out of memory. */
static walked_row *rows_add(phrase_rows *r)
{
    walked_row *v = pr_room_for_one(r->v, r->n, &r->cap, sizeof *v);

    if (!v)
        return NULL;
    r->v = v;
    return memset(&r->v[r->n++], 0, sizeof *r->v);
}

/* Is ID among the candidates? They and the rows come in ascending order. */
static int wanted(walk_state *w, sqlite3_int64 id)
{
    if (!w->cand)
        return 1;
    while (w->at < w->ncand && w->cand[w->at] < id)
        w->at++;
    return w->at < w->ncand && w->cand[w->at] == id;
}

/* The row's instances of the walked phrase into ROW: the weighted
 * frequency as pr_bm25 adds it (each instance's column weight, in order),
 * and where it stands in the title. */
static int read_instances(const Fts5ExtensionApi *api, Fts5Context *fts, const walk_state *w,
                          walked_row *row)
{
    Fts5PhraseIter it;
    int col, off, rc;
    double f = 0.0;

    rc = api->xPhraseFirst(fts, 0, &it, &col, &off);
    for (; rc == SQLITE_OK && col >= 0; api->xPhraseNext(fts, &it, &col, &off)) {
        f += col < w->nweight ? w->w[col] : 1.0;
        if (col == PR_COL_TITLE) {
            row->in_title = 1;
            if (off >= 0 && off < 64)
                row->title |= (uint64_t)1 << off;
        }
    }
    row->freq = f;
    return rc;
}

static int walk_row(const Fts5ExtensionApi *api, Fts5Context *fts, void *ctx)
{
    walk_state *w = ctx;
    sqlite3_int64 id = api->xRowid(fts);
    const search_docs *d = w->s ? w->s->docs : NULL;
    walked_row *row;
    int rc = SQLITE_OK;

    w->out->hits++;
    if ((++w->seen & 1023) == 0 && w->s && pr_searcher_over_budget(w->s))
        return SQLITE_INTERRUPT;
    if (!wanted(w, id))
        return SQLITE_OK;
    if (!(row = rows_add(w->out)))
        return SQLITE_NOMEM;
    row->id = id;
    if (!w->keep_freq)
        return SQLITE_OK;
    row->ntok = d ? pr_docs_tokens(d, pr_docs_index(d, id)) : -1;
    if (row->ntok < 0)
        rc = api->xColumnSize(fts, -1, &row->ntok);
    return rc == SQLITE_OK ? read_instances(api, fts, w, row) : rc;
}

/* The ids in both A and B (ascending) into OUT (room for min(na, nb)). */
static int intersect(const sqlite3_int64 *a, int na, const sqlite3_int64 *b, int nb,
                     sqlite3_int64 *out)
{
    int i = 0, j = 0, n = 0;

    while (i < na && j < nb) {
        if (a[i] < b[j])
            i++;
        else if (a[i] > b[j])
            j++;
        else {
            out[n++] = a[i];
            i++;
            j++;
        }
    }
    return n;
}

/* A minus B (both ascending), in place; returns what is left of A. */
static int subtract(sqlite3_int64 *a, int na, const sqlite3_int64 *b, int nb)
{
    int i, j = 0, k = 0;

    for (i = 0; i < na; i++) {
        while (j < nb && b[j] < a[i])
            j++;
        if (j == nb || b[j] != a[i])
            a[k++] = a[i];
    }
    return k;
}

/* The ids of P's rows, ascending, in a new array; NULL out of memory. */
static sqlite3_int64 *leaf_ids(const phrase_rows *p, int *n)
{
    sqlite3_int64 *v = malloc(((size_t)p->n + 1) * sizeof *v);

    if (!v)
        return NULL;
    for (int i = 0; i < p->n; i++)
        v[i] = p->v[i].id;
    *n = p->n;
    return v;
}

/* The ids in A or B (ascending, both freed) in a new array of *N; NULL
 * out of memory. */
static sqlite3_int64 *union_ids(sqlite3_int64 *a, int na, sqlite3_int64 *b, int nb, int *n)
{
    sqlite3_int64 *u = malloc(((size_t)na + (size_t)nb + 1) * sizeof *u);
    int i = 0, j = 0, k = 0;

    while (u && (i < na || j < nb)) {
        if (j == nb || (i < na && a[i] < b[j]))
            u[k++] = a[i++];
        else if (i == na || b[j] < a[i])
            u[k++] = b[j++];
        else { /* in both */
            u[k++] = a[i++];
            j++;
        }
    }
    free(a);
    free(b);
    *n = k;
    return u;
}

/* The ids of the phrases of unit U (or of the excluded ones, U = -1):
 * their union, ascending, in a new array. NULL out of memory. */
static sqlite3_int64 *unit_ids(const walk_plan *pl, const phrase_rows *r, int u, int *n)
{
    sqlite3_int64 *v = malloc(sizeof *v), *p;
    int np;

    *n = 0;
    for (int i = 0; v && i < pl->nphrase; i++) {
        if (pl->unit_of[i] != u)
            continue;
        if (!(p = leaf_ids(&r[i], &np))) {
            free(v);
            return NULL;
        }
        v = union_ids(v, *n, p, np, n);
    }
    return v;
}

/* Walk phrase I into R[I], keeping only the rows in CAND (NULL: all). */
static int walk_phrase(const Fts5ExtensionApi *api, Fts5Context *fts, walk_state *w, int i,
                       phrase_rows *r, const sqlite3_int64 *cand, int ncand)
{
    w->out = &r[i];
    w->cand = cand;
    w->ncand = ncand;
    w->at = 0;
    return api->xQueryPhrase(fts, i, w, walk_row);
}

/* The rows of every unit and no exclusion, ascending, in *ROWS. */
static int walk_all(const Fts5ExtensionApi *api, Fts5Context *fts, walk_state *w,
                    const walk_plan *pl, phrase_rows *r, sqlite3_int64 **rows, int *nrows)
{
    sqlite3_int64 *cand = NULL, *u;
    int ncand = 0, nu, i, rc = SQLITE_OK;

    for (int unit = 0; rc == SQLITE_OK && unit <= pl->nunits; unit++) {
        int want = unit < pl->nunits ? unit : -1; /* the exclusions last */
        w->keep_freq = want >= 0;
        for (i = 0; rc == SQLITE_OK && i < pl->nphrase; i++)
            if (pl->unit_of[i] == want)
                rc = walk_phrase(api, fts, w, i, r, unit ? cand : NULL, ncand);
        if (rc != SQLITE_OK || !(u = unit_ids(pl, r, want, &nu))) {
            rc = rc != SQLITE_OK ? rc : SQLITE_NOMEM;
            break;
        }
        if (unit == 0) {
            cand = u;
            ncand = nu;
            continue;
        }
        if (want >= 0)
            ncand = intersect(cand, ncand, u, nu, cand);
        else
            ncand = subtract(cand, ncand, u, nu);
        free(u);
    }
    if (rc != SQLITE_OK) {
        free(cand);
        return rc;
    }
    *rows = cand;
    *nrows = ncand;
    return SQLITE_OK;
}

/* The rows of node N of the tree, ascending, in a new array (*NN of
 * them); NULL out of memory. */
static sqlite3_int64 *node_ids(const walk_plan *pl, const phrase_rows *r, int n, int *nn)
{
    const node *x = &pl->ex.v[n];
    sqlite3_int64 *a, *b;
    int na, nb;

    if (x->kind == N_LEAF)
        return leaf_ids(&r[x->a], nn);
    a = node_ids(pl, r, x->a, &na);
    b = a ? node_ids(pl, r, x->b, &nb) : NULL;
    if (!b) {
        free(a);
        return NULL;
    }
    if (x->kind == N_OR)
        return union_ids(a, na, b, nb, nn);
    *nn = intersect(a, na, b, nb, a);
    free(b);
    return a;
}

/* Keep, of the rows of every phrase under node N, those in IDS. */
static void keep_rows_in(const walk_plan *pl, phrase_rows *r, int n, const sqlite3_int64 *ids,
                         int nids)
{
    const node *x = &pl->ex.v[n];
    phrase_rows *p;
    int i, j = 0, k = 0;

    if (x->kind != N_LEAF) {
        keep_rows_in(pl, r, x->a, ids, nids);
        keep_rows_in(pl, r, x->b, ids, nids);
        return;
    }
    p = &r[x->a];
    for (i = 0; i < p->n; i++) {
        while (j < nids && ids[j] < p->v[i].id)
            j++;
        if (j < nids && ids[j] == p->v[i].id)
            p->v[k++] = p->v[i];
    }
    p->n = k;
}

/* Each phrase under an AND keeps only the rows where that AND matches:
 * FTS5 gives its instances only there (see the top of the file). */
static int keep_and_rows(const walk_plan *pl, phrase_rows *r, int n)
{
    const node *x = &pl->ex.v[n];
    sqlite3_int64 *ids;
    int nids;

    if (x->kind == N_LEAF)
        return SQLITE_OK;
    if (x->kind == N_AND) {
        if (!(ids = node_ids(pl, r, n, &nids)))
            return SQLITE_NOMEM;
        keep_rows_in(pl, r, n, ids, nids);
        free(ids);
    }
    if (keep_and_rows(pl, r, x->a) != SQLITE_OK)
        return SQLITE_NOMEM;
    return keep_and_rows(pl, r, x->b);
}

/* The tree's rows minus the excluded ones, ascending, in *ROWS; each
 * phrase left with the rows FTS5 would give its instances in. */
static int walk_tree(const Fts5ExtensionApi *api, Fts5Context *fts, walk_state *w,
                     const walk_plan *pl, phrase_rows *r, sqlite3_int64 **rows, int *nrows)
{
    sqlite3_int64 *all, *ex;
    int nall, nex, i, rc = SQLITE_OK;

    for (i = 0; rc == SQLITE_OK && i < pl->nphrase; i++) {
        w->keep_freq = pl->unit_of[i] >= 0;
        rc = walk_phrase(api, fts, w, i, r, NULL, 0);
    }
    if (rc != SQLITE_OK)
        return rc;
    if (!(all = node_ids(pl, r, pl->root, &nall)))
        return SQLITE_NOMEM;
    if (!(ex = unit_ids(pl, r, -1, &nex))) {
        free(all);
        return SQLITE_NOMEM;
    }
    nall = subtract(all, nall, ex, nex);
    free(ex);
    if (keep_and_rows(pl, r, pl->root) != SQLITE_OK) {
        free(all);
        return SQLITE_NOMEM;
    }
    *rows = all;
    *nrows = nall;
    return SQLITE_OK;
}

/* Row K of ROWS, scored as pr_bm25 does (for each phrase in order, the
 * part of those whose rows hold it), with its title signals. AT: per
 * phrase, where its rows were left (the rows come in ascending order). */
static void score_row(const walk_plan *pl, const phrase_rows *r, const double *idf, double avgdl,
                      sqlite3_int64 row, int *at, pr_scored_row *out)
{
    double score = 0.0, lit = 0.0;
    uint64_t have = 0, held = 0;
    int start_ok = pl->start;

    for (int i = 0; i < pl->nphrase; i++) {
        const phrase_rows *p = &r[i];
        int k, here;
        if (pl->unit_of[i] < 0)
            continue;
        while (at[i] < p->n && p->v[at[i]].id < row)
            at[i]++;
        k = at[i];
        here = k < p->n && p->v[k].id == row;
        if (here) {
            double part = pr_bm25_part(idf[i], p->v[k].freq, (double)p->v[k].ntok, avgdl);
            score += part;
            if (pl->lit && (pl->lit_phrase >> i & 1)) {
                lit += part;
                held |= (uint64_t)1 << i;
            }
        }
        if (pl->start_at[i] >= 0 && (!here || !(p->v[k].title >> pl->start_at[i] & 1)))
            start_ok = 0;
        if (here && p->v[k].in_title && pl->group_of[i] >= 0)
            have |= (uint64_t)1 << pl->group_of[i];
    }
    out->id = row;
    out->score = score;
    out->title_start = start_ok;
    out->title_cover = pl->cover && have == pl->want;
    out->lit_ok = pl->lit && (held & pl->lit_need) == pl->lit_need;
    out->lit_score = lit;
}

static int score_rows(const walk_plan *pl, const phrase_rows *r, const double *idf,
                      double avgdl, const sqlite3_int64 *rows, int nrows, pr_scored *out)
{
    int at[W_MAX_PHRASES] = {0};

    if (!(out->v = malloc(((size_t)nrows + 1) * sizeof *out->v)))
        return SQLITE_NOMEM;
    out->cap = nrows + 1;
    for (int k = 0; k < nrows; k++)
        score_row(pl, r, idf, avgdl, rows[k], at, &out->v[k]);
    out->n = nrows;
    return SQLITE_OK;
}

/* The weights and the expression from the function's arguments. */
static const char *walk_args(int nval, sqlite3_value **vals, double *w, int *nweight)
{
    int i, last = nval - 1;

    if (nval < 2 || sqlite3_value_type(vals[last]) != SQLITE_TEXT)
        return NULL;
    *nweight = last - 1 < W_MAX_PHRASES ? last - 1 : W_MAX_PHRASES;
    for (i = 0; i < *nweight; i++)
        w[i] = sqlite3_value_double(vals[1 + i]);
    return (const char *)sqlite3_value_text(vals[last]);
}

static int walk_and_score(const Fts5ExtensionApi *api, Fts5Context *fts, walk_state *w,
                          const walk_plan *pl, const char *expr, pr_scored *out)
{
    phrase_rows r[W_MAX_PHRASES];
    sqlite3_int64 nrow = 0, ntok = 0, hits[W_MAX_PHRASES], *rows = NULL;
    double idf[W_MAX_PHRASES];
    int i, n = 0, rc;

    memset(r, 0, sizeof r);
    rc = api->xRowCount(fts, &nrow);
    if (rc == SQLITE_OK)
        rc = api->xColumnTotalSize(fts, -1, &ntok);
    if (rc == SQLITE_OK)
        rc = pl->tree ? walk_tree(api, fts, w, pl, r, &rows, &n)
                      : walk_all(api, fts, w, pl, r, &rows, &n);
    if (rc == SQLITE_OK) {
        for (i = 0; i < pl->nphrase; i++) {
            hits[i] = r[i].hits;
            idf[i] = pr_bm25_idf(nrow, hits[i]);
        }
        if (w->s && w->s->docs)
            pr_docs_phrase_hits_put(w->s->docs, expr, hits, pl->nphrase);
        rc = score_rows(pl, r, idf, (double)ntok / (double)(nrow > 0 ? nrow : 1), rows, n, out);
    }
    for (i = 0; i < pl->nphrase; i++)
        free(r[i].v);
    free(rows);
    return rc;
}

void pr_match_walk(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                   int nval, sqlite3_value **vals)
{
    pr_scored *out = nval > 0 ? sqlite3_value_pointer(vals[0], PR_SCORED_PTR) : NULL;
    double weights[W_MAX_PHRASES];
    walk_state w;
    walk_plan pl;
    const char *expr;
    int rc;

    memset(&w, 0, sizeof w);
    expr = walk_args(nval, vals, weights, &w.nweight);
    if (!out || out->handled || !expr || !plan_walk(expr, &pl) ||
        pl.nphrase != api->xPhraseCount(fts) || !plan_titles(api, fts, out, &pl)) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    w.s = api->xUserData(fts);
    w.w = weights;
    rc = walk_and_score(api, fts, &w, &pl, expr, out);
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    out->handled = 1;
    out->literal_done = pl.lit;
    sqlite3_result_int(ctx, 1);
}

/* ---- a lone prefix, row by row ------------------------------------------- */

int pr_walk_by_rows(const char *expr)
{
    walk_plan pl;
    const char *end = strrchr(expr, '"');

    if (!end || !plan_walk(expr, &pl) || pl.nphrase != 1)
        return 0;
    for (end++; *end == ' '; end++)
        ;
    return *end == '*';
}

static int scored_add(pr_scored *sc, sqlite3_int64 id, double freq, int ntok)
{
    pr_scored_row *v = pr_room_for_one(sc->v, sc->n, &sc->cap, sizeof *v);

    if (!v)
        return SQLITE_NOMEM;
    sc->v = v;
    memset(&sc->v[sc->n], 0, sizeof *sc->v);
    sc->v[sc->n].id = id;
    sc->v[sc->n].score = freq; /* until pr_scored_finish */
    sc->v[sc->n++].ntok = ntok;
    return SQLITE_OK;
}

/* First call: the table's size and the weights. */
static int scored_start(const Fts5ExtensionApi *api, Fts5Context *fts, pr_scored *sc, int nval,
                        sqlite3_value **vals)
{
    int rc = api->xRowCount(fts, &sc->nrow);

    if (rc == SQLITE_OK)
        rc = api->xColumnTotalSize(fts, -1, &sc->ntok);
    sc->nweight = nval - 1 < 8 ? nval - 1 : 8;
    for (int i = 0; i < sc->nweight; i++)
        sc->w[i] = sqlite3_value_double(vals[1 + i]);
    sc->started = 1;
    sc->failed = api->xPhraseCount(fts) != 1;
    return rc;
}

void pr_match_row(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                  int nval, sqlite3_value **vals)
{
    pr_scored *sc = nval > 0 ? sqlite3_value_pointer(vals[0], PR_SCORED_PTR) : NULL;
    const search_docs *d;
    pr_searcher *s = api->xUserData(fts);
    walk_state w;
    walked_row row;
    int rc = SQLITE_OK;

    sqlite3_result_null(ctx);
    if (!sc)
        return;
    if (!sc->started)
        rc = scored_start(api, fts, sc, nval, vals);
    if (rc != SQLITE_OK || sc->failed) {
        if (rc != SQLITE_OK)
            sqlite3_result_error_code(ctx, rc);
        return;
    }
    memset(&w, 0, sizeof w);
    memset(&row, 0, sizeof row);
    w.w = sc->w;
    w.nweight = sc->nweight;
    d = s ? s->docs : NULL;
    row.ntok = d ? pr_docs_tokens(d, pr_docs_index(d, api->xRowid(fts))) : -1;
    if (row.ntok < 0)
        rc = api->xColumnSize(fts, -1, &row.ntok);
    if (rc == SQLITE_OK)
        rc = read_instances(api, fts, &w, &row);
    if (rc == SQLITE_OK)
        rc = scored_add(sc, api->xRowid(fts), row.freq, row.ntok);
    if (rc != SQLITE_OK)
        sqlite3_result_error_code(ctx, rc);
}

void pr_scored_finish(pr_scored *sc, pr_searcher *s, const char *expr)
{
    sqlite3_int64 hits = sc->n;
    double idf, avgdl;

    if (sc->failed)
        return;
    if (s && s->docs)
        pr_docs_phrase_hits_put(s->docs, expr, &hits, 1);
    idf = pr_bm25_idf(sc->nrow, hits);
    avgdl = (double)sc->ntok / (double)(sc->nrow > 0 ? sc->nrow : 1);
    for (int i = 0; i < sc->n; i++) {
        pr_scored_row *r = &sc->v[i];
        r->score = 0.0 + pr_bm25_part(idf, r->score, (double)r->ntok, avgdl);
    }
    sc->handled = 1;
}
