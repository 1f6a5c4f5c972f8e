#!/usr/bin/env bash
# test_mount_faults: the FUSE mount when the store fails: failed uploads, unmount with an upload
# in flight, a corrupted cache file, warm remount and TTL expiry; both backends, same cases.
# The mount talks to the emulator through tests/faultproxy.py, which injects the faults and
# counts requests; `bridgefs cat/put` go to the emulator directly.
# shellcheck source=../lib/assert.sh
source "$(dirname "$0")/../lib/assert.sh"
source "$(dirname "$0")/mount_common.sh"
need_emulators

if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
    fail "test_mount_faults: fuse" "/dev/fuse or fusermount3 missing"
    assert_done
fi

FP_PORT=
FP_PID=

# _flt_proxy_start P [PORT]: a faultproxy in front of backend P (on PORT when given).
_flt_proxy_start() {
    local p=$1 port=${2:-0} flavor=s3 target=$SWIFT_PORT
    if [ "$p" = az ]; then
        flavor=azure
        target=$AZURITE_PORT
    fi
    : >"$TEST_TMP/fp-$p.port"
    "$EMU_SYS_PY" "$MNT_FP_PY" --target "127.0.0.1:$target" --flavor "$flavor" --quiet \
        --listen-port "$port" >"$TEST_TMP/fp-$p.port" 2>>"$TEST_TMP/fp-$p.log" &
    FP_PID=$!
    at_exit _flt_kill "$FP_PID"
    for _ in $(seq 1 100); do
        [ -s "$TEST_TMP/fp-$p.port" ] && break
        sleep 0.05
    done
    FP_PORT=$(head -n 1 "$TEST_TMP/fp-$p.port")
}

_flt_kill() { kill "$1" 2>/dev/null; return 0; }
_flt_fault() { curl -sf -X POST "http://127.0.0.1:$FP_PORT/__fault?$1" >/dev/null; }
_flt_clear() { curl -sf -X DELETE "http://127.0.0.1:$FP_PORT/__fault" >/dev/null; }

# _flt_list_count: LIST requests of a directory (with a prefix or a delimiter) seen by the proxy
# since the last reset; the mount's start-up bucket check (a LIST with max-keys=1 of the whole
# bucket, no prefix) is not one.
_flt_list_count() {
    curl -sf -G --data-urlencode "method=GET" --data-urlencode "path=list-type|comp=list" \
        "http://127.0.0.1:$FP_PORT/__stats" | python3 -c '
import json, sys
reqs = json.load(sys.stdin)["requests"]
print(sum(1 for r in reqs if ("list-type" in r or "comp=list" in r) and ("prefix=" in r or "delimiter=" in r)))'
}

# _flt_write FILE TEXT: open/write/close with os calls; prints "ok" or the errno name of the
# failing call.
_flt_write() {
    python3 - "$1" "$2" <<'PY'
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, sys.argv[2].encode())
    os.close(fd)
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}

