/*
 * fr_tokenizer.h - French text analysis (SPEC section 3).
 *
 * Turns UTF-8 text into the index terms of prsearch: split on non
 * letters/digits, drop elided articles (l', d', qu'...), split hyphenated
 * words into consecutive positions, join thousands groups, read dotted
 * acronyms, inclusive writing and ordinals, drop stop words, then stem with
 * Snowball French and fold diacritics. The same rules serve documents and
 * queries (which differ only in how accented words are stemmed) and prefix
 * tokens (folded, not stemmed). fts5_french.c wraps it as the FTS5 tokenizer
 * "french"; snippets use it to find the words of a text that match a query.
 *
 * Thread use: an fr_tokenizer holds a Snowball stemmer and a stem cache, so
 * one object must not be used by two threads at once. Create one per thread
 * (FTS5 creates one per table per connection).
 */
#ifndef FR_TOKENIZER_H
#define FR_TOKENIZER_H

#include <stdint.h>
#include <string.h>

typedef struct fr_tokenizer fr_tokenizer;

/* What the text is; decides how accented words are stemmed (SPEC 3.4). */
typedef enum fr_mode {
    FR_MODE_DOCUMENT = 0, /* fold(stem(W)), plus colocated stem(fold(W)) */
    FR_MODE_QUERY = 1,    /* accented: fold(stem(Q)); plain: stem(Q) */
    FR_MODE_PREFIX = 2,   /* folded, not stemmed; colocated: the surface
                             mark form and the stems of the prefix (SPEC 3.9,
                             see FR_SURFACE_MARK); stop words kept */
    FR_MODE_PREFIX_STEMS = 3 /* FR_MODE_PREFIX without the surface mark form,
                             for a prefix whose every indexed word is
                             reached through its stems (prefix_surfaces.h) */
} fr_mode;

/* Set in FLAGS for a token at the same position as the previous one. */
#define FR_TOKEN_COLOCATED 0x0001

/*
 * Version of the analysis rules. Bump it whenever a change to this module
 * (or to the stop words) changes the tokens of any text: an index written
 * with other rules is rebuilt from its stored text on the next indexing run
 * (index_db.c), because deleting a page re-tokenizes its old text and must
 * meet the very tokens that were indexed.
 */
#define FR_ANALYSIS_VERSION 1

/*
 * Prefix search (SPEC 3.9) cannot rely on stems alone: the stem of
 * "établissement" is "etabl", shorter than the prefix "etabliss" a visitor
 * types, whose own stem is "etabliss". So in FR_MODE_DOCUMENT a word whose
 * folded surface form differs from its stems also gives, colocated,
 * FR_SURFACE_MARK followed by that form ("~etablissement"); no other token
 * starts with the mark, so exact (stemmed) queries never meet these. In
 * FR_MODE_PREFIX the last word P gives P (stems starting with P), then
 * colocated: FR_SURFACE_MARK P (surface forms starting with P) and the
 * stems of P when they differ. Words before the last one (FTS5 passes a
 * whole phrase "talents du num"* in prefix mode) give what FR_MODE_QUERY
 * gives. Code comparing tokens itself (snippets) should treat a token and
 * its colocated followers as alternatives.
 */
#define FR_SURFACE_MARK '~'

/*
 * Called once per token, in text order. TOKEN is LEN bytes (not
 * NUL-terminated, valid only during the call). START and END are byte
 * offsets in the input of the word the token comes from (END exclusive;
 * for "l'État" the word is "État"). Offsets never decrease from one call to
 * the next and stay within the input. Return 0 to go on; any other value
 * stops tokenizing and is returned by fr_tokenize().
 */
typedef int (*fr_token_fn)(void *ctx, int flags, const char *token, int len,
                           int start, int end);

/*
 * Called for a word whose FR_MODE_DOCUMENT tokens hold an FR_SURFACE_MARK
 * token: SURFACE without the mark, and the stems A and B colocated with it
 * (B equal to A when the word has one stem). Strings are not
 * NUL-terminated and valid only during the call. Return 0, or -1 (out of
 * memory: fr_tokenize() then fails).
 */
typedef int (*fr_surface_fn)(void *ctx, const char *surface, int slen, const char *a, int alen,
                             const char *b, int blen);

/*
 * Have T call FN (with CTX) for every word it analyses afresh: a word met
 * again is answered from T's cache without a call, so FN sees each
 * spelling at least once per tokenizer, seldom many times. Set it
 * before T tokenizes anything, or words already cached are missed.
 */
void fr_tokenizer_watch_surfaces(fr_tokenizer *t, fr_surface_fn fn, void *ctx);

