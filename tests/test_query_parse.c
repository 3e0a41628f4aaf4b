/*
 * test_query_parse.c - the query language (lib/query_parse.c): what the
 * parser makes of ordinary queries, and a table of nasty inputs each RUN
 * through pr_search() against a real index, where FTS5 must accept every
 * expression produced: hits or no hits, never an error except "too long".
 */
#include <stdlib.h>
#include <string.h>

#include "query_parse.h"
#include "search.h"
#include "search_fixture.h"
#include "unit.h"

static fr_tokenizer *tok;

/* Parse Q with default limits; returns 0 or -1. */
static int parse(const char *q, pr_query *out, int prefix)
{
    pr_query_limits lim = {1024, 32, prefix, NULL, NULL, NULL};
    pr_error err;

    return query_parse(q, strlen(q), &lim, tok, out, &err);
}

static void check_match(const char *q, const char *want_match, const char *want_exclude)
{
    pr_query pq;
    char what[256];

    snprintf(what, sizeof what, "parse [%s]", q);
    if (!CHECK_MSG(parse(q, &pq, 0) == 0, what))
        return;
    snprintf(what, sizeof what, "match of [%s]", q);
    CHECK_STR_MSG(pq.match, want_match, what);
    snprintf(what, sizeof what, "exclude of [%s]", q);
    CHECK_STR_MSG(pq.exclude, want_exclude, what);
    query_free(&pq);
}

static void test_expressions(void)
{
    pr_query pq;

    check_match("eig recrutement", "\"eig\" AND \"recrutement\"", NULL);
    check_match("\"talents du numérique\"", "\"talents du numérique\"", NULL);
    check_match("cloud OR souveraineté", "(\"cloud\" OR \"souveraineté\")", NULL);
    check_match("cloud OR souveraineté état", "(\"cloud\" OR \"souveraineté\") AND \"état\"",
                NULL);
    check_match("recru*", "\"recru\" *", NULL);
    check_match("cloud -webinaire", "\"cloud\"", "\"webinaire\"");
    check_match("-\"appel à projets\" cloud", "\"cloud\"", "\"appel à projets\"");
    check_match("-webinaire", NULL, "\"webinaire\"");
    check_match("le la les", NULL, NULL);
    check_match("say \"hi", "\"say\" AND \"hi\"", NULL);
    check_match("a\"b", "\"a\"\"b\"", NULL);
    check_match("NEAR(cloud", "\"NEAR(cloud\"", NULL);
    check_match("title:cloud", "\"title:cloud\"", NULL);
    check_match("cloud AND état", "\"cloud\" AND \"état\"", NULL);
    check_match("cloud NOT webinaire", "\"cloud\"", "\"webinaire\"");
    check_match("OR cloud", "\"cloud\"", NULL);
    check_match("cloud OR", "\"cloud\"", NULL);
    check_match("3 500 postes", "\"3 500\" AND \"postes\"", NULL);
    check_match("« cloud au centre »", "\"cloud au centre\"", NULL);
    check_match("-", NULL, NULL);
    check_match("*", NULL, NULL);

    CHECK(parse("tag:EIG category:\"Communiqué de presse\" collection:communiques", &pq, 0) == 0);
    CHECK(pq.match == NULL && pq.nfilters == 3);
    if (pq.nfilters == 3) {
        CHECK(pq.filters[0].kind == PR_FILTER_TAG);
        CHECK_STR(pq.filters[0].value, "eig");
        CHECK(pq.filters[1].kind == PR_FILTER_CATEGORY);
        CHECK_STR(pq.filters[1].value, "communique de presse");
        CHECK_STR(pq.filters[2].value, "communiques");
    }
    query_free(&pq);
    CHECK(parse("year:2021 cloud", &pq, 0) == 0);
    CHECK(pq.nfilters == 2);
    if (pq.nfilters == 2) {
        CHECK_STR(pq.filters[0].value, "2021-01-01");
        CHECK_STR(pq.filters[1].value, "2021-12-31");
    }
    CHECK_STR(pq.match, "\"cloud\"");
    query_free(&pq);
    CHECK(parse("after:2021-02 before:2024-02", &pq, 0) == 0);
    if (CHECK(pq.nfilters == 2)) {
        CHECK_STR(pq.filters[0].value, "2021-02-01");
        CHECK_STR(pq.filters[1].value, "2024-02-29");
    }
    query_free(&pq);
    /* A bad date is a word, not an error. */
    CHECK(parse("after:demain", &pq, 0) == 0);
    CHECK(pq.nfilters == 0);
    CHECK_STR(pq.match, "\"after:demain\"");
    query_free(&pq);
    /* Unknown keys are words. */
    CHECK(parse("foo:bar", &pq, 0) == 0);
    CHECK_STR(pq.match, "\"foo:bar\"");
    query_free(&pq);
    /* As you type: the last word is a prefix, unless a space follows it. */
    CHECK(parse("talents du num", &pq, 1) == 0);
    CHECK_STR(pq.match, "\"talents\" AND \"num\" *");
    query_free(&pq);
    CHECK(parse("talents ", &pq, 1) == 0);
    CHECK_STR(pq.match, "\"talents\"");
    query_free(&pq);
    /* Terms kept for highlighting. */
    CHECK(parse("eig \"talents du numérique\" -webinaire recru*", &pq, 0) == 0);
    CHECK(pq.nterms == 3);
    if (pq.nterms == 3) {
        CHECK_STR(pq.terms[0].text, "eig");
        CHECK(pq.terms[1].phrase);
        CHECK(pq.terms[2].prefix);
    }
    query_free(&pq);
}

