/* test_blob_xml: List Blobs and error parsing, error mapping, hostile XML. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blob/blob.h"
#include "check.h"
#include "core/buf.h"
#include "core/http.h"
#include "core/objstore.h"

static const char list1[] =
    "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<EnumerationResults ServiceEndpoint=\"http://127.0.0.1:10000/devstoreaccount1\" "
    "ContainerName=\"c\"><Prefix>d/</Prefix><Marker /><MaxResults>5</MaxResults>"
    "<Delimiter>/</Delimiter><Blobs>"
    "<Blob><Name>d/zeta.txt</Name><Properties>"
    "<Creation-Time>Mon, 06 May 2024 07:08:09 GMT</Creation-Time>"
    "<Last-Modified>Mon, 06 May 2024 07:08:09 GMT</Last-Modified>"
    "<Etag>0x8DC6D9E1F2A3B4C</Etag><Content-Length>1234</Content-Length>"
    "<Content-Type>text/plain</Content-Type><Content-Encoding />"
    "<Content-MD5>XrY7u+Ae7tCTyyK7j1rNww==</Content-MD5><BlobType>BlockBlob</BlobType>"
    "<AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred>"
    "<LeaseStatus>unlocked</LeaseStatus></Properties>"
    "<Metadata><Mtime>2024-05-06T07:08:09.123456789Z</Mtime><Color>blue</Color></Metadata></Blob>"
    "<Blob><Name>d/alpha</Name><Properties>"
    "<Last-Modified>Tue, 07 May 2024 00:00:00 GMT</Last-Modified><Etag>\"0x1\"</Etag>"
    "<Content-Length>0</Content-Length><Content-Type>application/octet-stream</Content-Type>"
    "<Content-MD5 /><AccessTier>Cool</AccessTier></Properties>"
    "<Metadata><hdi_isfolder>true</hdi_isfolder></Metadata></Blob>"
    "<Blob><Name>d/cold &amp; old.bin</Name><Properties>"
    "<Last-Modified>Tue, 07 May 2024 00:00:00 GMT</Last-Modified><Etag>0x2</Etag>"
    "<Content-Length>99999999999</Content-Length><AccessTier>Archive</AccessTier>"
    "<ArchiveStatus>rehydrate-pending-to-hot</ArchiveStatus></Properties><Metadata /></Blob>"
    "<BlobPrefix><Name>d/beta/</Name></BlobPrefix>"
    "<BlobPrefix><Name>d/yak/</Name></BlobPrefix>"
    "</"
    "Blobs><NextMarker>2!84!"
    "MDAwMDE5IWQvemV0YS50eHQhMDAwMDI4ITk5OTktMTItMzFUMjM6NTk6NTkuOTk5OTk5OVoh</NextMarker>"
    "</EnumerationResults>";

static void test_list(void)
{
    struct os_list_page p;
    const struct os_info *a, *b, *c, *y, *z;
    int rc = blob_list_parse(list1, sizeof(list1) - 1, "az://c/d/", &p);

    CHECK(rc == 0 && p.n == 5, "xml_list_parses_five_entries", "rc %d n %zu", rc, p.n);
    if (rc != 0 || p.n != 5)
        return;
    a = &p.items[0];
    b = &p.items[1];
    c = &p.items[2];
    y = &p.items[3];
    z = &p.items[4];
    CHECK(strcmp(a->key, "d/alpha") == 0 && strcmp(b->key, "d/beta/") == 0 &&
              strcmp(c->key, "d/cold & old.bin") == 0 && strcmp(y->key, "d/yak/") == 0 &&
              strcmp(z->key, "d/zeta.txt") == 0,
          "xml_list_prefixes_merged_in_name_order", "%s %s %s %s %s", a->key, b->key, c->key,
          y->key, z->key);
    CHECK(b->is_prefix && y->is_prefix && !a->is_prefix && !z->is_prefix, "xml_list_prefix_flags",
          "flags");
    CHECK(z->size == 1234 && z->has_md5 && z->md5[0] == 0x5e && z->md5[15] == 0xc3 &&
              strcmp(z->etag, "0x8DC6D9E1F2A3B4C") == 0 &&
              strcmp(z->content_type, "text/plain") == 0 && strcmp(z->storage_class, "Hot") == 0 &&
              !z->archived,
          "xml_list_blob_properties", "size %lld", (long long)z->size);
    CHECK(os_info_meta(z, "color") && strcmp(os_info_meta(z, "color"), "blue") == 0 &&
              strcmp(z->meta[0].key, "mtime") == 0,
          "xml_list_metadata_keys_lowercased", "meta");
    CHECK(z->mtime.tv_sec == 1714979289 && z->mtime.tv_nsec == 123456789 &&
              z->last_modified.tv_sec == 1714979289 && z->last_modified.tv_nsec == 0,
          "xml_list_mtime_from_metadata", "mtime %lld.%ld", (long long)z->mtime.tv_sec,
          z->mtime.tv_nsec);
    CHECK(a->is_dir_marker && a->size == 0 && !a->has_md5 && strcmp(a->etag, "0x1") == 0 &&
              a->mtime.tv_sec == a->last_modified.tv_sec,
          "xml_list_hdi_isfolder_marker", "marker %d", a->is_dir_marker);
    CHECK(c->archived && strcmp(c->storage_class, "Archive") == 0 && c->size == 99999999999LL &&
              !c->is_dir_marker && c->content_type == NULL,
          "xml_list_archive_tier", "archived %d", c->archived);
    CHECK(p.next_token && strncmp(p.next_token, "2!84!", 5) == 0, "xml_list_next_marker",
          "token %s", p.next_token ? p.next_token : "(null)");
    os_list_page_free(&p);
}

static void test_list_empty(void)
{
    static const char empty[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"c\">"
        "<Prefix>nothing</Prefix><Blobs /><NextMarker /></EnumerationResults>";
    struct os_list_page p;
    int rc = blob_list_parse(empty, sizeof(empty) - 1, "az://c/nothing", &p);

    CHECK(rc == 0 && p.n == 0 && p.next_token == NULL, "xml_list_empty_last_page", "rc %d", rc);
    os_list_page_free(&p);
}

static void test_list_encoded_name(void)
{
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"c\">"
        "<Blobs><Blob><Name Encoded=\"true\">a%EF%BF%BEb%20c</Name><Properties>"
        "<Content-Length>3</Content-Length><Last-Modified>Mon, 06 May 2024 07:08:09 GMT"
        "</Last-Modified><Etag>0x1</Etag><BlobType>BlockBlob</BlobType></Properties></Blob>"
        "<Blob><Name Encoded=\"false\">p%20q</Name><Properties>"
        "<Content-Length>1</Content-Length><Last-Modified>Mon, 06 May 2024 07:08:09 GMT"
        "</Last-Modified><Etag>0x2</Etag><BlobType>BlockBlob</BlobType></Properties></Blob>"
        "</Blobs><NextMarker /></EnumerationResults>";
    struct os_list_page p;
    int rc = blob_list_parse(doc, sizeof(doc) - 1, "az://c/", &p);

    CHECK(rc == 0 && p.n == 2 && strcmp(p.items[0].key, "a\xEF\xBF\xBE" "b c") == 0,
          "xml_list_encoded_name_decoded", "rc %d key %s", rc, p.n ? p.items[0].key : "-");
    CHECK(rc == 0 && p.n == 2 && strcmp(p.items[1].key, "p%20q") == 0,
          "xml_list_unencoded_name_kept", "rc %d", rc);
    os_list_page_free(&p);
}

/* Expects blob_list_parse to refuse doc with -EPROTO and OSE_PROTOCOL. */
static void expect_bad(const char *doc, size_t len, const char *name)
{
    struct os_list_page p;
    int rc;

    os_error_clear();
    rc = blob_list_parse(doc, len, "az://c/x", &p);
    CHECK(rc == -EPROTO && os_last_error()->kind == OSE_PROTOCOL && p.n == 0 && !p.items &&
              strstr(os_last_error()->message, "az://c/x"),
          name, "rc %d kind %d msg %s", rc, os_last_error()->kind, os_last_error()->message);
    os_list_page_free(&p);
}

