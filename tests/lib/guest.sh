# Helpers for guest test cases. Source it: . "$INCMIRROR_TESTS/lib/guest.sh"
# Every helper fails the case (exit 1) with a message on stderr when a step
# it relies on fails; cases stay short and still assert every step.

set -u

fail() {
	echo "FAIL: $*" >&2
	# In a subshell ($(...), a pipeline, ( ... ) &) exit ends only that
	# subshell: tell the case's shell too (its USR1 trap, below, fails the
	# case). /proc/self is opened by the shell itself: its pid is the
	# subshell's, $$ the case's.
	read -r _f_pid _f_rest </proc/self/stat 2>/dev/null
	[ "${_f_pid:-$$}" = "$$" ] || kill -USR1 "$$" 2>/dev/null
	exit 1
}
trap 'echo "FAIL: a helper failed in a subshell (its FAIL line is above)" >&2; exit 1' USR1

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

info() {
	echo "# $*"
}

# Stand-ins for three commands the cases run thousands of times (built in
# tests/tools, static). Under TCG one `dmsetup` run costs about 80 ms of
# guest CPU (loading its libraries) and GNU cmp compares about 4 MB/s, so the
# cases' status polls and whole-device compares were most of make check's
# guest time (tests/README.md, "Where the guest time goes"). Only the plain
# forms go to the stand-ins, which exit as the real command does and print
# the same status and table text (devcmp's "differ" line lacks cmp's
# ", line N"); every other use runs the real command. Cases that check
# dmsetup itself call
# `command dmsetup`.
# cmp [-s] A B: devcmp (O_DIRECT reads, memcmp).
cmp() {
	if [ $# -eq 2 ] && [ "$1" != - ] && [ "$2" != - ] && [ "${1#-}" = "$1" ]; then
		devcmp "$1" "$2"
		return
	fi
	if [ $# -eq 3 ] && [ "$1" = -s ] && [ "$2" != - ] && [ "$3" != - ]; then
		devcmp -s "$2" "$3"
		return
	fi
	command cmp "$@"
}
# dmsetup status|table NAME: dm-status (one ioctl).
dmsetup() {
	if [ $# -eq 2 ] && [ "${2#-}" = "$2" ] && [ "${2#*/}" = "$2" ]; then
		case $1 in
		status) dm-status "$2"; return ;;
		table) dm-status --table "$2"; return ;;
		esac
	fi
	command dmsetup "$@"
}

# run CMD...: run a command, fail the case if it fails.
run() {
	"$@" || fail "command failed ($?): $*"
}

# expect_fail CMD...: the command must fail.
expect_fail() {
	if "$@" >/tmp/.expect_fail.out 2>&1; then
		cat /tmp/.expect_fail.out >&2
		fail "command succeeded but should have failed: $*"
	fi
}

# ram_devices N SIZE_MIB: (re)load brd with N ramdisks /dev/ram0.. of SIZE_MIB.
# Pages are only allocated when written.
ram_devices() {
	dmsetup remove_all >/dev/null 2>&1
	# A loop device lets go of its backing ramdisk asynchronously after
	# `losetup -d`: wait (bounded) until brd can be unloaded.
	_tries=0
	while [ -d /sys/module/brd ] && ! rmmod brd 2>/dev/null; do
		_tries=$((_tries + 1))
		if [ "$_tries" -ge 100 ]; then
			ls -l /sys/block/ram*/holders/ >&2
			grep -h ram /proc/mounts /proc/swaps >&2
			fail "brd stays in use: cannot make fresh ramdisks"
		fi
		usleep 100000
	done
	modprobe brd rd_nr="$1" rd_size=$(($2 * 1024)) || fail "modprobe brd"
	i=0
	while [ "$i" -lt "$1" ]; do
		[ -b /dev/ram$i ] || mknod /dev/ram$i b 1 $i
		i=$((i + 1))
	done
}

# dev_sectors DEV: size in 512-byte sectors.
dev_sectors() {
	blockdev --getsz "$1" || fail "blockdev --getsz $1"
}

# dm_create NAME TABLE: create a device, make its node, print its path.
dm_create() {
	dmsetup create "$1" --table "$2" >&2 ||
		{ dmesg | tail -n 3 >&2; fail "dmsetup create $1 '$2'"; }
	dmsetup mknodes "$1" >/dev/null 2>&1
	echo "/dev/mapper/$1"
}

# dm_field NAME N: field N (1-based) of the first line of `dmsetup status`
# after the "<start> <len> <target>" prefix.
dm_field() {
	dm-status "$1" "$2" || true
}

# wait_state NAME STATE [SECONDS]: poll until the target's state is STATE.
# Polling with a deadline is a bounded wait for an observable condition,
# not a sleep that hides a race: the case fails if it is never reached.
# dm-status polls every 20 ms in one process.
wait_state() {
	dm-status --wait "$1" 1 "$2" "${3:-300}" 2>/dev/null && return 0
	fail "$1: state '$(dm_field "$1" 1)', waited ${3:-300}s for '$2' ($(dmsetup status "$1"))"
}

# fill DEV BYTE_HEX: fill the whole device with one byte value (e.g. 5a).
fill() {
	_sz=$(($(dev_sectors "$1") * 512))
	fillpat "$2" "$_sz" "$1" || fail "fill $1 with $2"
}

# drop_caches: forget clean cached pages. Reading a device such as /dev/ram1
# with buffered I/O caches its pages; a dm target above it then writes the
# device with bios, which does not update that cache, so a later buffered read
# would see stale data. Every compare below starts from the device itself.
# drop_caches [DEV...]: write back what is dirty (of the DEVs only, when
# given: a global sync would block while a filesystem sits on a suspended dm
# device), then drop clean cached pages.
drop_caches() {
	sync "$@"
	echo 3 >/proc/sys/vm/drop_caches
}

# dd_ ARGS...: dd that fails the case, with dd's message, when it fails.
dd_() {
	dd "$@" 2>/tmp/dd.err || fail "dd $*: $(cat /tmp/dd.err)"
}

# same DEV1 DEV2: the two devices must hold identical data.
same() {
	drop_caches "$1" "$2"
	cmp "$1" "$2" || fail "$1 and $2 differ"
}

# sha DEV [SKIP_SECTORS COUNT_SECTORS]: sha256 of a device or a part of it.
sha() {
	drop_caches "$1"
	# No pipefail in busybox sh: each step's status is checked on its own.
	if [ $# -eq 1 ]; then
		sha256sum "$1" >/tmp/.sha.out 2>/tmp/.sha.err ||
			fail "sha256sum of $1: $(cat /tmp/.sha.err)"
	else
		rm -f /tmp/.sha.rc
		{ dd if="$1" bs=512 skip="$2" count="$3" 2>/tmp/.sha.err ||
			echo $? >/tmp/.sha.rc; } | sha256sum >/tmp/.sha.out ||
			fail "sha256sum of $1 ($2 +$3 sectors)"
		[ ! -e /tmp/.sha.rc ] ||
			fail "dd of $1 ($2 +$3 sectors) failed: $(cat /tmp/.sha.err)"
	fi
	read -r _h_sum _h_rest </tmp/.sha.out
	case $_h_sum in
	????????????????????????????????????????????????????????????????) echo "$_h_sum" ;;
	*) fail "sha of $1: no sha256 printed ('$_h_sum')" ;;
	esac
}

