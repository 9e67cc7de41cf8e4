#!/bin/sh
# DESCRIPTION: the seed scenario on a real Ceph cluster in the guest: a live ext4 (dm-era) backed up into an RBD image through krbd (full @b1, incremental from the dm-era list @b2, which rbd diff b1..b2 through incmirror-bitmap names exactly), its layering clone mapped with krbd becomes the destination of an incremental mirror under fio verify; only the changed regions are copied, verify finds 0 mismatches, switch-over, e2fsck clean, files intact
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# NEEDS: ceph
# TIMEOUT: 420
. "$INCMIRROR_TESTS/lib/guest.sh"
. "$INCMIRROR_TESTS/lib/ceph.sh"

command -v incmirror-bitmap >/dev/null || fail "incmirror-bitmap not in PATH"
command -v era_invalidate >/dev/null || fail "era_invalidate not installed"
modprobe dm-era 2>/dev/null || fail "no dm-era module"

MNT=/tmp/mnt
FIO_PID=
cleanup() {
	[ -n "$FIO_PID" ] && kill "$FIO_PID" 2>/dev/null
	umount $MNT 2>/dev/null
	dmsetup remove vm >/dev/null 2>&1
	dmsetup remove era0 >/dev/null 2>&1
	ceph_stop
}
trap cleanup EXIT

# The cluster first: ceph_start removes what a killed case left on krbd
# devices (e.g. vm, mounted, which would keep brd loaded).
T0=$(uptime_ms)
ceph_start 96
# memstore's capacity is for the objects of every image and snapshot.
ceph_rbd create --size 16M --image-feature layering rbd/backup
info "cluster start to the first rbd command done: $(($(uptime_ms) - T0)) ms"

# The VM's disk: 16 MiB on ram0, dm-era (64 KiB blocks, metadata on ram1)
# tracking its writes, and the device the "VM" uses, vm, a linear mapping
# of era0 whose table is later swapped for the mirror and then for the
# RBD device alone.
ram_devices 2 16
SZ=$(dev_sectors /dev/ram0)
TOTAL=$((SZ / 128))
zero_dev /dev/ram1 8192
ERA=$(dm_create era0 "0 $SZ era /dev/ram1 /dev/ram0 128")
ERA_TABLE=$(dmsetup table era0)
VM=$(dm_create vm "0 $SZ linear $ERA 0")
run mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$VM"
mkdir -p $MNT
run mount -t ext4 "$VM" $MNT
mkdir -p $MNT/d
for i in 0 1 2 3 4 5; do
	dd_ if=/dev/urandom of=$MNT/d/f$i bs=64k count=16
done
sync

# era_list SINCE FILE: checkpoint (a new era starts), then the blocks
# written since era SINCE, as era_invalidate lists them.
era_list() {
	run dmsetup message era0 0 checkpoint
	run dmsetup message era0 0 take_metadata_snap
	era_invalidate --metadata-snapshot --written-since "$1" /dev/ram1 >"$2" || fail "era_invalidate"
	run dmsetup message era0 0 drop_metadata_snap
}
# ranges FILE: the list as "OFFSET LENGTH" byte ranges, 64 KiB aligned.
ranges() {
	incmirror-bitmap convert --table "$ERA_TABLE" -r 64K -O ranges "$1" ||
		fail "incmirror-bitmap convert $1"
}

BK=$(ceph_map backup)

# 1. The full backup (the filesystem is idle and synced), then @b1.
run dmsetup message era0 0 checkpoint
SINCE1=$(dm_field era0 3)
t0=$(uptime_ms)
dd_ if="$ERA" of="$BK" bs=1M iflag=direct oflag=direct
ceph_rbd snap create rbd/backup@b1
info "full backup (16 MiB) through krbd and @b1: $(($(uptime_ms) - t0)) ms, era $SINCE1"

# The application writes: two new files, one rewritten.
dd_ if=/dev/urandom of=$MNT/d/n0 bs=64k count=8
dd_ if=/dev/urandom of=$MNT/d/n1 bs=64k count=4
dd_ if=/dev/urandom of=$MNT/d/f2 bs=64k count=16 conv=notrunc
sync

