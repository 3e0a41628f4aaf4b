/*
 * fr_tokenizer.c - French text analysis (SPEC section 3; API in
 * fr_tokenizer.h).
 *
 * Two stages. The scanner (next_unit) cuts the input into "units": a word,
 * or a few words read as one (aujourd'hui, 3 500, E.I.G., entrepreneur.e.s),
 * with elided articles skipped; it works on the original bytes, so offsets
 * are exact, and it copies the unit's letters into a scratch buffer. The
 * analyser (unit_forms) turns a unit into its forms: the folded surface,
 * the folded stem of the lower-case word and the stem of the folded word.
 * Which forms are emitted depends on the mode (emit_unit).
 *
 * Unicode comes from utf8proc (categories, NFKC, case folding, stripping
 * marks), stems from Snowball (libstemmer); only the French rules are here.
 *
 * Prefix search (SPEC 3.9): a stem may be shorter than what a visitor types
 * ("etabliss" against the stem "etabl" of "établissement", and the stem of
 * "etabliss" is "etabliss"), so the stem of the prefix is not enough. In
 * documents each word whose folded surface form differs from its stems is
 * also indexed, colocated, as FR_SURFACE_MARK + surface ("~etablissement").
 * The mark keeps surface forms out of the stem space, so exact queries never
 * match them. A prefix token P gives P (stems starting with P), ~P (surfaces
 * starting with P) and the stems of P, all colocated: FTS5 applies a
 * prefix query's '*' to each colocated alternative. A form that starts
 * with another one is left out (emit_prefix).
 *
 * Speed: most of the cost is normalisation and stemming, and French text is
 * Zipfian, so a bounded cache maps a unit's raw bytes to its forms. No
 * allocation happens per token: all buffers live in the fr_tokenizer.
 */
#include <libstemmer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "fr_tokenizer.h"

enum {
    RAW_MAX = 256,          /* bytes of a unit analysed; longer ones are cut */
    CP_MAX = RAW_MAX * 18,  /* code points: NFKC expands 18 times at most */
    FORM_MAX = 1024,        /* bytes of one form */
    /* The cache starts small (queries, snippets: a few words; every
     * tokenizer of the daemon has one) and doubles when 3/4 full, up to
     * 65,536 slots for the indexer's threads, which see whole sites (a
     * page's 400 words met ~13% new ones with 4096 slots); then it is
     * reset when full. */
    CACHE_SLOTS_MIN = 4096, /* powers of two */
    CACHE_SLOTS_MAX = 65536,
    CACHE_POOL_PER_SLOT = 64 /* bytes of keys and forms per slot */
};

/* utf8proc options: "lower" is NFKC + case folding (what Snowball gets),
 * "fold" also strips the marks (diacritics) before composing again. */
#define LOWER_OPTIONS (UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)
#define FOLD_OPTIONS (LOWER_OPTIONS | UTF8PROC_STRIPMARK)

/* The forms of one unit. S is preceded in memory by FR_SURFACE_MARK. */
typedef struct forms {
    const char *s, *a, *b; /* fold(lower), fold(stem(lower)), stem(fold(lower)) */
    int slen, alen, blen;
    int stop;              /* a stop word (S is in the list) */
    int diacritics;        /* fold(lower) differs from lower */
} forms;

typedef struct slot {
    uint32_t hash;
    uint32_t off; /* in the pool: key, mark, s, a, b */
    uint16_t klen, slen, alen, blen;
    uint8_t flags;
} slot;

enum { SLOT_USED = 1, SLOT_STOP = 2, SLOT_DIACRITICS = 4 };

/* A unit: what becomes one token (with its colocated alternatives), with
 * its letters as the scanner copied them, the key of the cache. */
typedef struct unit {
    int s, e;          /* bytes [s, e) of the input */
    int rawlen;        /* bytes of RAW */
    int digits;        /* RAW holds a digit */
    char raw[RAW_MAX];
} unit;

struct fr_tokenizer {
    struct sb_stemmer *stemmer;
    slot *slots;
    char *pool;
    int nslots, pool_used;
    int cap, pool_cap;           /* slots, bytes of pool */
    unit unit;                   /* the unit being analysed */
    char lower[FORM_MAX];
    char surface[FORM_MAX + 1];  /* FR_SURFACE_MARK then s */
    char a[FORM_MAX], b[FORM_MAX];
    utf8proc_int32_t cps[CP_MAX];
    fr_surface_fn watch;         /* fr_tokenizer_watch_surfaces */
    void *watch_ctx;
};

/* ---------------------------------------------------------------- scanner */

enum cclass { C_SEP, C_LETTER, C_DIGIT, C_MARK, C_JOINER, C_APOS };

