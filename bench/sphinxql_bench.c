/*
 * sphinxql_bench.c - the Sphinx side of bench/bench_query.sh: sends
 * SphinxQL statements to searchd over the MySQL protocol (libmariadb) and
 * times each one, the way tests/tool_httpclient's load mode times
 * prsearchd, so both engines see the same stream and concurrency.
 *
 *   sphinxql_bench -P PORT -f FILE [-c CONNS] [-n PER_CONN] [-t SECONDS] [-M]
 *
 * FILE: CLASS<TAB>SQL lines (bench/sphinx_query.awk writes them). Connection
 * i sends lines (i + j) mod L for j < PER_CONN (default: L, each line once
 * per connection), each query followed by SHOW META (the total a results
 * page shows) unless -M; every row is read. -t stops at a deadline.
 * Prints one JSON object: n, errors, seconds, qps, p50_ms, p99_ms, max_ms,
 * mean_ms, by_class {CLASS: {n, p50_ms, p99_ms, max_ms, mean_ms}},
 * slowest [5 x {class, q, ms, total}].
 */
#include <math.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct line {
    char *cls, *sql;
} line;

static line *lines;
static size_t nlines;
static int port = 9306, conns = 1, meta = 1;
static long per_conn = 0;
static double deadline = 0;

typedef struct sample {
    size_t line;
    double ms;
    long long total;
} sample;

