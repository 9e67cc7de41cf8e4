#!/bin/sh
# DESCRIPTION: randomized claim checker: seeded random sequences (writes, FUA, flushes, discards, write-zeroes, set_dirty, pause/start, verify [repair], suspend/resume, reloads of length, region size and metadata device, destination errors, silent drops, cache loss, crashes); after every step every region in sync per status/get_dirty is identical on both legs, at every flush/FUA point every bit clear on the metadata device is
# CHECK-KERNEL: 6.12
# TIMEOUT: 300
# MEM: 1536
#
# Replay: INCMIRROR_SEED=<seed printed> make check-random SEQUENCES=1 (or
# tests/vm/run --kernel 6.12 tests/cases/target-random-claims.sh --seed S
# --sequences 1). Arguments: --seed S (sequence i uses S + i), --sequences N,
# --steps N; defaults (make check): a random seed, 1 sequence of 10 steps.
#
# The stack, on one loop device over a tmpfs file (a discard reads back as
# zeroes there, as lw-replay replays it; brd keeps partial pages) logged by
# one dm-log-writes device (lw, log on /dev/ram0), as in
# metadata-crash-replay:
#   srcs = lw[0, S)            the source
#   dsts = lw[S, 2S)           the destination's storage, under
#     dlw  = log-writes dsts, log /tmp/rc.log2 (loop)   its own log: a cache
#            loss replays it to its last flush
#     dstf = linear dlw        swapped for error, flakey drop_writes: the
#                              destination the target sees
#   m1, m2 = lw[2S, 2S+M), lw[2S+M, 2S+2M)   metadata devices
#   im = incmirror srcs dstf <R> ... over the first L sectors.
# Claims:
#   live:      after every step (and during a destination outage) every
#              region not in get_dirty is identical on srcs and dsts (read
#              under the log devices, O_DIRECT); synced in status means all;
#              a verify reports no mismatch. Not while a destination
#              silently drops writes (documented: no mirror can see that),
#              until set_dirty of every region and start.
#   power cut: at every flush/FUA point of the log of lw, each region whose
#              bit is clear on the metadata device in use is identical on
#              both legs (lw-replay check-incmirror, per segment of the log
#              with one metadata device, length and region size), checked
#              when the sequence ends or crashes.
#   cache loss: after a destination outage whose destination comes back
#              as its log replayed to its last flush (and the FUA writes
#              after it: durable on their own), then start: the live
#              claim (checked right after start and after every later step).
#   crash:     the image at the last flush/FUA point is loaded again (same
#              table): the live claim right after the load.
. "$INCMIRROR_TESTS/lib/guest.sh"

SEQUENCES=${INCMIRROR_SEQUENCES:-1} STEPS=${INCMIRROR_STEPS:-10}
SEED=${INCMIRROR_SEED:-}
while [ $# -gt 0 ]; do
	case $1 in
	--seed) SEED=$2; shift 2 ;;
	--sequences) SEQUENCES=$2; shift 2 ;;
	--steps) STEPS=$2; shift 2 ;;
	*) fail "unknown argument '$1' (--seed S, --sequences N, --steps N)" ;;
	esac
done
[ -n "$SEED" ] || SEED=$(od -An -tu4 -N4 /dev/urandom | tr -d ' ')

L2DEV='' DDEV=''
cleanup() {
	dmsetup remove_all >/dev/null 2>&1
	for _l in $L2DEV $DDEV; do /usr/sbin/losetup -d "$_l" >/dev/null 2>&1; done
}
trap cleanup EXIT

modprobe dm-log-writes 2>/dev/null
modprobe dm-flakey 2>/dev/null
[ -d /sys/module/dm_log_writes ] || fail "dm-log-writes is not available"
[ -d /sys/module/dm_flakey ] || fail "dm-flakey is not available"

S=8192			# sectors per leg (4 MiB)
M=64			# sectors per metadata slice
N=$((2 * S + 2 * M))
LOG1=/dev/ram0
NSTEPS=0 NLIVE=0 NREGIONS=0 NPOINTS=0 NPCHECKS=0 NVERIFY=0 NSEQ=0
STEP=setup

# ---- the stack

