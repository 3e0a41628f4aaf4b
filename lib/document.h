/*
 * document.h - one page of the site as prsearch indexes it.
 *
 * Ties the pipeline together: bytes of a file -> UTF-8 checks (BOM, CRLF,
 * invalid sequences) -> front matter -> Markdown body and chapeau to text ->
 * title and date fallbacks. Knows nothing of SQLite or of the site layout
 * (collection and URL are decided by the indexer, jekyll_site.h).
 */
#ifndef DOCUMENT_H
#define DOCUMENT_H

#include <stddef.h>
#include "frontmatter.h"
#include "pr_error.h"

typedef struct pr_doc {
    char *title;         /* never NULL nor "": front matter (entities and tags
                            read as HTML, blanks collapsed), else the first
                            heading, else the file name without extension */
    char *date;          /* "YYYY-MM-DD" or NULL (front matter, else file name) */
    long long date_ts;   /* Unix seconds, valid when date != NULL */
    pr_strlist categories;
    pr_strlist tags;
    char *chapeau;       /* plain text of chapeau-text, "" if none (a
                            literal backslash-n in it reads as a space) */
    char *headings;      /* headings of the body, one per line, "" if none */
    char *body;          /* plain text of the body, "" if empty (some real
                            pages have all their text in the chapeau).
                            chapeau, headings and body: lines separated by
                            "\n" as in pr_text (markdown_text.h); all text
                            fields are valid UTF-8 in NFC */
    char *permalink;     /* front matter permalink, or NULL */
    int published;       /* 0 for "published: false" */
    int utf8_repaired;   /* invalid UTF-8 was replaced by U+FFFD */
} pr_doc;

/* Files larger than this are rejected unless the caller asks otherwise
 * (the indexer's policy: pr_doc_parse itself parses any size). */
#define PR_DOC_MAX_SIZE_DEFAULT (4u * 1024u * 1024u)

/*
 * Build DOC from the LEN bytes of SRC, the content of a file whose base
 * name is BASENAME (used for the date and title fallbacks). Returns 0 and
 * fills DOC (free with pr_doc_free), or -1 with ERR set (line:col where the
 * problem has a place) when the file must be rejected: "empty file" (no
 * bytes, or only blanks), "binary file (NUL byte at offset N)", UTF-16, or
 * broken front matter (line:col counted in the file as given, CRLF or not).
 * A UTF-8 BOM is skipped; CRLF and CR become LF; invalid UTF-8 is repaired
 * (U+FFFD per bad byte, utf8_repaired set), not rejected. On error DOC is
 * left zeroed and need not be freed.
 */
int pr_doc_parse(const char *src, size_t len, const char *basename,
                 pr_doc *doc, pr_error *err);

void pr_doc_free(pr_doc *doc);

#endif
