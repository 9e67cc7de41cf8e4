#!/bin/sh
# DESCRIPTION: Ctrl-C of incmirror-lvm start (while the LV is suspended on a slow metadata device, and while it reads its bitmap from a pipe) and of finish (after the metadata change, while its suspend waits for a write) leaves no suspended device, says what it did and rolls back exactly (tables, LVM metadata, data); finish then works, also after being killed right after the switch-over
# CHECK-KERNEL: full (only in make check-full, on both kernels: make check's 15 minutes)
# TIMEOUT: 300
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-lvm >/dev/null || fail "incmirror-lvm not in PATH"
[ -x /usr/bin/timeout ] || fail "no coreutils timeout in the guest"
modprobe dm-delay 2>/dev/null || fail "no dm-delay module"

VG=imlvmi
LVDEV=/dev/mapper/$VG-data
STATE=/run/incmirror-lvm/$VG-data.state
# ram0: the PV; ram1: a metadata device behind dm-delay.
ram_devices 2 64
trap 'lvm_teardown $VG /dev/ram0' EXIT
lvm_vg $VG /dev/ram0
run lvcreate -q -y -L 8M -n data $VG
run lvcreate -q -y -L 8M -n dst $VG
random_fill $LVDEV
# /tmp/expect: what the LV must hold; every write the case makes goes there too.
dd_ if=$LVDEV of=/tmp/expect bs=1M iflag=direct
DATA_TABLE=$(dmsetup table $VG-data)
DST_TABLE=$(dmsetup table $VG-dst)
DST_PE=$(lvs --noheadings --segments -o seg_pe_ranges $VG/dst | tr -d ' ')
# The metadata device of part 1: every I/O takes 500 ms.
SLOW=$(dm_create slowmeta "0 $(dev_sectors /dev/ram1) delay /dev/ram1 0 500")
lvm_snapshot $VG /tmp/before

# write_lv BLOCK BYTE: 4 KiB of BYTE at 4 KiB block BLOCK through the LV
# with O_DIRECT, and into /tmp/expect.
write_lv() {
	write_block $LVDEV "$1" "$2" /tmp/expect
}
# interrupted RC OUT WHAT WANT_RC PATTERN...: the interrupted command's
# exit status and its messages.
interrupted() {
	_rc=$1 _out=$2 _what=$3 _want=$4
	shift 4
	sed "s/^/  | /" "$_out"
	assert_eq "$_rc" "$_want" "$_what: exit status"
	for _pat in "$@"; do
		grep -qF -- "$_pat" "$_out" || fail "$_what: no message '$_pat'"
	done
}
# as_before WHAT: no suspended device, everything as before start, the data
# what was written.
as_before() {
	assert_none_suspended "$1"
	lvm_same_as $VG /tmp/before "$1"
	assert_eq "$(dmsetup table $VG-data)" "$DATA_TABLE" "$1: table of $VG-data"
	assert_eq "$(sha $LVDEV)" "$(sha256sum </tmp/expect | cut -d' ' -f1)" "$1: data of $VG/data"
}

# 1. start, Ctrl-C while the LV is suspended: the mirror's table load and
# resume read and write its metadata device, slow.
/usr/bin/timeout 120 incmirror-lvm start $VG/data $VG/dst --metadata "$SLOW" >/tmp/a.out 2>&1 &
PG=$!
wait_cond 60 "start to suspend $VG-data" "is_suspended $VG-data"
ctrl_c $PG
# Still suspended after the signal was sent: it came in the middle.
is_suspended $VG-data || fail "start got past the suspended step before the signal (timing): $(cat /tmp/a.out)"
wait $PG
interrupted $? /tmp/a.out "start interrupted while suspended" 4 "interrupted after step '" \
	"rolled back: $VG/data is on its original table, nothing is left of the mirror"
grep -qE "interrupted after step '(suspend|load)'" /tmp/a.out || fail "start was not interrupted in its load or resume"
as_before "start interrupted while suspended"

# 2. start, Ctrl-C while incmirror-bitmap waits for its input (a pipe, as
# with --bitmap <(era_invalidate ...)), the mirror in place; a write made
# meanwhile must be on the LV afterwards.
mkfifo /tmp/bitmap.pipe || fail "mkfifo"
/usr/bin/timeout 120 incmirror-lvm start $VG/data $VG/dst --bitmap /tmp/bitmap.pipe --list-predates-start \
	--format ranges >/tmp/b.out 2>&1 &
