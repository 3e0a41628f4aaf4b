/*
 * jekyll_site.h - what a Jekyll site root says about its pages.
 *
 * A folder with a _config.yml is read as Jekyll would (SPEC section 2):
 * which folders hold collections (and whether they are output), which
 * entries are excluded, and each collection's permalink pattern. The
 * indexer asks it which folders to walk and what URL a page gets. Without
 * a _config.yml, pr_site_url() falls back to the path under the root.
 */
#ifndef JEKYLL_SITE_H
#define JEKYLL_SITE_H

#include "document.h"
#include "pr_error.h"

typedef struct pr_site pr_site;

/*
 * Load ROOT/_config.yml. Returns 1 with *SITE set when ROOT is a Jekyll
 * site, 0 with *SITE NULL when it has no _config.yml, -1 with ERR set
 * (line:col in the config) when the config cannot be read or parsed.
 */
int pr_site_load(const char *root, pr_site **site, pr_error *err);

void pr_site_free(pr_site *site);

/* How the walker treats a directory entry of the site. */
typedef enum pr_site_entry {
    PR_SITE_SKIP,       /* not part of the site: do not descend */
    PR_SITE_WALK        /* descend / index */
} pr_site_entry;

/*
 * Whether the directory or file RELPATH (relative to the root, '/'
 * separated, no leading '/') is part of the site: skips _site, _drafts,
 * vendor, node_modules, dot-entries, `exclude` entries, non-collection
 * `_` folders and collections whose output is false. SITE may be NULL
 * (a plain folder: only dot-entries are skipped).
 */
pr_site_entry pr_site_classify(const pr_site *site, const char *relpath, int is_dir);

/*
 * Collection of the page at RELPATH: the nearest enclosing `_name` folder
 * without its underscore, else "pages". Returns a malloc'ed string.
 */
char *pr_site_collection(const char *relpath);

/*
 * The URL of page RELPATH in COLLECTION: DOC's permalink, else (SITE not
 * NULL) the collection's permalink pattern, else Jekyll's default for the
 * collection or page, else (no site) "/" + RELPATH. Returns a malloc'ed
 * string, or NULL when out of memory.
 */
char *pr_site_url(const pr_site *site, const char *collection, const char *relpath,
                  const pr_doc *doc);

/* The file's slug: base name without extension and without a leading
 * YYYY-MM-DD- date. Returns a malloc'ed string. */
char *pr_site_slug(const char *relpath);

#endif
