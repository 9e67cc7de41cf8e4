#!/bin/sh
# DESCRIPTION: metadata: the bits of a discard spanning regions stay set on disk while the discard is in flight, also after the copier has copied and cleaned those regions and clear passes have run (else a crash before it ends finds them clean with the legs different)
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 180
. "$INCMIRROR_TESTS/lib/guest.sh"
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	cleanup_devices
}
trap cleanup EXIT

# Both legs are loop devices over tmpfs (they take discards); the source
# sits under dm-delay, so that a discard stays in flight on it for 20 s
# while reads (the copier's) and flushes (the clear pass's) go through at
# once. 64 KiB regions; regions 0-15 are the discard's.
DELAY=20000
truncate -s 32M /tmp/sk.src /tmp/sk.dst
LS=$(loop_attach /tmp/sk.src)
LD=$(loop_attach /tmp/sk.dst)
SZ=$(dev_sectors "$LS")
random_fill "$LS"
dd_ if="$LS" of="$LD" bs=1M iflag=direct oflag=direct
ram_devices 1 1
META=$(dm_create meta "0 64 linear /dev/ram0 0")
zero_dev "$META"
SD=$(dm_create sd "0 $SZ delay $LS 0 0 $LS 0 0 $LS 0 0")
DEV=$(dm_create im "0 $SZ incmirror $SD $LD 128 3 incremental metadata $META")
dm_msg im start
wait_state im synced 30
[ -z "$(meta_dirty "$META")" ] || fail "bits set on disk before the discard"

# Writes to the source now wait 20 s; reads and flushes do not.
dm_swap sd "0 $SZ delay $LS 0 0 $LS 0 $DELAY $LS 0 0"
t0=$(uptime_ms)
blkdiscard -o 0 -l 1048576 "$DEV" &
DPID=$!
# Its admission marks regions 0-15 dirty. Any later event that wakes the
# copier (here a set_dirty of region 500; in real life another write ending
# or a region to copy) makes it copy regions 0-15 while the source's discard
# waits (the destination's discard completed at once): wait until it has.
wait_field im 2 496/512 15
dm_msg im set_dirty 500
wait_cond 15 "regions 0-15 copied while the discard is in flight ($(dmsetup status im))" \
	'[ "$(dm_field im 5)" -ge 2176 ]'
# Until the discard ends, every poll must find bits 0-15 on disk: two clear
# passes (5 s apart) have run well before it ends.
polls=0 last=$t0
while kill -0 "$DPID" 2>/dev/null; do
	meta_dirty "$META" >/tmp/sk.disk
	now=$(uptime_ms)
	if kill -0 "$DPID" 2>/dev/null; then
		r=0
		while [ $r -lt 16 ]; do
			grep -qx $r /tmp/sk.disk ||
				fail "bit of region $r clear on disk $((now - t0)) ms into a discard still in flight (on disk: $(tr '\n' ' ' </tmp/sk.disk))"
			r=$((r + 1))
		done
		polls=$((polls + 1))
		last=$now
	fi
	usleep 200000
done
wait "$DPID" || fail "blkdiscard failed"
DPID=
t1=$(uptime_ms)
[ $((t1 - t0)) -ge $((DELAY - 1000)) ] || fail "the discard took $((t1 - t0)) ms: the delay did not hold it"
# The checks must reach past two clear passes after the copy (the bits
# went 9.3 to 9.95 s into the discard before the fix).
[ $((last - t0)) -ge $((DELAY - 5000)) ] ||
	fail "the last check while the discard was in flight was $((last - t0)) ms into it ($polls polls)"
info "discard in flight $((t1 - t0)) ms; bits 0-15 on disk at all $polls polls, the last $((last - t0)) ms into it"

# Afterwards: the regions are copied again and the legs end identical.
dm_swap sd "0 $SZ delay $LS 0 0 $LS 0 0 $LS 0 0"
wait_state im synced 60
same "$LS" "$LD"
