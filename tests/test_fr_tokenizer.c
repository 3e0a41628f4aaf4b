/*
 * test_fr_tokenizer.c - French analysis (SPEC 3): lib/fr_tokenizer.c,
 * lib/fr_stopwords.c and the FTS5 tokenizer of lib/fts5_french.c.
 *
 * The core is a table of input -> tokens, written the way a reader thinks
 * of it: tokens separated by spaces, colocated alternatives joined by '|'
 * ("don|donne|~donnees" is one position). The stems are Snowball's real
 * output. Then: forms that must meet (a document word and a query word),
 * offsets on garbage, the helpers, and FTS5 tables in :memory:.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "fr_tokenizer.h"
#include "fts5_french.h"
#include "prefix_surfaces.h"
#include "unit.h"

#define D FR_MODE_DOCUMENT
#define Q FR_MODE_QUERY
#define P FR_MODE_PREFIX
#define PS FR_MODE_PREFIX_STEMS

struct tcase {
    fr_mode mode;
    const char *in;
    const char *want;
};

static const struct tcase cases[] = {
    /* the seed title */
    { D, "Entrepreneurs d'intérêt général : l’État recrute 50 talents du numérique",
      "entrepreneur|~entrepreneurs interet general etat recrut|~recrute 50 talent|~talents "
      "numer|~numerique" },
    { Q, "Entrepreneurs d'intérêt général : l’État recrute 50 talents du numérique",
      "entrepreneur interet general etat recrut 50 talent numer" },
    /* 3.1 splitting, invalid UTF-8 */
    { D, "", "" },
    { D, "!!! ... --- ?", "" },
    { D, "ab\xff" "cd", "ab cd" },
    { D, "ab\xc3", "ab" },
    { D, "x\xe2\x80", "x" },
    { D, "Covid19", "covid19" },
    { D, "inter\xc2\xad" "national", "international" }, /* soft hyphen */
    { D, "\xef\xac\x81" "nance", "financ|~finance" }, /* ﬁ ligature */
    { D, "semaine/mois", "semain|~semaine mois" },
    /* 3.2 elision */
    { D, "L’État", "etat" },
    { D, "L'ÉTAT", "etat" },
    { D, "l\xca\xbc" "État", "etat" }, /* ʼ U+02BC */
    { D, "D’INTÉRÊT", "interet" },
    { D, "d'intérêt", "interet" },
    { D, "Qu’il", "" },
    { D, "QU'ELLE", "" },
    { D, "jusqu’au", "" },
    { D, "lorsqu'elle", "" },
    { D, "puisqu'on", "" },
    { D, "quoiqu'il", "" },
    { D, "s'il n'est c'est j'ai m'a t'es", "" },
    { D, "l'entreprise", "entrepris|~entreprise" },
    { D, "lʼadministration", "administr|~administration" },
    { D, "l’ 2021", "2021" },
    { D, "aujourd’hui", "aujourdhui" },
    { D, "Aujourd'hui", "aujourdhui" },
    { D, "aujourd\xca\xbchui", "aujourdhui" },
    { D, "prud’hommes", "prudhomm|~prudhommes" },
    { D, "presqu’île", "presqu ile" },
    { D, "rock'n'roll", "rock roll" },
    { D, "quelqu'un", "quelqu" },
    /* 3.3 hyphens */
    { D, "porte-parole", "port|~porte parol|~parole" },
    { D, "Saint-Denis", "saint den|~denis" },
    { D, "e-mail", "e mail" },
    { D, "va-t-il", "va" },
    { D, "peut-être", "peut etre" },
    { D, "c'est-à-dire", "dir|~dire" },
    { Q, "porte-parole", "port parol" },
    /* 3.4 case, stems, diacritics */
    { D, "É À Ç Œ Æ", "e oe ae" },
    { D, "œuvre", "oeuvr|~oeuvre" },
    { D, "ŒUVRE", "oeuvr|~oeuvre" },
    { D, "Cæsar", "caesar" },
    { D, "cœur", "coeur" },
    { D, "français", "franc|~francais" },
    { D, "Élève", "elev|~eleve" },
    { D, "accessibilité", "accessibil|accessibilit|~accessibilite" },
    { D, "accessibilite", "accessibilit|~accessibilite" },
    { D, "Accessibilités", "accessibil|accessibilit|~accessibilites" },
    { D, "données", "don|donne|~donnees" },
    { D, "donnees", "donne|~donnees" },
    { D, "donnée", "don|donne|~donnee" },
    { D, "recrutés", "recrut|~recrutes" },
    { D, "recrutement", "recrut|~recrutement" },
    { D, "ÉTAT Etat état", "etat etat etat" },
    { D, "salariés", "salari|salar|~salaries" },
    { Q, "accessibilité", "accessibil" },
    { Q, "accessibilite", "accessibilit" },
    { Q, "Accessibilités", "accessibil" },
    { Q, "données", "don" },
    { Q, "donnees", "donne" },
    { Q, "donnée", "don" },
    { Q, "donnee", "donne" },
    { Q, "recrute recrutement recrutés", "recrut recrut recrut" },
    { Q, "Etat état ÉTAT", "etat etat etat" },
    { Q, "salarie salariés", "salar salari" },
    /* NFD input reads as NFC */
    { D, "E\xcc\x81tat", "etat" },
    { D, "l’E\xcc\x81tat", "etat" },
    { D, "nume\xcc\x81rique", "numer|~numerique" },
    { D, "donne\xcc\x81" "es", "don|donne|~donnees" },
    { Q, "donne\xcc\x81" "es", "don" },
    /* 3.5 numbers and acronyms */
    { D, "3 500 €", "3500" },
    { D, "3\xc2\xa0" "500 €", "3500" },          /* U+00A0 */
    { D, "3\xe2\x80\xaf" "500 €", "3500" },      /* U+202F */
    { D, "3\xe2\x80\x89" "500", "3500" },        /* U+2009 */
    { D, "1 200 000 euros", "1200000 euros" }, /* Snowball keeps -os */
    { D, "2021 500", "2021 500" },
    { D, "3 5000", "3 5000" },
    { D, "3  500", "3 500" },
    { D, "3 500,50", "3500 50" },
    { D, "01 23 45 67 89", "01 23 45 67 89" },
    { D, "FAST-8", "fast 8" },
    { D, "2021", "2021" },
    { D, "covid-19", "covid 19" },
    { D, "E.I.G.", "eig" },
    { D, "les E.I.G de 2021", "eig 2021" },
    { D, "d’E.I.G.", "eig" },
    { D, "M. Dupont", "dupont" },
    { Q, "3 500", "3500" },
    { Q, "E.I.G.", "eig" },
    /* 3.6 inclusive writing */
    { D, "entrepreneur.e.s", "entrepreneur" },
    { D, "entrepreneurs.e.s", "entrepreneur|~entrepreneurs" },
    { D, "entrepreneur·e·s", "entrepreneur" },
    { D, "salarié·es", "salari|salar|~salarie" },
    { D, "Futur.e.s", "futur" },
    { D, "ENTREPRENEUR.E.S", "entrepreneur" },
    { D, "acteur·rice·s", "acteur" },
    { D, "ami\xe2\x8b\x85" "e\xe2\x8b\x85" "s", "ami" },    /* U+22C5 */
    { D, "ami\xe2\x80\xa2" "e\xe2\x80\xa2" "s", "ami" },    /* U+2022 */
    { D, "étudiant.es", "etudi|~etudiant" },
    { D, "les élu·e·s", "elu" },
    { D, "les élu.e.s.", "elu" },
    { D, "chercheur·euse·s citoyen·ne·s", "chercheur citoyen" },
    { D, "professionnel·le·s agriculteur.trice.s", "professionnel agriculteur" },
    { D, "la fin. Ensuite", "fin ensuit|~ensuite" },
    { D, "dit.Le lendemain", "dit lendemain" },
    { Q, "entrepreneur·e·s", "entrepreneur" },
    /* the case of a word read across ASCII and accented letters */
    { D, "ÉLECTEUR.RICE.S", "electeur" },
    { D, "Électeur.RICE.S", "electeur ric|~rice" },
    { D, "électeur.rice.s", "electeur" },
    { D, "ÉlecteuR.RICE.S", "electeur ric|~rice" },
    /* words mixing ASCII, accented letters, marks and digits */
    { D, "Numérique2030 x\xcc\x81y", "numerique2030 xy" },
    { D, "Ωmega·α", "ωmeg|~ωmega α" },
    /* domain names, hashtags */
    { D, "demarches-simplifiees.fr", "demarch|~demarches simplifie|~simplifiees fr" },
    { D, "beta.gouv.fr", "bet|~beta gouv fr" },
    { D, "site.es.fr", "sit|~site fr" },
    { D, "#BlueHats", "bluehat|~bluehats" },
    /* 3.7 ordinals */
    { D, "5e 5ème 5eme 5E 5è", "5e 5e 5e 5e 5e" },
    { D, "5ÈME 5ieme 5ième", "5e 5e 5e" },
    { D, "1er 1re 1ère 1ER 1RE", "1er 1er 1er 1er 1er" },
    { D, "2nd 2nde 2e", "2e 2e 2e" },
    { D, "1ᵉʳ 5ᵉ XXᵉ XXe", "1er 5e xxe xxe" }, /* superscripts read as letters (NFKC) */
    { D, "14h30 n°3", "14h30 3" },
    { Q, "5ème", "5e" },
    { Q, "1ère", "1er" },
    /* 3.8 stop words */
    { D, "le la les de du des un une et à au aux en dans pour par sur avec", "" },
    { D, "ce cet cette ces qui que quoi dont est sont il elle on nous vous", "" },
    { D, "plus", "plus" },
    { D, "a où ou", "" },
    { D, "talents du numérique", "talent|~talents numer|~numerique" },
    { D, "Grand Est", "grand" },
    { Q, "talents du numerique", "talent numer" },
    { Q, "le", "" },
    /* 3.9 prefixes: folded, not stemmed; stems and surface alternatives */
    { P, "etabliss", "etabliss|~etabliss" },
    { P, "établiss", "etabliss|~etabliss" },
    { P, "recru", "recru|~recru" },
    { P, "frigorifi", "frigorif|~frigorifi" }, /* frigorif* finds all frigorifi* finds */
    { P, "donn", "don|~donn" },
    { P, "de", "de|~de" },
    { P, "talents du num", "talent num|~num" },
    { P, "2021", "2021|~2021" },
    /* without the surface form (prefix_surfaces.h) */
    { PS, "frigorifi", "frigorif" },
    { PS, "etabliss", "etabliss" },
    { PS, "talents du num", "talent num" },
};

