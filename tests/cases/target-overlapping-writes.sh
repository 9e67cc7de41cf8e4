#!/bin/sh
# DESCRIPTION: overlapping writes in flight together (which the legs may apply in different orders) re-dirty their region, so a synced mirror ends identical
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

ram_devices 2 16
DEV=$(dm_create im "$(incmirror_table /dev/ram0 /dev/ram1 128 incremental)")
dm_msg im start
wait_state im synced 30
c0=$(dm_field im 5)
assert_eq "$c0" 0 "sectors copied by an incremental mirror with nothing dirty"

# Four writers on the same 64 KiB (one region), 4 KiB random blocks, no
# serialisation of overlapping I/O: many writes overlap while in flight.
fio --name=overlap --filename="$DEV" --rw=randwrite --bs=4k --size=64k \
	--offset=1m --numjobs=4 --direct=1 --ioengine=psync --time_based \
	--runtime=4 --randrepeat=0 --refill_buffers >/tmp/overlap.fio 2>&1 ||
	{ cat /tmp/overlap.fio; fail "fio through the mirror"; }

wait_state im synced 60
# The overlapping writes must have been re-dirtied and copied again: without
# that, an order difference between the legs would stay unnoticed.
c1=$(dm_field im 5)
[ "$c1" -gt 0 ] || fail "no region was copied again after overlapping writes"
info "sectors copied again after overlapping writes: $c1"
same /dev/ram0 /dev/ram1
assert_eq "$(dm_field im 4)" 0 "dest_errors"
