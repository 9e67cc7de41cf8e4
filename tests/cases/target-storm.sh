#!/bin/sh
# DESCRIPTION: storm: fio jobs with verify on small regions while a loop sends random pause/start/max_copy_rate/set_dirty/get_dirty, suspends/resumes and reloads (with metadata): ends synced and identical
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 400
. "$INCMIRROR_TESTS/lib/guest.sh"
FIOPID=
cleanup() {
	[ -n "$FIOPID" ] && kill "$FIOPID" 2>/dev/null
	dmsetup resume im >/dev/null 2>&1
	cleanup_devices
}
trap cleanup EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 3 32
META=$(dm_create meta "0 1024 linear /dev/ram2 0")
zero_dev "$META"
random_fill $SRC
fill $DST 00
# 8 KiB regions: 4096 of them; a full mirror with metadata.
T=$(incmirror_table $SRC $DST 16 max_copy_rate 4096 copy_depth 8 metadata "$META")
DEV=$(dm_create im "$T")
TOTAL=$(total_regions im)

cd /tmp || fail "cd /tmp"
fio --name=storm --filename="$DEV" --ioengine="$(fio_engine)" --direct=1 --numjobs=4 \
	--rw=randwrite --bs=4k --size=8m --offset_increment=8m --io_size=64m --runtime=25 \
	--iodepth=8 --rate=300k --verify=crc32c --verify_backlog=128 --do_verify=1 \
	--verify_fatal=1 --verify_state_save=0 --randrepeat=0 --group_reporting \
	>/tmp/storm.fio 2>&1 &
FIOPID=$!

# The control loop: a busybox awk random stream of operations.
n=0
ops=0
awk -v seed="$$" 'BEGIN { srand(seed); for (i = 0; i < 2000; i++) print int(rand() * 9), int(rand() * 4096), int(rand() * 64) }' >/tmp/storm.ops
while read -r op a b; do
	kill -0 "$FIOPID" 2>/dev/null || break
	case $op in
	0) dmsetup message im 0 pause ;;
	1) dmsetup message im 0 start ;;
	2) dmsetup message im 0 max_copy_rate $((b * 256)) ;;
	3) dmsetup message im 0 set_dirty "$a-$(( a + b < TOTAL ? a + b : TOTAL - 1 ))" ;;
	4) dmsetup message im 0 get_dirty "$a" "$b" >/dev/null ;;
	5) dmsetup message im 0 get_dirty_hex "$a" 512 >/dev/null ;;
	6) dmsetup suspend im && dmsetup resume im ;;
	7) dmsetup reload im --table "$(dmsetup table im)" && dmsetup resume im ;;
	8) dmsetup status im >/dev/null ;;
	esac || fail "operation $op $a $b failed"
	ops=$((ops + 1))
done </tmp/storm.ops
info "$ops control operations while fio ran"
# fio runs 25 s: at least 20 operations even on the slow debug kernel.
[ "$ops" -ge 20 ] || fail "only $ops operations ran before fio ended"

wait_pid_gone "$FIOPID" 300 || fail "fio did not finish"
wait "$FIOPID"
rc=$?
FIOPID=
[ $rc -eq 0 ] || { tail -n 30 /tmp/storm.fio; fail "fio (with verify) failed: $rc"; }
dm_msg im max_copy_rate 0
dm_msg im start
wait_state im synced 120
same_regions $SRC $DST 16
assert_eq "$(dm_field im 4)" 0 "dest_errors"
# The on-disk map is consistent: nothing dirty after a clean shutdown.
run dmsetup remove im
meta_dirty "$META" >/tmp/storm.disk
[ ! -s /tmp/storm.disk ] || fail "dirty bits on disk after a synced clean shutdown: $(head -c 200 /tmp/storm.disk)"
