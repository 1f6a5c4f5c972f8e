/* blob: the Azure Blob backend: store set-up, request plumbing and the simple operations. */
#include "blob/blob.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/http.h"
#include "core/log.h"
#include "core/objstore.h"
#include "core/url.h"

#define BLOB_KEY_MAX 256          /* decoded account key bytes (Azure's are 64) */
#define BLOB_URL_MAX (64u * 1024) /* a URL: 1,024-byte names triple when encoded */
#define BLOB_LIST_BODY_MAX (32u * 1024 * 1024)
#define BLOB_WHAT_MAX 1200
#define BLOB_DEL_THREADS 8

/* Backend state; read-only after blob_store_new, so shared by all threads. */
struct blob_be {
    struct http_client *hc; /* borrowed */
    char *account;
    char *container;
    char *endpoint; /* without trailing '/'; no query */
    char *sas;      /* query string without '?', or NULL */
    char *url_base; /* "az://container" */
    unsigned char key[BLOB_KEY_MAX];
    size_t keylen;
    bool use_key;    /* Shared Key; else SAS (or anonymous) */
    bool path_style; /* endpoint has a path: Azurite's /ACCOUNT form */
};

void blob_what(const struct blob_be *b, const char *key, char *out, size_t outlen)
{
    if (key && *key)
        snprintf(out, outlen, "%s/%s", b->url_base, key);
    else
        snprintf(out, outlen, "%s", b->url_base);
}

int blob_url(const struct blob_be *b, const char *key, const char *query, struct buf *out)
{
    int rc = buf_appendf(out, "%s/%s", b->endpoint, b->container);

    if (rc == 0 && key) {
        rc = buf_appends(out, "/");
        if (rc == 0)
            rc = url_encode_append(out, key, true);
    }
    if (rc == 0 && query && *query)
        rc = buf_appendf(out, "?%s", query);
    if (rc == 0 && b->sas)
        rc = buf_appendf(out, "%s%s", query && *query ? "&" : "?", b->sas);
    return rc;
}

/* http_do's signer: Shared Key, or nothing for SAS (the token is in the URL). */
static int blob_sign_cb(void *ud, const char *method, const char *url, struct http_hdrs *hdrs,
                        const void *body, size_t body_len)
{
    struct blob_be *b = ud;

    if (!b->use_key)
        return 0;
    return blob_sharedkey_sign(b->account, b->key, b->keylen, method, url, hdrs,
                               (unsigned long)body_len);
}

/* Wraps the caller's sink to tell its errors from transport errors. */
struct blob_sinkw {
    int (*sink)(const void *data, size_t n, void *ud);
    void *ud;
    int err;
};

static int blob_sink_wrap(const void *data, size_t n, void *ud)
{
    struct blob_sinkw *w = ud;
    int rc = w->sink(data, n, w->ud);

    if (rc != 0)
        w->err = rc;
    return rc;
}

int blob_call_allow(struct blob_be *b, const struct blob_call *c, const long *allow,
                    struct http_response *resp)
{
    struct http_request req;
    struct http_hdrs hdrs = {0};
    struct blob_sinkw w = {c->sink, c->sink_ud, 0};
    struct buf url;
    char what[BLOB_WHAT_MAX], logwhat[BLOB_WHAT_MAX + 16];
    int rc;

    buf_init(&url, BLOB_URL_MAX);
    blob_what(b, c->key, what, sizeof(what));
    snprintf(logwhat, sizeof(logwhat), "%s %s", c->method, what);
    rc = blob_url(b, c->key, c->query, &url);
    if (rc == 0 && c->hdrs)
        rc = http_hdrs_copy(&hdrs, c->hdrs);
    if (rc == 0)
        rc = http_hdrs_set(&hdrs, "x-ms-version", BLOB_API_VERSION);
    if (rc != 0) {
        rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "%s: cannot build the request: %s", what,
                          strerror(-rc));
        goto out;
    }
    memset(&req, 0, sizeof(req));
    req.method = c->method;
    req.url = url.data;
    req.hdrs = &hdrs;
    req.body = c->body;
    req.body_len = c->body_len;
    req.range_start = c->range_start;
    req.range_end = c->range_end;
    if (c->sink) {
        req.sink = blob_sink_wrap;
        req.sink_ud = &w;
    }
    req.body_max = c->body_max;
    req.idempotent = c->idempotent;
    req.sign = blob_sign_cb;
    req.sign_ud = b;
    req.what = logwhat;
    rc = http_do(b->hc, &req, resp);
    if (rc < 0 && w.err != 0 && rc == w.err) {
        rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "%s: reading stopped: %s", what,
                          strerror(-rc));
        goto out;
    }
    if (rc < 0) {
        rc = blob_map_error(c->op, what, b->endpoint, rc, resp);
        goto out;
    }
    if (resp->status >= 200 && resp->status < 300)
        goto out;
    for (; allow && *allow; allow++)
        if (resp->status == *allow)
            goto out;
    rc = blob_map_error(c->op, what, b->endpoint, 0, resp);
