/*
 * test_snippet.c - highlights and snippet windows (lib/snippet.c) with the
 * real french tokenizer: accents, elision, stems, prefixes, HTML special
 * characters, marks never nested nor cutting a UTF-8 character.
 */
#include <stdlib.h>
#include <string.h>

#include "search_util.h"
#include "snippet.h"
#include "unit.h"

static fr_tokenizer *tok;

/* TEXT highlighted for the query words WORDS (space separated; a trailing
 * '*' makes a word a prefix term). The caller frees the result. */
static char *hl(const char *words, const char *text)
{
    snippet_terms *st = snippet_terms_new();
    char *copy = strdup(words), *save = NULL, *w, *out;
    int term = 0;

    for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(w);
        int prefix = n > 1 && w[n - 1] == '*';
        snippet_terms_add(st, tok, w, (int)(n - prefix), prefix, term++);
    }
    out = snippet_highlight(st, tok, text, (int)strlen(text));
    snippet_terms_free(st);
    free(copy);
    return out;
}

static void check_hl(const char *words, const char *text, const char *want)
{
    char *got = hl(words, text);
    char what[300];

    snprintf(what, sizeof what, "highlight [%s] in [%.60s]", words, text);
    for (char *p = what; *p; p++) /* one TAP line */
        if ((unsigned char)*p < ' ')
            *p = ' ';
    CHECK_STR_MSG(got, want, what);
    free(got);
}

static char *window(const char *words, const char *text, int n, int *score)
{
    snippet_terms *st = snippet_terms_new();
    char *copy = strdup(words), *save = NULL, *w, *out;
    int term = 0;

    for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
        snippet_terms_add(st, tok, w, (int)strlen(w), 0, term++);
    out = snippet_build(st, tok, text, (int)strlen(text), n, score);
    snippet_terms_free(st);
    free(copy);
    return out;
}

/* Valid UTF-8, marks balanced and not nested, no '<' but marks, no raw
 * '&' but entities. */
static int well_formed(const char *s)
{
    int open = 0;
    size_t i = 0, n = strlen(s);

    while (i < n) {
        if (s[i] == '<') {
            if (!strncmp(s + i, "<mark>", 6)) {
                if (open)
                    return 0;
                open = 1;
                i += 6;
            } else if (!strncmp(s + i, "</mark>", 7)) {
                if (!open)
                    return 0;
                open = 0;
                i += 7;
            } else {
                return 0;
            }
            continue;
        }
        if (s[i] == '>' || s[i] == '"' || s[i] == '\'')
            return 0;
        if (s[i] == '&' && strncmp(s + i, "&amp;", 5) && strncmp(s + i, "&lt;", 4) &&
            strncmp(s + i, "&gt;", 4) && strncmp(s + i, "&quot;", 6) && strncmp(s + i, "&#39;", 5))
            return 0;
        {
            int l = pr_utf8_char((const unsigned char *)s + i, n - i, NULL);
            if (l == 0)
                return 0;
            i += l;
        }
    }
    return !open;
}

static void test_highlight(void)
{
    /* Accents both ways, elision, case. */
    check_hl("etat", "l’État recrute", "l’<mark>État</mark> recrute");
    check_hl("etat", "l'État recrute", "l&#39;<mark>État</mark> recrute");
    check_hl("ÉTAT", "un état", "un <mark>état</mark>");
    check_hl("état", "L'ETAT", "L&#39;<mark>ETAT</mark>");
    /* Stems. */
    check_hl("recrutement", "l’État recrute 50 talents", "l’État <mark>recrute</mark> 50 talents");
    check_hl("recrute", "Le recrutement des recrutés", "Le <mark>recrutement</mark> des <mark>recrutés</mark>");
    check_hl("donnees", "les données ouvertes", "les <mark>données</mark> ouvertes");
    check_hl("accessibilite", "Accessibilités", "<mark>Accessibilités</mark>");
    /* Prefixes. */
    check_hl("recru*", "le recrutement", "le <mark>recrutement</mark>");
    check_hl("etabliss*", "un établissement public", "un <mark>établissement</mark> public");
    /* Stop words are never marked; other words are left alone. */
    check_hl("talents du numérique", "talents du numérique",
             "<mark>talents</mark> du <mark>numérique</mark>");
    /* HTML special characters escaped, marks kept apart. */
    check_hl("cloud", "<b>cloud</b> & \"cloud\" 'x'",
             "&lt;b&gt;<mark>cloud</mark>&lt;/b&gt; &amp; &quot;<mark>cloud</mark>&quot; &#39;x&#39;");
    check_hl("script", "<script>alert(1)</script>",
             "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;");
    /* Hyphenated words: both parts marked, separately. */
    check_hl("porte-parole", "le porte-parole", "le <mark>porte</mark>-<mark>parole</mark>");
    /* Nothing to mark: escaped text only. */
    check_hl("zzz", "a < b", "a &lt; b");
    check_hl("", "texte", "texte");
    /* White space and controls collapse. */
    check_hl("cloud", "  cloud\n\n\tsouverain \x01 ", "<mark>cloud</mark> souverain");
}

