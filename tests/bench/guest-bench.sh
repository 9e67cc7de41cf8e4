#!/bin/sh
# The guest half of `make bench` (tests/bench/run boots it; see
# tests/README.md, "Benchmarks"). A benchmark, not a test: it asserts nothing
# about speed, but every set-up step (dmsetup, fio, a load) that fails ends
# the run with a FAIL line. Everything measured goes to $OUT: records.tsv
# (one figure a line), the raw fio JSON of every run, copy-progress samples;
# at exit $OUT is written as a tar archive onto the raw disk "benchout" for
# the host to extract, and the host makes the tables and plots.
#
# Parameters come from /mnt/add/bench.env (written by tests/bench/run) or the
# environment: BENCH_MIB, BENCH_ROUNDS, BENCH_RUNTIME, BENCH_PARTS,
# BENCH_LEGS, BENCH_DELAY_MS, BENCH_SAMPLE_MS, BENCH_COPY_RATE,
# BENCH_SPARSE_PERMILLE, BENCH_NBD_* (part 6).
. "$INCMIRROR_TESTS/lib/guest.sh"
. "$INCMIRROR_TESTS/lib/nbd.sh"
[ -f /mnt/add/bench.env ] && . /mnt/add/bench.env

MIB=${BENCH_MIB:-512}
ROUNDS=${BENCH_ROUNDS:-3}
RUNTIME=${BENCH_RUNTIME:-5}
PARTS=${BENCH_PARTS:-writes slowdst copy load sparse}
LEGS=${BENCH_LEGS:-loop}
DELAY_MS=${BENCH_DELAY_MS:-2}
SAMPLE_MS=${BENCH_SAMPLE_MS:-100}
COPY_RATE=${BENCH_COPY_RATE:-auto}
JOBS=${BENCH_JOBS:-w4k-qd1 w4k-qd32 w128k-qd8 rw70-qd16}
SLOWDST_JOBS=${BENCH_SLOWDST_JOBS:-w4k-qd1 w4k-qd32 w128k-qd8}
WRITE_SETS=${BENCH_WRITE_SETS:-cpu delay}
COPY_SETS=${BENCH_COPY_SETS:-cpu delay}
DELAY_RESYNC=${BENCH_DELAY_RESYNC:-0} # dm-raid1 resync on the delayed legs: slow
SPARSE_PERMILLE=${BENCH_SPARSE_PERMILLE:-100} # part 5: data regions of the source, per mille
# Part 6 (nbd): an NBD destination over TCP on lo with netem.
NBD_MIB=${BENCH_NBD_MIB:-256}
NBD_SRC=${BENCH_NBD_SRC:-loop}      # the source: loop (on tmpfs) or brd
NBD_DELAY=${BENCH_NBD_DELAY:-5ms}   # netem delay on lo: each way, so twice that a round trip
NBD_JITTER=${BENCH_NBD_JITTER:-2ms} # the jitter of set nbd-jitter
NBD_SETS=${BENCH_NBD_SETS:-nbd nbd-jitter}
NBD_JOBS=${BENCH_NBD_JOBS:-w4k-qd1 w4k-qd8 w64k-qd4}
NBD_TARGETS=${BENCH_NBD_TARGETS:-nbd im im-copy raid1}
NBD_JITTER_TARGETS=${BENCH_NBD_JITTER_TARGETS:-nbd im}
NBD_COPIES=${BENCH_NBD_COPIES:-dd im-full raid1-resync}
SCATTER=/mnt/add/scatter.raw # 1 Mi of 4 Mi regions set (tests/bench/bench.py)
REGION=128                   # 64 KiB regions, for dm-incmirror and dm-raid1
OUT=/tmp/bench-out
OUTDEV=/dev/disk/by-name/benchout

mkdir -p "$OUT/fio" "$OUT/progress" "$OUT/logs" /tmp/bench
: >"$OUT/records.tsv"

# At exit (also after a FAIL): hand what exists to the host, then the status.
pack() {
	_rc=$?
	trap - EXIT
	echo "$_rc" >"$OUT/exit-status"
	dmesg >"$OUT/logs/dmesg.txt" 2>/dev/null
	if [ -b "$OUTDEV" ]; then
		(cd "$OUT" && tar -cf "$OUTDEV" .) && sync &&
			echo "bench: results packed onto $OUTDEV ($(du -sk "$OUT" | cut -f1) KiB)" ||
			echo "bench: could not write the results to $OUTDEV" >&2
	else
		echo "bench: no $OUTDEV (run without tests/bench/run?): results left in $OUT" >&2
	fi
	kill $(jobs -p) 2>/dev/null
	[ -n "${NDST:-}" ] && nbd_cleanup
	dmsetup remove_all >/dev/null 2>&1
	/usr/sbin/losetup -D >/dev/null 2>&1
	exit "$_rc"
}
trap pack EXIT

T_START=$(uptime_ms)
say() { echo "bench: [$(( ($(uptime_ms) - T_START) / 1000 ))s] $*"; }

# rec PART SET TARGET CASE ROUND KEY VALUE: one measured figure.
rec() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT/records.tsv"
}

