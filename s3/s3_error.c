/* s3_error: the one mapping from S3 responses and transport failures to errno and os_error. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/http.h"
#include "core/log.h"
#include "core/objstore.h"
#include "s3/s3.h"
#include "s3/s3_int.h"

const char *s3_op_name(int op)
{
    switch (op) {
    case S3_OP_HEAD:
        return "HeadObject";
    case S3_OP_GET:
        return "GetObject";
    case S3_OP_PUT:
        return "PutObject";
    case S3_OP_MP_BEGIN:
        return "CreateMultipartUpload";
    case S3_OP_MP_PART:
        return "UploadPart";
    case S3_OP_MP_COMMIT:
        return "CompleteMultipartUpload";
    case S3_OP_MP_ABORT:
        return "AbortMultipartUpload";
    case S3_OP_LIST:
        return "ListObjectsV2";
    case S3_OP_DELETE:
        return "DeleteObject";
    case S3_OP_DELETE_MANY:
        return "DeleteObjects";
    case S3_OP_COPY:
        return "CopyObject";
    case S3_OP_SET_META:
        return "CopyObject (metadata)";
    case S3_OP_MKDIR:
        return "PutObject (directory marker)";
    case S3_OP_MKBUCKET:
        return "CreateBucket";
    case S3_OP_CHECK:
        return "ListObjectsV2 (check)";
    default:
        return "S3 request";
    }
}

/* Operations whose target is the bucket, not an object. */
static bool s3_bucket_op(int op)
{
    return op == S3_OP_LIST || op == S3_OP_CHECK || op == S3_OP_MKBUCKET || op == S3_OP_DELETE_MANY;
}

static bool s3_code_is(const char *code, const char *a)
{
    return strcmp(code, a) == 0;
}

