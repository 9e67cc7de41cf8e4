#!/bin/sh
# DESCRIPTION: a 16 TiB map (256 Mi regions) is marked a chunk of 32768 regions per hold of the lock: set_dirty, set_dirty_hex, a 3 GiB discard, a failed destination flush (its caller waits for the whole map), a hand-over to 1 GiB regions and metadata loads dirty exactly the regions they must, in core and on disk
# CHECK-KERNEL: 6.12
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
cleanup() {
	cleanup_devices
	rm -f /tmp/lm.*
}
trap cleanup EXIT

S=34359738368 # 16 TiB
R=268435456   # regions of 128 sectors (64 KiB)
LAST=$((R - 1))
C=32768       # regions per hold of the lock (IM_LOCK_CHUNK)
# Legs: loop devices over sparse 16 TiB tmpfs files (a write cache, so
# flushes reach them, and discard). The destination under a dm device whose
# table becomes dm-flakey failing every write, and so every flush.
ram_devices 1 33
truncate -s $((S * 512)) /tmp/lm.src /tmp/lm.dst || fail "truncate"
LS=$(loop_attach /tmp/lm.src)
LD=$(loop_attach /tmp/lm.dst)
DST=$(dm_create lmdst "0 $S linear $LD 0")
T="0 $S incmirror $LS $DST"
T0=$(uptime_ms)
part() { info "part $1 done at $(($(uptime_ms) - T0)) ms"; }
dirty() { # NAME [FIRST COUNT]: the dirty ranges on one line
	echo $(get_dirty_all "$@")
}

# 1. set_dirty: a range over three chunk boundaries, one up to the map's end.
DEV=$(dm_create lm "$T 128 1 incremental")
dm_msg lm set_dirty $((C - 1))-$((3 * C + 1)) $((LAST - C))-$LAST
assert_eq "$(dirty lm)" "$((C - 1))-$((3 * C + 1)) $((LAST - C))-$LAST" \
	"get_dirty after set_dirty"
assert_eq "$(in_sync lm)" $((R - (2 * C + 3) - (C + 1))) "in_sync after set_dirty"

part 1

# 2. set_dirty_hex: 4100 bytes from region F. The message marks 4096
# regions (512 bytes) per hold of the lock: its chunk boundaries split the
# long run, and the one at byte 4096 (region F + 32768) a short one.
F=$((5 * C - 8))
H=$(awk 'BEGIN { for (i = 0; i < 4094; i++) printf "ff"; printf "7e810ff00180" }')
dm_msg lm set_dirty_hex $F "$H"
want="$F-$((F + 32751)) $((F + 32753))-$((F + 32758)) $((F + 32760))"
want="$want $((F + 32767))-$((F + 32771)) $((F + 32780))-$((F + 32784)) $((F + 32799))"
assert_eq "$(dirty lm $F 32808)" "$want" "get_dirty after set_dirty_hex"
assert_eq "$(in_sync lm)" $((R - (2 * C + 3) - (C + 1) - 32770)) "in_sync after set_dirty_hex"

part 2

# 3. A discard of 3 GiB from 4 KiB into region 8C: 49153 regions, marked
# by the work item after the discard completed on both legs.
D=$((8 * C))
run blkdiscard -o $((D * 65536 + 4096)) -l $((3 << 30)) "$DEV"
assert_eq "$(dirty lm $((D - 8)) 49170)" "$D-$((D + 49152))" "get_dirty after the discard"
assert_eq "$(in_sync lm)" $((R - (2 * C + 3) - (C + 1) - 32770 - 49153)) "in_sync after the discard"

part 3

# 4. The destination fails a flush: every region dirty once the caller's
# flush has returned (not later), one destination error.
dm_swap lmdst "0 $S flakey $LD 0 0 3600 1 error_writes"
run sync "$DEV"
assert_eq "$(in_sync lm)" 0 "in_sync as soon as the failed flush returned"
assert_eq "$(dm_field lm 4)" 1 "destination errors after the failed flush"
assert_eq "$(dirty lm)" "0-$LAST" "get_dirty after the failed flush"
dm_swap lmdst "0 $S linear $LD 0"
run dmsetup remove lm

part 4

# 5. Hand-over to 1 GiB regions: each new region covers 16384 old ones, so
# a hold of the lock rescales 128 of them (new region 128 starts the
# second hold).
DEV=$(dm_create lm "$T 128 1 incremental")
dm_msg lm set_dirty 100 $((C + 5)) $((128 * 16384)) $LAST
dm_swap lm "$T 2097152 1 incremental"
assert_eq "$(dirty lm)" "0 2 128 16383" "get_dirty after the hand-over to 1 GiB regions"
assert_eq "$(dm_field lm 2)" "16380/16384" "in_sync/total after the hand-over"
run dmsetup remove lm

part 5

# 6. Metadata (32 MiB of bitmap; region i is bit i % 8 of byte i / 8 of
# the bitmap from byte 4096 on). set_dirty_hex and the discard are durable
# when they return; a clean reload loads the same map block by block.
zero_dev /dev/ram0 8
DEV=$(dm_create lm "$T 128 3 incremental metadata /dev/ram0")
dm_msg lm set_dirty_hex $F "$H"
run blkdiscard -o $((D * 65536 + 4096)) -l $((3 << 30)) "$DEV"
want="$want $D-$((D + 49152))"
assert_eq "$(dirty lm)" "$want" "get_dirty with metadata"
meta_read /dev/ram0
disk_hex() { # BYTE COUNT
	dd if=/tmp/.meta.img bs=4096 skip=1 2>/dev/null | dd bs=1 skip="$1" count="$2" 2>/dev/null |
		od -An -v -tx1 | tr -d ' \n'
}
assert_eq "$(disk_hex $((F / 8)) 4100)" "$H" "bits on disk after set_dirty_hex"
assert_eq "$(disk_hex $((D / 8)) 6145)" \
	"$(awk 'BEGIN { for (i = 0; i < 6144; i++) printf "ff"; printf "01" }')" \
	"bits on disk after the discard"
rm -f /tmp/.meta.img
run dmsetup remove lm
DEV=$(dm_create lm "$T 128 3 incremental metadata /dev/ram0")
assert_eq "$(dirty lm)" "$want" "get_dirty after loading the metadata"
run dmsetup remove lm
part 6

# 7. A full mirror on fresh metadata loads NEEDS_FULL_COPY: every block of
# the image set, so every region dirty (the copier, at 1 KiB/s, may have
# taken a few from region 0).
zero_dev /dev/ram0 8
DEV=$(dm_create lm "$T 128 4 metadata /dev/ram0 max_copy_rate 1")
for w in $((100 * C - 1)) $((4000 * C + 7)) $((LAST - C - 1)); do
	assert_eq "$(dirty lm $w $((C + 2)))" "$w-$((w + C + 1))" "dirty window at $w of a full mirror"
done
[ "$(in_sync lm)" -lt 1000 ] || fail "a full mirror on new metadata: $(dmsetup status lm)"
run dmsetup remove lm
part 7
