#!/bin/sh
# DESCRIPTION: metadata: a failing metadata device never fails a caller, status says metadata=failed, the mirror still syncs; a reload onto a new metadata device takes the map over
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
FIOPID=
cleanup() {
	[ -n "$FIOPID" ] && kill "$FIOPID" 2>/dev/null
	cleanup_devices
}
trap cleanup EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 3 32
random_fill $SRC
dd_ if=$SRC of=$DST bs=1M oflag=direct
dd_ if=/dev/urandom of=$SRC bs=1M seek=8 count=8 oflag=direct
META=$(dm_create meta "0 64 linear /dev/ram2 0")
META2=$(dm_create meta2 "0 64 linear /dev/ram2 64")
zero_dev "$META"
zero_dev "$META2"
DEV=$(dm_create im "$(incmirror_table $SRC $DST 128 incremental max_copy_rate 1024 metadata "$META")")
dm_msg im set_dirty 128-255
dm_msg im start

# fio with verify over the whole device, while the metadata device fails.
cd /tmp || fail "cd /tmp"
fio --name=mdfail --filename="$DEV" --ioengine="$(fio_engine)" --iodepth=4 --direct=1 \
	--rw=randwrite --bs=4k --size=32m --io_size=4m --rate=1m \
	--verify=crc32c --verify_backlog=64 --do_verify=1 --verify_fatal=1 \
	--verify_state_save=0 >/tmp/mdfail.fio 2>&1 &
FIOPID=$!
wait_cond 30 "copy progress" '[ "$(dm_field im 5)" -ge 1024 ]'
ev=$(dm_events im)
dm_swap meta "0 64 error"
wait_field im 9 metadata=failed 30
dmsetup wait im "$ev" >/dev/null 2>&1 || fail "no event for the metadata failure"
assert_eq "$(dm_field im 4)" 0 "dest_errors (the metadata failure is not the destination's)"

wait_pid_gone "$FIOPID" 180 || fail "fio did not finish"
wait "$FIOPID"
rc=$?
FIOPID=
[ $rc -eq 0 ] || { cat /tmp/mdfail.fio; fail "fio (with verify) failed while the metadata failed: $rc"; }
dm_msg im max_copy_rate 0
wait_state im synced 120
same_regions $SRC $DST 128

# New writes and a set_dirty while failed: accepted, kept in memory.
dd_ if=/dev/urandom of="$DEV" bs=64k seek=300 count=2 oflag=direct
dm_msg im pause
dm_msg im set_dirty 400-409
dd_ if=/dev/urandom of=$SRC bs=64k seek=400 count=10 oflag=direct
get_dirty_all im >/tmp/f.map
# A reload onto a fresh metadata device takes the map over and writes it.
line=$(dmsetup table im | sed "s| metadata [0-9:]*\$| metadata $META2|")
run dmsetup reload im --table "$line"
run dmsetup resume im
assert_eq "$(dm_field im 9)" metadata=ok "metadata status on the new device"
assert_eq "$(dm_field im 1)" paused "state carried over the reload"
meta_dirty "$META2" >/tmp/f.disk
assert_subset /tmp/f.map /tmp/f.disk "map of the failed instance on the new metadata device"
dm_msg im start
wait_state im synced 60
same_regions $SRC $DST 128
