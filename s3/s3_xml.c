/* s3_xml: parsing of S3 response documents and building of request documents (pure functions). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/objstore.h"
#include "core/url.h"
#include "core/xml.h"
#include "s3/s3.h"

#define S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"
/* S3 keys are at most 1,024 bytes; a listing entry beyond this is hostile or broken. */
#define S3X_KEY_MAX 4096

static void s3x_err(char *err, size_t errlen, const char *fmt, const char *a)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a ? a : "");
}

/* Parses body into *doc and checks the root element's name (any of two). */
static int s3x_open(const char *body, size_t len, const char *root1, const char *root2,
                    struct xml_doc **doc, char *err, size_t errlen)
{
    char xerr[200];
    const char *name;
    int rc;

    *doc = NULL;
    rc = xml_parse(body, len, doc, xerr, sizeof(xerr));
    if (rc == -ENOMEM)
        return rc;
    if (rc) {
        s3x_err(err, errlen, "%s", xerr);
        return -EPROTO;
    }
    name = xml_name(xml_root(*doc));
    if (!name || (strcmp(name, root1) != 0 && (!root2 || strcmp(name, root2) != 0))) {
        if (err && errlen)
            snprintf(err, errlen, "unexpected XML document <%s> where <%s> was expected",
                     name ? name : "?", root1);
        xml_doc_free(*doc);
        *doc = NULL;
        return -EPROTO;
    }
    return 0;
}

/* Copies the text of child `name` into out (truncated); "" when absent. */
static void s3x_child_copy(const struct xml_node *n, const char *name, char *out, size_t outlen)
{
    char *t = xml_child_text(n, name);

    snprintf(out, outlen, "%s", t ? t : "");
    free(t);
}

static void s3x_fill_error(const struct xml_node *root, struct s3_xml_error *e)
{
    memset(e, 0, sizeof(*e));
    s3x_child_copy(root, "Code", e->code, sizeof(e->code));
    s3x_child_copy(root, "Message", e->message, sizeof(e->message));
    s3x_child_copy(root, "RequestId", e->request_id, sizeof(e->request_id));
    s3x_child_copy(root, "Key", e->key, sizeof(e->key));
    s3x_child_copy(root, "StorageClass", e->storage_class, sizeof(e->storage_class));
}

int s3_xml_parse_error(const char *body, size_t len, struct s3_xml_error *out, char *err,
                       size_t errlen)
{
    struct xml_doc *doc = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = s3x_open(body, len, "Error", NULL, &doc, err, errlen);
    if (rc)
        return rc;
    s3x_fill_error(xml_root(doc), out);
    xml_doc_free(doc);
    if (!out->code[0]) {
        s3x_err(err, errlen, "%s", "S3 <Error> document without a <Code>");
        return -EPROTO;
    }
    return 0;
}

/* Strips one pair of surrounding quotes (or &quot; already decoded) in place. */
static void s3x_unquote(char *s)
{
    size_t n = strlen(s);

    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = '\0';
    }
}

