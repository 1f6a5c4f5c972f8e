#!/usr/bin/env bash
# test_cli_blob: the inspection commands against Azurite, and a copy S3 -> Blob through a pipe.
source "$(dirname "$0")/../lib/assert.sh"
source "$(dirname "$0")/cli_common.sh"
need_emulators

run_cli_suite blob "az://$(unique_name bfs-cli)"

src=s3://$(unique_name bfs-cp)
dst=az://$(unique_name bfs-cp)
check cli_copy_mb_s3 bfs mb "$src"
check cli_copy_mb_blob bfs mb "$dst"
run_cli_copy cli_copy_s3_to_blob "$src/data/copy.bin" "$dst/copied/copy.bin"

assert_done
