/*
 * lexicon.c - the derived tables of the index (see lexicon.h): words,
 * vocabulary with document frequencies, acronyms per page, body
 * fingerprints and near-duplicate groups.
 *
 * The vocabulary is counted in memory for a whole run (a hash map of
 * (folded word, displayed form) -> change in document frequency) and
 * written once at the end: one SQL upsert per distinct word instead of
 * one per word of every page. Each page counts once per folded word,
 * under the first form it uses, so subtracting a page's old text gives
 * back exactly what adding it gave. The indexer's parser threads count on
 * their word cache's entries (one per spelling, already in hand from
 * cutting the text: PR_FACTS_COUNT) and move the counts to the map once
 * per spelling, not once per word of every page.
 */
#include "lexicon.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "acronyms.h"
#include "fr_tokenizer.h"
#include "search_util.h"
#include "strmap.h"

/* ---- words ---------------------------------------------------------------- */

static int is_word_char(utf8proc_int32_t cp, int *letter, int *digit)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        *letter = 1;
        return 1;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return 1; /* combining accents belong to their letter */
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        *digit = 1;
        return 1;
    default:
        return 0;
    }
}

/* The display form of the word W (LEN bytes): lower-cased unless a
 * capital follows its first letter. */
static char *display_form(const char *w, int len)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)w;
    utf8proc_int32_t cp;
    utf8proc_ssize_t k;
    int i = 0, first = 1, inner_cap = 0;
    pr_buf b;

    while (i < len && (k = utf8proc_iterate(u + i, len - i, &cp)) > 0) {
        if (!first && utf8proc_isupper(cp))
            inner_cap = 1;
        first = 0;
        i += (int)k;
    }
    if (inner_cap)
        return strndup(w, (size_t)len);
    pr_buf_init(&b);
    for (i = 0; i < len && (k = utf8proc_iterate(u + i, len - i, &cp)) > 0; i += (int)k) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t e = utf8proc_encode_char(utf8proc_tolower(cp), enc);
        pr_buf_add(&b, (const char *)enc, (size_t)e);
    }
    return pr_buf_take(&b);
}

/*
 * The character at I (< LEN) of U, past ASCII: its length if it belongs
 * in a word (a letter, mark or digit; LETTER and DIGIT note which), else
 * minus its length. French accented letters are classified here, the
 * rest by utf8proc.
 */
static int word_char(const utf8proc_uint8_t *u, int i, int len, unsigned *letter,
                     unsigned *digit)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t k;
    int l = 0, d = 0;

    if (fr_latin1_letter(u, i, len)) {
        *letter = 1;
        return 2; /* what is_word_char() says of them */
    }
    k = utf8proc_iterate(u + i, len - i, &cp);
    if (k <= 0)
        return -1;
    if (!is_word_char(cp, &l, &d))
        return -(int)k;
    *letter |= (unsigned)l;
    *digit |= (unsigned)d;
    return (int)k;
}

/*
 * Call SPAN(CTX, START, END) for each word of TEXT: a run of letters,
 * marks and digits of at least two characters, with a letter and no
 * digit. Runs of ASCII go through fr_ascii_kind.
 */
typedef int (*span_fn)(void *ctx, const char *text, int start, int end);

static int cut_words(const char *text, int len, span_fn span, void *ctx)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)text;
    int i = 0, rc;

    while (i < len) {
        int start = i, nchars = 0, k = 0;
        unsigned kinds = 0, letter = 0, digit = 0;
        for (;;) {
            int run = i;
            while (i < len && u[i] < 0x80 && fr_ascii_kind[u[i]]) {
                kinds |= fr_ascii_kind[u[i]];
                i++;
            }
            nchars += i - run;
            if (i >= len)
                break;
            if (u[i] < 0x80) {
                k = -1; /* an ASCII separator */
                break;
            }
            if ((k = word_char(u, i, len, &letter, &digit)) < 0)
                break;
            i += k;
            nchars++;
        }
        letter |= (kinds & FR_K_LETTER) != 0;
        digit |= (kinds & FR_K_DIGIT) != 0;
        if (nchars >= 2 && letter && !digit && (rc = span(ctx, text, start, i)) != 0)
            return rc;
        if (k < 0)
            i -= k; /* the separator */
    }
    return 0;
}

typedef struct word_call {
    pr_word_fn fn;
    void *ctx;
} word_call;

static int fold_and_call(void *ctx, const char *text, int start, int end)
{
    word_call *c = ctx;
    char *folded = fr_fold(text + start, end - start);
    char *form = display_form(text + start, end - start);
    int rc = folded && form ? c->fn(c->ctx, folded, form, start, end) : -1;

    free(folded);
    free(form);
    return rc;
}

