#!/bin/sh
# DESCRIPTION: a reload that grows the table by less than a region (same region count) marks the grown last region dirty and ends identical; a shrink within a region keeps the map
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 8
random_fill $SRC
# The destination holds the source's data up to sector 15950 only: the
# part the first table covers is in sync, the rest of the devices differs.
dd_ if=$SRC of=$DST bs=512 count=15950 oflag=direct
dd_ if=/dev/urandom of=$DST bs=512 seek=15950 count=434 oflag=direct

# 64 KiB regions: 15950 and 16000 sectors are both 125 regions.
dm_create im "0 15950 incmirror $SRC $DST 128 1 incremental" >/dev/null
dm_msg im start
wait_state im synced 30
assert_eq "$(dm_field im 2)" "125/125" "in sync before the reload"
[ "$(sha $SRC 0 15950)" = "$(sha $DST 0 15950)" ] || fail "the first 15950 sectors differ before the reload"

# Pause, so that the grown region stays dirty where status can see it.
dm_msg im pause
run dmsetup reload im --table "0 16000 incmirror $SRC $DST 128 1 incremental"
run dmsetup resume im
assert_eq "$(dm_field im 2)" "124/125" "after growing 15950 -> 16000 sectors the last region is dirty"
get_dirty_all im >/tmp/gt.map
assert_eq "$(tr '\n' ' ' </tmp/gt.map)" "124 " "dirty regions after the reload"
dm_msg im start
wait_state im synced 30
[ "$(sha $SRC 0 16000)" = "$(sha $DST 0 16000)" ] ||
	fail "the legs differ over the grown table: $(dmsetup status im)"

# A shrink within the last region keeps the map: nothing becomes dirty,
# and a region dirty before stays dirty.
dm_msg im pause
dm_msg im set_dirty 3
run dmsetup reload im --table "0 15990 incmirror $SRC $DST 128 1 incremental"
run dmsetup resume im
get_dirty_all im >/tmp/gt.map
assert_eq "$(tr '\n' ' ' </tmp/gt.map)" "3 " "dirty regions after shrinking 16000 -> 15990 sectors"
dm_msg im start
wait_state im synced 30
[ "$(sha $SRC 0 15990)" = "$(sha $DST 0 15990)" ] || fail "the legs differ after the shrink"
run dmsetup remove im
