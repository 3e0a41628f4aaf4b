/*
 * analytics.c - the search analytics file: normalising a query, writing
 * daily counts (for prsearchd's recorder thread), and the report of
 * `prsearch --stats` (analytics.h).
 *
 * One table, one row per day and query: the count of searches and the
 * hit count of the last one. Per-day rows keep the file small (a busy
 * site sees a few thousand distinct queries a day) and hold nothing
 * that tells visitors apart.
 */
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#include "analytics.h"
#include "pr_defaults.h"

#define SCHEMA                                                                  \
    "CREATE TABLE IF NOT EXISTS searches("                                      \
    " day TEXT NOT NULL,"     /* YYYY-MM-DD, UTC */                             \
    " query TEXT NOT NULL,"   /* normalised, filters included */                \
    " count INTEGER NOT NULL," /* searches that day */                          \
    " hits INTEGER NOT NULL," /* pages found by the last of them */             \
    " PRIMARY KEY(day, query)) WITHOUT ROWID"

char *pr_analytics_default_path(const char *db)
{
    size_t n = strlen(db);
    char *p = malloc(n + sizeof ".analytics.db");
    if (!p)
        return NULL;
    if (n > 3 && strcmp(db + n - 3, ".db") == 0)
        n -= 3;
    memcpy(p, db, n);
    strcpy(p + n, ".analytics.db");
    return p;
}

/* --- normalising ------------------------------------------------------ */

struct buf {
    char *s;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->s, cap);
        if (!p) { b->failed = 1; return; }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

/* Lower case, no diacritics, ’ as ', runs of white space as one space. */
static void put_folded(struct buf *b, const char *q)
{
    utf8proc_uint8_t *f = NULL;
    int space = 0;
    if (utf8proc_map((const utf8proc_uint8_t *)q, 0, &f,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                         UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK) < 0) {
        b->failed = 1;
        return;
    }
    for (const unsigned char *p = f; *p;) {
        if (isspace(*p) || !memcmp(p, "\xc2\xa0", 2) || !memcmp(p, "\xe2\x80\xaf", 3)) {
            space = b->len > 0;
            p += *p < 0x80 ? 1 : *p == 0xc2 ? 2 : 3;
            continue;
        }
        if (space) put(b, " ", 1);
        space = 0;
        if (!memcmp(p, "\xe2\x80\x99", 3) || !memcmp(p, "\xca\xbc", 2)) { /* ’ ʼ */
            put(b, "'", 1);
            p += *p == 0xe2 ? 3 : 2;
            continue;
        }
        put(b, (const char *)p, 1);
        p++;
    }
    free(f);
}

/* Cut S (LEN bytes) to PR_ANALYTICS_QUERY_MAX bytes, at a UTF-8 character
 * boundary: a visitor's 1 KiB query must not cost 1 KiB on disk each day. */
static void cut_query(char *s, size_t len)
{
    size_t n = PR_ANALYTICS_QUERY_MAX;
    if (len <= n)
        return;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    s[n] = '\0';
}

/* key:value, quoted when the value has a space or a quote. */
static void put_filter(struct buf *b, const char *key, const char *v)
{
    if (!v || !*v) return;
    if (b->len) put(b, " ", 1);
    puts_(b, key);
    put(b, ":", 1);
    if (!strpbrk(v, " \t\"")) { puts_(b, v); return; }
    put(b, "\"", 1);
    for (; *v; v++)
        if (*v != '"') put(b, v, 1);
    put(b, "\"", 1);
}

char *pr_analytics_normalize(const char *q, const char *collection, const char *category,
                             const char *tag, const char *after, const char *before)
{
    struct buf b = {0};
    if (q) put_folded(&b, q);
    put_filter(&b, "collection", collection);
    put_filter(&b, "category", category);
    put_filter(&b, "tag", tag);
    /* The page's year filter is after=YYYY-01-01&before=YYYY-12-31. */
    if (after && before && strlen(after) == 10 && strncmp(after, before, 4) == 0 &&
        !strcmp(after + 4, "-01-01") && !strcmp(before + 4, "-12-31")) {
        char year[5];
        memcpy(year, after, 4);
        year[4] = '\0';
        put_filter(&b, "year", year);
    } else {
        put_filter(&b, "after", after);
        put_filter(&b, "before", before);
    }
    if (b.failed || !b.len) {
        free(b.s);
        return NULL;
    }
    cut_query(b.s, b.len);
    return b.s;
}

