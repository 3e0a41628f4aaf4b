/*
 * test_frontmatter.c - the YAML front matter reader (lib/frontmatter.c):
 * every field, both quoting styles, block scalars, lists, dates and their
 * fallbacks, and the file positions of YAML errors, on crafted fixtures
 * (tests/fixtures) and on the broken page of the real corpus when present.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontmatter.h"
#include "test_files.h"
#include "unit.h"

static int parse(const char *src, pr_frontmatter *fm, size_t *body, pr_error *err)
{
    return pr_frontmatter_parse(src, strlen(src), fm, body, err);
}

static int parse_fixture(const char *name, pr_frontmatter *fm, pr_error *err)
{
    char path[1024];
    size_t len = 0, body;
    char *src;
    int rc;

    snprintf(path, sizeof path, "%s/tests/fixtures/%s", test_srcdir(), name);
    if (!(src = test_slurp(path, &len))) {
        pr_error_set(err, 0, 0, "cannot read %s", path);
        return -2;
    }
    rc = pr_frontmatter_parse(src, len, fm, &body, err);
    free(src);
    return rc;
}

static int has(const pr_strlist *l, size_t i, const char *s)
{
    return i < l->n && strcmp(l->items[i], s) == 0;
}

static void test_fields(void)
{
    const char *src =
        "---\n"
        "title: 'Entrepreneurs d''intérêt général : l’État recrute'\n"
        "date: 2021-03-01 13:11:00 +01:00\n"
        "categories:\n- Communiqué de presse\n- Actualité\n"
        "tags:\n  - EIG\n  - recrutement\n"
        "chapeau-text: \"**Transformer** l’administration\\n\\nDeuxième paragraphe\\tet tab\"\n"
        "permalink: /espace-presse/eig/\n"
        "une:\n  image: /uploads/x.png\n  alternative-textuelle: Une image\n"
        "files:\n- nom: Guide\n  url: /a.pdf\n- nom: Annexe\n"
        "---\n"
        "Le corps.\n";
    pr_frontmatter fm;
    pr_error err;
    size_t body = 0;

    CHECK(parse(src, &fm, &body, &err) == 0);
    CHECK(fm.present == 1);
    CHECK_STR(fm.title, "Entrepreneurs d'intérêt général : l’État recrute");
    CHECK_STR(fm.date, "2021-03-01");
    CHECK_MSG(fm.date_ts == 1614600660LL, "date_ts is 12:11 UTC for 13:11 +01:00");
    CHECK(fm.categories.n == 2 && has(&fm.categories, 0, "Communiqué de presse") &&
          has(&fm.categories, 1, "Actualité"));
    CHECK(fm.tags.n == 2 && has(&fm.tags, 0, "EIG") && has(&fm.tags, 1, "recrutement"));
    CHECK_STR(fm.chapeau_md, "**Transformer** l’administration\n\nDeuxième paragraphe\tet tab");
    CHECK_STR(fm.permalink, "/espace-presse/eig/");
    CHECK(fm.published == 1);
    CHECK_STR_MSG(src + body, "Le corps.\n", "body starts after the closing ---");
    pr_frontmatter_free(&fm);
}

static void test_scalars(void)
{
    pr_frontmatter fm;
    pr_error err;
    size_t body;

    CHECK(parse("---\ntitle: >-\n  Salon du numérique :\n  5e édition\n"
                "chapeau-text: |\n  Ligne un\n  Ligne deux\n---\n", &fm, &body, &err) == 0);
    CHECK_STR_MSG(fm.title, "Salon du numérique : 5e édition", "folded scalar joins lines");
    CHECK_STR_MSG(fm.chapeau_md, "Ligne un\nLigne deux\n", "literal scalar keeps lines");
    pr_frontmatter_free(&fm);

    CHECK(parse("---\ntitle: Un titre sur\n  deux lignes\nchapeau-text: \"a\\\\nb\"\n---\n",
                &fm, &body, &err) == 0);
    CHECK_STR_MSG(fm.title, "Un titre sur deux lignes", "plain multi-line scalar");
    CHECK_STR_MSG(fm.chapeau_md, "a\\nb", "\"\\\\n\" stays a literal backslash-n");
    pr_frontmatter_free(&fm);

    CHECK(parse("---\ntitle: ~\npermalink: \"~\"\n---\n", &fm, &body, &err) == 0);
    CHECK_MSG(fm.title == NULL, "null title is absent");
    CHECK_STR_MSG(fm.permalink, "~", "quoted ~ is a string");
    pr_frontmatter_free(&fm);
}

static void test_lists(void)
{
    pr_frontmatter fm;
    pr_error err;
    size_t body;

    CHECK(parse("---\ntags: FranceConnect\ncategories: Communiqué de presse\n---\n", &fm,
                &body, &err) == 0);
    CHECK_MSG(fm.tags.n == 1 && has(&fm.tags, 0, "FranceConnect"), "single string tag");
    CHECK_MSG(fm.categories.n == 1 && has(&fm.categories, 0, "Communiqué de presse"),
              "single string category");
    pr_frontmatter_free(&fm);

    CHECK(parse("---\ntags: [2022, true, 3.5, '', ~, [a, b], {k: v}, ' x ']\n---\n", &fm, &body,
                &err) == 0);
    CHECK_MSG(fm.tags.n == 6 && has(&fm.tags, 0, "2022") && has(&fm.tags, 1, "true") &&
                  has(&fm.tags, 2, "3.5") && has(&fm.tags, 3, "a") && has(&fm.tags, 4, "b") &&
                  has(&fm.tags, 5, "x"),
              "non-string items stringified, nested lists flattened, maps/empties skipped");
    pr_frontmatter_free(&fm);

    CHECK(parse("---\ntags:\n  sous: carte\ncategory: Presse\n---\n", &fm, &body, &err) == 0);
    CHECK_MSG(fm.tags.n == 0, "a map under tags gives no tag");
    CHECK_MSG(fm.categories.n == 1 && has(&fm.categories, 0, "Presse"), "singular category key");
    pr_frontmatter_free(&fm);
}

static void test_published(void)
{
    static const struct { const char *v; int want; } cases[] = {
        {"false", 0}, {"no", 0}, {"off", 0}, {"False", 0}, {"true", 1}, {"yes", 1},
        {"\"false\"", 1}, /* a quoted string is true for Jekyll */
    };
    char src[128], what[128];
    pr_frontmatter fm;
    pr_error err;
    size_t body;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(src, sizeof src, "---\ntitle: x\npublished: %s\n---\n", cases[i].v);
        snprintf(what, sizeof what, "published: %s -> %d", cases[i].v, cases[i].want);
        CHECK_MSG(parse(src, &fm, &body, &err) == 0 && fm.published == cases[i].want, what);
        pr_frontmatter_free(&fm);
    }
    CHECK(parse("---\ntitle: x\n---\n", &fm, &body, &err) == 0 && fm.published == 1);
    pr_frontmatter_free(&fm);
}