static enum cclass classify(utf8proc_int32_t cp)
{
    if (cp < 0)
        return C_SEP;
    if (cp < 0x80) {
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
            return C_LETTER;
        if (cp >= '0' && cp <= '9')
            return C_DIGIT;
        return cp == '\'' ? C_APOS : C_SEP;
    }
    if (cp == 0x2019 || cp == 0x02BC) /* ’ and ʼ (a letter for Unicode) */
        return C_APOS;
    /* Soft hyphen, zero-width (non-)joiner, word joiner: invisible inside a
     * word, dropped by normalisation (default ignorable). */
    if (cp == 0x00AD || cp == 0x200C || cp == 0x200D || cp == 0x2060)
        return C_JOINER;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return C_MARK; /* NFD accents belong to the word they follow */
    default:
        return C_SEP;
    }
}

/* Decode the character at POS (< LEN) into *CP and return its length; an
 * invalid byte reads as a one-byte separator (*CP = -1). */
static int decode(const char *text, int len, int pos, utf8proc_int32_t *cp)
{
    unsigned char c = (unsigned char)text[pos];
    utf8proc_ssize_t n;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    n = utf8proc_iterate((const utf8proc_uint8_t *)text + pos, len - pos, cp);
    if (n <= 0) {
        *cp = -1;
        return 1;
    }
    return (int)n;
}

static enum cclass class_at(const char *text, int len, int pos)
{
    utf8proc_int32_t cp;
    if (pos >= len)
        return C_SEP;
    decode(text, len, pos, &cp);
    return classify(cp);
}

/* A run of letters, digits and marks: the scanner's word. */
typedef struct word {
    int s, e;            /* bytes [s, e) of the input */
    int nchars;          /* letters and digits in it */
    unsigned letters : 1, digits : 1, upper : 1, lower : 1, ascii : 1;
} word;

/* Read the word starting at POS, which holds a letter or a digit. Runs of
 * ASCII go through fr_ascii_kind; what they were is or-ed into one mask,
 * stored in W at the end. */
static void scan_word(const char *text, int len, int pos, word *w)
{
    const unsigned char *u = (const unsigned char *)text;
    unsigned kinds = 0, k, ascii = 1;
    int nchars = 0;

    w->s = pos;
    for (;;) {
        utf8proc_int32_t cp;
        int run = pos, n;
        enum cclass c;
        while (pos < len && u[pos] < 0x80 && (k = fr_ascii_kind[u[pos]]) != 0) {
            kinds |= k;
            pos++;
        }
        nchars += pos - run;
        if (pos >= len || u[pos] < 0x80)
            break; /* the end, a separator or an apostrophe */
        if (fr_latin1_letter(u, pos, len)) {
            /* what classify() and their case say of them */
            kinds |= FR_K_LETTER | (u[pos + 1] < 0x9F ? FR_K_UPPER : FR_K_LOWER);
            ascii = 0;
            nchars++;
            pos += 2;
            continue;
        }
        n = decode(text, len, pos, &cp);
        c = classify(cp);
        if (c == C_LETTER) {
            utf8proc_category_t cat = utf8proc_category(cp);
            kinds |= FR_K_LETTER;
            if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT)
                kinds |= FR_K_UPPER;
            else if (cat == UTF8PROC_CATEGORY_LL)
                kinds |= FR_K_LOWER;
            nchars++;
        } else if (c == C_DIGIT) {
            kinds |= FR_K_DIGIT;
            nchars++;
        } else if (c == C_JOINER) {
            enum cclass next = class_at(text, len, pos + n);
            if (next != C_LETTER && next != C_DIGIT && next != C_MARK)
                break;
        } else if (c != C_MARK) {
            break;
        }
        ascii = 0;
        pos += n;
    }
    w->e = pos;
    w->nchars = nchars;
    w->letters = (kinds & FR_K_LETTER) != 0;
    w->digits = (kinds & FR_K_DIGIT) != 0;
    w->upper = (kinds & FR_K_UPPER) != 0;
    w->lower = (kinds & FR_K_LOWER) != 0;
    w->ascii = ascii;
}

/* The first word at or after POS; 0 when there is none. */
static int next_word(const char *text, int len, int pos, word *w)
{
    while (pos < len) {
        utf8proc_int32_t cp;
        unsigned char b = (unsigned char)text[pos];
        int n;
        enum cclass c;
        if (b < 0x80 && !fr_ascii_kind[b]) {
            pos++; /* ASCII that is no letter nor digit */
            continue;
        }
        if (b < 0x80 || fr_latin1_letter((const unsigned char *)text, pos, len)) {
            scan_word(text, len, pos, w);
            return 1;
        }
        n = decode(text, len, pos, &cp);
        c = classify(cp);
        if (c == C_LETTER || c == C_DIGIT) {
            scan_word(text, len, pos, w);
            return 1;
        }
        pos += n;
    }
    return 0;
}

/* The word starting exactly at POS, if one does. */
static int word_at(const char *text, int len, int pos, word *w)
{
    enum cclass c = class_at(text, len, pos);
    if (c != C_LETTER && c != C_DIGIT)
        return 0;
    scan_word(text, len, pos, w);
    return 1;
}

