#!/bin/sh
# DESCRIPTION: metadata: at every flush/FUA point of a dm-log-writes log (loading, copying, synced, writes, clear passes, reload), the metadata marks dirty every region where source and destination differ; the kernel loads it so
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 600
# MEM: 3072
. "$INCMIRROR_TESTS/lib/guest.sh"
cleanup() {
	dmsetup remove_all >/dev/null 2>&1
	/usr/sbin/losetup -D >/dev/null 2>&1
}
trap cleanup EXIT

modprobe dm-log-writes 2>/dev/null
[ -d /sys/module/dm_log_writes ] || fail "dm-log-writes is not available"

S=32768			# sectors per leg (16 MiB, 256 regions of 64 KiB)
M=64			# metadata sectors
N=$((2 * S + M))
REG=65536
ram_devices 2 256
DATA=/dev/ram0
LOG=/dev/ram1

# The destination is an old copy of the source; 40 regions changed since.
dd_ if=/dev/urandom of=$DATA bs=1M count=16 oflag=direct
dd_ if=$DATA of=$DATA bs=1M count=16 seek=16 oflag=direct
CHANGED=
i=0
while [ $i -lt 40 ]; do
	r=$(( (i * 37 + 11) % 256 ))
	dd_ if=/dev/urandom of=$DATA bs=64k count=1 seek=$r oflag=direct
	CHANGED="$CHANGED $r"
	i=$((i + 1))
done
dd_ if=/dev/zero of=$DATA bs=512 count=$M seek=$((2 * S)) oflag=direct
dd_ if=$DATA of=/tmp/base.img bs=512 count=$N

# One log device under all three: every write, flush and FUA in one log.
dm_create lw "0 $N log-writes $DATA $LOG" >/dev/null
dm_create src "0 $S linear /dev/mapper/lw 0" >/dev/null
dm_create dst "0 $S linear /dev/mapper/lw $S" >/dev/null
dm_create meta "0 $M linear /dev/mapper/lw $((2 * S))" >/dev/null
TABLE="0 $S incmirror /dev/mapper/src /dev/mapper/dst 128 3 incremental metadata /dev/mapper/meta"
DEV=$(dm_create im "$TABLE")
# shellcheck disable=SC2086
dm_msg im set_dirty $CHANGED
dm_msg lw mark armed

# Copying (slowly) under two writers: one flushing every 4 writes, one FUA.
# 128 KiB/s (two regions a second) outlasts the writers: the copies left
# when they end run at full speed with no flush after them, so that a clear
# pass that does not flush the legs first (tests/mutants/clear-before-flush)
# has copies to lose. The polls below must not flush either (meta_dirty
# reads with O_DIRECT).
dm_msg im max_copy_rate 128
dm_msg im start
cd /tmp || fail "cd /tmp"
fio --name=flushing --filename="$DEV" --ioengine=psync --direct=1 --rw=randwrite \
	--bs=4k --io_size=1m --fsync=4 --randrepeat=0 >/tmp/cr1.fio 2>&1 &
P1=$!
fio --name=fua --filename="$DEV" --ioengine=psync --direct=1 --sync=1 --rw=randwrite \
	--bs=4k --io_size=512k --randrepeat=0 >/tmp/cr2.fio 2>&1 &
P2=$!
wait $P1 || { cat /tmp/cr1.fio; fail "fio (flushing)"; }
wait $P2 || { cat /tmp/cr2.fio; fail "fio (fua)"; }
dm_msg im max_copy_rate 0
wait_state im synced 120
# Idle: the clear passes alone (no other flush) take the copied regions' bits
# off the disk; they must flush the copies first.
wait_cond 30 "clear passes emptied the on-disk map" \
	'meta_dirty /dev/mapper/meta >/tmp/cr.md; [ ! -s /tmp/cr.md ]'