cleanup_devices() {
	dmsetup remove_all >/dev/null 2>&1
	/usr/sbin/losetup -D >/dev/null 2>&1
}

# ---- helpers added for the dm-incmirror target cases ----

# dm_msg NAME ARGS...: send a message to sector 0 of NAME; fail the case if it
# is refused. The message result (if any) goes to stdout.
dm_msg() {
	_m_dev=$1
	shift
	dm-status --message "$_m_dev" 0 "$@" || fail "dmsetup message $_m_dev 0 $* refused"
}

# in_sync NAME / total_regions NAME: the two halves of status field 2.
in_sync() {
	dm_field "$1" 2 | cut -d/ -f1
}
total_regions() {
	dm_field "$1" 2 | cut -d/ -f2
}

# assert_eq GOT WANT WHAT: exact equality of two strings.
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# uptime_ms: monotonic milliseconds since boot (/proc/uptime has 10 ms steps).
uptime_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# meminfo_kb KEY: a /proc/meminfo value in KiB (e.g. MemFree, SUnreclaim).
meminfo_kb() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# dm_events NAME: the device's event counter (for `dmsetup wait NAME N`).
dm_events() {
	_e_n=$(dmsetup info -c --noheadings -o events "$1") ||
		fail "dmsetup info -o events $1"
	_e_n=$(echo $_e_n)
	case $_e_n in
	'' | *[!0-9]*) fail "dmsetup info -o events $1: '$_e_n' is no event counter" ;;
	esac
	echo "$_e_n"
}

