/*
 * indexer.c - one incremental indexing run (see indexer.h).
 *
 * A run has three phases:
 *   1. walk: list the pages under each PATH (site rules from jekyll_site.c)
 *      with one stat per page;
 *   2. decide, on the writer thread: one ordered scan of the index's
 *      (source, size, mtime, hash) covering index per PATH, merged with the
 *      sorted file list: pages whose size and mtime match are done without
 *      being opened, pages of the index no longer under the PATHs noted;
 *   3. parse on worker threads and write on this one, in file order, inside
 *      one transaction that also removes the pages gone from under PATHs.
 * Workers read files and prepare everything that needs no index: the
 * pr_doc, the row's JSON and taxonomy, folded facet values, the words,
 * acronyms and fingerprint for the derived tables (lexicon.h), and the
 * FTS5 tokens of every column (fts5_french.h). SQLite is touched by the
 * calling thread alone, so the index has exactly one writer.
 *
 * The writer fills fts itself, BATCH pages per statement: FTS5 writes a
 * new segment at the end of every statement, and one segment per page
 * made a run spend most of its time merging them. The schema's triggers
 * stand aside meanwhile (index_db.c, meta 'fts_by_indexer'); the tokens
 * FTS5 asks for are replayed from what the workers recorded.
 */
#include "indexer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include "document.h"
#include "fr_tokenizer.h"
#include "fts5_french.h"
#include "index_db.h"
#include "jekyll_site.h"
#include "lexicon.h"
#include "prefix_surfaces.h"
#include "search_util.h"

/* Pages per FTS5 statement (see above), and the memory FTS5 may fill
 * before it writes a segment: 1,024 pages make about 8 MB of pending
 * tokens with the prefix indexes; FTS5's default of 1 MB cut a batch into
 * several small segments, each merged again later. */
#define BATCH 1024
#define FTS_HASHSIZE 8388608
#define PR_XSTR(x) #x
#define PR_STR(x) PR_XSTR(x)
/* How far parser threads may run ahead of the writer: bounds memory (a
 * parsed page holds several times its size: texts, tokens). Big pages
 * make smaller batches: at most BATCH_BYTES of files, and at least one. */
#define PARSE_WINDOW (2 * BATCH)
#define BATCH_BYTES (8LL << 20)
#define AHEAD_BYTES (2 * BATCH_BYTES)

/* A PATH from the command line, resolved. */
typedef struct index_root {
    char *given;     /* as typed, for messages */
    char *abs;       /* realpath of PATH: what "under PATH" means */
    char *site_root; /* the root pages are relative to */
    pr_site *site;   /* NULL when site_root has no _config.yml */
} index_root;

typedef enum file_state {
    FILE_NEW,        /* not in the index */
    FILE_CHANGED,    /* in the index, size or mtime differ (or --full) */
    FILE_UNCHANGED   /* size and mtime match: not even opened */
} file_state;

typedef enum parse_outcome {
    PARSED_DOC,      /* doc is valid */
    PARSED_SAME,     /* bytes hash as indexed: only refresh the mtime */
    PARSED_REJECTED  /* err says why */
} parse_outcome;

/* What a parser thread makes of a page that is to be written. */
typedef struct parsed {
    pr_doc doc;
    char *collection, *url;
    char *cats, *tags, *taxonomy;  /* the row's JSON lists and taxonomy text */
    char *facets;                  /* "kind\0folded\0value\0" triples */
    size_t facets_len;             /* their bytes */
    pr_page_facts facts;           /* vocabulary, acronyms, fingerprint */
    fts5_french_tokens tokens;     /* of the fts columns, one after the other */
    size_t tok_end[PR_NCOLS];
} parsed;

/* One a page found: 100k of them on a large site, kept small. */
typedef struct index_file {
    const index_root *root;
    const char *source;   /* absolute path, in the list's strings */
    const char *relpath;  /* relative to root->site_root: the end of source */
    long long size, mtime_ns;
    file_state state;
    sqlite3_int64 id;  /* row in documents, when not FILE_NEW */
    char old_hash[17];
    /* Filled by a parser thread. */
    parse_outcome outcome;
    char hash[17];
    parsed *p;         /* PARSED_DOC */
    pr_error *err;     /* PARSED_REJECTED: why (NULL if out of memory) */
} index_file;

/* The pages' paths are carved from blocks of STR_BLOCK bytes freed
 * together: 100k pages made 100k mallocs, as many frees, and a slow
 * consolidation of the heap at the end. */
#define STR_BLOCK (1 << 20)

typedef struct str_block {
    struct str_block *next;
    size_t used, cap;
    char s[];
} str_block;

typedef struct file_list {
    index_file *v;
    size_t n, cap;
    str_block *strings;
} file_list;

/* ---- phase 1: walking ---------------------------------------------- */

/*
 * The walk lists the pages in source order (strcmp's, which is SQLite's
 * BINARY collation and what phase 2 merges with) by sorting each folder's
 * entries as it goes, a folder's name being compared as if followed by
 * '/': all of "a/..." then sorts after "a-b.md" and "a.md" ('-' and '.'
 * come before '/') and before "a0.md", as the full paths do. Many small
 * sorts of short names cost a fraction of one sort of 100k long paths.
 */

/* An entry of the folder being walked that is a page or a folder to enter. */
typedef struct walk_entry {
    const char *name;  /* in the folder's name buffer, once it is complete */
    size_t off, len;   /* where the name is in that buffer, its length */
    int is_dir;
    long long size, mtime_ns;
} walk_entry;

typedef struct walk_folder {
    walk_entry *v;
    size_t n, cap;
    pr_buf names;
} walk_folder;

/* The walk of one PATH: the path of the folder being walked is built up in
 * PATH, one "/name" per level. */
typedef struct walker {
    file_list *l;
    const index_root *root;
    size_t rel;            /* where the path relative to the site root starts */
    char path[PATH_MAX];
    pr_error *err;
} walker;

/* Make room for one more of N items of SIZE bytes in *V (capacity *CAP),
 * doubling; -1 when out of memory (*V is then unchanged). */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    size_t want = *cap ? *cap * 2 : 64;
    void *p;

    if (n < *cap)
        return 0;
    if (!(p = realloc(*v, want * size)))
        return -1;
    *v = p;
    *cap = want;
    return 0;
}

static int has_page_extension(const char *name)
{
    const char *dot = strrchr(name, '.');

    return dot && (!strcasecmp(dot, ".md") || !strcasecmp(dot, ".markdown"));
}

/* A copy of the N bytes at S in L's strings, or NULL. */
static char *copy_string(file_list *l, const char *s, size_t n)
{
    str_block *b = l->strings;
    char *out;

    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > STR_BLOCK ? n + 1 : STR_BLOCK;
        if (!(b = malloc(sizeof *b + cap)))
            return NULL;
        b->next = l->strings;
        b->used = 0;
        b->cap = cap;
        l->strings = b;
    }
    out = b->s + b->used;
    memcpy(out, s, n);
    out[n] = '\0';
    b->used += n + 1;
    return out;
}

