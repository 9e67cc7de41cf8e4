#!/bin/sh
# DESCRIPTION: every command block of Documentation/walkthrough.rst runs in order with set -e (qcow2 persistent bitmap over qemu-nbd, incmirror-bitmap, incmirror-watch, verify, switch-over; incmirror-lvm with a dm-era list) and gives the outcome the document describes: only the listed regions copied, legs identical, LV switched over (incmirror-lvm start --era, finish --verify)
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 600
. "$INCMIRROR_TESTS/lib/guest.sh"

DOC=${INCMIRROR_TESTS%/tests}/Documentation/walkthrough.rst
[ -f "$DOC" ] || fail "no $DOC in the guest (tests/vm/run copies it)"
for p in qemu-img qemu-io qemu-nbd era_invalidate incmirror-lvm incmirror-watch; do
	command -v $p >/dev/null || fail "$p not in the guest"
done

# The blocks: every literal block between ".. walkthrough-begin: NAME" and
# ".. walkthrough-end", its 4-space indentation removed, one file each.
B=/tmp/doc-blocks
rm -rf $B
mkdir -p $B
awk -v dir=$B '
	/^\.\. walkthrough-begin: / {
		if (name != "") { print "nested block at line " NR > "/dev/stderr"; exit 1 }
		name = $3; n++; file = sprintf("%s/%02d-%s.sh", dir, n, name)
		print name >(dir "/order"); printf "" >file; next }
	/^\.\. walkthrough-end/ {
		if (name == "") { print "end without begin at line " NR > "/dev/stderr"; exit 1 }
		close(file); name = ""; next }
	name != "" && /^    / { sub(/^    /, ""); print >file; next }
	name != "" && /^[^ :]/ { print "prose inside block " name " at line " NR > "/dev/stderr"; exit 1 }
	END { if (name != "") { print "block " name " not ended" > "/dev/stderr"; exit 1 } }
