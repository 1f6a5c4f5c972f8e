/* mirror_pool: copy/hash worker threads over a bounded job queue. */
#include "tools/mirror_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mirror_pool {
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t not_empty, not_full;
    struct mirror_job **q; /* ring of cap slots */
    size_t cap, head, n;
    bool closing;
    mirror_pool_fn fn;
    void *arg;
    pthread_t *threads;
    int nthreads;
};

struct mirror_job *mirror_job_new(const char *path, int kind, const struct walk_stat *src,
                                  const struct walk_stat *dst)
{
    struct mirror_job *j = calloc(1, sizeof(*j));

    if (!j)
        return NULL;
    j->path = strdup(path);
    if (!j->path) {
        free(j);
        return NULL;
    }
    j->kind = kind;
    if (src)
        j->src = *src;
    if (dst)
        j->dst = *dst;
    return j;
}

void mirror_job_free(struct mirror_job *j)
{
    if (!j)
        return;
    free(j->path);
    free(j);
}

static void deadline(struct timespec *dl, long ms)
{
    clock_gettime(CLOCK_REALTIME, dl);
    dl->tv_nsec += ms * 1000000L;
    while (dl->tv_nsec >= 1000000000L) {
        dl->tv_sec++;
        dl->tv_nsec -= 1000000000L;
    }
}

static void *worker_main(void *arg)
{
    struct mirror_pool *p = arg;

    for (;;) {
        struct mirror_job *j = NULL;
        pthread_mutex_lock(&p->mu);
        while (p->n == 0 && !p->closing) {
            struct timespec dl;
            deadline(&dl, 200);
            pthread_cond_timedwait(&p->not_empty, &p->mu, &dl);
        }
        if (p->n > 0) {
            j = p->q[p->head];
            p->head = (p->head + 1) % p->cap;
            p->n--;
            pthread_cond_signal(&p->not_full);
        }
        pthread_mutex_unlock(&p->mu);
        if (!j)
            break; /* closing and drained */
        if (!mirror_canceled())
            p->fn(p->arg, j);
        mirror_job_free(j);
    }
    return NULL;
}

struct mirror_pool *mirror_pool_new(int workers, size_t depth, mirror_pool_fn fn, void *arg)
{
    struct mirror_pool *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    if (workers < 1)
        workers = 1;
    if (depth < 1)
        depth = 1;
    p->q = calloc(depth, sizeof(*p->q));
    p->threads = calloc((size_t)workers, sizeof(*p->threads));
    if (!p->q || !p->threads) {
        free(p->q);
        free(p->threads);
        free(p);
        return NULL;
    }
    p->cap = depth;
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->not_empty, NULL);
    pthread_cond_init(&p->not_full, NULL);
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0)
            break;
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        mirror_pool_finish(p);
        return NULL;
    }
    return p;
}

int mirror_pool_push(struct mirror_pool *p, struct mirror_job *job)
{
    int rc = 0;

    pthread_mutex_lock(&p->mu);
    while (p->n == p->cap && !mirror_canceled()) {
        struct timespec dl;
        deadline(&dl, 200);
        pthread_cond_timedwait(&p->not_full, &p->mu, &dl);
    }
    if (mirror_canceled()) {
        rc = -ECANCELED;
    } else {
        p->q[(p->head + p->n) % p->cap] = job;
        p->n++;
        pthread_cond_signal(&p->not_empty);
    }
    pthread_mutex_unlock(&p->mu);
    if (rc < 0)
        mirror_job_free(job);
    return rc;
}

void mirror_pool_finish(struct mirror_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    pthread_cond_broadcast(&p->not_empty);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    for (size_t i = 0; i < p->n; i++)
        mirror_job_free(p->q[(p->head + i) % p->cap]);
    pthread_cond_destroy(&p->not_empty);
    pthread_cond_destroy(&p->not_full);
    pthread_mutex_destroy(&p->mu);
    free(p->q);
    free(p->threads);
    free(p);
}
