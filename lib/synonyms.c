/*
 * synonyms.c - the expansion rules of the searcher (see synonyms.h):
 * reading the synonyms file, merging it with the acronyms learned from
 * the corpus, matching analysed query tokens against left sides.
 *
 * A rule is a left side (a sequence of analysed tokens; each position
 * holds the token of the words as written and of the words folded, which
 * differ for accented words) and the texts it expands to. Rules are found
 * by their first token through a hash map.
 */
#include "synonyms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lexicon.h"
#include "search_util.h"
#include "strmap.h"

enum { MAX_LONG = 3, MAX_MEMBERS = 32, MAX_LHS = 16 };

typedef struct rule {
    int n;                    /* positions */
    char *tok[MAX_LHS][2];    /* as written, folded (may be equal) */
    char **alts;
    int nalts;
} rule;

typedef struct node {
    int rule, next;
} node;

struct pr_synonyms {
    rule *rules;
    int nrules, cap;
    node *nodes;
    int nnodes, ncap;
    strmap by_lhs;    /* tokens joined -> rule index */
    strmap by_first;  /* first token -> first node index */
    fr_tokenizer *tok;
};

/* ---- the file ------------------------------------------------------------- */

typedef enum line_kind { LK_GROUP, LK_ONEWAY, LK_CANCEL } line_kind;

typedef int (*line_fn)(void *ctx, line_kind kind, char **members, int n);

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* Split LINE (modified) at each SEP; returns the number of members, -1
 * for an empty one. */
static int split(char *line, const char *sep, char **out, int max)
{
    int n = 0;
    char *p = line, *q;

    for (;;) {
        q = strstr(p, sep);
        if (q)
            *q = '\0';
        if (n == max)
            return -1;
        out[n] = trim(p);
        if (!*out[n])
            return -1;
        n++;
        if (!q)
            return n;
        p = q + strlen(sep);
    }
}

static int parse_line(char *line, int lineno, line_fn fn, void *ctx, pr_error *err)
{
    char *m[MAX_MEMBERS], *hash;
    int n;

    for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
        if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
            *hash = '\0';
            break;
        }
    line = trim(line);
    if (!*line)
        return 0;
    if (*line == '!') {
        m[0] = trim(line + 1);
        if (!*m[0] || strchr(m[0], '='))
            return pr_error_set(err, lineno, 1, "'!' wants one word or phrase: !ACRONYM");
        return fn ? fn(ctx, LK_CANCEL, m, 1) : 0;
    }
    if (strstr(line, "=>")) {
        n = split(line, "=>", m, 2);
        if (n != 2 || strchr(m[0], '=') || strchr(m[1], '='))
            return pr_error_set(err, lineno, 1, "a one-way rule is 'left => right'");
        return fn ? fn(ctx, LK_ONEWAY, m, 2) : 0;
    }
    if (strchr(line, '=')) {
        n = split(line, "=", m, MAX_MEMBERS);
        if (n < 2)
            return pr_error_set(err, lineno, 1, "a group is 'a = b [= c ...]' without empty"
                                                " members (at most %d)", MAX_MEMBERS);
        return fn ? fn(ctx, LK_GROUP, m, n) : 0;
    }
    return pr_error_set(err, lineno, 1, "expected 'a = b', 'a => b' or '!ACRONYM'");
}

static int parse_text(const char *text, line_fn fn, void *ctx, pr_error *err)
{
    const char *p = text ? text : "";
    int lineno = 0, rc = 0;

    while (rc == 0 && *p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *line = strndup(p, len);
        lineno++;
        if (!line)
            return pr_error_set(err, 0, 0, "out of memory");
        rc = parse_line(line, lineno, fn, ctx, err);
        free(line);
        p += len + (e ? 1 : 0);
    }
    return rc;
}

int pr_synonyms_check(const char *text, pr_error *err)
{
    return parse_text(text, NULL, NULL, err);
}

/* ---- keys: folded content words ------------------------------------------- */

static int key_word(void *ctx, const char *folded, const char *form, int start, int end)
{
    pr_buf *b = ctx;

    (void)form; (void)start; (void)end;
    if (fr_is_stopword(folded, (int)strlen(folded)))
        return 0;
    if (b->len)
        pr_buf_addc(b, ' ');
    pr_buf_adds(b, folded);
    return 0;
}

