/* http: HTTP transport on libcurl with connection reuse, timeouts and retries with backoff. */
#ifndef BFS_CORE_HTTP_H
#define BFS_CORE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* A header list. Names compare case-insensitively. Owned strings. */
struct http_hdr {
    char *name;
    char *value;
};
struct http_hdrs {
    struct http_hdr *v;
    size_t n;
    size_t cap;
};

/* Appends (does not replace). 0 or -ENOMEM. */
int http_hdrs_add(struct http_hdrs *h, const char *name, const char *value);
/* Replaces every header named `name` with one of this value. */
int http_hdrs_set(struct http_hdrs *h, const char *name, const char *value);
/* First value for name, or NULL; borrowed. */
const char *http_hdrs_get(const struct http_hdrs *h, const char *name);
void http_hdrs_del(struct http_hdrs *h, const char *name);
int http_hdrs_copy(struct http_hdrs *dst, const struct http_hdrs *src);
void http_hdrs_free(struct http_hdrs *h);

struct http_config {
    long connect_timeout_ms;   /* default 10000 */
    long stall_timeout_s;      /* abort when < 1 byte/s for this long; default 60 */
    int max_retries;           /* retries after the first attempt; default 5 */
    long retry_base_ms;        /* first backoff; default 200; doubles, full jitter */
    long retry_max_ms;         /* cap for one backoff and for Retry-After; default 20000 */
    const char *ca_file;       /* NULL: system default */
    bool insecure;             /* skip TLS verification (tests only) */
};
/* Fills the defaults above, then BRIDGEFS_RETRIES, BRIDGEFS_RETRY_BASE_MS,
 * BRIDGEFS_CONNECT_TIMEOUT_MS, BRIDGEFS_STALL_TIMEOUT_S from the environment when set. */
void http_config_defaults(struct http_config *c);

/* Thread-safe; one per process is enough. Shares connections, DNS and TLS sessions. */
struct http_client;
struct http_client *http_client_new(const struct http_config *c);
void http_client_free(struct http_client *hc);

struct http_response;

/*
 * A request. Everything is borrowed by http_do for the duration of the call.
 *
 * The body is in memory (retries resend it). `range_start`/`range_end` (inclusive;
 * range_start < 0 means no Range header; range_end < 0 means to the end) are
 * rendered by the transport as `Range: bytes=S-E`; when a GET fails after
 * some body bytes were delivered to `sink`, the retry asks only for the rest
 * (with If-Match on the first response's ETag), so the sink sees each byte once.
 *
 * `sign` is called before every attempt with a fresh copy of `hdrs` (plus
 * Range); it adds the date and authorization headers. `url` is the full,
 * already-encoded URL.
 */
struct http_request {
    const char *method;
    const char *url;
    const struct http_hdrs *hdrs;
    const void *body;
    size_t body_len;
    int64_t range_start;
    int64_t range_end;
    /* Body sink for 2xx responses; NULL collects the body into resp->body
     * (capped at body_max, default 16 MiB). Return 0 or -errno to abort. */
    int (*sink)(const void *data, size_t len, void *ud);
    void *sink_ud;
    size_t body_max;
    /* False for a step that must not be repeated once the server may have acted on
     * it: then only connection failures before sending and 503/429 answers are retried. */
    bool idempotent;
    int (*sign)(void *ud, const char *method, const char *url, struct http_hdrs *hdrs,
                const void *body, size_t body_len);
    void *sign_ud;
    /* Optional: extra retry rule, e.g. S3's 400 RequestTimeout. */
    bool (*retryable)(const struct http_response *resp);
    /* For the log: what this request is, e.g. "GET s3://bucket/key". */
    const char *what;
};

struct http_response {
    long status;              /* 0 when no response was received */
    struct http_hdrs hdrs;    /* of the final attempt */
    struct buf body;          /* non-2xx bodies always; 2xx bodies when sink is NULL */
    int attempts;
    char error[256];          /* transport error text when status is 0 */
};

void http_response_init(struct http_response *r);
void http_response_free(struct http_response *r);

/*
 * Performs the request with retries: connection errors, timeouts, resets,
 * HTTP 429, 500, 502, 503, 504 (and `retryable`) are retried with exponential
 * backoff and full jitter, honouring Retry-After (seconds or HTTP date) up to
 * retry_max_ms. Returns 0 when a response arrived (any status: the caller maps
 * non-2xx), or a negative errno when none did after all retries:
 * -ECONNREFUSED, -EHOSTUNREACH (name or route), -ETIMEDOUT, -ECONNRESET, -EIO,
 * -EPROTO (TLS), or the sink's own error; -ESTALE when a resumed GET finds the
 * object changed (412 on If-Match, or a different ETag); -E2BIG when a 2xx body
 * without a sink exceeds body_max. resp->error says what happened (no query
 * strings). Logs each retry at info level without secrets.
 *
 * GET and HEAD are always treated as idempotent. A non-idempotent request gets
 * a fresh connection, because curl silently resends once on a reused
 * connection that turns out dead.
 */
int http_do(struct http_client *hc, const struct http_request *req, struct http_response *resp);

#endif
