/*
 * fuzz_common.h - helpers shared by the libFuzzer harnesses of fuzz/:
 * a strict UTF-8 check, a findings reporter that aborts (so libFuzzer
 * saves the input as a crash), and a small index built once per process
 * for the harnesses that search (query, http).
 *
 * Header-only on purpose: each harness is one translation unit compiled
 * with the lib/ sources it needs (see fuzz/build.sh), nothing is linked
 * from the autotools build.
 */
#ifndef PR_FUZZ_COMMON_H
#define PR_FUZZ_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index_db.h"
#include "indexer.h"
#include "pr_error.h"

static void fz_rm_dir(void);

/* A property of the code under test does not hold: say which, abort
 * (after removing the harness's temporary folder: abort() skips atexit). */
__attribute__((noreturn, format(printf, 1, 2))) static void fz_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("\n*** prsearch fuzz finding: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    fflush(stderr);
    fz_rm_dir();
    abort();
}

#define FZ_CHECK(cond, ...) \
    do { if (!(cond)) fz_fail(__VA_ARGS__); } while (0)

/* Whether finding ID of fuzz/README.md is listed in $PR_FUZZ_KNOWN (e.g.
 * "F1 H1"): a harness then tolerates that known, reported bug so a long run
 * can look for others until it is fixed. Empty by default: seeds and CI
 * runs check everything. */
static int fz_known(const char *id)
{
    const char *k = getenv("PR_FUZZ_KNOWN");
    size_t n = strlen(id);
    for (const char *p = k ? strstr(k, id) : NULL; p; p = strstr(p + 1, id))
        if ((p == k || p[-1] == ' ' || p[-1] == ',') && (p[n] == '\0' || p[n] == ' ' || p[n] == ','))
            return 1;
    return 0;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, <= U+10FFFF.
 * Returns the byte offset of the first bad sequence, or -1 when S is valid. */
static long fz_utf8_bad(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        unsigned cp, min;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; min = 0x10000; }
        else return (long)i;
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (p[i + k] & 0xC0) != 0x80) return (long)i;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return (long)i;
        i += n + 1;
    }
    return -1;
}

static int fz_utf8_valid(const char *s, size_t len)
{
    return fz_utf8_bad(s, len) < 0;
}

/* A NUL-terminated string must be valid UTF-8; NULL is allowed when
 * NULL_OK. WHAT names it in the report. */
static void fz_check_str(const char *s, int null_ok, const char *what)
{
    long bad;
    if (!s) {
        FZ_CHECK(null_ok, "%s is NULL", what);
        return;
    }
    bad = fz_utf8_bad(s, strlen(s));
    FZ_CHECK(bad < 0, "%s is not valid UTF-8 at byte %ld: \"%.80s\"", what, bad,
             s + (bad > 20 ? bad - 20 : 0));
}

/* ---- a small index for the harnesses that search ----------------------- */

/* Pages chosen to exercise what results carry: markup-like text that
 * must come out escaped, accents, dates, tags, categories, collections,
 * near-duplicates, and enough words for prefixes and snippets. */
