# assert.sh: helpers for integration test scripts; every case prints exactly one PASS:/FAIL: line.
#
# Use at the top of tests/integration/test_NAME.sh:
#     source "$(dirname "$0")/../lib/assert.sh"
#     need_emulators            # starts Swift/Azurite unless tests/run already did (env present)
#     ...cases...
#     assert_done               # last line: exits 1 if any case failed
#
# Environment (set by tests/run; defaults here so a script can run alone from the repo):
#   BRIDGEFS          the binary under test          (default: REPO/build/tools/bridgefs)
#   BRIDGEFS_BUILD    its build folder, with helper programs in $BRIDGEFS_BUILD/tests/
#   BRIDGEFS_TEST_TMP parent of temporary folders     (default: /tmp)
#   TESTS_DIR         REPO/tests
#   BFS_TIMEOUT       seconds one bfs call may take before it is killed (default 600; exit 124)
#
# Variables for the script: TEST_TMP (a fresh temporary folder, removed at exit unless EMU_KEEP=1),
# LAST_OUT / LAST_ERR (files holding stdout / stderr of the last check/expect_* command),
# LAST_RC (its exit status).
#
# Functions
#   pass NAME                         print PASS: NAME
#   fail NAME WHY                     print FAIL: NAME: WHY (WHY folded onto one line)
#   check NAME CMD...                 pass when CMD exits 0; else FAIL plus the tail of its stderr
#                                     on following lines prefixed "  | "
#   (every check/expect_* also fails when the command's stderr holds a sanitizer report)
#   expect_exit CODE NAME CMD...      pass when CMD exits with CODE
#   expect_output_contains NAME STRING CMD...   pass when CMD exits 0 and stdout contains STRING
#   expect_stderr_contains NAME STRING CMD...   pass when stderr contains STRING (any exit status)
#   bfs ARGS...                       run "$BRIDGEFS" ARGS under a timeout of BFS_TIMEOUT seconds
#   need_emulators                    start missing emulators (emulators.sh emu_ensure); on failure
#                                     prints FAIL: <script>: emulators and exits 1
#   unique_name PREFIX                print PREFIX-<random>, a valid S3 bucket / Azure container name
#   at_exit CMD...                    run CMD at exit (before emulators stop); use it, not `trap EXIT`
#   assert_done                       print "# N passed, N failed" and exit 1 if any failed

ASSERT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=emulators.sh
source "$ASSERT_LIB_DIR/emulators.sh"

export TESTS_DIR=${TESTS_DIR:-$(cd "$ASSERT_LIB_DIR/.." && pwd)}
export BRIDGEFS=${BRIDGEFS:-$EMU_REPO_DIR/build/tools/bridgefs}
export BRIDGEFS_BUILD=${BRIDGEFS_BUILD:-$(cd "$(dirname "$BRIDGEFS")/.." 2>/dev/null && pwd)}
export BRIDGEFS_TEST_TMP=${BRIDGEFS_TEST_TMP:-/tmp}

ASSERT_PASSED=0
ASSERT_FAILED=0
ASSERT_AT_EXIT=()
ASSERT_SCRIPT=$(basename "$0")
TEST_TMP=$(mktemp -d "$BRIDGEFS_TEST_TMP/t-${ASSERT_SCRIPT%.sh}.XXXXXX")
export TEST_TMP
LAST_OUT=$TEST_TMP/.last.out
LAST_ERR=$TEST_TMP/.last.err
LAST_RC=0
: >"$LAST_OUT"
: >"$LAST_ERR"

_assert_cleanup() {
    local c
    for c in "${ASSERT_AT_EXIT[@]}"; do
        eval "$c" || true
    done
    ASSERT_AT_EXIT=()
    emu_stop_all
    if [ "${EMU_KEEP:-0}" != 1 ]; then
        rm -rf -- "$TEST_TMP"
    fi
}
trap _assert_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

at_exit() {
    local q
    printf -v q '%q ' "$@"
    ASSERT_AT_EXIT+=("$q")
}

pass() {
    ASSERT_PASSED=$((ASSERT_PASSED + 1))
    printf 'PASS: %s\n' "$1"
}

fail() {
    local why=${2:-failed}
    why=${why//$'\n'/ }
    ASSERT_FAILED=$((ASSERT_FAILED + 1))
    printf 'FAIL: %s: %s\n' "$1" "$why"
}

# _assert_run CMD...: run CMD with stdout/stderr to LAST_OUT/LAST_ERR; sets LAST_RC. Stdin is
# inherited, so `check name bfs put - URL <file` works.
_assert_run() {
    LAST_RC=0
    "$@" >"$LAST_OUT" 2>"$LAST_ERR" || LAST_RC=$?
}

_assert_tail() {
    local f
    for f in "$@"; do
        [ -s "$f" ] && tail -n 8 "$f" | sed 's/^/  | /'
    done
    return 0
}

# _assert_sanitized NAME: when the last command's stderr holds a sanitizer report, fail NAME.
_assert_sanitized() {
    if grep -Eq 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error: ' "$LAST_ERR"; then
        fail "$1" "sanitizer report (exit $LAST_RC)"
        grep -E -A 12 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error: ' "$LAST_ERR" |
            head -n 20 | sed 's/^/  | /'
        return 0
    fi
    return 1
}

check() {
    local name=$1
    shift
    _assert_run "$@"
    if _assert_sanitized "$name"; then
        return 0
    elif [ "$LAST_RC" = 0 ]; then
        pass "$name"
    else
        fail "$name" "exit $LAST_RC from: $*"
        _assert_tail "$LAST_ERR"
    fi
}

expect_exit() {
    local code=$1 name=$2
    shift 2
    _assert_run "$@"
    if _assert_sanitized "$name"; then
        return 0
    elif [ "$LAST_RC" = "$code" ]; then
        pass "$name"
    else
        fail "$name" "exit $LAST_RC, expected $code, from: $*"
        _assert_tail "$LAST_ERR"
    fi
}

expect_output_contains() {
    local name=$1 want=$2
    shift 2
    _assert_run "$@"
    if _assert_sanitized "$name"; then
        return 0
    elif [ "$LAST_RC" != 0 ]; then
        fail "$name" "exit $LAST_RC from: $*"
        _assert_tail "$LAST_ERR"
    elif grep -qF -- "$want" "$LAST_OUT"; then
        pass "$name"
    else
        fail "$name" "stdout lacks \"$want\""
        _assert_tail "$LAST_OUT" "$LAST_ERR"
    fi
}

expect_stderr_contains() {
    local name=$1 want=$2
    shift 2
    _assert_run "$@"
    if _assert_sanitized "$name"; then
        return 0
    elif grep -qF -- "$want" "$LAST_ERR"; then
        pass "$name"
    else
        fail "$name" "stderr lacks \"$want\" (exit $LAST_RC)"
        _assert_tail "$LAST_ERR"
    fi
}

bfs() {
    timeout -k 5 "${BFS_TIMEOUT:-600}" "$BRIDGEFS" "$@"
}

need_emulators() {
    if ! emu_ensure; then
        fail "$ASSERT_SCRIPT: emulators" "could not start the test servers"
        exit 1
    fi
}

unique_name() {
    printf '%s-%s%04x%04x\n' "$1" "$(date +%s | tail -c 6)" "$RANDOM" "$RANDOM"
}

assert_done() {
    printf '# %s: %d passed, %d failed\n' "$ASSERT_SCRIPT" "$ASSERT_PASSED" "$ASSERT_FAILED"
    [ "$ASSERT_FAILED" = 0 ] && exit 0
    exit 1
}
