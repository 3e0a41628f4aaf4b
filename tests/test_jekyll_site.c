/*
 * test_jekyll_site.c - site rules and URLs (lib/jekyll_site.c): which
 * folders a Jekyll site root indexes, collections, slugs, permalinks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jekyll_site.h"
#include "unit.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void check_url(const pr_site *site, const char *coll, const char *rel, const char *permalink,
                      const char *date, const char *want)
{
    pr_doc doc;
    char *cats[] = {"Communiqué de presse"};
    char *url;
    char what[256];

    memset(&doc, 0, sizeof doc);
    doc.permalink = (char *)permalink;
    doc.date = (char *)date;
    doc.categories.items = cats;
    doc.categories.n = 1;
    url = pr_site_url(site, coll, rel, &doc);
    snprintf(what, sizeof what, "url of %s", rel);
    CHECK_STR_MSG(url, want, what);
    free(url);
}

static void check_collection(const char *rel, const char *want)
{
    char *c = pr_site_collection(rel);

    CHECK_STR_MSG(c, want, rel);
    free(c);
}

static void check_slug(const char *rel, const char *want)
{
    char *s = pr_site_slug(rel);

    CHECK_STR_MSG(s, want, rel);
    free(s);
}

int main(void)
{
    char dir[] = "/tmp/prsearch-site-XXXXXX";
    char path[512];
    pr_site *site = NULL;
    pr_error err;
    int rc;

    check_collection("_communiques/x.md", "communiques");
    check_collection("_communiques/2021/x.md", "communiques");
    check_collection("a/_actualites/x.md", "actualites");
    check_collection("x.md", "pages");
    check_collection("docs/x.md", "pages");
    check_slug("_communiques/x.md", "x");
    check_slug("_communiques/2021-03-01-eig-recrute.markdown", "eig-recrute");
    check_slug("_communiques/Lancement-du-site-nosdemarches.gouv.fr-pour.markdown",
               "Lancement-du-site-nosdemarches.gouv.fr-pour");
    check_slug("2021-13-01-pas-une-date.md", "2021-13-01-pas-une-date");

    if (!CHECK(mkdtemp(dir) != NULL))
        return unit_done();
    rc = pr_site_load(dir, &site, &err);
    CHECK(rc == 0 && site == NULL);

    snprintf(path, sizeof path, "%s/_config.yml", dir);
    write_file(path, "collections:\n  communiques:\n    output: true\n"
                     "    permalink: /espace-presse/:title/\n"
                     "  missions:\n    output: false\n"
                     "  events:\n    output: true\n"
                     "include:\n  - _pages\n  - .htaccess\n"
                     "exclude:\n  - /scripts/\n  - README.md\n  - docs/old\n");
    rc = pr_site_load(dir, &site, &err);
    CHECK(rc == 1 && site != NULL);
    CHECK(pr_site_classify(site, "_communiques", 1) == PR_SITE_WALK);
    CHECK(pr_site_classify(site, "_missions", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "_events", 1) == PR_SITE_WALK);
    CHECK(pr_site_classify(site, "_posts", 1) == PR_SITE_WALK);
    CHECK(pr_site_classify(site, "_layouts", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "_includes", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "_drafts", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "_site", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "_pages", 1) == PR_SITE_WALK);
    CHECK(pr_site_classify(site, "vendor", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "node_modules", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, ".git", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "scripts", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "README.md", 0) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "docs/old", 1) == PR_SITE_SKIP);
    CHECK(pr_site_classify(site, "docs", 1) == PR_SITE_WALK);
    CHECK(pr_site_classify(site, "a-propos.md", 0) == PR_SITE_WALK);
    CHECK(pr_site_classify(site, "_communiques/.hidden.md", 0) == PR_SITE_SKIP);
    CHECK(pr_site_classify(NULL, "_anything", 1) == PR_SITE_WALK);
    CHECK(pr_site_classify(NULL, ".git", 1) == PR_SITE_SKIP);

    check_url(site, "communiques", "_communiques/eig.md", NULL, NULL, "/espace-presse/eig/");
    check_url(site, "communiques", "_communiques/2021-03-01-eig.md", NULL, "2021-03-01",
              "/espace-presse/eig/");
    check_url(site, "communiques", "_communiques/eig.md", "/publications/cosinum/", NULL,
              "/publications/cosinum/");
    check_url(site, "events", "_events/sub/salon.md", NULL, NULL, "/events/sub/salon/");
    check_url(site, "posts", "_posts/2021-03-01-hello.md", NULL, "2021-03-01",
              "/communiqué-de-presse/2021/03/01/hello.html");
    check_url(site, "pages", "a-propos.md", NULL, NULL, "/a-propos.html");
    check_url(site, "pages", "docs/index.md", NULL, NULL, "/docs/");
    check_url(site, "pages", "_pages/contact.md", NULL, NULL, "/contact.html");
    check_url(site, "communiques", "_communiques/x.md", "/:year/:title/", NULL, "/x/");
    check_url(NULL, "communiques", "_communiques/x.md", NULL, NULL, "/_communiques/x.md");
    pr_site_free(site);

    write_file(path, "collections:\n  a: [unclosed\n");
    pr_error_clear(&err);
    rc = pr_site_load(dir, &site, &err);
    CHECK(rc == -1 && site == NULL);
    CHECK(err.line > 0 && err.col > 0 && err.message[0]);

    unlink(path);
    rmdir(dir);
    return unit_done();
}
