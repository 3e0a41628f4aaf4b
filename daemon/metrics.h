/*
 * metrics.h - the daemon's counters and their Prometheus text rendering
 * for /metrics. Only the loop thread touches them: workers report through
 * their finished jobs, so no locks or atomics are needed.
 */
#ifndef PR_METRICS_H
#define PR_METRICS_H

#include <stddef.h>
#include "router.h"

/* Status codes the daemon answers with; anything else counts as "other". */
#define PR_METRICS_NSTATUS 11
/* Latency histogram upper bounds, in seconds, plus +Inf. */
#define PR_METRICS_NBUCKETS 12

typedef struct pr_metrics {
    unsigned long long requests[PR_NROUTES][PR_METRICS_NSTATUS];
    unsigned long long buckets[PR_NROUTES][PR_METRICS_NBUCKETS]; /* not cumulative */
    double latency_sum[PR_NROUTES];
    unsigned long long latency_count[PR_NROUTES];
    unsigned long long connections_accepted;
    unsigned long long connections_rejected; /* over max_connections */
    unsigned long long query_timeouts;
    unsigned long long index_reopens;
    unsigned long long index_reopen_errors;
    long long open_connections;
    long long documents;
    long long index_mtime;
    long long queue_depth;
    int threads;
    unsigned long long cache_hits, cache_misses;
    unsigned long long coalesced; /* queries that waited for an identical one */
    long long cache_entries, cache_bytes;
    double start_time; /* Unix seconds */
    int analytics_on;  /* searches are being recorded */
    unsigned long long analytics_queued, analytics_dropped; /* by the loop */
    unsigned long long analytics_written, analytics_errors; /* copied from the recorder */
} pr_metrics;

void pr_metrics_init(pr_metrics *m, double now);

/* Count one answered request of ROUTE with STATUS that took SECONDS. */
void pr_metrics_observe(pr_metrics *m, pr_route route, int status, double seconds);

/* The Prometheus text exposition of M (version 0.0.4), malloc'd, its
 * length in *LEN; NULL when out of memory. */
char *pr_metrics_render(const pr_metrics *m, double now, size_t *len);

#endif
