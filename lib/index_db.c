/*
 * index_db.c - opening the index file and keeping its schema current.
 *
 * Everything that knows the SQL schema's shape at creation time lives here;
 * the indexer (indexer.c) writes rows and the searcher (search.c) reads
 * them. The FTS5 table is external-content over `documents`, synchronised
 * by triggers, so a writer only ever touches `documents` and `doc_facets`,
 * and snippets can be cut from the stored text. It also picks the
 * journal: WAL, so readers keep the previous state during a run, except
 * for a new index's first run (choose_journal).
 */
#include "index_db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fr_tokenizer.h"
#include "fts5_french.h"
#include "lexicon.h"

/* What the triggers do to fts: a page's new text in, its old text out. */
#define FTS_ADD_NEW \
    "  INSERT INTO fts(rowid, title, headings, chapeau, body, taxonomy)" \
    "  VALUES (new.id, new.title, new.headings, new.chapeau, new.body, new.taxonomy);"
#define FTS_DROP_OLD \
    "  INSERT INTO fts(fts, rowid, title, headings, chapeau, body, taxonomy)" \
    "  VALUES ('delete', old.id, old.title, old.headings, old.chapeau, old.body, old.taxonomy);"

static const char schema_v1[] =
    "CREATE TABLE documents("
    "  id INTEGER PRIMARY KEY,"
    "  source TEXT NOT NULL UNIQUE,"
    "  root TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  collection TEXT NOT NULL,"
    "  url TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  date TEXT,"
    "  date_ts INTEGER,"
    "  categories TEXT NOT NULL DEFAULT '[]',"
    "  tags TEXT NOT NULL DEFAULT '[]',"
    "  chapeau TEXT NOT NULL DEFAULT '',"
    "  headings TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL DEFAULT '',"
    "  taxonomy TEXT NOT NULL DEFAULT '',"
    "  size INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE INDEX documents_by_date ON documents(date_ts);"
    "CREATE TABLE doc_facets("
    "  kind TEXT NOT NULL,"
    "  folded TEXT NOT NULL,"
    "  doc_id INTEGER NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY(kind, folded, doc_id)) WITHOUT ROWID;"
    "CREATE INDEX doc_facets_by_doc ON doc_facets(doc_id);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
    "CREATE VIRTUAL TABLE fts USING fts5("
    "  title, headings, chapeau, body, taxonomy,"
    "  content='documents', content_rowid='id', tokenize='french');"
    /* Only text changes touch FTS5: an mtime-only update (same hash) must
     * not pay for re-tokenizing the page. */
    "CREATE TRIGGER documents_ai AFTER INSERT ON documents BEGIN"
    FTS_ADD_NEW
    "END;"
    "CREATE TRIGGER documents_ad AFTER DELETE ON documents BEGIN"
    FTS_DROP_OLD
    "  DELETE FROM doc_facets WHERE doc_id = old.id;"
    "END;"
    "CREATE TRIGGER documents_au AFTER UPDATE OF title, headings, chapeau, body, taxonomy"
    "  ON documents BEGIN"
    FTS_DROP_OLD
    FTS_ADD_NEW
    "END;"
    "PRAGMA user_version = 1;";

/*
 * Version 2: what relevance needs beyond FTS5 (lexicon.h) and FTS5 prefix
 * indexes for as-you-type. The fts table is recreated with the prefix
 * option (FTS5 cannot add it in place) and rebuilt from the stored text;
 * the derived tables are then filled by pr_derived_rebuild().
 * PR_FTS_PREFIX was chosen by measurement (docs/as-you-type.md); version 7
 * changed it.
 */
