/*
 * jekyll_site.c - reading a Jekyll _config.yml and applying its rules.
 *
 * Only the keys that decide what is a page and where it lives are read:
 * `collections` (a map of name -> {output, permalink}, or a list of
 * names), `exclude`, `include` and `permalink`. libyaml loads the file as a
 * document tree; everything else in it is ignored.
 */
#include "jekyll_site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "search_util.h"

typedef struct site_collection {
    char *name;
    char *permalink; /* NULL: Jekyll's default "/:collection/:path/" */
    int output;
} site_collection;

struct pr_site {
    site_collection *collections;
    size_t ncollections;
    char **exclude;
    size_t nexclude;
    char **include;
    size_t ninclude;
};

static char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static const char *scalar(yaml_document_t *doc, yaml_node_t *n)
{
    (void)doc;
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int is_false(const char *v)
{
    return v && (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "no") ||
                 !strcmp(v, "off"));
}

/* Collect the scalars of a sequence node into a string list. */
static void load_list(yaml_document_t *doc, yaml_node_t *seq, char ***out, size_t *n)
{
    yaml_node_item_t *it;
    size_t cap;

    if (!seq || seq->type != YAML_SEQUENCE_NODE)
        return;
    cap = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    *out = calloc(cap ? cap : 1, sizeof **out);
    if (!*out)
        return;
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        const char *v = scalar(doc, yaml_document_get_node(doc, *it));
        if (v)
            (*out)[(*n)++] = strdup(v);
    }
}

static void add_collection(pr_site *s, const char *name, const char *permalink, int output)
{
    site_collection *c = &s->collections[s->ncollections++];

    c->name = strdup(name);
    c->permalink = permalink ? strdup(permalink) : NULL;
    c->output = output;
}

static void load_collection_map(pr_site *s, yaml_document_t *doc, yaml_node_t *map)
{
    yaml_node_pair_t *p;

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *name = scalar(doc, yaml_document_get_node(doc, p->key));
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        const char *permalink = NULL;
        int output = 1;
        yaml_node_pair_t *q;

        if (!name)
            continue;
        if (v && v->type == YAML_MAPPING_NODE) {
            for (q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
                const char *k = scalar(doc, yaml_document_get_node(doc, q->key));
                const char *val = scalar(doc, yaml_document_get_node(doc, q->value));
                if (k && !strcmp(k, "output"))
                    output = !is_false(val);
                else if (k && !strcmp(k, "permalink"))
                    permalink = val;
            }
        }
        add_collection(s, name, permalink, output);
    }
}

static void load_collections(pr_site *s, yaml_document_t *doc, yaml_node_t *node)
{
    size_t cap = 1; /* room for the implicit "posts" */
    yaml_node_item_t *it;

    if (node && node->type == YAML_MAPPING_NODE)
        cap += (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    else if (node && node->type == YAML_SEQUENCE_NODE)
        cap += (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    s->collections = calloc(cap, sizeof *s->collections);
    if (!s->collections)
        return;
    if (node && node->type == YAML_MAPPING_NODE) {
        load_collection_map(s, doc, node);
    } else if (node && node->type == YAML_SEQUENCE_NODE) {
        for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
            const char *name = scalar(doc, yaml_document_get_node(doc, *it));
            if (name)
                add_collection(s, name, NULL, 1);
        }
    }
}

/* Jekyll always has a posts collection, output, at /:categories/:year/... */
static void ensure_posts(pr_site *s, const char *global_permalink)
{
    size_t i;

    for (i = 0; i < s->ncollections; i++)
        if (!strcmp(s->collections[i].name, "posts")) {
            if (!s->collections[i].permalink && global_permalink)
                s->collections[i].permalink = strdup(global_permalink);
            return;
        }
    add_collection(s, "posts",
                   global_permalink ? global_permalink : "/:categories/:year/:month/:day/:title:output_ext",
                   1);
}

static void load_config(pr_site *s, yaml_document_t *doc)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    yaml_node_t *collections = NULL;
    const char *permalink = NULL;
    yaml_node_pair_t *p;

    if (root && root->type == YAML_MAPPING_NODE) {
        for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
            const char *k = scalar(doc, yaml_document_get_node(doc, p->key));
            yaml_node_t *v = yaml_document_get_node(doc, p->value);
            if (!k)
                continue;
            if (!strcmp(k, "collections"))
                collections = v;
            else if (!strcmp(k, "exclude"))
                load_list(doc, v, &s->exclude, &s->nexclude);
            else if (!strcmp(k, "include"))
                load_list(doc, v, &s->include, &s->ninclude);
            else if (!strcmp(k, "permalink"))
                permalink = scalar(doc, v);
        }
    }
    load_collections(s, doc, collections);
    if (s->collections)
        ensure_posts(s, permalink && permalink[0] == '/' ? permalink : NULL);
}

