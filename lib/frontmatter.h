/*
 * frontmatter.h - the YAML front matter of a Jekyll page (SPEC section 2).
 *
 * Parsed with libyaml. Knows the fields prsearch uses (title, date,
 * categories, tags, chapeau-text, published, permalink) and ignores every
 * other key, nested maps and lists included.
 */
#ifndef FRONTMATTER_H
#define FRONTMATTER_H

#include <stddef.h>
#include "pr_error.h"

/* A list of malloc'ed strings. */
typedef struct pr_strlist {
    char **items;
    size_t n;
} pr_strlist;

void pr_strlist_free(pr_strlist *l);

typedef struct pr_frontmatter {
    int present;        /* the file starts with a "---" front matter block */
    char *title;        /* NULL when absent */
    char *date;         /* "YYYY-MM-DD" (in the timestamp's own offset), or NULL;
                           a value that is no YAML timestamp is ignored */
    long long date_ts;  /* the date as Unix seconds (UTC); valid when date != NULL.
                           A time without offset is read as UTC; a date
                           without time is 00:00 UTC */
    pr_strlist categories; /* a single string becomes a list of one; items
                              are trimmed, non-strings kept as written
                              ("2022", "true"), nested lists flattened,
                              maps and empty items dropped; "category" too */
    pr_strlist tags;       /* same rules; "tag" too */
    char *chapeau_md;   /* chapeau-text, still Markdown, or NULL */
    char *permalink;    /* or NULL */
    int published;      /* 0 only for a plain false/no/off (YAML 1.1, as
                           Jekyll reads it); a quoted "false" is true */
} pr_frontmatter;

/*
 * Parse the front matter at the start of SRC (LEN bytes, UTF-8, no BOM:
 * the caller strips it). On success fills FM (caller frees with
 * pr_frontmatter_free), sets *BODY_OFFSET to the first byte after the
 * closing "---" line (0 when there is no front matter) and returns 0.
 * On a YAML error returns -1 with ERR's line and column pointing into SRC
 * (1-based, counted from the start of the file, column in bytes) and FM
 * left empty. The message is libyaml's ("front matter: found unexpected
 * end of stream while scanning a quoted scalar ..."); for something left
 * open (a quote, a bracket) the position is where it was opened. A front
 * matter that is not a mapping, or a "---" never closed by "---" or
 * "...", is an error too. CRLF line ends are accepted.
 */
int pr_frontmatter_parse(const char *src, size_t len, pr_frontmatter *fm,
                         size_t *body_offset, pr_error *err);

void pr_frontmatter_free(pr_frontmatter *fm);

/*
 * Date from a Jekyll file name "YYYY-MM-DD-slug.md": writes "YYYY-MM-DD"
 * into OUT (11 bytes) and the Unix time of that day at 00:00 UTC into *TS,
 * and returns 1; returns 0 when BASENAME has no valid date prefix.
 */
int pr_date_from_filename(const char *basename, char out[11], long long *ts);

#endif
