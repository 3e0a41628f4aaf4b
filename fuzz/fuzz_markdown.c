/*
 * fuzz_markdown.c - libFuzzer harness for Markdown and HTML to text
 * (lib/markdown_text.c, lib/html_text.c).
 *
 * The same bytes go through pr_markdown_to_text() (with its Liquid and
 * kramdown stripping, cmark, and gumbo for raw HTML) and through
 * pr_html_to_text(). Properties beyond memory safety:
 *  - both succeed (they "never fail on malformed input") and give
 *    NUL-terminated strings;
 *  - the output is valid UTF-8. For Markdown this is required when the
 *    input is valid UTF-8 (its contract; pr_doc_parse repairs bytes
 *    before), for HTML always (gumbo decodes and repairs its input).
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "html_text.h"
#include "markdown_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size ? size : 1);
    int valid, html_ok;
    pr_text t;
    char *h;
    if (!src)
        return 0;
    memcpy(src, data, size);
    valid = fz_utf8_valid(src, size);
    /* PR_FUZZ_KNOWN=G1: gumbo turns some numeric character references
     * into invalid UTF-8 (finding G1 of README.md); skip the UTF-8 checks
     * on inputs holding one. */
    html_ok = !(fz_known("G1") && memmem(src, size, "&#", 2));

    memset(&t, 0, sizeof t);
    FZ_CHECK(pr_markdown_to_text(src, size, &t) == 0, "pr_markdown_to_text failed");
    FZ_CHECK(t.text && t.headings, "pr_markdown_to_text gave a NULL field");
    if (valid && html_ok) {
        fz_check_str(t.text, 0, "markdown text");
        fz_check_str(t.headings, 0, "markdown headings");
    }
    pr_text_free(&t);

    h = pr_html_to_text(src, size);
    FZ_CHECK(h != NULL, "pr_html_to_text returned NULL");
    if (html_ok)
        fz_check_str(h, 0, "html text");
    free(h);

    free(src);
    return 0;
}
