#!/usr/bin/env bash
# test_mirror_mounts: mirror and verify through real bridgefs mounts on both services:
# S3 -> Blob, then Blob -> S3. Checked independently of verify: the bytes (MD5 of `bridgefs cat`)
# of every object on the target equal the source's, and mtime and user metadata travelled.
source "$(dirname "$0")/../lib/assert.sh"
source "$(dirname "$0")/mount_common.sh"
need_emulators

s3src="s3://$(unique_name mms)"
azdst="az://$(unique_name mmd)"
s3back="s3://$(unique_name mmb)"
check mm_mb_s3_source bfs mb "$s3src"
check mm_mb_az_target bfs mb "$azdst"
check mm_mb_s3_back bfs mb "$s3back"

# The source: 200 small objects in 4 prefixes, a 20 MiB multipart object, metadata, odd names.
for d in a b c/d c/e; do
    check "mm_seed_$d" "$BRIDGEFS_BUILD/tests/bfs_seed" "$s3src/$d" 50 --jobs 8 --size 16384
done
head -c $((20 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/big"
check mm_seed_big bfs put "$TEST_TMP/big" "$s3src/big/twenty.bin"
printf 'meta\n' >"$TEST_TMP/m"
# content-id is not a C# identifier: Azure stores it renamed (rename_content_id, as AzCopy)
check mm_seed_meta bfs put --meta owner=ada --meta content-id=cid-1 --mtime 1600000000 "$TEST_TMP/m" \
    "$s3src/odd names/é +%#.txt"
check mm_seed_content_type bfs put --content-type text/csv "$TEST_TMP/m" "$s3src/typed.csv"

mp=$TEST_TMP/mnt
_mnt_mount mm_mount_s3src "$s3src" "$mp/s3src" "cache=$TEST_TMP/cache"
_mnt_mount mm_mount_azdst "$azdst" "$mp/azdst" \
    "cache=$TEST_TMP/cache,log=$TEST_TMP/azdst.log,log_level=debug"
# (its request log shows whether anything was copied server-side after an upload)
_mnt_mount mm_mount_s3back "$s3back" "$mp/s3back" \
    "cache=$TEST_TMP/cache,log=$TEST_TMP/s3back.log,log_level=debug"

logs=$TEST_TMP/logs
check mm_s3_to_blob_mirror bfs mirror --mode mirror --no-progress --log-dir "$logs" --job-id s3az \
    "$mp/s3src" "$mp/azdst"
check mm_s3_to_blob_verify bfs verify "$mp/s3src" "$mp/azdst"
# Azure's answer to Put Blob / Put Block List has the new blob's ETag and Last-Modified, so
# the mount caches each new blob from it: no HEAD after an upload (S3's has no Last-Modified).
echo "# mm_s3_to_blob: Azure requests of the target mount: $(grep -c 'http: PUT' "$TEST_TMP/azdst.log") PUT, $(grep -c 'http: HEAD' "$TEST_TMP/azdst.log") HEAD"
_mnt_same mm_s3_to_blob_no_head_after_put "0" "$(grep -c 'http: HEAD' "$TEST_TMP/azdst.log")"

# Independently of verify: every object's bytes, read with the inspection command.
n=0 bad=0
while IFS= read -r key; do
    case "$key" in */) continue ;; esac
    a=$(bfs cat "$s3src/$key" | md5sum | cut -d' ' -f1)
    b=$(bfs cat "$azdst/$key" | md5sum | cut -d' ' -f1)
    n=$((n + 1))
    [ "$a" = "$b" ] || { bad=$((bad + 1)); echo "  | differs: $key" >&2; }
done < <(bfs ls -R "$s3src")
if [ "$n" = 203 ] && [ "$bad" = 0 ]; then
    pass mm_s3_to_blob_bytes_equal
else
    fail mm_s3_to_blob_bytes_equal "$n objects compared (want 203), $bad differ"
fi
_mnt_same mm_s3_to_blob_content_type text/csv \
    "$(bfs stat "$azdst/typed.csv" | sed -n 's/^content_type: //p')"
# Stored MD5 on the target equals the source's.
_mnt_same mm_s3_to_blob_stored_md5 "$(md5sum <"$TEST_TMP/big" | cut -d' ' -f1)" \
    "$(bfs stat "$azdst/big/twenty.bin" | sed -n 's/^md5: //p')"
# Metadata and mtime travelled.
bfs stat "$azdst/odd names/é +%#.txt" >"$TEST_TMP/stat.out" 2>&1
if grep -q '^meta.owner: ada$' "$TEST_TMP/stat.out" && grep -q '^meta.content-id: cid-1$' "$TEST_TMP/stat.out"; then
    pass mm_s3_to_blob_user_metadata
else
    fail mm_s3_to_blob_user_metadata "$(tr '\n' ' ' <"$TEST_TMP/stat.out")"
fi
if grep -q '^mtime: 2020-09-13T12:26:40' "$TEST_TMP/stat.out"; then
    pass mm_s3_to_blob_mtime
else
    fail mm_s3_to_blob_mtime "$(grep '^mtime' "$TEST_TMP/stat.out")"
fi

# A re-run with nothing changed copies nothing.
check mm_s3_to_blob_noop bfs mirror --mode mirror --no-progress --log-dir "$logs" --job-id noop \
    "$mp/s3src" "$mp/azdst"
_mnt_same mm_s3_to_blob_noop_transferred 0 \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["itemsTransferred"])' "$logs/noop.summary.json")"

