/*
 * test_search.c - pr_search() end to end on a real index (the fixture of
 * search_fixture.h): ranking (title beats body, newer first on ties),
 * filters, facets over the whole match set, pagination and exact total,
 * the JSON shape of SPEC section 7, suggestions, stats and refresh.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "search.h"
#include "synonyms.h"
#include "search_fixture.h"
#include "unit.h"

static pr_searcher *S;

/* Run a search; NULL when it failed (message in ERR). */
static json_t *run(pr_search_request *req, pr_error *err)
{
    json_t *res = NULL;

    if (pr_search(S, req, &res, err) != PR_SEARCH_OK)
        return NULL;
    return res;
}

static long long facet(json_t *res, const char *kind, const char *key);

static json_t *q(const char *text)
{
    pr_search_request req;
    pr_error err;

    pr_search_request_init(&req);
    req.q = text;
    return run(&req, &err);
}

static const char *hit_path(json_t *res, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(res, "hits"), i),
                                             "path"));
}

static long long total(json_t *res)
{
    return json_integer_value(json_object_get(res, "total"));
}

static void test_json_shape(void)
{
    static const char *const top[] = {"query", "total", "offset", "limit", "took_ms",
                                      "hits", "facets", "suggestion"};
    static const char *const hitk[] = {"path", "url", "collection", "title", "title_html",
                                       "date", "categories", "tags", "snippet_html", "score",
                                       "duplicates"};
    json_t *res = q("EIG recrutement"), *hit;
    const char *key;
    json_t *v;
    size_t i = 0;
    char *dump;

    if (!CHECK(res != NULL))
        return;
    json_object_foreach(res, key, v) {
        CHECK_STR_MSG(key, i < 8 ? top[i] : "(none)", "top-level keys in SPEC order");
        i++;
    }
    CHECK(i == 8);
    CHECK_STR(json_string_value(json_object_get(res, "query")), "EIG recrutement");
    CHECK(json_is_integer(json_object_get(res, "total")));
    CHECK(json_is_real(json_object_get(res, "took_ms")));
    CHECK(json_is_null(json_object_get(res, "suggestion")));
    hit = json_array_get(json_object_get(res, "hits"), 0);
    i = 0;
    json_object_foreach(hit, key, v) {
        CHECK_STR_MSG(key, i < 11 ? hitk[i] : "(none)", "hit keys in SPEC order");
        i++;
    }
    CHECK(i == 11);
    CHECK_STR(hit_path(res, 0), "_communiques/2021-03-01-eig-recrute.md");
    CHECK_STR(json_string_value(json_object_get(hit, "date")), "2021-03-01");
    CHECK(json_is_array(json_object_get(hit, "categories")));
    CHECK_STR(json_string_value(json_array_get(json_object_get(hit, "tags"), 0)), "EIG");
    CHECK(json_is_real(json_object_get(hit, "score")));
    CHECK(json_array_size(json_object_get(hit, "duplicates")) == 0);
    CHECK(strstr(json_string_value(json_object_get(hit, "title_html")),
                 "<mark>recrute</mark>") != NULL);
    CHECK(strstr(json_string_value(json_object_get(hit, "snippet_html")), "<mark>EIG</mark>") !=
          NULL);
    v = json_object_get(res, "facets");
    CHECK(json_is_object(json_object_get(v, "collection")));
    CHECK(json_is_object(json_object_get(v, "categories")));
    CHECK(json_is_object(json_object_get(v, "tags")));
    CHECK(json_is_object(json_object_get(v, "year")));
    dump = pr_json_dump(res);
    CHECK(dump && !strncmp(dump, "{\"query\":\"EIG recrutement\",\"total\":", 35));
    CHECK(dump && !strchr(dump, '\n'));
    free(dump);
    json_decref(res);
    /* Undated document: date is null. */
    res = q("salon");
    CHECK(res && total(res) == 1);
    CHECK(res && json_is_null(json_object_get(json_array_get(json_object_get(res, "hits"), 0),
                                              "date")));
    json_decref(res);
}

