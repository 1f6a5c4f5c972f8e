/* blob_upload: block uploads (Put Block, Put Block List), block sizes, Copy Blob, metadata. */
#include "blob/blob.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/http.h"
#include "core/objstore.h"
#include "core/url.h"
#include "core/xml.h"

#define BLOB_MIB (1024u * 1024u)
#define BLOB_MIN_BLOCK (8u * BLOB_MIB)
#define BLOB_MAX_BLOCK ((size_t)4000 * BLOB_MIB) /* Azure's largest block */
#define BLOB_GROW_EVERY 2000                     /* unknown size: double every 2,000 blocks */
#define BLOB_COPY_WAIT_S 600                     /* longest wait for a pending copy */
#define BLOB_WHAT_MAX 1200

size_t blob_part_size(int64_t total, int partno)
{
    size_t sz;

    if (total >= 0) {
        /* One size for every block: ceil(total / 50,000) rounded up to a MiB. */
        uint64_t per = ((uint64_t)total + BLOB_MAX_BLOCKS - 1) / BLOB_MAX_BLOCKS;

        per = (per + BLOB_MIB - 1) / BLOB_MIB * BLOB_MIB;
        if (per < BLOB_MIN_BLOCK)
            per = BLOB_MIN_BLOCK;
        if (per > BLOB_MAX_BLOCK)
            per = BLOB_MAX_BLOCK;
        return (size_t)per;
    }
    if (partno < 1)
        partno = 1;
    sz = BLOB_MIN_BLOCK;
    for (int g = (partno - 1) / BLOB_GROW_EVERY; g > 0 && sz < BLOB_MAX_BLOCK; g--)
        sz *= 2;
    return sz > BLOB_MAX_BLOCK ? BLOB_MAX_BLOCK : sz;
}

size_t blob_op_part_size(void *be, int64_t total, int partno)
{
    (void)be;
    return blob_part_size(total, partno);
}

void blob_block_id(const char *tag, int partno, char *out, size_t outlen)
{
    char raw[32];
    char b64[CRYPTO_B64_SIZE(sizeof(raw))];
    int n = snprintf(raw, sizeof(raw), "bfs-%.8s-%010d", tag, partno);

    crypto_base64_encode(raw, (size_t)n, b64);
    snprintf(out, outlen, "%s", b64);
}

/* An upload in progress. The options are copied at begin; `done` marks the
 * blocks sent (guarded by lock, as parts may run from several threads). */
struct os_upload {
    char *key;
    char tag[9];
    char *content_type;
    struct os_meta *meta;
    size_t n_meta;
    bool has_mtime;
    struct timespec mtime;
    bool has_md5;
    unsigned char md5[CRYPTO_MD5_LEN];
    struct os_put_result *result; /* borrowed from the caller until the commit */
    pthread_mutex_t lock;
    unsigned char *done; /* BLOB_MAX_BLOCKS + 1 flags, index = partno */
    int max_part;
};

static void blob_upload_free(struct os_upload *u)
{
    size_t i;

    if (!u)
        return;
    for (i = 0; i < u->n_meta; i++) {
        free(u->meta[i].key);
        free(u->meta[i].value);
    }
    free(u->meta);
    free(u->key);
    free(u->content_type);
    free(u->done);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

/* Eight random hex characters, so two uploads to one name use different ids. */
static void blob_upload_tag(char tag[9])
{
    static unsigned counter;
    unsigned char r[4];
    unsigned v;

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        v = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^
            __atomic_add_fetch(&counter, 0x9e3779b9u, __ATOMIC_RELAXED);
        memcpy(r, &v, sizeof(r));
    }
    crypto_hex(r, sizeof(r), tag);
}

