#!/bin/sh
# DESCRIPTION: the bench itself: brd, dm-linear and whole-device compare work in the guest
. "$INCMIRROR_TESTS/lib/guest.sh"

ram_devices 2 8
fill /dev/ram0 a5
lin=$(dm_create lin "0 $(dev_sectors /dev/ram0) linear /dev/ram0 0")
run dd if="$lin" of=/dev/ram1 bs=1M oflag=direct 2>/dev/null
same /dev/ram0 /dev/ram1
[ "$(sha /dev/ram1)" = "$(fillpat a5 8388608 | sha256sum | cut -d' ' -f1)" ] ||
	fail "ram1 does not hold the 0xa5 pattern"
# A difference must be seen: the comparison helper is not a no-op.
printf 'x' | dd of=/dev/ram1 bs=1 seek=4096 conv=notrunc 2>/dev/null
if cmp -s /dev/ram0 /dev/ram1; then fail "cmp missed a changed byte"; fi
run dmsetup remove lin
