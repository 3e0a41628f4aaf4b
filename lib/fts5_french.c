/*
 * fts5_french.c - the FTS5 tokenizer "french": fr_tokenizer inside FTS5
 * (API in fts5_french.h).
 *
 * Compiled twice: into the core library, calling SQLite directly, and into
 * the loadable extension (lib/sqlite_ext.c) with -DPR_SQLITE_EXTENSION,
 * where every sqlite3_* call must go through the routines SQLite hands the
 * extension (sqlite3ext.h, SQLITE_EXTENSION_INIT3). The fts5_api pointer is
 * obtained the documented way, `SELECT fts5(?1)` with sqlite3_bind_pointer,
 * which works in both builds.
 */
#ifdef PR_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#else
#include <sqlite3.h>
#endif
#include <stddef.h>

#include "fr_tokenizer.h"
#include "fts5_french.h"

/* fr_token_fn is FTS5's xToken, so FTS5's callback is passed as it is. */
_Static_assert(FR_TOKEN_COLOCATED == FTS5_TOKEN_COLOCATED, "colocated flags differ");

static const char no_fts5[] = "this SQLite has no FTS5 (prsearch needs SQLite built with FTS5)";

/* The tokenizer takes no arguments: `tokenize='french'`. */
static int french_create(void *unused, const char **args, int nargs, Fts5Tokenizer **out)
{
    fr_tokenizer *t;
    *out = NULL;
    if (nargs > 0)
        return SQLITE_ERROR;
    t = fr_tokenizer_new();
    if (t == NULL)
        return SQLITE_NOMEM;
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void french_delete(Fts5Tokenizer *tok)
{
    fr_tokenizer_free((fr_tokenizer *)tok);
}

/* FTS5's reasons for tokenizing, as fr_tokenizer modes; AUX (auxiliary
 * functions such as highlight() reading a document) reads a document. */
static fr_mode mode_of(int flags)
{
    if (flags & FTS5_TOKENIZE_PREFIX)
        return FR_MODE_PREFIX;
    if (flags & FTS5_TOKENIZE_QUERY)
        return FR_MODE_QUERY;
    return FR_MODE_DOCUMENT;
}

static int french_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int len,
                           int (*xtoken)(void *, int, const char *, int, int, int))
{
    int rc = fr_tokenize((fr_tokenizer *)tok, mode_of(flags), text, len, xtoken, ctx);
    return rc == -1 ? SQLITE_NOMEM : rc;
}

/* The fts5_api of DB, or NULL when this SQLite has no FTS5. */
static fts5_api *fts5_api_of(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_bind_pointer(stmt, 1, (void *)&api, "fts5_api_ptr", NULL) == SQLITE_OK)
        sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return api;
}

int fts5_french_register(sqlite3 *db, const char **errmsg)
{
    fts5_tokenizer french = { french_create, french_delete, french_tokenize }; /* copied */
    fts5_api *api = fts5_api_of(db);
    if (api == NULL) {
        if (errmsg != NULL)
            *errmsg = no_fts5;
        return SQLITE_ERROR;
    }
    return api->xCreateTokenizer(api, "french", NULL, &french, NULL);
}
