#!/bin/sh
# DESCRIPTION: metadata: a write to a clean region has its bit on disk when it completes, idle bits are cleared lazily, a hot region costs no metadata I/O
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 180
. "$INCMIRROR_TESTS/lib/guest.sh"
WPID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	cleanup_devices
}
trap cleanup EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 3 32
META=$(dm_create meta "0 64 linear /dev/ram2 0")
zero_dev "$META"
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128 incremental metadata "$META")")
dm_msg im start
wait_state im synced 30

# A 4 KiB write into region 37 (byte 37 * 64 KiB + 8 KiB).
dd_ if=/dev/urandom of="$DEV" bs=4k seek=$((37 * 16 + 2)) count=1 oflag=direct
meta_dirty "$META" >/tmp/w.disk
grep -qx 37 /tmp/w.disk || fail "bit of region 37 not on disk after the write completed: $(tr '\n' ' ' </tmp/w.disk)"
# A write spanning regions 40-41 (a discard-like multi-region bio is split
# by dm into per-region bios; each is covered).
dd_ if=/dev/urandom of="$DEV" bs=4k seek=$((41 * 16 - 1)) count=2 oflag=direct
meta_dirty "$META" >/tmp/w.disk
grep -qx 40 /tmp/w.disk && grep -qx 41 /tmp/w.disk ||
	fail "bits of regions 40 and 41 not on disk: $(tr '\n' ' ' </tmp/w.disk)"
t0=$(uptime_ms)

# Idle: cleared within two clear periods (5 s each) plus slack.
wait_cond 20 "bits of idle regions cleared on disk" \
	'meta_dirty "$META" >/tmp/w.disk; [ ! -s /tmp/w.disk ]'
t1=$(uptime_ms)
[ $((t1 - t0)) -ge 4000 ] || fail "bits cleared after $((t1 - t0)) ms: not lazily"
info "idle bits cleared $((t1 - t0)) ms after the last write"

# Hot region 50: written every 200 ms for 14 s. Its bit stays set and the
# metadata device sees at most a couple of writes (the first mark).
META_SYS=$(dm_sysname meta)
w0=$(awk '{ print $5 }' /sys/block/$META_SYS/stat)
(
	i=0
	while [ $i -lt 70 ]; do
		dd if=/dev/urandom of="$DEV" bs=4k seek=$((50 * 16 + i % 16)) count=1 oflag=direct 2>/dev/null
		usleep 200000
		i=$((i + 1))
	done
) &
WPID=$!
wait_cond 10 "bit of hot region 50 on disk" 'meta_dirty "$META" | grep -qx 50'
w1=$(awk '{ print $5 }' /sys/block/$META_SYS/stat)
wait_pid_gone "$WPID" 60 || fail "hot writer did not finish"
WPID=
meta_dirty "$META" | grep -qx 50 || fail "bit of hot region 50 cleared while it was written"
w2=$(awk '{ print $5 }' /sys/block/$META_SYS/stat)
info "metadata writes: $((w1 - w0)) for the first write, $((w2 - w1)) during 14 s of a hot region"
[ $((w2 - w1)) -le 1 ] || fail "$((w2 - w1)) metadata writes while the only written region stayed hot"
wait_state im synced 30
same_regions $SRC $DST 128
