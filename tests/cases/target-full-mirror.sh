#!/bin/sh
# DESCRIPTION: full mirror copies every region, mirrors writes made during the copy, ends synced with identical devices
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

# 16 MiB devices, 64 KiB regions: 256 regions.
ram_devices 2 16
SRC=/dev/ram0
DST=/dev/ram1
SZ=$(dev_sectors $SRC)

dd_ if=/dev/urandom of=$SRC bs=1M count=16 oflag=direct
fill $DST 5a

# Slow copier so that the writes below land while copying is under way.
DEV=$(dm_create im "0 $SZ incmirror $SRC $DST 128 2 max_copy_rate 1024")
[ "$(dm_field im 2)" != "256/256" ] || fail "fresh full mirror claims to be in sync"
state=$(dm_field im 1)
[ "$state" = copying ] || fail "state '$state', expected copying"

# Writes through the mirror while copying: 4 KiB inside a region, 192 KiB
# over three regions (split per region), and one followed by a flush.
dd_ if=/dev/urandom of=/tmp/w1 bs=4k count=1
dd_ if=/dev/urandom of=/tmp/w2 bs=64k count=3
dd_ if=/tmp/w1 of="$DEV" bs=4k seek=15 oflag=direct
dd_ if=/tmp/w2 of="$DEV" bs=64k seek=200 oflag=direct
dd_ if=/tmp/w1 of="$DEV" bs=4k seek=4095 oflag=direct conv=fsync
# O_DIRECT|O_SYNC on a block device gives FUA writes.
command -v fio >/dev/null || fail "fio missing from the guest"
fio --name=fua --filename="$DEV" --rw=randwrite --bs=4k --size=1M \
	--offset=8M --direct=1 --sync=1 --randrepeat=0 >/tmp/fio.out 2>&1 ||
	fail "fio FUA writes: $(cat /tmp/fio.out)"

run dmsetup message im 0 max_copy_rate 0
wait_state im synced 120

[ "$(dm_field im 2)" = "256/256" ] || fail "synced but in_sync is $(dm_field im 2)"
[ "$(dm_field im 4)" = 0 ] || fail "destination errors: $(dm_field im 4)"
# Every region was copied, once: a write never makes a dirty region clean (it
# waits for a copy running on it, and a region not yet copied stays dirty;
# regions 200-202, written whole, too), a region is copied again only when
# a copy fails, and none did. copied_sectors is then exactly the device's
# size, and no region was sent as write-zeroes (the source is random).
assert_eq "$(dm_field im 5)" "$SZ" "copied_sectors (every one of the 256 regions copied once)"
assert_eq "$(dm_field im 13)" zeroed=0 "regions sent as write-zeroes"

drop_caches
# Reads come from the source, and what was written is there.
[ "$(sha "$DEV" 120 8)" = "$(sha256sum </tmp/w1 | cut -d' ' -f1)" ] ||
	fail "first write not read back"
[ "$(sha "$DEV" 25600 384)" = "$(sha256sum </tmp/w2 | cut -d' ' -f1)" ] ||
	fail "second write not read back"
same "$DEV" $SRC
# The destination is an exact copy.
same $SRC $DST

# Writes after synced keep it synced and reach both devices.
dd_ if=/dev/urandom of="$DEV" bs=64k count=4 seek=17 oflag=direct
[ "$(dm_field im 1)" = synced ] || fail "write made state $(dm_field im 1)"
drop_caches
same $SRC $DST

run dmsetup remove im
exit 0