int pr_words(const char *text, int len, pr_word_fn fn, void *ctx)
{
    word_call c = {fn, ctx};

    return text && len > 0 ? cut_words(text, len, fold_and_call, &c) : 0;
}

static uint64_t fnv(const char *s)
{
    return strmap_hash(s, strlen(s));
}

/* ---- the lexer: words with a cache of their folded forms ------------------- */

/* A word as written -> its folded and display forms. TEXT holds the word
 * as written, then folded, then form, each NUL-terminated; blocks never
 * move, so pr_word values point into them until the cache is reset. */
typedef struct lex_block {
    long long pages; /* pages counted under this spelling (PR_FACTS_COUNT) */
    char text[];
} lex_block;

typedef struct lex_entry {
    uint64_t h;     /* hash of the word as written */
    lex_block *block; /* NULL: empty slot */
    int rlen, flen, mlen, stop;
    uint64_t fh;    /* fnv(folded) */
} lex_entry;

enum { LEX_MAX_ENTRIES = 1 << 20 }; /* reset beyond this (between texts) */

struct pr_lexer {
    lex_entry *v;
    size_t cap, len;
    pr_word *words;     /* the words of the texts being cut */
    int nwords, capwords;
    /* per page: folded words seen (open addressing, stamped) */
    struct seen_slot { uint64_t h; const char *folded; unsigned gen; } *seen;
    size_t seen_cap;
    unsigned gen;
    int oom;
    size_t max_entries;     /* reset the cache beyond this (between texts) */
    pr_vocab_delta *counts; /* pr_lexer_count_into() */
    size_t counted;         /* entries whose pages are not 0 */
};

pr_lexer *pr_lexer_new(void)
{
    pr_lexer *lx = calloc(1, sizeof(pr_lexer));

    if (lx)
        lx->max_entries = LEX_MAX_ENTRIES;
    return lx;
}

void pr_lexer_set_max_entries(pr_lexer *lx, size_t n)
{
    lx->max_entries = n;
}

static void lexer_reset(pr_lexer *lx)
{
    size_t i;

    for (i = 0; i < lx->cap; i++)
        free(lx->v[i].block);
    if (lx->v)
        memset(lx->v, 0, lx->cap * sizeof *lx->v);
    lx->len = 0;
}

void pr_lexer_free(pr_lexer *lx)
{
    if (!lx)
        return;
    lexer_reset(lx);
    free(lx->v);
    free(lx->words);
    free(lx->seen);
    free(lx);
}

static int lexer_grow(pr_lexer *lx)
{
    size_t cap = lx->cap ? lx->cap * 2 : 4096, i, j;
    lex_entry *v = calloc(cap, sizeof *v);

    if (!v)
        return -1;
    for (i = 0; i < lx->cap; i++) {
        if (!lx->v[i].block)
            continue;
        for (j = lx->v[i].h & (cap - 1); v[j].block; j = (j + 1) & (cap - 1))
            ;
        v[j] = lx->v[i];
    }
    free(lx->v);
    lx->v = v;
    lx->cap = cap;
    return 0;
}

/* The cache entry of the word W (N bytes, hash H), made on a miss. */
static const lex_entry *lexer_entry(pr_lexer *lx, const char *w, int n, uint64_t h)
{
    lex_entry *e;
    char *folded, *form;
    size_t i;

    if ((lx->len + 1) * 2 > lx->cap && lexer_grow(lx) != 0)
        return NULL;
    for (i = h & (lx->cap - 1); lx->v[i].block; i = (i + 1) & (lx->cap - 1))
        if (lx->v[i].h == h && lx->v[i].rlen == n && !memcmp(lx->v[i].block->text, w, (size_t)n))
            return &lx->v[i];
    e = &lx->v[i];
    folded = fr_fold(w, n);
    form = display_form(w, n);
    if (folded && form) {
        int flen = (int)strlen(folded), mlen = (int)strlen(form);
        e->block = malloc(sizeof *e->block + (size_t)n + (size_t)flen + (size_t)mlen + 3);
        if (e->block) {
            char *t = e->block->text;
            e->block->pages = 0;
            memcpy(t, w, (size_t)n);
            t[n] = '\0';
            memcpy(t + n + 1, folded, (size_t)flen + 1);
            memcpy(t + n + 1 + flen + 1, form, (size_t)mlen + 1);
            e->h = h;
            e->rlen = n;
            e->flen = flen;
            e->mlen = mlen;
            e->stop = fr_is_stopword(folded, flen);
            e->fh = fnv(folded);
            lx->len++;
        }
    }
    free(folded);
    free(form);
    return e->block ? e : NULL;
}

/* Append the word TEXT[start, end) to lx->words, its hash in fh for now
 * (lexer_resolve fills in the rest). */