static void test_list_bad(void)
{
    static const char laughs[] =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
        "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
        "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
        "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
        "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
        "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
        "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>"
        "<EnumerationResults><Blobs><Blob><Name>&lol9;</Name></Blob></Blobs></EnumerationResults>";
    static const char xxe[] =
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<EnumerationResults><Blobs><BlobPrefix><Name>&x;</Name></BlobPrefix></Blobs>"
        "</EnumerationResults>";
    static const char nolen[] =
        "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties><Etag>1</Etag>"
        "</Properties></Blob></Blobs></EnumerationResults>";
    static const char badlen[] =
        "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties>"
        "<Content-Length>99999999999999999999999</Content-Length></Properties></Blob></Blobs>"
        "</EnumerationResults>";
    static const char noname[] =
        "<EnumerationResults><Blobs><BlobPrefix><Nom>a/</Nom></BlobPrefix></Blobs>"
        "</EnumerationResults>";
    static const char wrongroot[] = "<ListBucketResult><Contents/></ListBucketResult>";
    struct buf deep;
    int i;

    expect_bad(list1, sizeof(list1) / 2, "xml_list_truncated");
    expect_bad("", 0, "xml_list_empty_body");
    expect_bad("<html><body>Bad gateway", 23, "xml_list_html_garbage");
    expect_bad(laughs, sizeof(laughs) - 1, "xml_list_billion_laughs");
    expect_bad(xxe, sizeof(xxe) - 1, "xml_list_external_entity");
    expect_bad(nolen, sizeof(nolen) - 1, "xml_list_blob_without_length");
    expect_bad(badlen, sizeof(badlen) - 1, "xml_list_blob_length_overflow");
    expect_bad(noname, sizeof(noname) - 1, "xml_list_prefix_without_name");
    expect_bad(wrongroot, sizeof(wrongroot) - 1, "xml_list_wrong_root");
    buf_init(&deep, 16u << 20);
    buf_appends(&deep, "<EnumerationResults><Blobs>");
    for (i = 0; i < 100000; i++)
        buf_appends(&deep, "<a>");
    expect_bad(deep.data, deep.len, "xml_list_deep_nesting");
    buf_free(&deep);
}