out:
    http_hdrs_free(&hdrs);
    buf_free(&url);
    return rc;
}

int blob_call(struct blob_be *b, const struct blob_call *c, struct http_response *resp)
{
    return blob_call_allow(b, c, NULL, resp);
}

void blob_call_init(struct blob_call *c, const char *method, int op, const char *key)
{
    memset(c, 0, sizeof(*c));
    c->method = method;
    c->op = op;
    c->key = key;
    c->range_start = -1;
    c->range_end = -1;
    c->idempotent = true;
}

/* A metadata name must be a C# identifier (Azure's rule: letters, digits, '_', not
 * starting with a digit). */
static bool blob_meta_name_ok(const char *k)
{
    if (!*k || isdigit((unsigned char)*k))
        return false;
    for (const char *p = k; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

/* A value must not break the header. */
static bool blob_meta_value_ok(const char *v)
{
    for (const char *p = v ? v : ""; *p; p++)
        if (*p == '\r' || *p == '\n')
            return false;
    return true;
}

/*
 * One user-metadata pair as x-ms-meta- headers. A name that is not a C# identifier
 * (S3 allows "content-id", "my.key") is stored the way AzCopy's RenameIfInvalid does:
 * each character other than a letter, digit or '_' becomes '_', giving N, and the pair
 * is stored as rename_N = value plus rename_key_N = the original name. blob_info_finish
 * turns such a pair back into the original name, so S3 -> Blob -> S3 keeps it.
 */
static int blob_meta_header(struct http_hdrs *h, const char *key, const char *value)
{
    char name[300], valid[260];
    size_t n = strlen(key);

    if (!blob_meta_value_ok(value) || n == 0 || n > 256)
        return os_error_set(-EINVAL, OSE_INVALID, 0, NULL, NULL,
                            "metadata name \"%.64s\" or its value cannot be stored in Azure "
                            "Blob metadata", key);
    if (blob_meta_name_ok(key)) {
        snprintf(name, sizeof(name), "x-ms-meta-%s", key);
        return http_hdrs_set(h, name, value ? value : "");
    }
    if (n > 245) /* "rename_key_" + N is a name too: at most 256 characters */
        return os_error_set(-EINVAL, OSE_INVALID, 0, NULL, NULL,
                            "metadata name \"%.64s...\" is not valid in Azure Blob metadata and "
                            "too long to store renamed", key);
    for (size_t i = 0; i <= n; i++)
        valid[i] = key[i] && !isalnum((unsigned char)key[i]) ? '_' : key[i];
    snprintf(name, sizeof(name), "x-ms-meta-rename_key_%s", valid);
    if (http_hdrs_get(h, name))
        return os_error_set(-EINVAL, OSE_INVALID, 0, NULL, NULL,
                            "metadata names \"%.64s\" and \"%.64s\" both become \"rename_%.64s\" "
                            "in Azure Blob metadata", http_hdrs_get(h, name), key, valid);
    if (http_hdrs_set(h, name, key) != 0)
        return -ENOMEM;
    snprintf(name, sizeof(name), "x-ms-meta-rename_%s", valid);
    return http_hdrs_set(h, name, value ? value : "");
}

int blob_put_headers(struct http_hdrs *h, const struct os_put_opts *o, bool with_type)
{
    char mt[64];
    size_t i;
    int rc = 0;

    if (with_type)
        rc = http_hdrs_set(h, "x-ms-blob-content-type",
                           o && o->content_type ? o->content_type : "application/octet-stream");
    for (i = 0; rc == 0 && o && i < o->n_meta; i++) {
        const struct os_meta *m = &o->meta[i];

        if (o->mtime && strcasecmp(m->key, "mtime") == 0)
            continue;
        rc = blob_meta_header(h, m->key ? m->key : "", m->value);
        if (rc == -EINVAL)
            return rc;
    }
    if (rc == 0 && o && o->mtime) {
        rc = os_mtime_format_az(o->mtime, mt, sizeof(mt));
        if (rc == 0)
            rc = http_hdrs_set(h, "x-ms-meta-mtime", mt);
    }
    if (rc != 0)
        rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "cannot build request headers: %s",
                          strerror(-rc));
    return rc;
}

/* Copies v without surrounding double quotes. */
static char *blob_unquote(const char *v)
{
    size_t n = strlen(v);

    if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
        return strndup(v + 1, n - 2);
    return strdup(v);
}

static int blob_parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || (*end && *end != ' '))
        return -EINVAL;
    *out = v;
    return 0;
}

