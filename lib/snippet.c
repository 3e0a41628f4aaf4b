/*
 * snippet.c - highlighted titles and snippets (see snippet.h).
 *
 * Steps for one text: keep the byte spans of the words whose tokens (the
 * french tokenizer in DOCUMENT mode) match the query (merged, so marks
 * never nest); split the text into white-space separated words, the unit
 * of the window; slide a window of N words and keep the one with the most
 * distinct query terms, then the most matches, centred on its cluster;
 * write it out escaped, with <mark> around the spans and "…" where the
 * text was cut.
 *
 * Speed: analysing text costs far more than the search itself, and almost
 * no word of a text can match, so a prefilter reads each word once and
 * only the words it lets through are analysed (see "Prefilter" below);
 * most words are not even read as words, only counted from bit masks
 * made 32 bytes at a time, which also say where a match may start (see
 * "Scan"). The window slides over the words holding matches only, and
 * escaping copies runs of plain bytes.
 */
#include "snippet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search_util.h"

/* block_marks reads 32 bytes at a time with AVX2 where the processor has
 * it (see "Scan"); SNIPPET_SCAN_BYTES builds the byte loop alone. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(SNIPPET_SCAN_BYTES)
#define SCAN_AVX2 1
#include <immintrin.h>
#else
#define SCAN_AVX2 0
#endif

#define ELLIPSIS "\xE2\x80\xA6" /* … */

#define BIT_SET(map, i) ((map)[(i) >> 6] |= (uint64_t)1 << ((i) & 63))
#define BIT_GET(map, i) (((map)[(i) >> 6] >> ((i) & 63)) & 1)

/* V (*CAP elements of SIZE bytes) with room for NEED: V itself, or a
 * larger copy (the capacity doubled from FIRST, *CAP updated); NULL when
 * out of memory or past MAX bytes, and then V is left as it is. */
static void *room_for(void *v, int *cap, int need, size_t size, int first, size_t max)
{
    int c = *cap ? *cap : first;
    void *nv;

    if (need <= *cap)
        return v;
    while (c < need)
        c *= 2;
    if ((size_t)c * size > max || !(nv = realloc(v, (size_t)c * size)))
        return NULL;
    *cap = c;
    return nv;
}

/* The first two bytes of a key as 14 bits: exact for ASCII. */
#define PAIR(key) ((((key) & 0x7F) << 7) | (((key) >> 8) & 0x7F))

typedef struct qtok {
    char *s;
    int len;
    int prefix;
    int term;
} qtok;

/* The first KEY_LEN bytes of query tokens (fewer for shorter tokens), as
 * the prefilter compares them: KEY holds byte j at bits 8j. */
typedef struct qkey {
    uint32_t key, mask;
    int len;
} qkey;

typedef struct keyset {
    unsigned char first[256]; /* [B]: a key starts with byte B */
    uint64_t single[4];       /* bit B: B alone is a key */
    uint64_t pair[256];       /* bit PAIR(key): a key may start with its 2 bytes */
    qkey *v;
    int n, cap;
} keyset;

/* The prefilter's two ways of reading a text (see "Prefilter"). */
enum { PF_LOOSE = 0, PF_EXACT = 1 };

/* The characters the scan reads itself, by their lead bytes: U+0080 to
 * U+017F (0xC2 to 0xC5) and U+2000 to U+203F (0xE2 0x80). */
enum { NLEADS = 5 };

/* A set of bytes as block_marks reads it, by their two halves: byte B
 * has the bits lo[B & 15] & hi[B >> 4] (each table twice, once for each
 * half of a 32-byte register). */
typedef struct byte_set {
    unsigned char lo[32], hi[32];
} byte_set;

/* What block_marks needs of a way's classes and keys (see "Scan"). Key
 * first letters have a bit each (the ninth the first's again...): FIRST
 * gives a byte its letter's bit, SECOND the bits of the letters it may
 * follow in a key's first two (every bit for a letter that is a key
 * alone), so that a part starts like a key where the two have a bit in
 * common (or where SECOND says more than the keys, as the tables cannot
 * say every set of bytes). CONT: bits 0-3 for the bytes after 0xC3 that
 * pass_char stops at (a key's first letter accented, those of class
 * CL_ALWAYS), bits 4-7 for those of class CL_ALWAYS. */
typedef struct scan_block_info {
    int avx2;                 /* block_marks may run: the processor has AVX2 */
    uint32_t digits_stop;     /* all ones when digits are CL_ALWAYS */
    uint32_t part_after_high; /* all ones when a part may start after a
                                 byte past ASCII other than × ÷ */
    byte_set first, second, cont;
} scan_block_info;

struct snippet_terms {
    qtok *v;
    int n, cap;
    keyset keys[2];              /* by way: PF_LOOSE, PF_EXACT */
    unsigned char bytes[2][256]; /* by way: what each byte is (T_ below) */
    uint64_t latin_letters[2];   /* by way: bit C - 0xC0 for the U+00C0..U+00FF
                                    that the rough fold reads as letters */
    unsigned char cls[2][256];   /* by way: what each byte is to the scan (CL_) */
    scan_block_info block[2];    /* by way: the same for block_marks */
    unsigned char fold2[2][NLEADS][64]; /* by way, lead (see lead_of) and last
                                    byte & 0x3F: the character's first folded
                                    letter, or FOLD_ */
    struct memo *memo;           /* words analysed so far (see "Memo") */
};

/* A matched word: bytes [start, end) of the text; TERMS one bit per term. */
typedef struct span {
    int start, end;
    uint64_t terms;
} span;

typedef struct span_list {
    span *v;
    int n, cap;
    int oom;
    int base;  /* offset of the piece being tokenized in the whole text */
    const snippet_terms *st;
} span_list;

typedef struct hit_word {
    int index;      /* its rank among the words of the text */
    int start, end;
    uint64_t terms; /* terms matched inside the word */
    int hits;       /* matched spans inside the word */
} hit_word;

/*
 * Prefilter. A word (white-space separated) is only analysed when one of
 * its parts (split at apostrophes, hyphens and other punctuation), roughly
 * folded, starts with the first KEY_LEN bytes of a query token: stems and
 * surface forms keep the word's first letters. Words with characters this
 * rough fold does not know (or invalid bytes) are always analysed. Two
 * ways of reading, so that no snippet changed when the filter was made
 * fast:
 *
 * PF_EXACT, for texts of SHORT_TEXT bytes at most (titles, chapeaux, most
 * bodies): the same highlights as analysing the whole text. A word is
 * analysed alone, which gives the tokens the whole text gives (no unit of
 * the tokenizer crosses white space, but thousands groups "3 500": a word
 * ending with a digit goes with the next one when it starts with a digit),
 * and the filter only skips words that cannot match. Snowball only changes
 * the first three letters of a word in these ways: the final y of a stem
 * turns i (loyer -> loi), so y and i are one letter here; abilité -> abl,
 * so a token "abl" also has the key "abi"; ë and ï (even decomposed) shift
 * its regions, so they are unknown, as are ð and þ (which the rough fold
 * reads d and th) and rare combining marks. A '.' or '·' followed by a
 * letter, a digit or a longer character may start a word inside the part
 * (E.I.G., beta.gouv), and any digit may start an ordinal (1re -> 1er):
 * such words are analysed (digits only when a query token starts with
 * one; else no token of a word starting with a digit can match).
 * tests/test_snippet.c has a case for each of these rules.
 *
 * PF_LOOSE, for longer texts, is the filter as it always was, misses
 * included: numbers written with a space ("3 500"), ordinals spelled
 * differently from their token (1re / 1er), a word glued after a dot
 * (fin.Projet), stems that do not start like their word (loyer -> loi).
 */
enum { KEY_LEN = 3, SHORT_TEXT = 2048 };

