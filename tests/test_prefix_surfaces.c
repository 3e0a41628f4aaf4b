/*
 * test_prefix_surfaces.c - lib/prefix_surfaces.c through the real indexer
 * and searcher: pages written to a temporary folder, indexed with
 * pr_index_run(), searched with pr_search().
 *
 * What must hold: the list has each surface form with the stems it came
 * with; a prefix drops its surface form only when every listed row is
 * reached through the prefix's stems; and a search answers the same with
 * the shortcut as without it, including "communiqu*", where the verb
 * "communique" (stems commun, commun) is reached through its surface form
 * alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index_db.h"
#include "indexer.h"
#include "prefix_surfaces.h"
#include "search.h"
#include "unit.h"

static const struct {
    const char *name, *title, *body;
} pages[] = {
    {"a.md", "Le communiqué de presse", "Un communiqué sur la stratégie numérique de l'État."},
    {"b.md", "Communique", "La direction communique ses chiffres et numérise ses archives."},
    {"c.md", "Établissements", "Les établissements publics numériques."},
};

static void write_site(const char *dir)
{
    char path[512];

    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        FILE *f;
        snprintf(path, sizeof path, "%s/%s", dir, pages[i].name);
        f = fopen(path, "w");
        if (!f)
            continue;
        fprintf(f, "---\ntitle: \"%s\"\ndate: 2024-01-0%zu\n---\n\n%s\n", pages[i].title, i + 1,
                pages[i].body);
        fclose(f);
    }
}

/* pr_surfaces_covered() for SURFACE and the one FORM, on DB. */
static int covered(sqlite3 *db, const char *surface, const char *form)
{
    sqlite3_stmt *c = NULL, *r = NULL;
    const char *forms[1] = {form};
    int lens[1] = {(int)strlen(form)}, ok;

    sqlite3_prepare_v2(db, PR_SURFACES_COMPLETE_SQL, -1, &c, NULL);
    sqlite3_prepare_v2(db, PR_SURFACES_RANGE_SQL, -1, &r, NULL);
    ok = pr_surfaces_covered(c, r, surface, (int)strlen(surface), forms, lens, 1);
    sqlite3_finalize(c);
    sqlite3_finalize(r);
    return ok;
}

/* The answer to Q (JSON text without took_ms), with or without the
 * shortcut; NULL on failure. */
static char *answer(const char *db_path, const char *q, int prefix_stems)
{
    pr_search_config cfg;
    pr_search_request req;
    pr_searcher *s;
    pr_error err;
    json_t *res = NULL;
    char *text = NULL;

    pr_search_config_init(&cfg);
    cfg.prefix_stems = prefix_stems;
    cfg.time_budget_ms = 0;
    if (!(s = pr_searcher_open(db_path, &cfg, &err)))
        return NULL;
    pr_search_request_init(&req);
    req.q = q;
    if (pr_search(s, &req, &res, &err) == PR_SEARCH_OK) {
        json_object_del(res, "took_ms");
        text = json_dumps(res, JSON_SORT_KEYS | JSON_COMPACT);
    }
    json_decref(res);
    pr_searcher_close(s);
    return text;
}

static long long total_of(const char *json)
{
    const char *t = json ? strstr(json, "\"total\":") : NULL;

    return t ? atoll(t + 8) : -1;
}