# dm_sysname NAME: the kernel name (dm-N) of a dm device, for /sys/block.
dm_sysname() {
	echo "dm-$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')"
}

# get_dirty_all NAME [FIRST COUNT] > FILE: the target's dirty map in
# [FIRST, FIRST+COUNT) (default: all regions), one range per line, following
# `next=` pages. Checks that every page ends on a whole range and that next=
# advances past it. The number of pages goes to /tmp/.get_dirty_pages.
# Call it with stdout redirected to a file, not in $(...): a failure must end
# the case, not a subshell.
get_dirty_all() {
	_g_dev=$1
	_g_first=${2:-0}
	_g_end=$((_g_first + ${3:-$(total_regions "$1")}))
	_g_pages=0
	while :; do
		_g_out=$(dmsetup message "$_g_dev" 0 get_dirty "$_g_first" $((_g_end - _g_first))) ||
			fail "get_dirty $_g_first $((_g_end - _g_first)) on $_g_dev refused"
		_g_pages=$((_g_pages + 1))
		_g_next=
		_g_last=$((_g_first - 1))
		for _g_t in $_g_out; do
			[ -n "$_g_next" ] && fail "get_dirty: token '$_g_t' after next=$_g_next"
			case $_g_t in
			next=*)
				_g_next=${_g_t#next=}
				;;
			*-*)
				_g_a=${_g_t%-*}
				_g_b=${_g_t#*-}
				[ "$_g_a" -gt "$_g_last" ] && [ "$_g_b" -gt "$_g_a" ] &&
					[ "$_g_b" -lt "$_g_end" ] ||
					fail "get_dirty: range '$_g_t' out of order or outside [$_g_first,$_g_end)"
				_g_last=$_g_b
				echo "$_g_t"
				;;
			*)
				[ "$_g_t" -gt "$_g_last" ] && [ "$_g_t" -lt "$_g_end" ] ||
					fail "get_dirty: region '$_g_t' out of order or outside [$_g_first,$_g_end)"
				_g_last=$_g_t
				echo "$_g_t"
				;;
			esac
		done
		[ -z "$_g_next" ] && break
		[ "$_g_next" -gt "$_g_last" ] && [ "$_g_next" -gt "$_g_first" ] ||
			fail "get_dirty: next=$_g_next does not advance (first $_g_first, last $_g_last)"
		[ "$_g_next" -ge "$_g_end" ] && break
		_g_first=$_g_next
	done
	echo "$_g_pages" >/tmp/.get_dirty_pages
}

