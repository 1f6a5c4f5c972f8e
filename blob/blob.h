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

#endif
