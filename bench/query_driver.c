/*
 * query_driver.c - in-process query timing for bench/bench_query.sh: opens
 * one pr_searcher (lib/search.h) on an index and times pr_search() per
 * query, as the daemon's worker threads and `prsearch -d` call it.
 *
 *   query_driver stream -f QUERIES -n N [-z SEED]
 *       print N lines drawn from QUERIES (CLASS<TAB>QUERY lines, '#'
 *       comments) with Zipf weights over a seeded shuffle of the mix: the
 *       warm stream, the same for every engine of a run
 *   query_driver run -d DB -f FILE [-b BUDGET_MS] [-l LIMIT] [-w] [-t SECONDS] [-r R]
 *       run every line of FILE once, in order, and print one JSON object:
 *       n, errors, timeouts, seconds, qps, p50_ms, p99_ms, max_ms, mean_ms,
 *       by_class {CLASS: {n, p50_ms, p99_ms, max_ms}}, slowest [5 x
 *       {class, q, ms, total}]. BUDGET_MS defaults to 0 (no time budget:
 *       measure the whole cost of every query). -w: one untimed pass first.
 *       -t: stop at a deadline (n says how many ran). -r R: run the file R
 *       times; adds worst_query {q, p99_ms}: the query whose own p99 over
 *       the R runs is highest (R=100: its second slowest run).
 *       With QUERY_DRIVER_TRACE set in the environment, every query's
 *       time goes to stderr as MS<TAB>TOTAL<TAB>CLASS<TAB>QUERY; with
 *       QUERY_DRIVER_ANSWERS, every answer (without took_ms) as one line
 *       of JSON, to compare two builds' answers; with
 *       QUERY_DRIVER_NO_WALK, matches are found row by row through SQL
 *       (pr_search_config match_walk = 0); with
 *       QUERY_DRIVER_NO_PREFIX_STEMS, prefixes always keep their surface
 *       form (prefix_stems = 0).
 *
 * Build: linked with the build tree's lib/libprsearch.la through libtool
 * (see bench/lib.sh), so it runs exactly the code the daemon runs.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "search.h"

typedef struct query {
    char *cls, *q;
    double ms;
    long long total;
} query;

typedef struct qlist {
    query *v;
    size_t n, cap;
} qlist;

static int read_queries(const char *path, qlist *l)
{
    FILE *f = fopen(path, "r");
    char line[4096];

    if (!f) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *tab, *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        tab = strchr(line, '\t');
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 256;
            l->v = realloc(l->v, l->cap * sizeof *l->v);
            if (!l->v)
                return -1;
        }
        if (tab) {
            *tab = '\0';
            l->v[l->n].cls = strdup(line);
            l->v[l->n].q = strdup(tab + 1);
        } else {
            l->v[l->n].cls = strdup("other");
            l->v[l->n].q = strdup(line);
        }
        l->v[l->n].ms = 0;
        l->v[l->n].total = -1;
        l->n++;
    }
    fclose(f);
    return 0;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static int cmd_stream(const char *file, long n, uint64_t seed)
{
    qlist l = {0};
    size_t *perm, i;
    double *cum, acc = 0;
    long k;

    if (read_queries(file, &l) != 0 || l.n == 0)
        return 2;
    rng = seed * 0x9E3779B97F4A7C15ULL + 1;
    perm = malloc(l.n * sizeof *perm);
    cum = malloc(l.n * sizeof *cum);
    for (i = 0; i < l.n; i++)
        perm[i] = i;
    for (i = l.n; i > 1; i--) {
        size_t j = (size_t)(rnd() % i), t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    if (n == 0) {
        for (i = 0; i < l.n; i++)
            printf("%s\t%s\n", l.v[perm[i]].cls, l.v[perm[i]].q);
        return 0;
    }
    for (i = 0; i < l.n; i++) {
        acc += 1.0 / (double)(i + 1); /* Zipf, exponent 1 */
        cum[i] = acc;
    }
    for (k = 0; k < n; k++) {
        double u = (double)(rnd() >> 11) / 9007199254740992.0 * acc;
        size_t lo = 0, hi = l.n - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cum[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        printf("%s\t%s\n", l.v[perm[lo]].cls, l.v[perm[lo]].q);
    }
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_query_ms(const void *a, const void *b)
{
    double x = ((const query *)a)->ms, y = ((const query *)b)->ms;
    return x > y ? -1 : x < y;
}

/* Percentile P (0..1) of N sorted values: the nearest-rank value. */
static double pct(const double *v, size_t n, double p)
{
    size_t k;

    if (n == 0)
        return 0;
    k = (size_t)ceil(p * (double)n);
    return v[k > 0 ? k - 1 : 0];
}

static json_t *stats_of(double *ms, size_t n)
{
    double sum = 0;
    size_t i;

    for (i = 0; i < n; i++)
        sum += ms[i];
    qsort(ms, n, sizeof *ms, cmp_double);
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "n", (json_int_t)n, "p50_ms", pct(ms, n, 0.5),
                     "p99_ms", pct(ms, n, 0.99), "max_ms", n ? ms[n - 1] : 0.0, "mean_ms",
                     n ? sum / (double)n : 0.0);
}