# log2_new: a fresh, zero log for dlw (a sparse file: no stale entries).
log2_new() {
	[ -z "$L2DEV" ] || /usr/sbin/losetup -d "$L2DEV" || fail "losetup -d $L2DEV"
	rm -f /tmp/rc.log2
	truncate -s 128M /tmp/rc.log2 || fail "truncate /tmp/rc.log2"
	L2DEV=$(loop_attach /tmp/rc.log2)
}

# epoch_start IMAGE [REGIONS]: fresh ramdisks holding IMAGE, a fresh log
# over them, the devices above, and the target (table_line, with
# incremental when INC), REGIONS (a list for set_dirty) marked before the
# first checked segment begins.
epoch_start() {
	for _l in $L2DEV $DDEV; do /usr/sbin/losetup -d "$_l" >/dev/null 2>&1; done
	L2DEV='' DDEV=''
	ram_devices 1 256
	cp "$1" /tmp/rc.base || fail "cp $1"
	rm -f /tmp/rc.data
	cp "$1" /tmp/rc.data || fail "cp $1"
	DDEV=$(loop_attach /tmp/rc.data)
	dm_create lw "0 $N log-writes $DDEV $LOG1" >/dev/null
	dm_create srcs "0 $S linear /dev/mapper/lw 0" >/dev/null
	dm_create dsts "0 $S linear /dev/mapper/lw $S" >/dev/null
	dm_create m1 "0 $M linear /dev/mapper/lw $((2 * S))" >/dev/null
	dm_create m2 "0 $M linear /dev/mapper/lw $((2 * S + M))" >/dev/null
	dd_ if="$1" of=/tmp/rc.dbase bs=512 skip=$S count=$S
	log2_new
	dm_create dlw "0 $S log-writes /dev/mapper/dsts $L2DEV" >/dev/null
	dm_create dstf "0 $S linear /dev/mapper/dlw 0" >/dev/null
	DEV=$(dm_create im "$(table_line "$INC")")
	# shellcheck disable=SC2086
	[ -z "${2:-}" ] || dm_msg im set_dirty $2
	: >/tmp/rc.segs
	seg_mark
}

# table_line [incremental]: the table for the current L, R, MS, RATE.
table_line() {
	_f="error_threshold $ETH copy_depth $DEPTH"
	[ "${1:-0}" = 1 ] && _f="incremental $_f"
	[ "$ZD" = 0 ] || _f="dest_zeroed $_f"
	[ "$RATE" = 0 ] || _f="$_f max_copy_rate $RATE"
	[ "$MS" = 0 ] || _f="$_f metadata /dev/mapper/m$MS"
	# shellcheck disable=SC2086
	set -- $_f
	echo "0 $L incmirror /dev/mapper/srcs /dev/mapper/dstf $R $# $*"
}

# meta_off SLICE: byte offset of metadata slice 1 or 2 in the image.
meta_off() {
	echo $(((2 * S + ($1 - 1) * M) * 512))
}

SEGN=0
# seg_mark [none]: a mark in the log of lw where a segment begins; the
# points from it to the next segment's mark are checked against the
# metadata slice in use (none: not checked) with the current length and
# region size. /tmp/rc.segs: "s<n> <slice or 0> <sectors> <region> check|skip"
# per segment, "z<n> <slice>" where a slice is zeroed.
seg_mark() {
	SEGN=$((SEGN + 1))
	dm_msg lw mark "s$SEGN"
	if [ "${1:-}" = none ] || [ "$FUA" = 1 ]; then
		echo "s$SEGN $MS $L $R skip" >>/tmp/rc.segs
	else
		echo "s$SEGN $MS $L $R check" >>/tmp/rc.segs
	fi
}

# reload NEW_MS NEW_L NEW_R: reload im with another length, region size or
# metadata slice (a slice new to the table is zeroed first: formatted).
reload() {
	if [ "$1" != 0 ] && { [ "$1" != "$MS" ] || [ "$2" != "$L" ] || [ "$3" != "$R" ]; }; then
		[ "$1" != "$MS" ] || fail "reload: metadata slice $1 is in use, with another geometry"
		SEGN=$((SEGN + 1))
		dm_msg lw mark "z$SEGN"
		echo "z$SEGN $1" >>/tmp/rc.segs
		zero_dev "/dev/mapper/m$1" $M
	fi
	MS=$1 L=$2 R=$3
	run dmsetup reload im --table "$(table_line)"
	run dmsetup resume im
	seg_mark
}

