# mount_common.sh: the FUSE mount suite shared by both backends (tests/integration/test_mount.sh).
#
# Source it after tests/lib/assert.sh (and need_emulators), then:
#     run_mount_suite P BASEURL     P is "s3" or "az" (case names start with "mnt_P_"); BASEURL a
#                                   bucket/container URL that does not exist yet
# Every mount is registered with at_exit (fusermount3 -u, then -uz), so a failing case never
# leaves a mount behind. Needs fusermount3, python3, and $BRIDGEFS_BUILD/tests/bfs_seed.

BFS_SEED=${BFS_SEED:-$BRIDGEFS_BUILD/tests/bfs_seed}
MNT_FP_PY="$TESTS_DIR/faultproxy.py"
MNT_TTL_WAIT=3

_mnt_md5() { md5sum | cut -d' ' -f1; }

_mnt_same() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "got '$3', want '$2'"
    fi
}

# _mnt_unmount MP: unmount whatever is mounted on MP (used at exit, and between cases).
_mnt_unmount() {
    if grep -q " $1 fuse" /proc/mounts 2>/dev/null; then
        "$BRIDGEFS" umount "$1" 2>/dev/null || fusermount3 -u "$1" 2>/dev/null ||
            fusermount3 -uz "$1" 2>/dev/null
    fi
    return 0
}

# _mnt_mount NAME URL MP OPTS [ENV=VALUE...]: daemonized mount, registered for unmount at exit.
_mnt_mount() {
    local name=$1 url=$2 mp=$3 opts=$4
    shift 4
    mkdir -p "$mp"
    at_exit _mnt_unmount "$mp"
    check "$name" env "$@" timeout -k 5 120 "$BRIDGEFS" mount "$url" "$mp" -o "$opts"
}

# _mnt_env_for P KIND: the environment (one VAR=VALUE per line) that makes backend P use
# bad credentials (KIND=badcred), an unreachable endpoint (down), or a proxy (proxy:PORT).
_mnt_env_for() {
    local p=$1 kind=$2 port
    case "$kind" in
    proxy:*) port=${kind#proxy:} ;;
    down) port=$(emu_free_port) ;;
    esac
    if [ "$p" = s3 ]; then
        case "$kind" in
        badcred) echo "AWS_SECRET_ACCESS_KEY=wrong-secret" ;;
        *) echo "AWS_ENDPOINT_URL=http://127.0.0.1:$port" ;;
        esac
    else
        case "$kind" in
        badcred)
            printf 'AZURE_STORAGE_CONNECTION_STRING=%s\n' "$(printf '%s' "$AZURE_STORAGE_CONNECTION_STRING" |
                sed 's|AccountKey=[^;]*|AccountKey=d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=|')"
            ;;
        *)
            printf 'AZURE_STORAGE_CONNECTION_STRING=%s\n' "$(printf '%s' "$AZURE_STORAGE_CONNECTION_STRING" |
                sed "s|BlobEndpoint=http://127.0.0.1:[0-9]*|BlobEndpoint=http://127.0.0.1:$port|")"
            ;;
        esac
    fi
}

_mnt_errors() {
    local p=$1 base=$2 mp=$3 envs
    : >"$TEST_TMP/notadir"
    expect_exit 3 "mnt_${p}_err_missing_mountpoint" bfs mount "$base" "$TEST_TMP/no-such-dir"
    expect_exit 2 "mnt_${p}_err_mountpoint_not_a_directory" bfs mount "$base" "$TEST_TMP/notadir"
    expect_exit 3 "mnt_${p}_err_bucket_not_found" bfs mount "${base}nope" "$mp"
    expect_stderr_contains "mnt_${p}_err_bucket_not_found_message" "not found" \
        bfs mount "${base}nope" "$mp"
    mapfile -t envs < <(_mnt_env_for "$p" badcred)
    expect_exit 4 "mnt_${p}_err_bad_credentials" env "${envs[@]}" "$BRIDGEFS" mount "$base" "$mp"
    mapfile -t envs < <(_mnt_env_for "$p" down)
    expect_exit 5 "mnt_${p}_err_endpoint_unreachable" env "${envs[@]}" BRIDGEFS_RETRIES=1 \
        BRIDGEFS_RETRY_BASE_MS=10 "$BRIDGEFS" mount "$base" "$mp"
    if grep -q " $mp fuse" /proc/mounts; then
        fail "mnt_${p}_err_nothing_mounted" "a failed mount left $mp mounted"
    else
        pass "mnt_${p}_err_nothing_mounted"
    fi
}