/* What a byte is to the prefilter (st->bytes): a folded letter or digit
 * (>= '0'), or one of these. */
enum {
    T_BLANK = 0,  /* white space: ends the word */
    T_SEP = 1,    /* ends the part */
    T_SKIP = 2,   /* ignored ('.' in PF_LOOSE) */
    T_DOT = 3,    /* '.' in PF_EXACT */
    T_ALWAYS = 4, /* the word is analysed (digits in PF_EXACT, see above) */
    T_MULTI = 5   /* lead or stray byte of a longer character */
};

/* What a byte is to the scan (st->cls, see "Scan"). Up to CL_CONT_SEP, a
 * part starts at the next byte. 0xC3 leads the accented letters French
 * uses (U+00C0 to U+00FF): the second byte is read as what that character
 * is, so that most of them are read on without a stop. */
enum {
    CL_BLANK = 0,    /* up to ' ': between words */
    CL_SEP = 1,      /* ends a part (T_SEP) */
    CL_CONT_SEP = 2, /* after 0xC3: a separator (× ÷) */
    CL_LETTER = 3,   /* a letter or digit no key starts with */
    CL_FIRST = 4,    /* a letter or digit some key starts with */
    CL_LEAD = 5,     /* 0xC3 */
    CL_CONT = 6,     /* after 0xC3: a letter (any continuation byte) */
    CL_ALWAYS = 7    /* the scan stops: T_ALWAYS, T_DOT, T_SKIP, other bytes
                        past ASCII, after 0xC3 what the rough fold does not
                        read as a letter or a separator */
};

#define PART_STARTS_AFTER(cl) ((cl) <= CL_CONT_SEP)

/* What st->fold2 holds besides a folded letter (all below '0'). */
enum { FOLD_READ = 0, FOLD_SEP = 1, FOLD_SKIP = 2 };

/* Rough fold of the code point CP into OUT (up to 2 bytes); returns the
 * bytes written, 0 to skip it (combining mark, dot inside E.I.G.), -1 for
 * a part separator, -2 when unknown, -3 for '·' in PF_EXACT (as T_DOT). */
static int rough_fold(unsigned cp, char out[2], int way)
{
    static const char latin1[] = /* U+00C0 .. U+00FF, '-' separates, '?' two letters */
        "aaaaaa?ceeeeiiiidnooooo-ouuuuy??aaaaaa?ceeeeiiiidnooooo-ouuuuy?y";

    if (way == PF_EXACT) {
        if (cp == 0xD0 || cp == 0xF0 || cp == 0xDE || cp == 0xFE || /* Ð ð Þ þ */
            cp == 0xCB || cp == 0xEB || cp == 0xCF || cp == 0xEF || /* Ë ë Ï ï */
            (cp >= 0x304 && cp <= 0x36F && cp != 0x327))          /* ¨ and rarer marks */
            return -2;
        if (cp == 0xB7)
            return -3;
        if (cp == 0xDD || cp == 0xFD || cp == 0xFF || cp == 0x178) { /* Ý ý ÿ Ÿ */
            out[0] = 'i';
            return 1;
        }
    }
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            out[0] = (char)cp;
            return 1;
        }
        if (cp >= 'A' && cp <= 'Z') {
            out[0] = (char)(cp + 32);
            return 1;
        }
        return cp == '.' ? 0 : -1;
    }
    if (cp == 0xC6 || cp == 0xE6 || cp == 0x152 || cp == 0x153) { /* Æ æ Œ œ */
        out[0] = (cp == 0xC6 || cp == 0xE6) ? 'a' : 'o';
        out[1] = 'e';
        return 2;
    }
    if (cp == 0xDF) { out[0] = 's'; out[1] = 's'; return 2; }
    if (cp == 0xDE || cp == 0xFE) { out[0] = 't'; out[1] = 'h'; return 2; }
    if (cp >= 0xC0 && cp <= 0xFF) {
        char c = latin1[cp - 0xC0];
        if (c == '-')
            return -1;
        out[0] = c;
        return 1;
    }
    if (cp == 0x178) { out[0] = 'y'; return 1; }
    if ((cp >= 0x300 && cp <= 0x36F) || cp == 0xB7) /* combining marks, middle dot */
        return 0;
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x2BC || cp == 0x2010 || cp == 0x2011 ||
        cp == 0x2013 || cp == 0x2014 || cp == 0xAB || cp == 0xBB || cp == 0xA0 ||
        cp == 0x202F || cp == 0x2026)
        return -1;
    return -2;
}

static void init_bytes(snippet_terms *st)
{
    for (int w = 0; w < 2; w++) {
        unsigned char *t = st->bytes[w];
        for (int c = 0; c < 256; c++) {
            if (c <= ' ')
                t[c] = T_BLANK;
            else if (c >= 0x80)
                t[c] = T_MULTI;
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                t[c] = (unsigned char)c;
            else if (c >= 'A' && c <= 'Z')
                t[c] = (unsigned char)(c + 32);
            else if (c == '.')
                t[c] = w == PF_EXACT ? T_DOT : T_SKIP;
            else
                t[c] = T_SEP;
        }
        if (w == PF_EXACT)
            t['y'] = t['Y'] = 'i';
        for (unsigned cp = 0xC0; cp <= 0xFF; cp++) {
            char f[2];
            if (rough_fold(cp, f, w) > 0)
                st->latin_letters[w] |= (uint64_t)1 << (cp - 0xC0);
        }
    }
}

/* Give byte B the bits BITS in the set T (and its other case). */
static void byte_set_add(byte_set *t, unsigned char b, unsigned bits)
{
    for (int half = 0; half < 32; half += 16) {
        t->lo[half + (b & 15)] |= (unsigned char)bits;
        t->hi[half + (b >> 4)] |= (unsigned char)bits;
        if ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') {
            t->lo[half + ((b ^ 0x20) & 15)] |= (unsigned char)bits;
            t->hi[half + ((b ^ 0x20) >> 4)] |= (unsigned char)bits;
        }
    }
}

/* What block_marks needs of the way W of ST (its classes up to date). */
static void update_block_info(const snippet_terms *st, int w, scan_block_info *bi)
{
    static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    const unsigned char *cls = st->cls[w], *bytes = st->bytes[w];
    const keyset *ks = &st->keys[w];
    int n = 0;

    memset(bi, 0, sizeof *bi);
#if SCAN_AVX2
    bi->avx2 = __builtin_cpu_supports("avx2");
#endif
    for (const char *c = alnum; *c; c++) {
        unsigned a = bytes[(unsigned char)*c], bit = 1u << (n % 8);
        if (cls[(unsigned char)*c] != CL_FIRST)
            continue;
        n++;
        byte_set_add(&bi->first, (unsigned char)*c, bit);
        if (BIT_GET(ks->single, a)) {
            for (int k = 0; k < 32; k++) {
                bi->second.lo[k] |= (unsigned char)bit;
                bi->second.hi[k] |= (unsigned char)bit;
            }
        }
        for (const char *c2 = alnum; *c2; c2++) {
            unsigned a2 = bytes[(unsigned char)*c2];
            if (a2 >= '0' && BIT_GET(ks->pair, PAIR(a | a2 << 8)))
                byte_set_add(&bi->second, (unsigned char)*c2, bit);
        }
    }
    for (int c = 0x80; c < 0xC0; c++) {
        unsigned f = st->fold2[w][1][c & 0x3F], h = (unsigned)c >> 4;
        if (cls[c] == CL_CONT_SEP && (c & 0xDF) != 0x97)
            bi->part_after_high = ~0u;
        if (cls[c] == CL_ALWAYS || (cls[c] == CL_CONT && ks->first[f]))
            byte_set_add(&bi->cont, (unsigned char)c, 1u << (h - 8));
        if (cls[c] == CL_ALWAYS)
            byte_set_add(&bi->cont, (unsigned char)c, 1u << (h - 4));
    }
    bi->digits_stop = cls['0'] == CL_ALWAYS ? ~0u : 0;
}