void blob_put_result(const struct http_response *resp, struct os_put_result *r)
{
    const char *et = http_hdrs_get(&resp->hdrs, "ETag");
    const char *lm = http_hdrs_get(&resp->hdrs, "Last-Modified");
    char *u;

    if (!r)
        return;
    r->ok = false;
    if (!et || !lm || os_time_parse(lm, &r->last_modified) != 0)
        return;
    u = blob_unquote(et);
    if (u && *u && strlen(u) < sizeof(r->etag)) {
        memcpy(r->etag, u, strlen(u) + 1);
        r->ok = true;
    }
    free(u);
}

int blob_info_from_headers(const struct http_hdrs *h, const char *key, struct os_info *out)
{
    const char *v, *md5 = NULL;
    unsigned char raw[32];
    size_t i;
    int rc = -ENOMEM;

    memset(out, 0, sizeof(*out));
    out->key = strdup(key);
    if (!out->key)
        goto out;
    /* Content-Range "bytes 0-9/1234" (or "bytes * /1234" on a 416) has the total. */
    v = http_hdrs_get(h, "Content-Range");
    v = v ? strchr(v, '/') : NULL;
    if (!v || blob_parse_i64(v + 1, &out->size) != 0) {
        if (blob_parse_i64(http_hdrs_get(h, "Content-Length"), &out->size) != 0)
            out->size = 0;
    }
    v = http_hdrs_get(h, "ETag");
    out->etag = v ? blob_unquote(v) : NULL;
    if (v && !out->etag)
        goto out;
    v = http_hdrs_get(h, "Last-Modified");
    if (v)
        os_time_parse(v, &out->last_modified);
    v = http_hdrs_get(h, "Content-Type");
    out->content_type = v && *v ? strdup(v) : NULL;
    if (v && *v && !out->content_type)
        goto out;
    v = http_hdrs_get(h, "x-ms-access-tier");
    out->storage_class = v && *v ? strdup(v) : NULL;
    if (v && *v && !out->storage_class)
        goto out;
    out->archived = v && strcasecmp(v, "Archive") == 0;
    /* A ranged read carries the whole blob's MD5 in x-ms-blob-content-md5. */
    md5 = http_hdrs_get(h, "x-ms-blob-content-md5");
    if (!md5 && !http_hdrs_get(h, "Content-Range"))
        md5 = http_hdrs_get(h, "Content-MD5");
    if (md5 && crypto_base64_decode(md5, raw, sizeof(raw)) == CRYPTO_MD5_LEN) {
        memcpy(out->md5, raw, CRYPTO_MD5_LEN);
        out->has_md5 = true;
    }
    for (i = 0; i < h->n; i++) {
        if (strncasecmp(h->v[i].name, "x-ms-meta-", 10) != 0 || !h->v[i].name[10])
            continue;
        if (os_info_set_meta(out, h->v[i].name + 10, h->v[i].value) != 0)
            goto out;
    }
    blob_info_finish(out);
    rc = 0;
out:
    if (rc != 0) {
        os_info_clear(out);
        rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "out of memory");
    }
    return rc;
}

