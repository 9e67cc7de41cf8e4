#!/bin/sh
# DESCRIPTION: incmirror-validate refuses (exit 3) without --yes, a mounted device, a device held by another, the same device twice, a too small one, and leaves the data untouched
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
cleanup() {
	umount /tmp/mnt 2>/dev/null
	cleanup_devices
}
trap cleanup EXIT

ram_devices 3 16
random_fill /dev/ram0
random_fill /dev/ram1
random_fill /dev/ram2
s0=$(sha /dev/ram0)
s1=$(sha /dev/ram1)

# refused WHAT PATTERN ARGS...: exit 3, PATTERN on stderr, both devices unchanged.
refused() {
	_what=$1 _pat=$2
	shift 2
	incmirror-validate "$@" >/tmp/v.out 2>/tmp/v.err
	_rc=$?
	cat /tmp/v.out /tmp/v.err
	assert_eq "$_rc" 3 "$_what: exit status"
	grep -qE "$_pat" /tmp/v.err || fail "$_what: stderr does not match /$_pat/"
	assert_eq "$(sha /dev/ram0)" "$s0" "$_what: /dev/ram0 changed"
	assert_eq "$(sha /dev/ram1)" "$s1" "$_what: /dev/ram1 changed"
	assert_eq "$(dmsetup ls | grep -c imv-)" 0 "$_what: device-mapper devices left behind"
}

refused "no --yes" 'give --yes' --runtime 1 /dev/ram0 /dev/ram1
refused "same device twice" 'same device' --yes --runtime 1 /dev/ram0 /dev/ram0
refused "too small" 'fewer than the' --yes --size 32M --runtime 1 /dev/ram0 /dev/ram1
refused "not a block device" 'not a block device' --yes --runtime 1 /dev/ram0 /tmp

# A mounted destination (through its own node and through another one).
# Read-only, so that the filesystem itself writes nothing while mounted.
run mkfs.ext4 -q -F /dev/ram2 >/dev/null
s2=$(sha /dev/ram2)
mkdir -p /tmp/mnt
run mount -t ext4 -o ro /dev/ram2 /tmp/mnt
refused "mounted destination" 'is mounted \(/dev/ram2 on /tmp/mnt\)' --yes --runtime 1 /dev/ram0 /dev/ram2
mknod /tmp/ram2-alias b 1 2
refused "mounted, other node" 'is mounted' --yes --runtime 1 /tmp/ram2-alias /dev/ram1
run umount /tmp/mnt

# Held by a device-mapper device (a stacked user), and held exclusively by a
# device that is not in holders/ (an md-style claim is not reachable here;
# a mounted filesystem is the exclusive holder above).
dm_create imhold "0 $(dev_sectors /dev/ram1) linear /dev/ram1 0" >/dev/null
refused "held by dm" 'in use: held by dm-[0-9]+' --yes --runtime 1 /dev/ram0 /dev/ram1
run dmsetup remove imhold

# A device-mapper device that something has open.
dm_create imopen "0 $(dev_sectors /dev/ram1) linear /dev/ram1 0" >/dev/null
sleep 60 </dev/mapper/imopen &
OPID=$!
# The shell opens the device in the background job: wait (bounded) until it
# holds it, or the refusal below could be tested on a device nobody has open.
wait_cond 10 "the holder to open /dev/mapper/imopen" \
	'[ "$(dmsetup info -c --noheadings -o open imopen | tr -d " ")" = 1 ]'
refused "open dm device" 'is open 1 times' --yes --runtime 1 /dev/ram0 /dev/mapper/imopen
kill $OPID
wait $OPID 2>/dev/null
run dmsetup remove imopen

# Bad usage: exit 2.
incmirror-validate --yes --size 12345 /dev/ram0 /dev/ram1 >/dev/null 2>/tmp/v.err
assert_eq "$?" 2 "bad size: exit status"
grep -q 'multiple of 4 KiB' /tmp/v.err || fail "bad size: $(cat /tmp/v.err)"
incmirror-validate --yes /dev/ram0 >/dev/null 2>/tmp/v.err
assert_eq "$?" 2 "one device: exit status"
incmirror-validate --frobnicate >/dev/null 2>/tmp/v.err
assert_eq "$?" 2 "unknown option: exit status"
assert_eq "$(sha /dev/ram2)" "$s2" "the mounted device changed"
