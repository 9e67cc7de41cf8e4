#!/bin/sh
# DESCRIPTION: incmirror-lvm moves a mounted ext4 LV under fio verify load onto an LV restored from a backup, copying only the regions dm-era lists; after finish the LV is the destination's extents in LVM metadata and survives vgchange -an/-ay with identical data
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 600
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-lvm >/dev/null || fail "incmirror-lvm not in PATH"
command -v era_invalidate >/dev/null || fail "era_invalidate not installed"
modprobe dm-era 2>/dev/null || fail "no dm-era module"

VG=imlvmf
MNT=/tmp/mnt
cleanup() {
	[ -n "${FIO_PID:-}" ] && kill "$FIO_PID" 2>/dev/null
	umount $MNT 2>/dev/null
	dmsetup remove era0 >/dev/null 2>&1
	lvm_teardown $VG /dev/ram0
}
# ram0: the PV (data and dst, 64 MiB each); ram1: dm-era's metadata.
ram_devices 2 160
trap cleanup EXIT
lvm_vg $VG /dev/ram0
run lvcreate -q -y -L 64M -n data $VG
run lvcreate -q -y -L 64M -n dst $VG
LVDEV=/dev/mapper/$VG-data
DSTDEV=/dev/mapper/$VG-dst
SZ=$(dev_sectors $LVDEV)
TOTAL=$((SZ / 128))
DATA_NUM=$(dm_devnum $VG-data)
DST_TABLE=$(dmsetup table $VG-dst)
DST_PE=$(lvs --noheadings --segments -o seg_pe_ranges $VG/dst | tr -d ' ')
info "data $DATA_NUM, dst on $DST_PE: $DST_TABLE"

# The user's stack: dm-era tracks the writes to the LV (64 KiB blocks), the
# filesystem is mounted on it.
zero_dev /dev/ram1 8192
ERA=$(dm_create era0 "0 $SZ era /dev/ram1 $LVDEV 128")
ERA_TABLE=$(dmsetup table era0)
run mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$ERA"
mkdir -p $MNT
run mount -t ext4 "$ERA" $MNT
mkdir -p $MNT/old $MNT/new
i=0
while [ $i -lt 8 ]; do
	dd_ if=/dev/urandom of=$MNT/old/f$i bs=64k count=16
	i=$((i + 1))
done
sync

# The backup: a checkpoint, then the LV copied onto the destination LV.
run dmsetup message era0 0 checkpoint
SINCE=$(dm_field era0 3)
dd_ if="$ERA" of=$DSTDEV bs=1M iflag=direct oflag=direct
info "backup at era $SINCE"

# Changes since the backup: new files, one old file rewritten.
i=0
while [ $i -lt 6 ]; do
	dd_ if=/dev/urandom of=$MNT/new/f$i bs=64k count=8
	i=$((i + 1))
done
dd_ if=/dev/urandom of=$MNT/old/f3 bs=64k count=16 conv=notrunc
sync
(cd $MNT && find old new -type f | sort | xargs sha256sum) >/tmp/files.sha

# era_list FILE: the blocks written since the backup, per era_invalidate.
era_list() {
	run dmsetup message era0 0 checkpoint
	run dmsetup message era0 0 take_metadata_snap
	era_invalidate --metadata-snapshot --written-since "$SINCE" /dev/ram1 >"$1" || fail "era_invalidate"
	run dmsetup message era0 0 drop_metadata_snap
}
# regions FILE...: the 64 KiB regions the lists cover, one per line.
regions() {
	incmirror-bitmap convert --table "$ERA_TABLE" -r 64K -O ranges "$@" |
		awk '{ for (r = $1 / 65536; r < ($1 + $2) / 65536; r++) print r }' | sort -n -u
}

# fio verify load on the mounted filesystem, through the whole start.
fio --name=load --filename=$MNT/load.dat --size=8M --bs=4k --rw=randwrite \
	--ioengine="$(fio_engine)" --iodepth=4 --direct=1 --verify=crc32c --loops=4 \
	--verify_state_save=0 >/tmp/fio.out 2>&1 &
FIO_PID=$!
wait_cond 60 "fio to start writing" "[ -s $MNT/load.dat ]"

era_list /tmp/a.xml
regions /tmp/a.xml >/tmp/a.reg
info "dm-era lists $(wc -l </tmp/a.reg) of $TOTAL regions"
incmirror-lvm start $VG/data $VG/dst --bitmap /tmp/a.xml --format era --table "$ERA_TABLE" --list-predates-start \
	--region-size 64K || fail "incmirror-lvm start"
