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
 * Two ways to write surface forms (fr_tokenizer.h FR_SURFACE_MARK), chosen
 * by the table's arguments:
 *
 * tokenize='french': as fr_tokenize() gives them ("~etablissement"). A
 * prefix query finds them through FTS5's own prefix search; nothing else
 * is needed (a table made by hand in the sqlite3 shell).
 *
 * tokenize='french listed' (the prsearch index, index_db.c): each surface
 * token written as FTS5_FRENCH_LISTED_MARK then UTF-8 continuation bytes
 * only (fts5_french_surface_token), which FTS5 counts as one character:
 * it makes no entry for them in the prefix indexes (2 characters and more).
 * Those entries were a quarter of the indexer's writes into FTS5 and
 * served only prefixes of one or two letters, which the stems answer. A
 * prefix then cannot find surface forms through FTS5: the tokenizer reads
 * which ones start with the prefix from the index's surface list
 * (prefix_surfaces.h, on the connection the tokenizer was registered on)
 * and gives, colocated with the prefix's other forms, each one its stems
 * do not reach, whole. FTS5 looks a one-character token up as it is even
 * under '*' (its prefix index holds nothing of it), so each is an exact
 * lookup. A form missing from the list (pages written by hand since the
 * last indexing run, which completes it) is not found through its surface.
 */
#define FTS5_FRENCH_LISTED_MARK '\xff'

/* Bytes fts5_french_surface_token() may write for a LEN-byte form. */
#define FTS5_FRENCH_SURFACE_MAX(len) (1 + 3 * (len))

/* Write the listed surface token of the folded FORM (LEN bytes, without
 * FR_SURFACE_MARK) to OUT, which has room for FTS5_FRENCH_SURFACE_MAX(LEN)
 * bytes; returns its length. Letters a-z and digits take one byte
 * (0x80 + letter, 0x9A + digit), any other byte three (0xBF, then its
 * high 2 and low 6 bits): distinct forms give distinct tokens. */
int fts5_french_surface_token(const char *form, int len, char *out);

/* The form of the listed surface token TOKEN (LEN bytes), at most CAP
 * bytes written to OUT; returns how many, or -1 when TOKEN is not one. */
int fts5_french_surface_form(const char *token, int len, char *out, int cap);

/*
 * Register the tokenizer "french" with the FTS5 module of DB. Returns
 * SQLITE_OK, or an SQLite error code when this SQLite has no FTS5 (then
 * *ERRMSG, if ERRMSG is not NULL, points to a static message saying so).
 */
int fts5_french_register(sqlite3 *db, const char **errmsg);

/*
 * A prefix phrase whose text ends with this byte ("numeri\x01" *) is
 * tokenized in FR_MODE_PREFIX_STEMS: without the surface alternative,
 * which the searcher leaves out when the index shows that every word
 * starting with the prefix is found through its stems (prefix_surfaces.h).
 * Query text never holds it: query_parse() turns control bytes to blanks.
 */
#define FTS5_FRENCH_STEMS_ONLY '\x01'


/*
 * Tokens computed ahead of FTS5. The indexer tokenizes each page on its
 * parser threads (fts5_french_record, with that thread's own tokenizer)
 * and, around the statement that inserts the pages into fts, hands the
 * recorded tokens to the writer thread's "french" tokenizers
 * (fts5_french_replay_use): a document text found there, byte for byte, is
 * given to FTS5 from the record instead of being tokenized again. The
 * tokens are the same ones, as the same code made them from the same text;
 * a text not found is tokenized as usual.
 */
#include <stddef.h>
#include "fr_tokenizer.h"

typedef struct fts5_french_tokens {
    char *p;          /* records: u16 length, u8 flags, i32 start, i32 end, bytes */
    size_t len, cap;
} fts5_french_tokens;

/* Append the tokens of LEN bytes of TEXT, as a document of a
 * tokenize='french listed' table, to OUT. Returns 0, or -1 out of memory. */
int fts5_french_record(fr_tokenizer *t, const char *text, int len, fts5_french_tokens *out);
void fts5_french_tokens_free(fts5_french_tokens *tok);

typedef struct fts5_french_replay fts5_french_replay;

fts5_french_replay *fts5_french_replay_new(void);
void fts5_french_replay_free(fts5_french_replay *r);

/* TEXT (LEN bytes) has the N bytes of records at TOKENS. TEXT and TOKENS
 * must stay valid until the replay is cleared. -1 out of memory. */
int fts5_french_replay_add(fts5_french_replay *r, const char *text, int len, const char *tokens,
                           size_t n);
/* Forget every text; the replay counts (hits: texts found) are kept. */
void fts5_french_replay_clear(fts5_french_replay *r);
long fts5_french_replay_hits(const fts5_french_replay *r);
/* Documents tokenized afresh while R was in use (not found in it): their
 * words were not seen by the parser threads (prefix_surfaces.h). */
long fts5_french_replay_misses(const fts5_french_replay *r);

/* R (or NULL: none) is what this thread's "french" tokenizers replay. */
void fts5_french_replay_use(fts5_french_replay *r);

#endif
