/* fs_sa: stat-ahead for S3 mounts: HEADs the next entries of a directory being stat'ed, in parallel. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "fs/fs_int.h"
#include "fs/fs_path.h"

/*
 * S3 listings carry no user metadata, and a file's mtime, mode and symlink target live
 * there, so the first stat of each listed file needs one HEAD (of each listed directory,
 * one HEAD of its "dir/" marker). `ls -l`, `find -ls` and the mirror's walk stat a
 * directory's entries one after another in name order; answered one HEAD at a time, each
 * costs a full round trip. When a stat misses, the next SA_WINDOW entries of its directory
 * (read from the cached listing) are queued and SA_THREADS workers HEAD them; the stats that follow find their answer in the cache or wait for the HEAD in
 * flight. Another window is queued once the stats pass the middle of the last one, so a
 * process that stats one file again and again never HEADs the whole directory. Memory is
 * bounded by the ring (2 * SA_WINDOW paths). Only one directory is read ahead at a time:
 * a miss in another directory moves the read-ahead there.
 */
#define SA_THREADS 8
#define SA_WINDOW 64
#define SA_RING (2 * SA_WINDOW)
#define SA_CLAIMS 32 /* stats HEADing a file themselves, known to the workers */

struct fs_sa;
struct sa_worker {
    struct fs_sa *sa;
    int idx;
};

struct fs_sa {
    struct fs *fs;
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    pthread_t th[SA_THREADS];
    struct sa_worker w[SA_THREADS];
    int nth;
    bool stop, extending;
    char *ring[SA_RING]; /* queued paths (NULL: taken back by a stat); owned */
    size_t head, count;
    char *busy[SA_THREADS]; /* path each worker is HEADing; owned */
    const char *claim[SA_CLAIMS]; /* path a stat is HEADing itself; borrowed from it */
    char *dir;              /* the directory read ahead; owned */
    char *horizon;          /* last path queued or passed; owned */
    char *mark;             /* stats at or past it queue the next window; NULL: none */
};

/* Length of path's parent ("" for a top-level name). */
static size_t parent_len(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? (size_t)(s - path) : 0;
}

static bool in_dir(const struct fs_sa *sa, const char *path)
{
    size_t n = parent_len(path);

    return sa->dir && strlen(sa->dir) == n && strncmp(sa->dir, path, n) == 0;
}

/* HEADs path, known from a listing as a file (or as a directory: its marker), and caches
 * the answer. */
static int head_listed(struct fs *fs, const char *path, bool dir, struct mc_attr *a)
{
    struct os_info info = {0};
    int rc;

    if (dir)
        return fs_attr_marker_fetch(fs, path, a);
    rc = fs->ops->head(fs->be, path, &info);

    if (rc == 0 && !info.is_dir_marker) {
        fs_attr_from_info(a, &info);
        fs_cache_put(fs, path, a);
        return 0;
    }
    os_info_clear(&info);
    if (rc == 0 || rc == -ENOENT) /* gone, or now a directory: the full lookup */
        return fs_attr_fetch(fs, path, a);
    return rc;
}

/* Whether the cache still lacks path's metadata (*dir: it is a directory). */
static bool still_needed(struct fs *fs, const char *path, bool *dir)
{
    struct mc_entry e = {0};
    int fr = mc_get(fs->mc, path, mc_now(), fs->cfg.ttl_ns, &e);
    bool need = fr == MC_FRESH && !e.negative && e.attr.meta_truncated;

    *dir = fr > 0 && mc_attr_is_dir(&e.attr);
    if (fr > 0)
        mc_entry_clear(&e);
    return need;
}

static void ring_clear(struct fs_sa *sa)
{
    for (size_t i = 0; i < SA_RING; i++) {
        free(sa->ring[i]);
        sa->ring[i] = NULL;
    }
    sa->head = 0;
    sa->count = 0;
}

