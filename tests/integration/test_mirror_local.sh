#!/usr/bin/env bash
# test_mirror_local: `bridgefs mirror` and `bridgefs verify` between plain local directories:
# first copy, incremental runs judged by the copy log, modes, dry run, max-delete, verify
# findings, kill -9 and resume, bad input, odd names, EACCES (run as nobody), memory bound.
source "$(dirname "$0")/../lib/assert.sh" || exit 1
# every path below lives in TEST_TMP: refuse to run without it
if [ -z "${TEST_TMP:-}" ] || [ ! -d "$TEST_TMP" ]; then
    echo "FAIL: test_mirror_local.sh: no TEST_TMP"
    exit 1
fi

MIRROR_BIN=$BRIDGEFS
bm() { timeout -k 5 "${BFS_TIMEOUT:-600}" "$MIRROR_BIN" "$@"; }
IS_ASAN=0
if ldd "$MIRROR_BIN" 2>/dev/null | grep -q libasan; then IS_ASAN=1; fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
chmod 755 "$TEST_TMP"
LOGS=$TEST_TMP/logs

# jl_paths LOG RESULT [TYPE]: the sorted ItemPaths of a copy log with that TransferResult.
jl_paths() {
    python3 - "$@" <<'PY'
import json, sys
log, res = sys.argv[1], sys.argv[2]
typ = sys.argv[3] if len(sys.argv) > 3 else None
out = []
for line in open(log, encoding="utf-8", errors="surrogateescape"):
    o = json.loads(line)
    if o["TransferResult"] == res and (typ is None or o["ItemType"] == typ):
        out.append(o["ItemPath"].replace("\n", "\\n"))
print("\n".join(sorted(out)))
PY
}
jl_count() { jl_paths "$@" | grep -c . || true; }
# tree_sum DIR: one line per item: path, type, size, mtime (ns), mode, content hash.
tree_sum() {
    (cd "$1" && find . -mindepth 1 \( -type f -printf '%P|f|%s|%T@|%m|' -exec sh -c 'md5sum <"$1" | cut -c1-32' _ {} \; \) -o \( ! -type f -printf '%P|%y|%l\n' \) | sort)
}
# mtimes DIR: files and symlinks with their mtime in ns.
mtimes() { (cd "$1" && find . -mindepth 1 ! -type d -printf '%P %T@\n' | sort); }

# ---- a source tree with odd names, xattrs, symlinks, modes ----
S=$TEST_TMP/src D=$TEST_TMP/dst
mkdir -p "$S/a/b" "$S/c" "$S/sp ace/ünï" "$S/keep"
printf 'hello\n' >"$S/a/x"
head -c 300000 /dev/urandom >"$S/a/b/big"
printf 'gone\n' >"$S/c/gone.txt"
printf 'one\n' >"$S/c/one.txt"
ln -s ../a/x "$S/c/link"
printf 'nl\n' >"$S/new
line.txt"
printf 'q\n' >"$S/sp ace/ünï/quote\"d é.txt"
printf 'm\n' >"$S/keep/mode640"
chmod 640 "$S/keep/mode640"
python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.color", b"blue"); os.setxattr(sys.argv[1], "user.bridgefs.md5", b"0"*32)' "$S/a/x"
touch -d '2020-01-02 03:04:05.123456789' "$S/a/x"

expect_exit 0 mirror_first_copy bm mirror --log-dir "$LOGS" --job-id first "$S" "$D"
check mirror_first_diff_r diff -r "$S" "$D"
if [ "$(mtimes "$S")" = "$(mtimes "$D")" ]; then pass mirror_first_mtimes_preserved_ns; else
    fail mirror_first_mtimes_preserved_ns "$(diff <(mtimes "$S") <(mtimes "$D") | head -3)"; fi
if [ "$(stat -c %a "$D/keep/mode640")" = 640 ]; then pass mirror_first_mode_preserved; else
    fail mirror_first_mode_preserved "mode $(stat -c %a "$D/keep/mode640")"; fi
if [ -L "$D/c/link" ] && [ "$(readlink "$D/c/link")" = ../a/x ]; then pass mirror_symlink_as_symlink
else fail mirror_symlink_as_symlink "not a symlink"; fi
XA=$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.color").decode(), "user.bridgefs.md5" in os.listxattr(sys.argv[1]))' "$D/a/x" 2>&1)
if [ "$XA" = "blue False" ]; then pass mirror_user_xattrs_copied_not_bridgefs; else
    fail mirror_user_xattrs_copied_not_bridgefs "$XA"; fi