static int blob_discard(const void *data, size_t n, void *ud)
{
    (void)data;
    (void)n;
    (void)ud;
    return 0;
}

/* A 403 to HEAD has no body, and Azurite's code (AuthorizationFailure) does not
 * tell a bad key from a missing permission: ask again with a 1-byte GET, whose
 * error body says which. Returns the better mapped error. */
static int blob_head_403(struct blob_be *b, const char *key, const struct http_response *head)
{
    struct http_response resp;
    struct blob_call c;
    char what[BLOB_WHAT_MAX];
    int rc;

    http_response_init(&resp);
    blob_call_init(&c, "GET", BLOB_OP_HEAD, key);
    c.range_start = 0;
    c.range_end = 0;
    c.sink = blob_discard;
    rc = blob_call(b, &c, &resp);
    if (!(rc != 0 && resp.status == 403)) {
        blob_what(b, key, what, sizeof(what));
        rc = blob_map_error(BLOB_OP_HEAD, what, b->endpoint, 0, head);
    }
    http_response_free(&resp);
    return rc;
}

int blob_head(void *be, const char *key, struct os_info *out)
{
    struct blob_be *b = be;
    struct http_response resp;
    struct blob_call c;
    int rc;

    memset(out, 0, sizeof(*out));
    http_response_init(&resp);
    blob_call_init(&c, "HEAD", BLOB_OP_HEAD, key);
    rc = blob_call(b, &c, &resp);
    if (rc == -EACCES && resp.status == 403 && os_last_error()->kind == OSE_ACCESS_DENIED)
        rc = blob_head_403(b, key, &resp);
    if (rc == 0)
        rc = blob_info_from_headers(&resp.hdrs, key, out);
    http_response_free(&resp);
    return rc;
}

static int blob_get_range(void *be, const char *key, int64_t off, int64_t len,
                          int (*sink)(const void *data, size_t n, void *ud), void *ud,
                          struct os_info *info_out)
{
    static const long allow[] = {416, 0};
    struct blob_be *b = be;
    struct http_response resp;
    struct blob_call c;
    int rc;

    if (info_out)
        memset(info_out, 0, sizeof(*info_out));
    if (off < 0)
        return os_error_set(-EINVAL, OSE_LOCAL, 0, NULL, NULL, "negative read offset");
    if (len == 0)
        return info_out ? blob_head(be, key, info_out) : 0;
    http_response_init(&resp);
    blob_call_init(&c, "GET", BLOB_OP_GET, key);
    /* No Range for a whole read: Azure answers 416 to "bytes=0-" on an empty blob. */
    if (off > 0 || len > 0) {
        c.range_start = off;
        c.range_end = len > 0 ? off + len - 1 : -1;
    }
    c.sink = sink;
    c.sink_ud = ud;
    rc = blob_call_allow(b, &c, allow, &resp);
    /* 416: the range starts at or past the end; that is end of file, not an error. */
    if (rc == 0 && info_out && resp.status == 416 && !http_hdrs_get(&resp.hdrs, "Content-Range"))
        rc = blob_head(be, key, info_out);
    else if (rc == 0 && info_out)
        rc = blob_info_from_headers(&resp.hdrs, key, info_out);
    http_response_free(&resp);
    return rc;
}

static int blob_put(void *be, const char *key, const void *data, size_t len,
                    const struct os_put_opts *o)
{
    struct blob_be *b = be;
    unsigned char md5[CRYPTO_MD5_LEN];
    char b64[CRYPTO_B64_SIZE(CRYPTO_MD5_LEN)], stored[CRYPTO_B64_SIZE(CRYPTO_MD5_LEN)];
    struct http_hdrs h = {0};
    struct http_response resp;
    struct blob_call c;
    int rc;

    http_response_init(&resp);
    crypto_md5(data, len, md5);
    crypto_base64_encode(md5, sizeof(md5), b64);
    crypto_base64_encode(o && o->md5 ? o->md5 : md5, CRYPTO_MD5_LEN, stored);
    rc = blob_put_headers(&h, o, true);
    if (rc != 0)
        goto out;
    if (http_hdrs_set(&h, "x-ms-blob-type", "BlockBlob") != 0 ||
        http_hdrs_set(&h, "Content-MD5", b64) != 0 ||
        http_hdrs_set(&h, "x-ms-blob-content-md5", stored) != 0) {
        rc = os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
        goto out;
    }
    blob_call_init(&c, "PUT", BLOB_OP_PUT, key);
    c.hdrs = &h;
    c.body = data;
    c.body_len = len;
    rc = blob_call(b, &c, &resp);
    if (rc == 0 && o)
        blob_put_result(&resp, o->result);
out:
    http_response_free(&resp);
    http_hdrs_free(&h);
    return rc;
}