/* Bring the scan's byte classes of both ways up to date with the keys. */
static void update_classes(snippet_terms *st)
{
    for (int w = 0; w < 2; w++) {
        const keyset *ks = &st->keys[w];
        for (int c = 0; c < 256; c++) {
            unsigned t = st->bytes[w][c], f;
            if (c <= ' ')
                st->cls[w][c] = CL_BLANK;
            else if (c < 0x80)
                st->cls[w][c] = t >= '0'    ? (ks->first[t] ? CL_FIRST : CL_LETTER)
                                : t == T_SEP ? CL_SEP
                                             : CL_ALWAYS;
            else if (c == 0xC3)
                st->cls[w][c] = CL_LEAD;
            else if (c < 0xC0 && (f = st->fold2[w][1][c & 0x3F]) >= '0')
                st->cls[w][c] = CL_CONT;
            else if (c < 0xC0 && f == FOLD_SEP)
                st->cls[w][c] = CL_CONT_SEP;
            else
                st->cls[w][c] = CL_ALWAYS;
        }
        update_block_info(st, w, &st->block[w]);
    }
}

/* Fill st->fold2 (the same for every query). */
static void init_fold2(snippet_terms *st)
{
    for (int w = 0; w < 2; w++)
        for (int lead = 0; lead < NLEADS; lead++)
            for (unsigned b = 0; b < 64; b++) {
                unsigned cp = lead < 4 ? ((0xC2u + lead) & 0x1F) << 6 | b : 0x2000 | b;
                char f[2];
                int r = rough_fold(cp, f, w);
                st->fold2[w][lead][b] = r > 0    ? (unsigned char)f[0]
                                        : r == -1 ? FOLD_SEP
                                        : r == 0  ? FOLD_SKIP
                                                  : FOLD_READ;
            }
}

static int keyset_add(keyset *ks, qkey q)
{
    qkey *nv;
    int i;

    for (i = 0; i < ks->n && (ks->v[i].key != q.key || ks->v[i].len != q.len); i++)
        ;
    if (i < ks->n)
        return 0;
    if (!(nv = room_for(ks->v, &ks->cap, ks->n + 1, sizeof *nv, 8, SIZE_MAX)))
        return -1;
    ks->v = nv;
    ks->v[ks->n++] = q;
    ks->first[q.key & 0xFF] = 1;
    if (q.len == 1)
        BIT_SET(ks->single, q.key & 0xFF);
    else
        BIT_SET(ks->pair, PAIR(q.key));
    return 0;
}

/* Add the key of the query token T (LEN bytes) to the key sets. */
static int add_key(snippet_terms *st, const char *t, int len)
{
    if (len > 0 && t[0] == FR_SURFACE_MARK) {
        t++;
        len--;
    }
    if (len <= 0)
        return 0;
    if (t[0] >= '0' && t[0] <= '9') /* ordinals, thousands: see PF_EXACT */
        for (int c = '0'; c <= '9'; c++)
            st->bytes[PF_EXACT][c] = T_ALWAYS;
    for (int w = 0; w < 2; w++) {
        qkey q = {0, 0, len < KEY_LEN ? len : KEY_LEN};

        for (int i = 0; i < q.len; i++) {
            unsigned char c = (unsigned char)t[i];
            if (w == PF_EXACT && c == 'y')
                c = 'i';
            q.key |= (uint32_t)c << (8 * i);
            q.mask |= (uint32_t)0xFF << (8 * i);
        }
        if (keyset_add(&st->keys[w], q) != 0)
            return -1;
        if (w == PF_EXACT && len == 3 && memcmp(t, "abl", 3) == 0) {
            q.key = 'a' | 'b' << 8 | 'i' << 16; /* the stem of abilité (see PF_EXACT) */
            if (keyset_add(&st->keys[w], q) != 0)
                return -1;
        }
    }
    return 0;
}

/* Does the part key KEY (N bytes) start with the key of a query token?
 * The first byte rules out nearly every word: test it inline. */
#define KEY_MATCHES(ks, key, n) ((ks)->first[(key) & 0xFF] && key_matches(ks, key, n))

static int key_matches(const keyset *ks, uint32_t key, int n)
{
    for (int i = 0; i < ks->n; i++)
        if (ks->v[i].len <= n && (key & ks->v[i].mask) == ks->v[i].key)
            return 1;
    return 0;
}

static int is_alnum_or_multi(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80;
}

enum { DECIDED = KEY_LEN + 1 }; /* a part whose key is known not to match */

/* Add the folded byte C to the key of a part (K < KEY_LEN bytes so far).
 * Returns 1 when the part may match; decides it (K = DECIDED) as soon as
 * no query key can start like it, at the latest when its key is complete.
 * (Returning 1 before the key is complete gives what the full key would:
 * a key as long as the part read so far already matches.) */
static inline int key_add(const keyset *ks, uint32_t *key, int *k, unsigned c)
{
    switch (*k) {
    case 0:
        *key = c;
        if (!ks->first[c]) {
            *k = DECIDED;
            return 0;
        }
        *k = 1;
        return (int)BIT_GET(ks->single, c);
    case 1:
        *key |= c << 8;
        if (!BIT_GET(ks->pair, PAIR(*key))) {
            *k = DECIDED;
            return 0;
        }
        *k = 2;
        return key_matches(ks, *key, 2);
    default:
        *key |= c << 16;
        if (key_matches(ks, *key, KEY_LEN))
            return 1;
        *k = DECIDED;
        return 0;
    }
}

/* Read the word starting at byte I of TEXT (LEN bytes; TEXT[I] is not
 * blank) the prefilter's WAY; returns where it ends (the next blank or
 * LEN), *CANDIDATE non-zero when it may hold a match. */
static int scan_word(const snippet_terms *st, int way, const char *text, int len, int i,
                     int *candidate)
{
    const unsigned char *u = (const unsigned char *)text;
    const unsigned char *byte = st->bytes[way];
    const keyset *ks = &st->keys[way];
    uint32_t key = 0;
    int k = 0; /* bytes in the key of the current part, or DECIDED */

    if (byte[u[i]] >= '0' && !ks->first[byte[u[i]]]) {
        /* most words: letters that no key starts like, up to a blank (as
         * the loop below reads them, faster) */
        for (i++; i < len && byte[u[i]] >= '0'; i++)
            ;
        if (i == len || u[i] <= ' ') {
            *candidate = 0;
            return i;
        }
        k = DECIDED;
    }
    while (i < len) {
        unsigned c = byte[u[i]], cp;
        char f[2];
        int l, r, j;

        if (c >= '0') {
            i++;
            if (k < KEY_LEN && key_add(ks, &key, &k, c))
                goto yes;
            if (k == DECIDED) /* on to the end of the part */
                while (i < len && byte[u[i]] >= '0')
                    i++;
            continue;
        }
        switch (c) {
        case T_BLANK:
            goto end;
        case T_SKIP:
            i++;
            continue;
        case T_ALWAYS:
            goto yes;
        case T_DOT:
            if (i + 1 < len && is_alnum_or_multi(u[i + 1]))
                goto yes;
            i++;
            continue;
        case T_SEP:
            r = -1;
            l = 1;
            break;
        default: /* T_MULTI */
            if (k == DECIDED && u[i] == 0xC3 && i + 1 < len && (u[i + 1] & 0xC0) == 0x80 &&
                ((st->latin_letters[way] >> (u[i + 1] - 0x80)) & 1)) {
                i += 2; /* é in a decided part: as a letter */
                continue;
            }
            if (u[i] >= 0xC2 && u[i] <= 0xDF && i + 1 < len && (u[i + 1] & 0xC0) == 0x80) {
                cp = ((unsigned)(u[i] & 0x1F) << 6) | (u[i + 1] & 0x3F); /* é, œ... */
                l = 2;
            } else if ((l = pr_utf8_char(u + i, (size_t)(len - i), &cp)) == 0) {
                goto yes; /* invalid bytes: let the tokenizer decide */
            }
            r = rough_fold(cp, f, way);
            if (r == -2)
                goto yes;
            if (r == -3) {
                if (i + l < len && is_alnum_or_multi(u[i + l]))
                    goto yes;
                r = 0;
            }
            break;
        }
        i += l;
        if (r == -1) { /* a new part starts */
            if (k > 0 && k < KEY_LEN && KEY_MATCHES(ks, key, k))
                goto yes;
            k = 0;
            continue;
        }
        for (j = 0; j < r && k < KEY_LEN; j++)
            if (key_add(ks, &key, &k, (unsigned char)f[j]))
                goto yes;
    }
end:
    *candidate = k > 0 && k < KEY_LEN && KEY_MATCHES(ks, key, k);
    return i;
yes:
    while (i < len && u[i] > ' ')
        i++;
    *candidate = 1;
    return i;
}

