#!/bin/sh
# DESCRIPTION: 40 create/copy/write/remove cycles leak no memory (slab + vmalloc and free pages bounded) and the module unloads and reloads
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 180
. "$INCMIRROR_TESTS/lib/guest.sh"
trap 'cleanup_devices; modprobe dm-incmirror 2>/dev/null' EXIT

# Sparse 16 GiB ramdisks: with 8-sector regions each table has 4 Mi regions,
# a 512 KiB dirty map, so a table that is not freed shows up at once.
ram_devices 2 16384
SZ=$(dev_sectors /dev/ram0)
dd if=/dev/urandom of=/tmp/leak.blob bs=4k count=64 2>/dev/null

# measure: after dropping caches, K = unreclaimable slab + vmalloc and F =
# MemFree (KiB). Free pages see what slab and vmalloc do not: the copier's
# buffers (copy_depth jobs of 1 MiB, alloc_page each), 8 MiB a table here.
measure() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	K=$(($(meminfo_kb SUnreclaim) + $(meminfo_kb VmallocUsed)))
	F=$(meminfo_kb MemFree)
	[ -n "$F" ] && [ "$F" -gt 0 ] || fail "no MemFree in /proc/meminfo"
}

cycle() {
	i=$1
	# Ten places, used in turn: after the first ten cycles the ramdisks
	# have every page they will hold, so that free memory measures leaks.
	p=$(((i % 10 + 1) * 1000))
	DEV=$(dm_create leak "0 $SZ incmirror /dev/ram0 /dev/ram1 8 3 incremental copy_depth 8")
	dm_msg leak set_dirty 0-255 $p-$((p + 63)) >/dev/null
	dm_msg leak start >/dev/null
	# writes, some into regions being copied, and a flush
	dd if=/tmp/leak.blob of="$DEV" bs=4k seek=$((p - 32)) oflag=direct conv=notrunc,fsync 2>/dev/null ||
		fail "write in cycle $i"
	dm_msg leak get_dirty 0 100000 >/dev/null
	wait_state leak synced 30
	# removed with dirty regions: on even cycles with copies running, on odd
	# ones paused
	[ $((i % 2)) -eq 1 ] && dm_msg leak pause >/dev/null
	dm_msg leak set_dirty 5000-5100 >/dev/null
	dmsetup remove leak || fail "remove in cycle $i"
}

i=1
while [ $i -le 40 ]; do
	cycle $i
	[ $i -eq 10 ] && { measure; k10=$K f10=$F; }
	i=$((i + 1))
done
measure
k40=$K f40=$F
info "SUnreclaim+VmallocUsed: $k10 KiB after 10 cycles, $k40 KiB after 40; MemFree: $f10 KiB, $f40 KiB"
# 30 leaked 512 KiB maps would be 15 MiB; allow 1 MiB of noise.
[ $((k40 - k10)) -lt 1024 ] || fail "kernel memory grew by $((k40 - k10)) KiB over 30 cycles"
# 30 leaked sets of copy buffers would be 240 MiB (8 MiB a table); allow
# 32 MiB of noise (per-CPU page lists, the kernel log): a clean run of
# make check on 6.12 shrank by 17.5 MiB.
[ $((f10 - f40)) -lt 32768 ] || fail "free memory shrank by $((f10 - f40)) KiB over 30 cycles"

cleanup_devices
grep -q '^dm_incmirror ' /proc/modules || fail "dm_incmirror not loaded"
rmmod dm_incmirror || fail "rmmod dm_incmirror failed: $(grep '^dm_incmirror ' /proc/modules)"
grep -q '^dm_incmirror ' /proc/modules && fail "dm_incmirror still loaded after rmmod"
dmsetup targets | grep -q '^incmirror' && fail "incmirror target still registered after rmmod"
modprobe dm-incmirror || fail "modprobe dm-incmirror after rmmod"
dmsetup targets | grep -q '^incmirror' || fail "incmirror target not registered after modprobe"
# and it works again
DEV=$(dm_create leak "0 $SZ incmirror /dev/ram0 /dev/ram1 8 1 incremental")
dm_msg leak start
wait_state leak synced 30
run dmsetup remove leak
rm -f /tmp/leak.blob
