/* blob_error: the one mapping of Azure Blob answers and transport failures to errno. */
#include "blob/blob.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/http.h"
#include "core/log.h"
#include "core/objstore.h"

static const char *blob_op_name(int op)
{
    switch (op) {
    case BLOB_OP_HEAD:
        return "Get Blob Properties";
    case BLOB_OP_GET:
        return "Get Blob";
    case BLOB_OP_PUT:
        return "Put Blob";
    case BLOB_OP_BLOCK:
        return "Put Block";
    case BLOB_OP_COMMIT:
        return "Put Block List";
    case BLOB_OP_LIST:
        return "List Blobs";
    case BLOB_OP_DELETE:
        return "Delete Blob";
    case BLOB_OP_COPY:
        return "Copy Blob";
    case BLOB_OP_SET_META:
        return "Set Blob Metadata";
    case BLOB_OP_MKDIR:
        return "Put Blob (directory marker)";
    case BLOB_OP_MKBUCKET:
        return "Create Container";
    case BLOB_OP_CHECK:
        return "List Blobs (check)";
    default:
        return "request";
    }
}

/* Operations on the container itself: a bare 404 means the container is missing. */
static bool blob_op_on_container(int op)
{
    return op == BLOB_OP_LIST || op == BLOB_OP_CHECK || op == BLOB_OP_MKBUCKET;
}

static bool blob_code_is(const char *code, const char *want)
{
    return strcasecmp(code, want) == 0;
}

static bool blob_code_denied(const char *code)
{
    static const char *const denied[] = {
        "AuthorizationFailure",           "AuthorizationPermissionMismatch",
        "InsufficientAccountPermissions", "AuthorizationSourceIPMismatch",
        "AuthorizationProtocolMismatch",  "AuthorizationResourceTypeMismatch",
        "AuthorizationServiceMismatch",   "AccountIsDisabled",
    };
    size_t i;

    for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
        if (blob_code_is(code, denied[i]))
            return true;
    return false;
}

/* Removes every "?query" (up to the next blank) from s: a SAS lives there. */
static void blob_strip_queries(char *s)
{
    char *q, *end;

    for (q = strchr(s, '?'); q; q = strchr(q, '?')) {
        end = q + strcspn(q, " \t");
        if (end > q && end[-1] == ':')
            end--;
        memmove(q, end, strlen(end) + 1);
    }
}

/* No answer arrived: name the endpoint (never a query string) and the cause. */
static int blob_map_transport(int op, const char *what, const char *endpoint, int rc,
                              const struct http_response *resp)
{
    const char *src = resp && resp->error[0] ? resp->error : strerror(-rc);
    char why[256];

    /* The transport's text may start with the request URL: the endpoint is named already. */
    if (strncmp(src, "http", 4) == 0 && strstr(src, ": "))
        src = strstr(src, ": ") + 2;
    snprintf(why, sizeof(why), "%s", src);
    blob_strip_queries(why);
    log_redact(why, sizeof(why));
    log_debug("blob: %s %s: no answer from %s: %s", blob_op_name(op), what, endpoint, why);
    if (rc == -ENOMEM)
        return os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "%s: out of memory", what);
    if (rc == -ETIMEDOUT)
        return os_error_set(-ETIMEDOUT, OSE_TIMEOUT, 0, NULL, NULL,
                            "%s: timed out talking to %s: %s", what, endpoint, why);
    return os_error_set(rc < 0 ? rc : -EIO, OSE_UNREACHABLE, 0, NULL, NULL,
                        "%s: cannot reach the endpoint %s: %s", what, endpoint, why);
}