static int lexer_span(void *ctx, const char *text, int start, int end)
{
    pr_lexer *lx = ctx;
    pr_word *w;

    if (lx->nwords == lx->capwords) {
        int cap = lx->capwords ? lx->capwords * 2 : 1024;
        pr_word *nv = realloc(lx->words, (size_t)cap * sizeof *nv);
        if (!nv)
            return lx->oom = -1;
        lx->words = nv;
        lx->capwords = cap;
    }
    w = &lx->words[lx->nwords++];
    w->start = start;
    w->end = end;
    w->fh = fr_hash_bytes(text + start, end - start);
    return 0;
}

/* How far ahead lexer_resolve asks for a word's slot, then its block. */
enum { LEX_AHEAD_SLOT = 8, LEX_AHEAD_BLOCK = 4 };

/*
 * Fill in the words lx->words[from..] of TEXT from the cache. Most of the
 * time of a lookup is waiting for memory (a page's rare words are far
 * apart in the table, then in their blocks), so the slot of the word
 * LEX_AHEAD_SLOT places ahead and the block of the word LEX_AHEAD_BLOCK
 * ahead are requested before the current word is looked up: the waits
 * overlap instead of adding up.
 */
static int lexer_resolve(pr_lexer *lx, const char *text, int from)
{
    int i, n = lx->nwords;

    for (i = from; i < n; i++) {
        pr_word *w = &lx->words[i];
        const lex_entry *e;
        if (lx->cap > 0 && i + LEX_AHEAD_SLOT < n)
            __builtin_prefetch(&lx->v[lx->words[i + LEX_AHEAD_SLOT].fh & (lx->cap - 1)]);
        if (lx->cap > 0 && i + LEX_AHEAD_BLOCK < n) {
            const lex_entry *ahead = &lx->v[lx->words[i + LEX_AHEAD_BLOCK].fh & (lx->cap - 1)];
            if (ahead->block)
                __builtin_prefetch(ahead->block);
        }
        e = lexer_entry(lx, text + w->start, w->end - w->start, w->fh);
        if (!e)
            return lx->oom = -1;
        w->folded = e->block->text + e->rlen + 1;
        w->pages = &e->block->pages;
        w->form = w->folded + e->flen + 1;
        w->flen = e->flen;
        w->mlen = e->mlen;
        w->stop = e->stop;
        w->fh = e->fh;
    }
    return 0;
}

/* Cut TEXT and append its words to lx->words; -1 out of memory. */
static int lexer_cut(pr_lexer *lx, const char *text, int len)
{
    int from = lx->nwords;

    if (!text || len <= 0)
        return 0;
    return cut_words(text, len, lexer_span, lx) || lexer_resolve(lx, text, from) ? -1 : 0;
}

/* Non-zero the first time this page meets the folded word W. */
static int first_on_page(pr_lexer *lx, const pr_word *w)
{
    size_t i;

    for (i = w->fh & (lx->seen_cap - 1); lx->seen[i].gen == lx->gen;
         i = (i + 1) & (lx->seen_cap - 1))
        if (lx->seen[i].h == w->fh && !strcmp(lx->seen[i].folded, w->folded))
            return 0;
    lx->seen[i].gen = lx->gen;
    lx->seen[i].h = w->fh;
    lx->seen[i].folded = w->folded;
    return 1;
}

/* ---- SimHash ---------------------------------------------------------------- */

/* Bit I of byte X in byte lane I: counting the bits of 8 words at once. */
#define SPREAD(x)                                                                         \
    ((((x) >> 0 & 1ULL) << 0) | (((x) >> 1 & 1ULL) << 8) | (((x) >> 2 & 1ULL) << 16) |      \
     (((x) >> 3 & 1ULL) << 24) | (((x) >> 4 & 1ULL) << 32) | (((x) >> 5 & 1ULL) << 40) |    \
     (((x) >> 6 & 1ULL) << 48) | (((x) >> 7 & 1ULL) << 56))
#define SPREAD4(b) SPREAD(b), SPREAD(b + 1), SPREAD(b + 2), SPREAD(b + 3)
#define SPREAD16(b) SPREAD4(b), SPREAD4(b + 4), SPREAD4(b + 8), SPREAD4(b + 12)
#define SPREAD64(b) SPREAD16(b), SPREAD16(b + 16), SPREAD16(b + 32), SPREAD16(b + 48)
static const uint64_t spread[256] = {SPREAD64(0), SPREAD64(64), SPREAD64(128), SPREAD64(192)};

/*
 * The SimHash of a text: bit B is set when more of its shingles' hashes
 * have bit B set than not. ONES counts the set bits; ACC counts them
 * 8 bits at a time in byte lanes, folded into ONES before a lane can
 * overflow.
 */
