/* s3: the S3 backend's store, request plumbing and single-request object operations. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/http.h"
#include "core/log.h"
#include "core/objstore.h"
#include "core/url.h"
#include "core/xml.h"
#include "s3/s3.h"
#include "s3/s3_int.h"
#include "s3/sigv4.h"

#define S3_URL_MAX (64u * 1024)
#define S3_EMPTY_MD5_B64 "1B2M2Y8AsgTpgAmY7PhCfg=="

/* ---- requests ---- */

void s3_call_init(struct s3_call *c, const char *method, const char *key, const char *query)
{
    memset(c, 0, sizeof(*c));
    c->method = method;
    c->key = key;
    c->query = query;
    c->idempotent = true;
    c->range_start = -1;
    c->range_end = -1;
}

void s3_call_free(struct s3_call *c)
{
    if (c)
        http_hdrs_free(&c->hdrs);
}

int s3_url(const struct s3_be *be, const char *key, const char *query, struct buf *b)
{
    int rc = buf_appends(b, be->base);

    if (rc == 0 && (key || !be->path_style))
        rc = buf_appends(b, "/");
    if (rc == 0 && key)
        rc = url_encode_append(b, key, true);
    if (rc == 0 && query && *query) {
        rc = buf_appends(b, "?");
        if (rc == 0)
            rc = buf_appends(b, query);
    }
    return rc;
}

struct s3_sign_ud {
    const struct s3_be *be;
    const char *payload_hash;
};

static int s3_sign_cb(void *ud, const char *method, const char *url, struct http_hdrs *hdrs,
                      const void *body, size_t body_len)
{
    const struct s3_sign_ud *s = ud;
    struct sigv4_key k = {s->be->access_key, s->be->secret_key, s->be->session_token, s->be->region,
                          "s3"};

    return sigv4_sign_headers(&k, method, url, hdrs, body, body_len, s->payload_hash, 1,
                              time(NULL));
}

/* S3 answers a request body that came too slowly with 400 RequestTimeout: worth a retry. */
static bool s3_retryable(const struct http_response *resp)
{
    return resp->status == 400 && resp->body.data &&
           strstr(resp->body.data, "<Code>RequestTimeout</Code>") != NULL;
}

int s3_send(struct s3_be *be, int op, struct s3_call *c, struct http_response *resp)
{
    struct http_request req;
    struct s3_sign_ud sud;
    struct buf url, what;
    char phash[2 * CRYPTO_SHA256_LEN + 1];
    int rc;

    if (!be->hc)
        return os_error_set(-EINVAL, OSE_LOCAL, 0, "", "", "%s on %s: no HTTP client",
                            s3_op_name(op), be->url_base);
    buf_init(&url, S3_URL_MAX);
    buf_init(&what, S3_URL_MAX);
    rc = s3_url(be, c->key, c->query, &url);
    if (rc == 0)
        rc = buf_appendf(&what, "%s %s%s%s", c->method, be->url_base, c->key ? "/" : "",
                         c->key ? c->key : "");
    if (rc) {
        rc = os_error_set(rc, OSE_LOCAL, 0, "", "", "%s on %s: request too large: %s",
                          s3_op_name(op), be->url_base, strerror(-rc));
        goto out;
    }
    if (c->sign_body) {
        unsigned char h[CRYPTO_SHA256_LEN];

        crypto_sha256(c->body ? c->body : "", c->body_len, h);
        crypto_hex(h, sizeof(h), phash);
        sud.payload_hash = phash;
    } else {
        sud.payload_hash = SIGV4_UNSIGNED;
    }
    sud.be = be;
    memset(&req, 0, sizeof(req));
    req.method = c->method;
    req.url = buf_str(&url);
    req.hdrs = &c->hdrs;
    req.body = c->body;
    req.body_len = c->body_len;
    req.range_start = c->range_start;
    req.range_end = c->range_end;
    req.sink = c->sink;
    req.sink_ud = c->sink_ud;
    req.body_max = c->body_max ? c->body_max : S3_SMALL_BODY_MAX;
    req.idempotent = c->idempotent;
    req.sign = be->anonymous ? NULL : s3_sign_cb;
    req.sign_ud = &sud;
    req.retryable = s3_retryable;
    req.what = buf_str(&what);
    rc = http_do(be->hc, &req, resp);
    if (rc < 0)
        rc = s3_map_error(be->store, op, c->key, rc, resp);
out:
    buf_free(&url);
    buf_free(&what);
    return rc;
}

