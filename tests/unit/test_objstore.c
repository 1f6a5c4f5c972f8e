/* test_objstore: object info helpers, thread-local errors, mtime and date formats. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/objstore.h"

static void *err_thread(void *arg)
{
    (void)arg;
    os_error_set(-EIO, OSE_SERVER, 500, "InternalError", "req-2", "boom");
    return (void *)(long)(os_last_error()->err == -EIO);
}

static int freed;
static void fake_free(void *be)
{
    freed++;
    free(be);
}

int main(void)
{
    struct os_info i;
    struct timespec ts, got;
    char s[64];
    int rc;

    memset(&i, 0, sizeof(i));
    rc = os_info_set_meta(&i, "Mtime", "1");
    rc |= os_info_set_meta(&i, "color", "red");
    CHECK(rc == 0 && i.n_meta == 2, "os_meta_add", "rc=%d n=%zu", rc, i.n_meta);
    CHECK_STREQ(i.meta[0].key, "mtime", "os_meta_key_lowercased");
    CHECK_STREQ(os_info_meta(&i, "MTIME"), "1", "os_meta_lookup_case_insensitive");
    rc = os_info_set_meta(&i, "COLOR", "blue");
    CHECK(rc == 0 && i.n_meta == 2 && strcmp(os_info_meta(&i, "color"), "blue") == 0,
          "os_meta_replace", "n=%zu", i.n_meta);
    CHECK(os_info_meta(&i, "nope") == NULL, "os_meta_absent_null", "not null");
    i.key = strdup("k");
    i.etag = strdup("e");
    os_info_clear(&i);
    CHECK(i.key == NULL && i.n_meta == 0 && i.meta == NULL, "os_info_clear_zeroes", "not zero");
    os_info_clear(NULL);

    {
        struct os_list_page p;

        memset(&p, 0, sizeof(p));
        p.items = calloc(2, sizeof(*p.items));
        p.n = 2;
        p.items[0].key = strdup("a");
        p.items[1].key = strdup("b/");
        os_info_set_meta(&p.items[1], "x", "y");
        p.next_token = strdup("t");
        os_list_page_free(&p);
        CHECK(p.items == NULL && p.n == 0 && p.next_token == NULL, "os_list_page_free",
              "not freed");
        os_list_page_free(NULL);
    }

    os_error_clear();
    CHECK(os_last_error()->err == 0 && os_last_error()->kind == OSE_NONE, "os_error_clear",
          "not clear");
    rc = os_error_set(-ENOENT, OSE_NOT_FOUND, 404, "NoSuchKey", "req-1", "GET %s: %s", "s3://b/k",
                      "not found");
    CHECK(rc == -ENOENT && os_last_error()->http_status == 404 &&
              strcmp(os_last_error()->code, "NoSuchKey") == 0 &&
              strcmp(os_last_error()->request_id, "req-1") == 0 &&
              strcmp(os_last_error()->message, "GET s3://b/k: not found") == 0,
          "os_error_set_fields", "msg=%s", os_last_error()->message);
    os_error_set(-EACCES, OSE_ACCESS_DENIED, 403, "AccessDenied", NULL,
                 "url https://a.blob.core.windows.net/c?sv=1&sig=SECRETSIG");
    CHECK(strstr(os_last_error()->message, "SECRETSIG") == NULL, "os_error_message_redacted",
          "msg=%s", os_last_error()->message);
    {
        pthread_t th;
        void *res;

        os_error_set(-ENOENT, OSE_NOT_FOUND, 404, "NoSuchKey", NULL, "x");
        pthread_create(&th, NULL, err_thread, NULL);
        pthread_join(th, &res);
        CHECK(res && os_last_error()->err == -ENOENT, "os_error_thread_local",
              "other thread changed ours");
    }
    CHECK_STREQ(os_errkind_str(OSE_NOT_FOUND), "object not found", "os_errkind_str_not_found");
    CHECK(os_errkind_str(999) && os_errkind_str(OSE_ARCHIVED)[0], "os_errkind_str_all",
          "null");

    {
        struct os_store *st = calloc(1, sizeof(*st));
        static struct os_ops ops;

        ops.free = fake_free;
        st->ops = &ops;
        st->be = malloc(8);
        st->url_base = strdup("s3://b");
        os_store_free(st);
        os_store_free(NULL);
        CHECK(freed == 1, "os_store_free_calls_backend_free", "freed=%d", freed);
    }

    ts.tv_sec = 1714979289;
    ts.tv_nsec = 123456789;
    os_mtime_format_s3(&ts, s, sizeof(s));
    CHECK_STREQ(s, "1714979289.123456789", "os_mtime_format_s3");
    ts.tv_sec = 1714979289;
    ts.tv_nsec = 5;
    os_mtime_format_s3(&ts, s, sizeof(s));
    CHECK_STREQ(s, "1714979289.000000005", "os_mtime_format_s3_small_nsec");
    ts.tv_sec = 1714979289; /* 2024-05-06T07:08:09Z */
    ts.tv_nsec = 123456789;
    os_mtime_format_az(&ts, s, sizeof(s));
    CHECK_STREQ(s, "2024-05-06T07:08:09.123456789Z", "os_mtime_format_az");
    CHECK(os_mtime_format_s3(&ts, s, 5) == -ENOSPC, "os_mtime_format_small_buffer", "no error");

    rc = os_mtime_parse("1714979289.123456789", &got);
    CHECK(rc == 0 && got.tv_sec == 1714979289 && got.tv_nsec == 123456789,
          "os_mtime_parse_s3", "rc=%d %ld.%ld", rc, (long)got.tv_sec, got.tv_nsec);
    rc = os_mtime_parse("2024-05-06T07:08:09.123456789Z", &got);
    CHECK(rc == 0 && got.tv_sec == 1714979289 && got.tv_nsec == 123456789,
          "os_mtime_parse_az", "rc=%d %ld.%ld", rc, (long)got.tv_sec, got.tv_nsec);
    rc = os_mtime_parse("1714979289", &got);
    CHECK(rc == 0 && got.tv_sec == 1714979289 && got.tv_nsec == 0, "os_mtime_parse_integer",
          "rc=%d", rc);
    rc = os_mtime_parse("1714979289.5", &got);
    CHECK(rc == 0 && got.tv_nsec == 500000000, "os_mtime_parse_few_decimals", "nsec=%ld",
          got.tv_nsec);
    rc = os_mtime_parse("2024-05-06T09:08:09+02:00", &got);
    CHECK(rc == 0 && got.tv_sec == 1714979289, "os_mtime_parse_offset", "rc=%d sec=%ld", rc,
          (long)got.tv_sec);
    CHECK(os_mtime_parse("abc", &got) == -EINVAL && os_mtime_parse("", &got) == -EINVAL &&
              os_mtime_parse("12x", &got) == -EINVAL && os_mtime_parse("1.", &got) == -EINVAL &&
              os_mtime_parse("2024-13-06T07:08:09Z", &got) == -EINVAL &&
              os_mtime_parse("2024-05-06T07:08:09", &got) == -EINVAL,
          "os_mtime_parse_rejects_garbage", "accepted garbage");
    rc = os_time_parse("Mon, 06 May 2024 07:08:09 GMT", &got);
    CHECK(rc == 0 && got.tv_sec == 1714979289 && got.tv_nsec == 0, "os_time_parse_http_date",
          "rc=%d sec=%ld", rc, (long)got.tv_sec);
    rc = os_time_parse("2024-05-06T07:08:09.000Z", &got);
    CHECK(rc == 0 && got.tv_sec == 1714979289, "os_time_parse_iso", "rc=%d", rc);
    CHECK(os_time_parse("Mon, 06 Foo 2024 07:08:09 GMT", &got) == -EINVAL &&
              os_time_parse("yesterday", &got) == -EINVAL,
          "os_time_parse_rejects_garbage", "accepted");
    /* Round trip both formats. */
    ts.tv_sec = 0;
    ts.tv_nsec = 1;
    os_mtime_format_az(&ts, s, sizeof(s));
    rc = os_mtime_parse(s, &got);
    CHECK(rc == 0 && got.tv_sec == 0 && got.tv_nsec == 1, "os_mtime_roundtrip_epoch", "s=%s", s);
    return CHECK_DONE();
}