/* Whether a worker or a stat is HEADing path. Lock held. */
static bool in_flight(const struct fs_sa *sa, const char *path)
{
    for (int i = 0; i < sa->nth; i++)
        if (sa->busy[i] && strcmp(sa->busy[i], path) == 0)
            return true;
    for (int i = 0; i < SA_CLAIMS; i++)
        if (sa->claim[i] && strcmp(sa->claim[i], path) == 0)
            return true;
    return false;
}

static void *worker(void *arg)
{
    struct fs_sa *sa = ((struct sa_worker *)arg)->sa;
    int me = ((struct sa_worker *)arg)->idx;

    pthread_mutex_lock(&sa->lock);
    for (;;) {
        char *p;
        bool dir;

        while (!sa->stop && sa->count == 0)
            pthread_cond_wait(&sa->work, &sa->lock);
        if (sa->stop)
            break;
        p = sa->ring[sa->head];
        sa->ring[sa->head] = NULL;
        sa->head = (sa->head + 1) % SA_RING;
        sa->count--;
        if (!p)
            continue;
        if (in_flight(sa, p)) { /* a stat does it */
            free(p);
            continue;
        }
        sa->busy[me] = p;
        pthread_mutex_unlock(&sa->lock);
        if (still_needed(sa->fs, p, &dir)) {
            struct mc_attr a;
            if (head_listed(sa->fs, p, dir, &a) == 0)
                mc_attr_clear(&a);
        }
        pthread_mutex_lock(&sa->lock);
        sa->busy[me] = NULL;
        free(p);
        pthread_cond_broadcast(&sa->done);
    }
    pthread_mutex_unlock(&sa->lock);
    return NULL;
}

