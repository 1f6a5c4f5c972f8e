/* store_open: a store URL becomes an os_store (URL parsing, credentials, backend). */
#ifndef BFS_TOOLS_STORE_OPEN_H
#define BFS_TOOLS_STORE_OPEN_H

#include <stddef.h>

#include "core/url.h"

struct http_client;
struct os_store;

/* An opened store and what messages need to know about it. Owned; store_close frees. */
struct cli_store {
    struct os_store *st;
    struct store_url url;  /* url.prefix is the key prefix the user named */
    char *endpoint;        /* service endpoint, for "unreachable" messages */
    const char *backend;   /* "s3" or "blob" (static) */
};

/*
 * Parses url, discovers credentials (core/creds.h) and creates the backend on
 * hc (borrowed; it must outlive the store). No network I/O. Returns 0, or
 * -EINVAL for a bad URL or missing/incomplete credentials with the reason in
 * err (never a secret), or another negative errno. On failure *out is cleared.
 */
int store_open(struct http_client *hc, const char *url, struct cli_store *out, char *err,
               size_t errlen);
/* Frees what store_open made; safe on a cleared or already closed cli_store. */
void store_close(struct cli_store *s);

#endif
