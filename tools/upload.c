/* upload: streaming upload of a file descriptor, one PUT or a parallel multipart/block upload. */
#include "tools/upload.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/log.h"
#include "core/objstore.h"

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_BUSY };

/* One part buffer; the main thread fills it, a worker uploads it. */
struct slot {
    unsigned char *buf; /* owned; reused for later parts */
    size_t cap;
    size_t len;
    int partno;
    int state; /* enum slot_state; under up->mu */
};

/* Shared by the reading (main) thread and the workers. Lock: mu guards every field below it. */
struct up {
    struct os_store *st;
    struct os_upload *u;
    const char *key;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct slot *slots;
    int nslots;
    bool done;          /* no more parts will come */
    int err;            /* first worker failure */
    struct os_error einfo; /* its os_last_error(), copied from the worker thread */
};

/* Reads until n bytes or end of input. *got is what was read. 0 or -errno. */
static int read_full(int fd, unsigned char *buf, size_t n, size_t *got)
{
    size_t off = 0;

    while (off < n) {
        ssize_t r = read(fd, buf + off, n - off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *got = off;
            return -errno;
        }
        if (r == 0)
            break;
        off += (size_t)r;
    }
    *got = off;
    return 0;
}

static int part_len(struct os_store *st, const struct upload_params *p, int partno, size_t *out)
{
    if (st->ops->max_parts > 0 && partno > st->ops->max_parts)
        return os_error_set(-EFBIG, OSE_LOCAL, 0, "", "",
                            "the input needs more than %d parts: use a larger --part-size",
                            st->ops->max_parts);
    *out = p->part_size ? p->part_size : st->ops->part_size(st->be, p->size, partno);
    if (*out == 0)
        return os_error_set(-EINVAL, OSE_LOCAL, 0, "", "", "backend gave a zero part size");
    return 0;
}

static int slot_reserve(struct slot *s, size_t n)
{
    unsigned char *b;

    if (s->cap >= n)
        return 0;
    b = realloc(s->buf, n);
    if (!b)
        return os_error_set(-ENOMEM, OSE_LOCAL, 0, "", "", "out of memory for a %zu-byte part", n);
    s->buf = b;
    s->cap = n;
    return 0;
}

static void *worker_main(void *arg)
{
    struct up *up = arg;

    pthread_mutex_lock(&up->mu);
    for (;;) {
        struct slot *s = NULL;
        for (int i = 0; i < up->nslots; i++) {
            if (up->slots[i].state == SLOT_READY) {
                s = &up->slots[i];
                break;
            }
        }
        if (!s) {
            if (up->done)
                break;
            pthread_cond_wait(&up->cv, &up->mu);
            continue;
        }
        s->state = SLOT_BUSY;
        if (!up->err) {
            int rc;
            pthread_mutex_unlock(&up->mu);
            rc = up->st->ops->mp_part(up->st->be, up->u, s->partno, s->buf, s->len);
            pthread_mutex_lock(&up->mu);
            if (rc < 0 && !up->err) {
                up->err = rc;
                up->einfo = *os_last_error();
                if (up->einfo.err == 0)
                    up->einfo.err = rc;
            }
        }
        s->state = SLOT_FREE;
        pthread_cond_broadcast(&up->cv);
    }
    pthread_mutex_unlock(&up->mu);
    return NULL;
}

/* Waits for a free slot and marks it FILLING; NULL when a worker failed. */
static struct slot *take_free_slot(struct up *up)
{
    struct slot *s = NULL;

    pthread_mutex_lock(&up->mu);
    while (!up->err) {
        for (int i = 0; i < up->nslots && !s; i++) {
            if (up->slots[i].state == SLOT_FREE)
                s = &up->slots[i];
        }
        if (s) {
            s->state = SLOT_FILLING;
            break;
        }
        pthread_cond_wait(&up->cv, &up->mu);
    }
    pthread_mutex_unlock(&up->mu);
    return s;
}

static void submit(struct up *up, struct slot *s, int partno)
{
    pthread_mutex_lock(&up->mu);
    s->partno = partno;
    s->state = SLOT_READY;
    pthread_cond_broadcast(&up->cv);
    pthread_mutex_unlock(&up->mu);
}

static void release(struct up *up, struct slot *s)
{
    pthread_mutex_lock(&up->mu);
    s->state = SLOT_FREE;
    pthread_mutex_unlock(&up->mu);
}

/*
 * The multipart phase: slot 0 already holds `first` bytes of part 1 (which is
 * ps1 long). Reads the rest, uploads parts in parallel, commits or aborts.
 */