if [ "$(jl_count "$LOGS/first.copylog.jsonl" Transferred F)" = 8 ]; then pass mirror_first_log_counts
else fail mirror_first_log_counts "$(jl_count "$LOGS/first.copylog.jsonl" Transferred F) files"; fi
if jl_paths "$LOGS/first.copylog.jsonl" Transferred | grep -xF 'new\nline.txt' >/dev/null; then
    pass mirror_log_odd_name_json_escaped; else fail mirror_log_odd_name_json_escaped "not found"; fi
if python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["status"]=="Succeeded" and s["itemsTransferred"]==14 and s["itemsFailed"]==0, s' "$LOGS/first.summary.json" 2>"$TEST_TMP/err"; then
    pass mirror_summary_json; else fail mirror_summary_json "$(tail -1 "$TEST_TMP/err")"; fi
expect_output_contains verify_after_first_match "trees match" bm verify "$S" "$D"

# ---- incremental: change, add, delete ----
expect_exit 0 mirror_noop_run bm mirror --log-dir "$LOGS" --job-id noop "$S" "$D"
if [ "$(jl_count "$LOGS/noop.copylog.jsonl" Transferred)" = 0 ] &&
    [ "$(jl_count "$LOGS/noop.copylog.jsonl" NoCopyNecessary F)" = 8 ]; then pass mirror_noop_copies_nothing
else fail mirror_noop_copies_nothing "$(jl_count "$LOGS/noop.copylog.jsonl" Transferred) transferred"; fi
printf 'changed!\n' >"$S/a/x"
mkdir "$S/n"
printf 'new\n' >"$S/n/new.txt"
rm "$S/c/gone.txt"
printf 'extra\n' >"$D/only-in-target.txt"
expect_exit 0 mirror_incremental_merge bm mirror --log-dir "$LOGS" --job-id inc1 "$S" "$D"
GOT=$(jl_paths "$LOGS/inc1.copylog.jsonl" Transferred F | tr '\n' ' ')
if [ "$GOT" = "a/x n/new.txt " ]; then pass mirror_incremental_copies_exactly_changed; else
    fail mirror_incremental_copies_exactly_changed "transferred: $GOT"; fi
if [ -e "$D/c/gone.txt" ] && [ -e "$D/only-in-target.txt" ] &&
    [ "$(jl_count "$LOGS/inc1.copylog.jsonl" Deleted)" = 0 ]; then pass mirror_merge_keeps_target_only
else fail mirror_merge_keeps_target_only "deleted something"; fi

# dry run in mirror mode: prints, changes nothing
printf 'later\n' >"$S/later.txt"
BEFORE=$(tree_sum "$D")
expect_output_contains mirror_dry_run_prints_delete "delete  only-in-target.txt" \
    bm mirror --mode mirror --dry-run --log-dir "$LOGS" "$S" "$D"
if grep -qxF 'copy  later.txt' "$LAST_OUT" && grep -qxF 'delete  c/gone.txt' "$LAST_OUT"; then
    pass mirror_dry_run_prints_copy; else fail mirror_dry_run_prints_copy "$(head -5 "$LAST_OUT")"; fi
if [ "$BEFORE" = "$(tree_sum "$D")" ]; then pass mirror_dry_run_changes_nothing; else
    fail mirror_dry_run_changes_nothing "target changed"; fi

expect_exit 0 mirror_mode_mirror_run bm mirror --mode mirror --log-dir "$LOGS" --job-id inc2 "$S" "$D"
GOT=$(jl_paths "$LOGS/inc2.copylog.jsonl" Deleted | tr '\n' ' ')
if [ "$GOT" = "c/gone.txt only-in-target.txt " ] && [ ! -e "$D/only-in-target.txt" ]; then
    pass mirror_mode_deletes_exactly_target_only; else fail mirror_mode_deletes_exactly_target_only "deleted: $GOT"; fi
GOT=$(jl_paths "$LOGS/inc2.copylog.jsonl" Transferred F | tr '\n' ' ')
if [ "$GOT" = "later.txt " ]; then pass mirror_mode_copies_exactly_new; else
    fail mirror_mode_copies_exactly_new "transferred: $GOT"; fi
