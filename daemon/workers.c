/*
 * workers.c - the query thread pool (workers.h). Own threads rather than
 * uv_queue_work: each worker keeps its searcher (SQLite connection and
 * prepared statements) from start to stop, which libuv's shared pool has
 * no hook for.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

#include "response.h"
#include "workers.h"

struct worker {
    pr_pool *pool;
    int id;
    pthread_t thread;
    pr_searcher *searcher;
    unsigned gen; /* configuration generation the searcher was opened with */
};

struct pr_pool {
    uv_loop_t *loop;
    uv_async_t async;
    char *db_path;
    pr_job_done_fn done;
    void *data;
    int nthreads, started;
    struct worker *workers;
    long long documents, index_mtime;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;
    pr_job *head, *tail;  /* waiting jobs */
    int queued;
    int idle;             /* workers waiting on cond */
    int stopping;
    unsigned gen;
    pr_search_config cfg;
    int queue_timeout_ms;
    pr_job *finished;     /* done jobs, newest first */
};

pr_job *pr_job_new(pr_job_kind kind, void *owner)
{
    pr_job *j = calloc(1, sizeof *j);
    if (j) {
        j->kind = kind;
        j->owner = owner;
    }
    return j;
}

void pr_job_free(pr_job *job)
{
    if (!job) return;
    pr_params_free(&job->params);
    free(job->body);
    free(job->cache_key);
    free(job);
}

static void set_error(pr_job *j, int status, const char *code, const char *msg)
{
    free(j->body);
    j->status = status;
    j->body = pr_json_error(status, code, msg, &j->body_len);
}

/* Reopen with the pool's current configuration; keep the old searcher
 * when the new one cannot be opened. */
static void reopen(struct worker *w, const pr_search_config *cfg, pr_job *j)
{
    pr_error e;
    pr_searcher *s;
    pr_error_clear(&e);
    s = pr_searcher_open(w->pool->db_path, cfg, &e);
    if (!s) {
        j->reopen_failed = 1;
        snprintf(j->error, sizeof j->error, "%s", e.message);
        return;
    }
    pr_searcher_close(w->searcher);
    w->searcher = s;
    j->reopened = 1;
}

/* Before each job: the cheap check that the index file is still the one
 * we have open (a `mv` of a new index gives another inode). */
static void freshen(struct worker *w, unsigned gen, const pr_search_config *cfg, pr_job *j)
{
    pr_error e;
    pr_error_clear(&e);
    if (w->gen != gen) {
        w->gen = gen; /* once per generation, even if it fails */
        reopen(w, cfg, j);
        return;
    }
    switch (pr_searcher_refresh(w->searcher, 0, &e)) {
    case 1:
        j->reopened = 1;
        break;
    case -1:
        j->reopen_failed = 1;
        snprintf(j->error, sizeof j->error, "%s", e.message);
        break;
    }
}

static void take_stats(struct worker *w, pr_job *j)
{
    j->have_stats = pr_searcher_stats(w->searcher, &j->documents, &j->index_mtime) == 0;
}

static void answer(pr_job *j, pr_search_status st, json_t *result, const pr_error *e)
{
    switch (st) {
    case PR_SEARCH_OK:
        j->body = pr_json_dump(result); /* the same bytes as `prsearch --json` */
        json_decref(result);
        if (!j->body) {
            set_error(j, 500, NULL, "out of memory");
            return;
        }
        j->status = 200;
        j->body_len = strlen(j->body);
        return;
    case PR_SEARCH_BAD_REQUEST:
        set_error(j, 400, NULL, e->message);
        return;
    case PR_SEARCH_TIMEOUT:
        j->timed_out = 1;
        set_error(j, 503, "timeout", "the query took longer than its time budget");
        return;
    case PR_SEARCH_ERROR:
    default:
        snprintf(j->error, sizeof j->error, "%s", e->message);
        set_error(j, 500, NULL, "internal error while searching");
        return;
    }
}

static void run_job(struct worker *w, pr_job *j, int queue_timeout_ms)
{
    json_t *result = NULL;
    pr_error e;
    pr_search_status st;
    pr_error_clear(&e);
    j->worker = w->id;
    if (j->reopened)
        take_stats(w, j);
    if (j->kind == PR_JOB_STATS) {
        take_stats(w, j);
        /* Idle workers take the stats jobs: load a changed index's
         * vocabulary and page table here, not in the next search. */
        pr_searcher_warm(w->searcher);
#ifdef __GLIBC__
        /* and hand back what a burst left free in malloc's arenas (one
         * per worker thread): the daemon's memory at rest is what it
         * uses, not its high-water mark (tests/t_abuse.sh, at rest) */
        malloc_trim(0);
#endif
        j->status = 200;
        return;
    }
    if (queue_timeout_ms > 0 &&
        uv_hrtime() - j->enqueued > (uint64_t)queue_timeout_ms * 1000000u) {
        set_error(j, 503, "overloaded", "the server is too busy, try again");
        return;
    }
    if (j->kind == PR_JOB_SEARCH)
        st = pr_search(w->searcher, &j->params.req, &result, &e);
    else
        st = pr_suggest(w->searcher, j->params.req.q, j->params.req.limit, &result, &e);
    answer(j, st, result, &e);
}

