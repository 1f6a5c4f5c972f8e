/* test_buf: the capped growable buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/buf.h"

int main(void)
{
    struct buf b;
    char *s;
    int rc;

    buf_init(&b, 16);
    CHECK_STREQ(buf_str(&b), "", "buf_empty_str_is_empty_string");
    rc = buf_appends(&b, "hello");
    CHECK(rc == 0 && b.len == 5, "buf_appends_ok", "rc=%d len=%zu", rc, b.len);
    rc = buf_appendf(&b, " %d%s", 42, "!");
    CHECK_STREQ(buf_str(&b), "hello 42!", "buf_appendf_formats");
    CHECK(b.data[b.len] == '\0', "buf_nul_terminated", "no NUL");
    rc = buf_appends(&b, "0123456789");
    CHECK(rc == -E2BIG && b.len == 9, "buf_over_cap_fails_unchanged", "rc=%d len=%zu", rc, b.len);
    CHECK_STREQ(buf_str(&b), "hello 42!", "buf_over_cap_keeps_content");
    rc = buf_appendf(&b, "%s", "0123456789");
    CHECK(rc == -E2BIG && b.len == 9, "buf_appendf_over_cap_fails", "rc=%d", rc);
    rc = buf_append(&b, "1234567", 7);
    CHECK(rc == 0 && b.len == 16, "buf_exactly_cap_ok", "rc=%d len=%zu", rc, b.len);
    rc = buf_append(&b, "x", 1);
    CHECK(rc == -E2BIG, "buf_one_past_cap_fails", "rc=%d", rc);
    rc = buf_append(&b, "", 0);
    CHECK(rc == 0, "buf_append_zero_at_cap_ok", "rc=%d", rc);
    buf_reset(&b);
    CHECK(b.len == 0 && strcmp(buf_str(&b), "") == 0, "buf_reset_empties", "len=%zu", b.len);
    rc = buf_append(&b, "a\0b", 3);
    CHECK(rc == 0 && b.len == 3 && memcmp(b.data, "a\0b", 3) == 0, "buf_binary_append",
          "rc=%d", rc);
    s = buf_take(&b);
    CHECK(s && memcmp(s, "a\0b", 3) == 0 && b.data == NULL && b.len == 0, "buf_take_moves",
          "take failed");
    free(s);
    s = buf_take(&b);
    CHECK(s && strcmp(s, "") == 0, "buf_take_empty_gives_empty_string", "got %p", (void *)s);
    free(s);
    buf_free(&b);
    buf_free(NULL);
    CHECK(1, "buf_free_null_noop", "crash");

    /* Growth past the initial allocation, up to a larger cap. */
    buf_init(&b, 1 << 20);
    rc = 0;
    for (int i = 0; i < 10000 && rc == 0; i++)
        rc = buf_appendf(&b, "%04d", i % 10000);
    CHECK(rc == 0 && b.len == 40000 && strncmp(b.data + 39996, "9999", 4) == 0,
          "buf_grows_many_appends", "rc=%d len=%zu", rc, b.len);
    buf_free(&b);

    buf_init(&b, (size_t)-1);
    rc = buf_append(&b, "x", (size_t)-1);
    CHECK(rc == -E2BIG || rc == -ENOMEM, "buf_huge_append_refused", "rc=%d", rc);
    buf_free(&b);
    return CHECK_DONE();
}
