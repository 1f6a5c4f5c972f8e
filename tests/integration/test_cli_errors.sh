#!/usr/bin/env bash
# test_cli_errors: every error case of the bridgefs command: message fragment and exit code.
source "$(dirname "$0")/../lib/assert.sh"
need_emulators

# expect_error NAME CODE FRAGMENT CMD...: exit CODE and FRAGMENT on stderr, in one case.
expect_error() {
    local name=$1 code=$2 want=$3
    shift 3
    _assert_run "$@"
    if _assert_sanitized "$name"; then
        return 0
    elif [ "$LAST_RC" != "$code" ]; then
        fail "$name" "exit $LAST_RC, expected $code, from: $*"
        _assert_tail "$LAST_ERR"
    elif ! grep -qF -- "$want" "$LAST_ERR"; then
        fail "$name" "stderr lacks \"$want\""
        _assert_tail "$LAST_ERR"
    else
        pass "$name"
    fi
}

# no_secret NAME SECRET: the last command's stdout and stderr do not contain SECRET.
no_secret() {
    if grep -qF -- "$2" "$LAST_ERR" "$LAST_OUT"; then
        fail "$1" "the secret appears in the output"
    else
        pass "$1"
    fi
}

s3b=s3://$(unique_name bfs-err)
azc=az://$(unique_name bfs-err)
check err_setup_mb_s3 bfs mb "$s3b"
check err_setup_mb_blob bfs mb "$azc"

# ---- not found: bucket, container, object (exit 3) ----
expect_error err_s3_bucket_not_found 3 "bucket not found" bfs ls "s3://$(unique_name nosuch)/dir/x"
expect_error err_s3_bucket_not_found_stat 3 "bucket not found" bfs stat "s3://$(unique_name nosuch)/k"
expect_error err_az_container_not_found 3 "container not found" bfs ls "az://$(unique_name nosuch)/"
expect_error err_az_container_not_found_cat 3 "container not found" bfs cat "az://$(unique_name nosuch)/k"
expect_error err_s3_object_not_found_stat 3 "not found" bfs stat "$s3b/no/such/key"
expect_error err_s3_object_not_found_cat 3 "not found" bfs cat "$s3b/no/such/key"
expect_error err_s3_object_not_found_rm 3 "not found" bfs rm "$s3b/no/such/key"
expect_error err_s3_object_not_found_ls 3 "not found" bfs ls "$s3b/no/such/key"
expect_error err_az_object_not_found_stat 3 "not found" bfs stat "$azc/no/such/blob"
expect_error err_az_object_not_found_cat 3 "not found" bfs cat "$azc/no/such/blob"
expect_error err_az_object_not_found_rm 3 "not found" bfs rm "$azc/no/such/blob"
expect_error err_not_found_names_url 3 "$s3b/no/such/key" bfs stat "$s3b/no/such/key"

# ---- bad credentials (exit 4), and the secret never printed, even at debug level ----
wrong_secret="WrongSecret-$RANDOM-9f8e7d6c5b4a"
expect_error err_s3_wrong_secret 4 "SignatureDoesNotMatch" \
    env AWS_SECRET_ACCESS_KEY="$wrong_secret" "$BRIDGEFS" ls "$s3b/"
no_secret err_s3_wrong_secret_not_printed "$wrong_secret"
expect_error err_s3_wrong_secret_explained 4 "bad credentials" \
    env AWS_SECRET_ACCESS_KEY="$wrong_secret" "$BRIDGEFS" -vv ls "$s3b/"
no_secret err_s3_wrong_secret_not_in_debug_log "$wrong_secret"
_assert_run bfs -vv ls "$s3b/"
no_secret err_s3_real_secret_not_in_debug_log "$AWS_SECRET_ACCESS_KEY"
expect_error err_s3_unknown_key_id 4 "bad credentials" \
    env AWS_ACCESS_KEY_ID="nobody:nobody" "$BRIDGEFS" stat "$s3b/k"

wrong_key=$(head -c 64 /dev/urandom | base64 -w0)
bad_cs=$(printf '%s' "$AZURE_STORAGE_CONNECTION_STRING" | sed "s|AccountKey=[^;]*|AccountKey=$wrong_key|")
expect_error err_az_wrong_key 4 "AuthenticationFailed" \
    env AZURE_STORAGE_CONNECTION_STRING="$bad_cs" "$BRIDGEFS" ls "$azc/"
no_secret err_az_wrong_key_not_printed "$wrong_key"
expect_error err_az_wrong_key_explained 4 "account key or SAS" \
    env AZURE_STORAGE_CONNECTION_STRING="$bad_cs" "$BRIDGEFS" -vv ls "$azc/"
no_secret err_az_wrong_key_not_in_debug_log "$wrong_key"
real_key=$(printf '%s' "$AZURE_STORAGE_CONNECTION_STRING" | sed -n 's|.*AccountKey=\([^;]*\).*|\1|p')
bfs -vv --log-level trace ls "$azc/" >"$TEST_TMP/trace.out" 2>"$TEST_TMP/trace.err"
if grep -qF -- "$real_key" "$TEST_TMP/trace.out" "$TEST_TMP/trace.err"; then
    fail err_az_key_not_in_trace_log "the account key appears in the trace log"
