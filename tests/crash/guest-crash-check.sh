#!/bin/sh
# Guest side of one power-cut point, phase 2 (tests/crash/run-crash-loop):
#   guest-crash-check.sh MODE REDIRTY
# after the boot that was killed: loads the same table on the same disks,
# marks REDIRTY dirty (plain mode only: the regions whose content the crash
# left undefined, as the host worked out from phase 1's log; with metadata
# the target must know them itself, REDIRTY is then ignored), starts the
# copy without a rate limit and waits for synced. Then:
#   - fio --verify_only with /mnt/add/verify.fio through /dev/mapper/im:
#     the chunks whose batches were durable (logged DONE) still verify;
#   - "CRASH-RECOPIED N": regions the copier copied (copied_sectors / 128);
#   - removes the device and compares source and destination (cmp); on a
#     difference prints the first differing regions.
# Exits 0 when all of that held.
SRC=/dev/disk/by-name/src
DST=/dev/disk/by-name/dst
META=/dev/disk/by-name/meta
mode=$1
redirty=$2

say() { echo "CRASH-$*"; }
error() {
	echo "CRASH-ERROR $*"
	exit 1
}
case $mode in
metadata) feat="3 incremental metadata $META" ;;
plain) feat="1 incremental" ;;
*) error "bad mode $mode" ;;
esac
sz=$(blockdev --getsz $SRC) || error "blockdev $SRC"
dmsetup create im --table "0 $sz incmirror $SRC $DST 128 $feat" ||
	{ dmesg | tail -n 5; error "dmsetup create after the crash"; }
# Right after the reload (with metadata, a target that had received
# `start` before the crash may already be copying).
say "RESUMED-STATUS $(dmsetup status im | cut -d' ' -f4-5)"
dmsetup mknodes im
say "RESUMED-DIRTY $(dmsetup message im 0 get_dirty)"
if [ "$mode" = plain ] && [ -n "$redirty" ]; then
	# shellcheck disable=SC2086
	dmsetup message im 0 set_dirty $redirty || error "set_dirty $redirty"
fi
dmsetup message im 0 max_copy_rate 0 || error "max_copy_rate 0"
dmsetup message im 0 start || error "start"
i=0
while [ "$(dmsetup status im | awk '{ print $4 }')" != synced ]; do
	i=$((i + 1))
	[ $i -gt 3000 ] && error "not synced after 300 s: $(dmsetup status im)"
	usleep 100000
done
st=$(dmsetup status im)
say "STATUS $st"
copied=$(echo "$st" | awk '{ print $8 }')
say "RECOPIED $((copied / 128))"

ok=1
if [ -s /mnt/add/verify.fio ]; then
	n=$(grep -c '^\[c' /mnt/add/verify.fio)
	if fio --verify_only --eta=never --output=/tmp/verify.out /mnt/add/verify.fio; then
		say "VERIFY OK $n chunks"
	else
		grep -E 'verify|err=' /tmp/verify.out | grep -v 'err= 0' | head -n 20
		say "VERIFY FAIL ($n chunks checked)"
		ok=0
	fi
else
	say "VERIFY OK 0 chunks"
fi

dmsetup remove im || error "remove"
if cmp $SRC $DST >/dev/null; then
	say "CMP OK"
else
	cmp -l $SRC $DST 2>/dev/null | head -n 1000000 |
		awk '{ r = int(($1 - 1) / 65536); if (r != last) { print r; last = r } }' |
		head -n 50 | tr '\n' ' ' >/tmp/diff
	say "CMP FAIL regions differing (first 50): $(cat /tmp/diff)"
	ok=0
fi
[ $ok = 1 ]
