/*
 * test_lexicon.c - what the indexer derives from a page's text (lexicon.h,
 * acronyms.h): words and their display forms, acronym definitions in the
 * patterns French administrative pages use (and texts that must teach
 * nothing), SimHash fingerprints, the string map behind them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acronyms.h"
#include "lexicon.h"
#include "strmap.h"
#include "unit.h"

typedef struct collected {
    char buf[2048];
} collected;

static int add_word(void *ctx, const char *folded, const char *form, int start, int end)
{
    collected *c = ctx;
    size_t n = strlen(c->buf);

    (void)start; (void)end;
    snprintf(c->buf + n, sizeof c->buf - n, "%s%s/%s", n ? " " : "", folded, form);
    return 0;
}

static const char *words(const char *text)
{
    static collected c;

    c.buf[0] = '\0';
    pr_words(text, (int)strlen(text), add_word, &c);
    return c.buf;
}

static void test_words(void)
{
    CHECK_STR(words("L’État recrute"), "etat/état recrute/recrute");
    CHECK_STR(words("FranceConnect et la DINUM"), "franceconnect/FranceConnect et/et la/la dinum/DINUM");
    CHECK_STR(words("d'intérêt général, 2021 a b 3e"), "interet/intérêt general/général");
    CHECK_STR(words("porte-parole"), "porte/porte parole/parole");
    CHECK_STR(words(""), "");
    CHECK_STR(words("\xff\xfe bad"), "bad/bad");
    /* runs of ASCII meeting what is past it: a digit anywhere drops the
     * word; no-break space, ’ and invalid bytes separate; marks belong */
    CHECK_STR(words("été2021 naïve2 x1y 2ème ok"), "ok/ok");
    CHECK_STR(words("ab\xc2\xa0" "cd ef\xe2\x80\x99gh ij\xffkl"),
              "ab/ab cd/cd ef/ef gh/gh ij/ij kl/kl");
    CHECK_STR(words("A É Éa aÉ Ωmega"), "ea/éa ae/aÉ ωmega/ωmega");
    CHECK_STR(words("cafe\xcc\x81 x\xcc\x81"), "cafe/cafe\xcc\x81 x/x\xcc\x81");
    CHECK_STR(words("anticonstitutionnellement."), "anticonstitutionnellement/anticonstitutionnellement");
}

static int add_pair(void *ctx, const char *acronym, const char *long_form, const char *key)
{
    collected *c = ctx;
    size_t n = strlen(c->buf);

    snprintf(c->buf + n, sizeof c->buf - n, "%s%s=%s|%s", n ? "; " : "", acronym, long_form, key);
    return 0;
}

static const char *learn(const char *text)
{
    static collected c;

    c.buf[0] = '\0';
    pr_acronyms_learn(text, (int)strlen(text), add_pair, &c);
    return c.buf;
}

static void test_acronyms(void)
{
    CHECK_STR(learn("Le programme Entrepreneurs d’intérêt général (EIG) recrute."),
              "EIG=entrepreneurs d’intérêt général|entrepreneurs interet general");
    CHECK_STR(learn("la direction interministérielle du numérique (DINUM) pilote"),
              "DINUM=direction interministérielle du numérique|"
              "direction interministerielle numerique");
    CHECK_STR(learn("La DINUM (direction interministérielle du numérique) pilote"),
              "DINUM=direction interministérielle du numérique|"
              "direction interministerielle numerique");
    CHECK_STR(learn("Annotathon Pour des IA Francophones (PIAF)"),
              "PIAF=pour des IA francophones|ia francophones");
    CHECK_STR(learn("la direction générale des finances publiques (DGFiP) publie"),
              "DGFiP=direction générale des finances publiques|"
              "direction generale finances publiques");
    CHECK_STR(learn("la direction de l’information légale et administrative (DILA)"),
              "DILA=direction de l’information légale et administrative|"
              "direction information legale administrative");
    CHECK_STR(learn("Réseau interministériel de l'État (RIE)"),
              "RIE=réseau interministériel de l'état|reseau interministeriel etat");
    /* Nothing to learn. */
    CHECK_STR(learn("voir ci-dessous (ANNEXE)"), "");
    CHECK_STR(learn("le service (voir plus bas) ouvre"), "");
    CHECK_STR(learn("entrepreneurs. Intérêt général (EIG)"), "");  /* crosses a sentence */
    CHECK_STR(learn("(EIG)"), "");
    CHECK_STR(learn("du numérique (Num)"), "");                 /* not capitals */
    CHECK_STR(learn("le Numérique (NU)"), "");                  /* one word is no long form */
    CHECK_STR(learn("((((((((((EIG"), "");
}