/* --- writing ---------------------------------------------------------- */

struct pr_analytics {
    sqlite3 *db;
    sqlite3_stmt *add;    /* insert or count one more */
    sqlite3_stmt *bump;   /* count one more, never insert */
    sqlite3_stmt *rows;   /* distinct queries of a day */
    char day[16];         /* the day ROWS_TODAY counts */
    long rows_today;
};

static int db_error(sqlite3 *db, pr_error *err, const char *what)
{
    return pr_error_set(err, 0, 0, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

pr_analytics *pr_analytics_open(const char *path, pr_error *err)
{
    pr_analytics *a = calloc(1, sizeof *a);
    if (!a) {
        pr_error_set(err, 0, 0, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) ||
        sqlite3_busy_timeout(a->db, 2000) ||
        /* Small checkpoints, and the WAL cut back after each: the file
         * must not grow with the traffic, only with distinct searches. */
        sqlite3_exec(a->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     " PRAGMA wal_autocheckpoint=64; PRAGMA journal_size_limit=262144; " SCHEMA,
                     NULL, NULL, NULL) ||
        sqlite3_prepare_v2(a->db,
                           "UPDATE searches SET count = count + 1, hits = ?3"
                           " WHERE day = ?1 AND query = ?2",
                           -1, &a->bump, NULL) ||
        sqlite3_prepare_v2(a->db, "SELECT count(*) FROM searches WHERE day = ?", -1, &a->rows,
                           NULL) ||
        sqlite3_prepare_v2(a->db,
                           "INSERT INTO searches(day, query, count, hits) VALUES(?, ?, 1, ?)"
                           " ON CONFLICT(day, query) DO UPDATE SET count = count + 1,"
                           " hits = excluded.hits RETURNING count",
                           -1, &a->add, NULL)) {
        db_error(a->db, err, path);
        pr_analytics_close(a);
        return NULL;
    }
    return a;
}

/* Start counting DAY's distinct queries from what the file holds. */
static int count_day(pr_analytics *a, const char *day)
{
    int rc;
    sqlite3_bind_text(a->rows, 1, day, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(a->rows);
    a->rows_today = rc == SQLITE_ROW ? (long)sqlite3_column_int64(a->rows, 0) : 0;
    sqlite3_reset(a->rows);
    if (rc != SQLITE_ROW)
        return -1;
    snprintf(a->day, sizeof a->day, "%s", day);
    return 0;
}

int pr_analytics_add(pr_analytics *a, time_t when, const char *query, long hits, pr_error *err)
{
    char day[16];
    struct tm tm;
    int rc;
    sqlite3_stmt *st;
    gmtime_r(&when, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    if (strcmp(day, a->day) != 0 && count_day(a, day) < 0)
        return db_error(a->db, err, "counting a day's searches");
    /* Past the day's cap, searches already seen are still counted; new
     * ones are not, so a flood of unique queries has a bounded cost. */
    st = a->rows_today < PR_ANALYTICS_MAX_PER_DAY ? a->add : a->bump;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, query, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, hits);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) { /* RETURNING count: 1 when the row is new */
        if (sqlite3_column_int64(st, 0) == 1)
            a->rows_today++;
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(a->db, err, "recording a search");
}

int pr_analytics_begin(pr_analytics *a, pr_error *err)
{
    return sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ? db_error(a->db, err, "begin")
                                                                   : 0;
}

int pr_analytics_commit(pr_analytics *a, pr_error *err)
{
    if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    db_error(a->db, err, "commit");
    sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

void pr_analytics_close(pr_analytics *a)
{
    if (!a) return;
    sqlite3_finalize(a->add);
    sqlite3_finalize(a->bump);
    sqlite3_finalize(a->rows);
    sqlite3_close(a->db);
    free(a);
}

/* --- the report ------------------------------------------------------- */

struct stats_opts {
    const char *db, *file, *since;
    int top, json;
};

static void stats_usage(FILE *f)
{
    fprintf(f,
            "Usage: prsearch --stats [--since YYYY-MM-DD] [-n N] [--json]\n"
            "                        [-d DB | --analytics FILE]\n"
            "What visitors searched: top queries, queries with no results, searches per\n"
            "day (per week over more than 31 days). Read from the file prsearchd records\n"
            "into (analytics_db; default: $" PR_ENV_ANALYTICS ", else the index's name with\n"
            ".analytics.db; the packaged service's is " PR_SERVICE_ANALYTICS ").\n\n"
            "  --since DATE       only from this day on (default: everything)\n"
            "  -n, --limit N      queries per list (default 20)\n"
            "  -d, --db PATH      the index whose analytics to read\n"
            "  --analytics FILE   the analytics file itself\n"
            "  --json             one JSON object instead of text\n");
}

static int valid_day(const char *s)
{
    int y, m, d;
    char end;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &end) == 3 && m >= 1 &&
           m <= 12 && d >= 1 && d <= 31 && s[4] == '-' && s[7] == '-';
}

/* Returns 0 to go on, 1 to exit 0 (help), 2 on a usage error. */
static int stats_args(int argc, char **argv, struct stats_opts *o)
{
    enum { O_STATS = 256, O_SINCE, O_FILE, O_JSON };
    static const struct option opts[] = {
        {"stats", no_argument, NULL, O_STATS}, {"since", required_argument, NULL, O_SINCE},
        {"analytics", required_argument, NULL, O_FILE}, {"json", no_argument, NULL, O_JSON},
        {"db", required_argument, NULL, 'd'}, {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:n:h", opts, NULL)) != -1) {
        switch (c) {
        case O_STATS: break;
        case O_SINCE: o->since = optarg; break;
        case O_FILE: o->file = optarg; break;
        case O_JSON: o->json = 1; break;
        case 'd': o->db = optarg; break;
        case 'n': o->top = atoi(optarg); break;
        case 'h': stats_usage(stdout); return 1;
        default: stats_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "prsearch: --stats takes no query ('%s')\n", argv[optind]);
        return 2;
    }
    if (o->since && !valid_day(o->since)) {
        fprintf(stderr, "prsearch: --since: expected a date YYYY-MM-DD, got '%s'\n", o->since);
        return 2;
    }
    if (o->top < 1 || o->top > 10000) {
        fprintf(stderr, "prsearch: --limit: expected a number from 1 to 10000\n");
        return 2;
    }
    return 0;
}

/* Rows of SQL (?1: SINCE, ?2: LIMIT where it has one) as a JSON array of
 * objects named by the column names. */
static json_t *rows(sqlite3 *db, const char *sql, const char *since, int limit)
{
    sqlite3_stmt *st;
    json_t *a = json_array();
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "prsearch: --stats: %s\n", sqlite3_errmsg(db));
        json_decref(a);
        return NULL;
    }
    sqlite3_bind_text(st, 1, since, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *name = sqlite3_column_name(st, i);
            if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
                json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, i)));
            else
                json_object_set_new(o, name, json_string((const char *)sqlite3_column_text(st, i)));
        }
        json_array_append_new(a, o);
    }
    sqlite3_finalize(st);
    return a;
}

