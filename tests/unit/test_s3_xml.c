/* test_s3_xml: S3 response parsing (list, errors, results), hostile XML, error mapping, part sizes,
 * addressing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/buf.h"
#include "core/http.h"
#include "core/objstore.h"
#include "s3/s3.h"
#include "s3/s3_int.h"

#define NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static int parse_list(const char *xml, struct os_list_page *p, char *err, size_t errlen)
{
    return s3_xml_parse_list(xml, strlen(xml), p, err, errlen);
}

static void test_list_basic(void)
{
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult " NS ">"
        "<Name>b</Name><Prefix>dir%2F</Prefix><KeyCount>5</KeyCount><MaxKeys>1000</MaxKeys>"
        "<Delimiter>%2F</Delimiter><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
        "<Contents><Key>dir%2Fz+last%2B.txt</Key><LastModified>2024-05-06T07:08:09.000Z</"
        "LastModified>"
        "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size>"
        "<StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents><Key>dir%2Fa%20caf%C3%A9</Key><LastModified>2024-05-06T07:08:09.500Z</"
        "LastModified>"
        "<ETag>\"0123456789abcdef0123456789abcdef-3\"</ETag><Size>26214400</Size>"
        "<StorageClass>GLACIER</StorageClass></Contents>"
        "<Contents><Key>dir%2Fm%2F</Key><Size>0</Size><StorageClass>DEEP_ARCHIVE</StorageClass></"
        "Contents>"
        "<Contents><Key>dir%2Fold_%24folder%24</Key><Size>0</Size><StorageClass>GLACIER_IR</"
        "StorageClass></Contents>"
        "<CommonPrefixes><Prefix>dir%2Fb%2F</Prefix></CommonPrefixes>"
        "<CommonPrefixes><Prefix>dir%2Fy%2F</Prefix></CommonPrefixes>"
        "</ListBucketResult>";
    struct os_list_page p;
    char err[256] = "";
    int rc = parse_list(xml, &p, err, sizeof(err));

    CHECK(rc == 0 && p.n == 6, "s3_list_parses_contents_and_prefixes", "rc %d n %zu err %s", rc,
          p.n, err);
    if (rc || p.n != 6)
        return;
    CHECK_STREQ(p.items[0].key, "dir/a café", "s3_list_url_decodes_keys_utf8_and_space");
    CHECK_STREQ(p.items[5].key, "dir/z last+.txt", "s3_list_url_decodes_plus_as_space_and_2B");
    CHECK(strcmp(p.items[1].key, "dir/b/") == 0 && p.items[1].is_prefix &&
              strcmp(p.items[2].key, "dir/m/") == 0 && !p.items[2].is_prefix &&
              strcmp(p.items[3].key, "dir/old_$folder$") == 0 &&
              strcmp(p.items[4].key, "dir/y/") == 0 && p.items[4].is_prefix,
          "s3_list_merges_prefixes_in_key_order", "order %s %s %s %s", p.items[1].key,
          p.items[2].key, p.items[3].key, p.items[4].key);
    CHECK(p.items[0].archived && strcmp(p.items[0].storage_class, "GLACIER") == 0,
          "s3_list_glacier_is_archived", "archived %d", p.items[0].archived);
    CHECK(p.items[2].archived, "s3_list_deep_archive_is_archived", "not archived");
    CHECK(!p.items[3].archived && strcmp(p.items[3].storage_class, "GLACIER_IR") == 0,
          "s3_list_glacier_ir_is_not_archived", "archived");
    CHECK(!p.items[5].archived, "s3_list_standard_not_archived", "archived");
    CHECK(p.items[5].has_md5 && p.items[5].md5[0] == 0xd4 && p.items[5].md5[15] == 0x7e &&
              strcmp(p.items[5].etag, "d41d8cd98f00b204e9800998ecf8427e") == 0,
          "s3_list_plain_etag_is_md5_quotes_stripped", "etag %s", p.items[5].etag);
    CHECK(!p.items[0].has_md5 && strcmp(p.items[0].etag, "0123456789abcdef0123456789abcdef-3") == 0,
          "s3_list_multipart_etag_is_not_md5", "has_md5 %d", p.items[0].has_md5);
    CHECK(p.items[0].size == 26214400, "s3_list_size", "size %lld", (long long)p.items[0].size);
    CHECK(p.items[0].last_modified.tv_sec == 1714979289 &&
              p.items[0].last_modified.tv_nsec == 500000000 &&
              p.items[0].mtime.tv_sec == p.items[0].last_modified.tv_sec,
          "s3_list_last_modified_and_mtime", "sec %lld nsec %ld",
          (long long)p.items[0].last_modified.tv_sec, p.items[0].last_modified.tv_nsec);
    CHECK(p.items[2].is_dir_marker && p.items[3].is_dir_marker && !p.items[0].is_dir_marker &&
              !p.items[1].is_dir_marker,
          "s3_list_dir_markers_slash_and_folder_suffix", "flags %d %d", p.items[2].is_dir_marker,
          p.items[3].is_dir_marker);
    CHECK(p.next_token == NULL, "s3_list_not_truncated_has_no_token", "token %s", p.next_token);
    os_list_page_free(&p);
}

static void test_list_paging(void)
{
    struct os_list_page p;
    char err[256] = "";
    int rc;

    rc = parse_list("<ListBucketResult " NS "><IsTruncated>true</IsTruncated>"
                    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</"
                    "NextContinuationToken>"
                    "<Contents><Key>a%20b</Key><Size>1</Size></Contents></ListBucketResult>",
                    &p, err, sizeof(err));
    CHECK(rc == 0 && p.next_token &&
              strcmp(p.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=") == 0,
          "s3_list_truncated_returns_token_verbatim", "rc %d token %s", rc,
          rc == 0 ? p.next_token : err);
    CHECK(rc == 0 && p.n == 1 && strcmp(p.items[0].key, "a%20b") == 0,
          "s3_list_without_encoding_type_keys_not_decoded", "key %s",
          rc == 0 && p.n ? p.items[0].key : "?");
    if (rc == 0)
        os_list_page_free(&p);
    rc = parse_list("<ListBucketResult><IsTruncated>true</IsTruncated>"
                    "<Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResult>",
                    &p, err, sizeof(err));
    CHECK(rc == -EPROTO && strstr(err, "NextContinuationToken"),
          "s3_list_truncated_without_token_is_protocol_error", "rc %d err %s", rc, err);
    rc = parse_list("<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
                    "</ListBucketResult>",
                    &p, err, sizeof(err));
    CHECK(rc == 0 && p.n == 0 && !p.items, "s3_list_empty", "rc %d n %zu", rc, p.n);
    os_list_page_free(&p);
}

static void expect_bad_list(const char *name, const char *xml, size_t len, const char *want_in_err)
{
    struct os_list_page p;
    char err[256] = "";
    int rc = s3_xml_parse_list(xml, len, &p, err, sizeof(err));

    CHECK(rc == -EPROTO && err[0] && (!want_in_err || strstr(err, want_in_err)) && p.n == 0 &&
              !p.items,
          name, "rc %d err \"%s\"", rc, err);
}

#define BAD_LIST(name, lit, want) expect_bad_list(name, lit, sizeof(lit) - 1, want)

static void test_list_bad(void)
{
    static const char *trunc = "<ListBucketResult><Contents><Key>a</Key><Size>1</Si";
    static const char *bomb =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
        "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
        "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
        "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
        "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
        "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
        "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>"
        "<ListBucketResult><Contents><Key>&lol9;</Key><Size>1</Size></Contents></ListBucketResult>";
    static const char *xxe =
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
        "<ListBucketResult><Contents><Key>&e;</Key><Size>1</Size></Contents></ListBucketResult>";
    struct buf b;
    char *big;
    size_t i, n;

    expect_bad_list("s3_list_truncated_xml_is_protocol_error", trunc, strlen(trunc), NULL);
    BAD_LIST("s3_list_garbage_is_protocol_error", "\x01\x02garbage<<>>", NULL);
    expect_bad_list("s3_list_empty_body_is_protocol_error", "", 0, "empty");
    BAD_LIST("s3_list_html_is_protocol_error", "<html><body><h1>400 Bad Request</h1></body></html>",
             "ListBucketResult");
    BAD_LIST("s3_list_error_document_is_protocol_error",
             "<Error><Code>InternalError</Code></Error>", "Error");
    expect_bad_list("s3_list_billion_laughs_refused", bomb, strlen(bomb), "DTD");
    expect_bad_list("s3_list_external_entity_refused", xxe, strlen(xxe), "DTD");
    BAD_LIST("s3_list_missing_key_is_protocol_error",
             "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", "Key");
    BAD_LIST("s3_list_bad_size_is_protocol_error",
             "<ListBucketResult><Contents><Key>a</Key><Size>-5</Size></Contents>"
             "</ListBucketResult>",
             "Size");
    BAD_LIST("s3_list_bad_percent_escape_is_protocol_error",
             "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%zz</Key>"
             "<Size>1</Size></Contents></ListBucketResult>",
             "encoded");
    BAD_LIST("s3_list_nul_escape_is_protocol_error",
             "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%00</Key>"
             "<Size>1</Size></Contents></ListBucketResult>",
             NULL);

    /* 100,000 levels of nesting: libxml2's depth limit, no stack overflow. */
    buf_init(&b, (size_t)8 << 20);
    buf_appends(&b, "<ListBucketResult>");
    for (i = 0; i < 100000; i++)
        buf_appends(&b, "<a>");
    expect_bad_list("s3_list_deep_nesting_refused", b.data, b.len, NULL);
    buf_free(&b);

    /* A single 11 MB key: far over S3's 1,024-byte keys; refused, not passed on. */
    n = (size_t)11 << 20;
    big = malloc(n + 200);
    if (big) {
        size_t o = (size_t)sprintf(big, "<ListBucketResult><Contents><Key>");
        memset(big + o, 'k', n);
        o += n;
        o += (size_t)sprintf(big + o, "</Key><Size>1</Size></Contents></ListBucketResult>");
        expect_bad_list("s3_list_huge_key_refused", big, o, "longer");
        free(big);
    }
    /* Over the document cap (64 MiB): refused before parsing. */
    n = (size_t)65 << 20;
    big = malloc(n);
    if (big) {
        memset(big, ' ', n);
        memcpy(big, "<ListBucketResult>", 18);
        expect_bad_list("s3_list_over_document_cap_refused", big, n, "large");
        free(big);
    }
}