typedef struct shingler {
    uint64_t h[3];   /* hashes of the last three words */
    int n;           /* words */
    int ones[64];
    uint64_t acc[8];
    int pending;     /* shingles in ACC */
} shingler;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void fold_acc(shingler *s)
{
    int k, i;

    for (k = 0; k < 8; k++) {
        for (i = 0; i < 8; i++)
            s->ones[8 * k + i] += (int)(s->acc[k] >> (8 * i) & 0xff);
        s->acc[k] = 0;
    }
    s->pending = 0;
}

/* The next word, by the FNV hash FH of its folded form. */
static void shingle(shingler *s, uint64_t fh)
{
    uint64_t h;
    int k;

    s->h[0] = s->h[1];
    s->h[1] = s->h[2];
    s->h[2] = fh;
    if (++s->n < 3)
        return;
    h = mix(s->h[0] ^ mix(s->h[1] ^ mix(s->h[2])));
    for (k = 0; k < 8; k++)
        s->acc[k] += spread[h >> (8 * k) & 0xff];
    if (++s->pending == 255)
        fold_acc(s);
}

static uint64_t shingles_hash(shingler *s)
{
    uint64_t out = 0;
    int b, shingles = s->n - 2;

    if (s->n < PR_SIMHASH_MIN_WORDS)
        return 0;
    fold_acc(s);
    for (b = 0; b < 64; b++)
        if (2 * s->ones[b] > shingles) /* more ones than zeros */
            out |= 1ULL << b;
    return out ? out : 1; /* 0 means "no fingerprint" */
}

static int shingle_word(void *ctx, const char *folded, const char *form, int start, int end)
{
    (void)form; (void)start; (void)end;
    shingle(ctx, fnv(folded));
    return 0;
}

uint64_t pr_simhash(const char *text, int len)
{
    shingler s;

    memset(&s, 0, sizeof s);
    if (pr_words(text, len, shingle_word, &s) != 0)
        return 0;
    return shingles_hash(&s);
}

/* ---- a page's facts ---------------------------------------------------------- */

static int facts_add(pr_buf *b, const char *s, size_t n)
{
    pr_buf_add(b, s, n);
    pr_buf_addc(b, '\0');
    return b->oom ? -1 : 0;
}

static int facts_acronym(void *ctx, const char *acronym, const char *long_form, const char *key)
{
    pr_page_facts *f = ctx;
    pr_buf *b = (pr_buf *)f->priv;

    f->nacronyms++;
    return facts_add(&b[1], acronym, strlen(acronym)) || facts_add(&b[1], long_form, strlen(long_form)) ||
                   facts_add(&b[1], key, strlen(key))
               ? -1
               : 0;
}

/* What the vocabulary counts of the words lx->words[from..]: each folded
 * word once per page (under its first form), stop words left out. COUNT:
 * counted on the spelling's cache entry (PR_FACTS_COUNT), else listed. */
static int facts_words(pr_lexer *lx, pr_page_facts *f, pr_buf *b, int from, int count)
{
    int i;

    for (i = from; i < lx->nwords; i++) {
        const pr_word *w = &lx->words[i];
        if (w->stop || w->flen + w->mlen + 2 > PR_VOCAB_KEY_MAX || !first_on_page(lx, w))
            continue;
        if (count) {
            if ((*w->pages)++ == 0)
                lx->counted++;
            continue;
        }
        pr_buf_add(b, w->folded, (size_t)w->flen);
        pr_buf_addc(b, '\t');
        if (facts_add(b, w->form, (size_t)w->mlen) != 0)
            return -1;
        f->nwords++;
    }
    return 0;
}

