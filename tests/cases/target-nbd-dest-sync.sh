#!/bin/sh
# DESCRIPTION: incremental mirror to an NBD destination over a slow lossy link (netem): writes keep completing during the copy, synced ends byte-identical, only the changes copied
# CHECK-KERNEL: 6.12 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
. "$INCMIRROR_TESTS/lib/nbd.sh"
cleanup() {
	nbd_cleanup
	cleanup_devices
	rm -f /tmp/nds.*
}
trap cleanup EXIT

SRC=/dev/ram0
# The destination is the remote copy restored from the last backup: a file
# on the "server", equal to the source at backup time.
nbd_backup_pair /tmp/nds.img
# Changes since the backup: 2 MiB at every 8 MiB (regions 64 KiB: 8 runs of
# 32 regions, 256 of 1024).
changed=
i=0
while [ $i -lt 8 ]; do
	dd_ if=/dev/urandom of=$SRC bs=1M seek=$((i * 8)) count=2 oflag=direct
	changed="$changed $((i * 128))-$((i * 128 + 31))"
	i=$((i + 1))
done

nbd_serve /tmp/nds.img 10809
nbd_connect 10809 /dev/nbd0 10
# A WAN-like link: 10 ms each way (20 ms round trip) with 5 ms of jitter
# and 0.5% packet loss (TCP retransmits, 200 ms and more).
netem delay 10ms 5ms loss 0.5%

# 16 MiB to copy at 1536 KiB/s: the copy takes at least 10 s.
DEV=$(dm_create im "$(incmirror_table $SRC /dev/nbd0 128 incremental max_copy_rate 1536)")
# shellcheck disable=SC2086
dm_msg im set_dirty $changed
dm_msg im start
assert_eq "$(dm_field im 1)" copying "state after start"

# Writes during the copy, with verify: 2 MiB of random 4 KiB writes at QD16
# over the first 16 MiB (changed and unchanged regions), then every block
# read back. The copy must still be running when fio is done: the writes
# did not wait for it.
cd /tmp || fail "cd /tmp"
f0=$(uptime_ms)
IMV_DEV=$DEV IMV_SIZE=16m IMV_IO_SIZE=2m IMV_ENGINE=$(fio_engine) IMV_SEED=4242 \
	fio --output-format=json "$INCMIRROR_TESTS/fio/incmirror-verify.fio" \
	>/tmp/nds.fio 2>/tmp/nds.fio.err ||
	{ cat /tmp/nds.fio.err /tmp/nds.fio; fail "fio verify through the mirror failed"; }
state=$(dm_field im 1)
f1=$(uptime_ms)
# Not in $(...): a failure there would end only the subshell.
fio_write_clat_ms /tmp/nds.fio >/tmp/nds.lat
read -r p99 max </tmp/nds.lat
lat="$p99 $max"
info "writes during the copy: $((f1 - f0)) ms, p99 ${lat% *} ms, max ${lat#* } ms; state then: $state, in sync $(in_sync im)/1024"
[ "$state" = copying ] ||
	fail "the copy was over ($state) before 2 MiB of writes completed: writes waited for the copy"
# A write that waited for the whole copy would take seconds; one that waits
# for a copy job of its own region (at most 1 MiB) and the link's
# retransmits stays well under that.
ms_ok "$max" lt 3000 "the longest write during the copy" ||
	fail "a write took ${lat#* } ms during the copy"

wait_state im synced 120
assert_eq "$(dm_field im 4)" 0 "dest_errors"
# Only the changes were copied: 256 regions of 128 sectors.
assert_eq "$(dm_field im 5)" $((256 * 128)) "copied_sectors"
same_regions $SRC /dev/nbd0 128
run dmsetup remove im
nbd_disconnect /dev/nbd0
# And what the server stored, read from its own file.
same_regions $SRC /tmp/nds.img 128
