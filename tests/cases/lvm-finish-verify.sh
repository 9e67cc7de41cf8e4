#!/bin/sh
# DESCRIPTION: incmirror-lvm status --json during a copy and when synced; finish --verify with one byte flipped on the destination of a synced mirror: refused (exit 3), names the region and its sectors, nothing switched (tables, LVM metadata, state as before); after verify repair and a new sync it switches over with identical data; killed after writing the metadata and run again, finish --verify says it skips the verify (phase metadata) and completes
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 300
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-lvm >/dev/null || fail "incmirror-lvm not in PATH"

VG=imlvmv
trap 'lvm_teardown $VG /dev/ram0' EXIT
ram_devices 1 40
lvm_vg $VG /dev/ram0
run lvcreate -q -y -L 16M -n data $VG
run lvcreate -q -y -L 16M -n dst $VG
LVDEV=/dev/mapper/$VG-data
DST=/dev/mapper/$VG-dst
random_fill $LVDEV
# status --json during the copy (held slow, then let go).
run incmirror-lvm start $VG/data $VG/dst --max-rate 1024
incmirror-lvm status --json $VG/data >/tmp/st.json || fail "status --json"
cat /tmp/st.json
assert_eq "$(wc -l </tmp/st.json)" 1 "lines of status --json"
grep -Eq '^\{"lv":"'$VG'/data","state":"copying","percent":[0-9]+\.[0-9],"regions-in-sync":[0-9]+,"regions":256,"region-sectors":128,"copied-sectors":[0-9]+,"rate-kib-s":[0-9]+,"eta-s":([0-9]+|null),"dest-errors":0,"destination":"'$VG'/dst","destination-kind":"lv","hidden-source":"/dev/mapper/'$VG'-data-imsrc"\}$' /tmp/st.json ||
	fail "status --json during the copy: $(cat /tmp/st.json)"
run dmsetup message $VG-data 0 max_copy_rate 0
run incmirror-lvm wait $VG/data
incmirror-lvm status --json $VG/data | grep -q '"state":"synced","percent":100.0,"regions-in-sync":256,' ||
	fail "status --json when synced: $(incmirror-lvm status --json $VG/data)"

# One byte of region 77 (64 KiB regions) flipped on the destination alone.
OFF=$((77 * 65536 + 1234))
dd if=$DST of=/tmp/sec bs=512 skip=$((OFF / 512)) count=1 iflag=direct 2>/dev/null || fail "read sector"
B=$(od -An -tu1 -j $((OFF % 512)) -N1 /tmp/sec | tr -d ' ')
[ -n "$B" ] || fail "cannot read byte $OFF of $DST"
{
	head -c $((OFF % 512)) /tmp/sec
	printf "\\$(printf %03o $((B ^ 255)))"
	tail -c $((511 - OFF % 512)) /tmp/sec
} >/tmp/sec.new
assert_eq "$(wc -c </tmp/sec.new)" 512 "size of the flipped sector"
dd_ if=/tmp/sec.new of=$DST bs=512 seek=$((OFF / 512)) count=1 oflag=direct conv=notrunc
assert_eq "$(dm_field $VG-data 1)" synced "state after the flip (the map does not know)"
# (sync: a write the page cache kept would reach the device only later.)
drop_caches /dev/mapper/$VG-data-imsrc $DST
cmp /dev/mapper/$VG-data-imsrc $DST >/tmp/cmp.out 2>&1 && fail "the flipped byte is not on $DST"
info "flipped: $(cat /tmp/cmp.out)"

lvm_snapshot $VG /tmp/before
T0=$(uptime_ms)
incmirror-lvm finish --verify $VG/data >/tmp/f.out 2>&1
rc=$?
cat /tmp/f.out
assert_eq $rc 3 "exit status of finish --verify with a flipped byte"
grep -q "refused: verify: 1 of 256 regions differ between the source and the destination: region 77 (sectors 9856-9983); nothing was switched" /tmp/f.out ||
	fail "finish --verify does not say where: $(cat /tmp/f.out)"
lvm_same_as $VG /tmp/before "refused finish --verify"
dmsetup table $VG-data | grep -q ' incmirror ' || fail "$VG-data is not on the mirror"
lvs $VG/dst >/dev/null 2>&1 || fail "$VG/dst left the LVM metadata"
info "finish --verify refused in $(($(uptime_ms) - T0)) ms"

# Repaired: the region is copied again, then the proof holds.
run dmsetup message $VG-data 0 verify repair
wait_cond 60 "verify repair to end" "dmsetup status $VG-data | grep -q 'verify=done'"
run incmirror-lvm wait $VG/data
S=$(sha /dev/mapper/$VG-data-imsrc)
# Killed after writing the metadata (the verify passed before): finish
# --verify run again completes it and says that it skips the verify.
INCMIRROR_LVM_TEST_DIE_AFTER=metadata incmirror-lvm finish --verify $VG/data >/tmp/f2.out 2>&1
rc=$?
assert_eq $rc 137 "exit status of finish --verify killed after the metadata ($(cat /tmp/f2.out))"
grep -q 'verify: 256 regions compared, 0 differ' /tmp/f2.out || fail "$(cat /tmp/f2.out)"
incmirror-lvm finish --verify $VG/data >/tmp/f3.out 2>&1 || { cat /tmp/f3.out; fail "finish --verify resumed"; }
cat /tmp/f3.out
grep -q "^incmirror-lvm: --verify skipped: an interrupted finish already wrote the LVM metadata of $VG (phase metadata)" /tmp/f3.out ||
	fail "finish --verify resumed at phase metadata does not say that it skips the verify: $(cat /tmp/f3.out)"
assert_eq "$(sha $LVDEV)" "$S" "data after finish --verify"
dmsetup table $VG-data | grep -q ' incmirror ' && fail "$VG-data still on the mirror"
exit 0