/*
 * Memo. The spans of a word (or of a group of words analysed together)
 * depend on its bytes and the query only, and the same words come back in
 * the texts of one result page, so each is analysed once per query; the
 * spans are kept relative to the word. Bounded: past MEMO_WORDS words or
 * MEMO_BYTES of words or spans, new words are analysed each time. Filled
 * through a const snippet_terms: like the tokenizer, one query's terms
 * serve one thread at a time.
 */
enum { MEMO_WORDS = 16384, MEMO_BYTES = 256 * 1024 };

typedef struct memo_slot {
    uint32_t hash;
    int key, len;       /* the word: bytes [key, key + len) of text */
    int spans, nspans;  /* its spans: [spans, spans + nspans) of span */
} memo_slot;

struct memo {
    memo_slot *slot;    /* open addressing; len 0: free */
    int nslots, used;
    char *text;
    int ntext, captext;
    span *span;
    int nspan, capspan;
};

static void memo_free(struct memo *m)
{
    if (!m)
        return;
    free(m->slot);
    free(m->text);
    free(m->span);
    free(m);
}

static void memo_clear(struct memo *m)
{
    if (!m)
        return;
    if (m->slot)
        memset(m->slot, 0, (size_t)m->nslots * sizeof *m->slot);
    m->used = m->ntext = m->nspan = 0;
}

static uint32_t memo_hash(const char *w, int len)
{
    uint32_t h = 2166136261u;

    while (len-- > 0)
        h = (h ^ (unsigned char)*w++) * 16777619u;
    return h;
}

/* The slot of the word W (LEN > 0 bytes, hash H): its own, or the free one
 * where it goes. */
static memo_slot *memo_find(const struct memo *m, const char *w, int len, uint32_t h)
{
    int i = (int)(h & (uint32_t)(m->nslots - 1));

    for (;; i = (i + 1) & (m->nslots - 1)) {
        memo_slot *sl = &m->slot[i];
        if (sl->len == 0 ||
            (sl->hash == h && sl->len == len && memcmp(m->text + sl->key, w, len) == 0))
            return sl;
    }
}

/* Double the slots (from 256), keeping at most half of them used. */
static int memo_grow(struct memo *m)
{
    struct memo old = *m;
    int i;

    m->nslots = old.nslots ? old.nslots * 2 : 256;
    m->slot = calloc((size_t)m->nslots, sizeof *m->slot);
    if (!m->slot) {
        *m = old;
        return -1;
    }
    for (i = 0; i < old.nslots; i++)
        if (old.slot[i].len > 0)
            *memo_find(m, m->text + old.slot[i].key, old.slot[i].len, old.slot[i].hash) =
                old.slot[i];
    free(old.slot);
    return 0;
}

/* Remember that the word W (LEN bytes, hash H) gives SPANS (N of them,
 * at BASE in the text). Best effort: nothing happens when full or out of
 * memory. */
static void memo_put(struct memo *m, const char *w, int len, uint32_t h, const span *spans,
                     int n, int base)
{
    memo_slot *sl;
    char *text;
    span *spans_room;

    if (!m || m->used >= MEMO_WORDS ||
        (2 * (m->used + 1) > m->nslots && memo_grow(m) != 0) ||
        !(text = room_for(m->text, &m->captext, m->ntext + len, 1, 1024, MEMO_BYTES)))
        return;
    m->text = text;
    if (n > 0) {
        if (!(spans_room = room_for(m->span, &m->capspan, m->nspan + n, sizeof *m->span, 64,
                                    MEMO_BYTES)))
            return;
        m->span = spans_room;
    }
    sl = memo_find(m, w, len, h);
    sl->hash = h;
    sl->key = m->ntext;
    sl->len = len;
    sl->spans = m->nspan;
    sl->nspans = n;
    memcpy(m->text + m->ntext, w, len);
    m->ntext += len;
    for (int i = 0; i < n; i++) {
        span *sp = &m->span[m->nspan++];
        *sp = spans[i];
        sp->start -= base;
        sp->end -= base;
    }
    m->used++;
}

snippet_terms *snippet_terms_new(void)
{
    snippet_terms *st = calloc(1, sizeof(snippet_terms));

    if (st) {
        init_bytes(st);
        init_fold2(st);
        update_classes(st);
        st->memo = calloc(1, sizeof *st->memo); /* none: words analysed each time */
    }
    return st;
}

void snippet_terms_free(snippet_terms *st)
{
    int i;

    if (!st)
        return;
    for (i = 0; i < st->n; i++)
        free(st->v[i].s);
    free(st->v);
    free(st->keys[PF_LOOSE].v);
    free(st->keys[PF_EXACT].v);
    memo_free(st->memo);
    free(st);
}

void snippet_terms_clear(snippet_terms *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->n; i++)
        free(st->v[i].s);
    st->n = 0;
    for (int w = 0; w < 2; w++) {
        keyset *ks = &st->keys[w];
        memset(ks->first, 0, sizeof ks->first);
        memset(ks->single, 0, sizeof ks->single);
        memset(ks->pair, 0, sizeof ks->pair);
        ks->n = 0;
    }
    for (int c = '0'; c <= '9'; c++) /* add_key may have made them T_ALWAYS */
        st->bytes[PF_EXACT][c] = (unsigned char)c;
    memo_clear(st->memo);
    update_classes(st);
}

int snippet_terms_count(const snippet_terms *st)
{
    return st ? st->n : 0;
}

typedef struct add_ctx {
    snippet_terms *st;
    int prefix, term;
} add_ctx;

static int add_token(void *vctx, int flags, const char *token, int len, int start, int end)
{
    add_ctx *c = vctx;
    snippet_terms *st = c->st;
    qtok *t;

    (void)flags; (void)start; (void)end;
    if (len <= 0)
        return 0;
    if (!(t = room_for(st->v, &st->cap, st->n + 1, sizeof *t, 16, SIZE_MAX)))
        return -1;
    st->v = t;
    t = &st->v[st->n];
    t->s = malloc(len);
    if (!t->s)
        return -1;
    memcpy(t->s, token, len);
    t->len = len;
    t->prefix = c->prefix;
    t->term = c->term;
    st->n++;
    return add_key(st, token, len);
}

int snippet_terms_add(snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                      int prefix, int term)
{
    add_ctx c = {st, prefix, term};
    int rc;

    memo_clear(st->memo); /* what was analysed matched other terms */
    rc = fr_tokenize(tok, prefix ? FR_MODE_PREFIX : FR_MODE_QUERY, text, len, add_token, &c);
    update_classes(st);
    return rc == 0 ? 0 : -1;
}

