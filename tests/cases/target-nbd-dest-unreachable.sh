#!/bin/sh
# DESCRIPTION: the NBD server becomes unreachable (netem loss 100%): writes stall at most the NBD request timeout and succeed, degraded within it; the device under the mirror swapped to a new connection, start ends synced and identical
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
. "$INCMIRROR_TESTS/lib/nbd.sh"
cleanup() {
	nbd_cleanup
	cleanup_devices
	rm -f /tmp/ndu.*
}
trap cleanup EXIT

# nbd-client -t; the documented bound is nbd_bound_ms (tests/lib/nbd.sh).
NBD_TIMEOUT=3
BOUND_MS=$(nbd_bound_ms $NBD_TIMEOUT)

SRC=/dev/ram0
nbd_backup_pair /tmp/ndu.img
dd_ if=/dev/urandom of=$SRC bs=1M seek=8 count=48 oflag=direct

nbd_serve /tmp/ndu.img 10809
nbd_connect 10809 /dev/nbd0 $NBD_TIMEOUT
netem delay 5ms
# The mirror's destination is a linear dm device over the NBD device, so
# the connection under it can be replaced without touching the mirror.
SZ=$(dev_sectors $SRC)
DST=$(dm_create nbddst "0 $SZ linear /dev/nbd0 0")
# error_threshold 1, as documented for NBD: the client retries on its own
# and fails a request only once the connection is given up, so the first
# error already means the destination is gone (with the default of 8, the
# errors after the first burst come one per second, the copier's back-off).
DEV=$(dm_create im "$(incmirror_table $SRC "$DST" 128 incremental max_copy_rate 4096 error_threshold 1)")
dm_msg im set_dirty 128-895
dm_msg im start
wait_cond 60 "copy progress" '[ "$(in_sync im)" -ge 400 ]'

# The network to the server goes away: nothing arrives, nothing is refused.
netem loss 100%
t0=$(uptime_ms)
dd_ if=/dev/urandom of=/tmp/ndu.w bs=64k count=1
dd if=/tmp/ndu.w of="$DEV" bs=64k seek=1000 oflag=direct conv=fsync 2>/tmp/ndu.err ||
	{ cat /tmp/ndu.err; fail "a write failed while the destination was unreachable"; }
t1=$(uptime_ms)
wait_state im degraded $((2 * NBD_TIMEOUT + 10))
t2=$(uptime_ms)
info "write stalled $((t1 - t0)) ms, degraded after $((t2 - t0)) ms (timeout ${NBD_TIMEOUT} s): $(dmsetup status im)"
# Documented: a write waits at most twice the NBD timeout (+1 s) for the
# lost destination; degraded follows within the same time.
[ $((t1 - t0)) -le $BOUND_MS ] ||
	fail "a write stalled $((t1 - t0)) ms (timeout ${NBD_TIMEOUT} s)"
[ $((t2 - t0)) -le $BOUND_MS ] ||
	fail "degraded only after $((t2 - t0)) ms (timeout ${NBD_TIMEOUT} s)"
assert_eq "$(echo $(dm_msg im get_dirty 1000 1))" 1000 "the region written while the destination was lost"
# Degraded: writes go to the source only and do not wait for anything.
t0=$(uptime_ms)
dd_ if=/tmp/ndu.w of="$DEV" bs=64k seek=1010 oflag=direct conv=fsync
t1=$(uptime_ms)
[ $((t1 - t0)) -lt 1000 ] || fail "a write took $((t1 - t0)) ms in degraded"

# The network is back. The old client device gave up; connect a new one
# and swap it in under the mirror: the mirror keeps its map, start copies
# what is dirty.
netem delay 5ms
nbd_connect 10809 /dev/nbd1 $NBD_TIMEOUT
dm_swap nbddst "0 $SZ linear /dev/nbd1 0"
dm_msg im max_copy_rate 0
dm_msg im start
wait_state im synced 120
same_regions $SRC "$DST" 128
run dmsetup remove im
run dmsetup remove nbddst
nbd_disconnect /dev/nbd1
same_regions $SRC /tmp/ndu.img 128