check verify_after_incremental diff -r "$S" "$D"

# max-delete
mkdir -p "$D/mass"
for i in 1 2 3 4 5; do printf '%s\n' "$i" >"$D/mass/f$i"; done
expect_exit 7 mirror_max_delete_refuses bm mirror --mode mirror --max-delete 3 --log-dir "$LOGS" "$S" "$D"
if grep -q "refusing to delete 6 items" "$LAST_ERR" && [ -e "$D/mass/f5" ]; then
    pass mirror_max_delete_deletes_nothing; else fail mirror_max_delete_deletes_nothing "$(tail -2 "$LAST_ERR")"; fi
expect_exit 0 mirror_max_delete_enough bm mirror --mode mirror --max-delete 6 --log-dir "$LOGS" "$S" "$D"
[ ! -e "$D/mass" ] && pass mirror_max_delete_within_limit_deletes || fail mirror_max_delete_within_limit_deletes "mass left"

# include / exclude
mkdir -p "$S/inc"
printf 'a\n' >"$S/inc/a.log"
printf 'b\n' >"$S/inc/b.txt"
printf 'k\n' >"$D/inc-protected.tmp"
expect_exit 0 mirror_exclude_run bm mirror --mode mirror --exclude '*.log' --exclude '*.tmp' --log-dir "$LOGS" --job-id excl "$S" "$D"
if [ ! -e "$D/inc/a.log" ] && [ -e "$D/inc/b.txt" ] && [ -e "$D/inc-protected.tmp" ] &&
    [ "$(jl_paths "$LOGS/excl.copylog.jsonl" Excluded)" = inc/a.log ]; then pass mirror_exclude_glob
else fail mirror_exclude_glob "exclude not applied"; fi

# type conflicts
mkdir -p "$D/tc1"
printf 'x\n' >"$D/tc1/inner"
printf 'file\n' >"$S/tc1"
expect_exit 7 mirror_type_conflict_merge_fails bm mirror --log-dir "$LOGS" --job-id tcm "$S" "$D"
if grep -q 'type conflict: file in source, directory in target' "$LOGS/tcm.copylog.jsonl" &&
    [ -d "$D/tc1" ]; then pass mirror_type_conflict_merge_reported_kept; else
    fail mirror_type_conflict_merge_reported_kept "not reported"; fi
expect_exit 0 mirror_type_conflict_mirror_replaces bm mirror --mode mirror --log-dir "$LOGS" "$S" "$D"
[ -f "$D/tc1" ] && pass mirror_type_conflict_replaced_by_file || fail mirror_type_conflict_replaced_by_file "still a dir"

# stale temp files: removed from the target, never copied from the source
mkdir -p "$D/a"
printf 'junk' >"$D/a/.bridgefs.tmp.x.deadbeef"
printf 'junk' >"$S/.bridgefs.tmp.y.cafe0000"
expect_exit 0 mirror_stale_temp_run bm mirror --log-dir "$LOGS" "$S" "$D"
if [ ! -e "$D/a/.bridgefs.tmp.x.deadbeef" ] && [ ! -e "$D/.bridgefs.tmp.y.cafe0000" ]; then
    pass mirror_stale_temp_removed_not_copied; else fail mirror_stale_temp_removed_not_copied "temp left"; fi
rm -f "$S/.bridgefs.tmp.y.cafe0000"

# a FIFO is Unsupported, not a failure
mkfifo "$S/pipe"
expect_exit 0 mirror_fifo_run bm mirror --log-dir "$LOGS" --job-id fifo "$S" "$D"
[ "$(jl_paths "$LOGS/fifo.copylog.jsonl" Unsupported)" = pipe ] && pass mirror_fifo_unsupported ||
    fail mirror_fifo_unsupported "not reported"
rm -f "$S/pipe"