# Blob -> S3.
check mm_blob_to_s3_mirror bfs mirror --mode mirror --no-progress --log-dir "$logs" --job-id azs3 \
    "$mp/azdst" "$mp/s3back"
check mm_blob_to_s3_verify bfs verify "$mp/azdst" "$mp/s3back"
_mnt_same mm_blob_to_s3_big_bytes "$(md5sum <"$TEST_TMP/big" | cut -d' ' -f1)" \
    "$(bfs cat "$s3back/big/twenty.bin" | md5sum | cut -d' ' -f1)"
_mnt_same mm_blob_to_s3_count 203 "$(bfs ls -R "$s3back" | grep -vc '/$')"
_mnt_same mm_blob_to_s3_content_type text/csv \
    "$(bfs stat "$s3back/typed.csv" | sed -n 's/^content_type: //p')"
_mnt_same mm_blob_to_s3_renamed_metadata_name "cid-1" \
    "$(bfs stat "$s3back/odd names/é +%#.txt" | sed -n 's/^meta.content-id: //p')"

# The 20 MiB object was streamed to S3 in parts. mirror announced the source's stored MD5
# before the data (user.bridgefs.expect_md5), so the upload began with it (md5chksum) and with
# the mtime: nothing was copied onto the object afterwards to add them (a CopyObject, i.e. a
# PUT of the key without a query, reads and writes the whole object again on the service).
_mnt_same mm_blob_to_s3_big_md5_stored "$(md5sum <"$TEST_TMP/big" | cut -d' ' -f1)" \
    "$(bfs stat "$s3back/big/twenty.bin" | sed -n 's/^md5: //p')"
# streamed in parts (3 of 8 MiB at most; a retried part is logged once more)
nparts=$(grep -cE 'PUT [^ ]*/big/twenty\.bin\?partNumber=' "$TEST_TMP/s3back.log")
if [ "$nparts" -ge 3 ]; then
    pass mm_blob_to_s3_big_parts
else
    fail mm_blob_to_s3_big_parts "$nparts part PUTs logged, want 3"
fi
_mnt_same mm_blob_to_s3_big_no_copy_after "0" \
    "$(grep -cE 'PUT [^ ]*/big/twenty\.bin -> ' "$TEST_TMP/s3back.log")"
_mnt_same mm_blob_to_s3_big_mtime "$(bfs stat "$azdst/big/twenty.bin" | sed -n 's/^mtime: //p')" \
    "$(bfs stat "$s3back/big/twenty.bin" | sed -n 's/^mtime: //p')"

# A writer that announces an MD5 its data does not have gets nothing published: close()
# fails (EIO), an existing object stays as it was, a new one does not appear. Staged (small)
# and streamed (9 MiB, more than a part) uploads alike.
python3 - "$mp/s3back" "$TEST_TMP/md5-right" >"$TEST_TMP/md5w.out" 2>&1 <<'PY'
import hashlib, os, sys
m = sys.argv[1]
def write(name, data, md5, flags=os.O_CREAT | os.O_TRUNC):
    fd = os.open(os.path.join(m, name), os.O_WRONLY | flags, 0o644)
    os.setxattr(fd, 'user.bridgefs.expect_md5', md5.encode())
    os.write(fd, data)
    try:
        os.close(fd)
        return 'closed'
    except OSError as e:
        return 'close:%s' % e.strerror
big = os.urandom(9 << 20)
print('small-wrong', write('typed.csv', b'other content', '0' * 32))
print('big-wrong', write('md5-wrong.bin', big, hashlib.md5(b'x').hexdigest()))
print('big-right', write('md5-right.bin', big, hashlib.md5(big).hexdigest()))
open(sys.argv[2], 'wb').write(big)
try:
    fd = os.open(os.path.join(m, 'md5-bad-value.bin'), os.O_WRONLY | os.O_CREAT, 0o644)
    os.setxattr(fd, 'user.bridgefs.expect_md5', b'not-hex')
    print('bad-value accepted')
except OSError as e:
    print('bad-value', e.strerror)
PY
_mnt_same mm_expect_md5_results "small-wrong close:Input/output error
big-wrong close:Input/output error
big-right closed
bad-value Invalid argument" "$(cat "$TEST_TMP/md5w.out")"
_mnt_same mm_expect_md5_small_object_intact "meta" "$(bfs cat "$s3back/typed.csv")"
expect_exit 3 mm_expect_md5_big_not_published bfs stat "$s3back/md5-wrong.bin"
_mnt_same mm_expect_md5_big_not_in_mount "absent" \
    "$([ -e "$mp/s3back/md5-wrong.bin" ] && echo present || echo absent)"
