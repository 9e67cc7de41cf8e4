#!/bin/sh
# DESCRIPTION: incmirror-validate --bitmap: an incremental mirror from a complete change list passes, one that misses a changed MiB fails naming where
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT
export INCMIRROR_FIO_DIR="$INCMIRROR_TESTS/fio"

# 256 MiB: fio (1 s a phase, a few 10 MiB) writes a fraction of its 65536
# blocks, so that it cannot overwrite all of the missed MiB on both legs and
# hide it. Source and "backup" start as zeroes (brd reads unwritten pages as
# zero); then 3 MiB change on the source.
ram_devices 2 256
for mib in 3 17 30; do
	dd_ if=/dev/urandom of=/dev/ram0 bs=1M seek=$mib count=1 oflag=direct conv=notrunc
done
printf '3M 1M\n17M 1M\n30M 1M\n' >/tmp/changed.txt
printf '3M 1M\n30M 1M\n' >/tmp/incomplete.txt

incmirror-validate --yes --runtime 1 --bitmap /tmp/changed.txt /dev/ram0 /dev/ram1 >/tmp/v.out 2>&1
rc=$?
cat /tmp/v.out
assert_eq "$rc" 0 "exit status with the complete change list"
grep -q 'bitmap loaded: 48 of 4096 regions to copy' /tmp/v.out || fail "not an incremental copy of 48 regions"
grep -q '^incmirror-validate: PASSED: ' /tmp/v.out || fail "no PASSED verdict"

# Again, the source changes where the list does not say so (17M..18M).
dd_ if=/dev/urandom of=/dev/ram0 bs=1M seek=3 count=1 oflag=direct conv=notrunc
dd_ if=/dev/urandom of=/dev/ram0 bs=1M seek=17 count=1 oflag=direct conv=notrunc
incmirror-validate --yes --runtime 1 --bitmap /tmp/incomplete.txt /dev/ram0 /dev/ram1 >/tmp/v.out 2>&1
rc=$?
cat /tmp/v.out
assert_eq "$rc" 1 "exit status with a change list that misses a changed MiB"
grep -qE '^incmirror-validate: FAILED: /dev/ram0 and /dev/ram1 differ: first at byte [0-9]+ \(region (27[2-9]|28[0-7])\)' /tmp/v.out ||
	fail "the verdict does not name the missed regions 272-287"
assert_eq "$(dmsetup ls | grep -c imv-)" 0 "device-mapper devices left behind"