# ---- verify findings ----
expect_exit 0 verify_clean bm verify "$S" "$D"
python3 - "$D/a/b/big" <<'PY'
import os, sys
p = sys.argv[1]; st = os.stat(p)
with open(p, "r+b") as f:
    f.seek(1000); c = f.read(1); f.seek(1000); f.write(bytes([c[0] ^ 1]))
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
expect_exit 0 mirror_misses_same_size_mtime_corruption bm mirror --log-dir "$LOGS" "$S" "$D"
expect_exit 8 verify_deep_finds_corrupt_byte bm verify --deep "$S" "$D"
grep -qxF 'different  a/b/big  (checksum)' "$LAST_OUT" && pass verify_corrupt_line || fail verify_corrupt_line "$(head -3 "$LAST_OUT")"
expect_exit 8 verify_checksum_finds_corrupt_byte bm verify --checksum "$S" "$D"
rm "$D/c/one.txt"
printf 'extra\n' >"$D/c/extra.txt"
printf 'longer\n' >"$D/later.txt"
expect_exit 8 verify_missing_extra_exit bm verify "$S" "$D"
if grep -qxF 'missing  c/one.txt' "$LAST_OUT" && grep -qxF 'extra  c/extra.txt' "$LAST_OUT" &&
    grep -qxF 'different  later.txt  (size 6 != 7)' "$LAST_OUT" &&
    grep -q '1 missing, 1 extra, 2 different' "$LAST_OUT"; then pass verify_missing_extra_lines
else fail verify_missing_extra_lines "$(cat "$LAST_OUT" | head -6)"; fi
expect_exit 8 verify_json_exit bm verify --format json "$S" "$D"
if python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); t=o["totals"]; assert (t["missing"],t["extra"],t["different"],o["match"])==(1,1,2,False), o' "$LAST_OUT" 2>"$TEST_TMP/err"; then
    pass verify_json_parses; else fail verify_json_parses "$(tail -1 "$TEST_TMP/err")"; fi
expect_exit 0 mirror_checksum_repairs bm mirror --checksum --mode mirror --log-dir "$LOGS" --job-id cks "$S" "$D"
GOT=$(jl_paths "$LOGS/cks.copylog.jsonl" Transferred F | tr '\n' ' ')
[ "$GOT" = "a/b/big c/one.txt later.txt " ] && pass mirror_checksum_copies_corrupt_only || fail mirror_checksum_copies_corrupt_only "$GOT"
expect_exit 0 verify_deep_after_repair bm verify --deep "$S" "$D"

# ---- bad input ----
expect_exit 3 bad_src_missing bm mirror --log-dir "$LOGS" "$TEST_TMP/nope" "$TEST_TMP/d2"
expect_exit 2 bad_dst_inside_src bm mirror --log-dir "$LOGS" "$S" "$S/a/inner"
grep -q 'target is inside the source' "$LAST_ERR" && [ ! -e "$S/a/inner" ] && pass bad_dst_inside_src_message || fail bad_dst_inside_src_message "$(cat "$LAST_ERR")"
expect_exit 2 bad_src_equals_dst bm mirror --log-dir "$LOGS" "$S" "$S/a/.."
expect_exit 2 bad_src_inside_dst bm mirror --log-dir "$LOGS" "$S/a" "$S"
expect_exit 2 bad_usage_one_arg bm mirror "$S"
expect_exit 2 bad_mode bm mirror --mode sideways "$S" "$D"
expect_exit 3 verify_missing_target bm verify "$S" "$TEST_TMP/nope"

# ---- files that vanish during the run: one between the listing and its stat, one between
# the walk and its copy (tests/helpers/vanish_preload.so deletes each in the very call that
# reaches for it). Each is a Failed item with a clear reason, the rest is copied, and the
# target's older copy of the vanished file is left whole. ----
V=$TEST_TMP/vanish
mkdir -p "$V/src/sub" "$V/dst"
for f in a.txt gone-open.txt gone-stat.txt z.txt sub/b.txt; do printf '%s\n' "$f" >"$V/src/$f"; done
printf 'older copy\n' >"$V/dst/gone-open.txt"
expect_exit 7 vanish_partial env LD_PRELOAD="$BRIDGEFS_BUILD/tests/vanish_preload.so" \
    ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" BFS_VANISH_OPEN=gone-open.txt \
    BFS_VANISH_STAT=gone-stat.txt "$MIRROR_BIN" mirror --no-progress --jobs 1 --log-dir "$LOGS" \
    --job-id vanish "$V/src" "$V/dst"
