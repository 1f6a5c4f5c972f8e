/* test_url: store URL parsing, naming rules, and percent-encoding. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/buf.h"
#include "core/url.h"

static int parse(const char *s, struct store_url *u, char *err, size_t errlen)
{
    return url_parse(s, u, err, errlen);
}

int main(void)
{
    struct store_url u;
    char err[256];
    struct buf b;
    char *dec;
    int rc;

    rc = parse("s3://my-bucket", &u, err, sizeof(err));
    CHECK(rc == 0 && u.kind == URL_S3, "url_s3_bucket_only", "rc=%d err=%s", rc, err);
    CHECK_STREQ(u.bucket, "my-bucket", "url_s3_bucket_name");
    CHECK_STREQ(u.prefix, "", "url_s3_empty_prefix");
    CHECK(u.account == NULL && u.endpoint == NULL && u.sas == NULL, "url_s3_no_azure_fields",
          "set");
    url_free(&u);

    rc = parse("s3://my.bucket.01/some/dir/", &u, err, sizeof(err));
    CHECK(rc == 0, "url_s3_with_prefix", "rc=%d err=%s", rc, err);
    CHECK_STREQ(u.prefix, "some/dir/", "url_s3_prefix_keeps_trailing_slash");
    url_free(&u);

    rc = parse("s3://bucket/", &u, err, sizeof(err));
    CHECK(rc == 0 && strcmp(u.prefix, "") == 0, "url_s3_trailing_slash_only", "rc=%d", rc);
    url_free(&u);

    rc = parse("s3://Bad_Bucket", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "s3://Bad_Bucket: invalid bucket name"),
          "url_s3_bad_bucket_message", "err=%s", err);
    rc = parse("s3://ab", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "3 to 63"), "url_s3_too_short", "err=%s", err);
    rc = parse("s3://a..b", &u, err, sizeof(err));
    CHECK(rc == -EINVAL, "url_s3_double_dot", "rc=%d", rc);
    rc = parse("s3://-abc", &u, err, sizeof(err));
    CHECK(rc == -EINVAL, "url_s3_leading_dash", "rc=%d", rc);
    rc = parse("s3://192.168.1.1", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "IP"), "url_s3_ip_address", "err=%s", err);
    rc = parse("s3://", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "s3://: missing bucket name"), "url_s3_missing_bucket",
          "err=%s", err);
    {
        char longname[80];

        memset(longname, 'a', 64);
        longname[64] = '\0';
        char s[100];
        snprintf(s, sizeof(s), "s3://%s", longname);
        rc = parse(s, &u, err, sizeof(err));
        CHECK(rc == -EINVAL, "url_s3_too_long", "rc=%d", rc);
    }

    rc = parse("az://container/pre/fix", &u, err, sizeof(err));
    CHECK(rc == 0 && u.kind == URL_AZ, "url_az_basic", "rc=%d err=%s", rc, err);
    CHECK_STREQ(u.bucket, "container", "url_az_container");
    CHECK_STREQ(u.prefix, "pre/fix", "url_az_prefix");
    CHECK(u.account == NULL, "url_az_account_from_creds", "account set");
    url_free(&u);
    rc = parse("az://", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strcmp(err, "az://: missing container name") == 0,
          "url_az_missing_container", "err=%s", err);
    rc = parse("az://my--container", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "--"), "url_az_double_dash", "err=%s", err);
    rc = parse("az://-abc", &u, err, sizeof(err));
    CHECK(rc == -EINVAL, "url_az_leading_dash", "rc=%d", rc);
    rc = parse("az://My", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "invalid container name"), "url_az_uppercase",
          "err=%s", err);
    rc = parse("az://a.b.c", &u, err, sizeof(err));
    CHECK(rc == -EINVAL, "url_az_dot_refused", "rc=%d", rc);
    rc = parse("az://$root", &u, err, sizeof(err));
    CHECK(rc == 0, "url_az_root_container", "rc=%d err=%s", rc, err);
    url_free(&u);

    rc = parse("https://myacct.blob.core.windows.net/cont/a%20b/c?sv=2022&sig=abc%2B", &u, err,
               sizeof(err));
    CHECK(rc == 0 && u.kind == URL_AZ, "url_https_azure", "rc=%d err=%s", rc, err);
    CHECK_STREQ(u.account, "myacct", "url_https_account");
    CHECK_STREQ(u.endpoint, "https://myacct.blob.core.windows.net", "url_https_endpoint");
    CHECK_STREQ(u.bucket, "cont", "url_https_container");
    CHECK_STREQ(u.prefix, "a b/c", "url_https_prefix_decoded");
    CHECK_STREQ(u.sas, "sv=2022&sig=abc%2B", "url_https_sas_without_qmark");
    url_free(&u);
    rc = parse("https://myacct.blob.core.windows.net/cont", &u, err, sizeof(err));
    CHECK(rc == 0 && u.sas == NULL && strcmp(u.prefix, "") == 0, "url_https_no_sas", "rc=%d",
          rc);
    url_free(&u);
    rc = parse("https://myacct.blob.core.windows.net/", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "missing container name"), "url_https_no_container",
          "err=%s", err);
    rc = parse("https://example.com/x", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "not an Azure Blob URL"), "url_https_not_azure",
          "err=%s", err);
    rc = parse("http://127.0.0.1:10000/devstoreaccount1/cont/p?sig=x", &u, err, sizeof(err));
    CHECK(rc == 0 && strcmp(u.account, "devstoreaccount1") == 0 &&
              strcmp(u.endpoint, "http://127.0.0.1:10000/devstoreaccount1") == 0 &&
              strcmp(u.bucket, "cont") == 0 && strcmp(u.prefix, "p") == 0,
          "url_emulator_path_style", "rc=%d err=%s", rc, err);
    url_free(&u);

    rc = parse("ftp://host/x", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "unknown scheme \"ftp\""), "url_unknown_scheme_named",
          "err=%s", err);
    rc = parse("/local/path", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "not a store URL"), "url_plain_path_refused", "err=%s",
          err);
    /* In s3:// and az:// URLs '?' and '#' belong to the key, as in aws-cli and rclone. */
    rc = parse("s3://bucket/key?x=1#frag", &u, err, sizeof(err));
    CHECK(rc == 0 && strcmp(u.prefix, "key?x=1#frag") == 0, "url_s3_query_chars_in_key",
          "rc=%d err=%s", rc, err);
    url_free(&u);
    rc = parse("az://cont/a#b?c", &u, err, sizeof(err));
    CHECK(rc == 0 && strcmp(u.prefix, "a#b?c") == 0, "url_az_query_chars_in_key",
          "rc=%d err=%s", rc, err);
    url_free(&u);
    rc = parse("s3://bucket?x", &u, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "invalid bucket name"), "url_s3_query_in_bucket_refused",
          "rc=%d err=%s", rc, err);

    CHECK(url_is_store("s3://b") && url_is_store("az://c") &&
              url_is_store("https://a.blob.core.windows.net/c") && !url_is_store("/tmp/x") &&
              !url_is_store("https://example.com/"),
          "url_is_store", "wrong");

    buf_init(&b, 1024);
    url_encode_append(&b, "a b/c~d_e.f-g+h=i&j%k\xc3\xa9", true);
    CHECK_STREQ(buf_str(&b), "a%20b/c~d_e.f-g%2Bh%3Di%26j%25k%C3%A9", "url_encode_keep_slash");
    buf_reset(&b);
    url_encode_append(&b, "a/b", false);
    CHECK_STREQ(buf_str(&b), "a%2Fb", "url_encode_slash_encoded");
    buf_free(&b);

    rc = url_decode("a%20b%2fc+d", false, &dec);
    CHECK(rc == 0 && strcmp(dec, "a b/c+d") == 0, "url_decode_basic", "got %s", dec);
    free(dec);
    rc = url_decode("a+b", true, &dec);
    CHECK(rc == 0 && strcmp(dec, "a b") == 0, "url_decode_plus_space", "got %s", dec);
    free(dec);
    rc = url_decode("bad%2", false, &dec);
    CHECK(rc == -EINVAL && dec == NULL, "url_decode_truncated_escape", "rc=%d", rc);
    rc = url_decode("bad%zz", false, &dec);
    CHECK(rc == -EINVAL, "url_decode_bad_hex", "rc=%d", rc);
    rc = url_decode("nul%00byte", false, &dec);
    CHECK(rc == -EINVAL, "url_decode_nul_refused", "rc=%d", rc);
    url_free(NULL);
    return CHECK_DONE();
}
