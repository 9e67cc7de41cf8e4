#!/bin/sh
# DESCRIPTION: incmirror-validate passes on two good devices (with a metadata device) and with --files, using the fio jobs of tests/fio; the devices really end identical
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 300
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT
export INCMIRROR_FIO_DIR="$INCMIRROR_TESTS/fio"

ram_devices 3 48
run dd if=/dev/zero of=/dev/ram2 bs=64k count=1 2>/dev/null

# Two ramdisks and a metadata device; 32 MiB of the 48 are used.
incmirror-validate --yes --size 32M --runtime 3 --metadata /dev/ram2 /dev/ram0 /dev/ram1 \
	>/tmp/v.out 2>&1
rc=$?
cat /tmp/v.out
assert_eq "$rc" 0 "incmirror-validate exit status on two good devices"
grep -qx 'incmirror-validate: PASSED: /dev/ram1 is an identical copy of /dev/ram0 (33554432 bytes); fio verify passed during the copy and after sync' /tmp/v.out ||
	fail "no PASSED verdict for /dev/ram1, /dev/ram0, 32 MiB"
grep -q 'phase 1: fio verify passed (.*); mirror copying before fio, copying after' /tmp/v.out ||
	fail "fio did not run during the background copy"
grep -q 'phase 2: fio verify passed ([0-9]* runs, [0-9]* MiB written and [0-9]* MiB read back); mirror synced' /tmp/v.out || fail "no fio run after sync"
# The table the mirror ran with (its line, not the banner, which names the
# metadata device whatever the table).
grep -qE '^incmirror-validate: mirror [^ ]+: 0 65536 incmirror /dev/ram0 /dev/ram1 [0-9]+ [0-9]+ .* metadata /dev/ram2$' /tmp/v.out ||
	fail "the table did not use the metadata device"
# Independently: what the tool compared is identical, and it left nothing behind.
drop_caches /dev/ram0 /dev/ram1
a=$(dd if=/dev/ram0 bs=1M count=32 2>/dev/null | sha256sum | cut -d' ' -f1)
b=$(dd if=/dev/ram1 bs=1M count=32 2>/dev/null | sha256sum | cut -d' ' -f1)
assert_eq "$b" "$a" "sha256 of the first 32 MiB of destination and source"
[ "$a" != "$(head -c 33554432 /dev/zero | sha256sum | cut -d' ' -f1)" ] || fail "the source was never written"
assert_eq "$(dmsetup ls | grep -c imv-)" 0 "device-mapper devices left behind"
od -An -c -N4 /dev/ram2 | grep -q 'I   M   M   R' || fail "no incmirror superblock on the metadata device"

# --files: loop files it creates and removes; no --yes needed.
mkdir -p /tmp/vf
incmirror-validate --files /tmp/vf --size 16M --runtime 2 >/tmp/v2.out 2>&1
rc=$?
cat /tmp/v2.out
assert_eq "$rc" 0 "incmirror-validate --files exit status"
grep -q '^incmirror-validate: PASSED: ' /tmp/v2.out || fail "no PASSED verdict with --files"
assert_eq "$(ls /tmp/vf | wc -l | tr -d ' ')" 0 "files left in /tmp/vf"
assert_eq "$(/usr/sbin/losetup -a | wc -l | tr -d ' ')" 0 "loop devices left attached"