/* The answer without took_ms, one line on stderr: to compare two builds'
 * answers query by query. */
static void print_answer(json_t *res)
{
    char *dump;

    json_object_del(res, "took_ms");
    dump = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
    if (dump)
        fprintf(stderr, "%s\n", dump);
    free(dump);
}

static int run_one(pr_searcher *s, query *qu, int limit, long *errors, long *timeouts)
{
    pr_search_request req;
    json_t *res = NULL;
    pr_error err;
    pr_search_status st;
    double t0;

    pr_search_request_init(&req);
    req.q = qu->q;
    req.limit = limit;
    pr_error_clear(&err);
    t0 = now_ms();
    st = pr_search(s, &req, &res, &err);
    qu->ms = now_ms() - t0;
    if (st == PR_SEARCH_OK) {
        qu->total = json_integer_value(json_object_get(res, "total"));
        if (getenv("QUERY_DRIVER_TRACE"))
            fprintf(stderr, "%.3f\t%lld\t%s\t%s\n", qu->ms, qu->total, qu->cls, qu->q);
        if (getenv("QUERY_DRIVER_ANSWERS"))
            print_answer(res);
        json_decref(res);
        return 0;
    }
    if (st == PR_SEARCH_TIMEOUT)
        (*timeouts)++;
    else
        (*errors)++;
    if (*errors + *timeouts <= 5)
        fprintf(stderr, "query_driver: %s: status %d: %s\n", qu->q, (int)st, err.message);
    return -1;
}