# 2. The incremental backup: only the blocks dm-era lists, then @b2. The
# image must then equal the source block for block.
era_list "$SINCE1" /tmp/b2.xml
SINCE2=$(dm_field era0 3)
ranges /tmp/b2.xml >/tmp/b2.ranges
n=0
while read -r off len; do
	dd_ if="$ERA" of="$BK" bs=64k skip=$((off / 65536)) seek=$((off / 65536)) \
		count=$((len / 65536)) iflag=direct oflag=direct conv=notrunc
	n=$((n + len / 65536))
done </tmp/b2.ranges
ceph_rbd snap create rbd/backup@b2
info "incremental backup @b2: $n of $TOTAL blocks copied (era $SINCE2 begins)"
[ "$n" -gt 0 ] && [ "$n" -lt $((TOTAL / 2)) ] || fail "the incremental backup copied $n of $TOTAL blocks"
same_regions "$ERA" "$BK" 128
# The cluster's own account of what the incremental backup changed,
# through our rbd-json parser: the same 64 KiB regions as dm-era's list.
timeout 120 rbd diff --from-snap b1 --format json rbd/backup@b2 >/tmp/b2.rbd.json ||
	fail "rbd diff --from-snap b1 rbd/backup@b2"
incmirror-bitmap convert --format rbd-json -s $((SZ * 512)) -r 64K -O ranges /tmp/b2.rbd.json \
	>/tmp/b2.rbd.ranges || { cat /tmp/b2.rbd.json >&2; fail "incmirror-bitmap convert of rbd diff's output"; }
ranges_regions() {
	awk '{ for (r = $1 / 65536; r < ($1 + $2) / 65536; r++) print r }' "$1" | sort -n -u
}
ranges_regions /tmp/b2.ranges >/tmp/b2.era.reg
ranges_regions /tmp/b2.rbd.ranges >/tmp/b2.rbd.reg
cmp -s /tmp/b2.era.reg /tmp/b2.rbd.reg ||
	{ cat /tmp/b2.rbd.json >&2; fail "rbd diff b1..b2 names regions $(echo $(cat /tmp/b2.rbd.reg)), dm-era $(echo $(cat /tmp/b2.era.reg))"; }
info "rbd diff --from-snap b1 backup@b2: the same $(wc -l </tmp/b2.rbd.reg) regions as dm-era's list"

# 3. The destination: a layering clone of @b2, mapped with krbd.
ceph_rbd snap protect rbd/backup@b2
ceph_rbd clone --image-feature layering rbd/backup@b2 rbd/vmdisk
DST=$(ceph_map vmdisk)
ceph_unmap "$BK"

# The application writes on, after the last backup.
dd_ if=/dev/urandom of=$MNT/d/n2 bs=64k count=8
dd_ if=/dev/urandom of=$MNT/d/f4 bs=64k count=4 conv=notrunc
sync
(cd $MNT/d && sha256sum -- *) >/tmp/files.sha

# fio verify load on the mounted filesystem through the swap and the copy:
# paced (64 KiB/s), each 4 blocks written read back and verified
# (verify_backlog), until it is stopped once synced (SIGTERM: a time-based
# job skips the final read phase anyway; 300 s bound).
fio --name=load --filename=$MNT/load.dat --size=2M --bs=4k --rw=randwrite \
	--ioengine="$(fio_engine)" --iodepth=4 --direct=1 --verify=crc32c --do_verify=1 \
	--verify_backlog=4 --verify_fatal=1 --rate=64k --time_based --runtime=300 \
	--verify_state_save=0 >/tmp/fio.out 2>&1 &
FIO_PID=$!
wait_cond 60 "fio to start writing" "[ -s $MNT/load.dat ]"

