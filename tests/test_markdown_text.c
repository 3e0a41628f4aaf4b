/*
 * test_markdown_text.c - Markdown and HTML to text (lib/markdown_text.c,
 * lib/html_text.c): what is kept, what is dropped, where words are kept
 * apart, and the Jekyll extras (Liquid, kramdown) removed first.
 */
#include <stdlib.h>
#include <string.h>

#include "html_text.h"
#include "markdown_text.h"
#include "unit.h"

/* TEXT and HEADINGS of MD; static buffers freed on the next call. */
static pr_text last;

static const char *md_text(const char *md)
{
    pr_text_free(&last);
    if (pr_markdown_to_text(md, strlen(md), &last) < 0)
        return "(conversion failed)";
    return last.text;
}

static char *html_last;

static const char *html(const char *h)
{
    free(html_last);
    html_last = pr_html_to_text(h, strlen(h));
    return html_last ? html_last : "(conversion failed)";
}

static int contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static void test_html(void)
{
    CHECK_STR(html("<p>un</p><p>deux</p>"), "un\ndeux");
    CHECK_STR_MSG(html("<b>a</b>b <i>c</i>"), "ab c", "inline elements join");
    CHECK_STR(html("ligne<br>suivante"), "ligne\nsuivante");
    CHECK_STR(html("<p>caf&eacute; &amp; th&#233; &lt;ok&gt; &nbsp;x</p>"),
              "café & thé <ok> \xc2\xa0x");
    CHECK_STR_MSG(html("<div>a<script>var x = '<p>non</p>';</script><style>p{}</style>b</div>"),
                  "ab", "script and style dropped");
    CHECK_STR(html("<template><p>caché</p></template><!-- commentaire -->visible"), "visible");
    CHECK_STR(html("<ul><li>un</li><li>deux</li></ul><table><tr><td>c1</td><td>c2</td></tr></table>"),
              "un\ndeux\nc1\nc2");
    CHECK_STR(html("  beaucoup   d'espaces \n\t ici  "), "beaucoup d'espaces ici");
    CHECK_STR(html("<img src=x.png alt=\"Logo de l’État\">suite"), "Logo de l’État suite");
    CHECK_STR_MSG(html("<p>non fermé <b>gras"), "non fermé gras", "bad HTML still gives text");
    CHECK_STR(html(""), "");
}

/* Big fragments are parsed in pieces (gumbo is quadratic in depth): the
 * cuts must not show - no glued words, no script text let out. */
static void test_html_pieces(void)
{
    size_t cap = 200000, n = 0, lines = 1;
    char *h = malloc(cap), *t;
    int glued = 0;

    if (!h)
        return;
    for (int i = 0; i < 1500; i++) {
        if (i == 1019) /* a script straddling tag 2048 */
            n += (size_t)snprintf(h + n, cap - n, "<script>%s</script>",
                                  "var a = '<p>secret</p><p>x</p><b>y</b>';");
        n += (size_t)snprintf(h + n, cap - n, "<p>m%d</p>", i);
    }
    t = pr_html_to_text(h, n);
    for (const char *p = t; p && *p; p++)
        lines += *p == '\n';
    for (int i = 0; t && i < 1499; i++) {
        char two[32];
        snprintf(two, sizeof two, "m%dm%d", i, i + 1);
        glued += strstr(t, two) != NULL;
    }
    CHECK_MSG(t && lines == 1500 && !glued && strstr(t, "m0\n") && strstr(t, "\nm1499"),
              "3000-tag fragment: every paragraph on its own line");
    CHECK_MSG(t && !strstr(t, "secret"), "no script text at a piece boundary");
    free(t);
    n = 0;
    for (int i = 0; i < 30000; i++)
        n += (size_t)snprintf(h + n, cap - n, "<div>");
    n += (size_t)snprintf(h + n, cap - n, "fond");
    t = pr_html_to_text(h, n);
    CHECK_STR_MSG(t, "fond", "30 000 nested <div>: text found, in reasonable time");
    free(t);
    free(h);
}