static int set_str(char **dst, const char *src, size_t n)
{
    char *s = strndup(src, n);

    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

/* Queues the next window of dir's entries after the horizon. Called and returns with the
 * lock held; drops it while reading the cache. */
static void queue_window(struct fs_sa *sa)
{
    struct fs *fs = sa->fs;
    struct mc_page pg = {0};
    char *dir = strdup(sa->dir), *after = strdup(fs_path_name(sa->horizon));
    size_t want = SA_RING - sa->count;
    int rc;

    if (want > SA_WINDOW)
        want = SA_WINDOW;
    if (!dir || !after || want == 0)
        goto out;
    sa->extending = true;
    pthread_mutex_unlock(&sa->lock);
    rc = mc_dir_read(fs->mc, dir, after, want, mc_now(), fs->cfg.ttl_ns, &pg);
    pthread_mutex_lock(&sa->lock);
    sa->extending = false;
    if (rc < 0 || !sa->dir || strcmp(sa->dir, dir) != 0 || sa->stop)
        goto out;
    free(sa->mark);
    sa->mark = NULL;
    for (size_t i = 0; i < pg.n; i++) {
        struct mc_entry *e = &pg.ents[i];
        char *p = fs_path_join(dir, e->name);

        if (!p)
            break;
        if (i == pg.n / 2 && !pg.eof) {
            free(sa->mark);
            sa->mark = strdup(p);
        }
        free(sa->horizon);
        sa->horizon = p;
        if (e->fresh == MC_FRESH && !e->negative && e->attr.meta_truncated &&
            sa->count < SA_RING) {
            p = strdup(p);
            if (!p)
                break;
            sa->ring[(sa->head + sa->count) % SA_RING] = p;
            sa->count++;
        }
    }
    while (sa->nth < SA_THREADS && sa->count > (size_t)sa->nth * 4) {
        sa->w[sa->nth].sa = sa;
        sa->w[sa->nth].idx = sa->nth;
        if (pthread_create(&sa->th[sa->nth], NULL, worker, &sa->w[sa->nth]) != 0)
            break;
        sa->nth++;
    }
    pthread_cond_broadcast(&sa->work);
out:
    mc_page_clear(&pg);
    free(dir);
    free(after);
}

/* A stat of path: moves the read-ahead to its directory on a miss, and queues the
 * next window once the stats pass the mark. */
static void sa_step(struct fs_sa *sa, const char *path, bool miss)
{
    pthread_mutex_lock(&sa->lock);
    if (sa->stop || sa->extending)
        goto out;
    if (!in_dir(sa, path)) {
        if (!miss)
            goto out;
        ring_clear(sa);
        if (set_str(&sa->dir, path, parent_len(path)) < 0 || set_str(&sa->horizon, path, strlen(path)) < 0 ||
            set_str(&sa->mark, path, strlen(path)) < 0) {
            free(sa->dir);
            sa->dir = NULL;
            goto out;
        }
    } else if (strcmp(path, sa->horizon) > 0) { /* the stats jumped past the window */
        if (!miss || set_str(&sa->horizon, path, strlen(path)) < 0 ||
            set_str(&sa->mark, path, strlen(path)) < 0)
            goto out;
    }
    if (sa->mark && strcmp(path, sa->mark) >= 0)
        queue_window(sa);
out:
    pthread_mutex_unlock(&sa->lock);
}

int fs_sa_new(struct fs *fs)
{
    struct fs_sa *sa = calloc(1, sizeof(*sa));

    if (!sa)
        return -ENOMEM;
    sa->fs = fs;
    pthread_mutex_init(&sa->lock, NULL);
    pthread_cond_init(&sa->work, NULL);
    pthread_cond_init(&sa->done, NULL);
    fs->sa = sa;
    return 0;
}

void fs_sa_free(struct fs *fs)
{
    struct fs_sa *sa = fs ? fs->sa : NULL;

    if (!sa)
        return;
    pthread_mutex_lock(&sa->lock);
    sa->stop = true;
    pthread_cond_broadcast(&sa->work);
    pthread_mutex_unlock(&sa->lock);
    for (int i = 0; i < sa->nth; i++)
        pthread_join(sa->th[i], NULL);
    ring_clear(sa);
    free(sa->dir);
    free(sa->horizon);
    free(sa->mark);
    pthread_cond_destroy(&sa->work);
    pthread_cond_destroy(&sa->done);
    pthread_mutex_destroy(&sa->lock);
    free(sa);
    fs->sa = NULL;
}

void fs_sa_note(struct fs *fs, const char *path)
{
    if (fs->sa)
        sa_step(fs->sa, path, false);
}

int fs_sa_fetch(struct fs *fs, const char *path, bool dir, struct mc_attr *a)
{
    struct fs_sa *sa = fs->sa;
    struct mc_entry e = {0};
    int slot = -1, fr, rc;

    memset(a, 0, sizeof(*a));
    if (!sa)
        return head_listed(fs, path, dir, a);
    pthread_mutex_lock(&sa->lock);
    while (in_flight(sa, path)) /* a worker or another stat has it: its answer will do */
        pthread_cond_wait(&sa->done, &sa->lock);
    for (size_t i = 0; i < sa->count; i++) { /* queued: this stat does it now */
        char **q = &sa->ring[(sa->head + i) % SA_RING];
        if (*q && strcmp(*q, path) == 0) {
            free(*q);
            *q = NULL;
        }
    }
    for (int i = 0; i < SA_CLAIMS && slot < 0; i++)
        if (!sa->claim[i])
            slot = i;
    if (slot >= 0)
        sa->claim[slot] = path;
    pthread_mutex_unlock(&sa->lock);
    /* the cache again: a HEAD may have finished since the caller looked */
    fr = mc_get(fs->mc, path, mc_now(), fs->cfg.ttl_ns, &e);
    if (fr == MC_FRESH && !e.negative && !e.attr.meta_truncated) {
        *a = e.attr;
        memset(&e.attr, 0, sizeof(e.attr));
        rc = 0;
        sa_step(sa, path, false);
    } else {
        sa_step(sa, path, true);
        rc = head_listed(fs, path, dir, a);
    }
    if (fr > 0)
        mc_entry_clear(&e);
    pthread_mutex_lock(&sa->lock);
    if (slot >= 0)
        sa->claim[slot] = NULL;
    pthread_cond_broadcast(&sa->done);
    pthread_mutex_unlock(&sa->lock);
    return rc;
}
