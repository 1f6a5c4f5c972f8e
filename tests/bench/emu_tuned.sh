# emu_tuned.sh: the test servers tuned for benchmarks (Swift with 2 workers per server, data on
# tmpfs; Azurite with its data on disk). Source after tests/lib/emulators.sh; it reuses that
# file's helpers (_emu_write_swift_conf, _emu_make_rings, _emu_spawn, _emu_wait_http) and exports
# the same variables as emu_start_swift / emu_start_azurite. emu_stop_all stops them.
#
# Inputs: BENCH_SWIFT_WORKERS (default: number of cores), BENCH_TMPFS (default /dev/shm when it
# is a tmpfs, else BRIDGEFS_TEST_TMP or /tmp), BENCH_AZURITE_MEMORY=1 (Azurite's
# --inMemoryPersistence: faster, but at full size, after W2's 9 GiB of uploads, it held 12 GiB and
# stopped answering, as deleted blobs are freed late; so by default its data goes to a folder in
# BRIDGEFS_TEST_TMP or /tmp, on disk).

bench_tmpfs_dir() {
    if [ -n "${BENCH_TMPFS:-}" ]; then
        echo "$BENCH_TMPFS"
    elif [ -d /dev/shm ] && [ -w /dev/shm ] && stat -f -c %T /dev/shm 2>/dev/null | grep -q tmpfs; then
        echo /dev/shm
    else
        echo "${BRIDGEFS_TEST_TMP:-/tmp}"
    fi
}

bench_start_swift() {
    local d aport cport oport pport mport name workers
    workers=${BENCH_SWIFT_WORKERS:-$(nproc 2>/dev/null || echo 2)}
    d=$(mktemp -d "$(bench_tmpfs_dir)/bench-swift.XXXXXX") || return 1
    EMU_DIRS+=("$d")
    mkdir -p "$d/etc" "$d/srv/d1" "$d/log"
    aport=$(emu_free_port)
    cport=$(emu_free_port)
    oport=$(emu_free_port)
    pport=$(emu_free_port)
    mport=none
    command -v memcached >/dev/null 2>&1 && mport=$(emu_free_port)
    _emu_write_swift_conf "$d" "$aport" "$cport" "$oport" "$pport" "$mport"
    # Workers on every core for the proxy and the object server (the servers that move bytes).
    sed -i "s/^workers = 0$/workers = $workers/" "$d/etc/proxy-server.conf" \
        "$d/etc/object-server.conf"
    _emu_make_rings "$d" "$aport" "$cport" "$oport" || return 1
    if [ "$mport" != none ]; then
        _emu_spawn "$d/log/memcached.log" memcached -l 127.0.0.1 -p "$mport" -U 0 -m 64 -u root ||
            return 1
    fi
    for name in account container object proxy; do
        _emu_spawn "$d/log/$name.log" "$EMU_SYS_PY" "$d/launch.py" "$d/etc/swift.conf" \
            "$name-server" "$d/etc/$name-server.conf" -v || return 1
    done
    _emu_swift_ready "$d" 60 "$pport" "$aport" "$cport" "$oport" || return 1
}

bench_start_azurite() {
    local d port bin pgid
    bin="$EMU_NODE_DIR/node_modules/.bin/azurite-blob"
    [ -x "$bin" ] || { _emu_err "$bin is missing: run emu_install_deps"; return 1; }
    if [ "${BENCH_AZURITE_MEMORY:-0}" = 1 ]; then
        d=$(mktemp -d "$(bench_tmpfs_dir)/bench-azurite.XXXXXX") || return 1
        set -- --inMemoryPersistence
    else
        d=$(mktemp -d "${BRIDGEFS_TEST_TMP:-/tmp}/bench-azurite.XXXXXX") || return 1
        set -- --location "$d/data"
    fi
    EMU_DIRS+=("$d")
    port=$(emu_free_port)
    _emu_spawn "$d/azurite.log" "$bin" --blobHost 127.0.0.1 --blobPort "$port" "$@" \
        --disableTelemetry || return 1
    pgid=${EMU_PGIDS[${#EMU_PGIDS[@]} - 1]}
    if ! _emu_wait_http "http://127.0.0.1:$port/devstoreaccount1?comp=list" 30 "$pgid"; then
        _emu_err "Azurite did not answer on 127.0.0.1:$port"
        _emu_fail_logs "$d/azurite.log"
        return 1
    fi
    export AZURITE_PORT="$port"
    export EMU_AZURITE_DIR="$d"
    export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
}

# bench_start_faultproxy: a counting proxy in front of Swift (no faults queued); exports
# BENCH_PROXY_PORT. Its process group is stopped by emu_stop_all.
bench_start_faultproxy() {
    local d=${EMU_SWIFT_DIR:?} i
    _emu_spawn "$d/log/faultproxy.log" bash -c \
        'exec "$0" "$1" --target "127.0.0.1:$2" --flavor s3 --quiet' \
        "$EMU_SYS_PY" "$EMU_REPO_DIR/tests/faultproxy.py" "$SWIFT_PORT" || return 1
    for i in $(seq 1 100); do
        BENCH_PROXY_PORT=$(head -n1 "$d/log/faultproxy.log" 2>/dev/null | tr -dc 0-9)
        [ -n "$BENCH_PROXY_PORT" ] && break
        sleep 0.1
    done
    [ -n "$BENCH_PROXY_PORT" ] || { _emu_err "faultproxy did not start"; return 1; }
    export BENCH_PROXY_PORT
}