static void test_utf8(void)
{
    char *s;

    /* Invalid bytes in the stored text: repaired, never split. */
    s = hl("cafe", "caf\xc3\xa9 \xff caf\xc3");
    CHECK(s && well_formed(s));
    CHECK(s && strstr(s, "<mark>café</mark>") != NULL);
    CHECK(s && strstr(s, "\xEF\xBF\xBD") != NULL);
    free(s);
    s = hl("numerique", "🚀numérique🚀 ÉTAT");
    CHECK(s && well_formed(s));
    CHECK(s && strstr(s, "<mark>numérique</mark>") != NULL);
    free(s);
    /* NFD (decomposed) accents: the combining mark stays inside the mark. */
    s = hl("etat", "l’E\xcc\x81tat");
    CHECK(s && well_formed(s));
    CHECK(s && strstr(s, "<mark>E\xcc\x81tat</mark>") != NULL);
    free(s);
}

static void test_window(void)
{
    const char *text =
        "Un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze "
        "quinze seize dix-sept dix-huit dix-neuf vingt. Le programme EIG recrute des "
        "talents du numérique pour l’État. Puis vingt mots de suite sans rien du tout "
        "qui vaille la peine dans ce texte, encore et encore jusqu'au bout du texte.";
    int score = -1;
    char *s = window("eig recrutement", text, 12, &score);

    CHECK(s && well_formed(s));
    CHECK(s && strstr(s, "<mark>EIG</mark> <mark>recrute</mark>") != NULL);
    CHECK(s && !strncmp(s, "\xE2\x80\xA6 ", 4));                /* cut at the start */
    CHECK(s && !strcmp(s + strlen(s) - 4, " \xE2\x80\xA6"));     /* and at the end */
    CHECK(score >= 200);
    free(s);
    /* Nothing matches: the beginning, score 0. */
    s = window("zzz", text, 5, &score);
    CHECK_STR(s, "Un deux trois quatre cinq \xE2\x80\xA6");
    CHECK(score == 0);
    free(s);
    /* Short text: all of it, no ellipsis. */
    s = window("cloud", "Le cloud.", 24, &score);
    CHECK_STR(s, "Le <mark>cloud</mark>.");
    CHECK(score > 0);
    free(s);
    s = window("cloud", "", 24, &score);
    CHECK_STR(s, "");
    free(s);
    /* Two distinct terms beat many repeats of one. */
    s = window("cloud souverain",
               "cloud cloud cloud cloud un deux trois quatre cinq six sept huit neuf dix "
               "cloud souverain fin", 4, &score);
    CHECK(s && strstr(s, "<mark>cloud</mark> <mark>souverain</mark>") != NULL);
    free(s);
}

/* Long texts go through the prefilter: the same highlights. */
static void test_long_text(void)
{
    char *text = malloc(20000), *s;
    int score = 0;
    size_t n = 0;

    while (n < 9000)
        n += (size_t)snprintf(text + n, 20000 - n, "Un texte de remplissage sans rien. ");
    n += (size_t)snprintf(text + n, 20000 - n,
                          "Ici l’\xc3\x89tat recrute (E.I.G.) des d\xc3\xa9veloppeurs "
                          "porte-parole, l’E\xcc\x81tat, ETAT. ");
    while (n < 18000)
        n += (size_t)snprintf(text + n, 20000 - n, "Encore du remplissage sans rien. ");
    s = window("etat recrutement eig developpeur parole", text, 24, &score);
    CHECK(s && well_formed(s));
    CHECK(s && strstr(s, "l’<mark>\xc3\x89tat</mark> <mark>recrute</mark>") != NULL);
    CHECK(s && strstr(s, "(<mark>E.I.G</mark>.)") != NULL);
    CHECK(s && strstr(s, "<mark>d\xc3\xa9veloppeurs</mark>") != NULL);
    CHECK(s && strstr(s, "porte-<mark>parole</mark>") != NULL);
    CHECK(s && strstr(s, "l’<mark>E\xcc\x81tat</mark>") != NULL);
    CHECK(s && strstr(s, "<mark>ETAT</mark>") != NULL);
    CHECK(score >= 500);
    free(s);
    s = window("remplissage", text, 5, &score);
    CHECK(s && strstr(s, "<mark>remplissage</mark>") != NULL);
    free(s);
    free(text);
}