int blob_map_error(int op, const char *what, const char *endpoint, int rc,
                   const struct http_response *resp)
{
    char code[64] = "", raw[64], msg[256] = "", reqid[96] = "";
    const char *hcode, *hreq;
    long st;

    if (rc < 0 || !resp || resp->status == 0)
        return blob_map_transport(op, what, endpoint, rc < 0 ? rc : -EIO, resp);
    st = resp->status;
    /* The body's Code wins; HEAD answers carry it only in x-ms-error-code. */
    if (resp->body.len)
        blob_error_parse(resp->body.data, resp->body.len, code, sizeof(code), msg, sizeof(msg));
    hcode = http_hdrs_get(&resp->hdrs, "x-ms-error-code");
    if (!code[0] && hcode)
        snprintf(code, sizeof(code), "%s", hcode);
    hreq = http_hdrs_get(&resp->hdrs, "x-ms-request-id");
    if (hreq)
        snprintf(reqid, sizeof(reqid), "%s", hreq);
    snprintf(raw, sizeof(raw), "%s", code[0] ? code : "-");
    /* Azurite answers a bad signature with AuthorizationFailure and Azure's
     * AuthenticationFailed text: that is bad credentials, not a missing permission. */
    if (blob_code_is(code, "AuthorizationFailure") &&
        strncasecmp(msg, "Server failed to authenticate", 29) == 0)
        snprintf(code, sizeof(code), "AuthenticationFailed");
    /* AuthenticationFailed details echo the request's signature: never keep them. */
    if (blob_code_is(code, "AuthenticationFailed"))
        msg[0] = '\0';
    log_redact(msg, sizeof(msg));
    log_debug("blob: %s %s: HTTP %ld %s (request id %s)%s%s", blob_op_name(op), what, st, raw,
              reqid[0] ? reqid : "-", msg[0] ? ": " : "", msg);

    if (blob_code_is(code, "BlobNotFound") || (st == 404 && !code[0] && !blob_op_on_container(op)))
        return os_error_set(-ENOENT, OSE_NOT_FOUND, st, code, reqid, "%s: blob not found", what);
    if (blob_code_is(code, "ContainerNotFound") || (st == 404 && !code[0]))
        return os_error_set(-ENOENT, OSE_NO_BUCKET, st, code, reqid, "%s: container not found",
                            what);
    if (blob_code_is(code, "AuthenticationFailed"))
        return os_error_set(-EACCES, OSE_BAD_CREDENTIALS, st, code, reqid,
                            "%s: bad credentials: the server could not authenticate the request "
                            "(AuthenticationFailed): check the account key or SAS",
                            what);
    if (blob_code_denied(code) || (st == 403 && !code[0]))
        return os_error_set(-EACCES, OSE_ACCESS_DENIED, st, code, reqid, "%s: access denied (%s)",
                            what, code[0] ? code : "HTTP 403");
    if (blob_code_is(code, "BlobArchived"))
        return os_error_set(-EACCES, OSE_ARCHIVED, st, code, reqid,
                            "blob %s is in the Archive tier: rehydrate it first", what);
    if (blob_code_is(code, "ServerBusy") || st == 503 || st == 429)
        return os_error_set(-EAGAIN, OSE_THROTTLED, st, code, reqid,
                            "%s: the service is busy (HTTP %ld %s) after all retries", what, st,
                            code[0] ? code : "");
    if (blob_code_is(code, "ContainerAlreadyExists") || blob_code_is(code, "BlobAlreadyExists"))
        return os_error_set(-EEXIST, OSE_EXISTS, st, code, reqid, "%s: already exists (%s)", what,
                            code);
    if (blob_code_is(code, "ConditionNotMet") || st == 412)
        return os_error_set(-ESTALE, OSE_EXISTS, st, code, reqid,
                            "%s: precondition failed: the blob changed meanwhile", what);
    if (blob_code_is(code, "ContainerBeingDeleted"))
        return os_error_set(-EBUSY, OSE_INVALID, st, code, reqid,
                            "%s: the container is being deleted: try again later", what);
    if (blob_code_is(code, "DirectoryIsNotEmpty"))
        return os_error_set(-ENOTEMPTY, OSE_INVALID, st, code, reqid, "%s: directory is not empty",
                            what);
    if (blob_code_is(code, "Md5Mismatch") || blob_code_is(code, "InvalidMd5"))
        return os_error_set(-EIO, OSE_INVALID, st, code, reqid,
                            "%s: the service refused the data: MD5 mismatch (%s)", what, code);
    if (st >= 500)
        return os_error_set(-EIO, OSE_SERVER, st, code, reqid,
                            "%s: server error (HTTP %ld%s%s) after all retries", what, st,
                            code[0] ? " " : "", code);
    if (st >= 400)
        return os_error_set(-EINVAL, OSE_INVALID, st, code, reqid,
                            "%s: %s refused (HTTP %ld %s)%s%s", what, blob_op_name(op), st,
                            code[0] ? code : "", msg[0] ? ": " : "", msg);
    return os_error_set(-EPROTO, OSE_PROTOCOL, st, code, reqid,
                        "%s: unexpected answer to %s (HTTP %ld)", what, blob_op_name(op), st);
}