# other_slice: the metadata slice not in use (1 when none is).
other_slice() {
	[ "$MS" = 1 ] && echo 2 || echo 1
}

# ---- claims

# total: regions of the current table.
total() {
	echo $(((L + R - 1) / R))
}

# check_live WHAT: every region get_dirty does not list is identical on the
# legs; with state synced, every region.
check_live() {
	[ "$DROPPING" = 1 ] && return 0
	_st=$(dmsetup status im) || fail "dmsetup status im"
	LAST_ST=$_st
	# One get_dirty is the whole map unless it ends with next= (few
	# processes: each costs under TCG).
	_gd=$(dmsetup message im 0 get_dirty) || fail "get_dirty on im refused"
	case $_gd in
	*next=*) get_dirty_all im >/tmp/rc.dirty ;;
	'') : >/tmp/rc.dirty ;;
	*) printf '%s\n' $_gd >/tmp/rc.dirty ;;
	esac
	im-rand cmp /dev/mapper/srcs /dev/mapper/dsts $((L * 512)) $((R * 512)) /tmp/rc.dirty \
		>/tmp/rc.cmp 2>&1
	_rc=$?
	[ $_rc -le 1 ] || fail "im-rand cmp: $(cat /tmp/rc.cmp)"
	if [ $_rc = 1 ]; then
		echo "VIOLATION step $STEP ($1): regions in sync per get_dirty differ on the legs: $(grep DIFF /tmp/rc.cmp | tr '\n' ' ')(status: $_st; dirty: $(tr '\n' ' ' </tmp/rc.dirty))"
		fail "step $STEP ($1): a region reported in sync differs"
	fi
	set -- $_st
	if [ "$4" = synced ]; then
		_t=$(((L + R - 1) / R))
		assert_eq "$5" "$_t/$_t" "step $STEP: in-sync count while synced"
	fi
	NLIVE=$((NLIVE + 1))
	read -r _w _n _rest </tmp/rc.cmp
	NREGIONS=$((NREGIONS + _n))
}

# powercut_check: check-incmirror over the log of lw (removed first: its
# log complete) up to the mark END_MARK: each segment against the metadata
# slice it used; and each slice a reload retired (dropped or replaced),
# from then until it is zeroed for reuse, against the geometry it had: it
# must say NEEDS_FULL_COPY, or else be true.
powercut_check() {
	[ "$FUA" = 0 ] || return 0
	lw-replay points $LOG1 >/tmp/rc.points || fail "lw-replay points $LOG1"
	awk -v end="$END_MARK" '
	{ t[NR] = $1; x[NR] = $2; l[NR] = $3; r[NR] = $4; f[NR] = $5; n = NR }
	END {
		for (i = 1; i <= n; i++) {
			if (t[i] !~ /^s/ || f[i] != "check" || x[i] == 0)
				continue
			u = end
			for (j = i + 1; j <= n; j++)
				if (t[j] ~ /^s/) { u = t[j]; break }
			print t[i], u, x[i], l[i], r[i], "segment"
		}
		for (s = 1; s <= 2; s++) {
			used = 0; ret = 0
			for (i = 1; i <= n; i++) {
				if (t[i] ~ /^z/) {
					if (x[i] == s) {
						if (ret) print rm, t[i], s, ul, ur, "retired"
						used = 0; ret = 0
					}
					continue
				}
				if (x[i] == s) { used = 1; ret = 0; ul = l[i]; ur = r[i] }
				else if (used && !ret) { ret = 1; rm = t[i] }
			}
			if (ret) print rm, end, s, ul, ur, "retired"
		}
	}' /tmp/rc.segs >/tmp/rc.jobs || fail "awk /tmp/rc.segs"
	while read -r _a _u _x _l _r _what; do
		lw-replay check-incmirror $LOG1 /tmp/rc.base --src 0 --dst $((S * 512)) \
			--len $((_l * 512)) --meta "$(meta_off "$_x")" --region $((_r * 512)) \
			--after-mark "$_a" --until-mark "$_u" >/tmp/rc.check 2>&1
		_rc=$?
		grep -m 5 VIOLATION /tmp/rc.check
		if [ $_rc = 1 ]; then
			# The entries before the first violation: what each wrote
			# (byte offsets: source from 0, destination from
			# $((S * 512)), metadata from $((2 * S * 512))).
			_v=$(sed -n 's/^VIOLATION point \([0-9]*\):.*/\1/p' /tmp/rc.check | head -n 1)
			lw-replay list $LOG1 | awk -v v="${_v:-0}" '$1 + 0 >= v - 60 && $1 + 0 <= v' |
				sed 's/^/#   entry /'
		fi
		[ $_rc = 0 ] || fail "power-cut claim, $_what metadata slice $_x from mark $_a to $_u ($_l sectors, region $_r): $(tail -n 2 /tmp/rc.check | tr '\n' ' ')"
		_p=$(sed -n 's/^checked \([0-9]*\) points.*/\1/p' /tmp/rc.check)
		NPOINTS=$((NPOINTS + ${_p:-0}))
		NPCHECKS=$((NPCHECKS + 1))
	done </tmp/rc.jobs
}

