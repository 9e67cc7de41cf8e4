#!/bin/sh
# DESCRIPTION: dest_zeroed onto a new thin LV (dm-thin, no write-zeroes): zero regions are not written (pool allocates only the data regions, zeroed= counts the rest), a region written through the target and then zeroed on the source is still copied (also across a reload), and without the feature every block is allocated
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

modprobe dm-thin-pool || skip "no dm-thin-pool module"
ram_devices 3 64
SZ=65536			# 32 MiB source: 512 regions of 64 KiB
SRC=$(dm_create src "0 $SZ linear /dev/ram0 0")
N=$((SZ / 128))
: >/tmp/dz.data
r=0
while [ $r -lt $N ]; do
	if [ $((r % 10)) = 3 ] || { [ $r -ge 300 ] && [ $r -lt 340 ]; }; then
		echo $r >>/tmp/dz.data
	fi
	r=$((r + 1))
done
while read -r r; do
	dd if=/dev/urandom of="$SRC" bs=64k seek="$r" count=1 oflag=direct 2>/dev/null ||
		fail "data into region $r"
done </tmp/dz.data
DATA=$(wc -l </tmp/dz.data)

# A thin pool with 64 KiB blocks (one per region) and two new thin LVs.
dm_create pool "0 $(dev_sectors /dev/ram1) thin-pool /dev/ram2 /dev/ram1 128 0" >/dev/null
dm_msg pool create_thin 0
dm_msg pool create_thin 1
A=$(dm_create thina "0 $SZ thin /dev/mapper/pool 0")
B=$(dm_create thinb "0 $SZ thin /dev/mapper/pool 1")
[ "$(cat "/sys/block/$(dm_sysname thina)/queue/write_zeroes_max_bytes")" = 0 ] ||
	info "note: this dm-thin takes write-zeroes"
used() { dmsetup status pool | awk '{ split($6, a, "/"); print a[1] }'; }

# 1. dest_zeroed: only the data regions are written.
u0=$(used)
dm_create im "$(incmirror_table "$SRC" "$A" 128 dest_zeroed)" >/dev/null
assert_eq "$(dmsetup table im | awk '{ print $7, $8 }')" "1 dest_zeroed" "dest_zeroed in the table line"
wait_state im synced 120
same_regions "$SRC" "$A" 128
assert_eq "$(dm_field im 13)" "zeroed=$((N - DATA))" "zero regions not written"
assert_eq "$(($(used) - u0))" "$DATA" "pool blocks allocated for the dest_zeroed copy"

# 2. A region written through the target may hold data on the destination:
# zeroed on the source behind the target's back and marked dirty, it must
# still be copied (as data: dm-thin takes no write-zeroes).
dd_ if=/dev/urandom of=/dev/mapper/im bs=64k seek=5 count=1 oflag=direct
dd_ if=/dev/zero of="$SRC" bs=64k seek=5 count=1 oflag=direct
dm_msg im set_dirty 5
wait_state im synced 60
same_regions "$SRC" "$A" 128

# 3. The same across a reload: what the destination may hold is taken over.
dd_ if=/dev/urandom of=/dev/mapper/im bs=64k seek=8 count=1 oflag=direct
run dmsetup reload im --table "$(dmsetup table im)"
run dmsetup resume im
dd_ if=/dev/zero of="$SRC" bs=64k seek=8 count=1 oflag=direct
dm_msg im set_dirty 8
wait_state im synced 60
if ! cmp "$SRC" "$A" >/dev/null 2>&1; then
	# What a failure here looks like, to tell the target's part from the
	# pool's: the status, and region 8 of both devices.
	info "status: $(dmsetup status im)"
	info "src region 8: $(dd if="$SRC" bs=64k skip=8 count=1 iflag=direct 2>/dev/null | sha256sum)"
	info "dst region 8: $(dd if="$A" bs=64k skip=8 count=1 iflag=direct 2>/dev/null | sha256sum)"
	dmesg | grep -a incmirror | tail -n 5 >&2
fi
same_regions "$SRC" "$A" 128
run dmsetup remove im

# 4. Without the feature every region is written: every block allocated.
u0=$(used)
dm_create im2 "$(incmirror_table "$SRC" "$B" 128)" >/dev/null
wait_state im2 synced 120
same_regions "$SRC" "$B" 128
assert_eq "$(dm_field im2 13)" zeroed=0 "zero regions without dest_zeroed (no write-zeroes on thin)"
assert_eq "$(($(used) - u0))" "$N" "pool blocks allocated without dest_zeroed"
info "$N regions, $DATA with data: dest_zeroed allocated $DATA blocks, without it $N"
