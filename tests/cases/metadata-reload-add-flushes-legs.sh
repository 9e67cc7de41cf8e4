#!/bin/sh
# DESCRIPTION: metadata: a reload adding a metadata device records the handed-over map's clean bits only after flushing both legs: at every flush/FUA point of a dm-log-writes log, every region where the legs differ is dirty in the metadata; when the destination flush fails, every region stays dirty and the error is counted
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

modprobe dm-log-writes 2>/dev/null
[ -d /sys/module/dm_log_writes ] || fail "dm-log-writes is not available"

S=8192			# sectors per leg (4 MiB, 64 regions of 64 KiB)
M=64			# metadata sectors
N=$((2 * S + M))
REG=65536
ram_devices 2 16
DATA=/dev/ram0
LOG=/dev/ram1

# The destination is an old copy of the source; 10 regions changed since.
dd_ if=/dev/urandom of=$DATA bs=1M count=4 oflag=direct
dd_ if=$DATA of=$DATA bs=1M count=4 seek=4 oflag=direct
CHANGED=
for r in 1 5 9 14 20 27 33 41 50 63; do
	dd_ if=/dev/urandom of=$DATA bs=64k count=1 seek=$r oflag=direct
	CHANGED="$CHANGED $r"
done
dd_ if=/dev/zero of=$DATA bs=512 count=$M seek=$((2 * S)) oflag=direct
dd_ if=$DATA of=/tmp/ra.base bs=512 count=$N

# One log under the legs and the metadata: every write, flush and FUA of
# the three in one order. A write is in the log only from the next flush
# (or as a FUA write): the log up to a flush/FUA entry is a crash state.
dm_create lw "0 $N log-writes $DATA $LOG" >/dev/null
dm_create src "0 $S linear /dev/mapper/lw 0" >/dev/null
dm_create dst "0 $S linear /dev/mapper/lw $S" >/dev/null
dm_create meta "0 $M linear /dev/mapper/lw $((2 * S))" >/dev/null

# A mirror without metadata (as after metadata=failed, or never had one).
dm_create im "0 $S incmirror /dev/mapper/src /dev/mapper/dst 128 1 incremental" >/dev/null
# shellcheck disable=SC2086
dm_msg im set_dirty $CHANGED
# The new table formats the metadata in its constructor (which flushes);
# the copies run after that, and nothing flushes them before the resume.
run dmsetup load im --table \
	"0 $S incmirror /dev/mapper/src /dev/mapper/dst 128 3 incremental metadata /dev/mapper/meta"
dm_msg lw mark armed
dm_msg im max_copy_rate 1024
dm_msg im start
wait_state im synced 30
# Hand-over: the new table writes the synced map (all clean) to the metadata.
run dmsetup resume im
dmsetup table im | grep -q ' metadata ' || fail "the new table is not live: $(dmsetup table im)"
assert_eq "$(dm_field im 9)" metadata=ok "metadata state after the reload"
dm_msg lw mark end
run dmsetup remove im
for d in meta dst src lw; do run dmsetup remove $d; done

lw-replay check-incmirror $LOG /tmp/ra.base --src 0 --dst $((S * 512)) --len $((S * 512)) \
	--meta $((2 * S * 512)) --region $REG --after-mark armed --until-mark end \
	>/tmp/ra.check 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	head -n 5 /tmp/ra.check
	tail -n 1 /tmp/ra.check
	fail "crash points where the metadata calls a differing region clean (exit $rc)"
fi
info "$(tail -n 1 /tmp/ra.check)"

# The destination's flush fails at the hand-over (dm-flakey failing writes
# and flushes, over a loop device: a device without a write cache would
# complete an empty flush without sending it). Nothing of the synced map is
# known stable there: every region is recorded dirty, the failure counted.
ram_devices 3 4
random_fill /dev/ram0
head -c $((S * 512)) /dev/zero >/tmp/ra.dst
LD=$(loop_attach /tmp/ra.dst)
DST=$(dm_create fdst "0 $S linear $LD 0")
dm_create im "0 $S incmirror /dev/ram0 $DST 128" >/dev/null
wait_state im synced 30
run dmsetup load im --table "0 $S incmirror /dev/ram0 $DST 128 2 metadata /dev/ram2"
# Paused: no copy after the resume (it would fail and count too).
dm_msg im pause
dm_swap fdst "0 $S flakey $LD 0 0 3600 1 error_writes"
run dmsetup resume im
assert_eq "$(dm_field im 4)" 1 "destination errors after the failed flush"
assert_eq "$(in_sync im)" 0 "regions in sync after the failed flush"
meta_dirty /dev/ram2 >/tmp/ra.md
assert_eq "$(wc -l </tmp/ra.md)" "$(total_regions im)" "dirty regions on the metadata"
