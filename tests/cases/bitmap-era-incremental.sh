#!/bin/sh
# DESCRIPTION: dm-era tracks writes after a backup; era_invalidate's list fed by incmirror-bitmap load makes an incremental mirror copy exactly the changed regions
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-bitmap >/dev/null || fail "incmirror-bitmap not in PATH"
command -v era_invalidate >/dev/null || fail "era_invalidate not installed"
# libcrc32c (dm-persistent-data) has a soft dependency on a crc32c provider
modprobe crc32c_generic 2>/dev/null
modprobe dm-era 2>/dev/null || fail "no dm-era module (or its libcrc32c/crc32c dependency)"

# 32 MiB origin and destination, metadata on a third ramdisk; 64 KiB era
# blocks and 64 KiB (128-sector) mirror regions: 512 regions.
ram_devices 3 32
ORIG=/dev/ram0
DST=/dev/ram1
META=/dev/ram2
SZ=$(dev_sectors $ORIG)

dd if=/dev/urandom of=$ORIG bs=1M count=32 oflag=direct 2>/dev/null || fail "fill origin"
dd if=/dev/zero of=$META bs=1M count=4 oflag=direct 2>/dev/null || fail "zero metadata"
ERA=$(dm_create era0 "0 $SZ era $META $ORIG 128")

# The "backup": checkpoint, note the era, copy the whole device.
run dmsetup message era0 0 checkpoint
SINCE=$(dm_field era0 3)
info "backup at era $SINCE"
dd if="$ERA" of=$DST bs=1M iflag=direct oflag=direct 2>/dev/null || fail "backup copy"

# Changes after the backup: region 5 (4 KiB inside), regions 100-102
# (192 KiB from 6400 KiB), a write straddling regions 300/301, the last region.
dd if=/dev/urandom of="$ERA" bs=4k seek=81 count=1 oflag=direct 2>/dev/null || fail "write 1"
dd if=/dev/urandom of="$ERA" bs=64k seek=100 count=3 oflag=direct 2>/dev/null || fail "write 2"
dd if=/dev/urandom of="$ERA" bs=4k seek=$((300 * 16 + 15)) count=2 oflag=direct 2>/dev/null || fail "write 3"
dd if=/dev/urandom of="$ERA" bs=4k seek=$((512 * 16 - 1)) count=1 oflag=direct 2>/dev/null || fail "write 4"
CHANGED="5 100 101 102 300 301 511"

# The incremental step: checkpoint, metadata snapshot, era_invalidate.
run dmsetup message era0 0 checkpoint
run dmsetup message era0 0 take_metadata_snap
era_invalidate --metadata-snapshot --written-since "$SINCE" $META >/tmp/changed.xml ||
	fail "era_invalidate"
run dmsetup message era0 0 drop_metadata_snap
cat /tmp/changed.xml

TABLE=$(dmsetup table era0)
run incmirror-bitmap info --table "$TABLE" /tmp/changed.xml
got=$(incmirror-bitmap convert --table "$TABLE" --region-size 64K -O ranges /tmp/changed.xml |
	awk '{ for (i = $1 / 65536; i < ($1 + $2) / 65536; i++) printf "%d ", i }')
[ "$got" = "$CHANGED " ] || fail "era_invalidate lists regions '$got', expected '$CHANGED '"

# Mirror the era device onto the backup, only the changed regions.
DEV=$(dm_create im "0 $SZ incmirror $ERA $DST 128 1 incremental")
[ "$(dm_field im 1)" = loading ] || fail "state $(dm_field im 1), expected loading"
run incmirror-bitmap load -v --table "$TABLE" --start im /tmp/changed.xml
wait_state im synced 300
[ "$(dm_field im 2)" = "512/512" ] || fail "in_sync $(dm_field im 2)"
[ "$(dm_field im 5)" = $((7 * 128)) ] ||
	fail "copied_sectors $(dm_field im 5), expected $((7 * 128)) (only the 7 changed regions)"
run dmsetup remove im
drop_caches
cmp "$ERA" $DST || fail "destination differs from the source after sync"
run dmsetup remove era0
exit 0
