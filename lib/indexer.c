/*
 * indexer.c - one incremental indexing run (see indexer.h).
 *
 * A run has three phases:
 *   1. walk: list the pages under each PATH (site rules from jekyll_site.c)
 *      and stat them;
 *   2. decide, on the writer thread: look each page up in the index; pages
 *      whose size and mtime match are done without being opened;
 *   3. parse on worker threads and write on this one, in file order, inside
 *      one transaction that also removes pages gone from under the PATHs.
 * Workers only read files and build pr_doc values; SQLite is touched by
 * the calling thread alone, so the index has exactly one writer.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "document.h"
#include "fr_tokenizer.h"
#include "index_db.h"
#include "jekyll_site.h"
#include "lexicon.h"

/* How far parser threads may run ahead of the writer: bounds memory. */
#define PARSE_WINDOW 256

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

typedef struct index_file {
    const index_root *root;
    char *source;      /* absolute path */
    char *relpath;     /* relative to root->site_root */
    long long size, mtime_ns;
    file_state state;
    sqlite3_int64 id;  /* row in documents, when not FILE_NEW */
    char old_hash[17];
    /* Filled by a parser thread. */
    parse_outcome outcome;
    char hash[17];
    pr_doc doc;
    char *collection, *url;
    pr_error err;
} index_file;

typedef struct file_list {
    index_file *v;
    size_t n, cap;
} file_list;

/* ---- phase 1: walking ---------------------------------------------- */

static int has_page_extension(const char *name)
{
    const char *dot = strrchr(name, '.');

    return dot && (!strcasecmp(dot, ".md") || !strcasecmp(dot, ".markdown"));
}

static int add_file(file_list *l, const index_root *root, const char *source,
                    const char *relpath, const struct stat *sb)
{
    index_file *f;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        index_file *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    f = &l->v[l->n];
    memset(f, 0, sizeof *f);
    f->root = root;
    f->source = strdup(source);
    f->relpath = strdup(relpath);
    if (!f->source || !f->relpath) {
        free(f->source);
        free(f->relpath);
        return -1;
    }
    f->size = (long long)sb->st_size;
    f->mtime_ns = (long long)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
    l->n++;
    return 0;
}

static int walk_dir(file_list *l, const index_root *root, const char *dir, const char *reldir,
                    pr_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (!d)
        return pr_error_set(err, 0, 0, "%s: %s", dir, strerror(errno));
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[PATH_MAX], rel[PATH_MAX];
        struct stat sb;
        int is_dir;

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(rel, sizeof rel, "%s%s%s", reldir, reldir[0] ? "/" : "", e->d_name);
        if (lstat(path, &sb) != 0)
            continue;
        if (S_ISLNK(sb.st_mode) && (stat(path, &sb) != 0 || S_ISDIR(sb.st_mode)))
            continue; /* dangling links, and linked folders (loops) */
        is_dir = S_ISDIR(sb.st_mode);
        if (pr_site_classify(root->site, rel, is_dir) == PR_SITE_SKIP)
            continue;
        if (is_dir)
            rc = walk_dir(l, root, path, rel, err);
        else if (S_ISREG(sb.st_mode) && has_page_extension(e->d_name))
            rc = add_file(l, root, path, rel, &sb) ? pr_error_set(err, 0, 0, "out of memory") : 0;
    }
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
    if (S_ISDIR(sb->st_mode)) {
        const char *rel = r->abs + strlen(r->site_root);
        return walk_dir(l, r, r->abs, rel[0] == '/' ? rel + 1 : rel, err);
    }
    if (add_file(l, r, r->abs, r->abs + strlen(r->site_root) + 1, sb) != 0)
        return pr_error_set(err, 0, 0, "out of memory");
    return 0;
}

static int compare_files(const void *a, const void *b)
{
    return strcmp(((const index_file *)a)->source, ((const index_file *)b)->source);
}

/* ---- phase 2: what changed -------------------------------------------- */