# rotate N WORD...: the words starting at the (N mod count)-th (0-based),
# wrapping around: round r runs the targets in another order than round r-1.
rotate() {
	_n=$1
	shift
	_k=$((_n % $#)) _i=0 _a= _b=
	for _w; do
		if [ "$_i" -lt "$_k" ]; then _b="$_b $_w"; else _a="$_a $_w"; fi
		_i=$((_i + 1))
	done
	echo $_a $_b
}

# ---- devices ----------------------------------------------------------

# cdd ARGS...: coreutils dd, failing the run with its message. Not busybox's
# dd: its oflag=direct writes land in the page cache of the block device
# (seen on loop devices), invisible to a target reading with bios while
# another holder keeps the device open.
cdd() {
	/usr/bin/dd "$@" 2>/tmp/bench/dd.err || fail "dd $*: $(cat /tmp/bench/dd.err)"
}
# zero_head DEV [SECTORS]: zero the first SECTORS (a multiple of 8; default
# 8: 4 KiB), e.g. a metadata or log device before a new table uses it.
zero_head() {
	cdd if=/dev/zero of="$1" bs=4096 count=$((${2:-8} / 8)) oflag=direct conv=fsync
}

# Base devices: SRC0, DST0 (the legs, BENCH_MIB MiB each, filled with random
# data so that every page exists before anything is timed), META0 (the
# incmirror metadata device) and LOG0 (the dm-raid1 disk log).
SZ=$((MIB * 2048))
REGIONS=$(((SZ + REGION - 1) / REGION))
META_SECTORS=$((8 + 8 * ((REGIONS + 32767) / 32768)))
setup_modules() {
	modprobe loop 2>/dev/null
	modprobe dm-delay || fail "modprobe dm-delay"
	modprobe dm-mirror || fail "modprobe dm-mirror"
	modprobe dm-zero || fail "modprobe dm-zero"
	if has sparse; then
		modprobe dm-thin-pool || fail "modprobe dm-thin-pool"
	fi
	# /tmp holds the loop files, the fio output and the sparse files of
	# parts 4 and 5.
	mount -o remount,size=95% /tmp || fail "remount /tmp"
}
setup_legs() {
	case $LEGS in
	loop)
		mkdir -p /tmp/legs
		for f in src dst; do
			truncate -s $((MIB * 1048576)) /tmp/legs/$f.img || fail "truncate $f"
		done
		truncate -s 4194304 /tmp/legs/meta.img /tmp/legs/log.img || fail "truncate"
		SRC0=$(loop_attach /tmp/legs/src.img)
		DST0=$(loop_attach /tmp/legs/dst.img)
		META0=$(loop_attach /tmp/legs/meta.img)
		LOG0=$(loop_attach /tmp/legs/log.img)
		;;
	brd)
		ram_devices 4 "$MIB"
		SRC0=/dev/ram0 DST0=/dev/ram1 META0=/dev/ram2 LOG0=/dev/ram3
		;;
	*) fail "BENCH_LEGS must be loop or brd, not '$LEGS'" ;;
	esac
	[ "$(dev_sectors "$SRC0")" -ge "$SZ" ] || fail "$SRC0 too small"
	say "filling $SRC0 and $DST0 ($MIB MiB each, $LEGS)"
	cdd if=/dev/urandom of="$SRC0" bs=1M count="$MIB" oflag=direct conv=fsync
	cdd if="$SRC0" of="$DST0" bs=1M iflag=direct oflag=direct conv=fsync
	zero_head "$META0" 8192
	zero_head "$LOG0" 8192
	# A short write on both legs before anything is measured.
	jobfile /tmp/bench/w.fio 0 w4k-qd1 "$SRC0" "$DST0"
	_rt=$RUNTIME
	RUNTIME=2
	fio_run /tmp/bench/w.fio /tmp/bench/warmup.json
	RUNTIME=$_rt
	# The slow devices: dm-delay, reads and writes delayed by DELAY_MS.
	for d in src:$SRC0 dst:$DST0 meta:$META0 log:$LOG0; do
		_s=$(dev_sectors "${d#*:}")
		dm_create "d-${d%%:*}" "0 $_s delay ${d#*:} 0 $DELAY_MS" >/dev/null
	done
}

# use_set SET: the legs of one device set.
#   cpu      both legs fast (loop on tmpfs or brd); metadata and log fast
#   delay    both legs behind dm-delay; metadata and log delayed too
#   slowdst  fast source, delayed destination; metadata and log fast
use_set() {
	case $1 in
	cpu) SRC=$SRC0 DST=$DST0 META=$META0 LOG=$LOG0 ;;
	delay) SRC=/dev/mapper/d-src DST=/dev/mapper/d-dst META=/dev/mapper/d-meta LOG=/dev/mapper/d-log ;;
	slowdst) SRC=$SRC0 DST=/dev/mapper/d-dst META=$META0 LOG=$LOG0 ;;
	*) fail "unknown device set $1" ;;
	esac
}

# mk KIND: create device "bt" of KIND over the current set, in the state the
# in-sync write runs measure (mirrors in sync). Sets DEV. Kinds without a dm
# device (src, dst: the raw legs) set DEV only.
mk() {
	DEV=/dev/mapper/bt
	case $1 in
	src) DEV=$SRC; return 0 ;;
	dst) DEV=$DST; return 0 ;;
	linear) _t="0 $SZ linear $SRC 0" ;;
	raid1) _t="0 $SZ mirror core 2 $REGION nosync 2 $SRC 0 $DST 0" ;;
	raid1-disk)
		zero_head "$LOG"
		_t="0 $SZ mirror disk 3 $LOG $REGION nosync 2 $SRC 0 $DST 0"
		;;
	im) _t="0 $SZ incmirror $SRC $DST $REGION 1 incremental" ;;
	im-meta)
		zero_head "$META"
		_t="0 $SZ incmirror $SRC $DST $REGION 3 incremental metadata $META"
		;;
	*) fail "unknown target kind $1" ;;
	esac
	dm_create bt "$_t" >/dev/null
	case $1 in
	im*)
		dm_msg bt start
		wait_state bt synced 60
		;;
	esac
}

rm_dev() {
	[ "$DEV" = /dev/mapper/bt ] || return 0
	dmsetup remove bt || fail "dmsetup remove bt"
}

# ---- fio ----------------------------------------------------------------

job_opts() {
	case $1 in
	w4k-qd1) echo "rw=randwrite bs=4k iodepth=1" ;;
	w4k-qd32) echo "rw=randwrite bs=4k iodepth=32" ;;
	w128k-qd8) echo "rw=write bs=128k iodepth=8" ;;
	w4k-qd8) echo "rw=randwrite bs=4k iodepth=8" ;;
	w64k-qd4) echo "rw=randwrite bs=64k iodepth=4" ;;
	rw70-qd16) echo "rw=randrw rwmixread=70 bs=4k iodepth=16" ;;
	esac | tr ' ' '\n'
}

# jobfile FILE WARM JOBS DEV [DEV2]: one fio job file running JOBS one after
# the other (stonewall), each time_based for RUNTIME seconds on DEV. With
# DEV2 (the pair bound) every job runs twice at once, "JOB@src" on DEV and
# "JOB@dst" on DEV2. With WARM=1 each job is preceded by "warm-JOB", one
# sequential 1 MiB QD16 write over the whole device (so that every region's
# metadata bit is set just before the measured job; the host ignores it).
jobfile() {
	_jf_f=$1 _jf_warm=$2 _jf_jobs=$3 _jf_d1=$4 _jf_d2=${5:-}
	{
		printf '[global]\nioengine=libaio\ndirect=1\nnorandommap=1\nlat_percentiles=1\n'
		for _jf_j in $_jf_jobs; do
			if [ "$_jf_warm" = 1 ]; then
				printf '[warm-%s]\nstonewall\nfilename=%s\nrw=write\nbs=1M\niodepth=16\n' "$_jf_j" "$_jf_d1"
			fi
			if [ -z "$_jf_d2" ]; then
				printf '[%s]\nstonewall\nfilename=%s\ntime_based=1\nruntime=%s\n' "$_jf_j" "$_jf_d1" "$RUNTIME"
				job_opts "$_jf_j"
			else
				printf '[%s@src]\nstonewall\nfilename=%s\ntime_based=1\nruntime=%s\n' "$_jf_j" "$_jf_d1" "$RUNTIME"
				job_opts "$_jf_j"
				printf '[%s@dst]\nfilename=%s\ntime_based=1\nruntime=%s\n' "$_jf_j" "$_jf_d2" "$RUNTIME"
				job_opts "$_jf_j"
			fi
		done
	} >"$_jf_f"
}

