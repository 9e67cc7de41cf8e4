#!/bin/sh
# DESCRIPTION: fio with verify writes through the target during the background copy; after synced source and destination are identical
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 32
random_fill $SRC
fill $DST 5a

# 32 MiB at 2048 KiB/s: the copy needs ~16 s. fio writes 2 x 2 MiB at
# 2 x 512 KiB/s (~4 s), so all of its writes land while regions are still
# being copied, in copied and in not-yet-copied regions alike.
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128 max_copy_rate 2048)")
TOTAL=$(total_regions im)
s0=$(in_sync im)
[ "$s0" -lt "$TOTAL" ] || fail "copy already finished before fio"
assert_eq "$(dm_field im 1)" copying "state before fio"

cd /tmp || fail "cd /tmp"
fio --name=verify --filename="$DEV" --ioengine="$(fio_engine)" --iodepth=8 --direct=1 \
	--rw=randwrite --bs=4k --numjobs=2 --size=16m --offset_increment=16m \
	--io_size=2m --rate=512k --verify=crc32c --verify_backlog=64 \
	--do_verify=1 --verify_fatal=1 --verify_state_save=0 --group_reporting \
	>/tmp/verify.fio 2>&1
rc=$?
grep -E "err=|verify|WRITE|READ" /tmp/verify.fio | head -20
[ $rc -eq 0 ] || { cat /tmp/verify.fio; fail "fio verify failed: $rc"; }

s1=$(in_sync im)
info "in-sync regions: $s0 before fio, $s1 after"
[ "$s1" -gt "$s0" ] || fail "the copy made no progress while fio ran ($s0 -> $s1)"
assert_eq "$(dm_field im 1)" copying "state right after fio (copy still running)"

dm_msg im max_copy_rate 0
wait_state im synced 120
assert_eq "$(in_sync im)" "$TOTAL" "in_sync"
assert_eq "$(dm_field im 4)" 0 "dest_errors"
same_regions $SRC $DST 128
# fio's data, read back through the target, still verifies after the copy.
fio --name=verify --filename="$DEV" --ioengine="$(fio_engine)" --iodepth=8 --direct=1 \
	--rw=randwrite --bs=4k --numjobs=2 --size=16m --offset_increment=16m \
	--io_size=2m --verify=crc32c --verify_only --verify_fatal=1 \
	--verify_state_save=0 --group_reporting >/tmp/verify2.fio 2>&1 ||
	{ cat /tmp/verify2.fio; fail "fio verify_only after synced failed"; }
# ... and directly on the destination.
fio --name=verify --filename="$DST" --ioengine="$(fio_engine)" --iodepth=8 --direct=1 \
	--rw=randwrite --bs=4k --numjobs=2 --size=16m --offset_increment=16m \
	--io_size=2m --verify=crc32c --verify_only --verify_fatal=1 \
	--verify_state_save=0 --group_reporting >/tmp/verify3.fio 2>&1 ||
	{ cat /tmp/verify3.fio; fail "fio verify_only on the destination failed"; }
run dmsetup remove im
rm -f /tmp/verify*.fio