_vdet() { python3 -c 'import json,sys; print([o["Details"] for o in map(json.loads, open(sys.argv[1])) if o["ItemPath"] == sys.argv[2] and o["TransferResult"] == "Failed"])' "$LOGS/vanish.copylog.jsonl" "$1"; }
case "$(_vdet gone-stat.txt)" in *"vanished during the walk"*) pass vanish_before_stat_logged ;; *) fail vanish_before_stat_logged "$(_vdet gone-stat.txt)" ;; esac
case "$(_vdet gone-open.txt)" in *"vanished"*) pass vanish_before_copy_logged ;; *) fail vanish_before_copy_logged "$(_vdet gone-open.txt)" ;; esac
grep -q 'gone-open.txt: vanished' "$LAST_ERR" && pass vanish_named_on_stderr || fail vanish_named_on_stderr "$(cat "$LAST_ERR")"
if [ "$(cat "$V/dst/a.txt" "$V/dst/z.txt" "$V/dst/sub/b.txt")" = "$(printf 'a.txt\nz.txt\nsub/b.txt')" ] &&
    [ "$(cat "$V/dst/gone-open.txt")" = "older copy" ] && [ ! -e "$V/dst/gone-stat.txt" ] &&
    [ -z "$(find "$V/dst" -name '.bridgefs.tmp.*')" ]; then pass vanish_rest_copied_target_whole
else fail vanish_rest_copied_target_whole "$(ls -A "$V/dst")"; fi

# ---- EACCES, for real: run as nobody (root reads mode-000 files) ----
NB=65534
P=$TEST_TMP/perm
mkdir -p "$P/src/sub" "$P/src/locked" "$P/dst" "$P/logs"
printf 'ok\n' >"$P/src/ok.txt"
printf 'ok2\n' >"$P/src/sub/ok2.txt"
printf 'secret\n' >"$P/src/secret.txt"
printf 'hidden\n' >"$P/src/locked/h.txt"
printf 'old secret copy\n' >"$P/dst/secret.txt"
printf 'target only\n' >"$P/dst/target-only.txt"
# root reads a mode-000 file, so as root the mirror runs as nobody (setpriv drops every
# capability with the uid change); as another user it runs directly.
if [ "$(id -u)" = 0 ]; then
    chown -R $NB:$NB "$P/dst" "$P/logs"
    asnobody() { setpriv --reuid $NB --regid $NB --clear-groups -- env HOME="$P" ASAN_OPTIONS="$ASAN_OPTIONS" "$MIRROR_BIN" "$@"; }
else
    asnobody() { "$MIRROR_BIN" "$@"; }
fi
chmod 000 "$P/src/secret.txt"
expect_exit 7 eacces_file_partial asnobody mirror --log-dir "$P/logs" --job-id p1 "$P/src" "$P/dst"
if python3 -c '
import json,sys
fs=[json.loads(l) for l in open(sys.argv[1])]
f=[o for o in fs if o["ItemPath"]=="secret.txt"][0]
assert f["TransferResult"]=="Failed" and f["StatusCode"]==13 and "Permission denied" in f["Details"], f
' "$P/logs/p1.copylog.jsonl" 2>"$TEST_TMP/err" && [ "$(cat "$P/dst/secret.txt")" = "old secret copy" ] &&
    [ -f "$P/dst/sub/ok2.txt" ]; then pass eacces_logged_target_untouched_run_continues
else fail eacces_logged_target_untouched_run_continues "$(tail -1 "$TEST_TMP/err")"; fi
chmod 644 "$P/src/secret.txt"
chmod 000 "$P/src/locked"
expect_exit 7 eacces_dir_no_deletes asnobody mirror --mode mirror --log-dir "$P/logs" --job-id p2 "$P/src" "$P/dst"
if grep -q 'not deleting the 1 items' "$LAST_ERR" && [ -e "$P/dst/target-only.txt" ] &&
    grep -q 'cannot list the source directory: Permission denied' "$P/logs/p2.copylog.jsonl"; then
    pass eacces_dir_blocks_deletes; else fail eacces_dir_blocks_deletes "$(tail -2 "$LAST_ERR")"; fi
chmod 000 "$P/src"
expect_exit 4 eacces_src_root asnobody mirror --log-dir "$P/logs" "$P/src" "$P/dst"
chmod 755 "$P/src" "$P/src/locked"

# ---- kill -9 mid-run, then resume ----
K=$TEST_TMP/kill
mkdir -p "$K/src"
python3 - "$K/src" <<'PY'
import os, sys
blk = os.urandom(256 * 1024)
for i in range(400):
    d = os.path.join(sys.argv[1], "d%02d" % (i % 8))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%03d" % i), "wb") as f:
        f.write(blk[i:] + blk[:i])
