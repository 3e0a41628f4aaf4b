/*
 * query_parse.c - the query language of SPEC section 5, read defensively.
 *
 * Three passes over what the visitor typed:
 *   1. clean: invalid UTF-8 and control characters become spaces, Unicode
 *      spaces become ASCII ones, typographic quotes (“ ” « ») plain ones;
 *   2. lex: items (word, "phrase", -exclusion, OR, prefix*, key:value);
 *      anything that is not understood is a word, unbalanced quotes are
 *      ignored;
 *   3. build: words that the french tokenizer turns into no token at all
 *      are dropped, the rest are written as quoted FTS5 strings joined by
 *      operators the parser chose itself.
 * No global state: everything lives in the pr_query being built.
 */
#define _GNU_SOURCE /* memrchr */
#include "query_parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fts5_french.h"
#include "search_util.h"
#include "synonyms.h"

typedef enum item_type { IT_WORD, IT_PHRASE, IT_FILTER, IT_OR } item_type;

/* One lexed item; TEXT points into the cleaned copy of the query. */
typedef struct item {
    item_type type;
    int negated;
    int prefix;
    const char *text;
    size_t len;
    const char *key;   /* IT_FILTER: the key as typed */
    size_t keylen;
    int kept;          /* word/phrase: analyses to at least one token */
    int stems_only;    /* a prefix searched without its surface form */
} item;

typedef struct lexer {
    char *s;       /* cleaned query, NUL-terminated */
    size_t len;
    item *items;
    int nitems, cap;
} lexer;

/* ---- pass 1: clean ------------------------------------------------- */

static int is_unicode_space(unsigned cp)
{
    return cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000 || cp == 0xFEFF || cp == 0x1680 ||
           cp == 0x2028 || cp == 0x2029;
}

static int is_quote_like(unsigned cp)
{
    return cp == 0x201C || cp == 0x201D || cp == 0x201E || cp == 0xAB || cp == 0xBB;
}

/* The query with everything that is not plain text normalised away. */
static char *clean_query(const char *q, size_t n)
{
    const unsigned char *u = (const unsigned char *)q;
    pr_buf b;
    size_t i = 0;
    unsigned cp;
    int l;

    pr_buf_init(&b);
    while (i < n) {
        l = pr_utf8_char(u + i, n - i, &cp);
        if (l == 0) {
            pr_buf_addc(&b, ' ');
            i++;
            continue;
        }
        if (pr_is_control(cp) || is_unicode_space(cp))
            pr_buf_addc(&b, ' ');
        else if (is_quote_like(cp))
            pr_buf_addc(&b, '"');
        else
            pr_buf_add(&b, q + i, l);
        i += l;
    }
    return pr_buf_take(&b);
}

/* ---- pass 2: lex ---------------------------------------------------- */

static item *push_item(lexer *lx, item_type type, const char *text, size_t len)
{
    item *it;

    if (lx->nitems == lx->cap) {
        int cap = lx->cap ? lx->cap * 2 : 16;
        item *ni = realloc(lx->items, cap * sizeof *ni);
        if (!ni)
            return NULL;
        lx->items = ni;
        lx->cap = cap;
    }
    it = &lx->items[lx->nitems++];
    memset(it, 0, sizeof *it);
    it->type = type;
    it->text = text;
    it->len = len;
    return it;
}

static int ieq(const char *a, size_t alen, const char *b)
{
    size_t i;

    if (alen != strlen(b))
        return 0;
    for (i = 0; i < alen; i++)
        if (tolower((unsigned char)a[i]) != b[i])
            return 0;
    return 1;
}

/* The filter a key names, or -1 when KEY is no filter (then key:value is
 * an ordinary word). "year" maps to AFTER and is split later. */
static int filter_key(const char *key, size_t n, int *is_year)
{
    *is_year = 0;
    if (ieq(key, n, "tag") || ieq(key, n, "tags"))
        return PR_FILTER_TAG;
    if (ieq(key, n, "category") || ieq(key, n, "categorie") || ieq(key, n, "categories") ||
        ieq(key, n, "cat\xc3\xa9gorie"))
        return PR_FILTER_CATEGORY;
    if (ieq(key, n, "collection"))
        return PR_FILTER_COLLECTION;
    if (ieq(key, n, "after") || ieq(key, n, "apres") || ieq(key, n, "apr\xc3\xa8s"))
        return PR_FILTER_AFTER;
    if (ieq(key, n, "before") || ieq(key, n, "avant"))
        return PR_FILTER_BEFORE;
    if (ieq(key, n, "year") || ieq(key, n, "annee") || ieq(key, n, "ann\xc3\xa9" "e")) {
        *is_year = 1;
        return PR_FILTER_AFTER;
    }
    return -1;
}