/* "Entrepreneurs d'intérêt général" -> "entrepreneurs interet general". */
static char *term_key(const char *text)
{
    pr_buf b;

    pr_buf_init(&b);
    pr_words(text, (int)strlen(text), key_word, &b);
    pr_buf_adds(&b, "");
    return pr_buf_take(&b);
}

/* ---- rules ---------------------------------------------------------------- */

typedef struct tokseq {
    char *v[MAX_LHS];
    int n, over;
} tokseq;

static int take_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    tokseq *t = ctx;

    (void)start; (void)end;
    if (flags & FR_TOKEN_COLOCATED)
        return 0;
    if (t->n == MAX_LHS) {
        t->over = 1;
        return 1;
    }
    t->v[t->n] = strndup(token, (size_t)len);
    return t->v[t->n++] ? 0 : -1;
}

static void free_toks(tokseq *t)
{
    while (t->n > 0)
        free(t->v[--t->n]);
}

static int add_node(pr_synonyms *s, const char *first, int r)
{
    strmap_entry *e;
    int added;

    if (s->nnodes == s->ncap) {
        int cap = s->ncap ? s->ncap * 2 : 64;
        node *nv = realloc(s->nodes, (size_t)cap * sizeof *nv);
        if (!nv)
            return -1;
        s->nodes = nv;
        s->ncap = cap;
    }
    e = strmap_put(&s->by_first, first, strlen(first), &added);
    if (!e)
        return -1;
    s->nodes[s->nnodes].rule = r;
    s->nodes[s->nnodes].next = added ? -1 : (int)e->n;
    e->n = s->nnodes++;
    return 0;
}

/* The rule for the left side LHS, created when new; -1 when LHS
 * analyses to nothing, -2 out of memory. */
static int rule_for(pr_synonyms *s, const char *lhs)
{
    tokseq a = {{0}, 0, 0}, f = {{0}, 0, 0};
    char *folded = fr_fold(lhs, (int)strlen(lhs));
    strmap_entry *e;
    pr_buf key;
    rule *r;
    int i, added, idx;

    if (!folded)
        return -2;
    fr_tokenize(s->tok, FR_MODE_QUERY, lhs, (int)strlen(lhs), take_token, &a);
    fr_tokenize(s->tok, FR_MODE_QUERY, folded, (int)strlen(folded), take_token, &f);
    free(folded);
    if (a.n == 0 || a.over) {
        free_toks(&a);
        free_toks(&f);
        return -1;
    }
    pr_buf_init(&key);
    for (i = 0; i < a.n; i++) {
        pr_buf_adds(&key, a.v[i]);
        pr_buf_addc(&key, '\x1f');
    }
    e = key.oom ? NULL : strmap_put(&s->by_lhs, key.p, key.len, &added);
    pr_buf_free(&key);
    if (!e || !added) {
        free_toks(&a);
        free_toks(&f);
        return e ? (int)e->n : -2;
    }
    if (s->nrules == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        rule *nv = realloc(s->rules, (size_t)cap * sizeof *nv);
        if (!nv) {
            free_toks(&a);
            free_toks(&f);
            return -2;
        }
        s->rules = nv;
        s->cap = cap;
    }
    idx = s->nrules++;
    e->n = idx;
    r = &s->rules[idx];
    memset(r, 0, sizeof *r);
    r->n = a.n;
    for (i = 0; i < a.n; i++) {
        r->tok[i][0] = a.v[i];
        r->tok[i][1] = (f.n == a.n) ? f.v[i] : NULL;
        if (f.n == a.n)
            f.v[i] = NULL;
    }
    free_toks(&f);
    if (add_node(s, r->tok[0][0], idx) != 0)
        return -2;
    if (r->tok[0][1] && strcmp(r->tok[0][1], r->tok[0][0]) && add_node(s, r->tok[0][1], idx) != 0)
        return -2;
    return idx;
}