/* Bits of the query terms that TOKEN matches (0: none). */
static uint64_t token_terms(const snippet_terms *st, const char *token, int len)
{
    uint64_t m = 0;
    int i;

    for (i = 0; i < st->n; i++) {
        const qtok *q = &st->v[i];
        if (q->prefix ? (len >= q->len && memcmp(token, q->s, q->len) == 0)
                      : (len == q->len && memcmp(token, q->s, len) == 0))
            m |= (uint64_t)1 << (q->term & 63);
    }
    return m;
}

static int span_push(span_list *l, int start, int end, uint64_t terms)
{
    span *s;

    if (!(s = room_for(l->v, &l->cap, l->n + 1, sizeof *s, 16, SIZE_MAX))) {
        l->oom = 1;
        return -1;
    }
    l->v = s;
    s = &l->v[l->n++];
    s->start = start;
    s->end = end;
    s->terms = terms;
    return 0;
}

static int on_doc_token(void *vctx, int flags, const char *token, int len, int start, int end)
{
    span_list *l = vctx;
    uint64_t m = token_terms(l->st, token, len);

    (void)flags;
    if (!m || end <= start)
        return 0;
    start += l->base;
    end += l->base;
    if (l->n > 0 && l->v[l->n - 1].start == start && l->v[l->n - 1].end == end) {
        l->v[l->n - 1].terms |= m; /* a colocated form of the same word */
        return 0;
    }
    return span_push(l, start, end, m);
}

/* Add the spans of the word (or words) [START, END) of TEXT: analysed, or
 * as the memo has them (the spans of two words never merge, so each
 * word's own are all there is to keep). Returns 0, or -1 out of memory. */
static int analyse(const snippet_terms *st, fr_tokenizer *tok, const char *text, int start,
                   int end, span_list *l)
{
    const char *w = text + start;
    struct memo *m = st->memo;
    const memo_slot *sl;
    int len = end - start, n = l->n;
    uint32_t h = 0;

    if (m) {
        h = memo_hash(w, len);
        sl = m->nslots > 0 ? memo_find(m, w, len, h) : NULL;
        if (sl && sl->len > 0) {
            for (int i = 0; i < sl->nspans; i++) {
                const span *sp = &m->span[sl->spans + i];
                if (span_push(l, sp->start + start, sp->end + start, sp->terms) != 0)
                    return -1;
            }
            return 0;
        }
    }
    l->base = start;
    if (fr_tokenize(tok, FR_MODE_DOCUMENT, w, len, on_doc_token, l) != 0 || l->oom)
        return -1;
    memo_put(m, w, len, h, l->n > n ? l->v + n : NULL, l->n - n, start);
    return 0;
}

static int is_cont(const char *text, int len, int i)
{
    return i > 0 && i < len && ((unsigned char)text[i] & 0xC0) == 0x80;
}

/* Spans [FROM, l->n) on character boundaries, in order, overlapping ones
 * merged (spans of two analysed pieces never overlap, so each piece's
 * can be put in order alone). */
static void normalise_spans(span_list *l, int from, const char *text, int len)
{
    int i, n = from;

    for (i = from; i < l->n; i++) {
        span s = l->v[i];
        if (s.start < 0)
            s.start = 0;
        if (s.end > len)
            s.end = len;
        while (is_cont(text, len, s.start))
            s.start--;
        while (is_cont(text, len, s.end))
            s.end++;
        if (s.end <= s.start)
            continue;
        if (n > from && s.start < l->v[n - 1].end) {
            if (s.end > l->v[n - 1].end)
                l->v[n - 1].end = s.end;
            l->v[n - 1].terms |= s.terms;
        } else {
            l->v[n++] = s;
        }
    }
    l->n = n;
}

static int is_blank(unsigned char c)
{
    return c <= ' ' || c == 0x7F;
}

/* The words (white-space separated) of a text that hold matches, and how
 * many words it has: the window counts words, and only these change its
 * score. */
typedef struct hit_list {
    hit_word *v;
    int n, cap;
    int nwords;
} hit_list;

/* Give the word [START, END), the INDEX-th of its text, the terms and the
 * number of the spans SP (N of them, in order) inside it, and keep it when
 * it has some. Returns 0, or -1 out of memory. */
static int add_hit_word(hit_list *hl, int index, int start, int end, const span *sp, int n)
{
    hit_word hw = {index, start, end, 0, 0};

    for (int j = 0; j < n && sp[j].start < end; j++)
        if (sp[j].end > start) {
            hw.terms |= sp[j].terms;
            hw.hits++;
        }
    if (!hw.hits)
        return 0;
    if (hl->n == hl->cap) {
        hit_word *v = room_for(hl->v, &hl->cap, hl->n + 1, sizeof *v, 16, SIZE_MAX);
        if (!v)
            return -1;
        hl->v = v;
    }
    hl->v[hl->n++] = hw;
    return 0;
}

/* The hit words of bytes [START, END) of TEXT, split at is_blank, the
 * first of them the FIRST-th word of the text, given the spans SP (N of
 * them, in order) found there. Returns the number of words, or -1 out of
 * memory. */
static int add_hit_words(hit_list *hl, const char *text, int start, int end, int first,
                         const span *sp, int n)
{
    const unsigned char *u = (const unsigned char *)text;
    int i = start, k = first;

    while (i < end) {
        int ws;
        while (i < end && is_blank(u[i]))
            i++;
        if (i >= end)
            break;
        ws = i;
        while (i < end && !is_blank(u[i]))
            i++;
        while (n > 0 && sp->end <= ws) {
            sp++;
            n--;
        }
        if (n > 0 && add_hit_word(hl, k, ws, i, sp, n) != 0)
            return -1;
        k++;
    }
    return k - first;
}

/* The hit words of all of TEXT from its spans: for texts with a DEL, which
 * the prefilter reads as part of a word but the window as white space,
 * and when nothing can match. Returns 0, or -1 out of memory. */
static int hit_words_of(const char *text, int len, const span_list *l, hit_list *hl)
{
    int n = add_hit_words(hl, text, 0, len, 0, l->v, l->n);

    hl->nwords = n > 0 ? n : 0;
    return n < 0 ? -1 : 0;
}

/* The lead (index into st->fold2) of the character at I, and in *B its
 * last byte's low bits and in *N its length; -1 for another character. */
static inline int lead_of(const unsigned char *u, int i, int len, unsigned *b, int *n)
{
    if (u[i] >= 0xC2 && u[i] <= 0xC5 && i + 1 < len && (u[i + 1] & 0xC0) == 0x80) {
        *b = u[i + 1] & 0x3F;
        *n = 2;
        return u[i] - 0xC2;
    }
    if (u[i] == 0xE2 && i + 2 < len && u[i + 1] == 0x80 && (u[i + 2] & 0xC0) == 0x80) {
        *b = u[i + 2] & 0x3F;
        *n = 3;
        return 4;
    }
    return -1;
}

/*
 * Scan. Reading every word costs a mispredicted branch or two at each
 * word's end, more than everything else the filter does; so the words are
 * counted and the stops found without reading bytes one by one. A byte's
 * class (st->cls) and the previous byte's say whether a word or a part
 * starts there and whether the scan stops: only where a match may start,
 * at a letter some query key starts with (either case) or 0xC3 (é...) at
 * the start of a part, at what PF_EXACT always analyses, at a byte past
 * ASCII other than the accented letters of 0xC3. A part matches from a
 * key's first letter only, so a word read through without stopping is
 * one scan_word lets through as impossible. Where it stops, pass_char
 * reads on past what cannot start a match (an accented letter no key
 * starts with, punctuation, a first letter whose second no key has);
 * otherwise the word is read by scan_word.
 *
 * The scan reads marks, two bits a byte made for SCAN_CHUNK bytes at a
 * time: "starts a word" and "may stop". Where the processor has AVX2 they
 * are made 32 bytes at a time by comparisons and table lookups
 * (block_marks), which leave out the stops pass_char would pass over and
 * mark a few bytes that are not stops; each marked byte is checked
 * against the classes. Else, or when built with SNIPPET_SCAN_BYTES
 * (which the tests compare against), they are made byte by byte from the
 * classes, exactly the stops. Both read a byte and the one before it;
 * the byte where a scan starts again, after a stop, is read alone, as
 * what is before it may then be something else to the scan (after ’
 * passed over, a part starts).
 */

