/*
 * fts5_french.h - the "french" FTS5 tokenizer (fr_tokenizer.h inside FTS5).
 *
 * Registered on every connection that opens an index, and by the loadable
 * extension (lib/sqlite_ext.c) so an administrator can query the index by
 * hand in the sqlite3 shell: `.load /usr/lib/prsearch/prsearch_french`
 * (entry point sqlite3_prsearchfrench_init) then
 * `SELECT title FROM documents JOIN fts ... WHERE fts MATCH 'etat'`.
 */
#ifndef FTS5_FRENCH_H
#define FTS5_FRENCH_H

#include <sqlite3.h>

/*
 * Register the tokenizer "french" with the FTS5 module of DB. Returns
 * SQLITE_OK, or an SQLite error code when this SQLite has no FTS5 (then
 * *ERRMSG, if ERRMSG is not NULL, points to a static message saying so).
 */
int fts5_french_register(sqlite3 *db, const char **errmsg);

#endif
