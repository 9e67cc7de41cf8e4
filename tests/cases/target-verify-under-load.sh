#!/bin/sh
# DESCRIPTION: verify under fio write load with verify, writes and comparisons crowded into 16 regions of 8 KiB and destination reads delayed 20 ms (dm-delay) so that writes arrive during comparisons: no false mismatch, and the mirror ends synced and identical
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 300
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

ram_devices 2 8
random_fill /dev/ram0
SZ=$(dev_sectors /dev/ram1)
# Reads of the destination take 20 ms, its writes none: a write that is not
# held back while its region is compared lands between the two reads of
# the comparison (tests/mutants/verify-no-exclusion.patch).
DST=$(dm_create vdst "0 $SZ delay /dev/ram1 0 20 /dev/ram1 0 0")
DEV=$(dm_create im "$(incmirror_table /dev/ram0 "$DST" 16)")
wait_state im synced 120

# Two QD1 writers in the first 128 KiB (regions 0-15), verified by fio.
cd /tmp || fail "cd /tmp"
fio --name=vload --filename="$DEV" --ioengine=psync --direct=1 --numjobs=2 \
	--rw=randwrite --bs=4k --size=64k --offset_increment=64k --runtime=20 --time_based \
	--rate=1m --verify=crc32c --verify_backlog=16 --do_verify=1 \
	--verify_fatal=1 --verify_state_save=0 --randrepeat=0 --group_reporting \
	>/tmp/vload.fio 2>&1 &
FIOPID=$!

passes=0
compared=0
while kill -0 "$FIOPID" 2>/dev/null; do
	dm_msg im verify 0 16
	wait_cond 60 "verify to end" '[ "$(dm_field im 10)" = verify=done ]'
	assert_eq "$(dm_field im 12)" 0 "mismatches reported under write load (pass $passes)"
	compared=$((compared + $(dm_field im 11)))
	passes=$((passes + 1))
done
wait "$FIOPID" || { tail -n 30 /tmp/vload.fio; fail "fio (with verify) failed"; }
info "$passes verify passes, $compared regions compared under load"
# 20 s of 16-region passes at 20 ms per comparison: about 200 (the mutant
# shows mismatches within the first few passes).
[ "$compared" -ge 100 ] || fail "only $compared regions compared under load"

wait_state im synced 120
same_regions /dev/ram0 /dev/ram1 16
dm_msg im verify
wait_field im 10 verify=done 200
assert_eq "$(dm_field im 11)" "$(total_regions im)" "regions verified after the load"
assert_eq "$(dm_field im 12)" 0 "mismatches after the load"