static const struct { const char *path, *text; } fz_pages[] = {
    {"_communiques/2021-03-01-eig.md",
     "---\ntitle: 'Entrepreneurs d''intérêt général : l’État recrute 50 talents du numérique'\n"
     "date: 2021-03-01 13:11:00 +01:00\ncategories:\n- Communiqué de presse\ntags:\n- EIG\n"
     "- Entrepreneurs d'intérêt général\nchapeau-text: \"**Transformer l’administration** "
     "avec des <b>talents</b>\"\n---\n# Recrutement\n\nLe programme EIG recrute des "
     "entrepreneur·e·s pour la 5e promotion. L'État & les <script>alert(1)</script> "
     "établissements publics.\n"},
    {"_communiques/cloud.md",
     "---\ntitle: \"Doctrine <cloud> & souveraineté \\\"au centre\\\"\"\ndate: 2022-05-10\n"
     "tags: cloud\ncategories: [Communiqué de presse, Cloud]\n---\nLa doctrine cloud de "
     "l’État : données, hébergement, 3 500 agents, porte-parole, c'est-à-dire E.I.G.\n\n"
     "## Sécurité & <em>accessibilité</em>\n\nUn paragraphe avec \"guillemets\" et 'apostrophes'.\n"},
    {"_actualites/2023-06-01-fast.md",
     "---\ntitle: FAST 8 — frigorifique établissement\ndate: 2023-06-01 10:00:00 +02:00\n"
     "tags: [FAST, frigo]\n---\nLe frigorifique établissement des établissements "
     "frigorifiques. Webinaire sur l’accessibilité numérique et les données ouvertes.\n"},
    {"_actualites/doublon.md",
     "---\ntitle: FAST 8 — frigorifique établissement\ndate: 2023-06-02\n---\nLe frigorifique "
     "établissement des établissements frigorifiques. Webinaire sur l’accessibilité numérique "
     "et les données ouvertes.\n"},
    {"_evenements/webinaire.md",
     "---\ntitle: 'Webinaire : appel à projets « France Relance »'\ndate: 2020-11-21\n"
     "categories: Événement\ntags: [webinaire, \"appel à projets\"]\n---\n"
     "{% include note.html %}Inscrivez-vous au webinaire{: .btn} du 21 novembre. "
     "Salarié·es, futur.e.s agents : 1er, 1re, 2ème édition. NEAR OR AND NOT ^ * \" ( ) :\n"},
    {"_publications/rapport.md",
     "---\ntitle: Rapport annuel 2022\ndate: 2022-12-31\ncategories: Publication\n---\n"
     "Rapport annuel. Marchés publics, logiciels libres, communs numériques, Œuvre, "
     "cœur, ǅ, ﬁnance, ＦＵＬＬＷＩＤＴＨ, emoji 🎉, 中文, Ελληνικά, العربية.\n"},
    {"a-propos.md", "# À propos\n\nQui sommes-nous ? Une équipe <i>interministérielle</i>.\n"},
};

static char fz_dir[256];

static void fz_rm_dir(void)
{
    char cmd[600];
    if (!fz_dir[0] || getenv("PR_FUZZ_KEEP_TMP"))
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir);
    if (system(cmd) != 0) { /* nothing to do */ }
}

static void fz_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* Build the index once, in a fresh temporary folder removed at exit.
 * Returns the index path (static storage). */
static const char *fz_build_index(void)
{
    static char db[300];
    const char *tmp = getenv("TMPDIR");
    char site[280], path[600];
    char *paths[1];
    pr_index_options opts = {0, 1, 0};
    pr_index_stats stats;
    pr_error err;
    sqlite3 *conn;

    if (db[0])
        return db;
    snprintf(fz_dir, sizeof fz_dir, "%s/prsearch-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fz_dir)) {
        fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fz_dir, strerror(errno));
        exit(1);
    }
    atexit(fz_rm_dir);
    snprintf(site, sizeof site, "%s/site", fz_dir);
    mkdir(site, 0755);
    for (size_t i = 0; i < sizeof fz_pages / sizeof fz_pages[0]; i++) {
        const char *slash = strchr(fz_pages[i].path, '/');
        if (slash) {
            snprintf(path, sizeof path, "%s/%.*s", site, (int)(slash - fz_pages[i].path),
                     fz_pages[i].path);
            mkdir(path, 0755);
        }
        snprintf(path, sizeof path, "%s/%s", site, fz_pages[i].path);
        fz_write(path, fz_pages[i].text);
    }
    snprintf(path, sizeof path, "%s/_config.yml", site);
    fz_write(path, "collections:\n  communiques:\n    output: true\n"
                   "    permalink: /espace-presse/:title/\n  actualites:\n    output: true\n"
                   "  evenements:\n    output: true\n  publications:\n    output: true\n");
    snprintf(db, sizeof db, "%s/index.db", fz_dir);
    pr_error_clear(&err);
    conn = pr_index_open(db, PR_INDEX_CREATE, &err);
    if (!conn) {
        fprintf(stderr, "fuzz: pr_index_open %s: %s\n", db, err.message);
        exit(1);
    }
    paths[0] = site;
    memset(&stats, 0, sizeof stats);
    if (pr_index_run(conn, paths, 1, &opts, &stats, NULL, NULL, &err) < 0 ||
        stats.documents != (long long)(sizeof fz_pages / sizeof fz_pages[0])) {
        fprintf(stderr, "fuzz: indexing the sample site failed (%lld documents): %s\n",
                stats.documents, err.message);
        exit(1);
    }
    sqlite3_close(conn);
    return db;
}

#endif
