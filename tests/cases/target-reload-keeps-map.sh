#!/bin/sh
# DESCRIPTION: a reload with the line `dmsetup table` prints, mid-copy, hands the dirty map over: progress kept, never synced before the legs are equal
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 32
random_fill $SRC
# The destination is an old copy: equal but for 24 MiB that changed since.
dd_ if=$SRC of=$DST bs=1M oflag=direct
dd_ if=/dev/urandom of=$SRC bs=1M seek=4 count=24 oflag=direct

# 64 KiB regions; regions 64..447 (4-28 MiB) differ. Slow copy: reload mid-way.
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128 incremental max_copy_rate 2048)")
dm_msg im set_dirty 64-447
dm_msg im start
wait_cond 30 "copy progress before the reload" '[ "$(in_sync im)" -ge 200 ]'

reload() { # reload NAME: the table dmsetup prints, loaded and resumed
	_line=$(dmsetup table "$1") || fail "dmsetup table $1"
	_before=$(in_sync "$1")
	run dmsetup reload "$1" --table "$_line"
	run dmsetup resume "$1"
	_after=$(in_sync "$1")
	[ "$_after" -ge "$_before" ] ||
		fail "in-sync regions went from $_before to $_after over the reload of '$_line'"
	info "reloaded '$_line': in sync $_before -> $_after"
}

reload im
state=$(dm_field im 1)
[ "$state" = copying ] || fail "state after the reload of a copying mirror: $state"
[ "$(in_sync im)" -lt "$(total_regions im)" ] || fail "synced right after the reload"
# `start` as the user in the report did; it must not declare anything synced.
dm_msg im start
n=$(get_dirty_all im >/tmp/r.map && ranges_count </tmp/r.map)
[ "$n" -gt 0 ] || fail "nothing dirty after the reload although the copy was mid-way"
# Every region still dirty is one that differs, or was dirty: never a region
# outside the original 64-447 (the hand-over adds nothing).
awk '{ n = split($1, p, "-"); a = p[1]; b = (n == 2) ? p[2] : a; if (a < 64 || b > 447) bad = 1 } END { exit bad }' /tmp/r.map ||
	fail "regions outside 64-447 dirty after the reload: $(tr '\n' ' ' </tmp/r.map)"

dm_msg im max_copy_rate 0
wait_state im synced 120
same_regions $SRC $DST 128
c=$(dm_field im 5)
[ "$c" -le $((384 * 128)) ] || fail "copied $c sectors: more than the 384 dirty regions"

# Writes, then reload twice with an unchanged table: still synced and equal.
dd_ if=/dev/urandom of="$DEV" bs=64k count=16 seek=100 oflag=direct
reload im
reload im
wait_state im synced 30
same_regions $SRC $DST 128
run dmsetup remove im

# A reload while loading keeps `loading` and the map loaded so far.
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128 incremental)")
dm_msg im set_dirty 5 70-80 300
get_dirty_all im >/tmp/r.before
reload im
assert_eq "$(dm_field im 1)" loading "state after reloading a loading mirror"
get_dirty_all im >/tmp/r.after
cmp /tmp/r.before /tmp/r.after || fail "map changed over the reload: $(tr '\n' ' ' </tmp/r.after)"
dm_msg im start
wait_state im synced 60
same_regions $SRC $DST 128
