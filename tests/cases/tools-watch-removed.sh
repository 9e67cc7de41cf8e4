#!/bin/sh
# DESCRIPTION: incmirror-watch exits 3 when the device is removed while it waits (remove not held up), when it does not exist or is not incmirror; 1 on bad usage
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
WPID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	cleanup_devices
}
trap cleanup EXIT

ram_devices 2 16
SZ=$(dev_sectors /dev/ram0)

# expect_rc RC WHAT ARGS...: incmirror-watch ARGS must exit RC, stderr in /tmp/w.err.
expect_rc() {
	_want=$1 _what=$2
	shift 2
	incmirror-watch "$@" >/tmp/w.out 2>/tmp/w.err
	_rc=$?
	[ "$_rc" = "$_want" ] || { cat /tmp/w.err; fail "$_what: exit $_rc, expected $_want"; }
	[ -s /tmp/w.err ] || fail "$_what: nothing on stderr"
	info "$_what: $(cat /tmp/w.err)"
}
expect_rc 1 "no DEVICE"
expect_rc 1 "interval 0" --interval 0 im
expect_rc 1 "unknown option" --bogus im
expect_rc 3 "no such device" no-such-device
grep -q 'no-such-device: no such device-mapper device' /tmp/w.err || fail "message: $(cat /tmp/w.err)"
expect_rc 3 "a device node that is not device-mapper" /dev/ram1
dm_create imlin "0 $SZ linear /dev/ram1 0" >/dev/null
expect_rc 3 "a linear device" imlin
grep -q 'not an incmirror device' /tmp/w.err || fail "message: $(cat /tmp/w.err)"
run dmsetup remove imlin

# Removed while waiting (loading: no event will come; --interval 600).
DEV=$(dm_create im "$(incmirror_table /dev/ram0 /dev/ram1 128 incremental)")
incmirror-watch --interval 600 im >/tmp/w.out 2>/tmp/w.err &
WPID=$!
wait_cond 30 "the first line" '[ -s /tmp/w.out ]'
t0=$(uptime_ms)
run dmsetup remove im
info "dmsetup remove took $(($(uptime_ms) - t0)) ms"
[ $(($(uptime_ms) - t0)) -lt 5000 ] || fail "dmsetup remove was held up by the watcher"
wait_pid_gone "$WPID" 10 || fail "incmirror-watch still running 10 s after the device was removed"
wait "$WPID"
rc=$?
WPID=
assert_eq "$rc" 3 "exit status after the device was removed"
grep -q 'went away' /tmp/w.err || fail "message: $(cat /tmp/w.err)"

# The table replaced by one of another type (no event: the interval finds it).
DEV=$(dm_create im "$(incmirror_table /dev/ram0 /dev/ram1 128 incremental)")
incmirror-watch --interval 0.2 im >/tmp/w.out 2>/tmp/w.err &
WPID=$!
wait_cond 30 "the first line" '[ -s /tmp/w.out ]'
dm_swap im "0 $SZ linear /dev/ram0 0"
wait_pid_gone "$WPID" 10 || fail "incmirror-watch still running 10 s after the table changed"
wait "$WPID"
rc=$?
WPID=
assert_eq "$rc" 3 "exit status after the table became linear"
grep -q 'not an incmirror device' /tmp/w.err || fail "message: $(cat /tmp/w.err)"
run dmsetup remove im
