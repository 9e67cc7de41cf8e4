#!/bin/sh
# DESCRIPTION: incmirror-lvm refuses what it cannot handle before changing anything, --dry-run changes nothing, finish before synced is refused, abort mid-copy and abort after a start killed at each step put the mounted LV back exactly as it was
# CHECK-KERNEL: full (only in make check-full, on both kernels: make check's 15 minutes)
# TIMEOUT: 600
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-lvm >/dev/null || fail "incmirror-lvm not in PATH"
modprobe dm-zero 2>/dev/null

VG=imlvma
MNT=/tmp/mnt
cleanup() {
	umount $MNT 2>/dev/null
	umount /tmp/mnt2 2>/dev/null
	lvm_teardown $VG /dev/ram0
}
ram_devices 2 200
trap cleanup EXIT
lvm_vg $VG /dev/ram0
run lvcreate -q -y -L 32M -n data $VG
run lvcreate -q -y -L 32M -n dst $VG
run lvcreate -q -y -L 16M -n small $VG
run lvcreate -q -y -L 32M -n busy $VG
run lvcreate -q -y -L 32M -n other $VG
LVDEV=/dev/mapper/$VG-data
SZ=$(dev_sectors $LVDEV)
run mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 $LVDEV
mkdir -p $MNT /tmp/mnt2
run mount -t ext4 $LVDEV $MNT
i=0
while [ $i -lt 6 ]; do
	dd_ if=/dev/urandom of=$MNT/f$i bs=64k count=16
	i=$((i + 1))
done
sync
(cd $MNT && /usr/bin/sha256sum f*) >/tmp/files.sha
check_files() {
	(cd $MNT && /usr/bin/sha256sum -c --quiet /tmp/files.sha) || fail "$1: files differ"
}

# snapshot DIR / same_as DIR WHAT: device-mapper, LVM and the state
# directory (lvm_snapshot in guest.sh).
snapshot() { lvm_snapshot $VG "$1"; }
same_as() { lvm_same_as $VG "$1" "$2"; }
snapshot /tmp/before
DATA_TABLE=$(dmsetup table $VG-data)
DATA_NUM=$(dm_devnum $VG-data)

# refused WHAT PATTERN ARGS...: exit 3, PATTERN on stderr, nothing changed.
refused() {
	_what=$1 _pat=$2
	shift 2
	incmirror-lvm "$@" >/tmp/r.out 2>/tmp/r.err
	_rc=$?
	cat /tmp/r.out /tmp/r.err
	assert_eq "$_rc" 3 "$_what: exit status"
	grep -qE "$_pat" /tmp/r.err || fail "$_what: stderr does not match /$_pat/"
	same_as /tmp/before "$_what"
}
refused "smaller destination" 'same size' start $VG/data $VG/small
refused "smaller device" 'fewer than the' start $VG/data /dev/mapper/$VG-small
run mkfs.ext4 -q -F /dev/mapper/$VG-busy
run mount -t ext4 /dev/mapper/$VG-busy /tmp/mnt2
snapshot /tmp/before
refused "mounted destination" 'is mounted' start $VG/data $VG/busy
run umount /tmp/mnt2
sleep 300 </dev/mapper/$VG-busy &
OPID=$!
wait_cond 10 "sleep to open $VG-busy" "[ \"\$(dmsetup info -c --noheadings -o open $VG-busy | tr -d ' ')\" = 1 ]"
snapshot /tmp/before
refused "open destination" 'is open 1 times' start $VG/data $VG/busy
kill $OPID
wait $OPID 2>/dev/null
wait_cond 10 "$VG-busy to be closed" "[ \"\$(dmsetup info -c --noheadings -o open $VG-busy | tr -d ' ')\" = 0 ]"
snapshot /tmp/before
refused "region not a power of two" 'region size 12K does not fit' start $VG/data $VG/dst --region-size 12K
refused "region too small" 'region size 2K does not fit' start $VG/data $VG/dst --region-size 2K
refused "LV of itself" 'is .*itself' start $VG/data $VG/data
refused "no such LV" 'no logical volume' start $VG/nosuch $VG/dst
if lvcreate -q -y --type zero -L 32M -n zero $VG >/dev/null 2>&1; then
	snapshot /tmp/before
	refused "zero LV" 'zero segment: only linear and striped' start $VG/zero $VG/dst
	run lvremove -q -f $VG/zero
else
	info "no zero segment type here: that refusal is not tested"
fi
# A snapshot origin: its table is snapshot-origin, not linear.
if modprobe dm-snapshot 2>/dev/null && lvcreate -q -y -s -L 8M -n osnap $VG/other >/dev/null 2>&1; then
	snapshot /tmp/before
	refused "snapshot origin" 'snapshot-origin target' start $VG/other $VG/dst
	run lvremove -q -f $VG/osnap