/* LHS also finds ALT. Returns 0, or -1 out of memory. */
static int add_rule(pr_synonyms *s, const char *lhs, const char *alt)
{
    int r = rule_for(s, lhs), i;
    rule *ru;
    char **nv;

    if (r == -1)
        return 0;
    if (r < 0)
        return -1;
    ru = &s->rules[r];
    for (i = 0; i < ru->nalts; i++)
        if (!strcmp(ru->alts[i], alt))
            return 0;
    nv = realloc(ru->alts, (size_t)(ru->nalts + 1) * sizeof *nv);
    if (!nv)
        return -1;
    ru->alts = nv;
    ru->alts[ru->nalts] = strdup(alt);
    return ru->alts[ru->nalts] ? (ru->nalts++, 0) : -1;
}

/* ---- loading -------------------------------------------------------------- */

typedef struct loader {
    pr_synonyms *s;
    strmap overridden; /* keys the file speaks for */
    int pass;          /* 0: collect overrides, 1: add rules */
} loader;

static int note_key(loader *l, const char *text)
{
    char *k = term_key(text);
    int added, rc;

    if (!k)
        return -1;
    rc = strmap_put(&l->overridden, k, strlen(k), &added) ? 0 : -1;
    free(k);
    return rc;
}

static int on_line(void *ctx, line_kind kind, char **m, int n)
{
    loader *l = ctx;
    int i, j;

    if (l->pass == 0) {
        if (kind == LK_ONEWAY)
            n = 1;
        for (i = 0; i < n; i++)
            if (note_key(l, m[i]) != 0)
                return -1;
        return 0;
    }
    if (kind == LK_ONEWAY)
        return add_rule(l->s, m[0], m[1]);
    for (i = 0; kind == LK_GROUP && i < n; i++)
        for (j = 0; j < n; j++)
            if (i != j && add_rule(l->s, m[i], m[j]) != 0)
                return -1;
    return 0;
}

static char *meta_synonyms(sqlite3 *db)
{
    sqlite3_stmt *st;
    char *text = NULL;

    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'synonyms'", -1, &st, NULL) !=
        SQLITE_OK)
        return NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        text = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return text;
}

static const char learned_sql[] =
    "SELECT max(acronym), max(long_form), long_key, count(*) AS n FROM doc_acronyms"
    " GROUP BY lower(acronym), long_key ORDER BY lower(acronym), n DESC, long_key";

static int overridden(loader *l, const char *acr, const char *long_key)
{
    char *k = term_key(acr);
    int hit = k && (strmap_find(&l->overridden, k, strlen(k)) ||
                    strmap_find(&l->overridden, long_key, strlen(long_key)));

    free(k);
    return hit;
}

static int add_learned(loader *l, sqlite3 *db, pr_error *err)
{
    sqlite3_stmt *st;
    char last[64] = "";
    int rc = 0, kept = 0;

    if (sqlite3_prepare_v2(db, learned_sql, -1, &st, NULL) != SQLITE_OK)
        return pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(db));
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *acr = (const char *)sqlite3_column_text(st, 0);
        const char *lf = (const char *)sqlite3_column_text(st, 1);
        const char *key = (const char *)sqlite3_column_text(st, 2);
        if (!acr || !lf || !key)
            continue;
        if (strcasecmp(acr, last) != 0) {
            snprintf(last, sizeof last, "%s", acr);
            kept = 0;
        }
        if (kept >= MAX_LONG || overridden(l, acr, key))
            continue;
        kept++;
        rc = add_rule(l->s, acr, lf) || add_rule(l->s, lf, acr);
    }
    sqlite3_finalize(st);
    return rc ? pr_error_set(err, 0, 0, "out of memory") : 0;
}

pr_synonyms *pr_synonyms_load(sqlite3 *db, fr_tokenizer *tok, pr_error *err)
{
    pr_synonyms *s = calloc(1, sizeof *s);
    loader l;
    char *text = meta_synonyms(db);
    int rc = 0;

    if (!s) {
        free(text);
        pr_error_set(err, 0, 0, "out of memory");
        return NULL;
    }
    s->tok = tok;
    memset(&l, 0, sizeof l);
    l.s = s;
    strmap_init(&l.overridden);
    if (text) { /* a stored file was checked when stored: errors ignored */
        pr_error ignored;
        parse_text(text, on_line, &l, &ignored);
    }
    rc = add_learned(&l, db, err);
    l.pass = 1;
    if (rc == 0 && text) {
        pr_error ignored;
        parse_text(text, on_line, &l, &ignored);
    }
    strmap_free(&l.overridden);
    free(text);
    if (rc != 0) {
        pr_synonyms_free(s);
        return NULL;
    }
    return s;
}