/* ------------------------------------------------------------- rendering */

struct render {
    char buf[4096];
    size_t len;
    int last_start, last_end, bad_offsets, first_colocated;
    int text_len;
};

static int render_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    struct render *r = ctx;
    const char *sep = (flags & FR_TOKEN_COLOCATED) ? "|" : (r->len ? " " : "");
    if (start < r->last_start || end < r->last_end || start < 0 || end > r->text_len ||
        start > end)
        r->bad_offsets++;
    if ((flags & FR_TOKEN_COLOCATED) && r->len == 0)
        r->first_colocated = 1;
    r->last_start = start;
    r->last_end = end;
    if (r->len + strlen(sep) + (size_t)len + 1 < sizeof r->buf) {
        r->len += (size_t)snprintf(r->buf + r->len, sizeof r->buf - r->len, "%s%.*s", sep, len,
                                   token);
    }
    return 0;
}

static const char *tokens(fr_tokenizer *t, fr_mode mode, const char *text, int len,
                          struct render *r)
{
    memset(r, 0, sizeof *r);
    r->text_len = len;
    if (fr_tokenize(t, mode, text, len, render_token, r) != 0)
        return "(error)";
    return r->buf;
}

static void test_table(fr_tokenizer *t)
{
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct render r;
        char what[300];
        const char *got = tokens(t, cases[i].mode, cases[i].in, (int)strlen(cases[i].in), &r);
        snprintf(what, sizeof what, "%s \"%s\"",
                 cases[i].mode == D ? "document" : cases[i].mode == Q ? "query" : "prefix",
                 cases[i].in);
        CHECK_STR_MSG(got, cases[i].want, what);
        if (r.bad_offsets || r.first_colocated)
            CHECK_MSG(0, "offsets in range and ascending, first token not colocated");
    }
}