static void test_ranking(void)
{
    json_t *res = q("accessibilité");

    /* Title beats the same word deep in a long body (same date). */
    CHECK(res && total(res) == 2);
    CHECK_STR(hit_path(res, 0), "_actualites/2021-09-01-accessibilite.md");
    CHECK_STR(hit_path(res, 1), "_actualites/2021-09-01-bilan.md");
    json_decref(res);
    /* Same text, two dates: newer first (distinct=0, or they fold). */
    {
        pr_search_request req;
        pr_error err;
        pr_search_request_init(&req);
        req.q = "hackathon";
        req.distinct = 0;
        res = run(&req, &err);
    }
    CHECK(res && total(res) == 2);
    CHECK_STR(hit_path(res, 0), "_communiques/2023-02-01-hackathon.md");
    CHECK_STR(hit_path(res, 1), "_communiques/2018-02-01-hackathon.md");
    json_decref(res);
    /* Accents, case, elision: the same hits. */
    {
        json_t *a = q("etat"), *b = q("l'État"), *c = q("ÉTAT");
        CHECK(a && b && c && total(a) > 0 && total(a) == total(b) && total(a) == total(c));
        for (size_t i = 0; a && b && c && i < (size_t)total(a); i++) {
            CHECK_STR(hit_path(a, i), hit_path(b, i));
            CHECK_STR(hit_path(a, i), hit_path(c, i));
        }
        json_decref(a);
        json_decref(b);
        json_decref(c);
    }
}

static void test_query_language(void)
{
    json_t *res;

    res = q("cloud");
    CHECK(res && total(res) == 2);
    json_decref(res);
    res = q("cloud -webinaire");
    CHECK(res && total(res) == 1);
    CHECK_STR(hit_path(res, 0), "_publications/2022-05-02-souverainete.md");
    json_decref(res);
    /* Exclusion alone: everything else, newest first. */
    res = q("-webinaire");
    CHECK(res && total(res) == FX_DISTINCT - 1);
    CHECK_STR(hit_path(res, 0), "_communiques/2023-02-01-hackathon.md");
    json_decref(res);
    res = q("franceconnect OR hackathon");
    CHECK(res && total(res) == 2); /* the hackathon twice: one page */
    json_decref(res);
    res = q("\"talents du numérique\"");
    CHECK(res && total(res) == 1);
    json_decref(res);
    res = q("\"numérique talents\"");
    CHECK(res && total(res) == 0);
    json_decref(res);
    res = q("recru*");
    CHECK(res && total(res) == 2);
    json_decref(res);
    res = q("3 500");
    CHECK(res && total(res) == 1);
    json_decref(res);
    res = q("porte-parole");
    CHECK(res && total(res) == 1);
    json_decref(res);
    /* Stop words alone: no hits, no error. */
    res = q("le la les");
    CHECK(res && total(res) == 0);
    CHECK(res && json_array_size(json_object_get(res, "hits")) == 0);
    json_decref(res);
    res = q("");
    CHECK(res && total(res) == 0);
    json_decref(res);
}

/* No hits as typed: the corrected query's hits, and the suggestion. */
static void test_spelling(void)
{
    json_t *res = q("hackaton");

    CHECK(res && total(res) == 1); /* one page (published twice) */
    CHECK_STR(json_string_value(json_object_get(res, "suggestion")), "hackathon");
    CHECK_STR(json_string_value(json_object_get(res, "query")), "hackaton");
    CHECK_STR(hit_path(res, 0), "_communiques/2023-02-01-hackathon.md");
    json_decref(res);
    res = q("acessibilite");
    CHECK(res && total(res) == 2);
    CHECK_STR(json_string_value(json_object_get(res, "suggestion")), "accessibilite");
    json_decref(res);
    /* Found as typed: no suggestion, even with few hits. */
    res = q("hackathon");
    CHECK(res && json_is_null(json_object_get(res, "suggestion")));
    json_decref(res);
    /* Nothing close: no hits, no suggestion. */
    res = q("zzyzxqwv");
    CHECK(res && total(res) == 0 && json_is_null(json_object_get(res, "suggestion")));
    json_decref(res);
    /* Phrases and short words are left as typed. */
    res = q("\"hackaton\"");
    CHECK(res && total(res) == 0 && json_is_null(json_object_get(res, "suggestion")));
    json_decref(res);
}

