/*
 * test_snippet_scan.c - the snippet scan's two ways of making its marks
 * (lib/snippet.c "Scan") give the same snippets and highlights: the
 * library (32 bytes at a time where the processor has AVX2) against the
 * same file built to read byte by byte (tests/snippet_bytes.c), over
 * random texts of French words, accents, typography, numbers, dots and
 * bad bytes, 0 to 6,000 bytes (short and long texts, marks made in
 * several pieces), for random queries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search_util.h"
#include "snippet.h"
#include "unit.h"

snippet_terms *ref_snippet_terms_new(void);
void ref_snippet_terms_free(snippet_terms *st);
int ref_snippet_terms_add(snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                          int prefix, int term);
char *ref_snippet_highlight(const snippet_terms *st, fr_tokenizer *tok, const char *text,
                            int len);
char *ref_snippet_build(const snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                        int nwords, int *score);

/* What texts are made of: words that match the queries below or start
 * like them, and everything the scan reads apart. */
static const char *const pieces[] = {
    "état", "État", "ETAT", "etats", "l’État", "d’état", "l'Etat", "étatique", "Étéé",
    "recrutement", "recrute", "Recrutés", "réseau", "re-crute", "porte-parole", "parole",
    "numérique", "NUMÉRIQUE", "numerique", "num", "dinum", "DINUM", "Dinsic", "de", "des",
    "du", "d’", "le", "la", "les", "un", "une", "et", "à", "À", "où", "ça", "Ça", "œuvre",
    "Œuvres", "manœuvre", "Noël", "Noe\xcc\x88l", "noel", "loyer", "voyez", "abilité",
    "E.I.G.", "e.i.g", "EIG", "beta.gouv.fr", ".net", "fin.", "1re", "1er", "3 500", "500",
    "2024", "x", "y", "Y", "z", "ß", "þ", "ð", "ë", "ï", "×", "÷", "3×4", "«", "»",
    "\xc2\xa0", "\xe2\x80\xaf", "—", "–", "…", "’", "‘", "·", "\xc3", "\x80", "\xff",
    "\x7f", "\t", "\n", " ", " ", " ", " ", ", ", ". ", ".", ";", "(", ")", "\"", "'", "-",
    "&", "<", "a\xcc\x80", "e\xcc\x81tat", "zzz", "qwerty", "Accessibilité", "RGAA",
};

/* Query words; a trailing '*' makes a prefix. */
static const char *const words[] = {
    "etat", "état", "recrutement", "numérique", "num*", "re*", "r*", "d*", "e*", "dinum",
    "eig", "1er", "3500", "500", "loyer", "abilité", "noël", "oeuvre", "parole", "net",
    "gouv", "x", "y", "accessibilite", "rgaa", "de", "à", "ça", "zzz", "2024", "qw*",
};

static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* A random text of about LEN bytes in BUF (room for LEN + 64). */
static int random_text(uint32_t *seed, char *buf, int len)
{
    int n = 0;

    while (n < len) {
        const char *p = pieces[rnd(seed) % (sizeof pieces / sizeof pieces[0])];
        size_t l = strlen(p);
        memcpy(buf + n, p, l);
        n += (int)l;
        if (rnd(seed) % 3)
            buf[n++] = ' ';
    }
    buf[n] = '\0';
    return n;
}

/* Add 1 to 5 random query words to both term sets. */
static void random_query(uint32_t *seed, fr_tokenizer *tok, snippet_terms *a, snippet_terms *b,
                         char *what, size_t cap)
{
    int n = 1 + (int)(rnd(seed) % 5);

    what[0] = '\0';
    for (int t = 0; t < n; t++) {
        const char *w = words[rnd(seed) % (sizeof words / sizeof words[0])];
        int len = (int)strlen(w), prefix = w[len - 1] == '*';
        snippet_terms_add(a, tok, w, len - prefix, prefix, t);
        ref_snippet_terms_add(b, tok, w, len - prefix, prefix, t);
        snprintf(what + strlen(what), cap - strlen(what), "%s ", w);
    }
}

/* One random text and query: 1 when both builds agree. */
static int one_case(uint32_t *seed, fr_tokenizer *tok, char *text)
{
    snippet_terms *a = snippet_terms_new(), *b = ref_snippet_terms_new();
    int len = random_text(seed, text, (int)(rnd(seed) % 6000)), nw = 1 + (int)(rnd(seed) % 30);
    int sa = 0, sb = 0, same;
    char what[256], *x, *y, *h1, *h2;

    random_query(seed, tok, a, b, what, sizeof what);
    x = snippet_build(a, tok, text, len, nw, &sa);
    y = ref_snippet_build(b, tok, text, len, nw, &sb);
    h1 = snippet_highlight(a, tok, text, len);
    h2 = ref_snippet_highlight(b, tok, text, len);
    same = x && y && h1 && h2 && strcmp(x, y) == 0 && sa == sb && strcmp(h1, h2) == 0;
    if (!same)
        printf("# differ: query [%s] text of %d bytes: [%.200s]\n#   got [%.300s]\n#  want [%.300s]\n",
               what, len, text, x ? x : "(null)", y ? y : "(null)");
    free(x);
    free(y);
    free(h1);
    free(h2);
    snippet_terms_free(a);
    ref_snippet_terms_free(b);
    return same;
}

int main(void)
{
    fr_tokenizer *tok = fr_tokenizer_new();
    char *text = malloc(6100);
    uint32_t seed = 20261130;

#if defined(__x86_64__) && defined(__GNUC__)
    if (!__builtin_cpu_supports("avx2"))
        printf("# this processor has no AVX2: both builds read byte by byte\n");
#endif
    for (int batch = 0; batch < 12; batch++) {
        int ok = 0;
        for (int i = 0; i < 100; i++)
            ok += one_case(&seed, tok, text);
        CHECK_MSG(ok == 100, "snippets and highlights of 100 random texts, both scans");
    }
    free(text);
    fr_tokenizer_free(tok);
    return unit_done();
}