/* An apostrophe at POS followed by a letter; *AFTER is where the letter is. */
static int apostrophe_letter(const char *text, int len, int pos, int *after)
{
    utf8proc_int32_t cp;
    int n;
    if (pos >= len)
        return 0;
    n = decode(text, len, pos, &cp);
    if (classify(cp) != C_APOS || class_at(text, len, pos + n) != C_LETTER)
        return 0;
    *after = pos + n;
    return 1;
}

static int ascii_in(const char *s, int len, const char *const *list)
{
    for (; *list; list++)
        if ((int)strlen(*list) == len && strncasecmp(s, *list, (size_t)len) == 0)
            return 1;
    return 0;
}

/* Elided articles and pronouns (SPEC 3.2): dropped before a letter. */
static const char *const elided[] = {
    "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", NULL
};

/* Words that keep their apostrophe: read as one word without it. */
static const char *const apostrophe_words[] = { "aujourd", "prud", NULL };

/* ----------------------------------------------------------------- units */

/* Append the bytes of W to U's letters, cut at a character boundary if
 * full. */
static void raw_append(unit *u, const char *text, const word *w)
{
    int n = w->e - w->s;
    if (n > RAW_MAX - u->rawlen) {
        n = RAW_MAX - u->rawlen;
        while (n > 0 && ((unsigned char)text[w->s + n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(u->raw + u->rawlen, text + w->s, (size_t)n);
    u->rawlen += n;
    u->digits |= w->digits;
}

/* aujourd'hui, prud'hommes: one word (AFTER: where the letter after its
 * apostrophe is). */
static int join_apostrophe(fr_tokenizer *t, const char *text, int len, const word *w, int after,
                           unit *u)
{
    word next;
    if (!ascii_in(text + w->s, w->e - w->s, apostrophe_words) ||
        !word_at(text, len, after, &next))
        return 0;
    raw_append(u, text, &next);
    u->e = next.e;
    return 1;
}

/* E.I.G. -> eig: single letters joined by dots (at least two). */
static int join_acronym(fr_tokenizer *t, const char *text, int len, const word *w, unit *u)
{
    word cur = *w, next;
    int joined = 0;
    if (w->nchars != 1 || !w->letters)
        return 0;
    while (cur.e < len && text[cur.e] == '.' && word_at(text, len, cur.e + 1, &next) &&
           next.nchars == 1 && next.letters) {
        raw_append(u, text, &next);
        cur = next;
        joined = 1;
    }
    u->e = cur.e;
    return joined;
}

static int thousands_space(utf8proc_int32_t cp)
{
    return cp == ' ' || cp == 0x00A0 || cp == 0x202F || cp == 0x2009;
}

/* 3 500, 1 200 000 -> 3500, 1200000: a group of one to three digits, then
 * groups of exactly three after a (no-break, thin) space. */
static int join_thousands(fr_tokenizer *t, const char *text, int len, const word *w, unit *u)
{
    word cur = *w, next;
    int joined = 0;
    if (w->letters || !w->ascii || w->nchars > 3)
        return 0;
    while (cur.e < len) {
        utf8proc_int32_t cp;
        int n = decode(text, len, cur.e, &cp);
        if (!thousands_space(cp) || !word_at(text, len, cur.e + n, &next) ||
            next.letters || !next.ascii || next.nchars != 3)
            break;
        raw_append(u, text, &next);
        cur = next;
        joined = 1;
    }
    u->e = cur.e;
    return joined;
}

/* Separators of inclusive writing besides '.': · ‧ ⋅ • ⸱ */
static int is_middle_dot(utf8proc_int32_t cp)
{
    return cp == 0x00B7 || cp == 0x2027 || cp == 0x22C5 || cp == 0x2022 || cp == 0x2E31;
}

static int fold_into(fr_tokenizer *t, const char *src, int len, char *dst, int cap);

/* Feminine and plural endings of inclusive writing, folded. */
static const char *const inclusive_endings[] = {
    "e", "es", "s", "ne", "nes", "le", "les", "lle", "lles", "te", "tes", "se", "ses",
    "fe", "fes", "ve", "ves", "ice", "ices", "rice", "rices", "trice", "trices",
    "euse", "euses", "ere", "eres", "iere", "ieres", "eure", "eures", "esse", "esses",
    "elle", "elles", NULL
};

/* Is S an ending of inclusive writing after W? After a '.', it must be in
 * lower case (or W and S both in upper case), so that "dit.Le" stays two
 * words. */
static int inclusive_ending(fr_tokenizer *t, const char *text, const word *w, const word *s,
                            int after_dot)
{
    char folded[32];
    int n;
    if (s->digits || s->nchars > 6)
        return 0;
    if (after_dot && s->upper && !(s->upper && !s->lower && w->upper && !w->lower))
        return 0;
    n = fold_into(t, text + s->s, s->e - s->s, folded, (int)sizeof folded);
    return n > 0 && ascii_in(folded, n, inclusive_endings);
}

/* entrepreneur.e.s, salarié·es, Futur.e.s -> the base word (SPEC 3.6). A
 * dotted chain that goes on with another word is a domain name
 * (beta.gouv.fr, foo.es.fr) and is left alone, as is a word that comes
 * after a dot itself (www.site.es). */
static int read_inclusive(fr_tokenizer *t, const char *text, int len, const word *w, unit *u)
{
    int p = w->e, dots = 0, endings = 0;
    int after_dot = w->s > 0 && text[w->s - 1] == '.';
    word s;
    if (w->digits || w->nchars < 2)
        return 0;
    while (p < len) {
        utf8proc_int32_t cp;
        int n = decode(text, len, p, &cp);
        int dot = cp == '.';
        if ((!dot && !is_middle_dot(cp)) || (dot && after_dot) ||
            !word_at(text, len, p + n, &s) || !inclusive_ending(t, text, w, &s, dot))
            break;
        dots |= dot;
        endings++;
        p = s.e;
    }
    if (endings == 0)
        return 0;
    if (dots && p + 1 < len && text[p] == '.' && class_at(text, len, p + 1) == C_LETTER)
        return 0;
    u->e = p;
    return 1;
}

/* The next unit at or after *POS; 0 at the end of the text. Elided
 * articles are skipped here. */
static int next_unit(fr_tokenizer *t, const char *text, int len, int *pos, unit *u)
{
    word w;
    while (next_word(text, len, *pos, &w)) {
        int after = 0;
        /* most words end at ASCII other than an apostrophe */
        int apos = w.e < len && ((unsigned char)text[w.e] >= 0x80 || text[w.e] == '\'') &&
                   apostrophe_letter(text, len, w.e, &after);
        if (apos && ascii_in(text + w.s, w.e - w.s, elided)) {
            *pos = after;
            continue;
        }
        u->rawlen = 0;
        u->digits = 0;
        raw_append(u, text, &w);
        u->s = w.s;
        u->e = w.e;
        if (!(apos && join_apostrophe(t, text, len, &w, after, u)) &&
            !join_acronym(t, text, len, &w, u) &&
            !join_thousands(t, text, len, &w, u) && !read_inclusive(t, text, len, &w, u))
            u->e = w.e;
        *pos = u->e;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ normalising */

/* Letters that Unicode does not decompose but French readers fold. */
static int expand_letter(utf8proc_int32_t cp, utf8proc_int32_t out[2])
{
    switch (cp) {
    case 0x0153: out[0] = 'o'; out[1] = 'e'; return 2; /* œ */
    case 0x00E6: out[0] = 'a'; out[1] = 'e'; return 2; /* æ */
    case 0x00F8: out[0] = 'o'; return 1;               /* ø */
    case 0x0142: out[0] = 'l'; return 1;               /* ł */
    case 0x0111: out[0] = 'd'; return 1;               /* đ */
    case 0x0131: out[0] = 'i'; return 1;               /* ı */
    default: out[0] = cp; return 1;
    }
}

/* Normalise valid UTF-8 SRC with utf8proc OPTIONS (folding œ, æ... too when
 * FOLD) into CPS, which holds CAP code points; returns the number of bytes
 * of UTF-8 left at the start of CPS, or -1 when CAP is too small. */
static int normalise(const char *src, int len, utf8proc_int32_t *cps, int cap,
                     utf8proc_option_t options, int fold)
{
    utf8proc_ssize_t n = utf8proc_decompose((const utf8proc_uint8_t *)src, len, cps, cap, options);
    if (n < 0 || n > cap)
        return -1;
    if (fold) {
        utf8proc_ssize_t extra = 0, i, j;
        for (i = 0; i < n; i++)
            extra += cps[i] == 0x0153 || cps[i] == 0x00E6;
        if (n + extra > cap)
            return -1;
        for (i = n - 1, j = n + extra - 1; i >= 0; i--) {
            utf8proc_int32_t out[2];
            int k = expand_letter(cps[i], out);
            while (k > 0)
                cps[j--] = out[--k];
        }
        n += extra;
    }
    n = utf8proc_reencode(cps, n, options);
    return n < 0 ? -1 : (int)n;
}

/* Folded forms of U+00C0..U+00FF; NULL where utf8proc must decide (Ð Þ ß
 * × ÷ ð þ: no plain-letter fold, or a case fold that changes length). */
static const char *const latin1_fold[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    NULL, "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", NULL, NULL,
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    NULL, "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", NULL, "y",
};

/* U+00A0..U+00BF as NFKC + case fold + mark stripping leave them: NBSP
 * becomes a space, the soft hyphen vanishes, the signs below stay; NULL for
 * the others (ª ² µ ¼ ¨ ´ ...: compatibility forms), which utf8proc does. */
static const char *latin1_sign(unsigned cp, char two[2])
{
    static const char keep[] = "\xA1\xA2\xA3\xA4\xA5\xA6\xA7\xA9\xAB\xAC\xAE\xB0\xB1\xB6\xB7\xBB\xBF";

    if (cp == 0xA0) {
        two[0] = ' ';
        return two;
    }
    if (cp == 0xAD)
        return "";
    if (!strchr(keep, (int)cp))
        return NULL;
    two[0] = (char)0xC2;
    two[1] = (char)cp;
    return two;
}

/* The three-byte punctuation of French text (E2 80 xx, E2 82 AC): ’ ‘ “ ”
 * – — € kept, the narrow no-break space made a space, … spelled "...".
 * Returns the bytes of *REP, or -1 for anything else. */
static int french_punct(const unsigned char *u, const char **rep)
{
    static const char *const kept[] = {
        "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x98", "\xE2\x80\x99",
        "\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x82\xAC", NULL};

    if (u[1] == 0x80 && u[2] == 0xAF) {
        *rep = " ";
        return 1;
    }
    if (u[1] == 0x80 && u[2] == 0xA6) {
        *rep = "...";
        return 3;
    }
    for (int k = 0; kept[k]; k++)
        if (memcmp(u, kept[k], 3) == 0) {
            *rep = kept[k];
            return 3;
        }
    return -1;
}

/*
 * The common case by hand: text made of ASCII, Latin-1 letters and œ/Œ
 * (nearly all French) is lower-cased (FOLD = 0) or folded (FOLD = 1) here,
 * without utf8proc's decompose/recompose round trip, which dominated the
 * cost of snippets and duplicate keys. Gives exactly what normalise() gives
 * for such text; returns the bytes written to DST (CAP bytes), or -1 when
 * SRC holds anything else, and then the caller asks utf8proc.
 */
static int latin_fast(const char *src, int len, char *dst, int cap, int fold)
{
    const unsigned char *u = (const unsigned char *)src;
    int i = 0, n = 0;

    while (i < len) {
        const char *rep;
        char two[2];
        unsigned cp;
        int k;

        if (u[i] < 0x80) {
            if (n >= cap)
                return -1;
            dst[n++] = (char)(u[i] >= 'A' && u[i] <= 'Z' ? u[i] + 32 : u[i]);
            i++;
            continue;
        }
        if (u[i] == 0xE2 && i + 2 < len) {
            /* French punctuation that NFKC leaves alone or makes ASCII. */
            k = french_punct(u + i, &rep);
            if (k < 0)
                return -1;
            if (n + k > cap)
                return -1;
            memcpy(dst + n, rep, (size_t)k);
            n += k;
            i += 3;
            continue;
        }
        if (i + 1 >= len || (u[i] & 0xE0) != 0xC0 || (u[i + 1] & 0xC0) != 0x80)
            return -1;
        cp = ((unsigned)(u[i] & 0x1F) << 6) | (u[i + 1] & 0x3F);
        if (cp >= 0xA0 && cp < 0xC0) {
            rep = latin1_sign(cp, two);
            if (!rep)
                return -1;
        } else if (cp == 0x152 || cp == 0x153) {
            rep = fold ? "oe" : "\xC5\x93";
        } else if (cp >= 0xC0 && cp <= 0xFF && latin1_fold[cp - 0xC0]) {
            if (fold) {
                rep = latin1_fold[cp - 0xC0];
            } else {
                unsigned lc = cp <= 0xDE ? cp + 0x20 : cp;
                two[0] = (char)(0xC0 | (lc >> 6));
                two[1] = (char)(0x80 | (lc & 0x3F));
                rep = two;
            }
        } else {
            return -1;
        }
        k = rep == two ? (cp == 0xA0 ? 1 : 2) : (int)strlen(rep);
        if (n + k > cap)
            return -1;
        memcpy(dst + n, rep, (size_t)k);
        n += k;
        i += 2;
    }
    return n;
}

/* Copy N bytes of UTF-8 to DST (CAP bytes), cut at a character boundary. */
static int copy_cut(char *dst, int cap, const char *src, int n)
{
    if (n > cap) {
        n = cap;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, (size_t)n);
    return n;
}

/* Fold valid UTF-8 SRC into DST (CAP bytes): lower case, no diacritics. */
static int fold_into(fr_tokenizer *t, const char *src, int len, char *dst, int cap)
{
    int n = latin_fast(src, len, dst, cap, 1);
    if (n >= 0)
        return n;
    n = normalise(src, len, t->cps, CP_MAX, FOLD_OPTIONS, 1);
    return n < 0 ? 0 : copy_cut(dst, cap, (const char *)t->cps, n);
}

/* The lower-case (NFKC, case-folded) form of U's letters into t->lower. */
static int lower_raw(fr_tokenizer *t, const unit *u)
{
    int n = latin_fast(u->raw, u->rawlen, t->lower, FORM_MAX, 0);
    if (n >= 0)
        return n;
    n = normalise(u->raw, u->rawlen, t->cps, CP_MAX, LOWER_OPTIONS, 0);
    return n < 0 ? 0 : copy_cut(t->lower, FORM_MAX, (const char *)t->cps, n);
}

/* 5e 5ème 5eme 5E 5è 2nd -> 5e, 2e; 1er 1re 1ère -> 1er (SPEC 3.7). S is
 * folded; returns its new length. */
static int ordinal(char *s, int len)
{
    static const char *const nth[] = { "e", "eme", "ieme", "nd", "nde", NULL };
    static const char *const first[] = { "er", "re", "ere", NULL };
    int d = 0;
    while (d < len && s[d] >= '0' && s[d] <= '9')
        d++;
    if (d == 0 || d == len)
        return len;
    if (ascii_in(s + d, len - d, nth)) {
        s[d] = 'e';
        return d + 1;
    }
    if (ascii_in(s + d, len - d, first)) {
        memcpy(s + d, "er", 2);
        return d + 2;
    }
    return len;
}

/* Stem LOWER (N bytes) into DST (FORM_MAX bytes), folded when FOLD.
 * Returns the length, or -1 when out of memory. */
static int stem_into(fr_tokenizer *t, const char *lower, int n, char *dst, int fold)
{
    const sb_symbol *st = sb_stemmer_stem(t->stemmer, (const sb_symbol *)lower, n);
    int len;
    if (st == NULL)
        return -1;
    len = sb_stemmer_length(t->stemmer);
    if (fold)
        return fold_into(t, (const char *)st, len, dst, FORM_MAX);
    return copy_cut(dst, FORM_MAX, (const char *)st, len);
}

/* Analyse U into F (pointing into t's buffers); -1 when out of memory. */
static int unit_forms(fr_tokenizer *t, const unit *u, forms *f)
{
    int llen = lower_raw(t, u);
    char *s = t->surface + 1;
    int slen = fold_into(t, t->lower, llen, s, FORM_MAX);
    memset(f, 0, sizeof *f);
    t->surface[0] = FR_SURFACE_MARK;
    f->s = s;
    f->slen = slen;
    if (u->digits) {
        /* numbers, ordinals and codes (covid19, FAST8) are not stemmed */
        f->slen = ordinal(s, slen);
        f->a = f->b = s;
        f->alen = f->blen = f->slen;
        return 0;
    }
    f->stop = fr_is_stopword(s, slen);
    f->diacritics = slen != llen || memcmp(s, t->lower, (size_t)slen) != 0;
    f->a = t->a;
    f->alen = stem_into(t, t->lower, llen, t->a, 1);
    if (f->alen < 0)
        return -1;
    if (f->alen == 0) { /* never seen; an empty token would upset FTS5 */
        f->a = s;
        f->alen = slen;
    }
    if (!f->diacritics) {
        f->b = f->a;
        f->blen = f->alen;
        return 0;
    }
    f->b = t->b;
    f->blen = stem_into(t, s, slen, t->b, 0);
    if (f->blen == 0) {
        f->b = f->a;
        f->blen = f->alen;
    }
    return f->blen < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ cache */

static void cache_reset(fr_tokenizer *t)
{
    memset(t->slots, 0, sizeof(slot) * (size_t)t->cap);
    t->nslots = 0;
    t->pool_used = 0;
}

static slot *next_slot(const fr_tokenizer *t, slot *sl)
{
    return sl + 1 == t->slots + t->cap ? t->slots : sl + 1;
}

/* Double the cache, keeping its entries; -1 at the largest size or when
 * out of memory (the caller resets it instead). */
static int cache_grow(fr_tokenizer *t)
{
    int cap = t->cap * 2, i;
    slot *old = t->slots, *v;
    char *pool;

    if (cap > CACHE_SLOTS_MAX || !(v = calloc((size_t)cap, sizeof *v)))
        return -1;
    pool = realloc(t->pool, (size_t)cap * CACHE_POOL_PER_SLOT);
    if (!pool) {
        free(v);
        return -1;
    }
    t->pool = pool;
    t->pool_cap = cap * CACHE_POOL_PER_SLOT;
    t->slots = v;
    t->cap = cap;
    for (i = 0; i < cap / 2; i++) {
        slot *sl;
        if (!(old[i].flags & SLOT_USED))
            continue;
        for (sl = &v[old[i].hash & (uint32_t)(cap - 1)]; sl->flags & SLOT_USED;)
            sl = next_slot(t, sl);
        *sl = old[i];
    }
    free(old);
    return 0;
}

static void slot_forms(const fr_tokenizer *t, const slot *sl, forms *f)
{
    const char *p = t->pool + sl->off + sl->klen + 1;
    f->s = p;
    f->slen = sl->slen;
    f->a = p + sl->slen;
    f->alen = sl->alen;
    f->b = f->a + sl->alen;
    f->blen = sl->blen;
    f->stop = (sl->flags & SLOT_STOP) != 0;
    f->diacritics = (sl->flags & SLOT_DIACRITICS) != 0;
}

/* Store F under U's letters in slot SL, resetting the cache when it is
 * full; F then points into the pool. */
static void cache_store(fr_tokenizer *t, const unit *u, uint32_t h, slot *sl, forms *f)
{
    int need = u->rawlen + 1 + f->slen + f->alen + f->blen;
    char *p;
    if (t->nslots >= t->cap / 4 * 3 || t->pool_used + need > t->pool_cap) {
        if (cache_grow(t) != 0)
            cache_reset(t);
        for (sl = &t->slots[h & (uint32_t)(t->cap - 1)]; sl->flags & SLOT_USED;)
            sl = next_slot(t, sl);
    }
    p = t->pool + t->pool_used;
    memcpy(p, u->raw, (size_t)u->rawlen);
    p[u->rawlen] = FR_SURFACE_MARK;
    memcpy(p + u->rawlen + 1, f->s, (size_t)f->slen);
    memcpy(p + u->rawlen + 1 + f->slen, f->a, (size_t)f->alen);
    memcpy(p + u->rawlen + 1 + f->slen + f->alen, f->b, (size_t)f->blen);
    sl->hash = h;
    sl->off = (uint32_t)t->pool_used;
    sl->klen = (uint16_t)u->rawlen;
    sl->slen = (uint16_t)f->slen;
    sl->alen = (uint16_t)f->alen;
    sl->blen = (uint16_t)f->blen;
    sl->flags = SLOT_USED | (f->stop ? SLOT_STOP : 0) | (f->diacritics ? SLOT_DIACRITICS : 0);
    t->pool_used += need;
    t->nslots++;
    slot_forms(t, sl, f);
}

static int same(const char *x, int xlen, const char *y, int ylen);

/* F for the watcher when emit_unit() gives it a surface token in
 * FR_MODE_DOCUMENT (not when the surface equals a stem). */
static int watch_forms(fr_tokenizer *t, const forms *f)
{
    if (!t->watch || f->stop || f->slen == 0 || same(f->s, f->slen, f->a, f->alen) ||
        same(f->s, f->slen, f->b, f->blen))
        return 0;
    return t->watch(t->watch_ctx, f->s, f->slen, f->a, f->alen, f->b, f->blen) != 0 ? -1 : 0;
}

/* The forms of U, from the cache or computed; -1 when out of memory. */
static int lookup(fr_tokenizer *t, const unit *u, forms *f)
{
    uint32_t h = (uint32_t)fr_hash_bytes(u->raw, u->rawlen);
    slot *sl = &t->slots[h & (uint32_t)(t->cap - 1)];
    while (sl->flags & SLOT_USED) {
        if (sl->hash == h && sl->klen == u->rawlen &&
            memcmp(t->pool + sl->off, u->raw, (size_t)u->rawlen) == 0) {
            slot_forms(t, sl, f);
            return 0;
        }
        sl = next_slot(t, sl);
    }
    if (unit_forms(t, u, f) < 0 || watch_forms(t, f) < 0)
        return -1;
    cache_store(t, u, h, sl, f);
    return 0;
}

/* --------------------------------------------------------------- emitting */

static int same(const char *x, int xlen, const char *y, int ylen)
{
    return xlen == ylen && memcmp(x, y, (size_t)xlen) == 0;
}

/* Does X start with Y (Y no longer than X)? */
static int starts_with(const char *x, int xlen, const char *y, int ylen)
{
    return ylen <= xlen && memcmp(x, y, (size_t)ylen) == 0;
}

/*
 * A prefix: its folded surface S, its stems A and B (each with FTS5's '*'
 * after it), and ~S for the surfaces. A form another one starts with adds
 * nothing ("numer" * finds every word "numeri" * finds): it is left out,
 * which gives FTS5 one prefix list fewer to merge and to walk on every
 * row, for the same rows at the same positions (numéri* at 100k pages:
 * 3 lists to 2). The first form is emitted plain, the others colocated.
 */
static int emit_prefix(const forms *f, int stems_only, int s, int e, fr_token_fn fn, void *ctx)
{
    const char *v[3] = {f->s, f->a, f->b};
    int len[3] = {f->slen, f->alen, f->blen}, i, j, covered, n = 0, rc = 0;

    for (i = 0; i < 3 && rc == 0; i++) {
        if (len[i] == 0)
            continue;
        for (covered = 0, j = 0; j < 3 && !covered; j++)
            covered = j != i && len[j] > 0 && starts_with(v[i], len[i], v[j], len[j]) &&
                      (len[j] < len[i] || j < i); /* of equal forms the first stays */
        if (!covered)
            rc = fn(ctx, n++ ? FR_TOKEN_COLOCATED : 0, v[i], len[i], s, e);
    }
    if (rc == 0 && !stems_only)
        rc = fn(ctx, n ? FR_TOKEN_COLOCATED : 0, f->s - 1, f->slen + 1, s, e);
    return rc;
}

/* Emit the tokens of one unit spanning [S, E) in MODE (SPEC 3.4, 3.9). */
static int emit_unit(fr_mode mode, const forms *f, int s, int e, fr_token_fn fn, void *ctx)
{
    int rc;
    const int col = FR_TOKEN_COLOCATED;
    if (mode == FR_MODE_QUERY) {
        if (f->stop)
            return 0;
        return f->diacritics ? fn(ctx, 0, f->a, f->alen, s, e) : fn(ctx, 0, f->b, f->blen, s, e);
    }
    if (mode == FR_MODE_PREFIX || mode == FR_MODE_PREFIX_STEMS)
        return emit_prefix(f, mode == FR_MODE_PREFIX_STEMS, s, e, fn, ctx);
    if (f->stop)
        return 0;
    rc = fn(ctx, 0, f->a, f->alen, s, e);
    if (rc == 0 && !same(f->b, f->blen, f->a, f->alen))
        rc = fn(ctx, col, f->b, f->blen, s, e);
    if (rc == 0 && !same(f->s, f->slen, f->a, f->alen) && !same(f->s, f->slen, f->b, f->blen))
        rc = fn(ctx, col, f->s - 1, f->slen + 1, s, e);
    return rc;
}

/* ------------------------------------------------------------- public API */

fr_tokenizer *fr_tokenizer_new(void)
{
    fr_tokenizer *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->stemmer = sb_stemmer_new("french", NULL);
    t->cap = CACHE_SLOTS_MIN;
    t->pool_cap = CACHE_SLOTS_MIN * CACHE_POOL_PER_SLOT;
    t->slots = calloc((size_t)t->cap, sizeof(slot));
    t->pool = malloc((size_t)t->pool_cap);
    if (t->stemmer == NULL || t->slots == NULL || t->pool == NULL) {
        fr_tokenizer_free(t);
        return NULL;
    }
    return t;
}

void fr_tokenizer_watch_surfaces(fr_tokenizer *t, fr_surface_fn fn, void *ctx)
{
    t->watch = fn;
    t->watch_ctx = ctx;
}

void fr_tokenizer_free(fr_tokenizer *t)
{
    if (t == NULL)
        return;
    if (t->stemmer != NULL)
        sb_stemmer_delete(t->stemmer);
    free(t->slots);
    free(t->pool);
    free(t);
}

int fr_tokenize(fr_tokenizer *t, fr_mode mode, const char *text, int len,
                fr_token_fn fn, void *ctx)
{
    int pos = 0, last = -1, rc = 0;
    unit *u;
    if (t == NULL || fn == NULL)
        return -1;
    if (text == NULL || len <= 0)
        return 0;
    u = &t->unit;
    /* FTS5 tokenizes a whole phrase in prefix mode ("talents du num"*), but
     * only its last word is a prefix: the others are read as a query. */
    if (mode == FR_MODE_PREFIX || mode == FR_MODE_PREFIX_STEMS) {
        while (next_unit(t, text, len, &pos, u))
            last = u->s;
        pos = 0;
    }
    while (rc == 0 && next_unit(t, text, len, &pos, u)) {
        forms f;
        fr_mode m = mode >= FR_MODE_PREFIX && u->s != last ? FR_MODE_QUERY : mode;
        if (lookup(t, u, &f) < 0)
            return -1;
        if (f.slen > 0)
            rc = emit_unit(m, &f, u->s, u->e, fn, ctx);
    }
    return rc;
}

char *fr_fold(const char *text, int len)
{
    utf8proc_ssize_t n;
    utf8proc_int32_t *cps;
    char *clean;
    int i, j, r;
    if (text == NULL || len < 0)
        len = 0;
    /* Invalid bytes are dropped first: utf8proc refuses them. */
    clean = malloc((size_t)len + 1);
    if (clean == NULL)
        return NULL;
    r = latin_fast(text, len, clean, len, 1);
    if (r >= 0) {
        clean[r] = '\0';
        return clean;
    }
    for (i = j = 0; i < len;) {
        utf8proc_int32_t cp;
        int k = decode(text, len, i, &cp);
        if (cp >= 0) {
            memcpy(clean + j, text + i, (size_t)k);
            j += k;
        }
        i += k;
    }
    n = utf8proc_decompose((const utf8proc_uint8_t *)clean, j, NULL, 0, FOLD_OPTIONS);
    if (n < 0)
        n = 0;
    cps = malloc(sizeof *cps * (size_t)(2 * n + 1));
    if (cps == NULL) {
        free(clean);
        return NULL;
    }
    r = normalise(clean, j, cps, (int)(2 * n + 1), FOLD_OPTIONS, 1);
    free(clean);
    if (r < 0)
        r = 0;
    ((char *)cps)[r] = '\0';
    return (char *)cps;
}