_mnt_posix() {
    local p=$1 m=$2 d=$TEST_TMP/posix-$1 got rc
    mkdir -p "$d"
    printf 'hello mount\n' >"$m/f.txt"
    _mnt_same "mnt_${p}_create_read" "hello mount" "$(cat "$m/f.txt")"
    printf 'second\n' >"$m/f.txt"
    _mnt_same "mnt_${p}_overwrite" "second" "$(cat "$m/f.txt")"
    printf 'third\n' >>"$m/f.txt"
    _mnt_same "mnt_${p}_append" "$(printf 'second\nthird')" "$(cat "$m/f.txt")"
    truncate -s 3 "$m/f.txt"
    _mnt_same "mnt_${p}_truncate_shrink" "sec" "$(cat "$m/f.txt")"
    truncate -s 5 "$m/f.txt"
    _mnt_same "mnt_${p}_truncate_grow" "$(printf 'sec\0\0' | _mnt_md5)" "$(_mnt_md5 <"$m/f.txt")"
    : >"$m/f.txt"
    _mnt_same "mnt_${p}_truncate_zero" "0" "$(stat -c %s "$m/f.txt")"
    printf 'abcdefgh' >"$m/rw.bin"
    printf 'XY' | dd of="$m/rw.bin" bs=1 seek=3 conv=notrunc status=none
    _mnt_same "mnt_${p}_random_write" "abcXYfgh" "$(cat "$m/rw.bin")"
    touch "$m/empty"
    _mnt_same "mnt_${p}_touch_creates_empty" "0" "$(stat -c %s "$m/empty")"
    rm "$m/f.txt"
    [ ! -e "$m/f.txt" ] && pass "mnt_${p}_unlink" || fail "mnt_${p}_unlink" "still there"
    expect_exit 1 "mnt_${p}_unlink_missing" rm "$m/f.txt"

    mkdir "$m/dir"
    [ -d "$m/dir" ] && pass "mnt_${p}_mkdir" || fail "mnt_${p}_mkdir" "no directory"
    check "mnt_${p}_rmdir_empty" rmdir "$m/dir"
    [ ! -e "$m/dir" ] && pass "mnt_${p}_rmdir_gone" || fail "mnt_${p}_rmdir_gone" "still there"
    mkdir -p "$m/full/sub"
    echo x >"$m/full/sub/x"
    expect_stderr_contains "mnt_${p}_rmdir_not_empty" "Directory not empty" rmdir "$m/full"
    expect_stderr_contains "mnt_${p}_rmdir_not_empty_nested" "Directory not empty" rmdir "$m/full/sub"

    echo moved >"$m/src.txt"
    check "mnt_${p}_rename_file" mv "$m/src.txt" "$m/full/dst.txt"
    _mnt_same "mnt_${p}_rename_file_content" "moved" "$(cat "$m/full/dst.txt" 2>&1)"
    [ ! -e "$m/src.txt" ] && pass "mnt_${p}_rename_file_source_gone" ||
        fail "mnt_${p}_rename_file_source_gone" "still there"
    echo over >"$m/over.txt"
    check "mnt_${p}_rename_replaces" mv "$m/over.txt" "$m/full/dst.txt"
    _mnt_same "mnt_${p}_rename_replaces_content" "over" "$(cat "$m/full/dst.txt" 2>&1)"
    check "mnt_${p}_rename_dir" mv "$m/full" "$m/renamed"
    _mnt_same "mnt_${p}_rename_dir_content" "x" "$(cat "$m/renamed/sub/x" 2>&1)"
    _mnt_same "mnt_${p}_rename_dir_listing" "dst.txt sub" "$(ls "$m/renamed" | tr '\n' ' ' | sed 's/ $//')"
    [ ! -e "$m/full" ] && pass "mnt_${p}_rename_dir_source_gone" ||
        fail "mnt_${p}_rename_dir_source_gone" "still there"

    ln -s renamed/sub/x "$m/link"
    _mnt_same "mnt_${p}_symlink_readlink" "renamed/sub/x" "$(readlink "$m/link")"
    _mnt_same "mnt_${p}_symlink_follow" "x" "$(cat "$m/link" 2>&1)"
    [ -L "$m/link" ] && pass "mnt_${p}_symlink_is_link" || fail "mnt_${p}_symlink_is_link" "not a link"

    echo attrs >"$m/attrs.txt"
    got=$(python3 - "$m/attrs.txt" <<'PY'
import os, sys
p = sys.argv[1]
os.setxattr(p, "user.color", b"blue")
out = [os.getxattr(p, "user.color").decode()]
names = os.listxattr(p)
out.append("user.color" in names and "user.bridgefs.md5" in names)
out.append(os.getxattr(p, "user.bridgefs.md5").decode())
try:
    os.setxattr(p, "user.bridgefs.md5", b"0")
    out.append("ro-ok")
except OSError as e:
    out.append("ro-%d" % e.errno)
os.removexattr(p, "user.color")
out.append("user.color" in os.listxattr(p))
print(" ".join(str(x) for x in out))
PY
)
    _mnt_same "mnt_${p}_xattr_roundtrip" "blue True $(printf 'attrs\n' | _mnt_md5) ro-1 False" "$got"

    expect_stderr_contains "mnt_${p}_hardlink_refused" "Operation not permitted" ln "$m/attrs.txt" "$m/hard"
    expect_exit 1 "mnt_${p}_mkfifo_refused" mkfifo "$m/fifo"

    local names=("with space" "ünïcødé-名前" "per%cent" "plus+sign" "hash#tag" "$(printf 'L%.0s' $(seq 1 200))")
    local n ok=0
    for n in "${names[@]}"; do
        printf '%s' "$n" >"$m/$n"
        [ "$(cat "$m/$n" 2>/dev/null)" = "$n" ] && ok=$((ok + 1))
    done
    _mnt_same "mnt_${p}_odd_names_roundtrip" "${#names[@]}" "$ok"
    ok=0
    for n in "${names[@]}"; do
        ls "$m" | grep -qxF -- "$n" && ok=$((ok + 1))
    done
    _mnt_same "mnt_${p}_odd_names_listed" "${#names[@]}" "$ok"
    expect_stderr_contains "mnt_${p}_name_too_long" "File name too long" \
        touch "$m/$(printf 'N%.0s' $(seq 1 300))"
}