/* ------------------------------------------------------------ meetings */

/* Does query word QW find document word DW? The query token must be one
 * of the document's tokens (any alternative). */
static int meets(fr_tokenizer *t, const char *dw, const char *qw)
{
    struct render d, q;
    char doc[4096], *tok;
    tokens(t, D, dw, (int)strlen(dw), &d);
    tokens(t, Q, qw, (int)strlen(qw), &q);
    if (q.len == 0 || strchr(q.buf, ' ') != NULL)
        return 0;
    snprintf(doc, sizeof doc, "%s", d.buf);
    for (tok = strtok(doc, " |"); tok; tok = strtok(NULL, " |"))
        if (strcmp(tok, q.buf) == 0)
            return 1;
    return 0;
}

/* SPEC 3.4: documents are written in correct French (accented); visitors
 * type with or without accents, in any case and number. Each query form
 * must find each document form of its group. (An unaccented document is
 * found by unaccented queries only: the rule is built for accented text.) */
static void test_meetings(fr_tokenizer *t)
{
    static const struct {
        const char *docs[4];
        const char *queries[7];
    } groups[] = {
        { { "accessibilité", "Accessibilités" },
          { "accessibilité", "accessibilite", "Accessibilités", "accessibilites", "ACCESSIBILITÉ" } },
        { { "données", "donnée" },
          { "données", "donnees", "donnée", "donnee", "DONNÉES" } },
        { { "accessibilite", "accessibilites" }, { "accessibilite", "ACCESSIBILITES" } },
        { { "donnees" }, { "donnees", "donnee" } },
        { { "recrute", "recrutement", "recrutés", "recrutes" },
          { "recrute", "recrutement", "recrutés", "recrutes", "recrutements", "Recruté" } },
        { { "Etat", "état", "ÉTAT", "etat" }, { "Etat", "état", "ÉTAT", "etat", "l'état" } },
        { { "intérêt", "INTÉRÊT" }, { "intérêt", "interet", "INTÉRÊT", "intérêts", "interets" } },
        { { "numérique", "numériques" }, { "numérique", "numerique", "Numériques", "NUMERIQUE" } },
        { { "entrepreneur.e.s", "entrepreneur·e·s", "Entrepreneurs" },
          { "entrepreneurs", "entrepreneur", "entrepreneur·e·s", "Entrepreneur.e.s" } },
        { { "salarié·es", "salariés", "salarié" }, { "salarié·es", "salariés", "salarié" } },
        { { "salarié·es", "salariés", "salarié", "salarie" }, { "salarie", "salaries" } },
        { { "5e", "5ème", "5eme", "5E" }, { "5e", "5ème", "5eme", "5E", "5è", "5ÈME", "5ieme" } },
        { { "1er", "1re", "1ère", "1ER" }, { "1er", "1re", "1ère", "1ER", "1ere" } },
        { { "œuvre", "ŒUVRES" }, { "œuvre", "oeuvre", "ŒUVRES", "oeuvres" } },
        { { "E.I.G.", "EIG" }, { "E.I.G.", "EIG", "eig", "E.I.G" } },
        { { "aujourd’hui" }, { "aujourd’hui", "aujourd'hui", "aujourdhui", "Aujourdʼhui" } },
        { { "3 500", "3\xc2\xa0" "500", "3\xe2\x80\xaf" "500" }, { "3 500", "3500" } },
        { { "#BlueHats" }, { "bluehats", "BlueHat", "#bluehats" } },
        { { "établissements" }, { "etablissement", "établissement", "Etablissements" } },
    };
    size_t g, i, j;
    for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
        for (i = 0; i < 4 && groups[g].docs[i]; i++)
            for (j = 0; j < 7 && groups[g].queries[j]; j++) {
                char what[200];
                snprintf(what, sizeof what, "query \"%s\" finds document \"%s\"",
                         groups[g].queries[j], groups[g].docs[i]);
                CHECK_MSG(meets(t, groups[g].docs[i], groups[g].queries[j]), what);
            }
    CHECK_MSG(!meets(t, "donne", "donnees"), "surface forms stay out of the stem space");
    {
        struct render r;
        CHECK_STR_MSG(tokens(t, Q, "~numerique", 10, &r), "numer",
                      "the surface mark is a separator in queries");
        CHECK_STR_MSG(tokens(t, D, "~numérique~", 13, &r), "numer|~numerique",
                      "and in documents");
    }
}

