#!/bin/sh
# DESCRIPTION: set_dirty/set_dirty_hex then get_dirty/get_dirty_hex return exactly the map (windows, paging), which loads into a new table and copies
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 2 128
# 128 MiB in 8-sector regions: 32768 regions.
TABLE=$(incmirror_table $SRC $DST 8 incremental)

msg_out() { # NAME ARGS...: message result on one line (a refusal shows as REFUSED)
	_o=$(dmsetup message "$@") || { echo REFUSED; return; }
	echo "$_o" | tr '\n' ' ' | sed 's/  */ /g; s/^ //; s/ $//'
}

# ---- exact small maps -------------------------------------------------------
dm_create t0 "$TABLE" >/dev/null
assert_eq "$(total_regions t0)" 32768 "total regions"
assert_eq "$(dm_field t0 1)" loading "state"
assert_eq "$(msg_out t0 0 get_dirty)" "" "get_dirty of a fresh incremental table"
dm_msg t0 set_dirty 0 2-5 100 32767 8000-8100
assert_eq "$(msg_out t0 0 get_dirty)" "0 2-5 100 8000-8100 32767" "get_dirty after set_dirty"
dm_msg t0 set_dirty 6 7 1 8050-8060
assert_eq "$(msg_out t0 0 get_dirty)" "0-7 100 8000-8100 32767" "get_dirty merges adjacent regions"
# byte 0 = a5: bits 0 2 5 7; byte 1 = ff; byte 2 = 01: bit 0.
dm_msg t0 set_dirty_hex 1000 a5ff01
# first region not a multiple of 8; upper-case digits.
dm_msg t0 set_dirty_hex 2003 03
dm_msg t0 set_dirty_hex 3000 0000FF
ALL="0-7 100 1000 1002 1005 1007-1016 2003-2004 3016-3023 8000-8100 32767"
assert_eq "$(msg_out t0 0 get_dirty)" "$ALL" "get_dirty after set_dirty_hex"
assert_eq "$(msg_out t0 0 get_dirty 0)" "$ALL" "get_dirty 0"
assert_eq "$(msg_out t0 0 get_dirty 0 32768)" "$ALL" "get_dirty 0 32768"
assert_eq "$(in_sync t0)" $((32768 - 134)) "in_sync with 134 dirty regions"
# windows clip ranges to [first, first+count)
assert_eq "$(msg_out t0 0 get_dirty 2 4)" "2-5" "get_dirty 2 4"
assert_eq "$(msg_out t0 0 get_dirty 3 2)" "3-4" "get_dirty 3 2"
assert_eq "$(msg_out t0 0 get_dirty 101 899)" "" "get_dirty 101 899 (no dirty region)"
assert_eq "$(msg_out t0 0 get_dirty 1005 3)" "1005 1007" "get_dirty 1005 3"
assert_eq "$(msg_out t0 0 get_dirty 8050)" "8050-8100 32767" "get_dirty 8050 (to the end)"
assert_eq "$(msg_out t0 0 get_dirty 32767 1)" "32767" "get_dirty of the last region"
# hex form: same encoding as set_dirty_hex, padding bits 0
assert_eq "$(msg_out t0 0 get_dirty_hex 0 16 | tr A-F a-f)" "ff00" "get_dirty_hex 0 16"
assert_eq "$(msg_out t0 0 get_dirty_hex 1000 17 | tr A-F a-f)" "a5ff01" "get_dirty_hex 1000 17"
assert_eq "$(msg_out t0 0 get_dirty_hex 2001 8 | tr A-F a-f)" "0c" "get_dirty_hex 2001 8"
assert_eq "$(msg_out t0 0 get_dirty_hex 4 6 | tr A-F a-f)" "0f" "get_dirty_hex 4 6 (padding)"
assert_eq "$(msg_out t0 0 get_dirty_hex 32760 8 | tr A-F a-f)" "80" "get_dirty_hex of the last byte"
assert_eq "$(dm_field t0 1)" loading "state after messages"
run dmsetup remove t0

