/* s3_mp: S3 multipart upload, server-side copy (single and UploadPartCopy), metadata and batch
 * delete. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/http.h"
#include "core/log.h"
#include "core/objstore.h"
#include "core/url.h"
#include "s3/s3.h"
#include "s3/s3_int.h"

#define MIB ((int64_t)1 << 20)
#define S3_QUERY_MAX (8u * 1024)
/* CompleteMultipartUpload for 10,000 parts is about 1 MiB of XML. */
#define S3_COMPLETE_BODY_MAX ((size_t)4 << 20)

struct s3_part {
    char *etag; /* as returned, quotes included; NULL until uploaded */
    int64_t size;
};

/* A multipart upload in progress. parts[] is shared by uploader threads: lock guards it. */
struct os_upload {
    char *key;
    char *upload_id;
    pthread_mutex_t lock;
    struct s3_part *parts; /* [partno - 1]; guarded by lock */
    int n_parts;           /* highest part number seen; guarded by lock */
    /* What the object was created with, for the CopyObject that stores an MD5 known
     * only at commit. */
    char *content_type;
    struct os_meta *meta;
    size_t n_meta;
    bool has_mtime;
    struct timespec mtime;
    bool has_md5; /* md5chksum sent at begin */
    unsigned char md5[16];
};

