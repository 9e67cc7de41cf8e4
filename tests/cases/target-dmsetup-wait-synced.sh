#!/bin/sh
# DESCRIPTION: dmsetup wait wakes when the target reaches synced (a table event), and not before
. "$INCMIRROR_TESTS/lib/guest.sh"
WPID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	cleanup_devices
}
trap cleanup EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 16
random_fill $SRC
fill $DST 5a

# 16 MiB at 4096 KiB/s: ~4 s of copying for the waiter to sit through.
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128 incremental max_copy_rate 4096)")
TOTAL=$(total_regions im)
dm_msg im set_dirty 0-$((TOTAL - 1))
EV=$(dm_events im)
info "event number before start: $EV"

timeout 60 dmsetup wait im "$EV" >/tmp/wait.out 2>&1 &
WPID=$!
usleep 500000
kill -0 "$WPID" 2>/dev/null || { cat /tmp/wait.out; fail "dmsetup wait returned before start"; }

dm_msg im start
assert_eq "$(dm_field im 1)" copying "state after start"
wait_pid_gone "$WPID" 60 || fail "dmsetup wait still waiting ($(dmsetup status im))"
wait "$WPID"
rc=$?
WPID=
# The state is read right after the waiter woke: the event came with synced.
st=$(dmsetup status im)
[ $rc -eq 0 ] || { cat /tmp/wait.out; fail "dmsetup wait failed ($rc: 124/143 = timed out): $st"; }
set -- $st
assert_eq "$4" synced "state when dmsetup wait woke ($st)"
assert_eq "$5" "$TOTAL/$TOTAL" "in_sync when dmsetup wait woke"
[ "$(dm_events im)" -gt "$EV" ] || fail "event counter did not move"
same_regions $SRC $DST 128

# Synced again after more dirt: a second wait wakes too.
EV=$(dm_events im)
timeout 60 dmsetup wait im "$EV" >/tmp/wait.out 2>&1 &
WPID=$!
dm_msg im set_dirty 0-31
wait_pid_gone "$WPID" 60 || fail "second dmsetup wait still waiting ($(dmsetup status im))"
wait "$WPID" || fail "second dmsetup wait failed"
WPID=
assert_eq "$(dm_field im 1)" synced "state when the second wait woke"
run dmsetup remove im