static int is_space(char c)
{
    return c == ' ';
}

/*
 * A word starting at P: up to the next space, except that key:"quoted
 * value" runs to its closing quote. Sets *END past it; fills IT.
 */
static item *lex_word(lexer *lx, size_t p, size_t *end, int negated)
{
    const char *s = lx->s;
    size_t e = p, colon = 0, close;
    int is_year;
    item *it;

    while (e < lx->len && !is_space(s[e])) {
        if (s[e] == ':' && !colon)
            colon = e;
        e++;
    }
    if (colon > p && filter_key(s + p, colon - p, &is_year) >= 0 && colon + 1 < lx->len &&
        s[colon + 1] == '"') {
        const char *q = strchr(s + colon + 2, '"');
        if (q) {
            close = (size_t)(q - s);
            *end = close + 1;
            it = push_item(lx, IT_FILTER, s + colon + 2, close - colon - 2);
            if (it) {
                it->key = s + p;
                it->keylen = colon - p;
                it->negated = negated;
            }
            return it;
        }
    }
    *end = e;
    if (colon > p && colon + 1 < e && filter_key(s + p, colon - p, &is_year) >= 0) {
        size_t vs = colon + 1;
        if (s[vs] == '"') /* unbalanced quote: ignored */
            vs++;
        if (vs < e) {
            it = push_item(lx, IT_FILTER, s + vs, e - vs);
            if (it) {
                it->key = s + p;
                it->keylen = colon - p;
                it->negated = negated;
            }
            return it;
        }
    }
    if (!negated && e - p == 2 && s[p] == 'O' && s[p + 1] == 'R')
        return push_item(lx, IT_OR, s + p, 2);
    it = push_item(lx, IT_WORD, s + p, e - p);
    if (it) {
        it->negated = negated;
        while (it->len > 0 && it->text[it->len - 1] == '*') {
            it->len--;
            it->prefix = 1;
        }
    }
    return it;
}

/* Split the cleaned query into items. Returns 0, or -1 out of memory. */
static int lex(lexer *lx)
{
    const char *s = lx->s;
    size_t p = 0, end;
    int negated = 0;
    item *it;

    while (p < lx->len) {
        if (is_space(s[p])) {
            p++;
            negated = 0;
            continue;
        }
        if ((s[p] == '-' || s[p] == '+') && p + 1 < lx->len && !is_space(s[p + 1]) &&
            s[p + 1] != '-' && s[p + 1] != '+') {
            negated = s[p] == '-';
            p++;
        }
        if (s[p] == '"') {
            const char *q = strchr(s + p + 1, '"');
            if (!q) { /* unbalanced: ignore the quote, read on as words */
                p++;
                continue;
            }
            it = push_item(lx, IT_PHRASE, s + p + 1, (size_t)(q - s) - p - 1);
            if (!it)
                return -1;
            while (it->len > 0 && is_space(it->text[0])) { /* « cloud » */
                it->text++;
                it->len--;
            }
            while (it->len > 0 && is_space(it->text[it->len - 1]))
                it->len--;
            it->negated = negated;
            p = (size_t)(q - s) + 1;
            while (p < lx->len && s[p] == '*') {
                it->prefix = 1;
                p++;
            }
            negated = 0;
            continue;
        }
        end = p;
        while (end < lx->len && !is_space(s[end]))
            end++;
        /* Upper-case AND is what AND means anyway; NOT excludes what
         * follows. Both are operators only when alone between spaces. */
        if (!negated && end - p == 3 && (!strncmp(s + p, "AND", 3) || !strncmp(s + p, "NOT", 3))) {
            negated = s[p] == 'N';
            p = end;
            while (p < lx->len && is_space(s[p]))
                p++;
            continue;
        }
        if (!lex_word(lx, p, &end, negated))
            return -1;
        p = end;
        negated = 0;
    }
    return 0;
}