static void test_error_parse(void)
{
    static const char err[] =
        "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code>"
        "<Message>The specified blob does not exist.\nRequestId:1a2b\nTime:2024-05-06T07:08:09Z"
        "</Message></Error>";
    char code[64], msg[256];
    int rc = blob_error_parse(err, sizeof(err) - 1, code, sizeof(code), msg, sizeof(msg));

    CHECK(rc == 0 && strcmp(code, "BlobNotFound") == 0 &&
              strcmp(msg, "The specified blob does not exist.") == 0,
          "xml_error_code_and_first_line", "rc %d code %s msg %s", rc, code, msg);
    rc = blob_error_parse("<Error><Message>x</Message></Error>", 35, code, sizeof(code), msg,
                          sizeof(msg));
    CHECK(rc == -EPROTO, "xml_error_without_code_refused", "rc %d", rc);
    rc = blob_error_parse("<Error><Code>Trunc", 18, code, sizeof(code), msg, sizeof(msg));
    CHECK(rc == -EPROTO, "xml_error_truncated_refused", "rc %d", rc);
}

/* Builds a response and maps it. */
static int map(int op, long status, const char *hcode, const char *body)
{
    struct http_response r;
    int rc;

    http_response_init(&r);
    r.status = status;
    if (hcode)
        http_hdrs_add(&r.hdrs, "x-ms-error-code", hcode);
    http_hdrs_add(&r.hdrs, "x-ms-request-id", "req-42");
    if (body)
        buf_appends(&r.body, body);
    rc = blob_map_error(op, "az://c/b", "http://127.0.0.1:10000/devstoreaccount1", 0, &r);
    http_response_free(&r);
    return rc;
}

#define ERRBODY(code, msg)                                                                         \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" code "</Code><Message>" msg          \
    "</Message></Error>"

