/* s3: the Amazon S3 backend (SigV4, ListObjectsV2, multipart upload). */
#ifndef BFS_S3_S3_H
#define BFS_S3_S3_H

#include <stdbool.h>

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
};

/* Creates the backend; borrows hc (which must outlive the store), copies the config.
 * 0 or -errno; *out freed with os_store_free. Does no network I/O. */
int s3_store_new(struct http_client *hc, const struct s3_config *c, struct os_store **out);

#endif