typedef struct worker {
    int id;
    sample *s;
    size_t n, cap;
    long errors;
} worker;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static MYSQL *connect_sphinx(void)
{
    MYSQL *m = mysql_init(NULL);
    if (!m)
        return NULL;
    if (!mysql_real_connect(m, "127.0.0.1", "", "", NULL, (unsigned)port, NULL, 0)) {
        fprintf(stderr, "sphinxql_bench: connect: %s\n", mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* Run SQL, read every row; returns rows read or -1. */
static long long run_sql(MYSQL *m, const char *sql, long long *total)
{
    MYSQL_RES *r;
    MYSQL_ROW row;
    long long rows = 0;

    if (mysql_query(m, sql) != 0)
        return -1;
    r = mysql_store_result(m);
    if (!r)
        return mysql_field_count(m) ? -1 : 0;
    while ((row = mysql_fetch_row(r)) != NULL) {
        if (total && row[0] && !strcmp(row[0], "total_found") && row[1])
            *total = atoll(row[1]);
        rows++;
    }
    mysql_free_result(r);
    return rows;
}

static void *work(void *arg)
{
    worker *w = arg;
    MYSQL *m = connect_sphinx();
    long j, n = per_conn > 0 ? per_conn : (long)nlines;

    if (!m) {
        w->errors++;
        return NULL;
    }
    for (j = 0; j < n; j++) {
        size_t k = ((size_t)w->id + (size_t)j) % nlines;
        long long total = -1;
        double t0;
        int ok;

        if (deadline > 0 && now_ms() > deadline)
            break;
        t0 = now_ms();
        ok = run_sql(m, lines[k].sql, NULL) >= 0 && (!meta || run_sql(m, "SHOW META", &total) >= 0);
        if (!ok) {
            if (++w->errors <= 3)
                fprintf(stderr, "sphinxql_bench: %s: %s\n", lines[k].sql, mysql_error(m));
            continue;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 1024;
            w->s = realloc(w->s, w->cap * sizeof *w->s);
        }
        w->s[w->n++] = (sample){k, now_ms() - t0, total};
    }
    mysql_close(m);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_sample_desc(const void *a, const void *b)
{
    double x = ((const sample *)a)->ms, y = ((const sample *)b)->ms;
    return x > y ? -1 : x < y;
}

static double pct(const double *v, size_t n, double p)
{
    size_t k;
    if (n == 0)
        return 0;
    k = (size_t)ceil(p * (double)n);
    return v[k > 0 ? k - 1 : 0];
}

static void print_stats(double *ms, size_t n)
{
    double sum = 0;
    size_t i;
    for (i = 0; i < n; i++)
        sum += ms[i];
    qsort(ms, n, sizeof *ms, cmp_double);
    printf("\"n\":%zu,\"p50_ms\":%.6g,\"p99_ms\":%.6g,\"max_ms\":%.6g,\"mean_ms\":%.6g", n,
           pct(ms, n, 0.5), pct(ms, n, 0.99), n ? ms[n - 1] : 0.0, n ? sum / (double)n : 0.0);
}

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static int read_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    char buf[8192];
    size_t cap = 0;

    if (!f) {
        perror(path);
        return -1;
    }
    while (fgets(buf, sizeof buf, f)) {
        char *tab, *nl = strchr(buf, '\n');
        if (nl)
            *nl = '\0';
        if (!buf[0] || buf[0] == '#')
            continue;
        tab = strchr(buf, '\t');
        if (nlines == cap) {
            cap = cap ? cap * 2 : 256;
            lines = realloc(lines, cap * sizeof *lines);
        }
        if (tab) {
            *tab = '\0';
            lines[nlines].cls = strdup(buf);
            lines[nlines].sql = strdup(tab + 1);
        } else {
            lines[nlines].cls = strdup("other");
            lines[nlines].sql = strdup(buf);
        }
        nlines++;
    }
    fclose(f);
    return nlines ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    double seconds = 0, t0, secs;
    worker *ws;
    pthread_t *th;
    sample *all;
    double *ms;
    size_t n = 0, i, k, c, shown;
    long errors = 0;
    int o;

    while ((o = getopt(argc, argv, "P:f:c:n:t:M")) != -1) {
        switch (o) {
        case 'P': port = atoi(optarg); break;
        case 'f': file = optarg; break;
        case 'c': conns = atoi(optarg); break;
        case 'n': per_conn = atol(optarg); break;
        case 't': seconds = atof(optarg); break;
        case 'M': meta = 0; break;
        default:
            fprintf(stderr, "usage: sphinxql_bench -P PORT -f FILE [-c C] [-n N] [-t S] [-M]\n");
            return 2;
        }
    }
    if (!file || conns < 1 || read_lines(file) != 0) {
        fprintf(stderr, "sphinxql_bench: need -f FILE with SphinxQL lines\n");
        return 2;
    }
    mysql_library_init(0, NULL, NULL);
    ws = calloc((size_t)conns, sizeof *ws);
    th = calloc((size_t)conns, sizeof *th);
    t0 = now_ms();
    if (seconds > 0)
        deadline = t0 + seconds * 1e3;
    for (o = 0; o < conns; o++) {
        ws[o].id = o;
        pthread_create(&th[o], NULL, work, &ws[o]);
    }
    for (o = 0; o < conns; o++) {
        pthread_join(th[o], NULL);
        n += ws[o].n;
        errors += ws[o].errors;
    }
    secs = (now_ms() - t0) / 1e3;
    all = malloc((n + 1) * sizeof *all);
    ms = malloc((n + 1) * sizeof *ms);
    for (o = 0, k = 0; o < conns; o++) {
        memcpy(all + k, ws[o].s, ws[o].n * sizeof *all);
        k += ws[o].n;
    }
    for (i = 0; i < n; i++)
        ms[i] = all[i].ms;
    putchar('{');
    print_stats(ms, n);
    printf(",\"errors\":%ld,\"timeouts\":0,\"seconds\":%.6g,\"qps\":%.6g,\"by_class\":{", errors,
           secs, secs > 0 ? (double)n / secs : 0.0);
    /* Classes in order of first appearance among the lines. */
    for (c = 0, shown = 0; c < nlines; c++) {
        size_t m = 0, d;
        int seen = 0;
        for (d = 0; d < c; d++)
            if (!strcmp(lines[d].cls, lines[c].cls))
                seen = 1;
        if (seen)
            continue;
        for (i = 0; i < n; i++)
            if (!strcmp(lines[all[i].line].cls, lines[c].cls))
                ms[m++] = all[i].ms;
        if (!m)
            continue;
        printf("%s", shown++ ? "," : "");
        print_json_string(lines[c].cls);
        printf(":{");
        print_stats(ms, m);
        putchar('}');
    }
    printf("},\"slowest\":[");
    qsort(all, n, sizeof *all, cmp_sample_desc);
    for (i = 0, shown = 0; i < n && shown < 5; i++) {
        size_t d;
        int dup = 0;
        for (d = 0; d < i; d++)
            if (all[d].line == all[i].line)
                dup = 1;
        if (dup)
            continue;
        printf("%s{\"class\":", shown++ ? "," : "");
        print_json_string(lines[all[i].line].cls);
        printf(",\"q\":");
        print_json_string(lines[all[i].line].sql);
        printf(",\"ms\":%.6g,\"total\":%lld}", all[i].ms, all[i].total);
    }
    printf("]}\n");
    mysql_library_end();
    return errors ? 1 : 0;
}
