#!/bin/sh
# DESCRIPTION: a reload with another region size or a longer table rescales the handed-over map (dirty where any old region was), ends identical
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 32
random_fill $SRC
dd_ if=$SRC of=$DST bs=1M oflag=direct
# Scattered changes: 64 KiB at every 1 MiB, plus 16 MiB..20 MiB.
i=0
while [ $i -lt 32 ]; do
	dd_ if=/dev/urandom of=$SRC bs=64k count=1 seek=$((i * 16 + 3)) oflag=direct
	i=$((i + 1))
done
dd_ if=/dev/urandom of=$SRC bs=1M seek=16 count=4 oflag=direct

# Half the device as the first table, 64 KiB regions.
HALF=$(( $(dev_sectors $SRC) / 2 ))
# 256 KiB/s: the 1 MiB of dirty regions takes 4 s to copy, so the pause
# below lands with most of it left, also on a loaded host (at 1024 KiB/s the
# copy sometimes ended before the pause and left nothing to hand over).
dmsetup create im --table "0 $HALF incmirror $SRC $DST 128 3 incremental max_copy_rate 256" ||
	fail "create"
dmsetup mknodes im
r=0
while [ $r -lt 16 ]; do
	dm_msg im set_dirty $((r * 16 + 3))
	r=$((r + 1))
done
dm_msg im start
wait_cond 30 "some copy progress" '[ "$(dm_field im 5)" -ge 128 ]'
# Paused (copies in flight drained): the map stays still across the reload.
dm_msg im pause
wait_field im 8 0 30
get_dirty_all im >/tmp/rs.old
[ -s /tmp/rs.old ] || fail "nothing left to hand over"

# Reload: 256 KiB regions, whole device. The second half was never mirrored
# by the old table: it must come out dirty.
run dmsetup reload im --table "0 $(dev_sectors $SRC) incmirror $SRC $DST 512 3 incremental max_copy_rate 2048"
run dmsetup resume im
[ "$(dm_field im 3)" = 512 ] || fail "region size after the reload: $(dm_field im 3)"
get_dirty_all im >/tmp/rs.map
dirty=$(ranges_count </tmp/rs.map)
# At least the second half: regions 64-127 of 256 KiB.
[ "$dirty" -ge 64 ] || fail "only $dirty regions dirty after a reload that doubled the length"
awk 'BEGIN{f=1} { n = split($1, p, "-"); if (p[1] <= 64 && ((n == 2) ? p[2] : p[1]) >= 127) f = 0 } END { exit f }' /tmp/rs.map ||
	fail "second half not dirty after the reload: $(tr '\n' ' ' </tmp/rs.map)"
# Every 64 KiB region dirty before is inside a dirty 256 KiB region now.
assert_eq "$(dm_field im 1)" paused "state after reloading a paused mirror"
for r in $(ranges_expand </tmp/rs.old); do
	n=$((r / 4))
	awk -v n=$n '{ k = split($1, p, "-"); a = p[1]; b = (k == 2) ? p[2] : a; if (n >= a && n <= b) f = 1 } END { exit !f }' /tmp/rs.map ||
		fail "old region $r was dirty, new region $n is not: $(tr '\n' ' ' </tmp/rs.map)"
done
# The second half's changes are only covered by the tail marking.
dm_msg im max_copy_rate 0
dm_msg im start
wait_state im synced 120
same_regions $SRC $DST 512
run dmsetup remove im