static void free_strings(file_list *l)
{
    while (l->strings) {
        str_block *next = l->strings->next;
        free(l->strings);
        l->strings = next;
    }
}

/* Add the page SOURCE, whose path relative to the site root is SOURCE +
 * REL (the end of it, whatever the PATH). */
static int add_file(file_list *l, const index_root *root, const char *source, size_t rel,
                    long long size, long long mtime_ns)
{
    size_t n = strlen(source);
    index_file *f;
    char *copy;

    if (grow((void **)&l->v, &l->cap, l->n, sizeof *l->v) != 0 ||
        !(copy = copy_string(l, source, n)))
        return -1;
    f = &l->v[l->n];
    memset(f, 0, sizeof *f);
    f->root = root;
    f->source = copy;
    f->relpath = copy + (rel < n ? rel : n);
    f->size = size;
    f->mtime_ns = mtime_ns;
    l->n++;
    return 0;
}

static long long mtime_ns_of(const struct stat *sb)
{
    return (long long)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
}

/* Put "/NAME" after the folder's path (LEN bytes long) in W->path; 0 when
 * it does not fit: such a path could not be opened by its name. */
static size_t walk_path(walker *w, size_t len, const char *name, size_t nlen)
{
    if (len + 1 + nlen >= sizeof w->path)
        return 0;
    w->path[len] = '/';
    memcpy(w->path + len + 1, name, nlen + 1);
    return len + 1 + nlen;
}

static int compare_entries(const void *x, const void *y)
{
    const walk_entry *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    unsigned char ca, cb;

    if (c != 0)
        return c;
    /* One name is the start of the other: what follows the shorter one in
     * a full path is '/' for a folder, the end for a file. */
    ca = n < a->len ? (unsigned char)a->name[n] : a->is_dir ? '/' : '\0';
    cb = n < b->len ? (unsigned char)b->name[n] : b->is_dir ? '/' : '\0';
    return (int)ca - (int)cb;
}

static int keep_entry(walk_folder *fo, const char *name, size_t len, int is_dir,
                      const struct stat *sb)
{
    walk_entry *e;

    if (grow((void **)&fo->v, &fo->cap, fo->n, sizeof *fo->v) != 0)
        return -1;
    e = &fo->v[fo->n++];
    e->off = fo->names.len;
    e->len = len;
    e->is_dir = is_dir;
    e->size = is_dir ? 0 : (long long)sb->st_size;
    e->mtime_ns = is_dir ? 0 : mtime_ns_of(sb);
    pr_buf_add(&fo->names, name, len + 1); /* with its NUL */
    return fo->names.oom ? -1 : 0;
}

/* Read the folder open as D, whose path is W->path (LEN bytes), into FO:
 * its pages and the folders to enter, with one stat per page and none for
 * folders (readdir says what they are) or files that are no page. */
static int read_folder(walker *w, DIR *d, size_t len, walk_folder *fo)
{
    struct dirent *e;

    while ((e = readdir(d)) != NULL) {
        size_t nlen = strlen(e->d_name);
        int page = e->d_type != DT_DIR && has_page_extension(e->d_name);
        struct stat sb;
        int is_dir;

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (e->d_type == DT_REG && !page)
            continue;
        if (!walk_path(w, len, e->d_name, nlen))
            continue;
        if (e->d_type == DT_DIR) {
            is_dir = 1;
        } else {
            if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
            if (S_ISLNK(sb.st_mode) &&
                (fstatat(dirfd(d), e->d_name, &sb, 0) != 0 || S_ISDIR(sb.st_mode)))
                continue; /* dangling links, and linked folders (loops) */
            is_dir = S_ISDIR(sb.st_mode);
        }
        if (pr_site_classify(w->root->site, w->path + w->rel, is_dir) == PR_SITE_SKIP)
            continue;
        if (!is_dir && !(S_ISREG(sb.st_mode) && page))
            continue;
        if (keep_entry(fo, e->d_name, nlen, is_dir, &sb) != 0)
            return pr_error_set(w->err, 0, 0, "out of memory");
    }
    return 0;
}

static int walk_dir(walker *w, int dfd, size_t len);

/* Add FO's pages and walk its folders, in order. */
static int walk_entries(walker *w, DIR *d, size_t len, walk_folder *fo)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < fo->n; i++)
        fo->v[i].name = fo->names.p + fo->v[i].off;
    if (fo->n > 1)
        qsort(fo->v, fo->n, sizeof *fo->v, compare_entries);
    for (i = 0; rc == 0 && i < fo->n; i++) {
        const walk_entry *e = &fo->v[i];
        size_t sub = walk_path(w, len, e->name, e->len);
        if (e->is_dir)
            rc = walk_dir(w, openat(dirfd(d), e->name,
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), sub);
        else if (add_file(w->l, w->root, w->path, w->rel, e->size, e->mtime_ns))
            rc = pr_error_set(w->err, 0, 0, "out of memory");
    }
    return rc;
}

/* Walk the folder open as DFD (closed here), whose path is W->path (LEN
 * bytes). */
static int walk_dir(walker *w, int dfd, size_t len)
{
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    walk_folder fo = {0};
    int rc;

    w->path[len] = '\0';
    if (!d) {
        rc = pr_error_set(w->err, 0, 0, "%s: %s", w->path, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return rc;
    }
    pr_buf_init(&fo.names);
    rc = read_folder(w, d, len, &fo);
    if (rc == 0)
        rc = walk_entries(w, d, len, &fo);
    free(fo.v);
    pr_buf_free(&fo.names);
    closedir(d);
    return rc;
}

/* The Jekyll site a lone file belongs to: the nearest folder above it with
 * a _config.yml, else its own folder. */
static char *site_root_of_file(const char *abs)
{
    char dir[PATH_MAX], cfg[PATH_MAX + 16];
    char *slash;

    snprintf(dir, sizeof dir, "%s", abs);
    while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
        *slash = '\0';
        snprintf(cfg, sizeof cfg, "%s/_config.yml", dir);
        if (access(cfg, F_OK) == 0)
            return strdup(dir);
    }
    snprintf(dir, sizeof dir, "%s", abs);
    slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    return strdup(dir);
}

static int resolve_root(index_root *r, const char *given, struct stat *sb, pr_error *err)
{
    char abs[PATH_MAX];
    pr_error site_err;

    r->given = strdup(given);
    if (!realpath(given, abs) || stat(abs, sb) != 0)
        return pr_error_set(err, 0, 0, "%s: %s", given, strerror(errno));
    if (!S_ISDIR(sb->st_mode) && !S_ISREG(sb->st_mode))
        return pr_error_set(err, 0, 0, "%s: not a file or folder", given);
    r->abs = strdup(abs);
    r->site_root = S_ISDIR(sb->st_mode) ? strdup(abs) : site_root_of_file(abs);
    if (!r->given || !r->abs || !r->site_root)
        return pr_error_set(err, 0, 0, "out of memory");
    pr_error_clear(&site_err);
    if (pr_site_load(r->site_root, &r->site, &site_err) < 0)
        return pr_error_set(err, 0, 0, "%s/_config.yml:%d:%d: %s", r->site_root, site_err.line,
                            site_err.col, site_err.message);
    return 0;
}