/* Appends "&name=encoded(value)" when value is set. */
static int blob_query_add(struct buf *q, const char *name, const char *value)
{
    int rc;

    if (!value)
        return 0;
    rc = buf_appendf(q, "&%s=", name);
    if (rc == 0)
        rc = url_encode_append(q, value, false);
    return rc;
}

static int blob_list_page(void *be, const char *prefix, const char *delim, const char *token,
                          int max_keys, struct os_list_page *out)
{
    struct blob_be *b = be;
    struct http_response resp;
    struct blob_call c;
    struct buf q;
    char what[BLOB_WHAT_MAX];
    int rc;

    memset(out, 0, sizeof(*out));
    http_response_init(&resp);
    buf_init(&q, BLOB_URL_MAX);
    blob_what(b, prefix, what, sizeof(what));
    rc = buf_appends(&q, "restype=container&comp=list&include=metadata");
    if (rc == 0)
        rc = blob_query_add(&q, "prefix", prefix && *prefix ? prefix : NULL);
    if (rc == 0)
        rc = blob_query_add(&q, "delimiter", delim && *delim ? delim : NULL);
    if (rc == 0)
        rc = blob_query_add(&q, "marker", token && *token ? token : NULL);
    if (rc == 0 && max_keys > 0)
        rc = buf_appendf(&q, "&maxresults=%d", max_keys > 5000 ? 5000 : max_keys);
    if (rc != 0) {
        rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "%s: cannot build the listing request",
                          what);
        goto out;
    }
    blob_call_init(&c, "GET", BLOB_OP_LIST, NULL);
    c.query = q.data;
    c.body_max = BLOB_LIST_BODY_MAX;
    rc = blob_call(b, &c, &resp);
    if (rc == 0)
        rc = blob_list_parse(resp.body.data, resp.body.len, what, out);
out:
    buf_free(&q);
    http_response_free(&resp);
    return rc;
}

/* The service error code of an answer (x-ms-error-code, else the XML body). */
static void blob_resp_code(const struct http_response *resp, char *code, size_t codelen)
{
    const char *h = http_hdrs_get(&resp->hdrs, "x-ms-error-code");
    char msg[8];

    if (h) {
        snprintf(code, codelen, "%s", h);
        return;
    }
    if (blob_error_parse(resp->body.data, resp->body.len, code, codelen, msg, sizeof(msg)) != 0)
        code[0] = '\0';
}

int blob_del(void *be, const char *key)
{
    static const long allow[] = {404, 0};
    struct blob_be *b = be;
    struct http_response resp;
    struct blob_call c;
    char code[64], what[BLOB_WHAT_MAX];
    int rc;

    http_response_init(&resp);
    blob_call_init(&c, "DELETE", BLOB_OP_DELETE, key);
    rc = blob_call_allow(b, &c, allow, &resp);
    if (rc == 0 && resp.status == 404) {
        /* Absent blob: deleted. Absent container: an error. */
        blob_resp_code(&resp, code, sizeof(code));
        if (strcasecmp(code, "ContainerNotFound") == 0) {
            blob_what(b, key, what, sizeof(what));
            rc = blob_map_error(BLOB_OP_DELETE, what, b->endpoint, 0, &resp);
        }
    }
    http_response_free(&resp);
    return rc;
}

/* del_many: a few threads deleting one blob each from a shared index. */
struct blob_delq {
    struct blob_be *b;
    const char *const *keys;
    size_t n;
    int *failed;
    pthread_mutex_t lock;
    size_t next;
    size_t first_idx;      /* index of the first failure, n when none */
    struct os_error first; /* its error detail */
};