# fio_run JOBFILE JSON: run fio, fail on a non-zero exit or a job error.
fio_run() {
	mkdir -p "$(dirname "$2")"
	fio --output-format=json --output="$2" "$1" >/tmp/bench/fio.log 2>&1 ||
		{ cat /tmp/bench/fio.log "$2" >&2; fail "fio $1 failed"; }
	fio_check "$2"
}
fio_check() {
	grep -q '"jobs"' "$1" || { cat /tmp/bench/fio.log >&2; fail "fio wrote no result to $1"; }
	if grep -q '"error" : [1-9]' "$1"; then
		grep '"error"' "$1" >&2
		fail "a fio job reported an error ($1)"
	fi
}

# ---- copies ---------------------------------------------------------------

# copy_done NAME KIND: the copy of dm device NAME has finished (incmirror:
# state synced; dm-raid1: in-sync count = total).
copy_done() {
	case $2 in
	raid1*) dmsetup status "$1" | awk '{ split($7, a, "/"); exit !(a[1] == a[2] && a[2] > 0) }' ;;
	*) [ "$(dm_field "$1" 1)" = synced ] ;;
	esac
}

# wait_done NAME KIND: block until the copy is done, without polling: both
# targets raise a dm event when they reach sync, and `dmsetup wait` sleeps in
# the kernel. The event counter is read before the state, so no wake-up is
# lost. Bounded: 15 minutes.
wait_done() {
	_deadline=$(($(date +%s) + 900))
	while :; do
		_ev=$(dm_events "$1")
		copy_done "$1" "$2" && return 0
		[ "$(date +%s)" -lt "$_deadline" ] ||
			fail "$1: no sync after 900 s: $(dmsetup status "$1")"
		timeout 30 dmsetup wait "$1" "$_ev" >/dev/null 2>&1
	done
}

# msg_wait NAME KIND MESSAGE: send MESSAGE (start) and block until the copy it
# starts is done: the event counter is read before the message, so the sync
# event that follows it ends `dmsetup wait` at once; two dmsetup calls in
# the timed span, which matters for the small incremental copies.
msg_wait() {
	_mw_ev=$(dm_events "$1")
	dm_msg "$1" "$3"
	timeout 900 dmsetup wait "$1" "$_mw_ev" >/dev/null 2>&1
	copy_done "$1" "$2" || wait_done "$1" "$2"
}

# sampler_start NAME FILE / sampler_stop: "uptime_ms status..." lines of
# NAME every SAMPLE_MS into FILE (for the progress plots only: the timed runs
# are not sampled, a dmsetup call costs tens of ms of guest CPU).
sampler_start() {
	rm -f /tmp/bench/sampler.stop
	(
		while [ ! -e /tmp/bench/sampler.stop ]; do
			_s=$(dmsetup status "$1" 2>/dev/null) && echo "$(uptime_ms) $_s"
			usleep $((SAMPLE_MS * 1000))
		done
	) >"$2" &
	SAMPLER=$!
}
sampler_stop() {
	touch /tmp/bench/sampler.stop
	wait "$SAMPLER"
}

# dirty_list FRACTION_PERMILLE SEED > FILE: distinct random regions, one per
# line; "runsN-P" instead: N runs of P% of the regions each, at random places.
dirty_list() {
	case $1 in
	runs*)
		_r=${1#runs}
		awk -v n="$REGIONS" -v runs="${_r%-*}" -v pct="${_r#*-}" -v seed="$2" 'BEGIN {
			srand(seed); len = int(n * pct / 100); if (len < 1) len = 1
			slot = int(n / runs)	# one run per slot: they never touch
			for (i = 0; i < runs; i++) {
				s = i * slot + int(rand() * (slot - len + 1))
				for (r = s; r < s + len; r++) print r
			}
		}'
		;;
	*)
		awk -v n="$REGIONS" -v pm="$1" -v seed="$2" 'BEGIN {
			srand(seed); k = int(n * pm / 1000 + 0.5); if (k < 1) k = 1
			for (i = 0; i < n; i++) a[i] = i
			for (i = 0; i < k; i++) {	# partial Fisher-Yates
				j = i + int(rand() * (n - i)); t = a[i]; a[i] = a[j]; a[j] = t
				print a[i]
			}
		}' | sort -n
		;;
	esac
}

# copy_run SET CASE ROUND [SAMPLE]: one timed copy of the whole device of
# CASE: dd, dd-sparse, fio-copy, raid1-resync, im-full, im-full-meta or
# im-full-dz. Records ms, under part COPY_PART (default copy).
copy_run() {
	_set=$1 _case=$2 _round=$3 _sample=${4:-}
	_pfx=${COPY_PART:-copy}
	[ -n "$_sample" ] && _pfx=progress
	if [ -n "$_sample" ]; then
		sampler_start bc "$OUT/progress/$_set-$_case.txt"
		usleep 300000
	fi
	case $_case in
	dd)
		_t0=$(uptime_ms)
		cdd if="$SRC" of="$DST" bs=1M iflag=direct oflag=direct
		_t1=$(uptime_ms)
		;;
	dd-sparse)
		# A plain sparse copy: dd seeks over every all-zero 64 KiB
		# block (one region) of the source instead of writing it.
		_t0=$(uptime_ms)
		cdd if="$SRC" of="$DST" bs=64K iflag=direct oflag=direct conv=sparse
		_t1=$(uptime_ms)
		;;
	fio-copy)
		# A concurrent deep-queue copy: sequential 1 MiB reads of the
		# source at QD16 and 1 MiB writes of the destination at QD16 at
		# the same time (16 MiB in flight each way); the time is that of
		# the longer of the two jobs, as fio measured it (fio's start-up
		# is not counted).
		printf '[global]\nioengine=libaio\ndirect=1\nbs=1M\niodepth=16\n[read]\nfilename=%s\nrw=read\n[write]\nfilename=%s\nrw=write\n' \
			"$SRC" "$DST" >/tmp/bench/copy.fio
		_j=$OUT/fio/$_pfx/$_set/fio-copy/r$_round.json
		_t0=$(uptime_ms)
		fio_run /tmp/bench/copy.fio "$_j"
		_t1=$(uptime_ms)
		_ms=$(awk -F: '/"job_runtime"/ { gsub(/[ ,]/, "", $2); if ($2 > m) m = $2 } END { print m + 0 }' "$_j")
		[ "$_ms" -gt 0 ] || fail "no job_runtime in $_j"
		rec "$_pfx" "$_set" fio-copy - "$_round" wall_ms $((_t1 - _t0))
		_t0=0 _t1=$_ms
		;;
	raid1-resync)
		_t0=$(uptime_ms)
		dm_create bc "0 $SZ mirror core 1 $REGION 2 $SRC 0 $DST 0" >/dev/null
		wait_done bc raid1
		_t1=$(uptime_ms)
		;;
	im-full | im-full-meta | im-full-dz)
		_f=
		case $_case in
		im-full-meta)
			zero_head "$META"
			_f=" 2 metadata $META"
			;;
		im-full-dz) _f=" 1 dest_zeroed" ;;
		esac
		_t0=$(uptime_ms)
		dm_create bc "0 $SZ incmirror $SRC $DST $REGION$_f" >/dev/null
		wait_done bc im
		_t1=$(uptime_ms)
		rec "$_pfx" "$_set" "$_case" - "$_round" copied_sectors "$(dm_field bc 5)"
		_z=$(dm_field bc 13)
		rec "$_pfx" "$_set" "$_case" - "$_round" zeroed_regions "${_z#zeroed=}"
		;;
	*) fail "unknown copy $_case" ;;
	esac
	if [ -n "$_sample" ]; then
		usleep 300000
		sampler_stop
		echo "$_t0 $_t1" >"$OUT/progress/$_set-$_case.t"
	fi
	dmsetup remove bc 2>/dev/null
	rec "$_pfx" "$_set" "$_case" - "$_round" ms $((_t1 - _t0))
}