int pr_page_facts_compute(pr_lexer *lx, const char *const text[PR_FACT_COLS],
                          const int len[PR_FACT_COLS], int what, pr_page_facts *f)
{
    pr_buf b[2];
    shingler sh;
    int col, rc = 0;

    memset(f, 0, sizeof *f);
    if ((what & PR_FACTS_COUNT) && !lx->counts)
        return -1;
    if (lx->len > lx->max_entries) {
        if (lx->counted > 0 && pr_lexer_flush_counts(lx) != 0)
            return -1;
        lexer_reset(lx);
    }
    pr_buf_init(&b[0]);
    pr_buf_init(&b[1]);
    f->priv = b;
    /* one page at most has as many distinct words as words: size the
     * "seen" set from the text lengths (a word takes 2 bytes or more) */
    {
        size_t need = 64, total = 0;
        for (col = 0; col < PR_FACT_COLS; col++)
            total += len[col] > 0 ? (size_t)len[col] : 0;
        while (need < total + 16)
            need *= 2;
        if (need > lx->seen_cap) {
            free(lx->seen);
            lx->seen = calloc(need, sizeof *lx->seen);
            lx->seen_cap = lx->seen ? need : 0;
            lx->gen = 0;
            if (!lx->seen)
                rc = -1;
        }
    }
    if (++lx->gen == 0) { /* wrapped: forget the stamps */
        memset(lx->seen, 0, lx->seen_cap * sizeof *lx->seen);
        lx->gen = 1;
    }
    memset(&sh, 0, sizeof sh);
    for (col = 0; rc == 0 && col < PR_FACT_COLS; col++) {
        int i;
        lx->nwords = 0;
        rc = lexer_cut(lx, text[col], len[col]);
        if (rc == 0)
            rc = facts_words(lx, f, &b[0], 0, what & PR_FACTS_COUNT);
        if (!(what & PR_FACTS_ALL))
            continue;
        if (rc == 0 && col < 4 && lx->nwords > 0) /* title, headings, chapeau, body */
            rc = pr_acronyms_learn_words(text[col], len[col], lx->words, lx->nwords, facts_acronym, f);
        if (col == 2 || col == 3) /* chapeau + body: what a copy shares */
            for (i = 0; i < lx->nwords; i++)
                shingle(&sh, lx->words[i].fh);
    }
    lx->nwords = 0;
    f->simhash = shingles_hash(&sh);
    f->priv = NULL;
    if (rc != 0 || lx->oom) {
        lx->oom = 0;
        pr_buf_free(&b[0]);
        pr_buf_free(&b[1]);
        memset(f, 0, sizeof *f);
        return -1;
    }
    f->words = pr_buf_take(&b[0]);
    f->acronyms = pr_buf_take(&b[1]);
    return f->words && f->acronyms ? 0 : (pr_page_facts_free(f), -1);
}

void pr_page_facts_free(pr_page_facts *f)
{
    if (!f)
        return;
    free(f->words);
    free(f->acronyms);
    memset(f, 0, sizeof *f);
}

/* ---- the derived tables --------------------------------------------------- */

enum { DS_TEXT, DS_DEL_ACR, DS_ADD_ACR, DS_SIMHASH, DS_VOCAB, DS_VOCAB_GONE, DS_NSTMT };

static const char *const derived_sql[DS_NSTMT] = {
    [DS_TEXT] = "SELECT title, headings, chapeau, body, taxonomy FROM documents WHERE id = ?",
    [DS_DEL_ACR] = "DELETE FROM doc_acronyms WHERE doc_id = ?",
    [DS_ADD_ACR] = "INSERT OR IGNORE INTO doc_acronyms(doc_id, acronym, long_form, long_key)"
                   " VALUES (?, ?, ?, ?)",
    [DS_SIMHASH] = "UPDATE documents SET simhash = ? WHERE id = ?",
    [DS_VOCAB] = "INSERT INTO vocab(term, form, df) VALUES (?, ?, ?)"
                 " ON CONFLICT(term, form) DO UPDATE SET df = df + excluded.df",
    [DS_VOCAB_GONE] = "DELETE FROM vocab WHERE term = ? AND form = ? AND df <= 0",
};

struct pr_vocab_delta {
    strmap m; /* "folded\tform" -> change of df */
};

struct pr_derived {
    sqlite3 *db;
    sqlite3_stmt *st[DS_NSTMT];
    pr_lexer *lexer;    /* for the pages read back from the index */
    pr_vocab_delta run; /* the vocabulary's changes */
    int changed;        /* pages were added, changed or removed */
};

pr_derived *pr_derived_new(sqlite3 *db)
{
    pr_derived *d = calloc(1, sizeof *d);
    int i;

    if (!d)
        return NULL;
    d->db = db;
    d->lexer = pr_lexer_new();
    if (!d->lexer) {
        free(d);
        return NULL;
    }
    for (i = 0; i < DS_NSTMT; i++)
        if (sqlite3_prepare_v2(db, derived_sql[i], -1, &d->st[i], NULL) != SQLITE_OK) {
            pr_derived_free(d);
            return NULL;
        }
    return d;
}