static int parse_config(pr_site *s, FILE *f, pr_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = 0;

    if (!yaml_parser_initialize(&parser))
        return pr_error_set(err, 0, 0, "out of memory");
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = pr_error_set(err, (int)parser.problem_mark.line + 1,
                          (int)parser.problem_mark.column + 1, "%s",
                          parser.problem ? parser.problem : "YAML error");
    } else {
        load_config(s, &doc);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int pr_site_load(const char *root, pr_site **site, pr_error *err)
{
    char path[4096];
    FILE *f;
    pr_site *s;

    *site = NULL;
    snprintf(path, sizeof path, "%s/_config.yml", root);
    f = fopen(path, "rb");
    if (!f)
        return 0;
    s = calloc(1, sizeof *s);
    if (!s) {
        fclose(f);
        return pr_error_set(err, 0, 0, "out of memory");
    }
    if (parse_config(s, f, err) != 0) {
        fclose(f);
        pr_site_free(s);
        return -1;
    }
    fclose(f);
    if (!s->collections)
        ensure_posts(s, NULL);
    *site = s;
    return 1;
}

static void free_list(char **l, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

void pr_site_free(pr_site *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->ncollections; i++) {
        free(s->collections[i].name);
        free(s->collections[i].permalink);
    }
    free(s->collections);
    free_list(s->exclude, s->nexclude);
    free_list(s->include, s->ninclude);
    free(s);
}

static const site_collection *find_collection(const pr_site *s, const char *name)
{
    size_t i;

    for (i = 0; s && i < s->ncollections; i++)
        if (!strcmp(s->collections[i].name, name))
            return &s->collections[i];
    return NULL;
}

/* Does a config list entry ("/scripts/", "node_modules", "Makefile")
 * name RELPATH? Entries are root-relative; a leading or trailing '/' only
 * says it is a folder. */
static int list_matches(char **list, size_t n, const char *relpath)
{
    size_t i, len;
    const char *e;

    for (i = 0; i < n; i++) {
        e = list[i];
        while (*e == '/')
            e++;
        len = strlen(e);
        while (len > 0 && e[len - 1] == '/')
            len--;
        if (len > 0 && strncmp(relpath, e, len) == 0 && relpath[len] == '\0')
            return 1;
    }
    return 0;
}

static const char *base_name(const char *relpath)
{
    const char *slash = strrchr(relpath, '/');

    return slash ? slash + 1 : relpath;
}

pr_site_entry pr_site_classify(const pr_site *site, const char *relpath, int is_dir)
{
    const char *name = base_name(relpath);
    int top = strchr(relpath, '/') == NULL;
    const site_collection *c;

    if (name[0] == '.' && !(site && list_matches(site->include, site->ninclude, relpath)))
        return PR_SITE_SKIP;
    if (!site)
        return PR_SITE_WALK;
    if (list_matches(site->exclude, site->nexclude, relpath))
        return PR_SITE_SKIP;
    if (top && is_dir && (!strcmp(name, "vendor") || !strcmp(name, "node_modules")))
        return PR_SITE_SKIP;
    if (top && is_dir && name[0] == '_') {
        if (list_matches(site->include, site->ninclude, relpath))
            return PR_SITE_WALK;
        c = find_collection(site, name + 1);
        return c && c->output ? PR_SITE_WALK : PR_SITE_SKIP;
    }
    if (top && !is_dir && name[0] == '_')
        return PR_SITE_SKIP;
    return PR_SITE_WALK;
}

char *pr_site_collection(const char *relpath)
{
    const char *end = strrchr(relpath, '/');
    const char *p, *start;

    /* Walk the folders from the innermost outwards. */
    while (end) {
        start = end;
        while (start > relpath && start[-1] != '/')
            start--;
        if (start[0] == '_' && end - start > 1)
            return xstrndup(start + 1, (size_t)(end - start - 1));
        if (start == relpath)
            break;
        end = start - 1;
    }
    p = "pages";
    return strdup(p);
}

char *pr_site_slug(const char *relpath)
{
    const char *name = base_name(relpath);
    const char *dot = strrchr(name, '.');
    size_t len = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    char date[11];
    long long ts;

    if (len > 11 && pr_date_from_filename(name, date, &ts)) {
        name += 11;
        len -= 11;
    }
    return xstrndup(name, len);
}

/* Jekyll's "pretty" slugify of a category: lower case, runs of spaces and
 * unsafe characters as one '-'. Bytes >= 0x80 (accents) are kept. */
static void sb_add_slugified(pr_buf *b, const char *s)
{
    int dash = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || strchr("._~!$&'()+,;=@", c)) {
            if (dash && b->len > 0)
                pr_buf_add(b, "-", 1);
            dash = 0;
            pr_buf_add(b, s, 1);
        } else if (c >= 'A' && c <= 'Z') {
            char l = (char)(c - 'A' + 'a');
            if (dash && b->len > 0)
                pr_buf_add(b, "-", 1);
            dash = 0;
            pr_buf_add(b, &l, 1);
        } else {
            dash = 1;
        }
    }
}