/* --------------------------------------------------------------- offsets */

struct offsets {
    int len, last_start, last_end, bad, count, positions, colocated_first;
};

static int check_offsets(void *ctx, int flags, const char *token, int len, int start, int end)
{
    struct offsets *o = ctx;
    if (start < 0 || end > o->len || start > end || start < o->last_start ||
        end < o->last_end || len <= 0 || token == NULL)
        o->bad++;
    if ((flags & FR_TOKEN_COLOCATED) && o->count == 0)
        o->colocated_first++;
    o->last_start = start;
    o->last_end = end;
    o->count++;
    o->positions += !(flags & FR_TOKEN_COLOCATED);
    return 0;
}

static void test_random_offsets(fr_tokenizer *t)
{
    /* pieces of French typography mixed with random bytes */
    static const char *const pieces[] = {
        "l’", "É", "e\xcc\x81", "·", ".", " ", "\xc2\xa0", "\xe2\x80\xaf", "3", "500", "-",
        "qu'", "aujourd’", "hui", "E.", "e.s", "#", "ème", "œ", "\xc2\xad", "\xca\xbc", "'",
    };
    unsigned seed = 12345;
    int i, bad = 0, colocated_first = 0, failed = 0;
    char buf[512];
    for (i = 0; i < 10000; i++) {
        int len = 0, mode = i % 3;
        struct offsets o;
        seed = seed * 1103515245u + 12345u;
        while (len < (int)(seed % 300)) {
            unsigned r = (seed = seed * 1103515245u + 12345u) >> 16;
            if (r % 3 == 0) {
                const char *p = pieces[r % (sizeof pieces / sizeof pieces[0])];
                size_t n = strlen(p);
                if (len + (int)n > (int)sizeof buf)
                    break;
                memcpy(buf + len, p, n);
                len += (int)n;
            } else {
                buf[len++] = (char)(r >> 3);
            }
        }
        memset(&o, 0, sizeof o);
        o.len = len;
        if (fr_tokenize(t, (fr_mode)mode, buf, len, check_offsets, &o) != 0)
            failed++;
        bad += o.bad;
        colocated_first += o.colocated_first;
    }
    CHECK_MSG(bad == 0, "10000 random buffers: offsets in range and never decreasing");
    CHECK_MSG(colocated_first == 0, "10000 random buffers: the first token is never colocated");
    CHECK_MSG(failed == 0, "10000 random buffers: fr_tokenize returns 0");
}

static void test_offsets(fr_tokenizer *t)
{
    struct render r;
    struct offsets o;
    const char *nfd = "l’E\xcc\x81tat et 3\xe2\x80\xaf" "500 entrepreneur·e·s";
    char *big;
    int n;
    tokens(t, D, "l’État", (int)strlen("l’État"), &r);
    CHECK(r.last_start == 4 && r.last_end == 9);
    tokens(t, D, nfd, (int)strlen(nfd), &r);
    CHECK_STR(r.buf, "etat 3500 entrepreneur");
    CHECK(r.last_start == 22 && r.last_end == (int)strlen(nfd));
    tokens(t, D, "3 500 €", (int)strlen("3 500 €"), &r);
    CHECK(r.last_start == 0 && r.last_end == 5);
    /* a huge word is cut, not refused, and its offsets span all of it */
    n = 100000;
    big = malloc((size_t)n);
    CHECK(big != NULL);
    if (big == NULL)
        return;
    memset(big, 'a', (size_t)n);
    memset(&o, 0, sizeof o);
    o.len = n;
    CHECK(fr_tokenize(t, D, big, n, check_offsets, &o) == 0);
    CHECK(o.positions == 1 && o.bad == 0 && o.last_start == 0 && o.last_end == n);
    free(big);
}

/* -------------------------------------------------------------- the rest */

static int stop_after_two(void *ctx, int flags, const char *token, int len, int start, int end)
{
    int *n = ctx;
    return ++*n == 2 ? 42 : 0;
}

