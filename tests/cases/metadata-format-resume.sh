#!/bin/sh
# DESCRIPTION: metadata: a zeroed device is formatted, set_dirty is durable on return, remove/create resumes the exact map, `start` survives, a full mirror starts all dirty
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 3 32
random_fill $SRC
dd_ if=$SRC of=$DST bs=1M oflag=direct
META=$(dm_create meta "0 64 linear /dev/ram2 0")
zero_dev "$META"

# 512 regions of 64 KiB: 4 KiB superblock + one 4 KiB bitmap block = 16 sectors.
T=$(incmirror_table $SRC $DST 128 incremental metadata "$META")
run dm_create im "$T" >/dev/null
magic=$(od -An -tx1 -N4 "$META" | tr -d ' ')
assert_eq "$magic" 494d4d52 "superblock magic after format"
assert_eq "$(dm_field im 9)" metadata=ok "metadata status field"
assert_eq "$(dm_field im 1)" loading "state of a new incremental mirror"
meta_dirty "$META" >/tmp/m.disk
[ ! -s /tmp/m.disk ] || fail "freshly formatted metadata has dirty bits: $(tr '\n' ' ' </tmp/m.disk)"
# The table line names the metadata device.
dmsetup table im | grep -q " metadata $(dmsetup info -c --noheadings -o major,minor meta | tr -d ' ')\$" ||
	fail "table line lacks the metadata device: $(dmsetup table im)"

# set_dirty returns once the bits are on the device.
dd_ if=/dev/urandom of=$SRC bs=64k seek=10 count=11 oflag=direct
dd_ if=/dev/urandom of=$SRC bs=64k seek=100 count=1 oflag=direct
dm_msg im set_dirty 10-20 100
meta_dirty "$META" >/tmp/m.disk
printf '%s\n' 10-20 100 | ranges_expand >/tmp/m.want
cmp /tmp/m.want /tmp/m.disk || fail "on-disk bits after set_dirty: $(tr '\n' ' ' </tmp/m.disk)"
dm_msg im set_dirty_hex 200 01
meta_dirty "$META" | grep -qx 200 || fail "set_dirty_hex bit 200 not on disk"
dd_ if=/dev/urandom of=$SRC bs=64k seek=200 count=1 oflag=direct

# Remove (clean shutdown) and create again: the exact map, still loading.
run dmsetup remove im
flags=$(meta_flags "$META")
[ $((flags & 1)) = 1 ] || fail "CLEAN flag not set after remove (flags $flags)"
[ $((flags & 2)) = 0 ] || fail "STARTED set before start (flags $flags)"
run dm_create im "$T" >/dev/null
assert_eq "$(dm_field im 1)" loading "state after re-creation before start"
get_dirty_all im >/tmp/m.map
ranges_expand </tmp/m.map >/tmp/m.got
printf '%s\n' 10-20 100 200 | ranges_expand >/tmp/m.want
cmp /tmp/m.want /tmp/m.got || fail "map after re-creation: $(tr '\n' ' ' </tmp/m.map)"

# `start` is recorded: after a remove mid-copy the new device copies on.
dm_msg im max_copy_rate 64
dm_msg im start
flags=$(meta_flags "$META")
[ $((flags & 2)) = 2 ] || fail "STARTED not on disk after start (flags $flags)"
wait_cond 30 "first region copied" '[ "$(dm_field im 5)" -gt 0 ]'
run dmsetup remove im
run dm_create im "$T" >/dev/null
st=$(dm_field im 1)
[ "$st" = copying ] || [ "$st" = synced ] || fail "state after re-creation of a started mirror: $st"
dm_msg im max_copy_rate 0
wait_state im synced 60
same_regions $SRC $DST 128
run dmsetup remove im
meta_dirty "$META" >/tmp/m.disk
[ ! -s /tmp/m.disk ] || fail "bits left on disk after a synced clean shutdown: $(tr '\n' ' ' </tmp/m.disk)"

# A full mirror on a zeroed device starts (and resumes) all dirty. The legs
# are identical by now, so a lost bit would not show in the data: check the
# maps themselves. Paused at once, the copier leaves a fixed map: every
# region but the few it copied (64 KiB/s: one region a second) is dirty.
# wait_copies_done: no copy in flight (pause lets those finish).
wait_copies_done() {
	wait_field im 8 0 30
}
# all_but_copied WHAT: the map is all 512 regions less those copied.
all_but_copied() {
	get_dirty_all im >/tmp/m.map
	_c=$(dm_field im 5)
	[ $((_c % 128)) = 0 ] || fail "$1: copied_sectors $_c is no whole number of regions"
	assert_eq "$(ranges_count </tmp/m.map)" $((512 - _c / 128)) \
		"$1: dirty regions (512 less the $((_c / 128)) copied)"
	assert_eq "$(in_sync im)" $((_c / 128)) "$1: in-sync regions (the copied ones)"
}
zero_dev "$META"
TF=$(incmirror_table $SRC $DST 128 max_copy_rate 64 metadata "$META")
run dm_create im "$TF" >/dev/null
dm_msg im pause
wait_copies_done
all_but_copied "new full mirror"
cp /tmp/m.map /tmp/m.before
# Every bit of the map is on the disk (bits of copied regions may linger).
meta_dirty "$META" >/tmp/m.disk
assert_subset /tmp/m.map /tmp/m.disk "map of a new full mirror on disk"
run dmsetup remove im
# Resumed: exactly the map it had, less what the new instance copied before
# the pause below.
run dm_create im "$TF" >/dev/null
dm_msg im pause
wait_copies_done
get_dirty_all im >/tmp/m.after
assert_subset /tmp/m.after /tmp/m.before "map after re-creation within the map before the remove"
c=$(dm_field im 5)
assert_eq "$(ranges_count </tmp/m.after)" $(($(ranges_count </tmp/m.before) - c / 128)) \
	"dirty regions after re-creation ($(ranges_count </tmp/m.before) before the remove, $((c / 128)) copied since)"
[ "$(ranges_count </tmp/m.after)" -ge 400 ] || fail "only $(ranges_count </tmp/m.after) regions dirty after re-creation"
dm_msg im max_copy_rate 0
dm_msg im start
wait_state im synced 60
same_regions $SRC $DST 128