static void test_map(void)
{
    const struct os_error *e = os_last_error();
    struct http_response r;
    int rc;

    rc = map(BLOB_OP_GET, 404, NULL, ERRBODY("BlobNotFound", "The specified blob does not exist."));
    CHECK(rc == -ENOENT && e->kind == OSE_NOT_FOUND && strcmp(e->code, "BlobNotFound") == 0 &&
              strcmp(e->request_id, "req-42") == 0 && e->http_status == 404,
          "map_blob_not_found", "rc %d kind %d", rc, e->kind);
    rc = map(BLOB_OP_HEAD, 404, "ContainerNotFound", NULL);
    CHECK(rc == -ENOENT && e->kind == OSE_NO_BUCKET, "map_head_container_not_found_from_header",
          "rc %d kind %d", rc, e->kind);
    rc = map(BLOB_OP_HEAD, 404, NULL, NULL);
    CHECK(rc == -ENOENT && e->kind == OSE_NOT_FOUND, "map_head_bare_404_is_blob_not_found",
          "rc %d kind %d", rc, e->kind);
    rc = map(BLOB_OP_LIST, 404, NULL, NULL);
    CHECK(rc == -ENOENT && e->kind == OSE_NO_BUCKET, "map_list_bare_404_is_container_not_found",
          "rc %d kind %d", rc, e->kind);
    rc = map(BLOB_OP_GET, 403, NULL,
             "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code>"
             "<Message>Server failed to authenticate the request.\nRequestId:x</Message>"
             "<AuthenticationErrorDetail>The MAC signature found in the HTTP request "
             "'SECRETSIG123=' is not the same</AuthenticationErrorDetail></Error>");
    CHECK(rc == -EACCES && e->kind == OSE_BAD_CREDENTIALS &&
              strstr(e->message, "bad credentials: the server could not authenticate the request "
                                 "(AuthenticationFailed): check the account key or SAS") &&
              !strstr(e->message, "SECRETSIG"),
          "map_authentication_failed", "rc %d kind %d msg %s", rc, e->kind, e->message);
    rc = map(BLOB_OP_HEAD, 403, "AuthenticationFailed", NULL);
    CHECK(rc == -EACCES && e->kind == OSE_BAD_CREDENTIALS, "map_head_authentication_failed_header",
          "rc %d kind %d", rc, e->kind);
    rc = map(BLOB_OP_LIST, 403, "AuthorizationFailure",
             ERRBODY("AuthorizationFailure",
                     "Server failed to authenticate the request. Make "
                     "sure the value of the Authorization header is formed correctly including "
                     "the signature.\nRequestId:x"));
    CHECK(rc == -EACCES && e->kind == OSE_BAD_CREDENTIALS &&
              strcmp(e->code, "AuthenticationFailed") == 0,
          "map_azurite_bad_signature_is_bad_credentials", "rc %d kind %d", rc, e->kind);
    rc = map(BLOB_OP_PUT, 403, NULL, ERRBODY("AuthorizationPermissionMismatch", "no"));
    CHECK(rc == -EACCES && e->kind == OSE_ACCESS_DENIED, "map_authorization_mismatch",
          "rc %d kind %d", rc, e->kind);
    rc = map(BLOB_OP_LIST, 403, NULL, ERRBODY("AuthorizationFailure", "no"));
    CHECK(rc == -EACCES && e->kind == OSE_ACCESS_DENIED, "map_authorization_failure",
          "rc %d kind %d", rc, e->kind);
    rc = map(BLOB_OP_GET, 409, NULL,
             ERRBODY("BlobArchived", "This operation is not permitted on an archived blob."));
    CHECK(rc == -EACCES && e->kind == OSE_ARCHIVED &&
              strcmp(e->message, "blob az://c/b is in the Archive tier: rehydrate it first") == 0,
          "map_blob_archived", "rc %d kind %d msg %s", rc, e->kind, e->message);
    rc = map(BLOB_OP_PUT, 503, "ServerBusy", NULL);
    CHECK(rc == -EAGAIN && e->kind == OSE_THROTTLED, "map_server_busy", "rc %d", rc);
    rc = map(BLOB_OP_PUT, 500, NULL, ERRBODY("InternalError", "oops"));
    CHECK(rc == -EIO && e->kind == OSE_SERVER, "map_500_server", "rc %d", rc);
    rc = map(BLOB_OP_MKBUCKET, 409, NULL, ERRBODY("ContainerAlreadyExists", "exists"));
    CHECK(rc == -EEXIST && e->kind == OSE_EXISTS, "map_container_exists", "rc %d", rc);
    rc = map(BLOB_OP_LIST, 400, NULL, ERRBODY("InvalidQueryParameterValue", "bad maxresults"));
    CHECK(rc == -EINVAL && e->kind == OSE_INVALID && strstr(e->message, "bad maxresults"),
          "map_other_4xx_invalid", "rc %d msg %s", rc, e->message);
    rc = map(BLOB_OP_PUT, 502, NULL, "<html>bad gateway</html>");
    CHECK(rc == -EIO && e->kind == OSE_SERVER, "map_5xx_html_body", "rc %d", rc);

    http_response_init(&r);
    snprintf(r.error, sizeof(r.error), "Failed to connect to 127.0.0.1 port 1: Connection refused");
    rc = blob_map_error(BLOB_OP_HEAD, "az://c/b", "http://127.0.0.1:1/devstoreaccount1",
                        -ECONNREFUSED, &r);
    CHECK(rc == -ECONNREFUSED && e->kind == OSE_UNREACHABLE &&
              strstr(e->message, "http://127.0.0.1:1/devstoreaccount1"),
          "map_transport_unreachable_names_endpoint", "rc %d msg %s", rc, e->message);
    rc = blob_map_error(BLOB_OP_GET, "az://c/b", "http://127.0.0.1:1/devstoreaccount1", -ETIMEDOUT,
                        &r);
    CHECK(rc == -ETIMEDOUT && e->kind == OSE_TIMEOUT, "map_transport_timeout", "rc %d", rc);
    snprintf(r.error, sizeof(r.error),
             "https://a.blob.core.windows.net/c/b?sv=2021&se=x&sig=AbC%%3D: Operation timed out "
             "(GET https://a.blob.core.windows.net/c/b?sv=2021&sp=r)");
    rc = blob_map_error(BLOB_OP_GET, "az://c/b", "http://127.0.0.1:1/devstoreaccount1", -ETIMEDOUT,
                        &r);
    CHECK(!strchr(e->message, '?') && !strstr(e->message, "sv=") && !strstr(e->message, "sig") &&
              strstr(e->message, "Operation timed out"),
          "map_transport_message_has_no_query_string", "msg %s", e->message);
    http_response_free(&r);
}

