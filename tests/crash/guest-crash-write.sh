#!/bin/sh
# Guest side of one power-cut point, phase 1 (tests/crash/run-crash-loop):
#   guest-crash-write.sh POINT MODE RANGES
# MODE is metadata, plain or auto (metadata when the loaded incmirror target
# is version 1.1.0 or later). RANGES are the regions this point marks dirty
# ("0-100 300-400"), one argument.
#
# 1. Writes random data straight to the source in RANGES (the destination
#    lacks exactly that), and zeroes the metadata device: every point sets
#    up a new incremental mirror (the previous point ended synced, with
#    source and destination compared equal). Otherwise the superblock's
#    "started" flag would make the target copy at once, with no loading.
# 2. Creates "im": incmirror src dst 128, incremental (+ metadata meta), a
#    slow max_copy_rate so the copy lasts a few seconds, set_dirty RANGES.
# 3. Starts two writers (below) and prints the phase markers the host's
#    --kill-mark waits for: "CRASH-PHASE loading", then (start) "CRASH-PHASE
#    copying", then "CRASH-PHASE synced". Then it waits to be killed.
#
# A writer does batches: pick a chunk (512 KiB; writer 0 the even ones,
# writer 1 the odd ones), log "B <writer> <n> START <chunk> <seed> <point>"
# to its own sector of the log disk (O_DIRECT|O_DSYNC), write the chunk with
# fio through /dev/mapper/im (randwrite 4 KiB, O_DIRECT|O_SYNC, crc32c
# verify headers, random seed <seed>), then log "B ... DONE ...". A batch
# with DONE is durable: every write of it completed with O_SYNC. A batch with
# START only was cut: its chunk may hold anything.
SRC=/dev/disk/by-name/src
DST=/dev/disk/by-name/dst
META=/dev/disk/by-name/meta
LOG=/dev/disk/by-name/log
CHUNK_KIB=512
RATE_KIBPS=${CRASH_RATE_KIBPS:-2048}
LOAD_SECS=${CRASH_LOAD_SECS:-4}

point=$1
mode=$2
ranges=$3

say() { echo "CRASH-$*"; }
error() {
	echo "CRASH-ERROR $*"
	exit 1
}
for d in $SRC $DST $META $LOG; do
	[ -b $d ] || error "no disk $d"
done

ver=$(dmsetup targets | awk '$1 == "incmirror" { sub(/^v/, "", $2); print $2 }')
[ -n "$ver" ] || error "incmirror target not loaded"
if [ "$mode" = auto ]; then
	mode=plain
	maj=${ver%%.*}
	min=${ver#*.}
	min=${min%%.*}
	if [ "$maj" -gt 1 ] || { [ "$maj" -eq 1 ] && [ "$min" -ge 1 ]; }; then
		mode=metadata
	fi
fi
say "MODE $mode incmirror $ver"
case $mode in
metadata) feat="3 incremental metadata $META" ;;
plain) feat="1 incremental" ;;
*) error "bad mode $mode" ;;
esac

sz=$(blockdev --getsz $SRC) || error "blockdev $SRC"
nchunks=$((sz * 512 / (CHUNK_KIB * 1024)))

# 1. What the destination lacks.
for r in $ranges; do
	a=${r%-*}
	b=${r#*-}
	/usr/bin/dd if=/dev/urandom of=$SRC bs=64k seek=$a count=$((b - a + 1)) \
		oflag=direct conv=notrunc 2>/dev/null || error "prefill $r"
done
blockdev --flushbufs $SRC
if [ "$mode" = metadata ]; then
	/usr/bin/dd if=/dev/zero of=$META bs=1M count=4 oflag=direct conv=fsync 2>/dev/null ||
		error "zeroing $META"
fi

# 2. The target.
dmsetup create im --table "0 $sz incmirror $SRC $DST 128 $feat" ||
	{ dmesg | tail -n 5; error "dmsetup create"; }
dmsetup mknodes im
dmsetup message im 0 max_copy_rate $RATE_KIBPS || error "max_copy_rate"
# shellcheck disable=SC2086
dmsetup message im 0 set_dirty $ranges || error "set_dirty $ranges"
say "DIRTY $(dmsetup message im 0 get_dirty)"

rec() { # rec SECTOR TEXT
	printf '%s\n' "$2" | /usr/bin/dd of=$LOG bs=512 seek=$1 count=1 \
		conv=sync,notrunc oflag=direct,dsync 2>/dev/null ||
		echo "CRASH-ERROR log write at sector $1"
}
writer() {
	w=$1
	n=0
	while [ $n -lt 2048 ]; do
		c=$(((RANDOM % (nchunks / 2)) * 2 + w))
		s=$((RANDOM * 32768 + RANDOM))
		rec $((w * 4096 + 2 * n)) "B $w $n START $c $s $point"
		fio --name=w$w --filename=/dev/mapper/im --rw=randwrite --bs=4k \
			--offset=$((c * CHUNK_KIB))k --size=${CHUNK_KIB}k --direct=1 \
			--sync=1 --ioengine=psync --verify=crc32c --do_verify=0 \
			--randseed=$s --verify_state_save=0 --eta=never --output=/dev/null ||
			{ echo "CRASH-ERROR fio write of chunk $c failed"; return 1; }
		rec $((w * 4096 + 2 * n + 1)) "B $w $n DONE $c $s $point"
		n=$((n + 1))
	done
}
writer 0 &
writer 1 &

# 3. The phases.
state() { dmsetup status im | awk '{ print $4, $5 }'; }
say "PHASE loading $(state)"
sleep $LOAD_SECS
dmsetup message im 0 start || error "start"
say "PHASE copying $(state)"
i=0
while [ "$(dmsetup status im | awk '{ print $4 }')" != synced ]; do
	i=$((i + 1))
	[ $i -gt 3000 ] && error "not synced after 300 s: $(dmsetup status im)"
	usleep 100000
done
say "PHASE synced $(state)"
sleep 120
say "NOT-KILLED"
exit 3
