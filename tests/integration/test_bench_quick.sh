#!/usr/bin/env bash
# test_bench_quick: runs `tests/bench/run --quick` (every workload at toy size, once) so the
# benchmark harness never rots; each case checks that a workload ran and produced numbers.
# The bench starts its own tuned servers; no timing is judged here.
source "$(dirname "$0")/../lib/assert.sh"

json=$TEST_TMP/bench.json
out=$TEST_TMP/bench.out
timeout -k 10 600 "$TESTS_DIR/bench/run" --quick --json "$json" >"$out" 2>"$TEST_TMP/bench.err"
rc=$?
if [ "$rc" = 0 ]; then
    pass bench_quick_exit_status
else
    fail bench_quick_exit_status "exit $rc: $(grep -E 'ERROR|FAILED|error' "$out" "$TEST_TMP/bench.err" | head -5)"
fi

if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["workloads"]' "$json" 2>/dev/null; then
    pass bench_quick_json_valid
else
    fail bench_quick_json_valid "no valid JSON with workloads in $json"
fi

# bench_case ID PYTHON-EXPRESSION: the expression over the workload row `w` (dict) must be true.
bench_case() {
    local id=$1 expr=$2 why
    why=$(python3 - "$json" "$id" "$expr" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
rows = [r for r in d['workloads'] if r['id'] == sys.argv[2]]
if not rows:
    sys.exit('no row %s' % sys.argv[2])
w = rows[0]
t = w['tools']
def num(x):
    return isinstance(x, (int, float)) and x > 0
if not eval(sys.argv[3]):
    sys.exit('check failed: %s' % json.dumps(w)[:300])
PY
    )
    if [ $? = 0 ]; then
        pass "bench_quick_${id}_ran"
    else
        fail "bench_quick_${id}_ran" "$why"
    fi
}

bench_case W1 "num(t['bridgefs']['median_s']) and num(t['rclone']['median_s']) and num(w['ceiling_s']) and num(t['bridgefs'].get('rss_kib'))"
bench_case W2 "num(t['bridgefs']['median_s']) and num(t['rclone']['median_s']) and num(w['ceiling_s'])"
bench_case W3 "num(t['bridgefs']['median_s']) and num(t['rclone']['median_s'])"
bench_case W4 "num(t['bridgefs']['median_s']) and num(t['rclone']['median_s'])"
bench_case W5c "all(num(t[k]['median_s']) and t[k]['files'] > 0 and t[k]['requests']['total'] > 0 for k in ('bridgefs', 's3fs', 'rclone'))"
bench_case W5w "all(num(t[k]['median_s']) for k in ('bridgefs', 's3fs', 'rclone')) and t['bridgefs']['files'] == t['s3fs']['files']"
bench_case W6w "all(num(t[k]['median_s']) for k in ('bridgefs', 's3fs', 'rclone')) and num(w['ceiling_s'])"
bench_case W6r "all(num(t[k]['median_s']) for k in ('bridgefs', 's3fs', 'rclone')) and num(w['ceiling_s'])"
bench_case W7 "num(t['bridgefs']['mount_rss_kib']) and num(t['bridgefs']['mirror_rss_kib_W1'])"
bench_case W8 "t['bridgefs']['entries'] > 0 and num(t['bridgefs']['lookups_per_s']) and num(t['bridgefs']['disk_mib'])"

if grep -q '^W1 ' "$out" && grep -q 'no timing claims' "$out"; then
    pass bench_quick_table_printed
else
    fail bench_quick_table_printed "$(head -3 "$out")"
fi
# The Azurite key and the Swift token never reach the output.
if grep -qE 'Eby8vdM02|sig=[A-Za-z0-9%]{12}|AUTH_tk[0-9a-f]' "$out" "$TEST_TMP/bench.err" "$json"; then
    fail bench_quick_no_secrets "a secret reached the output"
else
    pass bench_quick_no_secrets
fi
assert_done