# ranges_norm < RANGES > RANGES: merge adjacent/overlapping sorted ranges
# (one per line) into maximal ones, so maps printed in different page splits
# compare equal.
ranges_norm() {
	awk '
	{ n = split($1, p, "-"); a = p[1] + 0; b = (n == 2) ? p[2] + 0 : a
	  if (have && a <= e + 1) { if (b > e) e = b; next }
	  if (have) out()
	  s = a; e = b; have = 1 }
	function out() { if (s == e) print s; else print s "-" e }
	END { if (have) out() }'
}

# ranges_count < RANGES: number of regions covered.
ranges_count() {
	awk '{ n = split($1, p, "-"); c += (n == 2) ? p[2] - p[1] + 1 : 1 } END { print c + 0 }'
}

# fio_engine: libaio when this fio has it, else psync.
fio_engine() {
	if fio --enghelp=libaio >/dev/null 2>&1; then echo libaio; else echo psync; fi
}

# wait_pid_gone PID SECONDS: bounded wait for a background process to exit;
# prints nothing, returns 0 if it exited in time, 1 otherwise.
wait_pid_gone() {
	_w_deadline=$(($(date +%s) + $2))
	while kill -0 "$1" 2>/dev/null; do
		[ "$(date +%s)" -ge "$_w_deadline" ] && return 1
		usleep 50000
	done
	return 0
}

# random_fill DEV [MIB]: fill DEV (or its first MIB MiB) with random data.
random_fill() {
	if [ $# -ge 2 ]; then
		_r_mib=$2
	else
		_r_mib=$(($(dev_sectors "$1") / 2048))
	fi
	fillpat random $((_r_mib * 1048576)) "$1" || fail "random_fill $1"
}

# incmirror_table SRC DST REGION [FEATURE...]: a full table line for the whole
# source device.
incmirror_table() {
	_t_src=$1 _t_dst=$2 _t_reg=$3
	shift 3
	if [ $# -gt 0 ]; then
		echo "0 $(dev_sectors "$_t_src") incmirror $_t_src $_t_dst $_t_reg $# $*"
	else
		echo "0 $(dev_sectors "$_t_src") incmirror $_t_src $_t_dst $_t_reg"
	fi
}

# wait_cond SECONDS DESCRIPTION CODE: poll every 0.1 s until `eval CODE`
# succeeds; fail the case after SECONDS. A bounded wait for an observable
# condition, like wait_state.
wait_cond() {
	_c_deadline=$(($(date +%s) + $1))
	until eval "$3"; do
		[ "$(date +%s)" -ge "$_c_deadline" ] &&
			fail "waited $1 s for $2"
		usleep 100000
	done
}

# wait_field NAME N VALUE [SECONDS]: poll until status field N equals VALUE.
wait_field() {
	dm-status --wait "$1" "$2" "$3" "${4:-60}" 2>/dev/null ||
		fail "waited ${4:-60} s for $1 status field $2 = $3"
}

# loop_attach FILE: attach FILE to a free loop device, print the device.
loop_attach() {
	modprobe loop 2>/dev/null
	_l_dev=$(losetup -f) || fail "no free loop device"
	if [ ! -b "$_l_dev" ]; then
		_l_n=${_l_dev#/dev/loop}
		mknod "$_l_dev" b 7 "$_l_n" || fail "mknod $_l_dev"
	fi
	losetup "$_l_dev" "$1" || fail "losetup $_l_dev $1"
	echo "$_l_dev"
}

# blk_stat DEV FIELD: field FIELD (1-based) of /sys/block/<dev>/stat
# (12 = discard I/Os completed, 16 = flush requests completed).
blk_stat() {
	_b_name=$(basename "$(readlink -f "$1")")
	awk -v f="$2" '{ print $f }' "/sys/block/$_b_name/stat"
}

# diff_regions DEV1 DEV2 REGION_SECTORS [MAX]: print the indexes of the first
# MAX (default 20) regions in which the two devices differ (nothing when they
# are identical). Fails the case when devcmp fails (exit > 1: a read error, a
# missing device), or says they differ (e.g. in size only) and no differing
# byte names a region. Redirect stdout to a file, or use it in $(...): a
# failure ends the case either way (fail).
diff_regions() {
	drop_caches "$1" "$2"
	devcmp -r $(($3 * 512)) -m "${4:-20}" "$1" "$2" >/tmp/.dr.out 2>/tmp/.dr.err
	_d_rc=$?
	case $_d_rc in
	0) [ ! -s /tmp/.dr.out ] || fail "diff_regions: devcmp $1 $2 found no difference, yet regions were listed" ;;
	1) [ -s /tmp/.dr.out ] ||
		fail "diff_regions: $1 and $2 differ but no differing byte names a region: $(cat /tmp/.dr.err)" ;;
	*) fail "diff_regions: devcmp -r $1 $2 failed (exit $_d_rc): $(cat /tmp/.dr.err)" ;;
	esac
	cat /tmp/.dr.out
}

