#!/bin/sh
# DESCRIPTION: discards and write-zeroes the destination refuses at completion (BLK_STS_NOTSUPP) are no destination errors: no degraded after more than error_threshold of them, the regions are copied as data and the legs end identical
# TIMEOUT: 60
. "$INCMIRROR_TESTS/lib/guest.sh"
cleanup() {
	cleanup_devices
	rm -f /tmp/ns.*
}
trap cleanup EXIT

# Loop devices over tmpfs files take discards (punching holes) and
# write-zeroes. The destination's loop device has its discard turned off through sysfs
# below, which 6.12 keeps as the queue's user limit for the device's
# lifetime and never takes back (the value written must be a multiple of
# the granularity, which reads 0 once discard is off): use a loop device
# of this case's own, which `losetup -f` in other cases does not hand out
# while loop0-7 are free.
truncate -s 8M /tmp/ns.src /tmp/ns.dst || fail "truncate"
LS=$(loop_attach /tmp/ns.src)
LD=/dev/loop77
[ -b $LD ] || mknod $LD b 7 77 || fail "mknod $LD"
run losetup $LD /tmp/ns.dst
SZ=$(dev_sectors "$LS")
random_fill "$LS"
dd_ if="$LS" of="$LD" bs=1M oflag=direct
DST=$(dm_create nsdst "0 $SZ linear $LD 0")
DEV=$(dm_create im "$(incmirror_table "$LS" "$DST" 128 incremental)")
dm_msg im start
wait_state im synced 30

# The destination stops taking discards below its dm device, whose queue
# limits still advertise them (limits are stacked at table load only):
# as a SCSI disk that rejects UNMAP turns its discard off at completion
# time. Each discard the mirror sends it then completes with
# BLK_STS_NOTSUPP from the block layer.
Q=/sys/block/${LD#/dev/}/queue
[ "$(cat $Q/discard_max_bytes)" -gt 0 ] || fail "$LD takes no discards"
echo 0 >$Q/discard_max_bytes || fail "turn off discard of $LD"
assert_eq "$(cat $Q/discard_max_bytes)" 0 "discard_max_bytes of $LD"
[ "$(cat /sys/block/$(dm_sysname nsdst)/queue/discard_max_bytes)" -gt 0 ] ||
	fail "the destination's dm device no longer advertises discard"

# Twelve discards of one region each (more than error_threshold, 8), on
# data both legs hold.
dm_msg im pause
i=16
while [ $i -lt 28 ]; do
	run blkdiscard -o $((i * 65536)) -l 65536 "$DEV"
	i=$((i + 1))
done
# The loop device refuses write-zeroes too now (it implements them as
# fallocate only while it takes discards): one in region 40 (util-linux
# blkdiscard; busybox's has no -z). Its BLKZEROOUT asks for no unmap,
# which the source's loop refuses as well (tmpfs has no
# FALLOC_FL_ZERO_RANGE): the caller then writes the zeroes as data.
run /usr/sbin/blkdiscard -z -o $((40 * 65536)) -l 65536 "$DEV"
info "write_zeroes_max_bytes now: mirror $(cat /sys/block/$(dm_sysname im)/queue/write_zeroes_max_bytes), destination $(cat /sys/block/$(dm_sysname nsdst)/queue/write_zeroes_max_bytes)"
assert_eq "$(dm_field im 4)" 0 "dest_errors after discards and write-zeroes the destination refused"
assert_eq "$(dm_field im 1)" paused "state after discards and write-zeroes the destination refused"
get_dirty_all im >/tmp/ns.map
assert_eq "$(ranges_norm </tmp/ns.map | tr '\n' ' ')" "16-27 40 " "regions dirty after the refused discards and write-zeroes"

# The copier's write-zeroes for these zero regions are refused as well:
# it copies the zeroes as data, and the legs end identical.
dm_msg im start
wait_state im synced 30
assert_eq "$(dm_field im 4)" 0 "dest_errors after the copy"
same_regions "$LS" "$LD" 128
run dmsetup remove im