# (a) a failed upload: close() fails, the old object stays, the staged data is kept and the
# log names it; once the store works again, writing the file again succeeds.
_flt_upload_fails() {
    local p=$1 base=$2 m=$3 envs log=$TEST_TMP/mount-a-$1.log kept
    printf 'old content\n' >"$TEST_TMP/old-$p"
    check "flt_${p}_put_old" bfs put "$TEST_TMP/old-$p" "$base/a/f.txt"
    mapfile -t envs < <(_mnt_env_for "$p" "proxy:$FP_PORT")
    envs+=(BRIDGEFS_RETRIES=1 BRIDGEFS_RETRY_BASE_MS=10)
    _mnt_mount "flt_${p}_mount_a" "$base" "$m" "log=$log,cache=$TEST_TMP/cache-a-$p" "${envs[@]}"
    _flt_fault "action=503&count=-1&method=PUT"
    _mnt_same "flt_${p}_failed_upload_close_errors" "EIO" "$(_flt_write "$m/a/f.txt" "new content")"
    _mnt_same "flt_${p}_failed_upload_old_object_intact" "old content" "$(bfs cat "$base/a/f.txt")"
    kept=$(sed -n 's/.*the written data is kept in \(.*\)$/\1/p' "$log" | tail -n 1)
    if [ -n "$kept" ] && [ "$(cat "$kept" 2>/dev/null)" = "new content" ]; then
        pass "flt_${p}_failed_upload_staged_data_kept"
    else
        fail "flt_${p}_failed_upload_staged_data_kept" "log names '${kept:-nothing}'"
    fi
    # a large sequential write streams its parts: a failing part upload makes write() or
    # close() fail, aborts the upload, and leaves the old object
    _mnt_same "flt_${p}_failed_stream_errors" "EIO" "$(python3 - "$m/a/f.txt" <<'PY'
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for _ in range(20):
        os.write(fd, os.urandom(1 << 20))
    os.close(fd)
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
)"
    _mnt_same "flt_${p}_failed_stream_old_object_intact" "old content" "$(bfs cat "$base/a/f.txt")"
    if grep -q "a/f.txt failed.*streamed and is not kept" "$log"; then
        pass "flt_${p}_failed_stream_logged"
    else
        fail "flt_${p}_failed_stream_logged" "no log line for the streamed upload"
    fi
    _flt_clear
    _mnt_same "flt_${p}_retry_after_fault_succeeds" "ok" "$(_flt_write "$m/a/f.txt" "new content")"
    _mnt_same "flt_${p}_retry_object_written" "new content" "$(bfs cat "$base/a/f.txt")"
    _mnt_same "flt_${p}_retry_read_through_mount" "new content" "$(cat "$m/a/f.txt" 2>&1)"

    # the proxy process dies mid-write and comes back on the same port
    kill "$FP_PID" 2>/dev/null
    wait "$FP_PID" 2>/dev/null
    _mnt_same "flt_${p}_store_down_close_errors" "EIO" "$(_flt_write "$m/a/f.txt" "while down")"
    _mnt_same "flt_${p}_store_down_old_object_intact" "new content" "$(bfs cat "$base/a/f.txt")"
    _flt_proxy_start "$p" "$FP_PORT"
    _mnt_same "flt_${p}_store_back_retry_succeeds" "ok" "$(_flt_write "$m/a/f.txt" "after restart")"
    _mnt_same "flt_${p}_store_back_object_written" "after restart" "$(bfs cat "$base/a/f.txt")"
    _mnt_unmount "$m"
}

