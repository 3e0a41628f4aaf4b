/*
 * test_search_util.c - the UTF-8 helpers of search_util.c that decide what
 * reaches jansson unchecked: pr_utf8_wellformed() must accept exactly the
 * strings json_stringn() accepts (search.c then calls
 * json_stringn_nocheck() on them), across its eight-byte ASCII steps.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "search_util.h"
#include "unit.h"

/* What jansson says of S (N bytes): 1 when json_stringn() takes it. */
static int jansson_accepts(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);

    json_decref(j);
    return j != NULL;
}

static void test_cases(void)
{
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"", 1}, {"plain ascii text, more than eight bytes", 1}, {"caf\xC3\xA9", 1},
        {"l\xE2\x80\x99\xC3\x89tat", 1}, {"\xF0\x9F\x98\x80", 1}, {"\xF4\x8F\xBF\xBF", 1},
        {"\xC3", 0}, {"abcdefgh\xC3", 0}, {"\xC0\xAF", 0}, {"\xC1\xBF", 0},
        {"\xE0\x9F\xBF", 0}, {"\xED\xA0\x80", 0}, {"\xF0\x8F\xBF\xBF", 0},
        {"\xF4\x90\x80\x80", 0}, {"\xF5\x80\x80\x80", 0}, {"\xFF", 0}, {"\x80", 0},
        {"abcdefg\x80", 0}, {"abcdefgh\xE2\x80", 0}, {"\x7F\x01\x1F", 1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = strlen(cases[i].s);
        char what[64];
        snprintf(what, sizeof what, "case %zu: well-formed %d, as jansson", i, cases[i].ok);
        CHECK_MSG(pr_utf8_wellformed(cases[i].s, n) == cases[i].ok &&
                      jansson_accepts(cases[i].s, n) == cases[i].ok,
                  what);
    }
    CHECK_MSG(pr_utf8_wellformed("a\0b\xC3\xA9", 5) == 1 && jansson_accepts("a\0b\xC3\xA9", 5),
              "a NUL byte is well-formed, for jansson too");
}

/* Random strings built from ASCII runs and the bytes around UTF-8's
 * boundaries: the two checks agree on every one. */
static void test_random(void)
{
    static const unsigned char edge[] = {0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3,
                                         0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF,
                                         0x9F, 0xA0, 0x8F, 0x90};
    unsigned seed = 12345;
    int agree = 0, valid = 0, total = 20000;
    char s[64];

    for (int t = 0; t < total; t++) {
        size_t n = 0, len;
        seed = seed * 1103515245u + 12345u;
        len = (seed >> 16) % sizeof s;
        while (n < len) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            if (r % 3 == 0)
                s[n++] = (char)edge[(r >> 2) % sizeof edge];
            else if (r % 3 == 1)
                s[n++] = (char)(0x20 + (r >> 2) % 95);
            else
                for (unsigned k = (r >> 2) % 12; k > 0 && n < len; k--)
                    s[n++] = 'a';
        }
        valid += pr_utf8_wellformed(s, n);
        agree += pr_utf8_wellformed(s, n) == jansson_accepts(s, n);
    }
    CHECK_MSG(agree == total, "20,000 random strings: pr_utf8_wellformed agrees with jansson");
    CHECK_MSG(valid > total / 20 && valid < total - total / 20,
              "the random strings are both well-formed and not");
}

int main(void)
{
    test_cases();
    test_random();
    return unit_done();
}
