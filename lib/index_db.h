/*
 * index_db.h - the index file: opening it, its schema, its migrations.
 *
 * One SQLite file in WAL mode, so the daemon reads while the indexer
 * writes. The schema (version PR_SCHEMA_VERSION, kept in PRAGMA
 * user_version):
 *
 *   documents(id INTEGER PRIMARY KEY, source TEXT UNIQUE -- absolute path,
 *             path -- relative to the root it was indexed from,
 *             root -- that root (absolute), collection, url, title,
 *             date -- 'YYYY-MM-DD' or NULL, date_ts -- Unix seconds or NULL,
 *             categories, tags -- JSON arrays of strings,
 *             chapeau, headings, body -- plain text,
 *             taxonomy -- collection, categories, tags, one per line,
 *             size, mtime_ns, hash -- change detection)
 *   doc_facets(doc_id, facets -- a blob of "kind\0folded\0value\0"
 *              triples: kind 'collection'|'category'|'tag'|'year', folded
 *              fr_fold(value), what filters compare; each (kind, folded)
 *              once) -- the facet values of a document, one row each
 *   fts -- FTS5(title, headings, chapeau, body, taxonomy), external content
 *          on documents (kept in sync by triggers), tokenizer 'french listed',
 *          a prefix index of 2 characters
 *   meta(key, value) -- 'last_run' (Unix seconds of the last commit),
 *          'synonyms' (the text of the synonyms file, docs/synonyms.md), ...
 *   vocab(term -- folded word, form -- as displayed, df -- pages using
 *         this form) -- the words people type, for typo correction and
 *         as-you-type (lexicon.h); stop words left out
 *   doc_acronyms(doc_id, acronym, long_key, long_form) -- acronyms each
 *         page defines ("EIG", "entrepreneurs interet general",
 *         "entrepreneurs d’intérêt général"), see acronyms.h
 *   doc_dups(doc_id, grp) -- pages whose bodies are near-identical
 *         (documents.simhash), grp the smallest id of their group
 * Version 2 added vocab, doc_acronyms, doc_dups, documents.simhash and
 * the FTS5 prefix indexes; version 3 lets the indexer fill fts in batches
 * (the insert/update triggers stand aside while meta has 'fts_by_indexer',
 * which a run sets and removes inside its transaction) and adds covering
 * indexes for change detection and duplicate grouping. An older index is
 * upgraded when opened for writing.
 *
 * Column order of fts is part of the contract: bm25() weights are given in
 * this order (PR_COL_TITLE ...).
 */
#ifndef INDEX_DB_H
#define INDEX_DB_H

#include <sqlite3.h>
#include "pr_error.h"

#define PR_SCHEMA_VERSION 8
/* The oldest schema a reader takes as it is: version 3 only changed how
 * the indexer writes, version 4 added an index readers use when it is
 * there (index_db.c), the searcher reads doc_facets before and after
 * version 8 (search_docs.c). */
#define PR_SCHEMA_READ_MIN 2

enum { PR_COL_TITLE, PR_COL_HEADINGS, PR_COL_CHAPEAU, PR_COL_BODY,
       PR_COL_TAXONOMY, PR_NCOLS };

/* Flags for pr_index_open(). */
#define PR_INDEX_READONLY 0x1 /* open read-only; the file must exist */
#define PR_INDEX_CREATE   0x2 /* create the file and schema if missing */

/*
 * Open the index at PATH, register the "french" tokenizer, check that SQLite
 * has FTS5 and that the schema version is one this build reads (migrating it
 * when opened for writing). Returns the connection, or NULL with ERR set
 * ("no index at PATH", "SQLite has no FTS5 ...", "index PATH was built by a
 * newer prsearch", ...). The caller closes it with sqlite3_close().
 * A connection belongs to one thread at a time.
 */
sqlite3 *pr_index_open(const char *path, int flags, pr_error *err);

/*
 * A new index is written through a rollback journal until the end of its
 * first run (index_db.c says why); the run that wrote it calls this after
 * its COMMIT to put the index in WAL mode, where later runs leave readers
 * the previous state. Does nothing on an index already in WAL mode.
 * Returns 0, or -1 when the mode could not be changed (the next
 * pr_index_open() for writing tries again).
 */
int pr_index_finish_first_run(sqlite3 *db);

/* Number of documents in the index, or -1 on error. */
long long pr_index_count(sqlite3 *db);

/* Whether DB's doc_facets has a row per facet value (before schema 8:
 * the searcher reads it as it is, the next indexing run converts it).
 * Also 1 when the table cannot be inspected. */
int pr_index_facets_by_value(sqlite3 *db);

#endif
