#!/bin/sh
# DESCRIPTION: many small writes race copies of the same 8-sector regions (and set_dirty of written regions); synced devices end identical
. "$INCMIRROR_TESTS/lib/guest.sh"
HAMMER=
cleanup() {
	[ -n "$HAMMER" ] && kill "$HAMMER" 2>/dev/null
	cleanup_devices
}
trap cleanup EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 16
random_fill $SRC
fill $DST 5a

# 4 KiB regions, as many copies in flight as allowed: most writes hit a region
# whose copy is running or about to start.
DEV=$(dm_create im "$(incmirror_table $SRC $DST 8 copy_depth 64)")
TOTAL=$(total_regions im)
assert_eq "$TOTAL" 4096 "total regions"

# Keep copies running for the whole load: re-dirty the hot regions (the ones
# fio hammers) and, every few rounds, the whole device.
rm -f /tmp/race.stop
(
	n=0
	while [ ! -e /tmp/race.stop ]; do
		dmsetup message im 0 set_dirty 0-63 || exit 1
		dmsetup message im 0 set_dirty 64-127 2000-2100 4095 || exit 1
		[ $((n % 4)) -eq 0 ] && { dmsetup message im 0 set_dirty 0-4095 || exit 1; }
		n=$((n + 1))
	done
	echo "$n" >/tmp/race.rounds
) &
HAMMER=$!

cd /tmp || fail "cd /tmp"
# hot: 4 jobs on the first 128 regions; cold: 4 jobs over the whole device
# with sizes from 512 B to 16 KiB (so writes span several regions and cover
# parts of regions).
fio --ioengine="$(fio_engine)" --direct=1 --iodepth=8 --norandommap --randrepeat=0 \
	--time_based --runtime=8 --group_reporting \
	--name=hot --filename="$DEV" --rw=randwrite --bsrange=512-8k --blockalign=512 \
	--size=512k --numjobs=4 \
	--name=cold --filename="$DEV" --rw=randwrite --bsrange=512-16k --blockalign=512 \
	--numjobs=4 >/tmp/race.fio 2>&1
rc=$?
grep -E "err=|WRITE" /tmp/race.fio
[ $rc -eq 0 ] || { cat /tmp/race.fio; fail "fio failed: $rc"; }

touch /tmp/race.stop
wait_pid_gone "$HAMMER" 30 || fail "set_dirty loop did not stop"
wait "$HAMMER"
rc=$?
HAMMER=
[ $rc -eq 0 ] || fail "a set_dirty message was refused during the load"
info "set_dirty rounds during the load: $(cat /tmp/race.rounds)"
info "status after the load: $(dmsetup status im)"

wait_state im synced 120
# More than one full pass: re-dirtied regions were copied again under load.
[ "$(dm_field im 5)" -gt $((TOTAL * 8)) ] ||
	fail "no region was copied twice ($(dm_field im 5) sectors copied): the race was not exercised"
assert_eq "$(in_sync im)" "$TOTAL" "in_sync"
assert_eq "$(dm_field im 4)" 0 "dest_errors"
same_regions $SRC $DST 8
same_regions "$DEV" $DST 8
run dmsetup remove im
rm -f /tmp/race.*