static void test_dates(void)
{
    static const struct { const char *v, *date; long long ts; } ok[] = {
        {"2021-03-01 13:11:00 +01:00", "2021-03-01", 1614600660LL},
        {"2021-03-01T13:11:00Z", "2021-03-01", 1614604260LL},
        {"2021-03-01", "2021-03-01", 1614556800LL},
        {"2021-03-01 00:30:00 +02:00", "2021-03-01", 1614551400LL}, /* day as written */
        {"2021-03-01t23:00:00.25-05:00", "2021-03-01", 1614657600LL},
        {"\"2024-02-29\"", "2024-02-29", 1709164800LL},
    };
    static const char *bad[] = {"10 novembre 2021", "2023-02-29", "2021-13-01", "2021-03-01 25:00"};
    char src[128], what[160];
    pr_frontmatter fm;
    pr_error err;
    size_t body;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(src, sizeof src, "---\ndate: %s\n---\n", ok[i].v);
        snprintf(what, sizeof what, "date %s -> %s / %lld", ok[i].v, ok[i].date, ok[i].ts);
        CHECK_MSG(parse(src, &fm, &body, &err) == 0 && fm.date && !strcmp(fm.date, ok[i].date) &&
                      fm.date_ts == ok[i].ts, what);
        pr_frontmatter_free(&fm);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(src, sizeof src, "---\ndate: %s\n---\n", bad[i]);
        snprintf(what, sizeof what, "date %s is no date, and no error", bad[i]);
        CHECK_MSG(parse(src, &fm, &body, &err) == 0 && fm.date == NULL, what);
        pr_frontmatter_free(&fm);
    }
}

static void test_filename_dates(void)
{
    char d[11];
    long long ts = 0;

    CHECK(pr_date_from_filename("2023-05-04-hackathon.md", d, &ts) == 1);
    CHECK_STR(d, "2023-05-04");
    CHECK(ts == 1683158400LL);
    CHECK(pr_date_from_filename("_actualites/2021-03-01-x.markdown", d, &ts) == 1 &&
          !strcmp(d, "2021-03-01"));
    CHECK(pr_date_from_filename("2023-02-30-impossible.md", d, &ts) == 0);
    CHECK(pr_date_from_filename("2023-5-4-court.md", d, &ts) == 0);
    CHECK(pr_date_from_filename("rapport-2023-05-04.md", d, &ts) == 0);
    CHECK(pr_date_from_filename("2023-05-04.md", d, &ts) == 0);
}

