/*
 * test_document.c - the whole pipeline from file bytes to pr_doc
 * (lib/document.c): byte checks (empty, binary, BOM, CRLF, invalid UTF-8),
 * title and date fallbacks, NFC, chapeau, and every sample page of data/.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "document.h"
#include "test_files.h"
#include "unit.h"

/* Parses SRCDIR/REL (its base name for the fallbacks); -2 if unreadable. */
static int parse_file(const char *rel, pr_doc *doc, pr_error *err)
{
    char path[1024];
    const char *base = strrchr(rel, '/');
    size_t len = 0;
    char *src;
    int rc;

    snprintf(path, sizeof path, "%s/%s", test_srcdir(), rel);
    memset(doc, 0, sizeof *doc);
    if (!(src = test_slurp(path, &len))) {
        pr_error_set(err, 0, 0, "cannot read %s", path);
        return -2;
    }
    rc = pr_doc_parse(src, len, base ? base + 1 : rel, doc, err);
    free(src);
    return rc;
}

static int parse_str(const char *src, const char *base, pr_doc *doc, pr_error *err)
{
    return pr_doc_parse(src, strlen(src), base, doc, err);
}

static int has(const pr_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->items[i], s))
            return 1;
    return 0;
}

static void test_rejected(void)
{
    pr_doc d;
    pr_error e;

    CHECK(parse_file("tests/fixtures/empty.md", &d, &e) == -1);
    CHECK_STR(e.message, "empty file");
    CHECK(parse_file("tests/fixtures/blank.md", &d, &e) == -1 && !strcmp(e.message, "empty file"));
    CHECK(pr_doc_parse("\xef\xbb\xbf \n", 5, "bom.md", &d, &e) == -1 &&
          !strcmp(e.message, "empty file"));
    CHECK(parse_file("tests/fixtures/binary.md", &d, &e) == -1);
    CHECK_STR(e.message, "binary file (NUL byte at offset 5)");
    CHECK(parse_file("tests/fixtures/utf16.md", &d, &e) == -1 && strstr(e.message, "UTF-16"));
    CHECK(parse_file("tests/fixtures/unclosed-quote.md", &d, &e) == -1);
    CHECK_MSG(e.line == 2 && e.col == 8, "YAML error position passes through");
    CHECK_MSG(d.title == NULL && d.body == NULL, "doc left empty on error");
}

static void test_bytes(void)
{
    pr_doc d;
    pr_error e;

    CHECK(parse_file("tests/fixtures/bom-crlf.md", &d, &e) == 0);
    CHECK_STR_MSG(d.title, "Avec BOM et CRLF", "BOM stripped, front matter found");
    CHECK_STR(d.date, "2021-03-01");
    CHECK_STR_MSG(d.body, "Premier intertitre\nLigne un ligne deux", "no CR left in the text");
    CHECK_STR(d.headings, "Premier intertitre");
    pr_doc_free(&d);

    CHECK(parse_file("tests/fixtures/crlf-bad-yaml.md", &d, &e) == -1);
    CHECK_MSG(e.line == 4 && e.col == 4, "CRLF does not shift error lines");

    CHECK(parse_file("tests/fixtures/invalid-utf8.md", &d, &e) == 0);
    CHECK(d.utf8_repaired == 1);
    CHECK_STR(d.title, "Caf\xef\xbf\xbd mal encod\xef\xbf\xbd");
    CHECK_MSG(strstr(d.body, "Octet invalide : \xef\xbf\xbd\xef\xbf\xbd et s\xef\xbf\xbdquence") != NULL,
              "each bad byte becomes U+FFFD");
    pr_doc_free(&d);

    CHECK(parse_str("---\ntitle: Propre\n---\nTexte.\n", "propre.md", &d, &e) == 0 &&
          d.utf8_repaired == 0);
    pr_doc_free(&d);
    CHECK_MSG(parse_str("Mac\rclassique\r\rfin", "mac.md", &d, &e) == 0 &&
                  !strcmp(d.body, "Mac classique\nfin"), "lone CR line ends");
    pr_doc_free(&d);
}

