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
 *
 * Each tokenizer knows the connection it was registered on: in a
 * tokenize='french listed' table (fts5_french.h) a prefix reads the
 * index's surface list there while FTS5 parses the query, a nested read
 * SQLite allows.
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
#include "prefix_surfaces.h"

/* fr_token_fn is FTS5's xToken, so FTS5's callback is passed as it is. */
_Static_assert(FR_TOKEN_COLOCATED == FTS5_TOKEN_COLOCATED, "colocated flags differ");

static const char no_fts5[] = "this SQLite has no FTS5 (prsearch needs SQLite built with FTS5)";

/* One tokenizer of one table on one connection (FTS5 makes them). */
typedef struct french_tok {
    fr_tokenizer *t;
    sqlite3 *db;   /* the connection it was registered on: the surface list */
    int listed;    /* tokenize='french listed' (fts5_french.h) */
} french_tok;

/* `tokenize='french'` or `tokenize='french listed'`; CTX is the
 * connection (fts5_french_register). */
static int french_create(void *ctx, const char **args, int nargs, Fts5Tokenizer **out)
{
    french_tok *ft;
    *out = NULL;
    if (nargs > 1 || (nargs == 1 && strcmp(args[0], "listed") != 0))
        return SQLITE_ERROR;
    ft = calloc(1, sizeof *ft);
    if (ft == NULL || (ft->t = fr_tokenizer_new()) == NULL) {
        free(ft);
        return SQLITE_NOMEM;
    }
    ft->db = ctx;
    ft->listed = nargs == 1;
    *out = (Fts5Tokenizer *)ft;
    return SQLITE_OK;
}

static void french_delete(Fts5Tokenizer *tok)
{
    french_tok *ft = (french_tok *)tok;
    fr_tokenizer_free(ft->t);
    free(ft);
}

/* ---- listed surface tokens ----------------------------------------------- */

enum { SURF_LETTER = 0x80, SURF_DIGIT = 0x9A, SURF_END = 0xA4, SURF_ESCAPE = 0xBF };

int fts5_french_surface_token(const char *form, int len, char *out)
{
    int n = 0;

    out[n++] = FTS5_FRENCH_LISTED_MARK;
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)form[i];
        if (c >= 'a' && c <= 'z') {
            out[n++] = (char)(SURF_LETTER + (c - 'a'));
        } else if (c >= '0' && c <= '9') {
            out[n++] = (char)(SURF_DIGIT + (c - '0'));
        } else {
            out[n++] = (char)SURF_ESCAPE;
            out[n++] = (char)(0x80 | c >> 6);
            out[n++] = (char)(0x80 | (c & 0x3F));
        }
    }
    return n;
}

int fts5_french_surface_form(const char *token, int len, char *out, int cap)
{
    const unsigned char *u = (const unsigned char *)token;
    int n = 0;

    if (len < 1 || token[0] != FTS5_FRENCH_LISTED_MARK)
        return -1;
    for (int i = 1; i < len && n < cap; i++) {
        if (u[i] >= SURF_LETTER && u[i] < SURF_DIGIT)
            out[n++] = (char)('a' + (u[i] - SURF_LETTER));
        else if (u[i] >= SURF_DIGIT && u[i] < SURF_END)
            out[n++] = (char)('0' + (u[i] - SURF_DIGIT));
        else if (u[i] == SURF_ESCAPE && i + 2 < len && (u[i + 1] & 0xFC) == 0x80 &&
                 (u[i + 2] & 0xC0) == 0x80) {
            out[n++] = (char)((u[i + 1] & 0x03) << 6 | (u[i + 2] & 0x3F));
            i += 2;
        } else {
            return -1;
        }
    }
    return n;
}

/* Passes tokens on to NEXT, surface tokens as listed surface tokens. */
typedef struct listing {
    fr_token_fn next;
    void *ctx;
    char buf[FTS5_FRENCH_SURFACE_MAX(1100)];
} listing;

static int list_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    listing *l = ctx;

    if (len < 1 || token[0] != FR_SURFACE_MARK)
        return l->next(l->ctx, flags, token, len, start, end);
    if (FTS5_FRENCH_SURFACE_MAX(len - 1) > (int)sizeof l->buf)
        return 0; /* cannot happen: forms are at most FORM_MAX bytes */
    return l->next(l->ctx, flags, l->buf, fts5_french_surface_token(token + 1, len - 1, l->buf),
                   start, end);
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
    listing l;

    l.next = record_token;
    l.ctx = out;
    return fr_tokenize(t, FR_MODE_DOCUMENT, text, len, list_token, &l) ? -1 : 0;
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

