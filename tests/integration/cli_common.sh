# cli_common.sh: the bridgefs inspection-command suite shared by test_cli_s3.sh and test_cli_blob.sh.
#
# Source it after tests/lib/assert.sh (and need_emulators), then:
#     run_cli_suite BACKEND BASEURL     BACKEND is "s3" or "blob"; BASEURL a bucket/container URL
#                                       that does not exist yet (e.g. s3://$(unique_name bfs-cli))
#     run_cli_copy NAME SRC_URL DST_URL pipe `bridgefs cat SRC | bridgefs put - DST` for a 20 MiB
#                                       object and compare MD5s (SRC and DST buckets must exist)
# Case names start with "cli_BACKEND_". Seeding uses $BRIDGEFS_BUILD/tests/bfs_seed.

BFS_SEED=${BFS_SEED:-$BRIDGEFS_BUILD/tests/bfs_seed}

_md5() { md5sum | cut -d' ' -f1; }

# _stat_field URL FIELD: value of one `bridgefs stat` line ("" when absent).
_stat_field() {
    bfs stat "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n 1
}

# _same NAME WANT GOT: pass when equal.
_same() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "got '$3', want '$2'"
    fi
}

_cli_roundtrip() {
    local p=$1 base=$2 d=$TEST_TMP/$1
    mkdir -p "$d"

    # Bucket/container creation; a second mb is an error unless -p.
    check "${p}_mb" bfs mb "$base"
    expect_exit 1 "${p}_mb_exists_is_error" bfs mb "$base"
    expect_stderr_contains "${p}_mb_exists_message" "already exists" bfs mb "$base"
    check "${p}_mb_exist_ok" bfs mb -p "$base"
    expect_exit 0 "${p}_ls_empty_bucket" bfs ls "$base"
    _same "${p}_ls_empty_bucket_prints_nothing" "" "$(cat "$LAST_OUT")"

    # Small object round trip.
    printf 'hello, bridgefs\n' >"$d/small.txt"
    check "${p}_put_small" bfs put "$d/small.txt" "$base/dir/small.txt"
    _same "${p}_cat_small" "$(_md5 <"$d/small.txt")" "$(bfs cat "$base/dir/small.txt" | _md5)"
    _same "${p}_stat_small_md5" "$(_md5 <"$d/small.txt")" "$(_stat_field "$base/dir/small.txt" md5)"
    _same "${p}_stat_small_size" "16" "$(_stat_field "$base/dir/small.txt" size)"
    # A URL ending in '/' puts under the prefix with the file's own name.
    check "${p}_put_into_prefix" bfs put "$d/small.txt" "$base/dir/sub/"
    _same "${p}_put_into_prefix_name" "$(_md5 <"$d/small.txt")" \
        "$(bfs cat "$base/dir/sub/small.txt" | _md5)"

    # 64 MiB through the multipart / block path.
    head -c $((64 * 1024 * 1024)) /dev/urandom >"$d/big.bin"
    local bigmd5
    bigmd5=$(_md5 <"$d/big.bin")
    check "${p}_put_64mib" bfs put "$d/big.bin" "$base/big.bin"
    _same "${p}_cat_64mib_md5" "$bigmd5" "$(bfs cat "$base/big.bin" | _md5)"
    _same "${p}_stat_64mib_md5" "$bigmd5" "$(_stat_field "$base/big.bin" md5)"
    _same "${p}_stat_64mib_size" "67108864" "$(_stat_field "$base/big.bin" size)"

    # stdin (a pipe, size unknown) round trip, 20 MiB; and an empty stdin.
    head -c $((20 * 1024 * 1024)) /dev/urandom >"$d/pipe.bin"
    cat "$d/pipe.bin" | bfs put - "$base/pipe.bin" 2>"$d/pipe.err"
    local rc=$?
    _same "${p}_put_stdin_20mib_exit" "0" "$rc"
    _same "${p}_cat_stdin_20mib_md5" "$(_md5 <"$d/pipe.bin")" "$(bfs cat "$base/pipe.bin" | _md5)"
    _same "${p}_stat_stdin_20mib_md5" "$(_md5 <"$d/pipe.bin")" "$(_stat_field "$base/pipe.bin" md5)"
    check "${p}_put_empty_stdin" bfs put - "$base/empty" </dev/null
    _same "${p}_empty_stdin_size" "0" "$(_stat_field "$base/empty" size)"
    _same "${p}_cat_empty" "0" "$(bfs cat "$base/empty" | wc -c)"
    expect_exit 2 "${p}_put_stdin_needs_name" bfs put - "$base/dir/" </dev/null

    # Ranged reads, compared with dd / tail.
    _same "${p}_range_first_10" "$(head -c 10 "$d/big.bin" | _md5)" \
        "$(bfs cat --range 0-9 "$base/big.bin" | _md5)"
    _same "${p}_range_across_parts" \
        "$(dd if="$d/big.bin" bs=1 skip=8388000 count=1000 2>/dev/null | _md5)" \
        "$(bfs cat --range 8388000-8388999 "$base/big.bin" | _md5)"
    _same "${p}_range_open_end" "$(tail -c 1000 "$d/big.bin" | _md5)" \
        "$(bfs cat --range 67107864- "$base/big.bin" | _md5)"
    _same "${p}_range_small_middle" "llo, b" "$(bfs cat --range 2-7 "$base/dir/small.txt")"
    expect_exit 2 "${p}_range_bad" bfs cat --range 9-2 "$base/big.bin"
    # A reader that stops early (head) is not an error and prints nothing on stderr.
    bfs cat "$base/big.bin" 2>"$d/epipe.err" | head -c 10 >/dev/null
    _same "${p}_cat_epipe_quiet" "0:" "${PIPESTATUS[0]}:$(cat "$d/epipe.err")"

    # User metadata and content type.
    check "${p}_put_meta" bfs put --meta color=blue --meta Owner=Ada --content-type text/plain \
        "$d/small.txt" "$base/meta.txt"
    _same "${p}_stat_meta_color" "blue" "$(_stat_field "$base/meta.txt" meta.color)"
    _same "${p}_stat_meta_owner" "Ada" "$(_stat_field "$base/meta.txt" meta.owner)"
    _same "${p}_stat_content_type" "text/plain" "$(_stat_field "$base/meta.txt" content_type)"
    expect_exit 2 "${p}_put_meta_bad" bfs put --meta novalue "$d/small.txt" "$base/x"

    # mtime: from the file, and from --mtime.
    touch -d '2021-03-04 05:06:07 UTC' "$d/small.txt"
    check "${p}_put_mtime_file" bfs put "$d/small.txt" "$base/mtime.txt"
    _same "${p}_stat_mtime_file" "2021-03-04T05:06:07Z" "$(_stat_field "$base/mtime.txt" mtime)"
    check "${p}_put_mtime_option" bfs put --mtime 1714979289 "$d/small.txt" "$base/mtime2.txt"
    _same "${p}_stat_mtime_option" "2024-05-06T07:08:09Z" "$(_stat_field "$base/mtime2.txt" mtime)"
    _same "${p}_stat_url" "$base/mtime2.txt" "$(_stat_field "$base/mtime2.txt" url)"

    # ls: names relative to the prefix, directories end in '/', -l format.
    expect_output_contains "${p}_ls_root_dir_entry" "dir/" bfs ls "$base"
    _same "${p}_ls_dir_listing" "$(printf 'small.txt\nsub/')" "$(bfs ls "$base/dir/" | sort)"
    _same "${p}_ls_dir_without_slash" "$(printf 'small.txt\nsub/')" "$(bfs ls "$base/dir" | sort)"
    _same "${p}_ls_one_object" "small.txt" "$(bfs ls "$base/dir/small.txt")"
    _same "${p}_ls_recursive" "$(printf 'small.txt\nsub/small.txt')" "$(bfs ls -R "$base/dir" | sort)"
    local line re
    line=$(bfs ls -l "$base/dir/" | grep 'small.txt$')
    re='^16  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z  [0-9a-f]{32}  small.txt$'
    if [[ $line =~ $re ]]; then pass "${p}_ls_long_object_line"; else fail "${p}_ls_long_object_line" "got '$line'"; fi
    line=$(bfs ls -l "$base/dir/" | grep 'sub/$')
    re='^-  [-0-9TZ:]+  -  sub/$'
    if [[ $line =~ $re ]]; then pass "${p}_ls_long_dir_line"; else fail "${p}_ls_long_dir_line" "got '$line'"; fi
    line=$(bfs ls -l "$base/mtime.txt")
    re='^16  2021-03-04T05:06:07Z  [0-9a-f]{32}  mtime.txt$'
    if [[ $line =~ $re ]]; then pass "${p}_ls_long_mtime"; else fail "${p}_ls_long_mtime" "got '$line'"; fi
    expect_exit 3 "${p}_ls_missing_is_3" bfs ls "$base/no/such/thing"
    expect_stderr_contains "${p}_ls_missing_message" "not found" bfs ls "$base/no/such/thing"

    # rm of one object; a missing one is exit 3.
    check "${p}_rm_one" bfs rm "$base/mtime2.txt"
    expect_exit 3 "${p}_rm_one_gone" bfs stat "$base/mtime2.txt"
    expect_exit 3 "${p}_rm_missing_is_3" bfs rm "$base/mtime2.txt"
    expect_exit 3 "${p}_cat_missing_is_3" bfs cat "$base/mtime2.txt"
}

