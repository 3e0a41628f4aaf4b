/*
 * sqlite_ext.c - the loadable SQLite extension prsearch_french.so, so that
 * the index can be queried by hand: `.load .../prsearch_french` in the
 * sqlite3 shell registers the FTS5 tokenizer "french" on that connection.
 *
 * SQLite derives the entry point sqlite3_prsearchfrench_init from the file
 * name; sqlite3_extension_init is the generic name, for loaders given an
 * explicit entry point or a renamed file. The module does not link
 * libsqlite3: every call goes through the routines SQLite passes in
 * (fts5_french.c is compiled with -DPR_SQLITE_EXTENSION for this).
 */
#include <sqlite3ext.h>
#include <stddef.h>
SQLITE_EXTENSION_INIT1

#include "fts5_french.h"

int sqlite3_prsearchfrench_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api);
int sqlite3_extension_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api);

int sqlite3_prsearchfrench_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
    const char *msg = NULL;
    int rc;
    SQLITE_EXTENSION_INIT2(api);
    rc = fts5_french_register(db, &msg);
    if (rc != SQLITE_OK && errmsg != NULL)
        *errmsg = sqlite3_mprintf("%s", msg != NULL ? msg : sqlite3_errstr(rc));
    return rc;
}

int sqlite3_extension_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
    return sqlite3_prsearchfrench_init(db, errmsg, api);
}
