#!/bin/sh
# DESCRIPTION: live migration demo: an ext4 source under load, a destination
# restored from an earlier backup, dm-era's list of changes since, the
# incremental mirror with live progress, the check, and the switch-over.
# Runs in the guest (tests/vm/run tests/demo/demo.sh); `make demo` does that.
. "$INCMIRROR_TESTS/lib/guest.sh"

SIZE_MIB=256
REGION=128 # sectors: 64 KiB regions, the same as the era blocks
MNT=/mnt/demo
WPID=
cleanup() {
	touch /tmp/demo.stop
	[ -n "$WPID" ] && wait "$WPID" 2>/dev/null
	fsfreeze --unfreeze $MNT 2>/dev/null
	umount $MNT 2>/dev/null
	cleanup_devices
}
trap cleanup EXIT

say() { echo "$*"; }
step() {
	echo
	echo "==> $*"
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", b ? 100 * a / b : 0 }'; }

modprobe crc32c_generic 2>/dev/null # dm-era/ext4 checksums want a crc32c
modprobe ext4 2>/dev/null
grep -qw ext4 /proc/filesystems || fail "no ext4 in this guest kernel"
HAVE_ERA=1
modprobe dm-era 2>/dev/null && command -v era_invalidate >/dev/null || HAVE_ERA=0

rm -f /tmp/demo.*
ram_devices 3 $SIZE_MIB
SRC=/dev/ram0  # the disk we migrate away from
DST=/dev/ram1  # the new disk
META=/dev/ram2 # dm-era's change-tracking metadata
SZ=$(dev_sectors $SRC)
BYTES=$((SZ * 512))

step "Source: ext4 on /dev/mapper/live (${SIZE_MIB} MiB), the device the application uses"
if [ $HAVE_ERA = 1 ]; then
	ERA=$(dm_create era "0 $SZ era $META $SRC $REGION")
	say "    live -> era (tracks written 64 KiB blocks) -> $SRC"
else
	ERA=$SRC
	say "    (dm-era unavailable: the change list will be the whole device)"
fi
LIVE=$(dm_create live "0 $SZ linear $ERA 0")
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$LIVE" || fail "mkfs.ext4"
mkdir -p $MNT
mount -t ext4 "$LIVE" $MNT || fail "mount"
mkdir -p $MNT/data $MNT/new $MNT/etc
i=0
while [ $i -lt 40 ]; do
	dd if=/dev/urandom of=$MNT/data/file$i bs=64k count=40 2>/dev/null || fail "populate"
	i=$((i + 1))
done
i=0
while [ $i -lt 200 ]; do
	echo "config $i $(date)" >$MNT/etc/conf$i
	i=$((i + 1))
done
sync
say "    $(df -k $MNT | awk 'NR == 2 { printf "%d MiB used of %d MiB", $3 / 1024, $2 / 1024 }'), 240 files"

step "Backup: freeze the filesystem, copy the disk, note the point in time"
fsfreeze --freeze $MNT || fail "fsfreeze"
if [ $HAVE_ERA = 1 ]; then
	run dmsetup message era 0 checkpoint
	SINCE=$(dm_field era 3)
	say "    dm-era: backup taken at era $SINCE"
fi
run dd if=$SRC of=$DST bs=1M iflag=direct oflag=direct 2>/dev/null
fsfreeze --unfreeze $MNT || fail "fsfreeze --unfreeze"
say "    backup restored onto the destination $DST ($(mib $BYTES))"

step "The application keeps writing (changes since the backup)"
rm -f /tmp/demo.stop
(
	i=0
	while [ ! -e /tmp/demo.stop ]; do
		dd if=/dev/urandom of=$MNT/data/file$((i % 40)) bs=4k count=16 \
			seek=$(((i * 7) % 624)) conv=notrunc,fsync 2>/dev/null
		dd if=/dev/urandom of=$MNT/new/n$i bs=16k count=4 conv=fsync 2>/dev/null
		[ $i -ge 8 ] && rm -f $MNT/new/n$((i - 8))
		echo "$i $(date +%s)" >>$MNT/journal.txt
		i=$((i + 1))
		usleep 100000
	done
	echo $i >/tmp/demo.writes
) &
WPID=$!
sleep 8
say "    writer running: modifies 64 KiB of a data file, adds a 64 KiB file, deletes an old one, appends to a journal; about 8 times a second"

step "Migration: swap /dev/mapper/live to an incremental mirror of the source onto the destination"
run dmsetup suspend live
if [ $HAVE_ERA = 1 ]; then
	# While live is suspended nothing is written: the list is complete.
	run dmsetup message era 0 checkpoint
	run dmsetup message era 0 take_metadata_snap
	era_invalidate --metadata-snapshot --written-since "$SINCE" $META >/tmp/demo.xml ||
		fail "era_invalidate"
	run dmsetup message era 0 drop_metadata_snap
fi
run dmsetup load live --table "0 $SZ incmirror $ERA $DST $REGION 1 incremental"
run dmsetup resume live
say "    live -> incmirror (source $ERA, destination $DST, 64 KiB regions); every write now goes to both"
TOTAL=$(total_regions live)
if [ $HAVE_ERA = 0 ]; then
	dm_msg live set_dirty 0-$((TOTAL - 1))
	say "    marked every region dirty"
elif command -v incmirror-bitmap >/dev/null; then
	incmirror-bitmap load --table "$(dmsetup table era)" live /tmp/demo.xml ||
		fail "incmirror-bitmap load"
	say "    incmirror-bitmap load: era_invalidate's list of blocks written since era $SINCE"
else
	# era_invalidate XML: <block block="N"/> and <range begin="A" end="B"/> (B exclusive)
	sed -n 's/.*<block block="\([0-9]*\)".*/\1/p; s/.*<range begin="\([0-9]*\)" end="\([0-9]*\)".*/\1 \2/p' /tmp/demo.xml |
		awk 'NF == 1 { print $1 } NF == 2 { print $1 "-" ($2 - 1) }' >/tmp/demo.ranges
	[ -s /tmp/demo.ranges ] && { xargs -n 1000 dmsetup message live 0 set_dirty </tmp/demo.ranges ||
		fail "set_dirty"; }
	say "    set_dirty from era_invalidate's list of blocks written since era $SINCE"
fi
DIRTY=$((TOTAL - $(in_sync live)))
DIRTY_BYTES=$((DIRTY * REGION * 512))
say "    dirty: $DIRTY of $TOTAL regions = $(mib $DIRTY_BYTES) of $(mib $BYTES) ($(pct $DIRTY $TOTAL))"
# A copy rate that makes the progress worth watching (~6 s).
RATE=$((DIRTY_BYTES / 1024 / 6))
[ $RATE -lt 1024 ] && RATE=1024
dm_msg live max_copy_rate $RATE
dm_msg live start
say "    start (max_copy_rate $RATE KiB/s); the application keeps writing meanwhile"

t0=$(uptime_ms)
deadline=$(($(date +%s) + 600))
while :; do
	set -- $(dmsetup status live)
	st=$4 insync=${5%/*} copied=$(($8 * 512)) rate=$9
	left=$(((TOTAL - insync) * REGION * 512))
	printf '\r    [%-8s] %6s  copied %s of %s dirty, %s left, %d KiB/s, in sync %d/%d   ' \
		"$st" "$(pct $copied $DIRTY_BYTES)" "$(mib $copied)" "$(mib $DIRTY_BYTES)" \
		"$(mib $left)" "$rate" "$insync" "$TOTAL"
	[ "$st" = synced ] && break
	[ "$st" = degraded ] && { echo; fail "degraded: $*"; }
	[ "$(date +%s)" -ge $deadline ] && { echo; fail "not synced after 600 s"; }
	usleep 500000
done
echo
say "    synced after $((($(uptime_ms) - t0) / 100 / 10)).$((($(uptime_ms) - t0) / 100 % 10)) s, while the application kept writing"

step "Check: stop the writer, then source and destination must be identical"
touch /tmp/demo.stop
wait_pid_gone "$WPID" 60 || fail "writer did not stop"
wait "$WPID"
WPID=
sync
say "    the writer made $(cat /tmp/demo.writes) rounds of changes"
wait_state live synced 60
(cd $MNT && find . -type f | sort | xargs md5sum) >/tmp/demo.manifest || fail "manifest"
run dmsetup suspend live # freezes ext4 and drains the mirror
set -- $(dmsetup status live)
STATUS="$*"
COPIED=$(($8 * 512))
assert_eq "$4" synced "state while suspended for the switch-over"
same $SRC $DST
say "    cmp $SRC $DST: identical ($(mib $BYTES)); $(wc -l </tmp/demo.manifest) files"

step "Switch-over: /dev/mapper/live now maps the destination only"
run dmsetup load live --table "0 $SZ linear $DST 0"
run dmsetup resume live
say "    dmsetup suspend live; dmsetup load live (linear $DST); dmsetup resume live"
[ $HAVE_ERA = 1 ] && run dmsetup remove era
# Prove the old disk is out of the picture: wipe it.
run dd if=/dev/zero of=$SRC bs=1M count=$SIZE_MIB oflag=direct 2>/dev/null
drop_caches
(cd $MNT && md5sum -c /tmp/demo.manifest >/tmp/demo.check 2>&1) ||
	{ grep -v ': OK$' /tmp/demo.check | head; fail "files differ after the switch-over"; }
say "    source wiped; all $(grep -c ': OK$' /tmp/demo.check) files read back from the destination with their checksums"
umount $MNT || fail "umount"
e2fsck -fn "$LIVE" >/tmp/demo.fsck 2>&1 || { cat /tmp/demo.fsck; fail "e2fsck"; }
say "    e2fsck -fn: $(tail -n 1 /tmp/demo.fsck)"
mount -t ext4 "$LIVE" $MNT || fail "mount after the switch-over"
say "    mounted again: $(ls $MNT/data | wc -l) data files, journal has $(wc -l <$MNT/journal.txt) entries, last: $(tail -n 1 $MNT/journal.txt)"
umount $MNT

step "Summary"
say "    device size:            $(mib $BYTES)"
say "    changed since backup:   $DIRTY regions of 64 KiB"
say "    copied by the mirror:   $(mib $COPIED) ($COPIED bytes)"
say "    a full mirror copies:   $(mib $BYTES) ($BYTES bytes)"
say "    copied / full:          $(pct $COPIED $BYTES), saved $(mib $((BYTES - COPIED)))"
say "    final mirror status:    $STATUS"
exit 0