/* ---- prefixes in a listed table ------------------------------------------ */

/* What FR_MODE_PREFIX gave for the last word: its forms, passed on, and
 * its surface form, kept back. */
typedef struct prefix_pass {
    fr_token_fn next;
    void *ctx;
    char forms[3][256];
    const char *form_of[3]; /* forms[i], as pr_surface_stem_reached takes them */
    int lens[3], nforms;
    char surface[1100];
    int slen, start, end; /* slen 0: none */
} prefix_pass;

static int prefix_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    prefix_pass *p = ctx;

    if (!(flags & FR_TOKEN_COLOCATED)) /* a new word: the last one counts */
        p->nforms = p->slen = 0;
    if (len > 0 && token[0] == FR_SURFACE_MARK) {
        /* always after the word's other forms (fr_tokenizer.c emit_prefix) */
        if (len - 1 < (int)sizeof p->surface) {
            memcpy(p->surface, token + 1, (size_t)len - 1);
            p->slen = len - 1;
            p->start = start;
            p->end = end;
        }
        return 0;
    }
    if (p->nforms < 3 && len < (int)sizeof p->forms[0]) {
        memcpy(p->forms[p->nforms], token, (size_t)len);
        p->form_of[p->nforms] = p->forms[p->nforms];
        p->lens[p->nforms++] = len;
    }
    return p->next(p->ctx, flags, token, len, start, end);
}

/* Does one of the prefix's forms start the stem in column COL of ST? */
static int stem_reached(const prefix_pass *p, sqlite3_stmt *st, int col)
{
    return pr_surface_stem_reached((const char *)sqlite3_column_text(st, col),
                                   sqlite3_column_bytes(st, col), p->form_of, p->lens,
                                   p->nforms);
}

/*
 * Give, colocated, each listed surface form starting with the prefix that
 * its stems do not reach (the list's rows: surface, stems a and b). The
 * statement is prepared for each prefix, not kept: a statement left
 * prepared on the connection would keep sqlite3_close() from closing it.
 */
static int give_listed_surfaces(const french_tok *ft, prefix_pass *p)
{
    char hi[sizeof p->surface + 1], last[sizeof p->surface], tok[FTS5_FRENCH_SURFACE_MAX(1100)];
    int lastlen = -1, rc = SQLITE_OK;
    sqlite3_stmt *st = NULL;

    if (!ft->db || sqlite3_prepare_v2(ft->db, PR_SURFACES_RANGE_SQL, -1, &st, NULL) != SQLITE_OK) {
        /* no list: the surface as typed, whole */
        sqlite3_finalize(st);
        return p->next(p->ctx, FR_TOKEN_COLOCATED, tok,
                       fts5_french_surface_token(p->surface, p->slen, tok), p->start, p->end);
    }
    pr_surfaces_bind_range(st, p->surface, p->slen, hi);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        int slen = sqlite3_column_bytes(st, 0);
        rc = SQLITE_OK;
        if (!s || slen >= (int)sizeof last || (slen == lastlen && !memcmp(s, last, (size_t)slen)) ||
            stem_reached(p, st, 1) || stem_reached(p, st, 2))
            continue;
        memcpy(last, s, (size_t)slen);
        lastlen = slen;
        rc = p->next(p->ctx, FR_TOKEN_COLOCATED, tok, fts5_french_surface_token(s, slen, tok),
                     p->start, p->end);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int listed_prefix(const french_tok *ft, const char *text, int len, fr_token_fn xtoken,
                         void *ctx)
{
    prefix_pass p;
    int rc;

    p.next = xtoken;
    p.ctx = ctx;
    p.nforms = p.slen = 0;
    rc = fr_tokenize(ft->t, FR_MODE_PREFIX, text, len, prefix_token, &p);
    if (rc == 0 && p.slen > 0 && p.nforms > 0)
        rc = give_listed_surfaces(ft, &p);
    return rc;
}

/* ---- the tokenizer -------------------------------------------------------- */

static int french_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int len,
                           int (*xtoken)(void *, int, const char *, int, int, int))
{
    french_tok *ft = (french_tok *)tok;
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
    if (ft->listed && mode == FR_MODE_DOCUMENT) {
        listing l;
        l.next = xtoken;
        l.ctx = ctx;
        rc = fr_tokenize(ft->t, mode, text, len, list_token, &l);
    } else if (ft->listed && mode == FR_MODE_PREFIX) {
        rc = listed_prefix(ft, text, len, xtoken, ctx);
    } else {
        rc = fr_tokenize(ft->t, mode, text, len, xtoken, ctx);
    }
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
    return api->xCreateTokenizer(api, "french", db, &french, NULL);
}