#define PR_FTS_PREFIX "2"
static const char schema_v2[] =
    "ALTER TABLE documents ADD COLUMN simhash INTEGER;"
    "CREATE TABLE vocab("
    "  term TEXT NOT NULL,"
    "  form TEXT NOT NULL,"
    "  df INTEGER NOT NULL,"
    "  PRIMARY KEY(term, form)) WITHOUT ROWID;"
    "CREATE TABLE doc_acronyms("
    "  doc_id INTEGER NOT NULL,"
    "  acronym TEXT NOT NULL,"
    /* key columns first: SQLite 3.40's integrity_check misreads a WITHOUT
     * ROWID table whose other columns sit between its key columns */
    "  long_key TEXT NOT NULL,"
    "  long_form TEXT NOT NULL,"
    "  PRIMARY KEY(doc_id, acronym, long_key)) WITHOUT ROWID;"
    "CREATE TABLE doc_dups(doc_id INTEGER PRIMARY KEY, grp INTEGER NOT NULL);"
    "DROP TRIGGER documents_ad;"
    "CREATE TRIGGER documents_ad AFTER DELETE ON documents BEGIN"
    FTS_DROP_OLD
    "  DELETE FROM doc_facets WHERE doc_id = old.id;"
    "  DELETE FROM doc_acronyms WHERE doc_id = old.id;"
    "  DELETE FROM doc_dups WHERE doc_id = old.id;"
    "END;"
    "DROP TABLE fts;"
    "CREATE VIRTUAL TABLE fts USING fts5("
    "  title, headings, chapeau, body, taxonomy,"
    "  content='documents', content_rowid='id', tokenize='french',"
    "  prefix='" PR_FTS_PREFIX "');"
    "INSERT INTO fts(fts) VALUES ('rebuild');"
    "PRAGMA user_version = 2;";

/*
 * Version 3: what makes indexing fast, nothing a reader sees. The insert
 * and update triggers stand aside while the indexer fills fts itself, a
 * batch of pages per statement (FTS5 writes a segment per statement): the
 * indexer sets meta 'fts_by_indexer' inside its transaction, never
 * committed. A covering index answers "is this file unchanged?" from the
 * index alone (a rerun reads no page text), another one the duplicate
 * grouping's scan of fingerprints and titles.
 */
#define PR_FTS_TRIGGER_WHEN " WHEN NOT EXISTS (SELECT 1 FROM meta WHERE key = 'fts_by_indexer')"
static const char schema_v3[] =
    "DROP TRIGGER documents_ai;"
    "DROP TRIGGER documents_au;"
    "CREATE TRIGGER documents_ai AFTER INSERT ON documents" PR_FTS_TRIGGER_WHEN " BEGIN"
    FTS_ADD_NEW
    "END;"
    "CREATE TRIGGER documents_au AFTER UPDATE OF title, headings, chapeau, body, taxonomy"
    "  ON documents" PR_FTS_TRIGGER_WHEN " BEGIN"
    FTS_DROP_OLD
    FTS_ADD_NEW
    "END;"
    "CREATE INDEX documents_stat ON documents(source, size, mtime_ns, hash);"
    "CREATE INDEX documents_groups ON documents(id, simhash, title);"
    /* Measured on 10k pages: merging 16 segments at a time instead of 4
     * costs the writer ~18% less, and leaves fewer segments than one per
     * page statement did (10 against 14). 10k pages make 10 segments, so
     * nothing merges there; from 16 batches on, merging rewrites the term
     * lists once, +35% on the FTS5 part of a 100k run
     * (docs/index-scaling.md). */
    "INSERT INTO fts(fts, rank) VALUES ('automerge', 16);"
    "INSERT INTO fts(fts, rank) VALUES ('crisismerge', 64);"
    "PRAGMA user_version = 3;";

/*
 * Version 4: what the searcher keeps in memory of every page (date, day)
 * read by one index-only scan (search_docs.c), never from the rows of
 * `documents`, several KB each: 1 s at 100k pages against 30 ms.
 */
static const char schema_v4[] =
    "CREATE INDEX documents_dates ON documents(date_ts, date);"
    "PRAGMA user_version = 4;";

/*
 * Version 5: the surface forms (FR_SURFACE_MARK tokens) the index holds,
 * with their stems, for prefix queries (prefix_surfaces.h). Meta
 * 'prefix_surfaces' = 'complete' says the list has every one: every
 * indexing run leaves it so (indexer.c note_surfaces), and pages written by
 * anyone else (the triggers) clear it.
 */
