/*
 * acronyms.c - learning acronym definitions from text (see acronyms.h).
 *
 * The text is cut into words with their byte spans (pr_words, lexicon.c);
 * a word written in capitals right inside "( … )" is a candidate acronym,
 * matched against the words before the parenthesis; a candidate followed
 * by "( … )" is matched against the words inside.
 */
#include "acronyms.h"

#include <stdlib.h>
#include <string.h>

#include "fr_tokenizer.h"
#include "lexicon.h"
#include "search_util.h"

enum { ACR_MIN = 2, ACR_MAX = 10, WINDOW_EXTRA = 6 };

typedef pr_word aword;

typedef struct word_list {
    aword *v;
    int n, cap;
    int oom;
} word_list;

static int collect(void *ctx, const char *folded, const char *form, int start, int end)
{
    word_list *l = ctx;
    aword *w;
    char *f, *m;

    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 256;
        aword *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return l->oom = -1;
        l->v = nv;
        l->cap = cap;
    }
    w = &l->v[l->n];
    memset(w, 0, sizeof *w);
    w->start = start;
    w->end = end;
    w->folded = f = strdup(folded);
    w->form = m = strdup(form);
    if (!f || !m) {
        free(f);
        free(m);
        return l->oom = -1;
    }
    w->flen = (int)strlen(folded);
    w->stop = fr_is_stopword(folded, w->flen);
    l->n++;
    return 0;
}

static void free_words(word_list *l)
{
    int i;

    for (i = 0; i < l->n; i++) {
        free((char *)l->v[i].folded);
        free((char *)l->v[i].form);
    }
    free(l->v);
}

/* The letters to match (lower case) of the word at T (LEN bytes) if it
 * reads as an acronym: ASCII letters only, at least two capitals; the
 * capitals alone when it mixes cases (DGFiP). 0 when it is no acronym. */
static int acronym_letters(const char *t, int len, char out[ACR_MAX + 1])
{
    int i, up = 0, n = 0;

    if (len < ACR_MIN || len > ACR_MAX)
        return 0;
    for (i = 0; i < len; i++) {
        char c = t[i];
        if (c >= 'A' && c <= 'Z')
            up++;
        else if (!(c >= 'a' && c <= 'z'))
            return 0;
    }
    if (up < ACR_MIN)
        return 0;
    for (i = 0; i < len; i++)
        if (up == len || (t[i] >= 'A' && t[i] <= 'Z'))
            out[n++] = (char)(t[i] | 0x20);
    out[n] = '\0';
    return n;
}

/* Non-zero when the bytes between two words end a sentence or a clause
 * the long form cannot cross. */
static int breaks(const char *text, int from, int to)
{
    int i;

    for (i = from; i < to; i++)
        if (strchr(".;:!?()[]\n", text[i]))
            return 1;
    return 0;
}

/*
 * Match letters L[0..li] to words W[lo..wi], right to left. Returns the
 * index of the word that gave the first letter, or -1.
 */
static int match(const aword *w, int lo, int wi, const char *L, int li)
{
    int k, r, flen;

    if (li < 0)
        return wi + 1;
    if (wi < lo)
        return -1;
    /* A stop word is first passed over ("direction de l’information…
     * (DILA)" starts at "direction"), and gives a letter only when that
     * fails ("Pour des IA Francophones (PIAF)"). */
    if (w[wi].stop && (r = match(w, lo, wi - 1, L, li)) >= 0)
        return r;
    flen = w[wi].flen;
    for (k = 1; k <= li + 1 && k <= flen; k++) {
        if (strncmp(L + li - k + 1, w[wi].folded, (size_t)k) != 0)
            continue;
        r = match(w, lo, wi - 1, L, li - k);
        if (r >= 0)
            return r;
    }
    return -1;
}

