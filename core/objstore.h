/* objstore: the object-store interface every backend implements, and its error currency. */
#ifndef BFS_CORE_OBJSTORE_H
#define BFS_CORE_OBJSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One user-metadata pair (S3 x-amz-meta-<key>, Azure x-ms-meta-<key>); key lowercase. */
struct os_meta {
    char *key;
    char *value;
};

/* What is known of one object or prefix. All strings owned; os_info_clear frees. */
struct os_info {
    char *key;                  /* full key in the bucket/container */
    int64_t size;
    struct timespec mtime;      /* from user metadata `mtime` when present, else last_modified */
    struct timespec last_modified;
    char *etag;                 /* without quotes; NULL when unknown */
    unsigned char md5[16];
    bool has_md5;               /* from Content-MD5, a plain S3 ETag, or md5chksum metadata */
    char *content_type;
    char *storage_class;        /* S3 storage class or Azure access tier; NULL when unknown */
    bool archived;              /* must be restored / rehydrated before reading */
    bool is_dir_marker;         /* "dir/" or "dir_$folder$" object, or hdi_isfolder blob */
    bool is_prefix;             /* a common prefix from a delimiter listing (ends in delimiter) */
    struct os_meta *meta;
    size_t n_meta;
};
void os_info_clear(struct os_info *i);
/* Value of user metadata key (case-insensitive) or NULL; borrowed. */
const char *os_info_meta(const struct os_info *i, const char *key);
/* Adds/replaces a metadata pair (copies). 0 or -ENOMEM. */
int os_info_set_meta(struct os_info *i, const char *key, const char *value);

/* A page of a listing, in the service's order (byte order of keys). */
struct os_list_page {
    struct os_info *items;      /* objects and prefixes, merged in key order */
    size_t n;
    char *next_token;           /* NULL on the last page */
};
void os_list_page_free(struct os_list_page *p);

/* What goes with a new object. Everything borrowed. */
/* What the service answered to a successful upload, for a backend whose answer tells it
 * (Azure's Put Blob and Put Block List return the ETag and Last-Modified; S3's PutObject
 * returns no Last-Modified): the caller can then know the new object without a HEAD. */
struct os_put_result {
    bool ok;                            /* set by the backend when both fields are filled */
    char etag[136];                     /* without quotes */
    struct timespec last_modified;
};

struct os_put_opts {
    const char *content_type;           /* NULL: application/octet-stream */
    const struct os_meta *meta;         /* user metadata, not including mtime */
    size_t n_meta;
    const struct timespec *mtime;       /* stored as user metadata `mtime` in rclone's format */
    const unsigned char *md5;           /* 16 bytes when known: sent for integrity and stored */
    struct os_put_result *result;       /* out, may be NULL: filled by put / mp_commit (the
                                         * upload keeps the pointer from mp_begin) */
};

/* A multipart (S3) or block (Azure) upload in progress; backend-owned. */
struct os_upload;

struct os_store;

