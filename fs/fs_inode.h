/* fs_inode: the inode table: 64-bit inode numbers for paths, with lookup counts (no I/O). */
#ifndef BFS_FS_INODE_H
#define BFS_FS_INODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Lock order: the table lock (struct fs_itable.lock), then an inode's own
 * `lock` (struct fs_inode.lock). Never take the table lock while holding an
 * inode lock. No I/O is done under the table lock.
 *
 * Inode numbers are never reused within one mount (a counter from 2; the root
 * is 1), so `gen` is the same for every inode of one table.
 */
struct fs_wfile; /* write state, fs_io.c */

struct fs_inode {
    uint64_t ino;               /* immutable */
    uint64_t gen;               /* immutable */
    char *path;                 /* full key, "" for the bucket root; table lock (rename) */
    bool is_dir;                /* table lock */
    uint64_t nlookup;           /* kernel references; table lock */
    uint32_t refs;              /* our own references (fs_itable_get/put); table lock */
    pthread_mutex_t lock;       /* guards the fields below */
    struct fs_wfile *wf;        /* staged writes; NULL when none. While set, the write
                                 * state holds one own reference (refs) on the inode. */
    struct fs_inode *next_ino;  /* hash chains; table lock */
    struct fs_inode *next_path;
};

struct fs_itable;

/* Creates a table holding the root inode (ino 1) for root_path. NULL on ENOMEM. */
struct fs_itable *fs_itable_new(const char *root_path);
/* Frees every inode (write states must have been detached by the caller). NULL is a no-op. */
void fs_itable_free(struct fs_itable *t);

/*
 * The inode of path, created when absent; adds `lookups` kernel references
 * (1 for a lookup reply, 0 for our own use) and one own reference (drop it
 * with fs_itable_put). is_dir updates the kind. NULL on ENOMEM.
 */
struct fs_inode *fs_itable_acquire(struct fs_itable *t, const char *path, bool is_dir,
                                   uint64_t lookups);
/* The inode numbered ino with one own reference added, or NULL (stale number). */
struct fs_inode *fs_itable_get(struct fs_itable *t, uint64_t ino);
/* Drops one own reference; frees the inode when no references of either kind remain. */
void fs_itable_put(struct fs_itable *t, struct fs_inode *in);
/* Undoes `n` kernel references (FORGET); frees the inode when none remain. */
void fs_itable_forget(struct fs_itable *t, uint64_t ino, uint64_t n);
/* Copy of in's current path (malloc'd, caller frees); NULL on ENOMEM. */
char *fs_itable_path(struct fs_itable *t, const struct fs_inode *in);
/* Renames: every inode at old_path or below moves under new_path. An inode already at
 * new_path (the replaced target) gets detached (its path becomes unreachable "").
 * 0 or -ENOMEM. */
int fs_itable_rename(struct fs_itable *t, const char *old_path, const char *new_path);
/* Calls fn for every inode (with an own reference held, table lock not held). For
 * unmount: fn checks `wf` under the inode lock. */
void fs_itable_each(struct fs_itable *t, void (*fn)(struct fs_inode *in, void *ud), void *ud);
/* Number of inodes (tests). */
uint64_t fs_itable_count(struct fs_itable *t);

#endif
