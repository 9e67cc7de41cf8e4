#!/bin/sh
# DESCRIPTION: lw-replay replays a dm-log-writes log point by point to the logged device's state at every mark (512 B and 4 KiB sectors; flush, FUA, discard), and a log copied before removal replays past the super's nr_entries
# CHECK-KERNEL: full (only in make check-full, on both kernels: make check's 15 minutes)
# TIMEOUT: 300
. "$INCMIRROR_TESTS/lib/guest.sh"
cleanup() {
	cleanup_devices
	rm -f /tmp/lwr.*
}
trap cleanup EXIT

command -v lw-replay >/dev/null || fail "lw-replay is not on PATH"
modprobe dm-log-writes || fail "modprobe dm-log-writes"
MIB=32
# ram0: data (512 B sectors), ram1: its log, ram2: its replay, ram3: the log
# of the 4 KiB-sector device, ram4: its replay, ram5: replay of the cut log.
# Fresh ramdisks read as zeroes.
ram_devices 6 $MIB
DD=/usr/bin/dd		# coreutils dd: busybox's has no oflag=dsync

FLUSHES=0	# flushes the workload issues (fsync/sync on the device)
FUAS=0		# FUA writes it issues (O_DSYNC with O_DIRECT)

# wr BS SEEK COUNT [OFLAG [CONV]]: random data through the log-writes device.
wr() {
	run $DD if=/dev/urandom of=/dev/mapper/lw bs="$1" seek="$2" count="$3" \
		${4:+oflag=$4} ${5:+conv=$5} status=none
}
# mark NAME: mark the log, record the data device's checksum for the mark.
# Every step flushes before its mark: dm-log-writes logs a write only at the
# next flush, and a mark at once.
mark() {
	dm_msg lw mark "$1"
	echo "$1 $(sha "$DATA")" >>"$MARKS"
}
queue_file() { # DEV FILE: /sys/block/<dev>/queue/FILE
	cat "/sys/block/$(basename "$(readlink -f "$1")")/queue/$2"
}

# workload UNIT: writes of every kind, one mark after each step. UNIT is the
# smallest direct I/O the device takes (its logical block size).
workload() {
	_u=$1
	: >"$MARKS"
	wr 1M 0 1 direct fsync
	FLUSHES=$((FLUSHES + 1))
	mark m1-fsync
	wr 64K 80 1 direct,dsync	# FUA (then a flush)
	FUAS=$((FUAS + 1))
	mark m2-fua
	wr "$_u" $((6320640 / _u)) 7 direct
	wr "$_u" $((6320640 / _u + 100)) 3 direct
	run sync /dev/mapper/lw
	FLUSHES=$((FLUSHES + 1))
	mark m3-sync
	wr 256K 2 1 direct fsync	# over part of m1's write
	FLUSHES=$((FLUSHES + 1))
	mark m4-overwrite
	if [ "$(queue_file "$DATA" discard_max_bytes)" -gt 0 ]; then
		run blkdiscard -o 262144 -l 262144 /dev/mapper/lw
		run sync /dev/mapper/lw
		FLUSHES=$((FLUSHES + 1))
		mark m5-discard
	else
		info "$DATA has no discard: no discard step"
	fi
	wr 1M 8 4 direct fsync		# split into several bios
	FLUSHES=$((FLUSHES + 1))
	mark m6-big
	wr 4K 3000 100 "" fsync		# buffered, written back by fsync
	FLUSHES=$((FLUSHES + 1))
	mark m7-buffered
}

# check_log LOG TARGET SECTORSIZE: the log of a cleanly removed device;
# replay it point by point onto TARGET (zeroes), compare at every mark.
check_log() {
	lw-replay info "$1" >/tmp/lwr.info || fail "lw-replay info $1"
	info "$(tr '\n' ' ' </tmp/lwr.info)"
	grep -qx "sectorsize: $3" /tmp/lwr.info || fail "$1: sectorsize is not $3"
	_n=$(sed -n 's/^entries: //p' /tmp/lwr.info)
	_ns=$(sed -n 's/^super-nr-entries: //p' /tmp/lwr.info)
	assert_eq "$_n" "$_ns" "entries found in the log of a removed device vs the super's nr_entries"
	grep -q '^scan-end: offset [0-9]*: zeroed entry header' /tmp/lwr.info ||
		fail "$1: the scan did not end on zeroes: $(grep scan-end /tmp/lwr.info)"
	lw-replay points "$1" >/tmp/lwr.points || fail "lw-replay points $1"
	_f=$(awk '$2 ~ /(^|,)flush(,|$)/' /tmp/lwr.points | wc -l)
	_a=$(awk '$2 ~ /(^|,)fua(,|$)/' /tmp/lwr.points | wc -l)
	info "points: $(wc -l </tmp/lwr.points), $_f flush, $_a FUA; issued $FLUSHES flushes, $FUAS FUA"
	[ "$_f" -ge "$FLUSHES" ] || fail "points lists $_f flushes, the workload issued $FLUSHES"
	[ "$_a" -ge "$FUAS" ] || fail "points lists $_a FUA entries, the workload issued $FUAS"
	awk '$2 == "mark" { print $3 }' /tmp/lwr.points >/tmp/lwr.pmarks
	{ cut -d' ' -f1 "$MARKS"; echo dm-log-writes-end; } >/tmp/lwr.wmarks
	cmp -s /tmp/lwr.pmarks /tmp/lwr.wmarks ||
		fail "marks in the log: $(tr '\n' ' ' </tmp/lwr.pmarks), want $(tr '\n' ' ' </tmp/lwr.wmarks)"
	_prev=0
	_checked=0
	while read -r _i _w _name; do
		lw-replay replay "$1" "$2" --from $_prev --to $((_i + 1)) ||
			fail "lw-replay replay $1 $2 --from $_prev --to $((_i + 1))"
		_prev=$((_i + 1))
		[ "$_w" = mark ] && [ "$_name" != dm-log-writes-end ] || continue
		_want=$(awk -v n="$_name" '$1 == n { print $2 }' "$MARKS")
		assert_eq "$(sha "$2")" "$_want" "sha256 of $2 replayed to mark $_name (entry $_i)"
		_checked=$((_checked + 1))
	done </tmp/lwr.points
	assert_eq "$_checked" "$(wc -l <"$MARKS")" "marks checked"
	lw-replay replay "$1" "$2" --from $_prev || fail "lw-replay replay $1 $2 --from $_prev"
	same "$DATA" "$2"
	info "$1: $_checked marks replayed and matched"
}

