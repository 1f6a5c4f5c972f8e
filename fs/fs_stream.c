/* fs_stream: streamed multipart/block uploads of sequential writes, and upload options. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/log.h"
#include "fs/fs_int.h"
#include "fs/fs_wfile.h"

/* The user metadata to store with an upload: the base's, minus what bridgefs writes itself. */
static int upload_meta(const struct fs_wfile *w, struct os_meta **out, size_t *n, char bufs[3][16])
{
    static const char *own[] = {"mtime", "md5chksum", "mode", "uid", "gid"};
    const struct mc_attr *b = &w->base;
    struct os_meta *m = calloc(b->info.n_meta + 3, sizeof(*m));
    size_t k = 0;

    if (!m)
        return -ENOMEM;
    for (size_t i = 0; i < b->info.n_meta; i++) {
        bool skip = false;
        for (size_t j = 0; j < sizeof(own) / sizeof(own[0]); j++)
            if (strcasecmp(b->info.meta[i].key, own[j]) == 0)
                skip = true;
        if (!skip)
            m[k++] = b->info.meta[i];
    }
    if (b->has_mode) {
        snprintf(bufs[0], 16, "%u", b->mode);
        m[k++] = (struct os_meta){"mode", bufs[0]};
    }
    if (b->has_uid) {
        snprintf(bufs[1], 16, "%u", b->uid);
        m[k++] = (struct os_meta){"uid", bufs[1]};
    }
    if (b->has_gid) {
        snprintf(bufs[2], 16, "%u", b->gid);
        m[k++] = (struct os_meta){"gid", bufs[2]};
    }
    *out = m;
    *n = k;
    return 0;
}

