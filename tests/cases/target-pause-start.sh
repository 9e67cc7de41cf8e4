#!/bin/sh
# DESCRIPTION: pause stops the background copy (in_sync frozen, writes still mirrored), start resumes it to synced
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 32
random_fill $SRC
fill $DST 5a

# 32 MiB at 2048 KiB/s takes ~16 s: slow enough to pause mid-copy and to see
# that nothing moves while paused (32 regions of 64 KiB would go per second).
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128 max_copy_rate 2048)")
TOTAL=$(total_regions im)
assert_eq "$TOTAL" 512 "total regions"
assert_eq "$(dm_field im 1)" copying "state after create (full mirror)"
wait_cond 20 "the copy to make progress" '[ "$(in_sync im)" -gt 0 ]'

dm_msg im pause
assert_eq "$(dm_field im 1)" paused "state after pause"
# In-flight copies are allowed to finish; then nothing more may start.
wait_field im 8 0 20
a=$(in_sync im)
c=$(dm_field im 5)
[ "$a" -lt "$TOTAL" ] || fail "copy finished before it could be paused ($a/$TOTAL)"
info "paused at $a/$TOTAL regions, $c sectors copied"
i=0
while [ $i -lt 10 ]; do
	usleep 250000
	assert_eq "$(dm_field im 1)" paused "state while paused"
	assert_eq "$(in_sync im)" "$a" "in_sync while paused (read $i)"
	assert_eq "$(dm_field im 5)" "$c" "copied_sectors while paused (read $i)"
	assert_eq "$(dm_field im 8)" 0 "copies_in_flight while paused (read $i)"
	i=$((i + 1))
done

# Writes are still mirrored while paused: write the last region (not copied
# yet: the copy is far from the end) and read the destination directly.
dd if=/dev/urandom of=/tmp/pause.blk bs=64k count=1 2>/dev/null
run dd if=/tmp/pause.blk of="$DEV" bs=64k seek=$((TOTAL - 1)) oflag=direct conv=notrunc 2>/dev/null
dd if=$DST of=/tmp/pause.dst bs=64k skip=$((TOTAL - 1)) count=1 iflag=direct 2>/dev/null
cmp /tmp/pause.blk /tmp/pause.dst || fail "write while paused did not reach the destination"
dd if=$SRC of=/tmp/pause.src bs=64k skip=$((TOTAL - 1)) count=1 iflag=direct 2>/dev/null
cmp /tmp/pause.blk /tmp/pause.src || fail "write while paused did not reach the source"
assert_eq "$(dm_field im 1)" paused "state after a write while paused"

dm_msg im start
assert_eq "$(dm_field im 1)" copying "state after start"
wait_cond 20 "the copy to progress after start" '[ "$(in_sync im)" -gt "$a" ]'
[ "$(dm_field im 5)" -gt "$c" ] || fail "copied_sectors did not grow after start"

dm_msg im max_copy_rate 0
wait_state im synced 120
assert_eq "$(in_sync im)" "$TOTAL" "in_sync when synced"
same_regions $SRC $DST 128

# synced takes precedence over paused; start keeps it synced.
dm_msg im pause
assert_eq "$(dm_field im 1)" synced "state after pause when synced"
dm_msg im start
assert_eq "$(dm_field im 1)" synced "state after start when synced"
rm -f /tmp/pause.*
run dmsetup remove im