static int lookup_files(sqlite3 *db, file_list *l, int full, pr_error *err)
{
    sqlite3_stmt *st;
    size_t i;

    if (sqlite3_prepare_v2(db, "SELECT id, size, mtime_ns, hash FROM documents WHERE source = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return pr_error_set(err, 0, 0, "%s", sqlite3_errmsg(db));
    for (i = 0; i < l->n; i++) {
        index_file *f = &l->v[i];
        sqlite3_bind_text(st, 1, f->source, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const unsigned char *h = sqlite3_column_text(st, 3);
            f->id = sqlite3_column_int64(st, 0);
            snprintf(f->old_hash, sizeof f->old_hash, "%s", h ? (const char *)h : "");
            f->state = (!full && sqlite3_column_int64(st, 1) == f->size &&
                        sqlite3_column_int64(st, 2) == f->mtime_ns)
                           ? FILE_UNCHANGED
                           : FILE_CHANGED;
        } else {
            f->state = FILE_NEW;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
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

static void parse_file(index_file *f, long long max_size, int full)
{
    const char *base = strrchr(f->relpath, '/');
    size_t len;
    char *src;

    pr_error_clear(&f->err);
    src = read_file(f->source, max_size, &len, &f->err);
    if (!src) {
        f->outcome = PARSED_REJECTED;
        return;
    }
    hash_bytes(src, len, f->hash);
    if (!full && f->state == FILE_CHANGED && !strcmp(f->hash, f->old_hash)) {
        f->outcome = PARSED_SAME;
    } else if (pr_doc_parse(src, len, base ? base + 1 : f->relpath, &f->doc, &f->err) != 0) {
        f->outcome = PARSED_REJECTED;
    } else {
        f->collection = pr_site_collection(f->relpath);
        f->url = f->collection ? pr_site_url(f->root->site, f->collection, f->relpath, &f->doc)
                               : NULL;
        f->outcome = PARSED_DOC;
        if (!f->collection || !f->url) {
            pr_doc_free(&f->doc);
            pr_error_set(&f->err, 0, 0, "out of memory");
            f->outcome = PARSED_REJECTED;
        }
    }
    free(src);
}

/* The parse queue: files to parse, claimed in order by workers and
 * consumed in the same order by the writer. */
typedef struct parse_queue {
    index_file **files;
    size_t n;
    size_t next;      /* next file a worker claims */
    size_t consumed;  /* files the writer has finished with */
    unsigned char *ready;
    int stop;
    long long max_size;
    int full;
    pthread_mutex_t lock;
    pthread_cond_t changed;
} parse_queue;

static void *parse_worker(void *arg)
{
    parse_queue *q = arg;
    size_t i;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->stop && q->next < q->n && q->next >= q->consumed + PARSE_WINDOW)
            pthread_cond_wait(&q->changed, &q->lock);
        if (q->stop || q->next >= q->n)
            break;
        i = q->next++;
        pthread_mutex_unlock(&q->lock);
        parse_file(q->files[i], q->max_size, q->full);
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
    q->consumed = i + 1;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->lock);
}

/* ---- phase 3b: writing (this thread) ---------------------------------- */

enum { ST_UPSERT, ST_DEL_FACETS, ST_ADD_FACET, ST_TOUCH, ST_DELETE, ST_SEEN, NSTMT };

static const char *const stmt_sql[NSTMT] = {
    [ST_UPSERT] =
        "INSERT INTO documents(source, root, path, collection, url, title, date, date_ts,"
        " categories, tags, chapeau, headings, body, taxonomy, size, mtime_ns, hash)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)"
        " ON CONFLICT(source) DO UPDATE SET root=excluded.root, path=excluded.path,"
        " collection=excluded.collection, url=excluded.url, title=excluded.title,"
        " date=excluded.date, date_ts=excluded.date_ts, categories=excluded.categories,"
        " tags=excluded.tags, chapeau=excluded.chapeau, headings=excluded.headings,"
        " body=excluded.body, taxonomy=excluded.taxonomy, size=excluded.size,"
        " mtime_ns=excluded.mtime_ns, hash=excluded.hash RETURNING id",
    [ST_DEL_FACETS] = "DELETE FROM doc_facets WHERE doc_id = ?",
    [ST_ADD_FACET] = "INSERT OR IGNORE INTO doc_facets(kind, folded, doc_id, value) VALUES (?,?,?,?)",
    [ST_TOUCH] = "UPDATE documents SET size = ?, mtime_ns = ? WHERE id = ?",
    [ST_DELETE] = "DELETE FROM documents WHERE id = ?",
    [ST_SEEN] = "INSERT OR IGNORE INTO temp.seen(id) VALUES (?)",
};

typedef struct writer {
    sqlite3 *db;
    sqlite3_stmt *st[NSTMT];
    pr_derived *derived;  /* vocabulary, acronyms, fingerprints (lexicon.h) */
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

static int mark_seen(writer *w, sqlite3_int64 id, pr_error *err)
{
    sqlite3_bind_int64(w->st[ST_SEEN], 1, id);
    return run_stmt(w, ST_SEEN, err);
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

static int add_facet(writer *w, sqlite3_int64 id, const char *kind, const char *value,
                     pr_error *err)
{
    char *folded = fr_fold(value, (int)strlen(value));

    if (!folded)
        return pr_error_set(err, 0, 0, "out of memory");
    sqlite3_bind_text(w->st[ST_ADD_FACET], 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->st[ST_ADD_FACET], 2, folded, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(w->st[ST_ADD_FACET], 3, id);
    sqlite3_bind_text(w->st[ST_ADD_FACET], 4, value, -1, SQLITE_STATIC);
    free(folded);
    return run_stmt(w, ST_ADD_FACET, err);
}

static int write_facets(writer *w, sqlite3_int64 id, const index_file *f, pr_error *err)
{
    const pr_doc *d = &f->doc;
    size_t i;
    int rc;

    sqlite3_bind_int64(w->st[ST_DEL_FACETS], 1, id);
    rc = run_stmt(w, ST_DEL_FACETS, err);
    if (rc == 0)
        rc = add_facet(w, id, "collection", f->collection, err);
    for (i = 0; rc == 0 && i < d->categories.n; i++)
        rc = add_facet(w, id, "category", d->categories.items[i], err);
    for (i = 0; rc == 0 && i < d->tags.n; i++)
        rc = add_facet(w, id, "tag", d->tags.items[i], err);
    if (rc == 0 && d->date) {
        char year[5];
        snprintf(year, sizeof year, "%.4s", d->date);
        rc = add_facet(w, id, "year", year, err);
    }
    return rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int upsert_doc(writer *w, index_file *f, pr_error *err)
{
    sqlite3_stmt *st = w->st[ST_UPSERT];
    char *cats = json_list(&f->doc.categories), *tags = json_list(&f->doc.tags);
    char *tax = taxonomy_text(f->collection, &f->doc);
    sqlite3_int64 id = 0;
    int rc;

    if (!cats || !tags || !tax) {
        free(cats), free(tags), free(tax);
        return pr_error_set(err, 0, 0, "out of memory");
    }
    if (f->state != FILE_NEW && pr_derived_doc(w->derived, f->id, -1, err) != 0) {
        free(cats), free(tags), free(tax);
        return -1;
    }
    bind_text(st, 1, f->source);
    bind_text(st, 2, f->root->site_root);
    bind_text(st, 3, f->relpath);
    bind_text(st, 4, f->collection);
    bind_text(st, 5, f->url);
    bind_text(st, 6, f->doc.title);
    bind_text(st, 7, f->doc.date);
    if (f->doc.date)
        sqlite3_bind_int64(st, 8, f->doc.date_ts);
    bind_text(st, 9, cats);
    bind_text(st, 10, tags);
    bind_text(st, 11, f->doc.chapeau);
    bind_text(st, 12, f->doc.headings);
    bind_text(st, 13, f->doc.body);
    bind_text(st, 14, tax);
    sqlite3_bind_int64(st, 15, f->size);
    sqlite3_bind_int64(st, 16, f->mtime_ns);
    bind_text(st, 17, f->hash);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    rc = (rc == SQLITE_ROW && sqlite3_step(st) == SQLITE_DONE) ? 0 : sql_fail(w, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    free(cats), free(tags), free(tax);
    if (rc == 0)
        rc = write_facets(w, id, f, err);
    if (rc == 0)
        rc = pr_derived_doc(w->derived, id, +1, err);
    if (rc == 0)
        rc = mark_seen(w, id, err);
    return rc;
}

static void report_file(writer *w, pr_index_event ev, const index_file *f)
{
    char shown[PATH_MAX * 2];
    const char *rel = f->source + strlen(f->root->abs);

    if (!w->report)
        return;
    /* Name the file as the user would: the PATH they gave + the rest. */
    snprintf(shown, sizeof shown, "%s%s", f->root->given, rel);
    w->report(w->ctx, &(pr_index_report){.event = ev, .path = shown, .err = &f->err});
}

static int touch_doc(writer *w, const index_file *f, pr_error *err)
{
    sqlite3_bind_int64(w->st[ST_TOUCH], 1, f->size);
    sqlite3_bind_int64(w->st[ST_TOUCH], 2, f->mtime_ns);
    sqlite3_bind_int64(w->st[ST_TOUCH], 3, f->id);
    return run_stmt(w, ST_TOUCH, err);
}

static int delete_doc(writer *w, sqlite3_int64 id, pr_error *err)
{
    if (pr_derived_doc(w->derived, id, -1, err) != 0)
        return -1;
    sqlite3_bind_int64(w->st[ST_DELETE], 1, id);
    return run_stmt(w, ST_DELETE, err);
}

/* Apply one parsed file to the index. */
static int write_file(writer *w, index_file *f, pr_error *err)
{
    switch (f->outcome) {
    case PARSED_REJECTED:
        w->stats->rejected++;
        w->stats->files++;
        report_file(w, PR_EVENT_REJECTED, f);
        /* Keep what was indexed before: a broken edit loses nothing. */
        return f->state == FILE_NEW ? 0 : mark_seen(w, f->id, err);
    case PARSED_SAME:
        w->stats->unchanged++;
        w->stats->files++;
        return touch_doc(w, f, err) ? -1 : mark_seen(w, f->id, err);
    case PARSED_DOC:
        break;
    }
    if (!f->doc.published) {
        /* A draft is not a page: it is not counted, and leaves the index. */
        if (f->state == FILE_NEW)
            return 0;
        w->stats->removed++;
        return delete_doc(w, f->id, err);
    }
    if (f->doc.utf8_repaired) {
        pr_error_set(&f->err, 0, 0, "warning: invalid UTF-8 replaced by U+FFFD");
        report_file(w, PR_EVENT_WARNING, f);
    }
    w->stats->files++;
    if (f->state == FILE_NEW)
        w->stats->added++;
    else
        w->stats->updated++;
    return upsert_doc(w, f, err);
}

static void free_parsed(index_file *f)
{
    if (f->outcome == PARSED_DOC)
        pr_doc_free(&f->doc);
    free(f->collection);
    free(f->url);
    f->collection = f->url = NULL;
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

/* Parse the files that need it on worker threads and write each one, in
 * order, on this thread. */
static int parse_and_write(writer *w, file_list *l, const pr_index_options *opts, pr_error *err)
{
    parse_queue q = {0};
    pthread_t tids[16];
    int nthreads = opts->threads > 0 ? opts->threads : cpu_count(), started = 0, rc = 0;
    size_t i, k = 0;

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
            if (mark_seen(w, l->v[i].id, err) != 0) {
                free(q.files), free(q.ready);
                return -1;
            }
        } else {
            q.files[q.n++] = &l->v[i];
        }
    }
    q.max_size = opts->max_size > 0 ? opts->max_size : (long long)PR_DOC_MAX_SIZE_DEFAULT;
    q.full = opts->full;
    pthread_mutex_init(&q.lock, NULL);
    pthread_cond_init(&q.changed, NULL);
    if (nthreads > 16)
        nthreads = 16;
    for (; started < nthreads && (size_t)started < q.n; started++)
        if (pthread_create(&tids[started], NULL, parse_worker, &q) != 0)
            break;
    for (k = 0; k < q.n; k++) {
        if (started == 0)
            parse_file(q.files[k], q.max_size, q.full);
        else
            wait_ready(&q, k);
        if (rc == 0)
            rc = write_file(w, q.files[k], err);
        free_parsed(q.files[k]);
        mark_consumed(&q, k);
        progress(w, (long)(l->n - q.n + k + 1), (long)l->n);
        if (rc != 0)
            break;
    }
    pthread_mutex_lock(&q.lock);
    q.stop = 1;
    pthread_cond_broadcast(&q.changed);
    pthread_mutex_unlock(&q.lock);
    while (started > 0)
        pthread_join(tids[--started], NULL);
    /* After an early stop, files parsed ahead still hold documents. */
    for (; k < q.n; k++)
        if (q.ready[k])
            free_parsed(q.files[k]);
    pthread_cond_destroy(&q.changed);
    pthread_mutex_destroy(&q.lock);
    free(q.files);
    free(q.ready);
    return rc;
}

/* Remove pages under ROOT that this run did not see: deleted files, and
 * files the site's rules now leave out. Page by page, so their words
 * leave the vocabulary. */
static int remove_vanished(writer *w, const index_root *root, pr_error *err)
{
    sqlite3_stmt *st;
    sqlite3_int64 *ids = NULL;
    size_t n = 0, cap = 0, i;
    int rc = 0;

    if (sqlite3_prepare_v2(w->db,
                           "SELECT id FROM documents WHERE (source = ?1 OR"
                           " (source > ?1 || '/' AND source < ?1 || '0'))"
                           " AND id NOT IN (SELECT id FROM temp.seen)",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(w, err);
    sqlite3_bind_text(st, 1, root->abs, -1, SQLITE_STATIC);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            sqlite3_int64 *nv = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *nv);
            if (!nv) {
                rc = pr_error_set(err, 0, 0, "out of memory");
                break;
            }
            ids = nv;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    for (i = 0; rc == 0 && i < n; i++) {
        rc = delete_doc(w, ids[i], err);
        if (rc == 0)
            w->stats->removed++;
    }
    free(ids);
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

    if (exec_sql(w->db, "CREATE TEMP TABLE IF NOT EXISTS seen(id INTEGER PRIMARY KEY);"
                        "DELETE FROM temp.seen;", err) != 0)
        return -1;
    for (i = 0; i < NSTMT; i++)
        if (sqlite3_prepare_v3(w->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i],
                               NULL) != SQLITE_OK)
            return sql_fail(w, err);
    w->derived = pr_derived_new(w->db);
    return w->derived ? 0 : sql_fail(w, err);
}

static void finish_writer(writer *w)
{
    int i;

    for (i = 0; i < NSTMT; i++)
        sqlite3_finalize(w->st[i]);
    pr_derived_free(w->derived);
    w->derived = NULL;
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

static int write_run(writer *w, file_list *l, index_root *roots, int nroots,
                     const pr_index_options *opts, pr_error *err)
{
    int i, rc;

    rc = exec_sql(w->db, "BEGIN IMMEDIATE", err);
    if (rc == 0)
        rc = prepare_writer(w, err);
    if (rc == 0)
        rc = lookup_files(w->db, l, opts->full, err);
    if (rc == 0)
        rc = parse_and_write(w, l, opts, err);
    for (i = 0; rc == 0 && i < nroots; i++)
        rc = remove_vanished(w, &roots[i], err);
    if (rc == 0)
        rc = pr_derived_finish(w->derived, err);
    if (rc == 0 && opts->synonyms)
        rc = store_synonyms(w->db, opts->synonyms, err);
    if (rc == 0 && opts->full)
        rc = exec_sql(w->db, "INSERT INTO fts(fts) VALUES ('optimize')", err);
    if (rc == 0)
        rc = exec_sql(w->db, "INSERT OR REPLACE INTO meta(key, value)"
                             " VALUES ('last_run', strftime('%s', 'now'))", err);
    finish_writer(w);
    if (rc == 0)
        rc = exec_sql(w->db, "COMMIT", err);
    if (rc != 0)
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
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

    for (i = 0; i < l->n; i++) {
        free(l->v[i].source);
        free(l->v[i].relpath);
    }
    free(l->v);
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
    int i, rc = roots ? 0 : pr_error_set(err, 0, 0, "out of memory");

    memset(stats, 0, sizeof *stats);
    for (i = 0; rc == 0 && i < npaths; i++) {
        struct stat sb;
        rc = resolve_root(&roots[i], paths[i], &sb, err);
        if (rc == 0)
            rc = walk_root(&files, &roots[i], &sb, err);
    }
    if (rc == 0 && files.n > 1)
        qsort(files.v, files.n, sizeof *files.v, compare_files);
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