/* "3 500" typed with a space: one number, as the tokenizer reads it in
 * documents (SPEC 3.5). Merges a 1-3 digit word with following 3-digit
 * words (the text between them is a single space in the cleaned query). */
static int all_digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return n > 0;
}

static void merge_numbers(lexer *lx)
{
    int i = 0, j;

    while (i + 1 < lx->nitems) {
        item *a = &lx->items[i], *b = &lx->items[i + 1];
        size_t alen_last = a->len;
        const char *sp = memrchr(a->text, ' ', a->len);

        if (sp)
            alen_last = a->len - (size_t)(sp + 1 - a->text);
        if (a->type == IT_WORD && b->type == IT_WORD && !a->prefix && !b->negated &&
            (sp ? alen_last == 3 : (a->len >= 1 && a->len <= 3)) &&
            all_digits(a->text + a->len - alen_last, alen_last) && b->len == 3 &&
            all_digits(b->text, 3) && b->text == a->text + a->len + 1) {
            a->len += 1 + b->len;
            a->prefix = b->prefix;
            for (j = i + 1; j + 1 < lx->nitems; j++)
                lx->items[j] = lx->items[j + 1];
            lx->nitems--;
            continue;
        }
        i++;
    }
}

/* ---- pass 3: build -------------------------------------------------- */

static int count_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    (void)flags; (void)token; (void)len; (void)start; (void)end;
    ++*(int *)ctx;
    return 1; /* one is enough */
}

/* Non-zero when the text of IT analyses to at least one token. */
static int yields_tokens(fr_tokenizer *tok, const item *it)
{
    int n = 0;

    if (it->len == 0)
        return 0;
    fr_tokenize(tok, it->prefix ? FR_MODE_PREFIX : FR_MODE_QUERY, it->text, (int)it->len,
                count_token, &n);
    return n > 0;
}

/* Append IT as an FTS5 string: quotes doubled, control bytes blank (the
 * tokenizer splits on both; FTS5_FRENCH_STEMS_ONLY is ours alone). */
static void add_fts_string(pr_buf *b, const item *it)
{
    size_t i;

    pr_buf_addc(b, '"');
    for (i = 0; i < it->len; i++) {
        unsigned char c = (unsigned char)it->text[i];
        if (c == '"')
            pr_buf_addc(b, '"');
        pr_buf_addc(b, c < 0x20 ? ' ' : (char)c);
    }
    if (it->prefix && it->stems_only)
        pr_buf_addc(b, FTS5_FRENCH_STEMS_ONLY);
    pr_buf_adds(b, it->prefix ? "\" *" : "\"");
}

/* The tokens of a prefix's last word (FR_MODE_PREFIX): its forms, and
 * the surface form, given with FR_SURFACE_MARK. */
typedef struct prefix_forms {
    char v[4][256];
    int len[4], n, surface; /* surface: its index, or -1 */
    int bad;                /* a form too long, or too many */
} prefix_forms;

static int collect_prefix_form(void *ctx, int flags, const char *token, int len, int start,
                               int end)
{
    prefix_forms *pf = ctx;

    (void)start;
    (void)end;
    if (!(flags & FR_TOKEN_COLOCATED)) { /* a new word: the last one counts */
        pf->n = 0;
        pf->surface = -1;
        pf->bad = 0;
    }
    if (pf->n == 4 || len >= (int)sizeof pf->v[0] || len <= 0) {
        pf->bad = 1;
        return 0;
    }
    if (token[0] == FR_SURFACE_MARK)
        pf->surface = pf->n;
    memcpy(pf->v[pf->n], token, (size_t)len);
    pf->len[pf->n++] = len;
    return 0;
}

/* May the prefix IT be searched without its surface form (lim->stems_cover)? */
static int prefix_stems_only(fr_tokenizer *tok, const pr_query_limits *lim, const item *it)
{
    prefix_forms pf = {.surface = -1};
    const char *forms[4];
    int lens[4], n = 0, i;

    if (!it->prefix || !lim->stems_cover || it->len == 0 ||
        fr_tokenize(tok, FR_MODE_PREFIX, it->text, (int)it->len, collect_prefix_form, &pf) != 0 ||
        pf.bad || pf.surface < 0)
        return 0;
    for (i = 0; i < pf.n; i++)
        if (i != pf.surface) {
            forms[n] = pf.v[i];
            lens[n++] = pf.len[i];
        }
    return n > 0 && lim->stems_cover(lim->cover_ctx, pf.v[pf.surface] + 1,
                                     pf.len[pf.surface] - 1, forms, lens, n);
}

