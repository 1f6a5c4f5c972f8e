/* blob: the Azure Blob Storage backend (Shared Key and SAS, List Blobs, block upload). */
#ifndef BFS_BLOB_BLOB_H
#define BFS_BLOB_BLOB_H

#include <stdbool.h>

struct http_client;
struct os_store;

struct blob_config {
    const char *account;
    const char *container;
    const char *endpoint;   /* "https://ACCOUNT.blob.core.windows.net" or path-style
                               "http://127.0.0.1:10000/devstoreaccount1" (Azurite) */
    const char *key;        /* base64 account key for Shared Key, or NULL */
    const char *sas;        /* SAS query string (no '?'), or NULL */
    const char *url_base;   /* "az://container" for messages */
};

/* Creates the backend; borrows hc, copies the config. 0 or -errno (-EINVAL for a key
 * that is not base64, naming it without printing it). Does no network I/O. */
int blob_store_new(struct http_client *hc, const struct blob_config *c, struct os_store **out);

/*
 * Shared Key signing (pure, for tests): builds the string to sign for the
 * request and adds `Authorization: SharedKey ACCOUNT:SIG`. `canon_resource_path`
 * is the URL path as the service sees it ("/ACCOUNT/CONTAINER/blob" on the
 * production host; Azurite's path-style gives "/ACCOUNT/ACCOUNT/CONTAINER/blob").
 */
struct http_hdrs;
int blob_sharedkey_sign(const char *account, const unsigned char *key, unsigned long keylen,
                        const char *method, const char *url, struct http_hdrs *hdrs,
                        unsigned long content_length);

/* ---- Additions (blob helper): pure pieces exposed for unit tests, and the
 * internals shared between the .c files of blob/. Other folders use only the above. ---- */

#include <stddef.h>
#include <stdint.h>

struct buf;
struct http_response;
struct os_info;
struct os_list_page;
struct os_put_opts;
struct os_put_result;

/* The x-ms-version every request sends (Azurite 3.35 accepts it). */
#define BLOB_API_VERSION "2021-12-02"

/*
 * The Shared Key string to sign for a request (2015-02-21+ rules): VERB, the
 * eleven standard headers (Content-Length empty when 0), canonicalized x-ms-
 * headers, and "/ACCOUNT" + URL path + sorted "\nname:value" query lines.
 * Appends to out (caller owns). 0 or -errno.
 */
int blob_string_to_sign(const char *account, const char *method, const char *url,
                        const struct http_hdrs *hdrs, unsigned long content_length,
                        struct buf *out);

/* What an operation was, for blob_map_error (the same error code means
 * different things to different operations). */
enum blob_op {
    BLOB_OP_HEAD = 1,
    BLOB_OP_GET,
    BLOB_OP_PUT,
    BLOB_OP_BLOCK,
    BLOB_OP_COMMIT,
    BLOB_OP_LIST,
    BLOB_OP_DELETE,
    BLOB_OP_COPY,
    BLOB_OP_SET_META,
    BLOB_OP_MKDIR,
    BLOB_OP_MKBUCKET,
    BLOB_OP_CHECK,
};

/*
 * The one mapping of Blob service answers to errno (STYLE.md). `rc` is what
 * http_do returned: a negative errno when no response arrived (resp->error
 * says why; the endpoint is named), else 0 and resp holds a non-2xx answer
 * (code from the x-ms-error-code header or the XML body). `what` is the
 * object for messages ("az://container/blob"). Sets os_last_error() and
 * returns the negative errno. Logs status, code and request id at debug.
 */
int blob_map_error(int op, const char *what, const char *endpoint, int rc,
                   const struct http_response *resp);

/* Parses an <Error><Code/><Message/></Error> body; message keeps only its first
 * line. 0, or -EPROTO when the body is not such a document. */
int blob_error_parse(const char *body, size_t len, char *code, size_t codelen,
                     char *msg, size_t msglen);