static void test_fallbacks(void)
{
    pr_doc d;
    pr_error e;

    CHECK(parse_str("Intro.\n\n## Premier titre\n\n# Second\n", "page.md", &d, &e) == 0);
    CHECK_STR_MSG(d.title, "Premier titre", "no front matter: first heading is the title");
    CHECK(d.date == NULL && d.published == 1 && d.permalink == NULL);
    CHECK_STR(d.chapeau, "");
    pr_doc_free(&d);

    CHECK(parse_file("tests/fixtures/sans-titre.md", &d, &e) == 0);
    CHECK_STR_MSG(d.title, "sans-titre", "no heading: file name without extension");
    pr_doc_free(&d);

    CHECK(parse_str("---\ntitle: '   '\n---\n# Titre du corps\n", "2022-01-31-x.markdown", &d,
                    &e) == 0);
    CHECK_STR_MSG(d.title, "Titre du corps", "blank front matter title falls back");
    CHECK_STR_MSG(d.date, "2022-01-31", "date from the file name");
    CHECK(d.date_ts == 1643587200LL);
    pr_doc_free(&d);

    CHECK(parse_str("---\ndate: 2020-01-02\n---\nx\n", "2022-01-31-x.md", &d, &e) == 0 &&
          !strcmp(d.date, "2020-01-02"));
    pr_doc_free(&d);
}

static void test_fields(void)
{
    /* Title in NFD, blanks to collapse, an entity; chapeau with a literal
     * backslash-n and real breaks; tags to tidy. */
    const char *src = "---\n"
                      "title: \"  Acce\xcc\x80s   aux  donne\xcc\x81" "es&nbsp;: bilan \"\n"
                      "chapeau-text: \"Premier\\\\nsecond\\n\\n**Gras** et [lien](http://x)\"\n"
                      "tags: ['  EIG  ', 'donne\xcc\x81" "es']\n"
                      "published: false\n"
                      "---\n"
                      "Corps.\n";
    pr_doc d;
    pr_error e;

    CHECK(parse_str(src, "a.md", &d, &e) == 0);
    CHECK_STR_MSG(d.title, "Accès aux données\xc2\xa0: bilan", "title NFC, collapsed, entity decoded");
    CHECK_STR_MSG(d.chapeau, "Premier second\nGras et lien", "chapeau to text, literal \\n a space");
    CHECK_MSG(d.tags.n == 2 && has(&d.tags, "EIG") && has(&d.tags, "données"), "tags trimmed, NFC");
    CHECK(d.published == 0);
    CHECK_STR(d.body, "Corps.");
    pr_doc_free(&d);
}

/* Every sample page: parses, has a title and a body. */
static int walk_data(const char *rel, int *count)
{
    char path[2048], sub[512];
    struct dirent *de;
    DIR *dir;
    int bad = 0;

    snprintf(path, sizeof path, "%s/%s", test_srcdir(), rel);
    if (!(dir = opendir(path)))
        return 1;
    while ((de = readdir(dir))) {
        struct stat st;
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", rel, de->d_name);
        snprintf(path, sizeof path, "%s/%s", test_srcdir(), sub);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            bad += walk_data(sub, count);
        } else if ((n > 3 && !strcmp(de->d_name + n - 3, ".md")) ||
                   (n > 9 && !strcmp(de->d_name + n - 9, ".markdown"))) {
            pr_doc d;
            pr_error e;
            char what[2048];
            int ok = parse_file(sub, &d, &e) == 0 && d.title[0] && d.body[0];
            snprintf(what, sizeof what, "%s parses with a title and a body%s%s", sub,
                     ok ? "" : ": ", ok ? "" : e.message);
            CHECK_MSG(ok, what);
            bad += !ok;
            (*count)++;
            if (ok)
                pr_doc_free(&d);
        }
    }
    closedir(dir);
    return bad;
}

static void test_samples(void)
{
    int count = 0;

    CHECK(walk_data("data", &count) == 0);
    CHECK_MSG(count >= 15, "at least 15 sample pages");
}

