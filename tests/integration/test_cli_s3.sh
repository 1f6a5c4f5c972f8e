#!/usr/bin/env bash
# test_cli_s3: the inspection commands (mb ls stat cat put rm) against Swift's S3 layer.
source "$(dirname "$0")/../lib/assert.sh"
source "$(dirname "$0")/cli_common.sh"
need_emulators

run_cli_suite s3 "s3://$(unique_name bfs-cli)"

assert_done