_cli_keys() {
    local p=$1 base=$2 d=$TEST_TMP/$1 i=0 name long ok
    printf 'key body\n' >"$d/key.txt"
    long=keys/$(printf 'k%.0s' $(seq 1 $((1024 - 5))))
    local -a names=("with space.txt" "plus+sign" "per%cent%20x" "hash#tag" "quest?ion=1&a=b"
        "é-accent" "日本語/ファイル" "a;b,c:d@e" "tilde~star*" "${long#keys/}")
    for name in "${names[@]}"; do
        i=$((i + 1))
        ok=1
        bfs put "$d/key.txt" "$base/keys/$name" 2>"$d/key.err" || ok=0
        [ "$ok" = 1 ] && [ "$(bfs cat "$base/keys/$name" 2>>"$d/key.err")" = "key body" ] || ok=0
        [ "$ok" = 1 ] && [ "$(_stat_field "$base/keys/$name" url)" = "$base/keys/$name" ] || ok=0
        [ "$ok" = 1 ] && bfs ls -R "$base/keys/" 2>>"$d/key.err" | grep -qxF -- "$name" || ok=0
        [ "$ok" = 1 ] && bfs rm "$base/keys/$name" 2>>"$d/key.err" || ok=0
        [ "$ok" = 1 ] && ! bfs stat "$base/keys/$name" >/dev/null 2>&1 || ok=0
        if [ "$ok" = 1 ]; then
            pass "${p}_key_roundtrip_$i"
        else
            fail "${p}_key_roundtrip_$i" "key '${name:0:40}' ($(head -c 300 "$d/key.err"))"
        fi
    done
}

