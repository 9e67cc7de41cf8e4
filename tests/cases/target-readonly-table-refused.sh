#!/bin/sh
# DESCRIPTION: a read-only table (dmsetup create/load --readonly) is refused with a clear error: the target writes its destination and metadata, so it never runs read-only and touches neither
# TIMEOUT: 60
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
META=/dev/ram2
ram_devices 3 8
random_fill $SRC
fill $DST 5a
zero_dev $META
D0=$(sha $DST)
M0=$(sha $META)

# refused TABLE...: dmsetup create --readonly must fail with dm core's
# message for target types that may not be in a read-only table, and leave
# no device behind.
refused() {
	dmesg -c >/dev/null
	expect_fail dmsetup create --readonly im --table "$1"
	dmesg | grep -q "target type may not be included in a read-only table" ||
		{ dmesg | tail -n 5 >&2; fail "no clear error for a read-only table"; }
	dmsetup info im >/dev/null 2>&1 && fail "a device im is left after the refusal"
	return 0
}
refused "$(incmirror_table $SRC $DST 128)"
refused "$(incmirror_table $SRC $DST 128 incremental metadata $META)"
assert_eq "$(sha $DST)" "$D0" "destination after refused read-only tables"
assert_eq "$(sha $META)" "$M0" "metadata device after refused read-only tables"

# A read-write table runs; a read-only reload of it is refused and the live
# table goes on.
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128)")
wait_state im synced 30
expect_fail dmsetup load --readonly im --table "$(incmirror_table $SRC $DST 128)"
dmsetup info im | grep -q "Tables present: *LIVE$" ||
	{ dmsetup info im >&2; fail "an inactive table was left after the refused read-only load"; }
dd_ if=/dev/urandom of="$DEV" bs=64k seek=5 count=1 oflag=direct
wait_state im synced 30
same_regions $SRC $DST 128
run dmsetup remove im