/* Where the scan is: at byte I, NW words seen, the last starting at WS;
 * PREV the class of the byte before I as far as words and parts go
 * (CL_BLANK: I may start a word; PART_STARTS_AFTER: a part). */
typedef struct scan_pos {
    int i, nw, ws;
    unsigned prev;
} scan_pos;

/* bit C * 8 + PREV: the scan stops at a byte of class C after one of
 * class PREV. Always at CL_ALWAYS; at a key's first letter or 0xC3 where a
 * part starts; at a continuation byte but after 0xC3; after 0xC3 but at a
 * continuation byte. */
#define STOP_AT(c, prev) ((uint64_t)1 << (8 * (c) + (prev)))
#define STOP_AT_ANY(c) ((uint64_t)0xFF << (8 * (c)))        /* whatever PREV */
#define STOP_AFTER(prev) (0x0101010101010101ULL << (prev)) /* whatever C */
#define PART_START(c) (STOP_AT(c, CL_BLANK) | STOP_AT(c, CL_SEP) | STOP_AT(c, CL_CONT_SEP))
#define CONT_AFTER_LEAD (STOP_AT(CL_CONT, CL_LEAD) | STOP_AT(CL_CONT_SEP, CL_LEAD))
static const uint64_t scan_stops =
    STOP_AT_ANY(CL_ALWAYS) | PART_START(CL_FIRST) | PART_START(CL_LEAD) |
    ((STOP_AT_ANY(CL_CONT) | STOP_AT_ANY(CL_CONT_SEP) | STOP_AFTER(CL_LEAD)) & ~CONT_AFTER_LEAD);

#define STOPS(c, prev) ((scan_stops >> ((c) * 8 + (prev))) & 1)

/* The marks of bytes [base, end) of a text: bit k of word w for byte
 * base + 64 w + k. */
enum { SCAN_CHUNK = 512 };
typedef struct scan_marks {
    int base, end;
    uint64_t start[SCAN_CHUNK / 64]; /* starts a word: not blank, after a blank */
    uint64_t stop[SCAN_CHUNK / 64];  /* the scan may stop there (see STOPS) */
} scan_marks;

/* The bits set in X. */
static inline int bits64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

#if SCAN_AVX2
/* What block_marks needs to know of the byte before a block. */
enum { PB_BLANK = 1, PB_PART = 2, PB_LEAD = 4 };

/* The byte B as PB_ bits: a blank, a part starts after it, 0xC3. */
static uint32_t byte_before(const scan_block_info *bi, unsigned char b)
{
    int alnum = ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') || (b >= '0' && b <= '9');
    int part = b < 0x80 ? !alnum : (b & 0xDF) == 0x97 || bi->part_after_high;

    return (b <= ' ' ? PB_BLANK : 0) | (part ? PB_PART : 0) | (b == 0xC3 ? PB_LEAD : 0);
}

#define BYTES32(b) _mm256_set1_epi8((char)(b))
#define MASK32(v) ((uint32_t)_mm256_movemask_epi8(v))
#define AVX2 __attribute__((target("avx2")))

/* The bytes of V from LO to HI. */
static inline AVX2 __m256i bytes_in(__m256i v, unsigned char lo, unsigned char hi)
{
    __m256i d = _mm256_sub_epi8(v, BYTES32(lo));
    return _mm256_cmpeq_epi8(_mm256_min_epu8(d, BYTES32(hi - lo)), d);
}

/* The bits the table T (see byte_set) gives each byte of V. */
static inline AVX2 __m256i set_bits(__m256i v, const byte_set *t)
{
    __m256i lo = _mm256_and_si256(v, BYTES32(0x0F));
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), BYTES32(0x0F));

    return _mm256_and_si256(_mm256_shuffle_epi8(_mm256_loadu_si256((const void *)t->lo), lo),
                            _mm256_shuffle_epi8(_mm256_loadu_si256((const void *)t->hi), hi));
}

/* The bytes of V (set bits) with some bit of MASK. */
static inline AVX2 uint32_t with_bits(__m256i v, unsigned char mask)
{
    return ~MASK32(_mm256_cmpeq_epi8(_mm256_and_si256(v, BYTES32(mask)), _mm256_setzero_si256()));
}

/* The marks of the 32 bytes V (VN: the bytes after each), after a byte
 * BEFORE (PB_ bits); returns the PB_ bits of its last byte. *STOP has
 * every stop of scan_stops but those pass_char passes over as the marks
 * go on (the bytes after are read as they are): 0xC3 where a part starts
 * when what follows is not a key's first letter accented; a key's first
 * letter followed by a letter no key has second; '.' inside a part before
 * white space (scan_word skips it). It has a few more: a part is taken to
 * start after every × ÷ (0x97 or 0xB7 after any lead), the tables give
 * more pairs than the keys have, the last byte's next is not read... */
static inline AVX2 uint32_t block_marks(const scan_block_info *bi, __m256i v, __m256i vn,
                                        uint32_t before, uint32_t *start, uint32_t *stop)
{
    __m256i y = _mm256_or_si256(v, BYTES32(0x20)), low = _mm256_and_si256(v, BYTES32(0xDF));
    __m256i digit = bytes_in(v, '0', '9'), first = set_bits(v, &bi->first);
    __m256i cont_bits = set_bits(v, &bi->cont);
    uint32_t high = MASK32(v), lead = MASK32(_mm256_cmpeq_epi8(v, BYTES32(0xC3)));
    uint32_t blank = MASK32(_mm256_cmpeq_epi8(_mm256_min_epu8(v, BYTES32(' ')), v));
    uint32_t cont = MASK32(_mm256_cmpgt_epi8(BYTES32(0xC0), v)) & high; /* 0x80..0xBF */
    uint32_t alnum = MASK32(_mm256_or_si256(digit, bytes_in(y, 'a', 'z')));
    uint32_t part_after = (~alnum & ~high) |
                          (high & (bi->part_after_high |
                                   MASK32(_mm256_cmpeq_epi8(low, BYTES32(0x97)))));
    uint32_t part = part_after << 1 | !!(before & PB_PART);
    uint32_t leadp = lead << 1 | !!(before & PB_LEAD);
    uint32_t pair = with_bits(_mm256_and_si256(first, set_bits(vn, &bi->second)), 0xFF);
    uint32_t firsts = with_bits(first, 0xFF) & (pair | ~(alnum >> 1));
    uint32_t lead_at = lead & ((cont & with_bits(cont_bits, 0x0F)) >> 1 | 0x80000000u);

    *start = ~blank & (blank << 1 | !!(before & PB_BLANK));
    *stop = (MASK32(_mm256_cmpeq_epi8(v, BYTES32('.'))) & (part | ~(blank >> 1))) |
            (MASK32(digit) & bi->digits_stop) | (high & ~lead & ~cont) |
            ((firsts | lead_at) & part) | (cont & ~leadp) | (leadp & ~cont) |
            (cont & with_bits(cont_bits, 0xF0));
    return (blank >> 31 ? PB_BLANK : 0) | (part_after >> 31 ? PB_PART : 0) |
           (lead >> 31 ? PB_LEAD : 0);
}

