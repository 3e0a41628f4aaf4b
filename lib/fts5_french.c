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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- recorded tokens ------------------------------------------------------ */

enum { REC_HEAD = 2 + 1 + 4 + 4 };

static int record_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    fts5_french_tokens *out = ctx;
    uint16_t n = (uint16_t)len;
    char *p;

    if (len > UINT16_MAX)
        return -1; /* cannot happen: forms are at most FORM_MAX + 1 bytes */
    if (out->len + REC_HEAD + (size_t)len > out->cap) {
        size_t cap = out->cap ? out->cap : 4096;
        while (out->len + REC_HEAD + (size_t)len > cap)
            cap *= 2;
        p = realloc(out->p, cap);
        if (!p)
            return -1;
        out->p = p;
        out->cap = cap;
    }
    p = out->p + out->len;
    memcpy(p, &n, 2);
    p[2] = (char)flags;
    memcpy(p + 3, &start, 4);
    memcpy(p + 7, &end, 4);
    memcpy(p + REC_HEAD, token, (size_t)len);
    out->len += REC_HEAD + (size_t)len;
    return 0;
}

int fts5_french_record(fr_tokenizer *t, const char *text, int len, fts5_french_tokens *out)
{
    return fr_tokenize(t, FR_MODE_DOCUMENT, text, len, record_token, out) ? -1 : 0;
}

void fts5_french_tokens_free(fts5_french_tokens *tok)
{
    free(tok->p);
    memset(tok, 0, sizeof *tok);
}

static int replay_tokens(const char *p, size_t n, void *ctx,
                         int (*xtoken)(void *, int, const char *, int, int, int))
{
    const char *end = p + n;
    int rc = 0;

    while (rc == 0 && p < end) {
        uint16_t len;
        int start, stop;
        memcpy(&len, p, 2);
        memcpy(&start, p + 3, 4);
        memcpy(&stop, p + 7, 4);
        rc = xtoken(ctx, (unsigned char)p[2], p + REC_HEAD, len, start, stop);
        p += REC_HEAD + len;
    }
    return rc;
}

typedef struct replay_entry {
    const char *text;  /* NULL: empty slot */
    int len;
    uint64_t h;
    const char *tokens;
    size_t n;
} replay_entry;

struct fts5_french_replay {
    replay_entry *v;
    size_t cap, used;
    long hits;
    long misses; /* documents tokenized afresh while in use */
};

/* The texts are pages' columns: their length and both ends tell them apart;
 * a hit is then checked byte for byte. */
static uint64_t text_hash(const char *text, int len)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)len;
    int i, k = len < 32 ? len : 32;

    for (i = 0; i < k; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    for (i = len - k; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    return h;
}

fts5_french_replay *fts5_french_replay_new(void)
{
    return calloc(1, sizeof(fts5_french_replay));
}

void fts5_french_replay_free(fts5_french_replay *r)
{
    if (r) {
        free(r->v);
        free(r);
    }
}

static replay_entry *replay_slot(replay_entry *v, size_t cap, const char *text, int len,
                                 uint64_t h)
{
    size_t i;

    for (i = h & (cap - 1); v[i].text; i = (i + 1) & (cap - 1))
        if (v[i].h == h && v[i].len == len && !memcmp(v[i].text, text, (size_t)len))
            break;
    return &v[i];
}

int fts5_french_replay_add(fts5_french_replay *r, const char *text, int len, const char *tokens,
                           size_t n)
{
    uint64_t h;
    replay_entry *e;

    if (!text || len <= 0)
        return 0; /* nothing to tokenize anyway */
    if ((r->used + 1) * 2 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024, i;
        replay_entry *v = calloc(cap, sizeof *v);
        if (!v)
            return -1;
        for (i = 0; i < r->cap; i++)
            if (r->v[i].text)
                *replay_slot(v, cap, r->v[i].text, r->v[i].len, r->v[i].h) = r->v[i];
        free(r->v);
        r->v = v;
        r->cap = cap;
    }
    h = text_hash(text, len);
    e = replay_slot(r->v, r->cap, text, len, h);
    if (!e->text)
        r->used++;
    *e = (replay_entry){text, len, h, tokens, n};
    return 0;
}

void fts5_french_replay_clear(fts5_french_replay *r)
{
    if (r->v && r->used)
        memset(r->v, 0, r->cap * sizeof *r->v);
    r->used = 0;
}

long fts5_french_replay_hits(const fts5_french_replay *r)
{
    return r->hits;
}

long fts5_french_replay_misses(const fts5_french_replay *r)
{
    return r->misses;
}

static __thread fts5_french_replay *replay_now;

void fts5_french_replay_use(fts5_french_replay *r)
{
    replay_now = r;
}

static int french_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int len,
                           int (*xtoken)(void *, int, const char *, int, int, int))
{
    fr_mode mode;
    int rc;

    if (replay_now && flags == FTS5_TOKENIZE_DOCUMENT && len > 0) {
        replay_entry *e = replay_now->used ? replay_slot(replay_now->v, replay_now->cap, text,
                                                         len, text_hash(text, len))
                                           : NULL;
        if (e && e->text) {
            replay_now->hits++;
            return replay_tokens(e->tokens, e->n, ctx, xtoken);
        }
        replay_now->misses++;
    }
    mode = mode_of(flags);
    if (mode == FR_MODE_PREFIX && len > 0 && text[len - 1] == FTS5_FRENCH_STEMS_ONLY) {
        mode = FR_MODE_PREFIX_STEMS;
        len--;
    }
    rc = fr_tokenize((fr_tokenizer *)tok, mode, text, len, xtoken, ctx);
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
