/*
 * fr_stopwords.c - the French stop words the tokenizer drops (SPEC 3.8).
 *
 * The Snowball French stop word list, in the folded form the tokenizer
 * compares (lower case, no diacritics), so "à" and "a", "où" and "ou" are
 * dropped alike. Changes for this domain:
 *   - added: "cet", "cette", "dont", "quoi" (function words Snowball's list
 *     lacks) and the elided forms jusqu, lorsqu, puisqu, quoiqu, for the
 *     rare case where they stand alone;
 *   - kept out: "été" and "sommes", also nouns a visitor may search for
 *     (the summer, sums of money); "étés" still goes: folded, it is "êtes".
 * Sorted in byte order for bsearch(); tests/test_fr_tokenizer.c checks
 * every word is found.
 */
#include <stdlib.h>
#include <string.h>

#include "fr_tokenizer.h"

static const char *const stopwords[] = {
    "a", "ai", "aie", "aient", "aies", "ait", "as", "au", "aura", "aurai",
    "auraient", "aurais", "aurait", "auras", "aurez", "auriez", "aurions",
    "aurons", "auront", "aux", "avaient", "avais", "avait", "avec", "avez",
    "aviez", "avions", "avons", "ayant", "ayante", "ayantes", "ayants",
    "ayez", "ayons", "c", "ce", "ces", "cet", "cette", "d", "dans", "de",
    "des", "dont", "du",
    "elle", "en", "es", "est", "et", "etaient", "etais", "etait", "etant",
    "etante", "etantes", "etants", "etee", "etees", "etes", "etiez",
    "etions", "eu", "eue", "eues", "eumes", "eurent", "eus", "eusse",
    "eussent", "eusses", "eussiez", "eussions", "eut", "eutes", "eux",
    "fumes", "furent", "fus", "fusse", "fussent", "fusses", "fussiez",
    "fussions", "fut", "futes", "il", "ils", "j", "je", "jusqu", "l", "la",
    "le", "les", "leur", "lorsqu", "lui", "m", "ma", "mais", "me", "meme",
    "mes", "moi", "mon", "n", "ne", "nos", "notre", "nous", "on", "ont",
    "ou", "par", "pas", "pour", "puisqu", "qu", "que", "qui", "quoi",
    "quoiqu",
    "s", "sa", "se", "sera", "serai", "seraient", "serais", "serait",
    "seras", "serez", "seriez", "serions", "serons", "seront", "ses",
    "soient", "sois", "soit", "son", "sont", "soyez", "soyons", "suis",
    "sur", "t", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos",
    "votre", "vous", "y",
};

struct key {
    const char *w;
    size_t len;
};

static int compare(const void *k, const void *elem)
{
    const struct key *key = k;
    const char *word = *(const char *const *)elem;
    size_t wlen = strlen(word);
    int c = memcmp(key->w, word, key->len < wlen ? key->len : wlen);
    if (c != 0)
        return c;
    return (key->len > wlen) - (key->len < wlen);
}

int fr_is_stopword(const char *w, int len)
{
    struct key key;
    if (w == NULL || len <= 0 || len > 16)
        return 0;
    key.w = w;
    key.len = (size_t)len;
    return bsearch(&key, stopwords, sizeof stopwords / sizeof stopwords[0],
                   sizeof stopwords[0], compare) != NULL;
}
