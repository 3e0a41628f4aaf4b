/*
 * fuzz_tokenizer.c - libFuzzer harness for the French tokenizer
 * (lib/fr_tokenizer.c, lib/fr_stopwords.c).
 *
 * The bytes are text; fr_tokenize() runs on them in the four modes
 * (document, query, prefix, prefix without surface forms), and fr_fold()
 * once. Properties checked on every token, beyond memory safety:
 *  - 0 <= start <= end <= len, starts and ends never decrease;
 *  - the token is non-empty, holds no NUL byte and is valid UTF-8;
 *  - the first token is not flagged colocated (nothing to stand beside);
 *  - FR_SURFACE_MARK starts only colocated document tokens and prefix
 *    tokens (query and prefix-stems tokens never start with it, so exact
 *    queries never meet surface forms);
 *  - a second pass over the same text (now served by the stem cache) gives
 *    exactly the same tokens;
 *  - a callback returning non-zero stops the run and fr_tokenize() returns
 *    that value.
 * fr_fold()'s output must be valid UTF-8 with no NUL before its end.
 * A fresh tokenizer per input keeps every crash reproducible from its file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fr_tokenizer.h"
#include "fuzz_common.h"

typedef struct run {
    fr_mode mode;
    int len;          /* of the input */
    int n;            /* tokens seen */
    int last_start, last_end;
    uint64_t hash;    /* of the token stream, to compare two passes */
    int stop_at;      /* return 7 at this token (0: never) */
} run;

static const char *mode_name(fr_mode m)
{
    return m == FR_MODE_DOCUMENT ? "document"
           : m == FR_MODE_QUERY  ? "query"
           : m == FR_MODE_PREFIX ? "prefix"
                                 : "prefix-stems";
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static int on_token(void *ctx, int flags, const char *token, int len, int start, int end)
{
    run *r = ctx;
    const char *m = mode_name(r->mode);
    FZ_CHECK(len > 0, "%s mode: empty token at %d-%d", m, start, end);
    FZ_CHECK(token != NULL, "%s mode: NULL token", m);
    FZ_CHECK(memchr(token, '\0', (size_t)len) == NULL, "%s mode: NUL inside token at %d-%d", m,
             start, end);
    FZ_CHECK(fz_utf8_valid(token, (size_t)len), "%s mode: token \"%.*s\" at %d-%d is not UTF-8",
             m, len, token, start, end);
    FZ_CHECK(start >= 0 && end <= r->len && start <= end,
             "%s mode: token \"%.*s\" offsets %d-%d outside the input (0-%d)", m, len, token,
             start, end, r->len);
    FZ_CHECK(start >= r->last_start, "%s mode: token \"%.*s\" starts at %d, before %d", m, len,
             token, start, r->last_start);
    FZ_CHECK(end >= r->last_end, "%s mode: token \"%.*s\" ends at %d, before %d", m, len, token,
             end, r->last_end);
    FZ_CHECK(r->n > 0 || !(flags & FR_TOKEN_COLOCATED),
             "%s mode: first token \"%.*s\" is colocated", m, len, token);
    if (token[0] == FR_SURFACE_MARK) {
        FZ_CHECK(r->mode != FR_MODE_QUERY, "query mode: token \"%.*s\" starts with the surface mark",
                 len, token);
        FZ_CHECK(r->mode != FR_MODE_PREFIX_STEMS,
                 "prefix-stems mode: token \"%.*s\" starts with the surface mark", len, token);
        FZ_CHECK(r->mode != FR_MODE_DOCUMENT || (flags & FR_TOKEN_COLOCATED),
                 "document mode: surface token \"%.*s\" is not colocated", len, token);
    }
    r->n++;
    r->last_start = start;
    r->last_end = end;
    r->hash = mix(r->hash, &flags, sizeof flags);
    r->hash = mix(r->hash, token, (size_t)len);
    r->hash = mix(r->hash, &start, sizeof start);
    r->hash = mix(r->hash, &end, sizeof end);
    if (r->stop_at && r->n == r->stop_at)
        return 7;
    return 0;
}

static run tokenize(fr_tokenizer *t, fr_mode mode, const char *s, int len, int stop_at)
{
    run r;
    int rc;
    memset(&r, 0, sizeof r);
    r.mode = mode;
    r.len = len;
    r.hash = 1469598103934665603ULL;
    r.stop_at = stop_at;
    rc = fr_tokenize(t, mode, s, len, on_token, &r);
    if (stop_at && r.n == stop_at)
        FZ_CHECK(rc == 7, "%s mode: the callback stopped the run but fr_tokenize returned %d",
                 mode_name(mode), rc);
    else
        FZ_CHECK(rc == 0, "%s mode: fr_tokenize returned %d", mode_name(mode), rc);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    int len;
    fr_tokenizer *t;
    char *folded;
    if (size > 1 << 20)
        return 0;
    len = (int)size;
    s = malloc(size ? size : 1);
    t = fr_tokenizer_new();
    if (!s || !t) {
        free(s);
        fr_tokenizer_free(t);
        return 0;
    }
    memcpy(s, data, size);
    for (int m = FR_MODE_DOCUMENT; m <= FR_MODE_PREFIX_STEMS; m++) {
        run a = tokenize(t, (fr_mode)m, s, len, 0);
        run b = tokenize(t, (fr_mode)m, s, len, 0);
        FZ_CHECK(a.n == b.n && a.hash == b.hash,
                 "%s mode: a second pass gives other tokens (%d then %d tokens)",
                 mode_name((fr_mode)m), a.n, b.n);
        if (a.n > 1)
            tokenize(t, (fr_mode)m, s, len, 1 + (int)(a.hash % (uint64_t)(a.n - 1)));
    }
    folded = fr_fold(s, len);
    FZ_CHECK(folded != NULL, "fr_fold returned NULL");
    fz_check_str(folded, 0, "fr_fold output");
    (void)fr_is_stopword(folded, (int)strlen(folded));
    free(folded);
    fr_tokenizer_free(t);
    free(s);
    return 0;
}