static void test_api(fr_tokenizer *t)
{
    int n = 0;
    char *f;
    struct render r1, r2;
    static const char *const words[] = { "salut", "monde", "etat", "donnees", "ecole" };
    int i;
    CHECK(fr_tokenize(t, D, "un deux trois quatre", 20, stop_after_two, &n) == 42 && n == 2);
    CHECK(fr_tokenize(t, D, NULL, 0, stop_after_two, &n) == 0);
    CHECK(fr_tokenize(NULL, D, "x", 1, stop_after_two, &n) == -1);
    fr_tokenizer_free(NULL);

    {
        static const char text[] = "L’État Œuvre Cæsar FRANÇAIS e\xcc\x81" "cole \xff!";
        f = fr_fold(text, (int)sizeof text - 1);
        CHECK_STR(f, "l’etat oeuvre caesar francais ecole !");
    }
    free(f);
    f = fr_fold("", 0);
    CHECK_STR(f, "");
    free(f);
    f = fr_fold("Communiqué de presse", 20);
    CHECK_STR(f, "communique de press");
    free(f);

    /* the cache gives the same answers after it has been reset many times */
    tokens(t, D, "accessibilités données", (int)strlen("accessibilités données"), &r1);
    for (i = 0; i < 20000; i++) {
        char w[32];
        snprintf(w, sizeof w, "%s%d%c", words[i % 5], i, 'a' + i % 26);
        tokens(t, D, w, (int)strlen(w), &r2);
    }
    tokens(t, D, "accessibilités données", (int)strlen("accessibilités données"), &r2);
    CHECK_STR(r2.buf, r1.buf);
}

static void test_stopwords(void)
{
    /* the whole list (Snowball's, folded, and four more), so a badly sorted
     * table fails */
    static const char list[] =
        "a ai aie aient aies ait as au aura aurai auraient aurais aurait auras aurez auriez "
        "aurions aurons auront aux avaient avais avait avec avez aviez avions avons ayant "
        "ayante ayantes ayants ayez ayons c ce ces d dans de des du elle en es est et etaient "
        "etais etait etant etante etantes etants etee etees etes etiez etions eu eue eues "
        "eumes eurent eus eusse eussent eusses eussiez eussions eut eutes eux fumes furent fus "
        "fusse fussent fusses fussiez fussions fut futes il ils j je jusqu l la le les leur "
        "lorsqu lui m ma mais me meme mes moi mon n ne nos notre nous on ont ou par pas pour "
        "puisqu qu que qui quoiqu s sa se sera serai seraient serais serait seras serez seriez "
        "serions serons seront ses soient sois soit son sont soyez soyons suis sur t ta te tes "
        "toi ton tu un une vos votre vous y cet cette dont quoi";
    const char *p = list;
    int missing = 0, count = 0;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (!fr_is_stopword(p, (int)n)) {
            printf("#   not a stop word: %.*s\n", (int)n, p);
            missing++;
        }
        count++;
        p += n + (p[n] == ' ');
    }
    CHECK_MSG(missing == 0 && count == 160, "every Snowball stop word is found");
    CHECK(!fr_is_stopword("etat", 4));
    CHECK(!fr_is_stopword("numerique", 9));
    CHECK(!fr_is_stopword("plus", 4));
    CHECK(!fr_is_stopword("ete", 3));
    CHECK(fr_is_stopword("lesbos", 3) && !fr_is_stopword("dux", 3));
    CHECK(!fr_is_stopword("", 0) && !fr_is_stopword(NULL, 2));
}

/* ------------------------------------------------------------------ FTS5 */

static int count_rows(sqlite3 *db, const char *match)
{
    sqlite3_stmt *st;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

/* The rowids matching MATCH, as "1 3". */
static const char *rows(sqlite3 *db, const char *match, char *out, size_t cap)
{
    sqlite3_stmt *st;
    size_t len = 0;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rowid", -1, &st,
                           NULL) != SQLITE_OK)
        return "(error)";
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && len + 16 < cap)
        len += (size_t)snprintf(out + len, cap - len, "%s%d", len ? " " : "",
                                sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
    return out;
}

static int ignore_token(void *ctx, int flags, const char *token, int len, int start, int end);

/* Insert DOCS into table t as rows 1..N; each also tokenized by T (its
 * watcher sees it) when T is not NULL. 1 when all went in. */
static int insert_docs(sqlite3 *db, const char *const *docs, size_t n, fr_tokenizer *t)
{
    int ok = 1;

    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st;
        if (t)
            ok &= fr_tokenize(t, D, docs[i], (int)strlen(docs[i]), ignore_token, NULL) == 0;
        ok &= sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES (?1, ?2)", -1, &st,
                                 NULL) == SQLITE_OK;
        sqlite3_bind_int(st, 1, (int)i + 1);
        sqlite3_bind_text(st, 2, docs[i], -1, SQLITE_STATIC);
        ok &= sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    return ok;
}