# incr_run CASE ROUND: incremental copy of the regions of dirty_list CASE:
# loaded with incmirror-bitmap (a range list), then timed from `start` to
# synced. Records ms, the dirty count and the sectors copied.
incr_run() {
	dirty_list "$1" 7 >/tmp/bench/dirty.txt
	_n=$(wc -l </tmp/bench/dirty.txt)
	awk '{ printf "%d 65536\n", $1 * 65536 }' /tmp/bench/dirty.txt >/tmp/bench/dirty.ranges
	dm_create bc "0 $SZ incmirror $SRC $DST $REGION 1 incremental" >/dev/null
	incmirror-bitmap load -f ranges bc /tmp/bench/dirty.ranges >/tmp/bench/load.log 2>&1 ||
		{ cat /tmp/bench/load.log >&2; fail "incmirror-bitmap load (incremental $1)"; }
	[ "$(in_sync bc)" -eq $((REGIONS - _n)) ] ||
		fail "incremental $1: $_n regions loaded, status $(dmsetup status bc)"
	_t0=$(uptime_ms)
	msg_wait bc im start
	_t1=$(uptime_ms)
	rec copy cpu "incr-$1" - "$2" ms $((_t1 - _t0))
	rec copy cpu "incr-$1" - "$2" dirty_regions "$_n"
	rec copy cpu "incr-$1" - "$2" copied_sectors "$(dm_field bc 5)"
	dmsetup remove bc || fail "dmsetup remove bc"
}

# fg_run CASE ROUND [SAMPLE]: a full copy started with `start` on an
# incremental table whose regions are all dirty, with or without a
# foreground 4k randwrite QD1 writer on the mirror (fio, stopped with SIGTERM
# when the copy ends, so its figures cover the copy), and with or without
# max_copy_rate:
#   copy-idle           no writer, no limit (the idle copy speed)
#   copy-writer         writer, no limit
#   copy-writer-limit   writer, max_copy_rate COPY_RATE
#   writer-idle         the writer on the synced mirror, no copy (RUNTIME s)
fg_run() {
	_case=$1 _round=$2 _sample=${3:-}
	_pfx=fg
	[ -n "$_sample" ] && _pfx=progress
	_feat="1 incremental"
	[ "$_case" = copy-writer-limit ] && _feat="3 incremental max_copy_rate $COPY_RATE"
	dm_create bc "0 $SZ incmirror $SRC $DST $REGION $_feat" >/dev/null
	_sys=$(dm_sysname bc)
	_j=$OUT/fio/$_pfx/cpu/$_case/r$_round.json
	mkdir -p "$(dirname "$_j")"
	if [ "$_case" = writer-idle ]; then
		dm_msg bc start
		wait_state bc synced 60
		jobfile /tmp/bench/fg.fio 0 w4k-qd1 /dev/mapper/bc
		fio_run /tmp/bench/fg.fio "$_j"
		dmsetup remove bc || fail "dmsetup remove bc"
		return 0
	fi
	dm_msg bc set_dirty 0-$((REGIONS - 1))
	_pid=
	if [ "$_case" != copy-idle ]; then
		printf '[global]\nioengine=libaio\ndirect=1\nnorandommap=1\nlat_percentiles=1\n[w4k-qd1]\nfilename=/dev/mapper/bc\ntime_based=1\nruntime=3600\n' >/tmp/bench/fg.fio
		job_opts w4k-qd1 >>/tmp/bench/fg.fio
		fio --output-format=json --output="$_j" /tmp/bench/fg.fio >/tmp/bench/fio.log 2>&1 &
		_pid=$!
		# The writer is writing before the copy starts.
		wait_cond 60 "the foreground writer to start" \
			"[ \$(awk '{ print \$5 }' /sys/block/$_sys/stat) -gt 50 ]"
	fi
	[ -n "$_sample" ] && sampler_start bc "$OUT/progress/cpu-fg-$_case.txt"
	_t0=$(uptime_ms)
	msg_wait bc im start
	_t1=$(uptime_ms)
	if [ -n "$_pid" ]; then
		kill -TERM "$_pid"
		# fio exits 128 after a signal, with its results written.
		wait "$_pid"
		_rc=$?
		[ "$_rc" = 0 ] || [ "$_rc" = 128 ] ||
			{ cat /tmp/bench/fio.log >&2; fail "the foreground fio failed ($_rc)"; }
		fio_check "$_j"
	fi
	if [ -n "$_sample" ]; then
		sampler_stop
		echo "$_t0 $_t1" >"$OUT/progress/cpu-fg-$_case.t"
	fi
	rec "$_pfx" cpu "$_case" - "$_round" ms $((_t1 - _t0))
	rec "$_pfx" cpu "$_case" - "$_round" copied_sectors "$(dm_field bc 5)"
	dmsetup remove bc || fail "dmsetup remove bc"
}

# ---- the parts -------------------------------------------------------------

# Part 1 (sets cpu, delay) and part 2 (slowdst): in-sync writes.
WRITE_TARGETS="linear pair raid1 raid1-disk im im-meta"
SLOWDST_TARGETS="src dst raid1 im im-meta"
writes_round() { # writes_round PART SET ROUND
	use_set "$2"
	if [ "$1" = writes ]; then _targets=$WRITE_TARGETS _jobs=$JOBS; else _targets=$SLOWDST_TARGETS _jobs=$SLOWDST_JOBS; fi
	for _tg in $(rotate $(($3 - 1)) $_targets); do
		say "$1 set $2 round $3/$ROUNDS: $_tg"
		_warm=0
		case $_tg in raid1-disk | im-meta) _warm=1 ;; esac
		if [ "$_tg" = pair ]; then
			jobfile /tmp/bench/w.fio 0 "$_jobs" "$SRC" "$DST"
			DEV=
		else
			mk "$_tg"
			jobfile /tmp/bench/w.fio "$_warm" "$_jobs" "$DEV"
		fi
		fio_run /tmp/bench/w.fio "$OUT/fio/$1/$2/$_tg/r$3.json"
		[ -n "$DEV" ] && rm_dev
	done
}

# skip_copy SET CASE: dm-raid1 copies one 64 KiB region at a time, which on
# the delayed legs takes minutes for a few hundred MiB: only with
# BENCH_DELAY_RESYNC=1.
skip_copy() {
	[ "$1" != cpu ] && [ "$2" = raid1-resync ] && [ "$DELAY_RESYNC" != 1 ]
}