static const char schema_v5[] =
    "CREATE TABLE prefix_surfaces("
    "  surface TEXT NOT NULL,"
    "  a TEXT NOT NULL,"
    "  b TEXT NOT NULL,"
    "  PRIMARY KEY(surface, a, b)) WITHOUT ROWID;"
    "DROP TRIGGER documents_ai;"
    "DROP TRIGGER documents_au;"
    "CREATE TRIGGER documents_ai AFTER INSERT ON documents" PR_FTS_TRIGGER_WHEN " BEGIN"
    FTS_ADD_NEW
    "  DELETE FROM meta WHERE key = 'prefix_surfaces';"
    "END;"
    "CREATE TRIGGER documents_au AFTER UPDATE OF title, headings, chapeau, body, taxonomy"
    "  ON documents" PR_FTS_TRIGGER_WHEN " BEGIN"
    FTS_DROP_OLD
    FTS_ADD_NEW
    "  DELETE FROM meta WHERE key = 'prefix_surfaces';"
    "END;"
    "PRAGMA user_version = 5;";

/*
 * Version 6: surface forms without entries in the prefix indexes
 * (tokenize='french listed', fts5_french.h): a quarter of what the indexer
 * wrote into FTS5. Version 7: no 3-character prefix index (prefix='2'
 * instead of '2 3'): the indexer's writes into FTS5 were two thirds prefix
 * entries; without these a 100k-page build takes 11 to 17% less CPU and
 * the index 11% less room, and 3-letter prefixes are read by merging the
 * terms that start with them, as longer ones always were
 * (docs/as-you-type.md has the figures). For either, the fts table is
 * recreated and rebuilt from the stored text, once, as for version 2, and
 * given its merge settings again (they live in the table). The surface
 * list stays as it was: it holds forms, not how they are written.
 */
static const char schema_v7[] =
    "DROP TABLE fts;"
    "CREATE VIRTUAL TABLE fts USING fts5("
    "  title, headings, chapeau, body, taxonomy,"
    "  content='documents', content_rowid='id', tokenize='french listed',"
    "  prefix='" PR_FTS_PREFIX "');"
    "INSERT INTO fts(fts) VALUES ('rebuild');"
    "INSERT INTO fts(fts, rank) VALUES ('automerge', 16);"
    "INSERT INTO fts(fts, rank) VALUES ('crisismerge', 64);"
    "PRAGMA user_version = 7;";

/*
 * Version 8: a page's facets in one row, doc_facets(doc_id, facets), the
 * blob holding its "kind\0folded\0value\0" triples as the indexer's
 * parser makes them, instead of a row per facet value keyed by (kind,
 * folded, doc_id) with an index by page: five rows and ten b-tree descents
 * a page were 2.6 s of the indexer's writer at 100k pages, and the
 * searcher reads the table whole into memory (search_docs.c). The old
 * rows are carried over. The table is made anew under its own name (the
 * triggers name it: a rename would have them point at nothing meanwhile).
 */
static const char schema_v8[] =
    "CREATE TEMP TABLE facets_v8 AS SELECT doc_id, CAST(group_concat("
    "  kind || x'00' || folded || x'00' || value || x'00', '') AS BLOB) AS facets"
    "  FROM doc_facets GROUP BY doc_id;"
    "DROP TABLE doc_facets;"
    "CREATE TABLE doc_facets(doc_id INTEGER PRIMARY KEY, facets BLOB NOT NULL);"
    "INSERT INTO doc_facets(doc_id, facets) SELECT doc_id, facets FROM temp.facets_v8;"
    "DROP TABLE temp.facets_v8;"
    "PRAGMA user_version = 8;";

int pr_index_facets_by_value(sqlite3 *db)
{
    sqlite3_stmt *st;
    int found = 0;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('doc_facets') WHERE name = 'kind'",
                           -1, &st, NULL) != SQLITE_OK)
        return 1; /* let the conversion say what is wrong */
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Bring a writable index to PR_SCHEMA_VERSION, one step after the other,
 * in one transaction: version 0 is an empty file (a new index). */
