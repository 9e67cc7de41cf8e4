#!/bin/sh
# DESCRIPTION: malformed messages fail with EINVAL and change nothing; valid ones are exact (ranges, hex, paging)
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

# 4 MiB, 8-sector regions: 2048 regions (many ranges for paging).
ram_devices 2 4
SZ=$(dev_sectors /dev/ram0)
N=$((SZ / 8))
DEV=$(dm_create im "0 $SZ incmirror /dev/ram0 /dev/ram1 8 1 incremental")

unchanged() {
	got=$(dmsetup message im 0 get_dirty) || fail "get_dirty failed"
	[ "$got" = "$1" ] || fail "after '$2': dirty map '$got', expected '$1'"
	[ "$(dm_field im 1)" = loading ] || fail "after '$2': state $(dm_field im 1)"
}

# badmsg ARGS...: must fail with EINVAL, warn, and leave the map alone.
badmsg() {
	dmesg -c >/dev/null
	if dmsetup message -- im 0 "$@" >/tmp/out 2>&1; then
		fail "message accepted: $*"
	fi
	grep -q "Invalid argument" /tmp/out || fail "message '$*': not EINVAL: $(cat /tmp/out)"
	dmesg | grep -q "device-mapper: incmirror: " || fail "message '$*': no warning logged"
	unchanged "$BASE" "$*"
}

run dmsetup message im 0 set_dirty 5
BASE=5

badmsg bogus
badmsg set_dirty
badmsg set_dirty $N
badmsg set_dirty 7 $N
badmsg set_dirty 0-$N
badmsg set_dirty 9-8
badmsg set_dirty 1-
badmsg set_dirty -1
badmsg set_dirty 1--2
badmsg set_dirty abc
badmsg set_dirty 0x10
badmsg set_dirty +3
badmsg set_dirty 99999999999999999999999
badmsg set_dirty 18446744073709551615
# A valid range followed by a bad one: nothing may be set.
badmsg set_dirty 100-200 300 bad
badmsg set_dirty_hex
badmsg set_dirty_hex 0
badmsg set_dirty_hex 0 f
badmsg set_dirty_hex 0 fg
badmsg set_dirty_hex x 01
badmsg set_dirty_hex 0 01 02
# Bit N (one past the end) set; the valid byte before it must not land.
badmsg set_dirty_hex $((N - 8)) ff01
badmsg set_dirty_hex $N 01
badmsg set_dirty_hex 18446744073709551615 01
badmsg get_dirty x
badmsg get_dirty $((N + 1))
badmsg get_dirty 0 10 20
badmsg get_dirty_hex
badmsg get_dirty_hex 0
badmsg get_dirty_hex 0 x
badmsg get_dirty_hex $((N + 1)) 8
badmsg start now
badmsg pause now
badmsg max_copy_rate
badmsg max_copy_rate x
badmsg max_copy_rate 4294967296
badmsg max_copy_rate 1 2

# Zero padding beyond the end is fine; set bits in the last byte are ORed in.
run dmsetup message im 0 set_dirty_hex $((N - 8)) 8000
unchanged "5 $((N - 1))" "set_dirty_hex with zero padding"
run dmsetup message im 0 set_dirty_hex 13 A3
unchanged "5 13-14 18 20 $((N - 1))" "set_dirty_hex upper case"
[ "$(dmsetup message im 0 get_dirty_hex 0 24)" = "206014" ] ||
	fail "get_dirty_hex 0 24: $(dmsetup message im 0 get_dirty_hex 0 24)"
[ "$(dmsetup message im 0 get_dirty_hex 13 11)" = "a300" ] ||
	fail "get_dirty_hex 13 11: $(dmsetup message im 0 get_dirty_hex 13 11)"
[ "$(dmsetup message im 0 get_dirty 14 5)" = "14 18" ] ||
	fail "get_dirty 14 5: $(dmsetup message im 0 get_dirty 14 5)"
[ -z "$(dmsetup message im 0 get_dirty 100 50)" ] || fail "empty window not empty"
[ -z "$(dmsetup message im 0 get_dirty $N)" ] || fail "window at the end not empty"

# Every other region dirty: 1024 ranges. Page through get_dirty and
# get_dirty_hex with next= and compare with what was set.
hex=$(i=0; while [ $i -lt $((N / 8)) ]; do printf 55; i=$((i + 1)); done)
run dmsetup message im 0 set_dirty_hex 0 "$hex"
i=0; while [ $i -lt $N ]; do echo $i; i=$((i + 2)); done >/tmp/expect
first=0; : >/tmp/got; pages=0
while :; do
	out=$(dmsetup message im 0 get_dirty $first) || fail "get_dirty $first"
	next=
	for tok in $out; do
		case $tok in
		next=*) next=${tok#next=} ;;
		*-*) a=${tok%-*}; b=${tok#*-}; while [ $a -le $b ]; do echo $a; a=$((a + 1)); done ;;
		*) echo $tok ;;
		esac
	done >>/tmp/got
	pages=$((pages + 1))
	[ -z "$out" ] && break
	next=$(echo "$out" | tr ' ' '\n' | sed -n 's/^next=//p')
	[ -n "$next" ] || break
	[ "$next" -gt "$first" ] || fail "next=$next does not advance"
	first=$next
done
# 5, 13, N-1 etc. were odd ones set earlier: add them.
for r in 5 13 $((N - 1)); do echo $r; done >>/tmp/expect
sort -n /tmp/expect | uniq >/tmp/e; sort -n /tmp/got >/tmp/g
cmp /tmp/e /tmp/g || fail "paged get_dirty differs from the map"
info "get_dirty took $pages call(s)"

out=$(dmsetup message im 0 get_dirty_hex 0 $N)
hexall=
while :; do
	hexall=$hexall${out%% next=*}
	case $out in
	*next=*) first=${out##*next=}; out=$(dmsetup message im 0 get_dirty_hex $first $((N - first))) ;;
	*) break ;;
	esac
done
[ ${#hexall} -eq $((N / 4)) ] || fail "get_dirty_hex returned ${#hexall} digits"
# Byte 0: regions 0 2 4 5 6 -> 0x75; byte 1: 8 10 12 13 14 -> 0x75;
# byte 2: 16 18 20 22 -> 0x55; last byte: N-8 N-6 N-4 N-2 N-1 -> 0xd5.
case $hexall in
7575555555*d5) ;;
*) fail "get_dirty_hex content: $(echo "$hexall" | cut -c1-16)...$(echo "$hexall" | tail -c 5)" ;;
esac

# Still nothing copied: we never said start.
[ "$(dm_field im 1)" = loading ] || fail "state $(dm_field im 1)"
[ "$(dm_field im 5)" = 0 ] || fail "copied while loading"
run dmsetup remove im
exit 0