copy_round() { # copy_round ROUND
	for _set in $COPY_SETS; do
		use_set "$_set"
		for _c in $(rotate $(($1 - 1)) dd fio-copy raid1-resync im-full im-full-meta); do
			skip_copy "$_set" "$_c" && continue
			say "copy set $_set round $1/$ROUNDS: $_c"
			copy_run "$_set" "$_c" "$1"
		done
	done
	use_set cpu
	for _c in $(rotate $(($1 - 1)) 1 10 100 500 runs4-5); do
		say "copy set cpu round $1/$ROUNDS: incremental $_c"
		incr_run "$_c" "$1"
	done
	# Fixed order: the limit is half the idle speed of round 1.
	for _c in copy-idle writer-idle copy-writer copy-writer-limit; do
		say "foreground set cpu round $1/$ROUNDS: $_c"
		fg_run "$_c" "$1"
		if [ "$_c" = copy-idle ] && [ "$COPY_RATE" = auto ]; then
			COPY_RATE=$((MIB * 1024 * 1000 / $(awk -F'\t' '$3 == "copy-idle" && $6 == "ms" { v = $7 } END { print v }' "$OUT/records.tsv") / 2))
			[ "$COPY_RATE" -gt 0 ] || COPY_RATE=1024
			rec fg cpu copy-writer-limit - 0 max_copy_rate_kibps "$COPY_RATE"
			say "max_copy_rate for copy-writer-limit: $COPY_RATE KiB/s"
		fi
	done
}

# The progress plots: one sampled run of each, after the timed rounds.
progress_runs() {
	for _set in $COPY_SETS; do
		use_set "$_set"
		for _c in raid1-resync im-full im-full-meta; do
			skip_copy "$_set" "$_c" && continue
			say "progress set $_set: $_c"
			copy_run "$_set" "$_c" 1 sample
		done
	done
	use_set cpu
	for _c in copy-writer copy-writer-limit; do
		say "progress set cpu: $_c"
		fg_run "$_c" 1 sample
	done
}

# Part 4a: kernel memory of a 16 TiB mirror at 64 KiB regions over dm-zero
# legs (writes are discarded, the constructor only needs the sizes), against
# dm-raid1 with a core and a disk log. Slab + VmallocUsed, caches dropped.
BIG=34359738368 # 16 TiB in sectors
BIG_META=$((8 + 8 * ((BIG / REGION + 32767) / 32768)))
memkb() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '$1 == "Slab:" { s = $2 } $1 == "VmallocUsed:" { v = $2 } END { print s + v }' /proc/meminfo
}
mem_round() {
	dm_create zsrc "0 $BIG zero" >/dev/null
	dm_create zdst "0 $BIG zero" >/dev/null
	for _k in $(rotate $(($1 - 1)) im im-meta raid1 raid1-disk); do
		say "memory round $1/$ROUNDS: $_k (16 TiB)"
		rm -f /tmp/bench/big-meta.img
		truncate -s $((BIG_META * 512 + 1048576)) /tmp/bench/big-meta.img
		_ml=$(loop_attach /tmp/bench/big-meta.img)
		case $_k in
		im) _t="incmirror /dev/mapper/zsrc /dev/mapper/zdst $REGION 1 incremental" ;;
		im-meta) _t="incmirror /dev/mapper/zsrc /dev/mapper/zdst $REGION 3 incremental metadata $_ml" ;;
		raid1) _t="mirror core 2 $REGION nosync 2 /dev/mapper/zsrc 0 /dev/mapper/zdst 0" ;;
		raid1-disk) _t="mirror disk 3 $_ml $REGION nosync 2 /dev/mapper/zsrc 0 /dev/mapper/zdst 0" ;;
		esac
		_m0=$(memkb)
		dm_create bm "0 $BIG $_t" >/dev/null
		_m1=$(memkb)
		dmsetup remove bm || fail "dmsetup remove bm"
		/usr/sbin/losetup -d "$_ml" || fail "losetup -d $_ml"
		rec mem - "$_k" 16T "$1" kib $((_m1 - _m0))
	done
	dmsetup remove zsrc && dmsetup remove zdst || fail "remove the zero devices"
	rm -f /tmp/bench/big-meta.img
}

# Part 4b: loading 1 Mi scattered dirty regions (SCATTER: a raw bitmap with
# 1 Mi random bits of 4 Mi, made on the host) into a 256 GiB mirror of
# sparse loop files at 64 KiB regions, with incmirror-bitmap; only the load is
# timed, the device is removed before start.
LOAD_REGIONS=4194304
load_round() {
	[ -f "$SCATTER" ] || fail "no $SCATTER (tests/bench/run makes it)"
	for _k in $(rotate $(($1 - 1)) im im-meta); do
		say "bitmap load round $1/$ROUNDS: $_k"
		rm -f /tmp/bench/ls.img /tmp/bench/ld.img /tmp/bench/lm.img
		truncate -s $((LOAD_REGIONS * 65536)) /tmp/bench/ls.img /tmp/bench/ld.img
		truncate -s 1048576 /tmp/bench/lm.img
		_ls=$(loop_attach /tmp/bench/ls.img)
		_ld=$(loop_attach /tmp/bench/ld.img)
		_lm=$(loop_attach /tmp/bench/lm.img)
		_f="1 incremental"
		[ "$_k" = im-meta ] && _f="3 incremental metadata $_lm"
		dm_create bl "0 $((LOAD_REGIONS * REGION)) incmirror $_ls $_ld $REGION $_f" >/dev/null
		_t0=$(uptime_ms)
		incmirror-bitmap load -v -f raw -g 64K bl "$SCATTER" >"$OUT/logs/load-$_k-r$1.log" 2>&1 ||
			{ cat "$OUT/logs/load-$_k-r$1.log" >&2; fail "incmirror-bitmap load of $SCATTER"; }
		_t1=$(uptime_ms)
		_d=$((LOAD_REGIONS - $(in_sync bl)))
		[ "$_d" -eq 1048576 ] || fail "bitmap load: $_d regions dirty, want 1048576"
		rec load - "$_k" 1Mi-of-4Mi "$1" ms $((_t1 - _t0))
		dmsetup remove bl || fail "dmsetup remove bl"
		/usr/sbin/losetup -d "$_ls" "$_ld" "$_lm" 2>/dev/null ||
			for _l in $_ls $_ld $_lm; do /usr/sbin/losetup -d "$_l"; done
	done
	rm -f /tmp/bench/ls.img /tmp/bench/ld.img /tmp/bench/lm.img
}