void pr_synonyms_free(pr_synonyms *s)
{
    int i, j;

    if (!s)
        return;
    for (i = 0; i < s->nrules; i++) {
        for (j = 0; j < s->rules[i].n; j++) {
            free(s->rules[i].tok[j][0]);
            free(s->rules[i].tok[j][1]);
        }
        for (j = 0; j < s->rules[i].nalts; j++)
            free(s->rules[i].alts[j]);
        free(s->rules[i].alts);
    }
    free(s->rules);
    free(s->nodes);
    strmap_free(&s->by_lhs);
    strmap_free(&s->by_first);
    free(s);
}

int pr_synonyms_count(const pr_synonyms *s)
{
    return s ? s->nrules : 0;
}

static int same_token(const rule *r, int i, const char *t)
{
    return !strcmp(r->tok[i][0], t) || (r->tok[i][1] && !strcmp(r->tok[i][1], t));
}

int pr_synonyms_match(const pr_synonyms *s, const char *const *toks, int ntoks,
                      const char *const **alts, int *nalts)
{
    const strmap_entry *e;
    int k, best = 0;

    *alts = NULL;
    *nalts = 0;
    if (!s || ntoks <= 0 || !(e = strmap_find(&s->by_first, toks[0], strlen(toks[0]))))
        return 0;
    for (k = (int)e->n; k >= 0; k = s->nodes[k].next) {
        const rule *r = &s->rules[s->nodes[k].rule];
        int i;
        if (r->n > ntoks || r->n <= best || r->nalts == 0)
            continue;
        for (i = 0; i < r->n && same_token(r, i, toks[i]); i++)
            ;
        if (i == r->n) {
            best = r->n;
            *alts = (const char *const *)r->alts;
            *nalts = r->nalts;
        }
    }
    return best;
}

/* ---- listing ------------------------------------------------------------------ */

typedef struct lister {
    pr_pair_fn fn;
    void *ctx;
} lister;

static int list_line(void *ctx, line_kind kind, char **m, int n)
{
    lister *l = ctx;
    int i, j, rc = 0;

    if (kind == LK_CANCEL)
        return 0;
    if (kind == LK_ONEWAY)
        return l->fn(l->ctx, m[0], m[1], -1, "synonyms");
    for (i = 0; rc == 0 && i < n; i++)
        for (j = i + 1; rc == 0 && j < n; j++)
            rc = l->fn(l->ctx, m[i], m[j], -1, "synonyms");
    return rc;
}

int pr_synonyms_list(sqlite3 *db, pr_pair_fn fn, void *ctx, pr_error *err)
{
    loader l;
    lister li = {fn, ctx};
    sqlite3_stmt *st;
    char *text = meta_synonyms(db);
    int rc = 0;

    memset(&l, 0, sizeof l);
    strmap_init(&l.overridden);
    if (text)
        rc = parse_text(text, on_line, &l, err);
    if (rc == 0 && sqlite3_prepare_v2(db, learned_sql, -1, &st, NULL) != SQLITE_OK)
        rc = pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(db));
    else if (rc == 0) {
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            const char *acr = (const char *)sqlite3_column_text(st, 0);
            const char *lf = (const char *)sqlite3_column_text(st, 1);
            const char *key = (const char *)sqlite3_column_text(st, 2);
            if (acr && lf && key)
                rc = fn(ctx, acr, lf, sqlite3_column_int64(st, 3),
                        overridden(&l, acr, key) ? "cancelled" : "learned");
        }
        sqlite3_finalize(st);
    }
    if (rc == 0 && text)
        rc = parse_text(text, list_line, &li, err);
    strmap_free(&l.overridden);
    free(text);
    return rc;
}