int blob_mp_begin(void *be, const char *key, const struct os_put_opts *o, struct os_upload **out)
{
    struct os_upload *u;
    size_t i;

    (void)be;
    *out = NULL;
    u = calloc(1, sizeof(*u));
    if (!u)
        goto nomem;
    pthread_mutex_init(&u->lock, NULL);
    u->key = strdup(key);
    u->done = calloc(BLOB_MAX_BLOCKS + 1, 1);
    if (!u->key || !u->done)
        goto nomem;
    blob_upload_tag(u->tag);
    if (o && o->content_type) {
        u->content_type = strdup(o->content_type);
        if (!u->content_type)
            goto nomem;
    }
    if (o && o->n_meta) {
        u->meta = calloc(o->n_meta, sizeof(*u->meta));
        if (!u->meta)
            goto nomem;
        for (i = 0; i < o->n_meta; i++) {
            u->n_meta++;
            u->meta[i].key = strdup(o->meta[i].key ? o->meta[i].key : "");
            u->meta[i].value = strdup(o->meta[i].value ? o->meta[i].value : "");
            if (!u->meta[i].key || !u->meta[i].value)
                goto nomem;
        }
    }
    if (o && o->mtime) {
        u->has_mtime = true;
        u->mtime = *o->mtime;
    }
    if (o && o->md5) {
        u->has_md5 = true;
        memcpy(u->md5, o->md5, CRYPTO_MD5_LEN);
    }
    u->result = o ? o->result : NULL;
    *out = u;
    return 0;
nomem:
    blob_upload_free(u);
    return os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
}

int blob_mp_part(void *be, struct os_upload *u, int partno, const void *data, size_t len)
{
    unsigned char md5[CRYPTO_MD5_LEN];
    char b64[CRYPTO_B64_SIZE(CRYPTO_MD5_LEN)], id[64];
    struct http_hdrs h = {0};
    struct http_response resp;
    struct blob_call c;
    struct buf q;
    int rc;

    if (partno < 1 || partno > BLOB_MAX_BLOCKS || len > BLOB_MAX_BLOCK)
        return os_error_set(-EINVAL, OSE_LOCAL, 0, NULL, NULL,
                            "block %d of %d bytes is outside Azure's limits (1..%d, <= 4000 MiB)",
                            partno, (int)(len > INT32_MAX ? INT32_MAX : len), BLOB_MAX_BLOCKS);
    http_response_init(&resp);
    buf_init(&q, 256);
    blob_block_id(u->tag, partno, id, sizeof(id));
    crypto_md5(data, len, md5);
    crypto_base64_encode(md5, sizeof(md5), b64);
    rc = buf_appends(&q, "comp=block&blockid=");
    if (rc == 0)
        rc = url_encode_append(&q, id, false);
    if (rc == 0)
        rc = http_hdrs_set(&h, "Content-MD5", b64);
    if (rc != 0) {
        rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "out of memory");
        goto out;
    }
    /* Idempotent: the same id with the same bytes, repeating is harmless. */
    blob_call_init(&c, "PUT", BLOB_OP_BLOCK, u->key);
    c.query = q.data;
    c.hdrs = &h;
    c.body = data;
    c.body_len = len;
    rc = blob_call(be, &c, &resp);
    if (rc == 0) {
        pthread_mutex_lock(&u->lock);
        u->done[partno] = 1;
        if (partno > u->max_part)
            u->max_part = partno;
        pthread_mutex_unlock(&u->lock);
    }
out:
    http_response_free(&resp);
    http_hdrs_free(&h);
    buf_free(&q);
    return rc;
}

