/* test_mirror_decide: merge-join decisions per mode and compare rule, include/exclude rules,
 * path overlap checks. */
#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>

#include "check.h"
#include "tools/mirror.h"
#include "tools/mirror_int.h"

static struct walk_stat st(enum walk_type t, uint64_t size, time_t sec, long nsec)
{
    struct walk_stat s;

    memset(&s, 0, sizeof(s));
    s.type = t;
    s.size = size;
    s.mtime.tv_sec = sec;
    s.mtime.tv_nsec = nsec;
    return s;
}

static void test_decide(void)
{
    struct walk_stat none = st(WALK_NONE, 0, 0, 0);
    struct walk_stat f = st(WALK_FILE, 10, 1000, 5), f_same = st(WALK_FILE, 10, 1000, 900000000);
    struct walk_stat f_newer = st(WALK_FILE, 10, 1002, 0), f_big = st(WALK_FILE, 12, 1000, 5);
    struct walk_stat d = st(WALK_DIR, 4096, 7, 0), d2 = st(WALK_DIR, 0, 99, 0);
    struct walk_stat l = st(WALK_LINK, 10, 1000, 5), o = st(WALK_OTHER, 0, 0, 0);

    CHECK(mirror_decide(&f, &none, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_COPY,
          "decide_new_file_copied", "wrong action");
    CHECK(mirror_decide(&d, &none, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_MKDIR,
          "decide_new_dir_mkdir", "wrong action");
    CHECK(mirror_decide(&f, &f_same, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_SKIP,
          "decide_same_size_mtime_within_second_skipped", "wrong action");
    CHECK(mirror_decide(&f, &f_newer, MIRROR_MODE_MIRROR, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_COPY,
          "decide_mtime_differs_copied", "wrong action");
    CHECK(mirror_decide(&f, &f_big, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_COPY,
          "decide_size_differs_copied", "wrong action");
    CHECK(mirror_decide(&f, &f_newer, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE) == MIRROR_ACT_SKIP,
          "decide_size_only_ignores_mtime", "wrong action");
    CHECK(mirror_decide(&f, &f_big, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE) == MIRROR_ACT_COPY,
          "decide_size_only_size_differs_copied", "wrong action");
    CHECK(mirror_decide(&f, &f_newer, MIRROR_MODE_MERGE, MIRROR_CMP_CHECKSUM) ==
              MIRROR_ACT_CHECKSUM,
          "decide_checksum_same_size_hashes", "wrong action");
    CHECK(mirror_decide(&f, &f_big, MIRROR_MODE_MERGE, MIRROR_CMP_CHECKSUM) == MIRROR_ACT_COPY,
          "decide_checksum_size_differs_copied_without_hashing", "wrong action");
    CHECK(mirror_decide(&none, &f, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_KEEP,
          "decide_target_only_kept_in_merge", "wrong action");
    CHECK(mirror_decide(&none, &d, MIRROR_MODE_MIRROR, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_DELETE,
          "decide_target_only_deleted_in_mirror", "wrong action");
    CHECK(mirror_decide(&d, &d2, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_DESCEND,
          "decide_dirs_descend_whatever_mtime", "wrong action");
    CHECK(mirror_decide(&f, &d, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_CONFLICT,
          "decide_file_vs_dir_merge_conflict", "wrong action");
    CHECK(mirror_decide(&d, &f, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_CONFLICT,
          "decide_dir_vs_file_merge_conflict", "wrong action");
    CHECK(mirror_decide(&f, &d, MIRROR_MODE_MIRROR, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_REPLACE,
          "decide_file_vs_dir_mirror_replace", "wrong action");
    CHECK(mirror_decide(&d, &l, MIRROR_MODE_MIRROR, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_REPLACE,
          "decide_dir_vs_symlink_mirror_replace", "wrong action");
    CHECK(mirror_decide(&l, &f, MIRROR_MODE_MERGE, MIRROR_CMP_SIZE_MTIME) == MIRROR_ACT_COPY,
          "decide_symlink_over_file_copied", "wrong action");
    CHECK(mirror_decide(&l, &l, MIRROR_MODE_MERGE, MIRROR_CMP_CHECKSUM) == MIRROR_ACT_SKIP,
          "decide_same_symlink_checksum_mode_skipped", "wrong action");
    CHECK(mirror_decide(&o, &none, MIRROR_MODE_MIRROR, MIRROR_CMP_SIZE_MTIME) ==
              MIRROR_ACT_UNSUPPORTED,
          "decide_fifo_unsupported", "wrong action");
}

static void test_mtime(void)
{
    struct timespec a = {100, 999999999}, b = {101, 999999998}, c = {101, 999999999};

    CHECK(mirror_same_mtime(&a, &b), "mtime_under_one_second_same", "differ");
    CHECK(!mirror_same_mtime(&a, &c), "mtime_one_second_differs", "same");
    CHECK(!mirror_same_mtime(&c, &a), "mtime_one_second_differs_reversed", "same");
}

static void test_filter(void)
{
    struct mirror_filter *f = mirror_filter_new();

    CHECK(!mirror_filter_excluded(NULL, "a/b", false), "filter_null_includes_all", "excluded");
    CHECK(!mirror_filter_excluded(f, "a/b", false), "filter_empty_includes_all", "excluded");
    mirror_filter_add(f, true, "keep.tmp");
    mirror_filter_add(f, false, "*.tmp");
    mirror_filter_add(f, false, "cache/");
    mirror_filter_add(f, false, "/top/*.log");
    mirror_filter_add(f, false, "deep/**/x");
    CHECK(mirror_filter_excluded(f, "a/b/c.tmp", false), "filter_basename_any_depth", "included");
    CHECK(mirror_filter_excluded(f, "c.tmp", false), "filter_basename_root", "included");
    CHECK(!mirror_filter_excluded(f, "a/keep.tmp", false), "filter_first_match_include_wins",
          "excluded");
    CHECK(mirror_filter_excluded(f, "x/cache", true), "filter_dir_only_matches_dir", "included");
    CHECK(!mirror_filter_excluded(f, "x/cache", false), "filter_dir_only_skips_file", "excluded");
    CHECK(mirror_filter_excluded(f, "top/a.log", false), "filter_anchored_path", "included");
    CHECK(!mirror_filter_excluded(f, "top/sub/a.log", false), "filter_star_not_crossing_slash",
          "excluded");
    CHECK(!mirror_filter_excluded(f, "sub/top/a.log", false), "filter_anchored_not_nested",
          "excluded");
    CHECK(mirror_filter_excluded(f, "deep/1/2/x", false), "filter_double_star_crosses_dirs",
          "included");
    CHECK(!mirror_filter_excluded(f, "a/b.txt", false), "filter_unmatched_included", "excluded");
    CHECK(mirror_filter_add(f, false, "") == -EINVAL, "filter_empty_pattern_rejected", "accepted");
    CHECK(mirror_filter_add(f, false, "/") == -EINVAL, "filter_slash_pattern_rejected", "accepted");
    mirror_filter_free(f);
    mirror_filter_free(NULL);
}

static void test_overlap(void)
{
    const char *why;

    CHECK(mirror_check_overlap("/a/b", "/a/b", &why) == -EINVAL && strstr(why, "same"),
          "overlap_same_dir", "not refused");
    CHECK(mirror_check_overlap("/a/b", "/a/b/c", &why) == -EINVAL && strstr(why, "target is"),
          "overlap_target_inside_source", "not refused");
    CHECK(mirror_check_overlap("/a/b/c", "/a/b", &why) == -EINVAL && strstr(why, "source is"),
          "overlap_source_inside_target", "not refused");
    CHECK(mirror_check_overlap("/a/b", "/a/bc", &why) == 0, "overlap_sibling_prefix_allowed",
          "refused");
    CHECK(mirror_check_overlap("/", "/x", &why) == -EINVAL, "overlap_root_source", "not refused");
}

static void test_log_dir(void)
{
    char out[256];

    setenv("XDG_STATE_HOME", "/st", 1);
    CHECK(mirror_default_log_dir(out, sizeof(out)) == 0 && strcmp(out, "/st/bridgefs/jobs") == 0,
          "log_dir_xdg_state_home", "got %s", out);
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/h", 1);
    CHECK(mirror_default_log_dir(out, sizeof(out)) == 0 &&
              strcmp(out, "/h/.local/state/bridgefs/jobs") == 0,
          "log_dir_home_fallback", "got %s", out);
}

static void test_urls(void)
{
    struct mirror_mounts *m = NULL;
    const char *why = NULL;
    int code;

    CHECK(mirror_is_url("s3://bucket/prefix") && mirror_is_url("az://c"), "is_url_schemes",
          "false");
    CHECK(!mirror_is_url("/tmp/a") && !mirror_is_url("rel/dir:x"), "is_url_paths", "true");
    CHECK(mirror_check_url_overlap("s3://b/x/", "s3://b/x", &why) < 0 && why && strstr(why, "same"),
          "url_overlap_same_modulo_slash", "%s", why ? why : "none");
    CHECK(mirror_check_url_overlap("s3://b", "s3://b/sub", &why) < 0 && why &&
              strstr(why, "target is inside"),
          "url_overlap_target_inside", "%s", why ? why : "none");
    CHECK(mirror_check_url_overlap("s3://b/x", "s3://b/xy", &why) == 0 &&
              mirror_check_url_overlap("s3://b", "az://b", &why) == 0 &&
              mirror_check_url_overlap("s3://b", "/tmp/s3:", &why) == 0,
          "url_overlap_distinct", "%s", why ? why : "none");
    /* two paths: nothing mounted, no temporary folder, the paths pass through */
    code = mirror_mounts_open("mirror", "/a", "b/c", true, false, &m);
    CHECK(code == -1 && m && strcmp(mirror_mounts_path(m, 0), "/a") == 0 &&
              strcmp(mirror_mounts_path(m, 1), "b/c") == 0,
          "mounts_open_paths_pass_through", "code %d", code);
    mirror_mounts_close(m);
    mirror_mounts_close(NULL);
}

static void test_signals_nest(void)
{
    struct sigaction cur;

    mirror_signals_install();
    mirror_signals_install();
    mirror_signals_restore();
    sigaction(SIGINT, NULL, &cur);
    CHECK(cur.sa_handler != SIG_DFL, "signals_inner_restore_keeps_handler", "default");
    mirror_signals_restore();
    sigaction(SIGINT, NULL, &cur);
    CHECK(cur.sa_handler == SIG_DFL, "signals_outer_restore_restores", "not default");
}

int main(void)
{
    test_urls();
    test_signals_nest();
    test_decide();
    test_mtime();
    test_filter();
    test_overlap();
    test_log_dir();
    return CHECK_DONE();
}