static void test_blocks(void)
{
    const char *t = md_text("# Titre principal\n\nUn *paragraphe* en **gras**\nsur deux lignes.\n\n"
                            "- premier\n- second\n\n> citation\n\n## Sous-titre\n\nfin\n");

    CHECK_STR(t, "Titre principal\nUn paragraphe en gras sur deux lignes.\npremier\nsecond\n"
                 "citation\nSous-titre\nfin");
    CHECK_STR_MSG(last.headings, "Titre principal\nSous-titre", "headings apart, one per line");
    CHECK_STR(md_text("Setext\n======\n\ntexte\n"), "Setext\ntexte");
    CHECK_STR(last.headings, "Setext");
    CHECK_STR_MSG(md_text("un\n\n---\n\ndeux\n"), "un\ndeux", "thematic break gives nothing");
    CHECK_STR(md_text(""), "");
    /* blanks inside a line become one space, a control byte is text */
    CHECK_STR(md_text("un\x01" "deux \t\v\f trois\n\nquatre\tcinq"), "un\x01" "deux trois\nquatre cinq");
    CHECK_STR(md_text("x"), "x");
    CHECK_STR(last.headings, "");
}

static void test_links_code(void)
{
    CHECK_STR_MSG(md_text("Voir [le site](https://exemple.gouv.fr \"titre\") ici."),
                  "Voir le site ici.", "link text kept, URL dropped");
    CHECK_STR(md_text("Voir [la page][ref].\n\n[ref]: https://x.example/p\n"), "Voir la page.");
    CHECK_STR(md_text("<https://auto.example/lien>"), "https://auto.example/lien");
    CHECK_STR_MSG(md_text("![Carte des sites](/img/carte.png)texte"), "Carte des sites texte",
                  "image alt text kept");
    CHECK_STR(md_text("Commande `make check` ici."), "Commande make check ici.");
    CHECK_STR_MSG(md_text("```sh\n./configure\nmake\n```\n"), "./configure\nmake",
                  "fenced code kept");
    CHECK_STR(md_text("    code indenté\n"), "code indenté");
    CHECK_STR(md_text("caf&eacute; \\*pas gras\\*"), "café *pas gras*");
}

static void test_html_in_markdown(void)
{
    const char *t = md_text("Avant.\n\n<div class=\"x\">\n<script>alert('non');</script>\n"
                            "<p>Dans&nbsp;le bloc</p><p>autre</p>\n</div>\n\n"
                            "<style>\n.a { color: red }\n</style>\n\nAprès.\n");

    CHECK_STR(t, "Avant.\nDans\xc2\xa0le bloc\nautre\nAprès.");
    CHECK_MSG(!contains(t, "alert") && !contains(t, "color"), "no script or style content");
    CHECK_STR_MSG(md_text("Lire <a href=\"https://x.example\">le guide</a> en <abbr "
                          "title=\"référentiel\">RGAA</abbr>.\n"),
                  "Lire le guide en RGAA.", "inline HTML: tags split across nodes");
    CHECK_STR_MSG(md_text("Texte<br>à la ligne et **gras <i>ital</i>**.\n"),
                  "Texte\nà la ligne et gras ital.", "inline <br> breaks, markdown kept");
    CHECK_STR_MSG(md_text("<div><p>Voir [le lien](https://x.example) **ici**</p></div>\n"),
                  "Voir le lien ici", "Markdown inside an HTML block, as kramdown reads it");
    CHECK_STR_MSG(md_text("Un\n<br>\n<br>\n> ### Citée\n> texte\n"), "Un\nCitée\ntexte",
                  "<br> lines do not swallow the Markdown after them");
    CHECK_STR(last.headings, "Citée");
}