int main(void)
{
    char dir[] = "/tmp/test_prefix_surfacesXXXXXX", db_path[600], *paths[1];
    const char *qs[] = {"communiqu*", "communi*", "numeri*", "numéri*", "etabliss*", "établ*",
                        "com*", "num*", "strat*"};
    pr_index_options opts = {0};
    pr_index_stats stats;
    pr_error err;
    sqlite3 *db, *ro;
    sqlite3_stmt *st;
    char rows[2048] = "";
    size_t n = 0;

    if (!mkdtemp(dir))
        return 1;
    write_site(dir);
    snprintf(db_path, sizeof db_path, "%s/idx.db", dir);
    paths[0] = dir;
    db = pr_index_open(db_path, PR_INDEX_CREATE, &err);
    CHECK_MSG(db != NULL, "index opened");
    CHECK_MSG(db && pr_index_run(db, paths, 1, &opts, &stats, NULL, NULL, &err) == 0,
              "pages indexed");
    sqlite3_close(db);

    ro = NULL;
    sqlite3_open_v2(db_path, &ro, SQLITE_OPEN_READONLY, NULL);
    sqlite3_prepare_v2(ro, "SELECT surface || ':' || a || ',' || b FROM prefix_surfaces"
                           " WHERE surface LIKE 'communiqu%' ORDER BY 1", -1, &st, NULL);
    while (st && sqlite3_step(st) == SQLITE_ROW)
        n += (size_t)snprintf(rows + n, sizeof rows - n, "%s ", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    CHECK_STR_MSG(rows, "communique:commun,commun communique:communiqu,commun ",
                  "each spelling of a surface form with the stems it came with");
    CHECK_MSG(covered(ro, "numeri", "numer"), "numeri: every form reached through numer*");
    CHECK_MSG(!covered(ro, "communiqu", "communiqu"),
              "communiqu: communique (commun, commun) is not reached through communiqu*");
    CHECK_MSG(!covered(ro, "etabliss", "etabliss"),
              "etabliss: établissements (etabl) is not reached through etabliss*");
    CHECK_MSG(covered(ro, "zyx", "zyx"), "a prefix no surface form starts with");
    sqlite3_close(ro);

    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        char *with = answer(db_path, qs[i], 1), *without = answer(db_path, qs[i], 0);
        char what[128];
        snprintf(what, sizeof what, "%s: the same answer with the shortcut as without", qs[i]);
        CHECK_MSG(with && without && !strcmp(with, without), what);
        if (!strcmp(qs[i], "communiqu*"))
            CHECK_MSG(total_of(with) == 2, "communiqu*: both pages (the verb's only through ~communique)");
        if (!strcmp(qs[i], "numeri*"))
            CHECK_MSG(total_of(with) == 3, "numeri*: the three pages");
        free(with);
        free(without);
    }

    /* Surface forms are written as listed surface tokens (fts5_french.h):
     * found above only through the list, since FTS5 has no prefix entry
     * for them. */
    {
        char *with = answer(db_path, "etabliss*", 1), *sql = NULL;
        CHECK_MSG(total_of(with) == 1, "etabliss*: établissements, through the list");
        free(with);
        sqlite3_open_v2(db_path, &ro, SQLITE_OPEN_READONLY, NULL);
        sqlite3_prepare_v2(ro, "SELECT sql FROM sqlite_master WHERE name = 'fts'", -1, &st, NULL);
        if (st && sqlite3_step(st) == SQLITE_ROW)
            sql = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        sqlite3_close(ro);
        CHECK_MSG(sql && strstr(sql, "tokenize='french listed'"), "the index's fts is listed");
        free(sql);
    }

    /* Another writer (the triggers) adds words the list does not have. */
    db = pr_index_open(db_path, 0, &err);
    sqlite3_exec(db, "INSERT INTO documents(source, root, path, collection, url, title, size,"
                     " mtime_ns, hash) VALUES ('/x/y.md', '/x', 'y.md', 'pages', '/y.html',"
                     " 'Numéroter', 0, 0, 'h')", NULL, NULL, NULL);
    sqlite3_close(db);
    sqlite3_open_v2(db_path, &ro, SQLITE_OPEN_READONLY, NULL);
    CHECK_MSG(!covered(ro, "numeri", "numer"), "after another writer: the list is not trusted");
    sqlite3_close(ro);
    /* The next run (nothing changed on disk) lists the forms of every page
     * again: numerote* (longer than the stem numerot) finds the page
     * written by hand through its surface form. */
    db = pr_index_open(db_path, 0, &err);
    CHECK_MSG(db && pr_index_run(db, paths, 1, &opts, &stats, NULL, NULL, &err) == 0,
              "a run with nothing changed");
    sqlite3_close(db);
    sqlite3_open_v2(db_path, &ro, SQLITE_OPEN_READONLY, NULL);
    CHECK_MSG(covered(ro, "numeri", "numer"), "after the run: the list is complete again");
    CHECK_MSG(!covered(ro, "numerote", "numerote"), "... and has numeroter (stem numerot)");
    sqlite3_close(ro);
    {
        char *with = answer(db_path, "numerote*", 1);
        CHECK_MSG(total_of(with) == 1, "numerote*: the page written by hand");
        free(with);
    }

    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, pages[i].name);
        unlink(path);
    }
    {
        const char *suffix[] = {"", "-wal", "-shm", ".lock"};
        for (size_t i = 0; i < 4; i++) {
            char path[640];
            snprintf(path, sizeof path, "%s%s", db_path, suffix[i]);
            unlink(path);
        }
    }
    rmdir(dir);
    return unit_done();
}
