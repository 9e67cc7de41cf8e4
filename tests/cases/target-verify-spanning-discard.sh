#!/bin/sh
# DESCRIPTION: verify (and verify repair) while a discard spanning 8 regions is held 500 ms on the destination (dm-delay) and already done on the source: no false mismatch, and the mirror ends synced and identical
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

# Loop devices on tmpfs take discards and read zeroes back from both, so the
# legs are identical again once a discard is done. dm-delay passes discards
# but not write-zeroes, which take the same path in the target (rule 4 of
# dm-incmirror-region.c, a write spanning regions).
head -c $((4 << 20)) /dev/urandom >/tmp/vs.src
cp /tmp/vs.src /tmp/vs.dst
LS=$(loop_attach /tmp/vs.src)
LD=$(loop_attach /tmp/vs.dst)
SZ=$(dev_sectors "$LS")
# Writes to the destination take 500 ms, reads none: a spanning write stays
# in flight there, already done on the source, while verify reads both.
DST=$(dm_create vsdst "0 $SZ delay $LD 0 0 $LD 0 500")
[ "$(cat "/sys/block/$(dm_sysname vsdst)/queue/discard_max_bytes")" -gt 0 ] ||
	fail "the delayed destination takes no discards"
# 8 KiB regions: a 64 KiB discard spans 8 of them.
DEV=$(dm_create im "$(incmirror_table "$LS" "$DST" 16 incremental)")
dm_msg im start
wait_state im synced 30

for i in 0 1 2; do
	k=$((64 * i + 8))
	# Data again (one write per region, which verify excludes), so that
	# the discard changes the range.
	dd_ if=/dev/urandom of="$DEV" bs=64k count=1 seek=$((k / 8)) oflag=direct
	wait_state im synced 30
	d0=$(blk_stat "$LS" 12)
	blkdiscard -o $((k * 8192)) -l 65536 "$DEV" &
	P=$!
	# Done on the source (its discard count moved), not yet on the mirror
	# (dm-delay itself does not count discards in flight).
	wait_cond 10 "the discard done on the source and in flight on the mirror" \
		'[ "$(blk_stat "$LS" 12)" -gt "$d0" ] && [ "$(inflight_writes im)" -gt 0 ]'
	if [ "$i" -lt 1 ]; then
		dm_msg im verify $k 8
	else
		dm_msg im verify repair $k 8
	fi
	wait_field im 10 verify=done 10
	mm=$(dm_field im 12)
	wait "$P" || fail "blkdiscard failed"
	info "pass $i: verified $(dm_field im 11), mismatches $mm"
	assert_eq "$mm" 0 "mismatches while a discard spanning regions $k-$((k + 7)) was in flight (pass $i, $(dmsetup status im))"
done

wait_state im synced 30
dm_msg im verify
wait_field im 10 verify=done 30
assert_eq "$(dm_field im 11)" "$(total_regions im)" "regions verified after the discards"
assert_eq "$(dm_field im 12)" 0 "mismatches after the discards"
run dmsetup remove im
same_regions "$LS" "$LD" 16