# epoch_end MARK: remove the stack (the target last seen at MARK), then
# check the power-cut claim up to MARK.
epoch_end() {
	END_MARK=$1
	dm_msg lw mark "$END_MARK"
	for d in im dstf dlw m1 m2 dsts srcs lw; do run dmsetup remove $d; done
	powercut_check
}

wait_verify_done() {
	wait_cond 60 "verify=done" '[ "$(dm_field im 10)" = verify=done ]'
}

# ---- the steps

# io R1 R2: 1 to 12 random operations.
step_io() {
	im-rand io "$DEV" "$2" $((1 + $1 % 12)) $((L * 512)) $((R * 512)) "$FUA" ||
		fail "im-rand io on $DEV"
}

# fault_table: a failing destination: dm-flakey error_writes (writes and
# flushes fail). Not the error target: a device without a write cache gets
# no flush, the block layer completes it at once, so the target would be
# told that writes the destination then loses were flushed (a lying
# destination, like drop_writes: no claim holds).
fault_table() {
	echo "0 $S flakey /dev/mapper/dlw 0 0 3600 1 error_writes"
}

# dest_error_seen ERRORS_BEFORE RANDOM: wait until the target counted a
# destination error more than that; a write of 4 KiB (at a block drawn from
# RANDOM) makes sure there is one.
dest_error_seen() {
	_E0=$1
	/usr/bin/dd if=/dev/urandom of="$DEV" bs=4096 count=1 seek=$(($2 % (L / 8))) \
		oflag=direct conv=notrunc 2>/tmp/dd.err || fail "write to $DEV: $(cat /tmp/dd.err)"
	wait_cond 30 "a destination error" '[ "$(dm_field im 4)" -gt "$_E0" ]'
}

