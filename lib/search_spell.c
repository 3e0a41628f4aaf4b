/*
 * search_spell.c - "did you mean": a corrected query when words were not
 * found as typed (the `suggestion` of SPEC section 7, issue 5).
 *
 * A plain word of the query (not quoted, not a prefix, an operator or a
 * filter; 4 letters or more once folded) whose index terms match no page
 * is replaced by the closest word of the index vocabulary (lexicon.h):
 * edit distance 1 for words of 4 to 7 letters, 2 from 8 letters, adjacent
 * swaps counting as one edit; candidates ranked by distance, then by the
 * number of pages using them. Words are compared folded, so accents and
 * case are never typos. When the query had hits but few of them, a word
 * that matches at most RARE_DOCS pages is also replaced when a close word
 * is used by RARE_RATIO times more pages (a typo that some page shares).
 */
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"
#include "search_util.h"

enum { RARE_DOCS = 2, RARE_RATIO = 10, RARE_MIN_DF = 5 };

typedef struct vocab_check {
    pr_searcher *s;
    sqlite3_stmt *st;
    int missing;
    long long min_docs; /* fewest pages any term of the word is in */
    int failed;
} vocab_check;

static int check_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    vocab_check *c = ctx;
    int rc;

    (void)start; (void)end;
    if (flags & FR_TOKEN_COLOCATED)
        return 0; /* the first form is the one a query searches */
    sqlite3_reset(c->st);
    sqlite3_bind_text(c->st, 1, token, len, SQLITE_TRANSIENT);
    rc = sqlite3_step(c->st);
    if (rc == SQLITE_DONE) {
        c->missing++;
        c->min_docs = 0;
    } else if (rc == SQLITE_ROW) {
        long long d = sqlite3_column_int64(c->st, 0);
        if (c->min_docs < 0 || d < c->min_docs)
            c->min_docs = d;
    } else {
        c->failed = 1;
    }
    sqlite3_reset(c->st);
    return c->failed;
}

/* Pages matching WORD (as far as its terms tell: the fewest pages of
 * any of them), 0 when one is missing, -1 on a read error. */
static long long word_docs(pr_searcher *s, const char *word, int len, pr_error *err)
{
    vocab_check c = {s, NULL, 0, -1, 0};

    c.st = pr_searcher_stmt(s, "SELECT doc FROM temp.fts_vocab WHERE term = ?", err);
    if (!c.st)
        return -1;
    fr_tokenize(s->tok, FR_MODE_QUERY, word, len, check_token, &c);
    if (c.failed) {
        pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    return c.missing || c.min_docs < 0 ? 0 : c.min_docs;
}

/* The replacement of the folded word W, malloc'ed, or NULL. DOCS: pages
 * W matches as typed. */
static char *closest_term(const search_lexicon *lx, const char *w, long long docs, int rare_too)
{
    int n = (int)strlen(w), maxd = n >= 8 ? 2 : 1, d;
    const char *best;

    if (n < 4 || (docs > 0 && (!rare_too || docs > RARE_DOCS)))
        return NULL;
    best = pr_lexicon_correct(lx, w, maxd, docs > 0 ? (docs * RARE_RATIO > RARE_MIN_DF
                                                           ? docs * RARE_RATIO : RARE_MIN_DF)
                                                    : 1, &d);
    return best ? strdup(best) : NULL;
}

/* A plain word: not an operator, filter, phrase, prefix or exclusion. */
static int plain_word(const char *w, size_t n)
{
    size_t i;

    if (n < 4 || w[0] == '-' || w[0] == '+' || w[n - 1] == '*')
        return 0;
    if ((n == 2 && !strncmp(w, "OR", 2)) || (n == 3 && (!strncmp(w, "AND", 3) ||
                                                         !strncmp(w, "NOT", 3))))
        return 0;
    for (i = 0; i < n; i++)
        if (w[i] == '"' || w[i] == ':')
            return 0;
    return 1;
}

/* Fold W and check that it is one run of ASCII letters; NULL otherwise. */
static char *folded_letters(const char *w, size_t n)
{
    char *f = fr_fold(w, (int)n);
    size_t i;

    if (!f)
        return NULL;
    for (i = 0; f[i]; i++)
        if (f[i] < 'a' || f[i] > 'z') {
            free(f);
            return NULL;
        }
    return f;
}

/*
 * A corrected version of Q in *OUT (malloc'ed): returns 1 when some word
 * was replaced, 0 when there is nothing to correct, -1 on a read error.
 * Words inside quotes are left alone (a phrase is what was meant).
 */
int pr_spell_correct(pr_searcher *s, const char *q, int rare_too, char **out, pr_error *err)
{
    search_lexicon *lx;
    pr_buf b;
    size_t i = 0, n = strlen(q);
    int changed = 0, in_quote = 0;

    *out = NULL;
    if (!(lx = pr_lexicon_get(s, err)))
        return -1;
    if (!s->vocab_ready &&
        sqlite3_exec(s->db, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab"
                            " USING fts5vocab(main, fts, row)", NULL, NULL, NULL) != SQLITE_OK)
        return pr_error_set(err, 0, 0, "index read failed: %s", sqlite3_errmsg(s->db));
    s->vocab_ready = 1;
    pr_buf_init(&b);
    while (i < n) {
        size_t e = i;
        char *f, *fix = NULL;
        long long docs;

        if (q[i] == ' ') {
            pr_buf_addc(&b, ' ');
            i++;
            continue;
        }
        while (e < n && q[e] != ' ')
            e++;
        if (!in_quote && plain_word(q + i, e - i) && (f = folded_letters(q + i, e - i))) {
            docs = word_docs(s, q + i, (int)(e - i), err);
            if (docs < 0) {
                free(f);
                pr_buf_free(&b);
                return -1;
            }
            fix = closest_term(lx, f, docs, rare_too);
            free(f);
        }
        for (size_t k = i; k < e; k++)
            if (q[k] == '"')
                in_quote = !in_quote;
        if (fix) {
            pr_buf_adds(&b, fix);
            changed = 1;
            free(fix);
        } else {
            pr_buf_add(&b, q + i, e - i);
        }
        i = e;
    }
    if (!changed || b.oom) {
        pr_buf_free(&b);
        return 0;
    }
    *out = pr_buf_take(&b);
    return *out ? 1 : 0;
}