static void test_error_docs(void)
{
    struct s3_xml_error e;
    char err[256] = "";
    const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                    "<Message>The specified key does not exist.</Message><Key>a/b</Key>"
                    "<RequestId>tx123</RequestId></Error>";
    int rc = s3_xml_parse_error(x, strlen(x), &e, err, sizeof(err));

    CHECK(rc == 0 && strcmp(e.code, "NoSuchKey") == 0 &&
              strcmp(e.message, "The specified key does not exist.") == 0 &&
              strcmp(e.request_id, "tx123") == 0 && strcmp(e.key, "a/b") == 0,
          "s3_error_doc_parsed", "rc %d code %s", rc, e.code);
    x = "<html><h1>Bad Request</h1><p>The server could not comply</p></html>";
    rc = s3_xml_parse_error(x, strlen(x), &e, err, sizeof(err));
    CHECK(rc == -EPROTO && err[0], "s3_error_html_page_is_not_error_doc", "rc %d", rc);
    x = "<html><body>unclosed";
    rc = s3_xml_parse_error(x, strlen(x), &e, err, sizeof(err));
    CHECK(rc == -EPROTO && err[0], "s3_error_malformed_html_rejected", "rc %d", rc);
    x = "<Error><Message>no code</Message></Error>";
    rc = s3_xml_parse_error(x, strlen(x), &e, err, sizeof(err));
    CHECK(rc == -EPROTO && strstr(err, "Code"), "s3_error_without_code_rejected", "rc %d err %s",
          rc, err);
    x = "<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the "
        "object's storage class</Message><StorageClass>DEEP_ARCHIVE</StorageClass></Error>";
    rc = s3_xml_parse_error(x, strlen(x), &e, err, sizeof(err));
    CHECK(rc == 0 && strcmp(e.storage_class, "DEEP_ARCHIVE") == 0,
          "s3_error_invalid_object_state_storage_class", "rc %d sc %s", rc, e.storage_class);
}

