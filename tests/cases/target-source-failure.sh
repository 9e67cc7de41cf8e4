#!/bin/sh
# DESCRIPTION: a failing source returns errors to the caller (reads, writes) and never gets a region marked clean
. "$INCMIRROR_TESTS/lib/guest.sh"
trap 'cleanup_devices; rm -f /tmp/sf.*' EXIT

DST=/dev/ram1
ram_devices 2 32
SZ=$(dev_sectors /dev/ram0)
random_fill /dev/ram0
run dd if=/dev/ram0 of=$DST bs=1M iflag=direct oflag=direct 2>/dev/null
# The source is a dm device over ram0 whose table we swap for `error`.
SRC=$(dm_create sfsrc "0 $SZ linear /dev/ram0 0")
# Regions 10-19 change on the source after the "backup": the destination
# holds the old data there.
run dd if=/dev/urandom of=/dev/ram0 bs=64k seek=10 count=10 oflag=direct conv=notrunc 2>/dev/null

DEV=$(dm_create im "$(incmirror_table "$SRC" $DST 128 incremental)")
TOTAL=$(total_regions im)
dm_msg im set_dirty 10-19
assert_eq "$(in_sync im)" $((TOTAL - 10)) "in_sync before start"

# The source fails, then the copy starts: it can only read errors.
run dmsetup suspend sfsrc
run dmsetup load sfsrc --table "0 $SZ error"
run dmsetup resume sfsrc
dm_msg im start

# Writes and reads through the target return the source's error.
dd if=/dev/urandom of=/tmp/sf.w bs=64k count=1 2>/dev/null
if dd if=/tmp/sf.w of="$DEV" bs=64k seek=0 oflag=direct conv=notrunc 2>/dev/null; then
	fail "write to a clean region succeeded although the source fails"
fi
if dd if=/tmp/sf.w of="$DEV" bs=64k seek=12 oflag=direct conv=notrunc 2>/dev/null; then
	fail "write to a dirty region succeeded although the source fails"
fi
if dd if="$DEV" of=/dev/null bs=64k count=1 skip=10 iflag=direct 2>/dev/null; then
	fail "read succeeded although the source fails"
fi

# For 3 s of copy attempts: no failed region becomes clean, never synced.
i=0
while [ $i -lt 15 ]; do
	st=$(dm_field im 1)
	[ "$st" != synced ] || fail "synced with a failing source"
	[ "$(in_sync im)" -le $((TOTAL - 10)) ] ||
		fail "a region was marked clean while the source fails ($(dmsetup status im))"
	usleep 200000
	i=$((i + 1))
done
dirty=$(dmsetup message im 0 get_dirty 10 10) || fail "get_dirty refused"
assert_eq "$(echo $dirty)" "10-19" "regions 10-19 still dirty"
info "after failed copies: $(dmsetup status im)"

# The source comes back: start (again) and all ends identical.
run dmsetup suspend sfsrc
run dmsetup load sfsrc --table "0 $SZ linear /dev/ram0 0"
run dmsetup resume sfsrc
dm_msg im start
wait_state im synced 120
assert_eq "$(in_sync im)" "$TOTAL" "in_sync after the source is back"
# A synced mirror is identical, also where the failed writes went.
same_regions /dev/ram0 $DST 128
run dmsetup remove im