fi
snapshot /tmp/before

# --dry-run prints the commands and changes nothing.
incmirror-lvm start $VG/data $VG/dst --max-rate 64 --dry-run >/tmp/dry.out 2>&1 || { cat /tmp/dry.out; fail "dry-run start"; }
cat /tmp/dry.out
for c in "dmsetup create $VG-data-imsrc" "dmsetup suspend $VG-data" "dmsetup load $VG-data" \
	"incmirror /dev/mapper/$VG-data-imsrc /dev/mapper/$VG-dst 128 2 max_copy_rate 64" "dmsetup resume $VG-data"; do
	grep -qF -- "$c" /tmp/dry.out || fail "dry-run does not print '$c'"
done
same_as /tmp/before "start --dry-run"

# A full mirror, paced so that it is still copying below.
run incmirror-lvm start $VG/data $VG/dst --max-rate 64
dmsetup table $VG-data | grep -q " incmirror " || fail "no mirror table"
assert_eq "$(dm_devnum $VG-data)" "$DATA_NUM" "device number while mirrored"
incmirror-lvm status $VG/data >/tmp/st || fail "status"
grep -qx 'state: copying' /tmp/st || { cat /tmp/st; fail "not copying"; }
# The filesystem stays in use: writes through the mirror.
dd_ if=/dev/urandom of=$MNT/during bs=64k count=8 conv=fsync
(cd $MNT && /usr/bin/sha256sum during) >>/tmp/files.sha
incmirror-lvm finish $VG/data >/tmp/r.out 2>/tmp/r.err
rc=$?
cat /tmp/r.err
assert_eq "$rc" 3 "finish before synced: exit status"
grep -q 'is not synced (copying' /tmp/r.err || fail "finish before synced: $(cat /tmp/r.err)"
assert_eq "$(dmsetup table $VG-data | awk '{ print $3 }')" incmirror "table after a refused finish"
lvs $VG/dst >/dev/null 2>&1 || fail "a refused finish changed the LVM metadata"
incmirror-lvm start $VG/data $VG/other >/tmp/r.out 2>/tmp/r.err
assert_eq "$?" 3 "second start: exit status"
grep -q 'already mirrored' /tmp/r.err || fail "second start: $(cat /tmp/r.err)"
# abort --dry-run changes nothing either.
snapshot /tmp/mirrored
incmirror-lvm abort $VG/data --dry-run >/tmp/dry.out 2>&1 || { cat /tmp/dry.out; fail "dry-run abort"; }
grep -qF "dmsetup load $VG-data --table" /tmp/dry.out || { cat /tmp/dry.out; fail "dry-run abort prints no load"; }
same_as /tmp/mirrored "abort --dry-run"
# Abort mid-copy: exactly as before, the data intact.
run incmirror-lvm abort $VG/data
same_as /tmp/before "abort mid-copy"
assert_eq "$(dmsetup table $VG-data)" "$DATA_TABLE" "table after abort"
check_files "after abort"

# A device destination: finish is refused, changing nothing, and says to
# end such a mirror with abort.
run incmirror-lvm start $VG/data /dev/ram1
run incmirror-lvm wait $VG/data
snapshot /tmp/mirrored
incmirror-lvm finish $VG/data >/tmp/r.out 2>/tmp/r.err
assert_eq "$?" 3 "finish onto a device: exit status"
cat /tmp/r.err
grep -q "not an LV of $VG: move its users there and end the mirror with 'incmirror-lvm abort $VG/data'" /tmp/r.err ||
	fail "finish onto a device: $(cat /tmp/r.err)"
same_as /tmp/mirrored "refused finish onto a device"
assert_eq "$(dm_field $VG-data 1)" synced "mirror after the refused finish"
run incmirror-lvm abort $VG/data
same_as /tmp/before "abort of a device mirror"

# A start killed (SIGKILL) after each step leaves a state abort cleans up.
for step in state hidden suspend load resume started; do
	INCMIRROR_LVM_TEST_DIE_AFTER=$step incmirror-lvm start $VG/data $VG/dst --max-rate 64 \
		>/tmp/k.out 2>&1
	rc=$?
	[ $rc -eq 137 ] || { cat /tmp/k.out; fail "start killed after $step: exit $rc, expected 137"; }
	[ -f /run/incmirror-lvm/$VG-data.state ] || fail "killed after $step: no state file"
	susp=$(dmsetup info $VG-data | sed -n 's/^State: *//p')
	info "killed after $step: $VG-data $susp, $(dmsetup table $VG-data | awk '{ print $3 }')"
	incmirror-lvm status $VG/data >/dev/null 2>&1
	run incmirror-lvm abort $VG/data
	same_as /tmp/before "abort after a start killed after '$step'"
done
check_files "after the killed starts"
run umount $MNT
run e2fsck -fn $LVDEV
exit 0