static void *blob_del_worker(void *arg)
{
    struct blob_delq *q = arg;

    for (;;) {
        size_t i;
        int rc;

        pthread_mutex_lock(&q->lock);
        i = q->next++;
        pthread_mutex_unlock(&q->lock);
        if (i >= q->n)
            break;
        rc = blob_del(q->b, q->keys[i]);
        if (q->failed)
            q->failed[i] = rc;
        if (rc != 0) {
            pthread_mutex_lock(&q->lock);
            if (i < q->first_idx) {
                q->first_idx = i;
                q->first = *os_last_error();
            }
            pthread_mutex_unlock(&q->lock);
        }
    }
    return NULL;
}

static int blob_del_many(void *be, const char *const *keys, size_t n, int *failed)
{
    struct blob_delq q;
    pthread_t th[BLOB_DEL_THREADS];
    size_t nth = n / 4 + 1, started = 0, i;

    memset(&q, 0, sizeof(q));
    q.b = be;
    q.keys = keys;
    q.n = n;
    q.failed = failed;
    q.first_idx = n;
    pthread_mutex_init(&q.lock, NULL);
    if (nth > BLOB_DEL_THREADS)
        nth = BLOB_DEL_THREADS;
    for (i = 1; i < nth; i++)
        if (pthread_create(&th[started], NULL, blob_del_worker, &q) == 0)
            started++;
    blob_del_worker(&q); /* this thread works too, so one thread always runs */
    for (i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&q.lock);
    if (q.first_idx == n)
        return 0;
    return os_error_set(q.first.err, q.first.kind, q.first.http_status, q.first.code,
                        q.first.request_id, "%s", q.first.message);
}

static int blob_mkdir(void *be, const char *dir)
{
    struct blob_be *b = be;
    struct http_hdrs h = {0};
    struct http_response resp;
    struct blob_call c;
    char *name;
    size_t n;
    int rc;

    name = strdup(dir);
    if (!name)
        return os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
    n = strlen(name);
    while (n > 0 && name[n - 1] == '/')
        name[--n] = '\0';
    if (n == 0) {
        free(name);
        return os_error_set(-EINVAL, OSE_LOCAL, 0, NULL, NULL, "empty directory name");
    }
    http_response_init(&resp);
    if (http_hdrs_set(&h, "x-ms-blob-type", "BlockBlob") != 0 ||
        http_hdrs_set(&h, "x-ms-meta-hdi_isfolder", "true") != 0) {
        rc = os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
        goto out;
    }
    blob_call_init(&c, "PUT", BLOB_OP_MKDIR, name);
    c.hdrs = &h;
    rc = blob_call(b, &c, &resp);
out:
    http_response_free(&resp);
    http_hdrs_free(&h);
    free(name);
    return rc;
}

static int blob_mkbucket(void *be)
{
    struct blob_be *b = be;
    struct http_response resp;
    struct blob_call c;
    int rc;

    http_response_init(&resp);
    blob_call_init(&c, "PUT", BLOB_OP_MKBUCKET, NULL);
    c.query = "restype=container";
    /* A retry after a lost answer would see ContainerAlreadyExists: do not repeat. */
    c.idempotent = false;
    rc = blob_call(b, &c, &resp);
    http_response_free(&resp);
    return rc;
}

static int blob_check(void *be)
{
    struct blob_be *b = be;
    struct http_response resp;
    struct blob_call c;
    int rc;

    /* A listing works with Shared Key and with a container SAS that may list. */
    http_response_init(&resp);
    blob_call_init(&c, "GET", BLOB_OP_CHECK, NULL);
    c.query = "restype=container&comp=list&maxresults=1";
    c.body_max = 1024 * 1024;
    rc = blob_call(b, &c, &resp);
    http_response_free(&resp);
    return rc;
}

static void blob_be_free(void *be)
{
    struct blob_be *b = be;

    if (!b)
        return;
    free(b->account);
    free(b->container);
    free(b->endpoint);
    free(b->sas);
    free(b->url_base);
    memset(b->key, 0, sizeof(b->key));
    free(b);
}

