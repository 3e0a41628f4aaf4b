/*
 * prefix_surfaces.h - which stems each indexed surface form has, so that a
 * prefix query can leave out its surface alternative when it adds nothing.
 *
 * A prefix P is searched as P*, its stems* and ~P* (fr_tokenizer.h: the
 * surface forms, for words whose stem is shorter than what was typed:
 * "etabliss" against the stem "etabl" of "établissement"). Most of the
 * time every word starting with P also has a stem starting with P or with
 * P's stem ("numeri": numérique, numériser... all have stems starting with
 * "numer"), and ~P* only makes FTS5 merge a second list of pages and
 * merge both lists' positions on every row: at 100k pages, numeri* costs
 * three times as much with it as without. The index lists its surface
 * tokens with the stems each comes with (table prefix_surfaces: surface,
 * a, b; one row per pair of stems met: "communiqué" gives communiqu and
 * commun, the verb "communique" commun and commun), written by prsearch-index
 * from what its parser threads analyse. The searcher leaves ~P* out when,
 * in every row whose surface starts with P, a stem starts with one of P's
 * other forms: every position ~P* matches is then matched by them, the
 * rows found are the same, at the same positions, and so is the answer.
 *
 * In the index (tokenize='french listed', fts5_french.h) the list is also
 * how surface forms are found at all: FTS5 keeps no prefix entry for
 * them, so the tokenizer replaces ~P* by the surface forms of the rows
 * whose stems P's forms do not reach, each looked up whole.
 *
 * The list only grows (a page removed leaves its pairs: they can only add
 * a form that finds nothing) and is complete when meta 'prefix_surfaces'
 * says so (index_db.c): pages written by hand clear it, and every indexing
 * run makes it complete again (pr_surfaces_list_all).
 */
#ifndef PREFIX_SURFACES_H
#define PREFIX_SURFACES_H

#include <sqlite3.h>
#include <string.h>

#include "pr_error.h"

/* ---- indexing (one set per parser thread; not thread-safe) ---- */

typedef struct pr_surface_pairs pr_surface_pairs;

/* An empty set, or NULL out of memory. */
pr_surface_pairs *pr_surface_pairs_new(void);
void pr_surface_pairs_free(pr_surface_pairs *p);

/* Add a surface and its stems; an fr_surface_fn
 * (fr_tokenizer_watch_surfaces) with the set as CTX. Returns 0, or -1 out
 * of memory. */
int pr_surface_pairs_add(void *set, const char *surface, int slen, const char *a, int alen,
                         const char *b, int blen);

/* Write the set into DB's prefix_surfaces (rows already there are kept),
 * inside the caller's transaction. Returns 0, or -1 with ERR set. */
int pr_surface_pairs_write(sqlite3 *db, const pr_surface_pairs *p, pr_error *err);

/*
 * Add to DB's list the surface forms of every page's stored text, inside
 * the caller's transaction: what makes the list complete again when pages
 * were tokenized by FTS5 alone (written by hand through the triggers, the
 * full-text index rebuilt). A pass over all the text: about a sixth of
 * what indexing the pages costs. Returns 0, or -1 with ERR set.
 */
int pr_surfaces_list_all(sqlite3 *db, pr_error *err);

/* ---- searching ---- */

/* The statements pr_surfaces_covered() runs, for the caller to prepare
 * once and keep (they fail to prepare on an index older than the list). */
#define PR_SURFACES_COMPLETE_SQL \
    "SELECT 1 FROM meta WHERE key = 'prefix_surfaces' AND value = 'complete'"
#define PR_SURFACES_RANGE_SQL \
    "SELECT surface, a, b FROM prefix_surfaces WHERE surface >= ?1 AND surface < ?2"

/* The rows of the list whose surface starts with the SLEN bytes of
 * SURFACE sort from SURFACE to SURFACE + 0xff (no UTF-8 byte is 0xff):
 * bind both to RANGE (PR_SURFACES_RANGE_SQL). HI has room for SLEN + 1
 * bytes and must live as long as the bindings. */
static inline void pr_surfaces_bind_range(sqlite3_stmt *range, const char *surface, int slen,
                                          char *hi)
{
    memcpy(hi, surface, (size_t)slen);
    hi[slen] = (char)0xff;
    sqlite3_bind_text(range, 1, surface, slen, SQLITE_STATIC);
    sqlite3_bind_text(range, 2, hi, slen + 1, SQLITE_STATIC);
}

/* Does one of the NFORMS FORMS (LENS bytes each) start STEM (LEN bytes)?
 * A row of the list whose stems are both reached holds nothing a prefix
 * with those forms does not find through its stems. */
static inline int pr_surface_stem_reached(const char *stem, int len, const char *const *forms,
                                          const int *lens, int nforms)
{
    for (int i = 0; stem && i < nforms; i++)
        if (lens[i] > 0 && lens[i] <= len && !memcmp(stem, forms[i], (size_t)lens[i]))
            return 1;
    return 0;
}

/*
 * 1 when in every row of the list whose surface starts with the SLEN bytes
 * of SURFACE (a folded prefix) a stem starts with one of the NFORMS FORMS
 * (LENS bytes each): then the surface alternative of the prefix finds
 * nothing its other forms do not. 0 when some row has not, when the list
 * is not complete (an index older than it, until a --full run), when more
 * than PR_SURFACES_SCAN rows start with SURFACE (a prefix of one or two
 * letters: not worth reading), or on any error. COMPLETE and RANGE
 * are PR_SURFACES_COMPLETE_SQL and PR_SURFACES_RANGE_SQL, prepared on the
 * index; they are reset before returning.
 */
#define PR_SURFACES_SCAN 4096
int pr_surfaces_covered(sqlite3_stmt *complete, sqlite3_stmt *range, const char *surface,
                        int slen, const char *const *forms, const int *lens, int nforms);

#endif
