/* mirror_int: internals shared by the mirror and verify engines (pool, copy, hashing). */
#ifndef BFS_TOOLS_MIRROR_INT_H
#define BFS_TOOLS_MIRROR_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/walk.h"

#define MIRROR_TMP_PREFIX ".bridgefs.tmp."
#define MIRROR_XATTR_MD5 "user.bridgefs.md5"
#define MIRROR_XATTR_CLASS "user.bridgefs.storage_class"
/* TransferResult Details of an archived source object (%s: its storage class or tier). */
#define MIRROR_ARCHIVED_FMT "archived (%s tier): restore / rehydrate it first"

/* One unit of work for a pool worker; owned by the pool once pushed. */
struct mirror_job {
    char *path; /* relative path, malloc'd */
    int kind;   /* engine-defined */
    struct walk_stat src, dst;
};

/* mirror_job_new: copies path; NULL on ENOMEM. mirror_job_free(NULL) is a no-op. */
struct mirror_job *mirror_job_new(const char *path, int kind, const struct walk_stat *src,
                                  const struct walk_stat *dst);
void mirror_job_free(struct mirror_job *j);

/* A fixed set of worker threads over a bounded queue (producer blocks when it is full). */
struct mirror_pool;
typedef void (*mirror_pool_fn)(void *arg, struct mirror_job *job); /* must not free job */
/* NULL on failure. depth: queue capacity. */
struct mirror_pool *mirror_pool_new(int workers, size_t depth, mirror_pool_fn fn, void *arg);
/* Takes job (freed by the pool). Blocks while the queue is full; returns -ECANCELED (and frees
 * job) once mirror_canceled() is true. */
int mirror_pool_push(struct mirror_pool *p, struct mirror_job *job);
/* Waits for the queued jobs (dropped unqueued when canceled), joins, frees. NULL: no-op. */
void mirror_pool_finish(struct mirror_pool *p);

/* Cancellation: SIGINT/SIGTERM set it (mirror_signals_install); 0 or the signal number.
 * Install/restore pairs nest: the outermost pair installs and restores the handlers. */
void mirror_signals_install(void);
void mirror_signals_restore(void);
int mirror_canceled(void);

/* MD5 of a file: from the user.bridgefs.md5 xattr when use_xattr and present, else by reading
 * it. progress_bytes, when not NULL, is called with each chunk size read. 0 or -errno. */
int mirror_file_md5(const char *path, bool use_xattr, unsigned char out[16],
                    void (*on_bytes)(void *, uint64_t), void *arg);
/* The stored MD5 xattr of path: 0, -ENODATA when absent or malformed. */
int mirror_xattr_md5(const char *path, unsigned char out[16]);

/* true when path (on a bridgefs mount) is in an archive storage class or tier: S3 GLACIER or
 * DEEP_ARCHIVE, Azure Archive (from user.bridgefs.storage_class); the class into cls. Whether
 * it is restored shows only when opening it fails with EACCES. */
bool mirror_archived_class(const char *path, char *cls, size_t clslen);

/* true when dir is on a bridgefs mount: statfs f_type FUSE and the root's user.bridgefs.source
 * xattr, or /proc/self/mountinfo names it fuse.bridgefs. */
bool mirror_is_bridgefs(const char *dir);

/* Appends the text-escaped path with a prefix to f as one line, under a process lock. */
void mirror_print_line(FILE *f, const char *prefix, const char *path, const char *suffix);

/* ---- the state of one mirror run (mirror.c walks, mirror_copy.c copies) ---- */

struct mirror_opts;
struct joblog;
struct progress;

enum mirror_job_kind { MIRROR_JOB_COPY = 0, MIRROR_JOB_CHECKSUM };

struct mirror_run {
    const struct mirror_opts *o; /* borrowed */
    char *src, *dst;             /* realpaths, malloc'd */
    struct joblog *jl;
    struct progress *pg;
    struct mirror_pool *pool;
    FILE *spool;      /* deletes to do after the walk (mirror mode), NUL-separated */
    uint64_t ndelete; /* entries in spool */
    bool src_failed;  /* a source directory or item could not be read: no deletes */
    bool in_place;    /* target is a bridgefs mount: write in place, no temp + rename */
    atomic_bool xattr_warned;
    atomic_uint seq; /* for temp names */
};

/* Pool worker: copies (or checksums then copies) one file or symlink and logs the result. */
void mirror_copy_job(void *arg, struct mirror_job *job);
/* Copies the user.* xattrs (not user.bridgefs.*) of path onto the directory fd dfd; an
 * unsupported target is reported once and ignored. 0 or -errno. */
int mirror_copy_xattrs_path(struct mirror_run *r, const char *spath, int dfd);
/* Removes path recursively (a directory tree or a single item). 0 or -errno (first error). */
int mirror_remove_tree(const char *path);

#endif
