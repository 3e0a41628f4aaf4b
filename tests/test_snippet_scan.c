/*
 * test_snippet_scan.c - the snippet scan's two ways of making its marks
 * (lib/snippet.c "Scan") give the same snippets and highlights: the
 * library (32 bytes at a time where the processor has AVX2) against the
 * same file built to read byte by byte (tests/snippet_bytes.c), over
 * random texts of French words, accents, typography, numbers, dots and
 * bad bytes, 0 to 6,000 bytes (short and long texts, marks made in
 * several pieces), for random queries; and over the pages of the real
 * corpus (../shared/corpus or $PR_CORPUS, skipped when absent), whole
 * files, for a few queries.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snippet.h"
#include "test_files.h"
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

/* Both builds on TEXT (LEN bytes) for QUERY (words separated by spaces,
 * '*' for a prefix), windows of NW words: 1 when they agree. */
static int same_on(fr_tokenizer *tok, const char *query, const char *text, int len, int nw,
                   const char *name)
{
    snippet_terms *a = snippet_terms_new(), *b = ref_snippet_terms_new();
    char copy[256], *save = NULL, *x, *y, *h1, *h2;
    int t = 0, sa = 0, sb = 0, same;

    snprintf(copy, sizeof copy, "%s", query);
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save), t++) {
        int l = (int)strlen(w), prefix = w[l - 1] == '*';
        snippet_terms_add(a, tok, w, l - prefix, prefix, t);
        ref_snippet_terms_add(b, tok, w, l - prefix, prefix, t);
    }
    x = snippet_build(a, tok, text, len, nw, &sa);
    y = ref_snippet_build(b, tok, text, len, nw, &sb);
    h1 = snippet_highlight(a, tok, text, len);
    h2 = ref_snippet_highlight(b, tok, text, len);
    same = x && y && h1 && h2 && strcmp(x, y) == 0 && sa == sb && strcmp(h1, h2) == 0;
    if (!same)
        printf("# differ: query [%s] on %.200s\n#   got [%.300s]\n#  want [%.300s]\n", query,
               name, x ? x : "(null)", y ? y : "(null)");
    free(x);
    free(y);
    free(h1);
    free(h2);
    snippet_terms_free(a);
    ref_snippet_terms_free(b);
    return same;
}

/* One random text (also the name shown when the builds differ) and a
 * query of 1 to 5 random words: 1 when both builds agree. */
static int one_case(uint32_t *seed, fr_tokenizer *tok, char *text)
{
    int len = random_text(seed, text, (int)(rnd(seed) % 6000)), nw = 1 + (int)(rnd(seed) % 30);
    int n = 1 + (int)(rnd(seed) % 5);
    char query[256] = "";

    for (int t = 0; t < n; t++)
        snprintf(query + strlen(query), sizeof query - strlen(query), "%s%s", t ? " " : "",
                 words[rnd(seed) % (sizeof words / sizeof words[0])]);
    return same_on(tok, query, text, len, nw, text);
}

/* Every page of the real corpus (its collections' files, Markdown and
 * front matter as they are) for queries of the bench's kinds. */
static void test_corpus(fr_tokenizer *tok)
{
    static const char *const queries[] = {
        "dinum", "etat recrutement", "numérique", "données ouvertes", "rgaa accessibilité",
        "entrepreneurs interet general", "d* t*", "1er 2019", "transformation numerique etat",
        "e*", "france* connect", "souverainete",
    };
    const char *env = getenv("PR_CORPUS");
    char root[1024], dir[1300], path[1600]; /* room for two file names */
    int pages = 0, agree = 0, total = 0;
    DIR *top, *d;
    struct dirent *e, *f;

    if (env && *env)
        snprintf(root, sizeof root, "%s", env);
    else
        snprintf(root, sizeof root, "%s/../shared/corpus", test_srcdir());
    if (!(top = opendir(root))) {
        unit_skip("both scans on the real corpus's pages", "corpus not found");
        return;
    }
    while ((e = readdir(top)) != NULL) {
        if (e->d_name[0] != '_')
            continue;
        snprintf(dir, sizeof dir, "%s/%s", root, e->d_name);
        if (!(d = opendir(dir)))
            continue;
        while ((f = readdir(d)) != NULL) {
            size_t len;
            char *text;
            snprintf(path, sizeof path, "%s/%s", dir, f->d_name);
            if (f->d_name[0] == '.' || !(text = test_slurp(path, &len)))
                continue;
            pages++;
            for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++, total++)
                agree += same_on(tok, queries[q], text, (int)len, 24, f->d_name);
            free(text);
        }
        closedir(d);
    }
    closedir(top);
    printf("# %d pages, %d queries each\n", pages, (int)(sizeof queries / sizeof queries[0]));
    CHECK_MSG(pages > 0 && agree == total, "both scans on every page of the real corpus");
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
    test_corpus(tok);
    fr_tokenizer_free(tok);
    return unit_done();
}
