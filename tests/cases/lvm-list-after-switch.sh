#!/bin/sh
# DESCRIPTION: incmirror-lvm start under a live writer: a dm-era list file taken before start is refused without --list-predates-start (nothing changed) and with it loses the writes made between the list and the switch (legs differ after synced); refusals (--era, device in use, failing --bitmap-cmd) leave an inactive dst inactive; SIGTERM while start --era lists rolls back and drops dm-era's metadata snapshot; --era DEV --since ERA and --bitmap-cmd take the list after the switch (a 1 MiB write made right after the list is on both legs) and copy exactly the listed regions (whole-device cmp after synced, copied-sectors, and the LV after finish)
# CHECK-KERNEL: 6.1
# TIMEOUT: 300
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-lvm >/dev/null || fail "incmirror-lvm not in PATH"
command -v era_invalidate >/dev/null || fail "era_invalidate not installed"
modprobe dm-era 2>/dev/null || fail "no dm-era module"

VG=imlvmw
cleanup() {
	stop_writer
	[ -L /tmp/realbin/era_invalidate ] && ln -sf pdata_tools /usr/sbin/era_invalidate
	dmsetup remove era0 >/dev/null 2>&1
	lvm_teardown $VG /dev/ram0
}
# ram0: the PV (data and dst, 16 MiB each);
# ram1: dm-era's metadata.
ram_devices 2 64
trap cleanup EXIT
lvm_vg $VG /dev/ram0
run lvcreate -q -y -L 16M -n data $VG
run lvcreate -q -y -L 16M -n dst $VG
LVDEV=/dev/mapper/$VG-data
SRC=/dev/mapper/$VG-data-imsrc
DST=/dev/mapper/$VG-dst
SZ=$(dev_sectors $LVDEV)
random_fill $LVDEV
zero_dev /dev/ram1 8192
# dm-era over the LV, 64 KiB blocks; the application writes through it.
ERA=$(dm_create era0 "0 $SZ era /dev/ram1 $LVDEV 128")
ERA_TABLE=$(dmsetup table era0)

# The live writer: 4 KiB random writes to the first 8 MiB through dm-era.
WPID=
start_writer() {
	fio --name=w --filename="$ERA" --size=8M --bs=4k --rw=randwrite --randrepeat=0 \
		--ioengine="$(fio_engine)" --iodepth=1 --direct=1 --time_based --runtime=600 \
		--rate_iops=200 >/tmp/fio.out 2>&1 &
	WPID=$!
}
stop_writer() {
	[ -n "$WPID" ] || return 0
	kill "$WPID" 2>/dev/null
	wait_pid_gone "$WPID" 30 || fail "fio does not end"
	WPID=
}
# backup: the era read (SINCE), then a checkpoint, then the LV copied onto
# dst (as a restore of that backup leaves it), with the writer running.
# SINCE is the era BEFORE the checkpoint: a write dm-era marked in it can
# still be in flight when dd reads its block (incmirror-lvm(8), --since).
backup() {
	SINCE=$(dm_field era0 3)
	run dmsetup message era0 0 checkpoint
	dd_ if="$ERA" of="$DST" bs=1M iflag=direct oflag=direct
}
# list_sectors LIST: the sectors of the 64 KiB regions an era list names
# (what the copy of a mirror loaded with it copies).
list_sectors() {
	incmirror-bitmap convert -r 64K --format era --table "$ERA_TABLE" -O ranges "$1" >/tmp/ranges ||
		fail "incmirror-bitmap convert $1"
	awk '{ n += $2 } END { print n / 512 }' /tmp/ranges
}
# copied_is WHAT LIST: the copy copied exactly the regions LIST names (not
# everything, not fewer): the writer's 4 KiB writes never span regions, so
# no region is marked dirty after the load.
copied_is() {
	_want=$(list_sectors "$2")
	_got=$(incmirror-lvm status $VG/data | sed -n 's/^copied-sectors: //p')
	assert_eq "$_got" "$_want" "$1: copied-sectors against the list"
	[ "$_want" -gt 0 ] && [ "$_want" -lt "$SZ" ] || fail "$1: the list names $_want of $SZ sectors"
	info "$1: copied $_got sectors, as listed"
}