# same_regions DEV1 DEV2 REGION_SECTORS: like `same`, and on a difference name
# the regions that differ (to tell a kernel bug's shape from a test's).
same_regions() {
	drop_caches "$1" "$2"
	cmp "$1" "$2" >/dev/null 2>&1 && return 0
	echo "regions that differ (first 20): $(diff_regions "$1" "$2" "$3" | tr '\n' ' ')" >&2
	fail "$1 and $2 differ"
}

# dm_swap NAME TABLE: replace the table of dm device NAME (suspend, load,
# resume), e.g. to make a leg fail or recover under a live mirror.
dm_swap() {
	dmsetup suspend "$1" && dmsetup load "$1" --table "$2" && dmsetup resume "$1" ||
		fail "could not swap the table of $1 for '$2'"
}

# ---- helpers for the metadata device ----

# meta_read DEV: copy DEV into /tmp/.meta.img with O_DIRECT reads: what the
# target wrote with bios, not the page cache. No sync or flush: dropping
# caches would first fsync DEV, i.e. send a flush down to the devices under
# it, and a poll doing that every 0.1 s (metadata-crash-replay shares one
# dm-log-writes device among the legs and the metadata) would make every
# write durable at once and hide an ordering bug. coreutils dd: it fails
# rather than fall back to buffered I/O.
meta_read() {
	/usr/bin/dd if="$1" of=/tmp/.meta.img bs=64k iflag=direct 2>/tmp/.meta.err ||
		fail "O_DIRECT read of $1: $(cat /tmp/.meta.err)"
}

# meta_dirty DEV [OFFSET_BYTES]: the dirty regions recorded in the
# dm-incmirror metadata on DEV, one per line, read from the device itself
# (meta_read: O_DIRECT, no flush). Fails the case on an invalid image.
# Redirect stdout to a file.
meta_dirty() {
	meta_read "$1"
	lw-replay meta-dirty /tmp/.meta.img "${2:-0}" || fail "metadata on $1 is invalid"
}

# meta_flags DEV: the superblock flags word of the metadata on DEV (decimal).
meta_flags() {
	meta_read "$1"
	od -An -tu4 -j12 -N4 /tmp/.meta.img | tr -d ' '
}