static void test_results(void)
{
    struct s3_xml_delete_error *errs = NULL;
    struct s3_xml_error e;
    char err[256] = "", *s = NULL;
    size_t n = 0;
    const char *x;
    int rc;

    x = "<InitiateMultipartUploadResult " NS "><Bucket>b</Bucket><Key>k</Key>"
        "<UploadId>VXBsb2FkIElE&amp;x</UploadId></InitiateMultipartUploadResult>";
    rc = s3_xml_parse_upload_id(x, strlen(x), &s, err, sizeof(err));
    CHECK(rc == 0 && s && strcmp(s, "VXBsb2FkIElE&x") == 0, "s3_upload_id_parsed", "rc %d id %s",
          rc, s ? s : "(null)");
    free(s);
    s = NULL;
    x = "<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>";
    rc = s3_xml_parse_upload_id(x, strlen(x), &s, err, sizeof(err));
    CHECK(rc == -EPROTO && !s, "s3_upload_id_missing_is_protocol_error", "rc %d", rc);

    x = "<CompleteMultipartUploadResult><Location>l</"
        "Location><ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>"
        "</CompleteMultipartUploadResult>";
    rc = s3_xml_parse_etag_result(x, strlen(x), &s, &e, err, sizeof(err));
    CHECK(rc == 0 && s && strcmp(s, "3858f62230ac3c915f300c664312c11f-9") == 0,
          "s3_complete_result_etag", "rc %d etag %s", rc, s ? s : "(null)");
    free(s);
    s = NULL;
    x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error><Code>InternalError</Code>"
        "<Message>We encountered an internal error. Please try again.</Message></Error>";
    rc = s3_xml_parse_etag_result(x, strlen(x), &s, &e, err, sizeof(err));
    CHECK(rc == 1 && !s && strcmp(e.code, "InternalError") == 0,
          "s3_complete_200_with_error_detected", "rc %d code %s", rc, e.code);
    x = "<CopyObjectResult><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
        "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyObjectResult>";
    rc = s3_xml_parse_etag_result(x, strlen(x), &s, &e, err, sizeof(err));
    CHECK(rc == 0 && s && strcmp(s, "9b2cf535f27731c974343645a3985328") == 0, "s3_copy_result_etag",
          "rc %d", rc);
    free(s);
    s = NULL;
    x = "<CopyObjectResult><ETag>\"9b2cf535f27731c974343645a3985328\"</ETag>";
    rc = s3_xml_parse_etag_result(x, strlen(x), &s, &e, err, sizeof(err));
    CHECK(rc == -EPROTO && !s, "s3_copy_result_truncated_is_protocol_error", "rc %d", rc);

    x = "<DeleteResult " NS "><Deleted><Key>a</Key></Deleted>"
        "<Error><Key>b &amp; c</Key><Code>AccessDenied</Code><Message>Access "
        "Denied</Message></Error>"
        "<Error><Key>gone</Key><Code>NoSuchKey</Code><Message>x</Message></Error></DeleteResult>";
    rc = s3_xml_parse_delete_result(x, strlen(x), &errs, &n, &e, err, sizeof(err));
    CHECK(rc == 0 && n == 2 && strcmp(errs[0].key, "b & c") == 0 &&
              strcmp(errs[0].code, "AccessDenied") == 0 && strcmp(errs[1].code, "NoSuchKey") == 0,
          "s3_delete_result_per_key_errors", "rc %d n %zu", rc, n);
    s3_xml_delete_errors_free(errs, n);
    x = "<Error><Code>MalformedXML</Code><Message>bad</Message></Error>";
    rc = s3_xml_parse_delete_result(x, strlen(x), &errs, &n, &e, err, sizeof(err));
    CHECK(rc == 1 && strcmp(e.code, "MalformedXML") == 0 && n == 0, "s3_delete_result_whole_error",
          "rc %d", rc);
    x = "<DeleteResult><Error><Code>AccessDenied</Code></Error></DeleteResult>";
    rc = s3_xml_parse_delete_result(x, strlen(x), &errs, &n, &e, err, sizeof(err));
    CHECK(rc == -EPROTO && n == 0 && !errs, "s3_delete_result_error_without_key_rejected", "rc %d",
          rc);
}