int s3_exec(struct s3_be *be, int op, struct s3_call *c, struct http_response *resp)
{
    int rc = s3_send(be, op, c, resp);

    if (rc == 0 && !s3_ok(resp->status))
        rc = s3_map_error(be->store, op, c->key, 0, resp);
    return rc;
}

/* ---- headers ---- */

static bool s3_header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return false;
    return true;
}

static bool s3_meta_key_ok(const char *k)
{
    if (!*k)
        return false;
    for (; *k; k++)
        if (!isalnum((unsigned char)*k) && *k != '-' && *k != '_' && *k != '.')
            return false;
    return true;
}

int s3_add_put_headers(struct http_hdrs *h, const struct os_put_opts *o, const char *md5chksum_b64)
{
    char name[300], mt[64];
    size_t i;
    int rc;

    rc = http_hdrs_set(h, "Content-Type",
                       o && o->content_type && *o->content_type ? o->content_type
                                                                : "application/octet-stream");
    if (rc == 0 && o && o->content_type && !s3_header_safe(o->content_type))
        rc = -EINVAL;
    for (i = 0; o && i < o->n_meta && rc == 0; i++) {
        const char *k = o->meta[i].key, *v = o->meta[i].value ? o->meta[i].value : "";
        size_t j;

        if (!k || (o->mtime && strcasecmp(k, "mtime") == 0) ||
            (md5chksum_b64 && strcasecmp(k, "md5chksum") == 0))
            continue;
        if (!s3_meta_key_ok(k) || strlen(k) > 200 || !s3_header_safe(v)) {
            rc = -EINVAL;
            break;
        }
        snprintf(name, sizeof(name), "x-amz-meta-%s", k);
        for (j = 0; name[j]; j++)
            name[j] = (char)tolower((unsigned char)name[j]);
        rc = http_hdrs_set(h, name, v);
    }
    if (rc == 0 && o && o->mtime) {
        rc = os_mtime_format_s3(o->mtime, mt, sizeof(mt));
        if (rc == 0)
            rc = http_hdrs_set(h, "x-amz-meta-mtime", mt);
    }
    if (rc == 0 && md5chksum_b64)
        rc = http_hdrs_set(h, "x-amz-meta-md5chksum", md5chksum_b64);
    return rc;
}

static bool s3_is_dir_marker(const char *key)
{
    static const char folder[] = "_$folder$";
    size_t n = strlen(key), fl = sizeof(folder) - 1;

    return (n && key[n - 1] == '/') || (n >= fl && strcmp(key + n - fl, folder) == 0);
}

