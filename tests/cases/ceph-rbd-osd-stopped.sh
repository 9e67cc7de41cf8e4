#!/bin/sh
# DESCRIPTION: the only OSD is stopped (SIGSTOP) while an incremental mirror copies onto a krbd device mapped with osd_request_timeout: degraded within the documented time, application writes complete from the source with no error, nothing lost; after SIGCONT start reaches synced with identical devices
# CHECK-KERNEL: full (make check-full only: a Ceph cluster and krbd timeouts)
# NEEDS: ceph
# TIMEOUT: 420
. "$INCMIRROR_TESTS/lib/guest.sh"
. "$INCMIRROR_TESTS/lib/ceph.sh"
# fio_write_clat_ms, ms_ok
. "$INCMIRROR_TESTS/lib/nbd.sh"
WPID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	[ -n "$(ceph_osd_pid)" ] && kill -CONT "$(ceph_osd_pid)" 2>/dev/null
	dmsetup remove im >/dev/null 2>&1
	ceph_stop
}
trap cleanup EXIT

# krbd waits for an OSD forever by default (osd_request_timeout=0): a
# stopped OSD would hang the destination leg, and with it every mirrored
# write. With osd_request_timeout=T a request fails with ETIMEDOUT T s
# after it was sent; libceph looks for such requests every
# osd_keepalive_timeout (5 s, handle_timeout() in net/ceph/osd_client.c),
# so a request fails between T and T + 5 s; one more second for the error
# to reach the mirror. Not before T s (less 1 s for a request already
# waiting when the OSD was stopped): the timeout must be what fails it.
T=5
BOUND_MS=$(((T + 5 + 1) * 1000))
LOWER_MS=$(((T - 1) * 1000))

# The cluster first: ceph_start removes what a killed case left on krbd
# devices (e.g. im, which would keep brd loaded).
ceph_start 64
ram_devices 1 16
SRC=/dev/ram0
random_fill $SRC
ceph_rbd create --size 16M --image-feature layering rbd/dst
DST=$(ceph_map dst osd_request_timeout=$T)
# The backup, then 8 MiB changed since (regions 64-191 of 256).
dd_ if=$SRC of="$DST" bs=1M iflag=direct oflag=direct
dd_ if=/dev/urandom of=$SRC bs=1M seek=4 count=8 oflag=direct

DEV=$(dm_create im "$(incmirror_table $SRC "$DST" 128 incremental max_copy_rate 1024 error_threshold 1)")
dm_msg im set_dirty 64-191
dm_msg im start
wait_cond 60 "copy progress" '[ "$(in_sync im)" -ge 140 ]'

# The application: 2 MiB of verified 4 KiB writes over the whole device,
# paced (256 KiB/s) so they run before, across and after the stop.
cd /tmp || fail "cd /tmp"
IMV_DEV=$DEV IMV_SIZE=16m IMV_IO_SIZE=2m IMV_ENGINE=$(fio_engine) IMV_SEED=78 \
	fio --rate=256k --output-format=json "$INCMIRROR_TESTS/fio/incmirror-verify.fio" \
	>/tmp/cos.fio 2>/tmp/cos.fio.err &
WPID=$!
IMDM=/dev/$(dm_sysname im)
wait_cond 30 "fio writing" '[ "$(blk_stat $IMDM 7)" -gt 16 ]'

OSD=$(ceph_osd_pid)
t0=$(uptime_ms)
kill -STOP "$OSD" || fail "SIGSTOP osd.0"
wait_state im degraded 60
t1=$(uptime_ms)
info "degraded $((t1 - t0)) ms after osd.0 was stopped (osd_request_timeout=$T): $(dmsetup status im)"
[ $((t1 - t0)) -le $BOUND_MS ] ||
	fail "degraded only $((t1 - t0)) ms after osd.0 stopped (bound $BOUND_MS ms)"
[ $((t1 - t0)) -ge $LOWER_MS ] ||
	fail "degraded $((t1 - t0)) ms after osd.0 stopped: before osd_request_timeout=$T s could fail a request (at least $LOWER_MS ms)"
[ "$(in_sync im)" -lt 256 ] || fail "everything in sync although the copy was cut"

wait "$WPID"
rc=$?
WPID=
[ $rc -eq 0 ] || { cat /tmp/cos.fio.err; fail "application writes failed ($rc) while only the OSD was stopped"; }
fio_write_clat_ms /tmp/cos.fio >/tmp/cos.lat
read -r p99 max </tmp/cos.lat
info "application writes: p99 $p99 ms, max $max ms"
ms_ok "$max" le "$BOUND_MS" "the longest application write" ||
	fail "an application write took $max ms (bound $BOUND_MS ms)"
# Written while degraded: only the source has it, the map says dirty.
dd_ if=/dev/urandom of=$DEV bs=64k seek=240 count=4 oflag=direct conv=fsync
assert_eq "$(echo $(dm_msg im get_dirty 240 4))" "240-243" "regions written while degraded"

# The OSD comes back; the same krbd device, start retries the dirty regions.
kill -CONT "$OSD" || fail "SIGCONT osd.0"
NDIRTY=$((256 - $(in_sync im)))
C0=$(dm_field im 5)
dm_msg im start
wait_state im synced 180
info "after SIGCONT: $NDIRTY dirty regions; copied_sectors $C0 before start, $(dm_field im 5) at synced"
same_regions $SRC "$DST" 128
run dmsetup message im 0 verify
wait_cond 120 "verify to finish" "dmsetup status im | grep -q 'verify=done'"
VER=$(dmsetup status im | grep -o 'verify=done [0-9]* [0-9]*')
info "$VER"
set -- $VER
assert_eq "$2" "$(total_regions im)" "regions verified"
assert_eq "$3" 0 "mismatches found by verify"
run dmsetup remove im
exit 0