# (b) unmount while an upload is in flight (PUTs delayed): the daemon finishes the upload before
# it exits. The writer is inside close() (the upload runs in FLUSH), so the mount is busy for a
# plain umount: the lazy unmount detaches it, and the daemon exits only after the upload; a
# SIGTERM to the daemon likewise lets the upload finish.
_flt_umount_in_flight() {
    local p=$1 base=$2 m=$3 envs want pid how i sz
    head -c $((12 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/inflight-$p"
    want=$(_mnt_md5 <"$TEST_TMP/inflight-$p")
    mapfile -t envs < <(_mnt_env_for "$p" "proxy:$FP_PORT")
    for how in lazy sigterm; do
        _mnt_mount "flt_${p}_mount_b_$how" "$base" "$m" \
            "log=$TEST_TMP/mount-b-$p.log,cache=$TEST_TMP/cache-b-$p,part_size=5M,jobs=2" "${envs[@]}"
        pid=$(cat "$(_mnt_pidfile "$m")" 2>/dev/null)
        _flt_fault "action=delay&delay_ms=1500&count=-1&method=PUT"
        curl -sf -X DELETE "http://127.0.0.1:$FP_PORT/__stats" >/dev/null
        dd if="$TEST_TMP/inflight-$p" of="$m/inflight-$how.bin" bs=1M status=none \
            2>"$TEST_TMP/dd-$p.err" &
        local ddpid=$!
        for i in $(seq 1 400); do # wait until dd wrote everything: it is in close() (upload)
            sz=$(awk '/^wchar/ {print $2}' "/proc/$ddpid/io" 2>/dev/null)
            [ "${sz:-0}" -ge $((12 * 1024 * 1024)) ] && break
            sleep 0.05
        done
        sleep 0.5
        if [ "$how" = lazy ]; then
            check "flt_${p}_umount_lazy_in_flight" "$BRIDGEFS" umount -z "$m"
        else
            kill -TERM "$pid"
            pass "flt_${p}_sigterm_in_flight"
        fi
        for i in $(seq 1 600); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if wait "$ddpid"; then
            pass "flt_${p}_${how}_writer_close_ok"
        else
            fail "flt_${p}_${how}_writer_close_ok" "$(cat "$TEST_TMP/dd-$p.err")"
        fi
        kill -0 "$pid" 2>/dev/null && fail "flt_${p}_${how}_daemon_exited" "still running" ||
            pass "flt_${p}_${how}_daemon_exited"
        _mnt_same "flt_${p}_${how}_upload_completed_md5" "$want" \
            "$(bfs cat "$base/inflight-$how.bin" 2>/dev/null | _mnt_md5)"
        _flt_clear
        _mnt_unmount "$m"
    done
}

# (c) garbage over the cache's data.mdb between two mounts: the second mount rebuilds it.
_flt_corrupt_cache() {
    local p=$1 base=$2 m=$3 cache=$TEST_TMP/cache-c-$1 opts mdb
    opts="log=$TEST_TMP/mount-c-$p.log,cache=$cache"
    _mnt_mount "flt_${p}_mount_c1" "$base" "$m" "$opts"
    mkdir -p "$m/c/d"
    echo one >"$m/c/one.txt"
    echo two >"$m/c/d/two.txt"
    _mnt_same "flt_${p}_cache_first_listing" "d one.txt" "$(ls "$m/c" | tr '\n' ' ' | sed 's/ $//')"
    _mnt_unmount "$m"
    mdb=$(find "$cache" -name data.mdb | head -n 1)
    if [ -n "$mdb" ]; then
        head -c "$(stat -c %s "$mdb")" /dev/urandom >"$TEST_TMP/garbage"
        cat "$TEST_TMP/garbage" >"$mdb"
        pass "flt_${p}_cache_corrupted"
    else
        fail "flt_${p}_cache_corrupted" "no data.mdb under $cache"
    fi
    _mnt_mount "flt_${p}_mount_c2_corrupt_cache" "$base" "$m" "$opts"
    _mnt_same "flt_${p}_cache_rebuilt_listing" "d one.txt" "$(ls "$m/c" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
    _mnt_same "flt_${p}_cache_rebuilt_read" "two" "$(cat "$m/c/d/two.txt" 2>&1)"
    _mnt_unmount "$m"
}

# (d) a warm remount serves `ls -R` with no LIST request; after the TTL an outside change shows.
_flt_warm_ttl() {
    local p=$1 base=$2 m=$3 envs cache=$TEST_TMP/cache-d-$1 opts n
    mapfile -t envs < <(_mnt_env_for "$p" "proxy:$FP_PORT")
    opts="log=$TEST_TMP/mount-d-$p.log,cache=$cache,ttl=600"
    _mnt_mount "flt_${p}_mount_d_cold" "$base/w" "$m" "$opts" "${envs[@]}"
    mkdir -p "$m/x/y" "$m/z"
    for n in 1 2 3; do echo "$n" >"$m/x/y/f$n"; done
    echo top >"$m/top"
    _mnt_unmount "$m"
    _mnt_mount "flt_${p}_mount_d_cold2" "$base/w" "$m" "$opts,ttl=0" "${envs[@]}"
    check "flt_${p}_cold_ls_R" ls -lR --time-style=full-iso "$m"
    cp "$LAST_OUT" "$TEST_TMP/ls-cold"
    _mnt_unmount "$m"
    curl -sf -X DELETE "http://127.0.0.1:$FP_PORT/__stats" >/dev/null
    _mnt_mount "flt_${p}_mount_d_warm" "$base/w" "$m" "$opts" "${envs[@]}"
    check "flt_${p}_warm_ls_R" ls -lR --time-style=full-iso "$m"
    _mnt_same "flt_${p}_warm_listing_same" "$(md5sum <"$TEST_TMP/ls-cold")" "$(md5sum <"$LAST_OUT")"
    diff "$TEST_TMP/ls-cold" "$LAST_OUT" | sed 's/^/# differs: /'
    _mnt_same "flt_${p}_warm_ls_R_zero_list_requests" "0" "$(_flt_list_count)"
    _mnt_unmount "$m"
    _mnt_mount "flt_${p}_mount_d_ttl2" "$base/w" "$m" "${opts/ttl=600/ttl=2}" "${envs[@]}"
    _mnt_same "flt_${p}_ttl_before" "f1 f2 f3" "$(ls "$m/x/y" | tr '\n' ' ' | sed 's/ $//')"
    echo outside >"$TEST_TMP/outside"
    check "flt_${p}_put_outside" bfs put "$TEST_TMP/outside" "$base/w/x/y/f4"
    check "flt_${p}_put_outside_change" bfs put "$TEST_TMP/outside" "$base/w/top"
    sleep 3
    _mnt_same "flt_${p}_ttl_new_file_seen" "f1 f2 f3 f4" "$(ls "$m/x/y" | tr '\n' ' ' | sed 's/ $//')"
    _mnt_same "flt_${p}_ttl_changed_file_seen" "outside" "$(cat "$m/top" 2>&1)"
    _mnt_unmount "$m"
}

# (e) the disk under the cache folder fills up while a file is staged: write() fails with
# ENOSPC, close() with EIO, nothing is uploaded (the rest would be a corrupt object), the old
# object stays and the mount shows it. The cache folder is a 6 MiB tmpfs (needs root).
_flt_umount_small() { umount -l "$1" 2>/dev/null; return 0; }
_flt_disk_full() {
    local p=$1 base=$2 m=$3 small=$TEST_TMP/small-$1
    if [ "$(id -u)" != 0 ]; then
        echo "# flt_${p}: disk-full case not run (mounting a tmpfs needs root)"
        return 0
    fi
    mkdir -p "$small"
    check "flt_${p}_small_tmpfs" mount -t tmpfs -o size=6m tmpfs "$small"
    at_exit _flt_umount_small "$small"
    printf 'old\n' >"$TEST_TMP/old.txt"
    check "flt_${p}_full_seed" bfs put "$TEST_TMP/old.txt" "$base/full/target.bin"
    _mnt_mount "flt_${p}_mount_f" "$base/full" "$m" "cache=$small/cache,log=$TEST_TMP/mount-f-$p.log"
    _mnt_same "flt_${p}_full_write_enospc_close_eio" "write=ENOSPC close=EIO" "$(python3 - "$m/target.bin" <<'PY'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
data, off, res = b'x' * (16 << 20), 1, 'write=ok'
try:
    while data:
        n = os.pwrite(fd, data, off)  # not from offset 0: staged, not streamed
        data, off = data[n:], off + n
except OSError as e:
    res = 'write=' + errno.errorcode.get(e.errno, str(e.errno))
try:
    os.close(fd)
    res += ' close=ok'
except OSError as e:
    res += ' close=' + errno.errorcode.get(e.errno, str(e.errno))
print(res)
PY
)"
    _mnt_same "flt_${p}_full_old_object_intact" "old" "$(bfs cat "$base/full/target.bin" | head -c 40)"
    _mnt_same "flt_${p}_full_mount_shows_old" "old" "$(head -c 40 "$m/target.bin" 2>&1)"
    grep -q 'target.bin refused: a write to its staging file had failed' "$TEST_TMP/mount-f-$p.log" &&
        pass "flt_${p}_full_logged" || fail "flt_${p}_full_logged" "$(tail -3 "$TEST_TMP/mount-f-$p.log")"
    _mnt_unmount "$m"
    _flt_umount_small "$small"
}

backends=${MOUNT_BACKENDS:-s3 az}
for b in $backends; do
    base="$b://$(unique_name bfs-flt)"
    m=$TEST_TMP/mnt-$b
    check "flt_${b}_mb" bfs mb "$base"
    _flt_proxy_start "$b"
    _flt_upload_fails "$b" "$base" "$m"
    _flt_umount_in_flight "$b" "$base" "$m"
    _flt_corrupt_cache "$b" "$base" "$m"
    _flt_warm_ttl "$b" "$base" "$m"
    _flt_disk_full "$b" "$base" "$m"
    kill "$FP_PID" 2>/dev/null
done

assert_done