static const struct os_ops blob_ops = {
    .name = "blob",
    .head = blob_head,
    .get_range = blob_get_range,
    .put = blob_put,
    .mp_begin = blob_mp_begin,
    .mp_part = blob_mp_part,
    .mp_commit = blob_mp_commit,
    .mp_abort = blob_mp_abort,
    .part_size = blob_op_part_size,
    .max_parts = BLOB_MAX_BLOCKS,
    .list_page = blob_list_page,
    .del = blob_del,
    .del_many = blob_del_many,
    .copy = blob_copy,
    .set_meta = blob_set_meta,
    .mkdir = blob_mkdir,
    .mkbucket = blob_mkbucket,
    .check = blob_check,
    .free = blob_be_free,
};

/* True when the endpoint URL has a path after the host (Azurite's /ACCOUNT). */
static bool blob_endpoint_has_path(const char *ep)
{
    const char *p = strstr(ep, "://");

    p = p ? p + 3 : ep;
    p = strchr(p, '/');
    return p && p[1];
}

int blob_store_new(struct http_client *hc, const struct blob_config *c, struct os_store **out)
{
    struct blob_be *b = NULL;
    struct os_store *s = NULL;
    struct buf ep;
    long n;
    int rc = -ENOMEM;

    *out = NULL;
    buf_init(&ep, 4096);
    if (!c || !c->account || !*c->account || !c->container || !*c->container)
        return os_error_set(-EINVAL, OSE_LOCAL, 0, NULL, NULL,
                            "Azure Blob: an account and a container are needed");
    b = calloc(1, sizeof(*b));
    s = calloc(1, sizeof(*s));
    if (!b || !s)
        goto out;
    b->hc = hc;
    if (c->endpoint && *c->endpoint)
        rc = buf_appends(&ep, c->endpoint);
    else
        rc = buf_appendf(&ep, "https://%s.blob.core.windows.net", c->account);
    if (rc != 0)
        goto out;
    while (ep.len > 0 && ep.data[ep.len - 1] == '/')
        ep.data[--ep.len] = '\0';
    if (strchr(ep.data, '?')) {
        rc = os_error_set(-EINVAL, OSE_LOCAL, 0, NULL, NULL,
                          "Azure Blob: the endpoint must not carry a query string");
        goto out;
    }
    b->endpoint = buf_take(&ep);
    b->account = strdup(c->account);
    b->container = strdup(c->container);
    if (c->url_base)
        b->url_base = strdup(c->url_base);
    else if (asprintf(&b->url_base, "az://%s", c->container) < 0)
        b->url_base = NULL;
    s->url_base = b->url_base ? strdup(b->url_base) : NULL;
    rc = -ENOMEM;
    if (!b->endpoint || !b->account || !b->container || !b->url_base || !s->url_base)
        goto out;
    b->path_style = blob_endpoint_has_path(b->endpoint);
    if (c->key && *c->key) {
        log_add_secret(c->key);
        n = crypto_base64_decode(c->key, b->key, sizeof(b->key));
        if (n <= 0) {
            rc = os_error_set(-EINVAL, OSE_BAD_CREDENTIALS, 0, NULL, NULL,
                              "Azure Blob: the account key of %s is not valid base64", c->account);
            goto out;
        }
        b->keylen = (size_t)n;
        b->use_key = true;
    } else if (c->sas && *c->sas) {
        const char *sas = c->sas[0] == '?' ? c->sas + 1 : c->sas;
        const char *sig = strstr(sas, "sig=");

        b->sas = strdup(sas);
        if (!b->sas)
            goto out;
        if (sig) {
            char *v = strndup(sig + 4, strcspn(sig + 4, "&"));

            if (v)
                log_add_secret(v);
            free(v);
        }
    }
    s->ops = &blob_ops;
    s->be = b;
    log_debug("blob: store %s on %s (%s, %s)", b->url_base, b->endpoint,
              b->path_style ? "path-style" : "host-style",
              b->use_key ? "Shared Key"
              : b->sas   ? "SAS"
                         : "anonymous");
    *out = s;
    return 0;
out:
    if (rc == -ENOMEM)
        rc = os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
    buf_free(&ep);
    blob_be_free(b);
    if (s)
        free(s->url_base);
    free(s);
    return rc;
}
