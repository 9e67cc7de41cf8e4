#!/bin/sh
# DESCRIPTION: verify compares in-sync regions: zero mismatches on an untouched synced pair, exactly the regions flipped behind the target's back, a window limits it, repair marks exactly those dirty and start makes the legs identical
# TIMEOUT: 180
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

ram_devices 2 32
random_fill /dev/ram0
DEV=$(dm_create im "$(incmirror_table /dev/ram0 /dev/ram1 128)")
N=$(total_regions im)
wait_state im synced 60
same_regions /dev/ram0 /dev/ram1 128
ev0=$(dm_events im)

# An untouched synced pair: every region compared, none differs.
assert_eq "$(dm_field im 10)" verify=idle "verify state before any verify"
dm_msg im verify
wait_field im 10 verify=done 120
assert_eq "$(dm_field im 11)" "$N" "regions verified on a synced pair"
assert_eq "$(dm_field im 12)" 0 "mismatches on a synced pair"
[ "$(dm_events im)" -gt "$ev0" ] || fail "no table event at the end of verify"

# Flip one byte in each of 4 clean regions of the destination, under the
# target: its complement, so that it differs whatever it was (0xff over a
# random byte is no change once in 256).
drop_caches /dev/ram1
for r in 3 77 200 255; do
	o=$((r * 65536 + 4097))
	b=$(od -An -tu1 -j$o -N1 /dev/ram1 | tr -d ' ')
	case $b in '' | *[!0-9]*) fail "cannot read byte $o of /dev/ram1 ('$b')" ;; esac
	printf "\\$(printf '%03o' $((255 - b)))" | dd of=/dev/ram1 bs=1 seek=$o conv=notrunc 2>/dev/null ||
		fail "flip in region $r"
	info "region $r: byte $o $b -> $((255 - b))"
done
sync /dev/ram1
echo 3 >/proc/sys/vm/drop_caches
assert_eq "$(diff_regions /dev/ram0 /dev/ram1 128 | tr '\n' ' ')" "3 77 200 255 " "regions flipped"

# Without repair: counted, the map untouched.
dm_msg im verify
wait_field im 10 verify=done 120
assert_eq "$(dm_field im 12)" 4 "mismatches found"
assert_eq "$(dm_field im 1)" synced "state after a verify without repair"

# A window: regions 70-209 hold two of them.
dm_msg im verify 70 140
wait_field im 10 verify=done 120
assert_eq "$(dm_field im 11)" 140 "regions verified in the window"
assert_eq "$(dm_field im 12)" 2 "mismatches in the window"

# repair while paused: exactly the flipped regions become dirty.
dm_msg im pause
dm_msg im verify repair
wait_field im 10 verify=done 120
assert_eq "$(dm_field im 12)" 4 "mismatches found by verify repair"
get_dirty_all im >/tmp/vd.map
assert_eq "$(tr '\n' ' ' </tmp/vd.map)" "3 77 200 255 " "regions marked dirty by repair"
dm_msg im start
wait_state im synced 60
same_regions /dev/ram0 /dev/ram1 128
dm_msg im verify
wait_field im 10 verify=done 120
assert_eq "$(dm_field im 12)" 0 "mismatches after the repair"

dmsetup remove im || fail "remove"
