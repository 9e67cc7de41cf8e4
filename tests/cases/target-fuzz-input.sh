#!/bin/sh
# DESCRIPTION: hostile-input fuzzer: random and mutated table lines (create, reload), messages and metadata images are refused leaving nothing changed, or accepted exactly as a model predicts; no input allocates memory in proportion to a number typed
# CHECK-KERNEL: full (only in make check-full, on both kernels: make check's 15 minutes)
# TIMEOUT: 300
#
# Deterministic from a seed (printed). `make check` uses the defaults below;
# an extended run passes INPUTS and SEED:
#   tests/vm/run --kernel 6.12 tests/cases/target-fuzz-input.sh 4000 7
# Inside a guest, FUZZ_INPUTS / FUZZ_SEED from the environment, or from a
# file given with `tests/vm/run --add PATH/fuzz.env` (sh assignments), are
# used when no argument is given. The generator and its oracles are in
# tests/fuzz-target/gen.awk; see "Hostile-input fuzzer" in tests/README.md.
. "$INCMIRROR_TESTS/lib/guest.sh"

[ -f /mnt/add/fuzz.env ] && . /mnt/add/fuzz.env
INPUTS=${1:-${FUZZ_INPUTS:-240}}
SEED=${2:-${FUZZ_SEED:-1}}
case $INPUTS$SEED in *[!0-9]*) fail "INPUTS ('$INPUTS') and SEED ('$SEED') must be numbers" ;; esac
[ "$INPUTS" -ge 20 ] || fail "INPUTS must be at least 20"
GEN=$INCMIRROR_TESTS/fuzz-target/gen.awk
# The growth of SUnreclaim and VmallocUsed allowed over the whole run.
MEM_BOUND_KB=4096
# A KASAN kernel (make check-debug) keeps freed objects in a quarantine that
# counts as unreclaimable slab: there kmemleak's scan at the end of the run
# is the leak check, and this bound only catches allocations of the size of
# a typed number.
[ -e /sys/kernel/debug/kasan ] || grep -q ' kasan_report$' /proc/kallsyms 2>/dev/null &&
	MEM_BOUND_KB=32768
info "seed $SEED, $INPUTS inputs (rerun: tests/vm/run --kernel K tests/cases/target-fuzz-input.sh $INPUTS $SEED)"

NT=$((INPUTS * 30 / 100))
NRL=$((INPUTS * 15 / 100))
NM=$((INPUTS * 40 / 100))
NI=$((INPUTS - NT - NRL - NM))

W=/tmp/fuzz-input.$$
rm -rf "$W"
mkdir -p "$W/img" || fail "mkdir $W"
KLOG=$W/kmsg
: >"$KLOG"
DEVKMSG=$(cat /proc/sys/kernel/printk_devkmsg 2>/dev/null)
# Our markers in the kernel log name the input that ran before a report.
echo on >/proc/sys/kernel/printk_devkmsg 2>/dev/null
finish() {
	cleanup_devices
	[ -n "$DEVKMSG" ] && echo "$DEVKMSG" >/proc/sys/kernel/printk_devkmsg 2>/dev/null
	rm -rf "$W"
}
trap finish EXIT

KBAD="$(cat "$INCMIRROR_TESTS/vm/kernel-bad.re")|page allocation failure|vmalloc error|vmalloc: allocation failure|Out of memory"
FINDINGS=0

# finding TEXT: an input the target handled wrongly. Reported, counted; the
# case fails at the end (at once after 20).
# ran WHAT GOT WANT: the loop over WHAT ran every input the generator made.
ran() {
	[ "$2" = "$3" ] || fail "$1: $2 inputs run, $3 generated (a loop that stops early checks nothing)"
}

# lines FILE N: the generator wrote N lines into FILE (an input holding a
# newline would be split into two).
lines() {
	_ln=$(wc -l <"$1") || fail "wc -l $1"
	[ "$_ln" -eq "$2" ] || fail "$1 has $_ln lines, expected $2"
}

