#!/usr/bin/env bash
# test_retry: through tests/faultproxy.py, bridgefs retries 503/500/resets/stalls and gives up cleanly.
# shellcheck source=../lib/assert.sh
source "$(dirname "$0")/../lib/assert.sh"
need_emulators

export BRIDGEFS_RETRIES=4
export BRIDGEFS_RETRY_BASE_MS=20
export BRIDGEFS_STALL_TIMEOUT_S=10
FP_PY="$TESTS_DIR/faultproxy.py"

# fp_start TARGET-PORT FLAVOR: start a proxy, set FP_PORT to its port. The proxy stops at exit.
fp_start() {
    local out="$TEST_TMP/fp-$2.port" i
    "$EMU_SYS_PY" "$FP_PY" --target "127.0.0.1:$1" --flavor "$2" >"$out" 2>"$TEST_TMP/fp-$2.log" &
    at_exit kill "$!"
    for i in $(seq 1 100); do
        [ -s "$out" ] && break
        sleep 0.05
    done
    FP_PORT=$(head -n 1 "$out")
}

# fp_rule PORT KEY=VALUE...: queue a fault rule (see faultproxy.py); values are URL-encoded.
fp_rule() {
    local port=$1 kv
    shift
    local -a args=()
    for kv in "$@"; do
        args+=(--data-urlencode "$kv")
    done
    curl -sf -G -X POST "${args[@]}" "http://127.0.0.1:$port/__fault" >/dev/null
}

fp_clear() {
    curl -sf -X DELETE "http://127.0.0.1:$1/__fault" >/dev/null
    curl -sf -X DELETE "http://127.0.0.1:$1/__stats" >/dev/null
}

# fp_count PORT METHOD-RE PATH-RE: how many requests the proxy saw that match.
fp_count() {
    curl -sf -G --data-urlencode "method=$2" --data-urlencode "path=$3" \
        "http://127.0.0.1:$1/__stats" |
        "$EMU_SYS_PY" -c 'import json, sys; print(json.load(sys.stdin)["count"])'
}

# expect_count NAME PORT METHOD-RE PATH-RE MIN MAX: the proxy saw MIN..MAX matching requests.
expect_count() {
    local n
    n=$(fp_count "$2" "$3" "$4")
    if [ -n "$n" ] && [ "$n" -ge "$5" ] && [ "$n" -le "$6" ]; then
        pass "$1"
    else
        fail "$1" "proxy saw ${n:-?} requests matching $3 $4, expected $5..$6"
    fi
}

# expect_cat NAME URL: bridgefs cat URL exits 0 and gives exactly the bytes of $DATA.
expect_cat() {
    local name=$1 url=$2 got
    _assert_run bfs cat "$url"
    if _assert_sanitized "$name"; then
        return 0
    elif [ "$LAST_RC" != 0 ]; then
        fail "$name" "cat exited $LAST_RC"
        _assert_tail "$LAST_ERR"
        return 0
    fi
    got=$(md5sum <"$LAST_OUT" | cut -d' ' -f1)
    if [ "$got" = "$DATA_MD5" ]; then
        pass "$name"
    else
        fail "$name" "md5 $got ($(stat -c %s "$LAST_OUT") bytes), expected $DATA_MD5 ($(stat -c %s "$DATA") bytes)"
    fi
}

# expect_elapsed NAME MIN-S MAX-S T0: wall time since T0 (date +%s.%N) is within MIN..MAX s.
expect_elapsed() {
    local name=$1 min=$2 max=$3 t0=$4 t1 ok
    t1=$(date +%s.%N)
    ok=$(awk -v a="$t0" -v b="$t1" -v lo="$min" -v hi="$max" 'BEGIN { d = b - a; print (d >= lo && d <= hi) ? "yes " d : "no " d }')
    if [ "${ok%% *}" = yes ]; then
        pass "$name"
    else
        fail "$name" "took ${ok#* } s, expected $min..$max s"
    fi
}

