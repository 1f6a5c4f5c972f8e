/* fs_wfile: the write state of an open file and its streamed upload (fs_io.c, fs_stream.c). */
#ifndef BFS_FS_WFILE_H
#define BFS_FS_WFILE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "cache/mcache.h"
#include "core/crypto.h"
#include "fs/fs_int.h"

#define STREAM_MAX_JOBS 16

/* One part of a streamed upload, sent by its own thread; the job owns buf. */
struct part_job {
    struct fs *fs;
    struct os_upload *u;
    int partno;
    char *buf;
    size_t len, cap;
    int rc;
    pthread_t th;
    bool threaded;
};

/*
 * A streamed multipart/block upload (sequential writes from offset 0): the bytes go
 * to the store part by part as they arrive; at most `jobs` parts in flight plus the
 * one being filled are held in memory. Nothing written is kept locally.
 */
struct fs_stream {
    struct os_upload *u;
    struct crypto_md5_ctx *md5; /* of everything fed so far */
    int partno;                 /* parts handed to threads so far */
    char *buf;                  /* the part being filled; owned */
    size_t len, cap;
    struct part_job *jobs[STREAM_MAX_JOBS]; /* in flight, oldest first */
    int njobs;
    char *spare;                /* a sent part's buffer, kept for the next part; owned */
    size_t spare_cap;
    int rc;                     /* first error of a part */
    bool meta_changed;          /* mode/mtime/xattrs changed after mp_begin */
    struct timespec mtime;      /* the mtime the upload began with */
    struct os_put_result result; /* the commit's answer */
};

/* Write state of one inode (struct fs_inode.wf), guarded by the inode's lock. */
struct fs_wfile {
    struct fs_stream *stream; /* streamed upload in progress, or NULL */
    bool seq;               /* written strictly sequentially from 0 so far: may stream */
    int fd;                 /* staging file */
    char *spath;            /* its path; owned */
    off_t size;             /* staged size (valid when loaded) */
    bool loaded;            /* the staging file holds the whole content */
    bool dirty;             /* differs from the object: upload at flush/release */
    bool exists;            /* the object existed at open */
    bool has_mtime;         /* set by utimens: stored with the upload */
    struct timespec mtime;
    struct mc_attr base;    /* attributes at open: user metadata and mode kept on upload */
    int users;              /* open handles for writing */
    bool failed;            /* the last upload failed; the staging file is kept */
    bool unlinked;          /* the file was unlinked while open: never upload */
    int64_t expect_size;    /* -1, or the size a writer announced (user.bridgefs.expect_size):
                             * an upload of any other size is discarded (an interrupted copy) */
    bool has_expect_md5;    /* the writer announced the MD5 (user.bridgefs.expect_md5): it is
                             * stored when the upload begins (no copy of the object afterwards
                             * to add it), and an upload of other content is discarded */
    unsigned char expect_md5[16];
    bool final;             /* the last release (or unmount) is uploading: decide, don't wait */
    int write_err;          /* a write to the staging file failed (e.g. ENOSPC): the content
                             * is not what the writer meant, so it is never uploaded */
};

/* pread of exactly n bytes (-EIO at a premature end of file), or -errno. */
int fs_io_read_full(int fd, char *p, size_t n, off_t off);
/* The put options of an upload of w: its metadata, content type and mtime (now when no
 * utimens was recorded; *now is the storage). *meta is malloc'd: the caller frees it. */
int fs_io_upload_opts(const struct fs_wfile *w, struct os_put_opts *o, struct os_meta **meta,
                      char mbufs[3][16], struct timespec *now);

/* ---- streamed uploads (fs_stream.c); every call with the inode lock held ---- */

/* Size of streamed part partno: part_size= when set, else the backend's for unknown sizes. */
size_t fs_stream_part_size(struct fs *fs, int partno);
/* Switches w (written sequentially from 0, staged size >= one part) to a streamed upload:
 * begins it, sends what the staging file holds and empties it. On failure w stays staged. */
int fs_stream_start(struct fs *fs, struct fs_wfile *w, const char *path);
/* Appends n bytes to the stream, sending full parts; the first part error once known. */
int fs_stream_feed(struct fs *fs, struct fs_stream *s, const char *p, size_t n);
/* Ends w's stream (no-op without one): commit sends the last part and commits with the MD5
 * (then a metadata update when attributes changed meanwhile); else aborts. Frees it.
 * 1: committed, and the new object is in the cache already (no refresh needed). */
int fs_stream_end(struct fs *fs, struct fs_wfile *w, const char *path, bool commit);
/* true (and logged) when the writer announced an MD5 (user.bridgefs.expect_md5) that the data
 * written does not have: the upload must be discarded. */
bool fs_io_md5_unexpected(const struct fs_wfile *w, const char *path, const unsigned char md5[16]);
/* Puts the new object in the cache as the upload made it, from what was sent and the
 * service's answer (o->result: ETag, Last-Modified): no HEAD. false when the answer did not
 * tell (S3), or out of memory: then the caller refreshes the entry with a HEAD. */
bool fs_io_cache_uploaded(struct fs *fs, const char *path, const struct fs_wfile *w,
                          const struct os_put_opts *o, const unsigned char md5[16]);
void fs_stream_abort(struct fs *fs, struct fs_wfile *w);
/* Non-sequential access to a streaming file: commits what was streamed, after which w is a
 * staged modification of that object (not loaded). -EIO when the upload failed. */
int fs_stream_fallback(struct fs *fs, struct fs_wfile *w, const char *path);

#endif
