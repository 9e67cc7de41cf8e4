#!/bin/sh
# DESCRIPTION: incremental mode copies exactly the regions marked dirty; clean regions keep the destination's data
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

# 16 MiB devices, 64 KiB (128-sector) regions: 256 regions.
ram_devices 2 16
SRC=/dev/ram0
DST=/dev/ram1
SZ=$(dev_sectors $SRC)
RB=65536

dd_ if=/dev/urandom of=$SRC bs=1M count=16 oflag=direct
fill $DST 5a

DEV=$(dm_create im "0 $SZ incmirror $SRC $DST 128 1 incremental")
[ "$(dm_field im 1)" = loading ] || fail "state '$(dm_field im 1)', expected loading"
[ "$(dm_field im 2)" = "256/256" ] || fail "in_sync $(dm_field im 2), expected 256/256"

# Nothing is copied before `start`.
[ "$(dm_field im 5)" = 0 ] || fail "copied before start"

# Dirty set: ranges, and the hex form at a first region that is not a
# multiple of 8 (0x05 at 100 -> regions 100 and 102; 0x80 in the next byte -> 115).
run dmsetup message im 0 set_dirty 3 10-12 255
run dmsetup message im 0 set_dirty_hex 100 0580
got=$(dmsetup message im 0 get_dirty)
[ "$got" = "3 10-12 100 102 115 255" ] || fail "get_dirty '$got'"
[ "$(dm_field im 2)" = "248/256" ] || fail "in_sync $(dm_field im 2)"

# A write while loading goes to both devices: region 50 stays clean and
# must not be copied, yet the destination must hold the new data.
dd_ if=/dev/urandom of="$DEV" bs=64k count=1 seek=50 oflag=direct

# Expected destination: the marker, with the dirty regions and region 50
# taken from the source.
drop_caches
run cp $DST /tmp/expect
for r in 3 10 11 12 100 102 115 255 50; do
	dd_ if=$SRC of=/tmp/expect bs=$RB skip=$r seek=$r count=1 conv=notrunc
done

run dmsetup message im 0 start
wait_state im synced 120
[ "$(dm_field im 2)" = "256/256" ] || fail "in_sync $(dm_field im 2) after sync"
[ "$(dm_field im 5)" = $((8 * 128)) ] ||
	fail "copied_sectors $(dm_field im 5), expected $((8 * 128))"
[ -z "$(dmsetup message im 0 get_dirty)" ] || fail "regions still dirty"

drop_caches
cmp /tmp/expect $DST || fail "destination differs from expected (clean regions overwritten or dirty ones not copied)"
# And an untouched clean region really still holds the marker.
[ "$(sha $DST 256 128)" = "$(sha /tmp/expect 256 128)" ] || fail "region 2"
[ "$(sha $DST 256 128)" != "$(sha $SRC 256 128)" ] || fail "region 2 was copied"

run dmsetup remove im
exit 0