size_t s3_part_size(int64_t total_size, int partno)
{
    int64_t p;
    int step;

    if (total_size >= 0) {
        p = (total_size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
        p = (p + MIB - 1) / MIB * MIB;
        if (p < (int64_t)S3_MIN_PART)
            p = (int64_t)S3_MIN_PART;
    } else {
        /* 8 MiB for parts 1-1000, doubling every 1000 parts: 10,000 parts reach ~7.8 TiB. */
        step = partno > 0 ? (partno - 1) / 1000 : 0;
        p = step >= 10 ? S3_MAX_SINGLE : (int64_t)S3_MIN_PART << step;
    }
    if (p > S3_MAX_SINGLE)
        p = S3_MAX_SINGLE;
    return (size_t)p;
}

size_t s3_op_part_size(void *vbe, int64_t total_size, int partno)
{
    (void)vbe;
    return s3_part_size(total_size, partno);
}

static int s3_nomem(void)
{
    return os_error_set(-ENOMEM, OSE_LOCAL, 0, "", "", "out of memory");
}

static void s3_upload_free(struct os_upload *u)
{
    int i;
    size_t k;

    if (!u)
        return;
    for (i = 0; i < u->n_parts; i++)
        free(u->parts[i].etag);
    free(u->parts);
    for (k = 0; k < u->n_meta; k++) {
        free(u->meta[k].key);
        free(u->meta[k].value);
    }
    free(u->meta);
    free(u->content_type);
    free(u->key);
    free(u->upload_id);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

/* Keeps a copy of the object's metadata in u. 0 or -ENOMEM. */
static int s3_upload_keep_opts(struct os_upload *u, const struct os_put_opts *o)
{
    size_t k;

    if (!o)
        return 0;
    if (o->content_type) {
        u->content_type = strdup(o->content_type);
        if (!u->content_type)
            return -ENOMEM;
    }
    if (o->mtime) {
        u->has_mtime = true;
        u->mtime = *o->mtime;
    }
    if (o->n_meta) {
        u->meta = calloc(o->n_meta, sizeof(*u->meta));
        if (!u->meta)
            return -ENOMEM;
        for (k = 0; k < o->n_meta; k++) {
            u->meta[k].key = strdup(o->meta[k].key ? o->meta[k].key : "");
            u->meta[k].value = strdup(o->meta[k].value ? o->meta[k].value : "");
            u->n_meta++;
            if (!u->meta[k].key || !u->meta[k].value)
                return -ENOMEM;
        }
    }
    return 0;
}

/* "uploadId=ID" (and "partNumber=N&" before it when partno > 0) into q. */
static int s3_upload_query(struct buf *q, const struct os_upload *u, int partno)
{
    int rc = 0;

    if (partno > 0)
        rc = buf_appendf(q, "partNumber=%d&", partno);
    if (rc == 0)
        rc = buf_appends(q, "uploadId=");
    if (rc == 0)
        rc = url_encode_append(q, u->upload_id, false);
    return rc;
}

int s3_op_mp_begin(void *vbe, const char *key, const struct os_put_opts *o, struct os_upload **out)
{
    struct s3_be *be = vbe;
    struct http_response resp;
    struct os_upload *u = NULL;
    struct s3_call c;
    char md5b64[CRYPTO_B64_SIZE(16)], why[256];
    int rc;

    *out = NULL;
    http_response_init(&resp);
    s3_call_init(&c, "POST", key, "uploads");
    u = calloc(1, sizeof(*u));
    if (!u) {
        rc = s3_nomem();
        goto out;
    }
    pthread_mutex_init(&u->lock, NULL);
    u->key = strdup(key);
    rc = u->key ? s3_upload_keep_opts(u, o) : -ENOMEM;
    if (rc == 0 && o && o->md5) {
        u->has_md5 = true;
        memcpy(u->md5, o->md5, 16);
        crypto_base64_encode(o->md5, 16, md5b64);
    }
    if (rc == 0)
        rc = s3_add_put_headers(&c.hdrs, o, u->has_md5 ? md5b64 : NULL);
    if (rc) {
        rc = rc == -EINVAL
                 ? os_error_set(-EINVAL, OSE_LOCAL, 0, "", "",
                                "CreateMultipartUpload on %s/%s: metadata cannot be sent as HTTP "
                                "headers",
                                be->url_base, key)
                 : s3_nomem();
        goto out;
    }
    c.sign_body = true;
    c.idempotent = false;
    rc = s3_exec(be, S3_OP_MP_BEGIN, &c, &resp);
    if (rc)
        goto out;
    rc = s3_xml_parse_upload_id(resp.body.data, resp.body.len, &u->upload_id, why, sizeof(why));
    if (rc) {
        rc = rc == -ENOMEM ? s3_nomem()
                           : s3_protocol_error(be, S3_OP_MP_BEGIN, key, resp.status, why);
        goto out;
    }
    log_debug("s3: multipart upload of %s/%s started", be->url_base, key);
    *out = u;
    u = NULL;
out:
    s3_upload_free(u);
    s3_call_free(&c);
    http_response_free(&resp);
    return rc;
}

/* Records part partno's ETag (taken, malloc'd) and size under the lock. 0 or -ENOMEM. */
static int s3_upload_set_part(struct os_upload *u, int partno, char *etag, int64_t size)
{
    int rc = 0;

    pthread_mutex_lock(&u->lock);
    if (partno > u->n_parts) {
        struct s3_part *np = realloc(u->parts, (size_t)partno * sizeof(*np));

        if (!np) {
            rc = -ENOMEM;
            goto out;
        }
        memset(np + u->n_parts, 0, (size_t)(partno - u->n_parts) * sizeof(*np));
        u->parts = np;
        u->n_parts = partno;
    }
    free(u->parts[partno - 1].etag);
    u->parts[partno - 1].etag = etag;
    u->parts[partno - 1].size = size;
    etag = NULL;
out:
    pthread_mutex_unlock(&u->lock);
    free(etag);
    return rc;
}

int s3_op_mp_part(void *vbe, struct os_upload *u, int partno, const void *data, size_t len)
{
    struct s3_be *be = vbe;
    struct http_response resp;
    struct s3_call c;
    struct buf q;
    unsigned char m[16];
    char md5b64[CRYPTO_B64_SIZE(16)];
    const char *etag;
    char *et;
    int rc;

    if (partno < 1 || partno > S3_MAX_PARTS || (int64_t)len > S3_MAX_SINGLE)
        return os_error_set(-EINVAL, OSE_LOCAL, 0, "", "",
                            "UploadPart on %s/%s: part %d of %zu bytes is outside S3's limits "
                            "(parts 1-10000, at most 5 GiB each)",
                            be->url_base, u->key, partno, len);
    http_response_init(&resp);
    buf_init(&q, S3_QUERY_MAX);
    rc = s3_upload_query(&q, u, partno);
    s3_call_init(&c, "PUT", u->key, buf_str(&q));
    crypto_md5(data ? data : "", len, m);
    crypto_base64_encode(m, 16, md5b64);
    if (rc == 0)
        rc = http_hdrs_set(&c.hdrs, "Content-MD5", md5b64);
    if (rc) {
        rc = s3_nomem();
        goto out;
    }
    c.body = data;
    c.body_len = len;
    rc = s3_exec(be, S3_OP_MP_PART, &c, &resp);
    if (rc)
        goto out;
    etag = http_hdrs_get(&resp.hdrs, "ETag");
    if (!etag || !*etag) {
        rc = s3_protocol_error(be, S3_OP_MP_PART, u->key, resp.status,
                               "UploadPart answer without an ETag");
        goto out;
    }
    et = strdup(etag);
    rc = et ? s3_upload_set_part(u, partno, et, (int64_t)len) : -ENOMEM;
    if (rc)
        rc = s3_nomem();
out:
    s3_call_free(&c);
    buf_free(&q);
    http_response_free(&resp);
    return rc;
}

static void s3_abort_upload(struct s3_be *be, struct os_upload *u)
{
    struct http_response resp;
    struct s3_call c;
    struct buf q;
    struct os_error saved = *os_last_error();
    int rc;

    http_response_init(&resp);
    buf_init(&q, S3_QUERY_MAX);
    rc = s3_upload_query(&q, u, 0);
    s3_call_init(&c, "DELETE", u->key, buf_str(&q));
    if (rc == 0)
        rc = s3_send(be, S3_OP_MP_ABORT, &c, &resp);
    if (rc == 0 && !s3_ok(resp.status) && resp.status != 404)
        rc = s3_map_error(be->store, S3_OP_MP_ABORT, u->key, 0, &resp);
    if (rc)
        log_warn("could not abort the multipart upload of %s/%s (its parts stay stored until a "
                 "lifecycle rule removes them): %s",
                 be->url_base, u->key, os_last_error()->message);
    s3_call_free(&c);
    buf_free(&q);
    http_response_free(&resp);
    /* Keep the caller's error, not the abort's. */
    os_error_set(saved.err, saved.kind, saved.http_status, saved.code, saved.request_id, "%s",
                 saved.message);
}

void s3_op_mp_abort(void *vbe, struct os_upload *u)
{
    if (!u)
        return;
    s3_abort_upload(vbe, u);
    s3_upload_free(u);
}

/* True when the object now at key is what this upload completed (a retried Complete). */
static bool s3_completed_already(struct s3_be *be, const struct os_upload *u, int n)
{
    struct os_info info;
    char suffix[16];
    bool ok = false;
    size_t sl, el;

    if (s3_op_head(be, u->key, &info) != 0)
        return false;
    snprintf(suffix, sizeof(suffix), "-%d", n);
    sl = strlen(suffix);
    el = info.etag ? strlen(info.etag) : 0;
    ok = el > sl && strcmp(info.etag + el - sl, suffix) == 0;
    os_info_clear(&info);
    return ok;
}

/* The CopyObject that stores an MD5 learnt only at commit. */
static int s3_store_md5_after(struct s3_be *be, struct os_upload *u, const unsigned char *md5,
                              int64_t total);

int s3_op_mp_commit(void *vbe, struct os_upload *u, const unsigned char *md5)
{
    struct s3_be *be = vbe;
    struct http_response resp;
    struct s3_xml_error e;
    struct s3_call c;
    struct buf q, body;
    char **etags = NULL, *etag = NULL, why[256];
    int64_t total = 0;
    int i, n, rc;

    http_response_init(&resp);
    buf_init(&q, S3_QUERY_MAX);
    buf_init(&body, S3_COMPLETE_BODY_MAX);
    s3_call_init(&c, "POST", u->key, NULL);
    if (md5 && u->has_md5 && memcmp(md5, u->md5, 16) != 0) {
        rc = os_error_set(-EIO, OSE_LOCAL, 0, "", "",
                          "CompleteMultipartUpload on %s/%s: the data uploaded does not match the "
                          "MD5 given when the upload began",
                          be->url_base, u->key);
        goto fail;
    }
    if (u->n_parts == 0) {
        /* S3 wants at least one part: an empty object is one empty part. */
        rc = s3_op_mp_part(be, u, 1, "", 0);
        if (rc)
            goto fail;
    }
    pthread_mutex_lock(&u->lock);
    n = u->n_parts;
    etags = calloc((size_t)n, sizeof(*etags));
    for (i = 0; etags && i < n; i++) {
        etags[i] = u->parts[i].etag;
        total += u->parts[i].size;
    }
    pthread_mutex_unlock(&u->lock);
    if (!etags) {
        rc = s3_nomem();
        goto fail;
    }
    for (i = 0; i < n; i++) {
        if (!etags[i]) {
            rc = os_error_set(-EINVAL, OSE_LOCAL, 0, "", "",
                              "CompleteMultipartUpload on %s/%s: part %d of %d was never uploaded",
                              be->url_base, u->key, i + 1, n);
            goto fail;
        }
    }
    rc = s3_upload_query(&q, u, 0);
    if (rc == 0)
        rc = s3_xml_build_complete(&body, etags, (size_t)n);
    if (rc == 0)
        rc = http_hdrs_set(&c.hdrs, "Content-Type", "application/xml");
    if (rc) {
        rc = s3_nomem();
        goto fail;
    }
    c.query = buf_str(&q);
    c.body = body.data;
    c.body_len = body.len;
    c.sign_body = true;
    rc = s3_send(be, S3_OP_MP_COMMIT, &c, &resp);
    if (rc)
        goto fail;
    if (!s3_ok(resp.status)) {
        rc = s3_map_error(be->store, S3_OP_MP_COMMIT, u->key, 0, &resp);
        if (resp.attempts > 1 && strcmp(os_last_error()->code, "NoSuchUpload") == 0 &&
            s3_completed_already(be, u, n))
            rc = 0;
        if (rc)
            goto fail;
    } else {
        /* A 200 may still carry an <Error> (the failure came after the headers). */
        rc = s3_xml_parse_etag_result(resp.body.data, resp.body.len, &etag, &e, why, sizeof(why));
        if (rc == 1)
            rc = s3_map_code(be, S3_OP_MP_COMMIT, u->key, resp.status, &e);
        else if (rc == -ENOMEM)
            rc = s3_nomem();
        else if (rc)
            rc = s3_protocol_error(be, S3_OP_MP_COMMIT, u->key, resp.status, why);
        if (rc)
            goto fail;
    }
    log_debug("s3: multipart upload of %s/%s completed: %d parts, %" PRId64 " bytes, ETag %s",
              be->url_base, u->key, n, total, etag ? etag : "?");
    if (md5 && !u->has_md5)
        rc = s3_store_md5_after(be, u, md5, total);
    goto out;
fail:
    s3_abort_upload(be, u);
out:
    free(etags);
    free(etag);
    s3_call_free(&c);
    buf_free(&q);
    buf_free(&body);
    http_response_free(&resp);
    s3_upload_free(u);
    return rc;
}

/* ---- copy ---- */

/* x-amz-copy-source: /BUCKET/KEY url-encoded. */
static int s3_copy_source(const struct s3_be *be, const char *src, struct http_hdrs *h)
{
    struct buf b;
    int rc;

    buf_init(&b, 64 * 1024);
    rc = buf_appends(&b, "/");
    if (rc == 0)
        rc = url_encode_append(&b, be->bucket, false);
    if (rc == 0)
        rc = buf_appends(&b, "/");
    if (rc == 0)
        rc = url_encode_append(&b, src, true);
    if (rc == 0)
        rc = http_hdrs_set(h, "x-amz-copy-source", buf_str(&b));
    buf_free(&b);
    return rc;
}

/* Parses a copy result (may be a 200 with <Error>); the ETag, malloc'd, into *etag when non-NULL.
 */
static int s3_copy_result(struct s3_be *be, int op, const char *key, struct http_response *resp,
                          char **etag)
{
    struct s3_xml_error e;
    char why[256], *et = NULL;
    int rc;

    rc = s3_xml_parse_etag_result(resp->body.data, resp->body.len, &et, &e, why, sizeof(why));
    if (rc == 1)
        rc = s3_map_code(be, op, key, resp->status, &e);
    else if (rc == -ENOMEM)
        rc = s3_nomem();
    else if (rc)
        rc = s3_protocol_error(be, op, key, resp->status, why);
    else if (!et || !*et)
        rc = s3_protocol_error(be, op, key, resp->status, "copy result without an ETag");
    if (rc == 0 && etag) {
        *etag = et;
        et = NULL;
    }
    free(et);
    return rc;
}

/* A single CopyObject (source at most 5 GiB). o NULL: metadata directive COPY. */
static int s3_copy_single(struct s3_be *be, int op, const char *src, const char *dst,
                          const struct os_put_opts *o, const char *md5chksum)
{
    struct http_response resp;
    struct s3_call c;
    int rc;

    http_response_init(&resp);
    s3_call_init(&c, "PUT", dst, NULL);
    rc = s3_copy_source(be, src, &c.hdrs);
    if (rc == 0)
        rc = http_hdrs_set(&c.hdrs, "x-amz-metadata-directive", o ? "REPLACE" : "COPY");
    if (rc == 0 && o)
        rc = s3_add_put_headers(&c.hdrs, o, md5chksum);
    if (rc) {
        rc = rc == -EINVAL ? os_error_set(-EINVAL, OSE_LOCAL, 0, "", "",
                                          "%s on %s/%s: metadata cannot be sent as HTTP headers",
                                          s3_op_name(op), be->url_base, dst)
                           : s3_nomem();
        goto out;
    }
    c.sign_body = true;
    rc = s3_exec(be, op, &c, &resp);
    if (rc == 0)
        rc = s3_copy_result(be, op, dst, &resp, NULL);
out:
    s3_call_free(&c);
    http_response_free(&resp);
    return rc;
}

/* UploadPartCopy of bytes [start, end] of src into part partno of u. */
static int s3_copy_part(struct s3_be *be, struct os_upload *u, int partno, const char *src,
                        int64_t start, int64_t end)
{
    struct http_response resp;
    struct s3_call c;
    struct buf q;
    char range[64], *etag = NULL;
    int rc;

    http_response_init(&resp);
    buf_init(&q, S3_QUERY_MAX);
    rc = s3_upload_query(&q, u, partno);
    s3_call_init(&c, "PUT", u->key, buf_str(&q));
    snprintf(range, sizeof(range), "bytes=%" PRId64 "-%" PRId64, start, end);
    if (rc == 0)
        rc = s3_copy_source(be, src, &c.hdrs);
    if (rc == 0)
        rc = http_hdrs_set(&c.hdrs, "x-amz-copy-source-range", range);
    if (rc) {
        rc = s3_nomem();
        goto out;
    }
    c.sign_body = true;
    rc = s3_exec(be, S3_OP_COPY, &c, &resp);
    if (rc == 0)
        rc = s3_copy_result(be, S3_OP_COPY, u->key, &resp, &etag);
    if (rc == 0) {
        /* The Complete body wants the ETag quoted. */
        char *q2 = malloc(strlen(etag) + 3);

        if (q2)
            sprintf(q2, "\"%s\"", etag);
        rc = q2 ? s3_upload_set_part(u, partno, q2, end - start + 1) : -ENOMEM;
        if (rc)
            rc = s3_nomem();
    }
out:
    free(etag);
    s3_call_free(&c);
    buf_free(&q);
    http_response_free(&resp);
    return rc;
}

/* Options describing src's metadata (borrowed from info): what a COPY directive would keep. */
static void s3_opts_from_info(const struct os_info *info, struct os_put_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->content_type = info->content_type;
    o->meta = info->meta;
    o->n_meta = info->n_meta;
}

/* Copies src (described by info) to dst: single CopyObject up to 5 GiB, else UploadPartCopy. */
static int s3_copy_info(struct s3_be *be, int op, const char *src, const char *dst,
                        const struct os_info *info, const struct os_put_opts *o)
{
    struct os_put_opts mo;
    struct os_upload *u = NULL;
    const char *md5chksum = NULL;
    int64_t off, ps;
    int partno, rc;

    if (o) {
        /* Replacing metadata keeps the content type unless given, and the stored MD5 (same bytes).
         */
        mo = *o;
        if (!mo.content_type)
            mo.content_type = info->content_type;
        md5chksum = os_info_meta(info, "md5chksum");
        o = &mo;
    }
    if (info->size <= be->copy_single_max)
        return s3_copy_single(be, op, src, dst, o, md5chksum);
    if (!o) {
        /* Multipart copies do not copy metadata: carry the source's (md5chksum included). */
        s3_opts_from_info(info, &mo);
        o = &mo;
    } else if (!mo.md5 && info->has_md5) {
        mo.md5 = info->md5;
    }
    rc = s3_op_mp_begin(be, dst, o, &u);
    if (rc)
        return rc;
    ps = (int64_t)s3_part_size(info->size, 1);
    for (off = 0, partno = 1; off < info->size && rc == 0; off += ps, partno++) {
        int64_t end = off + ps > info->size ? info->size - 1 : off + ps - 1;

        rc = s3_copy_part(be, u, partno, src, off, end);
    }
    if (rc) {
        s3_op_mp_abort(be, u);
        return rc;
    }
    return s3_op_mp_commit(be, u, NULL);
}

int s3_op_copy(void *vbe, const char *src_key, const char *dst_key, const struct os_put_opts *o)
{
    struct s3_be *be = vbe;
    struct os_info info;
    int rc;

    /* HEAD first: the size decides single or multipart copy, and a missing source gets a
     * clear error naming it. */
    rc = s3_op_head(be, src_key, &info);
    if (rc)
        return rc;
    rc = s3_copy_info(be, S3_OP_COPY, src_key, dst_key, &info, o);
    os_info_clear(&info);
    return rc;
}

int s3_op_set_meta(void *vbe, const char *key, const struct os_put_opts *o)
{
    struct s3_be *be = vbe;
    struct os_put_opts empty;
    struct os_info info;
    int rc;

    memset(&empty, 0, sizeof(empty));
    rc = s3_op_head(be, key, &info);
    if (rc)
        return rc;
    rc = s3_copy_info(be, S3_OP_SET_META, key, key, &info, o ? o : &empty);
    os_info_clear(&info);
    return rc;
}

static int s3_store_md5_after(struct s3_be *be, struct os_upload *u, const unsigned char *md5,
                              int64_t total)
{
    struct os_put_opts o;
    char b64[CRYPTO_B64_SIZE(16)];

    if (total > be->copy_single_max) {
        log_warn("s3: %s/%s is larger than a single CopyObject allows (%" PRId64 " bytes): its MD5 "
                 "(md5chksum) could not be stored after the upload; give the MD5 when the "
                 "upload begins",
                 be->url_base, u->key, be->copy_single_max);
        return 0;
    }
    memset(&o, 0, sizeof(o));
    o.content_type = u->content_type;
    o.meta = u->meta;
    o.n_meta = u->n_meta;
    o.mtime = u->has_mtime ? &u->mtime : NULL;
    crypto_base64_encode(md5, 16, b64);
    return s3_copy_single(be, S3_OP_MP_COMMIT, u->key, u->key, &o, b64);
}

/* ---- DeleteObjects ---- */

static int s3_delete_batch(struct s3_be *be, const char *const *keys, size_t n, int *failed)
{
    struct http_response resp;
    struct s3_xml_delete_error *errs = NULL;
    struct s3_xml_error e;
    struct s3_call c;
    struct buf body;
    unsigned char m[16];
    char md5b64[CRYPTO_B64_SIZE(16)], why[256];
    size_t n_errs = 0, i, j;
    int rc, first = 0;

    http_response_init(&resp);
    buf_init(&body, (size_t)64 << 20);
    s3_call_init(&c, "POST", NULL, "delete");
    rc = s3_xml_build_delete(&body, keys, n);
    if (rc == 0) {
        crypto_md5(body.data, body.len, m);
        crypto_base64_encode(m, 16, md5b64);
        /* Content-MD5 is required by S3 (and Swift) for DeleteObjects. */
        rc = http_hdrs_set(&c.hdrs, "Content-MD5", md5b64);
    }
    if (rc == 0)
        rc = http_hdrs_set(&c.hdrs, "Content-Type", "application/xml");
    if (rc) {
        rc = s3_nomem();
        goto out;
    }
    c.body = body.data;
    c.body_len = body.len;
    c.sign_body = true;
    rc = s3_exec(be, S3_OP_DELETE_MANY, &c, &resp);
    if (rc)
        goto out;
    rc = s3_xml_parse_delete_result(resp.body.data, resp.body.len, &errs, &n_errs, &e, why,
                                    sizeof(why));
    if (rc == 1)
        rc = s3_map_code(be, S3_OP_DELETE_MANY, NULL, resp.status, &e);
    else if (rc == -ENOMEM)
        rc = s3_nomem();
    else if (rc)
        rc = s3_protocol_error(be, S3_OP_DELETE_MANY, NULL, resp.status, why);
    if (rc)
        goto out;
    for (i = 0; i < n_errs; i++) {
        struct s3_xml_error ke;
        int kerr;

        if (strcmp(errs[i].code, "NoSuchKey") == 0)
            continue;
        memset(&ke, 0, sizeof(ke));
        snprintf(ke.code, sizeof(ke.code), "%s", errs[i].code);
        snprintf(ke.message, sizeof(ke.message), "%s", errs[i].message);
        kerr = s3_map_code(be, S3_OP_DELETE, errs[i].key, resp.status, &ke);
        if (!first)
            first = kerr;
        for (j = 0; j < n; j++)
            if (strcmp(keys[j], errs[i].key) == 0 && failed)
                failed[j] = kerr;
    }
    rc = first;
out:
    if (rc && rc != first && failed)
        for (j = 0; j < n; j++)
            failed[j] = rc;
    s3_xml_delete_errors_free(errs, n_errs);
    s3_call_free(&c);
    buf_free(&body);
    http_response_free(&resp);
    return rc;
}

int s3_op_del_many(void *vbe, const char *const *keys, size_t n, int *failed)
{
    struct s3_be *be = vbe;
    struct os_error first_err;
    size_t off, k;
    int rc, first = 0;

    if (failed)
        for (k = 0; k < n; k++)
            failed[k] = 0;
    for (off = 0; off < n; off += S3_DELETE_BATCH) {
        size_t cnt = n - off < S3_DELETE_BATCH ? n - off : S3_DELETE_BATCH;

        rc = s3_delete_batch(be, keys + off, cnt, failed ? failed + off : NULL);
        if (rc && !first) {
            first = rc;
            first_err = *os_last_error();
        }
    }
    if (first)
        os_error_set(first_err.err, first_err.kind, first_err.http_status, first_err.code,
                     first_err.request_id, "%s", first_err.message);
    return first;
}