finding() {
	FINDINGS=$((FINDINGS + 1))
	echo "FINDING $FINDINGS: $*" >&2
	dmesg | tail -n 4 | sed 's/^/    dmesg: /' >&2
	[ "$FINDINGS" -ge 20 ] && fail "20 findings, stopping"
	return 0
}

mark() { echo "fuzz-input: $*" >/dev/kmsg 2>/dev/null; }

# check_kmsg: move the kernel log to $KLOG and fail on a warning, a crash or
# an allocation failure, naming the last input that ran before it.
check_kmsg() {
	dmesg -c >>"$KLOG"
	_k_bad=$(grep -nE "$KBAD" "$KLOG" | head -n 3)
	[ -z "$_k_bad" ] && return 0
	_k_n=$(echo "$_k_bad" | head -n 1 | cut -d: -f1)
	_k_last=$(head -n "$_k_n" "$KLOG" | grep 'fuzz-input:' | tail -n 1)
	sed -n "$((_k_n > 20 ? _k_n - 20 : 1)),$((_k_n + 40))p" "$KLOG" >&2
	fail "kernel log after input '${_k_last#*fuzz-input: }': $(echo "$_k_bad" | head -n 1 | cut -d: -f2-)"
}

# parse_status LINE: the fields of one incmirror status line into S_*;
# fails unless it is well formed and consistent.
parse_status() {
	set -f
	# shellcheck disable=SC2086
	set -- $1
	set +f
	[ $# -eq 16 ] && [ "$3" = incmirror ] || return 1
	S_LEN=$2 S_STATE=$4 S_IN=${5%/*} S_TOTAL=${5#*/} S_RS=$6 S_RATE=${10} S_MD=${12#metadata=}
	case "${13} ${14} ${15} ${16}" in "verify=idle 0 0 zeroed="[0-9]*) ;; *) return 1 ;; esac
	case $S_STATE in loading | copying | paused | synced | degraded) ;; *) return 1 ;; esac
	case "$S_IN/$S_TOTAL/$S_RS/$S_LEN/$7/$8/$9/$S_RATE/${11}" in *[!0-9/]* | *//*) return 1 ;; esac
	[ "$S_RS" -gt 0 ] && [ "$S_IN" -le "$S_TOTAL" ] &&
		[ "$S_TOTAL" -eq $(((S_LEN + S_RS - 1) / S_RS)) ] || return 1
	case $S_MD in none | ok | failed) ;; *) return 1 ;; esac
	return 0
}

# get_map NAME N: the whole map as get_dirty_hex prints it into GM,
# following next= (no $(...) around it: one fork less per input).
get_map() {
	_m_f=0
	GM=
	while :; do
		_m_o=$(dmsetup message "$1" 0 get_dirty_hex "$_m_f" $(($2 - _m_f))) || return 1
		case $_m_o in
		*next=*)
			GM=$GM${_m_o%% next=*}
			_m_f=${_m_o##*next=}
			;;
		*)
			GM=$GM$_m_o
			return 0
			;;
		esac
	done
}

mem() { # mem PREFIX: MemAvailable, Slab, SUnreclaim, VmallocUsed (KiB)
	eval "$(awk -v p="$1" '$1 == "MemAvailable:" { print p "MA=" $2 }
		$1 == "Slab:" { print p "SL=" $2 } $1 == "SUnreclaim:" { print p "SU=" $2 }
		$1 == "VmallocUsed:" { print p "VM=" $2 }' /proc/meminfo)"
}

