/* s3: the Amazon S3 backend (SigV4, ListObjectsV2, multipart upload). */
#ifndef BFS_S3_S3_H
#define BFS_S3_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_client;
struct os_store;

struct s3_config {
    const char *bucket;
    const char *endpoint;      /* NULL: https://s3.REGION.amazonaws.com (virtual-hosted) */
    const char *region;        /* NULL: us-east-1 */
    bool path_style;           /* forced on for custom endpoints unless virtual_hosted */
    bool virtual_hosted;       /* force virtual-hosted addressing on a custom endpoint */
    const char *access_key;    /* NULL with anonymous */
    const char *secret_key;
    const char *session_token; /* may be NULL */
    bool anonymous;            /* send unsigned requests */
    const char *url_base;      /* "s3://bucket" for messages */
    int64_t copy_single_max;   /* largest single CopyObject; 0: 5 GiB (S3's limit). Tests
                                  lower it to exercise UploadPartCopy. */
};

/* Creates the backend; borrows hc (which must outlive the store), copies the config.
 * 0 or -errno; *out freed with os_store_free. Does no network I/O. hc may be NULL
 * (tests): then every operation fails with -EINVAL. */
int s3_store_new(struct http_client *hc, const struct s3_config *c, struct os_store **out);

/* ---- Exposed for tests and for the S3 backend's own files (pure functions) ---- */

struct http_response;
struct os_list_page;
struct buf;

/* The operation a request belongs to; s3_map_error's mapping depends on it. */
enum s3_op {
    S3_OP_HEAD = 1,
    S3_OP_GET,
    S3_OP_PUT,
    S3_OP_MP_BEGIN,
    S3_OP_MP_PART,
    S3_OP_MP_COMMIT,
    S3_OP_MP_ABORT,
    S3_OP_LIST,
    S3_OP_DELETE,
    S3_OP_DELETE_MANY,
    S3_OP_COPY,
    S3_OP_SET_META,
    S3_OP_MKDIR,
    S3_OP_MKBUCKET,
    S3_OP_CHECK,
};
/* "HeadObject", "ListObjectsV2", ... for messages. */
const char *s3_op_name(int op);

/*
 * The one S3 error mapping (STYLE.md): from a transport failure (http_rc < 0)
 * or a response that is not a success (any status; a 200 whose body is an
 * <Error> counts too) to a negative errno, recorded with os_error_set()
 * (kind, HTTP status, S3 code, request id, a message naming the object and
 * the cause; never a secret). key may be NULL for bucket-level operations.
 * Logs the raw status and code at debug level. Returns the negative errno.
 */
int s3_map_error(const struct os_store *s, int op, const char *key, int http_rc,
                 const struct http_response *resp);

/* An S3 <Error> document. */
struct s3_xml_error {
    char code[64];
    char message[256];
    char request_id[96];
    char key[256];
    char storage_class[32]; /* InvalidObjectState carries it */
};
/* Parses an <Error> document. 0, or -EPROTO when the body is not one (not XML,
 * HTML, another root); err receives the reason. */
int s3_xml_parse_error(const char *body, size_t len, struct s3_xml_error *out, char *err,
                       size_t errlen);

/*
 * Parses a ListObjectsV2 result into out (caller frees with os_list_page_free):
 * Contents and CommonPrefixes merged in key order, keys and prefixes
 * url-decoded when the response says <EncodingType>url</EncodingType>,
 * next_token set when <IsTruncated>true</IsTruncated>. -EPROTO with the reason
 * in err for malformed, truncated, hostile or inconsistent documents.
 */
int s3_xml_parse_list(const char *body, size_t len, struct os_list_page *out, char *err,
                      size_t errlen);

/* <InitiateMultipartUploadResult><UploadId>: *upload_id malloc'd. 0 or -EPROTO. */
int s3_xml_parse_upload_id(const char *body, size_t len, char **upload_id, char *err,
                           size_t errlen);

/*
 * A result that carries an ETag (CompleteMultipartUploadResult, CopyObjectResult,
 * CopyPartResult) and may instead be an <Error> inside a 200: returns 0 with
 * *etag (malloc'd, quotes stripped; NULL when absent), 1 when the body is an
 * <Error> (filled into e), or -EPROTO.
 */
int s3_xml_parse_etag_result(const char *body, size_t len, char **etag, struct s3_xml_error *e,
                             char *err, size_t errlen);

/* A per-key failure in a DeleteObjects result. */
struct s3_xml_delete_error {
    char *key;
    char code[64];
    char message[256];
};
/* Parses <DeleteResult>: its <Error> entries into *errs (malloc'd array of *n;
 * free with s3_xml_delete_errors_free). Returns 0, 1 when the whole body is an
 * <Error> (filled into e), or -EPROTO. */
int s3_xml_parse_delete_result(const char *body, size_t len, struct s3_xml_delete_error **errs,
                               size_t *n, struct s3_xml_error *e, char *err, size_t errlen);
void s3_xml_delete_errors_free(struct s3_xml_delete_error *errs, size_t n);

/* Request bodies: <Delete> (quiet) for keys[0..n), <CompleteMultipartUpload> for
 * parts 1..n with their ETags (quoted as S3 wants). 0 or -errno. */
int s3_xml_build_delete(struct buf *b, const char *const *keys, size_t n);
int s3_xml_build_complete(struct buf *b, char *const *etags, size_t n);

/* S3 part sizes (os_ops.part_size without the backend). */
size_t s3_part_size(int64_t total_size, int partno);

#endif