PY
sync
"$MIRROR_BIN" mirror --jobs 2 --log-dir "$LOGS" --job-id k1 "$K/src" "$K/dst" >/dev/null 2>&1 &
KPID=$!
for _ in $(seq 1 300); do
    n=$(grep -c Transferred "$LOGS/k1.copylog.jsonl" 2>/dev/null || true)
    [ "${n:-0}" -ge 20 ] && break
    sleep 0.01
done
kill -9 $KPID 2>/dev/null
wait $KPID 2>/dev/null
N1=$(jl_count "$LOGS/k1.copylog.jsonl" Transferred F)
expect_exit 0 resume_rerun_completes bm mirror --jobs 2 --log-dir "$LOGS" --job-id k2 "$K/src" "$K/dst"
N2=$(jl_count "$LOGS/k2.copylog.jsonl" Transferred F)
echo "# kill -9 after $N1 files; the re-run copied $N2 of 400"
if [ "$N1" -lt 400 ] && [ "$N2" -lt 400 ] && [ $((N1 + N2)) -ge 398 ] && [ $((N1 + N2)) -le 400 ]; then
    pass resume_copies_only_what_remained; else fail resume_copies_only_what_remained "first $N1, second $N2"; fi
[ -z "$(find "$K/dst" -name '.bridgefs.tmp.*')" ] && pass resume_no_temp_files_left || fail resume_no_temp_files_left "temp files remain"
expect_exit 0 resume_verify_passes bm verify "$K/src" "$K/dst"

# Ctrl-C: exit 130 after writing the summary with status Canceled, no temp file left
"$MIRROR_BIN" mirror --jobs 2 --log-dir "$LOGS" --job-id int1 "$K/src" "$K/dst2" >/dev/null 2>"$TEST_TMP/int.err" &
KPID=$!
for _ in $(seq 1 300); do
    n=$(grep -c Transferred "$LOGS/int1.copylog.jsonl" 2>/dev/null || true)
    [ "${n:-0}" -ge 20 ] && break
    sleep 0.01
done
kill -INT $KPID 2>/dev/null
RC=0
wait $KPID || RC=$?
if [ "$RC" = 130 ] && grep -q '"status": "Canceled"' "$LOGS/int1.summary.json" &&
    [ -z "$(find "$K/dst2" -name '.bridgefs.tmp.*')" ]; then pass sigint_canceled_summary_exit_130
else fail sigint_canceled_summary_exit_130 "exit $RC, $(grep status "$LOGS/int1.summary.json")"; fi
rm -rf "$K"

