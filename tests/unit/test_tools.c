/* test_tools: the pure helpers of the bridgefs command (parsing, formatting, exit codes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/objstore.h"
#include "tools/cli.h"
#include "tools/exitcodes.h"

static void test_range(void)
{
    int64_t off = -5, len = -5;

    CHECK(cli_parse_range("0-9", &off, &len) == 0 && off == 0 && len == 10, "range_closed",
          "off=%lld len=%lld", (long long)off, (long long)len);
    CHECK(cli_parse_range("100-", &off, &len) == 0 && off == 100 && len == -1, "range_open",
          "off=%lld len=%lld", (long long)off, (long long)len);
    CHECK(cli_parse_range("7-7", &off, &len) == 0 && off == 7 && len == 1, "range_one_byte",
          "len=%lld", (long long)len);
    CHECK(cli_parse_range("9-3", &off, &len) == -EINVAL, "range_reversed_rejected", "accepted");
    CHECK(cli_parse_range("-5", &off, &len) == -EINVAL, "range_suffix_rejected", "accepted");
    CHECK(cli_parse_range("abc", &off, &len) == -EINVAL, "range_garbage_rejected", "accepted");
    CHECK(cli_parse_range("1-2x", &off, &len) == -EINVAL, "range_trailing_rejected", "accepted");
    CHECK(cli_parse_range("", &off, &len) == -EINVAL, "range_empty_rejected", "accepted");
    CHECK(cli_parse_range("99999999999999999999-", &off, &len) == -EINVAL,
          "range_overflow_rejected", "accepted");
}

static void test_meta(void)
{
    char *k = NULL, *v = NULL;

    CHECK(cli_parse_meta("Color=Blue=ish", &k, &v) == 0 && k && v && strcmp(k, "color") == 0 &&
              strcmp(v, "Blue=ish") == 0,
          "meta_key_lowercased_value_kept", "k=%s v=%s", k ? k : "-", v ? v : "-");
    free(k);
    free(v);
    CHECK(cli_parse_meta("empty=", &k, &v) == 0 && v && v[0] == '\0', "meta_empty_value",
          "v=%s", v ? v : "(null)");
    free(k);
    free(v);
    CHECK(cli_parse_meta("=x", &k, &v) == -EINVAL && !k && !v, "meta_empty_key_rejected",
          "accepted");
    CHECK(cli_parse_meta("novalue", &k, &v) == -EINVAL, "meta_no_equals_rejected", "accepted");
    CHECK(cli_parse_meta("bad key=1", &k, &v) == -EINVAL, "meta_space_in_key_rejected",
          "accepted");
}

static void test_size(void)
{
    uint64_t v = 0;

    CHECK(cli_parse_size("1048576", &v) == 0 && v == 1048576, "size_plain", "v=%llu",
          (unsigned long long)v);
    CHECK(cli_parse_size("16M", &v) == 0 && v == 16u << 20, "size_m", "v=%llu",
          (unsigned long long)v);
    CHECK(cli_parse_size("8MiB", &v) == 0 && v == 8u << 20, "size_mib", "v=%llu",
          (unsigned long long)v);
    CHECK(cli_parse_size("1g", &v) == 0 && v == 1u << 30, "size_g_lower", "v=%llu",
          (unsigned long long)v);
    CHECK(cli_parse_size("0", &v) == -EINVAL, "size_zero_rejected", "accepted");
    CHECK(cli_parse_size("12Q", &v) == -EINVAL, "size_bad_suffix_rejected", "accepted");
    CHECK(cli_parse_size("99999999999T", &v) == -EINVAL, "size_overflow_rejected", "accepted");
}

static void test_epoch_and_time(void)
{
    struct timespec ts = {0};
    char out[64];

    CHECK(cli_parse_epoch("1714979289", &ts) == 0 && ts.tv_sec == 1714979289 && ts.tv_nsec == 0,
          "epoch_integer", "sec=%lld", (long long)ts.tv_sec);
    CHECK(cli_parse_epoch("1714979289.25", &ts) == 0 && ts.tv_nsec == 250000000, "epoch_decimal",
          "nsec=%ld", ts.tv_nsec);
    CHECK(cli_parse_epoch("yesterday", &ts) == -EINVAL, "epoch_garbage_rejected", "accepted");
    CHECK(cli_parse_epoch("12.", &ts) == -EINVAL, "epoch_dangling_dot_rejected", "accepted");

    ts.tv_sec = 1714979289;
    ts.tv_nsec = 0;
    cli_format_time(&ts, true, out, sizeof(out));
    CHECK_STREQ(out, "2024-05-06T07:08:09Z", "time_format_utc");
    ts.tv_nsec = 123456789;
    cli_format_time(&ts, true, out, sizeof(out));
    CHECK_STREQ(out, "2024-05-06T07:08:09.123456789Z", "time_format_nanos");
    cli_format_time(&ts, false, out, sizeof(out));
    CHECK_STREQ(out, "2024-05-06T07:08:09Z", "time_format_no_nanos");
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
    cli_format_time(&ts, true, out, sizeof(out));
    CHECK_STREQ(out, "-", "time_format_unknown");
}

static void test_exit_codes(void)
{
    CHECK(cli_exit_code(0, OSE_NONE) == CLI_EXIT_OK, "exit_ok", "wrong");
    CHECK(cli_exit_code(-ENOENT, OSE_NO_BUCKET) == 3, "exit_no_bucket_3", "wrong");
    CHECK(cli_exit_code(-ENOENT, OSE_NOT_FOUND) == 3, "exit_not_found_3", "wrong");
    CHECK(cli_exit_code(-EACCES, OSE_BAD_CREDENTIALS) == 4, "exit_bad_creds_4", "wrong");
    CHECK(cli_exit_code(-EACCES, OSE_ACCESS_DENIED) == 4, "exit_denied_4", "wrong");
    CHECK(cli_exit_code(-ECONNREFUSED, OSE_UNREACHABLE) == 5, "exit_unreachable_5", "wrong");
    CHECK(cli_exit_code(-ETIMEDOUT, OSE_TIMEOUT) == 5, "exit_timeout_5", "wrong");
    CHECK(cli_exit_code(-EAGAIN, OSE_THROTTLED) == 5, "exit_throttled_5", "wrong");
    CHECK(cli_exit_code(-EIO, OSE_SERVER) == 5, "exit_server_5", "wrong");
    CHECK(cli_exit_code(-EACCES, OSE_ARCHIVED) == 6, "exit_archived_6", "wrong");
    CHECK(cli_exit_code(-EINVAL, OSE_INVALID) == 1, "exit_invalid_request_1", "wrong");
    CHECK(cli_exit_code(-EEXIST, OSE_EXISTS) == 1, "exit_exists_1", "wrong");
    CHECK(cli_exit_code(-ENOENT, OSE_NONE) == 3, "exit_errno_enoent_3", "wrong");
    CHECK(cli_exit_code(-ECONNREFUSED, OSE_NONE) == 5, "exit_errno_refused_5", "wrong");
    CHECK(cli_exit_code(-ENOMEM, OSE_NONE) == 1, "exit_errno_other_1", "wrong");
    CHECK(CLI_EXIT_USAGE == 2 && CLI_EXIT_PARTIAL == 7, "exit_constants", "wrong");
}

static void test_entry_names(void)
{
    struct os_info i = {0};
    char *name = NULL;
    bool dir = false;
    int r;

    i.key = "a/b/file.txt";
    r = cli_entry_name(&i, "a/b/", &name, &dir);
    CHECK(r == 1 && !dir && name && strcmp(name, "file.txt") == 0, "entry_object", "r=%d %s", r,
          name ? name : "-");
    free(name);
    i.key = "a/b/sub/";
    i.is_prefix = true;
    r = cli_entry_name(&i, "a/b/", &name, &dir);
    CHECK(r == 1 && dir && name && strcmp(name, "sub/") == 0, "entry_prefix", "r=%d", r);
    free(name);
    i.is_prefix = false;
    i.is_dir_marker = true;
    i.key = "a/b/";
    r = cli_entry_name(&i, "a/b/", &name, &dir);
    CHECK(r == 0 && !name, "entry_own_marker_hidden", "r=%d", r);
    i.key = "a/b/old_$folder$";
    r = cli_entry_name(&i, "a/b/", &name, &dir);
    CHECK(r == 1 && dir && name && strcmp(name, "old/") == 0, "entry_s3fs_folder_marker",
          "r=%d %s", r, name ? name : "-");
    free(name);
    i.key = "a/b/azdir";
    r = cli_entry_name(&i, "a/b/", &name, &dir);
    CHECK(r == 1 && dir && name && strcmp(name, "azdir/") == 0, "entry_hdi_isfolder_marker",
          "r=%d", r);
    free(name);
    i.is_dir_marker = false;
    i.key = "a/b/x/y/z.bin";
    r = cli_entry_name(&i, "a/b/", &name, &dir);
    CHECK(r == 1 && !dir && name && strcmp(name, "x/y/z.bin") == 0, "entry_recursive_path",
          "r=%d", r);
    free(name);
    i.key = "a/b/x/deep/";
    r = cli_entry_name(&i, "a/b/", &name, &dir);
    CHECK(r == 1 && dir && name && strcmp(name, "x/deep/") == 0, "entry_slash_object_is_dir",
          "r=%d", r);
    free(name);
    i.key = "other/file";
    r = cli_entry_name(&i, "a/b/", &name, &dir);
    CHECK(r == 0, "entry_outside_base_hidden", "r=%d", r);
    i.key = "top.txt";
    r = cli_entry_name(&i, "", &name, &dir);
    CHECK(r == 1 && name && strcmp(name, "top.txt") == 0, "entry_bucket_root", "r=%d", r);
    free(name);
}

static void test_ls_lines(void)
{
    struct os_info i = {0};
    struct buf b;

    buf_init(&b, 4096);
    i.key = "d/f";
    i.size = 1234;
    i.mtime.tv_sec = 1714979289;
    i.has_md5 = true;
    for (int k = 0; k < 16; k++)
        i.md5[k] = (unsigned char)(0x10 * (k % 16) + k);
    cli_format_ls_line(&b, &i, "f", false, true);
    CHECK_STREQ(buf_str(&b),
                "1234  2024-05-06T07:08:09Z  00112233445566778899aabbccddeeff  f\n",
                "ls_long_object_md5");
    buf_reset(&b);
    i.has_md5 = false;
    i.etag = "abc-3";
    cli_format_ls_line(&b, &i, "f", false, true);
    CHECK_STREQ(buf_str(&b), "1234  2024-05-06T07:08:09Z  abc-3  f\n", "ls_long_object_etag");
    buf_reset(&b);
    i.mtime.tv_sec = 0;
    cli_format_ls_line(&b, &i, "sub/", true, true);
    CHECK_STREQ(buf_str(&b), "-  -  -  sub/\n", "ls_long_dir");
    buf_reset(&b);
    cli_format_ls_line(&b, &i, "plain name", false, false);
    CHECK_STREQ(buf_str(&b), "plain name\n", "ls_short");
    buf_free(&b);
}

static void test_put_key(void)
{
    char *k = NULL;

    CHECK(cli_put_key("dir/", "/tmp/x/file.bin", &k) == 0 && k && strcmp(k, "dir/file.bin") == 0,
          "putkey_prefix_gets_basename", "%s", k ? k : "-");
    free(k);
    CHECK(cli_put_key("", "file.bin", &k) == 0 && k && strcmp(k, "file.bin") == 0,
          "putkey_bucket_root", "%s", k ? k : "-");
    free(k);
    CHECK(cli_put_key("dir/name", "/tmp/other", &k) == 0 && k && strcmp(k, "dir/name") == 0,
          "putkey_explicit_name", "%s", k ? k : "-");
    free(k);
    CHECK(cli_put_key("dir/", "-", &k) == -EINVAL && !k, "putkey_stdin_needs_name", "accepted");
    CHECK(cli_put_key("dir/", "..", &k) == -EINVAL, "putkey_dotdot_rejected", "accepted");
}

static void test_errors(void)
{
    struct os_error e;
    char out[1024];

    memset(&e, 0, sizeof(e));
    e.err = -ENOENT;
    e.kind = OSE_NO_BUCKET;
    e.http_status = 404;
    snprintf(e.code, sizeof(e.code), "NoSuchBucket");
    cli_format_error(out, sizeof(out), "ls", "s3://bucket/dir/x", -ENOENT, &e, "s3", "s3://bucket",
                     "http://127.0.0.1:1");
    CHECK_STREQ(out, "ls s3://bucket/dir/x: bucket not found: s3://bucket (HTTP 404 NoSuchBucket)",
                "error_no_bucket_line");

    e.kind = OSE_NO_BUCKET;
    snprintf(e.code, sizeof(e.code), "ContainerNotFound");
    cli_format_error(out, sizeof(out), "cat", "az://c/x", -ENOENT, &e, "blob", "az://c", NULL);
    CHECK(strstr(out, "container not found: az://c") != NULL, "error_no_container_line", "%s",
          out);

    e.err = -EACCES;
    e.kind = OSE_BAD_CREDENTIALS;
    e.http_status = 403;
    snprintf(e.code, sizeof(e.code), "SignatureDoesNotMatch");
    cli_format_error(out, sizeof(out), "ls", "s3://b", -EACCES, &e, "s3", "s3://b", NULL);
    CHECK(strstr(out, "bad credentials") && strstr(out, "SignatureDoesNotMatch") &&
              strstr(out, "AWS_SECRET_ACCESS_KEY"),
          "error_bad_signature_explained", "%s", out);

    snprintf(e.code, sizeof(e.code), "AuthenticationFailed");
    cli_format_error(out, sizeof(out), "ls", "az://c", -EACCES, &e, "blob", "az://c", NULL);
    CHECK(strstr(out, "AuthenticationFailed") && strstr(out, "account key or SAS"),
          "error_azure_auth_explained", "%s", out);

    memset(&e, 0, sizeof(e));
    e.err = -ECONNREFUSED;
    e.kind = OSE_UNREACHABLE;
    snprintf(e.message, sizeof(e.message), "Connection refused");
    cli_format_error(out, sizeof(out), "ls", "s3://b", -ECONNREFUSED, &e, "s3", "s3://b",
                     "http://127.0.0.1:9");
    CHECK(strstr(out, "endpoint unreachable: http://127.0.0.1:9") != NULL,
          "error_unreachable_names_endpoint", "%s", out);

    cli_format_error(out, sizeof(out), "cat", "s3://b/k", -ENOMEM, NULL, "s3", "s3://b", NULL);
    CHECK(strstr(out, "cat s3://b/k: ") == out && strstr(out, strerror(ENOMEM)),
          "error_local_errno", "%s", out);

    memset(&e, 0, sizeof(e));
    e.err = -EIO;
    e.kind = OSE_SERVER;
    e.http_status = 500;
    snprintf(e.code, sizeof(e.code), "InternalError");
    snprintf(e.message, sizeof(e.message), "Get Blob az://c/x: server error after all retries");
    cli_format_error(out, sizeof(out), "cat", "az://c/x", -EIO, &e, "blob", "az://c", NULL);
    CHECK_STREQ(out, "cat az://c/x: server error after all retries (HTTP 500 InternalError)",
                "error_backend_message_without_url_prefix");

    log_add_secret("TOPSECRETVALUE123");
    memset(&e, 0, sizeof(e));
    e.err = -EINVAL;
    e.kind = OSE_INVALID;
    snprintf(e.message, sizeof(e.message), "key TOPSECRETVALUE123 rejected");
    cli_format_error(out, sizeof(out), "ls", "s3://b", -EINVAL, &e, "s3", "s3://b", NULL);
    CHECK(strstr(out, "TOPSECRETVALUE123") == NULL, "error_secret_redacted", "%s", out);
}

int main(void)
{
    test_range();
    test_meta();
    test_size();
    test_epoch_and_time();
    test_exit_codes();
    test_entry_names();
    test_ls_lines();
    test_put_key();
    test_errors();
    return CHECK_DONE();
}
