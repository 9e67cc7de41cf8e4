#!/bin/sh
# DESCRIPTION: writes the destination held only in its volatile cache when the table was reloaded stay unflushed in the new table: when the destination then fails and comes back without them, `start` copies exactly those regions again and the legs end identical
# CHECK-KERNEL: 6.1
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
cleanup() {
	cleanup_devices
	rm -f /tmp/cr-*
}
trap cleanup EXIT

# Loop devices on tmpfs files: they have a volatile write cache as far as
# the block layer knows, so flushes reach the target and the destination.
for f in src dst lost; do
	rm -f /tmp/cr-$f
	truncate -s 32M /tmp/cr-$f || fail "truncate"
done
SRC=$(loop_attach /tmp/cr-src)
DSTDEV=$(loop_attach /tmp/cr-dst)
LOST=$(loop_attach /tmp/cr-lost)
random_fill $SRC
dd_ if=$SRC of=$DSTDEV bs=1M oflag=direct
S=$(dev_sectors $SRC)
dm_create dst "0 $S linear $DSTDEV 0" >/dev/null
T="0 $S incmirror $SRC /dev/mapper/dst 128 3 incremental error_threshold 1"
dm_create im "$T" >/dev/null
dm_msg im start
wait_state im synced 30

# 8 regions written and flushed: the destination's data then is what it
# holds durably (LOST). Then 12 regions written and not flushed.
r=0
while [ $r -lt 8 ]; do
	dd_ if=/dev/urandom of=/dev/mapper/im bs=64k count=1 seek=$((r * 2)) oflag=direct
	r=$((r + 1))
done
run sync /dev/mapper/im
dd_ if=$DSTDEV of=$LOST bs=1M oflag=direct
r=0
while [ $r -lt 12 ]; do
	dd_ if=/dev/urandom of=/dev/mapper/im bs=64k count=1 seek=$((101 + r * 2)) oflag=direct
	r=$((r + 1))
done

# A reload (hand-over, same geometry) in between: it sends no flush to the
# destination, so the 12 regions are still only in its cache, and the new
# table has to know it (im_unflushed_take()).
f0=$(blk_stat $DSTDEV 16)
dm_swap im "$T"
f1=$(blk_stat $DSTDEV 16)
[ "$f1" = "$f0" ] || fail "the reload flushed the destination ($f0 -> $f1 flushes): nothing left unflushed to test"
assert_eq "$(dm_field im 1)" synced "state after the reload"

# The destination fails one write (degraded), then comes back holding only
# LOST: `start` copies the 12 unflushed regions and the failed one, not the
# 8 flushed ones, and the legs are identical.
dm_swap dst "0 $S error"
dd_ if=/dev/urandom of=/dev/mapper/im bs=4k count=1 seek=$((400 * 16)) oflag=direct
wait_state im degraded 10
dm_swap dst "0 $S linear $LOST 0"
c0=$(dm_field im 5)
dm_msg im start
wait_state im synced 60
c1=$(dm_field im 5)
info "$(dmsetup status im)"
same_regions $SRC $LOST 128
assert_eq $((c1 - c0)) $((13 * 128)) "sectors copied after start"
run dmsetup remove im