int s3_map_code(const struct s3_be *be, int op, const char *key, long status,
                const struct s3_xml_error *e)
{
    const char *code = e->code, *msg = e->message, *rid = e->request_id;
    const char *bucket_url = be ? be->url_base : "s3://?";
    const char *endpoint = be ? be->endpoint : "?";
    const char *opn = s3_op_name(op);
    char target[200];
    int err, kind;

    if (key && !s3_bucket_op(op))
        snprintf(target, sizeof(target), "%s/%s", bucket_url, key);
    else
        snprintf(target, sizeof(target), "%s", bucket_url);

    if (s3_code_is(code, "NoSuchKey") || (!code[0] && status == 404 && !s3_bucket_op(op))) {
        err = -ENOENT;
        kind = OSE_NOT_FOUND;
        os_error_set(err, kind, status, code, rid, "object %s not found", target);
    } else if (s3_code_is(code, "NoSuchBucket") || (!code[0] && status == 404)) {
        err = -ENOENT;
        kind = OSE_NO_BUCKET;
        os_error_set(err, kind, status, code, rid, "bucket %s does not exist at %s", bucket_url,
                     endpoint);
    } else if (s3_code_is(code, "NoSuchUpload")) {
        err = -EIO;
        kind = OSE_INVALID;
        os_error_set(err, kind, status, code, rid,
                     "the multipart upload of %s no longer exists (NoSuchUpload)", target);
    } else if (s3_code_is(code, "SignatureDoesNotMatch")) {
        err = -EACCES;
        kind = OSE_BAD_CREDENTIALS;
        os_error_set(err, kind, status, code, rid,
                     "bad credentials: the server rejected the request signature "
                     "(SignatureDoesNotMatch): check AWS_SECRET_ACCESS_KEY");
    } else if (s3_code_is(code, "InvalidAccessKeyId")) {
        err = -EACCES;
        kind = OSE_BAD_CREDENTIALS;
        os_error_set(err, kind, status, code, rid,
                     "bad credentials: the server does not know the access key "
                     "(InvalidAccessKeyId): check AWS_ACCESS_KEY_ID");
    } else if (s3_code_is(code, "InvalidToken") || s3_code_is(code, "ExpiredToken") ||
               s3_code_is(code, "TokenRefreshRequired")) {
        err = -EACCES;
        kind = OSE_BAD_CREDENTIALS;
        os_error_set(err, kind, status, code, rid,
                     "bad credentials: the server refused the session token (%s): check "
                     "AWS_SESSION_TOKEN",
                     code);
    } else if (s3_code_is(code, "AccessDenied") || s3_code_is(code, "AllAccessDisabled") ||
               s3_code_is(code, "AccountProblem") || (!code[0] && status == 403)) {
        err = -EACCES;
        kind = OSE_ACCESS_DENIED;
        if (be && be->anonymous)
            os_error_set(err, kind, status, code, rid,
                         "access denied to %s (%s): no credentials were sent: set "
                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                         target, code[0] ? code : "HTTP 403");
        else if (code[0])
            os_error_set(err, kind, status, code, rid, "access denied to %s (%s)", target, code);
        else
            os_error_set(err, kind, status, code, rid,
                         "access denied to %s (HTTP 403 without detail: missing permission or "
                         "bad credentials)",
                         target);
    } else if (s3_code_is(code, "InvalidObjectState")) {
        err = -EACCES;
        kind = OSE_ARCHIVED;
        os_error_set(err, kind, status, code, rid, "object %s is in %s: restore it first", target,
                     e->storage_class[0] ? e->storage_class : "an archive storage class");
    } else if (s3_code_is(code, "SlowDown") || s3_code_is(code, "ServiceUnavailable") ||
               status == 503 || status == 429) {
        err = -EAGAIN;
        kind = OSE_THROTTLED;
        os_error_set(err, kind, status, code, rid,
                     "%s on %s: the server is throttling requests (%s) and all retries failed", opn,
                     target, code[0] ? code : "HTTP 503");
    } else if (s3_code_is(code, "BucketAlreadyOwnedByYou") ||
               s3_code_is(code, "BucketAlreadyExists")) {
        err = -EEXIST;
        kind = OSE_EXISTS;
        os_error_set(err, kind, status, code, rid, "bucket %s already exists (%s)", bucket_url,
                     code);
    } else if (s3_code_is(code, "PreconditionFailed") || (!code[0] && status == 412)) {
        err = -EEXIST;
        kind = OSE_EXISTS;
        os_error_set(err, kind, status, code, rid, "%s on %s: precondition failed", opn, target);
    } else if (s3_code_is(code, "RequestTimeout")) {
        err = -ETIMEDOUT;
        kind = OSE_TIMEOUT;
        os_error_set(err, kind, status, code, rid,
                     "%s on %s: the server timed out waiting for the request (RequestTimeout)", opn,
                     target);
    } else if (status >= 500 || (code[0] && s3_ok(status)) || s3_code_is(code, "InternalError")) {
        err = -EIO;
        kind = OSE_SERVER;
        os_error_set(err, kind, status, code, rid, "%s on %s: server error HTTP %ld%s%s%s%s", opn,
                     target, status, code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
    } else {
        if (s3_code_is(code, "BucketNotEmpty"))
            err = -ENOTEMPTY;
        else if (s3_code_is(code, "EntityTooLarge"))
            err = -EFBIG;
        else
            err = -EINVAL;
        kind = OSE_INVALID;
        os_error_set(err, kind, status, code, rid, "%s on %s refused: HTTP %ld%s%s%s%s", opn,
                     target, status, code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
    }
    log_debug("s3: %s %s: HTTP %ld code=%s request-id=%s -> %s (%s)", opn, target, status,
              code[0] ? code : "-", rid[0] ? rid : "-", strerror(-err), os_errkind_str(kind));
    return err;
}

int s3_protocol_error(const struct s3_be *be, int op, const char *key, long status, const char *why)
{
    const char *bucket_url = be ? be->url_base : "s3://?";

    log_debug("s3: %s %s%s%s: HTTP %ld unparseable response: %s", s3_op_name(op), bucket_url,
              key ? "/" : "", key ? key : "", status, why);
    return os_error_set(-EPROTO, OSE_PROTOCOL, status, "", "",
                        "%s on %s%s%s: unparseable response from %s: %s", s3_op_name(op),
                        bucket_url, key ? "/" : "", key ? key : "", be ? be->endpoint : "?", why);
}

/* Transport failures: no response at all after the retries. */
static int s3_map_transport(const struct s3_be *be, int op, const char *key, int http_rc,
                            const struct http_response *resp)
{
    const char *endpoint = be ? be->endpoint : "?";
    const char *why = resp && resp->error[0] ? resp->error : strerror(-http_rc);
    int kind;

    switch (http_rc) {
    case -ETIMEDOUT:
        kind = OSE_TIMEOUT;
        break;
    case -ENOMEM:
        kind = OSE_LOCAL;
        break;
    case -E2BIG:
        kind = OSE_PROTOCOL;
        break;
    case -ESTALE:
        kind = OSE_INVALID;
        break;
    default:
        kind = OSE_UNREACHABLE;
        break;
    }
    log_debug("s3: %s %s%s%s: no response (%s) -> %s", s3_op_name(op), be ? be->url_base : "",
              key ? "/" : "", key ? key : "", strerror(-http_rc), os_errkind_str(kind));
    if (kind == OSE_UNREACHABLE)
        return os_error_set(http_rc, kind, 0, "", "", "cannot reach the S3 endpoint %s: %s",
                            endpoint, why);
    if (kind == OSE_TIMEOUT)
        return os_error_set(http_rc, kind, 0, "", "", "timed out talking to the S3 endpoint %s: %s",
                            endpoint, why);
    return os_error_set(http_rc, kind, 0, "", "", "%s on %s%s%s: %s", s3_op_name(op),
                        be ? be->url_base : "", key ? "/" : "", key ? key : "", why);
}

/* A short printable summary of a non-S3 body (tags removed, whitespace collapsed). */
static void s3_body_snippet(const struct buf *b, char *out, size_t outlen)
{
    size_t i, o = 0;
    bool in_tag = false, space = false;

    for (i = 0; i < b->len && o + 4 < outlen; i++) {
        unsigned char ch = (unsigned char)b->data[i];

        if (ch == '<') {
            in_tag = true;
            space = o > 0;
            continue;
        }
        if (in_tag) {
            in_tag = ch != '>';
            continue;
        }
        if (ch <= ' ' || ch >= 0x7f) {
            space = o > 0;
            continue;
        }
        if (space)
            out[o++] = ' ';
        space = false;
        out[o++] = (char)ch;
    }
    if (i < b->len && o + 4 >= outlen)
        out[o++] = '.', out[o++] = '.', out[o++] = '.';
    out[o] = '\0';
    if (!o)
        snprintf(out, outlen, "no text");
}

int s3_map_error(const struct os_store *s, int op, const char *key, int http_rc,
                 const struct http_response *resp)
{
    const struct s3_be *be = s ? s->be : NULL;
    struct s3_xml_error e;
    char why[200];
    const char *rid;
    bool bodyless;

    if (http_rc < 0 || !resp || resp->status == 0)
        return s3_map_transport(be, op, key, http_rc < 0 ? http_rc : -EIO, resp);
    memset(&e, 0, sizeof(e));
    bodyless = resp->body.len == 0;
    if (bodyless && be && be->anonymous && resp->status >= 400 && resp->status < 500 &&
        resp->status != 404) {
        /* A HEAD (no body) refused while no credentials were sent. */
        return os_error_set(-EACCES, OSE_ACCESS_DENIED, resp->status, "", "",
                            "%s on %s%s%s refused: HTTP %ld: no credentials were sent: set "
                            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                            s3_op_name(op), be->url_base, key ? "/" : "", key ? key : "",
                            resp->status);
    }
    if (!bodyless &&
        s3_xml_parse_error(resp->body.data, resp->body.len, &e, why, sizeof(why)) != 0) {
        /* Not an S3 error document: Swift answers requests its s3api layer did not take
         * (unsigned ones) through its native API, with HTML or plain text (400, 404, 412). */
        int err = 0, kind = 0;
        char text[96];

        memset(&e, 0, sizeof(e));
        s3_body_snippet(&resp->body, text, sizeof(text));
        if (be && be->anonymous && resp->status >= 400 && resp->status < 500) {
            err = -EACCES;
            kind = OSE_ACCESS_DENIED;
            os_error_set(err, kind, resp->status, "", "",
                         "%s on %s%s%s refused: HTTP %ld (%s): no credentials were sent: set "
                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                         s3_op_name(op), be->url_base, key ? "/" : "", key ? key : "", resp->status,
                         text);
        } else if (resp->status >= 400 && resp->status < 500 && resp->status != 403 &&
                   resp->status != 404) {
            err = -EINVAL;
            kind = OSE_INVALID;
            os_error_set(err, kind, resp->status, "", "",
                         "%s on %s%s%s refused: HTTP %ld with a non-S3 answer (%s): an unsigned "
                         "or malformed request, or not an S3 endpoint?",
                         s3_op_name(op), be ? be->url_base : "", key ? "/" : "", key ? key : "",
                         resp->status, text);
        }
        if (err) {
            log_debug("s3: %s: HTTP %ld with a non-S3 body -> %s", s3_op_name(op), resp->status,
                      os_errkind_str(kind));
            return err;
        }
        snprintf(e.message, sizeof(e.message), "%s", text);
    }
    if (!e.request_id[0]) {
        rid = http_hdrs_get(&resp->hdrs, "x-amz-request-id");
        if (rid)
            snprintf(e.request_id, sizeof(e.request_id), "%s", rid);
    }
    return s3_map_code(be, op, key, resp->status, &e);
}