# era_invalidate, as incmirror-lvm runs it, wrapped (modes in
# /tmp/era.mode): "term" sends incmirror-lvm SIGTERM while it runs (a
# Ctrl-C while the list is taken); "write" keeps the list in /tmp/era.list
# and its arguments in /tmp/era.args and, after the list is made, writes
# 1 MiB at 14 MiB through dm-era: on no list, so on the destination only
# if the list was taken after the switch; otherwise it just runs.
mkdir -p /tmp/realbin
ln -sf /usr/sbin/pdata_tools /tmp/realbin/era_invalidate
rm -f /usr/sbin/era_invalidate
cat >/usr/sbin/era_invalidate <<EOF
#!/bin/sh
case \$(cat /tmp/era.mode 2>/dev/null) in
term) kill -TERM \$PPID; exec /tmp/realbin/era_invalidate "\$@" ;;
write)
	echo "\$*" >/tmp/era.args
	/tmp/realbin/era_invalidate "\$@" >/tmp/era.list
	rc=\$?
	cat /tmp/era.list
	dd if=/dev/urandom of=$ERA bs=64k seek=224 count=16 oflag=direct 2>/dev/null || exit 9
	exit \$rc ;;
*) exec /tmp/realbin/era_invalidate "\$@" ;;
esac
EOF
chmod +x /usr/sbin/era_invalidate
echo pass >/tmp/era.mode
# era_list FILE: the blocks written since $SINCE, as a user takes them.
era_list() {
	run dmsetup message era0 0 checkpoint
	run dmsetup message era0 0 take_metadata_snap
	era_invalidate --metadata-snapshot --written-since "$SINCE" /dev/ram1 >"$1" || fail "era_invalidate"
	run dmsetup message era0 0 drop_metadata_snap
}
# quiet_same WHAT: with the writer stopped, both legs hold the same data.
quiet_same() {
	stop_writer
	drop_caches $SRC $DST
	cmp $SRC $DST >/tmp/cmp.out 2>&1 || fail "$1: the legs differ after synced: $(cat /tmp/cmp.out)"
}

# 1. The old flow: the list taken, then 1 MiB written at 12 MiB (after the
# list, before the switch; the writer keeps writing the first 8 MiB).
start_writer
backup
dd_ if=/dev/urandom of="$ERA" bs=64k seek=32 count=4 oflag=direct
era_list /tmp/a.xml
dd_ if=/dev/urandom of="$ERA" bs=64k seek=192 count=16 oflag=direct
S0=$(dmsetup table $VG-data)
L0=$(lvs --noheadings -o lv_name,lv_attr,seg_pe_ranges $VG)
incmirror-lvm start $VG/data $VG/dst --bitmap /tmp/a.xml --format era --table "$ERA_TABLE" >/tmp/o1 2>&1
rc=$?
if [ $rc -eq 0 ]; then
	# Accepted silently: show what it costs.
	incmirror-lvm wait $VG/data >/dev/null || fail "wait"
	stop_writer
	drop_caches $SRC $DST
	cmp $SRC $DST >/tmp/cmp.out 2>&1 ||
		fail "start --bitmap accepted a list taken before the switch, and after synced the legs differ (writes lost): $(cat /tmp/cmp.out)"
	fail "start --bitmap accepted a list taken before the switch without --list-predates-start"
fi
assert_eq $rc 3 "exit status of start --bitmap without --list-predates-start ($(cat /tmp/o1))"
grep -q "refused: a --bitmap list was taken before the mirror goes live: writes made to $VG/data between taking it and the switch are on neither the list nor the destination" /tmp/o1 ||
	fail "refusal does not name the risk: $(cat /tmp/o1)"
# Nothing changed (era0's open count is the writer's: not compared).
assert_eq "$(dmsetup table $VG-data)" "$S0" "table of $VG-data after the refusal"
assert_eq "$(lvs --noheadings -o lv_name,lv_attr,seg_pe_ranges $VG)" "$L0" "LVs after the refusal"
dmsetup info $VG-data-imsrc >/dev/null 2>&1 && fail "hidden device left after the refusal"
ls /run/incmirror-lvm 2>/dev/null | grep "^$VG-" && fail "state left after the refusal"
# With the acknowledgement it runs, and loses exactly what it says.
run incmirror-lvm start $VG/data $VG/dst --bitmap /tmp/a.xml --format era --table "$ERA_TABLE" \
	--list-predates-start
run incmirror-lvm wait $VG/data
stop_writer
drop_caches $SRC $DST
cmp $SRC $DST >/tmp/cmp.out 2>&1 && fail "--list-predates-start: no write lost, the case does not test the window"
info "--list-predates-start, as acknowledged: $(cat /tmp/cmp.out)"
[ "$(dd if=$SRC bs=64k skip=192 count=16 2>/dev/null | sha256sum)" != \
	"$(dd if=$DST bs=64k skip=192 count=16 2>/dev/null | sha256sum)" ] ||
	fail "--list-predates-start: the 1 MiB written after the list is on the destination"
run incmirror-lvm abort $VG/data