void pr_derived_free(pr_derived *d)
{
    int i;

    if (!d)
        return;
    for (i = 0; i < DS_NSTMT; i++)
        sqlite3_finalize(d->st[i]);
    pr_lexer_free(d->lexer);
    strmap_free(&d->run.m);
    free(d);
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

pr_vocab_delta *pr_vocab_delta_new(void)
{
    return calloc(1, sizeof(pr_vocab_delta));
}

void pr_vocab_delta_free(pr_vocab_delta *v)
{
    if (v) {
        strmap_free(&v->m);
        free(v);
    }
}

static int delta_add(strmap *m, const char *key, size_t n, long long by)
{
    int added;
    strmap_entry *e = strmap_put(m, key, n, &added);

    if (!e)
        return -1;
    e->n += by;
    return 0;
}

int pr_lexer_flush_counts(pr_lexer *lx)
{
    char key[PR_VOCAB_KEY_MAX];
    size_t i;

    for (i = 0; i < lx->cap && lx->counted > 0; i++) {
        lex_entry *e = &lx->v[i];
        const char *folded;
        if (!e->block || e->block->pages == 0)
            continue;
        folded = e->block->text + e->rlen + 1;
        memcpy(key, folded, (size_t)e->flen); /* facts_words() kept them short */
        key[e->flen] = '\t';
        memcpy(key + e->flen + 1, folded + e->flen + 1, (size_t)e->mlen);
        if (delta_add(&lx->counts->m, key, (size_t)(e->flen + 1 + e->mlen), e->block->pages) != 0)
            return -1;
        e->block->pages = 0;
        lx->counted--;
    }
    return 0;
}

void pr_lexer_count_into(pr_lexer *lx, pr_vocab_delta *v)
{
    lx->counts = v;
}

int pr_vocab_delta_count(pr_vocab_delta *v, const pr_page_facts *f, int sign)
{
    const char *p = f->words;
    int i;

    for (i = 0; i < f->nwords; i++) {
        size_t n = strlen(p);
        if (delta_add(&v->m, p, n, sign) != 0)
            return -1;
        p += n + 1;
    }
    return 0;
}

int pr_derived_merge(pr_derived *d, const pr_vocab_delta *v, pr_error *err)
{
    size_t i;

    for (i = 0; i < v->m.cap; i++) {
        const strmap_entry *e = &v->m.v[i];
        if (e->key && e->n && delta_add(&d->run.m, e->key, e->len, e->n) != 0)
            return pr_error_set(err, 0, 0, "out of memory");
    }
    return 0;
}

int pr_derived_add(pr_derived *d, sqlite3_int64 id, int fresh, const pr_page_facts *f,
                   pr_error *err)
{
    sqlite3_stmt *st = d->st[DS_ADD_ACR];
    const char *p = f->acronyms;
    int i, rc;

    d->changed = 1;
    sqlite3_bind_int64(d->st[DS_DEL_ACR], 1, id);
    rc = fresh ? 0 : step_done(d->st[DS_DEL_ACR]);
    for (i = 0; rc == 0 && i < f->nacronyms; i++) {
        const char *lf = p + strlen(p) + 1, *key = lf + strlen(lf) + 1;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, p, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, lf, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
        rc = step_done(st);
        p = key + strlen(key) + 1;
    }
    if (rc != 0)
        return pr_error_set(err, 0, 0, "index write failed (vocabulary): %s",
                            sqlite3_errmsg(d->db));
    return 0;
}

int pr_derived_doc(pr_derived *d, sqlite3_int64 id, int sign, pr_error *err)
{
    sqlite3_stmt *st = d->st[DS_TEXT];
    const char *text[PR_FACT_COLS];
    int len[PR_FACT_COLS], col, rc;
    pr_page_facts f;

    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return 0; /* not there: nothing to count */
    }
    for (col = 0; col < PR_FACT_COLS; col++) {
        text[col] = (const char *)sqlite3_column_text(st, col);
        len[col] = sqlite3_column_bytes(st, col);
    }
    rc = pr_page_facts_compute(d->lexer, text, len, sign > 0 ? PR_FACTS_ALL : 0, &f);
    sqlite3_reset(st);
    if (rc != 0)
        return pr_error_set(err, 0, 0, "out of memory");
    d->changed = 1;
    if (pr_vocab_delta_count(&d->run, &f, sign) != 0) {
        rc = pr_error_set(err, 0, 0, "out of memory");
    } else if (sign > 0) {
        rc = pr_derived_add(d, id, 0, &f, err);
        if (rc == 0) {
            if (f.simhash)
                sqlite3_bind_int64(d->st[DS_SIMHASH], 1, (sqlite3_int64)f.simhash);
            else
                sqlite3_bind_null(d->st[DS_SIMHASH], 1);
            sqlite3_bind_int64(d->st[DS_SIMHASH], 2, id);
            if (step_done(d->st[DS_SIMHASH]) != 0)
                rc = pr_error_set(err, 0, 0, "index write failed (vocabulary): %s",
                                  sqlite3_errmsg(d->db));
        }
    }
    pr_page_facts_free(&f);
    return rc;
}