static int walk_root(file_list *l, const index_root *r, const struct stat *sb, pr_error *err)
{
    walker w = {.l = l, .root = r, .err = err};
    size_t len = strlen(r->abs);

    if (S_ISDIR(sb->st_mode)) {
        /* A folder PATH is its own site root (resolve_root()). */
        if (len >= sizeof w.path)
            return pr_error_set(err, 0, 0, "%s: %s", r->given, strerror(ENAMETOOLONG));
        memcpy(w.path, r->abs, len + 1);
        w.rel = len + 1;
        return walk_dir(&w, open(r->abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC), len);
    }
    if (add_file(l, r, r->abs, strlen(r->site_root) + 1, (long long)sb->st_size,
                 mtime_ns_of(sb)) != 0)
        return pr_error_set(err, 0, 0, "out of memory");
    return 0;
}

static int compare_files(const void *a, const void *b)
{
    return strcmp(((const index_file *)a)->source, ((const index_file *)b)->source);
}

/* Whether the files of the PATH walked last, from FIRST on, come after
 * all those of the PATHs before. */
static int follows(const file_list *l, size_t first)
{
    return first == 0 || first >= l->n ||
           strcmp(l->v[first - 1].source, l->v[first].source) < 0;
}

/* Each PATH's walk comes out in source order. PATHs given out of order or
 * nested (the same page twice) need a sort, keeping one of each. */
static void sort_files(file_list *l)
{
    size_t i, k;

    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, compare_files);
    for (i = k = 0; i < l->n; i++) {
        if (k == 0 || strcmp(l->v[k - 1].source, l->v[i].source) != 0)
            l->v[k++] = l->v[i];
    }
    l->n = k;
}

/* ---- phase 2: what changed -------------------------------------------- */

typedef struct id_list {
    sqlite3_int64 *v;
    size_t n, cap;
} id_list;

static int id_push(id_list *l, sqlite3_int64 id)
{
    if (grow((void **)&l->v, &l->cap, l->n, sizeof *l->v) != 0)
        return -1;
    l->v[l->n++] = id;
    return 0;
}

/* The index's hash H (NULL or 16 hex digits) into OUT: snprintf() took
 * a tenth of a rerun's time here and in the walk. */
static void copy_hash(char out[17], const unsigned char *h)
{
    size_t n = h ? strnlen((const char *)h, 16) : 0;

    if (n)
        memcpy(out, h, n);
    out[n] = '\0';
}