static void test_builders(void)
{
    const char *keys[] = {"a&b<c>\"d'", "plain/key"};
    char *etags[] = {"\"abc\"", "def"};
    struct buf b;

    buf_init(&b, 1 << 20);
    s3_xml_build_delete(&b, keys, 2);
    CHECK(strstr(buf_str(&b), "<Quiet>true</Quiet>") &&
              strstr(buf_str(&b), "<Object><Key>a&amp;b&lt;c&gt;&quot;d&apos;</Key></Object>") &&
              strstr(buf_str(&b), "<Object><Key>plain/key</Key></Object></Delete>"),
          "s3_build_delete_escapes_keys", "got %s", buf_str(&b));
    buf_reset(&b);
    s3_xml_build_complete(&b, etags, 2);
    CHECK(strstr(buf_str(&b), "<Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part>"
                              "<Part><PartNumber>2</PartNumber><ETag>&quot;def&quot;</ETag></Part>"
                              "</CompleteMultipartUpload>"),
          "s3_build_complete_quotes_etags", "got %s", buf_str(&b));
    buf_free(&b);
}

/* ---- error mapping ---- */

static struct os_store *test_store(void)
{
    struct s3_config c = {0};
    struct os_store *s = NULL;

    c.bucket = "bkt";
    c.endpoint = "http://127.0.0.1:9";
    c.access_key = "AKIDTEST";
    c.secret_key = "verysecretkeyvalue";
    s3_store_new(NULL, &c, &s);
    return s;
}

