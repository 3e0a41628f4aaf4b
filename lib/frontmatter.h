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
    char *date;         /* "YYYY-MM-DD" (in the timestamp's own offset), or NULL */
    long long date_ts;  /* the date as Unix seconds (UTC); valid when date != NULL */
    pr_strlist categories; /* a single string becomes a list of one */
    pr_strlist tags;
    char *chapeau_md;   /* chapeau-text, still Markdown, or NULL */
    char *permalink;    /* or NULL */
    int published;      /* 0 only when "published: false" */
} pr_frontmatter;

/*
 * Parse the front matter at the start of SRC (LEN bytes, UTF-8, no BOM:
 * the caller strips it). On success fills FM (caller frees with
 * pr_frontmatter_free), sets *BODY_OFFSET to the first byte after the
 * closing "---" line (0 when there is no front matter) and returns 0.
 * On a YAML error returns -1 with ERR's line and column pointing into SRC
 * (1-based, counted from the start of the file) and FM left empty.
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