static int multipart(struct up *up, int fd, const struct upload_params *p,
                     const struct os_put_opts *o, struct crypto_md5_ctx *md5c, size_t first,
                     size_t ps1, int parallel, unsigned char *md5_out)
{
    struct os_store *st = up->st;
    pthread_t *th = NULL;
    int nth = 0, rc, partno = 1;
    bool eof = false;
    struct slot *s = &up->slots[0];
    size_t got = 0;
    unsigned char md5[CRYPTO_MD5_LEN];

    rc = st->ops->mp_begin(st->be, up->key, o, &up->u);
    if (rc < 0)
        return rc;
    th = calloc((size_t)parallel, sizeof(*th));
    if (!th) {
        rc = os_error_set(-ENOMEM, OSE_LOCAL, 0, "", "", "out of memory");
        goto abort;
    }
    for (int i = 0; i < parallel; i++) {
        if (pthread_create(&th[nth], NULL, worker_main, up) == 0)
            nth++;
    }
    if (nth == 0) {
        rc = os_error_set(-EAGAIN, OSE_LOCAL, 0, "", "", "cannot start upload threads");
        goto abort;
    }

    /* Part 1: complete the first buffer. */
    s->state = SLOT_FILLING;
    rc = read_full(fd, s->buf + first, ps1 - first, &got);
    if (rc < 0)
        goto read_error;
    crypto_md5_update(md5c, s->buf + first, got);
    s->len = first + got;
    eof = got < ps1 - first;
    submit(up, s, partno);

    while (!eof) {
        size_t ps;
        partno++;
        s = take_free_slot(up);
        if (!s)
            break; /* a worker failed */
        rc = part_len(st, p, partno, &ps);
        if (rc == 0)
            rc = slot_reserve(s, ps);
        if (rc < 0) {
            /* not at EOF yet: only fail when there really is more data */
            unsigned char probe;
            size_t n = 0;
            int rr = read_full(fd, &probe, 1, &n);
            release(up, s);
            if (rr == 0 && n == 0) {
                rc = 0;
                break;
            }
            goto stop;
        }
        rc = read_full(fd, s->buf, ps, &got);
        if (rc < 0) {
            release(up, s);
            goto read_error;
        }
        if (got == 0) {
            release(up, s);
            break;
        }
        crypto_md5_update(md5c, s->buf, got);
        s->len = got;
        eof = got < ps;
        submit(up, s, partno);
    }
    goto stop;

read_error:
    rc = os_error_set(rc, OSE_LOCAL, 0, "", "", "reading the input: %s", strerror(-rc));
stop:
    pthread_mutex_lock(&up->mu);
    up->done = true;
    pthread_cond_broadcast(&up->cv);
    pthread_mutex_unlock(&up->mu);
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    nth = 0;
    if (rc == 0 && up->err) {
        rc = up->err;
        os_error_set(up->einfo.err, up->einfo.kind, up->einfo.http_status, up->einfo.code,
                     up->einfo.request_id, "%s", up->einfo.message);
    }
    if (rc < 0)
        goto abort;
    crypto_md5_final(md5c, md5);
    if (md5_out)
        memcpy(md5_out, md5, sizeof(md5));
    rc = st->ops->mp_commit(st->be, up->u, md5); /* frees the upload */
    up->u = NULL;
    goto out;
abort:
    if (nth > 0) {
        pthread_mutex_lock(&up->mu);
        up->done = true;
        pthread_cond_broadcast(&up->cv);
        pthread_mutex_unlock(&up->mu);
        for (int i = 0; i < nth; i++)
            pthread_join(th[i], NULL);
    }
    {
        /* keep the error of the failure, not of the abort */
        struct os_error keep = *os_last_error();
        log_info("aborting the upload of %s", up->key);
        st->ops->mp_abort(st->be, up->u);
        up->u = NULL;
        os_error_set(keep.err ? keep.err : rc, keep.kind, keep.http_status, keep.code,
                     keep.request_id, "%s", keep.message);
    }
out:
    free(th);
    return rc;
}

int upload_fd(struct os_store *st, const char *key, int fd, const struct upload_params *p,
              const struct os_put_opts *o, unsigned char *md5_out)
{
    struct up up;
    struct crypto_md5_ctx *md5c = NULL;
    struct os_put_opts opts = *o;
    unsigned char md5[CRYPTO_MD5_LEN];
    int parallel = p->parallel > 0 ? p->parallel : UPLOAD_DEFAULT_PARALLEL;
    size_t thr, ps1, got = 0;
    int rc;

    memset(&up, 0, sizeof(up));
    up.st = st;
    up.key = key;
    pthread_mutex_init(&up.mu, NULL);
    pthread_cond_init(&up.cv, NULL);
    up.nslots = parallel;
    up.slots = calloc((size_t)parallel, sizeof(*up.slots));
    md5c = crypto_md5_new();
    if (!up.slots || !md5c) {
        rc = os_error_set(-ENOMEM, OSE_LOCAL, 0, "", "", "out of memory");
        goto out;
    }
    rc = part_len(st, p, 1, &ps1);
    if (rc < 0)
        goto out;
    thr = p->threshold ? p->threshold : (p->part_size ? p->part_size : UPLOAD_DEFAULT_THRESHOLD);
    if (thr > ps1)
        thr = ps1; /* the first buffer is also part 1 */
    rc = slot_reserve(&up.slots[0], ps1);
    if (rc < 0)
        goto out;
    rc = read_full(fd, up.slots[0].buf, thr, &got);
    if (rc < 0) {
        rc = os_error_set(rc, OSE_LOCAL, 0, "", "", "reading the input: %s", strerror(-rc));
        goto out;
    }
    crypto_md5_update(md5c, up.slots[0].buf, got);
    if (got < thr) {
        crypto_md5_final(md5c, md5);
        if (md5_out)
            memcpy(md5_out, md5, sizeof(md5));
        opts.md5 = md5;
        rc = st->ops->put(st->be, key, up.slots[0].buf, got, &opts);
        goto out;
    }
    opts.md5 = NULL;
    rc = multipart(&up, fd, p, &opts, md5c, got, ps1, parallel, md5_out);
out:
    for (int i = 0; up.slots && i < up.nslots; i++)
        free(up.slots[i].buf);
    free(up.slots);
    crypto_md5_free(md5c);
    pthread_cond_destroy(&up.cv);
    pthread_mutex_destroy(&up.mu);
    return rc;
}
