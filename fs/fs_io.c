/* fs_io: file data: ranged reads with sequential prefetch, staged writes and their upload. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/log.h"
#include "fs/fs_int.h"
#include "fs/fs_path.h"
#include "fs/fs_wfile.h"

#define PREFETCH_MIN (1u << 20)
#define PREFETCH_MAX (16u << 20)
#define CHUNK_MIN (1u << 20)


/* One open file. The read-ahead state is guarded by `lock`. */
struct fs_handle {
    struct fs_inode *in;    /* own reference */
    int flags;
    bool writer;            /* counted in in->wf->users */
    int64_t size;           /* object size when opened (reads from the backend) */
    pthread_mutex_t lock;
    off_t last_end;         /* end of the previous read */
    size_t window;          /* current prefetch window */
    char *buf;              /* prefetched bytes [buf_off, buf_off + buf_len); cap PREFETCH_MAX */
    size_t buf_len;
    off_t buf_off;
    /* Read-ahead: while a sequential reader consumes buf, one thread fetches the window
     * after it into ra.buf, so the transfer never waits for the reader (nor the reader for
     * a whole window). Started and joined under `lock`; the thread touches only ra. */
    struct read_ahead {
        struct fs *fs;
        char *path;         /* owned */
        pthread_t th;
        bool running;
        char *buf;          /* cap PREFETCH_MAX */
        off_t off;
        size_t len, got;
        int rc;
    } ra;
};

/* ---- ranged GETs ---- */

struct sink_mem {
    char *dst;
    size_t cap, len;
};

static int sink_mem_cb(const void *data, size_t n, void *ud)
{
    struct sink_mem *s = ud;

    if (n > s->cap - s->len)
        n = s->cap - s->len; /* the server sent more than asked: ignore the excess */
    memcpy(s->dst + s->len, data, n);
    s->len += n;
    return 0;
}

static void archived_note(const char *path)
{
    log_error("fs: %s is archived: it must be restored first (S3 RestoreObject / Azure "
              "rehydration) before it can be read", path);
}

static int get_mem(struct fs *fs, const char *path, off_t off, size_t len, char *dst,
                   size_t *got)
{
    struct sink_mem s = {dst, len, 0};
    int rc = fs->ops->get_range(fs->be, path, off, (int64_t)len, sink_mem_cb, &s, NULL);

    *got = s.len;
    if (rc < 0) {
        if (os_last_error()->kind == OSE_ARCHIVED) {
            archived_note(path);
            return -EACCES;
        }
        fs_log_error("GET", path, rc);
        return rc == -ENOENT ? -ENOENT : -EIO;
    }
    return 0;
}

struct chunk_job {
    struct fs *fs;
    const char *path;
    off_t off;
    size_t len;
    char *dst;
    size_t got;
    int rc;
};

static void *chunk_thread(void *ud)
{
    struct chunk_job *j = ud;

    j->rc = get_mem(j->fs, j->path, j->off, j->len, j->dst, &j->got);
    return NULL;
}

