#!/bin/sh
# DESCRIPTION: flushes and FUA reach both legs; discards reach both when both support them, else the region is recopied
. "$INCMIRROR_TESTS/lib/guest.sh"
cleanup() {
	cleanup_devices
	rm -f /tmp/fd.*
}
trap cleanup EXIT

ram_devices 2 32
# Loop devices over sparse tmpfs files: they have a write cache (so flushes
# get through and are counted in /sys/block/loopN/stat field 16) and discard
# (punching holes: reads back zeros; counted in field 12).
truncate -s 32M /tmp/fd.src /tmp/fd.dst || fail "truncate"
LS=$(loop_attach /tmp/fd.src)
LD=$(loop_attach /tmp/fd.dst)
[ "$(awk '{ print NF }' /sys/block/${LD#/dev/}/stat)" -ge 17 ] ||
	fail "no flush counters in /sys/block/*/stat"

flushes() { blk_stat "$1" 16; }
discards() { blk_stat "$1" 12; }

# ---- flush and FUA --------------------------------------------------------
# The source (brd) has no write cache, the destination (loop) has one: the
# mirror must still advertise a write cache and send flushes to the
# destination.
DEV=$(dm_create im "$(incmirror_table /dev/ram0 "$LD" 128 incremental)")
dm_msg im start
wait_state im synced 30
wc=$(cat /sys/block/$(dm_sysname im)/queue/write_cache)
assert_eq "$wc" "write back" "write_cache of the mirror (destination has one)"
f=$(flushes "$LD")
run dd if=/dev/urandom of="$DEV" bs=4k count=1 oflag=direct conv=notrunc,fsync 2>/dev/null
[ "$(flushes "$LD")" -gt "$f" ] || fail "fsync on the mirror sent no flush to the destination"
run dmsetup remove im

# Both legs with a write cache, each under a dm-log-writes device (logs on
# the ramdisks): a flush or a FUA counter on a leg moves also when a FUA is
# stripped and made durable by a flush instead (an O_SYNC write's own), the
# log keeps each write's flags.
modprobe dm-log-writes 2>/dev/null
[ -d /sys/module/dm_log_writes ] || fail "dm-log-writes is not available"
zero_dev /dev/ram0 2048
zero_dev /dev/ram1 2048
LWS=$(dm_create lws "0 $(dev_sectors "$LS") log-writes $LS /dev/ram0")
LWD=$(dm_create lwd "0 $(dev_sectors "$LD") log-writes $LD /dev/ram1")
DEV=$(dm_create im "$(incmirror_table "$LWS" "$LWD" 128 incremental)")
dm_msg im start
wait_state im synced 30
fs=$(flushes "$LS")
fd=$(flushes "$LD")
run dd if=/dev/urandom of="$DEV" bs=4k count=1 oflag=direct conv=notrunc,fsync 2>/dev/null
[ "$(flushes "$LS")" -gt "$fs" ] || fail "fsync sent no flush to the source"
[ "$(flushes "$LD")" -gt "$fd" ] || fail "fsync sent no flush to the destination"
# FUA (O_DSYNC direct write): durable on both.
fs=$(flushes "$LS")
fd=$(flushes "$LD")
cd /tmp || fail "cd /tmp"
fio --name=fua --filename="$DEV" --rw=write --bs=4k --size=4k --offset=28k \
	--direct=1 --sync=1 --ioengine=psync >/tmp/fd.fio 2>&1 ||
	{ cat /tmp/fd.fio; fail "O_SYNC|O_DIRECT write through the mirror"; }
[ "$(flushes "$LS")" -gt "$fs" ] || fail "O_DSYNC write was not made durable on the source"
[ "$(flushes "$LD")" -gt "$fd" ] || fail "O_DSYNC write was not made durable on the destination"
same_regions "$LS" "$LD" 128
# The write reached each leg as a FUA write: a log entry of 4 KiB at 28 KiB
# with the fua flag (lw-replay list: index, log offset, flags, start, bytes).
# Removing the log-writes devices completes their logs.
run dmsetup remove im
run dmsetup remove lws
run dmsetup remove lwd
for l in /dev/ram0 /dev/ram1; do
	lw-replay list "$l" >/tmp/fd.list || fail "lw-replay list $l"
	awk '$3 ~ /(^|,)fua(,|$)/ && $4 == 28672 && $5 == 4096 { n++ } END { exit !n }' /tmp/fd.list ||
		{ grep ' 28672 4096' /tmp/fd.list; fail "no FUA write of 4 KiB at 28 KiB in the log under $( [ $l = /dev/ram0 ] && echo source || echo destination)"; }
done
# The legs themselves, for the discards.
DEV=$(dm_create im "$(incmirror_table "$LS" "$LD" 128 incremental)")
dm_msg im start
wait_state im synced 30

# ---- discard, both legs support it ----------------------------------------
[ "$(cat /sys/block/$(dm_sysname im)/queue/discard_max_bytes)" -gt 0 ] ||
	fail "mirror of two discard-capable devices does not advertise discard"
run dd if=/dev/urandom of="$DEV" bs=1M count=1 seek=4 oflag=direct conv=notrunc 2>/dev/null
c=$(dm_field im 5)
ds=$(discards "$LS")
dd_=$(discards "$LD")
run blkdiscard -o $((4 << 20)) -l $((1 << 20)) "$DEV"
[ "$(discards "$LS")" -gt "$ds" ] || fail "discard did not reach the source"
[ "$(discards "$LD")" -gt "$dd_" ] || fail "discard did not reach the destination"
Z=$(dd if=/dev/zero bs=1M count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
assert_eq "$(sha "$LS" 8192 2048)" "$Z" "discarded range on the source"
assert_eq "$(sha "$LD" 8192 2048)" "$Z" "discarded range on the destination"
wait_state im synced 30
# The spec sends the discard to both legs; whether the target also recopies
# the regions (a discard need not read back the same on both) is its choice.
info "sectors copied again after a discard both legs took: $(($(dm_field im 5) - c))"
same_regions "$LS" "$LD" 128
run dmsetup remove im

# ---- discard, the destination lacks it --------------------------------------
# A loop device over brd has no discard (loop maps it to the backing
# device's write-zeroes, which brd lacks).
LN=$(loop_attach /dev/ram1)
assert_eq "$(cat /sys/block/${LN#/dev/}/queue/discard_max_bytes)" 0 "discard_max_bytes of a loop over brd"
DEV=$(dm_create im "$(incmirror_table "$LS" "$LN" 128)")
wait_state im synced 60
same_regions "$LS" "$LN" 128
[ "$(cat /sys/block/$(dm_sysname im)/queue/discard_max_bytes)" -gt 0 ] ||
	fail "mirror does not take discards when only the source supports them"
run dd if=/dev/urandom of="$DEV" bs=1M count=1 seek=4 oflag=direct conv=notrunc 2>/dev/null
c=$(dm_field im 5)
run blkdiscard -o $((4 << 20)) -l $((1 << 20)) "$DEV"
wait_state im synced 60
assert_eq "$(sha "$LS" 8192 2048)" "$Z" "discarded range on the source"
# Regions 64-79 were marked dirty and copied again: the destination reads
# what the source reads.
assert_eq "$(($(dm_field im 5) - c))" 2048 "sectors recopied after the discard (16 regions)"
same_regions "$LS" "$LN" 128
run dmsetup remove im