static int migrate(sqlite3 *db, const char *path, int version, pr_error *err)
{
    char *msg = NULL;
    pr_error derr;
    int rc = SQLITE_OK;

    if (version == PR_SCHEMA_VERSION)
        return 0;
    if (version < 0 || version > PR_SCHEMA_VERSION)
        return pr_error_set(err, 0, 0, "%s: unknown index schema version %d", path, version);
    pr_error_clear(&derr);
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
    if (rc == SQLITE_OK && version < 1)
        rc = sqlite3_exec(db, schema_v1, NULL, NULL, &msg);
    if (rc == SQLITE_OK && version < 2) {
        rc = sqlite3_exec(db, schema_v2, NULL, NULL, &msg);
        if (rc == SQLITE_OK && pr_derived_rebuild(db, &derr) != 0)
            rc = SQLITE_ERROR;
    }
    if (rc == SQLITE_OK && version < 3) {
        rc = sqlite3_exec(db, schema_v3, NULL, NULL, &msg);
        /* groups now also join pages by title: computed once here, then
         * by the runs that change pages */
        if (rc == SQLITE_OK && version == 2 && pr_derived_regroup(db, &derr) != 0)
            rc = SQLITE_ERROR;
    }
    if (rc == SQLITE_OK && version < 4)
        rc = sqlite3_exec(db, schema_v4, NULL, NULL, &msg);
    if (rc == SQLITE_OK && version < 5)
        rc = sqlite3_exec(db, schema_v5, NULL, NULL, &msg);
    if (rc == SQLITE_OK && version < 7)
        rc = sqlite3_exec(db, schema_v7, NULL, NULL, &msg);
    if (rc == SQLITE_OK && version < 8)
        rc = sqlite3_exec(db, pr_index_facets_by_value(db) ? schema_v8 : "PRAGMA user_version = 8;",
                          NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        pr_error_set(err, 0, 0, "%s: cannot %s the index schema: %s", path,
                     version ? "upgrade" : "create",
                     msg ? msg : derr.message[0] ? derr.message : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static int check_version(sqlite3 *db, const char *path, int flags, pr_error *err)
{
    int v = user_version(db);

    /* A rollback journal left by a killed first run (choose_journal):
     * only a writer can roll it back. */
    if (v < 0 && sqlite3_extended_errcode(db) == SQLITE_READONLY_ROLLBACK)
        return pr_error_set(err, 0, 0,
                            "%s: the first indexing run of this index was interrupted: "
                            "run prsearch-index again to build it",
                            path);
    if (v < 0)
        return pr_error_set(err, 0, 0, "%s: not a prsearch index (%s)", path,
                            sqlite3_errmsg(db));
    if (v > PR_SCHEMA_VERSION)
        return pr_error_set(err, 0, 0,
                            "%s: index built by a newer prsearch (schema %d, this one reads %d)",
                            path, v, PR_SCHEMA_VERSION);
    if (flags & PR_INDEX_READONLY) {
        if (v == 0)
            return pr_error_set(err, 0, 0, "%s: not a prsearch index (empty or foreign file)", path);
        if (v < PR_SCHEMA_READ_MIN)
            return pr_error_set(err, 0, 0,
                                "%s: index schema %d is old: run prsearch-index to upgrade it",
                                path, v);
        return 0;
    }
    return migrate(db, path, v, err);
}

/*
 * An index whose tokens were made by other analysis rules (an older
 * prsearch) cannot be updated in place: FTS5 'delete' re-tokenizes the old
 * text and would miss the old tokens. Rebuild the full-text index from the
 * stored text with the current rules, in one transaction.
 */
static int sync_analysis_version(sqlite3 *db, const char *path, pr_error *err)
{
    sqlite3_stmt *st;
    int have = -1;
    char sql[256];
    char *msg = NULL;

    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'analysis_version'", -1, &st,
                           NULL) != SQLITE_OK)
        return pr_error_set(err, 0, 0, "%s: %s", path, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (have == FR_ANALYSIS_VERSION)
        return 0;
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE;"
             "%s"
             "INSERT OR REPLACE INTO meta(key, value) VALUES ('analysis_version', %d);"
             /* FTS5 tokenizes the pages here, unwatched: the list may
              * miss forms */
             "DELETE FROM meta WHERE key = 'prefix_surfaces';"
             "COMMIT;",
             "INSERT INTO fts(fts) VALUES ('rebuild');", FR_ANALYSIS_VERSION);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        pr_error_set(err, 0, 0, "%s: cannot rebuild the full-text index: %s", path,
                     msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static int configure_writer(sqlite3 *db, const char *path, pr_error *err)
{
    char *msg = NULL;
    int persist = 1;

    /* Keep -wal and -shm when we close, so a daemon that may not write in
     * the index's folder can still open it read-only. */
    sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);

    /* A run is one transaction: a page cache that holds what it changes
     * writes each page to the WAL once, at commit, instead of spilling and
     * rewriting it (128 MB; 100k pages make a 1 GB index, and still spill
     * less); statement journals and sorters stay in memory; mmap spares
     * copies when reading the file (covering indexes of a rerun). */
    if (sqlite3_exec(db, "PRAGMA journal_size_limit=67108864;"
                         "PRAGMA cache_size=-131072; PRAGMA temp_store=MEMORY;"
                         "PRAGMA mmap_size=268435456;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        pr_error_set(err, 0, 0, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Non-zero when the index is in WAL mode. */
static int in_wal(sqlite3 *db)
{
    sqlite3_stmt *st;
    int wal = 0;

    if (sqlite3_prepare_v2(db, "PRAGMA main.journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    return wal;
}

/*
 * WAL lets the daemon keep reading the previous state while a run writes;
 * synchronous=NORMAL is durable at each checkpoint and cannot corrupt in
 * WAL mode. But an index that never finished a run (never in WAL mode) and
 * has no page yet is written through a rollback journal until its first
 * run commits (pr_index_finish_first_run): pages past the file's end at
 * the start of a transaction need no journal entry, so each page of a
 * first build is written once, to the file, where the WAL would take it
 * and a checkpoint copy it again (at 100k pages ~1 GB written twice, a
 * sixth of the run's time). Readers wait while a rollback transaction
 * writes, but before its first run there is no index to read.
 */
static int choose_journal(sqlite3 *db, const char *path, pr_error *err)
{
    int first = !in_wal(db) && pr_index_count(db) == 0;
    char *msg = NULL;

    if (sqlite3_exec(db, first ? "PRAGMA journal_mode=DELETE; PRAGMA synchronous=NORMAL;"
                               : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        pr_error_set(err, 0, 0, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int pr_index_finish_first_run(sqlite3 *db)
{
    if (in_wal(db))
        return 0;
    return sqlite3_exec(db, "PRAGMA main.journal_mode=WAL", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

sqlite3 *pr_index_open(const char *path, int flags, pr_error *err)
{
    sqlite3 *db = NULL;
    const char *fts_msg = NULL;
    struct stat sb;
    int oflags;

    if ((flags & PR_INDEX_READONLY) || !(flags & PR_INDEX_CREATE)) {
        if (stat(path, &sb) != 0) {
            pr_error_set(err, 0, 0, "no index at %s (%s): build one with prsearch-index",
                         path, strerror(errno));
            return NULL;
        }
    }
    oflags = (flags & PR_INDEX_READONLY) ? SQLITE_OPEN_READONLY
                                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        pr_error_set(err, 0, 0, "cannot open index %s: %s", path,
                     db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_extended_result_codes(db, 1);
    if (fts5_french_register(db, &fts_msg) != SQLITE_OK) {
        pr_error_set(err, 0, 0, "%s", fts_msg ? fts_msg : "cannot register the french tokenizer");
        sqlite3_close(db);
        return NULL;
    }
    if (!(flags & PR_INDEX_READONLY) && configure_writer(db, path, err) != 0)
        goto fail;
    if (check_version(db, path, flags, err) != 0)
        goto fail;
    if (!(flags & PR_INDEX_READONLY) && sync_analysis_version(db, path, err) != 0)
        goto fail;
    if (!(flags & PR_INDEX_READONLY) && choose_journal(db, path, err) != 0)
        goto fail;
    return db;
fail:
    sqlite3_close(db);
    return NULL;
}

long long pr_index_count(sqlite3 *db)
{
    sqlite3_stmt *st;
    long long n = -1;

    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM documents", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}