/* <BlockList><Latest>id</Latest>...</BlockList> for blocks 1..n. */
static int blob_blocklist_xml(const struct os_upload *u, int n, struct buf *x)
{
    char id[64];
    int i, rc;

    rc = buf_appends(x, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>");
    for (i = 1; rc == 0 && i <= n; i++) {
        blob_block_id(u->tag, i, id, sizeof(id));
        rc = buf_appendf(x, "<Latest>%s</Latest>", id);
    }
    if (rc == 0)
        rc = buf_appends(x, "</BlockList>\n");
    return rc;
}

int blob_mp_commit(void *be, struct os_upload *u, const unsigned char *md5)
{
    unsigned char xmd5[CRYPTO_MD5_LEN];
    char b64[CRYPTO_B64_SIZE(CRYPTO_MD5_LEN)], what[BLOB_WHAT_MAX];
    struct os_put_opts o;
    struct http_hdrs h = {0};
    struct http_response resp;
    struct blob_call c;
    struct buf x;
    int i, n, rc;

    http_response_init(&resp);
    buf_init(&x, 64u * BLOB_MAX_BLOCKS + 4096);
    blob_what(be, u->key, what, sizeof(what));
    pthread_mutex_lock(&u->lock);
    n = u->max_part;
    for (i = 1; i <= n && u->done[i]; i++)
        ;
    pthread_mutex_unlock(&u->lock);
    if (i <= n) {
        rc = os_error_set(-EINVAL, OSE_LOCAL, 0, NULL, NULL,
                          "%s: cannot commit: block %d of %d was not uploaded", what, i, n);
        goto out;
    }
    memset(&o, 0, sizeof(o));
    o.content_type = u->content_type;
    o.meta = u->meta;
    o.n_meta = u->n_meta;
    o.mtime = u->has_mtime ? &u->mtime : NULL;
    rc = blob_put_headers(&h, &o, true);
    if (rc != 0)
        goto out;
    if (!md5 && u->has_md5)
        md5 = u->md5;
    if (md5) {
        crypto_base64_encode(md5, CRYPTO_MD5_LEN, b64);
        rc = http_hdrs_set(&h, "x-ms-blob-content-md5", b64);
    }
    if (rc == 0)
        rc = blob_blocklist_xml(u, n, &x);
    if (rc == 0) {
        crypto_md5(x.data, x.len, xmd5);
        crypto_base64_encode(xmd5, sizeof(xmd5), b64);
        rc = http_hdrs_set(&h, "Content-MD5", b64);
    }
    if (rc == 0)
        rc = http_hdrs_set(&h, "Content-Type", "application/xml");
    if (rc != 0) {
        rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "%s: cannot build the block list", what);
        goto out;
    }
    /* Idempotent: committing the same list twice gives the same blob. */
    blob_call_init(&c, "PUT", BLOB_OP_COMMIT, u->key);
    c.query = "comp=blocklist";
    c.hdrs = &h;
    c.body = x.data;
    c.body_len = x.len;
    rc = blob_call(be, &c, &resp);
    if (rc == 0)
        blob_put_result(&resp, u->result);
out:
    http_response_free(&resp);
    http_hdrs_free(&h);
    buf_free(&x);
    blob_upload_free(u);
    return rc;
}

void blob_mp_abort(void *be, struct os_upload *u)
{
    /* Uncommitted blocks expire on their own (after a week): nothing to delete. */
    (void)be;
    blob_upload_free(u);
}

/* Set Blob Metadata: replaces all user metadata (and mtime). */
int blob_set_meta(void *be, const char *key, const struct os_put_opts *o)
{
    struct http_hdrs h = {0};
    struct http_response resp;
    struct blob_call c;
    int rc;

    http_response_init(&resp);
    rc = blob_put_headers(&h, o, false);
    if (rc != 0)
        goto out;
    blob_call_init(&c, "PUT", BLOB_OP_SET_META, key);
    c.query = "comp=metadata";
    c.hdrs = &h;
    rc = blob_call(be, &c, &resp);
out:
    http_response_free(&resp);
    http_hdrs_free(&h);
    return rc;
}

/* Set Blob Properties with a new content type, keeping the stored MD5. */
static int blob_set_type(void *be, const char *key, const char *type, const struct os_info *i)
{
    char b64[CRYPTO_B64_SIZE(CRYPTO_MD5_LEN)];
    struct http_hdrs h = {0};
    struct http_response resp;
    struct blob_call c;
    int rc;

    http_response_init(&resp);
    rc = http_hdrs_set(&h, "x-ms-blob-content-type", type);
    if (rc == 0 && i->has_md5) {
        crypto_base64_encode(i->md5, CRYPTO_MD5_LEN, b64);
        rc = http_hdrs_set(&h, "x-ms-blob-content-md5", b64);
    }
    if (rc != 0) {
        rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "out of memory");
        goto out;
    }
    blob_call_init(&c, "PUT", BLOB_OP_COPY, key);
    c.query = "comp=properties";
    c.hdrs = &h;
    rc = blob_call(be, &c, &resp);
