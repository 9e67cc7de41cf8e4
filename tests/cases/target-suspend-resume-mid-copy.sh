#!/bin/sh
# DESCRIPTION: suspend mid-copy drains the copier (no destination I/O), resume continues, a reload while suspended takes the map over
. "$INCMIRROR_TESTS/lib/guest.sh"
FIOPID=
cleanup() {
	[ -n "$FIOPID" ] && kill "$FIOPID" 2>/dev/null
	dmsetup resume im >/dev/null 2>&1
	cleanup_devices
}
trap cleanup EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 32
random_fill $SRC
fill $DST 5a

# 32 MiB at 4096 KiB/s: ~8 s of copying to suspend in the middle of.
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128 max_copy_rate 4096)")
TOTAL=$(total_regions im)

# A writer with verification runs through the target the whole time; it
# blocks while the device is suspended.
cd /tmp || fail "cd /tmp"
fio --name=susp --filename="$DEV" --ioengine="$(fio_engine)" --iodepth=4 --direct=1 \
	--rw=randwrite --bs=4k --size=32m --io_size=3m --rate=512k \
	--verify=crc32c --verify_backlog=32 --do_verify=1 --verify_fatal=1 \
	--verify_state_save=0 >/tmp/susp.fio 2>&1 &
FIOPID=$!

wait_cond 20 "copy progress before suspend" '[ "$(in_sync im)" -ge 16 ]'
run dmsetup suspend im
# Suspended: the copier was drained, nothing is in flight, nothing moves.
assert_eq "$(dm_field im 8)" 0 "copies_in_flight after suspend"
s1=$(in_sync im)
c1=$(dm_field im 5)
[ "$s1" -lt "$TOTAL" ] || fail "copy ended before suspend"
h1=$(sha $DST)
sleep 1
h2=$(sha $DST)
assert_eq "$h2" "$h1" "destination checksum across 1 s of suspend"
assert_eq "$(in_sync im)" "$s1" "in_sync while suspended"
assert_eq "$(dm_field im 5)" "$c1" "copied_sectors while suspended"
assert_eq "$(dm_field im 8)" 0 "copies_in_flight while suspended"
info "suspended at $s1/$TOTAL"

run dmsetup resume im
s2=$(in_sync im)
[ "$s2" -ge "$s1" ] || fail "resume went back from $s1 to $s2 in-sync regions"
wait_cond 20 "copy progress after resume" '[ "$(in_sync im)" -gt "$s1" ]'

# Suspend again, save the map, reload a new table onto the same devices while
# suspended: the new table takes the map over (nothing is reset to clean).
run dmsetup suspend im
assert_eq "$(dm_field im 8)" 0 "copies_in_flight after the second suspend"
get_dirty_all im >/tmp/susp.map
n=$(ranges_count </tmp/susp.map)
assert_eq "$n" $((TOTAL - $(in_sync im))) "dirty regions in get_dirty vs status"
[ "$n" -gt 0 ] || fail "nothing dirty left to hand over"
s3=$(in_sync im)
c3=$(dm_field im 5)
# The new table copies at 64 KiB/s (a region a second), so that the map it
# was handed can be read before the copier moves far.
run dmsetup load im --table "$(incmirror_table $SRC $DST 128 incremental max_copy_rate 64)"
run dmsetup resume im
# The map as the target hands it over, nothing marked again: every region
# dirty before the suspend is still dirty, less exactly those the new table
# copied since (copied_sectors is kept across a reload), and nothing else
# (the writer's writes are mirrored, they make no region dirty).
ca=$(dm_field im 5)
get_dirty_all im >/tmp/susp.after
cb=$(dm_field im 5)
[ "$(dm_field im 1)" != loading ] || fail "the reload reset a copying mirror to loading"
[ "$(in_sync im)" -ge "$s3" ] || fail "in-sync regions went from $s3 to $(in_sync im) over the reload"
assert_subset /tmp/susp.after /tmp/susp.map "map after the reload within the map before it"
lost=$((n - $(ranges_count </tmp/susp.after)))
[ "$lost" -ge $(((ca - c3) / 128)) ] && [ "$lost" -le $(((cb - c3) / 128)) ] ||
	fail "$lost of the $n dirty regions left the map over the reload, but $(((ca - c3) / 128)) to $(((cb - c3) / 128)) were copied"
info "handed over: $n dirty before, $(ranges_count </tmp/susp.after) after ($lost copied since the resume)"
dm_msg im max_copy_rate 0
# The old procedure (write the saved map back) stays harmless.
if [ -s /tmp/susp.map ]; then
	xargs -n 500 dmsetup message im 0 set_dirty </tmp/susp.map ||
		fail "set_dirty of the saved map refused"
fi
dm_msg im start
wait_state im synced 120

wait_pid_gone "$FIOPID" 120 || fail "fio did not finish"
wait "$FIOPID"
rc=$?
FIOPID=
[ $rc -eq 0 ] || { cat /tmp/susp.fio; fail "fio (with verify) failed: $rc"; }
wait_state im synced 60
same_regions $SRC $DST 128
assert_eq "$(dm_field im 4)" 0 "dest_errors"
run dmsetup remove im
rm -f /tmp/susp.*