# A randomized sequence of writes, truncates, appends and reads, done on the mount and on a
# local folder; the files must stay byte-identical.
_mnt_random_ops() {
    local p=$1 m=$2 out
    mkdir -p "$m/rand" "$TEST_TMP/rand-$p"
    out=$(python3 - "$m/rand" "$TEST_TMP/rand-$p" <<'PY'
import os, random, sys
mnt, loc = sys.argv[1], sys.argv[2]
rng = random.Random(1234)
names = ["a", "b", "c"]
bad = []
for step in range(120):
    name = rng.choice(names)
    op = rng.choice(["write", "write", "append", "truncate", "read", "overwrite"])
    data = os.urandom(rng.choice([1, 100, 4096, 70000, 300000]))
    off = rng.randrange(0, 400000)
    size = rng.randrange(0, 500000)
    res = []
    for root in (mnt, loc):
        path = os.path.join(root, name)
        if op == "overwrite":
            with open(path, "wb") as f:
                f.write(data)
        elif op == "write":
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            os.pwrite(fd, data, off)
            os.close(fd)
        elif op == "append":
            with open(path, "ab") as f:
                f.write(data)
        elif op == "truncate":
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            os.ftruncate(fd, size)
            os.close(fd)
        elif op == "read" and os.path.exists(path):
            with open(path, "rb") as f:
                f.seek(off)
                res.append(f.read(size))
    if op == "read" and len(res) == 2 and res[0] != res[1]:
        bad.append("step %d read %s differs" % (step, name))
for name in names:
    a = os.path.join(mnt, name); b = os.path.join(loc, name)
    if os.path.exists(b):
        if not os.path.exists(a) or open(a, "rb").read() != open(b, "rb").read():
            bad.append("final %s differs" % name)
print("ok" if not bad else "; ".join(bad[:5]))
PY
)
    _mnt_same "mnt_${p}_random_ops_match_local" "ok" "$out"
}