static json_t *report(sqlite3 *db, const char *since, int top)
{
    json_t *totals = rows(db,
                          "SELECT coalesce(sum(count), 0) AS searches,"
                          " count(DISTINCT query) AS queries, min(day) AS first,"
                          " max(day) AS last FROM searches WHERE day >= ?1",
                          since, 0);
    json_t *spanj = rows(db,
                         "SELECT CAST(julianday(max(day)) - julianday(min(day)) AS INTEGER)"
                         " AS days FROM searches WHERE day >= ?1", since, 0);
    long long span = json_integer_value(json_object_get(json_array_get(spanj, 0), "days"));
    json_t *tot = json_incref(json_array_get(totals, 0));
    /* The hit count of a query is its last day's. */
    json_t *r = json_pack(
        "{s:s,s:o,s:o,s:o,s:o,s:s}", "since", since, "totals", tot,
        "top",
        rows(db,
             "SELECT query, sum(count) AS count, (SELECT hits FROM searches s2 WHERE"
             " s2.query = s.query ORDER BY day DESC LIMIT 1) AS hits FROM searches s"
             " WHERE day >= ?1 GROUP BY query ORDER BY count DESC, query LIMIT ?2",
             since, top),
        "no_results",
        rows(db,
             "SELECT query, sum(count) AS count, max(day) AS last FROM searches"
             " WHERE day >= ?1 GROUP BY query HAVING max(hits) = 0"
             " ORDER BY count DESC, query LIMIT ?2",
             since, top),
        "trend",
        rows(db,
             span > 31 ? "SELECT strftime('%Y-W%W', day) AS period, sum(count) AS count"
                         " FROM searches WHERE day >= ?1 GROUP BY 1 ORDER BY 1"
                       : "SELECT day AS period, sum(count) AS count FROM"
                         " searches WHERE day >= ?1 GROUP BY 1 ORDER BY 1",
             since, 0),
        "per", span > 31 ? "week" : "day");
    json_decref(totals);
    json_decref(spanj);
    return r;
}