# ---- 512-byte sectors: brd ------------------------------------------------
DATA=/dev/ram0
MARKS=/tmp/lwr.marks512
dm_create lw "0 $(dev_sectors "$DATA") log-writes $DATA /dev/ram1" >/dev/null
workload 512

# A copy of the log taken before removal, as a crash leaves it: a write and
# a flush after the last mark are logged, but the super is rewritten only
# after FUA and mark entries, so they lie past its nr_entries.
wr 4K 4000 1 direct fsync
CRASH_SHA=$(sha $DATA)
snap_ready() {
	$DD if=/dev/ram1 of=/tmp/lwr.snap bs=1M iflag=direct status=none || return 1
	lw-replay info /tmp/lwr.snap >/tmp/lwr.sinfo 2>/dev/null || return 1
	lw-replay list /tmp/lwr.snap >/tmp/lwr.slist 2>/dev/null || return 1
	grep -qx 'entries-after-super: 2' /tmp/lwr.sinfo &&
		tail -n 3 /tmp/lwr.slist | awk '
			NR == 1 && !($3 == "mark" && $6 == "m7-buffered") { bad = 1 }
			NR == 2 && !($3 == "write" && $4 == 4000 * 4096 && $5 == 4096) { bad = 1 }
			NR == 3 && $3 != "flush" { bad = 1 }
			END { exit bad || NR != 3 }'
}
wait_cond 30 "the write and flush after the last mark in the log, past the super's nr_entries" snap_ready
info "cut log: $(tr '\n' ' ' </tmp/lwr.sinfo)"
run lw-replay replay /tmp/lwr.snap /dev/ram5
assert_eq "$(sha /dev/ram5)" "$CRASH_SHA" "sha256 after replaying the cut log, entries past nr_entries included"
lw-replay info --no-scan /tmp/lwr.snap | grep -q '^entries-after-super: 0$' ||
	fail "info --no-scan still counts entries past nr_entries"

run dmsetup remove lw
drop_caches /dev/ram1
check_log /dev/ram1 /dev/ram2 512

# diff-regions on devices: one 4 KiB block changed at 5 MiB + 8 KiB
run lw-replay diff-regions $DATA 0 /dev/ram2 0 $((MIB * 1048576)) 65536
run $DD if=/dev/urandom of=/dev/ram2 bs=4K seek=$((5 * 256 + 2)) count=1 oflag=direct status=none
lw-replay diff-regions $DATA 0 /dev/ram2 0 $((MIB * 1048576)) 65536 >/tmp/lwr.diff
assert_eq "$?" 1 "diff-regions exit status on a difference"
assert_eq "$(cat /tmp/lwr.diff)" 80 "regions that differ"

# ---- 4 KiB sectors: loop with 4 KiB blocks over a tmpfs file ---------------
# Entries record sectors in units of the log's sectorsize, 4096 here.
modprobe loop 2>/dev/null
truncate -s ${MIB}M /tmp/lwr.data4k || fail "truncate"
L=$(losetup -f) || fail "no free loop device"
[ -b "$L" ] || mknod "$L" b 7 "${L#/dev/loop}" || fail "mknod $L"
run /usr/sbin/losetup -b 4096 "$L" /tmp/lwr.data4k
assert_eq "$(queue_file "$L" logical_block_size)" 4096 "logical block size of $L"
DATA=$L
MARKS=/tmp/lwr.marks4k
FLUSHES=0 FUAS=0
dm_create lw "0 $(dev_sectors "$DATA") log-writes $DATA /dev/ram3" >/dev/null
workload 4096
run dmsetup remove lw
drop_caches /dev/ram3
check_log /dev/ram3 /dev/ram4 4096