/* The same page twice: one hit, the other URL in its duplicates. */
static void test_duplicates(void)
{
    pr_search_request req;
    pr_error err;
    json_t *res, *dups;

    res = q("tchap");
    CHECK(res && total(res) == 1);
    dups = json_object_get(json_array_get(json_object_get(res, "hits"), 0), "duplicates");
    CHECK(json_array_size(dups) == 1);
    CHECK_STR(json_string_value(json_array_get(dups, 0)), "/_evenements/tchap.md/");
    CHECK_STR(hit_path(res, 0), "_publications/tchap-bis.md"); /* newer, as good a match */
    CHECK(facet(res, "collection", "publications") == 1);
    CHECK(facet(res, "collection", "evenements") == 0);
    json_decref(res);
    pr_search_request_init(&req);
    req.q = "tchap";
    req.distinct = 0;
    res = run(&req, &err);
    CHECK(res && total(res) == 2);
    CHECK(json_array_size(json_object_get(json_array_get(json_object_get(res, "hits"), 0),
                                          "duplicates")) == 0);
    json_decref(res);
}

static void test_filters(void)
{
    pr_search_request req;
    pr_error err;
    json_t *res;

    res = q("tag:eig");
    CHECK(res && total(res) == 2);
    json_decref(res);
    res = q("tag:EIG recrute");
    CHECK(res && total(res) == 2);
    json_decref(res);
    res = q("-tag:EIG hackathon");
    CHECK(res && total(res) == 1);
    json_decref(res);
    res = q("category:\"communique de presse\"");
    CHECK(res && total(res) == 2);
    json_decref(res);
    res = q("collection:actualites year:2021");
    CHECK(res && total(res) == 2);
    json_decref(res);
    res = q("after:2021-01-01 before:2021-12-31");
    CHECK(res && total(res) == 3);
    json_decref(res);
    res = q("cloud year:2019");
    CHECK(res && total(res) == 1);
    json_decref(res);
    /* Request parameters. */
    pr_search_request_init(&req);
    req.q = "hackathon";
    req.after = "2020";
    res = run(&req, &err);
    CHECK(res && total(res) == 1);
    json_decref(res);
    pr_search_request_init(&req);
    req.q = "";
    req.tag = "Cloud";
    req.collection = "ACTUALITES";
    res = run(&req, &err);
    CHECK(res && total(res) == 1);
    json_decref(res);
    pr_search_request_init(&req);
    req.q = "cloud";
    req.category = "Publication";
    res = run(&req, &err);
    CHECK(res && total(res) == 1);
    json_decref(res);
    pr_search_request_init(&req);
    req.q = "cloud";
    req.before = "hier";
    CHECK(pr_search(S, &req, &res, &err) == PR_SEARCH_BAD_REQUEST);
    CHECK_STR(err.message, "bad date for before: expected YYYY-MM-DD");
    req.before = NULL;
    req.limit = 0;
    CHECK(pr_search(S, &req, &res, &err) == PR_SEARCH_BAD_REQUEST);
    req.limit = 101;
    CHECK(pr_search(S, &req, &res, &err) == PR_SEARCH_BAD_REQUEST);
    req.limit = 10;
    req.offset = -1;
    CHECK(pr_search(S, &req, &res, &err) == PR_SEARCH_BAD_REQUEST);
}

static long long facet(json_t *res, const char *kind, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(json_object_get(res, "facets"),
                                                              kind), key));
}

static void test_facets_pagination(void)
{
    pr_search_request req;
    pr_error err;
    json_t *res, *all;
    int i;

    /* "-zzz": everything, in pages of 2. */
    pr_search_request_init(&req);
    req.q = "-zzzz";
    req.limit = 100;
    all = run(&req, &err);
    CHECK(all && total(all) == FX_DISTINCT);
    for (i = 0; all && i < FX_DISTINCT; i += 2) {
        req.limit = 2;
        req.offset = i;
        res = run(&req, &err);
        CHECK(res && total(res) == FX_DISTINCT);
        CHECK(res && (int)json_array_size(json_object_get(res, "hits")) ==
                         (FX_DISTINCT - i < 2 ? FX_DISTINCT - i : 2));
        CHECK_STR(hit_path(res, 0), hit_path(all, i));
        /* Facets count the whole match set, not the page. */
        CHECK(facet(res, "collection", "actualites") == 4);
        CHECK(facet(res, "collection", "communiques") == 2); /* a hackathon folded */
        CHECK(facet(res, "tags", "EIG") == 2);
        CHECK(facet(res, "categories", "Communiqué de presse") == 2);
        CHECK(facet(res, "year", "2021") == 3);
        json_decref(res);
    }
    json_decref(all);
    req.offset = 50;
    res = run(&req, &err);
    CHECK(res && total(res) == FX_DISTINCT && json_array_size(json_object_get(res, "hits")) == 0);
    json_decref(res);
    /* Facet keys in display order: most frequent first, years newest first. */
    res = q("-zzzz");
    {
        const char *key, *first = NULL;
        json_t *v;
        json_object_foreach(json_object_get(json_object_get(res, "facets"), "collection"), key, v) {
            if (!first)
                first = key;
        }
        CHECK_STR(first, "actualites");
        first = NULL;
        json_object_foreach(json_object_get(json_object_get(res, "facets"), "year"), key, v) {
            if (!first)
                first = key;
        }
        CHECK_STR(first, "2023");
    }
    json_decref(res);
}