static int add_term_text(pr_query *q, const char *text, size_t len, int prefix, int phrase)
{
    pr_query_term *nt = realloc(q->terms, (q->nterms + 1) * sizeof *nt);

    if (!nt)
        return -1;
    q->terms = nt;
    nt[q->nterms].text = strndup(text, len);
    if (!nt[q->nterms].text)
        return -1;
    nt[q->nterms].prefix = prefix;
    nt[q->nterms].phrase = phrase;
    q->nterms++;
    return 0;
}

static int add_term(pr_query *q, const item *it)
{
    pr_query_term *nt = realloc(q->terms, (q->nterms + 1) * sizeof *nt);
    pr_query_term *t;

    if (!nt)
        return -1;
    q->terms = nt;
    t = &q->terms[q->nterms];
    t->text = strndup(it->text, it->len);
    if (!t->text)
        return -1;
    t->prefix = it->prefix;
    t->phrase = it->type == IT_PHRASE;
    q->nterms++;
    return 0;
}

static int push_filter(pr_query *q, pr_filter_kind kind, int negated, char *value)
{
    pr_filter *nf;

    if (!value)
        return -1;
    nf = realloc(q->filters, (q->nfilters + 1) * sizeof *nf);
    if (!nf) {
        free(value);
        return -1;
    }
    q->filters = nf;
    q->filters[q->nfilters].kind = kind;
    q->filters[q->nfilters].negated = negated;
    q->filters[q->nfilters].value = value;
    q->nfilters++;
    return 0;
}

/* A key:value item as a filter. Returns 1 when it became one, 0 when its
 * value does not fit (then it is read as a word), -1 out of memory. */
static int apply_filter(pr_query *q, const item *it)
{
    int is_year, kind = filter_key(it->key, it->keylen, &is_year);
    char a[11], b[11];

    if (kind == PR_FILTER_AFTER || kind == PR_FILTER_BEFORE) {
        if (it->negated)
            return 0;
        if (is_year) {
            if (it->len != 4 || !all_digits(it->text, 4))
                return 0;
            query_date_bound(it->text, 4, 0, a);
            query_date_bound(it->text, 4, 1, b);
            if (push_filter(q, PR_FILTER_AFTER, 0, strdup(a)) != 0 ||
                push_filter(q, PR_FILTER_BEFORE, 0, strdup(b)) != 0)
                return -1;
            return 1;
        }
        if (query_date_bound(it->text, it->len, kind == PR_FILTER_BEFORE, a) != 0)
            return 0;
        return push_filter(q, kind, 0, strdup(a)) == 0 ? 1 : -1;
    }
    return push_filter(q, kind, it->negated, fr_fold(it->text, (int)it->len)) == 0 ? 1 : -1;
}

/* Filters first: a filter whose value does not fit turns back into a word
 * (its text then includes the key, as typed). */
static int build_filters(pr_query *q, lexer *lx)
{
    int i, r;

    for (i = 0; i < lx->nitems; i++) {
        item *it = &lx->items[i];
        if (it->type != IT_FILTER)
            continue;
        r = apply_filter(q, it);
        if (r < 0)
            return -1;
        if (r == 0) {
            size_t end = (size_t)(it->text - lx->s) + it->len;
            it->type = IT_WORD;
            it->text = it->key;
            it->len = end - (size_t)(it->key - lx->s);
        }
    }
    return 0;
}

/* ---- expansion (synonyms.h) ----------------------------------------- */

enum { EXP_MAX_TOKS = 32 };

typedef struct exp_toks {
    char *v[EXP_MAX_TOKS];
    int item[EXP_MAX_TOKS]; /* which run item each token comes from */
    int n, cur;
} exp_toks;