# ---- devices ------------------------------------------------------------
# ram0/ram1: source/destination of `good` and `good2`; ram4/ram5: free legs
# for `fz`; ram2: metadata slices; ram3: a 1 MiB device. Pages are only
# allocated when written.
ram_devices 6 136
SZ=$(dev_sectors /dev/ram0)
run dmsetup create small --table "0 2048 linear /dev/ram3 0"
run dmsetup create meta --table "0 64 linear /dev/ram2 0"
run dmsetup create metaz --table "0 2048 linear /dev/ram2 2048"
run dmsetup create tinym --table "0 8 linear /dev/ram2 4096"
dmsetup mknodes >/dev/null 2>&1
case $((SEED % 3)) in
0) GLEN=16360 GRS=16 ;;
1) GLEN=12345 GRS=8 ;;
*) GLEN=40960 GRS=64 ;;
esac
N=$(((GLEN + GRS - 1) / GRS))
GTABLE="0 $GLEN incmirror /dev/ram0 /dev/ram1 $GRS 3 incremental metadata /dev/mapper/meta"
# The metadata table: 33768 regions, two bitmap blocks.
N2=33768
L2=$((N2 * 8))
T2="0 $L2 incmirror /dev/ram0 /dev/ram1 8 3 incremental metadata /dev/mapper/meta"

make_good() { # a fresh `good` (zeroed metadata, all clean, loading)
	dmsetup remove good >/dev/null 2>&1
	zero_dev /dev/mapper/meta 8
	run dmsetup create good --table "$GTABLE"
}
make_good
info "good: $N regions of $GRS sectors; fz legs $SZ sectors"
# What one dmsetup call costs here (the run makes about 3.5 per input).
t0=$(uptime_ms)
for i in 1 2 3 4 5 6 7 8 9 10; do dmsetup version >/dev/null 2>&1; done
info "one dmsetup call: $((($(uptime_ms) - t0) / 10)) ms"
mem B_
T_ALL=$(uptime_ms)

# ---- 1. table lines: dmsetup create ------------------------------------
t0=$(uptime_ms)
awk -f "$GEN" -v mode=create -v seed="$SEED" -v n="$NT" -v sz="$SZ" -v small=2048 \
	-v glen="$GLEN" -v grs="$GRS" -v inf="$W/c.in" -v expf="$W/c.exp" ||
	fail "generator (create) failed"
lines "$W/c.in" "$NT"
lines "$W/c.exp" "$NT"
nc=0 nc_ok=0
while IFS= read -r line <&3; do
	IFS='|' read -r ex e1 e2 e3 e4 e5 e6 <&4
	nc=$((nc + 1))
	mark "create $nc"
	[ "$e6" = z ] && zero_dev /dev/mapper/metaz 8
	if dmsetup create fz --table "$line" >"$W/out" 2>&1; then
		nc_ok=$((nc_ok + 1))
		[ "$ex" = bad ] && finding "create #$nc: a table with a defect ($e1) was accepted: '$line'"
		st=$(dmsetup status fz 2>&1)
		if ! parse_status "$st"; then
			finding "create #$nc: status of the accepted table '$line' is malformed: '$st'"
		elif [ "$ex" = ok ]; then
			okst=0
			case $e3 in
			loading) [ "$S_STATE" = loading ] && [ "$S_IN" = "$S_TOTAL" ] && okst=1 ;;
			*) case $S_STATE in copying | synced) okst=1 ;; esac ;;
			esac
			[ "$okst" = 1 ] && [ "$S_TOTAL" = "$e1" ] && [ "$S_RS" = "$e2" ] &&
				[ "$S_RATE" = "$e4" ] && [ "$S_MD" = "$e5" ] ||
				finding "create #$nc: '$line' gave status '$st', expected $e1 regions of $e2, $e3, rate $e4, metadata=$e5"
		fi
		dmsetup remove fz >"$W/out" 2>&1 ||
			finding "create #$nc: removing the device of '$line' failed: $(cat "$W/out")"
	elif [ "$ex" = ok ]; then
		finding "create #$nc: a valid table was refused: '$line': $(tail -n 2 "$W/out" | tr '\n' ' ')"
	fi
	if dmsetup info fz >/dev/null 2>&1; then
		finding "create #$nc: device fz left behind by '$line'"
		dmsetup remove fz >/dev/null 2>&1
	fi
	[ $((nc % 25)) -eq 0 ] && check_kmsg
done 3<"$W/c.in" 4<"$W/c.exp"
ran create "$nc" "$NT"
check_kmsg
info "create: $nc table lines, $nc_ok accepted, $(($(uptime_ms) - t0)) ms"