static void test_suggest_stats(const char *path)
{
    json_t *res = NULL, *sug;
    pr_error err;
    long long docs = -1, mtime = -1;

    CHECK(pr_suggest(S, "hack", 8, &res, &err) == PR_SEARCH_OK);
    sug = json_object_get(res, "suggestions");
    CHECK(json_array_size(sug) >= 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(sug, 0), "title")),
              "Hackathon des données ouvertes");
    CHECK(json_is_string(json_object_get(json_array_get(sug, 0), "url")));
    CHECK_STR(json_string_value(json_object_get(res, "query")), "hack");
    json_decref(res);
    CHECK(pr_suggest(S, "", 8, &res, &err) == PR_SEARCH_OK);
    CHECK(json_array_size(json_object_get(res, "suggestions")) == 0);
    json_decref(res);
    CHECK(pr_suggest(S, "\"; DROP", 8, &res, &err) == PR_SEARCH_OK);
    json_decref(res);
    CHECK(pr_searcher_stats(S, &docs, &mtime) == 0);
    CHECK(docs == FX_NDOCS);
    CHECK(mtime > 0);
    CHECK(pr_searcher_refresh(S, 0, &err) == 0);
    CHECK(pr_searcher_refresh(S, 1, &err) == 1);
    res = q("hackathon");
    CHECK(res && total(res) == 1);
    json_decref(res);
    (void)path;
}

static void test_open_errors(void)
{
    pr_error err;

    CHECK(pr_searcher_open("/nonexistent/prsearch.db", NULL, &err) == NULL);
    CHECK(strstr(err.message, "no index at /nonexistent/prsearch.db") != NULL);
}


/* Acronyms learned from the pages: DINUM finds the page that only spells
 * "direction interministérielle du numérique", below the literal one, and
 * the long form finds the acronym's pages. */
static void test_acronyms(void)
{
    json_t *res = q("DINUM");

    CHECK(res && total(res) == 2);
    CHECK_STR(hit_path(res, 0), "pages/2017-05-01-dinum.md");
    CHECK_STR(hit_path(res, 1), "pages/2017-06-01-pilotage.md");
    CHECK(res && strstr(json_string_value(json_object_get(json_array_get(
                            json_object_get(res, "hits"), 1), "snippet_html")),
                        "<mark>") != NULL); /* the long form is highlighted */
    json_decref(res);
    res = q("dinum");
    CHECK(res && total(res) == 2);
    json_decref(res);
    res = q("direction interministerielle numerique");
    CHECK(res && total(res) == 2);
    json_decref(res);
    /* Quoted: as typed, no expansion of the phrase's words. */
    res = q("\"dinum\"");
    CHECK(res && total(res) == 1);
    json_decref(res);
}

/* Near-identical bodies under two titles: one hit, the newest, the other
 * URL in its duplicates; distinct=0 shows both. */
static void test_near_duplicates(void)
{
    pr_search_request req;
    pr_error err;
    json_t *res = q("chaleur"), *dups;

    CHECK(res && total(res) == 1);
    CHECK_STR(hit_path(res, 0), "pages/2017-09-20-reseaux.md");
    dups = json_object_get(json_array_get(json_object_get(res, "hits"), 0), "duplicates");
    CHECK(json_array_size(dups) == 1);
    CHECK_STR(json_string_value(json_array_get(dups, 0)), "/pages/2017-09-01-chaleur.md/");
    json_decref(res);
    pr_search_request_init(&req);
    req.q = "chaleur";
    req.distinct = 0;
    res = run(&req, &err);
    CHECK(res && total(res) == 2);
    json_decref(res);
}

/* As you type: titles first (FranceConnect for "francecon"), then words
 * as written in the pages (accents kept), and prefix=1 searches. */