DATA="$TEST_TMP/data.bin"
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$DATA"
DATA_MD5=$(md5sum <"$DATA" | cut -d' ' -f1)
SMALL="$TEST_TMP/small.txt"
echo "retry test $$" >"$SMALL"

run_backend() { # s3|az
    local be=$1 port bucket url_base path_base t0
    bucket=$(unique_name retry)
    if [ "$be" = s3 ]; then
        fp_start "$SWIFT_PORT" s3
        port=$FP_PORT
        export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
        url_base="s3://$bucket"
        path_base="/$bucket"
    else
        fp_start "$AZURITE_PORT" azure
        port=$FP_PORT
        export AZURE_STORAGE_CONNECTION_STRING="${AZURE_STORAGE_CONNECTION_STRING/127.0.0.1:$AZURITE_PORT/127.0.0.1:$port}"
        url_base="az://$bucket"
        path_base="/devstoreaccount1/$bucket"
    fi
    if [ -z "$port" ]; then
        fail "retry $be: fault proxy starts" "no port from $FP_PY"
        return 0
    fi
    local p="retry $be"

    check "$p: mb through the proxy" bfs mb "$url_base"

    # 503 SlowDown / ServerBusy twice, then success.
    fp_clear "$port"
    fp_rule "$port" action=503 count=2 method=PUT "path=^$path_base/obj1"
    check "$p: put succeeds after two 503 answers" bfs put "$DATA" "$url_base/obj1"
    expect_count "$p: put was retried after 503" "$port" PUT "^$path_base/obj1" 3 3

    fp_clear "$port"
    fp_rule "$port" action=503 count=2 method=GET "path=^$path_base/obj1"
    expect_cat "$p: cat succeeds after two 503 answers" "$url_base/obj1"
    expect_count "$p: cat was retried after 503" "$port" GET "^$path_base/obj1" 3 3

    # 500 and 429 with Retry-After.
    fp_clear "$port"
    fp_rule "$port" action=500 count=1 method=PUT "path=^$path_base/small1"
    check "$p: put succeeds after a 500 answer" bfs put "$SMALL" "$url_base/small1"
    fp_clear "$port"
    fp_rule "$port" action=503 count=1 retry_after=2 method=GET "path=^$path_base/small1"
    t0=$(date +%s.%N)
    expect_output_contains "$p: cat succeeds after 503 with Retry-After" "retry test" \
        bfs cat "$url_base/small1"
    expect_elapsed "$p: Retry-After: 2 is honoured" 1.9 20 "$t0"

    # Connection resets.
    fp_clear "$port"
    fp_rule "$port" action=reset count=1 method=PUT "path=^$path_base/obj2"
    check "$p: put succeeds after a connection reset" bfs put "$DATA" "$url_base/obj2"
    expect_count "$p: put was retried after a reset" "$port" PUT "^$path_base/obj2" 2 2
    fp_clear "$port"
    fp_rule "$port" action=reset count=1 method=GET "path=^$path_base/obj2"
    expect_cat "$p: cat succeeds after a connection reset" "$url_base/obj2"
    fp_clear "$port"
    fp_rule "$port" action=reset_after_headers count=1 method=GET "path=^$path_base/obj2"
    expect_cat "$p: cat succeeds after a reset following the headers" "$url_base/obj2"
    fp_clear "$port"
    fp_rule "$port" action=reset_mid_body count=1 method=GET "path=^$path_base/obj2"
    expect_cat "$p: cat resumes after a reset midway through the body" "$url_base/obj2"
    expect_count "$p: cat fetched again after the mid-body reset" "$port" GET "^$path_base/obj2" 2 3

    # A listing is retried too.
    fp_clear "$port"
    fp_rule "$port" action=503 count=1 method=GET "path=comp=list|list-type=2"
    expect_output_contains "$p: ls succeeds after a 503 on LIST" obj2 bfs ls "$url_base/"
    expect_count "$p: ls was retried" "$port" GET "comp=list|list-type=2" 2 2

    # Stalls: a 1.5 s pause is tolerated with a 10 s stall timeout, and cut off and retried with 1 s.
    fp_clear "$port"
    fp_rule "$port" action=stall_mid_body delay_ms=1500 count=1 method=GET "path=^$path_base/obj1"
    expect_cat "$p: cat waits out a 1.5 s stall under a 10 s stall timeout" "$url_base/obj1"
    expect_count "$p: no retry for a tolerated stall" "$port" GET "^$path_base/obj1" 1 1
    fp_clear "$port"
    fp_rule "$port" action=stall_mid_body delay_ms=4000 count=1 method=GET "path=^$path_base/obj1"
    t0=$(date +%s.%N)
    BRIDGEFS_STALL_TIMEOUT_S=1 expect_cat "$p: cat recovers from a 4 s stall under a 1 s stall timeout" \
        "$url_base/obj1"
    expect_elapsed "$p: the stalled transfer was cut off early" 0 3.9 "$t0"
    expect_count "$p: the stalled GET was retried" "$port" GET "^$path_base/obj1" 2 3

    # Retries exhausted: exit 5, a clear message, no hang, exactly 1 + BRIDGEFS_RETRIES attempts.
    fp_clear "$port"
    fp_rule "$port" action=503 count=-1 "path=^$path_base/obj1"
    t0=$(date +%s.%N)
    BRIDGEFS_RETRIES=2 BFS_TIMEOUT=60 expect_exit 5 "$p: cat gives up with exit 5 on a permanent 503" \
        bfs cat "$url_base/obj1"
    expect_elapsed "$p: cat gives up within 30 s" 0 30 "$t0"
    if grep -qF "$url_base/obj1" "$LAST_ERR" && grep -q 503 "$LAST_ERR"; then
        pass "$p: the give-up message names the URL and 503"
    else
        fail "$p: the give-up message names the URL and 503" "stderr: $(head -c 300 "$LAST_ERR")"
    fi
    expect_count "$p: cat made exactly 3 attempts with BRIDGEFS_RETRIES=2" "$port" . "^$path_base/obj1" 3 3

    fp_clear "$port"
    fp_rule "$port" action=503 count=-1 "path=^$path_base/obj3"
    BRIDGEFS_RETRIES=2 BFS_TIMEOUT=60 expect_exit 5 "$p: put gives up with exit 5 on a permanent 503" \
        bfs put "$SMALL" "$url_base/obj3"

    fp_clear "$port"
    fp_rule "$port" action=reset count=-1 "path=^$path_base/obj1"
    BRIDGEFS_RETRIES=2 BFS_TIMEOUT=60 expect_exit 5 "$p: cat gives up with exit 5 on permanent resets" \
        bfs cat "$url_base/obj1"

    fp_clear "$port"
    fp_rule "$port" action=delay delay_ms=5000 count=-1 method=GET "path=^$path_base/obj1"
    t0=$(date +%s.%N)
    BRIDGEFS_RETRIES=1 BRIDGEFS_STALL_TIMEOUT_S=1 BFS_TIMEOUT=60 \
        expect_exit 5 "$p: cat gives up with exit 5 when every answer stalls" bfs cat "$url_base/obj1"
    expect_elapsed "$p: stalled attempts are cut off by the stall timeout" 0 9 "$t0"
    fp_clear "$port"
}

SAVED_S3_ENDPOINT=$AWS_ENDPOINT_URL
SAVED_AZ_STRING=$AZURE_STORAGE_CONNECTION_STRING
run_backend s3
export AWS_ENDPOINT_URL=$SAVED_S3_ENDPOINT
run_backend az
export AZURE_STORAGE_CONNECTION_STRING=$SAVED_AZ_STRING
assert_done
