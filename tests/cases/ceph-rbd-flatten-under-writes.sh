#!/bin/sh
# DESCRIPTION: after switch-over onto an RBD clone (layering) mapped with krbd: rbd flatten while its ext4 is mounted and written with fio verify, then the parent snapshot unprotected and removed and the parent image removed; every file still verifies, also after unmap and map again, and e2fsck is clean
# CHECK-KERNEL: full (make check-full only: a Ceph cluster, and flatten copies the image under TCG)
# NEEDS: ceph
# TIMEOUT: 420
. "$INCMIRROR_TESTS/lib/guest.sh"
. "$INCMIRROR_TESTS/lib/ceph.sh"

MNT=/tmp/mnt
FIO_PID=
cleanup() {
	[ -n "$FIO_PID" ] && kill "$FIO_PID" 2>/dev/null
	umount $MNT 2>/dev/null
	ceph_stop
}
trap cleanup EXIT

# The state right after the switch-over of ceph-rbd-incremental-migration:
# the VM's filesystem lives on vmdisk, a layering clone of backup@b2 whose
# unwritten parts are still read from the parent. (The migration itself is
# that case's; here the filesystem is made on the backup image directly.)
ceph_start 128
ceph_rbd create --size 16M --image-feature layering rbd/backup
BK=$(ceph_map backup)
run mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$BK"
mkdir -p $MNT
run mount -t ext4 "$BK" $MNT
mkdir -p $MNT/d /tmp/want
# Each file's content is kept in /tmp/want as it is written: the checksums
# to compare with are taken before the flatten, not read back after it.
for i in 0 1 2 3 4 5; do
	dd_ if=/dev/urandom of=/tmp/want/f$i bs=64k count=16
	dd_ if=/tmp/want/f$i of=$MNT/d/f$i bs=64k
done
run umount $MNT
ceph_unmap "$BK"
ceph_rbd snap create rbd/backup@b2
ceph_rbd snap protect rbd/backup@b2
ceph_rbd clone --image-feature layering rbd/backup@b2 rbd/vmdisk
VD=$(ceph_map vmdisk)
run mount -t ext4 "$VD" $MNT
# Written on the clone before the flatten: f1's first 256 KiB (the rest
# still read from the parent), a new file.
dd_ if=/dev/urandom of=/tmp/f1.head bs=64k count=4
dd_ if=/tmp/f1.head of=/tmp/want/f1 bs=64k conv=notrunc
dd_ if=/tmp/f1.head of=$MNT/d/f1 bs=64k conv=notrunc
dd_ if=/dev/urandom of=/tmp/want/n0 bs=64k count=8
dd_ if=/tmp/want/n0 of=$MNT/d/n0 bs=64k
sync
(cd /tmp/want && sha256sum -- *) >/tmp/files.sha

# The flatten (the seed's block-stream), with fio verify writing a file of
# the mounted filesystem all along.
# Paced (128 KiB/s, 4 x 1 MiB: 32 s of writes) to last across the flatten.
fio --name=load --filename=$MNT/load.dat --size=1M --bs=4k --rw=randwrite \
	--ioengine="$(fio_engine)" --iodepth=4 --direct=1 --verify=crc32c --loops=4 \
	--rate=128k --verify_state_save=0 >/tmp/fio.out 2>&1 &
FIO_PID=$!
wait_cond 60 "fio to start writing" "[ -s $MNT/load.dat ]"
t0=$(uptime_ms)
ceph_rbd flatten rbd/vmdisk
info "rbd flatten of the mapped, mounted, written clone: $(($(uptime_ms) - t0)) ms"
kill -0 "$FIO_PID" 2>/dev/null || fail "fio was done before the flatten: no writes across it"
dd_ if=/dev/urandom of=/tmp/want/n1 bs=64k count=4
dd_ if=/tmp/want/n1 of=$MNT/d/n1 bs=64k
(cd /tmp/want && sha256sum n1) >>/tmp/files.sha
wait "$FIO_PID"
rc=$?
FIO_PID=
[ $rc -eq 0 ] || { cat /tmp/fio.out; fail "fio verify failed ($rc) during the flatten"; }
sync
(cd $MNT && sha256sum load.dat) >/tmp/load.sha

# The parent chain goes: the clone has no parent any more.
ceph_rbd info rbd/vmdisk
grep -q 'parent:' /tmp/.ceph-rbd.out && { cat /tmp/.ceph-rbd.out; fail "vmdisk still has a parent after flatten"; }
ceph_rbd snap unprotect rbd/backup@b2
ceph_rbd snap rm rbd/backup@b2
ceph_rbd rm rbd/backup
ceph_rbd ls
assert_eq "$(cat /tmp/.ceph-rbd.out)" vmdisk "images left"
# Read from the flattened image, not the page cache.
drop_caches
(cd $MNT/d && /usr/bin/sha256sum -c --quiet /tmp/files.sha) || fail "files differ after the parent was removed"

# Read back from the cluster, not the page cache: unmap, map again.
run umount $MNT
ceph_unmap "$VD"
VD=$(ceph_map vmdisk)
run e2fsck -fn "$VD"
run mount -t ext4 -o ro "$VD" $MNT
(cd $MNT/d && /usr/bin/sha256sum -c --quiet /tmp/files.sha) || fail "files differ after map again"
(cd $MNT && /usr/bin/sha256sum -c --quiet /tmp/load.sha) || fail "fio's file differs after map again"
run umount $MNT
exit 0
