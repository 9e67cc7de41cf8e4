#!/bin/sh
# Benchmark (not a test): how fast dm-incmirror copies and what it costs
# foreground writes, against dm-raid1 and dm-linear, measured in this one
# guest boot. Absolute numbers under TCG mean nothing; the ratios do.
#
#   tests/vm/run --kernel 6.12 --mem 3072 tests/bench/copy-speed.sh [MiB]
. "$INCMIRROR_TESTS/lib/guest.sh"

mib=${1:-256}
region=1024			# sectors: 512 KiB regions for both targets
ram_devices 2 "$mib"
sz=$(dev_sectors /dev/ram0)
regions=$(((sz + region - 1) / region))
fill /dev/ram0 5a

ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# wait_until CMD: poll every 20 ms until CMD succeeds (bounded: 30 min).
wait_until() {
	_end=$(($(ms) + 1800000))
	until eval "$1"; do
		[ "$(ms)" -lt "$_end" ] || fail "timed out waiting for: $1"
		usleep 20000
	done
}

resync_ms() { # resync_ms TABLE DONE_CONDITION
	t0=$(ms)
	dmsetup create bench --table "$1" || fail "create: $1"
	wait_until "$2"
	t1=$(ms)
	dmsetup remove bench
	echo $((t1 - t0))
}

echo "# $mib MiB, regions of $((region / 2)) KiB, $(uname -r)"

t0=$(ms); dd if=/dev/ram0 of=/dev/ram1 bs=1M iflag=direct oflag=direct 2>/dev/null; dd_ms=$(($(ms) - t0))

raid_ms=$(resync_ms "0 $sz mirror core 1 $region 2 /dev/ram0 0 /dev/ram1 0" \
	"dmsetup status bench | awk '{ split(\$7, a, \"/\"); exit !(a[1] == a[2]) }'")
full_ms=$(resync_ms "0 $sz incmirror /dev/ram0 /dev/ram1 $region" \
	"[ \"\$(dm_field bench 1)\" = synced ]")

# Incremental: 10% of the regions dirty, spread evenly.
t0=$(ms)
dmsetup create bench --table "0 $sz incmirror /dev/ram0 /dev/ram1 $region 1 incremental" || fail create
i=0 ranges=
while [ $i -lt $regions ]; do ranges="$ranges $i"; i=$((i + 10)); done
dmsetup message bench 0 set_dirty $ranges || fail set_dirty
dmsetup message bench 0 start || fail start
wait_until "[ \"\$(dm_field bench 1)\" = synced ]"
inc_ms=$(($(ms) - t0))
dmsetup remove bench

# Foreground random writes: incmirror (synced) against linear on the source.
fio_iops() { # fio_iops DEV
	fio --name=w --filename="$1" --rw=randwrite --bs=4k --direct=1 \
		--ioengine=psync --numjobs=2 --size=64M --time_based --runtime=5 \
		--group_reporting --output-format=terse 2>/dev/null |
		awk -F';' '{ print $49 }'
}
lin=$(dm_create lin "0 $sz linear /dev/ram0 0")
lin_iops=$(fio_iops "$lin")
dmsetup remove lin
dmsetup create bench --table "0 $sz incmirror /dev/ram0 /dev/ram1 $region 1 incremental" || fail create
dmsetup message bench 0 start
dmsetup mknodes bench
inc_iops=$(fio_iops /dev/mapper/bench)
dmsetup remove bench
dmsetup create bench --table "0 $sz mirror core 2 $region nosync 2 /dev/ram0 0 /dev/ram1 0" || fail create
dmsetup mknodes bench
raid_iops=$(fio_iops /dev/mapper/bench)
dmsetup remove bench

echo "copy of $mib MiB:   dd ${dd_ms} ms, dm-raid1 resync ${raid_ms} ms, incmirror full ${full_ms} ms, incmirror 10% dirty ${inc_ms} ms"
awk -v d="$dd_ms" -v r="$raid_ms" -v f="$full_ms" -v i="$inc_ms" 'BEGIN {
	printf "ratio incmirror-full / dm-raid1-resync: %.2f\n", f / r
	printf "ratio incmirror-full / dd:              %.2f\n", f / d
	printf "ratio incmirror-10%% / incmirror-full:   %.2f\n", i / f
}'
awk -v l="$lin_iops" -v m="$inc_iops" -v r="$raid_iops" 'BEGIN {
	printf "4k random write IOPS: linear %d, incmirror %d, dm-raid1 %d\n", l, m, r
	printf "ratio incmirror / linear: %.2f, incmirror / dm-raid1: %.2f\n", m / l, m / r
}'
