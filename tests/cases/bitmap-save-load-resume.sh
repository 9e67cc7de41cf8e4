#!/bin/sh
# DESCRIPTION: incmirror-bitmap save of a paused mirror, then load into a new table (same and larger region size), resumes it with nothing lost
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-bitmap >/dev/null || fail "incmirror-bitmap not in PATH"

# 16 MiB, 64 KiB regions: 256 regions; copying throttled to 256 KiB/s so
# the pause lands in the middle.
ram_devices 2 16
SRC=/dev/ram0
DST=/dev/ram1
SZ=$(dev_sectors $SRC)
# The destination holds an earlier copy of the source; the source then
# changed in exactly the regions listed in /tmp/dirty.txt below.
dd if=/dev/urandom of=$SRC bs=1M count=16 oflag=direct 2>/dev/null || fail "fill source"
dd if=$SRC of=$DST bs=1M iflag=direct oflag=direct 2>/dev/null || fail "copy source"
for r in "0 16" "32 1" "48 1" "80 32" "255 1"; do
	set -- $r
	dd if=/dev/urandom of=$SRC bs=64k seek=$1 count=$2 oflag=direct 2>/dev/null || fail "change $r"
done
cmp -s $SRC $DST && fail "source and destination identical before the mirror"

DEV=$(dm_create im "0 $SZ incmirror $SRC $DST 128 3 incremental max_copy_rate 256")
# 51 dirty regions: runs, singles, and the last region
printf '0 1M\n2M 64K\n3M 64K\n5M 2M\n16711680 65536\n' >/tmp/dirty.txt
run incmirror-bitmap load -v im /tmp/dirty.txt
[ "$(dm_field im 2)" = "205/256" ] || fail "in_sync $(dm_field im 2) after load, expected 205/256"
run dmsetup message im 0 start
# wait until some, not all, regions were copied, then pause
deadline=$(($(date +%s) + 120))
while [ "$(dm_field im 5)" -lt 256 ]; do
	[ "$(date +%s)" -lt "$deadline" ] || fail "nothing copied in 120 s"
	usleep 50000
done
run dmsetup message im 0 pause
deadline=$(($(date +%s) + 120))
while [ "$(dm_field im 8)" != 0 ]; do
	[ "$(date +%s)" -lt "$deadline" ] || fail "copies still in flight after pause"
	usleep 50000
done
state=$(dm_field im 1)
[ "$state" = paused ] || fail "state $state after pause (copy too fast to interrupt?)"
# writes while paused are mirrored
dd if=/dev/urandom of="$DEV" bs=4k seek=1000 count=3 oflag=direct 2>/dev/null || fail "write while paused"

before=$(dmsetup message im 0 get_dirty)
info "dirty when saved: $before"
[ -n "$before" ] || fail "no dirty region left to save"
run incmirror-bitmap save -v im -o /tmp/im.bm
run incmirror-bitmap info /tmp/im.bm
ndirty=$(incmirror-bitmap info /tmp/im.bm | sed -n 's/^dirty-regions: //p')
insync=$(dm_field im 2)
[ "$ndirty" = $((256 - ${insync%/*})) ] || fail "saved $ndirty dirty regions, status says $insync in sync"
run dmsetup remove im

# Same region size: the map comes back exactly.
DEV=$(dm_create im2 "0 $SZ incmirror $SRC $DST 128 1 incremental")
run incmirror-bitmap load im2 /tmp/im.bm
after=$(dmsetup message im2 0 get_dirty)
[ "$after" = "$before" ] || fail "reloaded map '$after' differs from saved '$before'"
run dmsetup remove im2

drop_caches
cmp -s $SRC $DST && fail "source and destination identical before resuming: the test proves nothing"

# Larger regions (128 KiB): rescaled conservatively, then resumed to the end.
DEV=$(dm_create im3 "0 $SZ incmirror $SRC $DST 256 1 incremental")
run incmirror-bitmap load -v --start im3 /tmp/im.bm
wait_state im3 synced 300
run dmsetup remove im3
drop_caches
cmp $SRC $DST || fail "destination differs after resuming from the saved bitmap"

# A dense map on a larger device: 1 GiB at 4 KiB regions (262144 regions),
# every other region dirty, loaded with set_dirty_hex and saved through
# get_dirty paging (next=) and get_dirty_hex; the saved file must hold
# exactly the loaded map. Nothing is written, so brd allocates no pages.
ram_devices 2 1024
SZ=$(dev_sectors /dev/ram0)
run dm_create imd "0 $SZ incmirror /dev/ram0 /dev/ram1 8 1 incremental" >/dev/null
head -c 32768 /dev/zero | tr '\000' '\125' >/tmp/dense.raw
run incmirror-bitmap load -v --format raw --granularity 4K imd /tmp/dense.raw
[ "$(dm_field imd 2)" = "131072/262144" ] || fail "in_sync $(dm_field imd 2) after the dense load"
run incmirror-bitmap save -v imd -o /tmp/dense.bm
incmirror-bitmap convert --region-size 4K -O ranges /tmp/dense.bm >/tmp/dense.saved || fail "convert saved"
incmirror-bitmap convert --format raw --granularity 4K --region-size 4K --device-size 1G -O ranges \
	/tmp/dense.raw >/tmp/dense.loaded || fail "convert loaded"
[ "$(wc -l </tmp/dense.saved)" -eq 131072 ] || fail "saved map has $(wc -l </tmp/dense.saved) runs, expected 131072"
cmp /tmp/dense.loaded /tmp/dense.saved || fail "saved dense map differs from the loaded one"
run dmsetup remove imd
exit 0