static int s3x_is_hex32(const char *s)
{
    size_t i;

    for (i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return s[32] == '\0';
}

/* Takes raw (malloc'd); decodes it when `decode` ('+' is a space, as S3 writes it; %00 is
 * refused). The result, malloc'd, in *out. */
static int s3x_decode(char *raw, int decode, char **out, char *err, size_t errlen)
{
    if (!decode) {
        *out = raw;
        return 0;
    }
    if (url_decode(raw, true, out) != 0) {
        s3x_err(err, errlen, "badly url-encoded key \"%.100s\" in listing", raw);
        free(raw);
        return -EPROTO;
    }
    free(raw);
    return 0;
}

static int s3x_key_cmp(const void *a, const void *b)
{
    const struct os_info *x = a, *y = b;

    return strcmp(x->key, y->key);
}

static int s3x_is_dir_marker(const char *key)
{
    size_t n = strlen(key);
    static const char folder[] = "_$folder$";

    if (n && key[n - 1] == '/')
        return 1;
    return n >= sizeof(folder) - 1 && strcmp(key + n - (sizeof(folder) - 1), folder) == 0;
}

/* Fills one listed object from a <Contents> element. */
static int s3x_contents(const struct xml_node *c, int decode, struct os_info *it, char *err,
                        size_t errlen)
{
    char *raw = xml_child_text(c, "Key"), *t = NULL, *end = NULL;
    int rc;

    if (!raw) {
        s3x_err(err, errlen, "%s", "listing entry <Contents> without a <Key>");
        return -EPROTO;
    }
    rc = s3x_decode(raw, decode, &it->key, err, errlen);
    if (rc)
        return rc;
    if (!it->key[0] || strlen(it->key) > S3X_KEY_MAX) {
        s3x_err(err, errlen, "%s",
                it->key[0] ? "listing entry with a key longer than 4096 bytes"
                           : "listing entry with an empty key");
        return -EPROTO;
    }
    t = xml_child_text(c, "Size");
    errno = 0;
    it->size = t ? strtoll(t, &end, 10) : -1;
    if (!t || !*t || *end || errno || it->size < 0) {
        s3x_err(err, errlen, "listing entry \"%.100s\" without a valid <Size>", it->key);
        free(t);
        return -EPROTO;
    }
    free(t);
    t = xml_child_text(c, "LastModified");
    if (t && os_time_parse(t, &it->last_modified) != 0)
        log_debug("s3: unparseable LastModified \"%.64s\" for %s", t, it->key);
    free(t);
    it->mtime = it->last_modified;
    it->etag = xml_child_text(c, "ETag");
    if (it->etag) {
        s3x_unquote(it->etag);
        if (s3x_is_hex32(it->etag) && crypto_unhex(it->etag, it->md5, 16) == 0)
            it->has_md5 = true;
    }
    it->storage_class = xml_child_text(c, "StorageClass");
    if (it->storage_class && (strcmp(it->storage_class, "GLACIER") == 0 ||
                              strcmp(it->storage_class, "DEEP_ARCHIVE") == 0))
        it->archived = true;
    it->is_dir_marker = s3x_is_dir_marker(it->key);
    return 0;
}

/* Fills one common prefix from a <CommonPrefixes> element. */
static int s3x_prefix(const struct xml_node *c, int decode, struct os_info *it, char *err,
                      size_t errlen)
{
    char *raw = xml_child_text(c, "Prefix");
    int rc;

    if (!raw) {
        s3x_err(err, errlen, "%s", "listing entry <CommonPrefixes> without a <Prefix>");
        return -EPROTO;
    }
    rc = s3x_decode(raw, decode, &it->key, err, errlen);
    if (rc)
        return rc;
    if (strlen(it->key) > S3X_KEY_MAX) {
        s3x_err(err, errlen, "%s", "listing prefix longer than 4096 bytes");
        return -EPROTO;
    }
    it->is_prefix = true;
    it->size = 0;
    return 0;
}

int s3_xml_parse_list(const char *body, size_t len, struct os_list_page *out, char *err,
                      size_t errlen)
{
    struct xml_doc *doc = NULL;
    struct xml_node *root, *c;
    char *t = NULL;
    size_t cap = 0;
    int rc, decode, truncated;

    memset(out, 0, sizeof(*out));
    rc = s3x_open(body, len, "ListBucketResult", NULL, &doc, err, errlen);
    if (rc)
        return rc;
    root = xml_root(doc);
    t = xml_child_text(root, "EncodingType");
    decode = t && strcmp(t, "url") == 0;
    free(t);
    t = xml_child_text(root, "IsTruncated");
    truncated = t && strcmp(t, "true") == 0;
    free(t);
    t = NULL;
    for (c = xml_child(root, NULL); c; c = xml_next(c, NULL)) {
        const char *name = xml_name(c);
        int is_contents = strcmp(name, "Contents") == 0;

        if (!is_contents && strcmp(name, "CommonPrefixes") != 0)
            continue;
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct os_info *ni = realloc(out->items, ncap * sizeof(*ni));

            if (!ni) {
                rc = -ENOMEM;
                goto out;
            }
            out->items = ni;
            cap = ncap;
        }
        memset(&out->items[out->n], 0, sizeof(out->items[0]));
        out->n++;
        rc = is_contents ? s3x_contents(c, decode, &out->items[out->n - 1], err, errlen)
                         : s3x_prefix(c, decode, &out->items[out->n - 1], err, errlen);
        if (rc)
            goto out;
    }
    if (out->n > 1)
        qsort(out->items, out->n, sizeof(out->items[0]), s3x_key_cmp);
    if (truncated) {
        out->next_token = xml_child_text(root, "NextContinuationToken");
        if (!out->next_token || !out->next_token[0]) {
            s3x_err(err, errlen, "%s",
                    "truncated listing (<IsTruncated>true) without a <NextContinuationToken>");
            rc = -EPROTO;
            goto out;
        }
    }
out:
    if (rc)
        os_list_page_free(out);
    xml_doc_free(doc);
    return rc;
}

int s3_xml_parse_upload_id(const char *body, size_t len, char **upload_id, char *err, size_t errlen)
{
    struct xml_doc *doc = NULL;
    int rc;

    *upload_id = NULL;
    rc = s3x_open(body, len, "InitiateMultipartUploadResult", NULL, &doc, err, errlen);
    if (rc)
        return rc;
    *upload_id = xml_child_text(xml_root(doc), "UploadId");
    xml_doc_free(doc);
    if (!*upload_id || !**upload_id) {
        free(*upload_id);
        *upload_id = NULL;
        s3x_err(err, errlen, "%s", "InitiateMultipartUploadResult without an <UploadId>");
        return -EPROTO;
    }
    return 0;
}