static int map(struct os_store *s, int op, const char *key, long status, const char *body,
               const char *rid_hdr)
{
    struct http_response r;
    int rc;

    http_response_init(&r);
    r.status = status;
    if (body)
        buf_appends(&r.body, body);
    if (rid_hdr)
        http_hdrs_add(&r.hdrs, "x-amz-request-id", rid_hdr);
    rc = s3_map_error(s, op, key, 0, &r);
    http_response_free(&r);
    return rc;
}

static void test_map(void)
{
    struct os_store *s = test_store();
    const struct os_error *e = os_last_error();
    struct http_response r;
    int rc;

    CHECK(s != NULL, "s3_store_new_without_client", "no store");
    if (!s)
        return;
    rc = map(s, S3_OP_GET, "a/b", 404,
             "<Error><Code>NoSuchKey</Code><Message>m</Message><RequestId>R1</RequestId></Error>",
             NULL);
    CHECK(rc == -ENOENT && e->kind == OSE_NOT_FOUND && e->http_status == 404 &&
              strcmp(e->code, "NoSuchKey") == 0 && strcmp(e->request_id, "R1") == 0 &&
              strcmp(e->message, "object s3://bkt/a/b not found") == 0,
          "s3_map_no_such_key", "rc %d kind %d msg %s", rc, e->kind, e->message);
    rc = map(s, S3_OP_LIST, NULL, 404, "<Error><Code>NoSuchBucket</Code></Error>", "RH");
    CHECK(rc == -ENOENT && e->kind == OSE_NO_BUCKET && strstr(e->message, "s3://bkt") &&
              strcmp(e->request_id, "RH") == 0,
          "s3_map_no_such_bucket_with_header_request_id", "rc %d kind %d msg %s rid %s", rc,
          e->kind, e->message, e->request_id);
    rc = map(s, S3_OP_HEAD, "k", 404, NULL, NULL);
    CHECK(rc == -ENOENT && e->kind == OSE_NOT_FOUND, "s3_map_head_404_without_body_not_found",
          "rc %d kind %d", rc, e->kind);
    rc = map(s, S3_OP_PUT, "k", 403,
             "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
             "calculated does not match</Message></Error>",
             NULL);
    CHECK(rc == -EACCES && e->kind == OSE_BAD_CREDENTIALS &&
              strcmp(e->message, "bad credentials: the server rejected the request signature "
                                 "(SignatureDoesNotMatch): check AWS_SECRET_ACCESS_KEY") == 0 &&
              !strstr(e->message, "verysecretkeyvalue"),
          "s3_map_signature_does_not_match", "rc %d msg %s", rc, e->message);
    rc = map(s, S3_OP_GET, "k", 403, "<Error><Code>InvalidAccessKeyId</Code></Error>", NULL);
    CHECK(rc == -EACCES && e->kind == OSE_BAD_CREDENTIALS &&
              strstr(e->message, "AWS_ACCESS_KEY_ID"),
          "s3_map_invalid_access_key", "rc %d msg %s", rc, e->message);
    rc = map(s, S3_OP_GET, "k", 400, "<Error><Code>ExpiredToken</Code></Error>", NULL);
    CHECK(rc == -EACCES && e->kind == OSE_BAD_CREDENTIALS &&
              strstr(e->message, "AWS_SESSION_TOKEN"),
          "s3_map_expired_token", "rc %d msg %s", rc, e->message);
    rc = map(s, S3_OP_GET, "k", 403, "<Error><Code>AccessDenied</Code></Error>", NULL);
    CHECK(rc == -EACCES && e->kind == OSE_ACCESS_DENIED, "s3_map_access_denied", "rc %d kind %d",
          rc, e->kind);
    rc = map(s, S3_OP_GET, "cold", 403,
             "<Error><Code>InvalidObjectState</Code><StorageClass>GLACIER</StorageClass></Error>",
             NULL);
    CHECK(rc == -EACCES && e->kind == OSE_ARCHIVED &&
              strcmp(e->message, "object s3://bkt/cold is in GLACIER: restore it first") == 0,
          "s3_map_invalid_object_state_archived", "rc %d msg %s", rc, e->message);
    rc = map(s, S3_OP_PUT, "k", 503, "<Error><Code>SlowDown</Code></Error>", NULL);
    CHECK(rc == -EAGAIN && e->kind == OSE_THROTTLED, "s3_map_slow_down_throttled", "rc %d", rc);
    rc = map(s, S3_OP_PUT, "k", 500,
             "<Error><Code>InternalError</Code><Message>boom</Message></Error>", NULL);
    CHECK(rc == -EIO && e->kind == OSE_SERVER && strstr(e->message, "boom"),
          "s3_map_500_server_error", "rc %d msg %s", rc, e->message);
    rc = map(s, S3_OP_MP_COMMIT, "k", 200, "<Error><Code>InternalError</Code></Error>", NULL);
    CHECK(rc == -EIO && e->kind == OSE_SERVER, "s3_map_200_with_error_body", "rc %d kind %d", rc,
          e->kind);
    rc = map(s, S3_OP_MKBUCKET, NULL, 409, "<Error><Code>BucketAlreadyOwnedByYou</Code></Error>",
             NULL);
    CHECK(rc == -EEXIST && e->kind == OSE_EXISTS, "s3_map_bucket_exists", "rc %d", rc);
    rc = map(s, S3_OP_PUT, "k", 400,
             "<Error><Code>InvalidArgument</Code><Message>Bad header x</Message></Error>", NULL);
    CHECK(rc == -EINVAL && e->kind == OSE_INVALID && strcmp(e->code, "InvalidArgument") == 0 &&
              strstr(e->message, "Bad header x"),
          "s3_map_other_4xx_keeps_code_and_message", "rc %d msg %s", rc, e->message);
    rc = map(s, S3_OP_GET, "k", 400,
             "<html><h1>Bad Request</h1><p>The server could not comply with the request</p></html>",
             NULL);
    CHECK(rc == -EINVAL && e->kind == OSE_INVALID && strstr(e->message, "HTTP 400") &&
              strstr(e->message, "Bad Request The server could not"),
          "s3_map_swift_400_html_page", "rc %d msg %s", rc, e->message);
    rc = map(s, S3_OP_LIST, NULL, 412, "Bad URL", NULL);
    CHECK(rc == -EINVAL && e->kind == OSE_INVALID && strstr(e->message, "(Bad URL)"),
          "s3_map_swift_412_bad_url_text", "rc %d msg %s", rc, e->message);
    rc = map(s, S3_OP_GET, "k", 404, "<html><h1>Not Found</h1></html>", NULL);
    CHECK(rc == -ENOENT && e->kind == OSE_NOT_FOUND, "s3_map_404_html_is_not_found",
          "rc %d kind %d", rc, e->kind);
    rc = map(s, S3_OP_PUT, "k", 400, "<Error><Code>RequestTimeout</Code></Error>", NULL);
    CHECK(rc == -ETIMEDOUT && e->kind == OSE_TIMEOUT, "s3_map_request_timeout", "rc %d", rc);

    http_response_init(&r);
    snprintf(r.error, sizeof(r.error), "Failed to connect to 127.0.0.1 port 9");
    rc = s3_map_error(s, S3_OP_LIST, NULL, -ECONNREFUSED, &r);
    CHECK(rc == -ECONNREFUSED && e->kind == OSE_UNREACHABLE &&
              strstr(e->message, "http://127.0.0.1:9"),
          "s3_map_connection_refused_names_endpoint", "rc %d msg %s", rc, e->message);
    rc = s3_map_error(s, S3_OP_GET, "k", -ETIMEDOUT, &r);
    CHECK(rc == -ETIMEDOUT && e->kind == OSE_TIMEOUT, "s3_map_transport_timeout", "rc %d", rc);
    http_response_free(&r);
    os_store_free(s);
}