static int cmd_run(const char *db, const char *file, int budget_ms, int limit, int warmup,
                   double seconds, int repeat)
{
    double deadline, *per = NULL, worst_p99 = -1;
    size_t worst = 0, done = 0, total_n;
    int r;
    qlist l = {0};
    pr_search_config cfg;
    pr_searcher *s;
    pr_error err;
    long errors = 0, timeouts = 0;
    double *ms, t0, secs;
    size_t i, c;
    json_t *out, *by_class, *slowest;
    char *dump;

    if (read_queries(file, &l) != 0)
        return 2;
    pr_search_config_init(&cfg);
    cfg.time_budget_ms = budget_ms;
    if (getenv("QUERY_DRIVER_NO_WALK"))
        cfg.match_walk = 0;
    if (getenv("QUERY_DRIVER_NO_PREFIX_STEMS"))
        cfg.prefix_stems = 0;
    pr_error_clear(&err);
    s = pr_searcher_open(db, &cfg, &err);
    if (!s) {
        fprintf(stderr, "query_driver: %s\n", err.message);
        return 2;
    }
    /* as prsearchd's workers do before they serve (daemon/workers.c): the
     * page table and vocabulary are loaded once per index version, not
     * part of any one query's cost */
    pr_searcher_warm(s);
    if (warmup) {
        long e = 0, t = 0;
        for (i = 0; i < l.n; i++)
            run_one(s, &l.v[i], limit, &e, &t);
    }
    if (repeat < 1)
        repeat = 1;
    total_n = l.n * (size_t)repeat;
    per = malloc((total_n + 1) * sizeof *per);
    t0 = now_ms();
    deadline = seconds > 0 ? t0 + seconds * 1e3 : 0;
    for (r = 0; r < repeat; r++)
        for (i = 0; i < l.n; i++) {
            if (deadline > 0 && now_ms() > deadline)
                goto stop;
            run_one(s, &l.v[i], limit, &errors, &timeouts);
            per[i * (size_t)repeat + (size_t)r] = l.v[i].ms;
            done++;
        }
stop:
    secs = (now_ms() - t0) / 1e3;
    pr_searcher_close(s);
    if (done < total_n) { /* deadline: only the first run's DONE lines count */
        repeat = 1;
        if (done > l.n)
            done = l.n;
        l.n = done;
    }
    if (repeat > 1)
        for (i = 0; i < l.n; i++) {
            double *v = per + i * (size_t)repeat;
            qsort(v, (size_t)repeat, sizeof *v, cmp_double);
            if (pct(v, (size_t)repeat, 0.99) > worst_p99) {
                worst_p99 = pct(v, (size_t)repeat, 0.99);
                worst = i;
            }
        }

    ms = malloc((done + 1) * sizeof *ms);
    for (i = 0; i < done; i++)
        ms[i] = repeat > 1 ? per[i] : l.v[i].ms; /* all R samples, or the one run */
    out = stats_of(ms, done);
    if (repeat > 1)
        json_object_set_new(out, "worst_query",
                            json_pack("{s:s, s:f, s:i}", "q", l.v[worst].q, "p99_ms", worst_p99,
                                      "runs", repeat));
    free(per);
    json_object_set_new(out, "errors", json_integer(errors));
    json_object_set_new(out, "timeouts", json_integer(timeouts));
    json_object_set_new(out, "seconds", json_real(secs));
    json_object_set_new(out, "qps", json_real(secs > 0 ? (double)done / secs : 0));
    by_class = json_object();
    for (i = 0; i < l.n; i++) {
        size_t k = 0;
        if (json_object_get(by_class, l.v[i].cls))
            continue;
        for (c = i; c < l.n; c++)
            if (!strcmp(l.v[c].cls, l.v[i].cls))
                ms[k++] = l.v[c].ms;
        json_object_set_new(by_class, l.v[i].cls, stats_of(ms, k));
    }
    json_object_set_new(out, "by_class", by_class);
    qsort(l.v, l.n, sizeof *l.v, cmp_query_ms);
    slowest = json_array();
    for (i = 0; i < l.n && json_array_size(slowest) < 5; i++) {
        size_t k;
        int dup = 0;
        for (k = 0; k < json_array_size(slowest); k++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(slowest, k), "q")),
                        l.v[i].q))
                dup = 1;
        if (!dup)
            json_array_append_new(slowest,
                                  json_pack("{s:s, s:s, s:f, s:I}", "class", l.v[i].cls, "q",
                                            l.v[i].q, "ms", l.v[i].ms, "total",
                                            (json_int_t)l.v[i].total));
    }
    json_object_set_new(out, "slowest", slowest);
    dump = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    puts(dump);
    free(dump);
    json_decref(out);
    free(ms);
    return errors ? 1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: query_driver stream -f QUERIES -n N [-z SEED]\n"
                    "       query_driver run -d DB -f FILE [-b BUDGET_MS] [-l LIMIT] [-w] [-t S] [-r R]\n");
}

int main(int argc, char **argv)
{
    const char *mode, *db = NULL, *file = NULL;
    long n = 10000;
    uint64_t seed = 1;
    int budget = 0, limit = 10, warmup = 0, repeat = 1, o;
    double seconds = 0;

    if (argc < 2) {
        usage();
        return 2;
    }
    mode = argv[1];
    optind = 2;
    while ((o = getopt(argc, argv, "d:f:n:z:b:l:wt:r:")) != -1) {
        switch (o) {
        case 'd': db = optarg; break;
        case 'f': file = optarg; break;
        case 'n': n = atol(optarg); break;
        case 'z': seed = strtoull(optarg, NULL, 10); break;
        case 'b': budget = atoi(optarg); break;
        case 'l': limit = atoi(optarg); break;
        case 'w': warmup = 1; break;
        case 't': seconds = atof(optarg); break;
        case 'r': repeat = atoi(optarg); break;
        default: usage(); return 2;
        }
    }
    if (!file) {
        usage();
        return 2;
    }
    if (!strcmp(mode, "stream"))
        return cmd_stream(file, n, seed);
    if (!strcmp(mode, "run") && db)
        return cmd_run(db, file, budget, limit, warmup, seconds, repeat);
    usage();
    return 2;
}
