#!/bin/sh
# DESCRIPTION: a 16 TiB mirror (thin volumes, 64 KiB regions: 256 Mi regions) copies regions at both ends and needs under 64 MiB of kernel memory
# TIMEOUT: 300
. "$INCMIRROR_TESTS/lib/guest.sh"
trap 'cleanup_devices; rm -f /tmp/big.*' EXIT

modprobe dm-thin-pool || fail "no dm-thin-pool"
ram_devices 2 128
# One pool (metadata ram0, 128 MiB data on ram1, 64 KiB blocks), two thin
# volumes of 16 TiB each: source and destination.
SECTORS=34359738368 # 16 TiB
POOL=$(dm_create bigpool "0 $(dev_sectors /dev/ram1) thin-pool /dev/ram0 /dev/ram1 128 0")
dm_msg bigpool create_thin 0
dm_msg bigpool create_thin 1
SRC=$(dm_create bigsrc "0 $SECTORS thin $POOL 0")
DST=$(dm_create bigdst "0 $SECTORS thin $POOL 1")

R=268435456 # regions of 128 sectors
LAST=$((R - 1))
MID=$((R / 2))
# Source data in the regions that will be dirty, and in two regions that stay
# clean (the destination must not get those).
for r in 0 1 1000 $MID $((LAST - 1)) $LAST 2000 $((LAST - 2)); do
	run dd if=/dev/urandom of="$SRC" bs=64k seek=$r count=1 oflag=direct conv=notrunc 2>/dev/null
done

kb0() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	echo "$(meminfo_kb MemFree) $(meminfo_kb Slab) $(meminfo_kb VmallocUsed)"
}
report() { # label "free slab vmalloc" baseline
	set -- "$1" $2 $3
	_df=$(($5 - $2)) _ds=$(($3 - $6)) _dv=$(($4 - $7))
	info "$1: MemFree -$_df KiB, Slab +$_ds KiB, VmallocUsed +$_dv KiB"
	[ "$_df" -lt 65536 ] || fail "$1: the target took $_df KiB (> 64 MiB)"
}
base=$(kb0)

DEV=$(dm_create big "0 $SECTORS incmirror $SRC $DST 128 1 incremental")
assert_eq "$(dm_field big 2)" "$R/$R" "in_sync/total of an incremental 16 TiB table"
m=$(kb0)
report "after create" "$m" "$base"

t0=$(uptime_ms)
dm_msg big set_dirty 0-1 1000 $MID $((LAST - 1))-$LAST
t1=$(uptime_ms)
assert_eq "$(echo $(dmsetup message big 0 get_dirty))" "0-1 1000 $MID $((LAST - 1))-$LAST" "get_dirty"
assert_eq "$(in_sync big)" $((R - 6)) "in_sync with 6 dirty regions"
info "set_dirty took $((t1 - t0)) ms"

t0=$(uptime_ms)
dm_msg big start
wait_state big synced 240
t1=$(uptime_ms)
info "start -> synced in $((t1 - t0)) ms: $(dmsetup status big)"
assert_eq "$(dm_field big 5)" $((6 * 128)) "copied_sectors: just the 6 dirty regions"
assert_eq "$(in_sync big)" "$R" "in_sync when synced"
m=$(kb0)
report "after synced" "$m" "$base"

for r in 0 1 1000 $MID $((LAST - 1)) $LAST; do
	assert_eq "$(sha "$DST" $((r * 128)) 128)" "$(sha "$SRC" $((r * 128)) 128)" "region $r on the destination"
done
Z=$(dd if=/dev/zero bs=64k count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
for r in 2000 $((LAST - 2)); do
	assert_eq "$(sha "$DST" $((r * 128)) 128)" "$Z" "clean region $r must not be copied"
done

# Writes at the very end of the 16 TiB device reach both.
dd if=/dev/urandom of=/tmp/big.blk bs=4k count=1 2>/dev/null
run dd if=/tmp/big.blk of="$DEV" bs=4k seek=$((SECTORS / 8 - 1)) oflag=direct conv=notrunc 2>/dev/null
assert_eq "$(sha "$DST" $((SECTORS - 8)) 8)" "$(sha /tmp/big.blk)" "last 4 KiB on the destination"
assert_eq "$(sha "$SRC" $((SECTORS - 8)) 8)" "$(sha /tmp/big.blk)" "last 4 KiB on the source"
assert_eq "$(dm_field big 1)" synced "state after the write"
run dmsetup remove big