# Part 5: sparse copy of a mostly-zero source onto a new thin destination.
# The source SPSRC: a loop device over a sparse file on tmpfs of MIB MiB in
# which SPARSE_PERMILLE per mille of the 64 KiB regions (distinct, at random
# across the device, the same in every round: dirty_list, seed 11) hold
# random data and the rest are zeroes (holes). Every copy goes to a new
# destination, made just before it and removed after it:
#   thin   a new thin LV of a new dm-thin pool with 64 KiB blocks (one block
#          a region; data and metadata loop files on tmpfs, made anew):
#          takes no write-zeroes; allocated = the pool's used data blocks
#   loop   a new sparse file on tmpfs behind a loop device, which takes
#          write-zeroes (punching holes); allocated = the file's blocks, in
#          64 KiB units
# The least either can allocate is one block per data region. Every copy is
# compared with the source after it is timed (a difference fails the run).
SP=/tmp/sparse
SPARSE_CASES="thin:dd thin:dd-sparse thin:raid1-resync thin:im-full thin:im-full-dz loop:raid1-resync loop:im-full"
sparse_setup() {
	mkdir -p "$SP"
	rm -f "$SP"/*.img
	truncate -s $((MIB * 1048576)) "$SP/src.img" || fail "truncate $SP/src.img"
	SPSRC=$(loop_attach "$SP/src.img")
	dirty_list "$SPARSE_PERMILLE" 11 >"$SP/data.txt"
	SP_DATA=$(wc -l <"$SP/data.txt")
	say "sparse: random data into $SP_DATA of $REGIONS regions of $SPSRC"
	while read -r _r; do
		cdd if=/dev/urandom of="$SPSRC" bs=64K seek="$_r" count=1 oflag=direct
	done <"$SP/data.txt"
	sync
	rec sparse - source - 0 data_regions "$SP_DATA"
	rec sparse - source - 0 file_kib "$(du -k "$SP/src.img" | cut -f1)"
}

# sparse_dest KIND: a new destination of KIND (thin, loop) as SPDST.
sparse_dest() {
	sparse_dest_rm
	case $1 in
	thin)
		truncate -s $((SZ * 512)) "$SP/pool-data.img" || fail "truncate pool-data"
		# A new all-zero metadata device: the pool formats it.
		truncate -s 8388608 "$SP/pool-meta.img" || fail "truncate pool-meta"
		SP_PD=$(loop_attach "$SP/pool-data.img")
		SP_PM=$(loop_attach "$SP/pool-meta.img")
		dm_create sp-pool "0 $SZ thin-pool $SP_PM $SP_PD $REGION 0" >/dev/null
		dm_msg sp-pool create_thin 0
		SPDST=$(dm_create sp-thin "0 $SZ thin /dev/mapper/sp-pool 0")
		[ "$(sparse_alloc thin)" = 0 ] || fail "a new thin pool with used blocks: $(dmsetup status sp-pool)"
		;;
	loop)
		truncate -s $((SZ * 512)) "$SP/dst.img" || fail "truncate $SP/dst.img"
		SPDST=$(loop_attach "$SP/dst.img")
		SP_DL=$SPDST
		SP_WZ=$(cat "/sys/block/${SPDST#/dev/}/queue/write_zeroes_max_bytes")
		;;
	*) fail "unknown sparse destination $1" ;;
	esac
}
sparse_dest_rm() {
	dmsetup remove sp-thin 2>/dev/null
	dmsetup remove sp-pool 2>/dev/null
	for _l in ${SP_PD:-} ${SP_PM:-} ${SP_DL:-}; do
		/usr/sbin/losetup -d "$_l" 2>/dev/null
	done
	SP_PD= SP_PM= SP_DL= SPDST=
	rm -f "$SP/pool-data.img" "$SP/pool-meta.img" "$SP/dst.img"
}
# sparse_alloc KIND: what the current destination has allocated, in 64 KiB
# blocks (loop: the file's KiB, as du counts them, / 64, two decimals).
sparse_alloc() {
	case $1 in
	thin) dmsetup status sp-pool | awk '{ split($6, a, "/"); print a[1] }' ;;
	loop) du -k "$SP/dst.img" | awk '{ v = $1 / 64; if (v == int(v)) print v; else printf "%.2f\n", v }' ;;
	esac
}

# sparse_run KIND CASE ROUND: one timed copy of CASE onto a new destination
# of KIND, then its allocation and the check against the source.
sparse_run() {
	sparse_dest "$1"
	_sv_src=${SRC:-} _sv_dst=${DST:-}
	SRC=$SPSRC DST=$SPDST COPY_PART=sparse
	copy_run "$1" "$2" "$3"
	SRC=$_sv_src DST=$_sv_dst COPY_PART=
	# Every write of the copy has completed (a synced target, dd's exit);
	# the pool's status commits its metadata before it reports.
	rec sparse "$1" "$2" - "$3" alloc_blocks "$(sparse_alloc "$1")"
	case $1 in
	thin)
		rec sparse "$1" "$2" - "$3" thin_mapped_sectors "$(dm_field sp-thin 1)"
		rec sparse "$1" "$2" - "$3" pool_data_kib "$(du -k "$SP/pool-data.img" | cut -f1)"
		;;
	loop) rec sparse "$1" "$2" - "$3" write_zeroes_max_bytes "$SP_WZ" ;;
	esac
	# GNU cmp (busybox's compares a byte at a time: minutes at 512 MiB).
	_tc=$(uptime_ms)
	drop_caches "$SPSRC" "$SPDST"
	/usr/bin/cmp -s "$SPSRC" "$SPDST" || {
		echo "regions that differ (first 20): $(diff_regions "$SPSRC" "$SPDST" "$REGION" | tr '\n' ' ')" >&2
		fail "sparse: $2 onto $1: the copy differs from the source"
	}
	rec sparse "$1" "$2" - "$3" cmp_ms $(($(uptime_ms) - _tc))
	sparse_dest_rm
	drop_caches # what cmp read: 2 x MIB MiB of page cache beside the legs
}

sparse_round() { # sparse_round ROUND
	for _v in $(rotate $(($1 - 1)) $SPARSE_CASES); do
		say "sparse round $1/$ROUNDS: ${_v#*:} onto a new ${_v%%:*} destination"
		sparse_run "${_v%%:*}" "${_v#*:}" "$1"
	done
}

# Part 6: a remote destination over NBD. The source NSRC is a loop device
# over a file of NBD_MIB MiB on tmpfs (NBD_SRC=loop) or a brd ramdisk
# (NBD_SRC=brd), filled with random data; the destination NDST is
# /dev/nbd0, the kernel's NBD client connected over TCP on 127.0.0.1 to
# qemu-nbd serving a copy of it (a file on tmpfs,
# tests/lib/nbd.sh: one connection, 4 KiB blocks, a request timeout of
# NBD_TIMEOUT s). tc netem on lo delays every packet by NBD_DELAY (set nbd)
# or by NBD_DELAY with NBD_JITTER of uniform jitter (set nbd-jitter), in
# both directions: a round trip is twice the delay. Targets of the write
# jobs (NBD_JOBS, one fio run per target and round as in part 1):
#   nbd      the NBD device alone: the slower leg
#   im       dm-incmirror over NSRC + NDST, in sync (incremental, start)
#   im-copy  dm-incmirror while a full copy runs (every region dirty,
#            unlimited rate, default copy_depth): one fio run per job, the
#            writer started first; `start` is sent once it writes, within
#            its NBD_RAMP s of ramp_time (not measured); whenever the copy
#            reaches sync before the job ends, every region is set dirty
#            again at once (nbd_keeper), so that it runs all along
#   raid1    dm-raid1 core log, nosync, over the same pair
# Copies (NBD_COPIES, set nbd, timed as in part 3): dd bs=1M, im-full,
# raid1-resync of NSRC onto NDST.
NB=/tmp/nbd-bench
NBD_PORT=10820
NBD_TIMEOUT=120
NBD_RAMP=1
NSZ=$((NBD_MIB * 2048))
NREGIONS=$(((NSZ + REGION - 1) / REGION))
NDST=
nbd_part_setup() {
	nbd_setup
	mkdir -p "$NB"
	case $NBD_SRC in
	loop)
		truncate -s $((NBD_MIB * 1048576)) "$NB/src.img" || fail "truncate $NB/src.img"
		NSRC=$(loop_attach "$NB/src.img")
		;;
	brd)
		# One ramdisk; brd cannot also hold the legs of BENCH_LEGS=brd.
		[ -d /sys/module/brd ] && fail "BENCH_NBD_SRC=brd: brd is already in use (BENCH_LEGS=brd)"
		ram_devices 1 "$NBD_MIB"
		NSRC=/dev/ram0
		;;
	*) fail "BENCH_NBD_SRC must be loop or brd, not '$NBD_SRC'" ;;
	esac
	say "nbd: filling $NSRC and the server's file ($NBD_MIB MiB each)"
	cdd if=/dev/urandom of="$NSRC" bs=1M count="$NBD_MIB" oflag=direct conv=fsync
	cdd if="$NSRC" of="$NB/dst.img" bs=1M iflag=direct conv=fsync
	nbd_serve "$NB/dst.img" "$NBD_PORT"
	nbd_connect "$NBD_PORT" /dev/nbd0 "$NBD_TIMEOUT"
	NDST=/dev/nbd0
	[ "$(dev_sectors "$NDST")" = "$NSZ" ] || fail "$NDST: $(dev_sectors "$NDST") sectors, want $NSZ"
	# A short write on the NBD device over the delayed link first.
	nbd_netem nbd
	jobfile /tmp/bench/w.fio 0 w4k-qd8 "$NDST"
	_rt=$RUNTIME
	RUNTIME=2
	fio_run /tmp/bench/w.fio /tmp/bench/warmup-nbd.json
	RUNTIME=$_rt
	netem off
}

# nbd_netem SET: the netem qdisc on lo of SET (its settings in logs/).
nbd_netem() {
	case $1 in
	nbd) netem delay "$NBD_DELAY" ;;
	nbd-jitter) netem delay "$NBD_DELAY" "$NBD_JITTER" ;;
	*) fail "unknown nbd set $1" ;;
	esac
	$TC qdisc show dev lo >"$OUT/logs/netem-$1.txt"
}

# nbd_mk KIND: the device "bt" of KIND over NSRC + NDST (mirrors in sync),
# or the NBD device itself (nbd). Sets DEV.
nbd_mk() {
	DEV=/dev/mapper/bt
	case $1 in
	nbd) DEV=$NDST; return 0 ;;
	im) _t="0 $NSZ incmirror $NSRC $NDST $REGION 1 incremental" ;;
	raid1) _t="0 $NSZ mirror core 2 $REGION nosync 2 $NSRC 0 $NDST 0" ;;
	*) fail "unknown nbd target $1" ;;
	esac
	dm_create bt "$_t" >/dev/null
	if [ "$1" = im ]; then
		dm_msg bt start
		wait_state bt synced 60
	fi
}

# nbd_keeper NAME DIR (in the background): each time NAME reaches sync, set
# every region dirty again (set_dirty: the started copier goes on at once),
# until DIR/stop exists; the count in DIR/restarts. Waits for the sync event
# with `dmsetup wait` (no polling); its pid is in DIR/waiter for the caller
# to end it.
nbd_keeper() {
	_k_n=0
	echo 0 >"$2/restarts"
	while [ ! -e "$2/stop" ]; do
		_k_ev=$(dm_events "$1")
		if [ "$(dm_field "$1" 1)" = synced ]; then
			[ -e "$2/stop" ] && break
			dmsetup message "$1" 0 set_dirty 0-$((NREGIONS - 1)) >/dev/null 2>&1 || break
			_k_n=$((_k_n + 1))
			echo "$_k_n" >"$2/restarts"
			continue
		fi
		timeout 10 dmsetup wait "$1" "$_k_ev" >/dev/null 2>&1 &
		echo $! >"$2/waiter"
		wait $!
	done
}

# nbd_copy_writes SET JOB ROUND: target im-copy, one job: JOB written on
# dm-incmirror while a full copy onto the NBD device runs. The writer starts
# first (so the copier sees writes from its start), `start` follows once
# writes complete, within the NBD_RAMP s of ramp_time fio does not measure;
# nbd_keeper keeps the copy going until fio is done. Records the time from
# the first writes seen to `start` (start_ms), from `start` to the end of
# fio (ms), the sectors copied by then (copied_sectors, over every pass),
# the passes restarted (restarts) and whether it was copying at the end
# (copying_at_end 1/0). The device is then removed mid-copy.
nbd_copy_writes() {
	_set=$1 _job=$2 _round=$3
	dm_create bt "0 $NSZ incmirror $NSRC $NDST $REGION 1 incremental" >/dev/null
	dm_msg bt set_dirty 0-$((NREGIONS - 1))
	_sys=$(dm_sysname bt)
	_j=$OUT/fio/nbd/$_set/im-copy/r$_round-$_job.json
	mkdir -p "$(dirname "$_j")"
	{
		printf '[global]\nioengine=libaio\ndirect=1\nnorandommap=1\nlat_percentiles=1\n'
		printf '[%s]\nfilename=/dev/mapper/bt\ntime_based=1\nramp_time=%s\nruntime=%s\n' \
			"$_job" "$NBD_RAMP" "$RUNTIME"
		job_opts "$_job"
	} >/tmp/bench/nc.fio
	fio --output-format=json --output="$_j" /tmp/bench/nc.fio >/tmp/bench/fio.log 2>&1 &
	_pid=$!
	wait_cond 60 "the writer on bt to start" \
		"[ \$(awk '{ print \$5 }' /sys/block/$_sys/stat) -gt 0 ]"
	_tw=$(uptime_ms)
	dm_msg bt start
	_ts=$(uptime_ms)
	_kd=/tmp/bench/keeper
	rm -rf "$_kd"
	mkdir -p "$_kd"
	nbd_keeper bt "$_kd" &
	_kp=$!
	wait "$_pid" || { cat /tmp/bench/fio.log >&2; fail "fio on im-copy ($_job) failed"; }
	_te=$(uptime_ms)
	_cs=$(dm_field bt 5)
	_st=$(dm_field bt 1)
	touch "$_kd/stop"
	[ -f "$_kd/waiter" ] && kill "$(cat "$_kd/waiter")" 2>/dev/null
	wait "$_kp"
	fio_check "$_j"
	_c=0
	[ "$_st" = copying ] && _c=1
	rec nbd "$_set" im-copy "$_job" "$_round" start_ms $((_ts - _tw))
	rec nbd "$_set" im-copy "$_job" "$_round" ms $((_te - _ts))
	rec nbd "$_set" im-copy "$_job" "$_round" copied_sectors "$_cs"
	rec nbd "$_set" im-copy "$_job" "$_round" restarts "$(cat "$_kd/restarts")"
	rec nbd "$_set" im-copy "$_job" "$_round" copying_at_end "$_c"
	[ "$_c" = 1 ] || say "nbd: note: the copy was $_st when $_job ended"
	dmsetup remove bt || fail "dmsetup remove bt"
}

nbd_round() { # nbd_round ROUND
	for _set in $NBD_SETS; do
		nbd_netem "$_set"
		_tgs=$NBD_TARGETS
		[ "$_set" = nbd-jitter ] && _tgs=$NBD_JITTER_TARGETS
		for _tg in $(rotate $(($1 - 1)) $_tgs); do
			say "nbd set $_set round $1/$ROUNDS: $_tg"
			if [ "$_tg" = im-copy ]; then
				for _j in $NBD_JOBS; do
					nbd_copy_writes "$_set" "$_j" "$1"
				done
				continue
			fi
			nbd_mk "$_tg"
			jobfile /tmp/bench/w.fio 0 "$NBD_JOBS" "$DEV"
			fio_run /tmp/bench/w.fio "$OUT/fio/nbd/$_set/$_tg/r$1.json"
			rm_dev
		done
	done
	# The copies onto the NBD device, over the link of set nbd.
	if [ -n "$NBD_COPIES" ]; then
		nbd_netem nbd
		_sv_src=${SRC:-} _sv_dst=${DST:-} _sv_sz=$SZ
		SRC=$NSRC DST=$NDST SZ=$NSZ COPY_PART=nbd
		for _c in $(rotate $(($1 - 1)) $NBD_COPIES); do
			say "nbd set nbd round $1/$ROUNDS: copy $_c"
			copy_run nbd "$_c" "$1"
		done
		SRC=$_sv_src DST=$_sv_dst SZ=$_sv_sz COPY_PART=
	fi
	netem off
}

# ---- main -----------------------------------------------------------------

for _j in $JOBS $SLOWDST_JOBS $NBD_JOBS; do
	case $_j in w4k-qd1 | w4k-qd32 | w128k-qd8 | rw70-qd16 | w4k-qd8 | w64k-qd4) ;; *) fail "unknown fio job '$_j'" ;; esac
done
for _s in $NBD_SETS; do
	case $_s in nbd | nbd-jitter) ;; *) fail "unknown set '$_s' in BENCH_NBD_SETS" ;; esac
done
for _c in $NBD_COPIES; do
	case $_c in dd | fio-copy | raid1-resync | im-full) ;; *) fail "unknown copy '$_c' in BENCH_NBD_COPIES" ;; esac
done

has() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
for _p in $PARTS; do
	case $_p in writes | slowdst | copy | load | sparse | nbd) ;; *) fail "unknown part '$_p' in BENCH_PARTS" ;; esac
done

dmsetup targets | grep -q '^incmirror ' || fail "dm-incmirror is not loaded"
say "$(uname -r): $MIB MiB legs ($LEGS), $ROUNDS rounds, ${RUNTIME}s per fio job, parts: $PARTS"

setup_modules
# Parts 1 to 3 use the legs; parts 4 and 5 make their own devices.
if has writes || has slowdst || has copy; then
	setup_legs
fi
has sparse && sparse_setup
has nbd && nbd_part_setup
{
	echo "kernel $(uname -r)"
	echo "mib $MIB"
	echo "rounds $ROUNDS"
	echo "runtime $RUNTIME"
	echo "legs $LEGS"
	echo "delay_ms $DELAY_MS"
	echo "sample_ms $SAMPLE_MS"
	echo "region_sectors $REGION"
	echo "regions $REGIONS"
	echo "parts $PARTS"
	echo "jobs $JOBS"
	echo "slowdst_jobs $SLOWDST_JOBS"
	echo "write_sets $WRITE_SETS"
	echo "copy_sets $COPY_SETS"
	echo "delay_resync $DELAY_RESYNC"
	echo "sparse_permille $SPARSE_PERMILLE"
	echo "sparse_cases $SPARSE_CASES"
	if has nbd; then
		echo "nbd_mib $NBD_MIB"
		echo "nbd_src $NBD_SRC"
		echo "nbd_regions $NREGIONS"
		echo "nbd_delay $NBD_DELAY"
		echo "nbd_jitter $NBD_JITTER"
		echo "nbd_sets $NBD_SETS"
		echo "nbd_jobs $NBD_JOBS"
		echo "nbd_targets $NBD_TARGETS"
		echo "nbd_jitter_targets $NBD_JITTER_TARGETS"
		echo "nbd_copies $NBD_COPIES"
		echo "nbd_timeout $NBD_TIMEOUT"
		echo "nbd_ramp $NBD_RAMP"
		echo "nbd_scheduler $(cat /sys/block/nbd0/queue/scheduler)"
		echo "nbd_max_sectors_kb $(cat /sys/block/nbd0/queue/max_sectors_kb)"
		echo "nbd_write_zeroes_max_bytes $(cat /sys/block/nbd0/queue/write_zeroes_max_bytes)"
		echo "qemu_nbd $(qemu-nbd --version | head -n 1)"
	fi
	echo "incmirror_version $(dmsetup targets | awk '$1 == "incmirror" { print $2 }')"
	echo "incmirror_sha256 $(sha256sum /lib/modules/$(uname -r)/extra/dm-incmirror.ko 2>/dev/null | cut -c1-16)"
	echo "mirror_version $(dmsetup targets | awk '$1 == "mirror" { print $2 }')"
	echo "fio $(fio --version)"
	echo "cpus $(nproc)"
	echo "memtotal_kib $(meminfo_kb MemTotal)"
} >"$OUT/info.txt"
# What one dmsetup call costs here (it is part of every copy time measured
# from a dmsetup create or message to the sync event).
_t0=$(uptime_ms)
for _i in 1 2 3 4 5; do dmsetup version >/dev/null; done
rec info - dmsetup - 0 call_ms $((($(uptime_ms) - _t0) / 5))

r=1
while [ "$r" -le "$ROUNDS" ]; do
	if has writes; then
		for s in $WRITE_SETS; do writes_round writes "$s" "$r"; done
	fi
	has slowdst && writes_round slowdst slowdst "$r"
	has copy && copy_round "$r"
	if has load; then
		mem_round "$r"
		load_round "$r"
	fi
	has sparse && sparse_round "$r"
	has nbd && nbd_round "$r"
	r=$((r + 1))
done
has copy && progress_runs
say "done"
