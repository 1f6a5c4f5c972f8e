#!/usr/bin/env bash
# test_memcheck: the CLI's main paths under a memory checker against both servers — valgrind
# (memcheck: invalid accesses, uninitialised values, definite leaks) for the normal build; the
# ASan/UBSan build checks itself, so there the same commands run plainly and assert.sh fails any
# case whose stderr holds a sanitizer report.
source "$(dirname "$0")/../lib/assert.sh"
need_emulators

if ldd "$BRIDGEFS" 2>/dev/null | grep -q libasan; then
    checker=()
    label=asan
else
    checker=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99)
    label=valgrind
fi
# mc RC NAME ARGS...: run bridgefs ARGS under the checker; pass when it exits RC and the checker
# reported nothing.
mc() {
    local want=$1 name=$2
    shift 2
    expect_exit "$want" "memcheck_${label}_$name" timeout -k 5 300 "${checker[@]}" "$BRIDGEFS" "$@"
}

bkt=$(unique_name mc)
head -c $((20 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/big"
printf 'small\n' >"$TEST_TMP/small"
for base in "s3://$bkt" "az://$bkt"; do
    k=${base%%://*}
    mc 0 "${k}_mb" mb "$base"
    mc 0 "${k}_put_small" put --meta owner=t "$TEST_TMP/small" "$base/d/small"
    mc 0 "${k}_put_multipart" put "$TEST_TMP/big" "$base/d/big"
    mc 0 "${k}_put_stdin" put - "$base/d/pipe" <"$TEST_TMP/big"
    mc 0 "${k}_ls_l_R" ls -l -R "$base"
    mc 0 "${k}_stat" stat "$base/d/big"
    mc 0 "${k}_cat_range" cat --range 5-100000 "$base/d/big"
    mc 3 "${k}_stat_missing" stat "$base/d/nope"
    mc 0 "${k}_rm_r" rm -r "$base/d/"
done
assert_done
