/*
 * metrics.c - counting requests and rendering them for Prometheus
 * (metrics.h). Label values are fixed strings of ours, never request
 * input, so the text needs no escaping.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const int statuses[PR_METRICS_NSTATUS - 1] = {200, 400, 404, 405, 408, 413,
                                                     414, 431, 500, 503};
static const double bounds[PR_METRICS_NBUCKETS - 1] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                       0.025, 0.05, 0.1, 0.25, 0.5, 1};

void pr_metrics_init(pr_metrics *m, double now)
{
    memset(m, 0, sizeof *m);
    m->start_time = now;
}

static int status_index(int status)
{
    for (int i = 0; i < PR_METRICS_NSTATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return PR_METRICS_NSTATUS - 1;
}

void pr_metrics_observe(pr_metrics *m, pr_route route, int status, double seconds)
{
    int b = 0;
    if ((unsigned)route >= PR_NROUTES)
        route = PR_ROUTE_OTHER;
    m->requests[route][status_index(status)]++;
    while (b < PR_METRICS_NBUCKETS - 1 && seconds > bounds[b])
        b++;
    m->buckets[route][b]++;
    m->latency_sum[route] += seconds;
    m->latency_count[route]++;
}

/* A growing text buffer; on allocation failure it stops growing and
 * remembers it. */
struct text {
    char *s;
    size_t len, cap;
    int failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (t->failed) return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) { t->failed = 1; return; }
        if ((size_t)n < t->cap - t->len) { t->len += (size_t)n; return; }
        size_t cap = t->cap * 2 + (size_t)n;
        char *s = realloc(t->s, cap);
        if (!s) { t->failed = 1; return; }
        t->s = s;
        t->cap = cap;
    }
}

static void render_requests(struct text *t, const pr_metrics *m)
{
    put(t, "# HELP prsearchd_requests_total HTTP requests answered, by route and status.\n"
           "# TYPE prsearchd_requests_total counter\n");
    for (int r = 0; r < PR_NROUTES; r++)
        for (int s = 0; s < PR_METRICS_NSTATUS; s++) {
            char code[8];
            if (!m->requests[r][s]) continue;
            if (s < PR_METRICS_NSTATUS - 1) snprintf(code, sizeof code, "%d", statuses[s]);
            else strcpy(code, "other");
            put(t, "prsearchd_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
                pr_route_name((pr_route)r), code, m->requests[r][s]);
        }
}

static void render_latency(struct text *t, const pr_metrics *m)
{
    put(t, "# HELP prsearchd_request_duration_seconds Time from the first byte of a request "
           "to its answer being queued.\n"
           "# TYPE prsearchd_request_duration_seconds histogram\n");
    for (int r = 0; r < PR_NROUTES; r++) {
        const char *name = pr_route_name((pr_route)r);
        unsigned long long cum = 0;
        if (!m->latency_count[r]) continue;
        for (int b = 0; b < PR_METRICS_NBUCKETS; b++) {
            cum += m->buckets[r][b];
            if (b < PR_METRICS_NBUCKETS - 1)
                put(t, "prsearchd_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    name, bounds[b], cum);
            else
                put(t, "prsearchd_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                    name, cum);
        }
        put(t, "prsearchd_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
            m->latency_sum[r]);
        put(t, "prsearchd_request_duration_seconds_count{route=\"%s\"} %llu\n", name,
            m->latency_count[r]);
    }
}

static void metric(struct text *t, const char *name, const char *type, const char *help,
                   double value)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
}

char *pr_metrics_render(const pr_metrics *m, double now, size_t *len)
{
    struct text t = {malloc(4096), 0, 4096, 0};
    if (!t.s) return NULL;
    render_requests(&t, m);
    render_latency(&t, m);
    metric(&t, "prsearchd_documents", "gauge", "Documents in the index.", (double)m->documents);
    metric(&t, "prsearchd_index_mtime_seconds", "gauge",
           "Modification time of the index file.", (double)m->index_mtime);
    metric(&t, "prsearchd_index_reopens_total", "counter",
           "Times a worker reopened the index (replaced file or SIGHUP).",
           (double)m->index_reopens);
    metric(&t, "prsearchd_index_reopen_errors_total", "counter",
           "Reopens that failed (the old index kept answering).",
           (double)m->index_reopen_errors);
    metric(&t, "prsearchd_query_timeouts_total", "counter",
           "Queries stopped by the time budget.", (double)m->query_timeouts);
    metric(&t, "prsearchd_open_connections", "gauge", "Connections open now.",
           (double)m->open_connections);
    metric(&t, "prsearchd_connections_total", "counter", "Connections accepted.",
           (double)m->connections_accepted);
    metric(&t, "prsearchd_connections_rejected_total", "counter",
           "Connections refused with 503 over max_connections.",
           (double)m->connections_rejected);
    metric(&t, "prsearchd_cache_hits_total", "counter", "Answers served from the cache.",
           (double)m->cache_hits);
    metric(&t, "prsearchd_cache_misses_total", "counter", "Queries not found in the cache.",
           (double)m->cache_misses);
    metric(&t, "prsearchd_coalesced_total", "counter",
           "Queries answered by an identical query already running.", (double)m->coalesced);
    metric(&t, "prsearchd_cache_entries", "gauge", "Answers in the cache.",
           (double)m->cache_entries);
    metric(&t, "prsearchd_cache_bytes", "gauge", "Bytes of answers in the cache.",
           (double)m->cache_bytes);
    metric(&t, "prsearchd_queue_depth", "gauge", "Queries waiting for a worker.",
           (double)m->queue_depth);
    metric(&t, "prsearchd_worker_threads", "gauge", "Query worker threads.", (double)m->threads);
    metric(&t, "prsearchd_analytics_enabled", "gauge",
           "Whether settled searches are recorded (analytics = on).", m->analytics_on);
    metric(&t, "prsearchd_analytics_queued_total", "counter",
           "Searches handed to the analytics writer.", (double)m->analytics_queued);
    metric(&t, "prsearchd_analytics_dropped_total", "counter",
           "Searches not recorded because the analytics queue was full.",
           (double)m->analytics_dropped);
    metric(&t, "prsearchd_analytics_written_total", "counter",
           "Searches written to the analytics file.", (double)m->analytics_written);
    metric(&t, "prsearchd_analytics_errors_total", "counter",
           "Failed writes to the analytics file.", (double)m->analytics_errors);
    metric(&t, "prsearchd_start_time_seconds", "gauge", "When the daemon started.",
           m->start_time);
    metric(&t, "prsearchd_uptime_seconds", "gauge", "Seconds since the daemon started.",
           now - m->start_time);
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    *len = t.len;
    return t.s;
}
