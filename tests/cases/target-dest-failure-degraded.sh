#!/bin/sh
# DESCRIPTION: a failing destination gives degraded (event, dest_errors) with no caller error and the source intact; fixed + start ends synced
. "$INCMIRROR_TESTS/lib/guest.sh"
WPID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	cleanup_devices
	rm -f /tmp/df.*
}
trap cleanup EXIT

SRC=/dev/ram0
ram_devices 2 32
SZ=$(dev_sectors $SRC)
# The destination is a dm device over ram1 whose table we swap for `error`.
DST=$(dm_create dfdst "0 $SZ linear /dev/ram1 0")
random_fill $SRC
fill "$DST" 5a

DEV=$(dm_create im "$(incmirror_table $SRC "$DST" 128)")
TOTAL=$(total_regions im)
wait_state im synced 120
same_regions $SRC /dev/ram1 128
assert_eq "$(dm_field im 4)" 0 "dest_errors before the failure"
# Reference image of what the source must hold from now on.
run dd if=$SRC of=/tmp/df.ref bs=1M iflag=direct 2>/dev/null

EV=$(dm_events im)
timeout 60 dmsetup wait im "$EV" >/tmp/df.wait 2>&1 &
WPID=$!

# The destination fails.
run dmsetup suspend dfdst
run dmsetup load dfdst --table "0 $SZ error"
run dmsetup resume dfdst

# 4 MiB of writes (64 regions, each its own destination error): the caller
# sees success, also for the flush.
dd if=/dev/urandom of=/tmp/df.w1 bs=64k count=64 2>/dev/null
dd if=/tmp/df.w1 of="$DEV" bs=64k seek=16 oflag=direct conv=notrunc,fsync 2>/tmp/df.err ||
	{ cat /tmp/df.err; fail "write through the target failed while only the destination failed"; }
run dd if=/tmp/df.w1 of=/tmp/df.ref bs=64k seek=16 conv=notrunc 2>/dev/null

wait_state im degraded 30
wait_pid_gone "$WPID" 30 || fail "dmsetup wait did not wake on entering degraded"
wait "$WPID" || { cat /tmp/df.wait; fail "dmsetup wait failed"; }
WPID=
ERRS=$(dm_field im 4)
[ "$ERRS" -gt 0 ] || fail "dest_errors is $ERRS in degraded"
[ "$(in_sync im)" -lt "$TOTAL" ] || fail "no region marked dirty after destination errors"
info "degraded: $(dmsetup status im)"

# Degraded: the destination is no longer written, writes only mark regions
# dirty and still succeed.
dd if=/dev/urandom of=/tmp/df.w2 bs=64k count=16 2>/dev/null
dd if=/tmp/df.w2 of="$DEV" bs=64k seek=300 oflag=direct conv=notrunc,fsync 2>/tmp/df.err ||
	{ cat /tmp/df.err; fail "write through the degraded target failed"; }
run dd if=/tmp/df.w2 of=/tmp/df.ref bs=64k seek=300 conv=notrunc 2>/dev/null
assert_eq "$(dm_field im 4)" "$ERRS" "dest_errors after writes in degraded (destination still written?)"
assert_eq "$(dm_field im 1)" degraded "state after more writes"
dirty=$(dmsetup message im 0 get_dirty 300 16) || fail "get_dirty refused"
assert_eq "$(echo $dirty)" "300-315" "regions written while degraded are dirty"

# The source holds exactly what was written; reads through the target too.
same_regions $SRC /tmp/df.ref 128
same_regions "$DEV" /tmp/df.ref 128

# Fix the destination, start: everything dirty is copied.
run dmsetup suspend dfdst
run dmsetup load dfdst --table "0 $SZ linear /dev/ram1 0"
run dmsetup resume dfdst
dm_msg im start
wait_state im synced 120
assert_eq "$(in_sync im)" "$TOTAL" "in_sync after repair"
same_regions $SRC /dev/ram1 128
same_regions /dev/ram1 /tmp/df.ref 128
run dmsetup remove im
