#!/usr/bin/env bash
# test_mirror_urls: mirror and verify with URLs as SRC / DST (bridgefs mounts them privately for
# the run): S3 -> Blob, verify in URL form, bytes read back with `bridgefs cat`, no mount and no
# temporary folder left behind, also when a mount fails or the run is interrupted; archived
# (Azure Archive tier) source blobs reported as Unsupported.
source "$(dirname "$0")/../lib/assert.sh"
need_emulators

BFS_SEED=${BFS_SEED:-$BRIDGEFS_BUILD/tests/bfs_seed}
export TMPDIR=$TEST_TMP/tmp # the private mountpoints and caches go here: checked empty below
mkdir -p "$TMPDIR"
logs=$TEST_TMP/logs

# _no_leftovers NAME: no bridgefs mount below TEST_TMP, and TMPDIR is empty.
_no_leftovers() {
    local m left
    m=$(grep -c " $TEST_TMP/" /proc/mounts)
    left=$(ls -A "$TMPDIR")
    if [ "$m" = 0 ] && [ -z "$left" ]; then
        pass "$1"
    else
        fail "$1" "$m mounts left ($(grep " $TEST_TMP/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')), tmp: $left"
    fi
}
# Any private mount a failing case leaves is unmounted at exit.
_unmount_all() {
    local mp
    grep " $TEST_TMP/" /proc/mounts | cut -d' ' -f2 | while read -r mp; do
        fusermount3 -u "$mp" 2>/dev/null || fusermount3 -uz "$mp" 2>/dev/null
    done
    return 0
}
at_exit _unmount_all

_json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

s3src="s3://$(unique_name mus)"
azdst="az://$(unique_name mud)"
check mu_mb_s3 bfs mb "$s3src"
check mu_mb_az bfs mb "$azdst"
check mu_seed_a "$BFS_SEED" "$s3src/a" 40 --jobs 8 --size 4096
check mu_seed_b "$BFS_SEED" "$s3src/b/c" 20 --jobs 8 --size 70000

# S3 -> Blob, both as URLs, the target a prefix of the container.
check mu_url_mirror bfs mirror --no-progress --log-dir "$logs" --job-id u1 "$s3src" "$azdst/copy"
_no_leftovers mu_url_mirror_no_mount_left
if [ "$(_json "$logs/u1.summary.json" itemsTransferred 2>&1)" -ge 60 ] 2>/dev/null &&
    [ "$(_json "$logs/u1.summary.json" source)" = "$s3src" ]; then
    pass mu_url_mirror_summary
else
    fail mu_url_mirror_summary "$(tr '\n' ' ' <"$logs/u1.summary.json")"
fi
expect_output_contains mu_url_verify "trees match" bfs verify "$s3src" "$azdst/copy"
_no_leftovers mu_url_verify_no_mount_left
check mu_url_verify_json bfs verify --format json "$s3src" "$azdst/copy"
if grep -q "\"source\": \"$s3src\"" "$LAST_OUT" && grep -q '"match": true' "$LAST_OUT"; then
    pass mu_url_verify_json_names_urls
else
    fail mu_url_verify_json_names_urls "$(tr '\n' ' ' <"$LAST_OUT")"
fi

# Bytes, read with the inspection command, for a sample.
bad=0 n=0
for k in a/$(bfs ls "$s3src/a/" | sed -n '3p' | sed 's|.*/||') b/c/$(bfs ls "$s3src/b/c/" | sed -n '7p' | sed 's|.*/||'); do
    x=$(bfs cat "$s3src/$k" | md5sum)
    y=$(bfs cat "$azdst/copy/$k" | md5sum)
    n=$((n + 1))
    [ "$x" = "$y" ] || bad=$((bad + 1))
done
if [ "$n" = 2 ] && [ "$bad" = 0 ]; then
    pass mu_url_bytes_equal
else
    fail mu_url_bytes_equal "$n compared, $bad differ"
fi