/* The marks of bytes [M->base, M->end) of U (LEN bytes), 32 at a time. */
static AVX2 void make_marks_avx2(const scan_block_info *bi, const unsigned char *u, int len,
                                 scan_marks *m)
{
    uint32_t before = m->base > 0 ? byte_before(bi, u[m->base - 1]) : PB_BLANK | PB_PART;

    for (int k = m->base; k < m->end; k += 32) {
        unsigned char pad[33];
        const unsigned char *at = u + k;
        uint32_t start, stop;
        if (k + 33 > len) { /* the text's last bytes, then blanks */
            memset(pad, 0, sizeof pad);
            memcpy(pad, u + k, (size_t)(len - k));
            at = pad;
        }
        before = block_marks(bi, _mm256_loadu_si256((const void *)at),
                             _mm256_loadu_si256((const void *)(at + 1)), before, &start, &stop);
        m->start[(k - m->base) >> 6] |= (uint64_t)start << ((k - m->base) & 63);
        m->stop[(k - m->base) >> 6] |= (uint64_t)stop << ((k - m->base) & 63);
    }
}
#endif

/* Make the marks of bytes [M->base, M->end) of U (LEN bytes) for the way
 * whose classes are CLS. */
static void make_marks(const scan_block_info *bi, const unsigned char *cls,
                       const unsigned char *u, int len, scan_marks *m)
{
    unsigned prev;

#if SCAN_AVX2
    if (bi->avx2) {
        make_marks_avx2(bi, u, len, m);
        return;
    }
#endif
    (void)bi;
    (void)len;
    prev = m->base > 0 ? cls[u[m->base - 1]] : CL_BLANK;
    for (int k = m->base; k < m->end; k++) { /* exactly the stops */
        unsigned c = cls[u[k]];
        uint64_t bit = (uint64_t)1 << ((k - m->base) & 63);
        if (c != CL_BLANK && prev == CL_BLANK)
            m->start[(k - m->base) >> 6] |= bit;
        if (STOPS(c, prev))
            m->stop[(k - m->base) >> 6] |= bit;
        prev = c;
    }
}

/* The marks of the SCAN_CHUNK bytes of U (LEN bytes) from AT. */
static void next_marks(const snippet_terms *st, int way, const unsigned char *u, int len, int at,
                       scan_marks *m)
{
    memset(m->start, 0, sizeof m->start);
    memset(m->stop, 0, sizeof m->stop);
    m->base = at & ~63;
    m->end = len - m->base > SCAN_CHUNK ? m->base + SCAN_CHUNK : len;
    make_marks(&st->block[way], st->cls[way], u, len, m);
    if (m->end < m->base + SCAN_CHUNK) { /* none past the text */
        int n = m->end - m->base;
        for (int w = n >> 6; w < SCAN_CHUNK / 64; w++) {
            uint64_t keep = w == n >> 6 && (n & 63) ? ((uint64_t)1 << (n & 63)) - 1 : 0;
            m->start[w] &= keep;
            m->stop[w] &= keep;
        }
    }
}

/* The first byte from AT on marked "may stop" (M->end when none), the
 * words that start from AT up to it counted into P. */
static inline int next_stop_mark(const scan_marks *m, int at, scan_pos *p)
{
    int w = (at - m->base) >> 6, wf = w, wt, to;
    uint64_t bits = m->stop[w] & (~(uint64_t)0 << ((at - m->base) & 63)), s;

    while (!bits && ++w < SCAN_CHUNK / 64)
        bits = m->stop[w];
    to = bits ? m->base + 64 * w + __builtin_ctzll(bits) : m->end;
    if (to == at)
        return to;
    for (w = wf, wt = (to - 1 - m->base) >> 6; w <= wt; w++) {
        s = m->start[w];
        if (w == wf)
            s &= ~(uint64_t)0 << ((at - m->base) & 63);
        if (w == wt && ((to - m->base) & 63))
            s &= ((uint64_t)1 << ((to - m->base) & 63)) - 1;
        if (s) /* the last start so far */
            p->ws = m->base + 64 * w + 63 - __builtin_clzll(s);
        p->nw += bits64(s);
    }
    return to;
}

/* Count the words from P->i up to a byte where the scan stops (or LEN);
 * returns its class. M holds the marks read last (M->end 0: none yet). */
static unsigned scan_to_stop(const snippet_terms *st, int way, const unsigned char *u, int len,
                             scan_pos *p, scan_marks *m)
{
    const unsigned char *cls = st->cls[way];
    int i = p->i;
    unsigned c, prev = p->prev;

    if (i >= len)
        return CL_BLANK;
    c = cls[u[i]];
    for (; !STOPS(c, prev); c = cls[u[i]], prev = cls[u[i - 1]]) {
        /* a byte read as it is: the first (as the scan's PREV says), or
         * one marked but not a stop */
        if (c != CL_BLANK && prev == CL_BLANK) {
            p->nw++;
            p->ws = i;
        }
        if (++i < len && (i >= m->end || i < m->base))
            next_marks(st, way, u, len, i, m);
        while (i < len && (i = next_stop_mark(m, i, p)) == m->end && i < len)
            next_marks(st, way, u, len, i, m);
        if (i >= len) {
            p->i = len;
            return CL_BLANK;
        }
    }
    if (prev == CL_BLANK) { /* the stop starts a word */
        p->nw++;
        p->ws = i;
    }
    p->i = i;
    p->prev = prev;
    return c;
}

/* Pass over the character at P->i (a stop of class C) when it cannot start
 * a match: an accented letter no key starts with, or one inside a part; a
 * separator; a skipped mark or '.' inside a part; a key's first letter
 * followed by a letter no key has second (both then: key_add decides the
 * part there). Returns 1 when passed over. */
static inline int pass_char(const snippet_terms *st, int way, const unsigned char *u, int len,
                            unsigned c, scan_pos *p)
{
    const keyset *ks = &st->keys[way];
    int part_start = PART_STARTS_AFTER(p->prev), lead, n = 1;
    unsigned b, f, a, a2;

    if (p->prev == CL_LEAD) /* 0xC3 without its second byte */
        return 0;
    if (c == CL_FIRST) {
        a = st->bytes[way][u[p->i]];
        if (BIT_GET(ks->single, a) || p->i + 1 >= len ||
            (a2 = st->bytes[way][u[p->i + 1]]) < '0' || BIT_GET(ks->pair, PAIR(a | a2 << 8)))
            return 0;
        n = 2;
    } else if (st->bytes[way][u[p->i]] == T_SKIP) {
        if (part_start) /* ".net": the part starts after it */
            return 0;
    } else if ((lead = lead_of(u, p->i, len, &b, &n)) >= 0) {
        f = st->fold2[way][lead][b];
        if (f >= '0' ? part_start && ks->first[f] : f == FOLD_READ || (f == FOLD_SKIP && part_start))
            return 0;
        if (f == FOLD_SEP) {
            p->prev = CL_SEP;
            p->i += n;
            return 1;
        }
    } else {
        return 0;
    }
    p->prev = CL_LETTER; /* inside a part */
    p->i += n;
    return 1;
}

/* The matched spans of TEXT, and when HL is not NULL its hit words (only
 * for texts without DEL, where the words the prefilter reads are those of
 * the window). Returns 0, or -1 out of memory. */
