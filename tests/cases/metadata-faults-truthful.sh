#!/bin/sh
# DESCRIPTION: metadata: destination write errors (dm-flakey), seconds of destination latency (dm-delay) and source read errors during the copy: callers get the source's result, the on-disk map covers every differing region, fixed + start ends synced
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 300
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

ram_devices 3 32
SZ=$(dev_sectors /dev/ram0)
SRC=$(dm_create fsrc "0 $SZ linear /dev/ram0 0")
DST=$(dm_create fdst "0 $SZ linear /dev/ram1 0")
META=$(dm_create meta "0 64 linear /dev/ram2 0")
zero_dev "$META"
random_fill /dev/ram0
dd_ if=/dev/ram0 of=/dev/ram1 bs=1M oflag=direct
dd_ if=/dev/urandom of=/dev/ram0 bs=64k seek=100 count=60 oflag=direct

DEV=$(dm_create im "$(incmirror_table "$SRC" "$DST" 128 incremental error_threshold 4 metadata "$META")")
dm_msg im set_dirty 100-159
dm_msg im start
wait_state im synced 60

# truthful WHAT: every region where the two ramdisks differ is dirty in the
# target's map, and every dirty one is on the metadata device.
truthful() {
	get_dirty_all im >/tmp/t.map
	meta_dirty "$META" >/tmp/t.disk
	drop_caches /dev/ram0 /dev/ram1
	lw-replay diff-regions /dev/ram0 0 /dev/ram1 0 $((SZ * 512)) 65536 >/tmp/t.diff
	assert_subset /tmp/t.diff /tmp/t.map "$1: differing regions in the map"
	assert_subset /tmp/t.map /tmp/t.disk "$1: map on the metadata device"
	info "$1: $(wc -l </tmp/t.diff) regions differ, $(ranges_count </tmp/t.map) dirty, $(wc -l </tmp/t.disk) on disk"
}

# 1. The destination fails writes (dm-flakey error_writes, always down).
dm_swap fdst "0 $SZ flakey /dev/ram1 0 0 3600 1 error_writes"
dd if=/dev/urandom of="$DEV" bs=64k seek=200 count=32 oflag=direct conv=fsync 2>/tmp/t.err ||
	{ cat /tmp/t.err; fail "a caller saw the destination's error"; }
wait_state im degraded 30
dd if=/dev/urandom of="$DEV" bs=64k seek=300 count=8 oflag=direct conv=fsync 2>/tmp/t.err ||
	{ cat /tmp/t.err; fail "a write in degraded failed"; }
truthful "destination failing"
dm_swap fdst "0 $SZ linear /dev/ram1 0"
dm_msg im start
wait_state im synced 60
same_regions /dev/ram0 /dev/ram1 128

# 2. Seconds of destination latency (dm-delay, 2 s on writes): callers wait,
# never fail; the mirror stays truthful and synced.
dm_swap fdst "0 $SZ delay /dev/ram1 0 0 /dev/ram1 0 2000"
t0=$(uptime_ms)
dd if=/dev/urandom of="$DEV" bs=64k seek=400 count=4 oflag=direct 2>/tmp/t.err ||
	{ cat /tmp/t.err; fail "write through a slow destination failed"; }
t1=$(uptime_ms)
[ $((t1 - t0)) -ge 2000 ] || fail "4 writes took $((t1 - t0)) ms: the destination's delay was not waited for"
wait_state im synced 30
dm_swap fdst "0 $SZ linear /dev/ram1 0"
same_regions /dev/ram0 /dev/ram1 128

# 3. The source fails reads in regions 450-459 during a copy of 440-479.
dm_msg im pause
dd_ if=/dev/urandom of=/dev/ram0 bs=64k seek=440 count=40 oflag=direct
dm_msg im set_dirty 440-479
dm_swap fsrc "0 57600 linear /dev/ram0 0
57600 1280 error
58880 $((SZ - 58880)) linear /dev/ram0 58880"
dm_msg im start
wait_cond 60 "every readable region copied" \
	'[ "$(dm_field im 2 | cut -d/ -f1)" -ge $(( $(total_regions im) - 10 )) ]'
[ "$(dm_field im 1)" != synced ] || fail "synced although 10 source regions cannot be read"
# A caller's read of a failing region sees the source's error.
dd if="$DEV" of=/dev/null bs=64k skip=452 count=1 iflag=direct 2>/dev/null &&
	fail "a read of an unreadable source region succeeded"
truthful "source read errors"
get_dirty_all im >/tmp/t.map
assert_eq "$(ranges_norm </tmp/t.map)" 450-459 "regions left dirty by source read errors"
dm_swap fsrc "0 $SZ linear /dev/ram0 0"
dm_msg im start
wait_state im synced 60
same_regions /dev/ram0 /dev/ram1 128
assert_eq "$(dm_field im 9)" metadata=ok "metadata state after the faults"