static int flush_vocab(pr_derived *d, pr_error *err)
{
    sqlite3_stmt *st = d->st[DS_VOCAB];
    size_t i;

    for (i = 0; i < d->run.m.cap; i++) {
        const strmap_entry *e = &d->run.m.v[i];
        const char *tab;
        if (!e->key || e->n == 0)
            continue;
        tab = strchr(e->key, '\t');
        sqlite3_bind_text(st, 1, e->key, (int)(tab - e->key), SQLITE_STATIC);
        sqlite3_bind_text(st, 2, tab + 1, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, e->n);
        if (step_done(st) != 0)
            return pr_error_set(err, 0, 0, "index write failed (vocabulary): %s",
                                sqlite3_errmsg(d->db));
        if (e->n > 0)
            continue;
        /* only a word that lost pages can have left the vocabulary */
        sqlite3_bind_text(d->st[DS_VOCAB_GONE], 1, e->key, (int)(tab - e->key), SQLITE_STATIC);
        sqlite3_bind_text(d->st[DS_VOCAB_GONE], 2, tab + 1, -1, SQLITE_STATIC);
        if (step_done(d->st[DS_VOCAB_GONE]) != 0)
            return pr_error_set(err, 0, 0, "index write failed (vocabulary): %s",
                                sqlite3_errmsg(d->db));
    }
    strmap_clear(&d->run.m);
    return 0;
}

/* ---- near-duplicate groups ------------------------------------------------ */

typedef struct fp {
    sqlite3_int64 id;
    uint64_t h;
    int has_h;     /* the page has a fingerprint */
    char *title;   /* fr_fold()ed */
} fp;

static int cmp_title(const void *pa, const void *pb)
{
    const fp *a = pa, *b = pb;
    int c = strcmp(a->title, b->title);

    return c ? c : (a->id < b->id ? -1 : a->id > b->id);
}

static int find_root(int *parent, int i)
{
    while (parent[i] != i)
        i = parent[i] = parent[parent[i]];
    return i;
}

static void join(int *parent, int a, int b)
{
    int ra = find_root(parent, a), rb = find_root(parent, b);

    if (ra != rb)
        parent[ra > rb ? ra : rb] = ra < rb ? ra : rb;
}

/* Pages with the same folded title are the same page published twice
 * (the search shows them once, whatever their dates). ALL[].id is
 * replaced by the index into ALL, BAND is scratch. */
static void join_titles(fp *all, fp *band, int n, int *parent)
{
    int i, j;

    for (i = 0; i < n; i++) {
        band[i] = all[i];
        band[i].id = i;
    }
    qsort(band, (size_t)n, sizeof *band, cmp_title);
    for (i = 0; i < n; i = j)
        for (j = i + 1; j < n && !strcmp(band[j].title, band[i].title); j++)
            join(parent, (int)band[i].id, (int)band[j].id);
}

/* Buckets of one 16-bit band of the fingerprints (join_near()). */
#define NBUCKETS 65536
_Static_assert(PR_SIMHASH_MAX_BITS < 8, "join_near() needs 4 bands x 2 bits > PR_SIMHASH_MAX_BITS");

static unsigned band_of(uint64_t h, int b)
{
    return (unsigned)(h >> (16 * b)) & (NBUCKETS - 1);
}

/* The leaders met so far, filed by each of their 4 bands: bucket K of
 * band B is HEAD[B][K], then NEXT[B][that leader], ... (-1 ends). */
typedef struct leader_table {
    int *head[4], *next[4];
} leader_table;

/* The leader nearest H within PR_SIMHASH_MAX_BITS (the smaller page among
 * equals), or -1. Two such fingerprints are equal or one bit apart in
 * some band (4 x 2 > 7): each band's bucket and its 16 neighbours hold
 * every candidate. */
static int nearest_leader(const leader_table *t, const fp *all, uint64_t h)
{
    int best = -1, bestd = PR_SIMHASH_MAX_BITS + 1, b, bit, l;

    for (b = 0; b < 4; b++)
        for (bit = -1; bit < 16; bit++) {
            unsigned k = band_of(h, b) ^ (bit < 0 ? 0u : 1u << bit);
            for (l = t->head[b][k]; l >= 0; l = t->next[b][l]) {
                int d = __builtin_popcountll(h ^ all[l].h);
                if (d < bestd || (d == bestd && l < best)) {
                    best = l;
                    bestd = d;
                }
            }
        }
    return best;
}

/*
 * Pages with near-identical bodies: in page order, a page whose
 * fingerprint is within PR_SIMHASH_MAX_BITS (7) of an earlier group
 * leader's joins the nearest one; any other page leads a group of its
 * own. Joining every near pair instead chains: on the 100k bench corpus
 * (bodies mixed from the same paragraphs) 14,913 pages made one group,
 * most of them 30 bits or more from each other, and a query matching any
 * of them showed one hit. Here a group's pages are within 7 bits of its
 * leader, so within 14 of each other. About 100 comparisons per page at
 * 100k pages. Returns 0, or -1 out of memory.
 */