static void test_block_edges(void)
{
    pr_frontmatter fm;
    pr_error err;
    size_t body;

    CHECK(parse("# Pas de front matter\n", &fm, &body, &err) == 0 && fm.present == 0 &&
          body == 0);
    pr_frontmatter_free(&fm);
    CHECK(parse("---\r\ntitle: CRLF\r\n---\r\nCorps\r\n", &fm, &body, &err) == 0);
    CHECK_STR_MSG(fm.title, "CRLF", "CRLF line ends accepted");
    CHECK_MSG(body == 23, "body after the CRLF closing line");
    pr_frontmatter_free(&fm);
    CHECK(parse("--- \ntitle: a\n... \nCorps\n", &fm, &body, &err) == 0 && fm.title &&
          !strcmp(fm.title, "a") && body == 19);
    pr_frontmatter_free(&fm);
    CHECK_MSG(parse("---\n---\nCorps\n", &fm, &body, &err) == 0 && fm.present && !fm.title &&
                  body == 8, "empty front matter");
    pr_frontmatter_free(&fm);
    CHECK_MSG(parse("----\ntitle: x\n---\n", &fm, &body, &err) == 0 && !fm.present,
              "---- is no opening marker");
    pr_frontmatter_free(&fm);
}

static void test_errors(void)
{
    pr_frontmatter fm;
    pr_error err;

    CHECK(parse_fixture("unclosed-quote.md", &fm, &err) == -1);
    CHECK_MSG(err.line == 2 && err.col == 8, "unclosed quote reported at its opening, 2:8");
    CHECK(strstr(err.message, "found unexpected end of stream while scanning a quoted scalar"));
    CHECK_MSG(fm.title == NULL && fm.tags.n == 0, "front matter left empty on error");

    CHECK(parse_fixture("bad-single-quote.md", &fm, &err) == -1);
    CHECK_MSG(err.line == 2 && err.col == 20, "byte column after accented letters, 2:20");

    CHECK(parse_fixture("crlf-bad-yaml.md", &fm, &err) == -1);
    CHECK_MSG(err.line == 4 && err.col == 4, "CRLF file: error at 4:4");

    /* A lone CR ends a line for libyaml as for an editor: the error is
     * on the fifth line, not past the end of the front matter (found by
     * fuzz_frontmatter in CI). */
    {
        static const char cr[] = "---\na: 1\rb: 2\rc: 3\rw: xx: y\n---\nbody\n";
        size_t body;
        pr_error_clear(&err);
        CHECK(pr_frontmatter_parse(cr, sizeof cr - 1, &fm, &body, &err) == -1);
        CHECK_MSG(err.line == 5 && err.col == 6, "lone CR line ends: error at 5:6");
    }

    CHECK(parse_fixture("not-a-mapping.md", &fm, &err) == -1);
    CHECK_MSG(err.line == 2 && err.col == 1 && strstr(err.message, "not a mapping"),
              "a plain string is not a front matter");

    CHECK(parse_fixture("unclosed-frontmatter.md", &fm, &err) == -1);
    CHECK_MSG(err.line == 1 && strstr(err.message, "never closed"), "unclosed block");
}

/* The real broken page: an unclosed double quote that swallows lines until
 * the next quote, after which libyaml finds text where a key should be. */
static void test_corpus_error(void)
{
    const char *corpus = getenv("PR_CORPUS");
    char path[1024], buf[1024];
    size_t len = 0, body;
    pr_frontmatter fm;
    pr_error err;
    char *src;

    if (corpus && *corpus)
        snprintf(path, sizeof path, "%s", corpus);
    else
        snprintf(path, sizeof path, "%s/../shared/corpus", test_srcdir());
    strncat(path, "/_publications/plan-action-logiciels-libres-communs-numeriques.md",
            sizeof path - strlen(path) - 1);
    if (!(src = test_slurp(path, &len))) {
        unit_skip("corpus page with broken YAML gives line:col", "corpus not found");
        return;
    }
    CHECK(pr_frontmatter_parse(src, len, &fm, &body, &err) == -1);
    pr_error_format(&err, "plan.md", buf, sizeof buf);
    printf("# %s\n", buf);
    CHECK_MSG(err.line == 13 && err.col == 11, "corpus error at 13:11, where the text resumes "
                                               "after the quote closed too late");
    CHECK(strstr(err.message, "did not find expected key") != NULL);
    free(src);
}

int main(void)
{
    test_fields();
    test_scalars();
    test_lists();
    test_published();
    test_dates();
    test_filename_dates();
    test_block_edges();
    test_errors();
    test_corpus_error();
    return unit_done();
}