static void test_liquid(void)
{
    CHECK_STR(md_text("A {% include x.html param=\"1\" %} B {{ site.url }} C"), "A B C");
    CHECK_STR_MSG(md_text("un\n{% include bloc.html\n   titre=\"x\"\n%}\n\ndeux\n"), "un\ndeux",
                  "Liquid tag spanning lines");
    CHECK_STR_MSG(md_text("a\n{% comment %}\nsecret\n{% endcomment %}\nb\n"), "a\nb",
                  "Liquid comment content dropped");
    CHECK_STR(md_text("{% raw %}{{ garde }}{% endraw %}"), "{{ garde }}");
    CHECK_STR_MSG(md_text("{% if x %}oui{% else %}non{% endif %}"), "ouinon",
                  "both branches kept: we cannot evaluate them");
    CHECK_STR_MSG(md_text("prix {% non fermé"), "prix {% non fermé", "unclosed tag is text");
}

static void test_kramdown(void)
{
    CHECK_STR(md_text("Une citation.\n{: .citation}\n"), "Une citation.");
    CHECK_STR(md_text("[Lien](https://x.example){:target=\"_blank\"} et suite"), "Lien et suite");
    CHECK_STR(md_text("{::options parse_block_html=\"true\" /}\n\nTexte {:#id .a}\n"), "Texte");
    CHECK_STR_MSG(md_text("a\n\n{::comment}\nnote interne\nsur deux lignes\n{:/comment}\n\nb\n"),
                  "a\nb", "kramdown comment content dropped");
    CHECK_STR_MSG(md_text("{::comment}\n```\ncode\n```\n| a | b |\n|---|---|\n###x\n{:/}\nfin\n"),
                  "fin", "nothing in a kramdown comment survives, code and tables included");
    CHECK_STR(md_text("{::nomarkdown}\n<p>brut</p>\n{:/nomarkdown}\n"), "brut");
    CHECK_STR_MSG(md_text("> texte\n> {: .text-center}\n"), "texte", "IAL inside a quote");
    CHECK_STR_MSG(md_text("```\n{: .garde}\n```\n"), "{: .garde}", "not in code blocks");
    CHECK_STR_MSG(md_text("###Titre collé\n"), "Titre collé", "kramdown heading without space");
    CHECK_STR(last.headings, "Titre collé");
}

static void test_tables(void)
{
    const char *t = md_text("Avant\n| Année | Montant |\n|------:|:-------|\n| 2024 | 3 500 € |\n"
                            "| 2025 | [lien](u) |\n\nAprès\n");

    CHECK_STR(t, "Avant\nAnnée Montant\n2024 3 500 €\n2025 lien\nAprès");
    CHECK_MSG(!contains(t, "|") && !contains(t, "---"), "pipes and delimiter row gone");
    CHECK_STR(md_text("a | b\n--- | ---\nc | d\n"), "a b\nc d");
    CHECK_STR_MSG(md_text("```\n| a | b |\n|---|---|\n```\n"), "| a | b |\n|---|---|",
                  "no table in code");
    CHECK_STR_MSG(md_text("x | y sans ligne de séparation\n"), "x | y sans ligne de séparation",
                  "a lone pipe is text");
}

static void test_robustness(void)
{
    static const char bad[] = "caf\xc3 \xff fin\0apr\xc3\xa8s";
    pr_text t;
    char *deep = malloc(200001);

    CHECK(pr_markdown_to_text(bad, sizeof bad - 1, &t) == 0);
    CHECK_MSG(strstr(t.text, "\xef\xbf\xbd") && strstr(t.text, "après"),
              "invalid UTF-8 and NUL replaced by U+FFFD, text after kept");
    pr_text_free(&t);
    if (deep) {
        memset(deep, '>', 100000);
        memset(deep + 100000, '[', 100000);
        deep[200000] = '\0';
        CHECK_MSG(pr_markdown_to_text(deep, 200000, &t) == 0, "deep nesting does not crash");
        pr_text_free(&t);
        free(deep);
    }
}

int main(void)
{
    test_html();
    test_html_pieces();
    test_blocks();
    test_links_code();
    test_html_in_markdown();
    test_liquid();
    test_kramdown();
    test_tables();
    test_robustness();
    pr_text_free(&last);
    free(html_last);
    return unit_done();
}
