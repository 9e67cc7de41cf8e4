#!/bin/sh
# DESCRIPTION: a destination that fails and comes back holding only what was flushed to it (degraded, or one error below the threshold): every region written since the last destination flush is copied again (not the flushed ones) and the legs end identical
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

# Loop devices on tmpfs files: they have a volatile write cache as far as
# the block layer knows, so flushes reach the target and the destination.
MIB=32
for f in src dst lost; do
	rm -f /tmp/cl-$f
	truncate -s ${MIB}M /tmp/cl-$f || fail "truncate"
done
SRC=$(loop_attach /tmp/cl-src)
DSTDEV=$(loop_attach /tmp/cl-dst)
LOST=$(loop_attach /tmp/cl-lost)
random_fill $SRC
dd_ if=$SRC of=$DSTDEV bs=1M oflag=direct
S=$(dev_sectors $SRC)

# The destination through a linear device, to make it fail and come back.
dm_create dst "0 $S linear $DSTDEV 0" >/dev/null
dm_create im "0 $S incmirror $SRC /dev/mapper/dst 128 3 incremental error_threshold 1" >/dev/null
[ "$(cat /sys/block/$(dm_sysname im)/queue/write_cache)" = "write back" ] ||
	fail "the mirror has no write cache: flushes would not reach it"
dm_msg im start
wait_state im synced 30

# cache_loss_setup: 40 regions (even ones) written and flushed; the
# destination's data at that moment saved in LOST (what it holds durably);
# then 24 regions (odd ones, from 201 on) written and not flushed.
cache_loss_setup() {
	r=0
	while [ $r -lt 40 ]; do
		dd_ if=/dev/urandom of=/dev/mapper/im bs=64k count=1 seek=$((r * 2)) oflag=direct
		r=$((r + 1))
	done
	f0=$(blk_stat $DSTDEV 16)
	run sync /dev/mapper/im
	f1=$(blk_stat $DSTDEV 16)
	[ "$f1" -gt "$f0" ] || fail "no flush reached the destination ($f0 -> $f1)"
	dd_ if=$DSTDEV of=$LOST bs=1M oflag=direct
	r=0
	while [ $r -lt 24 ]; do
		dd_ if=/dev/urandom of=/dev/mapper/im bs=64k count=1 seek=$((201 + r * 2)) oflag=direct
		r=$((r + 1))
	done
	assert_eq "$(dm_field im 1)" synced "state before the destination fails"
}

# fail_and_return WHAT: the destination fails one write (error target
# under dst), then answers again holding only LOST; `start`; then exactly
# the 24 unflushed regions and the one written while failing are copied
# (not the 40 flushed ones) and the legs are identical.
fail_and_return() {
	dm_swap dst "0 $S error"
	dd_ if=/dev/urandom of=/dev/mapper/im bs=4k count=1 seek=$((400 * 16)) oflag=direct
	if [ "$1" = degraded ]; then
		wait_state im degraded 10
	else
		assert_eq "$(dm_field im 4)" 1 "destination errors after one failed write"
	fi
	dm_swap dst "0 $S linear $LOST 0"
	c0=$(dm_field im 5)
	dm_msg im start
	wait_state im synced 60
	c1=$(dm_field im 5)
	info "$1: $(dmsetup status im)"
	same_regions $SRC $LOST 128
	assert_eq $((c1 - c0)) $((25 * 128)) "sectors copied after start ($1)"
	run dmsetup remove im
}

# Part 1: error_threshold 1: the failed write makes the mirror degraded.
cache_loss_setup
fail_and_return degraded

# Part 2: the default error_threshold (8): one failed write, the mirror
# stays out of degraded. (Copies paused meanwhile: failed copies would
# count errors too.)
dd_ if=$SRC of=$DSTDEV bs=1M oflag=direct
dm_swap dst "0 $S linear $DSTDEV 0"
dm_create im "0 $S incmirror $SRC /dev/mapper/dst 128 1 incremental" >/dev/null
dm_msg im start
wait_state im synced 30
cache_loss_setup
dm_msg im pause
fail_and_return below-threshold