else
    pass err_az_key_not_in_trace_log
fi
# An account SAS (made here with the emulator's well-known key): `--log-level debug` logs each
# request's URL, which carries the SAS, and its signature must not appear.
sas=$(python3 - <<'PY'
import base64, datetime, hashlib, hmac, os, urllib.parse
cs = dict(p.split('=', 1) for p in os.environ['AZURE_STORAGE_CONNECTION_STRING'].split(';') if '=' in p)
exp = (datetime.datetime.utcnow() + datetime.timedelta(hours=2)).strftime('%Y-%m-%dT%H:%M:%SZ')
f = {'sv': '2019-12-12', 'ss': 'b', 'srt': 'sco', 'sp': 'rl', 'se': exp, 'spr': 'https,http'}
sts = '\n'.join([cs['AccountName'], f['sp'], f['ss'], f['srt'], '', f['se'], '', f['spr'], f['sv'], ''])
f['sig'] = base64.b64encode(hmac.new(base64.b64decode(cs['AccountKey']), sts.encode(), hashlib.sha256).digest()).decode()
print(urllib.parse.urlencode(f))
PY
)
sas_sig=$(printf '%s' "$sas" | sed -n 's/.*sig=\([^&]*\).*/\1/p')
env -u AZURE_STORAGE_CONNECTION_STRING -u AZURE_STORAGE_KEY AZURE_STORAGE_ACCOUNT=devstoreaccount1 \
    AZURE_STORAGE_SAS_TOKEN="$sas" "$BRIDGEFS" --log-level debug ls \
    "http://127.0.0.1:$AZURITE_PORT/devstoreaccount1/${azc#az://}/" >"$TEST_TMP/sas.out" 2>"$TEST_TMP/sas.err"
sas_rc=$?
if [ "$sas_rc" = 0 ] && grep -q 'http: GET .*comp=list.* -> 200 in ' "$TEST_TMP/sas.err"; then
    pass err_az_sas_debug_logs_requests
else
    fail err_az_sas_debug_logs_requests "exit $sas_rc: $(head -c 300 "$TEST_TMP/sas.err")"
fi
if [ -n "$sas_sig" ] && ! grep -qF -- "$sas_sig" "$TEST_TMP/sas.out" "$TEST_TMP/sas.err" &&
    ! grep -qF -- "$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1]))' "$sas_sig")" "$TEST_TMP/sas.err"; then
    pass err_az_sas_signature_not_in_debug_log
else
    fail err_az_sas_signature_not_in_debug_log "the SAS signature appears in the debug log"
fi
bfs --log-level trace ls "$s3b/" >"$TEST_TMP/trace.out" 2>"$TEST_TMP/trace.err"
if grep -Eq 'Signature=[0-9a-f]{64}' "$TEST_TMP/trace.out" "$TEST_TMP/trace.err"; then
    fail err_s3_signature_not_in_trace_log "a request signature appears in the trace log"
else
    pass err_s3_signature_not_in_trace_log
fi

# ---- endpoint unreachable (exit 5), naming the endpoint ----
port=$(emu_free_port)
expect_error err_s3_unreachable 5 "127.0.0.1:$port" \
    env AWS_ENDPOINT_URL="http://127.0.0.1:$port" BRIDGEFS_RETRIES=1 BRIDGEFS_RETRY_BASE_MS=10 \
    "$BRIDGEFS" ls "$s3b/"
expect_error err_s3_unreachable_message 5 "unreachable" \
    env AWS_ENDPOINT_URL="http://127.0.0.1:$port" BRIDGEFS_RETRIES=1 BRIDGEFS_RETRY_BASE_MS=10 \
    "$BRIDGEFS" cat "$s3b/k"
down_cs=$(printf '%s' "$AZURE_STORAGE_CONNECTION_STRING" |
    sed "s|BlobEndpoint=http://127.0.0.1:[0-9]*|BlobEndpoint=http://127.0.0.1:$port|")
expect_error err_az_unreachable 5 "127.0.0.1:$port" \
    env AZURE_STORAGE_CONNECTION_STRING="$down_cs" BRIDGEFS_RETRIES=1 BRIDGEFS_RETRY_BASE_MS=10 \
    "$BRIDGEFS" ls "$azc/"

# ---- a failed multipart upload is aborted and the old object stays intact ----
# A fault proxy in front of Swift fails every part upload with 500 (after retries: exit 5).
python3 "$TESTS_DIR/faultproxy.py" --target "127.0.0.1:$SWIFT_PORT" --flavor s3 --quiet \
    >"$TEST_TMP/proxy.out" 2>"$TEST_TMP/proxy.err" &
proxy_pid=$!
at_exit kill "$proxy_pid"
for _ in $(seq 1 50); do
    [ -s "$TEST_TMP/proxy.out" ] && break
    sleep 0.1