# ---- a map with 16384 ranges: paging and round trip ------------------------
# Source: random data in every even region (fio skips 4 KiB after each 4 KiB
# write), zeros elsewhere; destination all zeros. So the even regions are
# exactly what differs.
cd /tmp || fail "cd /tmp"
fio --name=even --filename=$SRC --rw=write:4k --bs=4k --direct=1 --ioengine=psync \
	--refill_buffers --size=128m >/tmp/rt.fio 2>&1 || { cat /tmp/rt.fio; fail "fio"; }
awk 'BEGIN { for (i = 0; i < 32768; i += 2) print i }' >/tmp/rt.expect

dm_create t1 "$TABLE" >/dev/null
for a in 0 8192 16384 24576; do
	# shellcheck disable=SC2046
	dm_msg t1 set_dirty $(awk -v a=$a 'BEGIN { for (i = a; i < a + 8192; i += 2) printf "%d ", i }')
done
assert_eq "$(in_sync t1)" 16384 "in_sync with every other region dirty"
get_dirty_all t1 >/tmp/rt.map1
pages=$(cat /tmp/.get_dirty_pages)
info "get_dirty of 16384 ranges came in $pages pages"
[ "$pages" -ge 2 ] || fail "16384 ranges (~90 KB) fitted in one message result: no paging exercised"
cmp /tmp/rt.map1 /tmp/rt.expect || fail "get_dirty pages differ from the set_dirty map"
# a window that starts inside the map and pages too
get_dirty_all t1 1001 20000 >/tmp/rt.win
awk 'BEGIN { for (i = 1002; i < 21001; i += 2) print i }' >/tmp/rt.winexp
cmp /tmp/rt.win /tmp/rt.winexp || fail "paged get_dirty of a window is wrong"
# the hex form of the whole map, following next= as well
first=0
: >/tmp/rt.hex
while :; do
	out=$(msg_out t1 0 get_dirty_hex $first $((32768 - first)))
	hex=${out%% *}
	next=
	case "$out" in *" next="*) next=${out##*next=} ;; esac
	echo "$first $hex" >>/tmp/rt.hex
	[ -z "$next" ] && break
	[ "$next" -eq $((first + ${#hex} * 4)) ] || fail "get_dirty_hex next=$next after ${#hex} digits from $first"
	first=$next
done
hexall=$(cut -d' ' -f2 /tmp/rt.hex | tr -d '\n' | tr A-F a-f)
assert_eq "$hexall" "$(awk 'BEGIN { for (i = 0; i < 4096; i++) printf "55" }')" "get_dirty_hex of every other region"
run dmsetup remove t1

# New table fed with the hex pages
dm_create t3 "$TABLE" >/dev/null
while read -r first hex; do
	dm_msg t3 set_dirty_hex "$first" "$hex"
done </tmp/rt.hex
get_dirty_all t3 >/tmp/rt.map3
cmp /tmp/rt.map1 /tmp/rt.map3 || fail "map loaded from get_dirty_hex differs"
run dmsetup remove t3

# New table fed with the get_dirty ranges; it copies them.
DEV=$(dm_create t2 "$TABLE")
xargs -n 2000 dmsetup message t2 0 set_dirty </tmp/rt.map1 || fail "set_dirty of saved ranges refused"
get_dirty_all t2 >/tmp/rt.map2
cmp /tmp/rt.map1 /tmp/rt.map2 || fail "map loaded from get_dirty differs"
assert_eq "$(in_sync t2)" 16384 "in_sync of the new table"
dm_msg t2 start
wait_state t2 synced 120
assert_eq "$(msg_out t2 0 get_dirty)" "" "get_dirty when synced"
assert_eq "$(dm_field t2 5)" $((16384 * 8)) "copied_sectors: exactly the dirty regions"
same_regions $SRC $DST 8
same_regions "$DEV" $DST 8
run dmsetup remove t2
rm -f /tmp/rt.*