/* Fetches [off, off+len) into dst with up to `jobs` parallel ranged GETs. *got: bytes. */
static int get_parallel(struct fs *fs, const char *path, off_t off, size_t len, char *dst,
                        size_t *got)
{
    struct chunk_job jobs[16];
    pthread_t th[16];
    bool started[16] = {0};
    int n = fs->cfg.jobs, rc = 0;
    size_t per, total = 0;

    if (n > 16)
        n = 16;
    if (n < 1)
        n = 1;
    while (n > 1 && len / (size_t)n < CHUNK_MIN)
        n--;
    if (n == 1)
        return get_mem(fs, path, off, len, dst, got);
    per = (len + (size_t)n - 1) / (size_t)n;
    for (int i = 0; i < n; i++) {
        size_t o = (size_t)i * per;
        jobs[i] = (struct chunk_job){fs, path, off + (off_t)o, o < len ? (len - o < per ? len - o : per) : 0,
                                     dst + o, 0, 0};
        if (jobs[i].len == 0)
            continue;
        if (i > 0 && pthread_create(&th[i], NULL, chunk_thread, &jobs[i]) == 0)
            started[i] = true;
        else if (i > 0)
            chunk_thread(&jobs[i]);
    }
    chunk_thread(&jobs[0]);
    for (int i = 1; i < n; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    for (int i = 0; i < n; i++) {
        if (jobs[i].rc < 0 && rc == 0)
            rc = jobs[i].rc;
        if (rc == 0) {
            total += jobs[i].got;
            if (jobs[i].got < jobs[i].len)
                break; /* short: the object ended */
        }
    }
    *got = total;
    return rc;
}

/* ---- write state ---- */

static int stage_create(struct fs *fs, struct fs_wfile *w)
{
    char name[64];

    snprintf(name, sizeof(name), "w-%ld-%llu", (long)getpid(),
             (unsigned long long)atomic_fetch_add(&fs->seq, 1));
    w->spath = fs_path_join(fs->staging, name);
    if (!w->spath)
        return -ENOMEM;
    w->fd = open(w->spath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        int e = errno;
        log_error("fs: cannot create staging file %s: %s", w->spath, strerror(e));
        return -e;
    }
    return 0;
}

static void wfile_free(struct fs *fs, struct fs_wfile *w, bool keep_file)
{
    if (!w)
        return;
    fs_stream_abort(fs, w);
    if (keep_file && w->fd >= 0 && lseek(w->fd, 0, SEEK_END) == 0)
        keep_file = false; /* nothing to keep (a streamed upload that failed) */
    if (w->fd >= 0)
        close(w->fd);
    if (w->spath && !keep_file)
        unlink(w->spath);
    free(w->spath);
    mc_attr_clear(&w->base);
    free(w);
}

struct sink_fd {
    int fd;
    off_t off;
};

static int sink_fd_cb(const void *data, size_t n, void *ud)
{
    struct sink_fd *s = ud;
    const char *p = data;

    while (n > 0) {
        ssize_t k = pwrite(s->fd, p, n, s->off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        n -= (size_t)k;
        s->off += k;
    }
    return 0;
}

/* Makes the staging file hold the object's content (inode lock held). */
static int wfile_load(struct fs *fs, struct fs_wfile *w, const char *path)
{
    struct sink_fd s = {w->fd, 0};
    int rc;

    if (w->loaded)
        return 0;
    if (ftruncate(w->fd, 0) != 0)
        return -errno;
    if (w->exists && w->base.info.size > 0) {
        rc = fs->ops->get_range(fs->be, path, 0, -1, sink_fd_cb, &s, NULL);
        if (rc < 0) {
            if (os_last_error()->kind == OSE_ARCHIVED) {
                archived_note(path);
                return -EACCES;
            }
            fs_log_error("GET (to stage for writing)", path, rc);
            return -EIO;
        }
    }
    w->size = s.off;
    w->loaded = true;
    return 0;
}

/* Attaches a write state to in (inode lock held), reading attributes of path. */
static int wfile_attach(struct fs *fs, struct fs_inode *in, const char *path, bool trunc,
                        bool created)
{
    struct fs_wfile *w;
    int rc;

    if (in->wf)
        return 0;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->fd = -1;
    w->expect_size = -1;
    if (!created) {
        rc = fs_attr_get(fs, path, true, &w->base);
        if (rc == 0)
            w->exists = true;
        else if (rc != -ENOENT)
            goto fail;
    }
    if (w->exists && w->base.info.archived && !trunc) {
        archived_note(path);
        rc = -EACCES;
        goto fail;
    }
    rc = stage_create(fs, w);
    if (rc < 0)
        goto fail;
    if (trunc || created || !w->exists) {
        w->loaded = true;
        w->dirty = true;
        w->seq = true;
    }
    in->wf = w;
    return 0;
fail:
    wfile_free(fs, w, false);
    return rc;
}

struct mp_ctx {
    struct fs *fs;
    struct os_upload *u;
    int fd;
    int64_t size;
    size_t psize;
    int nparts;
    pthread_mutex_t lock;
    int next;   /* next part to send; lock */
    int rc;     /* first error; lock */
};

static void *mp_worker(void *ud)
{
    struct mp_ctx *c = ud;
    char *buf = malloc(c->psize);

    for (;;) {
        int part, rc;
        off_t off;
        size_t len;

        pthread_mutex_lock(&c->lock);
        part = c->rc == 0 && buf && c->next <= c->nparts ? c->next++ : 0;
        if (!buf && c->rc == 0)
            c->rc = -ENOMEM;
        pthread_mutex_unlock(&c->lock);
        if (part == 0)
            break;
        off = (off_t)(part - 1) * (off_t)c->psize;
        len = (size_t)(c->size - off < (int64_t)c->psize ? c->size - off : (int64_t)c->psize);
        rc = fs_io_read_full(c->fd, buf, len, off);
        if (rc == 0)
            rc = c->fs->ops->mp_part(c->fs->be, c->u, part, buf, len);
        if (rc < 0) {
            pthread_mutex_lock(&c->lock);
            if (c->rc == 0)
                c->rc = rc;
            pthread_mutex_unlock(&c->lock);
        }
    }
    free(buf);
    return NULL;
}

static int md5_fd(int fd, int64_t size, unsigned char md5[16])
{
    struct crypto_md5_ctx *m = crypto_md5_new();
    size_t bl = 1 << 20;
    char *b = malloc(bl);
    int rc = 0;

    if (!m || !b) {
        rc = -ENOMEM;
        goto out;
    }
    for (int64_t off = 0; off < size && rc == 0;) {
        size_t n = (size_t)(size - off < (int64_t)bl ? size - off : (int64_t)bl);
        rc = fs_io_read_full(fd, b, n, off);
        if (rc == 0)
            crypto_md5_update(m, b, n);
        off += (int64_t)n;
    }
    crypto_md5_final(m, md5);
out:
    crypto_md5_free(m);
    free(b);
    return rc;
}

bool fs_io_md5_unexpected(const struct fs_wfile *w, const char *path, const unsigned char md5[16])
{
    char got[33], want[33];

    if (!w->has_expect_md5 || memcmp(md5, w->expect_md5, 16) == 0)
        return false;
    crypto_hex(md5, 16, got);
    crypto_hex(w->expect_md5, 16, want);
    log_error("fs: upload of %s discarded: the data written has MD5 %s, the writer announced %s "
              "(user.bridgefs.expect_md5); the object was left as it was", path, got, want);
    return true;
}

bool fs_io_cache_uploaded(struct fs *fs, const char *path, const struct fs_wfile *w,
                          const struct os_put_opts *o, const unsigned char md5[16])
{
    struct os_info i = {0};
    struct mc_attr a;

    if (!o->result || !o->result->ok)
        return false;
    i.key = strdup(path);
    i.etag = strdup(o->result->etag);
    i.content_type = strdup(o->content_type && *o->content_type ? o->content_type
                                                                : "application/octet-stream");
    if (!i.key || !i.etag || !i.content_type)
        goto fail;
    for (size_t k = 0; k < o->n_meta; k++)
        if (os_info_set_meta(&i, o->meta[k].key, o->meta[k].value ? o->meta[k].value : "") != 0)
            goto fail;
    i.size = (int64_t)w->size;
    i.last_modified = o->result->last_modified;
    i.mtime = o->mtime ? *o->mtime : i.last_modified;
    memcpy(i.md5, md5, 16);
    i.has_md5 = true;
    fs_attr_from_info(&a, &i);
    fs_cache_put(fs, path, &a);
    mc_attr_clear(&a);
    return true;
fail:
    os_info_clear(&i);
    return false;
}

/* Uploads the staging file of w as path (inode lock held). */
static int wfile_upload(struct fs *fs, struct fs_wfile *w, const char *path)
{
    struct os_put_opts o = {0};
    struct os_put_result res = {0};
    struct os_meta *meta = NULL;
    char mbufs[3][16];
    unsigned char md5[16];
    struct timespec now;
    size_t psize;
    char *data = NULL;
    bool cached = false;
    int rc;

    if (w->unlinked) {
        fs_stream_abort(fs, w);
        w->dirty = false;
        return 0;
    }
    if (w->write_err) { /* a write was lost: publishing the rest would corrupt the object */
        fs_stream_abort(fs, w);
        w->dirty = false;
        w->failed = false; /* incomplete: nothing worth keeping */
        log_error("fs: upload of %s refused: a write to its staging file had failed (%s); the "
                  "object was left as it was", path, strerror(w->write_err));
        fs_cache_refresh(fs, path);
        return -ECANCELED;
    }
    if (w->expect_size >= 0 && (int64_t)w->size != w->expect_size) {
        /* Not the announced size. Before the last release this is a flush of a file still
         * being written (the kernel flushes at every close of any descriptor of it): upload
         * later. At the last release the writer stopped short (killed, failed): publishing
         * what it wrote would put a truncated object in place of a good one. */
        if (!w->final)
            return 0;
        fs_stream_abort(fs, w);
        w->dirty = false;
        w->failed = false; /* a partial copy: nothing worth keeping in the staging folder */
        log_error("fs: upload of %s discarded: %lld bytes written, %lld announced by the writer "
                  "(user.bridgefs.expect_size); the object was left as it was and the partial "
                  "data dropped", path,
                  (long long)w->size, (long long)w->expect_size);
        /* The cache holds what open/create/truncate made of it: show the object as it is
         * (or its absence, for a file created by the writer) from now on. */
        fs_cache_refresh(fs, path);
        return -ECANCELED;
    }
    if (w->stream) {
        rc = fs_stream_end(fs, w, path, true);
        cached = rc == 1;
        if (rc == 1)
            rc = 0;
        w->seq = false;
        w->loaded = false; /* the content is in the store only */
        if (rc == -ECANCELED) { /* not the announced content: nothing published */
            w->dirty = false;
            w->failed = false;
            fs_cache_refresh(fs, path);
            return rc;
        }
        if (rc < 0) {
            w->failed = true;
            w->dirty = false;
            log_error("fs: upload of %s failed: %s; the object was left as it was; the data "
                      "written had been streamed and is not kept", path, strerror(-rc));
            return rc == -ENOMEM || rc == -EFBIG ? rc : -EIO;
        }
        w->base.info.size = w->size;
        goto done;
    }
    rc = wfile_load(fs, w, path);
    if (rc < 0)
        goto out;
    rc = fs_io_upload_opts(w, &o, &meta, mbufs, &now);
    if (rc < 0)
        goto out;
    o.result = &res;
    psize = fs->cfg.part_size ? fs->cfg.part_size : fs->ops->part_size(fs->be, w->size, 1);
    rc = md5_fd(w->fd, w->size, md5);
    if (rc < 0)
        goto out;
    if (fs_io_md5_unexpected(w, path, md5)) {
        w->dirty = false;
        w->failed = false;
        fs_cache_refresh(fs, path);
        rc = -ECANCELED;
        goto discard;
    }
    o.md5 = md5;
    if (w->size <= (off_t)psize) {
        data = malloc(w->size ? (size_t)w->size : 1);
        if (!data) {
            rc = -ENOMEM;
            goto out;
        }
        rc = fs_io_read_full(w->fd, data, (size_t)w->size, 0);
        if (rc == 0)
            rc = fs->ops->put(fs->be, path, data, (size_t)w->size, &o);
        if (rc == 0)
            cached = fs_io_cache_uploaded(fs, path, w, &o, md5);
    } else {
        struct mp_ctx c = {.fs = fs, .fd = w->fd, .size = w->size, .psize = psize, .next = 1};
        pthread_t th[16];
        int nth = fs->cfg.jobs < 1 ? 1 : fs->cfg.jobs > 16 ? 16 : fs->cfg.jobs, started = 0;

        c.nparts = (int)((w->size + (off_t)psize - 1) / (off_t)psize);
        if (c.nparts > fs->ops->max_parts) {
            log_error("fs: %s: %lld bytes need %d parts of %zu bytes, over the limit %d", path,
                      (long long)w->size, c.nparts, psize, fs->ops->max_parts);
            rc = -EFBIG;
            goto out;
        }
        o.md5 = NULL; /* a multipart upload gets the whole MD5 at commit */
        rc = fs->ops->mp_begin(fs->be, path, &o, &c.u);
        if (rc < 0)
            goto out;
        pthread_mutex_init(&c.lock, NULL);
        for (int i = 0; i < nth - 1; i++)
            if (pthread_create(&th[started], NULL, mp_worker, &c) == 0)
                started++;
        mp_worker(&c);
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        pthread_mutex_destroy(&c.lock);
        rc = c.rc;
        if (rc == 0)
            rc = fs->ops->mp_commit(fs->be, c.u, md5);
        else
            fs->ops->mp_abort(fs->be, c.u);
        if (rc == 0)
            cached = fs_io_cache_uploaded(fs, path, w, &o, md5);
    }
    if (rc < 0) {
        fs_log_error("upload", path, rc);
        goto out;
    }
done:
    w->dirty = false;
    w->failed = false;
    w->exists = true;
    if (!cached)
        fs_cache_refresh(fs, path);
out:
    if (rc < 0) {
        w->failed = true;
        log_error("fs: upload of %s failed: %s; the object was left as it was and the written "
                  "data is kept in %s", path, strerror(-rc), w->spath);
        rc = rc == -ENOMEM || rc == -EFBIG || rc == -ENOSPC ? rc : -EIO;
    }
discard:
    free(meta);
    free(data);
    return rc;
}

/* ---- handles ---- */

int fs_open(struct fs *fs, struct fs_inode *in, int flags, bool created, struct fs_handle **out)
{
    struct fs_handle *h = calloc(1, sizeof(*h));
    struct fs_inode *ref;
    char *path = fs_itable_path(fs->it, in);
    int acc = flags & O_ACCMODE, rc = 0;

    *out = NULL;
    if (!h || !path) {
        rc = -ENOMEM;
        goto out;
    }
    h->flags = flags;
    h->window = PREFETCH_MIN;
    pthread_mutex_init(&h->lock, NULL);
    if (acc != O_RDONLY || (flags & O_TRUNC)) {
        if (fs->cfg.read_only) {
            rc = -EROFS;
            goto out;
        }
        ref = fs_itable_get(fs->it, in->ino); /* held by the write state */
        pthread_mutex_lock(&in->lock);
        bool fresh = in->wf == NULL;
        rc = wfile_attach(fs, in, path, (flags & O_TRUNC) != 0, created);
        if (rc == 0) {
            if (!fresh && (flags & O_TRUNC))
                fs_stream_abort(fs, in->wf);
            if (!fresh && (flags & O_TRUNC) && ftruncate(in->wf->fd, 0) == 0) {
                in->wf->size = 0;
                in->wf->loaded = in->wf->dirty = true;
            }
            in->wf->users++;
            h->writer = true;
            h->size = in->wf->base.info.size;
        }
        pthread_mutex_unlock(&in->lock);
        if (rc < 0 || !fresh)
            fs_itable_put(fs->it, ref);
        if (rc < 0)
            goto out;
    } else {
        struct mc_attr a;

        rc = fs_attr_get(fs, path, false, &a);
        if (rc < 0)
            goto out;
        if (a.info.archived) {
            archived_note(path);
            rc = -EACCES;
        }
        h->size = a.info.size;
        mc_attr_clear(&a);
        if (rc < 0)
            goto out;
    }
    h->in = fs_itable_get(fs->it, in->ino);
    *out = h;
    h = NULL;
out:
    if (h) {
        pthread_mutex_destroy(&h->lock);
        free(h);
    }
    free(path);
    return rc;
}

/* Reads through the write state when it holds the content: 1 with *n set, 0 when not. */
static int read_staged(struct fs *fs, struct fs_inode *in, const char *path, char *buf,
                       size_t size, off_t off, ssize_t *n)
{
    int rc = 0;

    pthread_mutex_lock(&in->lock);
    if (in->wf && in->wf->stream) {
        rc = fs_stream_fallback(fs, in->wf, path);
        if (rc == 0)
            rc = wfile_load(fs, in->wf, path);
        if (rc < 0) {
            *n = rc;
            pthread_mutex_unlock(&in->lock);
            return 1;
        }
    }
    if (in->wf)
        in->wf->seq = false;
    if (in->wf && in->wf->loaded) {
        rc = 1;
        *n = pread(in->wf->fd, buf, size, off);
        if (*n < 0)
            *n = -errno;
    }
    pthread_mutex_unlock(&in->lock);
    return rc;
}

/* The prefetched bytes hold [off, off + size) (h->lock held). */
static bool buf_holds(const struct fs_handle *h, off_t off, size_t size)
{
    return h->buf && off >= h->buf_off && off + (off_t)size <= h->buf_off + (off_t)h->buf_len;
}

static void *ra_thread(void *ud)
{
    struct read_ahead *ra = ud;

    ra->rc = get_parallel(ra->fs, ra->path, ra->off, ra->len, ra->buf, &ra->got);
    return NULL;
}

/* Waits for the read-ahead in flight, if any (h->lock held). */
static void ra_join(struct fs_handle *h)
{
    if (!h->ra.running)
        return;
    pthread_join(h->ra.th, NULL);
    h->ra.running = false;
    free(h->ra.path);
    h->ra.path = NULL;
}

/* After a sequential read served from buf: fetch the next window in the background
 * (h->lock held). Best effort: without a thread or memory the next read fetches it. */
static void ra_start(struct fs *fs, struct fs_handle *h, const char *path)
{
    off_t next = h->buf_off + (off_t)h->buf_len;
    size_t len = h->window;

    if (h->ra.running || h->buf_len == 0 || next >= h->size || h->window < PREFETCH_MAX)
        return;
    if ((int64_t)len > h->size - next)
        len = (size_t)(h->size - next);
    if (!h->ra.buf)
        h->ra.buf = malloc(PREFETCH_MAX);
    h->ra.path = strdup(path);
    if (!h->ra.buf || !h->ra.path) {
        free(h->ra.path);
        h->ra.path = NULL;
        return;
    }
    h->ra.fs = fs;
    h->ra.off = next;
    h->ra.len = len;
    h->ra.got = 0;
    h->ra.rc = 0;
    if (pthread_create(&h->ra.th, NULL, ra_thread, &h->ra) != 0) {
        free(h->ra.path);
        h->ra.path = NULL;
        return;
    }
    h->ra.running = true;
}

/* A read at off missed buf: when the read-ahead holds off, make its window buf (h->lock
 * held). A read-ahead that does not hold off is waited for and dropped. */
static void ra_take(struct fs_handle *h, off_t off)
{
    char *t;

    if (!h->ra.running)
        return;
    ra_join(h);
    if (h->ra.rc < 0 || off < h->ra.off || off >= h->ra.off + (off_t)h->ra.got)
        return; /* failed or elsewhere: the caller fetches (and reports any error) */
    t = h->buf;
    h->buf = h->ra.buf;
    h->ra.buf = t;
    h->buf_off = h->ra.off;
    h->buf_len = h->ra.got;
}

ssize_t fs_read(struct fs *fs, struct fs_handle *h, char *buf, size_t size, off_t off)
{
    ssize_t n = 0;
    char *path = NULL;
    size_t got = 0;
    int rc = 0;

    path = fs_itable_path(fs->it, h->in);
    if (!path)
        return -ENOMEM;
    if (read_staged(fs, h->in, path, buf, size, off, &n)) {
        free(path);
        return n;
    }
    if (off >= h->size) {
        free(path);
        return 0;
    }
    if ((int64_t)size > h->size - off)
        size = (size_t)(h->size - off);
    pthread_mutex_lock(&h->lock);
    if (!buf_holds(h, off, size))
        ra_take(h, off);
    if (buf_holds(h, off, size)) {
        memcpy(buf, h->buf + (off - h->buf_off), size);
        n = (ssize_t)size;
        if (off == h->last_end)
            ra_start(fs, h, path);
    } else if (off == h->last_end || (h->buf && off >= h->buf_off &&
                                      off <= h->buf_off + (off_t)h->buf_len)) {
        /* sequential: fetch a growing window from off */
        size_t want = h->window;
        if (want < size)
            want = size;
        if ((int64_t)want > h->size - off)
            want = (size_t)(h->size - off);
        if (!h->buf)
            h->buf = malloc(PREFETCH_MAX > size ? PREFETCH_MAX : size);
        if (!h->buf) {
            rc = -ENOMEM;
        } else {
            rc = get_parallel(fs, path, off, want, h->buf, &got);
            h->buf_off = off;
            h->buf_len = rc == 0 ? got : 0;
        }
        if (rc == 0) {
            n = (ssize_t)(got < size ? got : size);
            memcpy(buf, h->buf, (size_t)n);
            if (h->window < PREFETCH_MAX)
                h->window *= 2;
            else
                ra_start(fs, h, path);
        }
    } else {
        /* random: fetch only what was asked */
        h->window = PREFETCH_MIN;
        rc = get_mem(fs, path, off, size, buf, &got);
        n = (ssize_t)got;
    }
    if (rc == 0)
        h->last_end = off + n;
    pthread_mutex_unlock(&h->lock);
    free(path);
    return rc < 0 ? rc : n;
}

ssize_t fs_write(struct fs *fs, struct fs_handle *h, const char *buf, size_t size, off_t off)
{
    struct fs_inode *in = h->in;
    char *path = fs_itable_path(fs->it, in);
    struct fs_wfile *w;
    ssize_t n;
    int rc;

    if (!path)
        return -ENOMEM;
    pthread_mutex_lock(&in->lock);
    if (!in->wf) {
        n = -EBADF;
        goto out;
    }
    w = in->wf;
    if (w->stream && !(h->flags & O_APPEND) && off != w->size) {
        rc = fs_stream_fallback(fs, w, path);
        if (rc < 0) {
            n = rc;
            goto out;
        }
    }
    if (w->stream) {
        rc = fs_stream_feed(fs, w->stream, buf, size);
        if (rc < 0) {
            n = -EIO; /* the part upload failed: close() reports it too */
            goto out;
        }
        w->size += (off_t)size;
        w->dirty = true;
        n = (ssize_t)size;
        goto out;
    }
    rc = wfile_load(fs, w, path);
    if (rc < 0) {
        n = rc;
        goto out;
    }
    if (h->flags & O_APPEND)
        off = w->size;
    if (off != w->size)
        w->seq = false;
    n = pwrite(w->fd, buf, size, off);
    if (n < 0) {
        n = -errno;
        if (!w->write_err)
            log_error("fs: %s: writing to the staging file %s failed: %s; the file will not "
                      "be uploaded", path, w->spath, strerror((int)-n));
        w->write_err = (int)-n;
        goto out;
    }
    if (off + n > w->size)
        w->size = off + n;
    w->dirty = true;
    if (w->seq && !w->unlinked && w->size >= (off_t)fs_stream_part_size(fs, 1)) {
        w->seq = false; /* one attempt: on failure the file stays staged */
        rc = fs_stream_start(fs, w, path);
        if (rc < 0)
            log_warn("fs: %s: cannot stream the upload (%s): staging it", path, strerror(-rc));
        else
            w->seq = true;
    }
out:
    pthread_mutex_unlock(&in->lock);
    free(path);
    return n;
}

int fs_io_upload(struct fs *fs, struct fs_inode *in)
{
    char *path = fs_itable_path(fs->it, in);
    int rc = 0;

    if (!path)
        return -ENOMEM;
    pthread_mutex_lock(&in->lock);
    if (in->wf && in->wf->dirty)
        rc = wfile_upload(fs, in->wf, path);
    pthread_mutex_unlock(&in->lock);
    free(path);
    return rc;
}

int fs_flush(struct fs *fs, struct fs_handle *h)
{
    return h->writer ? fs_io_upload(fs, h->in) : 0;
}

int fs_release(struct fs *fs, struct fs_handle *h)
{
    struct fs_inode *in = h->in;
    struct fs_wfile *w = NULL;
    int rc = 0;

    if (h->writer) {
        pthread_mutex_lock(&in->lock);
        if (in->wf && in->wf->users <= 1)
            in->wf->final = true;
        pthread_mutex_unlock(&in->lock);
        rc = fs_io_upload(fs, in);
        pthread_mutex_lock(&in->lock);
        if (in->wf && --in->wf->users <= 0) {
            w = in->wf;
            in->wf = NULL;
        }
        pthread_mutex_unlock(&in->lock);
        if (w) {
            wfile_free(fs, w, w->failed || w->dirty);
            fs_itable_put(fs->it, in); /* the write state's reference */
        }
    }
    fs_itable_put(fs->it, in);
    pthread_mutex_lock(&h->lock);
    ra_join(h);
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_destroy(&h->lock);
    free(h->buf);
    free(h->ra.buf);
    free(h);
    return rc;
}

int fs_io_override(struct fs *fs, struct fs_inode *in, struct stat *st)
{
    int rc = 0;

    (void)fs;
    pthread_mutex_lock(&in->lock);
    if (in->wf && (in->wf->loaded || in->wf->stream)) {
        st->st_size = in->wf->size;
        st->st_blocks = (st->st_size + 511) / 512;
        if (in->wf->has_mtime)
            st->st_mtim = in->wf->mtime;
        rc = 1;
    }
    pthread_mutex_unlock(&in->lock);
    return rc;
}

int fs_io_set_mtime(struct fs *fs, struct fs_inode *in, const struct timespec *mtime)
{
    int rc = 0;

    (void)fs;
    pthread_mutex_lock(&in->lock);
    if (in->wf) {
        /* the same mtime again (a copy tool sets it before the data, then again at the end)
         * changes nothing the streamed upload began with */
        bool same = in->wf->has_mtime && in->wf->mtime.tv_sec == mtime->tv_sec &&
                    in->wf->mtime.tv_nsec == mtime->tv_nsec;
        in->wf->has_mtime = true;
        in->wf->mtime = *mtime;
        if (in->wf->stream && !same)
            in->wf->stream->meta_changed = true;
        rc = in->wf->dirty ? 1 : 0;
    }
    pthread_mutex_unlock(&in->lock);
    return rc;
}

int fs_truncate(struct fs *fs, struct fs_inode *in, off_t size)
{
    char *path = fs_itable_path(fs->it, in);
    bool temp = false;
    int rc;

    if (!path)
        return -ENOMEM;
    if (fs->cfg.read_only) {
        rc = -EROFS;
        goto out;
    }
    pthread_mutex_lock(&in->lock);
    if (!in->wf) {
        rc = wfile_attach(fs, in, path, size == 0, false);
        if (rc < 0)
            goto unlock;
        temp = true;
    }
    if (in->wf->stream && size == in->wf->size) {
        rc = 0; /* dd's ftruncate at the current size: nothing changes, keep streaming */
        goto unlock;
    }
    if (size != in->wf->size)
        in->wf->seq = false;
    rc = fs_stream_fallback(fs, in->wf, path);
    if (rc == 0 && size != 0)
        rc = wfile_load(fs, in->wf, path);
    if (rc == 0 && size == 0)
        in->wf->loaded = true;
    if (rc == 0 && ftruncate(in->wf->fd, size) != 0)
        rc = -errno;
    if (rc == 0) {
        in->wf->size = size;
        in->wf->dirty = true;
    }
    if (temp) {
        struct fs_wfile *w = in->wf;
        if (rc == 0)
            rc = wfile_upload(fs, w, path);
        in->wf = NULL;
        wfile_free(fs, w, w->failed);
    }
unlock:
    pthread_mutex_unlock(&in->lock);
out:
    free(path);
    return rc;
}

int fs_io_edit_base(struct fs *fs, struct fs_inode *in, int (*fn)(struct mc_attr *base, void *ud),
                    void *ud)
{
    int rc = 0;

    (void)fs;
    pthread_mutex_lock(&in->lock);
    if (in->wf) {
        rc = fn(&in->wf->base, ud);
        if (rc == 0 && in->wf->stream)
            in->wf->stream->meta_changed = true;
        if (rc == 0)
            rc = in->wf->dirty ? 1 : 0;
    }
    pthread_mutex_unlock(&in->lock);
    return rc;
}

int fs_io_set_own(struct fs *fs, struct fs_inode *in, const char *what, const char *val,
                  size_t len)
{
    char tmp[64], *end = NULL, *ct;
    long long v;
    int rc = 0;

    (void)fs;
    pthread_mutex_lock(&in->lock);
    if (!in->wf) {
        rc = -EPERM; /* only a file open for writing takes these */
        goto out;
    }
    if (strcmp(what, "expect_size") == 0) {
        if (len == 0 || len >= sizeof(tmp)) {
            rc = -EINVAL;
            goto out;
        }
        memcpy(tmp, val, len);
        tmp[len] = '\0';
        errno = 0;
        v = strtoll(tmp, &end, 10);
        if (errno || *end || v < 0) {
            rc = -EINVAL;
            goto out;
        }
        in->wf->expect_size = v;
    } else if (strcmp(what, "expect_md5") == 0) {
        if (len != 32) {
            rc = -EINVAL;
            goto out;
        }
        memcpy(tmp, val, len);
        tmp[len] = '\0';
        if (in->wf->stream || crypto_unhex(tmp, in->wf->expect_md5, 16) != 0) {
            rc = -EINVAL; /* after streaming began it could no longer be stored with it */
            goto out;
        }
        in->wf->has_expect_md5 = true;
    } else if (strcmp(what, "content_type") == 0) {
        if (len == 0 || len > 255) {
            rc = -EINVAL;
            goto out;
        }
        ct = strndup(val, len);
        if (!ct) {
            rc = -ENOMEM;
            goto out;
        }
        free(in->wf->base.info.content_type);
        in->wf->base.info.content_type = ct;
        in->wf->dirty = true;
        if (in->wf->stream)
            in->wf->stream->meta_changed = true;
    } else {
        rc = -EPERM;
    }
out:
    pthread_mutex_unlock(&in->lock);
    return rc;
}

void fs_io_discard(struct fs *fs, struct fs_inode *in)
{
    (void)fs;
    pthread_mutex_lock(&in->lock);
    if (in->wf) {
        fs_stream_abort(fs, in->wf);
        in->wf->unlinked = true;
        in->wf->dirty = false;
    }
    pthread_mutex_unlock(&in->lock);
}