static void test_fts5(void)
{
    static const char *const docs[] = {
        /* 1 */ "Entrepreneurs d'intérêt général : l’État recrute 50 talents du numérique",
        /* 2 */ "Les établissements scolaires et les entrepreneur·e·s",
        /* 3 */ "Une chaîne frigorifique pour les vaccins, 3 500 doses",
        /* 4 */ "Les données de l'administration sont ouvertes aujourd’hui",
        /* 5 */ "Les agents recrutés par la 5ème promotion des E.I.G.",
        /* 6 */ "Le porte-parole du gouvernement sur beta.gouv.fr",
    };
    sqlite3 *db;
    const char *msg = NULL;
    char buf[128];
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        CHECK_MSG(0, "open :memory:");
        return;
    }
    CHECK(fts5_french_register(db, &msg) == SQLITE_OK && msg == NULL);
    CHECK(fts5_french_register(db, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='french')", NULL,
                       NULL, NULL) == SQLITE_OK);
    CHECK_MSG(insert_docs(db, docs, sizeof docs / sizeof docs[0], NULL), "insert documents");

    CHECK_STR(rows(db, "\"talents du numerique\"", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "\"talents du numérique\"", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "\"talents numerique\"", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "etat", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "ÉTAT", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "recrutement", buf, sizeof buf), "1 5");
    CHECK_STR(rows(db, "interet", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "entrepreneurs", buf, sizeof buf), "1 2");
    CHECK_STR(rows(db, "donnees", buf, sizeof buf), "4");
    CHECK_STR(rows(db, "\"aujourd'hui\"", buf, sizeof buf), "4");
    CHECK_STR(rows(db, "3500", buf, sizeof buf), "3");
    CHECK_STR(rows(db, "\"3 500\"", buf, sizeof buf), "3");
    CHECK_STR(rows(db, "eig", buf, sizeof buf), "5");
    CHECK_STR(rows(db, "\"5e\"", buf, sizeof buf), "5");
    CHECK_STR(rows(db, "\"porte parole\"", buf, sizeof buf), "6");
    CHECK_STR(rows(db, "\"porte-parole\"", buf, sizeof buf), "6");
    CHECK_STR(rows(db, "gouv", buf, sizeof buf), "6");
    /* prefixes, including those longer than the indexed stem */
    CHECK_STR(rows(db, "etabliss*", buf, sizeof buf), "2");
    CHECK_STR(rows(db, "établissement*", buf, sizeof buf), "2");
    CHECK_STR(rows(db, "etabl*", buf, sizeof buf), "2");
    CHECK_STR(rows(db, "recru*", buf, sizeof buf), "1 5");
    CHECK_STR(rows(db, "frigorifi*", buf, sizeof buf), "3");
    CHECK_STR(rows(db, "frigorif*", buf, sizeof buf), "3");
    CHECK_STR(rows(db, "numeriq*", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "\"talents du num\"*", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "admini*", buf, sizeof buf), "4");
    CHECK_STR(rows(db, "zzz*", buf, sizeof buf), "");
    /* no false matches: surface forms are not stems */
    CHECK_STR(rows(db, "etablissements", buf, sizeof buf), "2");
    CHECK_STR(rows(db, "le", buf, sizeof buf), "");
    CHECK(count_rows(db, "entrepreneur AND etat") == 1);
    /* highlight() (AUX mode) finds the words */
    {
        sqlite3_stmt *st;
        const char *h = "";
        if (sqlite3_prepare_v2(db, "SELECT highlight(t, 0, '[', ']') FROM t WHERE t MATCH 'etat'",
                               -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            h = (const char *)sqlite3_column_text(st, 0);
        CHECK_STR(h, "Entrepreneurs d'intérêt général : l’[État] recrute 50 talents du numérique");
        sqlite3_finalize(st);
    }
    CHECK(sqlite3_exec(db, "CREATE VIRTUAL TABLE u USING fts5(x, tokenize='french foo')", NULL,
                       NULL, NULL) != SQLITE_OK);
    sqlite3_close(db);
}

static void return_null(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3_result_null(ctx);
}

/* A connection whose fts5() does not hand out the API looks like an SQLite
 * without FTS5: the error must say so. */
static void test_no_fts5(void)
{
    sqlite3 *db;
    const char *msg = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        CHECK_MSG(0, "open :memory:");
        return;
    }
    sqlite3_create_function(db, "fts5", 1, SQLITE_UTF8, NULL, return_null, NULL, NULL);
    CHECK(fts5_french_register(db, &msg) != SQLITE_OK);
    CHECK_STR(msg, "this SQLite has no FTS5 (prsearch needs SQLite built with FTS5)");
    CHECK(fts5_french_register(db, NULL) != SQLITE_OK);
    sqlite3_close(db);
}

/* fr_fold's hand-written Latin-1 fast path must agree with utf8proc (NFKC,
 * case fold, marks stripped, then œ æ ø spelled out) on every Latin-1 and
 * Latin Extended-A letter, alone and inside a word. */
