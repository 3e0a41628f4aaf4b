/*
 * snippet.c - highlighted titles and snippets (see snippet.h).
 *
 * Steps for one text: tokenize it in DOCUMENT mode and keep the byte spans
 * of the words whose tokens match the query (merged, so marks never nest);
 * split the text into white-space separated words, the unit of the window;
 * slide a window of N words and keep the one with the most distinct query
 * terms, then the most matches, centred on its cluster; write it out
 * escaped, with <mark> around the spans and "…" where the text was cut.
 */
#include "snippet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search_util.h"

#define ELLIPSIS "\xE2\x80\xA6" /* … */

typedef struct qtok {
    char *s;
    int len;
    int prefix;
    int term;
} qtok;

struct snippet_terms {
    qtok *v;
    int n, cap;
};

/* A matched word: bytes [start, end) of the text; TERMS one bit per term. */
typedef struct span {
    int start, end;
    uint64_t terms;
} span;

typedef struct span_list {
    span *v;
    int n, cap;
    int oom;
    int base;  /* offset of the piece being tokenized in the whole text */
    const snippet_terms *st;
} span_list;

typedef struct word {
    int start, end;
    uint64_t terms; /* terms matched inside the word */
    int hits;       /* matched spans inside the word */
} word;

snippet_terms *snippet_terms_new(void)
{
    return calloc(1, sizeof(snippet_terms));
}

void snippet_terms_free(snippet_terms *st)
{
    int i;

    if (!st)
        return;
    for (i = 0; i < st->n; i++)
        free(st->v[i].s);
    free(st->v);
    free(st);
}

int snippet_terms_count(const snippet_terms *st)
{
    return st ? st->n : 0;
}

typedef struct add_ctx {
    snippet_terms *st;
    int prefix, term;
} add_ctx;

static int add_token(void *vctx, int flags, const char *token, int len, int start, int end)
{
    add_ctx *c = vctx;
    snippet_terms *st = c->st;
    qtok *t;

    (void)flags; (void)start; (void)end;
    if (len <= 0)
        return 0;
    if (st->n == st->cap) {
        int cap = st->cap ? st->cap * 2 : 16;
        qtok *nv = realloc(st->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        st->v = nv;
        st->cap = cap;
    }
    t = &st->v[st->n];
    t->s = malloc(len);
    if (!t->s)
        return -1;
    memcpy(t->s, token, len);
    t->len = len;
    t->prefix = c->prefix;
    t->term = c->term;
    st->n++;
    return 0;
}

int snippet_terms_add(snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                      int prefix, int term)
{
    add_ctx c = {st, prefix, term};

    return fr_tokenize(tok, prefix ? FR_MODE_PREFIX : FR_MODE_QUERY, text, len, add_token,
                       &c) == 0 ? 0 : -1;
}

/* Bits of the query terms that TOKEN matches (0: none). */
static uint64_t token_terms(const snippet_terms *st, const char *token, int len)
{
    uint64_t m = 0;
    int i;

    for (i = 0; i < st->n; i++) {
        const qtok *q = &st->v[i];
        if (q->prefix ? (len >= q->len && memcmp(token, q->s, q->len) == 0)
                      : (len == q->len && memcmp(token, q->s, len) == 0))
            m |= (uint64_t)1 << (q->term & 63);
    }
    return m;
}

static int on_doc_token(void *vctx, int flags, const char *token, int len, int start, int end)
{
    span_list *l = vctx;
    uint64_t m = token_terms(l->st, token, len);
    span *s;

    (void)flags;
    if (!m || end <= start)
        return 0;
    start += l->base;
    end += l->base;
    if (l->n > 0 && l->v[l->n - 1].start == start && l->v[l->n - 1].end == end) {
        l->v[l->n - 1].terms |= m; /* a colocated form of the same word */
        return 0;
    }
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        span *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            l->oom = 1;
            return -1;
        }
        l->v = nv;
        l->cap = cap;
    }
    s = &l->v[l->n++];
    s->start = start;
    s->end = end;
    s->terms = m;
    return 0;
}

static int is_cont(const char *text, int len, int i)
{
    return i > 0 && i < len && ((unsigned char)text[i] & 0xC0) == 0x80;
}

/* Spans on character boundaries, in order, overlapping ones merged. */
static void normalise_spans(span_list *l, const char *text, int len)
{
    int i, n = 0;

    for (i = 0; i < l->n; i++) {
        span s = l->v[i];
        if (s.start < 0)
            s.start = 0;
        if (s.end > len)
            s.end = len;
        while (is_cont(text, len, s.start))
            s.start--;
        while (is_cont(text, len, s.end))
            s.end++;
        if (s.end <= s.start)
            continue;
        if (n > 0 && s.start < l->v[n - 1].end) {
            if (s.end > l->v[n - 1].end)
                l->v[n - 1].end = s.end;
            l->v[n - 1].terms |= s.terms;
        } else {
            l->v[n++] = s;
        }
    }
    l->n = n;
}