/* A new tokenizer, or NULL when out of memory. */
fr_tokenizer *fr_tokenizer_new(void);

/* Free T and everything it owns. T may be NULL. */
void fr_tokenizer_free(fr_tokenizer *t);

/*
 * Tokenize LEN bytes of TEXT in MODE, calling FN(CTX, ...) for each token.
 * Invalid UTF-8 bytes are treated as separators. Returns 0, or the first
 * non-zero value returned by FN, or -1 when out of memory.
 */
int fr_tokenize(fr_tokenizer *t, fr_mode mode, const char *text, int len,
                fr_token_fn fn, void *ctx);

/*
 * Fold one word for display-independent comparisons (lower case, no
 * diacritics, œ -> oe, æ -> ae): the form used for facet values, titles
 * compared for duplicates and typo correction. TEXT may hold several
 * words; everything else is kept as it is, except that compatibility forms
 * are unified (NFKC: "ﬁ" -> "fi") and invalid UTF-8 bytes are dropped; the
 * folding is the one the tokenizer applies. Returns a malloc'ed
 * NUL-terminated string the caller frees, or NULL when out of memory.
 */
char *fr_fold(const char *text, int len);

/*
 * Non-zero when bytes I and I + 1 of U (LEN bytes) are a letter of
 * U+00C0..U+00FF (all of them but × and ÷): French's accented letters,
 * which the word scanners read without asking utf8proc. Upper case when
 * the second byte is below 0x9F (U+00C0..U+00DE).
 */
static inline int fr_latin1_letter(const unsigned char *u, int i, int len)
{
    return u[i] == 0xC3 && i + 1 < len && (u[i + 1] & 0xC0) == 0x80 && u[i + 1] != 0x97 &&
           u[i + 1] != 0xB7;
}

/*
 * What an ASCII byte is to the word scanners (the tokenizer's and the
 * lexicon's): FR_K_LETTER with FR_K_UPPER or FR_K_LOWER, FR_K_DIGIT, or 0
 * (a separator). A table, so that a run of ASCII letters costs a load
 * and a test per byte.
 */
enum { FR_K_LETTER = 1, FR_K_UPPER = 2, FR_K_LOWER = 4, FR_K_DIGIT = 8 };
#define FR_K_UP_ (FR_K_LETTER | FR_K_UPPER)
#define FR_K_LO_ (FR_K_LETTER | FR_K_LOWER)
#define FR_K_DG_ FR_K_DIGIT
#define FR_K_SEP8_ 0, 0, 0, 0, 0, 0, 0, 0
static const unsigned char fr_ascii_kind[128] = {
    FR_K_SEP8_, FR_K_SEP8_, FR_K_SEP8_, FR_K_SEP8_, FR_K_SEP8_, FR_K_SEP8_, /* 0x00-0x2F */
    FR_K_DG_, FR_K_DG_, FR_K_DG_, FR_K_DG_, FR_K_DG_, FR_K_DG_, FR_K_DG_, FR_K_DG_, /* 0-7 */
    FR_K_DG_, FR_K_DG_, 0, 0, 0, 0, 0, 0,                                        /* 8 9 */
    0, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_,     /* @ A-G */
    FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, /* H-O */
    FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, FR_K_UP_, /* P-W */
    FR_K_UP_, FR_K_UP_, FR_K_UP_, 0, 0, 0, 0, 0,                                 /* X-Z */
    0, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_,     /* ` a-g */
    FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, /* h-o */
    FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, FR_K_LO_, /* p-w */
    FR_K_LO_, FR_K_LO_, FR_K_LO_, 0, 0, 0, 0, 0,                                 /* x-z */
};
#undef FR_K_UP_
#undef FR_K_LO_
#undef FR_K_DG_
#undef FR_K_SEP8_

/*
 * A hash of the N bytes at P for the word caches of this module and of
 * the lexicon, which look up every word of every page: eight bytes per
 * multiply where a byte-at-a-time hash waits on one multiply per byte.
 * Not stable across versions: for in-memory tables only.
 */
static inline uint64_t fr_hash_bytes(const char *p, int n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n, v;

    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    if (n >= 4) { /* two loads that overlap: every byte is read */
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        v = (uint64_t)hi << 32 | lo;
    } else {
        const unsigned char *u = (const unsigned char *)p;
        v = n ? (uint64_t)u[0] | (uint64_t)u[n / 2] << 8 | (uint64_t)u[n - 1] << 16 : 0;
    }
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ h >> 29;
}

/* Non-zero when the lower-case, folded word W (LEN bytes) is a French stop
 * word that the tokenizer drops. */
int fr_is_stopword(const char *w, int len);

#endif