# The swap: vm becomes an incremental mirror of era0 onto the clone. In
# "loading" every write is mirrored, so a list taken after the swap covers
# everything written since @b2.
dm_swap vm "0 $SZ incmirror $ERA $DST 128 1 incremental"
assert_eq "$(dm_field vm 1)" loading "state after the swap"
kill -0 "$FIO_PID" 2>/dev/null || { cat /tmp/fio.out; fail "fio no longer running at the swap"; }
era_list "$SINCE2" /tmp/mig.xml
NB=$(ranges /tmp/mig.xml | awk '{ n += $2 / 65536 } END { print n + 0 }')
t0=$(uptime_ms)
run incmirror-bitmap load --table "$ERA_TABLE" --start vm /tmp/mig.xml
wait_state vm synced 180
kill -0 "$FIO_PID" 2>/dev/null || { cat /tmp/fio.out; fail "fio no longer running when synced: no writes across the copy"; }
COPIED=$(dm_field vm 5)
info "copy onto the clone: $((COPIED / 128)) regions ($COPIED sectors) copied in $(($(uptime_ms) - t0)) ms; dm-era lists $NB of $TOTAL changed since @b2"
[ "$NB" -gt 0 ] && [ "$NB" -lt $((TOTAL / 2)) ] || fail "dm-era lists $NB of $TOTAL regions: not an incremental test"
# Each listed region once; a few more only if fio's writes re-dirtied a
# region while it was being copied (the target's documented rule).
[ "$COPIED" -ge $((NB * 128)) ] && [ "$COPIED" -le $(((NB + 8) * 128)) ] ||
	fail "copied $COPIED sectors: expected the $NB listed regions, $((NB * 128)) sectors"

# Stopped by SIGTERM (exit 128), its job with no error, blocks read back.
kill -TERM "$FIO_PID"
wait "$FIO_PID"
rc=$?
FIO_PID=
grep -q 'err= 0' /tmp/fio.out && [ $rc -eq 128 ] ||
	{ cat /tmp/fio.out; fail "fio verify failed ($rc) during the migration"; }
FIO_IO=$(sed -n 's/.*issued rwts: total=\([0-9]*\),\([0-9]*\),.*/\1 \2/p' /tmp/fio.out)
set -- $FIO_IO
[ "${1:-0}" -gt 0 ] && [ "${2:-0}" -gt 0 ] || { cat /tmp/fio.out; fail "fio: '$FIO_IO' blocks read, written"; }
info "fio: $2 blocks written, $1 read back and verified"
(cd $MNT && sha256sum load.dat) >/tmp/load.sha
sync

# verify: both legs compared online.
run dmsetup message vm 0 verify
wait_cond 120 "verify to finish" "dmsetup status vm | grep -q 'verify=done'"
VER=$(dmsetup status vm | grep -o 'verify=done [0-9]* [0-9]*')
info "$VER"
set -- $VER
assert_eq "$2" "$TOTAL" "regions verified"
assert_eq "$3" 0 "mismatches found by verify"

# Switch-over: suspended and still synced, vm becomes the RBD clone alone.
run dmsetup suspend vm
dmsetup status vm | grep -q ' synced ' || { dmsetup resume vm; fail "not synced at switch-over"; }
# Nothing writes either leg while vm is suspended: whole devices compared.
same_regions "$ERA" "$DST" 128
run dmsetup load vm --table "0 $SZ linear $DST 0"
run dmsetup resume vm
dd_ if=/dev/urandom of=$MNT/d/after bs=64k count=2
(cd $MNT/d && sha256sum after) >>/tmp/files.sha
run umount $MNT
run e2fsck -fn "$VM"
run mount -t ext4 -o ro "$VM" $MNT
(cd $MNT/d && /usr/bin/sha256sum -c --quiet /tmp/files.sha) || fail "files differ on the clone"
(cd $MNT && /usr/bin/sha256sum -c --quiet /tmp/load.sha) || fail "fio's file differs on the clone"
run umount $MNT
info "memory: $(awk '/MemTotal|MemAvailable/ { printf "%s %d MiB ", $1, $2 / 1024 }' /proc/meminfo)osd.0 $(awk '/VmHWM/ { print $2 / 1024 }' /proc/"$(ceph_osd_pid)"/status) MiB peak"
exit 0