# ---- memory bound: 10,000 vs 100,000 entries ----
# run_rss OUT CMD...: runs CMD, writes "rc maxrss_kib seconds" to OUT.
run_rss() {
    local out=$1
    shift
    python3 - "$out" "$@" <<'PY'
import resource, subprocess, sys, time
t = time.time()
rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
dt = time.time() - t
open(sys.argv[1], "w").write("%d %d %.2f\n" % (rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, dt))
PY
}
# mk_tree DIR N: N entries (files of 0-2 KiB across directories of 100 entries).
mk_tree() {
    python3 - "$1" "$2" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
random.seed(n)
data = os.urandom(2048)
made = 0; d = 0
while made < n:
    dd = os.path.join(root, "t%03d" % (d // 100), "d%05d" % d)
    os.makedirs(dd); made += 1 + (d % 100 == 0)
    for i in range(min(99, n - made)):
        with open(os.path.join(dd, "f%02d.dat" % i), "wb") as f:
            f.write(data[:random.randint(0, 2048)])
        made += 1
    d += 1
PY
}
# Under ASan RSS means little (shadow memory, a 256 MiB free quarantine): a smaller smoke run.
M=$TEST_TMP/mem
BIG=100000
[ "$IS_ASAN" = 1 ] && BIG=20000
mk_tree "$M/s10k" 10000
mk_tree "$M/s100k" $BIG
run_rss "$M/r10k" "$MIRROR_BIN" mirror --no-progress --log-dir "$M/logs" "$M/s10k" "$M/d10k"
run_rss "$M/r100k" "$MIRROR_BIN" mirror --no-progress --log-dir "$M/logs" --job-id big "$M/s100k" "$M/d100k"
run_rss "$M/r100k-noop" "$MIRROR_BIN" mirror --no-progress --log-dir "$M/logs" --job-id noop "$M/s100k" "$M/d100k"
read -r RC10 RSS10 T10 <"$M/r10k"
read -r RC100 RSS100 T100 <"$M/r100k"
read -r RCN RSSN TN <"$M/r100k-noop"
BYTES=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytesTransferred"])' "$M/logs/big.summary.json")
ITEMS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["itemsTransferred"])' "$M/logs/big.summary.json")
echo "# $BIG-entry mirror: $ITEMS items, $BYTES bytes in ${T100}s: $(python3 -c "print('%.0f files/s, %.1f MiB/s' % ($ITEMS/$T100, $BYTES/$T100/1048576))"); no-op re-run ${TN}s"
echo "# peak RSS: 10000 entries ${RSS10} KiB, $BIG entries ${RSS100} KiB, its no-op re-run ${RSSN} KiB (asan=$IS_ASAN)"
[ "$RC10" = 0 ] && [ "$RC100" = 0 ] && [ "$RCN" = 0 ] && pass mem_runs_succeed || fail mem_runs_succeed "exit $RC10 $RC100 $RCN"
if [ "$IS_ASAN" = 1 ]; then
    echo "# ASan build: RSS bounds not asserted (checked by the plain build)"
else
    [ "$RSS100" -le 65536 ] && pass mem_100k_under_64mib || fail mem_100k_under_64mib "${RSS100} KiB"
    if [ "$RSS100" -le $((RSS10 * 125 / 100)) ]; then pass mem_rss_flat_10k_to_100k
    else fail mem_rss_flat_10k_to_100k "10k ${RSS10} KiB, 100k ${RSS100} KiB"; fi
fi
[ "$(jl_count "$M/logs/noop.copylog.jsonl" Transferred)" = 0 ] && pass mem_noop_rerun_copies_nothing || fail mem_noop_rerun_copies_nothing "copied"

# A flat directory (a bucket without prefixes): the walk sorts a big directory in runs on
# disk and merges them (BRIDGEFS_WALK_RUN names a run; 65,536 by default, 4,096 here), so
# memory does not grow with the directory. The incremental run must line the two sides up.
FLAT=$((BIG / 2))
python3 - "$M/flat" "$FLAT" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root)
for i in range(n):
    # names in no particular order on disk, some not ASCII
    with open(os.path.join(root, "%s-%07d%s" % ("zyxwvutsrq"[i % 10], (i * 7919) % n, "é" if i % 3 else "")), "w") as f:
        f.write("%d" % i)
PY
export BRIDGEFS_WALK_RUN=4096
run_rss "$M/rflat" "$MIRROR_BIN" mirror --no-progress --log-dir "$M/logs" --job-id flat "$M/flat" "$M/dflat"
read -r RCF RSSF TF <"$M/rflat"
echo "# flat directory of $FLAT entries, sorted in runs of 4096: ${TF}s, peak RSS ${RSSF} KiB (asan=$IS_ASAN)"
[ "$RCF" = 0 ] && [ "$(ls "$M/dflat" | wc -l)" = "$FLAT" ] && diff -rq "$M/flat" "$M/dflat" >/dev/null &&
    pass mem_flat_dir_copied || fail mem_flat_dir_copied "exit $RCF, $(ls "$M/dflat" | wc -l) entries"
if [ "$IS_ASAN" != 1 ]; then
    [ "$RSSF" -le $((RSS10 * 125 / 100)) ] && pass mem_flat_dir_rss_flat ||
        fail mem_flat_dir_rss_flat "10k tree ${RSS10} KiB, flat $FLAT ${RSSF} KiB"
fi
echo changed >"$(find "$M/flat" -type f | head -n 1)"
rm -f "$(find "$M/dflat" -type f | sed -n 100p)"
echo extra >"$M/dflat/extra-only"
check mem_flat_incremental bm mirror --mode mirror --no-progress --log-dir "$M/logs" --job-id flat2 "$M/flat" "$M/dflat"
flat_counts="$(jl_count "$M/logs/flat2.copylog.jsonl" Transferred) $(jl_count "$M/logs/flat2.copylog.jsonl" Deleted)"
[ "$flat_counts" = "2 1" ] && pass mem_flat_incremental_exact || fail mem_flat_incremental_exact "transferred, deleted: $flat_counts"
check mem_flat_verify bm verify "$M/flat" "$M/dflat"
unset BRIDGEFS_WALK_RUN
rm -rf "$M"

assert_done
