/* fs_int: the filesystem core shared by the fs/ files: state, attributes, I/O (no fuse types). */
#ifndef BFS_FS_INT_H
#define BFS_FS_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "cache/mcache.h"
#include "core/objstore.h"
#include "fs/fs.h"
#include "fs/fs_inode.h"

/* The mounted filesystem. Everything is read-only after fs_core_new except where noted. */
struct fs {
    struct fs_config cfg;       /* copy; strings borrowed from the caller */
    char *root;                 /* normalized root key prefix; owned */
    struct os_store *st;        /* borrowed */
    const struct os_ops *ops;   /* st->ops */
    void *be;                   /* st->be */
    struct mc *mc;              /* borrowed; thread-safe */
    struct fs_itable *it;       /* owned; its own lock */
    char *staging;              /* staging folder; owned */
    bool list_has_meta;         /* listings carry user metadata (Azure) */
    mode_t def_file, def_dir;   /* default permission bits after umask */
    struct timespec started;    /* mtime of directories without a marker */
    atomic_uint_fast64_t seq;   /* staging file names */
    struct fs_sa *sa;           /* S3 stat-ahead (NULL on Azure); owned; its own lock */
    void *session;              /* fs_fuse.c's struct fuse_session (kernel invalidations) */
};

int fs_core_new(const struct fs_config *c, struct os_store *st, struct mc *mc, struct fs **out);
/* Uploads every file still dirty, then frees. NULL is a no-op. */
void fs_core_free(struct fs *fs);
/* Uploads every dirty write state (unmount). */
void fs_core_flush_all(struct fs *fs);

/* ---- attributes (fs_attr.c) ---- */

/*
 * Attributes of path: from the cache while fresh, else from the backend (HEAD
 * of path, a LIST of "path/" with max-keys 1, on S3 a HEAD of s3fs's
 * "path_$folder$"), written back into the cache. need_meta: entries known only
 * from an S3 listing (no user metadata) are HEADed (fs_sa_fetch: no directory probe,
 * the next files read ahead). 0 with *a filled (caller
 * mc_attr_clear's it), -ENOENT, or another negative errno.
 */
int fs_attr_get(struct fs *fs, const char *path, bool need_meta, struct mc_attr *a);
/* A directory known from an S3 listing: HEAD of its marker (none: a plain prefix), cached. */
int fs_attr_marker_fetch(struct fs *fs, const char *path, struct mc_attr *a);
/* Fetches path from the backend and caches what it found (also negatives). */
int fs_attr_fetch(struct fs *fs, const char *path, struct mc_attr *a);
/* st from a (ino given). */
void fs_attr_to_stat(const struct fs *fs, uint64_t ino, const struct mc_attr *a, struct stat *st);
/* Moves info into a (info left zeroed) and parses mode/uid/gid metadata. */
void fs_attr_from_info(struct mc_attr *a, struct os_info *info);
/* Records own-write attributes in the cache (errors logged, not returned). */
void fs_cache_put(struct fs *fs, const char *path, const struct mc_attr *a);
void fs_cache_del(struct fs *fs, const char *path);
/* HEADs path (a file) and caches the result (after an own write); on failure the entry
 * is dropped so the next lookup asks the backend. */
void fs_cache_refresh(struct fs *fs, const char *path);

/* ---- stat-ahead (fs_sa.c; S3 only) ---- */

/* Creates fs->sa (workers start on first use). 0 or -ENOMEM. */
int fs_sa_new(struct fs *fs);
/* Stops and joins the workers, frees fs->sa. */
void fs_sa_free(struct fs *fs);
/* Full attributes of path, a file or directory known fresh from an S3 listing (no user
 * metadata): waits for its HEAD when a stat-ahead worker has it in flight, else HEADs it
 * (a directory: its marker), and reads ahead the next entries of its directory. Same
 * results as fs_attr_get. */
int fs_sa_fetch(struct fs *fs, const char *path, bool dir, struct mc_attr *a);
/* A stat of path was answered from the cache: keeps the read-ahead going. */
void fs_sa_note(struct fs *fs, const char *path);

/* One entry of a directory snapshot. */
struct fs_dirent {
    char *name;
    struct mc_attr attr;
};
/* Lists dir completely (LIST with delimiter '/', page by page into the cache) unless its
 * listing is fresh (a stale one is kept when the LIST fails). 0 or -errno. */
int fs_dir_prepare(struct fs *fs, const char *dir);
/* Up to max children of dir with names after `after` (NULL: from the first), from the
 * cache, in byte order of names; *eof when none follow. Memory is bounded by max, so a
 * directory of millions is read a page at a time. *ents owned: fs_dirents_free. */