/*
 * Prefilter for long texts. Analysing a whole body costs far more than
 * the search itself, and almost every word cannot match: a word is only
 * analysed when one of its parts (split at apostrophes, hyphens and other
 * punctuation), roughly folded, starts with the first KEY_LEN bytes of a
 * query token (stems and surface forms keep the word's first letters).
 * Words with letters this rough fold does not know are always analysed.
 * Known misses: numbers written with a space ("3 500"), and ordinals
 * spelled differently from their token (1re / 1er).
 */
enum { KEY_LEN = 3, SHORT_TEXT = 2048 };

/* Rough fold of the code point CP into OUT (up to 2 bytes); returns the
 * bytes written, 0 to skip it (combining mark, dot inside E.I.G.), -1 for
 * a part separator, -2 when unknown. */
static int rough_fold(unsigned cp, char out[2])
{
    static const char latin1[] = /* U+00C0 .. U+00FF, '-' separates, '?' two letters */
        "aaaaaa?ceeeeiiiidnooooo-ouuuuy??aaaaaa?ceeeeiiiidnooooo-ouuuuy?y";

    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            out[0] = (char)cp;
            return 1;
        }
        if (cp >= 'A' && cp <= 'Z') {
            out[0] = (char)(cp + 32);
            return 1;
        }
        return cp == '.' ? 0 : -1;
    }
    if (cp == 0xC6 || cp == 0xE6 || cp == 0x152 || cp == 0x153) { /* Æ æ Œ œ */
        out[0] = (cp == 0xC6 || cp == 0xE6) ? 'a' : 'o';
        out[1] = 'e';
        return 2;
    }
    if (cp == 0xDF) { out[0] = 's'; out[1] = 's'; return 2; }
    if (cp == 0xDE || cp == 0xFE) { out[0] = 't'; out[1] = 'h'; return 2; }
    if (cp >= 0xC0 && cp <= 0xFF) {
        char c = latin1[cp - 0xC0];
        if (c == '-')
            return -1;
        out[0] = c;
        return 1;
    }
    if (cp == 0x178) { out[0] = 'y'; return 1; }
    if ((cp >= 0x300 && cp <= 0x36F) || cp == 0xB7) /* combining marks, middle dot */
        return 0;
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x2BC || cp == 0x2010 || cp == 0x2011 ||
        cp == 0x2013 || cp == 0x2014 || cp == 0xAB || cp == 0xBB || cp == 0xA0 ||
        cp == 0x202F || cp == 0x2026)
        return -1;
    return -2;
}

static int key_matches(const snippet_terms *st, const char *key, int n)
{
    int i;

    for (i = 0; i < st->n; i++) {
        const qtok *q = &st->v[i];
        const char *t = q->s;
        int tl = q->len;
        if (tl > 0 && t[0] == FR_SURFACE_MARK) {
            t++;
            tl--;
        }
        if (tl > KEY_LEN)
            tl = KEY_LEN;
        if (tl > 0 && n >= tl && memcmp(key, t, tl) == 0)
            return 1;
    }
    return 0;
}

/* Non-zero when the word W (N bytes, no white space) may hold a match. */
static int word_candidate(const snippet_terms *st, const char *w, int n)
{
    char key[KEY_LEN + 2];
    int i = 0, k = 0, done = 0;

    while (i < n) {
        unsigned cp;
        char f[2];
        int l = pr_utf8_char((const unsigned char *)w + i, (size_t)(n - i), &cp), r;
        if (l == 0)
            return 1; /* invalid bytes: let the tokenizer decide */
        i += l;
        r = rough_fold(cp, f);
        if (r == -2)
            return 1;
        if (r == -1) { /* a new part starts */
            if (k > 0 && key_matches(st, key, k))
                return 1;
            k = 0;
            done = 0;
            continue;
        }
        for (int j = 0; j < r && !done; j++) {
            key[k++] = f[j];
            if (k == KEY_LEN)
                done = 1;
        }
        if (done && k == KEY_LEN) {
            if (key_matches(st, key, k))
                return 1;
            k = KEY_LEN + 1; /* this part is decided: wait for the next */
        }
    }
    return k > 0 && k <= KEY_LEN && key_matches(st, key, k);
}

/* The matched spans of TEXT. Returns 0, or -1 out of memory. */
static int find_spans(const snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                      span_list *l)
{
    int i = 0;

    memset(l, 0, sizeof *l);
    l->st = st;
    if (!st || st->n == 0 || len <= 0)
        return 0;
    if (len <= SHORT_TEXT) {
        if (fr_tokenize(tok, FR_MODE_DOCUMENT, text, len, on_doc_token, l) != 0 || l->oom)
            return -1;
    } else {
        while (i < len) {
            int e;
            while (i < len && (unsigned char)text[i] <= ' ')
                i++;
            for (e = i; e < len && (unsigned char)text[e] > ' '; e++)
                ;
            if (e > i && word_candidate(st, text + i, e - i)) {
                l->base = i;
                if (fr_tokenize(tok, FR_MODE_DOCUMENT, text + i, e - i, on_doc_token, l) != 0 ||
                    l->oom)
                    return -1;
            }
            i = e;
        }
    }
    normalise_spans(l, text, len);
    return 0;
}