/* TEXT padded past the prefilter's short-text size (2048 bytes) with
 * words that never match, TEXT in the middle. */
static char *padded(const char *text)
{
    size_t n = 0, cap = 8000;
    char *s = malloc(cap);

    while (n < 2500)
        n += (size_t)snprintf(s + n, cap - n, "Un texte de remplissage sans rien. ");
    n += (size_t)snprintf(s + n, cap - n, "%s", text);
    while (n < 5000)
        n += (size_t)snprintf(s + n, cap - n, " Encore du remplissage sans rien.");
    return s;
}

/* The highlight of TEXT for WORDS, short and padded past 2048 bytes: the
 * marked part of both is WANT. */
static void check_hl_both(const char *words, const char *text, const char *want)
{
    char *big = padded(text), *got;

    check_hl(words, text, want);
    got = hl(words, big);
    CHECK_MSG(got && strstr(got, want) != NULL, want);
    free(got);
    free(big);
}

/* The prefilter reads ASCII words byte by byte and accented ones by
 * character: the same highlights either way, in short and long texts. */
static void test_prefilter(void)
{
    static const char *const both[][3] = {
        {"numerique", "le numérique et le numerique, NUMÉRIQUE, Numériques.",
         "le <mark>numérique</mark> et le <mark>numerique</mark>, "
         "<mark>NUMÉRIQUE</mark>, <mark>Numériques</mark>."},
        {"numérique", "numerique numériques", "<mark>numerique</mark> <mark>numériques</mark>"},
        {"etat", "l’État, l'ETAT, etats",
         "l’<mark>État</mark>, l&#39;<mark>ETAT</mark>, <mark>etats</mark>"},
        {"oeuvre", "la mise en œuvre, Œuvres", "la mise en <mark>œuvre</mark>, <mark>Œuvres</mark>"},
        /* prefixes of one, two, three letters and more, accented or not */
        {"r*", "le recrutement", "le <mark>recrutement</mark>"},
        {"re*", "un réseau de recrutés", "un <mark>réseau</mark> de <mark>recrutés</mark>"},
        {"rés*", "un réseau, des resultats", "un <mark>réseau</mark>, des <mark>resultats</mark>"},
        {"numéri*", "Le numérique, les NUMERIQUES",
         "Le <mark>numérique</mark>, les <mark>NUMERIQUES</mark>"},
        /* a word glued to another by punctuation is found in its part */
        {"parole", "le porte-parole (parole)", "le porte-<mark>parole</mark> (<mark>parole</mark>)"},
    };
    /* Texts of 2048 bytes at most get what analysing all of them gives,
     * where a stem does not start like its word (loyer -> loi, abilité ->
     * abl), ë and ï, dots inside words, ordinals, thousands. */
    static const char *const exact[][3] = {
        {"loyer", "le loyer", "le <mark>loyer</mark>"},
        {"voyez", "vous voyez", "vous <mark>voyez</mark>"},
        {"abilité", "une abilité", "une <mark>abilité</mark>"},
        {"noël", "à Noël", "à <mark>Noël</mark>"},
        {"noël", "à Noe\xcc\x88l", "à <mark>Noe\xcc\x88l</mark>"},
        {"eig", "les E.I.G. recrutent", "les <mark>E.I.G</mark>. recrutent"},
        {"gouv", "sur beta.gouv.fr", "sur beta.<mark>gouv</mark>.fr"},
        {"1er", "le 1re prix", "le <mark>1re</mark> prix"},
        {"3500", "3 500 agents", "<mark>3 500</mark> agents"},
        {"500", "3 500 agents", "3 500 agents"},
    };
    size_t i;

    for (i = 0; i < sizeof both / sizeof both[0]; i++)
        check_hl_both(both[i][0], both[i][1], both[i][2]);
    for (i = 0; i < sizeof exact / sizeof exact[0]; i++)
        check_hl(exact[i][0], exact[i][1], exact[i][2]);
}

