/*
 * workers.h - the query thread pool. Each worker owns one pr_searcher for
 * its whole life (a searcher is single-threaded), takes jobs from a shared
 * queue, and hands finished jobs back to the loop thread through a
 * uv_async_t, so the loop only does I/O.
 */
#ifndef PR_WORKERS_H
#define PR_WORKERS_H

#include <stdint.h>
#include <uv.h>

#include "router.h"
#include "search.h"

typedef enum pr_job_kind {
    PR_JOB_SEARCH,  /* pr_search() with params.req */
    PR_JOB_SUGGEST, /* pr_suggest() with params.req.q and .limit */
    PR_JOB_STATS    /* pr_searcher_stats(), for /health and /metrics */
} pr_job_kind;

typedef struct pr_job {
    pr_job_kind kind;
    pr_params params;       /* input of SEARCH and SUGGEST; freed with the job */
    void *owner;            /* the submitter's context, untouched by the pool */
    uint64_t enqueued;      /* uv_hrtime() at submission */
    /* Filled by the worker: */
    int status;             /* HTTP status of the answer */
    char *body;             /* JSON answer or error (malloc'd) */
    size_t body_len;
    int timed_out;          /* the query hit its time budget */
    int reopened;           /* the worker reopened the index first */
    int reopen_failed;      /* ... and that failed (old index kept); see error */
    char error[512];        /* why reopening failed, or an internal error */
    int have_stats;         /* documents and index_mtime are set */
    long long documents, index_mtime;
    int worker;             /* which worker ran it */
    char *cache_key;        /* where the loop caches a 200 answer (malloc'd) */
    size_t cache_key_len;
    unsigned cache_gen;     /* index version the job was submitted under */
    struct pr_job *followers; /* same query asked meanwhile: same answer */
    struct pr_job *follow_next;
    struct pr_job *inflight_next; /* the loop's list of queries in flight */
    struct pr_job *next;
} pr_job;

/* A new job of KIND owned by OWNER; NULL when out of memory. */
pr_job *pr_job_new(pr_job_kind kind, void *owner);
void pr_job_free(pr_job *job);

/* Called on the loop thread for every finished job; takes ownership. */
typedef void (*pr_job_done_fn)(pr_job *job, void *data);

typedef struct pr_pool pr_pool;

/*
 * Open NTHREADS searchers on DB_PATH with CFG (here, so a missing index is
 * reported before anything listens), then start the threads. A job that
 * waited more than QUEUE_TIMEOUT_MS for a worker is answered 503 without
 * running (0: no limit). Returns NULL with ERR set on failure.
 */
pr_pool *pr_pool_start(uv_loop_t *loop, const char *db_path, const pr_search_config *cfg,
                       int nthreads, int queue_timeout_ms, pr_job_done_fn done, void *data,
                       pr_error *err);

/* Documents and index mtime, read before the threads started. */
void pr_pool_initial_stats(pr_pool *p, long long *documents, long long *index_mtime);

void pr_pool_submit(pr_pool *p, pr_job *job);

/* Jobs waiting for a worker. */
int pr_pool_queued(pr_pool *p);

/* Every worker reopens its index with CFG before its next job (SIGHUP). */
void pr_pool_reconfigure(pr_pool *p, const pr_search_config *cfg, int queue_timeout_ms);

/* Finish queued jobs, join the threads, close the searchers, deliver the
 * last finished jobs, and free the pool once its handle is closed (run the
 * loop afterwards). */
void pr_pool_stop(pr_pool *p);

#endif
