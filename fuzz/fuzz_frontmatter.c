/*
 * fuzz_frontmatter.c - libFuzzer harness for the front matter parser and
 * the whole document pipeline (lib/frontmatter.c, lib/document.c).
 *
 * The bytes are a page file. Properties checked beyond memory safety:
 *  - pr_frontmatter_parse: on success the body offset lies inside the input
 *    and every string is valid UTF-8 when the input is; on error the
 *    message is set, FM is left empty, and line/col point inside the
 *    input (line <= its number of lines, col <= its longest line + 1);
 *  - pr_doc_parse: on success the title is never NULL, every text field
 *    and list item is valid UTF-8 (invalid input is repaired), the date is
 *    NULL or YYYY-MM-DD; on error the message is set and line/col lie
 *    inside the input (columns may grow by the U+FFFD repair: 3 bytes for
 *    1, so they are bounded by 3 x the longest line + 1 there).
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "document.h"
#include "frontmatter.h"
#include "fuzz_common.h"

/* With PR_FUZZ_KNOWN=F1, NEL, LS and PS (U+0085, U+2028, U+2029) also
 * count as line ends, as libyaml counts them (finding F1 of README.md). */
static int yaml_lines;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    yaml_lines = fz_known("F1");
    return 0;
}

/* Lines as an editor counts them (LF, CRLF, lone CR), and the longest. */
static void count_lines(const char *s, size_t len, long *lines, long *longest)
{
    long n = 1, cur = 0, max = 0;
    for (size_t i = 0; i < len; i++) {
        int nel = yaml_lines && i + 1 < len && s[i] == '\xC2' && s[i + 1] == '\x85';
        int lsps = yaml_lines && i + 2 < len && s[i] == '\xE2' && s[i + 1] == '\x80' &&
                   (s[i + 2] == '\xA8' || s[i + 2] == '\xA9');
        if (s[i] == '\n' || s[i] == '\r' || nel || lsps) {
            if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
                i++;
            i += (size_t)(nel ? 1 : lsps ? 2 : 0);
            n++;
            if (cur > max) max = cur;
            cur = 0;
        } else {
            cur++;
        }
    }
    if (cur > max) max = cur;
    *lines = n;
    *longest = max;
}

static void check_pos(const pr_error *err, long lines, long longest, long colmul,
                      const char *who)
{
    FZ_CHECK(err->message[0] != '\0', "%s failed without a message", who);
    FZ_CHECK(err->line >= 0 && err->col >= 0, "%s: negative position %d:%d (%s)", who,
             err->line, err->col, err->message);
    FZ_CHECK(err->line <= lines, "%s: error line %d beyond the input's %ld lines (%s)", who,
             err->line, lines, err->message);
    FZ_CHECK(err->col <= longest * colmul + 1,
             "%s: error column %d beyond the longest line (%ld bytes) (%s)", who, err->col,
             longest, err->message);
    FZ_CHECK(err->line != 0 || err->col == 0, "%s: column %d without a line (%s)", who,
             err->col, err->message);
}

static void check_list(const pr_strlist *l, const char *what)
{
    FZ_CHECK(l->n == 0 || l->items, "%s: %zu items but no array", what, l->n);
    for (size_t i = 0; i < l->n; i++)
        fz_check_str(l->items[i], 0, what);
}

static int is_date(const char *d)
{
    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

static void fuzz_frontmatter(const char *src, size_t len, long lines, long longest, int valid)
{
    pr_frontmatter fm;
    pr_error err;
    size_t body = (size_t)-1;
    memset(&fm, 0x5A, sizeof fm); /* the parser must set every field */
    pr_error_clear(&err);
    if (pr_frontmatter_parse(src, len, &fm, &body, &err) == 0) {
        FZ_CHECK(body <= len, "front matter: body offset %zu beyond %zu bytes", body, len);
        FZ_CHECK(fm.present || body == 0, "front matter: no block but body offset %zu", body);
        if (fm.date)
            FZ_CHECK(is_date(fm.date), "front matter: date \"%s\" is not YYYY-MM-DD", fm.date);
        if (valid) {
            fz_check_str(fm.title, 1, "front matter title");
            fz_check_str(fm.chapeau_md, 1, "front matter chapeau");
            fz_check_str(fm.permalink, 1, "front matter permalink");
            check_list(&fm.categories, "front matter category");
            check_list(&fm.tags, "front matter tag");
        }
        pr_frontmatter_free(&fm);
    } else {
        check_pos(&err, lines, longest, 1, "pr_frontmatter_parse");
        FZ_CHECK(!fm.title && !fm.date && !fm.chapeau_md && !fm.permalink &&
                 fm.categories.n == 0 && fm.tags.n == 0,
                 "pr_frontmatter_parse failed but left fields set");
        pr_frontmatter_free(&fm);
    }
}

static void fuzz_document(const char *src, size_t len, long lines, long longest)
{
    pr_doc doc;
    pr_error err;
    pr_error_clear(&err);
    /* PR_FUZZ_KNOWN=G1: gumbo turns some numeric character references
     * into invalid UTF-8 (finding G1 of README.md). */
    int html_ok = !(fz_known("G1") && memmem(src, len, "&#", 2));
    if (pr_doc_parse(src, len, "2021-03-01-fuzz.md", &doc, &err) == 0) {
        FZ_CHECK(doc.title && doc.body && doc.headings && doc.chapeau,
                 "pr_doc_parse left a field NULL");
        if (html_ok) {
            fz_check_str(doc.title, 0, "document title");
            fz_check_str(doc.body, 0, "document body");
            fz_check_str(doc.headings, 0, "document headings");
            fz_check_str(doc.chapeau, 0, "document chapeau");
        }
        fz_check_str(doc.permalink, 1, "document permalink");
        check_list(&doc.categories, "document category");
        check_list(&doc.tags, "document tag");
        FZ_CHECK(doc.date && is_date(doc.date),
                 "document date \"%s\" is not YYYY-MM-DD (the file name gives one)",
                 doc.date ? doc.date : "(null)");
        pr_doc_free(&doc);
    } else {
        check_pos(&err, lines, longest, 3, "pr_doc_parse");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy of exactly SIZE bytes, so ASan sees any over-read. */
    char *src = malloc(size ? size : 1);
    long lines, longest;
    if (!src)
        return 0;
    memcpy(src, data, size);
    count_lines(src, size, &lines, &longest);
    fuzz_frontmatter(src, size, lines, longest, fz_utf8_valid(src, size));
    fuzz_document(src, size, lines, longest);
    free(src);
    return 0;
}