done
pport=$(head -n 1 "$TEST_TMP/proxy.out")
printf 'the old contents\n' >"$TEST_TMP/old.txt"
check err_abort_setup_old_object bfs put "$TEST_TMP/old.txt" "$s3b/keep.bin"
curl -s -X POST "http://127.0.0.1:$pport/__fault?action=500&count=-1&method=PUT&path=partNumber=" >/dev/null
head -c $((20 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/new.bin"
expect_error err_abort_failed_upload_exit_5 5 "$s3b/keep.bin" \
    env AWS_ENDPOINT_URL="http://127.0.0.1:$pport" BRIDGEFS_RETRIES=1 BRIDGEFS_RETRY_BASE_MS=10 \
    "$BRIDGEFS" put "$TEST_TMP/new.bin" "$s3b/keep.bin"
aborts=$(curl -s "http://127.0.0.1:$pport/__stats?method=DELETE&path=uploadId=" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("count", 0))')
if [ "${aborts:-0}" -ge 1 ]; then
    pass err_abort_sent_abort_multipart
else
    fail err_abort_sent_abort_multipart "no AbortMultipartUpload (DELETE ?uploadId=) seen"
fi
if [ "$(bfs cat "$s3b/keep.bin")" = "the old contents" ]; then
    pass err_abort_old_object_intact
else
    fail err_abort_old_object_intact "the old object changed"
fi
cat "$TEST_TMP/new.bin" | env AWS_ENDPOINT_URL="http://127.0.0.1:$pport" BRIDGEFS_RETRIES=1 \
    BRIDGEFS_RETRY_BASE_MS=10 "$BRIDGEFS" put - "$s3b/keep.bin" 2>"$TEST_TMP/pipe.err"
rc=$?
if [ "$rc" = 5 ] && [ "$(bfs cat "$s3b/keep.bin")" = "the old contents" ]; then
    pass err_abort_failed_stdin_upload_keeps_old
else
    fail err_abort_failed_stdin_upload_keeps_old "exit $rc: $(head -c 200 "$TEST_TMP/pipe.err")"
fi

# ---- bad URLs (exit 2) ----
expect_error err_bad_url_scheme 2 "ftp://x" bfs ls ftp://x
expect_error err_bad_url_s3_no_bucket 2 "s3://" bfs ls s3://
expect_error err_bad_url_az_no_container 2 "az://" bfs ls az://
expect_error err_bad_url_put 2 "ftp://x/y" bfs put /etc/hostname ftp://x/y
expect_exit 2 err_stat_bucket_url_is_usage bfs stat "$s3b"
expect_exit 2 err_rm_bucket_without_r bfs rm "$s3b"

# ---- missing credentials (exit 2), naming what to set ----
expect_error err_s3_missing_key_id 2 "AWS_ACCESS_KEY_ID" \
    env -u AWS_ACCESS_KEY_ID AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent \
    "$BRIDGEFS" ls "$s3b/"
expect_error err_s3_missing_secret 2 "AWS_SECRET_ACCESS_KEY" \
    env -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent \
    "$BRIDGEFS" ls "$s3b/"
expect_error err_az_no_credentials 2 "AZURE_STORAGE" \
    env -u AZURE_STORAGE_CONNECTION_STRING -u AZURE_STORAGE_ACCOUNT -u AZURE_STORAGE_KEY \
    -u AZURE_STORAGE_SAS_TOKEN "$BRIDGEFS" ls "$azc/"

# ---- usage errors (exit 2) and help (exit 0) ----
expect_error err_unknown_command 2 "unknown command" bfs frobnicate s3://x
expect_error err_unknown_global_option 2 "unknown option" bfs --bogus ls s3://x
expect_error err_unknown_command_option 2 "unknown option" bfs ls --bogus s3://x
expect_error err_unknown_short_option 2 "unknown option" bfs ls -Z s3://x
expect_error err_missing_option_value 2 "needs a value" bfs cat s3://x --range
expect_error err_bad_log_level 2 "log-level" bfs --log-level loud ls s3://x
expect_exit 2 err_no_command bfs
expect_exit 2 err_ls_no_url bfs ls
expect_exit 2 err_put_one_arg bfs put /etc/hostname
expect_error err_bad_range 2 "range" bfs cat --range abc "$s3b/k"
expect_error err_bad_part_size 2 "part-size" bfs put --part-size 0 /etc/hostname "$s3b/k"
expect_error err_put_missing_file 1 "/no/such/file" bfs put /no/such/file "$s3b/k"
expect_output_contains err_help_exit_0 "Exit codes" bfs --help
expect_output_contains err_help_lists_commands "put [OPTIONS] FILE|- URL" bfs --help
expect_output_contains err_command_help "--range" bfs cat --help
expect_output_contains err_version "bridgefs" bfs --version
expect_output_contains err_help_lists_mount "mount [-f] [-o OPT,...] URL MOUNTPOINT" bfs --help
expect_output_contains err_help_lists_mirror "mirror [OPTIONS] SRC DST" bfs --help
expect_output_contains err_help_lists_verify "verify [OPTIONS] SRC DST" bfs --help

assert_done
