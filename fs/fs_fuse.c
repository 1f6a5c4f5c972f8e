/* fs_fuse: the libfuse low-level handlers (decode, call the core, reply once) and the session. */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/log.h"
#include "fs/fs_int.h"
#include "fs/fs_path.h"

#define MAX_IO (1u << 20)

static struct fs *req_fs(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static double ttl_s(const struct fs *fs)
{
    return fs->cfg.ttl_ns < 0 ? 86400.0 * 365 : (double)fs->cfg.ttl_ns / 1e9;
}

/* Entry and attr timeouts: attributes known only from an S3 listing (no user metadata)
 * get attr timeout 0 so that stat(2) asks getattr, which HEADs them once (not with
 * server_mtime: the listing is all stat shows). */
static void fill_entry(struct fs *fs, struct fs_inode *in, const struct mc_attr *a,
                       struct fuse_entry_param *e)
{
    memset(e, 0, sizeof(*e));
    e->ino = in->ino;
    e->generation = in->gen;
    fs_attr_to_stat(fs, in->ino, a, &e->attr);
    fs_io_override(fs, in, &e->attr);
    e->entry_timeout = ttl_s(fs);
    e->attr_timeout =
        a->meta_truncated && !fs->cfg.server_mtime ? 0 : ttl_s(fs);
}

/* The child path of parent inode + name; NULL with *err set. */
static char *child_path(struct fs *fs, fuse_ino_t parent, const char *name, int *err)
{
    struct fs_inode *p = fs_itable_get(fs->it, parent);
    char *pp, *path;

    *err = 0;
    if (!p) {
        *err = ENOENT;
        return NULL;
    }
    if (!fs_name_valid(name)) {
        fs_itable_put(fs->it, p);
        *err = strlen(name) > 255 ? ENAMETOOLONG : EINVAL;
        return NULL;
    }
    pp = fs_itable_path(fs->it, p);
    fs_itable_put(fs->it, p);
    path = pp ? fs_path_join(pp, name) : NULL;
    free(pp);
    if (!path)
        *err = ENOMEM;
    return path;
}

/* Replies with an entry for path (a lookup count taken). */
static void reply_entry_for(fuse_req_t req, struct fs *fs, const char *path,
                            const struct mc_attr *a)
{
    struct fuse_entry_param e;
    struct fs_inode *in = fs_itable_acquire(fs->it, path, mc_attr_is_dir(a), 1);

    if (!in) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    fill_entry(fs, in, a, &e);
    fs_itable_put(fs->it, in);
    if (fuse_reply_entry(req, &e) != 0)
        fs_itable_forget(fs->it, e.ino, 1);
}

static void op_init(void *ud, struct fuse_conn_info *conn)
{
    (void)ud;
    conn->max_write = MAX_IO;
    conn->max_read = MAX_IO;
    conn->max_readahead = MAX_IO;
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
        conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    if (conn->capable & FUSE_CAP_READDIRPLUS)
        conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
    if (conn->capable & FUSE_CAP_ASYNC_READ)
        conn->want |= FUSE_CAP_ASYNC_READ;
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void op_destroy(void *ud)
{
    fs_core_flush_all(ud);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct fs *fs = req_fs(req);
    struct mc_attr a;
    int err, rc;
    char *path = child_path(fs, parent, name, &err);

    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    rc = fs_attr_get(fs, path, false, &a);
    if (rc == -ENOENT) {
        struct fuse_entry_param e = {0};
        e.entry_timeout = ttl_s(fs); /* a negative dentry, cached by the kernel */
        fuse_reply_entry(req, &e);
    } else if (rc < 0) {
        fuse_reply_err(req, -rc);
    } else {
        reply_entry_for(req, fs, path, &a);
        mc_attr_clear(&a);
    }
    free(path);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    fs_itable_forget(req_fs(req)->it, ino, nlookup);
    fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
    for (size_t i = 0; i < count; i++)
        fs_itable_forget(req_fs(req)->it, f[i].ino, f[i].nlookup);
    fuse_reply_none(req);
}

/* stat of inode in (fresh from the cache or backend). */
static int stat_inode(struct fs *fs, struct fs_inode *in, struct stat *st, bool *no_cache)
{
    char *path = fs_itable_path(fs->it, in);
    struct mc_attr a;
    int rc;

    if (!path)
        return -ENOMEM;
    rc = fs_attr_get(fs, path, !fs->cfg.server_mtime, &a);
    if (rc == -ENOENT && fs_io_override(fs, in, st)) { /* created, not yet uploaded */
        memset(&a, 0, sizeof(a));
        rc = 0;
    }
    if (rc == 0) {
        if (fs->sa)
            fs_sa_note(fs, path);
        fs_attr_to_stat(fs, in->ino, &a, st);
        fs_io_override(fs, in, st);
        if (no_cache)
            *no_cache = a.meta_truncated;
        mc_attr_clear(&a);
    }
    free(path);
    return rc;
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = req_fs(req);
    struct fs_inode *in = fs_itable_get(fs->it, ino);
    struct stat st;
    int rc;

    (void)fi;
    if (!in) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    rc = stat_inode(fs, in, &st, NULL);
    fs_itable_put(fs->it, in);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_attr(req, &st, ttl_s(fs));
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    struct fs *fs = req_fs(req);
    struct fs_inode *in = fs_itable_get(fs->it, ino);
    struct fs_setattr s = {0};
    struct stat st;
    char *path = NULL;
    int rc = 0;

    (void)fi;
    if (!in) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    path = fs_itable_path(fs->it, in);
    if (!path) {
        rc = -ENOMEM;
        goto out;
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
        rc = in->is_dir ? -EISDIR : fs_truncate(fs, in, attr->st_size);
        if (rc < 0)
            goto out;
    }
    if (to_set & FUSE_SET_ATTR_MODE) {
        s.has_mode = true;
        s.mode = attr->st_mode;
    }
    if (to_set & FUSE_SET_ATTR_UID) {
        s.has_uid = true;
        s.uid = attr->st_uid;
    }
    if (to_set & FUSE_SET_ATTR_GID) {
        s.has_gid = true;
        s.gid = attr->st_gid;
    }
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
        s.has_mtime = true;
        clock_gettime(CLOCK_REALTIME, &s.mtime);
    } else if (to_set & FUSE_SET_ATTR_MTIME) {
        s.has_mtime = true;
        s.mtime = attr->st_mtim;
    }
    if (s.has_mode || s.has_uid || s.has_gid || s.has_mtime) {
        rc = fs_setmeta(fs, in, path, &s);
        if (rc < 0)
            goto out;
    }
    rc = stat_inode(fs, in, &st, NULL);
out:
    fs_itable_put(fs->it, in);
    free(path);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_attr(req, &st, ttl_s(fs));
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
    struct fs *fs = req_fs(req);
    struct fs_inode *in = fs_itable_get(fs->it, ino);
    char *path = in ? fs_itable_path(fs->it, in) : NULL, *t = NULL;
    int rc = path ? fs_readlink(fs, path, &t) : (in ? -ENOMEM : -ENOENT);

    fs_itable_put(fs->it, in);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_readlink(req, t);
    free(t);
    free(path);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                     dev_t rdev)
{
    (void)parent;
    (void)name;
    (void)rdev;
    log_info("fs: mknod of %s refused: device nodes, FIFOs and sockets cannot be stored "
             "as objects", name);
    fuse_reply_err(req, S_ISREG(mode) ? ENOTSUP : EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
    (void)ino;
    (void)parent;
    (void)name;
    fuse_reply_err(req, EPERM); /* object stores have no hard links */
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    struct fs *fs = req_fs(req);
    struct mc_attr a;
    int err, rc;
    char *path = child_path(fs, parent, name, &err);

    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    rc = fs_mkdir(fs, path, mode & ~fs->cfg.umask & 07777, &a);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        reply_entry_for(req, fs, path, &a);
    mc_attr_clear(&a);
    free(path);
}

static void op_unlink_common(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
    struct fs *fs = req_fs(req);
    int err, rc;
    char *path = child_path(fs, parent, name, &err);

    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    rc = dir ? fs_rmdir(fs, path) : fs_unlink(fs, path);
    fuse_reply_err(req, rc < 0 ? -rc : 0);
    free(path);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    op_unlink_common(req, parent, name, false);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    op_unlink_common(req, parent, name, true);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    struct fs *fs = req_fs(req);
    struct mc_attr a;
    int err, rc;
    char *path = child_path(fs, parent, name, &err);

    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    rc = fs_symlink(fs, path, link, &a);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        reply_entry_for(req, fs, path, &a);
    mc_attr_clear(&a);
    free(path);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
    struct fs *fs = req_fs(req);
    int err, rc = 0;
    char *from = child_path(fs, parent, name, &err), *to = NULL;

    if (from)
        to = child_path(fs, newparent, newname, &err);
    if (!from || !to)
        rc = -err;
    else
        rc = fs_rename(fs, from, to, flags);
    fuse_reply_err(req, rc < 0 ? -rc : 0);
    free(from);
    free(to);
}

/* A handle open for writing only (cp, mirror, dd of=) bypasses the kernel's page cache: each
 * write() goes to the daemon straight from the writer's pages, not copied into page-cache
 * pages first (that copy was a fifth of the CPU of a mirror between two mounts). It cannot
 * be mmap'ed or read, so nothing that needs the page cache loses it. */
static int write_only_direct(const struct fuse_file_info *fi)
{
    return (fi->flags & O_ACCMODE) == O_WRONLY;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = req_fs(req);
    struct fs_inode *in = fs_itable_get(fs->it, ino);
    struct fs_handle *h = NULL;
    int rc;

    if (!in) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    rc = in->is_dir ? -EISDIR : fs_open(fs, in, fi->flags, false, &h);
    fs_itable_put(fs->it, in);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    fi->fh = (uint64_t)(uintptr_t)h;
    fi->keep_cache = 0;
    fi->direct_io = write_only_direct(fi);
    if (fuse_reply_open(req, fi) != 0)
        fs_release(fs, h);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
    struct fs *fs = req_fs(req);
    struct fuse_entry_param e;
    struct fs_setattr s = {0};
    struct mc_attr a = {0};
    struct fs_inode *in = NULL;
    struct fs_handle *h = NULL;
    int err, rc;
    char *path = child_path(fs, parent, name, &err);

    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    if (fs->cfg.read_only) {
        rc = -EROFS;
        goto out;
    }
    in = fs_itable_acquire(fs->it, path, false, 1);
    if (!in) {
        rc = -ENOMEM;
        goto out;
    }
    rc = fs_open(fs, in, fi->flags, true, &h);
    if (rc < 0) {
        fs_itable_forget(fs->it, in->ino, 1);
        goto out;
    }
    clock_gettime(CLOCK_REALTIME, &a.info.mtime);
    if ((mode & 07777 & ~fs->cfg.umask) != fs->def_file) {
        s.has_mode = true;
        s.mode = mode & 07777 & ~fs->cfg.umask;
        a.has_mode = true;
        a.mode = s.mode;
        fs_setmeta(fs, in, path, &s); /* recorded for the upload */
    }
    fs_cache_put(fs, path, &a);
    fill_entry(fs, in, &a, &e);
    fi->fh = (uint64_t)(uintptr_t)h;
    fi->direct_io = write_only_direct(fi);
    if (fuse_reply_create(req, &e, fi) != 0) {
        fs_release(fs, h);
        fs_itable_forget(fs->it, in->ino, 1);
    }
out:
    if (rc < 0)
        fuse_reply_err(req, -rc);
    fs_itable_put(fs->it, in);
    free(path);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct fs *fs = req_fs(req);
    char *buf = malloc(size ? size : 1);
    ssize_t n;

    (void)ino;
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    n = fs_read(fs, (struct fs_handle *)(uintptr_t)fi->fh, buf, size, off);
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
    free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    ssize_t n = fs_write(req_fs(req), (struct fs_handle *)(uintptr_t)fi->fh, buf, size, off);

    (void)ino;
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_write(req, (size_t)n);
}

/* errno for the application: an upload discarded or refused (-ECANCELED) is an I/O error. */
static int app_err(int rc)
{
    return rc == -ECANCELED ? EIO : rc < 0 ? -rc : 0;
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    int rc = fs_flush(req_fs(req), (struct fs_handle *)(uintptr_t)fi->fh);

    (void)ino;
    fuse_reply_err(req, app_err(rc));
}

/* The kernel's attributes and dentry of ino (at path) are wrong: a discarded upload. */
static void invalidate(struct fs *fs, fuse_ino_t ino)
{
    struct fs_inode *in = fs_itable_get(fs->it, ino), *parent = NULL;
    char *path = in ? fs_itable_path(fs->it, in) : NULL, *slash;

    fs_itable_put(fs->it, in);
    fuse_lowlevel_notify_inval_inode(fs->session, ino, 0, 0);
    if (!path || !*path)
        goto out;
    slash = strrchr(path, '/');
    if (slash)
        *slash = '\0';
    parent = fs_itable_acquire(fs->it, slash ? path : "", true, 0);
    if (parent) {
        const char *name = slash ? slash + 1 : path;
        fuse_lowlevel_notify_inval_entry(fs->session, parent->ino, name, strlen(name));
        fs_itable_put(fs->it, parent);
    }
out:
    free(path);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = req_fs(req);
    int rc = fs_release(fs, (struct fs_handle *)(uintptr_t)fi->fh);

    if (rc == -ECANCELED) { /* discarded or refused: nobody waits for this answer */
        fuse_reply_err(req, EIO);
        invalidate(fs, ino);
        return;
    }
    fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    int rc = fs_flush(req_fs(req), (struct fs_handle *)(uintptr_t)fi->fh);

    (void)ino;
    (void)datasync;
    fuse_reply_err(req, app_err(rc));
}

#define DIR_PAGE 1000

/*
 * An open directory: a window of at most DIR_PAGE of its children, read from the cache
 * a page at a time (byte order of names), so memory does not grow with the directory.
 * The offset after "." is 1, after ".." 2, after child k (0-based) k + 3. Reading from
 * offset 0 lists the directory again when its listing is not fresh.
 */
struct dir_handle {
    pthread_mutex_t lock;
    struct fs_dirent *ents; /* children base .. base + n - 1; lock */
    size_t n, base;
    bool eof;   /* no child after the window */
    bool ready; /* the listing was made fresh since the last rewind */
};

/* Makes the window hold child k, or show that there is none (k >= base + n, eof). */
static int dir_seek(struct fs *fs, const char *dpath, struct dir_handle *d, size_t k)
{
    int rc;

    if (!d->ready || k < d->base) { /* from the first page again */
        fs_dirents_free(d->ents, d->n);
        d->ents = NULL;
        d->n = d->base = 0;
        d->eof = false;
        if (!d->ready) {
            rc = fs_dir_prepare(fs, dpath);
            if (rc < 0)
                return rc;
            d->ready = true;
        }
        rc = fs_dir_page(fs, dpath, NULL, DIR_PAGE, &d->ents, &d->n, &d->eof);
        if (rc < 0)
            return rc;
    }
    while (k >= d->base + d->n && !d->eof) {
        struct fs_dirent *next;
        size_t nn;
        bool eof;

        rc = fs_dir_page(fs, dpath, d->ents[d->n - 1].name, DIR_PAGE, &next, &nn, &eof);
        if (rc < 0)
            return rc;
        d->base += d->n;
        fs_dirents_free(d->ents, d->n);
        d->ents = next;
        d->n = nn;
        d->eof = eof || nn == 0;
    }
    return 0;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct dir_handle *d = calloc(1, sizeof(*d));

    (void)ino;
    if (!d) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    pthread_mutex_init(&d->lock, NULL);
    fi->fh = (uint64_t)(uintptr_t)d;
    fi->cache_readdir = 0;
    if (fuse_reply_open(req, fi) != 0) {
        pthread_mutex_destroy(&d->lock);
        free(d);
    }
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi, bool plus)
{
    struct fs *fs = req_fs(req);
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
    struct fs_inode *dir = fs_itable_get(fs->it, ino);
    char *dpath = dir ? fs_itable_path(fs->it, dir) : NULL;
    char *buf = malloc(size), *p = buf;
    size_t rem = size;
    int rc = 0;

    if (!dir || !dpath || !buf) {
        rc = dir ? -ENOMEM : -ENOENT;
        goto out;
    }
    pthread_mutex_lock(&d->lock);
    if (off == 0)
        d->ready = false; /* rewinddir: a fresh listing */
    for (size_t i = (size_t)off; rc == 0; i++) {
        struct fuse_entry_param e = {0};
        struct fs_inode *in = NULL;
        const char *name;
        size_t used;

        if (i < 2) {
            name = i == 0 ? "." : "..";
            e.attr.st_ino = i == 0 ? ino : 1;
            e.attr.st_mode = S_IFDIR;
        } else {
            struct fs_dirent *de;
            char *cp;

            rc = dir_seek(fs, dpath, d, i - 2);
            if (rc < 0 || i - 2 >= d->base + d->n)
                break;
            de = &d->ents[i - 2 - d->base];
            cp = fs_path_join(dpath, de->name);
            name = de->name;
            if (!cp) {
                rc = -ENOMEM;
                break;
            }
            in = fs_itable_acquire(fs->it, cp, mc_attr_is_dir(&de->attr), plus ? 1 : 0);
            free(cp);
            if (!in) {
                rc = -ENOMEM;
                break;
            }
            if (plus) {
                fill_entry(fs, in, &de->attr, &e);
            } else {
                e.attr.st_ino = in->ino;
                e.attr.st_mode = mc_attr_is_dir(&de->attr) ? S_IFDIR : S_IFREG;
            }
        }
        if (plus)
            used = fuse_add_direntry_plus(req, p, rem, name, &e, (off_t)i + 1);
        else
            used = fuse_add_direntry(req, p, rem, name, &e.attr, (off_t)i + 1);
        if (used > rem) {
            if (in && plus)
                fs_itable_forget(fs->it, in->ino, 1);
            fs_itable_put(fs->it, in);
            break;
        }
        fs_itable_put(fs->it, in);
        p += used;
        rem -= used;
    }
    pthread_mutex_unlock(&d->lock);
out:
    if (rc < 0 && p == buf)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_buf(req, buf, size - rem);
    free(buf);
    free(dpath);
    fs_itable_put(fs->it, dir);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    readdir_common(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
    readdir_common(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;

    (void)ino;
    fs_dirents_free(d->ents, d->n);
    pthread_mutex_destroy(&d->lock);
    free(d);
    fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct statvfs s = {0};

    (void)ino;
    s.f_bsize = 1 << 20;
    s.f_frsize = 4096;
    s.f_blocks = s.f_bfree = s.f_bavail = 1ULL << 40; /* 4 PiB: object stores have no limit */
    s.f_files = s.f_ffree = s.f_favail = 1ULL << 40;
    s.f_namemax = 255;
    fuse_reply_statfs(req, &s);
}

/* The path of ino, or NULL with err set; *in gets an own reference when non-NULL. */
static char *ino_path(struct fs *fs, fuse_ino_t ino, struct fs_inode **inp, int *err)
{
    struct fs_inode *in = fs_itable_get(fs->it, ino);
    char *p;

    *inp = NULL;
    if (!in) {
        *err = ENOENT;
        return NULL;
    }
    p = fs_itable_path(fs->it, in);
    if (!p) {
        fs_itable_put(fs->it, in);
        *err = ENOMEM;
        return NULL;
    }
    *inp = in;
    return p;
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
    struct fs *fs = req_fs(req);
    struct fs_inode *in;
    int err, rc;
    char *path = ino_path(fs, ino, &in, &err);

    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    rc = fs_setxattr(fs, in, path, name, value, size, flags);
    fs_itable_put(fs->it, in);
    free(path);
    fuse_reply_err(req, rc < 0 ? -rc : 0);
}

/* The one reply of getxattr/listxattr: the error, the size asked for (size 0), or the value. */
static void reply_xattr(fuse_req_t req, ssize_t n, const char *buf, size_t size)
{
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else if (size == 0)
        fuse_reply_xattr(req, (size_t)n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    struct fs *fs = req_fs(req);
    struct fs_inode *in;
    int err;
    char *path = ino_path(fs, ino, &in, &err), *buf = NULL;
    ssize_t n;

    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    fs_itable_put(fs->it, in);
    buf = size ? malloc(size) : NULL;
    n = size && !buf ? -ENOMEM : fs_getxattr(fs, path, name, buf, size);
    reply_xattr(req, n, buf, size);
    free(buf);
    free(path);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    struct fs *fs = req_fs(req);
    struct fs_inode *in;
    int err;
    char *path = ino_path(fs, ino, &in, &err), *buf = NULL;
    ssize_t n;

    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    fs_itable_put(fs->it, in);
    buf = size ? malloc(size) : NULL;
    n = size && !buf ? -ENOMEM : fs_listxattr(fs, path, buf, size);
    reply_xattr(req, n, buf, size);
    free(buf);
    free(path);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    struct fs *fs = req_fs(req);
    struct fs_inode *in;
    int err, rc;
    char *path = ino_path(fs, ino, &in, &err);

    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    rc = fs_removexattr(fs, in, path, name);
    fs_itable_put(fs->it, in);
    free(path);
    fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static const struct fuse_lowlevel_ops fs_ll_ops = {
    .init = op_init,
    .destroy = op_destroy,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readlink = op_readlink,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .releasedir = op_releasedir,
    .statfs = op_statfs,
    .setxattr = op_setxattr,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .removexattr = op_removexattr,
    .create = op_create,
};

int fs_serve(const struct fs_config *c, struct os_store *st, struct mc *mc, const char *mountpoint,
             void (*ready)(void *ud, int err, const char *msg), void *ud)
{
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    struct fuse_loop_config lc = {.clone_fd = 0, .max_idle_threads = 16};
    struct fuse_session *se = NULL;
    struct fs *fs = NULL;
    char opts[1024];
    bool mounted = false, signals = false;
    int rc;

    rc = fs_core_new(c, st, mc, &fs);
    if (rc < 0) {
        ready(ud, rc, "cannot set up the filesystem");
        return rc;
    }
    snprintf(opts, sizeof(opts), "fsname=%s,subtype=bridgefs,default_permissions,max_read=%u%s%s",
             c->fsname ? c->fsname : "bridgefs", MAX_IO, c->allow_other ? ",allow_other" : "",
             c->read_only ? ",ro" : "");
    if (fuse_opt_add_arg(&args, "bridgefs") != 0 || fuse_opt_add_arg(&args, "-o") != 0 ||
        fuse_opt_add_arg(&args, opts) != 0 || (c->fuse_debug && fuse_opt_add_arg(&args, "-d"))) {
        rc = -ENOMEM;
        ready(ud, rc, "out of memory");
        goto out;
    }
    se = fuse_session_new(&args, &fs_ll_ops, sizeof(fs_ll_ops), fs);
    if (!se) {
        rc = -EINVAL;
        ready(ud, rc, "cannot create the FUSE session");
        goto out;
    }
    fs->session = se;
    if (fuse_set_signal_handlers(se) != 0) {
        rc = -EIO;
        ready(ud, rc, "cannot install signal handlers");
        goto out;
    }
    signals = true;
    if (fuse_session_mount(se, mountpoint) != 0) {
        rc = -EIO;
        ready(ud, rc, "cannot mount (is /dev/fuse available and fusermount3 installed?)");
        goto out;
    }
    mounted = true;
    log_info("fs: mounted %s on %s", c->source_base ? c->source_base : "", mountpoint);
    ready(ud, 0, NULL);
    rc = fuse_session_loop_mt(se, &lc);
    rc = rc < 0 ? rc : rc > 0 ? 0 : 0; /* > 0: ended by a signal */
    fs_core_flush_all(fs);
    log_info("fs: unmounted %s", mountpoint);
out:
    if (mounted)
        fuse_session_unmount(se);
    if (signals)
        fuse_remove_signal_handlers(se);
    if (se)
        fuse_session_destroy(se);
    fuse_opt_free_args(&args);
    fs_core_free(fs);
    return rc;
}
