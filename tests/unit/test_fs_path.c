/* test_fs_path: path mapping between mount paths, keys and listing entries. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "core/objstore.h"
#include "fs/fs_path.h"

static void item_case(const char *name, const char *key, bool prefix, bool marker, const char *pfx,
                      int want_rc, const char *want_name, bool want_dir)
{
    struct os_info it = {0};
    char *got = NULL;
    bool dir = false;
    int rc;

    it.key = (char *)key;
    it.is_prefix = prefix;
    it.is_dir_marker = marker;
    rc = fs_list_item_name(&it, pfx, &got, &dir);
    CHECK(rc == want_rc && (!want_name || (got && strcmp(got, want_name) == 0)) &&
              (rc != 1 || dir == want_dir),
          name, "rc %d name %s dir %d", rc, got ? got : "(null)", dir);
    free(got);
}

int main(void)
{
    char *s;
    bool enomem;

    s = fs_path_join("", "a");
    CHECK_STREQ(s, "a", "fs_path_join_root");
    free(s);
    s = fs_path_join("a/b", "c d");
    CHECK_STREQ(s, "a/b/c d", "fs_path_join_nested");
    free(s);
    s = fs_path_dir_prefix("");
    CHECK_STREQ(s, "", "fs_path_dir_prefix_root");
    free(s);
    s = fs_path_dir_prefix("x/y");
    CHECK_STREQ(s, "x/y/", "fs_path_dir_prefix_dir");
    free(s);
    s = fs_path_normalize("//a//b/");
    CHECK_STREQ(s, "a/b", "fs_path_normalize_slashes");
    free(s);
    s = fs_path_normalize("/");
    CHECK_STREQ(s, "", "fs_path_normalize_root");
    free(s);
    CHECK_STREQ(fs_path_name("a/b/c"), "c", "fs_path_name_last");
    CHECK_STREQ(fs_path_name("c"), "c", "fs_path_name_single");

    s = fs_path_rebase("a/b/c", "a/b", "x", &enomem);
    CHECK_STREQ(s, "x/c", "fs_path_rebase_below");
    free(s);
    s = fs_path_rebase("a/b", "a/b", "x/y", &enomem);
    CHECK_STREQ(s, "x/y", "fs_path_rebase_self");
    free(s);
    s = fs_path_rebase("a/bc", "a/b", "x", &enomem);
    CHECK(s == NULL && !enomem, "fs_path_rebase_sibling_prefix_not_below", "got %s", s);
    free(s);

    CHECK(fs_name_valid("a b%+#"), "fs_name_valid_odd_chars", "refused");
    CHECK(!fs_name_valid("") && !fs_name_valid(".") && !fs_name_valid("..") &&
              !fs_name_valid("a/b"),
          "fs_name_valid_refuses_special", "accepted");

    item_case("fs_list_item_file", "d/f.txt", false, false, "d/", 1, "f.txt", false);
    item_case("fs_list_item_prefix", "d/sub/", true, false, "d/", 1, "sub", true);
    item_case("fs_list_item_s3_marker_self_skipped", "d/", false, true, "d/", 0, NULL, false);
    item_case("fs_list_item_s3fs_folder", "d/old_$folder$", false, true, "d/", 1, "old", true);
    item_case("fs_list_item_azure_marker", "d/az", false, true, "d/", 1, "az", true);
    item_case("fs_list_item_outside_prefix", "e/f", false, false, "d/", 0, NULL, false);
    item_case("fs_list_item_root", "top", false, false, "", 1, "top", false);
    item_case("fs_list_item_dotdot_skipped", "d/..", false, false, "d/", 0, NULL, false);

    uint32_t v = 0;
    CHECK(fs_parse_u32("33188", &v) && v == 33188, "fs_parse_u32_decimal", "got %u", v);
    CHECK(fs_parse_u32("0644", &v) && v == 0644, "fs_parse_u32_octal", "got %o", v);
    CHECK(!fs_parse_u32("12x", &v) && !fs_parse_u32("", &v), "fs_parse_u32_rejects", "accepted");

    CHECK(fs_mode_of(false, false, 0, 0644, 0755) == (S_IFREG | 0644), "fs_mode_of_default_file",
          "wrong");
    CHECK(fs_mode_of(true, false, 0, 0644, 0755) == (S_IFDIR | 0755), "fs_mode_of_default_dir",
          "wrong");
    CHECK(fs_mode_of(false, true, S_IFREG | 0600, 0644, 0755) == (S_IFREG | 0600),
          "fs_mode_of_meta_mode", "wrong");
    CHECK(fs_mode_of(false, true, S_IFLNK | 0777, 0644, 0755) == (S_IFLNK | 0777),
          "fs_mode_of_s3fs_symlink", "wrong");
    CHECK(fs_mode_of(true, true, S_IFREG | 0700, 0644, 0755) == (S_IFDIR | 0700),
          "fs_mode_of_dir_keeps_type", "wrong");
    return CHECK_DONE();
}