static void test_part_sizes(void)
{
    const size_t mib = (size_t)1 << 20;
    int64_t tib5 = (int64_t)5 << 40, total = 0;
    size_t ps;
    int i;

    CHECK(s3_part_size(100 * (int64_t)mib, 1) == 8 * mib, "s3_part_size_small_known_is_8mib",
          "got %zu", s3_part_size(100 * (int64_t)mib, 1));
    ps = s3_part_size(tib5, 1);
    CHECK(ps % mib == 0 && (int64_t)ps * 10000 >= tib5 && ps == 525 * mib,
          "s3_part_size_5tib_fits_10000_parts", "got %zu", ps);
    CHECK(s3_part_size(-1, 1) == 8 * mib && s3_part_size(-1, 1000) == 8 * mib &&
              s3_part_size(-1, 1001) == 16 * mib && s3_part_size(-1, 10000) == 4096 * mib,
          "s3_part_size_unknown_grows_every_1000_parts", "got %zu %zu", s3_part_size(-1, 1001),
          s3_part_size(-1, 10000));
    for (i = 1; i <= 10000; i++)
        total += (int64_t)s3_part_size(-1, i);
    CHECK(total > tib5, "s3_part_size_unknown_reaches_over_5tib", "total %lld", (long long)total);
}

static void test_addressing(void)
{
    struct s3_config c = {0};
    struct os_store *s = NULL;
    struct s3_be *be;
    struct buf b;

    buf_init(&b, 1 << 16);
    c.bucket = "my-bucket";
    c.region = "eu-west-1";
    c.access_key = "A";
    c.secret_key = "S";
    s3_store_new(NULL, &c, &s);
    be = s ? s->be : NULL;
    if (be)
        s3_url(be, "dir/a b+c%.txt", NULL, &b);
    CHECK_STREQ(be ? buf_str(&b) : NULL,
                "https://my-bucket.s3.eu-west-1.amazonaws.com/dir/a%20b%2Bc%25.txt",
                "s3_addressing_aws_virtual_hosted");
    os_store_free(s);
    s = NULL;
    buf_reset(&b);
    c.bucket = "my.dotted.bucket";
    s3_store_new(NULL, &c, &s);
    be = s ? s->be : NULL;
    if (be)
        s3_url(be, NULL, "list-type=2", &b);
    CHECK_STREQ(be ? buf_str(&b) : NULL,
                "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket?list-type=2",
                "s3_addressing_dotted_bucket_falls_back_to_path_style");
    os_store_free(s);
    s = NULL;
    buf_reset(&b);
    c.bucket = "bkt";
    c.endpoint = "http://127.0.0.1:8080/";
    s3_store_new(NULL, &c, &s);
    be = s ? s->be : NULL;
    if (be)
        s3_url(be, "k", "uploads", &b);
    CHECK_STREQ(be ? buf_str(&b) : NULL, "http://127.0.0.1:8080/bkt/k?uploads",
                "s3_addressing_custom_endpoint_path_style");
    os_store_free(s);
    s = NULL;
    buf_reset(&b);
    c.virtual_hosted = true;
    s3_store_new(NULL, &c, &s);
    be = s ? s->be : NULL;
    if (be)
        s3_url(be, NULL, NULL, &b);
    CHECK_STREQ(be ? buf_str(&b) : NULL, "http://bkt.127.0.0.1:8080/",
                "s3_addressing_custom_endpoint_virtual_hosted_forced");
    os_store_free(s);
    s = NULL;
    c.bucket = "a/b";
    CHECK(s3_store_new(NULL, &c, &s) == -EINVAL && !s, "s3_store_new_rejects_slash_in_bucket",
          "accepted");
    c.bucket = "bkt";
    c.endpoint = "ftp://x";
    CHECK(s3_store_new(NULL, &c, &s) == -EINVAL && !s, "s3_store_new_rejects_non_http_endpoint",
          "accepted");
    buf_free(&b);
}