static void test_limits(void)
{
    pr_query pq;
    pr_query_limits lim = {1024, 32, 0, NULL, NULL, NULL};
    pr_error err;
    char big[2000];
    int i;

    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(query_parse(big, strlen(big), &lim, tok, &pq, &err) == -1);
    CHECK_STR(err.message, "query too long (max 1024 bytes)");
    big[0] = '\0';
    for (i = 0; i < 33; i++)
        strcat(big, "mot ");
    CHECK(query_parse(big, strlen(big), &lim, tok, &pq, &err) == -1);
    CHECK_STR(err.message, "too many terms (max 32)");
    big[0] = '\0';
    for (i = 0; i < 32; i++)
        strcat(big, "mot ");
    CHECK(query_parse(big, strlen(big), &lim, tok, &pq, &err) == 0);
    query_free(&pq);
}

/* The nasty table: every entry must give PR_SEARCH_OK (hits or none). */
static const char *const nasty[] = {
    "", " ", "\t", "\n", "\r\n", "-", "--", "---", "+", "*", "**", "-*", "*-", "\"", "\"\"",
    "\"\"\"", "\" \"", "'", "''", "`", "(", ")", "()", "((", "))", "{", "}", "[", "]", ":",
    "::", "^", "^cloud", "cloud^", "NEAR(", "NEAR(cloud état)", "NEAR(cloud état, 2)",
    "NEAR", "near", "col:", "title:", "title:cloud", "title : cloud", "{title body}: cloud",
    "-title:cloud", "title:\"cloud", "AND", "OR", "NOT", "AND OR NOT", "cloud AND",
    "cloud OR", "cloud NOT", "NOT cloud", "OR OR OR", "cloud OR OR état", "cloud AND AND état",
    "a OR", "-cloud", "-cloud -état", "--cloud", "- cloud", "cloud -", "\"cloud", "cloud\"",
    "\"cloud état", "cloud \"état", "\"\"cloud\"\"", "\"cloud\"\"état\"", "c\"l\"o\"u\"d",
    "recru*", "recru**", "*recru", "re*cru", "\"talents du num\"*", "\"\"*", "-\"\"",
    "-\"cloud", "'; DROP TABLE documents; --", "\"; DROP TABLE documents; --",
    "1; DELETE FROM fts", "' OR '1'='1", "\" OR \"\"=\"", "cloud' --", "%", "_", "%cloud%",
    "\\", "\\\"", "cloud\\", "\x01\x02\x03", "cloud\x7f", "\x1b[31mcloud\x1b[0m",
    "\xff\xfe", "\xc3", "caf\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xf8\x88\x80\x80",
    "\xf4\x90\x80\x80", "🚀", "🚀 cloud", "cloud🚀", "👩‍💻", "🇫🇷", "é", "É", "ÉTAT",
    "l'", "l’", "l'État", "qu'", "d'", "aujourd'hui", "3 500", "3 500", "5e", "1er",
    "E.I.G.", "entrepreneur.e.s", "porte-parole", "-porte-parole", "a-", "-a-", "…", "«»",
    "« »", "“cloud”", "„cloud“", "cloud\u00a0état", "tag:", "tag:\"", "tag:\"\"",
    "tag:EIG", "tag:eig", "tag:\"EIG", "-tag:EIG", "tag:EIG tag:Cloud", "category:",
    "category:\"Communiqué de presse\"", "collection:communiques", "collection:nope",
    "year:", "year:abcd", "year:20211", "year:2021", "-year:2021", "after:", "after:2021-13-01",
    "after:2021-02-30", "after:2021-01-01", "before:2021-12-31", "after:2030-01-01",
    "before:1900-01-01", "after:2021-01-01 before:2020-01-01", "foo:bar", "http://example.org",
    "https://www.numerique.gouv.fr/espace-presse/", "user@example.org", "le la les",
    "le", "de la", "le OR la", "-le", "le -la", "the", "a", "1", "0", "-1", "1e10", "0x1F",
    "NaN", "null", "undefined", "<script>alert(1)</script>", "<mark>cloud</mark>",
    "&amp;", "&lt;", "&#39;", "%00", "%22", "$(rm -rf /)", "`id`", "${HOME}", "cloud;",
    "cloud)", "(cloud", "cloud(", ")cloud", "cloud*)", "\"cloud\"*", "\"cloud\" *",
    "cloud* *", "* cloud", "cloud , état", ",", ".", "...", "?", "!", "cloud?", "?cloud",
    "#", "#EIG", "@", "~", "~cloud", "~etablissement", "cloud~", "|", "||", "&&", "cloud|état",
    "cloud&état", "a b c d e f g h i j k l m n o p q r s t u v w x y z",
};