static void test_fold_matches_utf8proc(void)
{
    int bad = 0;

    static const utf8proc_int32_t punct[] = {0x2013, 0x2014, 0x2018, 0x2019, 0x201C,
                                             0x201D, 0x2026, 0x202F, 0x20AC, 0x2022};

    for (utf8proc_int32_t i = 0xA0; i <= 0x17F + (int)(sizeof punct / sizeof punct[0]); i++) {
        utf8proc_int32_t cp = i <= 0x17F ? i : punct[i - 0x180];
        utf8proc_uint8_t word[16], *want = NULL;
        char *got;
        int n = 0;

        n += utf8proc_encode_char('X', word + n);
        n += utf8proc_encode_char(cp, word + n);
        n += utf8proc_encode_char('z', word + n);
        utf8proc_map(word, n, &want, UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                                         UTF8PROC_IGNORE | UTF8PROC_STRIPMARK);
        got = fr_fold((const char *)word, n);
        if (want && got) {
            char expect[32];
            const char *w = (const char *)want;
            /* What fr_tokenizer adds to utf8proc: œ æ ø ł đ ı as plain letters. */
            const char *const extra[][2] = {{"\xC5\x93", "oe"}, {"\xC3\xA6", "ae"},
                                            {"\xC3\xB8", "o"}, {"\xC5\x82", "l"},
                                            {"\xC4\x91", "d"}, {"\xC4\xB1", "i"}};
            snprintf(expect, sizeof expect, "%s", w);
            for (size_t k = 0; k < sizeof extra / sizeof extra[0]; k++) {
                char *at = strstr(expect, extra[k][0]);
                if (at) {
                    char rest[32];
                    snprintf(rest, sizeof rest, "%s", at + strlen(extra[k][0]));
                    snprintf(at, sizeof expect - (size_t)(at - expect), "%s%s", extra[k][1], rest);
                }
            }
            if (strcmp(got, expect) != 0) {
                printf("#   U+%04X: fr_fold gives \"%s\", utf8proc \"%s\"\n", (unsigned)cp, got, expect);
                bad++;
            }
        }
        free(want);
        free(got);
    }
    CHECK_MSG(bad == 0, "fr_fold agrees with utf8proc on U+00A0..U+017F and French punctuation");
}

/* ---------------------------------------------------- watched surfaces */

static int note_surface(void *ctx, const char *surface, int slen, const char *a, int alen,
                        const char *b, int blen)
{
    char *out = ctx;
    size_t n = strlen(out);

    snprintf(out + n, 512 - n, "%.*s:%.*s,%.*s ", slen, surface, alen, a, blen, b);
    return 0;
}

static int ignore_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    (void)ctx, (void)flags, (void)token, (void)len, (void)start, (void)end;
    return 0;
}

/* The watcher sees each word with a surface token once (then the cache
 * answers), with the stems its tokens come with; not stop words, not
 * words whose surface is a stem. */
static void test_watch(void)
{
    fr_tokenizer *t = fr_tokenizer_new();
    char seen[512] = "";
    const char *text = "Le communiqué des établissements communique le communiqué";

    fr_tokenizer_watch_surfaces(t, note_surface, seen);
    CHECK(fr_tokenize(t, D, text, (int)strlen(text), ignore_token, NULL) == 0);
    CHECK_STR_MSG(seen,
                  "communique:communiqu,commun etablissements:etabl,etabl "
                  "communique:commun,commun ",
                  "watch: each word with a surface form, once, with its stems");
    fr_tokenizer_free(t);
}

/* ------------------------------------------------- listed surface tokens */

/* Byte-wise "X starts with Y". */
static int has_prefix(const char *x, int xlen, const char *y, int ylen)
{
    return ylen <= xlen && memcmp(x, y, (size_t)ylen) == 0;
}

/*
 * The listed surface token's contract (fts5_french.h): the mark, then UTF-8
 * continuation bytes only (FTS5 counts one character: no prefix-index
 * entry), decoding gives the form back, and distinct forms give distinct
 * tokens, for forms of letters, digits and other bytes.
 */
static void test_listed_tokens(void)
{
    static const char *const forms[] = {
        "etablissement", "etabliss", "etabl", "e", "covid19", "19", "1er", "ds", "d",
        "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1", "\xce\xb1\xce\xb8", "\xce\xb1",
        "\xce", "a\xce\xb1", "a", "z9", "zz", "\x7f", "_", "\xff"};
    const int n = (int)(sizeof forms / sizeof forms[0]);
    char tx[FTS5_FRENCH_SURFACE_MAX(64)], ty[FTS5_FRENCH_SURFACE_MAX(64)], back[64];
    int bad_bytes = 0, bad_back = 0, same = 0, kept_prefix = 0;

    for (int i = 0; i < n; i++) {
        int xl = (int)strlen(forms[i]), txl = fts5_french_surface_token(forms[i], xl, tx);
        CHECK(txl >= 2 && tx[0] == FTS5_FRENCH_LISTED_MARK);
        for (int k = 1; k < txl; k++)
            bad_bytes += ((unsigned char)tx[k] & 0xC0) != 0x80;
        bad_back += fts5_french_surface_form(tx, txl, back, (int)sizeof back) != xl ||
                    memcmp(back, forms[i], (size_t)xl) != 0;
        for (int j = 0; j < n; j++) {
            int yl = (int)strlen(forms[j]), tyl = fts5_french_surface_token(forms[j], yl, ty);
            same += i != j && txl == tyl && !memcmp(tx, ty, (size_t)txl);
            kept_prefix += has_prefix(tx, txl, ty, tyl) == has_prefix(forms[i], xl, forms[j], yl);
        }
    }
    CHECK_MSG(bad_bytes == 0, "listed surface tokens: continuation bytes after the mark");
    CHECK_MSG(bad_back == 0, "listed surface tokens decode to their form");
    CHECK_MSG(same == 0, "distinct forms, distinct tokens");
    CHECK_MSG(kept_prefix == n * n, "token(X) starts with token(Y) when X starts with Y");
    CHECK_MSG(fts5_french_surface_form("etabl", 5, back, (int)sizeof back) == -1,
              "a stem is no listed surface token");
    CHECK_MSG(fts5_french_surface_form("\xff\x80\xbf\x80", 4, back, (int)sizeof back) == -1,
              "a cut escape is refused");
}