out:
    http_response_free(&resp);
    http_hdrs_free(&h);
    return rc;
}

/* Polls Get Blob Properties while x-ms-copy-status is pending, up to BLOB_COPY_WAIT_S. */
static int blob_copy_wait(void *be, const char *key, const char *what)
{
    struct http_response resp;
    struct blob_call c;
    struct timespec nap;
    long wait_ms = 100, waited_ms = 0;
    const char *st;
    int rc = 0;

    blob_call_init(&c, "HEAD", BLOB_OP_COPY, key);
    for (;;) {
        if (waited_ms > BLOB_COPY_WAIT_S * 1000L)
            return os_error_set(-ETIMEDOUT, OSE_TIMEOUT, 0, NULL, NULL,
                                "%s: the copy was still pending after %d s", what,
                                BLOB_COPY_WAIT_S);
        nap.tv_sec = wait_ms / 1000;
        nap.tv_nsec = (wait_ms % 1000) * 1000000L;
        nanosleep(&nap, NULL);
        waited_ms += wait_ms;
        if (wait_ms < 2000)
            wait_ms *= 2;
        http_response_init(&resp);
        rc = blob_call(be, &c, &resp);
        st = rc == 0 ? http_hdrs_get(&resp.hdrs, "x-ms-copy-status") : NULL;
        if (rc == 0 && st && strcasecmp(st, "pending") == 0) {
            http_response_free(&resp);
            continue;
        }
        if (rc == 0 && st && strcasecmp(st, "success") != 0)
            rc = os_error_set(-EIO, OSE_SERVER, resp.status, st, NULL, "%s: the copy %s", what, st);
        http_response_free(&resp);
        return rc;
    }
}

int blob_copy(void *be, const char *src_key, const char *dst_key, const struct os_put_opts *o)
{
    struct http_hdrs h = {0};
    struct http_response resp;
    struct blob_call c;
    struct os_info info;
    struct buf src;
    char what[BLOB_WHAT_MAX];
    const char *st;
    int rc;

    memset(&info, 0, sizeof(info));
    http_response_init(&resp);
    buf_init(&src, 64u * 1024);
    blob_what(be, dst_key, what, sizeof(what));
    /* The source URL carries the SAS when there is one; Shared Key covers the account. */
    rc = blob_url(be, src_key, NULL, &src);
    if (rc == 0)
        rc = http_hdrs_set(&h, "x-ms-copy-source", src.data);
    if (rc != 0) {
        rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "out of memory");
        goto out;
    }
    if (o)
        rc = blob_put_headers(&h, o, false);
    if (rc != 0)
        goto out;
    blob_call_init(&c, "PUT", BLOB_OP_COPY, dst_key);
    c.hdrs = &h;
    rc = blob_call(be, &c, &resp);
    if (rc != 0)
        goto out;
    st = http_hdrs_get(&resp.hdrs, "x-ms-copy-status");
    if (st && strcasecmp(st, "pending") == 0)
        rc = blob_copy_wait(be, dst_key, what);
    else if (st && strcasecmp(st, "success") != 0)
        rc = os_error_set(-EIO, OSE_SERVER, resp.status, st, NULL, "%s: the copy %s", what, st);
    if (rc != 0 || !o)
        goto out;
    /* Copy Blob keeps the source's metadata when no x-ms-meta-* came along: clear it. */
    if (o->n_meta == 0 && !o->mtime)
        rc = blob_set_meta(be, dst_key, o);
    if (rc == 0 && o->content_type) {
        rc = blob_head(be, dst_key, &info);
        if (rc == 0 && (!info.content_type || strcmp(info.content_type, o->content_type) != 0))
            rc = blob_set_type(be, dst_key, o->content_type, &info);
    }
out:
    os_info_clear(&info);
    http_response_free(&resp);
    http_hdrs_free(&h);
    buf_free(&src);
    return rc;
}