static void test_head_headers(void)
{
    struct http_hdrs h = {0};
    struct os_info i;
    int rc;

    http_hdrs_add(&h, "Content-Length", "1234");
    http_hdrs_add(&h, "ETag", "\"0123456789abcdef0123456789abcdef-2\"");
    http_hdrs_add(&h, "Last-Modified", "Mon, 06 May 2024 07:08:09 GMT");
    http_hdrs_add(&h, "Content-Type", "text/plain");
    http_hdrs_add(&h, "X-Amz-Meta-Mtime", "1714979289.123456789");
    http_hdrs_add(&h, "x-amz-meta-md5chksum", "1B2M2Y8AsgTpgAmY7PhCfg==");
    http_hdrs_add(&h, "X-AMZ-META-Color", "blue");
    http_hdrs_add(&h, "x-amz-storage-class", "GLACIER");
    http_hdrs_add(&h, "x-amz-restore",
                  "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"");
    rc = s3_info_from_headers("d/f", &h, &i);
    CHECK(rc == 0 && i.size == 1234 && strcmp(i.etag, "0123456789abcdef0123456789abcdef-2") == 0 &&
              strcmp(i.content_type, "text/plain") == 0,
          "s3_head_size_etag_type", "rc %d", rc);
    CHECK(rc == 0 && i.mtime.tv_sec == 1714979289 && i.mtime.tv_nsec == 123456789 &&
              i.last_modified.tv_sec == 1714979289 && i.last_modified.tv_nsec == 0,
          "s3_head_mtime_from_metadata", "mtime %lld.%ld", (long long)i.mtime.tv_sec,
          i.mtime.tv_nsec);
    CHECK(rc == 0 && i.has_md5 && i.md5[0] == 0xd4 && i.md5[15] == 0x7e,
          "s3_head_md5_from_md5chksum", "has_md5 %d", i.has_md5);
    CHECK(rc == 0 && os_info_meta(&i, "color") && strcmp(os_info_meta(&i, "color"), "blue") == 0 &&
              strcmp(i.meta[2].key, "color") == 0,
          "s3_head_user_metadata_lowercased", "n_meta %zu", i.n_meta);
    CHECK(rc == 0 && strcmp(i.storage_class, "GLACIER") == 0 && !i.archived,
          "s3_head_restored_glacier_not_archived", "archived %d", i.archived);
    os_info_clear(&i);
    http_hdrs_set(&h, "x-amz-restore", "ongoing-request=\"true\"");
    rc = s3_info_from_headers("d/f", &h, &i);
    CHECK(rc == 0 && i.archived, "s3_head_restore_in_progress_still_archived", "archived %d",
          i.archived);
    os_info_clear(&i);
    http_hdrs_free(&h);
    http_hdrs_add(&h, "Content-Length", "0");
    http_hdrs_add(&h, "ETag", "\"d41d8cd98f00b204e9800998ecf8427e\"");
    http_hdrs_add(&h, "Last-Modified", "Mon, 06 May 2024 07:08:09 GMT");
    http_hdrs_add(&h, "x-amz-meta-mtime", "1714979000");
    rc = s3_info_from_headers("dir/", &h, &i);
    CHECK(rc == 0 && i.has_md5 && i.md5[0] == 0xd4 && strcmp(i.storage_class, "STANDARD") == 0 &&
              !i.archived && i.is_dir_marker && i.mtime.tv_sec == 1714979000,
          "s3_head_plain_etag_md5_default_class_dir_marker_s3fs_mtime", "rc %d", rc);
    os_info_clear(&i);
    http_hdrs_free(&h);
    http_hdrs_add(&h, "Content-Range", "bytes 0-9/5000");
    http_hdrs_add(&h, "Content-Length", "10");
    rc = s3_info_from_headers("k", &h, &i);
    CHECK(rc == 0 && i.size == 5000, "s3_get_size_from_content_range", "size %lld",
          (long long)i.size);
    os_info_clear(&i);
    http_hdrs_free(&h);
}

static void test_put_headers(void)
{
    struct http_hdrs h = {0};
    struct os_meta meta[] = {{"Color", "blue"}, {"mtime", "ignored"}, {"md5chksum", "old"}};
    struct timespec ts = {1714979289, 5};
    struct os_put_opts o = {0};
    int rc;

    o.meta = meta;
    o.n_meta = 3;
    o.mtime = &ts;
    rc = s3_add_put_headers(&h, &o, "NEWMD5==");
    CHECK(rc == 0 && strcmp(http_hdrs_get(&h, "content-type"), "application/octet-stream") == 0 &&
              strcmp(http_hdrs_get(&h, "x-amz-meta-color"), "blue") == 0 &&
              strcmp(http_hdrs_get(&h, "x-amz-meta-mtime"), "1714979289.000000005") == 0 &&
              strcmp(http_hdrs_get(&h, "x-amz-meta-md5chksum"), "NEWMD5==") == 0,
          "s3_put_headers_meta_mtime_md5chksum", "rc %d", rc);
    http_hdrs_free(&h);
    meta[0].value = "bad\r\nInjected: yes";
    rc = s3_add_put_headers(&h, &o, NULL);
    CHECK(rc == -EINVAL, "s3_put_headers_reject_header_injection", "rc %d", rc);
    http_hdrs_free(&h);
}

int main(void)
{
    test_list_basic();
    test_list_paging();
    test_list_bad();
    test_error_docs();
    test_results();
    test_builders();
    test_map();
    test_part_sizes();
    test_addressing();
    test_head_headers();
    test_put_headers();
    return CHECK_DONE();
}
