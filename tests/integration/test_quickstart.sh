#!/usr/bin/env bash
# test_quickstart: the README's main-job command runs end to end (its own servers, mounts, mirror,
# incremental mirror, verify) with the binary under test, so it never rots.
source "$(dirname "$0")/../lib/assert.sh"

BRIDGEFS="$BRIDGEFS" timeout -k 10 900 "$TESTS_DIR/../tools/quickstart" --no-install \
    >"$TEST_TMP/qs.out" 2>"$TEST_TMP/qs.err"
rc=$?
if [ "$rc" = 0 ]; then
    pass quickstart_exit_0
else
    fail quickstart_exit_0 "exit $rc"
    tail -n 20 "$TEST_TMP/qs.err" "$TEST_TMP/qs.out" | sed 's/^/  | /'
fi
check_grep() { # NAME PATTERN: the quickstart's output (stdout or stderr) holds PATTERN
    if cat "$TEST_TMP/qs.out" "$TEST_TMP/qs.err" | grep -Eq "$2"; then pass "$1"; else fail "$1" "no line matching $2"; fi
}
check_grep quickstart_first_mirror_all "Succeeded: scanned [0-9]+ items .*: [1-9][0-9]* transferred"
check_grep quickstart_second_mirror_incremental "Succeeded: .*: 4 transferred .* 1 deleted"
check_grep quickstart_verify_match "trees match"
check_grep quickstart_summary_shown '"status": "Succeeded"'
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TEST_TMP/qs.err"; then
    fail quickstart_sanitizer_clean "sanitizer report on stderr"
else
    pass quickstart_sanitizer_clean
fi
assert_done
