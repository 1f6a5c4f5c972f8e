# emulators.sh: start and stop the test servers (Swift with s3api, Azurite) on free loopback ports.
#
# Source it from bash:   source tests/lib/emulators.sh
#
# Functions
#   emu_free_port         print a free loopback TCP port
#   emu_start_swift       all-in-one OpenStack Swift (account, container, object servers, proxy with
#                         s3api + tempauth) plus memcached, data in a temporary folder; returns when the
#                         proxy answers. Exports AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
#                         AWS_REGION AWS_DEFAULT_REGION SWIFT_PORT EMU_SWIFT_DIR, unsets AWS_SESSION_TOKEN
#                         and AWS_PROFILE (they would spoil the signatures).
#   emu_start_azurite     Azurite blob service; returns when it answers. Exports AZURITE_PORT
#                         EMU_AZURITE_DIR AZURE_STORAGE_CONNECTION_STRING (well-known public dev key).
#                         EMU_AZURITE_DEBUG=FILE (set before the call) passes --debug FILE, which logs
#                         Azurite's string-to-sign.
#   emu_ensure            start whichever of the two is not already running, judged by the exported
#                         variables (SWIFT_PORT / AZURITE_PORT); used by scripts that may run alone.
#   emu_stop_all          stop everything this shell started (process groups), remove the temporary
#                         folders; safe to call twice. Call it from an EXIT trap.
#   emu_install_deps      install missing Debian packages (apt-get, as root) and the pinned npm
#                         packages (npm ci in tests/node); idempotent and quiet when all is present.
#
# Set on sourcing (not exported): EMU_REPO_DIR (the repository root), EMU_SYS_PY (/usr/bin/python3,
# the Python that Swift runs on; use it for stdlib helpers such as tests/faultproxy.py).
#
# Inputs: BRIDGEFS_TEST_TMP (parent of the temporary folders, default /tmp), EMU_VERBOSE=1 (progress
# messages on stderr). Logs stay in EMU_SWIFT_DIR/log/*.log and EMU_AZURITE_DIR/azurite.log until
# emu_stop_all; set EMU_KEEP=1 to keep the folders (for post-mortems).
#
# Swift reads swift.conf from a path fixed at import time (/etc/swift/swift.conf), so the servers run
# through a small launcher (EMU_SWIFT_DIR/launch.py) that points Swift at the swift.conf of the
# temporary folder and turns fsync into a no-op (test data need not survive a power cut).

EMU_REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EMU_NODE_DIR="$EMU_REPO_DIR/tests/node"
EMU_SYS_PY=/usr/bin/python3
[ -x "$EMU_SYS_PY" ] || EMU_SYS_PY=python3
EMU_PGIDS=()
EMU_DIRS=()

_emu_log() { [ "${EMU_VERBOSE:-0}" = 1 ] && echo "emulators: $*" >&2; return 0; }
_emu_err() { echo "emulators: error: $*" >&2; }

emu_free_port() {
    "$EMU_SYS_PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# _emu_spawn LOGFILE CMD...: run CMD in its own session (so its whole process group can be
# stopped), stdout and stderr to LOGFILE; remembers the process group.
_emu_spawn() {
    local log=$1 pidfile
    shift
    pidfile=$(mktemp "${BRIDGEFS_TEST_TMP:-/tmp}/emu-pid.XXXXXX")
    setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >"$log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 100); do
        [ -s "$pidfile" ] && break
        sleep 0.05
    done
    if [ ! -s "$pidfile" ]; then
        rm -f "$pidfile"
        _emu_err "could not start $1"
        return 1
    fi
    EMU_PGIDS+=("$(cat "$pidfile")")
    rm -f "$pidfile"
}

# _emu_wait_http URL SECONDS PGID: wait until URL gives any HTTP answer; fails early if PGID dies.
_emu_wait_http() {
    local url=$1 secs=$2 pgid=$3 code deadline
    deadline=$((SECONDS + secs))
    while [ "$SECONDS" -lt "$deadline" ]; do
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null)
        if [ -n "$code" ] && [ "$code" != 000 ]; then
            return 0
        fi
        if [ -n "$pgid" ] && ! kill -0 "$pgid" 2>/dev/null; then
            return 1
        fi
        sleep 0.2
    done
    return 1
}