/* Window choice: the most distinct terms, then the most matches; among
 * equal windows, the middle of the first run of them. */
static void test_window_ties(void)
{
    static const struct {
        const char *words, *text;
        int n, score;
        const char *want;
    } cases[] = {
        /* windows 6..10 all hold the match: the middle one, 8 */
        {"cloud", "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 cloud w11 w12 w13 w14 w15 w16", 5, 101,
         "\xE2\x80\xA6 w8 w9 <mark>cloud</mark> w11 w12 \xE2\x80\xA6"},
        /* two equal clusters: the first */
        {"cloud", "cloud a b c d e f g h cloud i", 3, 101, "<mark>cloud</mark> a b \xE2\x80\xA6"},
        /* more matches beat the first cluster, more terms more matches */
        {"cloud", "cloud a b c d e cloud cloud f", 3, 102,
         "\xE2\x80\xA6 e <mark>cloud</mark> <mark>cloud</mark> \xE2\x80\xA6"},
        {"cloud souverain", "cloud cloud cloud x y z cloud souverain w", 2, 202,
         "\xE2\x80\xA6 <mark>cloud</mark> <mark>souverain</mark> \xE2\x80\xA6"},
        /* a window as long as the text: all of it */
        {"cloud", "a cloud b", 3, 101, "a <mark>cloud</mark> b"},
        /* DEL separates words for the window (not for the analysis) */
        {"cloud", "a\x7f" "b c d cloud e f", 2, 101,
         "\xE2\x80\xA6 d <mark>cloud</mark> \xE2\x80\xA6"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int score = -1;
        char *s = window(cases[i].words, cases[i].text, cases[i].n, &score);
        CHECK_STR_MSG(s, cases[i].want, cases[i].text);
        CHECK_MSG(score == cases[i].score, cases[i].text);
        free(s);
    }
}

/* TEXT highlighted for the terms ST is WANT. */
static void check_terms(const snippet_terms *st, const char *text, const char *want)
{
    char *s = snippet_highlight(st, tok, text, (int)strlen(text));

    CHECK_STR_MSG(s, want, text);
    free(s);
}

/* Terms added after snippets were built count in the next ones (words
 * already analysed are remembered per query). */
static void test_terms_grow(void)
{
    snippet_terms *st = snippet_terms_new();

    snippet_terms_add(st, tok, "cloud", 5, 0, 0);
    check_terms(st, "cloud souverain", "<mark>cloud</mark> souverain");
    snippet_terms_add(st, tok, "souverain", 9, 0, 1);
    check_terms(st, "cloud souverain", "<mark>cloud</mark> <mark>souverain</mark>");
    snippet_terms_free(st);
}

/* Escaping copies runs of plain bytes: everything else one by one. */
static void test_escaping(void)
{
    /* no-break space kept, C1 controls a space, é ’ and 🚀 as they are */
    check_hl("zzz",
             "a\xc2\xa0" "b \xc2\x80 c\xc2\x9f" "d \xc3\xa9t\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x9a\x80",
             "a\xc2\xa0" "b c d \xc3\xa9t\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x9a\x80");
    /* cut and overlong sequences: U+FFFD for each byte that starts none */
    check_hl("zzz", "x\xc3 y\xe2\x80 z\xc0\xaf <&>\"'",
             "x\xEF\xBF\xBD y\xEF\xBF\xBD\xEF\xBF\xBD z\xEF\xBF\xBD\xEF\xBF\xBD "
             "&lt;&amp;&gt;&quot;&#39;");
    check_hl("zzz", "a \t b  \x01 c", "a b c");
}

/* The scan stops only where a part of a word may start a match: after
 * white space, ASCII punctuation, and the separators French typography
 * uses (’ « » no-break spaces, dashes), accented or not; the letters
 * between are read on. Short and long texts alike. */
static void test_scan_parts(void)
{
    static const char *const both[][3] = {
        {"etat", "d\xe2\x80\x99\xc3\x89tat, \xc2\xab\xc3\x89tat\xc2\xbb, "
                 "\xc2\xa0\xc3\xa9tat, x\xe2\x80\x94\xc3\x89tat",
         "d\xe2\x80\x99<mark>\xc3\x89tat</mark>, \xc2\xab<mark>\xc3\x89tat</mark>\xc2\xbb, "
         "\xc2\xa0<mark>\xc3\xa9tat</mark>, x\xe2\x80\x94<mark>\xc3\x89tat</mark>"},
        /* a key's first letter inside a part starts nothing */
        {"etat", "pr\xc3\xa9" "fet, rebetat, \xc3\xa9tat\xc3\xa9tat",
         "pr\xc3\xa9" "fet, rebetat, \xc3\xa9tat\xc3\xa9tat"},
        {"administration", "l\xe2\x80\x99" "administration (administrations)",
         "l\xe2\x80\x99<mark>administration</mark> (<mark>administrations</mark>)"},
        /* œ, a combining mark, then the part's letters */
        {"oeuvre", "man\xc5\x93uvre, \xc5\x93uvre", "man\xc5\x93uvre, <mark>\xc5\x93uvre</mark>"},
        /* a stray byte is analysed as before, the word after it too */
        {"etat", "\x80 etat", "\xEF\xBF\xBD <mark>etat</mark>"},
        /* 0xC3 (é, ×...) cut, doubled, followed by a stray byte */
        {"etat", "x\xc3 etat", "x\xEF\xBF\xBD <mark>etat</mark>"},
        {"etat", "x\xc3\xc3\xa9tat etat", "x\xEF\xBF\xBD<mark>\xc3\xa9tat</mark> <mark>etat</mark>"},
        {"etat", "\xc3\xa9\xa9tat etat", "\xc3\xa9\xEF\xBF\xBDtat <mark>etat</mark>"},
        /* × and ÷ separate parts; ë read as always in short texts */
        {"etat", "3\xc3\x97" "etat \xc3\x89tat\xc3\x97\xc3\x89tat a\xc3\xb7" "etat",
         "3\xc3\x97<mark>etat</mark> <mark>\xc3\x89tat</mark>\xc3\x97<mark>\xc3\x89tat</mark> "
         "a\xc3\xb7<mark>etat</mark>"},
        {"noel", "No\xc3\xabl noel", "<mark>No\xc3\xabl</mark> <mark>noel</mark>"},
        /* a dot: inside a part it is skipped, before one the part starts after it */
        {"eig", "E.I.G. e.i.g", "<mark>E.I.G</mark>. <mark>e.i.g</mark>"},
        {"net", ".net (.net)", ".<mark>net</mark> (.<mark>net</mark>)"},
    };

    for (size_t i = 0; i < sizeof both / sizeof both[0]; i++)
        check_hl_both(both[i][0], both[i][1], both[i][2]);
}

/* The window counts every word, those the scan stops in (accented, or
 * starting like a key) and those it reads through. */
static void test_window_counts(void)
{
    char text[2000];
    size_t n = 0;
    int score, i;
    char *s;

    for (i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s ",
                              i == 30 ? "cloud" : i == 31 || i % 3 == 0 ? "\xc3\xa9t\xc3\xa9"
                                                : i % 3 == 1 ? "cl\xc3\xa9" : "mot");
    s = window("cloud", text, 5, &score);
    CHECK_STR(s, "\xE2\x80\xA6 cl\xc3\xa9 mot <mark>cloud</mark> \xc3\xa9t\xc3\xa9 mot \xE2\x80\xA6");
    CHECK(score == 101);
    free(s);
    s = window("cloud ete", text, 3, &score); /* every é word read by scan_word */
    CHECK_STR(s, "\xE2\x80\xA6 mot <mark>cloud</mark> <mark>\xc3\xa9t\xc3\xa9</mark> \xE2\x80\xA6");
    CHECK(score == 202);
    free(s);
}

/* Cleared terms highlight nothing, and the next ones as a new set would
 * (digits made always analysed by a number are plain again). */
static void test_terms_clear(void)
{
    snippet_terms *st = snippet_terms_new();

    snippet_terms_add(st, tok, "3500", 4, 0, 0);
    check_terms(st, "3 500 cloud", "<mark>3 500</mark> cloud");
    snippet_terms_clear(st);
    CHECK(snippet_terms_count(st) == 0);
    check_terms(st, "3 500 cloud", "3 500 cloud");
    snippet_terms_add(st, tok, "cloud", 5, 0, 0);
    check_terms(st, "3 500 cloud", "3 500 <mark>cloud</mark>");
    snippet_terms_free(st);
}

int main(void)
{
    tok = fr_tokenizer_new();
    test_highlight();
    test_utf8();
    test_window();
    test_long_text();
    test_prefilter();
    test_window_ties();
    test_terms_grow();
    test_escaping();
    test_scan_parts();
    test_window_counts();
    test_terms_clear();
    fr_tokenizer_free(tok);
    return unit_done();
}
