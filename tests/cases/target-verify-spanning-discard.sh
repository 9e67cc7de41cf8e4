#!/bin/sh
# DESCRIPTION: verify while a discard spanning 8 regions is done on the source and held on the destination (dm-delay), and verify repair while a discard arrives during the comparison of a region it covers: no false mismatch, and the legs end identical
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
# dm-delay holds the destination's writes (then its reads) for 10 s, and
# submits what it holds at once when it is suspended: dm_swap releases them.
DST=$(dm_create vsdst "0 $SZ delay $LD 0 0 $LD 0 10000")
[ "$(cat "/sys/block/$(dm_sysname vsdst)/queue/discard_max_bytes")" -gt 0 ] ||
	fail "the delayed destination takes no discards"
# 8 KiB regions: a 64 KiB discard spans 8 of them.
DEV=$(dm_create im "$(incmirror_table "$LS" "$DST" 16 incremental)")
dm_msg im start
wait_state im synced 30

# The legs' own counters (/sys/block/loopN/stat: 1 reads, 12 discards),
# polled with shell builtins only.
SST=/sys/block/$(basename "$LS")/stat
DSTAT=/sys/block/$(basename "$LD")/stat
# fresh_data K: random data into regions K..K+7 of both legs, below the
# mirror (which is idle): the legs stay identical and the regions clean.
fresh_data() {
	dd_ if=/dev/urandom of=/tmp/vs.chunk bs=64k count=1
	dd_ if=/tmp/vs.chunk of="$LS" bs=64k count=1 seek=$(($1 / 8)) oflag=direct
	dd_ if=/tmp/vs.chunk of="$LD" bs=64k count=1 seek=$(($1 / 8)) oflag=direct
}

# A discard done on the source and held on the destination: verify must
# not compare its regions meanwhile.
k=8
fresh_data $k
read -r _ _ _ _ _ _ _ _ _ _ _ s0 _ <"$SST"
read -r _ _ _ _ _ _ _ _ _ _ _ d0 _ <"$DSTAT"
blkdiscard -o $((k * 8192)) -l 65536 "$DEV" &
P=$!
wait_cond 10 "the discard done on the source, not yet on the destination" \
	'read -r _ _ _ _ _ _ _ _ _ _ _ s _ <"$SST"
	read -r _ _ _ _ _ _ _ _ _ _ _ d _ <"$DSTAT"
	[ "$s" -gt "$s0" ] && [ "$d" = "$d0" ]'
dm_msg im verify $k 2
wait_field im 10 verify=done 10
kill -0 "$P" 2>/dev/null ||
	fail "the discard ended before verify did: the 10 s hold was too short here"
mm=$(dm_field im 12)
info "discard held: verified $(dm_field im 11), mismatches $mm"
dm_swap vsdst "0 $SZ delay $LD 0 0 $LD 0 0"
wait "$P" || fail "blkdiscard failed"
assert_eq "$mm" 0 "mismatches while a discard spanning regions $k-$((k + 7)) was in flight"
wait_state im synced 30

# The other order: the destination's reads are held, so verify holds
# region k; a discard covering it arrives. The target must hold the discard
# until the comparison ends, else it lands before the destination is read.
dm_swap vsdst "0 $SZ delay $LD 0 10000 $LD 0 0"
k=200
fresh_data $k
read -r r0 _ <"$SST"
dm_msg im verify repair $k 1
# Nothing else reads the source: verify has read it, the destination's read
# is held.
wait_cond 10 "verify reading the destination" 'read -r r _ <"$SST"; [ "$r" -gt "$r0" ]'
blkdiscard -o $((k * 8192)) -l 65536 "$DEV" &
P=$!
# Not held back, the discard would end at once (both legs take it without
# delay): give it 2 s, then release the comparison.
t=0
while kill -0 "$P" 2>/dev/null && [ $t -lt 20 ]; do
	usleep 100000
	t=$((t + 1))
done
assert_eq "$(dm_field im 10)" verify=running "verify while the destination read is held"
dm_swap vsdst "0 $SZ delay $LD 0 0 $LD 0 0"
wait "$P" || fail "blkdiscard failed"
wait_field im 10 verify=done 10
info "discard during the comparison: verified $(dm_field im 11), mismatches $(dm_field im 12)"
assert_eq "$(dm_field im 12)" 0 "mismatches when a discard spanning regions $k-$((k + 7)) arrived during the comparison of $k"
wait_state im synced 30
run dmsetup remove im
same_regions "$LS" "$LD" 16
