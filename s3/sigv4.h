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
    const char *service; /* "s3" */
};

/* The SHA-256 hex of an empty body, and the unsigned-payload marker. */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"

/*
 * Canonical-URI flags. S3 uses neither: its path is signed exactly as sent
 * (already percent-encoded once, "//" and "." kept). Every other AWS service
 * (and AWS's generic SigV4 test suite) uses both.
 */
#define SIGV4_URI_DOUBLE_ENCODE 0x1 /* percent-encode the (already encoded) path again */
#define SIGV4_NORMALIZE_PATH 0x2    /* remove "." and ".." segments and empty segments */

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

/*
 * sigv4_sign_headers with canonical-URI `flags` (SIGV4_*), and, for tests and
 * trace logs, the canonical request and string to sign written into canon_out
 * and sts_out when non-NULL (appended; caller owns the buffers).
 */
int sigv4_sign_headers_ex(const struct sigv4_key *k, const char *method, const char *url,
                          struct http_hdrs *hdrs, const void *body, size_t body_len,
                          const char *payload_hash, int add_content_sha, time_t now, int flags,
                          struct buf *canon_out, struct buf *sts_out);

/* The presigned-URL form: appends X-Amz-Algorithm ... X-Amz-Signature to url;
 * the result (malloc'd) in *out. Signs only the host header. */
int sigv4_presign(const struct sigv4_key *k, const char *method, const char *url, long expires_s,
                  time_t now, char **out);

/* Exposed for tests: the canonical request (appended to canon) and the
 * semicolon-separated signed header names (appended to signed_headers) of a
 * request with headers hdrs. flags are SIGV4_* above. 0 or -errno. */
int sigv4_canonical_request(const char *method, const char *url, const struct http_hdrs *hdrs,
                            const char *payload_hash, int flags, struct buf *canon,
                            struct buf *signed_headers);

/* Formats t as "YYYYMMDDTHHMMSSZ" (out holds at least 17 bytes). */
void sigv4_amz_date(time_t t, char out[17]);
/* Parses "YYYYMMDDTHHMMSSZ" into *out. 0 or -EINVAL. */
int sigv4_parse_amz_date(const char *s, time_t *out);

#endif