PG=$!
wait_cond 60 "start to wait on its bitmap pipe" \
	"grep -qsx 'phase=mirrored' $STATE && pgrp_has $PG 'incmirror-bitmap load'"
assert_eq "$(dm_field $VG-data 1)" loading "state of the mirror while start waits"
write_lv 256 c3
ctrl_c $PG
wait $PG
interrupted $? /tmp/b.out "start interrupted in the bitmap load" 4 "interrupted after step 'resume': undoing what start did" \
	"rolled back: $VG/data is on its original table, nothing is left of the mirror"
as_before "start interrupted in the bitmap load"

# 3. finish, Ctrl-C after it wrote the new LVM metadata, while its suspend
# of the LV waits for a write that the destination holds: the case
# suspends the destination LV's device, so the mirrored write stays in
# flight until it is resumed. (A write through the page cache would not
# do: the suspend waits for its writeback uninterruptibly.)
run incmirror-lvm start $VG/data $VG/dst
run incmirror-lvm wait $VG/data
lvm_snapshot $VG /tmp/mirrored
run dmsetup suspend $VG-dst
write_lv 1024 a5 &
DD=$!
wait_cond 30 "the write to be in flight in $VG-data" "[ \"\$(inflight_writes $VG-data)\" -ge 1 ]"
/usr/bin/timeout 120 incmirror-lvm finish $VG/data >/tmp/c.out 2>&1 &
PG=$!
wait_cond 60 "finish to wait in its suspend of $VG-data" \
	"grep -qsx 'phase=metadata' $STATE && pgrp_has $PG 'suspend $VG-data'"
# Mid-way: the metadata already names the destination's extents.
lvs $VG/dst >/dev/null 2>&1 && fail "finish waits in its suspend, but $VG/dst is still in the metadata"
ctrl_c $PG
wait_cond 30 "the interrupted suspend to end" "! pgrp_has $PG 'suspend $VG-data'"
run dmsetup resume $VG-dst
wait $PG
interrupted $? /tmp/c.out "finish interrupted in its suspend" 1 "interrupted: rolling back the switch-over" \
	"rolled back: the mirror runs on, LVM metadata is as before finish"
wait $DD || fail "the write held during finish failed: $(cat /tmp/dd.err)"
assert_none_suspended "finish interrupted"
lvm_same_as $VG /tmp/mirrored "finish interrupted"
assert_eq "$(dm_field $VG-data 1)" synced "state of the mirror after the interrupted finish"

# 4. finish killed right after the switch-over: abort is refused, finish
# run again removes what is left.
INCMIRROR_LVM_TEST_DIE_AFTER=switched incmirror-lvm finish $VG/data >/tmp/d.out 2>&1
rc=$?
[ $rc -eq 137 ] || { cat /tmp/d.out; fail "finish killed after the switch: exit $rc, expected 137"; }
assert_eq "$(dmsetup table $VG-data)" "$DST_TABLE" "table after the killed finish"
incmirror-lvm abort $VG/data >/tmp/d.out 2>&1
assert_eq "$?" 3 "abort after the switch: exit status"
grep -q "run 'incmirror-lvm finish $VG/data' again" /tmp/d.out || fail "abort after the switch: $(cat /tmp/d.out)"
incmirror-lvm finish $VG/data >/tmp/d.out 2>&1 || { cat /tmp/d.out; fail "finish run again"; }
cat /tmp/d.out
grep -q "already runs on the destination's extents" /tmp/d.out || fail "finish run again: $(cat /tmp/d.out)"
assert_none_suspended "finish"
assert_eq "$(dmsetup table $VG-data)" "$DST_TABLE" "table after finish"
for d in $VG-dst $VG-data-imsrc; do
	dmsetup info $d >/dev/null 2>&1 && fail "$d left after finish"
done
lvs $VG/dst >/dev/null 2>&1 && fail "$VG/dst still in the metadata"
assert_eq "$(lvs --noheadings --segments -o seg_pe_ranges $VG/data | tr -d ' ')" "$DST_PE" "extents of $VG/data"
[ -z "$(ls /run/incmirror-lvm/ 2>/dev/null | grep -v '\.vg\.orig$')" ] ||
	fail "state left after finish: $(ls /run/incmirror-lvm/)"
assert_eq "$(sha $LVDEV)" "$(sha256sum </tmp/expect | cut -d' ' -f1)" "data after finish"
exit 0