int s3_xml_parse_etag_result(const char *body, size_t len, char **etag, struct s3_xml_error *e,
                             char *err, size_t errlen)
{
    struct xml_doc *doc = NULL;
    struct xml_node *root;
    const char *name;
    char xerr[200];
    int rc;

    *etag = NULL;
    memset(e, 0, sizeof(*e));
    rc = xml_parse(body, len, &doc, xerr, sizeof(xerr));
    if (rc == -ENOMEM)
        return rc;
    if (rc) {
        s3x_err(err, errlen, "%s", xerr);
        return -EPROTO;
    }
    root = xml_root(doc);
    name = xml_name(root);
    if (strcmp(name, "Error") == 0) {
        s3x_fill_error(root, e);
        rc = 1;
    } else if (strcmp(name, "CompleteMultipartUploadResult") == 0 ||
               strcmp(name, "CopyObjectResult") == 0 || strcmp(name, "CopyPartResult") == 0) {
        *etag = xml_child_text(root, "ETag");
        if (*etag)
            s3x_unquote(*etag);
    } else {
        s3x_err(err, errlen, "unexpected XML document <%s>", name);
        rc = -EPROTO;
    }
    xml_doc_free(doc);
    return rc;
}

void s3_xml_delete_errors_free(struct s3_xml_delete_error *errs, size_t n)
{
    size_t i;

    if (!errs)
        return;
    for (i = 0; i < n; i++)
        free(errs[i].key);
    free(errs);
}

int s3_xml_parse_delete_result(const char *body, size_t len, struct s3_xml_delete_error **errs,
                               size_t *n, struct s3_xml_error *e, char *err, size_t errlen)
{
    struct xml_doc *doc = NULL;
    struct xml_node *root, *c;
    size_t cap = 0;
    int rc;

    *errs = NULL;
    *n = 0;
    memset(e, 0, sizeof(*e));
    rc = s3x_open(body, len, "DeleteResult", "Error", &doc, err, errlen);
    if (rc)
        return rc;
    root = xml_root(doc);
    if (strcmp(xml_name(root), "Error") == 0) {
        s3x_fill_error(root, e);
        xml_doc_free(doc);
        return 1;
    }
    for (c = xml_child(root, "Error"); c; c = xml_next(c, "Error")) {
        struct s3_xml_delete_error *d;

        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct s3_xml_delete_error *ne = realloc(*errs, ncap * sizeof(*ne));

            if (!ne) {
                rc = -ENOMEM;
                goto out;
            }
            *errs = ne;
            cap = ncap;
        }
        d = &(*errs)[*n];
        memset(d, 0, sizeof(*d));
        (*n)++;
        d->key = xml_child_text(c, "Key");
        if (!d->key) {
            s3x_err(err, errlen, "%s", "DeleteResult <Error> without a <Key>");
            rc = -EPROTO;
            goto out;
        }
        s3x_child_copy(c, "Code", d->code, sizeof(d->code));
        s3x_child_copy(c, "Message", d->message, sizeof(d->message));
    }
out:
    if (rc) {
        s3_xml_delete_errors_free(*errs, *n);
        *errs = NULL;
        *n = 0;
    }
    xml_doc_free(doc);
    return rc;
}

int s3_xml_build_delete(struct buf *b, const char *const *keys, size_t n)
{
    size_t i;
    int rc;

    rc = buf_appends(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"" S3_NS
                        "\"><Quiet>true</Quiet>");
    for (i = 0; i < n && rc == 0; i++) {
        rc = buf_appends(b, "<Object><Key>");
        if (rc == 0)
            rc = xml_escape_append(b, keys[i]);
        if (rc == 0)
            rc = buf_appends(b, "</Key></Object>");
    }
    if (rc == 0)
        rc = buf_appends(b, "</Delete>");
    return rc;
}

int s3_xml_build_complete(struct buf *b, char *const *etags, size_t n)
{
    size_t i;
    int rc;

    rc = buf_appends(
        b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload xmlns=\"" S3_NS
           "\">");
    for (i = 0; i < n && rc == 0; i++) {
        const char *et = etags[i] ? etags[i] : "";
        int quoted = et[0] == '"';

        rc = buf_appendf(b, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
        if (rc == 0 && !quoted)
            rc = buf_appends(b, "&quot;");
        if (rc == 0)
            rc = xml_escape_append(b, et);
        if (rc == 0)
            rc = buf_appends(b, quoted ? "</ETag></Part>" : "&quot;</ETag></Part>");
    }
    if (rc == 0)
        rc = buf_appends(b, "</CompleteMultipartUpload>");
    return rc;
}