do_step() {
	_k=$1 _a=$2 _b=$3 _c=$4
	_t=$(((L + R - 1) / R))
	case $_k in
	io)
		step_io "$_a" "$_b" ;;
	set_dirty)
		_x=$((_a % _t)) _y=$((_a % _t + _b % 4))
		[ $_y -lt "$_t" ] || _y=$((_t - 1))
		_z=$((_c % _t))
		if [ $(((_c >> 4) % 2)) = 1 ]; then
			# The user changes the source behind the target (as before
			# an incremental start) and marks what changed: until the
			# mark, no claim holds for those regions.
			DROPPING=1
			seg_mark none
			/usr/bin/dd if=/dev/urandom of=/dev/mapper/srcs bs=512 seek=$((_x * R + _b % R)) \
				count=$((1 + _c % 64)) oflag=direct conv=notrunc 2>/tmp/dd.err ||
				fail "write behind the target: $(cat /tmp/dd.err)"
			[ $((_x * R + _b % R + 1 + _c % 64)) -le $(((_y + 1) * R)) ] || _y=$((_y + 1))
			[ $_y -lt "$_t" ] || _y=$((_t - 1))
		fi
		if [ $((_c % 3)) = 0 ]; then
			dm_msg im set_dirty "$_x-$_y" $_z
		else
			dm_msg im set_dirty "$_x-$_y"
		fi
		if [ "$DROPPING" = 1 ]; then
			DROPPING=0
			seg_mark
		fi ;;
	pause) dm_msg im pause ;;
	start) dm_msg im start ;;
	suspend)
		run dmsetup suspend im
		check_live "suspended"
		run dmsetup resume im ;;
	verify)
		_vs=$(dm_field im 10)
		if [ "$_vs" != verify=running ] && [ "$(dm_field im 1)" != degraded ]; then
			_rep=
			[ $((_a % 2)) = 1 ] && _rep=repair
			_m0=$(dm_field im 12)
			if [ $((_c % 3)) = 0 ]; then
				_x=$((_c % _t))
				dm_msg im verify $_rep $_x $((_t - _x))
			else
				dm_msg im verify $_rep
			fi
			# writes, discards, write-zeroes while it compares
			step_io "$_b" "$_c"
			wait_verify_done
			_mm=$(dm_field im 12)
			NVERIFY=$((NVERIFY + 1))
			[ "$_mm" = 0 ] || {
				echo "VIOLATION step $STEP: verify $_rep reported $_mm mismatches in regions in sync ($(dmsetup status im))"
				fail "step $STEP: verify found in-sync regions that differ (before: $_m0)"
			}
		fi ;;
	rate)
		case $((_a % 4)) in
		0) RATE=0 ;; 1) RATE=1024 ;; 2) RATE=4096 ;; 3) RATE=16384 ;;
		esac
		dm_msg im max_copy_rate $RATE ;;
	wait_synced)
		case $(dm_field im 1) in
		loading | paused | degraded) dm_msg im start ;;
		esac
		wait_state im synced 60
		: >/tmp/rc.empty
		im-rand cmp /dev/mapper/srcs /dev/mapper/dsts $((L * 512)) $((R * 512)) /tmp/rc.empty \
			>/tmp/rc.cmp 2>&1 || {
			echo "VIOLATION step $STEP: synced but $(grep DIFF /tmp/rc.cmp | tr '\n' ' ')"
			fail "step $STEP: synced, legs differ"
		} ;;
	reload_len)
		# by less than a region or by more, up or down
		if [ $((_a % 2)) = 0 ]; then _d=$((1 + _b % (R - 1))); else _d=$((R + _b % (3 * R))); fi
		if [ $((_c % 2)) = 0 ] && [ $((L + _d)) -le $S ]; then _nl=$((L + _d)); else _nl=$((L - _d)); fi
		[ $_nl -ge $((4 * R)) ] || _nl=$((L + _d))
		[ $_nl -le $S ] || _nl=$S
		_ms=$MS
		[ "$MS" = 0 ] || _ms=$(other_slice)
		info "reload: length $L -> $_nl sectors, metadata slice $MS -> $_ms"
		reload "$_ms" "$_nl" "$R" ;;
	reload_region)
		case $(((R / 64 + _a % 2) % 3)) in
		0) _nr=64 ;; 1) _nr=128 ;; *) _nr=256 ;;
		esac
		[ $_nr != "$R" ] || _nr=$((R == 64 ? 128 : 64))
		_ms=$MS
		[ "$MS" = 0 ] || _ms=$(other_slice)
		info "reload: region $R -> $_nr sectors, metadata slice $MS -> $_ms"
		reload "$_ms" "$L" "$_nr" ;;
	meta)
		if [ "$MS" = 0 ]; then
			_ms=$(other_slice)
		else
			case $((_a % 3)) in 0) _ms=0 ;; 1) _ms=$(other_slice) ;; *) _ms=$MS ;; esac
		fi
		info "reload: metadata slice $MS -> $_ms"
		reload "$_ms" "$L" "$R" ;;
	dst_error)
		_e0=$(dm_field im 4)
		dm_swap dstf "$(fault_table)"
		step_io "$_a" "$_b"
		dest_error_seen "$_e0" "$_c"
		check_live "destination failing"
		[ $((_c % 2)) = 0 ] || step_io "$_c" "$_b"
		# a reload while it fails: the hand-over's flush fails
		if [ $(((_c >> 8) % 3)) = 0 ]; then
			info "reload while the destination fails"
			reload "$MS" "$L" "$R"
		fi
		dm_swap dstf "0 $S linear /dev/mapper/dlw 0"
		dm_msg im start ;;
	dst_drop)
		DROPPING=1
		seg_mark none
		dm_swap dstf "0 $S flakey /dev/mapper/dlw 0 0 3600 1 drop_writes"
		step_io "$_a" "$_b"
		dm_swap dstf "0 $S linear /dev/mapper/dlw 0"
		# The documented repair: every region may have lost writes.
		dm_msg im set_dirty "0-$((_t - 1))"
		dm_msg im start
		DROPPING=0
		seg_mark ;;
	cache_loss)
		if [ "$FUA" = 1 ]; then
			info "FUA writes in this sequence: no cache loss (see FUA above)"
			return 0
		fi
		_e0=$(dm_field im 4)
		dm_swap dstf "$(fault_table)"
		[ $((_a % 2)) = 0 ] || step_io "$_a" "$_b"
		dest_error_seen "$_e0" "$_c"
		check_live "destination down"
		# The destination comes back as its log replayed to its last
		# flush: what a power cut of its volatile cache leaves.
		dm_swap dstf "0 $S error"
		run dmsetup remove dlw
		lw-replay points "$L2DEV" >/tmp/rc.p2 || fail "lw-replay points $L2DEV"
		_p=$(awk '$2 ~ /flush/ { p = $1 } END { print p }' /tmp/rc.p2)
		cp /tmp/rc.dbase /tmp/rc.dnew || fail "cp"
		[ -z "$_p" ] || lw-replay replay "$L2DEV" /tmp/rc.dnew --to $((_p + 1)) ||
			fail "lw-replay replay $L2DEV --to $((_p + 1))"
		# A FUA write is durable on its own, also after the last flush
		# (the target rightly does not count it as unflushed).
		for _i in $(awk -v p="${_p:--1}" '$1 > p && $2 ~ /fua/ { print $1 }' /tmp/rc.p2); do
			lw-replay replay "$L2DEV" /tmp/rc.dnew --from "$_i" --to $((_i + 1)) ||
				fail "lw-replay replay $L2DEV --from $_i"
		done
		_w=$(im-rand copydiff /tmp/rc.dnew /dev/mapper/dsts $((S * 512))) || fail "im-rand copydiff"
		info "cache loss: replayed to entry ${_p:-none} (the last flush) and the FUA writes after it, of $(wc -l </tmp/rc.p2) points; $_w chunks of 64 KiB lost"
		mv /tmp/rc.dnew /tmp/rc.dbase || fail "mv"
		log2_new
		dm_create dlw "0 $S log-writes /dev/mapper/dsts $L2DEV" >/dev/null
		dm_swap dstf "0 $S linear /dev/mapper/dlw 0"
		dm_msg im start ;;
	crash)
		if [ "$FUA" = 1 ]; then
			info "FUA writes in this sequence: no crash (see FUA above)"
			return 0
		fi
		# Power cut now: the state at the last flush/FUA point of lw.
		CRN=$((CRN + 1))
		epoch_end "c$CRN"
		_p=$(awk -v m="c$CRN" '$2 == "mark" && $3 == m { exit } $2 != "mark" { p = $1 } END { print p }' /tmp/rc.points)
		cp /tmp/rc.base /tmp/rc.crash || fail "cp"
		[ -z "$_p" ] || lw-replay replay $LOG1 /tmp/rc.crash --to $((_p + 1)) ||
			fail "lw-replay replay $LOG1 --to $((_p + 1))"
		info "crash at entry ${_p:-none}; loading the same table again"
		# Without metadata nothing says what differs: a full copy.
		[ "$MS" != 0 ] || INC=0 ZD=0
		epoch_start /tmp/rc.crash
		check_live "loaded after the crash" ;;
	*) fail "unknown step '$_k'" ;;
	esac
}