# The LV's device keeps its number, now an incmirror over the hidden device.
assert_eq "$(dm_devnum $VG-data)" "$DATA_NUM" "device number of $VG-data"
dmsetup table $VG-data | grep -q ' incmirror ' || fail "no incmirror table: $(dmsetup table $VG-data)"
dmsetup info $VG-data-imsrc >/dev/null 2>&1 || fail "no hidden device $VG-data-imsrc"
# Writes between the first list and the table swap: a second list, taken
# with the mirror in place, covers them (documented for live trackers).
# Regions copied after the swap hold the writes made before it, so only
# what the second list adds is loaded: each listed region is copied once.
era_list /tmp/b.xml
regions /tmp/a.xml /tmp/b.xml >/tmp/ab.reg
NB=$(wc -l </tmp/ab.reg)
awk 'NR == FNR { a[$1] = 1; next } !($1 in a) { print $1 * 65536, 65536 }' /tmp/a.reg /tmp/ab.reg >/tmp/b-only.ranges
info "the second list adds $(wc -l </tmp/b-only.ranges) regions"
run incmirror-bitmap load --format ranges $VG-data /tmp/b-only.ranges
incmirror-lvm status $VG/data || fail "incmirror-lvm status"

run incmirror-lvm wait $VG/data
incmirror-lvm status $VG/data >/tmp/status || fail "status"
cat /tmp/status
grep -qx 'state: synced' /tmp/status || fail "not synced after wait"
COPIED=$(sed -n 's/^copied-sectors: //p' /tmp/status)
info "copied $COPIED sectors; the lists name $NB regions ($((NB * 128)) sectors) of $TOTAL"
[ "$NB" -lt $((TOTAL / 2)) ] || fail "the lists name $NB of $TOTAL regions: not an incremental test"
# Each listed region once; a few more only if concurrent overlapping
# writes re-dirtied a region (the target's documented rule).
[ "$COPIED" -ge $((NB * 128)) ] && [ "$COPIED" -le $(((NB + 8) * 128)) ] ||
	fail "copied $COPIED sectors: expected the $NB listed regions, $((NB * 128)) sectors"

wait "$FIO_PID"
rc=$?
FIO_PID=
[ $rc -eq 0 ] || { cat /tmp/fio.out; fail "fio verify failed ($rc) during the migration"; }
(cd $MNT && sha256sum load.dat) >>/tmp/files.sha

# The switch-over, mounted.
incmirror-lvm finish $VG/data || fail "incmirror-lvm finish"
assert_eq "$(dm_devnum $VG-data)" "$DATA_NUM" "device number after finish"
assert_eq "$(dmsetup table $VG-data)" "$DST_TABLE" "table of $VG-data after finish"
dmsetup info $VG-dst >/dev/null 2>&1 && fail "$VG-dst still exists"
dmsetup info $VG-data-imsrc >/dev/null 2>&1 && fail "$VG-data-imsrc still exists"
lvs $VG/dst >/dev/null 2>&1 && fail "LV $VG/dst still in the metadata"
[ -e /dev/$VG/dst ] || [ -L /dev/$VG/dst ] && fail "/dev/$VG/dst left behind"
[ -b /dev/$VG/data ] || fail "no /dev/$VG/data"
assert_eq "$(lvs --noheadings --segments -o seg_pe_ranges $VG/data | tr -d ' ')" "$DST_PE" "segments of $VG/data"
assert_eq "$(lvs --noheadings --nosuffix --units s -o lv_size $VG/data | tr -d ' ')" "$SZ" "size of $VG/data"
assert_eq "$(vgs --noheadings -o lv_count $VG | tr -d ' ')" 1 "LVs in $VG"
[ -e /run/incmirror-lvm/$VG-data.state ] && fail "state file left"
# Still usable: a file written and read after the switch.
dd_ if=/dev/urandom of=$MNT/after bs=64k count=4
(cd $MNT && sha256sum after) >>/tmp/files.sha
(cd $MNT && /usr/bin/sha256sum -c --quiet /tmp/files.sha) || fail "files differ after finish"

# Deactivate and reactivate (a reboot): the same data.
run umount $MNT
run dmsetup remove era0
run e2fsck -fn $LVDEV
S1=$(sha $LVDEV)
run vgchange -an $VG
dmsetup info $VG-data >/dev/null 2>&1 && fail "$VG-data still active"
run vgchange -ay $VG
dmsetup mknodes >/dev/null 2>&1
assert_eq "$(dmsetup table $VG-data)" "$DST_TABLE" "table after reactivation"
assert_eq "$(sha $LVDEV)" "$S1" "data after vgchange -an/-ay"
run e2fsck -fn $LVDEV
run mount -t ext4 $LVDEV $MNT
(cd $MNT && /usr/bin/sha256sum -c --quiet /tmp/files.sha) || fail "files differ after reactivation"
run umount $MNT
exit 0