_mnt_big() {
    local p=$1 m=$2 base=$3 t0 t1 want pid hwm stg dupid maxstg
    head -c $((256 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/big-$p"
    want=$(_mnt_md5 <"$TEST_TMP/big-$p")
    stg=$(find "$TEST_TMP/cache-$p" -type d -name staging | head -n 1)
    (   # sample the staging folder's size while dd runs
        while :; do du -sk "$stg" 2>/dev/null | cut -f1; sleep 0.2; done
    ) >"$TEST_TMP/staging-du-$p" &
    dupid=$!
    t0=$(date +%s.%N)
    check "mnt_${p}_big_write_256mib" dd if="$TEST_TMP/big-$p" of="$m/big.bin" bs=1M status=none
    t1=$(date +%s.%N)
    kill "$dupid"
    wait "$dupid" 2>/dev/null
    maxstg=$(sort -n "$TEST_TMP/staging-du-$p" | tail -n 1)
    pid=$(cat "$(_mnt_pidfile "$m")" 2>/dev/null)
    local whwm
    whwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    MNT_WRITE_MBS=$(python3 -c "print('%.0f' % (256 / ($t1 - $t0)))")
    # streamed: at most the first part (before streaming starts) plus one write is staged
    if [ -n "$stg" ] && [ "${maxstg:-0}" -le $((40 * 1024)) ]; then
        pass "mnt_${p}_big_write_staging_bounded"
    else
        fail "mnt_${p}_big_write_staging_bounded" "staging folder '${stg}' reached ${maxstg:-?} KiB"
    fi
    t0=$(date +%s.%N)
    _mnt_same "mnt_${p}_big_read_back_md5" "$want" "$(_mnt_md5 <"$m/big.bin")"
    t1=$(date +%s.%N)
    MNT_READ_MBS=$(python3 -c "print('%.0f' % (256 / ($t1 - $t0)))")
    _mnt_same "mnt_${p}_big_cat_md5" "$want" "$(bfs cat "$base/big.bin" | _mnt_md5)"
    _mnt_same "mnt_${p}_big_xattr_md5" "$want" \
        "$(python3 -c "import os,sys; print(os.getxattr(sys.argv[1], 'user.bridgefs.md5').decode())" "$m/big.bin")"
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    # a sanitizer build keeps freed memory in quarantine: its RSS says nothing about ours
    local limit=$((128 * 1024))
    grep -q '^BRIDGEFS_SANITIZE:BOOL=ON' "$BRIDGEFS_BUILD/CMakeCache.txt" 2>/dev/null &&
        limit=$((1024 * 1024))
    if [ -n "$hwm" ] && [ "$hwm" -lt "$limit" ]; then
        pass "mnt_${p}_big_memory_bounded"
    else
        fail "mnt_${p}_big_memory_bounded" "peak RSS ${hwm:-?} KiB (pid ${pid:-?})"
    fi
    echo "# mnt_${p}: 256 MiB through the mount: write $MNT_WRITE_MBS MB/s, read $MNT_READ_MBS MB/s, peak RSS ${whwm:-?} KiB after the write, ${hwm:-?} KiB after the read, staging folder max ${maxstg:-?} KiB"
    rm -f "$m/big.bin" "$TEST_TMP/big-$p"
    _mnt_stream_fallback "$p" "$m" "$base"
}

# Files that start sequentially (so their upload streams) and then are accessed otherwise:
# a write elsewhere, a read through the same descriptor, a truncate, futimens before close.
_mnt_stream_fallback() {
    local p=$1 m=$2 base=$3 out
    out=$(python3 - "$m" "$TEST_TMP/sf-$p" <<'PY'
import hashlib, os, sys
m, loc = sys.argv[1], sys.argv[2]
os.makedirs(loc, exist_ok=True)
data = os.urandom(20 << 20)
res = []
def both(name, fn):
    for d in (m, loc):
        fd = os.open(os.path.join(d, name), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        fn(fd)
        os.close(fd)
    a = open(os.path.join(m, name), "rb").read()
    b = open(os.path.join(loc, name), "rb").read()
    res.append("%s:%s" % (name, "same" if a == b else "DIFF(%d/%d)" % (len(a), len(b))))
def seek_back(fd):
    os.write(fd, data)
    os.pwrite(fd, b"patched", 100)
    os.write(fd, b"tail")
def read_back(fd):
    os.write(fd, data[:12 << 20])
    assert os.pread(fd, 64, 5) == data[5:69]
    os.write(fd, data[12 << 20:])
def trunc(fd):
    os.write(fd, data)
    os.ftruncate(fd, 9 << 20)
    os.write(fd, b"end")
def mtime(fd):
    os.write(fd, data)
    os.utime(fd, (1300000000, 1300000000))
both("sf-seek", seek_back)
both("sf-read", read_back)
both("sf-trunc", trunc)
both("sf-mtime", mtime)
res.append("mtime:%d" % os.stat(os.path.join(m, "sf-mtime")).st_mtime)
print(" ".join(res))
PY
)
    _mnt_same "mnt_${p}_stream_fallback_match_local" \
        "sf-seek:same sf-read:same sf-trunc:same sf-mtime:same mtime:1300000000" "$out"
    expect_output_contains "mnt_${p}_stream_futimens_stored" "mtime: 2011-03-13T07:06:40" \
        bfs stat "$base/sf-mtime"
    _mnt_same "mnt_${p}_stream_fallback_object" "$(_mnt_md5 <"$TEST_TMP/sf-$p/sf-seek")" \
        "$(bfs cat "$base/sf-seek" | _mnt_md5)"
    rm -f "$m"/sf-*
}

_mnt_pidfile() {
    local h
    h=$(printf '%s' "$(realpath "$1")" | sha256sum | cut -c1-24)
    if [ -n "$XDG_RUNTIME_DIR" ]; then
        echo "$XDG_RUNTIME_DIR/bridgefs/mount-$h.pid"
    else
        echo "/tmp/bridgefs-$(id -u)/mount-$h.pid"
    fi
}

_mnt_interop() {
    local p=$1 m=$2 base=$3
    printf 'from put\n' >"$TEST_TMP/put-$p.txt"
    check "mnt_${p}_interop_put" bfs put --mtime 1500000000.25 "$TEST_TMP/put-$p.txt" "$base/interop/put.txt"
    sleep "$MNT_TTL_WAIT" # the mount sees other writers' changes after its TTL
    _mnt_same "mnt_${p}_interop_put_size" "9" "$(stat -c %s "$m/interop/put.txt" 2>&1)"
    _mnt_same "mnt_${p}_interop_put_mtime" "1500000000" "$(stat -c %Y "$m/interop/put.txt" 2>&1)"
    _mnt_same "mnt_${p}_interop_put_content" "from put" "$(cat "$m/interop/put.txt" 2>&1)"
    printf 'from mount\n' >"$m/interop/mnt.txt"
    touch -d @1600000000 "$m/interop/mnt.txt"
    _mnt_same "mnt_${p}_interop_cat" "from mount" "$(bfs cat "$base/interop/mnt.txt")"
    expect_output_contains "mnt_${p}_interop_stat_mtime" "mtime: 2020-09-13T12:26:40" \
        bfs stat "$base/interop/mnt.txt"
}

# Attributes set through one mount survive an unmount and a mount with an empty cache.
_mnt_persist() {
    local p=$1 m=$2 base=$3 opts=$4
    echo persist >"$m/persist.txt"
    chmod 640 "$m/persist.txt"
    touch -d @1400000000 "$m/persist.txt"
    mkdir "$m/pdir"
    chmod 700 "$m/pdir"
    _mnt_unmount "$m"
    _mnt_mount "mnt_${p}_remount_fresh_cache" "$base" "$m" "$opts,cache=$TEST_TMP/cache2-$p"
    _mnt_same "mnt_${p}_chmod_persisted" "640" "$(stat -c %a "$m/persist.txt" 2>&1)"
    _mnt_same "mnt_${p}_utimens_persisted" "1400000000" "$(stat -c %Y "$m/persist.txt" 2>&1)"
    _mnt_same "mnt_${p}_dir_chmod_persisted" "700" "$(stat -c %a "$m/pdir" 2>&1)"
    _mnt_same "mnt_${p}_content_persisted" "persist" "$(cat "$m/persist.txt" 2>&1)"
}

# Listing: 2,500 entries (more than one LIST page). Then a mount of a prefix (tree/) through a
# counting proxy: a warm remount serves `ls -R` without a single LIST request.
_mnt_listing() {
    local p=$1 m=$2 base=$3 flavor fpport envs n
    check "mnt_${p}_seed_2500" "$BFS_SEED" "$base/many" 2500 --jobs 8
    sleep "$MNT_TTL_WAIT"
    n=$(ls "$m/many" | wc -l)
    _mnt_same "mnt_${p}_readdir_2500" "2500" "$n"
    n=$(ls -l "$m/many" | grep -c '^-')
    _mnt_same "mnt_${p}_readdir_2500_long" "2500" "$n"
    # the mount reads a directory 1,000 entries at a time: telldir/seekdir back across pages
    _mnt_same "mnt_${p}_readdir_seekdir_back" "2502 2502 1400" "$(perl -e '
        opendir(D, $ARGV[0]) or die; my (%u, $n, $pos);
        while (defined(my $e = readdir D)) { $n++; $u{$e} = 1; $pos = telldir(D) if $n == 1102 }
        seekdir(D, $pos); my $m = 0; $m++ while defined(readdir D);
        print $n, " ", scalar(keys %u), " ", $m' "$m/many" 2>&1)"

    mkdir -p "$m/tree/a/b" "$m/tree/c"
    for n in 1 2 3; do
        echo "$n" >"$m/tree/a/b/f$n"
        echo "$n" >"$m/tree/c/g$n"
    done
    echo top >"$m/tree/top.txt"

    flavor=s3
    [ "$p" = az ] && flavor=azure
    local target=$SWIFT_PORT
    [ "$p" = az ] && target=$AZURITE_PORT
    "$EMU_SYS_PY" "$MNT_FP_PY" --target "127.0.0.1:$target" --flavor "$flavor" --quiet \
        >"$TEST_TMP/fp-$p.port" 2>"$TEST_TMP/fp-$p.log" &
    at_exit kill "$!"
    for _ in $(seq 1 100); do
        [ -s "$TEST_TMP/fp-$p.port" ] && break
        sleep 0.05
    done
    fpport=$(head -n 1 "$TEST_TMP/fp-$p.port")
    mapfile -t envs < <(_mnt_env_for "$p" "proxy:$fpport")
    envs+=(BRIDGEFS_STALL_TIMEOUT_S=5) # see the note on faultproxy stalls in the suite's report
    local pm=$TEST_TMP/pmnt-$p popts="cache=$TEST_TMP/cache-proxy-$p,ttl=600"
    _mnt_mount "mnt_${p}_prefix_mount_cold" "$base/tree" "$pm" "$popts" "${envs[@]}"
    check "mnt_${p}_prefix_ls_R_cold" timeout 60 ls -lR --time-style=full-iso "$pm"
    cp "$LAST_OUT" "$TEST_TMP/ls-cold-$p"
    _mnt_same "mnt_${p}_prefix_mount_root" "a c top.txt" "$(ls "$pm" | tr '\n' ' ' | sed 's/ $//')"
    _mnt_same "mnt_${p}_prefix_mount_read" "2" "$(cat "$pm/a/b/f2" 2>&1)"
    _mnt_unmount "$pm"
    curl -sf -X DELETE "http://127.0.0.1:$fpport/__stats" >/dev/null
    _mnt_mount "mnt_${p}_prefix_mount_warm" "$base/tree" "$pm" "$popts" "${envs[@]}"
    check "mnt_${p}_prefix_ls_R_warm" timeout 60 ls -lR --time-style=full-iso "$pm"
    cp "$LAST_OUT" "$TEST_TMP/ls-warm-$p"
    _mnt_same "mnt_${p}_warm_listing_same" "$(md5sum <"$TEST_TMP/ls-cold-$p")" \
        "$(md5sum <"$TEST_TMP/ls-warm-$p")"
    diff "$TEST_TMP/ls-cold-$p" "$TEST_TMP/ls-warm-$p" | sed 's/^/# differs: /'
    n=$(curl -sf -G --data-urlencode "method=GET" --data-urlencode "path=delimiter=" \
        "http://127.0.0.1:$fpport/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
    _mnt_same "mnt_${p}_warm_ls_R_zero_list_requests" "0" "$n"
    n=$(curl -sf "http://127.0.0.1:$fpport/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    echo "# mnt_${p}: warm remount + ls -lR of the prefix: $n requests in all (the mount's bucket check)"
    _mnt_unmount "$pm"

    # Cold `ls -l` of 2,500 files: one LIST per page; on S3 at most one HEAD per
    # file (its user metadata: mtime, mode) and no directory probe per entry; on Azure,
    # whose listings carry the metadata, no HEAD at all.
    local cm=$TEST_TMP/cmnt-$p t0 t1 heads probes lists
    _mnt_mount "mnt_${p}_cold_mount_2500" "$base/many" "$cm" "cache=$TEST_TMP/cache-cold-$p,ttl=600" "${envs[@]}"
    curl -sf -X DELETE "http://127.0.0.1:$fpport/__stats" >/dev/null
    t0=$(date +%s%N)
    n=$(ls -l "$cm" | grep -c '^-')
    t1=$(date +%s%N)
    _mnt_same "mnt_${p}_cold_ls_l_2500" "2500" "$n"
    read -r lists probes heads < <(curl -sf "http://127.0.0.1:$fpport/__stats" | python3 -c '
import json, sys
reqs = json.load(sys.stdin)["requests"]
lists = [r for r in reqs if r.startswith("GET ") and ("list-type" in r or "comp=list" in r)]
probes = [r for r in lists if "maxresults=1&" in r or "max-keys=1&" in r or r.endswith(("max-keys=1", "maxresults=1"))]
heads = [r for r in reqs if r.startswith("HEAD ")]
seen, odd = set(), []
for r in heads:
    if r in seen or "/obj-" not in r:
        odd.append(r)
    seen.add(r)
if odd:
    print("# extra HEADs: %s" % " ".join(odd[:5]), file=sys.stderr)
print(len(lists) - len(probes), len(probes), len(heads))')
    echo "# mnt_${p}: cold ls -l of 2,500 files: $(((t1 - t0) / 1000000)) ms, $lists LIST, $probes probe LIST, $heads HEAD"
    # pages: S3 returns up to 1,000 keys, Azure up to 5,000
    _mnt_same "mnt_${p}_cold_ls_l_lists" "$([ "$p" = s3 ] && echo 3 || echo 1)" "$lists"
    _mnt_same "mnt_${p}_cold_ls_l_no_probe_per_entry" "yes" "$([ "$probes" -le 1 ] && echo yes || echo "no ($probes)")"
    if [ "$p" = s3 ]; then
        _mnt_same "mnt_${p}_cold_ls_l_at_most_one_head_per_file" "yes" \
            "$([ "$heads" -le 2500 ] && echo yes || echo "no ($heads)")"
    else
        _mnt_same "mnt_${p}_cold_ls_l_no_head" "0" "$heads"
    fi
    _mnt_same "mnt_${p}_cold_ls_l_same_as_before" "$(ls -l --time-style=full-iso "$m/many" | md5sum)" \
        "$(ls -l --time-style=full-iso "$cm" | md5sum)"
    _mnt_unmount "$cm"

    # -o server_mtime: stat and user.bridgefs.md5 (what verify reads) from the listing alone,
    # no HEAD at all; mtime is the object's Last-Modified, not its stored mtime.
    echo x >"$TEST_TMP/mt.txt"
    check "mnt_${p}_server_mtime_seed" bfs put --mtime 1600000000 "$TEST_TMP/mt.txt" "$base/many/zz-mtime.txt"
    _mnt_mount "mnt_${p}_server_mtime_mount" "$base/many" "$cm" \
        "cache=$TEST_TMP/cache-smt-$p,ttl=600,server_mtime" "${envs[@]}"
    curl -sf -X DELETE "http://127.0.0.1:$fpport/__stats" >/dev/null
    n=$(python3 - "$cm" <<'PY'
import os, sys
n = 0
for e in os.scandir(sys.argv[1]):
    st = e.stat(follow_symlinks=False)
    if st.st_size > 0 and len(os.getxattr(e.path, 'user.bridgefs.md5')) == 32:
        n += 1
print(n)
PY
)
    _mnt_same "mnt_${p}_server_mtime_stat_md5_2501" "2501" "$n"
    _mnt_same "mnt_${p}_server_mtime_no_head" "0" "$(curl -sf -G --data-urlencode "method=HEAD" \
        "http://127.0.0.1:$fpport/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
    n=$(stat -c %Y "$cm/zz-mtime.txt")
    _mnt_same "mnt_${p}_server_mtime_is_last_modified" "yes" \
        "$([ "$n" -gt 1700000000 ] && echo yes || echo "no ($n)")"
    cat "$cm/zz-mtime.txt" >/dev/null # reads the object: its metadata is known now
    _mnt_same "mnt_${p}_server_mtime_stays_last_modified" "$n" "$(stat -c %Y "$cm/zz-mtime.txt")"
    _mnt_unmount "$cm"
}

# tools/mount.bridgefs, the mount(8) helper: called the way mount(8) calls it, then through
# mount(8) itself (-t fuse.bridgefs, and an fstab line through mount --fstab) when running as
# root, with the helper copied to /sbin/mount.fuse.bridgefs for the duration.
_mnt_helper_rm() { rm -f /sbin/mount.fuse.bridgefs; }
_mnt_helper() {
    local p=$1 m=$2 base=$3 helper=$EMU_REPO_DIR/tools/mount.bridgefs hm=$TEST_TMP/hmnt-$1 hopts
    hopts="ttl=30,_netdev,nofail,x-systemd.automount,cache=$TEST_TMP/cache-h-$p,log=$TEST_TMP/mount-h-$p.log"
    echo helper >"$m/helper.txt"
    mkdir -p "$hm"
    at_exit _mnt_unmount "$hm"
    check "mnt_${p}_helper_fake_does_nothing" "$helper" "$base" "$hm" -f -o "$hopts"
    grep -q " $hm fuse" /proc/mounts && fail "mnt_${p}_helper_fake_not_mounted" "mounted" ||
        pass "mnt_${p}_helper_fake_not_mounted"
    check "mnt_${p}_helper_direct" env BRIDGEFS="$BRIDGEFS" timeout 120 "$helper" "$base" "$hm" -n -o "$hopts"
    _mnt_same "mnt_${p}_helper_direct_read" "helper" "$(cat "$hm/helper.txt" 2>&1)"
    _mnt_unmount "$hm"
    if [ "$(id -u)" != 0 ] || ! command -v mount >/dev/null || ! cp "$helper" /sbin/mount.fuse.bridgefs 2>/dev/null; then
        echo "# mnt_${p}: mount(8) cases skipped (not root or /sbin not writable)"
        return 0
    fi
    at_exit _mnt_helper_rm
    check "mnt_${p}_mount_t_fuse_bridgefs" env BRIDGEFS="$BRIDGEFS" timeout 120 \
        mount -t fuse.bridgefs "$base" "$hm" -o "$hopts"
    _mnt_same "mnt_${p}_mount_t_read" "helper" "$(cat "$hm/helper.txt" 2>&1)"
    check "mnt_${p}_mount_t_umount" "$BRIDGEFS" umount "$hm"
    printf '%s %s fuse.bridgefs %s 0 0\n' "$base" "$hm" "$hopts" >"$TEST_TMP/fstab-$p"
    check "mnt_${p}_fstab_line_mounts" env BRIDGEFS="$BRIDGEFS" timeout 120 \
        mount --fstab "$TEST_TMP/fstab-$p" "$hm"
    _mnt_same "mnt_${p}_fstab_read" "helper" "$(cat "$hm/helper.txt" 2>&1)"
    check "mnt_${p}_fstab_umount" "$BRIDGEFS" umount "$hm"
    _mnt_helper_rm
    rm -f "$m/helper.txt"
}

run_mount_suite() {
    local p=$1 base=$2 m=$TEST_TMP/mnt-$1
    # ttl=2: objects written outside the mount show up after MNT_TTL_WAIT seconds
    local opts="log=$TEST_TMP/mount-$p.log,log_level=info,ttl=2"
    mkdir -p "$m"
    check "mnt_${p}_mb" bfs mb "$base"
    _mnt_errors "$p" "$base" "$m"
    _mnt_mount "mnt_${p}_mount" "$base" "$m" "$opts,cache=$TEST_TMP/cache-$p"
    expect_exit 1 "mnt_${p}_err_mountpoint_busy" bfs mount "$base" "$m"
    _mnt_posix "$p" "$m"
    _mnt_random_ops "$p" "$m"
    _mnt_interop "$p" "$m" "$base"
    _mnt_big "$p" "$m" "$base"
    _mnt_listing "$p" "$m" "$base"
    _mnt_persist "$p" "$m" "$base" "$opts"
    _mnt_helper "$p" "$m" "$base"
    check "mnt_${p}_umount" "$BRIDGEFS" umount "$m"
    if grep -q " $m fuse" /proc/mounts; then
        fail "mnt_${p}_umount_gone" "still mounted"
    else
        pass "mnt_${p}_umount_gone"
    fi
    if grep -q 'ERROR' "$TEST_TMP/mount-$p.log"; then
        echo "# mnt_${p}: errors in the mount log:"
        grep 'ERROR' "$TEST_TMP/mount-$p.log" | head -n 5 | sed 's/^/#   /'
    fi
}