_mnt_same mm_expect_md5_right_published "$(md5sum <"$TEST_TMP/md5-right" | cut -d' ' -f1)" \
    "$(bfs cat "$s3back/md5-right.bin" | md5sum | cut -d' ' -f1)"
_mnt_same mm_expect_md5_right_stored "$(md5sum <"$TEST_TMP/md5-right" | cut -d' ' -f1)" \
    "$(bfs stat "$s3back/md5-right.bin" | sed -n 's/^md5: //p')"
if grep -q 'md5-wrong.bin discarded: the data written has MD5' "$TEST_TMP/s3back.log"; then
    pass mm_expect_md5_logged
else
    fail mm_expect_md5_logged "$(grep -i 'md5-wrong' "$TEST_TMP/s3back.log" | grep -v DEBUG | head -3)"
fi
rm -f "$mp/s3back/md5-right.bin" "$mp/s3back/md5-bad-value.bin"

# A writer that announced a size and stopped short (a killed copy) never replaces the object:
# its upload is discarded at the last release (close() itself cannot report it: the kernel
# releases after close returns), and the old object stays.
python3 - "$mp/azdst/typed.csv" >"$TEST_TMP/short.out" 2>&1 <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.setxattr(fd, 'user.bridgefs.expect_size', b'1000')
os.write(fd, b'only part of it')
os.close(fd)
PY
sleep 1
_mnt_same mm_short_write_object_intact "meta" "$(bfs cat "$azdst/typed.csv")"
# ... and the mount shows the object as it is, not the truncated copy.
_mnt_same mm_short_write_mount_view "meta" "$(cat "$mp/azdst/typed.csv" 2>&1)"
_mnt_same mm_short_write_mount_size 5 "$(stat -c %s "$mp/azdst/typed.csv" 2>&1)"
# A new file written short is not published, and the mount stops showing it.
python3 - "$mp/azdst/short-new.bin" >>"$TEST_TMP/short.out" 2>&1 <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.setxattr(fd, 'user.bridgefs.expect_size', b'1000')
os.write(fd, b'only part of it')
os.close(fd)
PY
sleep 1
expect_exit 3 mm_short_new_not_published bfs stat "$azdst/short-new.bin"
_mnt_same mm_short_new_not_in_mount "absent" "$([ -e "$mp/azdst/short-new.bin" ] && echo present || echo absent)"
_mnt_same mm_short_new_not_listed "" "$(ls "$mp/azdst" | grep short-new)"

# kill -9 of a mirror writing into a mount, then a re-run of the same command: the re-run
# finishes the job, and every object on the target has the source's size (no in-flight copy
# was published short or left empty), seen through the mount and on the service.
azkill="az://$(unique_name mmk)"
check mm_kill_mb bfs mb "$azkill"
_mnt_mount mm_kill_mount "$azkill" "$mp/azkill" "cache=$TEST_TMP/cache"
"$BRIDGEFS" mirror --mode mirror --no-progress --jobs 2 --log-dir "$logs" --job-id kill1 \
    "$mp/s3src" "$mp/azkill" >"$TEST_TMP/kill1.out" 2>&1 &
kpid=$!
# killed once a and b (100 objects) are done: the 20 MiB big/twenty.bin is then in flight
for _ in $(seq 1 600); do
    [ "$(cat "$logs/kill1.copylog.jsonl" 2>/dev/null | wc -l)" -ge 100 ] && break
    kill -0 "$kpid" 2>/dev/null || break
    sleep 0.02
done
echo "# mm_kill: killed after $(wc -l <"$logs/kill1.copylog.jsonl" 2>/dev/null) copy log lines"
kill -9 "$kpid" 2>/dev/null
wait "$kpid" 2>/dev/null
sleep 1
echo "# mm_kill: $(bfs ls -R "$azkill" | grep -vc '/$') of 203 objects on the target after kill -9"
check mm_kill_rerun bfs mirror --mode mirror --no-progress --jobs 2 --log-dir "$logs" --job-id kill2 \
    "$mp/s3src" "$mp/azkill"
check mm_kill_verify bfs verify --checksum "$mp/s3src" "$mp/azkill"
_mnt_same mm_kill_sizes_on_service "$(bfs ls -lR "$s3src" | awk '{print $1, $NF}' | grep -v '/$')" \
    "$(bfs ls -lR "$azkill" | awk '{print $1, $NF}' | grep -v '/$')"
_mnt_same mm_kill_no_staging_left "" "$(find "$TEST_TMP/cache" -path '*staging*' -type f 2>/dev/null)"

# A corrupted byte on the target (same size) is found by verify --deep and verify exits 8.
python3 - "$TEST_TMP/big" "$TEST_TMP/big.bad" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[12345] ^= 0xFF
open(sys.argv[2], 'wb').write(b)
PY
check mm_corrupt_target bfs put "$TEST_TMP/big.bad" "$s3back/big/twenty.bin"
_mnt_unmount "$mp/s3back"
_mnt_mount mm_remount_s3back "$s3back" "$mp/s3back" "cache=$TEST_TMP/cache2"
expect_exit 8 mm_verify_finds_corruption bfs verify --deep "$mp/azdst" "$mp/s3back"
assert_done
