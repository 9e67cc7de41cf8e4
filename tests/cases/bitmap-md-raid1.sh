#!/bin/sh
# DESCRIPTION: a real md raid1 write-intent bitmap (member degraded, then written) loaded by incmirror-bitmap resyncs the stale member with only the dirty chunks
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-bitmap >/dev/null || fail "incmirror-bitmap not in PATH"
command -v mdadm >/dev/null || fail "mdadm not installed"
modprobe raid1 2>/dev/null || fail "no raid1 module"

cleanup() {
	mdadm --stop /dev/md0 >/dev/null 2>&1
	dmsetup remove_all >/dev/null 2>&1
}

ram_devices 2 40
# Identical members before the array exists, so that no write through md
# (whose bits md clears only lazily) precedes the degradation.
dd if=/dev/urandom of=/dev/ram0 bs=1M count=40 oflag=direct 2>/dev/null || fail "fill ram0"
dd if=/dev/ram0 of=/dev/ram1 bs=1M iflag=direct oflag=direct 2>/dev/null || fail "copy ram0"
[ -b /dev/md0 ] || mknod /dev/md0 b 9 0
mdadm --create /dev/md0 --run --quiet --level=1 --raid-devices=2 --metadata=1.2 \
	--bitmap=internal --bitmap-chunk=64 --assume-clean /dev/ram0 /dev/ram1 ||
	fail "mdadm --create failed"
trap cleanup EXIT
ASZ=$(dev_sectors /dev/md0)
info "array of $ASZ sectors"

# Degrade: ram1 leaves; writes afterwards set bits that md does not clear.
run mdadm /dev/md0 --fail /dev/ram1
run mdadm /dev/md0 --remove /dev/ram1
dd if=/dev/urandom of=/dev/md0 bs=4k seek=3 count=1 oflag=direct 2>/dev/null || fail "write 1"
dd if=/dev/urandom of=/dev/md0 bs=64k seek=200 count=4 oflag=direct 2>/dev/null || fail "write 2"
dd if=/dev/urandom of=/dev/md0 bs=4k seek=$((400 * 16 + 15)) count=2 oflag=direct 2>/dev/null || fail "write 3"
CHANGED="0 200 201 202 203 400 401"
run mdadm --stop /dev/md0
drop_caches

DOFF=$(mdadm -E /dev/ram0 | awk '/Data Offset/ { print $4 }')
[ -n "$DOFF" ] || fail "no data offset in mdadm -E"
mdadm -X /dev/ram0
run incmirror-bitmap info /dev/ram0
got=$(incmirror-bitmap convert --region-size 64K -O ranges /dev/ram0 |
	awk '{ for (i = $1 / 65536; i < ($1 + $2) / 65536; i++) printf "%d ", i }')
[ "$got" = "$CHANGED " ] || fail "md bitmap gives regions '$got', expected '$CHANGED '"
[ "$(mdadm -X /dev/ram0 | sed -n 's/.* bits (chunks), \([0-9]*\) dirty.*/\1/p')" = 7 ] ||
	fail "mdadm -X does not count 7 dirty chunks"

# Mirror the good member's data area onto the stale one's.
SRC=$(dm_create srcl "0 $ASZ linear /dev/ram0 $DOFF")
DST=$(dm_create dstl "0 $ASZ linear /dev/ram1 $DOFF")
cmp -s "$SRC" "$DST" && fail "members already identical: nothing was degraded"
DEV=$(dm_create im "0 $ASZ incmirror $SRC $DST 128 1 incremental")
run incmirror-bitmap load -v --start im /dev/ram0
wait_state im synced 300
[ "$(dm_field im 5)" = $((7 * 128)) ] ||
	fail "copied_sectors $(dm_field im 5), expected $((7 * 128))"
run dmsetup remove im
drop_caches
cmp "$SRC" "$DST" || fail "members differ after the incremental resync"
exit 0