static void print_list(json_t *list, const char *title, int with_hits)
{
    json_t *v;
    size_t i;
    printf("\n%s\n", title);
    if (!json_array_size(list)) {
        printf("  (none)\n");
        return;
    }
    if (with_hits)
        printf("  %8s %6s  %s\n", "searches", "hits", "query");
    else
        printf("  %8s  %s\n", "searches", "query");
    json_array_foreach(list, i, v) {
        if (with_hits)
            printf("  %8lld %6lld  %s\n", json_integer_value(json_object_get(v, "count")),
                   json_integer_value(json_object_get(v, "hits")),
                   json_string_value(json_object_get(v, "query")));
        else
            printf("  %8lld  %s\n", json_integer_value(json_object_get(v, "count")),
                   json_string_value(json_object_get(v, "query")));
    }
}

static void print_report(json_t *r)
{
    json_t *t = json_object_get(r, "totals"), *trend = json_object_get(r, "trend"), *v;
    long long max = 1;
    size_t i;
    const char *first = json_string_value(json_object_get(t, "first"));
    printf("%lld searches, %lld distinct queries", json_integer_value(json_object_get(t, "searches")),
           json_integer_value(json_object_get(t, "queries")));
    if (first)
        printf(", %s to %s", first, json_string_value(json_object_get(t, "last")));
    printf("\n");
    print_list(json_object_get(r, "top"), "Top queries", 1);
    print_list(json_object_get(r, "no_results"), "Queries with no results", 0);
    printf("\nSearches per %s\n", json_string_value(json_object_get(r, "per")));
    json_array_foreach(trend, i, v) {
        long long c = json_integer_value(json_object_get(v, "count"));
        if (c > max) max = c;
    }
    if (!json_array_size(trend))
        printf("  (none)\n");
    json_array_foreach(trend, i, v) {
        long long c = json_integer_value(json_object_get(v, "count"));
        int bar = (int)((c * 40 + max - 1) / max);
        printf("  %-10s %8lld  ", json_string_value(json_object_get(v, "period")), c);
        for (int k = 0; k < bar; k++) putchar('#');
        putchar('\n');
    }
}

/* --analytics FILE; else beside -d DB; else $PRSEARCH_ANALYTICS; else
 * beside $PRSEARCH_DB; else beside ./prsearch.db, or the packaged
 * service's file when there is none here and that one exists. */
static char *stats_path(const struct stats_opts *o)
{
    const char *file = getenv(PR_ENV_ANALYTICS), *db = getenv(PR_ENV_DB);
    char *here;
    if (o->file)
        return strdup(o->file);
    if (o->db)
        return pr_analytics_default_path(o->db);
    if (file && *file)
        return strdup(file);
    if (db && *db)
        return pr_analytics_default_path(db);
    here = pr_analytics_default_path(PR_DEFAULT_DB);
    if (here && access(here, F_OK) != 0 && access(PR_SERVICE_ANALYTICS, F_OK) == 0) {
        free(here);
        return strdup(PR_SERVICE_ANALYTICS);
    }
    return here;
}

int pr_analytics_stats_main(int argc, char **argv)
{
    struct stats_opts o = {NULL, NULL, NULL, 20, 0};
    sqlite3 *db = NULL;
    char *path;
    json_t *r;
    int rc = stats_args(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!(path = stats_path(&o)))
        return 2;
    if (access(path, R_OK) != 0 ||
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr,
                "prsearch: no search analytics in %s: prsearchd records them there while "
                "analytics is on (see prsearchd(8)); --analytics FILE names another file\n",
                path);
        sqlite3_close(db);
        free(path);
        return 2;
    }
    sqlite3_busy_timeout(db, 2000);
    r = report(db, o.since ? o.since : "0000-00-00", o.top);
    if (r && !o.since)
        json_object_set_new(r, "since", json_null());
    sqlite3_close(db);
    free(path);
    if (!r || !json_is_array(json_object_get(r, "top"))) {
        fprintf(stderr, "prsearch: --stats: the analytics file cannot be read\n");
        json_decref(r);
        return 2;
    }
    if (o.json) {
        char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) puts(s);
        free(s);
    } else {
        print_report(r);
    }
    json_decref(r);
    return 0;
}
