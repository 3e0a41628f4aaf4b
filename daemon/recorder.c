/*
 * recorder.c - the analytics queue and its writer thread (recorder.h).
 * The loop only copies the query string under a mutex held for a few
 * pointer moves; decoding, folding and SQLite happen on the thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics.h"
#include "recorder.h"
#include "router.h"
#include "server.h"

struct item {
    struct item *next;
    time_t when;
    long hits;
    size_t qlen;
    char query[]; /* the query string as sent, NUL-terminated */
};

struct pr_recorder {
    pr_analytics *db;
    pthread_t thread;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;
    struct item *head, *tail;
    int queued, capacity, stopping;
    unsigned long long written, errors;
};

static void *writer_main(void *arg);

pr_recorder *pr_recorder_start(const char *path, int capacity, pr_error *err)
{
    pr_recorder *r = calloc(1, sizeof *r);
    if (!r) {
        pr_error_set(err, 0, 0, "out of memory");
        return NULL;
    }
    r->capacity = capacity;
    if (!(r->db = pr_analytics_open(path, err))) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    if (pthread_create(&r->thread, NULL, writer_main, r) != 0) {
        pr_analytics_close(r->db);
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        free(r);
        pr_error_set(err, 0, 0, "cannot start the analytics thread");
        return NULL;
    }
    return r;
}

int pr_recorder_push(pr_recorder *r, const char *query, size_t qlen, long hits)
{
    struct item *it;
    int full;
    pthread_mutex_lock(&r->lock);
    full = r->queued >= r->capacity || r->stopping;
    pthread_mutex_unlock(&r->lock);
    if (full || !(it = malloc(sizeof *it + qlen + 1)))
        return -1;
    it->next = NULL;
    it->when = time(NULL);
    it->hits = hits;
    it->qlen = qlen;
    memcpy(it->query, query, qlen);
    it->query[qlen] = '\0';
    pthread_mutex_lock(&r->lock);
    if (r->tail) r->tail->next = it;
    else r->head = it;
    r->tail = it;
    r->queued++;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

void pr_recorder_counts(pr_recorder *r, unsigned long long *written, unsigned long long *errors)
{
    pthread_mutex_lock(&r->lock);
    *written = r->written;
    *errors = r->errors;
    pthread_mutex_unlock(&r->lock);
}

/* The normalised search of IT, NULL when there is nothing to count. The
 * query string was already accepted by the router: limits are generous. */
static char *normalized(const struct item *it)
{
    pr_param_limits lim = {1000000, 1 << 20};
    pr_params p;
    pr_error e;
    char *n;
    if (pr_params_parse(PR_ROUTE_SEARCH, it->query, it->qlen, &lim, &p, &e) < 0)
        return NULL;
    n = pr_analytics_normalize(p.req.q, p.req.collection, p.req.category, p.req.tag,
                               p.req.after, p.req.before);
    pr_params_free(&p);
    return n;
}

/* Write a batch in one transaction; returns how many rows were written. */
static int write_batch(pr_recorder *r, struct item *batch, unsigned long long *errors)
{
    pr_error e;
    int n = 0;
    pr_error_clear(&e);
    if (pr_analytics_begin(r->db, &e) < 0) {
        (*errors)++;
        pr_log("analytics: %s", e.message);
        return 0;
    }
    for (struct item *it = batch; it; it = it->next) {
        char *q = normalized(it);
        if (q && pr_analytics_add(r->db, it->when, q, it->hits, &e) == 0)
            n++;
        else if (q)
            (*errors)++;
        free(q);
    }
    if (pr_analytics_commit(r->db, &e) < 0) {
        (*errors)++;
        pr_log("analytics: %s", e.message);
        return 0;
    }
    return n;
}

static void *writer_main(void *arg)
{
    pr_recorder *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        struct item *batch;
        unsigned long long errors = 0;
        int n;
        while (!r->head && !r->stopping)
            pthread_cond_wait(&r->cond, &r->lock);
        if (!r->head)
            break;
        batch = r->head;
        r->head = r->tail = NULL;
        r->queued = 0;
        pthread_mutex_unlock(&r->lock);
        n = write_batch(r, batch, &errors);
        while (batch) {
            struct item *next = batch->next;
            free(batch);
            batch = next;
        }
        pthread_mutex_lock(&r->lock);
        r->written += (unsigned long long)n;
        r->errors += errors;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

void pr_recorder_stop(pr_recorder *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pr_analytics_close(r->db);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r);
}

int pr_recorder_wanted(const char *q, size_t len)
{
    for (size_t i = 0; i + 5 <= len; i++)
        if ((i == 0 || q[i - 1] == '&') && memcmp(q + i, "log=1", 5) == 0 &&
            (i + 5 == len || q[i + 5] == '&'))
            return 1;
    return 0;
}

long pr_recorder_total(const char *body, size_t len)
{
    /* "total" comes second in the answer (SPEC 7); a key cannot appear
     * unescaped inside the query string before it. */
    static const char key[] = "\"total\":";
    size_t k = sizeof key - 1;
    for (size_t i = 0; i + k < len; i++)
        if (memcmp(body + i, key, k) == 0)
            return strtol(body + i + k, NULL, 10);
    return -1;
}
