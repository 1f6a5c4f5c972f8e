/* sigv4: AWS Signature Version 4, header and presigned-URL forms (pure functions). */
#ifndef BFS_S3_SIGV4_H
#define BFS_S3_SIGV4_H

#include <stddef.h>
#include <time.h>

struct http_hdrs;
struct buf;

struct sigv4_key {
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* NULL when none */
    const char *region;
    const char *service;       /* "s3" */
};

/* The SHA-256 hex of an empty body, and the unsigned-payload marker. */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"

/*
 * Signs a request in place: adds X-Amz-Date (and X-Amz-Security-Token), and
 * Authorization over every header in hdrs (Host is derived from url when absent
 * and added). payload_hash is the hex SHA-256 of the body or SIGV4_UNSIGNED;
 * when NULL it is computed from body. For S3 the X-Amz-Content-Sha256 header is
 * added when add_content_sha is set. `now` is the signing time (UTC).
 * The URL's path is used as already encoded (S3 does not re-encode), the query
 * is canonicalized (sorted, each part encoded once). 0 or -errno.
 */
int sigv4_sign_headers(const struct sigv4_key *k, const char *method, const char *url,
                       struct http_hdrs *hdrs, const void *body, size_t body_len,
                       const char *payload_hash, int add_content_sha, time_t now);

/* The presigned-URL form: appends X-Amz-Algorithm ... X-Amz-Signature to url;
 * the result (malloc'd) in *out. Signs only the host header. */
int sigv4_presign(const struct sigv4_key *k, const char *method, const char *url,
                  long expires_s, time_t now, char **out);

/* Exposed for tests: the canonical request and string to sign of the last step. */
int sigv4_canonical_request(const char *method, const char *url, const struct http_hdrs *hdrs,
                            const char *payload_hash, int uri_double_encode,
                            struct buf *canon, struct buf *signed_headers);

#endif