static void test_as_you_type(void)
{
    pr_search_request req;
    pr_error err;
    json_t *res = NULL, *sug;
    size_t i, terms = 0;
    int accented = 0;

    CHECK(pr_suggest(S, "francecon", 8, &res, &err) == PR_SEARCH_OK);
    sug = json_object_get(res, "suggestions");
    CHECK(json_array_size(sug) >= 1);
    CHECK(strstr(json_string_value(json_object_get(json_array_get(sug, 0), "title")),
                 "FranceConnect") != NULL);
    json_decref(res);
    CHECK(pr_suggest(S, "souverai", 8, &res, &err) == PR_SEARCH_OK);
    sug = json_object_get(res, "suggestions");
    for (i = 0; i < json_array_size(sug); i++) {
        const json_t *e = json_array_get(sug, i);
        if (json_is_null(json_object_get(e, "url"))) {
            terms++;
            accented |= !strcmp(json_string_value(json_object_get(e, "text")), "souveraineté");
        }
    }
    CHECK(terms >= 1);
    CHECK_MSG(accented, "the term is shown as written: souveraineté");
    json_decref(res);
    CHECK(pr_suggest(S, "entrepreneurs d'int", 8, &res, &err) == PR_SEARCH_OK);
    CHECK(json_array_size(json_object_get(res, "suggestions")) >= 1);
    json_decref(res);
    pr_search_request_init(&req);
    req.q = "souverai";
    req.prefix = 1;
    res = run(&req, &err);
    /* The stem of the prefix is tried too (SPEC 3.9): "souv" also meets
     * "souvent"; the pages about sovereignty come first. */
    CHECK(res && total(res) >= 2);
    CHECK_STR(hit_path(res, 0), "_publications/2022-05-02-souverainete.md");
    json_decref(res);
    req.q = "la messagerie de l'Ét";
    res = run(&req, &err);
    CHECK(res && total(res) == 1);
    json_decref(res);
}

/* The synonyms file, stored in the index: seen by a searcher already open
 * (the index changed), groups work both ways, "!X" forgets a learned pair. */