# ---- 1b. table lines: dmsetup reload of the live `good` ------------------
t0=$(uptime_ms)
make_good
awk -f "$GEN" -v mode=reload -v seed="$SEED" -v n="$NRL" -v sz="$SZ" -v small=2048 \
	-v glen="$GLEN" -v grs="$GRS" -v inf="$W/r.in" -v expf="$W/r.exp" ||
	fail "generator (reload) failed"
lines "$W/r.in" "$NRL"
lines "$W/r.exp" "$NRL"
baseline() {
	I0=$(dmsetup info good) && T0=$(dmsetup table good) && S0=$(dmsetup status good) ||
		fail "cannot read the state of good"
}
baseline
nrl=0 nrl_ok=0 nrl_inactive=0
while IFS= read -r line <&3; do
	IFS='|' read -r ex e1 e2 e3 e4 e5 e6 <&4
	nrl=$((nrl + 1))
	mark "reload $nrl"
	[ "$e6" = z ] && zero_dev /dev/mapper/metaz 8
	if dmsetup reload good --table "$line" >"$W/out" 2>&1; then
		acc=1
		nrl_ok=$((nrl_ok + 1))
		[ "$ex" = bad ] && finding "reload #$nrl: a table with a defect ($e1) was accepted: '$line'"
		dmsetup clear good >"$W/out" 2>&1 ||
			finding "reload #$nrl: clear after the accepted '$line' failed: $(cat "$W/out")"
	else
		acc=0
		[ "$ex" = ok ] &&
			finding "reload #$nrl: a valid table was refused: '$line': $(tail -n 2 "$W/out" | tr '\n' ' ')"
	fi
	i1=$(dmsetup info good)
	case $i1 in
	*INACTIVE*)
		[ "$acc" = 0 ] && {
			nrl_inactive=$((nrl_inactive + 1))
			finding "reload #$nrl: the refused '$line' left an inactive table"
		}
		dmsetup clear good >/dev/null 2>&1
		i1=$(dmsetup info good)
		;;
	esac
	t1=$(dmsetup table good)
	s1=$(dmsetup status good)
	if [ "$i1" != "$I0" ] || [ "$t1" != "$T0" ] || [ "$s1" != "$S0" ]; then
		what="refused"
		[ "$acc" = 1 ] && what="accepted and cleared"
		# An accepted line naming good itself may write to it (metadata
		# formatted through it): only a note. Anything else is wrong.
		if [ "$acc" = 1 ] && [ "$ex" = any ] && case $line in *good*) true ;; *) false ;; esac; then
			info "reload: '$line' ($what) wrote through good: '$S0' -> '$s1'"
		else
			finding "reload #$nrl: the $what '$line' changed good: table '$T0' -> '$t1', status '$S0' -> '$s1', info '$(echo "$I0" | tr '\n' ' ')' -> '$(echo "$i1" | tr '\n' ' ')'"
		fi
		baseline
	fi
	[ $((nrl % 25)) -eq 0 ] && check_kmsg
done 3<"$W/r.in" 4<"$W/r.exp"
ran reload "$nrl" "$NRL"
check_kmsg
info "reload: $nrl table lines, $nrl_ok accepted, $(($(uptime_ms) - t0)) ms"

# ---- 2. messages to the live `good` (loading, never started) -------------
t0=$(uptime_ms)
make_good
awk -f "$GEN" -v mode=message -v seed="$SEED" -v n="$NM" -v nr="$N" \
	-v inf="$W/m.in" -v expf="$W/m.exp" || fail "generator (message) failed"