static int take_exp_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    exp_toks *t = ctx;

    (void)start; (void)end;
    if (flags & FR_TOKEN_COLOCATED)
        return 0;
    if (t->n == EXP_MAX_TOKS)
        return 1;
    t->v[t->n] = strndup(token, (size_t)len);
    if (!t->v[t->n])
        return -1;
    t->item[t->n++] = t->cur;
    return 0;
}

static void free_exp_toks(exp_toks *t)
{
    while (t->n > 0)
        free(t->v[--t->n]);
}

/* An item a rule may cover: a plain positive word, alone in its group. */
static int expandable(const item *it)
{
    return it->type == IT_WORD && !it->prefix && !it->negated;
}

/* Append TEXT as an FTS5 string (quotes doubled). */
static void add_fts_text(pr_buf *b, const char *text)
{
    pr_buf_addc(b, '"');
    for (; *text; text++) {
        if (*text == '"')
            pr_buf_addc(b, '"');
        pr_buf_addc(b, *text);
    }
    pr_buf_addc(b, '"');
}

/*
 * The rule matching the run of single-item groups starting at group G
 * (items pos[g], pos[g+1], ... while expandable and not OR-linked): the
 * number of groups it covers (0: none), its alternatives in *ALTS.
 */
static int match_run(const pr_query_limits *lim, lexer *lx, fr_tokenizer *tok,
                     const int *pos, const int *linked, int g, int n,
                     const char *const **alts, int *nalts)
{
    exp_toks t;
    int k, used, groups = 0;

    memset(&t, 0, sizeof t);
    for (k = g; k < n && (k == g || !linked[k]) && !(k + 1 < n && linked[k + 1]) &&
                expandable(&lx->items[pos[k]]); k++) {
        t.cur = k - g;
        fr_tokenize(tok, FR_MODE_QUERY, lx->items[pos[k]].text, (int)lx->items[pos[k]].len,
                    take_exp_token, &t);
    }
    used = pr_synonyms_match(lim->syn, (const char *const *)t.v, t.n, alts, nalts);
    /* the rule must end where a word ends */
    if (used > 0 && (used == t.n || t.item[used] != t.item[used - 1]))
        groups = t.item[used - 1] + 1;
    free_exp_toks(&t);
    return groups;
}

/* "(literal OR "alt" ...)" for the groups [G, G+NG); the alternatives
 * become highlight terms too. Returns 0, or -1 out of memory. */
/* The NPHR-th FTS5 string written to match is a word as typed (LITERAL)
 * or an expansion. */
static void note_phrase(pr_query *q, int *nphr, int literal)
{
    if (literal && *nphr < 64)
        q->literal_phrases |= 1ULL << *nphr;
    if (*nphr < 64) {
        q->phrase_groups[*nphr] = (char)('A' + (q->ngroups < 60 ? q->ngroups : 60));
        q->phrase_groups[*nphr + 1] = '\0';
    }
    ++*nphr;
}

static int add_expanded(pr_query *q, pr_buf *b, lexer *lx, fr_tokenizer *tok, const int *pos,
                        int g, int ng, const char *const *alts, int nalts, int *nphr)
{
    int i, n = 0, mark_phr = *nphr;
    unsigned long long mark_lit = q->literal_phrases;

    pr_buf_adds(b, "((");
    for (i = g; i < g + ng; i++) {
        if (i > g)
            pr_buf_adds(b, " AND ");
        note_phrase(q, nphr, 1);
        add_fts_string(b, &lx->items[pos[i]]);
    }
    pr_buf_addc(b, ')');
    for (i = 0; i < nalts; i++) {
        item alt = {IT_PHRASE, 0, 0, alts[i], strlen(alts[i]), NULL, 0, 0, 0};
        if (!yields_tokens(tok, &alt))
            continue;
        pr_buf_adds(b, " OR ");
        note_phrase(q, nphr, 0);
        add_fts_text(b, alts[i]);
        if (add_term_text(q, alts[i], strlen(alts[i]), 0, 1) != 0)
            return -1;
        n++;
    }
    pr_buf_addc(b, ')');
    if (n == 0) { /* the caller writes the words as typed instead */
        *nphr = mark_phr;
        q->literal_phrases = mark_lit;
        if (mark_phr < 64)
            q->phrase_groups[mark_phr] = '\0';
    }
    return n;
}

