#!/bin/sh
# DESCRIPTION: incmirror-lvm moves a striped LV (2 stripes over 2 PVs) onto a linear LV and then onto a striped LV: the device keeps its name and number, writes during the copy reach both legs, after finish the LV has the destination's segments and extents in LVM metadata, its old extents are free, and vgchange -an/-ay brings back the same data
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 300
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-lvm >/dev/null || fail "incmirror-lvm not in PATH"

VG=imlvms
LVDEV=/dev/mapper/$VG-data
ram_devices 2 64
trap 'lvm_teardown $VG /dev/ram0 /dev/ram1' EXIT
lvm_vg $VG /dev/ram0 /dev/ram1
# data: 16 MiB in 2 stripes of 64 KiB chunks, one on each PV; dst: linear.
run lvcreate -q -y -i 2 -I 64k -L 16M -n data $VG
run lvcreate -q -y -L 16M -n dst $VG
SZ=$(dev_sectors $LVDEV)
TOTAL=$((SZ / 128))
random_fill $LVDEV
# /tmp/expect: what the LV must hold; every write the case makes goes there too.
dd_ if=$LVDEV of=/tmp/expect bs=1M iflag=direct
DATA_NUM=$(dm_devnum $VG-data)

# lv_segs LV: segment type and devices of VG/LV, as LVM reports them.
lv_segs() {
	lvs --noheadings --segments -o segtype,devices "$VG/$1" | awk '{ $1 = $1; print }'
}
# write_lv BLOCK BYTE: 4 KiB of BYTE at 4 KiB block BLOCK through the LV
# with O_DIRECT, and into /tmp/expect.
write_lv() {
	write_block $LVDEV "$1" "$2" /tmp/expect
}
# on_leg DEV BLOCK: the leg DEV holds /tmp/pat at 4 KiB block BLOCK.
on_leg() {
	/usr/bin/dd if="$1" of=/tmp/leg bs=4096 skip="$2" count=1 iflag=direct 2>/tmp/dd.err ||
		fail "read $1: $(cat /tmp/dd.err)"
	cmp -s /tmp/leg /tmp/pat || fail "$1 does not hold the write at 4 KiB block $2"
}
EXPECT=$(sha256sum </tmp/expect | cut -d' ' -f1)
# migrate DEST WHAT: start (paced full mirror), writes during the copy,
# wait, finish, and everything checked after finish and after
# vgchange -an/-ay.
migrate() {
	_dst=$1 _what=$2
	_table=$(dmsetup table $VG-data)
	_dtable=$(dmsetup table $VG-$_dst)
	_dsegs=$(lv_segs "$_dst")
	_old=$(lvs --noheadings --segments -o seg_pe_ranges $VG/data)
	info "$_what: data ($(lv_segs data)) onto $_dst ($_dsegs)"
	run incmirror-lvm start $VG/data $VG/$_dst --max-rate 64
	# The same device, now the mirror over the hidden device that has its
	# old table.
	assert_eq "$(dm_devnum $VG-data)" "$DATA_NUM" "$_what: device number while mirrored"
	assert_eq "$(dmsetup table $VG-data)" \
		"0 $SZ incmirror $(dm_devnum $VG-data-imsrc) $(dm_devnum $VG-$_dst) 128 2 max_copy_rate 64" \
		"$_what: table of $VG-data while mirrored"
	assert_eq "$(dmsetup table $VG-data-imsrc)" "$_table" "$_what: table of the hidden device"
	# Let the copier copy a first job, then hold it (pause): a clean
	# region and a dirty one stay so while the case writes to both.
	wait_cond 60 "a first region copied" "[ \"\$(in_sync $VG-data)\" -ge 1 ]"
	dm_msg $VG-data pause
	get_dirty_all $VG-data >/tmp/dirty
	_clean=$(ranges_expand </tmp/dirty | awk -v t="$TOTAL" '{ d[$1] = 1 } END { for (r = 0; r < t; r++) if (!(r in d)) { print r; exit } }')
	_last=$((TOTAL - 1))
	[ -n "$_clean" ] || fail "$_what: no region copied"
	ranges_expand </tmp/dirty | grep -qx "$_last" || fail "$_what: the last region is not dirty"
	assert_eq "$(dm_field $VG-data 1)" paused "$_what: state while held"
	# A write into the copied region and one into the last, not copied
	# (64 KiB regions: 16 blocks of 4 KiB). The copier is held: only the
	# mirrored write can have put them on the destination.
	for _b in $((_clean * 16 + 15)) $((_last * 16 + 3)); do
		write_lv "$_b" "$(printf '%02x' $((_b % 251 + 1)))"
		on_leg /dev/mapper/$VG-data-imsrc "$_b"
		on_leg /dev/mapper/$VG-$_dst "$_b"
	done
	get_dirty_all $VG-data $_last 1 >/tmp/dirty
	grep -qx "$_last" /tmp/dirty || fail "$_what: region $_last was copied while held"
	EXPECT=$(sha256sum </tmp/expect | cut -d' ' -f1)
	dm_msg $VG-data max_copy_rate 0
	dm_msg $VG-data start
	run incmirror-lvm wait $VG/data
	same_regions /dev/mapper/$VG-data-imsrc /dev/mapper/$VG-$_dst 128

	run incmirror-lvm finish $VG/data
	assert_none_suspended "$_what: finish"
	assert_eq "$(dm_devnum $VG-data)" "$DATA_NUM" "$_what: device number after finish"
	assert_eq "$(dmsetup table $VG-data)" "$_dtable" "$_what: table after finish"
	for _d in $VG-$_dst $VG-data-imsrc; do
		dmsetup info $_d >/dev/null 2>&1 && fail "$_what: $_d left after finish"
	done
	lvs $VG/$_dst >/dev/null 2>&1 && fail "$_what: $VG/$_dst still in the metadata"
	assert_eq "$(lv_segs data)" "$_dsegs" "$_what: segments of $VG/data in LVM metadata"
	[ -e /run/incmirror-lvm/$VG-data.state ] && fail "$_what: state file left"
	assert_eq "$(sha $LVDEV)" "$EXPECT" "$_what: data after finish"
	# The old extents are free.
	for _r in $_old; do
		_pv=${_r%%:*} _pe=${_r#*:}
		pe_free "$_pv" "${_pe%-*}" "${_pe#*-}"
	done
	run vgchange -an $VG >/dev/null
	dmsetup info $VG-data >/dev/null 2>&1 && fail "$_what: $VG-data still active"
	run vgchange -ay $VG >/dev/null
	dmsetup mknodes >/dev/null 2>&1
	assert_eq "$(dmsetup table $VG-data)" "$_dtable" "$_what: table after vgchange -an/-ay"
	assert_eq "$(sha $LVDEV)" "$EXPECT" "$_what: data after vgchange -an/-ay"
	DATA_NUM=$(dm_devnum $VG-data)
}

# A physical volume the striped LV lies on is refused as a destination.
incmirror-lvm start $VG/data /dev/ram1 >/tmp/r.out 2>&1
assert_eq "$?" 3 "start onto a PV of the LV: exit status"
grep -qE "refused: (the )?destination /dev/ram1 is" /tmp/r.out || fail "start onto a PV of the LV: $(cat /tmp/r.out)"
dmsetup info $VG-data-imsrc >/dev/null 2>&1 && fail "a refused start left $VG-data-imsrc"
[ -e /run/incmirror-lvm/$VG-data.state ] && fail "a refused start left a state file"

# A striped LV onto a linear one, then that onto a striped one.
migrate dst "striped onto linear"
run lvcreate -q -y -i 2 -I 64k -L 16M -n dst2 $VG
migrate dst2 "linear onto striped"
assert_eq "$(lvs --noheadings -o stripes $VG/data | tr -d ' ')" 2 "stripes of $VG/data at the end"
exit 0