nm=0 nm_ok=0 nresets=0
while IFS= read -r line <&3; do
	IFS='|' read -r acc kind map dirty rate out <&4
	case $line in
	Rkeep | Rzero)
		# Recreate good: the map comes back from its metadata (Rkeep) or
		# starts clean (Rzero); the rate is the table's again.
		nresets=$((nresets + 1))
		mark "message reset $line"
		run dmsetup remove good
		[ "$line" = Rzero ] && zero_dev /dev/mapper/meta 8
		run dmsetup create good --table "$GTABLE"
		what="recreate ($line)"
		;;
	*)
		msg=${line#M}
		nm=$((nm + 1))
		mark "message $nm"
		what="message '$msg'"
		got=$(dmsetup message -- good 0 "$msg" 2>"$W/err")
		rc=$?
		if [ "$rc" = 0 ]; then
			nm_ok=$((nm_ok + 1))
			if [ "$acc" != 1 ]; then
				finding "message #$nm: accepted, the model refuses it: '$msg' (output '$got')"
				fail "the model of the map no longer holds: stopping"
			fi
			[ "$got" = "$out" ] || {
				finding "message #$nm: '$msg' returned '$got', expected '$out'"
				fail "stopping at a wrong message result"
			}
		else
			if [ "$acc" = 1 ]; then
				finding "message #$nm: refused, the model accepts it: '$msg': $(cat "$W/err")"
				fail "the model of the map no longer holds: stopping"
			fi
			grep -q "Invalid argument" "$W/err" ||
				finding "message #$nm: '$msg' refused, but not with EINVAL: $(cat "$W/err")"
		fi
		;;
	esac
	get_map good "$N" || fail "get_dirty_hex on good refused after $what"
	gm=$GM
	st=$(dmsetup status good)
	want="0 $GLEN incmirror loading $((N - dirty))/$N $GRS 0 0 0 $rate 0 metadata=ok verify=idle 0 0 zeroed=0"
	if [ "$gm" != "$map" ] || [ "$st" != "$want" ]; then
		[ "$gm" != "$map" ] && echo "map:      $gm" >&2 && echo "expected: $map" >&2
		finding "message #$nm: after $what (accepted: $acc) status '$st', expected '$want'"
		fail "the map or the status differ from the model: stopping"
	fi
	[ $((nm % 25)) -eq 0 ] && check_kmsg
done 3<"$W/m.in" 4<"$W/m.exp"
ran message "$nm" "$NM"
# Besides the NM messages, m.in holds the recreations (Rkeep, Rzero).
lines "$W/m.in" $((NM + nresets))
lines "$W/m.exp" $((NM + nresets))
check_kmsg
info "messages: $nm messages, $nm_ok accepted, $nresets recreations, $(($(uptime_ms) - t0)) ms"
run dmsetup remove good

# ---- 3. metadata images --------------------------------------------------
t0=$(uptime_ms)
zero_dev /dev/mapper/meta 8
run dmsetup create good2 --table "$T2"
run dmsetup remove good2
NB2=$((4096 * (1 + (N2 + 32767) / 32768)))
dd if=/dev/mapper/meta of="$W/md.good" bs=4096 count=$((NB2 / 4096)) iflag=direct 2>/dev/null ||
	fail "cannot read the formatted metadata"
od -An -tu1 -v "$W/md.good" >"$W/md.txt" || fail "od"
# The kernel's superblock CRC is zlib's crc32 (gzip's trailer) of the first
# 512 bytes with the csum zeroed; gen.awk checks its own CRC against it too.
head -c 512 "$W/md.good" >"$W/sb"
printf '\000\000\000\000' | dd of="$W/sb" bs=1 seek=4 conv=notrunc 2>/dev/null
head -c 512 "$W/sb" | gzip -c | tail -c 8 | head -c 4 >"$W/crc"
dd if="$W/md.good" bs=1 skip=4 count=4 2>/dev/null | cmp -s - "$W/crc" ||
	fail "gzip's CRC-32 of the superblock differs from the kernel's csum"
awk -f "$GEN" -v mode=image -v seed="$SEED" -v n="$NI" -v nr="$N2" -v img="$W/md.txt" \
	-v dir="$W/img" -v expf="$W/i.exp" || fail "generator (image) failed"
lines "$W/i.exp" "$NI"
ni=0 ni_ok=0
while IFS='|' read -r k acc reason state dirty desc <&4; do
	ni=$((ni + 1))
	printf "$(cat "$W/img/$k.oct")" >"$W/cur.img"
	dd if="$W/cur.img" of=/dev/mapper/meta bs=4096 oflag=direct conv=notrunc 2>/dev/null ||
		fail "cannot write image $k"
	mark "image $k"
	if dmsetup create good2 --table "$T2" >"$W/out" 2>&1; then created=1; else created=0; fi
	klog=$(dmesg -c)
	printf '%s\n' "$klog" >>"$KLOG"
	if [ "$created" = 1 ]; then
		ni_ok=$((ni_ok + 1))
		[ "$acc" = 0 ] && finding "image $k ($desc): accepted, expected '$reason'"
		st=$(dmsetup status good2 2>&1)
		if ! parse_status "$st" || [ "$S_TOTAL" != "$N2" ] || [ "$S_MD" != ok ]; then
			finding "image $k ($desc): status '$st'"
		elif [ "$acc" = 1 ]; then
			if [ "$state" = loading ]; then
				[ "$S_STATE" = loading ] && [ "$S_IN" -eq $((N2 - dirty)) ] ||
					finding "image $k ($desc): status '$st', expected loading with $dirty dirty"
				get_map good2 "$N2" || finding "image $k: get_dirty_hex refused"
				gm=$GM
				wm=$(cat "$W/img/$k.map")
				[ "$gm" = "$wm" ] ||
					finding "image $k ($desc): the map differs from the image's bitmap"
			else
				case $S_STATE in copying | synced) ;; *) false ;; esac &&
					[ "$S_IN" -ge $((N2 - dirty)) ] ||
					finding "image $k ($desc): status '$st', expected copying with at most $dirty dirty"
			fi
		fi
		case $klog in
		*"superblock unusable"* | *"cannot read the metadata"*)
			finding "image $k ($desc): metadata failed at resume: $klog" ;;
		esac
		dmsetup remove good2 >"$W/out" 2>&1 ||
			finding "image $k ($desc): remove failed: $(cat "$W/out")"
	else
		[ "$acc" = 1 ] &&
			finding "image $k ($desc): refused, expected to load: $(echo "$klog" | grep incmirror | tail -n 1)"
		case $klog in
		*"incmirror: $reason"*) ;;
		*) [ "$acc" = 0 ] &&
			finding "image $k ($desc): refused without 'incmirror: $reason' in the kernel log: $(echo "$klog" | grep -v fuzz-input | tail -n 2 | tr '\n' ' ')" ;;
		esac
		if dmsetup info good2 >/dev/null 2>&1; then
			finding "image $k ($desc): device good2 left behind"
			dmsetup remove good2 >/dev/null 2>&1
		fi
	fi
	[ $((ni % 10)) -eq 0 ] && check_kmsg