int fs_io_read_full(int fd, char *p, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t k = pread(fd, p, n, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -EIO;
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

/* ---- streamed uploads ---- */

/* Size of streamed part partno: the configured part size, else the backend's size for
 * an upload of unknown length. */
size_t fs_stream_part_size(struct fs *fs, int partno)
{
    return fs->cfg.part_size ? fs->cfg.part_size : fs->ops->part_size(fs->be, -1, partno);
}

static int stream_jobs(const struct fs *fs)
{
    int n = fs->cfg.jobs;

    return n < 1 ? 1 : n > STREAM_MAX_JOBS ? STREAM_MAX_JOBS : n;
}

static void *part_thread(void *ud)
{
    struct part_job *j = ud;

    j->rc = j->fs->ops->mp_part(j->fs->be, j->u, j->partno, j->buf, j->len);
    return NULL;
}

/* Waits for the oldest part in flight; records its error. */
static void stream_join_oldest(struct fs_stream *s)
{
    struct part_job *j = s->jobs[0];

    if (j->threaded)
        pthread_join(j->th, NULL);
    if (j->rc < 0 && s->rc == 0)
        s->rc = j->rc;
    /* Keep one buffer for the next part: a fresh multi-MiB malloc is a fresh mmap whose
     * every page the kernel faults in and zeroes again (the stream fills whole parts, so a
     * reused buffer is never read past what was written to it). */
    if (!s->spare) {
        s->spare = j->buf;
        s->spare_cap = j->cap;
    } else {
        free(j->buf);
    }
    free(j);
    memmove(&s->jobs[0], &s->jobs[1], (size_t)(s->njobs - 1) * sizeof(s->jobs[0]));
    s->njobs--;
}

/* Hands the filled buffer to a part thread (waiting for a slot), starts a new buffer. */
static int stream_send(struct fs *fs, struct fs_stream *s)
{
    struct part_job *j;

    while (s->njobs >= stream_jobs(fs))
        stream_join_oldest(s);
    if (s->rc < 0)
        return s->rc;
    if (s->partno >= fs->ops->max_parts) {
        log_error("fs: streamed upload needs more than %d parts", fs->ops->max_parts);
        s->rc = -EFBIG;
        return s->rc;
    }
    j = calloc(1, sizeof(*j));
    if (!j) {
        s->rc = -ENOMEM;
        return s->rc;
    }
    *j = (struct part_job){fs, s->u, ++s->partno, s->buf, s->len, s->cap, 0, 0, false};
    s->buf = NULL;
    s->len = 0;
    s->jobs[s->njobs++] = j;
    if (pthread_create(&j->th, NULL, part_thread, j) == 0)
        j->threaded = true;
    else
        part_thread(j);
    s->cap = fs_stream_part_size(fs, s->partno + 1);
    if (s->spare && s->spare_cap == s->cap) {
        s->buf = s->spare;
        s->spare = NULL;
    } else {
        s->buf = malloc(s->cap);
    }
    if (!s->buf) {
        s->rc = -ENOMEM;
        return s->rc;
    }
    return 0;
}

/* Appends n bytes to the stream (sending full parts). */
int fs_stream_feed(struct fs *fs, struct fs_stream *s, const char *p, size_t n)
{
    crypto_md5_update(s->md5, p, n);
    while (n > 0) {
        size_t k = s->cap - s->len < n ? s->cap - s->len : n;
        memcpy(s->buf + s->len, p, k);
        s->len += k;
        p += k;
        n -= k;
        if (s->len == s->cap) {
            int rc = stream_send(fs, s);
            if (rc < 0)
                return rc;
        }
    }
    return s->rc;
}

/* The put options of an upload of w (meta owned by the caller: free it). */
int fs_io_upload_opts(const struct fs_wfile *w, struct os_put_opts *o, struct os_meta **meta,
                       char mbufs[3][16], struct timespec *now)
{
    int rc = upload_meta(w, meta, &o->n_meta, mbufs);

    if (rc < 0)
        return rc;
    o->meta = *meta;
    o->content_type = w->base.info.content_type;
    clock_gettime(CLOCK_REALTIME, now);
    o->mtime = w->has_mtime ? &w->mtime : now;
    return 0;
}

/* Ends the stream of w: sends the last part, waits for every part, then commits (with the
 * MD5 and, when they changed meanwhile, the attributes) or aborts. Frees w->stream. */
int fs_stream_end(struct fs *fs, struct fs_wfile *w, const char *path, bool commit)
{
    struct fs_stream *s = w->stream;
    unsigned char md5[16];
    int rc = 0;

    if (!s)
        return 0;
    w->stream = NULL;
    if (commit && s->rc == 0 && (s->len > 0 || s->partno == 0))
        stream_send(fs, s);
    while (s->njobs > 0)
        stream_join_oldest(s);
    rc = s->rc;
    if (commit && rc == 0)
        crypto_md5_final(s->md5, md5);
    if (commit && rc == 0 && fs_io_md5_unexpected(w, path, md5))
        rc = -ECANCELED;
    if (commit && rc == 0) {
        rc = fs->ops->mp_commit(fs->be, s->u, md5);
        if (rc < 0)
            fs_log_error("upload (commit)", path, rc);
    } else {
        fs->ops->mp_abort(fs->be, s->u);
        if (commit && rc != -ECANCELED)
            fs_log_error("upload (part)", path, rc);
    }
    if (commit && rc == 0) {
        /* the metadata the object has: a change since the upload began is applied now;
         * else the object is what the upload began with, cached from the commit's answer */
        struct os_put_opts o = {0};
        struct os_meta *meta = NULL;
        char mbufs[3][16];
        struct timespec now;
        int k = fs_io_upload_opts(w, &o, &meta, mbufs, &now);

        if (s->meta_changed) {
            rc = k == 0 ? fs->ops->set_meta(fs->be, path, &o) : k;
            if (rc < 0)
                fs_log_error("upload (metadata)", path, rc);
        } else if (k == 0) {
            o.mtime = &s->mtime;
            o.result = &s->result;
            if (fs_io_cache_uploaded(fs, path, w, &o, md5)) /* w->size: all that was fed */
                rc = 1;
        }
        free(meta);
    }
    crypto_md5_free(s->md5);
    free(s->buf);
    free(s->spare);
    free(s);
    return rc;
}

void fs_stream_abort(struct fs *fs, struct fs_wfile *w)
{
    fs_stream_end(fs, w, "", false);
}

/* Switches w (sequential so far, staged size >= a part) to a streamed upload: begins it and
 * sends what the staging file holds, which is then emptied. On failure w stays staged. */
int fs_stream_start(struct fs *fs, struct fs_wfile *w, const char *path)
{
    struct fs_stream *s = calloc(1, sizeof(*s));
    struct os_put_opts o = {0};
    struct os_meta *meta = NULL;
    char mbufs[3][16], *tmp = NULL;
    struct timespec now;
    size_t bl = 1u << 20;
    int rc;

    if (!s)
        return -ENOMEM;
    s->md5 = crypto_md5_new();
    s->cap = fs_stream_part_size(fs, 1);
    s->buf = malloc(s->cap);
    tmp = malloc(bl);
    if (!s->md5 || !s->buf || !tmp) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = fs_io_upload_opts(w, &o, &meta, mbufs, &now);
    if (w->has_expect_md5)
        o.md5 = w->expect_md5; /* stored now (S3 md5chksum), checked before the commit */
    o.result = &s->result;
    s->mtime = *o.mtime;
    if (rc == 0)
        rc = fs->ops->mp_begin(fs->be, path, &o, &s->u);
    free(meta);
    if (rc < 0) {
        fs_log_error("upload (begin)", path, rc);
        goto fail;
    }
    w->stream = s;
    for (off_t off = 0; off < w->size && rc == 0;) {
        size_t n = (size_t)(w->size - off < (off_t)bl ? w->size - off : (off_t)bl);
        rc = fs_io_read_full(w->fd, tmp, n, off);
        if (rc == 0)
            rc = fs_stream_feed(fs, s, tmp, n);
        off += (off_t)n;
    }
    if (rc == 0 && ftruncate(w->fd, 0) != 0)
        rc = -errno;
    if (rc < 0) {
        fs_stream_abort(fs, w); /* the staging file still holds everything */
        s = NULL;
        goto fail;
    }
    free(tmp);
    log_debug("fs: %s: streaming the upload (parts of %zu bytes)", path, s->cap);
    return 0;
fail:
    if (s) {
        crypto_md5_free(s->md5);
        free(s->buf);
        free(s);
    }
    free(tmp);
    return rc;
}

/*
 * A streamed file is accessed other than sequentially (a write elsewhere, a read, a
 * truncate, a second open with O_TRUNC): commits what was streamed so far, so the file
 * becomes a staged modification of that object (downloaded back when needed).
 */
int fs_stream_fallback(struct fs *fs, struct fs_wfile *w, const char *path)
{
    int rc;

    if (!w->stream)
        return 0;
    log_info("fs: %s: non-sequential access to a file being streamed: uploading the %lld "
             "bytes written so far, then staging it", path, (long long)w->size);
    rc = fs_stream_end(fs, w, path, true);
    w->seq = false;
    w->loaded = false;
    if (rc < 0) {
        w->failed = true;
        w->dirty = false;
        log_error("fs: upload of %s failed: %s; the object was left as it was; the data "
                  "written had been streamed and is not kept", path, strerror(-rc));
        return -EIO;
    }
    w->exists = true;
    w->dirty = false;
    w->base.info.size = w->size;
    if (rc != 1)
        fs_cache_refresh(fs, path);
    return 0;
}
