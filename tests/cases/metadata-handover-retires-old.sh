#!/bin/sh
# DESCRIPTION: metadata: a reload onto another metadata device marks the old one stale, so the old table line later copies everything instead of loading a frozen map as current
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 4 16
random_fill $SRC
dd_ if=$SRC of=$DST bs=1M oflag=direct
M0=$(dm_create meta0 "0 64 linear /dev/ram2 0")
M1=$(dm_create meta1 "0 64 linear /dev/ram3 0")
zero_dev "$M0"
zero_dev "$M1"

T0=$(incmirror_table $SRC $DST 128 incremental metadata "$M0")
T1=$(incmirror_table $SRC $DST 128 incremental metadata "$M1")
dm_create im "$T0" >/dev/null
dm_msg im start
wait_state im synced 30

# Hand over to meta1; the old device must no longer claim a current map.
run dmsetup reload im --table "$T1"
run dmsetup resume im
flags=$(meta_flags "$M0")
[ $((flags & 4)) = 4 ] || fail "old metadata not marked NEEDS_FULL_COPY after the hand-over (flags $flags)"
[ $((flags & 1)) = 0 ] || fail "old metadata still CLEAN after the hand-over (flags $flags)"

# The legs then differ in region 7, which only meta1 records.
dm_msg im pause
dd_ if=/dev/urandom of=$SRC bs=64k seek=7 count=1 oflag=direct
dm_msg im set_dirty 7
meta_dirty "$M1" | grep -qx 7 || fail "region 7 not dirty on the current metadata"
run dmsetup remove im

# The old table line again: its metadata is stale, so everything is copied.
# (It was started: the copy runs at once.)
dm_create im "$T0" >/dev/null
wait_state im synced 60
info "status with the old metadata: $(dmsetup status im)"
assert_eq "$(dm_field im 5)" "$(dev_sectors $SRC)" "sectors copied after loading the replaced metadata"
same_regions $SRC $DST 128
run dmsetup remove im
