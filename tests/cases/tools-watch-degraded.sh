#!/bin/sh
# DESCRIPTION: incmirror-watch exits 2 on degraded (dm-error destination, error_threshold 1), at once and when woken by the degraded event
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
WPID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	cleanup_devices
}
trap cleanup EXIT

ram_devices 2 32
SZ=$(dev_sectors /dev/ram0)
random_fill /dev/ram0 4

# A destination that fails every I/O: the first copy enters degraded.
ERR=$(dm_create imerr "0 $SZ error")
DEV=$(dm_create im "$(incmirror_table /dev/ram0 "$ERR" 128 error_threshold 1)")
wait_state im degraded 30
incmirror-watch --json im >/tmp/w.json 2>/tmp/w.err
rc=$?
assert_eq "$rc" 2 "exit status on a degraded device"
grep -q 'degraded' /tmp/w.err || fail "no word of degraded on stderr: $(cat /tmp/w.err)"
last=$(tail -n 1 /tmp/w.json)
echo "$last" | grep -qE '"state":"degraded",.*"dest_errors":[1-9][0-9]*,' ||
	fail "last line not degraded with errors: $last"
run dmsetup remove im
run dmsetup remove imerr

# Watching first: the degraded event must end the wait (--interval 600).
DST=$(dm_create imdst "0 $SZ linear /dev/ram1 0")
DEV=$(dm_create im "$(incmirror_table /dev/ram0 "$DST" 128 incremental error_threshold 1)")
incmirror-watch --json --interval 600 im >/tmp/w2.json 2>/tmp/w2.err &
WPID=$!
wait_cond 30 "the first JSON line" '[ -s /tmp/w2.json ]'
grep -q '"state":"loading"' /tmp/w2.json || fail "first line: $(cat /tmp/w2.json)"
dm_swap imdst "0 $SZ error"
t0=$(uptime_ms)
dd_ if=/dev/urandom of="$DEV" bs=64k seek=3 count=1 oflag=direct conv=fsync
wait_pid_gone "$WPID" 30 || fail "incmirror-watch still running 30 s after the destination failed"
wait "$WPID"
rc=$?
WPID=
info "woke after $(($(uptime_ms) - t0)) ms: $(tail -n 1 /tmp/w2.json)"
assert_eq "$rc" 2 "exit status when the device became degraded"
tail -n 1 /tmp/w2.json | grep -q '"state":"degraded"' || fail "last line: $(tail -n 1 /tmp/w2.json)"
assert_eq "$(dm_field im 1)" degraded "state"
run dmsetup remove im