static void test_simhash(void)
{
    const char *a = "Les réseaux de chaleur alimentent des quartiers entiers en eau chaude "
                    "produite par des chaufferies collectives, souvent au bois ou par "
                    "récupération de chaleur fatale. La carte publiée recense les tracés des "
                    "réseaux, leurs gestionnaires, leur taux d'énergies renouvelables et les "
                    "bâtiments qui peuvent s'y raccorder. Les collectivités s'en servent.";
    const char *b = "Le programme accompagne les administrations dans leurs projets. Les "
                    "équipes travaillent avec les agents publics sur des défis concrets pendant "
                    "dix mois. Elles conçoivent des services utiles aux usagers et partagent "
                    "leurs méthodes, leurs outils et leurs retours d'expérience avec les autres "
                    "ministères et les collectivités qui le souhaitent.";
    char a2[1024];
    uint64_t ha = pr_simhash(a, (int)strlen(a)), hb = pr_simhash(b, (int)strlen(b));

    snprintf(a2, sizeof a2, "%s Elle est ouverte.", a);
    CHECK(ha != 0 && hb != 0);
    CHECK(ha == pr_simhash(a, (int)strlen(a)));
    CHECK(__builtin_popcountll(ha ^ pr_simhash(a2, (int)strlen(a2))) <= PR_SIMHASH_MAX_BITS);
    CHECK(__builtin_popcountll(ha ^ hb) > PR_SIMHASH_MAX_BITS);
    CHECK(pr_simhash("trop court", 10) == 0);
    CHECK(pr_simhash("", 0) == 0);
}

static void test_strmap(void)
{
    strmap m;
    strmap_entry *e;
    char key[32];
    int i, added, ok = 1;

    strmap_init(&m);
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        e = strmap_put(&m, key, strlen(key), &added);
        ok &= e && added;
        if (e)
            e->n = i;
    }
    CHECK(ok);
    CHECK(m.len == 5000);
    e = strmap_put(&m, "k42", 3, &added);
    CHECK(e && !added && e->n == 42);
    CHECK(strmap_find(&m, "k4999", 5) && strmap_find(&m, "k4999", 5)->n == 4999);
    CHECK(strmap_find(&m, "k5000", 5) == NULL);
    CHECK(strmap_find(&m, "k4", 1) == NULL); /* "k": a prefix is not a key */
    for (i = 0, ok = 1; i < 5000; i++) { /* every key found again after 7 growths */
        snprintf(key, sizeof key, "k%d", i);
        e = strmap_find(&m, key, strlen(key));
        ok &= e && e->n == i && e->len == strlen(key) && !strcmp(e->key, key);
    }
    CHECK_MSG(ok, "strmap: 5,000 keys found with their values after growing");
    e = strmap_put(&m, "k1\0x", 4, &added); /* a key is its bytes, NUL included */
    CHECK(e && added && e->len == 4 && !memcmp(e->key, "k1\0x", 5));
    CHECK(strmap_find(&m, "k1", 2) && strmap_find(&m, "k1", 2)->n == 1);
    strmap_clear(&m);
    CHECK(m.len == 0 && strmap_find(&m, "k1", 2) == NULL);
    strmap_free(&m);
    CHECK(strmap_find(&m, "k1", 2) == NULL);
}

/* ---- duplicate groups: pr_derived_regroup() against a brute force ------ */

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* H with N bits flipped, spread over the 16-bit bands: 7 bits as 2+2+2+1
 * leave one band a single bit apart, the case the band search must find. */
static uint64_t flip_bits(uint64_t h, int n, uint64_t *rnd)
{
    int i;

    for (i = 0; i < n; i++) {
        int band = i % 4, bit = (int)(next_random(rnd) % 16);
        h ^= 1ULL << (16 * band + bit);
    }
    return h;
}

static int root_of(int *parent, int i)
{
    while (parent[i] != i)
        i = parent[i];
    return i;
}

static void unite(int *parent, int i, int j)
{
    int a = root_of(parent, i), b = root_of(parent, j);

    parent[a > b ? a : b] = a < b ? a : b;
}