static void test_synonyms(const char *path)
{
    pr_error err;
    sqlite3 *db = pr_index_open(path, 0, &err);
    json_t *res;

    CHECK(db != NULL);
    CHECK(db && sqlite3_exec(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('synonyms',"
                                 " '# test\nnuage = cloud\nbilan => webinaire\n!DINUM\n')",
                             NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    res = q("nuage");
    CHECK(res && total(res) == 2);
    json_decref(res);
    res = q("bilan");
    CHECK(res && total(res) == 2);
    json_decref(res);
    res = q("webinaire");
    CHECK(res && total(res) == 1); /* one way */
    json_decref(res);
    res = q("DINUM");
    CHECK(res && total(res) == 1); /* the learned pair is forgotten */
    json_decref(res);
    CHECK(pr_synonyms_check("a = b\n# c\n!X\nx => y z\n", &err) == 0);
    CHECK(pr_synonyms_check("a = b\nnonsense\n", &err) == -1 && err.line == 2);
    CHECK(pr_synonyms_check("a =\n", &err) == -1 && err.line == 1);
    CHECK(pr_synonyms_check("a => b => c\n", &err) == -1);
}

/*
 * The searcher's page table (search_docs.c) follows the index: pages added
 * by another connection are found, filtered and counted at the next
 * search. Then paging through many equal hits: the first offset + limit
 * are ordered by a heap (search.c order_hits), pages must join up exactly
 * with one long page.
 */
static void check_duplicate_order(json_t *res, int n);

static void test_page_table(const char *path)
{
    enum { NEW = 60 };
    static char paths[NEW][32], dates[NEW][16];
    pr_search_request req;
    pr_error err;
    sqlite3 *db = pr_index_open(path, 0, &err);
    json_t *res, *all, *page;
    int i, ok = db != NULL;

    CHECK_MSG(ok, "a second connection writes the index");
    if (!ok)
        return;
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (i = 0; i < NEW && ok; i++) {
        fx_doc d = {paths[i], "actualites", "Zeppelin et dirigeables", dates[i],
                    {"Article", NULL, NULL}, {"aerostat", NULL, NULL},
                    NULL, NULL, "Un zeppelin survole la ville."};
        snprintf(paths[i], sizeof paths[i], "_actualites/zep-%02d.md", i);
        /* two pages a day: ties on date, broken by id */
        snprintf(dates[i], sizeof dates[i], "2019-03-%02d", 1 + i / 2);
        ok = fx_add(db, &d) == 0;
    }
    ok = ok && pr_derived_regroup(db, &err) == 0; /* as the indexer does */
    ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    CHECK_MSG(ok, "60 pages added");

    /* same titles: each page once would fold the 60 into one hit */
    pr_search_request_init(&req);
    req.distinct = 0;
    req.q = "tag:aerostat";
    res = run(&req, &err);
    CHECK_MSG(res && total(res) == NEW, "new pages found by a filter at the next search");
    CHECK(facet(res, "year", "2019") == NEW);
    json_decref(res);
    req.q = "zeppelin after:2019-03-16 before:2019-03-20";
    res = run(&req, &err);
    CHECK_MSG(res && total(res) == 10, "date filters on the page table: 5 days, 2 pages a day");
    json_decref(res);
    req.q = "-zeppelin tag:aerostat";
    res = run(&req, &err);
    CHECK_MSG(res && total(res) == 0, "exclusion with only a filter");
    json_decref(res);
    req.q = "tag:aerostat -category:article";
    res = run(&req, &err);
    CHECK_MSG(res && total(res) == 0, "negated facet filter with only filters");
    json_decref(res);

    pr_search_request_init(&req);
    req.q = "zeppelin";
    req.distinct = 0; /* same titles: no folding, 60 hits */
    req.limit = 60;
    all = run(&req, &err);
    CHECK(all && total(all) == NEW);
    for (i = 0; all && i < NEW; i += 7) {
        req.offset = i;
        req.limit = 7;
        page = run(&req, &err);
        int same = page != NULL;
        for (int k = 0; same && k < 7 && i + k < NEW; k++)
            same = !strcmp(hit_path(page, (size_t)k), hit_path(all, (size_t)(i + k)));
        CHECK_MSG(same, "a page of 7 hits: the same as that part of one long page");
        json_decref(page);
    }
    json_decref(all);
    req.offset = 0;
    req.limit = 10;
    req.distinct = 1;
    res = run(&req, &err);
    CHECK_MSG(res && total(res) == 1, "same title: the 60 pages fold into one hit");
    CHECK(res && json_array_size(json_object_get(json_array_get(json_object_get(res, "hits"), 0),
                                                 "duplicates")) == NEW - 1);
    check_duplicate_order(res, NEW);
    json_decref(res);
}

/*
 * Equal pages, two a day: the hit shows the newest (of the last day's two,
 * the smaller id: zep-58); its duplicates come best ranked first: the
 * newer first (recency), within a day the smaller id: zep-59, zep-56,
 * zep-57, zep-54... (search.c fold_duplicates, chain_group).
 */
static void check_duplicate_order(json_t *res, int n)
{
    json_t *hit = json_array_get(json_object_get(res, "hits"), 0);
    json_t *dups = json_object_get(hit, "duplicates");
    int k = 0, ok = !strcmp(hit_path(res, 0), "_actualites/zep-58.md");

    for (int day = n / 2 - 1; ok && day >= 0; day--)
        for (int j = 0; ok && j < 2; j++) {
            char url[64];
            if (2 * day + j == 58)
                continue;
            snprintf(url, sizeof url, "/_actualites/zep-%02d.md/", 2 * day + j);
            ok = !strcmp(json_string_value(json_array_get(dups, (size_t)k++)) ?: "", url);
        }
    CHECK_MSG(ok, "folded pages: the newest shown, the others best ranked first");
}

/* The score of every hit of RES, to compare two answers. */
static int same_scores(json_t *a, json_t *b)
{
    json_t *ha = json_object_get(a, "hits"), *hb = json_object_get(b, "hits");
    size_t i;

    if (!a || !b || total(a) != total(b) || json_array_size(ha) != json_array_size(hb))
        return 0;
    for (i = 0; i < json_array_size(ha); i++)
        if (json_real_value(json_object_get(json_array_get(ha, i), "score")) !=
                json_real_value(json_object_get(json_array_get(hb, i), "score")) ||
            strcmp(hit_path(a, i), hit_path(b, i)))
            return 0;
    return 1;
}

/*
 * Matches found by walking each phrase's pages (search_walk.c) against
 * the same queries row by row through SQL (match_walk = 0): the same
 * pages, the same scores (title signals included), the same order; for
 * every shape the walk takes (a word, a prefix, a phrase, OR, AND, AND of
 * ORs, NOT, an acronym and its long form) and for those it leaves to the
 * SQL (an AND inside an OR).
 */
static void test_match_walk(const char *path)
{
    static const char *const qs[] = {
        "cloud", "donn*", "\"données ouvertes\"", "cloud year:2019", "numérique", "nuage",
        "cloud OR souveraineté", "cloud souveraineté", "talents numérique",
        "entrepreneurs interet general", "EIG", "EIG recrutement", "eig -hackathon",
        "(cloud OR hackathon) données", "cloud -webinaire", "franceconnect OR \"cloud au centre\"",
        "données -ouvertes -hackathon", "réseaux chaleur", "hack*", "c*",
        "direction interministerielle numerique", "DINUM", "direction"};
    pr_search_config cfg;
    pr_search_request req;
    pr_searcher *sql;
    pr_error err;
    char what[160];

    pr_search_config_init(&cfg);
    cfg.time_budget_ms = 0;
    cfg.match_walk = 0;
    sql = pr_searcher_open(path, &cfg, &err);
    if (!CHECK_MSG(sql != NULL, "a searcher without the walk"))
        return;
    pr_search_request_init(&req);
    req.distinct = 0;
    req.limit = 100;
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        json_t *a, *b = NULL;
        req.q = qs[i];
        a = run(&req, &err);
        if (pr_search(sql, &req, &b, &err) != PR_SEARCH_OK)
            b = NULL;
        snprintf(what, sizeof what, "walked and row by row: the same answer: %s", qs[i]);
        CHECK_MSG(a && b && same_scores(a, b), what);
        snprintf(what, sizeof what, "the fixture has pages for %s", qs[i]);
        CHECK_MSG(!strcmp(qs[i], "nuage") || (a && total(a) > 0), what);
        json_decref(a);
        json_decref(b);
    }
    pr_searcher_close(sql);
}

/*
 * The page table remembers how many pages each phrase of a query matches
 * (bm25's IDF, search_rank.c): when pages with the word are added, a
 * searcher that ran the query before must count again, and score as a
 * searcher opened afresh does.
 */
static void test_phrase_counts(const char *path)
{
    enum { NEW = 5 };
    static char paths[NEW][32];
    pr_search_request req;
    pr_search_config cfg;
    pr_searcher *fresh;
    pr_error err;
    sqlite3 *db;
    json_t *before, *after, *expect = NULL;
    int i, ok;

    pr_search_request_init(&req);
    req.q = "cloud";
    req.distinct = 0; /* the new pages are equal: count each */
    before = run(&req, &err);
    before = before ? before : json_object();
    json_decref(run(&req, &err)); /* counted, then remembered */
    db = pr_index_open(path, 0, &err);
    ok = db && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    for (i = 0; i < NEW && ok; i++) {
        fx_doc d = {paths[i], "actualites", "Nuages", "2018-01-01", {"Article", NULL, NULL},
                    {"meteo", NULL, NULL}, NULL, NULL, "Le cloud et les nuages."};
        snprintf(paths[i], sizeof paths[i], "_actualites/nuage-%d.md", i);
        ok = fx_add(db, &d) == 0;
    }
    ok = ok && pr_derived_regroup(db, &err) == 0;
    ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    CHECK_MSG(ok, "5 pages with the word added");
    after = run(&req, &err);
    pr_search_config_init(&cfg);
    cfg.time_budget_ms = 0;
    fresh = pr_searcher_open(path, &cfg, &err);
    if (fresh && pr_search(fresh, &req, &expect, &err) != PR_SEARCH_OK)
        expect = NULL;
    CHECK_MSG(after && total(after) == total(before) + NEW, "the new pages are found");
    CHECK_MSG(same_scores(after, expect), "scores after the change: as a fresh searcher's");
    CHECK_MSG(!same_scores(before, after), "scores before the change differ");
    json_decref(before);
    json_decref(after);
    json_decref(expect);
    pr_searcher_close(fresh);
}

/* Facet values go into JSON as keys: as they are when they can be, else
 * repaired as every text of an answer is (a control character a space,
 * an invalid byte U+FFFD). */
static void test_facet_keys(const char *path)
{
    fx_doc d = {"_actualites/ballon.md", "actualites", "Ballon captif", "2018-05-02",
                {"Article", NULL, NULL}, {"ballon\tcaptif", "ballon\xff", "ballon rouge"},
                NULL, NULL, "Un ballon captif au-dessus du parc."};
    pr_error err;
    sqlite3 *db = pr_index_open(path, 0, &err);
    json_t *res;
    int ok = db != NULL && fx_add(db, &d) == 0;

    sqlite3_close(db);
    CHECK_MSG(ok, "a page with odd tags added");
    res = q("ballon captif");
    CHECK(res && total(res) == 1);
    CHECK(facet(res, "tags", "ballon captif") == 1);
    CHECK(facet(res, "tags", "ballon\xEF\xBF\xBD") == 1);
    CHECK(facet(res, "tags", "ballon rouge") == 1);
    json_decref(res);
}

/* A hit's categories and tags are its stored lists' strings (SPEC section
 * 7), whichever way they are read: the flat plain lists the indexer
 * writes are split directly, anything else goes through jansson, and
 * both must give what jansson alone gives (non-strings dropped, [] for
 * what is not a list). */
static void test_stored_lists(const char *path)
{
    static const char *const stored[] = {
        "[]", "[\"a\"]", "[\"a\",\"b\"]", "[\"\",\"\"]",
        "[\"\xC3\xA9t\xC3\xA9\",\"l\xE2\x80\x99\xC3\x89tat\"]",
        "[\"say \\\"hi\\\"\"]", "[\"back\\\\slash\",\"x\"]", "[\"\\u00e9\"]", "[ \"a\" , \"b\" ]",
        "[\"a\",1,\"b\"]", "[\"a\",]", "[\"a\"", "[\"a\"]x", "\"a\"", "[\"a\"\"b\"]", "[,\"a\"]",
        "[\"\xFF\"]", "[\"a\tb\"]", "[\"a\x7F\"]", "[\"\xC3\"]", "[\"\xED\xA0\x80\"]", "", "[\"]",
        "[\"a]\",\"[b\"]", "{\"a\":1}", "[[\"a\"]]",
    };
    fx_doc d = {"_actualites/xylocope.md", "actualites", "Xylocope", "2018-05-03",
                {"Article", NULL, NULL}, {"dirigeable", NULL, NULL},
                NULL, NULL, "Un xylocope au-dessus du parc."};
    pr_error err;
    sqlite3 *db = pr_index_open(path, 0, &err);
    int ok = db != NULL && fx_add(db, &d) == 0;

    CHECK_MSG(ok, "a page to store lists in");
    for (size_t i = 0; ok && i < sizeof stored / sizeof *stored; i++) {
        sqlite3_stmt *st = NULL;
        json_t *res, *got, *want = json_array(), *parsed, *v;
        size_t k;
        char what[80];

        ok = sqlite3_prepare_v2(db, "UPDATE documents SET tags = ? WHERE path = ?", -1, &st,
                                NULL) == SQLITE_OK;
        sqlite3_bind_text(st, 1, stored[i], (int)strlen(stored[i]), SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d.path, -1, SQLITE_STATIC);
        ok = ok && sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
        parsed = json_loadb(stored[i], strlen(stored[i]), 0, NULL);
        if (json_is_array(parsed))
            json_array_foreach(parsed, k, v)
                if (json_is_string(v))
                    json_array_append(want, v);
        json_decref(parsed);
        res = q("xylocope");
        got = json_object_get(json_array_get(json_object_get(res, "hits"), 0), "tags");
        snprintf(what, sizeof what, "stored tags, case %zu, read as jansson reads them", i);
        CHECK_MSG(ok && res && total(res) == 1 && json_equal(got, want), what);
        json_decref(want);
        json_decref(res);
    }
    sqlite3_close(db);
}

int main(void)
{
    char path[256];
    pr_search_config cfg;
    pr_error err;

    if (!CHECK_MSG(fx_build(path, sizeof path) == 0, "fixture index built"))
        return unit_done();
    pr_search_config_init(&cfg);
    cfg.time_budget_ms = 0; /* correctness here; valgrind is slow */
    S = pr_searcher_open(path, &cfg, &err);
    if (CHECK_MSG(S != NULL, "searcher opens")) {
        test_json_shape();
        test_ranking();
        test_query_language();
        test_spelling();
        test_duplicates();
        test_filters();
        test_facets_pagination();
        test_suggest_stats(path);
        test_acronyms();
        test_near_duplicates();
        test_as_you_type();
        test_synonyms(path);
        test_page_table(path);
        test_phrase_counts(path);
        test_match_walk(path);
        test_facet_keys(path);
        test_stored_lists(path);
        pr_searcher_close(S);
    }
    test_open_errors();
    fx_remove(path);
    return unit_done();
}