/* Metadata names Azure cannot carry travel renamed (AzCopy's RenameIfInvalid) and come
 * back under their own name when read. */
static void test_meta_rename(void)
{
    struct os_meta m[] = {{(char *)"content-id", (char *)"x1"},
                          {(char *)"my.key", (char *)"y2"},
                          {(char *)"ok_name", (char *)"z3"}};
    struct os_put_opts o = {.meta = m, .n_meta = 3};
    struct http_hdrs h = {0};
    struct os_info i = {0};
    int rc = blob_put_headers(&h, &o, false);
    const char *rk = http_hdrs_get(&h, "x-ms-meta-rename_key_content_id");
    const char *rv = http_hdrs_get(&h, "x-ms-meta-rename_content_id");

    CHECK(rc == 0 && rk && strcmp(rk, "content-id") == 0 && rv && strcmp(rv, "x1") == 0 &&
              http_hdrs_get(&h, "x-ms-meta-rename_my_key") &&
              strcmp(http_hdrs_get(&h, "x-ms-meta-ok_name"), "z3") == 0 &&
              !http_hdrs_get(&h, "x-ms-meta-content-id"),
          "blob_meta_invalid_name_stored_renamed", "rc %d", rc);
    for (size_t k = 0; k < h.n; k++)
        if (strncmp(h.v[k].name, "x-ms-meta-", 10) == 0)
            os_info_set_meta(&i, h.v[k].name + 10, h.v[k].value);
    blob_info_finish(&i);
    CHECK(i.n_meta == 3 && os_info_meta(&i, "content-id") &&
              strcmp(os_info_meta(&i, "content-id"), "x1") == 0 && os_info_meta(&i, "my.key") &&
              strcmp(os_info_meta(&i, "my.key"), "y2") == 0 && !os_info_meta(&i, "rename_my_key") &&
              !os_info_meta(&i, "rename_key_my_key"),
          "blob_meta_renamed_name_read_back", "n_meta %zu", i.n_meta);
    os_info_clear(&i);
    http_hdrs_free(&h);

    /* two names that become the same: refused, not one silently lost */
    m[0].key = (char *)"a-b";
    m[1].key = (char *)"a.b";
    o.n_meta = 2;
    memset(&h, 0, sizeof(h));
    rc = blob_put_headers(&h, &o, false);
    CHECK(rc == -EINVAL && strstr(os_last_error()->message, "a-b") &&
              strstr(os_last_error()->message, "a.b"),
          "blob_meta_rename_collision_refused", "rc %d", rc);
    http_hdrs_free(&h);

    /* a rename_key_ pair without its value pair is left alone */
    memset(&i, 0, sizeof(i));
    os_info_set_meta(&i, "rename_key_q", "q-q");
    blob_info_finish(&i);
    CHECK(i.n_meta == 1 && os_info_meta(&i, "rename_key_q"), "blob_meta_lone_rename_key_kept",
          "n_meta %zu", i.n_meta);
    os_info_clear(&i);
}

int main(void)
{
    test_meta_rename();
    test_list();
    test_list_empty();
    test_list_encoded_name();
    test_list_bad();
    test_error_parse();
    test_map();
    return CHECK_DONE();
}
