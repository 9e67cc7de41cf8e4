#!/bin/sh
# DESCRIPTION: every malformed table line is refused with its own error message and leaves nothing behind
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

ram_devices 3 8
SZ=$(dev_sectors /dev/ram0)

# Make ram2 smaller than the others via a linear device.
run dmsetup create small --table "0 $((SZ / 2)) linear /dev/ram2 0"
run dmsetup mknodes small
SMALL=/dev/mapper/small

# bad TABLE EXPECTED_ERROR: creation must fail and the kernel must name why.
bad() {
	dmesg -c >/dev/null
	if dmsetup create bad --table "$1" >/dev/null 2>&1; then
		fail "table accepted: '$1'"
	fi
	dmsetup info bad >/dev/null 2>&1 && fail "device left behind for '$1'"
	dmesg | grep -F "incmirror: $2" >/dev/null ||
		fail "table '$1': expected error '$2', kernel said: $(dmesg | grep incmirror)"
}

bad "0 $SZ incmirror /dev/ram0 /dev/ram1" "Invalid argument count"
bad "0 $SZ incmirror /dev/ram0" "Invalid argument count"
bad "0 $SZ incmirror /dev/nonexistent /dev/ram1 128" "Error opening source device"
bad "0 $SZ incmirror /dev/ram0 /dev/nonexistent 128" "Error opening destination device"
bad "0 $SZ incmirror /dev/ram0 /dev/ram0 128" "Source and destination are the same device"
bad "0 $SZ incmirror /dev/ram0 $SMALL 128" "Destination device is smaller than the target"
bad "0 $SZ incmirror $SMALL /dev/ram0 128" "Source device is smaller than the target"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 abc" "Invalid region size"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 -8" "Invalid region size"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 96" "Region size must be a power of two"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 4" "Region size must be at least 8 sectors"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 0" "Region size must be at least 8 sectors"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 2 incremental" "Invalid number of feature arguments"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 x incremental" "Invalid number of feature arguments"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 11 incremental a b c d e f g h i j" "Invalid number of feature arguments"
# dm core's own parser would wrap these to 1 (found by target-fuzz-input).
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 4294967297 incremental" "Invalid number of feature arguments"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 18446744073709551617 incremental" "Invalid number of feature arguments"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 1 incremental extra" "Feature argument count does not match the arguments"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 1 fast" "Unrecognised feature"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 1 max_copy_rate" "Feature is missing its value"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 2 max_copy_rate fast" "Invalid feature value"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 2 max_copy_rate -1" "Invalid feature value"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 2 copy_depth 0" "Invalid copy_depth"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 2 copy_depth 65" "Invalid copy_depth"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 2 error_threshold 0" "Invalid error_threshold"
bad "0 $SZ incmirror /dev/ram0 /dev/ram1 128 2 error_threshold 1000001" "Invalid error_threshold"

# The limits themselves are accepted, and so is a partial last region.
for t in "0 $SZ incmirror /dev/ram0 /dev/ram1 8 7 incremental copy_depth 64 error_threshold 1000000 max_copy_rate 0" \
	 "0 $SZ incmirror /dev/ram0 /dev/ram1 128 4 copy_depth 1 error_threshold 1" \
	 "0 $((SZ - 24)) incmirror /dev/ram0 /dev/ram1 128 1 incremental"; do
	run dmsetup create good --table "$t"
	run dmsetup remove good
done
dmsetup create good --table "0 $((SZ - 24)) incmirror /dev/ram0 /dev/ram1 128 1 incremental" ||
	fail "create with partial region"
[ "$(dm_field good 2)" = "128/128" ] || fail "partial last region: total $(dm_field good 2)"
run dmsetup remove good

run dmsetup remove small
[ -z "$(dmsetup ls | grep -v 'No devices')" ] || fail "devices left: $(dmsetup ls)"
exit 0
