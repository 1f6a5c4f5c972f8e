/* test_mirror_joblog: JSON and text escaping of odd names, ids, times, progress formatting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/buf.h"
#include "tools/joblog.h"
#include "tools/progress.h"

static const char *json(struct buf *b, const char *s)
{
    buf_reset(b);
    joblog_json_escape(b, s);
    return buf_str(b);
}

static const char *text(struct buf *b, const char *s)
{
    buf_reset(b);
    joblog_text_escape(b, s);
    return buf_str(b);
}

static void test_json(void)
{
    struct buf b;

    buf_init(&b, 4096);
    CHECK_STREQ(json(&b, "plain/name.txt"), "\"plain/name.txt\"", "json_plain");
    CHECK_STREQ(json(&b, "a\nb"), "\"a\\nb\"", "json_newline");
    CHECK_STREQ(json(&b, "q\"b\\"), "\"q\\\"b\\\\\"", "json_quote_backslash");
    CHECK_STREQ(json(&b, "\x01\x1f\x7f\t\r"), "\"\\u0001\\u001f\\u007f\\t\\r\"", "json_control");
    CHECK_STREQ(json(&b, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "json_utf8_passes");
    CHECK_STREQ(json(&b, "bad\xff\xfe"), "\"bad\\udcff\\udcfe\"", "json_invalid_bytes_escaped");
    CHECK_STREQ(json(&b, "\xc0\xaf"), "\"\\udcc0\\udcaf\"", "json_overlong_escaped");
    CHECK_STREQ(json(&b, "\xed\xa0\x80"), "\"\\udced\\udca0\\udc80\"", "json_surrogate_escaped");
    CHECK_STREQ(json(&b, "\xe2\x82"), "\"\\udce2\\udc82\"", "json_truncated_sequence_escaped");
    CHECK_STREQ(json(&b, "\xf4\x90\x80\x80"), "\"\\udcf4\\udc90\\udc80\\udc80\"",
                "json_above_max_codepoint_escaped");
    CHECK_STREQ(json(&b, ""), "\"\"", "json_empty");
    CHECK_STREQ(text(&b, "a\nb\\c\td\x01"), "a\\nb\\\\c\\td\\x01", "text_escape_controls");
    CHECK_STREQ(text(&b, "sp ace \xc3\xa9"), "sp ace \xc3\xa9", "text_keeps_spaces_unicode");
    buf_free(&b);
}

static void test_ids(void)
{
    char out[64];
    struct timespec ts = {1795885262, 123456789};

    joblog_make_id(1795885262, 0x1a2b3c4d, out, sizeof(out));
    CHECK_STREQ(out, "20261128T170102Z-1a2b3c4d", "id_format");
    joblog_format_time(&ts, out, sizeof(out));
    CHECK_STREQ(out, "2026-11-28T17:01:02.123Z", "time_rfc3339_millis");
    CHECK(joblog_id_valid("run-1.a_b"), "id_valid_ok", "rejected");
    CHECK(!joblog_id_valid("../x") && !joblog_id_valid("") && !joblog_id_valid(".hidden") &&
              !joblog_id_valid("a b"),
          "id_valid_rejects_paths", "accepted");
    CHECK_STREQ(joblog_result_name(JOBLOG_NO_COPY), "NoCopyNecessary", "result_name_no_copy");
    CHECK_STREQ(joblog_result_name(JOBLOG_DELETED), "Deleted", "result_name_deleted");
}

static void test_progress(void)
{
    char out[160];

    progress_format_eta(-1, out, sizeof(out));
    CHECK_STREQ(out, "--", "eta_unknown");
    progress_format_eta(NAN, out, sizeof(out));
    CHECK_STREQ(out, "--", "eta_nan");
    progress_format_eta(INFINITY, out, sizeof(out));
    CHECK_STREQ(out, "--", "eta_inf");
    progress_format_eta(42.4, out, sizeof(out));
    CHECK_STREQ(out, "42s", "eta_seconds");
    progress_format_eta(185, out, sizeof(out));
    CHECK_STREQ(out, "3m05s", "eta_minutes");
    progress_format_eta(3720, out, sizeof(out));
    CHECK_STREQ(out, "1h02m", "eta_hours");
    progress_format_eta(3 * 86400 + 4 * 3600 + 5, out, sizeof(out));
    CHECK_STREQ(out, "3d04h", "eta_days");
    CHECK(progress_eta(100, 0) < 0, "eta_zero_rate_unknown", "not unknown");
    CHECK(fabs(progress_eta(1000, 250) - 4.0) < 1e-9, "eta_rate_division", "wrong");
    progress_format_bytes(1023, out, sizeof(out));
    CHECK_STREQ(out, "1023 B", "bytes_plain");
    progress_format_bytes(1536, out, sizeof(out));
    CHECK_STREQ(out, "1.50 KiB", "bytes_kib");
    progress_format_bytes(12900000, out, sizeof(out));
    CHECK_STREQ(out, "12.3 MiB", "bytes_mib");
    progress_format_line(5, 10, 1048576, 2097152, 1048576, out, sizeof(out));
    CHECK_STREQ(out, "items 5/10  1.00 MiB/2.00 MiB  1.00 MiB/s  ETA 1s", "progress_line");
    progress_format_line(10, 10, 100, 100, 0, out, sizeof(out));
    CHECK_STREQ(out, "items 10/10  100 B/100 B  0 B/s  ETA 0s", "progress_line_done");
}

/* The summary lists the first JOBLOG_UNSUP_LIST Unsupported items with their details. */
static void test_summary_unsupported(void)
{
    struct joblog_info info = {"u1", "az://c", "/t", "merge", ""};
    struct joblog *jl = NULL;
    char dir[] = "/tmp/test_joblog.XXXXXX", path[128], text[65536], p[32];
    size_t n = 0;
    FILE *f;

    CHECK(mkdtemp(dir) != NULL, "summary_tmpdir", "mkdtemp failed");
    CHECK(joblog_open(dir, &info, &jl) == 0, "summary_open", "joblog_open failed");
    if (!jl)
        return;
    joblog_item(jl, "a/cold\"x", 'F', 3, JOBLOG_UNSUPPORTED, 13,
                "archived (Archive tier): restore / rehydrate it first");
    joblog_item(jl, "a/warm", 'F', 3, JOBLOG_TRANSFERRED, 0, NULL);
    for (int i = 0; i < JOBLOG_UNSUP_LIST + 5; i++) {
        snprintf(p, sizeof(p), "b/%03d", i);
        joblog_item(jl, p, 'F', 1, JOBLOG_UNSUPPORTED, 0, "fifo");
    }
    CHECK(joblog_finish(jl, "Succeeded") == 0, "summary_finish", "joblog_finish failed");
    snprintf(path, sizeof(path), "%s/u1.summary.json", dir);
    f = fopen(path, "r");
    if (f) {
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
    }
    text[n] = '\0';
    CHECK(strstr(text, "\"itemsUnsupported\": 106") != NULL, "summary_unsupported_count", "%s",
          text);
    CHECK(strstr(text, "{\"ItemPath\": \"a/cold\\\"x\", \"Details\": \"archived (Archive "
                       "tier): restore / rehydrate it first\"}") != NULL,
          "summary_unsupported_listed", "%s", text);
    CHECK(strstr(text, "b/098") && !strstr(text, "b/099") && !strstr(text, "a/warm"),
          "summary_unsupported_list_capped", "%s", text);
    joblog_free(jl);
    unlink(path);
    snprintf(path, sizeof(path), "%s/u1.copylog.jsonl", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_summary_unsupported();
    test_json();
    test_ids();
    test_progress();
    return CHECK_DONE();
}