_cli_paging() {
    local p=$1 base=$2 n=$3 got
    check "${p}_seed_$n" "$BFS_SEED" "$base/many" "$n" --jobs 8
    got=$(bfs ls "$base/many/" | wc -l)
    _same "${p}_ls_pages_$n" "$n" "$got"
    _same "${p}_ls_pages_names" "obj-000000 obj-$(printf '%06d' $((n - 1)))" \
        "$(bfs ls "$base/many/" | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//')"
    got=$(bfs ls -R "$base" | grep -c '^many/obj-')
    _same "${p}_ls_recursive_parent_$n" "$n" "$got"
    expect_output_contains "${p}_rm_r_$n" "deleted $n objects" bfs rm -r "$base/many"
    _same "${p}_ls_after_rm_r" "" "$(bfs ls "$base/many/")"
    expect_exit 3 "${p}_rm_r_nothing_is_3" bfs rm -r "$base/many"
}

run_cli_suite() {
    local backend=$1 base=${2%/} p
    p=cli_$backend
    _cli_roundtrip "$p" "$base"
    _cli_keys "$p" "$base"
    if [ "$backend" = s3 ]; then
        _cli_paging "$p" "$base" 2500
    else
        _cli_paging "$p" "$base" 6000
    fi
    expect_output_contains "${p}_rm_r_bucket" "deleted" bfs rm -r "$base"
    _same "${p}_bucket_empty_after_rm_r" "" "$(bfs ls -R "$base")"
}

run_cli_copy() {
    local name=$1 src=$2 dst=$3 d=$TEST_TMP/copy
    mkdir -p "$d"
    head -c $((20 * 1024 * 1024 + 12345)) /dev/urandom >"$d/src.bin"
    check "${name}_put_source" bfs put "$d/src.bin" "$src"
    bfs cat "$src" 2>"$d/cat.err" | bfs put - "$dst" 2>"$d/put.err"
    _same "${name}_pipe_exit" "0 0" "${PIPESTATUS[*]}"
    _same "${name}_md5" "$(_md5 <"$d/src.bin")" "$(bfs cat "$dst" | _md5)"
    _same "${name}_stat_md5" "$(_md5 <"$d/src.bin")" "$(_stat_field "$dst" md5)"
}
