#!/bin/sh
# DESCRIPTION: verify and verify_stop messages: bad windows and arguments are refused with EINVAL, a second verify while one runs is refused, verify_stop ends a running verify (done, partial count, event)
# TIMEOUT: 180
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

# refused ERRNO_TEXT ARGS...: the message is refused with that errno: the
# kernel's return, as dmsetup prints it (strerror), e.g. "Invalid argument"
# for EINVAL, "Device or resource busy" for EBUSY. A refusal for another
# reason (ENOMEM, a missing device, a usage error of dmsetup) fails.
refused() {
	_r_err=$1
	shift
	expect_fail dmsetup message im 0 "$@"
	grep -q "message ioctl on .* failed: $_r_err\$" /tmp/.expect_fail.out ||
		fail "message '$*' refused, but not with '$_r_err': $(cat /tmp/.expect_fail.out)"
}

ram_devices 2 64
random_fill /dev/ram0
DEV=$(dm_create im "$(incmirror_table /dev/ram0 /dev/ram1 128)")
N=$(total_regions im)
wait_state im synced 60

for bad in "verify 0 0" "verify $N 1" "verify 0 $((N + 1))" "verify 1" \
	"verify repair 5" "verify fix" "verify 0 1 2" \
	"verify 18446744073709551615 2" "verify_stop now" "verify 1x 2"; do
	# shellcheck disable=SC2086
	refused "Invalid argument" $bad
done
assert_eq "$(dm_field im 10)" verify=idle "verify state after refused messages"

# verify_stop when nothing runs is accepted and changes nothing.
dm_msg im verify_stop
assert_eq "$(dm_field im 10)" verify=idle "verify state after an idle verify_stop"

# Slow the verify down (it shares max_copy_rate) so that it is still
# running when the next messages arrive.
dm_msg im max_copy_rate 1024
dm_msg im verify
assert_eq "$(dm_field im 10)" verify=running "verify state while running"
refused "Device or resource busy" verify
assert_eq "$(dm_field im 10)" verify=running "verify state after a second verify was refused"
ev0=$(dm_events im)
dm_msg im verify_stop
wait_field im 10 verify=done 30
done_n=$(dm_field im 11)
[ "$done_n" -lt "$N" ] || fail "verify_stop did not stop early ($done_n of $N verified)"
[ "$(dm_events im)" -gt "$ev0" ] || fail "no table event when the verify was stopped"

# A suspend stops it and the resume goes on; a verify then completes.
dm_msg im max_copy_rate 0
dm_msg im verify 0 64
dmsetup suspend im || fail suspend
dmsetup resume im || fail resume
wait_field im 10 verify=done 60
assert_eq "$(dm_field im 11)" 64 "regions verified across a suspend"
assert_eq "$(dm_field im 12)" 0 "mismatches across a suspend"
dmsetup remove im || fail "remove"
