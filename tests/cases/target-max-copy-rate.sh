#!/bin/sh
# DESCRIPTION: max_copy_rate (table feature and live message) limits the background copy within 20%
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 64
random_fill $SRC 16
fill $DST 5a

# measure_rate NAME SECONDS: KiB/s of copied_sectors over SECONDS, timed with
# /proc/uptime (10 ms resolution) around the status reads.
measure_rate() {
	_t0=$(uptime_ms)
	_c0=$(dm_field "$1" 5)
	sleep "$2"
	_c1=$(dm_field "$1" 5)
	_t1=$(uptime_ms)
	info "copied $((_c1 - _c0)) sectors in $((_t1 - _t0)) ms (status: $(dmsetup status "$1"))" >&2
	echo $(((_c1 - _c0) * 512 / 1024 * 1000 / (_t1 - _t0)))
}

# check_rate GOT WANT: within 20%.
check_rate() {
	[ -n "$1" ] || fail "no rate measured"
	[ $(($1 * 100)) -ge $(($2 * 80)) ] && [ $(($1 * 100)) -le $(($2 * 120)) ] ||
		fail "copy rate $1 KiB/s, want $2 KiB/s +-20%"
	info "copy rate $1 KiB/s (limit $2)"
}

# 64 MiB at 2048 KiB/s would take 32 s: the copy runs for the whole measure.
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128 max_copy_rate 2048)")
case "$(dmsetup table im)" in
*" 128 2 max_copy_rate 2048") ;;
*) fail "table line does not end with the rate: $(dmsetup table im)" ;;
esac
assert_eq "$(dm_field im 7)" 2048 "max_copy_rate status field"
wait_cond 20 "the copy to start" '[ "$(dm_field im 5)" -gt 0 ]'
sleep 1 # past any start-up burst
r=$(measure_rate im 6)
check_rate "$r" 2048
assert_eq "$(dm_field im 1)" copying "state during the rate-limited copy"

# Change the rate live.
dm_msg im max_copy_rate 1024
assert_eq "$(dm_field im 7)" 1024 "max_copy_rate status field after the message"
sleep 1
r=$(measure_rate im 6)
check_rate "$r" 1024
[ "$(in_sync im)" -lt "$(total_regions im)" ] || fail "copy ended early"

# 0 = unlimited: the rest finishes.
dm_msg im max_copy_rate 0
assert_eq "$(dm_field im 7)" 0 "max_copy_rate status field after 0"
wait_state im synced 120
same_regions $SRC $DST 128
run dmsetup remove im