static int join_near(const fp *all, int n, int *parent)
{
    leader_table t = {{0}, {0}};
    int b, i, l, rc = 0;

    for (b = 0; b < 4 && rc == 0; b++) {
        t.head[b] = malloc(NBUCKETS * sizeof *t.head[b]);
        t.next[b] = malloc((size_t)(n ? n : 1) * sizeof *t.next[b]);
        if (!t.head[b] || !t.next[b])
            rc = -1;
        else
            memset(t.head[b], 0xff, NBUCKETS * sizeof *t.head[b]); /* -1 */
    }
    for (i = 0; i < n && rc == 0; i++) {
        if (!all[i].has_h)
            continue;
        if ((l = nearest_leader(&t, all, all[i].h)) >= 0) {
            join(parent, i, l);
            continue;
        }
        for (b = 0; b < 4; b++) {
            unsigned k = band_of(all[i].h, b);
            t.next[b][i] = t.head[b][k];
            t.head[b][k] = i;
        }
    }
    for (b = 0; b < 4; b++) {
        free(t.head[b]);
        free(t.next[b]);
    }
    return rc;
}

/*
 * Duplicate groups: pages with the same folded title, and pages whose
 * fingerprints are near one group leader's (join_near()). Connected pages
 * form a group named by its smallest page id.
 */
static int regroup(sqlite3 *db, pr_error *err)
{
    sqlite3_stmt *st = NULL, *ins = NULL;
    fp *all = NULL, *band = NULL;
    int *parent = NULL, n = 0, cap = 0, i, rc = -1;

    if (sqlite3_prepare_v2(db, "SELECT id, simhash, title FROM documents ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK)
        goto done;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            fp *nv = realloc(all, (size_t)(cap = cap ? cap * 2 : 1024) * sizeof *nv);
            if (!nv)
                goto done;
            all = nv;
        }
        all[n].id = sqlite3_column_int64(st, 0);
        all[n].has_h = sqlite3_column_type(st, 1) != SQLITE_NULL;
        all[n].h = (uint64_t)sqlite3_column_int64(st, 1);
        all[n].title = fr_fold((const char *)sqlite3_column_text(st, 2),
                               sqlite3_column_bytes(st, 2));
        if (!all[n++].title)
            goto done;
    }
    parent = malloc((size_t)(n ? n : 1) * sizeof *parent);
    band = malloc((size_t)(n ? n : 1) * sizeof *band);
    if (!parent || !band)
        goto done;
    for (i = 0; i < n; i++)
        parent[i] = i;
    join_titles(all, band, n, parent);
    if (join_near(all, n, parent) != 0)
        goto done;
    if (sqlite3_exec(db, "DELETE FROM doc_dups", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO doc_dups(doc_id, grp) VALUES (?, ?)", -1, &ins,
                           NULL) != SQLITE_OK)
        goto done;
    for (i = 0; i < n; i++) /* band[].h is free now: group sizes */
        band[i].h = 0;
    for (i = 0; i < n; i++)
        band[find_root(parent, i)].h++;
    for (i = 0; i < n; i++) {
        int r = find_root(parent, i);
        if (band[r].h < 2)
            continue; /* alone */
        sqlite3_bind_int64(ins, 1, all[i].id);
        sqlite3_bind_int64(ins, 2, all[r].id);
        if (step_done(ins) != 0)
            goto done;
    }
    rc = 0;
done:
    if (rc != 0)
        pr_error_set(err, 0, 0, "index write failed (duplicates): %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    for (i = 0; i < n; i++)
        free(all[i].title);
    free(all);
    free(band);
    free(parent);
    return rc;
}

int pr_derived_finish(pr_derived *d, pr_error *err)
{
    if (flush_vocab(d, err) != 0)
        return -1;
    /* groups only move when pages do: a run that changed nothing does not
     * read every page's fingerprint and title again */
    return d->changed ? regroup(d->db, err) : 0;
}

int pr_derived_regroup(sqlite3 *db, pr_error *err)
{
    return regroup(db, err);
}

int pr_derived_rebuild(sqlite3 *db, pr_error *err)
{
    pr_derived *d;
    sqlite3_stmt *ids;
    int rc = 0;

    if (sqlite3_exec(db, "DELETE FROM vocab; DELETE FROM doc_acronyms;", NULL, NULL, NULL) !=
        SQLITE_OK)
        return pr_error_set(err, 0, 0, "index write failed: %s", sqlite3_errmsg(db));
    d = pr_derived_new(db);
    if (!d || sqlite3_prepare_v2(db, "SELECT id FROM documents", -1, &ids, NULL) != SQLITE_OK) {
        pr_derived_free(d);
        return pr_error_set(err, 0, 0, "index write failed: %s", sqlite3_errmsg(db));
    }
    while (rc == 0 && sqlite3_step(ids) == SQLITE_ROW)
        rc = pr_derived_doc(d, sqlite3_column_int64(ids, 0), +1, err);
    sqlite3_finalize(ids);
    if (rc == 0)
        rc = pr_derived_finish(d, err);
    pr_derived_free(d);
    return rc;
}