# ---- the sequences

t0=$(date +%s)
info "seed $SEED, $SEQUENCES sequences of $STEPS steps (replay: INCMIRROR_SEED=$SEED)"
q=0
while [ $q -lt "$SEQUENCES" ]; do
	QSEED=$((SEED + q))
	q=$((q + 1))
	im-rand steps "$QSEED" "$STEPS" >/tmp/rc.steps || fail "im-rand steps"
	# shellcheck disable=SC2046
	set -- $(sed -n 1p /tmp/rc.steps)
	case $(($2 % 3)) in 0) R=64 ;; 1) R=128 ;; *) R=256 ;; esac
	L=$((S - $3 % (2 * R)))
	MS=$(($4 % 3))
	INC=$((($4 >> 4) % 2))
	ETH=$((1 + ($3 >> 8) % 8))
	DEPTH=$((1 + ($3 >> 12) % 16))
	RATE=0 DROPPING=0 SEGN=0 CRN=0
	# FUA: a third of the sequences write with FUA. dm-log-writes logs a
	# FUA write when it completes but a plain write only at the next
	# flush, so a FUA write over an unflushed write or copy (same
	# sectors) replays before it: the replay holds stale data the legs
	# never held. Those sequences check the live claims only (no power-cut
	# claim, no cache loss, no crash: each replays a log).
	FUA=$(((($3 >> 20) % 3 == 0) ? 1 : 0))
	info "sequence $q seed $QSEED: length $L, region $R, metadata slice $MS, incremental $INC, error_threshold $ETH, copy_depth $DEPTH, FUA writes $FUA"
	sed -n '2,$p' /tmp/rc.steps | awk '{ printf "#   %d: %s %s %s %s\n", NR, $1, $2, $3, $4 }'

	# The source random, the destination an old copy of it: with
	# incremental, 1 to 8 regions changed since and marked.
	dd_ if=/dev/urandom of=/tmp/rc.img bs=64k count=$((S / 128))
	dd_ if=/tmp/rc.img of=/tmp/rc.img bs=64k count=$((S / 128)) seek=$((S / 128)) conv=notrunc
	dd_ if=/dev/zero of=/tmp/rc.img bs=512 count=$((2 * M)) seek=$((2 * S)) conv=notrunc
	# Beyond the target's end the legs differ: a reload that grows it
	# must copy what it adds.
	[ "$L" = $S ] || dd_ if=/dev/urandom of=/tmp/rc.img bs=512 count=$((S - L)) seek=$((S + L)) conv=notrunc
	# A full mirror onto a zeroed destination, half of the time with
	# dest_zeroed.
	ZD=0
	if [ "$INC" = 0 ] && [ $((($4 >> 12) % 2)) = 1 ]; then
		dd_ if=/dev/zero of=/tmp/rc.img bs=512 count=$S seek=$S conv=notrunc
		ZD=$((($4 >> 13) % 2))
	fi
	CH=
	if [ "$INC" = 1 ]; then
		i=0
		while [ $i -le $(($4 % 8)) ]; do
			r=$(((($4 >> 8) + i * 37) % ((L + R - 1) / R)))
			dd_ if=/dev/urandom of=/tmp/rc.img bs=512 count=8 seek=$((r * R)) conv=notrunc
			CH="$CH $r"
			i=$((i + 1))
		done
	fi
	info "zeroed destination $((($4 >> 12) % 2 * (1 - INC))), dest_zeroed $ZD"
	STEP=0
	epoch_start /tmp/rc.img "$CH"
	check_live "created"
	STEP=1
	while read -r k a b c; do
		read -r up _rest </proc/uptime
		# shellcheck disable=SC2086
		set -- $LAST_ST
		info "step $STEP: $k $a $b $c ($4 $5 $6 $7 $8 $9; $up s)"
		do_step "$k" "$a" "$b" "$c" </dev/null
		check_live "after $k"
		NSTEPS=$((NSTEPS + 1))
		STEP=$((STEP + 1))
	done <<EOF
$(sed -n '2,$p' /tmp/rc.steps)
EOF
	epoch_end end
	NSEQ=$((NSEQ + 1))
	info "sequence $q seed $QSEED done"
done
info "$NSEQ sequences, $NSTEPS steps, seed $SEED; claims checked: $NLIVE live-leg checks over $NREGIONS in-sync regions, $NVERIFY verify results, $NPOINTS power-cut points in $NPCHECKS segments; $(($(date +%s) - t0)) s"
