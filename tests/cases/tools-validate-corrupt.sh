#!/bin/sh
# DESCRIPTION: incmirror-validate fails (exit 1) when the destination silently corrupts what it is written (dm-flakey corrupt_bio_byte on writes), although the mirror reports synced
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 180
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT
export INCMIRROR_FIO_DIR="$INCMIRROR_TESTS/fio"

ram_devices 2 32
SZ=$(dev_sectors /dev/ram1)
# Always "down" (up 0 s): byte 1 of every write bio becomes 0, reads pass.
DST=$(dm_create imflaky "0 $SZ flakey /dev/ram1 0 0 3600 5 corrupt_bio_byte 1 w 0 0")
incmirror-validate --yes --size 16M --runtime 2 /dev/ram0 "$DST" >/tmp/v.out 2>&1
rc=$?
cat /tmp/v.out
assert_eq "$rc" 1 "exit status with a corrupting destination"
grep -q '^incmirror-validate: FAILED: ' /tmp/v.out || fail "no FAILED verdict"
# The target could not notice (writes succeeded): it was synced without errors,
# so the verdict comes from comparing the devices.
grep -q 'phase 2: fio verify passed (.*); mirror synced, no destination error' /tmp/v.out ||
	info "note: fio itself saw the corruption (the source shared a corrupted page)"
grep -qE 'FAILED: (/dev/ram0 and /dev/mapper/imflaky differ: first at byte|fio verify)' /tmp/v.out ||
	fail "the verdict does not say the data differ"
assert_eq "$(dmsetup ls | grep -c imv-)" 0 "device-mapper devices left behind"
