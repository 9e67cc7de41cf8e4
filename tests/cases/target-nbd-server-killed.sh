#!/bin/sh
# DESCRIPTION: the NBD server dies mid-copy: degraded within the documented time, application writes complete from the source with no error, nothing lost; a reload onto the reconnected server with the saved map ends synced and identical
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
. "$INCMIRROR_TESTS/lib/nbd.sh"
WPID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	nbd_cleanup
	cleanup_devices
	rm -f /tmp/nsk.*
}
trap cleanup EXIT

# nbd-client -t; the documented bound is nbd_bound_ms (tests/lib/nbd.sh).
NBD_TIMEOUT=3
BOUND_MS=$(nbd_bound_ms $NBD_TIMEOUT)

SRC=/dev/ram0
nbd_backup_pair /tmp/nsk.img
# 32 MiB changed since the backup: regions 256-767.
dd_ if=/dev/urandom of=$SRC bs=1M seek=16 count=32 oflag=direct

nbd_serve /tmp/nsk.img 10809
nbd_connect 10809 /dev/nbd0 $NBD_TIMEOUT
netem delay 5ms 2ms

DEV=$(dm_create im "$(incmirror_table $SRC /dev/nbd0 128 incremental max_copy_rate 4096 error_threshold 1)")
dm_msg im set_dirty 256-767
dm_msg im start
wait_cond 60 "copy progress" '[ "$(in_sync im)" -ge 640 ]'

# The application: 4 MiB of verified 4 KiB writes over the whole device,
# paced (1 MiB/s) so they run before, across and after the server's death.
cd /tmp || fail "cd /tmp"
IMV_DEV=$DEV IMV_SIZE=64m IMV_IO_SIZE=4m IMV_ENGINE=$(fio_engine) IMV_SEED=77 \
	fio --rate=1m --output-format=json "$INCMIRROR_TESTS/fio/incmirror-verify.fio" \
	>/tmp/nsk.fio 2>/tmp/nsk.fio.err &
WPID=$!
IMDM=/dev/$(dm_sysname im)
wait_cond 30 "fio writing" '[ "$(blk_stat $IMDM 7)" -gt 64 ]'

EV=$(dm_events im)
t0=$(uptime_ms)
nbd_kill_server 10809
wait_state im degraded $((2 * NBD_TIMEOUT + 10))
t1=$(uptime_ms)
info "degraded $((t1 - t0)) ms after the server was killed: $(dmsetup status im)"
[ $((t1 - t0)) -le $BOUND_MS ] ||
	fail "degraded only $((t1 - t0)) ms after the server died (timeout ${NBD_TIMEOUT} s)"
[ "$(dm_events im)" -gt "$EV" ] || fail "no event on entering degraded"
[ "$(in_sync im)" -lt 1024 ] || fail "everything in sync although the copy was cut"

wait "$WPID"
rc=$?
WPID=
[ $rc -eq 0 ] || { cat /tmp/nsk.fio.err; fail "application writes failed ($rc) while only the destination died"; }
# Not in $(...): a failure there would end only the subshell.
fio_write_clat_ms /tmp/nsk.fio >/tmp/nsk.lat
read -r p99 max </tmp/nsk.lat
lat="$p99 $max"
info "application writes: p99 ${lat% *} ms, max ${lat#* } ms"
# No write waited longer than the documented bound.
ms_ok "$max" le "$BOUND_MS" "the longest application write" ||
	fail "an application write took ${lat#* } ms (bound $BOUND_MS ms)"
# Written while degraded: only the source has it, the map says dirty.
dd_ if=/dev/urandom of=$DEV bs=64k seek=900 count=4 oflag=direct conv=fsync
dirty=$(dm_msg im get_dirty 900 4)
assert_eq "$(echo $dirty)" "900-903" "regions written while degraded"

# The server comes back on the same storage; the client device is dead, so
# connect a new one and reload the mirror onto it, keeping the map as
# documented: save it while suspended (no write can change it any more),
# load the table with `incremental` (all clean, state loading), load the
# saved map, start.
nbd_serve /tmp/nsk.img 10810
nbd_connect 10810 /dev/nbd1 $NBD_TIMEOUT
run dmsetup suspend im
get_dirty_all im >/tmp/nsk.before
NDIRTY=$(ranges_count </tmp/nsk.before)
run incmirror-bitmap save im -o /tmp/nsk.map
run dmsetup reload im --table "$(incmirror_table $SRC /dev/nbd1 128 incremental error_threshold 1)"
run dmsetup resume im
assert_eq "$(dm_field im 1)" loading "state of the reloaded incremental table"
assert_eq "$(in_sync im)" 1024 "in sync before the saved map is loaded"
run incmirror-bitmap load im /tmp/nsk.map
get_dirty_all im >/tmp/nsk.after
cmp /tmp/nsk.before /tmp/nsk.after || fail "the map after save, reload and load differs from the one saved"
dm_msg im start
wait_state im synced 120
info "after the reload: $NDIRTY dirty regions, copied $(dm_field im 5) sectors"
# Only the dirty regions were copied again, not the device.
[ "$(dm_field im 5)" -le $((NDIRTY * 128)) ] ||
	fail "copied $(dm_field im 5) sectors for $NDIRTY dirty regions"
same_regions $SRC /dev/nbd1 128
run dmsetup remove im
nbd_disconnect /dev/nbd1
same_regions $SRC /tmp/nsk.img 128