/* The first file whose source sorts at or after KEY. */
static size_t first_at_or_after(const file_list *l, const char *key)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(l->v[mid].source, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Set the state of the files under ROOT from the index and add to VANISHED
 * the pages of the index under ROOT that the walk did not find. One range
 * scan of documents_stat, in source order (SQLite's BINARY collation is
 * strcmp's order), merged with the sorted file list: the index answers
 * alone, no page row is read.
 */
static int lookup_root(sqlite3_stmt *st, file_list *l, const index_root *root, int full,
                       id_list *vanished)
{
    size_t alen = strlen(root->abs), j;
    char *end = malloc(alen + 2);
    int rc = 0;

    if (!end)
        return -1;
    memcpy(end, root->abs, alen);
    memcpy(end + alen, "0", 2); /* '0' follows '/' */
    sqlite3_bind_text(st, 1, root->abs, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
    j = first_at_or_after(l, root->abs);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *source = (const char *)sqlite3_column_text(st, 0);
        int c = 1;
        if (!source || (source[alen] != '\0' && source[alen] != '/'))
            continue; /* "/site-old/..." sorts inside "/site" .. "/site0" */
        while (j < l->n && (c = strcmp(l->v[j].source, source)) < 0)
            j++;
        if (c == 0) {
            index_file *f = &l->v[j];
            const unsigned char *h = sqlite3_column_text(st, 4);
            f->id = sqlite3_column_int64(st, 1);
            copy_hash(f->old_hash, h);
            f->state = (!full && sqlite3_column_int64(st, 2) == f->size &&
                        sqlite3_column_int64(st, 3) == f->mtime_ns)
                           ? FILE_UNCHANGED
                           : FILE_CHANGED;
        } else if (id_push(vanished, sqlite3_column_int64(st, 1)) != 0) {
            rc = -1;
        }
    }
    sqlite3_reset(st);
    free(end);
    return rc;
}

static int compare_ids(const void *a, const void *b)
{
    sqlite3_int64 x = *(const sqlite3_int64 *)a, y = *(const sqlite3_int64 *)b;

    return x < y ? -1 : x > y;
}

static int lookup_files(sqlite3 *db, file_list *l, const index_root *roots, int nroots,
                        int full, id_list *vanished, pr_error *err)
{
    sqlite3_stmt *st;
    size_t i, k;
    int r, rc = 0;

    if (sqlite3_prepare_v2(db, "SELECT source, id, size, mtime_ns, hash FROM documents"
                               " INDEXED BY documents_stat"
                               " WHERE source >= ?1 AND source < ?2 ORDER BY source",
                           -1, &st, NULL) != SQLITE_OK)
        return pr_error_set(err, 0, 0, "%s", sqlite3_errmsg(db));
    for (r = 0; rc == 0 && r < nroots; r++)
        rc = lookup_root(st, l, &roots[r], full, vanished);
    sqlite3_finalize(st);
    if (rc != 0)
        return pr_error_set(err, 0, 0, "out of memory");
    /* Nested or repeated PATHs see the same pages twice. */
    if (vanished->n > 1)
        qsort(vanished->v, vanished->n, sizeof *vanished->v, compare_ids);
    for (i = k = 0; i < vanished->n; i++)
        if (k == 0 || vanished->v[k - 1] != vanished->v[i])
            vanished->v[k++] = vanished->v[i];
    vanished->n = k;
    return 0;
}

/* ---- phase 3a: parsing (worker threads) ------------------------------ */

/* FNV-1a, 64 bits: change detection, not security. */
static void hash_bytes(const char *p, size_t n, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static char *read_file(const char *path, long long max_size, size_t *len, pr_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    char *buf;
    size_t got = 0;

    if (fd < 0) {
        pr_error_set(err, 0, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &sb) != 0 || sb.st_size > max_size) {
        pr_error_set(err, 0, 0, "file too large: %lld bytes (limit %lld, see --max-size)",
                     (long long)sb.st_size, max_size);
        close(fd);
        return NULL;
    }
    buf = malloc((size_t)sb.st_size + 1);
    while (buf && got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != (size_t)sb.st_size) {
        pr_error_set(err, 0, 0, "cannot read: %s", buf ? "short read" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

static char *json_list(const pr_strlist *l)
{
    json_t *a = json_array();
    char *s;
    size_t i;

    for (i = 0; a && i < l->n; i++)
        json_array_append_new(a, json_string(l->items[i]));
    s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

/* "communiques\nCommuniqué de presse\nEIG": what the taxonomy column indexes. */
static char *taxonomy_text(const char *collection, const pr_doc *d)
{
    size_t len = strlen(collection) + 1, i;
    char *s, *p;

    for (i = 0; i < d->categories.n; i++)
        len += strlen(d->categories.items[i]) + 1;
    for (i = 0; i < d->tags.n; i++)
        len += strlen(d->tags.items[i]) + 1;
    s = malloc(len + 1);
    if (!s)
        return NULL;
    p = s + sprintf(s, "%s", collection);
    for (i = 0; i < d->categories.n; i++)
        p += sprintf(p, "\n%s", d->categories.items[i]);
    for (i = 0; i < d->tags.n; i++)
        p += sprintf(p, "\n%s", d->tags.items[i]);
    return s;
}

/* A parser thread's own analysers, and the vocabulary it counts for the
 * pages it prepares (every one is written, or the run fails). */
typedef struct parser {
    fr_tokenizer *tok;
    pr_lexer *lexer;
    pr_vocab_delta *vocab;
    pr_surface_pairs *surfaces; /* what tok reports (prefix_surfaces.h) */
} parser;

static int parser_init(parser *ps)
{
    ps->tok = fr_tokenizer_new();
    ps->lexer = pr_lexer_new();
    ps->vocab = pr_vocab_delta_new();
    ps->surfaces = pr_surface_pairs_new();
    if (!ps->tok || !ps->lexer || !ps->vocab || !ps->surfaces)
        return -1;
    pr_lexer_count_into(ps->lexer, ps->vocab);
    fr_tokenizer_watch_surfaces(ps->tok, pr_surface_pairs_add, ps->surfaces);
    return 0;
}

static void parser_free(parser *ps)
{
    fr_tokenizer_free(ps->tok);
    pr_lexer_free(ps->lexer);
    pr_vocab_delta_free(ps->vocab);
    pr_surface_pairs_free(ps->surfaces);
}

static void free_parsed(parsed *p)
{
    if (!p)
        return;
    pr_doc_free(&p->doc);
    free(p->collection);
    free(p->url);
    free(p->cats);
    free(p->tags);
    free(p->taxonomy);
    free(p->facets);
    pr_page_facts_free(&p->facts);
    fts5_french_tokens_free(&p->tokens);
    free(p);
}

/* Whether the facets in B already have (KIND, FOLDED). */
static int has_facet(const pr_buf *b, const char *kind, const char *folded)
{
    const char *s = b->p, *end;

    if (!s)
        return 0;
    for (end = s + b->len; s < end;) {
        const char *f = s + strlen(s) + 1, *v = f + strlen(f) + 1;
        if (!strcmp(s, kind) && !strcmp(f, folded))
            return 1;
        s = v + strlen(v) + 1;
    }
    return 0;
}

/* The facets of the page: collection, categories, tags, year, as
 * "kind\0folded\0value\0" triples, each (kind, folded) once (the first
 * spelling). */
static int prepare_facets(parsed *p)
{
    const pr_doc *d = &p->doc;
    const char *kinds[] = {"collection", "category", "tag", "year"};
    pr_buf b;
    char year[5] = "";
    size_t i, k;

    pr_buf_init(&b);
    if (d->date)
        snprintf(year, sizeof year, "%.4s", d->date);
    for (k = 0; k < 4; k++) {
        const pr_strlist one = {(char **)&p->collection, 1};
        char *ys = year;
        const pr_strlist yl = {&ys, d->date ? 1 : 0};
        const pr_strlist *l = k == 0 ? &one : k == 1 ? &d->categories : k == 2 ? &d->tags : &yl;
        for (i = 0; i < l->n; i++) {
            const char *v = l->items[i];
            char *folded = fr_fold(v, (int)strlen(v));
            if (!folded) {
                b.oom = 1;
                break;
            }
            if (!has_facet(&b, kinds[k], folded)) {
                pr_buf_add(&b, kinds[k], strlen(kinds[k]) + 1);
                pr_buf_add(&b, folded, strlen(folded) + 1);
                pr_buf_add(&b, v, strlen(v) + 1);
            }
            free(folded);
        }
    }
    if (b.oom) {
        pr_buf_free(&b);
        return -1;
    }
    p->facets_len = b.len;
    p->facets = pr_buf_take(&b);
    return p->facets ? 0 : -1;
}

/* The fts columns of a parsed page, in fts order (index_db.h). */
static void fts_columns(const parsed *p, const char *text[PR_NCOLS], int len[PR_NCOLS])
{
    int c;

    text[PR_COL_TITLE] = p->doc.title;
    text[PR_COL_HEADINGS] = p->doc.headings;
    text[PR_COL_CHAPEAU] = p->doc.chapeau;
    text[PR_COL_BODY] = p->doc.body;
    text[PR_COL_TAXONOMY] = p->taxonomy;
    for (c = 0; c < PR_NCOLS; c++)
        len[c] = text[c] ? (int)strlen(text[c]) : 0;
}

/* Everything the writer needs that the index does not: the row's JSON
 * and taxonomy, facets, the derived tables' facts, the FTS5 tokens. */
static int prepare_row(parsed *p, parser *ps)
{
    const char *text[PR_NCOLS];
    int len[PR_NCOLS], c;

    p->cats = json_list(&p->doc.categories);
    p->tags = json_list(&p->doc.tags);
    p->taxonomy = taxonomy_text(p->collection, &p->doc);
    if (!p->cats || !p->tags || !p->taxonomy || prepare_facets(p) != 0)
        return -1;
    fts_columns(p, text, len);
    if (pr_page_facts_compute(ps->lexer, text, len, PR_FACTS_ALL | PR_FACTS_COUNT, &p->facts) != 0)
        return -1;
    for (c = 0; c < PR_NCOLS; c++) {
        if (fts5_french_record(ps->tok, text[c], len[c], &p->tokens) != 0)
            return -1;
        p->tok_end[c] = p->tokens.len;
    }
    return 0;
}

/* Keep why F is rejected: few are, and a pr_error is 0.5 kB. */
static void keep_error(index_file *f, const pr_error *e)
{
    f->err = malloc(sizeof *f->err);
    if (f->err)
        *f->err = *e;
}

static void parse_file(index_file *f, long long max_size, int full, parser *ps)
{
    const char *base = strrchr(f->relpath, '/');
    pr_error e;
    size_t len;
    char *src;
    parsed *p;

    pr_error_clear(&e);
    f->outcome = PARSED_REJECTED;
    src = read_file(f->source, max_size, &len, &e);
    if (!src) {
        keep_error(f, &e);
        return;
    }
    hash_bytes(src, len, f->hash);
    if (!full && f->state == FILE_CHANGED && !strcmp(f->hash, f->old_hash)) {
        f->outcome = PARSED_SAME;
    } else if (!(p = calloc(1, sizeof *p))) {
        pr_error_set(&e, 0, 0, "out of memory");
    } else if (pr_doc_parse(src, len, base ? base + 1 : f->relpath, &p->doc, &e) != 0) {
        free(p);
    } else {
        p->collection = pr_site_collection(f->relpath);
        p->url = p->collection ? pr_site_url(f->root->site, p->collection, f->relpath, &p->doc)
                               : NULL;
        if (!p->collection || !p->url || (p->doc.published && prepare_row(p, ps) != 0)) {
            free_parsed(p);
            pr_error_set(&e, 0, 0, "out of memory");
        } else {
            f->p = p;
            f->outcome = PARSED_DOC;
        }
    }
    if (f->outcome == PARSED_REJECTED)
        keep_error(f, &e);
    free(src);
}

/* The parse queue: files to parse, claimed in order by workers and
 * consumed in the same order by the writer. */
typedef struct parse_queue {
    index_file **files;
    size_t n;
    size_t next;      /* next file a worker claims */
    size_t consumed;  /* files the writer has finished with */
    long long claimed_bytes, consumed_bytes; /* their sizes */
    unsigned char *ready;
    int stop;
    long long max_size;
    int full;
    pthread_mutex_t lock;
    pthread_cond_t changed;
} parse_queue;

typedef struct worker_arg {
    parse_queue *q;
    parser ps;
} worker_arg;

/* May a worker parse the next file? Within PARSE_WINDOW files and
 * AHEAD_BYTES of the writer; the file the writer needs next, always. A
 * batch (at most BATCH_BYTES) can thus always be parsed whole. */
static int may_claim(const parse_queue *q)
{
    return q->next < q->consumed + PARSE_WINDOW &&
           (q->next == q->consumed ||
            q->claimed_bytes - q->consumed_bytes + q->files[q->next]->size <= AHEAD_BYTES);
}

/*
 * The writer is the bottleneck of a large run (one thread for SQLite),
 * and a parser is runnable whenever the window lets it run ahead: with
 * as many parsers as cores, the scheduler gave the writer a share of a
 * core only. A lower priority for the parsers (Linux: nice is per thread)
 * lets the writer keep a core while they use what it leaves. Best effort:
 * a parser that cannot lower its priority runs as before.
 */
#define PARSER_NICE 5

static void lower_parser_priority(void)
{
#ifdef __linux__
    id_t tid = (id_t)syscall(SYS_gettid);
    int nice;

    errno = 0;
    nice = getpriority(PRIO_PROCESS, tid);
    if (nice == -1 && errno != 0)
        return;
    /* relative to the run's own: a run started with nice 10 stays below */
    setpriority(PRIO_PROCESS, tid, nice + PARSER_NICE < 19 ? nice + PARSER_NICE : 19);
#endif
}

static void *parse_worker(void *arg)
{
    parse_queue *q = ((worker_arg *)arg)->q;
    parser *ps = &((worker_arg *)arg)->ps;
    size_t i;

    lower_parser_priority();
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->stop && q->next < q->n && !may_claim(q))
            pthread_cond_wait(&q->changed, &q->lock);
        if (q->stop || q->next >= q->n)
            break;
        i = q->next++;
        q->claimed_bytes += q->files[i]->size;
        pthread_mutex_unlock(&q->lock);
        parse_file(q->files[i], q->max_size, q->full, ps);
        pthread_mutex_lock(&q->lock);
        q->ready[i] = 1;
        pthread_cond_broadcast(&q->changed);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

static void wait_ready(parse_queue *q, size_t i)
{
    pthread_mutex_lock(&q->lock);
    while (!q->ready[i])
        pthread_cond_wait(&q->changed, &q->lock);
    pthread_mutex_unlock(&q->lock);
}

static void mark_consumed(parse_queue *q, size_t i)
{
    pthread_mutex_lock(&q->lock);
    for (; q->consumed <= i; q->consumed++)
        q->consumed_bytes += q->files[q->consumed]->size;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->lock);
}

/* ---- phase 3b: writing (this thread) ---------------------------------- */

enum { ST_INSERT, ST_UPSERT, ST_SET_FACETS, ST_TOUCH, ST_DELETE, ST_FTS_DELETE, ST_FTS_INSERT,
       NSTMT };

/* The pages of a batch, by id: FTS5 takes them in rowid order. */
#define BATCH_IDS " FROM documents WHERE id IN (SELECT value FROM json_each(?1))"

static const char *const stmt_sql[NSTMT] = {
#define INSERT_ROW                                                                          \
    "INSERT INTO documents(source, root, path, collection, url, title, date, date_ts,"     \
    " categories, tags, chapeau, headings, body, taxonomy, size, mtime_ns, hash, simhash)" \
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)"
    /* a page not in the index (its id: sqlite3_last_insert_rowid) */
    [ST_INSERT] = INSERT_ROW,
    [ST_UPSERT] =
        INSERT_ROW " ON CONFLICT(source) DO UPDATE SET root=excluded.root, path=excluded.path,"
        " collection=excluded.collection, url=excluded.url, title=excluded.title,"
        " date=excluded.date, date_ts=excluded.date_ts, categories=excluded.categories,"
        " tags=excluded.tags, chapeau=excluded.chapeau, headings=excluded.headings,"
        " body=excluded.body, taxonomy=excluded.taxonomy, size=excluded.size,"
        " mtime_ns=excluded.mtime_ns, hash=excluded.hash, simhash=excluded.simhash RETURNING id",
    [ST_SET_FACETS] = "INSERT OR REPLACE INTO doc_facets(doc_id, facets) VALUES (?, ?)",
    [ST_TOUCH] = "UPDATE documents SET size = ?, mtime_ns = ? WHERE id = ?",
    [ST_DELETE] = "DELETE FROM documents WHERE id = ?",
    [ST_FTS_DELETE] = "INSERT INTO fts(fts, rowid, title, headings, chapeau, body, taxonomy)"
                      " SELECT 'delete', id, title, headings, chapeau, body, taxonomy" BATCH_IDS,
    [ST_FTS_INSERT] = "INSERT INTO fts(rowid, title, headings, chapeau, body, taxonomy)"
                      " SELECT id, title, headings, chapeau, body, taxonomy" BATCH_IDS,
};

typedef struct writer {
    sqlite3 *db;
    sqlite3_stmt *st[NSTMT];
    pr_derived *derived;  /* vocabulary, acronyms, fingerprints (lexicon.h) */
    fts5_french_replay *replay; /* the batch's tokens, recorded by the workers */
    pr_buf old_ids, new_ids;    /* the batch's pages leaving / entering fts, JSON */
    pr_index_stats *stats;
    pr_index_report_fn report;
    void *ctx;
} writer;

static int sql_fail(writer *w, pr_error *err)
{
    return pr_error_set(err, 0, 0, "index write failed: %s", sqlite3_errmsg(w->db));
}

/* Run a prepared statement that returns no rows, then reset it. */
static int run_stmt(writer *w, int which, pr_error *err)
{
    int rc = sqlite3_step(w->st[which]);

    sqlite3_reset(w->st[which]);
    sqlite3_clear_bindings(w->st[which]);
    return rc == SQLITE_DONE ? 0 : sql_fail(w, err);
}

static void add_id(pr_buf *ids, sqlite3_int64 id)
{
    char num[32];

    pr_buf_addc(ids, ids->len ? ',' : '[');
    pr_buf_add(ids, num, (size_t)snprintf(num, sizeof num, "%lld", (long long)id));
}

/* One FTS5 statement for the pages of IDS (a JSON array being built). */
static int run_fts(writer *w, int which, pr_buf *ids, pr_error *err)
{
    int rc;

    if (ids->len == 0)
        return 0;
    pr_buf_addc(ids, ']');
    if (ids->oom)
        return pr_error_set(err, 0, 0, "out of memory");
    sqlite3_bind_text(w->st[which], 1, ids->p, (int)ids->len, SQLITE_STATIC);
    rc = run_stmt(w, which, err);
    ids->len = 0;
    return rc;
}

/* The facets of page ID, its one row of doc_facets (index_db.h). */
static int write_facets(writer *w, sqlite3_int64 id, const parsed *p, pr_error *err)
{
    sqlite3_stmt *st = w->st[ST_SET_FACETS];

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, p->facets ? p->facets : "", (int)p->facets_len, SQLITE_STATIC);
    return run_stmt(w, ST_SET_FACETS, err);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Write the row of F (its old version already left fts and the
 * vocabulary), its facets and derived facts; fts takes it with the batch. */
static int upsert_doc(writer *w, index_file *f, pr_error *err)
{
    sqlite3_stmt *st = w->st[f->state == FILE_NEW ? ST_INSERT : ST_UPSERT];
    const parsed *p = f->p;
    sqlite3_int64 id = 0;
    int rc;

    bind_text(st, 1, f->source);
    bind_text(st, 2, f->root->site_root);
    bind_text(st, 3, f->relpath);
    bind_text(st, 4, p->collection);
    bind_text(st, 5, p->url);
    bind_text(st, 6, p->doc.title);
    bind_text(st, 7, p->doc.date);
    if (p->doc.date)
        sqlite3_bind_int64(st, 8, p->doc.date_ts);
    bind_text(st, 9, p->cats);
    bind_text(st, 10, p->tags);
    bind_text(st, 11, p->doc.chapeau);
    bind_text(st, 12, p->doc.headings);
    bind_text(st, 13, p->doc.body);
    bind_text(st, 14, p->taxonomy);
    sqlite3_bind_int64(st, 15, f->size);
    sqlite3_bind_int64(st, 16, f->mtime_ns);
    bind_text(st, 17, f->hash);
    if (p->facts.simhash)
        sqlite3_bind_int64(st, 18, (sqlite3_int64)p->facts.simhash);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    if (rc == SQLITE_DONE && f->state == FILE_NEW)
        id = sqlite3_last_insert_rowid(w->db);
    else if (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE && id ? 0 : sql_fail(w, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == 0)
        rc = write_facets(w, id, p, err);
    if (rc == 0)
        rc = pr_derived_add(w->derived, id, f->state == FILE_NEW, &p->facts, err);
    if (rc == 0)
        add_id(&w->new_ids, id);
    return rc;
}

static void report_file(writer *w, pr_index_event ev, const index_file *f, const pr_error *e)
{
    static const pr_error oom = {0, 0, "out of memory"};
    char shown[PATH_MAX * 2];
    const char *rel = f->source + strlen(f->root->abs);

    if (!w->report)
        return;
    /* Name the file as the user would: the PATH they gave + the rest. */
    snprintf(shown, sizeof shown, "%s%s", f->root->given, rel);
    w->report(w->ctx, &(pr_index_report){.event = ev, .path = shown, .err = e ? e : &oom});
}

static int touch_doc(writer *w, const index_file *f, pr_error *err)
{
    sqlite3_bind_int64(w->st[ST_TOUCH], 1, f->size);
    sqlite3_bind_int64(w->st[ST_TOUCH], 2, f->mtime_ns);
    sqlite3_bind_int64(w->st[ST_TOUCH], 3, f->id);
    return run_stmt(w, ST_TOUCH, err);
}

/* Remove a page: its words leave the vocabulary, the schema's delete
 * trigger takes it out of fts and the page's other tables. */
static int delete_doc(writer *w, sqlite3_int64 id, pr_error *err)
{
    if (pr_derived_doc(w->derived, id, -1, err) != 0)
        return -1;
    sqlite3_bind_int64(w->st[ST_DELETE], 1, id);
    return run_stmt(w, ST_DELETE, err);
}

/* A page whose new version replaces the indexed one. */
static int replaces(const index_file *f)
{
    return f->outcome == PARSED_DOC && f->p->doc.published && f->state != FILE_NEW;
}

/* Apply one parsed file to the index. */
static int write_file(writer *w, index_file *f, pr_error *err)
{
    switch (f->outcome) {
    case PARSED_REJECTED:
        w->stats->rejected++;
        w->stats->files++;
        report_file(w, PR_EVENT_REJECTED, f, f->err);
        return 0; /* keep what was indexed before: a broken edit loses nothing */
    case PARSED_SAME:
        w->stats->unchanged++;
        w->stats->files++;
        return touch_doc(w, f, err);
    case PARSED_DOC:
        break;
    }
    if (!f->p->doc.published) {
        /* A draft is not a page: it is not counted, and leaves the index. */
        if (f->state == FILE_NEW)
            return 0;
        w->stats->removed++;
        return delete_doc(w, f->id, err);
    }
    if (f->p->doc.utf8_repaired) {
        pr_error warning;
        pr_error_set(&warning, 0, 0, "warning: invalid UTF-8 replaced by U+FFFD");
        report_file(w, PR_EVENT_WARNING, f, &warning);
    }
    w->stats->files++;
    if (f->state == FILE_NEW)
        w->stats->added++;
    else
        w->stats->updated++;
    return upsert_doc(w, f, err);
}

/*
 * Write N parsed files, in order. Pages replaced leave fts first, all in
 * one statement (their old text, read back from documents), then the rows
 * are written, then the new versions enter fts in one statement; the
 * tokens FTS5 asks for come from the workers' records.
 */
static int write_batch(writer *w, index_file **files, size_t n, pr_error *err)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < n; i++) {
        const parsed *p = files[i]->p;
        const char *text[PR_NCOLS];
        int len[PR_NCOLS], c;
        if (files[i]->outcome != PARSED_DOC || !p->doc.published)
            continue;
        fts_columns(p, text, len);
        for (c = 0; rc == 0 && p->tokens.p && c < PR_NCOLS; c++) {
            size_t from = c ? p->tok_end[c - 1] : 0;
            rc = fts5_french_replay_add(w->replay, text[c], len[c], p->tokens.p + from,
                                        p->tok_end[c] - from);
        }
        if (rc != 0)
            rc = pr_error_set(err, 0, 0, "out of memory");
    }
    for (i = 0; rc == 0 && i < n; i++)
        if (replaces(files[i])) {
            rc = pr_derived_doc(w->derived, files[i]->id, -1, err);
            add_id(&w->old_ids, files[i]->id);
        }
    /* old texts leave fts: no new words there, not a replay miss */
    fts5_french_replay_use(NULL);
    if (rc == 0)
        rc = run_fts(w, ST_FTS_DELETE, &w->old_ids, err);
    fts5_french_replay_use(w->replay);
    for (i = 0; rc == 0 && i < n; i++)
        rc = write_file(w, files[i], err);
    if (rc == 0)
        rc = run_fts(w, ST_FTS_INSERT, &w->new_ids, err);
    fts5_french_replay_clear(w->replay);
    return rc;
}

static void free_file_parse(index_file *f)
{
    free_parsed(f->p);
    f->p = NULL;
    free(f->err);
    f->err = NULL;
    f->outcome = PARSED_REJECTED;
}

static int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (int)(n > 16 ? 16 : n) : 1;
}

static void progress(writer *w, long done, long total)
{
    if (w->report)
        w->report(w->ctx, &(pr_index_report){.event = PR_EVENT_PROGRESS, .done = done,
                                             .total = total});
}

/* Parse the files that need it on worker threads and write them, in
 * order and by batches, on this thread. */
static int parse_and_write(writer *w, file_list *l, const pr_index_options *opts, pr_error *err)
{
    parse_queue q = {0};
    pthread_t tids[16];
    worker_arg args[16];
    parser self;
    int nthreads = opts->threads > 0 ? opts->threads : cpu_count(), started = 0, rc = 0, t;
    size_t i, k = 0, end;

    if (nthreads > 16)
        nthreads = 16;
    memset(args, 0, sizeof args);
    memset(&self, 0, sizeof self);
    q.files = calloc(l->n ? l->n : 1, sizeof *q.files);
    q.ready = calloc(l->n ? l->n : 1, 1);
    if (!q.files || !q.ready) {
        free(q.files), free(q.ready);
        return pr_error_set(err, 0, 0, "out of memory");
    }
    for (i = 0; i < l->n; i++) {
        if (l->v[i].state == FILE_UNCHANGED) {
            w->stats->unchanged++;
            w->stats->files++;
        } else {
            q.files[q.n++] = &l->v[i];
        }
    }
    if (nthreads > (int)q.n)
        nthreads = (int)q.n;
    for (t = 0; t < nthreads; t++)
        if (parser_init(&args[t].ps) != 0)
            rc = -1;
    if (q.n > 0 && parser_init(&self) != 0)
        rc = -1;
    if (rc != 0) {
        rc = pr_error_set(err, 0, 0, "out of memory");
        goto done;
    }
    q.max_size = opts->max_size > 0 ? opts->max_size : (long long)PR_DOC_MAX_SIZE_DEFAULT;
    q.full = opts->full;
    pthread_mutex_init(&q.lock, NULL);
    pthread_cond_init(&q.changed, NULL);
    for (; started < nthreads; started++) {
        args[started].q = &q;
        if (pthread_create(&tids[started], NULL, parse_worker, &args[started]) != 0)
            break;
    }
    fts5_french_replay_use(w->replay);
    for (k = 0; rc == 0 && k < q.n; k = end) {
        long long bytes = q.files[k]->size;
        for (end = k + 1; end < q.n && end - k < BATCH &&
                          bytes + q.files[end]->size <= BATCH_BYTES; end++)
            bytes += q.files[end]->size;
        for (i = k; i < end; i++) {
            if (started == 0)
                parse_file(q.files[i], q.max_size, q.full, &self);
            else
                wait_ready(&q, i);
        }
        rc = write_batch(w, q.files + k, end - k, err);
        for (i = k; i < end; i++)
            free_file_parse(q.files[i]);
        mark_consumed(&q, end - 1);
        for (i = k; rc == 0 && i < end; i++)
            progress(w, (long)(l->n - q.n + i + 1), (long)l->n);
    }
    fts5_french_replay_use(NULL);
    pthread_mutex_lock(&q.lock);
    q.stop = 1;
    pthread_cond_broadcast(&q.changed);
    pthread_mutex_unlock(&q.lock);
    while (started > 0)
        pthread_join(tids[--started], NULL);
    /* After an early stop, files parsed ahead still hold documents. */
    for (; k < q.n; k++)
        if (q.ready[k])
            free_file_parse(q.files[k]);
    pthread_cond_destroy(&q.changed);
    pthread_mutex_destroy(&q.lock);
done:
    for (t = 0; t < nthreads; t++) {
        if (rc == 0 && pr_lexer_flush_counts(args[t].ps.lexer) != 0)
            rc = pr_error_set(err, 0, 0, "out of memory");
        if (rc == 0)
            rc = pr_derived_merge(w->derived, args[t].ps.vocab, err);
        if (rc == 0)
            rc = pr_surface_pairs_write(w->db, args[t].ps.surfaces, err);
        parser_free(&args[t].ps);
    }
    if (rc == 0 && self.lexer && pr_lexer_flush_counts(self.lexer) != 0)
        rc = pr_error_set(err, 0, 0, "out of memory");
    if (rc == 0 && self.vocab)
        rc = pr_derived_merge(w->derived, self.vocab, err);
    if (rc == 0 && self.surfaces)
        rc = pr_surface_pairs_write(w->db, self.surfaces, err);
    parser_free(&self);
    free(q.files);
    free(q.ready);
    return rc;
}

/* Remove the pages under the PATHs that this run did not see: deleted
 * files, and files the site's rules now leave out. Page by page, so their
 * words leave the vocabulary. */
static int remove_vanished(writer *w, const id_list *vanished, pr_error *err)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < vanished->n; i++) {
        rc = delete_doc(w, vanished->v[i], err);
        if (rc == 0)
            w->stats->removed++;
    }
    return rc;
}

static int exec_sql(sqlite3 *db, const char *sql, pr_error *err)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    pr_error_set(err, 0, 0, "index write failed: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

static int prepare_writer(writer *w, pr_error *err)
{
    int i;

    /* Inside the run's transaction, never committed: the schema's insert
     * and update triggers leave fts to write_batch(). */
    if (exec_sql(w->db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('fts_by_indexer', 1)",
                 err) != 0)
        return -1;
    /* A setting of the fts table, kept with it: written once per index. */
    if (exec_sql(w->db, "INSERT INTO fts(fts, rank) SELECT 'hashsize', " PR_STR(FTS_HASHSIZE)
                        " WHERE NOT EXISTS (SELECT 1 FROM fts_config WHERE k = 'hashsize'"
                        " AND v = " PR_STR(FTS_HASHSIZE) ")",
                 err) != 0)
        return -1;
    for (i = 0; i < NSTMT; i++)
        if (sqlite3_prepare_v3(w->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i],
                               NULL) != SQLITE_OK)
            return sql_fail(w, err);
    pr_buf_init(&w->old_ids);
    pr_buf_init(&w->new_ids);
    w->replay = fts5_french_replay_new();
    w->derived = pr_derived_new(w->db);
    if (!w->replay)
        return pr_error_set(err, 0, 0, "out of memory");
    return w->derived ? 0 : sql_fail(w, err);
}

static void finish_writer(writer *w)
{
    int i;

    for (i = 0; i < NSTMT; i++)
        sqlite3_finalize(w->st[i]);
    pr_derived_free(w->derived);
    w->derived = NULL;
    fts5_french_replay_free(w->replay);
    w->replay = NULL;
    pr_buf_free(&w->old_ids);
    pr_buf_free(&w->new_ids);
}

/* The synonyms file's text, kept in the index: the searcher reads it
 * from there (one source of truth, reloaded with the index). */
static int store_synonyms(sqlite3 *db, const char *text, pr_error *err)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('synonyms', ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return pr_error_set(err, 0, 0, "index write failed: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : pr_error_set(err, 0, 0, "index write failed: %s",
                                                 sqlite3_errmsg(db));
}

/* Does the index hold no page (a new index)? */
static int index_empty(sqlite3 *db)
{
    sqlite3_stmt *st;
    int empty = 0;

    if (sqlite3_prepare_v2(db, "SELECT NOT EXISTS (SELECT 1 FROM documents)", -1, &st, NULL) ==
        SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        empty = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return empty;
}

/* Is the surface list (prefix_surfaces.h) marked complete? */
static int surfaces_complete(sqlite3 *db)
{
    sqlite3_stmt *st;
    int yes = 0;

    if (sqlite3_prepare_v2(db, PR_SURFACES_COMPLETE_SQL, -1, &st, NULL) == SQLITE_OK)
        yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

/*
 * Every run leaves the surface list (prefix_surfaces.h) complete: prefix
 * queries on the index find surface forms through it alone
 * (fts5_french.h). The parser threads report the forms of every page they
 * tokenize, so the list stays complete when it was, and becomes so after a
 * run that tokenized every page (a new index, --full with no rejected
 * file: a rejected one keeps its page as it was indexed, maybe before the
 * list). Otherwise (an index whose pages were written by hand, or rebuilt
 * by FTS5, or FTS5 tokenized a page of this run itself) the forms of every
 * stored page are read again. EMPTY: the index had no page when the run
 * began.
 */
static int note_surfaces(writer *w, const pr_index_options *opts, int empty, pr_error *err)
{
    int misses = fts5_french_replay_misses(w->replay) > 0;

    if (!misses && surfaces_complete(w->db))
        return 0;
    if ((misses || !(empty || (opts->full && w->stats->rejected == 0))) &&
        pr_surfaces_list_all(w->db, err) != 0)
        return -1;
    return exec_sql(w->db, "INSERT OR REPLACE INTO meta(key, value)"
                           " VALUES ('prefix_surfaces', 'complete')", err);
}

static int write_run(writer *w, file_list *l, index_root *roots, int nroots,
                     const pr_index_options *opts, pr_error *err)
{
    id_list vanished = {0};
    int rc, empty = 0;

    rc = exec_sql(w->db, "BEGIN IMMEDIATE", err);
    if (rc == 0)
        empty = index_empty(w->db);
    if (rc == 0)
        rc = prepare_writer(w, err);
    if (rc == 0)
        rc = lookup_files(w->db, l, roots, nroots, opts->full, &vanished, err);
    if (rc == 0)
        rc = parse_and_write(w, l, opts, err);
    if (rc == 0)
        rc = remove_vanished(w, &vanished, err);
    if (rc == 0)
        rc = pr_derived_finish(w->derived, err);
    if (rc == 0 && opts->synonyms)
        rc = store_synonyms(w->db, opts->synonyms, err);
    if (rc == 0 && opts->full)
        rc = exec_sql(w->db, "INSERT INTO fts(fts) VALUES ('optimize')", err);
    if (rc == 0)
        rc = note_surfaces(w, opts, empty, err);
    if (rc == 0)
        rc = exec_sql(w->db, "DELETE FROM meta WHERE key = 'fts_by_indexer';"
                             "INSERT OR REPLACE INTO meta(key, value)"
                             " VALUES ('last_run', strftime('%s', 'now'))", err);
    finish_writer(w);
    free(vanished.v);
    if (rc == 0)
        rc = exec_sql(w->db, "COMMIT", err);
    if (rc != 0)
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    else
        pr_index_finish_first_run(w->db);
    return rc;
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void free_run(index_root *roots, int nroots, file_list *l)
{
    size_t i;
    int r;

    for (i = 0; i < l->n; i++)
        free(l->v[i].err);
    free(l->v);
    free_strings(l);
    for (r = 0; r < nroots; r++) {
        free(roots[r].given);
        free(roots[r].abs);
        free(roots[r].site_root);
        pr_site_free(roots[r].site);
    }
    free(roots);
}

int pr_index_run(sqlite3 *db, char *const *paths, int npaths, const pr_index_options *opts,
                 pr_index_stats *stats, pr_index_report_fn report, void *ctx, pr_error *err)
{
    index_root *roots = calloc((size_t)(npaths > 0 ? npaths : 1), sizeof *roots);
    file_list files = {0};
    writer w = {.db = db, .stats = stats, .report = report, .ctx = ctx};
    double start = now_seconds();
    int i, in_order = 1, rc = roots ? 0 : pr_error_set(err, 0, 0, "out of memory");

    memset(stats, 0, sizeof *stats);
    for (i = 0; rc == 0 && i < npaths; i++) {
        struct stat sb;
        size_t first = files.n;
        rc = resolve_root(&roots[i], paths[i], &sb, err);
        if (rc == 0)
            rc = walk_root(&files, &roots[i], &sb, err);
        if (rc == 0 && !follows(&files, first))
            in_order = 0;
    }
    if (rc == 0 && !in_order)
        sort_files(&files);
    if (rc == 0)
        rc = write_run(&w, &files, roots, npaths, opts, err);
    if (rc == 0) {
        stats->documents = pr_index_count(db);
        /* Fold the WAL back into the file and empty it: the index file
         * alone is then the whole index, so it can be copied or mv'ed over
         * a served one (a leftover WAL beside it would be replayed into the
         * new file). TRUNCATE waits for readers, within the busy timeout. */
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    stats->seconds = now_seconds() - start;
    free_run(roots, roots ? npaths : 0, &files);
    return rc;
}