static void finish(pr_pool *p, pr_job *j)
{
    pthread_mutex_lock(&p->lock);
    j->next = p->finished;
    p->finished = j;
    pthread_mutex_unlock(&p->lock);
    uv_async_send(&p->async);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pr_pool *p = w->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        pr_job *j;
        pr_search_config cfg;
        unsigned gen;
        int qt;
        while (!p->head && !p->stopping) {
            p->idle++;
            pthread_cond_wait(&p->cond, &p->lock);
            p->idle--;
        }
        if (!p->head)
            break; /* stopping, and nothing left to do */
        j = p->head;
        p->head = j->next;
        if (!p->head) p->tail = NULL;
        p->queued--;
        gen = p->gen;
        cfg = p->cfg;
        qt = p->queue_timeout_ms;
        pthread_mutex_unlock(&p->lock);

        freshen(w, gen, &cfg, j);
        run_job(w, j, qt);
        finish(p, j);

        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Loop thread: hand finished jobs over, oldest first. */
static void deliver(pr_pool *p)
{
    pr_job *list, *fifo = NULL;
    pthread_mutex_lock(&p->lock);
    list = p->finished;
    p->finished = NULL;
    pthread_mutex_unlock(&p->lock);
    while (list) {
        pr_job *next = list->next;
        list->next = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        pr_job *next = fifo->next;
        fifo->next = NULL;
        p->done(fifo, p->data);
        fifo = next;
    }
}

static void on_async(uv_async_t *a)
{
    deliver(a->data);
}

static void pool_free(pr_pool *p)
{
    for (int i = 0; i < p->nthreads; i++)
        if (p->workers[i].searcher)
            pr_searcher_close(p->workers[i].searcher);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->workers);
    free(p->db_path);
    free(p);
}

static int open_searchers(pr_pool *p, pr_error *err)
{
    for (int i = 0; i < p->nthreads; i++) {
        struct worker *w = &p->workers[i];
        w->pool = p;
        w->id = i;
        w->searcher = pr_searcher_open(p->db_path, &p->cfg, err);
        if (!w->searcher)
            return -1;
    }
    if (pr_searcher_stats(p->workers[0].searcher, &p->documents, &p->index_mtime) < 0)
        return pr_error_set(err, 0, 0, "cannot read the index %s", p->db_path);
    return 0;
}

static int start_threads(pr_pool *p, pr_error *err)
{
    for (int i = 0; i < p->nthreads; i++) {
        if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
            pr_pool_stop(p);
            return pr_error_set(err, 0, 0, "cannot start worker threads");
        }
        p->started++;
    }
    return 0;
}

pr_pool *pr_pool_start(uv_loop_t *loop, const char *db_path, const pr_search_config *cfg,
                       int nthreads, int queue_timeout_ms, pr_job_done_fn done, void *data,
                       pr_error *err)
{
    pr_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->db_path = strdup(db_path)) ||
        !(p->workers = calloc((size_t)nthreads, sizeof *p->workers))) {
        if (p) free(p->db_path);
        free(p);
        pr_error_set(err, 0, 0, "out of memory");
        return NULL;
    }
    p->loop = loop;
    p->nthreads = nthreads;
    p->cfg = *cfg;
    p->queue_timeout_ms = queue_timeout_ms;
    p->done = done;
    p->data = data;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    if (open_searchers(p, err) < 0) {
        pool_free(p);
        return NULL;
    }
    uv_async_init(loop, &p->async, on_async);
    p->async.data = p;
    if (start_threads(p, err) < 0)
        return NULL;
    return p;
}

void pr_pool_initial_stats(pr_pool *p, long long *documents, long long *index_mtime)
{
    *documents = p->documents;
    *index_mtime = p->index_mtime;
}

void pr_pool_submit(pr_pool *p, pr_job *job)
{
    job->enqueued = uv_hrtime();
    job->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail) p->tail->next = job;
    else p->head = job;
    p->tail = job;
    p->queued++;
    if (p->idle)
        pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

int pr_pool_queued(pr_pool *p)
{
    int n;
    pthread_mutex_lock(&p->lock);
    n = p->queued;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void pr_pool_reconfigure(pr_pool *p, const pr_search_config *cfg, int queue_timeout_ms)
{
    pthread_mutex_lock(&p->lock);
    p->cfg = *cfg;
    p->queue_timeout_ms = queue_timeout_ms;
    p->gen++;
    pthread_mutex_unlock(&p->lock);
}

static void on_async_closed(uv_handle_t *h)
{
    pool_free(h->data);
}

void pr_pool_stop(pr_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->workers[i].thread, NULL);
    deliver(p);
    uv_close((uv_handle_t *)&p->async, on_async_closed);
}
