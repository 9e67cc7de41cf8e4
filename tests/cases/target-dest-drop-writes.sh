#!/bin/sh
# DESCRIPTION: a destination that acknowledges writes it drops (dm-flakey drop_writes) cannot be seen by any mirror: the case shows it and that set_dirty + start repairs it
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

ram_devices 2 32
SZ=$(dev_sectors /dev/ram0)
DST=$(dm_create fdst "0 $SZ linear /dev/ram1 0")
random_fill /dev/ram0
DEV=$(dm_create im "$(incmirror_table /dev/ram0 "$DST" 128)")
wait_state im synced 60
same_regions /dev/ram0 /dev/ram1 128

# The destination now drops every write and reports success.
dm_swap fdst "0 $SZ flakey /dev/ram1 0 0 3600 1 drop_writes"
dd_ if=/dev/urandom of="$DEV" bs=64k seek=40 count=16 oflag=direct conv=fsync
# Nothing failed, so the target cannot know: it stays synced, no error.
assert_eq "$(dm_field im 1)" synced "state with a destination that drops writes"
assert_eq "$(dm_field im 4)" 0 "dest_errors with a destination that drops writes"
drop_caches /dev/ram0 /dev/ram1
lw-replay diff-regions /dev/ram0 0 /dev/ram1 0 $((SZ * 512)) 65536 >/tmp/dw.diff
assert_eq "$(ranges_norm </tmp/dw.diff)" 40-55 "regions the destination silently lost"

# The documented repair: mark what may be lost (here known; else every
# region) and copy again once the destination works.
dm_swap fdst "0 $SZ linear /dev/ram1 0"
dm_msg im set_dirty 40-55
dm_msg im start
wait_state im synced 60
same_regions /dev/ram0 /dev/ram1 128