static int find_spans(const snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                      span_list *l, hit_list *hl)
{
    const unsigned char *u = (const unsigned char *)text;
    int way = len <= SHORT_TEXT ? PF_EXACT : PF_LOOSE, candidate;
    scan_pos p = {0, 0, 0, CL_BLANK};
    scan_marks m;

    memset(l, 0, sizeof *l);
    l->st = st;
    m.base = m.end = 0;
    if (!st || st->n == 0 || len <= 0)
        return hl ? hit_words_of(text, len, l, hl) : 0;
    for (;;) {
        unsigned c = scan_to_stop(st, way, u, len, &p, &m);
        int first = p.nw - 1, n0 = l->n, ws = p.ws;
        if (p.i >= len)
            break;
        if (pass_char(st, way, u, len, c, &p))
            continue;
        p.i = scan_word(st, way, text, len, ws, &candidate);
        p.prev = CL_LETTER;
        if (!candidate)
            continue;
        /* 3 500: one unit over the space (see PF_EXACT) */
        while (way == PF_EXACT && p.i + 1 < len && u[p.i] == ' ' && u[p.i - 1] >= '0' &&
               u[p.i - 1] <= '9' && u[p.i + 1] >= '0' && u[p.i + 1] <= '9') {
            p.i++;
            p.nw++;
            while (p.i < len && u[p.i] > ' ')
                p.i++;
        }
        if (analyse(st, tok, text, ws, p.i, l) != 0)
            return -1;
        normalise_spans(l, n0, text, len);
        if (hl && l->n > n0 &&
            add_hit_words(hl, text, ws, p.i, first, l->v + n0, l->n - n0) < 0)
            return -1;
    }
    if (hl)
        hl->nwords = p.nw;
    return 0;
}

/* The terms and matches of a window of words, kept up to date as it
 * slides: each window costs the hit words that enter and leave it. */
typedef struct window {
    int count[64]; /* words of the window that hold each term */
    int terms;     /* terms held by some word of the window */
    int hits;
} window;

/* Word X enters (DIR 1) or leaves (DIR -1) the window. */
static void window_move(window *win, const hit_word *x, int dir)
{
    uint64_t t = x->terms;

    win->hits += dir * x->hits;
    for (int bit = 0; t; bit++, t >>= 1) {
        if (!(t & 1))
            continue;
        if (dir > 0 ? win->count[bit]++ == 0 : --win->count[bit] == 0)
            win->terms += dir;
    }
}

/* First word of the best window of N words among NW (all of them when NW
 * <= N), given the NH hit words H in order: the most distinct terms, then
 * the most matches, and among the first run of windows reaching that
 * score, the middle one, so the matched words sit in the middle rather
 * than at an edge. A window's score only changes where a hit word enters
 * or leaves it, so windows are taken in runs between those. */
static int best_window(const hit_word *h, int nh, int nw, int n, int *score)
{
    window win;
    int i = 0, last = nw > n ? nw - n : 0, in = 0, out = 0;
    int best = -1, run_start = 0, run_end = 0, in_run = 0;

    memset(&win, 0, sizeof win);
    while (in < nh && h[in].index < n)
        window_move(&win, &h[in++], 1);
    while (i <= last) {
        /* windows [i, next) all score S */
        int s = win.terms * 100 + (win.hits > 99 ? 99 : win.hits), next = last + 1;
        if (out < in && h[out].index + 1 < next)
            next = h[out].index + 1;
        if (in < nh && h[in].index - n + 1 < next)
            next = h[in].index - n + 1;
        if (s > best) {
            best = s;
            run_start = i;
            run_end = next - 1;
            in_run = 1;
        } else if (s == best && in_run && run_end == i - 1) {
            run_end = next - 1;
        } else {
            in_run = 0;
        }
        i = next;
        while (out < in && h[out].index < i)
            window_move(&win, &h[out++], -1);
        while (in < nh && h[in].index < i + n)
            window_move(&win, &h[in++], 1);
    }
    *score = best < 0 ? 0 : best;
    return best <= 0 ? 0 : (run_start + run_end) / 2;
}

/* Where the word after the one at AT starts in U (LEN bytes; LEN when
 * none does). */
static int next_word_start(const unsigned char *u, int len, int at)
{
    while (at < len && !is_blank(u[at]))
        at++;
    while (at < len && is_blank(u[at]))
        at++;
    return at;
}

/* Bytes [*FROM, *TO) of TEXT: words FIRST to LAST (indexes, LAST < the
 * number of words), found from the nearest hit word of HL (or from the
 * text's start) by walking words. */
static void words_span(const char *text, int len, const hit_list *hl, int first, int last,
                       int *from, int *to)
{
    const unsigned char *u = (const unsigned char *)text;
    int k = 0, at = 0, j;

    while (at < len && is_blank(u[at]))
        at++;
    for (j = 0; j < hl->n; j++) /* the last hit word before FIRST, else the first */
        if (j == 0 || hl->v[j].index <= first) {
            k = hl->v[j].index;
            at = hl->v[j].start;
        }
    for (; k > first; k--) { /* back to the start of the word before */
        at--;
        while (at > 0 && is_blank(u[at]))
            at--;
        while (at > 0 && !is_blank(u[at - 1]))
            at--;
    }
    for (; k < first; k++)
        at = next_word_start(u, len, at);
    *from = at;
    for (; k < last; k++)
        at = next_word_start(u, len, at);
    while (at < len && !is_blank(u[at]))
        at++;
    *to = at;
}

/* Write bytes [from, to) of TEXT escaped, marking the spans. */
static void emit(pr_buf *b, const char *text, int from, int to, const span_list *l)
{
    int pos = from, k, last_space = 0;

    for (k = 0; k < l->n && pos < to; k++) {
        int s = l->v[k].start, e = l->v[k].end;
        if (e <= pos)
            continue;
        if (s >= to)
            break;
        if (s < pos)
            s = pos;
        if (e > to)
            e = to;
        pr_buf_add_html(b, text + pos, s - pos, &last_space);
        pr_buf_adds(b, "<mark>");
        pr_buf_add_html(b, text + s, e - s, &last_space);
        pr_buf_adds(b, "</mark>");
        pos = e;
    }
    if (pos < to)
        pr_buf_add_html(b, text + pos, to - pos, &last_space);
}

char *snippet_highlight(const snippet_terms *st, fr_tokenizer *tok, const char *text, int len)
{
    span_list l;
    pr_buf b;
    int from = 0, to = len;

    if (find_spans(st, tok, text, len, &l, NULL) != 0) {
        free(l.v);
        return NULL;
    }
    while (from < to && is_blank((unsigned char)text[from]))
        from++;
    while (to > from && is_blank((unsigned char)text[to - 1]))
        to--;
    pr_buf_init(&b);
    emit(&b, text, from, to, &l);
    free(l.v);
    return pr_buf_take(&b);
}

char *snippet_build(const snippet_terms *st, fr_tokenizer *tok, const char *text, int len,
                    int nwords, int *score)
{
    span_list l;
    hit_list hl = {NULL, 0, 0, 0};
    pr_buf b;
    int has_del = len > 0 && memchr(text, 0x7F, len) != NULL;
    int first, last, from, to, sc = 0;

    if (score)
        *score = 0;
    if (nwords < 1)
        nwords = 1;
    if (find_spans(st, tok, text, len, &l, has_del ? NULL : &hl) != 0 ||
        (has_del && hit_words_of(text, len, &l, &hl) != 0)) {
        free(hl.v);
        free(l.v);
        return NULL;
    }
    pr_buf_init(&b);
    if (hl.nwords > 0) {
        first = best_window(hl.v, hl.n, hl.nwords, nwords, &sc);
        last = first + nwords < hl.nwords ? first + nwords : hl.nwords;
        words_span(text, len, &hl, first, last - 1, &from, &to);
        if (first > 0)
            pr_buf_adds(&b, ELLIPSIS " ");
        emit(&b, text, from, to, &l);
        if (last < hl.nwords)
            pr_buf_adds(&b, " " ELLIPSIS);
    }
    if (score)
        *score = sc;
    free(hl.v);
    free(l.v);
    return pr_buf_take(&b);
}
