#!/bin/sh
# DESCRIPTION: set_dirty/set_dirty_hex on regions being copied leave them dirty after their copy completes (rule 3), single bits and long ranges alike
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
ram_devices 2 32
random_fill $SRC
SZ=$(dev_sectors $SRC)
# Destination writes take 2 s: the copies stay in flight long enough to be
# marked dirty again while they run.
DST=$(dm_create slowdst "0 $SZ delay /dev/ram1 0 0 /dev/ram1 0 2000")

# 64 KiB regions, 512 of them; a full mirror at the default depth of 16
# jobs of 16 regions: regions 0-255 are copied first, all at once.
DEV=$(dm_create im "$(incmirror_table $SRC "$DST" 128)")
wait_cond 30 "256 regions in flight" '[ "$(dm_field im 8)" = 256 ]'
dm_msg im pause
# While they are in flight: every even region of 0-127 bit by bit (a short
# range each: looked up one by one), 128-511 as one range (longer than the
# list of regions being copied: found by walking it).
dm_msg im set_dirty_hex 0 55555555555555555555555555555555
dm_msg im set_dirty 128-511
[ "$(dm_field im 8)" = 256 ] ||
	fail "the copies ended before the messages ($(dmsetup status im)): nothing was tested"
wait_cond 30 "the copies in flight to end" '[ "$(dm_field im 8)" = 0 ]'

# The odd regions of 0-127 were copied and are clean; the others were
# marked while being copied (or never copied) and must still be dirty.
i=0
: >/tmp/sdc.want
while [ $i -lt 128 ]; do
	echo $i >>/tmp/sdc.want
	i=$((i + 2))
done
echo 128-511 >>/tmp/sdc.want
get_dirty_all im >/tmp/sdc.got
ranges_norm </tmp/sdc.got >/tmp/sdc.gotn
cmp /tmp/sdc.want /tmp/sdc.gotn ||
	{ diff /tmp/sdc.want /tmp/sdc.gotn | head -20; fail "dirty map after copies marked dirty while in flight"; }

dm_msg im max_copy_rate 0
dm_swap slowdst "0 $SZ linear /dev/ram1 0"
dm_msg im start
wait_state im synced 60
same_regions $SRC /dev/ram1 128
rm -f /tmp/sdc.*