int fs_dir_page(struct fs *fs, const char *dir, const char *after, size_t max,
                struct fs_dirent **ents, size_t *n, bool *eof);
void fs_dirents_free(struct fs_dirent *ents, size_t n);
/* 1 when the backend has anything under dir/ (ENOTEMPTY check), 0 when not, or -errno. */
int fs_dir_has_children(struct fs *fs, const char *dir);

/* ---- data (fs_io.c) ---- */

struct fs_handle; /* one open file */
/* Opens path (inode in, borrowed; the handle takes its own reference). flags are open(2)'s.
 * -EACCES for archived objects (logged). */
int fs_open(struct fs *fs, struct fs_inode *in, int flags, bool created, struct fs_handle **out);
/* Reads up to size bytes at off into buf; returns the count (0 at EOF) or -errno. */
ssize_t fs_read(struct fs *fs, struct fs_handle *h, char *buf, size_t size, off_t off);
ssize_t fs_write(struct fs *fs, struct fs_handle *h, const char *buf, size_t size, off_t off);
/* Uploads when dirty (flush, fsync). */
int fs_flush(struct fs *fs, struct fs_handle *h);
/* Last close of the handle: uploads when dirty, frees h. Returns the upload result. */
int fs_release(struct fs *fs, struct fs_handle *h);
/* The staged size/mtime of an inode with a write state, for getattr: 1 when it has one. */
int fs_io_override(struct fs *fs, struct fs_inode *in, struct stat *st);
/* truncate(2)/ftruncate(2) to size (h may be NULL). */
int fs_truncate(struct fs *fs, struct fs_inode *in, off_t size);
/* utimens on a file with a write state: records mtime for the upload. 1 when recorded
 * (the caller then does nothing else), 0 when the inode has no dirty write state. */
int fs_io_set_mtime(struct fs *fs, struct fs_inode *in, const struct timespec *mtime);
/* Applies fn to the attributes an upload of in will store (mode, uid, gid, user
 * metadata), when in has a write state. Returns 1 when the write state is dirty (the
 * upload will carry the change), 0 when the caller must change the object itself, or
 * fn's negative errno. */
int fs_io_edit_base(struct fs *fs, struct fs_inode *in, int (*fn)(struct mc_attr *base, void *ud),
                    void *ud);
/* The file was unlinked: its open write state must never be uploaded. */
void fs_io_discard(struct fs *fs, struct fs_inode *in);
/* Uploads the write state of in when dirty (fsync, unmount). */
int fs_io_upload(struct fs *fs, struct fs_inode *in);
/* Writable user.bridgefs.* keys of a file open for writing: "expect_size" (decimal: an
 * upload of another size is discarded, so an interrupted copy never replaces the object),
 * "expect_md5" (32 hex digits, before the data: stored when the upload begins, and an upload
 * with another MD5 is discarded) and "content_type" (stored with the upload). -EPERM for
 * other keys or a file not open for writing, -EINVAL for a bad value. */
int fs_io_set_own(struct fs *fs, struct fs_inode *in, const char *what, const char *val,
                  size_t len);

/* ---- namespace (fs_ns.c) ---- */

int fs_mkdir(struct fs *fs, const char *path, mode_t mode, struct mc_attr *a);
int fs_unlink(struct fs *fs, const char *path);
int fs_rmdir(struct fs *fs, const char *path);
int fs_rename(struct fs *fs, const char *from, const char *to, unsigned flags);
int fs_symlink(struct fs *fs, const char *path, const char *target, struct mc_attr *a);
/* readlink: *out malloc'd. */
int fs_readlink(struct fs *fs, const char *path, char **out);
/* chmod/chown/utimens (fields with has_* false are left as they are). */
struct fs_setattr {
    bool has_mode, has_uid, has_gid, has_mtime;
    mode_t mode;
    uint32_t uid, gid;
    struct timespec mtime;
};
int fs_setmeta(struct fs *fs, struct fs_inode *in, const char *path, const struct fs_setattr *s);
/* xattrs. get: copies into buf (size 0: returns the length needed). */
ssize_t fs_getxattr(struct fs *fs, const char *path, const char *name, char *buf, size_t size);
ssize_t fs_listxattr(struct fs *fs, const char *path, char *buf, size_t size);
int fs_setxattr(struct fs *fs, struct fs_inode *in, const char *path, const char *name,
                const char *val, size_t len, int flags);
int fs_removexattr(struct fs *fs, struct fs_inode *in, const char *path, const char *name);

/* The object key of a directory's marker: S3 "dir/", Azure "dir". malloc'd. */
char *fs_marker_key(const struct fs *fs, const char *dir);
/* Logs the calling thread's os_last_error() for an operation that failed with rc. */
void fs_log_error(const char *what, const char *path, int rc);

#endif