static void test_regroup(void)
{
    enum { N = 3000 };
    static uint64_t h[N];
    static int has[N], parent[N], title[N], lead[N];
    sqlite3 *db;
    sqlite3_stmt *st;
    pr_error err;
    uint64_t rnd = 42;
    char want[N * 24], got[N * 24];
    size_t wl = 0, gl = 0;
    int i, j, nlead, ok = 1;

    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE documents(id INTEGER PRIMARY KEY, simhash INTEGER, title TEXT);"
                     "CREATE TABLE doc_dups(doc_id INTEGER, grp INTEGER)", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO documents VALUES (?, ?, ?)", -1, &st, NULL);
    for (i = 0; i < N; i++) {
        int base = i > 0 && next_random(&rnd) % 3 ? (int)(next_random(&rnd) % (uint64_t)i) : -1;
        char t[32];
        /* Pages near an earlier one at 0 to 12 bits, others anywhere; a
         * few without a fingerprint, a few with an earlier one's title. */
        h[i] = base >= 0 ? flip_bits(h[base], (int)(next_random(&rnd) % 13), &rnd)
                         : next_random(&rnd);
        has[i] = next_random(&rnd) % 20 != 0;
        title[i] = base >= 0 && next_random(&rnd) % 50 == 0 ? title[base] : i;
        snprintf(t, sizeof t, "Titre %d", title[i]);
        sqlite3_bind_int64(st, 1, i + 1);
        if (has[i])
            sqlite3_bind_int64(st, 2, (sqlite3_int64)h[i]);
        else
            sqlite3_bind_null(st, 2);
        sqlite3_bind_text(st, 3, t, -1, SQLITE_TRANSIENT);
        ok &= sqlite3_step(st) == SQLITE_DONE;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    CHECK(ok);
    pr_error_clear(&err);
    CHECK(pr_derived_regroup(db, &err) == 0);

    /* The same title joins; in page order, a page within 7 bits of an
     * earlier leader joins the nearest (the smaller among equals), else
     * leads; a group is named by its smallest page. */
    for (i = 0; i < N; i++)
        parent[i] = i;
    for (i = 0; i < N; i++)
        for (j = i + 1; j < N; j++)
            if (title[i] == title[j])
                unite(parent, i, j);
    nlead = 0;
    for (i = 0; i < N; i++) {
        int best = -1, bestd = PR_SIMHASH_MAX_BITS + 1;
        if (!has[i])
            continue;
        for (j = 0; j < nlead; j++) {
            int d = __builtin_popcountll(h[i] ^ h[lead[j]]);
            if (d < bestd) { /* leaders ascend: the smaller among equals */
                best = lead[j];
                bestd = d;
            }
        }
        if (best >= 0)
            unite(parent, i, best);
        else
            lead[nlead++] = i;
    }
    for (i = 0; i < N; i++) {
        int r = root_of(parent, i), alone = 1;
        for (j = 0; j < N && alone; j++)
            alone = j == i || root_of(parent, j) != r;
        if (!alone)
            wl += (size_t)snprintf(want + wl, sizeof want - wl, "%d:%d ", i + 1, r + 1);
    }
    sqlite3_prepare_v2(db, "SELECT doc_id, grp FROM doc_dups ORDER BY doc_id", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW)
        gl += (size_t)snprintf(got + gl, sizeof got - gl, "%lld:%lld ",
                               sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    CHECK(wl > 1000); /* many groups, of all kinds */
    CHECK_STR(got, want);
    sqlite3_close(db);
}

/* Near pages do not chain: B is 5 bits from A, C 5 from B and 10 from A:
 * A and B are one page twice, C is another page. */
static void test_regroup_no_chain(void)
{
    const uint64_t a = 0x0123456789abcdefULL;
    const uint64_t b = a ^ (1ULL << 0 | 1ULL << 16 | 1ULL << 32 | 1ULL << 48 | 1ULL << 1);
    const uint64_t c = b ^ (1ULL << 2 | 1ULL << 17 | 1ULL << 33 | 1ULL << 49 | 1ULL << 3);
    const uint64_t h[] = {a, b, c};
    char got[64] = "";
    size_t gl = 0;
    sqlite3 *db;
    sqlite3_stmt *st;
    pr_error err;
    int i;

    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE documents(id INTEGER PRIMARY KEY, simhash INTEGER, title TEXT);"
                     "CREATE TABLE doc_dups(doc_id INTEGER, grp INTEGER)", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO documents VALUES (?, ?, ?)", -1, &st, NULL);
    for (i = 0; i < 3; i++) {
        char t[16];
        snprintf(t, sizeof t, "Titre %d", i);
        sqlite3_bind_int64(st, 1, i + 1);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)h[i]);
        sqlite3_bind_text(st, 3, t, -1, SQLITE_TRANSIENT);
        CHECK(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    pr_error_clear(&err);
    CHECK(pr_derived_regroup(db, &err) == 0);
    sqlite3_prepare_v2(db, "SELECT doc_id, grp FROM doc_dups ORDER BY doc_id", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW)
        gl += (size_t)snprintf(got + gl, sizeof got - gl, "%lld:%lld ",
                               sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    CHECK_STR(got, "1:1 2:1 ");
    sqlite3_close(db);
}

/* ---- vocabulary counts: listed per page, or counted on the lexer -------- */

/* The text of page I: words shared by pages, spellings of one folded word
 * (État, état, ETAT), words of page I only, a stop word. */
static void page_text(int i, char *buf, size_t cap)
{
    static const char *const shared[] = {"État", "état", "ETAT", "numérique", "Numérique",
                                         "recrutement", "FranceConnect", "le", "talents"};
    size_t n = 0;
    int k;

    for (k = 0; k < 12 && n + 40 < cap; k++) /* words are letters only */
        n += (size_t)snprintf(buf + n, cap - n, "%s mot%c%c ", shared[(i * 7 + k) % 9],
                              'a' + i % 5, 'a' + k);
    snprintf(buf + n, cap - n, "unique%c%c", 'a' + i / 26, 'a' + i % 26);
}

/* The vocabulary rows (term form df) of 40 pages counted one way:
 * COUNT on the lexer (PR_FACTS_COUNT), MAX its cache size (0: default),
 * else listed in the facts and counted with pr_vocab_delta_count. */
static char *vocab_of(int count, size_t max)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    pr_derived *d;
    pr_lexer *lx = pr_lexer_new();
    pr_vocab_delta *v = pr_vocab_delta_new();
    pr_error err;
    char text[1024], *out = calloc(1, 65536);
    size_t n = 0;
    int i, rc = 0;

    if (sqlite3_open(":memory:", &db) != SQLITE_OK || !lx || !v || !out)
        return out;
    sqlite3_exec(db, "CREATE TABLE documents(id INTEGER PRIMARY KEY, simhash INTEGER, title TEXT,"
                     " headings TEXT, chapeau TEXT, body TEXT, taxonomy TEXT);"
                     "CREATE TABLE doc_dups(doc_id INTEGER, grp INTEGER);"
                     "CREATE TABLE doc_acronyms(doc_id, acronym, long_form, long_key);"
                     "CREATE TABLE vocab(term TEXT NOT NULL, form TEXT NOT NULL, df INTEGER NOT NULL,"
                     " PRIMARY KEY(term, form)) WITHOUT ROWID",
                 NULL, NULL, NULL);
    d = pr_derived_new(db);
    if (count)
        pr_lexer_count_into(lx, v);
    if (max)
        pr_lexer_set_max_entries(lx, max);
    for (i = 0; i < 40 && rc == 0; i++) {
        const char *cols[PR_FACT_COLS] = {"Titre", "", "", text, ""};
        int lens[PR_FACT_COLS] = {5, 0, 0, 0, 0};
        pr_page_facts f;
        page_text(i, text, sizeof text);
        lens[3] = (int)strlen(text);
        rc = pr_page_facts_compute(lx, cols, lens, count ? PR_FACTS_COUNT : 0, &f);
        if (rc == 0 && !count)
            rc = pr_vocab_delta_count(v, &f, +1);
        if (rc == 0)
            pr_page_facts_free(&f);
    }
    if (rc == 0 && count)
        rc = pr_lexer_flush_counts(lx);
    if (rc == 0 && d && pr_derived_merge(d, v, &err) == 0 && pr_derived_finish(d, &err) == 0 &&
        sqlite3_prepare_v2(db, "SELECT term, form, df FROM vocab ORDER BY 1, 2", -1, &st, NULL) ==
            SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && n + 200 < 65536)
            n += (size_t)snprintf(out + n, 65536 - n, "%s %s %d\n", sqlite3_column_text(st, 0),
                                  sqlite3_column_text(st, 1), sqlite3_column_int(st, 2));
        sqlite3_finalize(st);
    }
    pr_derived_free(d);
    sqlite3_close(db);
    pr_lexer_free(lx);
    pr_vocab_delta_free(v);
    return out;
}

static void test_vocab_counts(void)
{
    char *listed = vocab_of(0, 0), *counted = vocab_of(1, 0), *reset = vocab_of(1, 8);

    CHECK_MSG(listed && strstr(listed, "etat ETAT 4\netat état 36\n") &&
                  strstr(listed, "uniquebn uniquebn 1\n") && strstr(listed, "motaa motaa 8\n") &&
                  !strstr(listed, "\nle "),
              "vocabulary: each folded word once a page, under its first form, no stop word");
    CHECK_MSG(listed && counted && !strcmp(listed, counted),
              "vocabulary counted on the lexer = listed and counted per page");
    CHECK_MSG(listed && reset && !strcmp(listed, reset),
              "... also when the lexer's cache resets between pages (8 spellings)");
    free(listed);
    free(counted);
    free(reset);
}

int main(void)
{
    test_words();
    test_acronyms();
    test_simhash();
    test_strmap();
    test_vocab_counts();
    test_regroup();
    test_regroup_no_chain();
    return unit_done();
}