# Refusals of --era and of a device in use (exit 3) and a failing
# --bitmap-cmd (exit 4, rolled back): nothing changed, also not the
# activation of dst, inactive before (start activates it for its checks).
run lvchange -an $VG/dst
L1=$(lvs --noheadings -o lv_name,lv_attr,seg_pe_ranges $VG)
refused() {
	_want=$1 _msg=$2
	shift 2
	incmirror-lvm start $VG/data $VG/dst "$@" >/tmp/o2 2>&1
	_rc=$?
	assert_eq $_rc "$_want" "exit status of start $* ($(cat /tmp/o2))"
	grep -q "$_msg" /tmp/o2 || fail "start $*: $(cat /tmp/o2)"
	assert_eq "$(dmsetup table $VG-data)" "$S0" "table of $VG-data after start $*"
	assert_eq "$(lvs --noheadings -o lv_name,lv_attr,seg_pe_ranges $VG)" "$L1" \
		"LVs (dst inactive) after start $*"
	dmsetup info $VG-dst >/dev/null 2>&1 && fail "start $*: $VG-dst left active"
	dmsetup info $VG-data-imsrc >/dev/null 2>&1 && fail "hidden device left after start $*"
	ls /run/incmirror-lvm 2>/dev/null | grep "^$VG-" && fail "state left after start $*"
	return 0
}
refused 3 "option '--era': no device-mapper device nosuch" --era nosuch --since 1
refused 3 "option '--era': $VG-dst is not a dm-era device" --era $VG-dst --since 1
refused 3 "option '--since': era 99999 is after the current era" --era era0 --since 99999
refused 3 "metadata /dev/ram1 is in use: held by" --metadata /dev/ram1
refused 4 "the --bitmap-cmd command failed (exit 3)" --bitmap-cmd 'exit 3'
grep -q "rolled back: $VG/data is on its original table" /tmp/o2 || fail "$(cat /tmp/o2)"
# SIGTERM while start --era takes the list (dm-era's metadata snapshot
# held): rolled back, and the snapshot dropped (else every later
# take_metadata_snap on era0 fails).
echo term >/tmp/era.mode
refused 4 "interrupted after step '" --era era0 --since "$SINCE"
grep -q "rolled back: $VG/data is on its original table" /tmp/o2 || fail "$(cat /tmp/o2)"
echo pass >/tmp/era.mode
assert_eq "$(dm_field era0 4)" - "dm-era's held metadata snapshot after start --era was interrupted"
run dmsetup message era0 0 take_metadata_snap
run dmsetup message era0 0 drop_metadata_snap
run lvchange -ay $VG/dst

# 2. --era: the tool takes the list after the switch (era_invalidate
# writes 1 MiB after making it: lost if the list were taken before), with
# the era given, and copies what it lists.
start_writer
backup
dd_ if=/dev/urandom of="$ERA" bs=64k seek=192 count=16 oflag=direct
T0=$(date +%s)
echo write >/tmp/era.mode
run incmirror-lvm start $VG/data $VG/dst --era era0 --since "$SINCE"
echo pass >/tmp/era.mode
grep -q -- "--written-since $SINCE " /tmp/era.args || fail "--era: era_invalidate ran with $(cat /tmp/era.args)"
run incmirror-lvm wait $VG/data
quiet_same "--era"
copied_is "--era" /tmp/era.list
run incmirror-lvm abort $VG/data
info "--era: no write lost ($(($(date +%s) - T0)) s)"

# 3. --bitmap-cmd: the command runs after the switch (it writes 1 MiB
# after making its list: lost if it ran before), the list is what is
# copied; then finish.
start_writer
backup
dd_ if=/dev/urandom of="$ERA" bs=64k seek=192 count=16 oflag=direct
run incmirror-lvm start $VG/data $VG/dst --format era --table "$ERA_TABLE" --bitmap-cmd \
	"dmsetup message era0 0 checkpoint && dmsetup message era0 0 take_metadata_snap &&
	 era_invalidate --metadata-snapshot --written-since $SINCE /dev/ram1 >/tmp/cmd.list; rc=\$?
	 dmsetup message era0 0 drop_metadata_snap; cat /tmp/cmd.list
	 dd if=/dev/urandom of=$ERA bs=64k seek=224 count=16 oflag=direct 2>/dev/null || exit 9
	 exit \$rc"
run incmirror-lvm wait $VG/data
quiet_same "--bitmap-cmd"
copied_is "--bitmap-cmd" /tmp/cmd.list
S=$(sha $SRC)
run incmirror-lvm finish $VG/data
assert_eq "$(sha $LVDEV)" "$S" "data of $VG/data after finish (--bitmap-cmd)"
[ -e /run/incmirror-lvm/$VG-data.list ] && fail "the list file is left in the state directory"
exit 0