# Incremental re-run through fresh private mounts: nothing copied.
check mu_url_rerun bfs mirror --no-progress --log-dir "$logs" --job-id u2 "$s3src" "$azdst/copy"
_same() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$3', want '$2'"; fi; }
_same mu_url_rerun_nothing_copied 0 "$(_json "$logs/u2.summary.json" itemsTransferred)"

# A URL on one side, a local folder on the other; a dry run mounts the target read-only.
check mu_url_to_dir bfs mirror --no-progress --log-dir "$logs" "$azdst/copy" "$TEST_TMP/local"
check mu_dir_verify bfs verify "$TEST_TMP/local" "$s3src"
check mu_url_dry_run bfs mirror -n --no-progress "$TEST_TMP/local" "$azdst/dry"
_same mu_url_dry_run_wrote_nothing "" "$(bfs ls "$azdst/dry/" 2>/dev/null)"
_no_leftovers mu_url_mixed_no_mount_left

# A target bucket that does not exist: the mount's message and exit code (3), and the source
# mount is gone afterwards.
expect_exit 3 mu_missing_target_exit bfs mirror --no-progress --log-dir "$logs" "$s3src" \
    "az://$(unique_name nope)"
if grep -qi "not found\|does not exist\|no such" "$LAST_ERR"; then
    pass mu_missing_target_message
else
    fail mu_missing_target_message "$(tr '\n' ' ' <"$LAST_ERR")"
fi
_no_leftovers mu_missing_target_no_mount_left
expect_exit 3 mu_missing_source_exit bfs verify "s3://$(unique_name nope)" "$azdst/copy"
_no_leftovers mu_missing_source_no_mount_left
expect_exit 4 mu_bad_credentials_exit env AWS_SECRET_ACCESS_KEY=wrong-secret \
    "$BRIDGEFS" mirror --no-progress --log-dir "$logs" "$s3src" "$TEST_TMP/x"
_no_leftovers mu_bad_credentials_no_mount_left

# The same place twice, or the target inside the source: refused before anything is mounted.
expect_exit 2 mu_overlap_refused bfs mirror --no-progress --log-dir "$logs" "$s3src/" "$s3src/a/x"
_no_leftovers mu_overlap_no_mount_left

# SIGTERM in the middle of a run: exit 143, the mounts are gone.
check mu_seed_big "$BFS_SEED" "$s3src/big" 300 --jobs 8 --size 4096
"$BRIDGEFS" mirror --no-progress --jobs 1 --log-dir "$logs" "$s3src" "$azdst/term" \
    >"$TEST_TMP/term.out" 2>&1 &
pid=$!
for _ in $(seq 100); do
    grep -q " $TEST_TMP/tmp/.*/dst " /proc/mounts && break
    sleep 0.1
done
sleep 1
kill -TERM "$pid"
wait "$pid"
_same mu_sigterm_exit 143 "$?"
_no_leftovers mu_sigterm_no_mount_left


# Ctrl-C on a terminal (SIGINT to the whole process group): exit 130, the mounts are gone.
setsid "$BRIDGEFS" mirror --no-progress --jobs 1 --log-dir "$logs" "$s3src" "$azdst/int" \
    >"$TEST_TMP/int.out" 2>&1 &
pid=$!
for _ in $(seq 100); do
    grep -q " $TEST_TMP/tmp/.*/dst " /proc/mounts && break
    sleep 0.1
done
sleep 1
kill -INT -- "-$pid"
wait "$pid"
_same mu_sigint_group_exit 130 "$?"
_no_leftovers mu_sigint_group_no_mount_left

# kill -9 cannot be cleaned up by the killed run: its private mounts stay until the next URL run,
# which finds them (owner process gone), unmounts them and removes the folder.
"$BRIDGEFS" mirror --no-progress --jobs 1 --log-dir "$logs" "$s3src" "$azdst/kill" \
    >"$TEST_TMP/kill.out" 2>&1 &
pid=$!
for _ in $(seq 100); do
    grep -q " $TEST_TMP/tmp/.*/dst " /proc/mounts && break
    sleep 0.1