/* Error detail of the last failed operation on this thread (thread-local). */
enum os_errkind {
    OSE_NONE = 0,
    OSE_NOT_FOUND,        /* object / blob */
    OSE_NO_BUCKET,        /* bucket / container */
    OSE_ACCESS_DENIED,
    OSE_BAD_CREDENTIALS,  /* SignatureDoesNotMatch, AuthenticationFailed, unknown key */
    OSE_ARCHIVED,         /* restore / rehydrate first */
    OSE_UNREACHABLE,      /* no connection to the endpoint */
    OSE_TIMEOUT,
    OSE_THROTTLED,        /* SlowDown / ServerBusy after all retries */
    OSE_SERVER,           /* 5xx after all retries */
    OSE_INVALID,          /* the request was refused as invalid (4xx not above) */
    OSE_EXISTS,           /* bucket already exists, precondition failed */
    OSE_PROTOCOL,         /* unparseable response */
    OSE_LOCAL,            /* local error (memory, I/O) */
};
struct os_error {
    int err;              /* negative errno returned */
    int kind;             /* enum os_errkind */
    long http_status;     /* 0 when no response */
    char code[64];        /* service error code, e.g. NoSuchKey */
    char message[256];    /* service or transport message, redacted */
    char request_id[96];
};
/* The calling thread's last error; borrowed. */
const struct os_error *os_last_error(void);
void os_error_clear(void);
/* Sets the calling thread's last error; returns err (negative errno) for tail calls. */
int os_error_set(int err, int kind, long http_status, const char *code, const char *request_id,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Short human text for a kind, e.g. "object not found". */
const char *os_errkind_str(int kind);

/*
 * The operations. `be` is the backend state. Every int-returning op returns 0
 * or a negative errno and on failure sets os_last_error() via the backend's one
 * mapping function. Keys are full keys (no leading '/').
 */
struct os_ops {
    const char *name; /* "s3" or "blob" */
    /* Fills out (caller clears it). -ENOENT when absent. */
    int (*head)(void *be, const char *key, struct os_info *out);
    /* Streams bytes [off, off+len) (len < 0: to the end) into sink. info_out, when
     * non-NULL, receives size/etag/mtime of the object read. An archived object
     * fails with -EACCES and kind OSE_ARCHIVED. */
    int (*get_range)(void *be, const char *key, int64_t off, int64_t len,
                     int (*sink)(const void *data, size_t n, void *ud), void *ud,
                     struct os_info *info_out);
    /* Single-request upload, atomic. */
    int (*put)(void *be, const char *key, const void *data, size_t len, const struct os_put_opts *o);
    /* Multipart/block upload: begin, parts numbered 1..N in any order (may run
     * concurrently), commit (atomic; md5 of the whole object when known, stored
     * as DESIGN.md says), or abort. commit and abort free the upload. */
    int (*mp_begin)(void *be, const char *key, const struct os_put_opts *o, struct os_upload **out);
    int (*mp_part)(void *be, struct os_upload *u, int partno, const void *data, size_t len);
    int (*mp_commit)(void *be, struct os_upload *u, const unsigned char *md5);
    void (*mp_abort)(void *be, struct os_upload *u);
    /* Size of part `partno` (1-based) for an object of total_size bytes. Known
     * size: one constant size (>= 8 MiB) so the largest object the service allows
     * fits in its part-count limit (S3 5 TiB in 10,000 parts; Azure 190.7 TiB in
     * 50,000 blocks). Unknown size (-1, a pipe): sizes start at 8 MiB and grow
     * with partno so memory stays small for small streams and huge ones still fit. */
    size_t (*part_size)(void *be, int64_t total_size, int partno);
    /* Most parts one upload may have (10,000 or 50,000). */
    int max_parts;
    /* One page. delim NULL for a flat listing; token NULL for the first page;
     * max_keys <= 0 for the service default. */
    int (*list_page)(void *be, const char *prefix, const char *delim, const char *token,
                     int max_keys, struct os_list_page *out);
    int (*del)(void *be, const char *key);
    /* Deletes n keys in service-sized batches. Keys already absent count as deleted.
     * failed[i] (when failed is non-NULL) is set to the negative errno per key.
     * Returns 0 when all were deleted, else the first error. */
    int (*del_many)(void *be, const char *const *keys, size_t n, int *failed);
    /* Server-side copy in the same bucket/container. o == NULL keeps the source's
     * metadata; otherwise o replaces it. */
    int (*copy)(void *be, const char *src_key, const char *dst_key, const struct os_put_opts *o);
    /* Replaces the user metadata (and mtime) of an existing object. */
    int (*set_meta)(void *be, const char *key, const struct os_put_opts *o);
    /* Writes a directory marker for dir (no trailing '/'): S3 "dir/", Azure hdi_isfolder blob. */
    int (*mkdir)(void *be, const char *dir);
    /* Creates the bucket/container; -EEXIST with OSE_EXISTS when it exists. */
    int (*mkbucket)(void *be);
    /* Checks the bucket/container exists and the credentials work. */
    int (*check)(void *be);
    void (*free)(void *be);
};

struct os_store {
    const struct os_ops *ops;
    void *be;
    char *url_base;   /* "s3://bucket" or "az://container" (for messages); owned */
};

/* Frees the backend and the store. NULL is a no-op. */
void os_store_free(struct os_store *s);

/* rclone's mtime formats: S3 "1714979289.123456789", Azure "2024-05-06T07:08:09.123456789Z". */
int os_mtime_format_s3(const struct timespec *ts, char *out, size_t outlen);
int os_mtime_format_az(const struct timespec *ts, char *out, size_t outlen);
/* Parses either format, and integer seconds (s3fs). 0 or -EINVAL. */
int os_mtime_parse(const char *s, struct timespec *out);
/* Parses an HTTP date (RFC 1123) or ISO 8601 timestamp. 0 or -EINVAL. */
int os_time_parse(const char *s, struct timespec *out);

#endif
