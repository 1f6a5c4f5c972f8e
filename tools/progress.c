/* progress: counters of a running job and the progress line (in place on a terminal). */
#include "tools/progress.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS 200
#define TTY_EVERY 2    /* ticks between in-place updates */
#define LINES_EVERY 25 /* ticks between plain lines (5 s) */

struct progress {
    enum progress_show show;
    FILE *f; /* borrowed */
    void (*tick)(void *);
    void *arg;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards stop and cv */
    pthread_cond_t cv;
    bool stop;
    _Atomic uint64_t items_scanned, bytes_scanned, items_done, bytes_done, inflight, copied;
};

void progress_format_bytes(uint64_t n, char *out, size_t outlen)
{
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf(out, outlen, "%u B", (unsigned)n);
        return;
    }
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (v >= 99.95)
        snprintf(out, outlen, "%.0f %s", v, units[u]);
    else if (v >= 9.995)
        snprintf(out, outlen, "%.1f %s", v, units[u]);
    else
        snprintf(out, outlen, "%.2f %s", v, units[u]);
}

void progress_format_eta(double s, char *out, size_t outlen)
{
    uint64_t t;

    if (isnan(s) || s < 0 || s > 99.0 * 86400) {
        snprintf(out, outlen, "--");
        return;
    }
    t = (uint64_t)(s + 0.5);
    if (t < 60)
        snprintf(out, outlen, "%us", (unsigned)t);
    else if (t < 3600)
        snprintf(out, outlen, "%um%02us", (unsigned)(t / 60), (unsigned)(t % 60));
    else if (t < 86400)
        snprintf(out, outlen, "%uh%02um", (unsigned)(t / 3600), (unsigned)(t % 3600 / 60));
    else
        snprintf(out, outlen, "%ud%02uh", (unsigned)(t / 86400), (unsigned)(t % 86400 / 3600));
}

double progress_eta(uint64_t remaining, double rate)
{
    if (!(rate > 0))
        return -1;
    return (double)remaining / rate;
}

void progress_format_line(uint64_t items_done, uint64_t items_scanned, uint64_t bytes_done,
                          uint64_t bytes_scanned, double rate, char *out, size_t outlen)
{
    char bd[16], bs[16], r[16], eta[16];
    uint64_t rem = bytes_scanned > bytes_done ? bytes_scanned - bytes_done : 0;

    progress_format_bytes(bytes_done, bd, sizeof(bd));
    progress_format_bytes(bytes_scanned, bs, sizeof(bs));
    progress_format_bytes(rate > 0 ? (uint64_t)rate : 0, r, sizeof(r));
    progress_format_eta(rem == 0 ? 0 : progress_eta(rem, rate), eta, sizeof(eta));
    snprintf(out, outlen, "items %llu/%llu  %s/%s  %s/s  ETA %s", (unsigned long long)items_done,
             (unsigned long long)items_scanned, bd, bs, r, eta);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show_line(struct progress *p, double rate, bool final)
{
    char line[160];

    progress_format_line(atomic_load(&p->items_done), atomic_load(&p->items_scanned),
                         atomic_load(&p->bytes_done) + atomic_load(&p->inflight),
                         atomic_load(&p->bytes_scanned), rate, line, sizeof(line));
    if (p->show == PROGRESS_TTY)
        fprintf(p->f, "\r%-100s%s", line, final ? "\r" : "");
    else
        fprintf(p->f, "progress: %s\n", line);
    fflush(p->f);
}

static void *progress_main(void *arg)
{
    struct progress *p = arg;
    double last_t = now_s(), rate = 0;
    uint64_t last_b = 0;
    unsigned n = 0;
    bool stop = false;

    while (!stop) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += TICK_MS * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&p->mu);
        if (!p->stop)
            pthread_cond_timedwait(&p->cv, &p->mu, &dl);
        stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (p->tick)
            p->tick(p->arg);
        n++;
        if (p->show == PROGRESS_NONE)
            continue;
        if (n % TTY_EVERY == 0) {
            double t = now_s();
            uint64_t b = atomic_load(&p->copied);
            double inst = t > last_t ? (double)(b - last_b) / (t - last_t) : 0;
            rate = rate == 0 ? inst : 0.7 * rate + 0.3 * inst; /* smoothed */
            last_t = t;
            last_b = b;
        }
        if (!stop && ((p->show == PROGRESS_TTY && n % TTY_EVERY == 0) ||
                      (p->show == PROGRESS_LINES && n % LINES_EVERY == 0)))
            show_line(p, rate, false);
    }
    if (p->show == PROGRESS_TTY) {
        show_line(p, rate, true);
        fprintf(p->f, "\n");
        fflush(p->f);
    }
    return NULL;
}

struct progress *progress_start(enum progress_show show, FILE *f, void (*tick)(void *), void *arg)
{
    struct progress *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->show = show;
    p->f = f;
    p->tick = tick;
    p->arg = arg;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (show != PROGRESS_NONE || tick) {
        if (pthread_create(&p->thread, NULL, progress_main, p) != 0) {
            pthread_cond_destroy(&p->cv);
            pthread_mutex_destroy(&p->mu);
            free(p);
            return NULL;
        }
        p->started = true;
    }
    return p;
}

void progress_scanned(struct progress *p, uint64_t bytes)
{
    atomic_fetch_add(&p->items_scanned, 1);
    atomic_fetch_add(&p->bytes_scanned, bytes);
}

void progress_done(struct progress *p, uint64_t bytes)
{
    atomic_fetch_add(&p->items_done, 1);
    atomic_fetch_add(&p->bytes_done, bytes);
}

void progress_copied(struct progress *p, uint64_t n)
{
    atomic_fetch_add(&p->inflight, n);
    atomic_fetch_add(&p->copied, n);
}

void progress_unflight(struct progress *p, uint64_t n)
{
    atomic_fetch_sub(&p->inflight, n);
}

void progress_stop(struct progress *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = true;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
