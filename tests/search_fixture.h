/*
 * search_fixture.h - a small real index for the search core's unit tests
 * (test_query_parse, test_search): created with pr_index_open() and filled
 * through `documents` and `doc_facets` exactly as the indexer fills them,
 * so FTS5 and the french tokenizer run for real.
 */
#ifndef SEARCH_FIXTURE_H
#define SEARCH_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fr_tokenizer.h"
#include "index_db.h"
#include "lexicon.h"

typedef struct fx_doc {
    const char *path, *collection, *title, *date; /* date: YYYY-MM-DD or NULL */
    const char *categories[3], *tags[3];
    const char *chapeau, *headings, *body;
} fx_doc;

static long long fx_date_ts(const char *date)
{
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    if (!date || sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_hour = 12;
    return (long long)timegm(&tm);
}

static void fx_json_array(char *out, size_t size, const char *const v[3])
{
    size_t n = 0;
    int i;

    n += snprintf(out + n, size - n, "[");
    for (i = 0; i < 3 && v[i]; i++)
        n += snprintf(out + n, size - n, "%s\"%s\"", i ? "," : "", v[i]);
    snprintf(out + n, size - n, "]");
}

static int fx_facet(sqlite3 *db, const char *kind, const char *value, long long id)
{
    sqlite3_stmt *st;
    char *folded = fr_fold(value, (int)strlen(value));
    int rc;

    /* a page's row holds its "kind\0folded\0value\0" triples (index_db.h) */
    if (sqlite3_prepare_v2(db, "INSERT INTO doc_facets(doc_id, facets)"
                               " VALUES (?3, CAST(?1 || x'00' || ?2 || x'00' || ?4 || x'00' AS BLOB))"
                               " ON CONFLICT(doc_id) DO UPDATE"
                               " SET facets = CAST(facets || excluded.facets AS BLOB)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, folded, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(folded);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int fx_add(sqlite3 *db, const fx_doc *d)
{
    sqlite3_stmt *st;
    char cats[512], tags[512], tax[1024], year[5];
    long long id;
    int i, rc;
    size_t n;

    fx_json_array(cats, sizeof cats, d->categories);
    fx_json_array(tags, sizeof tags, d->tags);
    n = (size_t)snprintf(tax, sizeof tax, "%s", d->collection);
    for (i = 0; i < 3 && d->categories[i]; i++)
        n += (size_t)snprintf(tax + n, sizeof tax - n, "\n%s", d->categories[i]);
    for (i = 0; i < 3 && d->tags[i]; i++)
        n += (size_t)snprintf(tax + n, sizeof tax - n, "\n%s", d->tags[i]);
    if (sqlite3_prepare_v2(db,
            "INSERT INTO documents(source, root, path, collection, url, title, date, date_ts,"
            " categories, tags, chapeau, headings, body, taxonomy, size, mtime_ns, hash)"
            " VALUES (?1, '/fx', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0, 0, 'x')",
            -1, &st, NULL) != SQLITE_OK)
        return -1;
    {
        char src[512], url[512];
        snprintf(src, sizeof src, "/fx/%s", d->path);
        snprintf(url, sizeof url, "/%s/", d->path);
        sqlite3_bind_text(st, 1, src, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, url, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_text(st, 2, d->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, d->title, -1, SQLITE_STATIC);
    if (d->date) {
        sqlite3_bind_text(st, 6, d->date, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, fx_date_ts(d->date));
    }
    sqlite3_bind_text(st, 8, cats, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, tags, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 10, d->chapeau ? d->chapeau : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, d->headings ? d->headings : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, d->body ? d->body : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, tax, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    id = sqlite3_last_insert_rowid(db);
    if (fx_facet(db, "collection", d->collection, id) != 0)
        return -1;
    for (i = 0; i < 3 && d->categories[i]; i++)
        if (fx_facet(db, "category", d->categories[i], id) != 0)
            return -1;
    for (i = 0; i < 3 && d->tags[i]; i++)
        if (fx_facet(db, "tag", d->tags[i], id) != 0)
            return -1;
    if (d->date) {
        memcpy(year, d->date, 4);
        year[4] = '\0';
        if (fx_facet(db, "year", year, id) != 0)
            return -1;
    }
    return 0;
}

#define FX_LONG_BODY_FILLER                                                            \
    "Le programme accompagne les administrations dans leurs projets. Les équipes "     \
    "travaillent avec les agents publics sur des défis concrets pendant dix mois. "    \
    "Elles conçoivent des services utiles aux usagers et partagent leurs méthodes. "

#define FX_HEAT_BODY                                                                   \
    "Les réseaux de chaleur alimentent des quartiers entiers en eau chaude produite par "  \
    "des chaufferies collectives, souvent au bois ou par récupération de chaleur fatale. " \
    "La carte publiée recense les tracés des réseaux, leurs gestionnaires, leur taux "     \
    "d'énergies renouvelables et les bâtiments qui peuvent s'y raccorder facilement. "    \
    "Les collectivités s'en servent pour planifier leurs extensions. "

/* The documents of the fixture; tests refer to them by path. */
static const fx_doc fx_docs[] = {
    {"_communiques/2021-03-01-eig-recrute.md", "communiques",
     "Entrepreneurs d'intérêt général : l’État recrute 50 talents du numérique",
     "2021-03-01", {"Communiqué de presse"}, {"EIG", "Entrepreneurs d'intérêt général"},
     "Transformer l’administration avec des talents du numérique.", "Le programme",
     "La cinquième promotion du programme EIG recrute des développeurs, designers et "
     "data scientists pour relever des défis d'intérêt général."},
    {"_actualites/2020-06-10-franceconnect.md", "actualites",
     "FranceConnect franchit le cap des 20 millions d'utilisateurs", "2020-06-10",
     {"Actualité"}, {"FranceConnect"},
     "FranceConnect simplifie l'accès aux services publics en ligne.", "",
     "Le bouton FranceConnect permet de se connecter avec un compte existant. "
     "Les usagers & les administrations <b>gagnent</b> du temps : \"simple\" et 'sûr'."},
    {"_actualites/2019-01-15-webinaire-cloud.md", "actualites",
     "Webinaire : le cloud au service de l'administration", "2019-01-15",
     {"Actualité"}, {"Cloud"}, "Un webinaire sur le cloud souverain.", "",
     "Inscrivez-vous au webinaire sur le cloud et la souveraineté numérique."},
    {"_publications/2022-05-02-souverainete.md", "publications",
     "Doctrine cloud au centre : souveraineté et sécurité", "2022-05-02",
     {"Publication"}, {"Cloud"}, "La doctrine « cloud au centre » de l'État.", "",
     "La souveraineté des données publiques guide la stratégie cloud de l'État."},
    /* Title beats body: same word, same date, one in the title, one deep in
     * a long body. */
    {"_actualites/2021-09-01-accessibilite.md", "actualites",
     "Accessibilité numérique des sites publics", "2021-09-01", {"Actualité"},
     {"Accessibilité"}, "Un point d'étape.", "", FX_LONG_BODY_FILLER},
    {"_actualites/2021-09-01-bilan.md", "actualites", "Bilan annuel des services en ligne",
     "2021-09-01", {"Actualité"}, {"Bilan"}, "Un point d'étape.", "",
     FX_LONG_BODY_FILLER FX_LONG_BODY_FILLER FX_LONG_BODY_FILLER
     "Enfin, l'accessibilité numérique progresse."},
    /* Ties: the same text twice, two dates. */
    {"_communiques/2018-02-01-hackathon.md", "communiques", "Hackathon des données ouvertes",
     "2018-02-01", {"Communiqué de presse"}, {"Open data"},
     "Un hackathon sur les données ouvertes.", "", "Les données ouvertes au hackathon."},
    {"_communiques/2023-02-01-hackathon.md", "communiques", "Hackathon des données ouvertes",
     "2023-02-01", {"Communiqué de presse"}, {"Open data"},
     "Un hackathon sur les données ouvertes.", "", "Les données ouvertes au hackathon."},
    {"_evenements/salon.md", "evenements", "Salon des métiers du numérique", NULL,
     {"Événement"}, {"EIG"}, "Le salon où l'État recrute.", "",
     "Venez rencontrer les recruteurs : 3 500 postes ouverts, porte-parole présent."},
    /* One page published twice, two days apart (folded into one hit). */
    {"_evenements/tchap.md", "evenements", "Lancement de Tchap, la messagerie de l’État",
     "2018-04-16", {"Événement"}, {"Tchap"}, "Tchap est lancé.", "", "La messagerie Tchap."},
    {"_publications/tchap-bis.md", "publications", "Lancement de Tchap, la messagerie de l’État",
     "2018-04-18", {"Publication"}, {"Tchap"}, "Tchap est lancé.", "",
     "La messagerie Tchap, en version bêta."},
    /* An acronym the pages define (learned), and a page that only spells
     * its long form (found for the acronym, a little lower). */
    {"pages/2017-05-01-dinum.md", "pages",
     "Le rôle de la direction interministérielle du numérique (DINUM)", "2017-05-01",
     {"Publication"}, {"Organisation"}, "La DINUM pilote la transformation.", "",
     "La direction interministérielle du numérique (DINUM) accompagne les ministères."},
    {"pages/2017-06-01-pilotage.md", "pages",
     "Pilotage des grands projets informatiques", "2017-06-01", {"Publication"}, {"Projets"},
     "Un avis avant chaque lancement.", "",
     "Chaque grand projet reçoit un avis de la direction interministérielle du numérique."},
    /* One text under two titles (near-identical bodies: one hit). */
    {"pages/2017-09-01-chaleur.md", "pages", "Chaleur urbaine : une carte des réseaux",
     "2017-09-01", {"Publication"}, {"Énergie"}, "", "", FX_HEAT_BODY "Elle est ouverte."},
    {"pages/2017-09-20-reseaux.md", "pages", "Une carte des réseaux de chaleur",
     "2017-09-20", {"Publication"}, {"Énergie"}, "", "", FX_HEAT_BODY "Elle est libre."},
};

#define FX_NDOCS ((int)(sizeof fx_docs / sizeof fx_docs[0]))
/* Pages, duplicates folded: the two hackathons (one title, 2018 and
 * 2023: same title, whatever the dates), the two Tchap pages and the two
 * heat network pages (one body). */
#define FX_DISTINCT (FX_NDOCS - 3)

/* Build the fixture index at a fresh temporary path (written to PATH, at
 * least 64 bytes). Returns 0, or -1 (with a message on stderr). */
static int fx_build(char *path, size_t size)
{
    pr_error err;
    sqlite3 *db;
    int i, fd;

    snprintf(path, size, "%s/prsearch-fx-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(path);
    db = pr_index_open(path, PR_INDEX_CREATE, &err);
    if (!db) {
        fprintf(stderr, "fixture: %s\n", err.message);
        return -1;
    }
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (i = 0; i < FX_NDOCS; i++) {
        if (fx_add(db, &fx_docs[i]) != 0) {
            fprintf(stderr, "fixture: %s: %s\n", fx_docs[i].path, sqlite3_errmsg(db));
            sqlite3_close(db);
            return -1;
        }
    }
    /* What the indexer derives from the pages: vocabulary, acronyms,
     * near-duplicates (lexicon.h). */
    if (pr_derived_rebuild(db, &err) != 0) {
        fprintf(stderr, "fixture: %s\n", err.message);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return 0;
}

/* Remove the index and its WAL files. */
static void fx_remove(const char *path)
{
    char p[600];

    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

#endif