static bool s3_hex32(const char *s)
{
    size_t i;

    for (i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return s[32] == '\0';
}

int s3_info_from_headers(const char *key, const struct http_hdrs *h, struct os_info *out)
{
    const char *v, *cr;
    size_t i;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->key = strdup(key);
    if (!out->key)
        return -ENOMEM;
    v = http_hdrs_get(h, "Content-Length");
    out->size = v ? strtoll(v, NULL, 10) : 0;
    cr = http_hdrs_get(h, "Content-Range");
    v = cr ? strrchr(cr, '/') : NULL;
    if (v && v[1] != '*')
        out->size = strtoll(v + 1, NULL, 10);
    v = http_hdrs_get(h, "ETag");
    if (v) {
        size_t n = strlen(v);

        out->etag = (n >= 2 && v[0] == '"' && v[n - 1] == '"') ? strndup(v + 1, n - 2) : strdup(v);
        if (!out->etag)
            rc = -ENOMEM;
    }
    v = http_hdrs_get(h, "Last-Modified");
    if (v && os_time_parse(v, &out->last_modified) != 0)
        log_debug("s3: unparseable Last-Modified \"%.64s\" for %s", v, key);
    v = http_hdrs_get(h, "Content-Type");
    if (v && rc == 0) {
        out->content_type = strdup(v);
        if (!out->content_type)
            rc = -ENOMEM;
    }
    v = http_hdrs_get(h, "x-amz-storage-class");
    if (rc == 0) {
        out->storage_class = strdup(v ? v : "STANDARD");
        if (!out->storage_class)
            rc = -ENOMEM;
    }
    if (rc == 0 && (strcmp(out->storage_class, "GLACIER") == 0 ||
                    strcmp(out->storage_class, "DEEP_ARCHIVE") == 0)) {
        v = http_hdrs_get(h, "x-amz-restore");
        out->archived = !(v && strstr(v, "ongoing-request=\"false\""));
    }
    for (i = 0; i < h->n && rc == 0; i++)
        if (strncasecmp(h->v[i].name, "x-amz-meta-", 11) == 0 && h->v[i].name[11])
            rc = os_info_set_meta(out, h->v[i].name + 11, h->v[i].value);
    if (rc) {
        os_info_clear(out);
        return rc;
    }
    out->mtime = out->last_modified;
    v = os_info_meta(out, "mtime");
    if (v && os_mtime_parse(v, &out->mtime) != 0) {
        log_debug("s3: unparseable mtime metadata \"%.64s\" for %s", v, key);
        out->mtime = out->last_modified;
    }
    v = os_info_meta(out, "md5chksum");
    if (v && crypto_base64_decode(v, out->md5, sizeof(out->md5)) == 16)
        out->has_md5 = true;
    else if (out->etag && s3_hex32(out->etag) && crypto_unhex(out->etag, out->md5, 16) == 0)
        out->has_md5 = true;
    out->is_dir_marker = s3_is_dir_marker(key);
    return 0;
}

/* ---- operations ---- */

int s3_op_head(void *vbe, const char *key, struct os_info *out)
{
    struct s3_be *be = vbe;
    struct http_response resp;
    struct s3_call c;
    int rc;

    memset(out, 0, sizeof(*out));
    http_response_init(&resp);
    s3_call_init(&c, "HEAD", key, NULL);
    rc = s3_exec(be, S3_OP_HEAD, &c, &resp);
    if (rc == 0) {
        rc = s3_info_from_headers(key, &resp.hdrs, out);
        if (rc)
            rc = os_error_set(rc, OSE_LOCAL, 0, "", "", "HeadObject on %s/%s: %s", be->url_base,
                              key, strerror(-rc));
    }
    s3_call_free(&c);
    http_response_free(&resp);
    return rc;
}

/* Wraps the caller's sink to tell its errors from transport errors. */
struct s3_sink {
    int (*sink)(const void *data, size_t n, void *ud);
    void *ud;
    int err;
};

static int s3_sink_cb(const void *data, size_t n, void *ud)
{
    struct s3_sink *s = ud;
    int rc = s->sink(data, n, s->ud);

    if (rc)
        s->err = rc;
    return rc;
}

static int s3_op_get_range(void *vbe, const char *key, int64_t off, int64_t len,
                           int (*sink)(const void *data, size_t n, void *ud), void *ud,
                           struct os_info *info_out)
{
    struct s3_be *be = vbe;
    struct http_response resp;
    struct s3_sink ss = {sink, ud, 0};
    struct s3_call c;
    int rc;

    if (info_out)
        memset(info_out, 0, sizeof(*info_out));
    if (off < 0)
        return os_error_set(-EINVAL, OSE_LOCAL, 0, "", "", "GetObject on %s/%s: negative offset",
                            be->url_base, key);
    if (len == 0)
        return info_out ? s3_op_head(be, key, info_out) : 0;
    http_response_init(&resp);
    s3_call_init(&c, "GET", key, NULL);
    if (off > 0 || len > 0) {
        c.range_start = off;
        c.range_end = len > 0 ? off + len - 1 : -1;
    }
    c.sink = s3_sink_cb;
    c.sink_ud = &ss;
    rc = s3_send(be, S3_OP_GET, &c, &resp);
    if (rc < 0 && ss.err) {
        rc = os_error_set(ss.err, OSE_LOCAL, 0, "", "", "reading %s/%s stopped: %s", be->url_base,
                          key, strerror(-ss.err));
        goto out;
    }
    if (rc < 0)
        goto out;
    if (resp.status == 416 && off > 0) {
        /* Reading at or past the end: nothing to deliver. */
        rc = info_out ? s3_op_head(be, key, info_out) : 0;
        goto out;
    }
    if (!s3_ok(resp.status)) {
        rc = s3_map_error(be->store, S3_OP_GET, key, 0, &resp);
        goto out;
    }
    if (info_out) {
        rc = s3_info_from_headers(key, &resp.hdrs, info_out);
        if (rc)
            rc = os_error_set(rc, OSE_LOCAL, 0, "", "", "GetObject on %s/%s: %s", be->url_base, key,
                              strerror(-rc));
    }
out:
    s3_call_free(&c);
    http_response_free(&resp);
    return rc;
}

/* Content-MD5 (base64) of data, or of md5 when given. */
static void s3_content_md5(const void *data, size_t len, const unsigned char *md5,
                           char out[CRYPTO_B64_SIZE(16)])
{
    unsigned char m[16];

    if (!md5) {
        crypto_md5(data ? data : "", len, m);
        md5 = m;
    }
    crypto_base64_encode(md5, 16, out);
}

static int s3_bad_meta(const struct s3_be *be, int op, const char *key)
{
    return os_error_set(-EINVAL, OSE_LOCAL, 0, "", "",
                        "%s on %s/%s: metadata cannot be sent as HTTP headers (keys must be "
                        "letters, digits, '-', '_', '.'; values without control characters)",
                        s3_op_name(op), be->url_base, key);
}

static int s3_op_put(void *vbe, const char *key, const void *data, size_t len,
                     const struct os_put_opts *o)
{
    struct s3_be *be = vbe;
    struct http_response resp;
    struct s3_call c;
    char md5b64[CRYPTO_B64_SIZE(16)];
    int rc;

    if ((int64_t)len > S3_MAX_SINGLE)
        return os_error_set(-EFBIG, OSE_LOCAL, 0, "", "",
                            "PutObject on %s/%s: %zu bytes is more than one PUT may carry (5 GiB): "
                            "use a multipart upload",
                            be->url_base, key, len);
    http_response_init(&resp);
    s3_call_init(&c, "PUT", key, NULL);
    c.body = data;
    c.body_len = len;
    /* The MD5 of what we send, not what the caller believes: the server then refuses corruption. */
    s3_content_md5(data, len, NULL, md5b64);
    if (o && o->md5) {
        char want[CRYPTO_B64_SIZE(16)];

        s3_content_md5(NULL, 0, o->md5, want);
        if (strcmp(want, md5b64) != 0) {
            rc = os_error_set(-EIO, OSE_LOCAL, 0, "", "",
                              "PutObject on %s/%s: the data does not match the MD5 given for it",
                              be->url_base, key);
            goto out;
        }
    }
    rc = http_hdrs_set(&c.hdrs, "Content-MD5", md5b64);
    if (rc == 0)
        rc = s3_add_put_headers(&c.hdrs, o, NULL);
    if (rc) {
        rc = rc == -EINVAL ? s3_bad_meta(be, S3_OP_PUT, key)
                           : os_error_set(rc, OSE_LOCAL, 0, "", "", "out of memory");
        goto out;
    }
    rc = s3_exec(be, S3_OP_PUT, &c, &resp);
out:
    s3_call_free(&c);
    http_response_free(&resp);
    return rc;
}

static int s3_op_del(void *vbe, const char *key)
{
    struct s3_be *be = vbe;
    struct http_response resp;
    struct s3_call c;
    int rc;

    http_response_init(&resp);
    s3_call_init(&c, "DELETE", key, NULL);
    rc = s3_send(be, S3_OP_DELETE, &c, &resp);
    if (rc == 0 && !s3_ok(resp.status) && resp.status != 404)
        rc = s3_map_error(be->store, S3_OP_DELETE, key, 0, &resp);
    if (rc == 0 && resp.status == 404) {
        /* NoSuchKey is success; NoSuchBucket is not. */
        struct s3_xml_error e;
        char why[64];

        if (resp.body.len &&
            s3_xml_parse_error(resp.body.data, resp.body.len, &e, why, sizeof(why)) == 0 &&
            strcmp(e.code, "NoSuchBucket") == 0)
            rc = s3_map_error(be->store, S3_OP_DELETE, key, 0, &resp);
    }
    s3_call_free(&c);
    http_response_free(&resp);
    return rc;
}

static int s3_query_param(struct buf *q, const char *name, const char *value)
{
    int rc = buf_appendf(q, "%s%s=", q->len ? "&" : "", name);

    if (rc == 0)
        rc = url_encode_append(q, value, false);
    return rc;
}

static int s3_list(struct s3_be *be, int op, const char *prefix, const char *delim,
                   const char *token, int max_keys, struct os_list_page *out)
{
    struct http_response resp;
    struct s3_call c;
    struct buf q;
    char num[24], why[256];
    int rc;

    memset(out, 0, sizeof(*out));
    http_response_init(&resp);
    buf_init(&q, S3_URL_MAX);
    rc = 0;
    if (token && *token)
        rc = s3_query_param(&q, "continuation-token", token);
    if (rc == 0 && delim && *delim)
        rc = s3_query_param(&q, "delimiter", delim);
    if (rc == 0)
        rc = s3_query_param(&q, "encoding-type", "url");
    if (rc == 0)
        rc = s3_query_param(&q, "list-type", "2");
    if (rc == 0 && max_keys > 0) {
        snprintf(num, sizeof(num), "%d", max_keys);
        rc = s3_query_param(&q, "max-keys", num);
    }
    if (rc == 0 && prefix && *prefix)
        rc = s3_query_param(&q, "prefix", prefix);
    s3_call_init(&c, "GET", NULL, buf_str(&q));
    if (rc) {
        rc = os_error_set(rc, OSE_LOCAL, 0, "", "", "%s on %s: prefix or token too long",
                          s3_op_name(op), be->url_base);
        goto out;
    }
    c.body_max = S3_LIST_BODY_MAX;
    rc = s3_exec(be, op, &c, &resp);
    if (rc)
        goto out;
    rc = s3_xml_parse_list(resp.body.data, resp.body.len, out, why, sizeof(why));
    if (rc == -ENOMEM)
        rc = os_error_set(rc, OSE_LOCAL, 0, "", "", "out of memory parsing a listing");
    else if (rc)
        rc = s3_protocol_error(be, op, NULL, resp.status, why);
out:
    s3_call_free(&c);
    buf_free(&q);
    http_response_free(&resp);
    return rc;
}

static int s3_op_list_page(void *vbe, const char *prefix, const char *delim, const char *token,
                           int max_keys, struct os_list_page *out)
{
    return s3_list(vbe, S3_OP_LIST, prefix, delim, token, max_keys, out);
}

static int s3_op_mkdir(void *vbe, const char *dir)
{
    struct s3_be *be = vbe;
    struct http_response resp;
    struct s3_call c;
    size_t n = strlen(dir);
    char *key = malloc(n + 2);
    int rc;

    if (!key)
        return os_error_set(-ENOMEM, OSE_LOCAL, 0, "", "", "out of memory");
    memcpy(key, dir, n + 1);
    if (n == 0 || dir[n - 1] != '/')
        strcat(key, "/");
    http_response_init(&resp);
    s3_call_init(&c, "PUT", key, NULL);
    rc = http_hdrs_set(&c.hdrs, "Content-Type", "application/x-directory");
    if (rc == 0)
        rc = http_hdrs_set(&c.hdrs, "Content-MD5", S3_EMPTY_MD5_B64);
    if (rc == 0)
        rc = s3_exec(be, S3_OP_MKDIR, &c, &resp);
    else
        rc = os_error_set(rc, OSE_LOCAL, 0, "", "", "out of memory");
    s3_call_free(&c);
    http_response_free(&resp);
    free(key);
    return rc;
}

static int s3_op_mkbucket(void *vbe)
{
    struct s3_be *be = vbe;
    struct http_response resp;
    struct s3_call c;
    struct buf body;
    int rc = 0;

    http_response_init(&resp);
    buf_init(&body, 4096);
    s3_call_init(&c, "PUT", NULL, NULL);
    if (strcmp(be->region, "us-east-1") != 0) {
        rc = buf_appends(&body, "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                                "2006-03-01/\"><LocationConstraint>");
        if (rc == 0)
            rc = xml_escape_append(&body, be->region);
        if (rc == 0)
            rc = buf_appends(&body, "</LocationConstraint></CreateBucketConfiguration>");
        if (rc == 0)
            rc = http_hdrs_set(&c.hdrs, "Content-Type", "application/xml");
        c.body = body.data;
        c.body_len = body.len;
    }
    c.sign_body = true;
    if (rc) {
        rc = os_error_set(rc, OSE_LOCAL, 0, "", "", "out of memory");
        goto out;
    }
    rc = s3_send(be, S3_OP_MKBUCKET, &c, &resp);
    if (rc == 0 && !s3_ok(resp.status)) {
        rc = s3_map_error(be->store, S3_OP_MKBUCKET, NULL, 0, &resp);
        /* A retried create whose first attempt succeeded: the bucket is ours. */
        if (rc == -EEXIST && resp.attempts > 1 &&
            strcmp(os_last_error()->code, "BucketAlreadyOwnedByYou") == 0)
            rc = 0;
    }
out:
    s3_call_free(&c);
    buf_free(&body);
    http_response_free(&resp);
    return rc;
}

static int s3_op_check(void *vbe)
{
    struct os_list_page p;
    int rc = s3_list(vbe, S3_OP_CHECK, NULL, NULL, NULL, 1, &p);

    os_list_page_free(&p);
    return rc;
}

/* ---- the store ---- */

static void s3_op_free(void *vbe)
{
    struct s3_be *be = vbe;

    if (!be)
        return;
    free(be->bucket);
    free(be->region);
    free(be->access_key);
    if (be->secret_key) {
        memset(be->secret_key, 0, strlen(be->secret_key));
        free(be->secret_key);
    }
    free(be->session_token);
    free(be->endpoint);
    free(be->base);
    free(be->url_base);
    free(be);
}

static const struct os_ops s3_ops = {
    .name = "s3",
    .head = s3_op_head,
    .get_range = s3_op_get_range,
    .put = s3_op_put,
    .mp_begin = s3_op_mp_begin,
    .mp_part = s3_op_mp_part,
    .mp_commit = s3_op_mp_commit,
    .mp_abort = s3_op_mp_abort,
    .part_size = s3_op_part_size,
    .max_parts = S3_MAX_PARTS,
    .list_page = s3_op_list_page,
    .del = s3_op_del,
    .del_many = s3_op_del_many,
    .copy = s3_op_copy,
    .set_meta = s3_op_set_meta,
    .mkdir = s3_op_mkdir,
    .mkbucket = s3_op_mkbucket,
    .check = s3_op_check,
    .free = s3_op_free,
};

/* A name usable as a DNS label under a TLS wildcard: virtual-hosted addressing works. */
static bool s3_dns_bucket(const char *b)
{
    size_t n = strlen(b), i;

    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
        return false;
    for (i = 0; i < n; i++)
        if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-'))
            return false;
    return true;
}

static char *s3_strdup_opt(const char *s, int *rc)
{
    char *r;

    if (!s)
        return NULL;
    r = strdup(s);
    if (!r)
        *rc = -ENOMEM;
    return r;
}

int s3_store_new(struct http_client *hc, const struct s3_config *c, struct os_store **out)
{
    struct os_store *s = NULL;
    struct s3_be *be = NULL;
    struct buf b;
    const char *hostpart;
    size_t n;
    int rc = 0;

    *out = NULL;
    buf_init(&b, S3_URL_MAX);
    if (!c || !c->bucket || !*c->bucket || strchr(c->bucket, '/'))
        return -EINVAL;
    if (c->endpoint && strncmp(c->endpoint, "http://", 7) != 0 &&
        strncmp(c->endpoint, "https://", 8) != 0)
        return -EINVAL;
    be = calloc(1, sizeof(*be));
    s = calloc(1, sizeof(*s));
    if (!be || !s) {
        rc = -ENOMEM;
        goto out;
    }
    be->hc = hc;
    be->copy_single_max = c->copy_single_max > 0 && c->copy_single_max < S3_MAX_SINGLE
                              ? c->copy_single_max
                              : S3_MAX_SINGLE;
    be->bucket = s3_strdup_opt(c->bucket, &rc);
    be->region = s3_strdup_opt(c->region && *c->region ? c->region : "us-east-1", &rc);
    be->anonymous = c->anonymous || !c->access_key || !c->secret_key;
    if (!be->anonymous) {
        be->access_key = s3_strdup_opt(c->access_key, &rc);
        be->secret_key = s3_strdup_opt(c->secret_key, &rc);
        be->session_token = s3_strdup_opt(c->session_token, &rc);
        if (c->secret_key)
            log_add_secret(c->secret_key);
        if (c->session_token)
            log_add_secret(c->session_token);
    }
    if (rc == 0 && c->url_base)
        be->url_base = s3_strdup_opt(c->url_base, &rc);
    else if (rc == 0 && buf_appendf(&b, "s3://%s", c->bucket) == 0)
        be->url_base = buf_take(&b);
    if (c->endpoint) {
        be->endpoint = s3_strdup_opt(c->endpoint, &rc);
        be->path_style = !c->virtual_hosted || !s3_dns_bucket(c->bucket);
    } else {
        buf_reset(&b);
        if (buf_appendf(&b, "https://s3.%s.amazonaws.com", be->region ? be->region : "") == 0)
            be->endpoint = buf_take(&b);
        be->path_style = c->path_style || !s3_dns_bucket(c->bucket);
    }
    if (rc || !be->bucket || !be->region || !be->url_base || !be->endpoint) {
        rc = -ENOMEM;
        goto out;
    }
    n = strlen(be->endpoint);
    while (n > 8 && be->endpoint[n - 1] == '/')
        be->endpoint[--n] = '\0';
    buf_reset(&b);
    if (be->path_style) {
        rc = buf_appendf(&b, "%s/", be->endpoint);
        if (rc == 0)
            rc = url_encode_append(&b, be->bucket, false);
    } else {
        hostpart = strstr(be->endpoint, "://") + 3;
        rc = buf_append(&b, be->endpoint, (size_t)(hostpart - be->endpoint));
        if (rc == 0)
            rc = buf_appendf(&b, "%s.%s", be->bucket, hostpart);
    }
    if (rc == 0) {
        be->base = buf_take(&b);
        if (!be->base)
            rc = -ENOMEM;
    }
    if (rc)
        goto out;
    s->url_base = strdup(be->url_base);
    if (!s->url_base) {
        rc = -ENOMEM;
        goto out;
    }
    s->ops = &s3_ops;
    s->be = be;
    be->store = s;
    *out = s;
    s = NULL;
    be = NULL;
out:
    buf_free(&b);
    s3_op_free(be);
    if (s) {
        free(s->url_base);
        free(s);
    }
    return rc;
}
