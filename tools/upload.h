/* upload: streaming upload of a file descriptor, one PUT or a parallel multipart/block upload. */
#ifndef BFS_TOOLS_UPLOAD_H
#define BFS_TOOLS_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

struct os_store;
struct os_put_opts;

/* Default threshold between one PUT and a multipart upload, and the number of parts in flight. */
#define UPLOAD_DEFAULT_THRESHOLD (8u * 1024 * 1024)
#define UPLOAD_DEFAULT_PARALLEL 4

struct upload_params {
    int64_t size;        /* bytes fd will give, or -1 when unknown (a pipe) */
    size_t part_size;    /* 0: the backend's part_size(); else this fixed size */
    size_t threshold;    /* below it one PUT (0: UPLOAD_DEFAULT_THRESHOLD or part_size) */
    int parallel;        /* parts uploaded at once (0: UPLOAD_DEFAULT_PARALLEL) */
};

/*
 * Uploads everything fd gives as `key`. Data smaller than the threshold goes in one
 * PUT with its MD5 computed first. Otherwise a multipart/block upload streams the
 * data in parts, `parallel` at a time, so memory stays near parallel x part size;
 * the MD5 of the whole stream is computed as it passes and given to mp_commit. Any
 * error aborts the upload, so an existing object stays intact. An empty stream
 * makes an empty object. o is borrowed (its md5 is ignored: computed here).
 * md5_out (16 bytes, may be NULL) receives the MD5 of the data. Returns 0 or a
 * negative errno; os_last_error() of the calling thread says why (also for a
 * failure in a worker thread).
 */
int upload_fd(struct os_store *st, const char *key, int fd, const struct upload_params *p,
              const struct os_put_opts *o, unsigned char *md5_out);

#endif