done 4<"$W/i.exp"
ran image "$ni" "$NI"
check_kmsg
info "images: $ni metadata images, $ni_ok accepted, $(($(uptime_ms) - t0)) ms"

# ---- 4. memory -----------------------------------------------------------
sync
echo 3 >/proc/sys/vm/drop_caches
mem A_
info "memory after - before (KiB): MemAvailable $((A_MA - B_MA)), Slab $((A_SL - B_SL)), SUnreclaim $((A_SU - B_SU)), VmallocUsed $((A_VM - B_VM)) (bound $MEM_BOUND_KB for SUnreclaim and VmallocUsed)"
[ $((A_SU - B_SU)) -lt "$MEM_BOUND_KB" ] ||
	finding "SUnreclaim grew by $((A_SU - B_SU)) KiB over the run"
[ $((A_VM - B_VM)) -lt "$MEM_BOUND_KB" ] ||
	finding "VmallocUsed grew by $((A_VM - B_VM)) KiB over the run"

ran "all parts" $((nc + nrl + nm + ni)) "$INPUTS"
info "inputs: $nc table lines ($nc_ok valid), $nrl reloads ($nrl_ok valid), $nm messages ($nm_ok valid), $ni metadata images ($ni_ok valid); seed $SEED; $(($(uptime_ms) - T_ALL)) ms"
[ "$FINDINGS" = 0 ] || fail "$FINDINGS finding(s), see FINDING lines above (seed $SEED)"
exit 0