# zero_dev DEV [SECTORS]: zero a device, or its first SECTORS.
zero_dev() {
	if [ $# -ge 2 ]; then
		dd if=/dev/zero of="$1" bs=512 count="$2" oflag=direct 2>/dev/null ||
			fail "zero $1"
	else
		# dd without a count would end with ENOSPC: write the exact size.
		blkdiscard -z "$1" 2>/dev/null && return 0
		_z_n=$(dev_sectors "$1")
		if [ $((_z_n % 2048)) -eq 0 ]; then
			dd if=/dev/zero of="$1" bs=1M count=$((_z_n / 2048)) oflag=direct 2>/tmp/.zero.err
		else
			dd if=/dev/zero of="$1" bs=512 count="$_z_n" oflag=direct 2>/tmp/.zero.err
		fi || fail "zero $1: $(cat /tmp/.zero.err)"
	fi
}

# ranges_expand < RANGES: one region number per line.
ranges_expand() {
	awk '{ k = split($1, p, "-"); for (i = p[1]; i <= ((k == 2) ? p[2] : p[1]); i++) print i }'
}

# assert_subset [--may-be-empty] SMALL BIG WHAT: every region listed (one per
# line, ranges allowed) in file SMALL is listed in file BIG. Both files must
# exist and SMALL must list a region (an empty SMALL proves nothing) unless
# --may-be-empty says that no region at all is a possible answer.
assert_subset() {
	_s_empty=0
	[ "$1" = --may-be-empty ] && { _s_empty=1; shift; }
	[ -f "$1" ] && [ -r "$1" ] || fail "$3: no list $1"
	[ -f "$2" ] && [ -r "$2" ] || fail "$3: no list $2"
	ranges_expand <"$1" >/tmp/.sub.a || fail "$3: cannot read $1"
	ranges_expand <"$2" >/tmp/.sub.b || fail "$3: cannot read $2"
	[ -s /tmp/.sub.a ] || [ "$_s_empty" = 1 ] || fail "$3: $1 lists no region"
	awk 'NR == FNR { big[$1] = 1; next } !($1 in big) { print; if (++n >= 10) exit }' \
		/tmp/.sub.b /tmp/.sub.a >/tmp/.sub.missing || fail "$3: awk failed"
	[ ! -s /tmp/.sub.missing ] || fail "$3: missing $(tr '\n' ' ' </tmp/.sub.missing)"
}

# ---- helpers for the LVM cases (lvm-*, incmirror-lvm) ----

# lvm_vg VG PV...: fresh physical volumes on the devices and a volume group
# VG of 4 MiB extents on them.
lvm_vg() {
	_v_vg=$1
	shift
	pvcreate -ff -y -q "$@" >/dev/null || fail "pvcreate $*"
	vgcreate -q -s 4M "$_v_vg" "$@" >/dev/null || fail "vgcreate $_v_vg $*"
}

# lvm_teardown VG PV...: for an EXIT trap: end every incmirror-lvm mirror of
# VG's LVs (abort), remove VG, the physical volumes and every dm device.
lvm_teardown() {
	_v_vg=$1
	shift
	for _v_s in /run/incmirror-lvm/*.state; do
		[ -f "$_v_s" ] || continue
		[ "$(sed -n 's/^vg=//p' "$_v_s")" = "$_v_vg" ] &&
			incmirror-lvm abort "$_v_vg/$(sed -n 's/^lv=//p' "$_v_s")" >/dev/null 2>&1
	done
	vgchange -an "$_v_vg" >/dev/null 2>&1
	vgremove -f "$_v_vg" >/dev/null 2>&1
	pvremove -ff -y "$@" >/dev/null 2>&1
	dmsetup remove_all >/dev/null 2>&1
}

# dm_devnum NAME: MAJOR:MINOR of a dm device.
dm_devnum() {
	dmsetup info -c --noheadings -o major,minor "$1" | tr -d ' '
}

# assert_none_suspended WHAT: no dm device is suspended.
assert_none_suspended() {
	_n_s=$(for _n_d in $(dmsetup ls | awk '{ print $1 }'); do
		dmsetup info "$_n_d" | grep -q '^State: *SUSPENDED' && echo "$_n_d"
	done | tr '\n' ' ')
	[ -z "$_n_s" ] || fail "$1: suspended devices left: $_n_s"
}

# lvm_snapshot VG DIR: what device-mapper and LVM look like (names, numbers,
# tables, suspended or not, open counts, VG's LVs and their extents) and
# the incmirror-lvm state directory; lvm_same_as VG DIR WHAT fails the case
# when something differs from the snapshot in DIR.
lvm_snapshot() {
	mkdir -p "$2"
	dmsetup ls | sort >"$2/ls"
	for _p_d in $(dmsetup ls | awk '{ print $1 }' | sort); do
		echo "$_p_d: $(dmsetup table "$_p_d")"
		dmsetup info "$_p_d" | grep -E '^(State|Tables present|Open count)'
	done >"$2/tables"
	lvs --noheadings -o lv_name,lv_attr,seg_pe_ranges "$1" | sort >"$2/lvs"
	ls /run/incmirror-lvm 2>/dev/null >"$2/state"
}
lvm_same_as() {
	lvm_snapshot "$1" /tmp/.lvm-now
	for _p_f in ls tables lvs state; do
		cmp -s "$2/$_p_f" /tmp/.lvm-now/$_p_f ||
			{ diff "$2/$_p_f" /tmp/.lvm-now/$_p_f; fail "$3: $_p_f changed"; }
	done
}

# pe_free PV FIRST LAST: extents FIRST..LAST of PV belong to no LV.
pe_free() {
	pvs --noheadings --segments -o pvseg_start,pvseg_size,lv_name "$1" >/tmp/.pvseg ||
		fail "pvs --segments $1"
	awk -v a="$2" -v b="$3" '
	{ s = $1; e = $1 + $2 - 1
	  if (NF > 2 && s <= b && e >= a) { print "extents " s "-" e " belong to " $3; bad = 1 } }
	END { exit bad }' /tmp/.pvseg >&2 || fail "extents $2-$3 of $1 are not free"
}

# Interrupting a command the way Ctrl-C does. A command started with & by a
# script ignores SIGINT (POSIX), and a shell script cannot trap a signal
# ignored at its start: start it under coreutils timeout, which catches
# SIGINT (so the command runs with the default disposition) and puts it in
# a process group of its own, e.g.
#   /usr/bin/timeout 120 incmirror-lvm start ... & PGID=$!
# ctrl_c PGID: SIGINT to every process of the group, as a terminal sends it.
ctrl_c() {
	kill -INT "-$1" || fail "kill -INT -$1"
}

# pgrp_has PGID WORDS: a process of group PGID runs a command line that
# contains WORDS (e.g. "dmsetup suspend vg-lv").
pgrp_has() {
	for _pg_p in $(cat /proc/[0-9]*/stat 2>/dev/null |
		awk -v g="$1" '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
			if (f[3] == g) print $1 }'); do
		{ tr '\0' ' ' <"/proc/$_pg_p/cmdline"; } 2>/dev/null | grep -qF -- "$2" && return 0
	done
	return 1
}

# is_suspended NAME: the dm device is suspended.
is_suspended() {
	dmsetup info "$1" 2>/dev/null | grep -q '^State: *SUSPENDED'
}

# inflight_writes NAME: writes in flight in dm device NAME (block layer count).
inflight_writes() {
	awk '{ print $2 }' "/sys/block/$(dm_sysname "$1")/inflight"
}

# write_block DEV BLOCK BYTE [COPY]: 4 KiB of BYTE (two hex digits) at 4 KiB
# block BLOCK of DEV with O_DIRECT, and the same into the file COPY when
# given; the pattern stays in /tmp/pat. coreutils dd: it fails rather than
# fall back to buffered I/O (busybox dd with bs=512 was seen to write
# through the page cache).
write_block() {
	head -c 4096 /dev/zero | tr '\000' "\\$(printf '%03o' "0x$3")" >/tmp/pat
	/usr/bin/dd if=/tmp/pat of="$1" bs=4096 seek="$2" count=1 oflag=direct conv=notrunc \
		2>/tmp/dd.err || fail "write to $1: $(cat /tmp/dd.err)"
	[ -z "${4:-}" ] ||
		dd_ if=/tmp/pat of="$4" bs=4096 seek="$2" count=1 conv=notrunc
}