/*
 * The required part: kept positive words and phrases, AND between groups,
 * OR inside a group. An OR item links the kept positive terms right
 * before and after it; anything else in between breaks the link.
 */
static int build_match(pr_query *q, lexer *lx, fr_tokenizer *tok, const pr_query_limits *lim)
{
    int *pos = malloc((lx->nitems + 1) * sizeof *pos); /* kept items */
    int *linked = malloc((lx->nitems + 1) * sizeof *linked);
    int i, n = 0, g, prev = -1, expanded = 0, nphr = 0;
    pr_buf b, lit;

    pr_buf_init(&b);
    pr_buf_init(&lit);
    if (!pos || !linked)
        b.oom = 1;
    for (i = 0; i < lx->nitems && !b.oom; i++) {
        item *it = &lx->items[i];
        if ((it->type != IT_WORD && it->type != IT_PHRASE) || it->negated)
            continue;
        it->kept = yields_tokens(tok, it);
        if (!it->kept) {
            q->dropped++;
            continue;
        }
        it->stems_only = prefix_stems_only(tok, lim, it);
        linked[n] = prev >= 0 && prev == i - 2 && lx->items[i - 1].type == IT_OR;
        pos[n++] = i;
        prev = i;
        if (add_term(q, it) != 0)
            b.oom = 1;
    }
    for (g = 0; g < n && !b.oom; ) {
        int e = g + 1, ng = 0, nalts = 0;
        const char *const *alts = NULL;
        if (lim->syn)
            ng = match_run(lim, lx, tok, pos, linked, g, n, &alts, &nalts);
        if (g > 0) {
            pr_buf_adds(&b, " AND ");
            pr_buf_adds(&lit, " AND ");
        }
        if (ng > 0) {
            size_t mark = b.len;
            int added = add_expanded(q, &b, lx, tok, pos, g, ng, alts, nalts, &nphr);
            if (added < 0)
                b.oom = 1;
            else if (added == 0) { /* nothing searchable: as typed */
                b.len = mark;
                b.p[mark] = '\0';
                ng = 0;
            } else {
                expanded = 1;
                q->ngroups++;
                for (i = g; i < g + ng; i++) {
                    if (i > g)
                        pr_buf_adds(&lit, " AND ");
                    add_fts_string(&lit, &lx->items[pos[i]]);
                }
                g += ng;
                continue;
            }
        }
        while (e < n && linked[e])
            e++;
        if (e - g > 1) {
            pr_buf_addc(&b, '(');
            pr_buf_addc(&lit, '(');
        }
        for (i = g; i < e; i++) {
            if (i > g) {
                pr_buf_adds(&b, " OR ");
                pr_buf_adds(&lit, " OR ");
            }
            note_phrase(q, &nphr, 1);
            add_fts_string(&b, &lx->items[pos[i]]);
            add_fts_string(&lit, &lx->items[pos[i]]);
        }
        if (e - g > 1) {
            pr_buf_addc(&b, ')');
            pr_buf_addc(&lit, ')');
        }
        q->ngroups++;
        g = e;
    }
    if (lit.oom)
        b.oom = 1;
    if (expanded && !b.oom) {
        q->literal = pr_buf_take(&lit);
        if (!q->literal)
            b.oom = 1;
    }
    pr_buf_free(&lit);
    free(pos);
    free(linked);
    if (b.oom) {
        pr_buf_free(&b);
        return -1;
    }
    if (n == 0)
        return 0;
    q->nwords = n;
    q->match = pr_buf_take(&b);
    return q->match ? 0 : -1;
}

/* Excluded words and phrases: any of them rules a document out. */
static int build_exclude(pr_query *q, lexer *lx, fr_tokenizer *tok)
{
    pr_buf b;
    int i, n = 0;

    pr_buf_init(&b);
    for (i = 0; i < lx->nitems; i++) {
        item *it = &lx->items[i];
        if ((it->type != IT_WORD && it->type != IT_PHRASE) || !it->negated)
            continue;
        if (!yields_tokens(tok, it))
            continue;
        if (n++)
            pr_buf_adds(&b, " OR ");
        add_fts_string(&b, it);
    }
    if (n == 0) {
        pr_buf_free(&b);
        return 0;
    }
    q->exclude = pr_buf_take(&b);
    return q->exclude ? 0 : -1;
}

