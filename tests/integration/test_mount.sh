#!/usr/bin/env bash
# test_mount: the FUSE mount (bridgefs mount) against Swift's S3 layer and Azurite, same cases.
# shellcheck source=../lib/assert.sh
source "$(dirname "$0")/../lib/assert.sh"
source "$(dirname "$0")/mount_common.sh"
need_emulators

if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
    fail "test_mount: fuse" "/dev/fuse or fusermount3 missing"
    assert_done
fi

backends=${MOUNT_BACKENDS:-s3 az}
for b in $backends; do
    if [ "$b" = s3 ]; then
        run_mount_suite s3 "s3://$(unique_name bfs-mnt)"
    else
        run_mount_suite az "az://$(unique_name bfs-mnt)"
    fi
done

assert_done
