#!/usr/bin/env bash
# test_s3_backend: the S3 backend (s3/) end to end against Swift s3api, via tests/helpers/s3_smoke.c.
# s3_smoke prints one PASS:/FAIL: line per case (bucket, put/head/get ranges, 3-part multipart from
# 3 threads with MD5, list paging, copy and UploadPartCopy, set_meta, delete batches, error cases).
source "$(dirname "$0")/../lib/assert.sh"
need_emulators

smoke=$BRIDGEFS_BUILD/tests/s3_smoke
if [ ! -x "$smoke" ]; then
    fail s3_backend_smoke_built "missing $smoke"
    assert_done
fi
timeout -k 5 600 "$smoke" >"$TEST_TMP/smoke.out" 2>"$TEST_TMP/smoke.err"
rc=$?
# Its PASS/FAIL lines are the cases; forward them as they are.
grep -E '^(PASS|FAIL): ' "$TEST_TMP/smoke.out"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TEST_TMP/smoke.err"; then
    fail s3_backend_smoke_sanitizer_clean "sanitizer report on stderr"
    sed 's/^/  | /' "$TEST_TMP/smoke.err" | head -n 30
elif [ "$rc" != 0 ] && ! grep -q '^FAIL: ' "$TEST_TMP/smoke.out"; then
    fail s3_backend_smoke_exit "s3_smoke exited $rc without a FAIL line"
    tail -n 20 "$TEST_TMP/smoke.err" | sed 's/^/  | /'
else
    pass s3_backend_smoke_exit
fi
assert_done