/*
 * Parses a List Blobs answer into out (caller frees with os_list_page_free):
 * Blob and BlobPrefix merged in name order, properties, metadata (keys
 * lowercased), access tier, hdi_isfolder markers, NextMarker. Malformed,
 * truncated or hostile XML gives -EPROTO with OSE_PROTOCOL naming `what`.
 */
int blob_list_parse(const char *body, size_t len, const char *what, struct os_list_page *out);

/* Block size for block `partno` (1-based) of a blob of total bytes (-1 unknown). */
size_t blob_part_size(int64_t total, int partno);
#define BLOB_MAX_BLOCKS 50000

/* Block id of part partno for an upload tagged `tag` (8 hex chars): base64 of
 * "bfs-TAG-NNNNNNNNNN", all ids of equal length. out holds >= 48 bytes. */
void blob_block_id(const char *tag, int partno, char *out, size_t outlen);

/* Internals shared by the .c files of blob/. */
struct blob_be;
struct blob_call {
    const char *method;
    int op;                     /* enum blob_op */
    const char *key;            /* blob name, NULL for the container itself */
    const char *query;          /* already encoded, without '?', or NULL */
    const struct http_hdrs *hdrs;   /* extra headers, may be NULL */
    const void *body;
    size_t body_len;
    int64_t range_start;        /* -1: no Range */
    int64_t range_end;
    int (*sink)(const void *data, size_t n, void *ud);
    void *sink_ud;
    size_t body_max;            /* 0: transport default */
    bool idempotent;
};
/* Zeroes c and sets the defaults: no range, no body, idempotent. */
void blob_call_init(struct blob_call *c, const char *method, int op, const char *key);
/* Runs one request. 0 when a 2xx arrived; otherwise the mapped error (resp still
 * holds the answer for callers that accept some non-2xx, see allow_status). */
int blob_call(struct blob_be *b, const struct blob_call *c, struct http_response *resp);
/* Like blob_call but a status in allow (0-terminated) is not an error: returns 0. */
int blob_call_allow(struct blob_be *b, const struct blob_call *c, const long *allow,
                    struct http_response *resp);
/* Appends the full, encoded URL of key (NULL: the container) with query and SAS. */
int blob_url(const struct blob_be *b, const char *key, const char *query, struct buf *out);
/* "az://container/key" for messages, into out. */
void blob_what(const struct blob_be *b, const char *key, char *out, size_t outlen);
/* Adds x-ms-meta-* (metadata, mtime) and, when with_type, x-ms-blob-content-type. */
int blob_put_headers(struct http_hdrs *h, const struct os_put_opts *o, bool with_type);
/* Fills out from a HEAD/GET answer's headers (key copied). 0 or -errno. */
int blob_info_from_headers(const struct http_hdrs *h, const char *key, struct os_info *out);
/* Fills r (when not NULL) from the ETag and Last-Modified of a successful upload's answer. */
void blob_put_result(const struct http_response *resp, struct os_put_result *r);
/* Sets mtime (metadata `mtime`, else last_modified) and is_dir_marker (hdi_isfolder=true). */
void blob_info_finish(struct os_info *i);
/* Get Blob Properties into out (caller clears it). */
int blob_head(void *be, const char *key, struct os_info *out);
/* Deletes one blob; an absent blob counts as deleted. */
int blob_del(void *be, const char *key);

/* Operations implemented in blob_upload.c, wired into the ops table by blob.c. */
struct os_upload;
int blob_mp_begin(void *be, const char *key, const struct os_put_opts *o, struct os_upload **out);
int blob_mp_part(void *be, struct os_upload *u, int partno, const void *data, size_t len);
int blob_mp_commit(void *be, struct os_upload *u, const unsigned char *md5);
void blob_mp_abort(void *be, struct os_upload *u);
size_t blob_op_part_size(void *be, int64_t total, int partno);
int blob_copy(void *be, const char *src_key, const char *dst_key, const struct os_put_opts *o);
int blob_set_meta(void *be, const char *key, const struct os_put_opts *o);

#endif