/* The number of terms of table T's vocabulary starting with byte B. */
static int terms_starting(sqlite3 *db, char b)
{
    sqlite3_stmt *st;
    int n = -1;
    char key[2] = {b, 0};

    sqlite3_exec(db, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.tv USING fts5vocab(main, t, row)",
                 NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM temp.tv"
                           " WHERE substr(CAST(term AS BLOB), 1, 1) = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, key, 1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

/*
 * tokenize='french listed': surface forms written as listed tokens, found
 * by prefixes through the prefix_surfaces list of the connection's
 * database; without the list, only whole.
 */
static void test_fts5_listed(void)
{
    static const char *const docs[] = {
        /* 1 */ "Entrepreneurs d'intérêt général : l’État recrute 50 talents du numérique",
        /* 2 */ "Les établissements scolaires et les entrepreneur·e·s",
        /* 3 */ "Une chaîne frigorifique pour les vaccins, 3 500 doses",
        /* 4 */ "La direction communique ses chiffres",
    };
    fr_tokenizer *t = fr_tokenizer_new();
    pr_surface_pairs *pairs = pr_surface_pairs_new();
    sqlite3 *db;
    pr_error err;
    char buf[128], stems_only[32];
    int ok = 1;

    if (!t || !pairs || sqlite3_open(":memory:", &db) != SQLITE_OK) {
        CHECK_MSG(0, "open :memory:");
        return;
    }
    fr_tokenizer_watch_surfaces(t, pr_surface_pairs_add, pairs);
    CHECK(fts5_french_register(db, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='french listed',"
                           " prefix='2 3');"
                           "CREATE TABLE prefix_surfaces(surface TEXT NOT NULL, a TEXT NOT NULL,"
                           " b TEXT NOT NULL, PRIMARY KEY(surface, a, b)) WITHOUT ROWID",
                       NULL, NULL, NULL) == SQLITE_OK);
    ok = insert_docs(db, docs, sizeof docs / sizeof docs[0], t);
    ok &= pr_surface_pairs_write(db, pairs, &err) == 0;
    CHECK_MSG(ok, "insert documents and their surface list");
    CHECK_MSG(terms_starting(db, FR_SURFACE_MARK) == 0 &&
                  terms_starting(db, FTS5_FRENCH_LISTED_MARK) > 0,
              "surface forms are stored as listed tokens");
    CHECK_STR(rows(db, "etat", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "\"talents du numerique\"", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "etabliss*", buf, sizeof buf), "2");
    CHECK_STR(rows(db, "établissement*", buf, sizeof buf), "2");
    CHECK_STR(rows(db, "etabl*", buf, sizeof buf), "2");
    CHECK_STR(rows(db, "e*", buf, sizeof buf), "1 2");
    CHECK_STR(rows(db, "frigorifi*", buf, sizeof buf), "3");
    CHECK_STR(rows(db, "communiqu*", buf, sizeof buf), "4");
    CHECK_STR(rows(db, "\"talents du num\"*", buf, sizeof buf), "1");
    CHECK_STR(rows(db, "\"scolaires et les etabliss\"*", buf, sizeof buf), "");
    CHECK_STR(rows(db, "\"les etabliss\"*", buf, sizeof buf), "2");
    snprintf(stems_only, sizeof stems_only, "\"etabliss%c\"*", FTS5_FRENCH_STEMS_ONLY);
    CHECK_STR_MSG(rows(db, stems_only, buf, sizeof buf), "",
                  "stems only: the surface forms left out");
    sqlite3_exec(db, "DROP TABLE prefix_surfaces", NULL, NULL, NULL);
    CHECK_STR_MSG(rows(db, "etabliss*", buf, sizeof buf), "",
                  "no list: a prefix longer than the stem finds no surface form");
    CHECK_STR_MSG(rows(db, "etablissements*", buf, sizeof buf), "2",
                  "no list: a surface form given whole is found");
    CHECK_STR(rows(db, "etabl*", buf, sizeof buf), "2");
    sqlite3_close(db);
    pr_surface_pairs_free(pairs);
    fr_tokenizer_free(t);
}

int main(void)
{
    fr_tokenizer *t = fr_tokenizer_new();
    CHECK(t != NULL);
    if (t == NULL)
        return unit_done();
    printf("# %d table cases\n", (int)(sizeof cases / sizeof cases[0]));
    test_table(t);
    test_meetings(t);
    test_random_offsets(t);
    test_offsets(t);
    test_api(t);
    fr_tokenizer_free(t);
    test_watch();
    test_stopwords();
    test_fts5();
    test_listed_tokens();
    test_fts5_listed();
    test_no_fts5();
    test_fold_matches_utf8proc();
    return unit_done();
}