static int count_terms(const lexer *lx)
{
    int i, n = 0;

    for (i = 0; i < lx->nitems; i++)
        if (lx->items[i].type != IT_OR)
            n++;
    return n;
}

/* As you type: the last word, when nothing follows it, is a prefix. */
static void mark_last_prefix(lexer *lx)
{
    item *last;

    if (lx->nitems == 0 || lx->len == 0 || is_space(lx->s[lx->len - 1]))
        return;
    last = &lx->items[lx->nitems - 1];
    if (last->type == IT_WORD && last->len > 0 && last->text + last->len == lx->s + lx->len)
        last->prefix = 1;
}

int query_parse(const char *q, size_t len, const pr_query_limits *lim,
                fr_tokenizer *tok, pr_query *out, pr_error *err)
{
    lexer lx;
    int rc = -1;

    memset(out, 0, sizeof *out);
    memset(&lx, 0, sizeof lx);
    if (lim->max_bytes > 0 && len > (size_t)lim->max_bytes)
        return pr_error_set(err, 0, 0, "query too long (max %d bytes)", lim->max_bytes);
    lx.s = clean_query(q ? q : "", q ? len : 0);
    if (!lx.s)
        return pr_error_set(err, 0, 0, "out of memory");
    lx.len = strlen(lx.s);
    if (lex(&lx) != 0)
        goto oom;
    merge_numbers(&lx);
    if (lim->max_terms > 0 && count_terms(&lx) > lim->max_terms) {
        pr_error_set(err, 0, 0, "too many terms (max %d)", lim->max_terms);
        goto fail;
    }
    if (lim->prefix)
        mark_last_prefix(&lx);
    if (build_filters(out, &lx) != 0 || build_match(out, &lx, tok, lim) != 0 ||
        build_exclude(out, &lx, tok) != 0)
        goto oom;
    rc = 0;
    goto done;
oom:
    pr_error_set(err, 0, 0, "out of memory");
fail:
    query_free(out);
done:
    free(lx.items);
    free(lx.s);
    return rc;
}

void query_free(pr_query *q)
{
    int i;

    if (!q)
        return;
    free(q->match);
    free(q->literal);
    free(q->exclude);
    for (i = 0; i < q->nfilters; i++)
        free(q->filters[i].value);
    free(q->filters);
    for (i = 0; i < q->nterms; i++)
        free(q->terms[i].text);
    free(q->terms);
    memset(q, 0, sizeof *q);
}

int query_add_filter(pr_query *q, pr_filter_kind kind, const char *value, pr_error *err)
{
    char d[11];
    size_t n = strlen(value);

    if (kind == PR_FILTER_AFTER || kind == PR_FILTER_BEFORE) {
        if (query_date_bound(value, n, kind == PR_FILTER_BEFORE, d) != 0)
            return pr_error_set(err, 0, 0, "bad date for %s: expected YYYY-MM-DD",
                                kind == PR_FILTER_AFTER ? "after" : "before");
        if (push_filter(q, kind, 0, strdup(d)) != 0)
            return pr_error_set(err, 0, 0, "out of memory");
        return 0;
    }
    if (push_filter(q, kind, 0, fr_fold(value, (int)n)) != 0)
        return pr_error_set(err, 0, 0, "out of memory");
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : d[m - 1];
}

int query_date_bound(const char *v, size_t n, int last, char out[11])
{
    int y, m = last ? 12 : 1, d = 1;

    if (n != 4 && n != 7 && n != 10)
        return -1;
    if (!all_digits(v, 4))
        return -1;
    y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
    if (n >= 7) {
        if (v[4] != '-' || !all_digits(v + 5, 2))
            return -1;
        m = (v[5] - '0') * 10 + (v[6] - '0');
        if (m < 1 || m > 12)
            return -1;
    }
    d = last ? days_in_month(y, m) : 1;
    if (n == 10) {
        if (v[7] != '-' || !all_digits(v + 8, 2))
            return -1;
        d = (v[8] - '0') * 10 + (v[9] - '0');
        if (d < 1 || d > days_in_month(y, m))
            return -1;
    }
    memcpy(out, v, 4); /* the year as typed: 4 digits */
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
    return 0;
}
