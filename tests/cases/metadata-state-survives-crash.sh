#!/bin/sh
# DESCRIPTION: metadata: paused and degraded are on the metadata device when they happen, so a crash there comes back paused or degraded (not copying or synced); start leaves them
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 3 16
random_fill $SRC
dd_ if=$SRC of=$DST bs=1M oflag=direct
M=$(dm_create meta "0 64 linear /dev/ram2 0")
zero_dev "$M"
dm_create dst "0 $(dev_sectors $DST) linear $DST 0" >/dev/null
T=$(incmirror_table $SRC /dev/mapper/dst 128 incremental error_threshold 1 metadata "$M")

# crash_image: what the metadata device holds at this moment is what a
# power cut leaves (its writes are FUA); put it back after the remove.
crash_image() {
	dd_ if="$M" of=/tmp/sc.meta bs=4k iflag=direct
}
crash_restore() {
	dd_ if=/tmp/sc.meta of="$M" bs=4k oflag=direct
}

# paused
dm_create im "$T" >/dev/null
dm_msg im start
wait_state im synced 30
dd_ if=/dev/urandom of=$SRC bs=64k seek=9 count=1 oflag=direct
dm_msg im pause
dm_msg im set_dirty 9
crash_image
run dmsetup remove im
crash_restore
dm_create im "$T" >/dev/null
assert_eq "$(dm_field im 1)" paused "state after a crash while paused"
assert_eq "$(dm_field im 5)" 0 "sectors copied after a crash while paused"
dm_msg im start
wait_state im synced 30
same_regions $SRC $DST 128
[ $(($(meta_flags "$M") & 16)) = 0 ] || fail "PAUSED still on disk after start"

# degraded: the destination fails; the flag reaches the disk by itself.
dm_swap dst "0 $(dev_sectors $DST) error"
dd_ if=/dev/urandom of=/dev/mapper/im bs=64k seek=20 count=1 oflag=direct
wait_state im degraded 10
wait_cond 10 "DEGRADED on the metadata device" '[ $(($(meta_flags "$M") & 8)) = 8 ]'
crash_image
dm_swap dst "0 $(dev_sectors $DST) linear $DST 0"
run dmsetup remove im
crash_restore
dm_create im "$T" >/dev/null
assert_eq "$(dm_field im 1)" degraded "state after a crash while degraded"
dm_msg im start
wait_state im synced 30
same_regions $SRC $DST 128
[ $(($(meta_flags "$M") & 8)) = 0 ] || fail "DEGRADED still on disk after start"
run dmsetup remove im
