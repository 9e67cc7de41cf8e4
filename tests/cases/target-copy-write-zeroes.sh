#!/bin/sh
# DESCRIPTION: sparse-aware copy: regions of the source that read as zeroes reach a destination that takes write-zeroes (loop on tmpfs, prefilled with garbage) as write-zeroes (the file stays sparse, status zeroed= counts them) and as data where it does not (brd); the legs end identical
# TIMEOUT: 180
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

ram_devices 2 32
SZ=$(dev_sectors /dev/ram0)
N=$((SZ / 128))
# The source: zeroes, with data in every 10th region and in regions 300-339.
: >/tmp/wz.data
r=0
while [ $r -lt $N ]; do
	if [ $((r % 10)) = 3 ] || { [ $r -ge 300 ] && [ $r -lt 340 ]; }; then
		echo $r >>/tmp/wz.data
	fi
	r=$((r + 1))
done
while read -r r; do
	dd if=/dev/urandom of=/dev/ram0 bs=64k seek="$r" count=1 oflag=direct 2>/dev/null ||
		fail "data into region $r"
done </tmp/wz.data
DATA=$(wc -l </tmp/wz.data)

# The destination: a loop file on tmpfs full of garbage, so that a region
# not really zeroed shows in cmp.
fillpat 5a $((SZ * 512)) >/tmp/wz.img
DST=$(loop_attach /tmp/wz.img)
wz=$(cat "/sys/block/$(basename "$DST")/queue/write_zeroes_max_bytes")
[ "$wz" -gt 0 ] || fail "the loop device takes no write-zeroes (write_zeroes_max_bytes $wz)"
kib0=$(du -k /tmp/wz.img | cut -f1)

dm_create im "$(incmirror_table /dev/ram0 "$DST" 128)" >/dev/null
wait_state im synced 120
same_regions /dev/ram0 "$DST" 128
assert_eq "$(dm_field im 13)" "zeroed=$((N - DATA))" "regions copied as write-zeroes"
kib=$(du -k /tmp/wz.img | cut -f1)
info "$N regions, $DATA with data: backing file $kib0 KiB before, $kib KiB after"
# The data regions stay allocated (64 KiB each), every zero region is a hole.
[ "$kib" -ge $((DATA * 64)) ] && [ "$kib" -le $((DATA * 64 + 256)) ] ||
	fail "backing file holds $kib KiB, want about $((DATA * 64)) (data only)"
dmsetup remove im || fail remove

# brd takes no write-zeroes: the same source is copied as data.
[ "$(cat /sys/block/ram1/queue/write_zeroes_max_bytes)" = 0 ] ||
	fail "brd takes write-zeroes now: this part tests nothing"
fill /dev/ram1 5a
dm_create im2 "$(incmirror_table /dev/ram0 /dev/ram1 128)" >/dev/null
wait_state im2 synced 120
same_regions /dev/ram0 /dev/ram1 128
assert_eq "$(dm_field im2 13)" zeroed=0 "regions copied as write-zeroes to brd"