/* The long form W[a..b] as displayed, and its key. */
static int emit(const char *text, const word_list *l, int a, int b, const char *acr,
                pr_acronym_fn fn, void *ctx)
{
    pr_buf disp, key;
    int i, content = 0, rc;

    pr_buf_init(&disp);
    pr_buf_init(&key);
    for (i = a; i <= b; i++) {
        const aword *w = &l->v[i];
        if (i > a) { /* the text between words, white space collapsed */
            int j, sp = 0;
            for (j = l->v[i - 1].end; j < w->start; j++) {
                if (text[j] == ' ' || text[j] == '\n' || text[j] == '\t') {
                    sp = 1;
                    continue;
                }
                if (sp)
                    pr_buf_addc(&disp, ' ');
                sp = 0;
                pr_buf_addc(&disp, text[j]);
            }
            if (sp)
                pr_buf_addc(&disp, ' ');
        }
        pr_buf_adds(&disp, w->form);
        if (!w->stop) {
            if (content++)
                pr_buf_addc(&key, ' ');
            pr_buf_adds(&key, w->folded);
        }
    }
    if (disp.oom || key.oom || content < 2) {
        rc = (disp.oom || key.oom) ? -1 : 0;
    } else {
        rc = fn(ctx, acr, disp.p, key.p);
    }
    pr_buf_free(&disp);
    pr_buf_free(&key);
    return rc;
}

static int skip_space(const char *t, int len, int i, int step)
{
    while (i >= 0 && i < len && (t[i] == ' ' || t[i] == '\t' || (unsigned char)t[i] == 0xA0))
        i += step;
    return i;
}

/* "long form (ACR)": the words before the parenthesis. */
static int before_paren(const char *text, const word_list *l, int i, const char *L, int n,
                        const char *acr, pr_acronym_fn fn, void *ctx)
{
    int lo = i - 1, hi = i - 1, start;

    if (hi < 0 || l->v[hi].stop)
        return 0;
    while (lo > 0 && hi - lo < 2 * n + WINDOW_EXTRA &&
           !breaks(text, l->v[lo - 1].end, l->v[lo].start))
        lo--;
    start = match(l->v, lo, hi, L, n - 1);
    return start >= 0 ? emit(text, l, start, hi, acr, fn, ctx) : 0;
}

/* "ACR (long form)": the words inside the parenthesis, all of them. */
static int inside_paren(const char *text, int len, const word_list *l, int i, const char *L,
                        int n, const char *acr, pr_acronym_fn fn, void *ctx)
{
    int lo = i + 1, hi = lo, start, k;

    if (lo >= l->n)
        return 0;
    while (hi + 1 < l->n && hi - lo < 2 * n + WINDOW_EXTRA &&
           !breaks(text, l->v[hi].end, l->v[hi + 1].start))
        hi++;
    k = skip_space(text, len, l->v[hi].end, 1);
    if (k >= len || text[k] != ')' || l->v[hi].stop)
        return 0;
    start = match(l->v, lo, hi, L, n - 1);
    for (k = lo; start >= 0 && k < start; k++)
        if (!l->v[k].stop)
            return 0; /* a content word left over */
    return start >= 0 ? emit(text, l, start, hi, acr, fn, ctx) : 0;
}

/* Learn from TEXT cut into the words L. */
static int learn(const char *text, int len, const word_list *l, pr_acronym_fn fn, void *ctx)
{
    int i, rc = 0;

    for (i = 0; rc == 0 && i < l->n; i++) {
        const aword *w = &l->v[i];
        char L[ACR_MAX + 1], acr[ACR_MAX + 1];
        int n = acronym_letters(text + w->start, w->end - w->start, L), b, a;
        if (n == 0)
            continue;
        memcpy(acr, text + w->start, (size_t)(w->end - w->start));
        acr[w->end - w->start] = '\0';
        b = skip_space(text, len, w->start - 1, -1);
        a = skip_space(text, len, w->end, 1);
        if (b >= 0 && text[b] == '(' && a < len && text[a] == ')')
            rc = before_paren(text, l, i, L, n, acr, fn, ctx);
        else if (a < len && text[a] == '(')
            rc = inside_paren(text, len, l, i, L, n, acr, fn, ctx);
    }
    return rc;
}

int pr_acronyms_learn(const char *text, int len, pr_acronym_fn fn, void *ctx)
{
    word_list l = {0};
    int rc;

    rc = pr_words(text, len, collect, &l);
    if (rc == 0 && l.oom)
        rc = -1;
    if (rc == 0)
        rc = learn(text, len, &l, fn, ctx);
    free_words(&l);
    return rc;
}

int pr_acronyms_learn_words(const char *text, int len, const pr_word *words, int n,
                            pr_acronym_fn fn, void *ctx)
{
    word_list l = {(aword *)words, n, n, 0};

    return learn(text, len, &l, fn, ctx);
}
