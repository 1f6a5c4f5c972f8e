/* s3_int: the S3 backend's state and request helpers shared by the files of s3/ (private). */
#ifndef BFS_S3_S3_INT_H
#define BFS_S3_S3_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/http.h"
#include "core/objstore.h"
#include "s3/s3.h"

/* Largest single PUT / CopyObject (and part) S3 accepts. */
#define S3_MAX_SINGLE ((int64_t)5 << 30)
#define S3_MAX_PARTS 10000
#define S3_MIN_PART ((size_t)8 << 20)
/* Caps for bodies we collect: listings, and everything else (errors, results). */
#define S3_LIST_BODY_MAX ((size_t)16 << 20)
#define S3_SMALL_BODY_MAX ((size_t)1 << 20)
#define S3_DELETE_BATCH 1000

/* The backend. Read-only after s3_store_new, so shared by threads without locks. */
struct s3_be {
    struct http_client *hc; /* borrowed */
    char *bucket;
    char *region;
    char *access_key;
    char *secret_key;
    char *session_token;
    bool anonymous;
    bool path_style;
    char *endpoint;          /* scheme://host[:port], for messages */
    char *base;              /* URL of the bucket without a trailing '/':
                                path style ENDPOINT/BUCKET, virtual-hosted scheme://BUCKET.host */
    char *url_base;          /* "s3://bucket" */
    struct os_store *store;  /* the store that owns this backend (for s3_map_error) */
    int64_t copy_single_max; /* largest single CopyObject (S3_MAX_SINGLE unless a test lowers it) */
};

/* One request. hdrs is owned (s3_call_free); everything else borrowed. */
struct s3_call {
    const char *method;
    const char *key;   /* NULL: the bucket itself */
    const char *query; /* encoded, without '?'; NULL when none */
    struct http_hdrs hdrs;
    const void *body;
    size_t body_len;
    bool sign_body; /* sign the body's SHA-256 (control bodies), else UNSIGNED-PAYLOAD */
    bool idempotent;
    int64_t range_start; /* -1: no Range */
    int64_t range_end;
    int (*sink)(const void *data, size_t n, void *ud);
    void *sink_ud;
    size_t body_max; /* 0: S3_SMALL_BODY_MAX */
};
void s3_call_init(struct s3_call *c, const char *method, const char *key, const char *query);
void s3_call_free(struct s3_call *c);

/* The request URL (path-style or virtual-hosted) into b. 0 or -errno. */
int s3_url(const struct s3_be *be, const char *key, const char *query, struct buf *b);

/*
 * Sends the request (signed, with retries). Returns 0 when a response arrived,
 * whatever its status (resp->status); a transport failure is mapped with
 * s3_map_error and returned (negative). resp must be initialised (and freed) by the caller.
 */
int s3_send(struct s3_be *be, int op, struct s3_call *c, struct http_response *resp);
/* s3_send, then any non-2xx status mapped with s3_map_error. */
int s3_exec(struct s3_be *be, int op, struct s3_call *c, struct http_response *resp);
static inline bool s3_ok(long status)
{
    return status >= 200 && status <= 299;
}

/* Error mapping from an already-parsed S3 error (the table behind s3_map_error). */
int s3_map_code(const struct s3_be *be, int op, const char *key, long status,
                const struct s3_xml_error *e);
/* Records a protocol error (-EPROTO, OSE_PROTOCOL) for an unparseable response. */
int s3_protocol_error(const struct s3_be *be, int op, const char *key, long status,
                      const char *why);

/* Adds Content-Type, x-amz-meta-* (mtime in rclone's format, md5chksum when
 * md5chksum_b64 is non-NULL) for a new object. o may be NULL. 0 or -errno
 * (-EINVAL for metadata a header cannot carry). */
int s3_add_put_headers(struct http_hdrs *h, const struct os_put_opts *o, const char *md5chksum_b64);
/* Fills an os_info from HEAD/GET response headers (key copied). 0 or -errno. */
int s3_info_from_headers(const char *key, const struct http_hdrs *h, struct os_info *out);

/* Object operations in s3_mp.c, used by the ops table in s3.c. */
int s3_op_mp_begin(void *vbe, const char *key, const struct os_put_opts *o, struct os_upload **out);
int s3_op_mp_part(void *vbe, struct os_upload *u, int partno, const void *data, size_t len);
int s3_op_mp_commit(void *vbe, struct os_upload *u, const unsigned char *md5);
void s3_op_mp_abort(void *vbe, struct os_upload *u);
size_t s3_op_part_size(void *vbe, int64_t total_size, int partno);
int s3_op_copy(void *vbe, const char *src_key, const char *dst_key, const struct os_put_opts *o);
int s3_op_set_meta(void *vbe, const char *key, const struct os_put_opts *o);
int s3_op_del_many(void *vbe, const char *const *keys, size_t n, int *failed);
int s3_op_head(void *vbe, const char *key, struct os_info *out);

#endif