done
sleep 1
kill -KILL "$pid"
wait "$pid" 2>/dev/null
if grep -q " $TEST_TMP/tmp/" /proc/mounts; then
    pass mu_kill9_leaves_mounts
else
    fail mu_kill9_leaves_mounts "no mount left: was the run already over?"
fi
check mu_kill9_rerun bfs mirror --no-progress --log-dir "$logs" "$s3src" "$azdst/kill"
if grep -q "left by an interrupted run (pid $pid)" "$LAST_ERR"; then
    pass mu_kill9_rerun_cleans_up
else
    fail mu_kill9_rerun_cleans_up "$(tr '\n' ' ' <"$LAST_ERR")"
fi
_no_leftovers mu_kill9_no_mount_left
expect_output_contains mu_kill9_verify "trees match" bfs verify "$s3src" "$azdst/kill"

# Archived source objects: a blob moved to the Archive tier (Azurite supports it) is reported as
# Unsupported ("restore / rehydrate it first"), not as a failure: the others are copied, exit 0.
azarc=$(unique_name mua)
check mu_arc_mb bfs mb "az://$azarc"
check mu_arc_seed "$BFS_SEED" "az://$azarc/d" 5 --size 1000
cold=$(bfs ls "az://$azarc/d/" | sed -n '2p' | sed 's|.*/||')
check mu_arc_set_tier "$EMU_SYS_PY" "$TESTS_DIR/integration/az_set_tier.py" "$azarc" "d/$cold" Archive
check mu_arc_mirror bfs mirror --no-progress --log-dir "$logs" --job-id arc "az://$azarc" \
    "$TEST_TMP/arc"
if grep -qF "d/$cold: archived (Archive tier): restore / rehydrate it first" "$LAST_ERR"; then
    pass mu_arc_stderr_note
else
    fail mu_arc_stderr_note "$(tr '\n' ' ' <"$LAST_ERR")"
fi
python3 - "$logs/arc.copylog.jsonl" "d/$cold" >"$TEST_TMP/arc.check" 2>&1 <<'PY'
import json, sys
want = sys.argv[2]
res = {}
for line in open(sys.argv[1]):
    it = json.loads(line)
    res[it["ItemPath"]] = (it["TransferResult"], it["Details"])
assert res[want] == ("Unsupported", "archived (Archive tier): restore / rehydrate it first"), res[want]
others = [k for k in res if k.startswith("d/") and k != want]
assert len(others) == 4 and all(res[k][0] == "Transferred" for k in others), res
PY
if [ -s "$TEST_TMP/arc.check" ]; then
    fail mu_arc_copylog "$(tr '\n' ' ' <"$TEST_TMP/arc.check")"
else
    pass mu_arc_copylog
fi
_same mu_arc_summary_unsupported 1 "$(_json "$logs/arc.summary.json" itemsUnsupported)"
_same mu_arc_summary_status Succeeded "$(_json "$logs/arc.summary.json" status)"
_same mu_arc_not_on_target "" "$(ls "$TEST_TMP/arc/d/$cold" 2>/dev/null)"
_same mu_arc_others_on_target 4 "$(ls "$TEST_TMP/arc/d" | wc -l)"
_same mu_arc_summary_lists_it "d/$cold" "$(python3 -c 'import json,sys; print(" ".join(i["ItemPath"] for i in json.load(open(sys.argv[1]))["unsupportedItems"]))' "$logs/arc.summary.json")"
# verify names the archived source item (unreadable, exit 7) when the target has that file.
head -c 1000 /dev/zero >"$TEST_TMP/arc/d/$cold"
expect_exit 7 mu_arc_verify_exit bfs verify "az://$azarc" "$TEST_TMP/arc"
if grep -qF "source: archived (Archive tier): restore / rehydrate it first" "$LAST_OUT"; then
    pass mu_arc_verify_says_archived
else
    fail mu_arc_verify_says_archived "$(tr '\n' ' ' <"$LAST_OUT")"
fi
_no_leftovers mu_arc_no_mount_left

assert_done