_emu_fail_logs() {
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        echo "---- tail of $f" >&2
        tail -n 25 "$f" >&2
    done
}

_emu_write_swift_conf() {
    local d=$1 aport=$2 cport=$3 oport=$4 pport=$5 mport=$6
    cat >"$d/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = bridgefs-test-suffix
swift_hash_path_prefix = bridgefs-test-prefix

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
max_object_name_length = 1024
max_file_size = 5368709122
EOF
    local common="bind_ip = 127.0.0.1
workers = 0
user = root
mount_check = false
devices = $d/srv
swift_dir = $d/etc
log_level = INFO
log_address = $d/no-syslog
disable_fallocate = true"
    cat >"$d/etc/account-server.conf" <<EOF
[DEFAULT]
bind_port = $aport
$common
log_name = account-server

[pipeline:main]
pipeline = account-server

[app:account-server]
use = egg:swift#account
EOF
    cat >"$d/etc/container-server.conf" <<EOF
[DEFAULT]
bind_port = $cport
$common
log_name = container-server

[pipeline:main]
pipeline = container-server

[app:container-server]
use = egg:swift#container
EOF
    cat >"$d/etc/object-server.conf" <<EOF
[DEFAULT]
bind_port = $oport
$common
log_name = object-server

[pipeline:main]
pipeline = object-server

[app:object-server]
use = egg:swift#object
mb_per_sync = 100000
keep_cache_size = 0
EOF
    local memcache_line="memcache_servers = 127.0.0.1:$mport"
    [ "$mport" = none ] && memcache_line="# no memcached"
    cat >"$d/etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_port = $pport
bind_ip = 127.0.0.1
workers = 0
user = root
swift_dir = $d/etc
log_level = INFO
log_address = $d/no-syslog
log_name = proxy-server

[pipeline:main]
pipeline = catch_errors gatekeeper proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
$memcache_line

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
max_upload_part_num = 10000

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo
max_manifest_segments = 10000
max_manifest_size = 33554432

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
EOF
    cat >"$d/launch.py" <<'EOF'
# launch.py: run one Swift WSGI server with swift.conf taken from argv[1] and fsync disabled.
import os
import sys

swift_conf, server = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
from swift.common import utils
utils.SWIFT_CONF_FILE = swift_conf
utils.HASH_PATH_PREFIX = b''
utils.HASH_PATH_SUFFIX = b''
def _no_sync(fd):
    return None
os.fsync = _no_sync
os.fdatasync = _no_sync
utils.fsync = _no_sync
utils.fdatasync = _no_sync
utils.fsync_dir = lambda path: None
from swift.common import constraints, storage_policy
constraints.reload_constraints()
storage_policy.reload_storage_policies()
from swift.common.wsgi import run_wsgi
conf_file, options = utils.parse_options()
kwargs = {}
if server == 'object-server':
    from swift.obj import server as obj_server
    kwargs['global_conf_callback'] = obj_server.global_conf_callback
sys.exit(run_wsgi(conf_file, server, **options, **kwargs))
EOF
}