# Synced: writes, a reload with the printed table, idle time for clear passes.
fio --name=synced --filename="$DEV" --ioengine=psync --direct=1 --rw=randwrite \
	--bs=4k --io_size=256k --fsync=2 --randrepeat=0 >/tmp/cr3.fio 2>&1 ||
	{ cat /tmp/cr3.fio; fail "fio (synced)"; }
run dmsetup reload im --table "$(dmsetup table im)"
run dmsetup resume im
fio --name=reloaded --filename="$DEV" --ioengine=psync --direct=1 --sync=1 --rw=randwrite \
	--bs=4k --io_size=128k --randrepeat=0 >/tmp/cr4.fio 2>&1 ||
	{ cat /tmp/cr4.fio; fail "fio (after reload)"; }
wait_cond 30 "clear passes emptied the on-disk map" \
	'meta_dirty /dev/mapper/meta >/tmp/cr.md; [ ! -s /tmp/cr.md ]'
dd_ if=/dev/urandom of="$DEV" bs=4k count=8 seek=777 oflag=direct conv=fsync
run dmsetup remove im
dm_msg lw mark end
sync
for d in meta dst src lw; do run dmsetup remove $d; done

# Every flush/FUA point between the marks, in one pass; a few saved for the
# kernel to load.
lw-replay points $LOG >/tmp/cr.points || fail "lw-replay points"
first=$(awk '$2 == "mark" && $3 == "armed" { print $1 }' /tmp/cr.points)
last=$(awk '$2 == "mark" && $3 == "end" { print $1 }' /tmp/cr.points)
[ -n "$first" ] && [ -n "$last" ] || fail "marks missing from the log"
awk -v a="$first" -v b="$last" '$1 > a && $1 < b && $2 != "mark" { print $1 }' /tmp/cr.points >/tmp/cr.pidx
np=$(wc -l </tmp/cr.pidx)
[ "$np" -ge 200 ] || fail "only $np flush/FUA points between the marks (want >= 200)"
info "$np flush/FUA points between the marks"
save=$(awk -v n="$np" 'NR % int(n / 12) == 0 { printf "%s%s", s, $1; s = "," }' /tmp/cr.pidx)
mkdir -p /tmp/pts
lw-replay check-incmirror $LOG /tmp/base.img --src 0 --dst $((S * 512)) --len $((S * 512)) \
	--meta $((2 * S * 512)) --region $REG --after-mark armed --until-mark end \
	--save-at "$save" --save-dir /tmp/pts >/tmp/cr.check 2>&1
rc=$?
head -n 20 /tmp/cr.check
[ $rc -eq 0 ] || tail -n 1 /tmp/cr.check
[ $rc -eq 0 ] || fail "crash points where the metadata misses a differing region (exit $rc)"
info "$(tail -n 1 /tmp/cr.check)"

# The kernel, loading each saved state, reports those regions dirty too. The
# destination is an error target: the copier cannot change anything.
for img in /tmp/pts/point-*.img; do
	L=$(loop_attach "$img")
	dm_create src "0 $S linear $L 0" >/dev/null
	dm_create dst "0 $S error" >/dev/null
	dd_ if="$img" of=/tmp/cr.meta bs=512 skip=$((2 * S)) count=$M
	LM=$(loop_attach /tmp/cr.meta)
	dm_create im "0 $S incmirror /dev/mapper/src /dev/mapper/dst 128 3 incremental metadata $LM" >/dev/null
	get_dirty_all im >/tmp/cr.kmap
	lw-replay diff-regions "$img" 0 "$img" $((S * 512)) $((S * 512)) $REG >/tmp/cr.diff
	assert_subset --may-be-empty /tmp/cr.diff /tmp/cr.kmap "kernel map loaded from $(basename "$img")"
	info "$(basename "$img"): $(wc -l </tmp/cr.diff) regions differ, $(ranges_count </tmp/cr.kmap) dirty after load"
	for d in im dst src; do run dmsetup remove $d; done
	/usr/sbin/losetup -d "$L" "$LM"
	rm -f "$img"
done
