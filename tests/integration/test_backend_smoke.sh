#!/usr/bin/env bash
# test_backend_smoke: the S3 backend (s3/) against Swift s3api and the Blob backend (blob/) against
# Azurite, through the object-store interface, via tests/helpers/{s3,blob}_smoke.c. Each program
# prints one PASS:/FAIL: line per case (bucket, put/head/get ranges, multipart/blocks from several
# threads with MD5, list paging, copy, set_meta, delete batches, odd names, error cases).
source "$(dirname "$0")/../lib/assert.sh"
need_emulators

# run_smoke NAME: runs $BRIDGEFS_BUILD/tests/NAME and forwards its case lines.
run_smoke() {
    local name=$1 prog=$BRIDGEFS_BUILD/tests/$1 rc
    if [ ! -x "$prog" ]; then
        fail "${name}_built" "missing $prog"
        return
    fi
    timeout -k 5 600 "$prog" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err"
    rc=$?
    grep -E "^(PASS|FAIL): " "$TEST_TMP/$name.out" | sed -E "s/^(PASS|FAIL): /\1: $name\//"
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TEST_TMP/$name.err"; then
        fail "${name}_sanitizer_clean" "sanitizer report on stderr"
        sed 's/^/  | /' "$TEST_TMP/$name.err" | head -n 30
    elif [ "$rc" != 0 ] && ! grep -q '^FAIL: ' "$TEST_TMP/$name.out"; then
        fail "${name}_exit" "$name exited $rc without a FAIL line"
        tail -n 20 "$TEST_TMP/$name.err" | sed 's/^/  | /'
    else
        pass "${name}_exit"
    fi
}

run_smoke s3_smoke
run_smoke blob_smoke
assert_done