' "$DOC" || fail "malformed walkthrough markers in $DOC"
[ -s $B/order ] || fail "no walkthrough blocks in $DOC"
for f in $B/*.sh; do
	grep -q '[^ ]' "$f" || fail "empty block $(basename "$f")"
done
info "blocks: $(tr '\n' ' ' <$B/order)"

# Checks run after the block of the same name. Each must name a block of the
# document (so none is silently skipped when the document changes).
CHECKS="vm-bitmap vm-mirror vm-watch vm-verify vm-switch vm-compare lvm-setup lvm-start lvm-wait lvm-finish cleanup"
for c in $CHECKS; do
	grep -qx "$c" $B/order || fail "the document has no block '$c' that the case checks"
done

# Pattern files: N KiB of byte B.
pattern() {
	fillpat "$1" $(($2 * 1024))
}

check_vm_bitmap() {
	printf '8388608 1048576\n41943040 524288\n62914560 65536\n' >/tmp/want.ranges
	cmp $WORK/changed.ranges /tmp/want.ranges ||
		fail "the qcow2 bitmap gave $(cat $WORK/changed.ranges | tr '\n' ,)"
}
check_vm_mirror() {
	dmsetup table vmdisk | grep -q ' incmirror .* 1 incremental$' ||
		fail "table: $(dmsetup table vmdisk)"
	assert_eq "$(dmsetup table vmdisk | cut -d' ' -f2)" 131072 "length of vmdisk"
}
check_vm_watch() {
	assert_eq "$(dm_field vmdisk 1)" synced "state after incmirror-watch"
	assert_eq "$(dm_field vmdisk 2)" 1024/1024 "regions in sync"
	assert_eq "$(dm_field vmdisk 4)" 0 "dest_errors"
	# The 25 listed regions, each once; the write during the copy hit a
	# clean region and was only mirrored.
	assert_eq "$(dm_field vmdisk 5)" 3200 "copied_sectors (25 regions of 128)"
}
check_vm_verify() {
	assert_eq "$(dmsetup status vmdisk | grep -o 'verify=done [0-9]* [0-9]*')" \
		"verify=done 1024 0" "verify result"
}
check_vm_switch() {
	assert_eq "$(dmsetup table vmdisk)" "0 131072 linear $(cat /sys/block/ram0/dev) 0" \
		"table after the switch-over"
}
check_vm_compare() {
	# The image is closed: its size on nbd0 is 0.
	assert_eq "$(cat /sys/block/nbd0/size)" 0 "nbd0 size after disconnect"
	# What the VM sees now (the destination) is the image, and holds the
	# VM's writes before and during the mirror.
	run qemu-img convert -f qcow2 -O raw $IMG /tmp/img.raw
	drop_caches /dev/mapper/vmdisk
	cmp /tmp/img.raw /dev/mapper/vmdisk || fail "the image and /dev/mapper/vmdisk differ"
	rm -f /tmp/img.raw
	pattern 55 256 >/tmp/p
	dd if=/dev/mapper/vmdisk bs=64k skip=256 count=4 2>/dev/null | cmp - /tmp/p ||
		fail "the write during the mirror is not on the destination"
	pattern 44 64 >/tmp/p
	dd if=$DEST bs=64k skip=960 count=1 2>/dev/null | cmp - /tmp/p ||
		fail "the write after the backup at 60 MiB was not copied"
	# The bitmap was stored again at close and is consistent.
	incmirror-bitmap info $IMG | grep -q 'bitmap: since-backup' || fail "bitmap gone from the image"
}
check_lvm_setup() {
	NEW_TABLE=$(dmsetup table $VG-newdata)
	DATA_NUM=$(dmsetup info -c --noheadings -o major,minor $VG-data | tr -d ' ')
}
check_lvm_start() {
	# The list start took after the switch was loaded (incremental; the
	# 20 blocks are checked by the copied sectors after wait) and removed.
	dmsetup table $VG-data | grep -q ' incmirror .* incremental$' ||
		fail "table: $(dmsetup table $VG-data)"
	assert_eq "$(dmsetup info -c --noheadings -o major,minor $VG-data | tr -d ' ')" "$DATA_NUM" \
		"device number of $VG-data under the mirror"
	ls /run/incmirror-lvm | grep -q '\.list$' && fail "the change list is left in /run/incmirror-lvm"
	return 0
}
check_lvm_wait() {
	incmirror-lvm status $VG/data >/tmp/lvm.status || fail "incmirror-lvm status"
	grep -qx 'state: synced' /tmp/lvm.status || fail "not synced: $(cat /tmp/lvm.status)"
	assert_eq "$(sed -n 's/^copied-sectors: //p' /tmp/lvm.status)" 2560 "copied sectors (20 blocks)"
	same /dev/mapper/$VG-data-imsrc /dev/mapper/$VG-newdata
	DATA_SHA=$(sha /dev/mapper/era0)
}
check_lvm_finish() {
	assert_eq "$(dmsetup table $VG-data)" "$NEW_TABLE" "table of $VG-data after finish"
	assert_eq "$(dmsetup info -c --noheadings -o major,minor $VG-data | tr -d ' ')" "$DATA_NUM" \
		"device number of $VG-data"
	lvs $VG/newdata >/dev/null 2>&1 && fail "LV newdata still exists"
	lvs --noheadings -o devices $VG/data | grep -q "$NEWPV" ||
		fail "data is not on $NEWPV: $(lvs --noheadings -o devices $VG/data)"
	assert_eq "$(sha /dev/mapper/era0)" "$DATA_SHA" "data after finish"
}
check_cleanup() {
	[ -d /sys/module/brd ] && fail "brd still loaded"
	dmsetup ls | grep -v '^No devices found' | grep -q . && fail "devices left: $(dmsetup ls)"
	return 0
}

CUR=
on_exit() {
	rc=$?
	set +e
	if [ $rc -ne 0 ] && [ -n "$CUR" ]; then
		echo "FAIL: walkthrough block '$CUR' (or its check) failed with status $rc" >&2
	fi
	qemu-nbd --disconnect /dev/nbd0 >/dev/null 2>&1
	dmsetup remove_all >/dev/null 2>&1
	vgremove -f vg0 >/dev/null 2>&1
	dmsetup remove_all >/dev/null 2>&1
	exit $rc
}
trap on_exit EXIT

# A fresh start: the document loads brd itself.
dmsetup remove_all >/dev/null 2>&1
[ -d /sys/module/brd ] && { rmmod brd || fail "brd in use"; }

# The guest has no udev, which makes the /dev/mapper nodes on a real
# system: after the dmsetup commands of the blocks that create or change a
# device, make them (LVM and the tools make their own).
dmsetup() {
	_dm_rc=0
	command dmsetup "$@" || _dm_rc=$?
	case "$1" in create | resume | rename | remove) command dmsetup mknodes >/dev/null 2>&1 ;; esac
	return $_dm_rc
}

cd /tmp
set -e
for f in $B/*.sh; do
	CUR=$(basename "$f" .sh)
	CUR=${CUR#*-}
	echo "=== walkthrough block: $CUR"
	sed 's/^/| /' "$f"
	. "$f"
	c=$(echo "$CUR" | tr - _)
	case " $CHECKS " in *" $CUR "*) "check_$c" ;; esac
done
CUR=
info "all $(wc -l <$B/order) blocks ran and their outcomes match the document"
exit 0
