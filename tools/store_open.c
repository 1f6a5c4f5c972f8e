/* store_open: a store URL becomes an os_store (URL parsing, credentials, backend). */
#include "tools/store_open.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob/blob.h"
#include "core/creds.h"
#include "core/objstore.h"
#include "s3/s3.h"

static char *dup_printf(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s%s", a, b);
    return s;
}

static int open_s3(struct http_client *hc, struct cli_store *out, char *err, size_t errlen)
{
    struct s3_creds cr = {0};
    struct s3_config cfg = {0};
    char *base = NULL;
    int rc;

    rc = creds_s3_discover(&cr, err, errlen);
    if (rc < 0)
        goto out;
    base = dup_printf("s3://", out->url.bucket);
    if (!base) {
        rc = -ENOMEM;
        goto out;
    }
    cfg.bucket = out->url.bucket;
    cfg.endpoint = cr.endpoint;
    cfg.region = cr.region;
    cfg.path_style = cr.endpoint != NULL;
    cfg.access_key = cr.access_key;
    cfg.secret_key = cr.secret_key;
    cfg.session_token = cr.session_token;
    cfg.anonymous = cr.anonymous;
    cfg.url_base = base;
    if (cr.endpoint) {
        out->endpoint = strdup(cr.endpoint);
    } else {
        size_t n = 64 + strlen(cr.region ? cr.region : "us-east-1");
        out->endpoint = malloc(n);
        if (out->endpoint)
            snprintf(out->endpoint, n, "https://s3.%s.amazonaws.com",
                     cr.region ? cr.region : "us-east-1");
    }
    if (!out->endpoint) {
        rc = -ENOMEM;
        goto out;
    }
    rc = s3_store_new(hc, &cfg, &out->st);
    if (rc < 0)
        snprintf(err, errlen, "cannot set up the S3 client for %s: %s", base, strerror(-rc));
out:
    free(base);
    creds_s3_free(&cr);
    return rc;
}

static int open_blob(struct http_client *hc, struct cli_store *out, char *err, size_t errlen)
{
    struct az_creds cr = {0};
    struct blob_config cfg = {0};
    char *base = NULL;
    int rc;

    rc = creds_az_discover(&out->url, &cr, err, errlen);
    if (rc < 0)
        goto out;
    base = dup_printf("az://", out->url.bucket);
    out->endpoint = cr.endpoint ? strdup(cr.endpoint) : NULL;
    if (!base || (cr.endpoint && !out->endpoint)) {
        rc = -ENOMEM;
        goto out;
    }
    cfg.account = cr.account;
    cfg.container = out->url.bucket;
    cfg.endpoint = cr.endpoint;
    cfg.key = cr.key;
    cfg.sas = cr.sas;
    cfg.url_base = base;
    rc = blob_store_new(hc, &cfg, &out->st);
    if (rc == -EINVAL)
        snprintf(err, errlen, "the Azure account key is not valid base64: check "
                 "AZURE_STORAGE_KEY or the connection string's AccountKey");
    else if (rc < 0)
        snprintf(err, errlen, "cannot set up the Azure client for %s: %s", base, strerror(-rc));
out:
    free(base);
    creds_az_free(&cr);
    return rc;
}

int store_open(struct http_client *hc, const char *url, struct cli_store *out, char *err,
               size_t errlen)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (errlen)
        err[0] = '\0';
    rc = url_parse(url, &out->url, err, errlen);
    if (rc < 0) {
        if (errlen && !err[0])
            snprintf(err, errlen, "bad URL: %s", url);
        goto out;
    }
    if (out->url.kind == URL_S3) {
        out->backend = "s3";
        rc = open_s3(hc, out, err, errlen);
    } else {
        out->backend = "blob";
        rc = open_blob(hc, out, err, errlen);
    }
out:
    if (rc < 0) {
        if (errlen && !err[0])
            snprintf(err, errlen, "%s", strerror(-rc));
        store_close(out);
    }
    return rc;
}

void store_close(struct cli_store *s)
{
    if (!s)
        return;
    os_store_free(s->st);
    url_free(&s->url);
    free(s->endpoint);
    memset(s, 0, sizeof(*s));
}