_emu_make_rings() {
    local d=$1 aport=$2 cport=$3 oport=$4 name port
    local -a pids=()
    for name in account container object; do
        case $name in
            account) port=$aport ;;
            container) port=$cport ;;
            object) port=$oport ;;
        esac
        (
            cd "$d/etc" &&
                swift-ring-builder "$name.builder" create 6 1 1 &&
                swift-ring-builder "$name.builder" add "r1z1-127.0.0.1:$port/d1" 100 &&
                { swift-ring-builder "$name.builder" rebalance || [ $? -eq 1 ]; }
        ) >>"$d/log/rings.log" 2>&1 &
        pids+=($!)
    done
    local p rc=0
    for p in "${pids[@]}"; do
        wait "$p" || rc=1
    done
    for name in account container object; do
        [ -s "$d/etc/$name.ring.gz" ] || rc=1
    done
    if [ "$rc" != 0 ]; then
        _emu_err "swift-ring-builder failed"
        _emu_fail_logs "$d/log/rings.log"
    fi
    return "$rc"
}

# _emu_swift_ready DIR TIMEOUT PROXY_PORT ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT: waits until
# the proxy (the last process spawned) and the three servers answer, then exports the S3
# variables for that proxy. Shared by emu_start_swift and tests/bench/emu_tuned.sh.
_emu_swift_ready() {
    local d=$1 t=$2 pport=$3 port
    shift 3
    local proxy_pgid=${EMU_PGIDS[${#EMU_PGIDS[@]} - 1]}
    if ! _emu_wait_http "http://127.0.0.1:$pport/info" "$t" "$proxy_pgid"; then
        _emu_err "Swift proxy did not answer on 127.0.0.1:$pport within $t s (logs in $d/log)"
        _emu_fail_logs "$d"/log/*.log
        return 1
    fi
    # The account, container and object servers import as slowly as the proxy; wait for them too.
    for port in "$@"; do
        if ! _emu_wait_http "http://127.0.0.1:$port/healthcheck" "$t" ""; then
            _emu_err "Swift server on 127.0.0.1:$port did not answer within $t s"
            _emu_fail_logs "$d"/log/*.log
            return 1
        fi
    done
    unset AWS_SESSION_TOKEN AWS_PROFILE
    export AWS_ENDPOINT_URL="http://127.0.0.1:$pport"
    export AWS_ACCESS_KEY_ID="test:tester"
    export AWS_SECRET_ACCESS_KEY="testing"
    export AWS_REGION="us-east-1"
    export AWS_DEFAULT_REGION="us-east-1"
    export SWIFT_PORT="$pport"
    export EMU_SWIFT_DIR="$d"
}

emu_start_swift() {
    local d aport cport oport pport mport name
    d=$(mktemp -d "${BRIDGEFS_TEST_TMP:-/tmp}/swift.XXXXXX") || return 1
    EMU_DIRS+=("$d")
    mkdir -p "$d/etc" "$d/srv/d1" "$d/log"
    aport=$(emu_free_port)
    cport=$(emu_free_port)
    oport=$(emu_free_port)
    pport=$(emu_free_port)
    mport=none
    if command -v memcached >/dev/null 2>&1; then
        mport=$(emu_free_port)
    fi
    _emu_log "swift in $d: proxy on $pport"
    _emu_write_swift_conf "$d" "$aport" "$cport" "$oport" "$pport" "$mport"
    _emu_make_rings "$d" "$aport" "$cport" "$oport" || return 1
    if [ "$mport" != none ]; then
        _emu_spawn "$d/log/memcached.log" memcached -l 127.0.0.1 -p "$mport" -U 0 -m 64 -u root ||
            return 1
    fi
    for name in account container object proxy; do
        _emu_spawn "$d/log/$name.log" "$EMU_SYS_PY" "$d/launch.py" "$d/etc/swift.conf" \
            "$name-server" "$d/etc/$name-server.conf" -v || return 1
    done
    _emu_swift_ready "$d" 30 "$pport" "$aport" "$cport" "$oport" || return 1
    _emu_log "swift ready at $AWS_ENDPOINT_URL"
}

emu_start_azurite() {
    local d port bin
    bin="$EMU_NODE_DIR/node_modules/.bin/azurite-blob"
    if [ ! -x "$bin" ]; then
        _emu_err "$bin is missing: run emu_install_deps (npm ci in tests/node)"
        return 1
    fi
    d=$(mktemp -d "${BRIDGEFS_TEST_TMP:-/tmp}/azurite.XXXXXX") || return 1
    EMU_DIRS+=("$d")
    port=$(emu_free_port)
    local -a args=(--blobHost 127.0.0.1 --blobPort "$port" --location "$d/data" --disableTelemetry)
    if [ -n "${EMU_AZURITE_DEBUG:-}" ]; then
        args+=(--debug "$EMU_AZURITE_DEBUG")
    fi
    mkdir -p "$d/data"
    _emu_log "azurite in $d on $port"
    _emu_spawn "$d/azurite.log" "$bin" "${args[@]}" || return 1
    local pgid=${EMU_PGIDS[${#EMU_PGIDS[@]} - 1]}
    if ! _emu_wait_http "http://127.0.0.1:$port/devstoreaccount1?comp=list" 30 "$pgid"; then
        _emu_err "Azurite did not answer on 127.0.0.1:$port within 30 s"
        _emu_fail_logs "$d/azurite.log"
        return 1
    fi
    export AZURITE_PORT="$port"
    export EMU_AZURITE_DIR="$d"
    export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
    _emu_log "azurite ready on port $port"
}

emu_ensure() {
    if [ -z "${SWIFT_PORT:-}" ] || [ -z "${AWS_ENDPOINT_URL:-}" ]; then
        emu_start_swift || return 1
    fi
    if [ -z "${AZURITE_PORT:-}" ] || [ -z "${AZURE_STORAGE_CONNECTION_STRING:-}" ]; then
        emu_start_azurite || return 1
    fi
}

emu_stop_all() {
    local pg i alive
    for pg in "${EMU_PGIDS[@]}"; do
        kill -TERM -- "-$pg" 2>/dev/null
    done
    for i in $(seq 1 50); do
        alive=0
        for pg in "${EMU_PGIDS[@]}"; do
            if kill -0 -- "-$pg" 2>/dev/null; then
                alive=1
            fi
        done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pg in "${EMU_PGIDS[@]}"; do
        kill -KILL -- "-$pg" 2>/dev/null
        wait "$pg" 2>/dev/null
    done
    EMU_PGIDS=()
    if [ "${EMU_KEEP:-0}" != 1 ]; then
        for i in "${EMU_DIRS[@]}"; do
            rm -rf -- "$i"
        done
    elif [ "${#EMU_DIRS[@]}" -gt 0 ]; then
        echo "emulators: kept ${EMU_DIRS[*]}" >&2
    fi
    EMU_DIRS=()
    return 0
}

emu_install_deps() {
    local -a pkgs=(libfuse3-dev fuse3 libcurl4-openssl-dev libssl-dev libxml2-dev liblmdb-dev cmake
        pkg-config gcc make python3 swift-proxy swift-account swift-container swift-object memcached
        curl valgrind)
    local -a missing=()
    local p
    if command -v dpkg-query >/dev/null 2>&1; then
        for p in "${pkgs[@]}"; do
            if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
                missing+=("$p")
            fi
        done
    fi
    if ! command -v node >/dev/null 2>&1; then
        missing+=(nodejs npm)
    elif ! command -v npm >/dev/null 2>&1; then
        missing+=(npm)
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" != 0 ]; then
            _emu_err "missing packages (${missing[*]}); run as root or install them"
            return 1
        fi
        echo "emulators: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 || return 1
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || return 1
    fi
    local mods="$EMU_NODE_DIR/node_modules"
    if [ ! -d "$mods" ] || [ ! -x "$mods/.bin/azurite-blob" ] ||
        [ "$EMU_NODE_DIR/package-lock.json" -nt "$mods" ]; then
        echo "emulators: npm ci in $EMU_NODE_DIR" >&2
        (cd "$EMU_NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2) || return 1
        touch "$mods"
    fi
}