/* relpath inside the collection folder, without extension: ":path". */
static void sb_add_collection_path(pr_buf *b, const char *relpath)
{
    const char *p = relpath;
    const char *slash = strchr(relpath, '/');
    const char *dot = strrchr(relpath, '.');

    if (p[0] == '_' && slash)
        p = slash + 1;
    pr_buf_add(b, p, dot && dot > p && dot > strrchr(relpath, '/') ? (size_t)(dot - p) : strlen(p));
}

static int expand_placeholder(pr_buf *b, const char *name, size_t n, const char *collection,
                              const char *relpath, const pr_doc *doc)
{
    char *slug;

#define IS(lit) (n == sizeof(lit) - 1 && !strncmp(name, lit, n))
    if (IS("title") || IS("name") || IS("slug")) {
        slug = pr_site_slug(relpath);
        if (slug)
            pr_buf_adds(b, slug);
        free(slug);
    } else if (IS("collection")) {
        pr_buf_adds(b, collection);
    } else if (IS("path")) {
        sb_add_collection_path(b, relpath);
    } else if (IS("output_ext")) {
        pr_buf_adds(b, ".html");
    } else if (IS("year") || IS("month") || IS("day")) {
        if (doc && doc->date)
            pr_buf_add(b, doc->date + (IS("year") ? 0 : IS("month") ? 5 : 8), IS("year") ? 4 : 2);
    } else if (IS("categories")) {
        size_t i;
        for (i = 0; doc && i < doc->categories.n; i++) {
            if (i > 0)
                pr_buf_add(b, "/", 1);
            sb_add_slugified(b, doc->categories.items[i]);
        }
    } else {
        return 0;
    }
#undef IS
    return 1;
}

/* Expand a Jekyll permalink pattern ("/espace-presse/:title/"). */
static char *expand_pattern(const char *pattern, const char *collection, const char *relpath,
                            const pr_doc *doc)
{
    const char *p = pattern;
    pr_buf b;
    char *url;

    pr_buf_init(&b);

    while (*p) {
        if (*p == ':') {
            const char *q = p + 1;
            while ((*q >= 'a' && *q <= 'z') || *q == '_')
                q++;
            if (q > p + 1 && expand_placeholder(&b, p + 1, (size_t)(q - p - 1), collection, relpath, doc)) {
                p = q;
                continue;
            }
        }
        pr_buf_add(&b, p, 1);
        p++;
    }
    url = pr_buf_take(&b);
    /* Empty placeholders (no date, no category) leave "//": squeeze them. */
    if (url) {
        char *r = url, *w = url;
        for (; *r; r++)
            if (!(*r == '/' && w > url && w[-1] == '/'))
                *w++ = *r;
        *w = '\0';
    }
    if (url && !*url) {
        free(url);
        url = strdup("/");
    }
    return url;
}

/* Jekyll's URL for a page outside collections: /dir/name.html, and
 * index.md -> /dir/. */
static char *page_url(const char *relpath)
{
    const char *name = base_name(relpath);
    const char *dot = strrchr(name, '.');
    size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    pr_buf b;

    pr_buf_init(&b);
    pr_buf_add(&b, "/", 1);
    pr_buf_add(&b, relpath, (size_t)(name - relpath));
    if (!(stem == 5 && !strncmp(name, "index", 5))) {
        pr_buf_add(&b, name, stem);
        pr_buf_adds(&b, ".html");
    }
    return pr_buf_take(&b);
}

char *pr_site_url(const pr_site *site, const char *collection, const char *relpath,
                  const pr_doc *doc)
{
    const site_collection *c;
    char *url;

    if (doc && doc->permalink && doc->permalink[0])
        return expand_pattern(doc->permalink, collection, relpath, doc);
    if (!site) {
        url = malloc(strlen(relpath) + 2);
        if (url)
            sprintf(url, "/%s", relpath);
        return url;
    }
    c = relpath[0] == '_' ? find_collection(site, collection) : NULL;
    if (!c)
        return page_url(relpath[0] == '_' && strchr(relpath, '/') ? strchr(relpath, '/') + 1 : relpath);
    return expand_pattern(c->permalink ? c->permalink : "/:collection/:path/", collection,
                          relpath, doc);
}