static void test_sample_fields(void)
{
    pr_doc d;
    pr_error e;

    CHECK(parse_file("data/_communiques/2023-02-14-eig-8e-promotion-recrutement.md", &d, &e) == 0);
    CHECK_STR(d.title, "Entrepreneurs d'intérêt général : l’État recrute 40 talents pour sa 8e promotion");
    CHECK_MSG(d.date_ts == 1676367000LL, "10:30 +01:00 is 09:30 UTC");
    CHECK_MSG(strstr(d.chapeau, "(EIG).\nQuarante") != NULL, "\\n\\n in the chapeau splits blocks");
    CHECK_MSG(strstr(d.body, "target") == NULL && strstr(d.body, "citation}") == NULL &&
                  strstr(d.body, "https") == NULL, "kramdown and URLs gone from the body");
    CHECK_STR(d.headings, "Qui peut candidater ?\nCalendrier");
    pr_doc_free(&d);

    CHECK(parse_file("data/_actualites/2023-05-04-hackathon-donnees-publiques.md", &d, &e) == 0);
    CHECK_STR_MSG(d.date, "2023-05-04", "sample dated by its file name only");
    pr_doc_free(&d);

    CHECK(parse_file("data/_actualites/ouverture-donnees-api-entreprise.md", &d, &e) == 0);
    CHECK_MSG(!strchr(d.body, '\r') && !strstr(d.body, "{%") && !strstr(d.body, "{{") &&
                  !strstr(d.body, "Texte interne"), "CRLF sample: Liquid and its comment gone");
    pr_doc_free(&d);

    CHECK(parse_file("data/_actualites/formulaires-accessibles-tutoriel.md", &d, &e) == 0);
    CHECK_MSG(!strstr(d.body, "playerConfig") && !strstr(d.body, "injecté") &&
                  strstr(d.body, "La vidéo est sous-titrée") && strstr(d.body, "conforme au RGAA") &&
                  strstr(d.body, "Schéma d’un formulaire"), "script dropped, entities, abbr, alt");
    pr_doc_free(&d);

    CHECK(parse_file("data/_communiques/franceconnect-dix-millions-usagers.markdown", &d, &e) == 0);
    CHECK_MSG(d.tags.n == 1 && has(&d.tags, "FranceConnect") && d.categories.n == 1,
              "tags and categories as single strings");
    pr_doc_free(&d);

    CHECK(parse_file("data/_communiques/brouillon-logiciels-libres-marche.md", &d, &e) == 0 &&
          d.published == 0);
    pr_doc_free(&d);

    CHECK(parse_file("data/_evenements/webinaire-franceconnect-collectivites.md", &d, &e) == 0);
    CHECK_STR_MSG(d.title, "Webinaire : intégrer FranceConnect dans les démarches des collectivités",
                  "NFD title composed to NFC");
    pr_doc_free(&d);

    CHECK(parse_file("data/a-propos.md", &d, &e) == 0);
    CHECK_STR(d.title, "À propos de la DITN");
    pr_doc_free(&d);

    CHECK(parse_file("data/_publications/guide-achat-cloud.md", &d, &e) == 0);
    CHECK_MSG(strstr(d.body, "IaaS serveurs, réseau et stockage") && !strchr(d.body, '|'),
              "table rows as text");
    pr_doc_free(&d);
}

/* document.c skips utf8proc for text made only of these characters: each
 * must be its own NFC, alone and next to any other of them. */
static int nfc_safe_cp(utf8proc_int32_t cp)
{
    return cp <= 0x02FF || (cp >= 0x2010 && cp <= 0x205F) || cp == 0x20AC;
}

static void test_nfc_fast_path(void)
{
    static utf8proc_int32_t set[0x300 + 0x50 + 1];
    int n = 0, bad = 0;

    for (utf8proc_int32_t cp = 1; cp < 0x20AD; cp++)
        if (nfc_safe_cp(cp))
            set[n++] = cp;
    for (int i = 0; i < n && bad < 5; i++) {
        for (int j = 0; j < n && bad < 5; j++) {
            utf8proc_uint8_t in[16], *out = NULL;
            utf8proc_ssize_t k = utf8proc_encode_char(set[i], in);
            k += utf8proc_encode_char(set[j], in + k);
            in[k] = 0;
            if (utf8proc_map(in, 0, &out, UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE) < 0 ||
                strcmp((const char *)in, (const char *)out) != 0) {
                bad++;
                printf("# U+%04X U+%04X is not its own NFC\n", (unsigned)set[i], (unsigned)set[j]);
            }
            free(out);
        }
    }
    CHECK_MSG(n == 0x2FF + 0x50 + 1 && bad == 0, "NFC fast path: every pair of its characters is NFC");
}

int main(void)
{
    test_nfc_fast_path();
    test_rejected();
    test_bytes();
    test_fallbacks();
    test_fields();
    test_samples();
    test_sample_fields();
    return unit_done();
}