static void test_nasty(pr_searcher *s)
{
    size_t i;
    char what[700];

    for (i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
        pr_search_request req;
        pr_error err;
        json_t *res = NULL;
        pr_search_status st;

        pr_search_request_init(&req);
        req.q = nasty[i];
        st = pr_search(s, &req, &res, &err);
        snprintf(what, sizeof what, "nasty #%zu runs (%s)", i, st ? err.message : "ok");
        CHECK_MSG(st == PR_SEARCH_OK && json_is_object(res), what);
        req.prefix = 1; /* as you type, too */
        json_decref(res);
        res = NULL;
        st = pr_search(s, &req, &res, &err);
        snprintf(what, sizeof what, "nasty #%zu runs as prefix (%s)", i, st ? err.message : "ok");
        CHECK_MSG(st == PR_SEARCH_OK && json_is_object(res), what);
        json_decref(res);
    }
    CHECK_MSG(sizeof nasty / sizeof nasty[0] >= 100, "at least 100 nasty inputs");
}

/* Too long is the one refusal, and it is a clean one. */
static void test_too_long(pr_searcher *s)
{
    pr_search_request req;
    pr_error err;
    json_t *res = NULL;
    char *big = malloc(10 * 1024 + 1);
    int i;

    for (i = 0; i < 10 * 1024; i++)
        big[i] = "cloud état "[i % 11];
    big[10 * 1024] = '\0';
    pr_search_request_init(&req);
    req.q = big;
    CHECK(pr_search(s, &req, &res, &err) == PR_SEARCH_BAD_REQUEST);
    CHECK(res == NULL);
    CHECK_STR(err.message, "query too long (max 1024 bytes)");
    free(big);
}

int main(void)
{
    char path[256];
    pr_searcher *s;
    pr_search_config cfg;
    pr_error err;

    tok = fr_tokenizer_new();
    test_expressions();
    test_limits();
    if (!CHECK_MSG(fx_build(path, sizeof path) == 0, "fixture index built"))
        return unit_done();
    pr_search_config_init(&cfg);
    cfg.time_budget_ms = 0; /* correctness here; valgrind is slow */
    s = pr_searcher_open(path, &cfg, &err);
    if (CHECK_MSG(s != NULL, "searcher opens")) {
        test_nasty(s);
        test_too_long(s);
        pr_searcher_close(s);
    }
    fx_remove(path);
    fr_tokenizer_free(tok);
    return unit_done();
}
