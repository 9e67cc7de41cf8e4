#!/bin/sh
# DESCRIPTION: metadata: a destination flush that fails in the clear pass or at suspend counts as a destination error and leaves the regions written since the last good flush dirty in core and on disk
# TIMEOUT: 90
. "$INCMIRROR_TESTS/lib/guest.sh"
cleanup() {
	cleanup_devices
	rm -f /tmp/ff.*
}
trap cleanup EXIT

SRC=/dev/ram0
ram_devices 2 8
SZ=$(dev_sectors $SRC)
# The destination needs a write cache for a flush to reach it at all (brd
# has none: the block layer completes the flush at once): a loop device
# over a tmpfs file, under a dm device whose table is swapped for dm-flakey
# failing every write, and so every flush, while the mirror is idle.
truncate -s 8M /tmp/ff.dst || fail "truncate"
LD=$(loop_attach /tmp/ff.dst)
GOOD="0 $SZ linear $LD 0"
BAD="0 $SZ flakey $LD 0 0 3600 1 error_writes"
random_fill $SRC
dd_ if=$SRC of="$LD" bs=1M oflag=direct
DST=$(dm_create ffdst "$GOOD")
META=$(dm_create ffmeta "0 64 linear /dev/ram1 0")
zero_dev "$META"
DEV=$(dm_create im "$(incmirror_table $SRC "$DST" 128 incremental metadata "$META")")
dm_msg im start
wait_state im synced 30

# 1. Clear pass. Regions 10-11 are written, their bits are on disk; the
# copier is paused so that the map shows exactly what was marked dirty.
dd_ if=/dev/urandom of="$DEV" bs=64k seek=10 count=2 oflag=direct
printf '10-11\n' >/tmp/ff.want
meta_dirty "$META" >/tmp/ff.disk
assert_subset /tmp/ff.want /tmp/ff.disk "bits of the written regions on disk"
dm_msg im pause
dm_swap ffdst "$BAD"
# The next clear pass (at most 5 s away) flushes the destination and fails.
wait_cond 20 "a destination error from the failed flush of the clear pass" \
	'[ "$(dm_field im 4)" -ge 1 ]'
get_dirty_all im >/tmp/ff.map
assert_subset /tmp/ff.want /tmp/ff.map "regions dirty in core after the failed flush"
meta_dirty "$META" >/tmp/ff.disk
assert_subset /tmp/ff.map /tmp/ff.disk "dirty regions on disk after the failed flush"
info "after the failed clear pass: $(dmsetup status im)"

dm_swap ffdst "$GOOD"
dm_msg im start
wait_state im synced 30
same_regions $SRC "$LD" 128

# 2. Suspend. Region 20 is written, then the destination fails and the
# mirror is suspended: its clean-shutdown flush fails.
errs=$(dm_field im 4)
dm_msg im pause
dd_ if=/dev/urandom of="$DEV" bs=64k seek=20 count=1 oflag=direct
dm_swap ffdst "$BAD"
run dmsetup suspend im
run dmsetup resume im
[ "$(dm_field im 4)" -gt "$errs" ] ||
	fail "dest_errors still $errs after a failed flush at suspend ($(dmsetup status im))"
printf '20\n' >/tmp/ff.want
get_dirty_all im >/tmp/ff.map
assert_subset /tmp/ff.want /tmp/ff.map "region dirty in core after the failed flush at suspend"
meta_dirty "$META" >/tmp/ff.disk
assert_subset /tmp/ff.map /tmp/ff.disk "dirty regions on disk after the failed flush at suspend"

dm_swap ffdst "$GOOD"
dm_msg im start
wait_state im synced 30
same_regions $SRC "$LD" 128
run dmsetup remove im