static int is_blank(unsigned char c)
{
    return c <= ' ' || c == 0x7F;
}

/* White-space separated words of TEXT with the spans each holds.
 * Returns the number of words (*OUT malloc'ed), or -1 out of memory. */
static int split_words(const char *text, int len, const span_list *l, word **out)
{
    int i = 0, n = 0, cap = 64, k = 0;
    word *v = malloc(cap * sizeof *v), *nv;

    if (!v)
        return -1;
    while (i < len) {
        while (i < len && is_blank((unsigned char)text[i]))
            i++;
        if (i >= len)
            break;
        if (n == cap) {
            cap *= 2;
            nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
        }
        v[n].start = i;
        while (i < len && !is_blank((unsigned char)text[i]))
            i++;
        v[n].end = i;
        v[n].terms = 0;
        v[n].hits = 0;
        while (k < l->n && l->v[k].end <= v[n].start)
            k++;
        for (int j = k; j < l->n && l->v[j].start < v[n].end; j++) {
            v[n].terms |= l->v[j].terms;
            v[n].hits++;
        }
        n++;
    }
    *out = v;
    return n;
}

static int popcount64(uint64_t x)
{
    int n = 0;

    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

static int window_score(const word *w, int from, int to)
{
    uint64_t terms = 0;
    int hits = 0, i;

    for (i = from; i < to; i++) {
        terms |= w[i].terms;
        hits += w[i].hits;
    }
    return popcount64(terms) * 100 + (hits > 99 ? 99 : hits);
}

/* First word of the best window of N words among NW: the best score, and
 * among the first run of windows reaching it, the middle one, so the
 * matched words sit in the middle rather than at an edge. */
static int best_window(const word *w, int nw, int n, int *score)
{
    int i, best = -1, run_start = 0, run_end = 0, in_run = 0;

    for (i = 0; i + n <= nw; i++) {
        int s = window_score(w, i, i + n);
        if (s > best) {
            best = s;
            run_start = run_end = i;
            in_run = 1;
        } else if (s == best && in_run && run_end == i - 1) {
            run_end = i;
        } else {
            in_run = 0;
        }
    }
    *score = best < 0 ? 0 : best;
    return best <= 0 ? 0 : (run_start + run_end) / 2;
}

/* Write bytes [from, to) of TEXT escaped, marking the spans. */
static void emit(pr_buf *b, const char *text, int from, int to, const span_list *l)
{
    int pos = from, k, last_space = 0;

    for (k = 0; k < l->n && pos < to; k++) {
        int s = l->v[k].start, e = l->v[k].end;
        if (e <= pos)
            continue;
        if (s >= to)
            break;
        if (s < pos)
            s = pos;
        if (e > to)
            e = to;
        pr_buf_add_html(b, text + pos, s - pos, &last_space);
        pr_buf_adds(b, "<mark>");
        pr_buf_add_html(b, text + s, e - s, &last_space);
        pr_buf_adds(b, "</mark>");
        pos = e;
    }
    if (pos < to)
        pr_buf_add_html(b, text + pos, to - pos, &last_space);
}

char *snippet_highlight(const snippet_terms *st, fr_tokenizer *tok, const char *text, int len)
{
    span_list l;
    pr_buf b;
    int from = 0, to = len;

    if (find_spans(st, tok, text, len, &l) != 0) {
        free(l.v);
        return NULL;
    }
    while (from < to && is_blank((unsigned char)text[from]))
        from++;
    while (to > from && is_blank((unsigned char)text[to - 1]))
        to--;
    pr_buf_init(&b);
    emit(&b, text, from, to, &l);
    free(l.v);
    return pr_buf_take(&b);
}

char *snippet_build(const snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                    int nwords, int *score)
{
    span_list l;
    word *w = NULL;
    pr_buf b;
    int nw, first, last, sc = 0;

    if (score)
        *score = 0;
    if (nwords < 1)
        nwords = 1;
    if (find_spans(st, tok, text, len, &l) != 0 || (nw = split_words(text, len, &l, &w)) < 0) {
        free(l.v);
        return NULL;
    }
    pr_buf_init(&b);
    if (nw > 0) {
        if (nw <= nwords) {
            first = 0;
            sc = window_score(w, 0, nw);
        } else {
            first = best_window(w, nw, nwords, &sc);
        }
        last = first + nwords < nw ? first + nwords : nw;
        if (first > 0)
            pr_buf_adds(&b, ELLIPSIS " ");
        emit(&b, text, w[first].start, w[last - 1].end, &l);
        if (last < nw)
            pr_buf_adds(&b, " " ELLIPSIS);
    }
    if (score)
        *score = sc;
    free(w);
    free(l.v);
    return pr_buf_take(&b);
}
