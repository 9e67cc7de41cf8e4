# SPDX-License-Identifier: GPL-2.0
# Unit tests (t_lwreplay_*) for tests/tools/lw-replay, sourced by tests/unit/run
# after lib.sh (uses die, skip, need, expect_err, expect_out, le32, le64, zeros,
# bits_le). The inputs are made here: dm-log-writes logs from a tiny shell
# generator that also keeps, independently of the tool, the image each point
# of the log should leave (dd at sector * sectorsize); dm-incmirror metadata
# images whose CRC-32 comes from gzip's trailer (zlib's crc32), not from the
# tool's own code.

LW_SRC=$TOP/tests/tools/lw-replay.c
LW_SAN=$T/lw-replay-san

# lw_build: the ASan/UBSan build of lw-replay, made once per run in $T.
lw_build() {
	[ -x "$LW_SAN" ] && [ "$LW_SAN" -nt "$LW_SRC" ] && return 0
	cc -std=c11 -Wall -Wextra -Werror -O1 -g -fsanitize=address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer -o "$LW_SAN.tmp" "$LW_SRC" ||
		die "cannot build $LW_SRC with sanitizers"
	mv "$LW_SAN.tmp" "$LW_SAN"
}

# lw RC ARGS...: run the sanitized lw-replay; stdout -> out, stderr -> err;
# its exit status must be RC.
lw() {
	local want=$1 rc
	shift
	lw_build
	"$LW_SAN" "$@" >out 2>err
	rc=$?
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' err; then
		cat err
		die "sanitizer report: lw-replay $*"
	fi
	[ "$rc" -eq "$want" ] || { cat err; head -20 out; die "exit $rc, expected $want: lw-replay $*"; }
}

# ---------------------------------------------------------------- log generator

LW_MAGIC=$((0x6a736677736872))

# lw_super SS NR_ENTRIES: the log super, padded to SS bytes.
lw_super() { le64 $LW_MAGIC; le64 1; le64 "$2"; le32 "$1"; zeros $(($1 - 28)); }
# lw_hdr SS SECTOR NR_SECTORS FLAGS [MARK]: one entry header block.
lw_hdr() {
	local t=${5:-}
	le64 "$2"; le64 "$3"; le64 "$4"; le64 ${#t}; printf '%s' "$t"; zeros $(($1 - 32 - ${#t}))
}
# lw_words FLAGS: the words lw-replay prints for them.
lw_words() {
	local f=$1 w=
	[ $((f & 1)) -ne 0 ] && w=$w,flush
	[ $((f & 2)) -ne 0 ] && w=$w,fua
	[ $((f & 4)) -ne 0 ] && w=$w,discard
	[ $((f & 8)) -ne 0 ] && w=$w,mark
	[ $((f & 16)) -ne 0 ] && w=$w,metadata
	[ -n "$w" ] || w=,write
	echo "${w#,}"
}

# lwgen SS IMAGE_SECTORS [NR_SUPER] < OPS: a log in log.img of the operations
# on stdin, one a line (sectors in units of SS, as the kernel logs them):
#   w SECTOR COUNT [flush,fua,metadata]   a write of random data
#   f                                     an empty flush
#   d SECTOR COUNT                        a discard
#   m TEXT                                a mark
#   F SECTOR FILE [flush,fua,metadata]    a write of FILE (a multiple of SS)
# The super records NR_SUPER entries (default: all). Also makes exp.img (the
# device after every entry, from zeroes, or from a copy of $LW_BASE when
# set), snap.<I> (the device right after each flush, FUA or mark entry I),
# points.want (what `points` must print) and nentries.
lwgen() {
	local ss=$1 idx=0 op x y z flags text w
	: >body
	: >points.want
	if [ -n "${LW_BASE:-}" ]; then
		[ "$(stat -c %s "$LW_BASE")" -eq $(($2 * ss)) ] || die "lwgen: $LW_BASE is not $2 sectors"
		cp "$LW_BASE" exp.img
	else
		zeros $(($2 * ss)) >exp.img
	fi
	while read -r op x y z; do
		text=
		case $op in
		w | F)
			flags=0
			for w in ${z//,/ }; do
				case $w in
				flush) flags=$((flags | 1)) ;;
				fua) flags=$((flags | 2)) ;;
				metadata) flags=$((flags | 16)) ;;
				*) die "lwgen: bad flag $w" ;;
				esac
			done
			if [ "$op" = F ]; then
				cp "$y" data || die "lwgen: no file $y"
				y=$(($(stat -c %s data) / ss))
				[ $((y * ss)) -eq "$(stat -c %s data)" ] || die "lwgen: $y is not a multiple of $ss bytes"
			else
				head -c $((y * ss)) /dev/urandom >data
			fi
			lw_hdr "$ss" "$x" "$y" $flags >>body
			cat data >>body
			dd if=data of=exp.img bs="$ss" seek="$x" conv=notrunc status=none || die "dd"
			;;
		f)
			flags=1
			lw_hdr "$ss" 0 0 $flags >>body
			;;
		d)
			flags=4
			lw_hdr "$ss" "$x" "$y" $flags >>body
			zeros $((y * ss)) | dd of=exp.img bs="$ss" seek="$x" conv=notrunc status=none || die "dd"
			;;
		m)
			flags=8 text=$x
			lw_hdr "$ss" 0 0 $flags "$text" >>body
			;;
		'' | '#'*) continue ;;
		*) die "lwgen: bad op $op" ;;
		esac
		if [ $((flags & 11)) -ne 0 ]; then
			echo "$idx $(lw_words $flags)${text:+ $text}" >>points.want
			cp exp.img "snap.$idx"
		fi
		idx=$((idx + 1))
	done
	{ lw_super "$ss" "${3:-$idx}"; cat body; } >log.img
	echo $idx >nentries
}

# The operations of the main scenario, for an image of 2048 sectors.
lw_ops() {
	cat <<-'EOF'
	w 0 8
	w 100 3 metadata
	f
	w 4 2
	w 2047 1
	m first
	w 10 4 fua
	d 0 2
	w 50 64 flush
	m second-mark
	w 20 1
	w 21 1 fua
	d 1000 200
	w 1100 16
	f
	w 60 8 flush,fua
	m end
	EOF
}

# lw_check_incremental LOG: replay point by point onto a zeroed image; the
# image must equal snap.<P> at every point P, and exp.img at the end.
lw_check_incremental() {
	local prev=0 p rest n
	n=$(cat nentries)
	zeros "$(stat -c %s exp.img)" >tgt.img
	while read -r p rest; do
		lw 0 replay "$1" tgt.img --from $prev --to $((p + 1))
		[ -s out ] && die "replay printed: $(cat out)"
		cmp -s tgt.img "snap.$p" || die "after replaying [$prev, $((p + 1))): image differs from the state at point $p ($rest)"
		prev=$((p + 1))
	done <points.want
	lw 0 replay "$1" tgt.img --from $prev --to "$n"
	cmp -s tgt.img exp.img || die "after replaying the whole log incrementally: image differs"
}

lw_scenario() { # SS
	local ss=$1 n
	lw_ops | lwgen "$ss" 2048
	n=$(cat nentries)
	lw 0 info log.img
	expect_out "^sectorsize: $ss\$"
	expect_out "^super-nr-entries: $n\$"
	expect_out "^entries: $n\$"
	expect_out '^entries-after-super: 0$'
	expect_out '^flush: 4$'
	expect_out '^fua: 3$'
	expect_out '^discard: 2$'
	expect_out '^mark: 3$'
	expect_out '^metadata: 1$'
	expect_out '^plain-writes: 5$'
	expect_out "^log-bytes-used: $(stat -c %s log.img)\$"
	expect_out 'scan-end: offset [0-9]+: end of the log device'
	lw 0 points log.img
	diff -u points.want out || die "points differ"
	lw 0 list log.img
	[ "$(wc -l <out)" -eq "$n" ] || die "list: $(wc -l <out) lines, want $n"
	grep -q "^1 [0-9]* metadata $((100 * ss)) $((3 * ss))\$" out || die "list line of entry 1: $(sed -n 2p out)"
	lw_check_incremental log.img
	# all at once
	zeros $((2048 * ss)) >all.img
	lw 0 replay log.img all.img
	cmp -s all.img exp.img || die "replaying the whole log at once: image differs"
	# empty range, bad ranges
	lw 0 replay log.img all.img --from 3 --to 3
	lw 2 replay log.img all.img --to $((n + 1))
	expect_err "log.img: --to $((n + 1)): the log has $n entries"
	lw 2 replay log.img all.img --from 5 --to 3
	expect_err 'is past --to'
	lw 2 replay log.img /nonexistent/t
	expect_err '/nonexistent/t: cannot open for writing'
}

# ---------------------------------------------------------------- tests

t_lwreplay_build_and_usage() {
	make -s -C "$TOP/tests/tools" >make.out 2>&1 || { cat make.out; die "make -C tests/tools"; }
	[ -x "$TOP/tests/tools/lw-replay" ] || die "make -C tests/tools did not build lw-replay"
	"$TOP/tests/tools/lw-replay" --help | grep -q '^Usage: lw-replay COMMAND' || die "release build --help"
	lw 0 --help
	expect_out '^Usage: lw-replay COMMAND'
	expect_out '^  replay \[--no-scan\] LOG TARGET \[--from N\] \[--to M\]$'
	lw 0 replay --help
	lw 2
	expect_err '^Usage: lw-replay'
	lw 2 frobnicate x
	expect_err 'lw-replay frobnicate: unknown command'
	lw 2 replay onlyone
	expect_err 'expected two arguments, LOG TARGET'
	lw 2 info --bogus x
	expect_err "unknown option '--bogus'"
	lw 2 points --from 1 x
	expect_err "option '--from' applies to replay only"
	lw 2 replay a b --to
	expect_err "option '--to' needs a value"
	lw 2 replay a b --to x1
	expect_err "bad entry index 'x1'"
	lw 2 diff-regions a 0 b 0 10 0
	expect_err "bad region size '0'"
	lw 2 diff-regions a 0 b 0 10
	expect_err 'expected six arguments'
	lw 2 meta-dirty m 1Q
	expect_err "bad offset '1Q'"
	lw 2 info /nonexistent/log
	expect_err '/nonexistent/log: cannot open'
	lw 2 info .
	expect_err 'not a regular file or block device'
}

t_lwreplay_replay_512() {
	lw_scenario 512
}

t_lwreplay_replay_4096() {
	# entry sectors are in units of the log's sectorsize: a 4 KiB-sector log
	# puts sector S at byte S * 4096 (read as 512-byte sectors, every
	# compare here would fail)
	lw_scenario 4096
}

t_lwreplay_entries_past_super() {
	# a crash: the super was last written after entry 5 (mark "first"), the
	# log goes on to entry 16
	lw_ops | lwgen 512 2048 6
	n=$(cat nentries)
	lw 0 info log.img
	expect_out '^super-nr-entries: 6$'
	expect_out "^entries: $n\$"
	expect_out "^entries-after-super: $((n - 6))\$"
	lw 0 points log.img
	diff -u points.want out || die "points differ"
	lw_check_incremental log.img
	lw 0 info --no-scan log.img
	expect_out '^entries: 6$'
	expect_out 'scan-end: offset [0-9]+: --no-scan: nr_entries reached'
	lw 0 points --no-scan log.img
	[ "$(cat out)" = "2 flush
5 mark first" ] || die "points --no-scan: $(cat out)"
	lw 2 replay --no-scan log.img tgt.img --to 7
	expect_err 'the log has 6 entries'
	# what follows the last entry ends the scan, whatever it is
	cp log.img base.img
	zeros 4096 >>log.img
	lw 0 info log.img
	expect_out "^entries: $n\$"
	expect_out "^log-bytes-used: $(stat -c %s base.img)\$"
	expect_out "scan-end: offset $(stat -c %s base.img): zeroed entry header"
	cp base.img log.img
	lw_hdr 512 0 1 $((1 << 7)) >>log.img
	lw 0 info log.img
	expect_out "^entries: $n\$"
	expect_out "scan-end: offset $(($(stat -c %s base.img) + 16)): flags: unknown bits set \(0x80\)"
	cp base.img log.img
	{ lw_hdr 512 0 8 0; zeros 2048; } >>log.img	# 8 sectors of data, 4 there
	lw 0 info log.img
	expect_out "^entries: $n\$"
	expect_out "scan-end: offset $(stat -c %s base.img): entry data past the end"
	cp base.img log.img
	{ lw_hdr 512 0 1 0; zeros 512; lw_hdr 512 5 0 0; } >>log.img	# one more write, then a 0-sector write
	lw 0 info log.img
	expect_out "^entries: $((n + 1))\$"
	expect_out "scan-end: offset $(($(stat -c %s base.img) + 1024 + 8)): nr_sectors: 0 for an entry that is not a flush"
	cp base.img log.img
	{ lw_hdr 512 0 0 8 x; } >>log.img
	printf 'y' | dd of=log.img bs=1 seek=$(($(stat -c %s base.img) + 40)) conv=notrunc status=none
	lw 0 info log.img
	expect_out "scan-end: offset $(($(stat -c %s base.img) + 33)): padding after the mark text is not zero"
}

t_lwreplay_truncated_log() {
	lw_ops | lwgen 512 2048
	n=$(cat nentries)
	size=$(stat -c %s log.img)
	# cut inside the data of the last write (entry n-2: 8 sectors at 60)
	head -c $((size - 512 - 1000)) log.img >cut.img
	lw 2 info cut.img
	expect_err "cut.img: offset $((size - 512 - 4096)): truncated: entry $((n - 2)) has 4096 bytes of data, the log ends 3096 bytes after its header"
	lw 2 points cut.img
	lw 2 replay cut.img tgt.img
	# cut right before the last entry (the end mark)
	head -c $((size - 512)) log.img >cut.img
	lw 2 info cut.img
	expect_err "cut.img: offset $((size - 512)): truncated: entry $((n - 1)) of the $n the super records is missing"
	# but with a super that recorded fewer entries, the same file is a log
	# cut short by the crash: the scan stops at the end of the device
	lw_ops | lwgen 512 2048 6
	head -c $((size - 512 - 1000)) log.img >cut.img
	lw 0 info cut.img
	expect_out "^entries: $((n - 2))\$"
	expect_out "scan-end: offset $((size - 512 - 4096 - 512)): entry data past the end of the log device"
	# broken supers
	head -c 100 log.img >tiny.img
	lw 2 info tiny.img
	expect_err 'tiny.img: offset 0: truncated: 100 bytes, no room for the log super'
	cp log.img bad.img
	printf 'X' | dd of=bad.img bs=1 seek=0 conv=notrunc status=none
	lw 2 info bad.img
	expect_err 'bad.img: offset 0: magic: expected 0x6a736677736872 \(dm-log-writes\), found 0x6a736677736858'
	cp log.img bad.img
	le64 2 | dd of=bad.img bs=1 seek=8 conv=notrunc status=none
	lw 2 points bad.img
	expect_err 'bad.img: offset 8: version: expected 1, found 2'
	cp log.img bad.img
	le32 1000 | dd of=bad.img bs=1 seek=24 conv=notrunc status=none
	lw 2 replay bad.img tgt.img
	expect_err 'bad.img: offset 24: sectorsize: expected a power of two in 512..65536, found 1000'
	# a super with no entries at all
	{ lw_super 512 0; } >empty.img
	lw 0 info empty.img
	expect_out '^entries: 0$'
	lw 0 points empty.img
	[ -s out ] && die "points of an empty log: $(cat out)"
	lw 0 replay empty.img empty.img
}

t_lwreplay_bad_entries() {
	# entries below nr_entries must be valid
	mk() { { lw_super 512 2; "$@"; lw_hdr 512 0 0 1; } >bad.img; }
	mk lw_hdr 512 0 1 $((1 << 5))
	lw 2 info bad.img
	expect_err 'bad.img: offset 528: entry 0 \(of 2 the super records\): flags: unknown bits set \(0x20\)'
	mk lw_hdr 512 0 0 0
	lw 2 points bad.img
	expect_err 'bad.img: offset 512: entry 0 .*zeroed entry header'
	mk lw_hdr 512 0 0 8 "$(head -c 480 /dev/zero | tr '\0' a)"
	lw 2 info bad.img
	expect_err 'offset 536: entry 0 .*data_len: mark text of 480 bytes, at most 479 fit'
	mk lw_hdr 512 0 1 0
	le64 5 | dd of=bad.img bs=1 seek=$((512 + 24)) conv=notrunc status=none
	lw 2 info bad.img
	expect_err 'offset 536: entry 0 .*data_len: 5 for an entry that is not a mark'
	mk lw_hdr 512 0 0 10
	lw 2 info bad.img
	expect_err 'offset 528: entry 0 .*flags: mark combined with other flags \(0xa\)'
	mk lw_hdr 512 0 3 5
	lw 2 info bad.img
	expect_err 'offset 528: entry 0 .*flags: discard with flush or FUA \(0x5\)'
	mk lw_hdr 512 $((1 << 60)) 1 4
	lw 2 info bad.img
	expect_err 'offset 512: entry 0 .*out of range'
	# a mark with an odd character is printed escaped
	{ lw_super 512 1; lw_hdr 512 0 0 8 'a\b'; } >esc.img
	lw 0 points esc.img
	[ "$(cat out)" = '0 mark a\x5cb' ] || die "escaped mark: $(cat out)"
}

# diff_oracle A B LEN R: regions that differ, from cmp -l (1-based offsets)
diff_oracle() {
	cmp -l -n "$3" "$1" "$2" | awk -v r="$4" '{ i = int(($1 - 1) / r); if (i != last) print i; last = i } BEGIN { last = -1 }'
}

t_lwreplay_diff_regions() {
	need cmp
	local len=$((3 * 1048576 + 1000)) r
	head -c $len /dev/urandom >a.img
	cp a.img b.img
	for p in 0 4095 4096 65535 1048575 1048576 2000000 $((len - 1)); do
		v=$(od -An -tu1 -j $p -N1 b.img)
		le8 $((255 - v)) | dd of=b.img bs=1 seek=$p conv=notrunc status=none
	done
	for r in 1 7 1000 4096 65536 1M 8M 100M; do
		rb=$r
		[ "$r" = 1M ] && rb=1048576
		[ "$r" = 8M ] && rb=8388608
		[ "$r" = 100M ] && rb=104857600
		lw 1 diff-regions a.img 0 b.img 0 $len $r
		diff_oracle a.img b.img $len $rb >want
		diff -u want out || die "regions of $r bytes differ from the cmp oracle"
	done
	lw 1 diff-regions a.img 0 b.img 0 $len 4096
	[ "$(tr '\n' ' ' <out)" = "0 1 15 255 256 488 $((len / 4096)) " ] || die "4 KiB regions: $(tr '\n' ' ' <out)"
	# identical ranges: exit 0, nothing printed
	lw 0 diff-regions a.img 4097 b.img 4097 $((65535 - 4097)) 4096
	[ -s out ] && die "identical ranges printed $(cat out)"
	lw 0 diff-regions a.img 0 a.img 0 $len 4096
	lw 0 diff-regions a.img 0 b.img 0 0 4096
	# offsets: b's data 12345 bytes into c; region indexes count from OFF
	{ head -c 12345 /dev/urandom; cat b.img; } >c.img
	lw 1 diff-regions a.img 0 c.img 12345 $len 4096
	[ "$(tr '\n' ' ' <out)" = "0 1 15 255 256 488 $((len / 4096)) " ] || die "with offset: $(tr '\n' ' ' <out)"
	lw 1 diff-regions a.img 1048576 c.img $((12345 + 1048576)) 1048576 65536
	[ "$(tr '\n' ' ' <out)" = "0 14 " ] || die "offsets into both: $(tr '\n' ' ' <out)"
	# too short
	lw 2 diff-regions a.img 0 b.img 1 $len 4096
	expect_err "b.img: offset $len: too short: $len bytes, the comparison needs 1 \+ $len"
	lw 2 diff-regions a.img $((len + 1)) b.img 0 1 4096
	expect_err 'a.img: offset [0-9]+: too short'
	# speed: 1 GiB, sparse, with a difference near the end (release build)
	make -s -C "$TOP/tests/tools" >make.out 2>&1 || { cat make.out; die "make -C tests/tools"; }
	truncate -s 1G x.img y.img
	printf 'z' | dd of=y.img bs=1 seek=$((1073741824 - 5000)) conv=notrunc status=none
	cat x.img y.img >/dev/null	# the first read of a sparse file is the file system's cost, not ours
	TIMEFORMAT=%R
	t=$({ time "$TOP/tests/tools/lw-replay" diff-regions x.img 0 y.img 0 1G 64K >out; } 2>&1)
	[ "$(cat out)" = 16383 ] || die "1 GiB: $(cat out)"
	echo "NOTE: diff-regions over 1 GiB (sparse files, page cache warm): ${t}s"
	awk -v t="$t" 'BEGIN { exit !(t < 20) }' || die "too slow: $t s for 1 GiB"
}

# ---------------------------------------------------------------- dm-incmirror metadata

# crc32_gz FILE: zlib's crc32(0, FILE) as a decimal, from gzip's trailer.
crc32_gz() { gzip -c <"$1" | tail -c 8 | od -An -tu4 -N4 --endian=little | tr -d ' '; }

# im_fix_csum FILE OFF: set the superblock checksum at OFF right.
im_fix_csum() {
	dd if="$1" bs=1 skip="$2" count=512 status=none >sb.bin
	printf '\0\0\0\0' | dd of=sb.bin bs=1 seek=4 conv=notrunc status=none
	le32 "$(crc32_gz sb.bin)" | dd of="$1" bs=1 seek=$(($2 + 4)) conv=notrunc status=none
}
# im_put FILE OFF FIELD_OFF le32|le64 VALUE: overwrite a field, keep the csum right.
im_put() {
	"$4" "$5" | dd of="$1" bs=1 seek=$(($2 + $3)) conv=notrunc status=none
	im_fix_csum "$1" "$2"
}

# im_image FILE OFF FLAGS REGION_SECTORS TARGET_SECTORS [DIRTY...]: a metadata
# image at byte OFF of FILE (which gets OFF bytes of random data in front).
im_image() {
	local f=$1 off=$2 flags=$3 rs=$4 ts=$5 nr bms
	shift 5
	nr=$(((ts + rs - 1) / rs))
	bms=$(((((nr + 7) / 8 + 4095) / 4096) * 4096 / 512))
	{
		head -c "$off" /dev/urandom
		le32 $((0x524d4d49)); le32 0; le32 1; le32 "$flags"
		printf '0123456789abcdef'				# uuid
		printf 'host-a:/dev/vg/src'; zeros $((128 - 18))	# owner
		le64 "$rs"; le64 "$ts"; le64 "$nr"; le64 8; le64 "$bms"; le64 42
		zeros $((4096 - 208))
		bits_le $((bms * 512 * 8)) "$@"
	} >"$f"
	im_fix_csum "$f" "$off"
}

t_lwreplay_meta_dirty() {
	need gzip od
	local off=1048576
	# 1000000 sectors at 128-sector regions: 7813 regions, the last short
	im_image m.img $off 2 128 1000000 0 7 8 4095 4096 7812
	lw 0 meta-dirty m.img $off
	[ "$(tr '\n' ' ' <out)" = "0 7 8 4095 4096 7812 " ] || die "dirty: $(tr '\n' ' ' <out)"
	[ -s err ] && die "stderr: $(cat err)"
	lw 0 meta-dirty m.img 1M
	# the checksum really is zlib's crc32 of the sector with csum = 0
	if python3 -c 'import zlib' 2>/dev/null; then
		python3 -c 'import zlib, sys
d = bytearray(open(sys.argv[1], "rb").read()[int(sys.argv[2]):][:512])
c = int.from_bytes(d[4:8], "little")
d[4:8] = bytes(4)
sys.exit(zlib.crc32(bytes(d)) != c)' m.img $off || die "the csum differs from python zlib.crc32"
	fi
	# no dirty region; at offset 0
	im_image z.img 0 1 8 64
	lw 0 meta-dirty z.img 0
	[ -s out ] && die "clean image printed $(cat out)"
	# NEEDS_FULL_COPY: every region, whatever the bitmap says
	im_image f.img 0 4 128 1000000 5
	lw 0 meta-dirty f.img 0
	[ "$(wc -l <out)" -eq 7813 ] && [ "$(head -1 out)" = 0 ] && [ "$(tail -1 out)" = 7812 ] &&
		[ "$(sort -n -u out | wc -l)" -eq 7813 ] || die "full copy: $(wc -l <out) lines"
	# a bitmap of more than one 4 KiB block: 40000 regions -> 5000 bytes -> 16 sectors
	im_image big.img 0 0 1 40000 0 32767 32768 39999
	lw 0 meta-dirty big.img 0
	[ "$(tr '\n' ' ' <out)" = "0 32767 32768 39999 " ] || die "two-block bitmap: $(tr '\n' ' ' <out)"
	# bits past nr_regions: reported, not fatal
	im_image p.img 0 0 128 1000000 1 7813 7815
	lw 0 meta-dirty p.img 0
	[ "$(cat out)" = 1 ] || die "padding bits printed: $(cat out)"
	expect_err 'p.img: warning: bitmap bits set past nr_regions 7813'

	# bad images: exit 2 naming the field and its offset
	cp m.img bad.img
	printf 'X' | dd of=bad.img bs=1 seek=$((off + 40)) conv=notrunc status=none	# owner, csum not updated
	lw 2 meta-dirty bad.img $off
	expect_err "bad.img: offset $((off + 4)): csum: superblock checksum 0x[0-9a-f]{8} does not match its contents \(0x[0-9a-f]{8}\)"
	lw 2 meta-dirty m.img 0
	expect_err 'm.img: offset 0: magic: expected 0x524d4d49 \("IMMR"\), found 0x'
	cp m.img bad.img; im_put bad.img $off 8 le32 2
	lw 2 meta-dirty bad.img $off
	expect_err "offset $((off + 8)): version: expected 1, found 2"
	cp m.img bad.img; im_put bad.img $off 12 le32 33
	lw 2 meta-dirty bad.img $off
	expect_err "offset $((off + 12)): flags: unknown bits set \(0x00000021\)"
	cp m.img bad.img; im_put bad.img $off 60 le32 1
	lw 2 meta-dirty bad.img $off
	expect_err "offset $((off + 60)): owner: not NUL padded"
	cp m.img bad.img; im_put bad.img $off 160 le64 0
	lw 2 meta-dirty bad.img $off
	expect_err "offset $((off + 160)): region_sectors: expected 1..2\^40, found 0"
	cp m.img bad.img; im_put bad.img $off 168 le64 0
	lw 2 meta-dirty bad.img $off
	expect_err "offset $((off + 168)): target_sectors"
	cp m.img bad.img; im_put bad.img $off 176 le64 7812
	lw 2 meta-dirty bad.img $off
	expect_err "offset $((off + 176)): nr_regions: expected 7813 \(target_sectors 1000000 / region_sectors 128, rounded up\), found 7812"
	cp m.img bad.img; im_put bad.img $off 184 le64 16
	lw 2 meta-dirty bad.img $off
	expect_err "offset $((off + 184)): bitmap_offset: expected 8, found 16"
	cp m.img bad.img; im_put bad.img $off 192 le64 2
	lw 2 meta-dirty bad.img $off
	expect_err "offset $((off + 192)): bitmap_sectors: expected 8 for 7813 regions, found 2"
	cp m.img bad.img; im_put bad.img $off 300 le32 1
	lw 2 meta-dirty bad.img $off
	expect_err "offset $((off + 300)): reserved: byte 300 of the superblock is 0x01, expected 0"
	# truncated: in the bitmap, in the superblock
	head -c $((off + 4096 + 4095)) m.img >cut.img
	lw 2 meta-dirty cut.img $off
	expect_err "cut.img: offset $((off + 4096 + 4095)): truncated: the bitmap needs 4096 bytes at offset $((off + 4096))"
	head -c $((off + 511)) m.img >cut.img
	lw 2 meta-dirty cut.img $off
	expect_err "cut.img: offset $off: truncated: no room for the 512-byte superblock"
	lw 2 meta-dirty m.img 100G
	expect_err 'truncated'
}

# ---------------------------------------------------------------- check-incmirror

# The layout of the check-incmirror tests, in bytes: a 1 MiB device with the
# source leg at 0 and the destination leg at 256 KiB (256 KiB each: 64
# regions of 4 KiB), the metadata at 512 KiB (superblock block, then one
# bitmap block: region_sectors 8, target_sectors 512, nr_regions 64).
CK_SRC=0 CK_DST=262144 CK_LEN=262144 CK_META=524288 CK_R=4096 CK_SIZE=1048576

# ck_meta FILE FLAGS [DIRTY...]: an 8 KiB metadata image of the 64 regions.
ck_meta() { local f=$1 fl=$2; shift 2; im_image "$f" 0 "$fl" 8 512 "$@"; }
# ck_bitmap FILE DIRTY...: one 4 KiB bitmap block.
ck_bitmap() { local f=$1; shift; bits_le 32768 "$@" >"$f"; }
# ck_base: base.img, random, its destination leg a copy of its source leg,
# clean metadata.
ck_base() {
	head -c $CK_SIZE /dev/urandom >base.img
	dd if=base.img of=base.img bs=$CK_LEN skip=$((CK_SRC / CK_LEN)) seek=$((CK_DST / CK_LEN)) count=1 \
		conv=notrunc status=none || die dd
	ck_meta m.clean 0
	dd if=m.clean of=base.img bs=4096 seek=$((CK_META / 4096)) conv=notrunc status=none || die dd
}
# ck_gen SS < OPS: lwgen over base.img.
ck_gen() { LW_BASE=base.img lwgen "$1" $((CK_SIZE / $1)); }
# ck RC [ARGS...]: check-incmirror of log.img over base.img with the layout.
ck() {
	local rc=$1
	shift
	lw "$rc" check-incmirror log.img base.img --src $CK_SRC --dst $CK_DST --len $CK_LEN \
		--meta $CK_META --region $CK_R "$@"
}
# ck_out LINE...: stdout of the last ck is these lines exactly.
ck_out() {
	printf '%s\n' "$@" >want
	diff -u want out || die "check-incmirror printed something else"
}

t_lwreplay_check_clean() {
	need gzip od
	local ss
	ck_base
	head -c 4096 /dev/urandom >d3
	ck_meta m.3 0 3
	ck_meta m.0 0
	for ss in 512 4096; do
		# write-intent: bit 3 durable first, the source written, the
		# destination caught up, the bit cleared once both are flushed
		ck_gen $ss <<-EOF
		m start
		F $((CK_META / ss)) m.3 fua
		F $(((CK_SRC + 3 * 4096) / ss)) d3
		f
		F $(((CK_DST + 3 * 4096) / ss)) d3
		f
		F $((CK_META / ss)) m.0 fua
		m end
		EOF
		ck 0
		ck_out "checked 4 points (2 flush, 2 fua) from entry 1 to 6, 0 violations, max dirty-in-metadata 1, max differing 1"
		[ -s err ] && die "stderr: $(cat err)"
		ck 0 --no-scan
		ck_out "checked 4 points (2 flush, 2 fua) from entry 1 to 6, 0 violations, max dirty-in-metadata 1, max differing 1"
	done
	# the release build says the same
	make -s -C "$TOP/tests/tools" >make.out 2>&1 || { cat make.out; die "make -C tests/tools"; }
	"$TOP/tests/tools/lw-replay" check-incmirror log.img base.img --src 0 --dst 256K --len 256K \
		--meta 512K --region 4K >out || die "release build: exit $?"
	ck_out "checked 4 points (2 flush, 2 fua) from entry 1 to 6, 0 violations, max dirty-in-metadata 1, max differing 1"
}

t_lwreplay_check_violation() {
	need gzip od
	local ss=512
	ck_base
	head -c 4096 /dev/urandom >d5
	head -c 512 /dev/urandom >d9
	ck_bitmap bm.5 5
	ck_meta m.5 0 5
	# 0: bit 5 (whole metadata); 1: region 5 of the source, FUA: fine;
	# 2: region 9 of the source, FUA, its bit clear: a violation;
	# 4: the destination caught up: fine; 5, 6: the whole source discarded
	# (base is random: 64 regions differ, 63 of them clean)
	ck_gen $ss <<-EOF
	F $((CK_META / ss)) m.5 fua
	F $(((CK_SRC + 5 * 4096) / ss)) d5 fua
	F $(((CK_SRC + 9 * 4096 + 1024) / ss)) d9 fua
	F $(((CK_DST + 9 * 4096 + 1024) / ss)) d9
	f
	d $((CK_SRC / ss)) $((CK_LEN / ss))
	f
	EOF
	ck 1
	ck_out "VIOLATION point 2: 1 regions differ but are clean in the metadata: 9" \
		"VIOLATION point 6: 63 regions differ but are clean in the metadata: 0 1 2 3 4 6 7 8 9 10 11 12 13 14 15 16 ..." \
		"checked 5 points (2 flush, 3 fua) from entry 0 to 6, 2 violations, max dirty-in-metadata 1, max differing 64"
	[ -s err ] && die "stderr: $(cat err)"

	# a bitmap-only write is seen (the metadata is decoded again): bit 9
	# set by a FUA write of the bitmap block alone before the source write
	ck_bitmap bm.59 5 9
	ck_gen $ss <<-EOF
	F $((CK_META / ss)) m.5 fua
	F $(((CK_SRC + 5 * 4096) / ss)) d5 fua
	F $(((CK_META + 4096) / ss)) bm.59 fua
	F $(((CK_SRC + 9 * 4096 + 1024) / ss)) d9 fua
	F $(((CK_DST + 9 * 4096 + 1024) / ss)) d9
	F $(((CK_DST + 5 * 4096) / ss)) d5
	f
	F $(((CK_META + 4096) / ss)) bm.5 fua
	F $(((CK_SRC + 20 * 4096) / ss)) d9 fua
	EOF
	ck 1
	ck_out "VIOLATION point 8: 1 regions differ but are clean in the metadata: 20" \
		"checked 7 points (1 flush, 6 fua) from entry 0 to 8, 1 violations, max dirty-in-metadata 2, max differing 2"

	# the last region is short when LEN is not a multiple of REGION: a
	# difference in the last 512 bytes of the source counts only when
	# they are within LEN
	ck_gen $ss <<-EOF
	F $(((CK_SRC + CK_LEN - 512) / ss)) d9 fua
	EOF
	ck 1
	ck_out "VIOLATION point 0: 1 regions differ but are clean in the metadata: 63" \
		"checked 1 points (0 flush, 1 fua) from entry 0 to 0, 1 violations, max dirty-in-metadata 0, max differing 1"
	lw 0 check-incmirror log.img base.img --src $CK_SRC --dst $CK_DST --len $((CK_LEN - 512)) \
		--meta $CK_META --region $CK_R
	ck_out "checked 1 points (0 flush, 1 fua) from entry 0 to 0, 0 violations, max dirty-in-metadata 0, max differing 0"
	lw 1 check-incmirror log.img base.img --src $CK_SRC --dst $CK_DST --len $((CK_LEN - 511)) \
		--meta $CK_META --region $CK_R
	expect_out '^VIOLATION point 0: 1 regions differ but are clean in the metadata: 63$'
	# a write across the end of the source and the start of the destination
	# makes both sides stale: source region 63 and destination region 0
	# now differ from their other side
	head -c 1024 /dev/urandom >d.across
	ck_gen $ss <<-EOF
	F $(((CK_SRC + CK_LEN - 512) / ss)) d.across
	f
	EOF
	ck 1
	ck_out "VIOLATION point 1: 2 regions differ but are clean in the metadata: 0 63" \
		"checked 1 points (1 flush, 0 fua) from entry 1 to 1, 1 violations, max dirty-in-metadata 0, max differing 2"
}

t_lwreplay_check_window() {
	need gzip od
	local ss=512
	ck_base
	head -c 4096 /dev/urandom >d
	ck_meta m.27 0 2 7
	ck_gen $ss <<-EOF
	F $(((CK_SRC + 2 * 4096) / ss)) d fua
	m A
	F $((CK_META / ss)) m.27 fua
	F $(((CK_SRC + 7 * 4096) / ss)) d
	f
	m B
	F $(((CK_SRC + 11 * 4096) / ss)) d fua
	m A
	f
	m B
	m C
	EOF
	v0="VIOLATION point 0: 1 regions differ but are clean in the metadata: 2"
	v6="VIOLATION point 6: 1 regions differ but are clean in the metadata: 11"
	v8="VIOLATION point 8: 1 regions differ but are clean in the metadata: 11"
	ck 1
	ck_out "$v0" "$v6" "$v8" \
		"checked 5 points (2 flush, 3 fua) from entry 0 to 8, 3 violations, max dirty-in-metadata 2, max differing 3"
	# the state in the window includes what came before it (region 2)
	ck 0 --after-mark A --until-mark B
	ck_out "checked 2 points (1 flush, 1 fua) from entry 2 to 4, 0 violations, max dirty-in-metadata 2, max differing 2"
	ck 1 --after-mark A
	ck_out "$v6" "$v8" \
		"checked 4 points (2 flush, 2 fua) from entry 2 to 8, 2 violations, max dirty-in-metadata 2, max differing 3"
	ck 1 --until-mark B
	ck_out "$v0" \
		"checked 3 points (1 flush, 2 fua) from entry 0 to 4, 1 violations, max dirty-in-metadata 2, max differing 2"
	# --until-mark: the first such mark after the --after-mark one
	ck 1 --after-mark B --until-mark B
	ck_out "$v6" "$v8" \
		"checked 2 points (1 flush, 1 fua) from entry 6 to 8, 2 violations, max dirty-in-metadata 2, max differing 3"
	ck 1 --after-mark B --until-mark A
	ck_out "$v6" \
		"checked 1 points (0 flush, 1 fua) from entry 6 to 6, 1 violations, max dirty-in-metadata 2, max differing 3"
	ck 1 --until-mark C
	ck 0 --after-mark C
	ck_out "checked 0 points (0 flush, 0 fua) from entry - to -, 0 violations, max dirty-in-metadata 0, max differing 0"
	expect_err 'warning: no flush or FUA entry in the checked window'
	ck 2 --after-mark nope
	expect_err "log.img: --after-mark: no mark 'nope' in the log"
	ck 2 --until-mark nope
	expect_err "log.img: --until-mark: no mark 'nope' in the log$"
	ck 2 --after-mark C --until-mark A
	expect_err "log.img: --until-mark: no mark 'A' in the log after the --after-mark one"
	[ -s out ] && die "printed on a usage error: $(cat out)"
	return 0
}

t_lwreplay_check_invalid_meta() {
	need gzip od
	local ss=512 M=$CK_META
	ck_base
	ck_meta m.0 0
	zeros 512 >z
	# the superblock sector of m.0 with its owner changed, csum not updated
	head -c 512 m.0 >sb.bad
	printf 'X' | dd of=sb.bad bs=1 seek=40 conv=notrunc status=none
	# geometry that is valid but not the check's
	im_image m.r16 0 0 16 512
	im_image m.t1024 0 0 8 1024
	head -c 512 /dev/urandom >junk
	ck_gen $ss <<-EOF
	F $((M / ss)) m.0 fua
	F $((M / ss)) z fua
	f
	F $((M / ss)) sb.bad fua
	F $((M / ss)) m.r16 fua
	F $((M / ss)) m.t1024 fua
	F $((M / ss)) m.0 fua
	F $((M / ss + 1)) junk fua
	EOF
	ck 1
	expect_out "^VIOLATION point 3: invalid metadata: offset $((M + 4)): csum: superblock checksum 0x[0-9a-f]{8} does not match its contents \(0x[0-9a-f]{8}\) \(0 regions differ\)$"
	grep -v '^VIOLATION point 3:' out >out.rest
	mv out.rest out
	ck_out "VIOLATION point 1: invalid metadata: offset $M: magic: expected 0x524d4d49 (\"IMMR\"), found 0x00000000 (0 regions differ)" \
		"VIOLATION point 2: invalid metadata: offset $M: magic: expected 0x524d4d49 (\"IMMR\"), found 0x00000000 (0 regions differ)" \
		"VIOLATION point 4: invalid metadata: offset $((M + 160)): region_sectors: 16 (8192 bytes), the check's --region is 4096 (0 regions differ)" \
		"VIOLATION point 5: invalid metadata: offset $((M + 176)): nr_regions: 128, the check's --len / --region makes 64 (0 regions differ)" \
		"checked 8 points (1 flush, 7 fua) from entry 0 to 7, 5 violations, max dirty-in-metadata 0, max differing 0"
	# the same images as meta-dirty sees them
	lw 2 meta-dirty snap.3 $M
	expect_err "snap.3: offset $((M + 4)): csum: superblock checksum"
	lw 0 meta-dirty snap.7 $M
	# a superblock whose bitmap is past the end of BASE
	cp base.img b2.img
	dd if=m.0 of=b2.img bs=512 count=1 seek=$(((CK_SIZE - 4096) / 512)) conv=notrunc status=none
	lw 1 check-incmirror log.img b2.img --src $CK_SRC --dst $CK_DST --len $CK_LEN \
		--meta $((CK_SIZE - 4096)) --region $CK_R
	expect_out "^VIOLATION point 0: invalid metadata: offset $CK_SIZE: truncated: the bitmap needs 4096 bytes at offset $CK_SIZE, BASE has $CK_SIZE \(0 regions differ\)$"
	expect_out "^checked 8 points .* 8 violations"
}

t_lwreplay_check_full_copy() {
	need gzip od
	local ss=512
	ck_base
	ck_meta m.full 4
	ck_meta m.0 0 1 2
	ck_gen $ss <<-EOF
	F $((CK_META / ss)) m.full fua
	d $((CK_SRC / ss)) $((CK_LEN / ss))
	f
	F $((CK_META / ss)) m.0 fua
	EOF
	ck 1
	ck_out "VIOLATION point 3: 62 regions differ but are clean in the metadata: 0 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 ..." \
		"checked 3 points (1 flush, 2 fua) from entry 0 to 3, 1 violations, max dirty-in-metadata 64, max differing 64"
	lw 0 meta-dirty snap.2 $CK_META
	[ "$(wc -l <out)" -eq 64 ] || die "meta-dirty of NEEDS_FULL_COPY: $(wc -l <out) regions"
}

t_lwreplay_check_save_at() {
	need gzip od
	local ss=512 i n
	ck_base
	head -c 4096 /dev/urandom >d
	ck_meta m.5 0 5
	ck_gen $ss <<-EOF
	F $((CK_META / ss)) m.5 fua
	F $(((CK_SRC + 5 * 4096) / ss)) d
	m stop
	f
	d $((CK_DST / ss)) 16
	F $(((CK_DST + 5 * 4096) / ss)) d flush
	w 1000 8
	EOF
	n=$(cat nentries)
	# entries 0 and 3 are points, 1 and 6 not; 3 and 6 are past the window
	ck 0 --until-mark stop --save-at 3,1,0,$((n - 1)) --save-dir sv/new
	ck_out "checked 1 points (0 flush, 1 fua) from entry 0 to 0, 0 violations, max dirty-in-metadata 1, max differing 0"
	for i in 0 1 3 $((n - 1)); do
		[ -f sv/new/point-$i.img ] || die "no sv/new/point-$i.img"
		cp base.img r.img
		lw 0 replay log.img r.img --to $((i + 1))
		cmp -s r.img sv/new/point-$i.img || die "point-$i.img differs from replay --to $((i + 1)) over base.img"
	done
	cmp -s sv/new/point-0.img snap.0 || die "point-0.img differs from the generator's state"
	cmp -s sv/new/point-3.img snap.3 || die "point-3.img differs from the generator's state"
	cmp -s sv/new/point-$((n - 1)).img exp.img || die "the last image differs from the generator's"
	[ "$(ls sv/new | wc -l)" -eq 4 ] || die "sv/new holds $(ls sv/new)"
	# base.img is not changed; DIR may exist
	cmp -s base.img snap.0 && die "base.img was written"
	ck 1 --save-at 5 --save-dir sv/new
	cmp -s sv/new/point-5.img snap.5 || die "point-5.img differs from the generator's state"
	ck 2 --save-at $n --save-dir sv/new
	expect_err "log.img: --save-at $n: the log has $n entries"
	ck 2 --save-at 1 --save-dir /proc/nonexistent/dir
	expect_err '/proc/nonexistent: cannot create'
	ck 2 --save-at 1 --save-dir base.img
	expect_err 'base.img: cannot create: not a directory'
	ck 2 --save-at 1
	expect_err '\-\-save-at and --save-dir go together'
	ck 2 --save-dir sv
	expect_err '\-\-save-at and --save-dir go together'
	for bad in 1,,2 ,1 1, x 1,y; do
		ck 2 --save-at $bad --save-dir sv
		expect_err "bad --save-at list '$bad'"
	done
}

t_lwreplay_check_usage() {
	need gzip od
	lw 0 --help
	expect_out '^  check-incmirror \[--no-scan\] LOG BASE --src OFF --dst OFF --len LEN$'
	expect_out '^          --meta OFF --region BYTES \[--after-mark TEXT\] \[--until-mark TEXT\]$'
	expect_out '^          \[--save-at I,J,K --save-dir DIR\]$'
	lw 0 check-incmirror --help
	expect_out '^Usage: lw-replay COMMAND'
	ck_base
	ck_gen 512 <<-EOF
	f
	EOF
	local a="--src 0 --dst 256K --len 256K --meta 512K --region 4K"
	lw 2 check-incmirror log.img $a
	expect_err 'lw-replay check-incmirror: expected two arguments, LOG BASE'
	lw 2 check-incmirror log.img base.img x $a
	expect_err 'expected two arguments, LOG BASE'
	for o in --src --dst --len --meta --region; do
		lw 2 check-incmirror log.img base.img $(echo " $a " | sed "s/ $o [^ ]* / /")
		expect_err "option '$o' is required"
	done
	lw 2 check-incmirror log.img base.img $a --region
	expect_err "option '--region' needs a value"
	lw 2 check-incmirror log.img base.img $a --after-mark
	expect_err "option '--after-mark' needs a value"
	lw 2 check-incmirror log.img base.img $a --len 1Q
	expect_err "bad --len value '1Q'"
	lw 2 check-incmirror log.img base.img $a --region 0
	expect_err '\-\-region must not be 0'
	lw 2 check-incmirror log.img base.img $a --len 0
	expect_err '\-\-len must not be 0'
	lw 2 check-incmirror log.img base.img $a --from 3
	expect_err "unknown option '--from'"
	lw 0 check-incmirror log.img base.img $a
	ck_out "checked 1 points (1 flush, 0 fua) from entry 0 to 0, 0 violations, max dirty-in-metadata 0, max differing 0"
	# slices and superblock within BASE
	lw 2 check-incmirror log.img base.img $a --dst 900K
	expect_err "base.img: 1048576 bytes: too small for --src 0, --dst 921600 with --len 262144"
	lw 2 check-incmirror log.img base.img $a --meta $((1048576 - 511))
	expect_err 'too small'
	lw 1 check-incmirror log.img base.img $a --meta $((1048576 - 512))
	expect_out "^VIOLATION point 0: invalid metadata: offset 1048064: magic: expected 0x524d4d49"
	# a write past the end of BASE
	head -c 512K base.img >small.img
	ck_gen 512 <<-EOF
	w 1030 4 fua
	EOF
	lw 2 check-incmirror log.img small.img --src 0 --dst 128K --len 128K --meta 256K --region 4K
	expect_err "log.img: entry 0 \(log offset 512\) writes bytes 527360..529408, past the end of small.img \(524288 bytes\)"
	# BASE too large
	truncate -s $((1073741824 + 512)) huge.img
	lw 2 check-incmirror log.img huge.img $a
	expect_err 'huge.img: 1073742336 bytes: larger than the 1 GiB check-incmirror loads in memory'
	lw 2 check-incmirror log.img /nonexistent/base $a
	expect_err '/nonexistent/base: cannot open'
	lw 2 check-incmirror /nonexistent/log base.img $a
	expect_err '/nonexistent/log: cannot open'
}

# ck_oracle LO HI: the expected output of check-incmirror (in want) for the
# points with index in [LO, HI), from replay, diff-regions and meta-dirty
# at every point.
ck_oracle() {
	local lo=$1 hi=$2 prev=0 p rest np=0 nf=0 nu=0 nv=0 mxm=0 mxd=0 first=- last=- nd nm v
	cp base.img tgt.img
	: >want
	while read -r p rest; do
		[ "$p" -ge "$lo" ] && [ "$p" -lt "$hi" ] || continue
		case $rest in *flush* | *fua*) ;; *) continue ;; esac
		lw 0 replay log.img tgt.img --from $prev --to $((p + 1))
		prev=$((p + 1))
		"$LW_SAN" diff-regions tgt.img $CK_SRC tgt.img $CK_DST $CK_LEN $CK_R >D
		[ $? -le 1 ] || die "diff-regions failed"
		nd=$(wc -l <D)
		np=$((np + 1))
		case $rest in *flush*) nf=$((nf + 1)) ;; *) nu=$((nu + 1)) ;; esac
		[ "$first" = - ] && first=$p
		last=$p
		[ "$nd" -gt $mxd ] && mxd=$nd
		if ! "$LW_SAN" meta-dirty tgt.img $CK_META >M 2>Merr; then
			echo "VIOLATION point $p: invalid metadata: $(sed -n 's/^lw-replay: tgt.img: //p' Merr) ($nd regions differ)" >>want
			nv=$((nv + 1))
			continue
		fi
		nm=$(wc -l <M)
		[ "$nm" -gt $mxm ] && mxm=$nm
		comm -23 <(sort D) <(sort M) | sort -n >V
		[ -s V ] || continue
		v=$(head -16 V | tr '\n' ' ')
		[ "$(wc -l <V)" -gt 16 ] && v="$v..."
		echo "VIOLATION point $p: $(wc -l <V) regions differ but are clean in the metadata: ${v% }" >>want
		nv=$((nv + 1))
	done <points.want
	echo "checked $np points ($nf flush, $nu fua) from entry $first to $last, $nv violations, max dirty-in-metadata $mxm, max differing $mxd" >>want
	echo $nv >nv
}

# ck_random_ops SEED COUNT: a random mix of source and destination writes,
# destination copies of earlier source writes, discards, metadata updates
# (some of the bitmap block alone, some NEEDS_FULL_COPY, some broken),
# flushes and marks, sectorsize 512.
ck_random_ops() {
	local i k op r off cnt fl nw=0 bits j
	RANDOM=$1
	for ((i = 0; i < $2; i++)); do
		fl=
		[ $((RANDOM % 4)) -eq 0 ] && fl=fua
		[ $((RANDOM % 10)) -eq 0 ] && fl=flush${fl:+,fua}
		op=$((RANDOM % 100))
		if [ $op -lt 30 ]; then	# source write, 1..16 sectors, maybe over the end of the leg
			r=$((RANDOM % 64)) off=$((RANDOM % 8)) cnt=$((RANDOM % 16 + 1))
			head -c $((cnt * 512)) /dev/urandom >w.$nw
			echo "F $(((CK_SRC + r * 4096) / 512 + off)) w.$nw $fl"
			echo "$(((r * 4096) / 512 + off)) w.$nw" >>srcw
			nw=$((nw + 1))
		elif [ $op -lt 50 ] && [ -s srcw ]; then	# the destination catches up
			k=$((RANDOM % $(wc -l <srcw) + 1))
			read -r off j < <(sed -n "${k}p" srcw)
			echo "F $((CK_DST / 512 + off)) $j $fl"
		elif [ $op -lt 58 ]; then	# a destination write of its own
			echo "w $((CK_DST / 512 + RANDOM % 512)) $((RANDOM % 8 + 1)) $fl"
		elif [ $op -lt 63 ]; then	# discard on either leg
			k=$((RANDOM % 2 ? CK_SRC : CK_DST))
			echo "d $((k / 512 + RANDOM % 480)) $((RANDOM % 32 + 1))"
		elif [ $op -lt 78 ]; then	# metadata
			bits=
			for ((j = RANDOM % 12; j > 0; j--)); do bits="$bits $((RANDOM % 64))"; done
			[ $((RANDOM % 3)) -eq 0 ] && bits="$bits $(seq 0 63 | tr '\n' ' ')"
			if [ $((RANDOM % 3)) -eq 0 ]; then
				ck_bitmap m.$i $bits
				echo "F $(((CK_META + 4096) / 512)) m.$i $fl"
			else
				ck_meta m.$i $((RANDOM % 6 == 0 ? 4 : RANDOM % 2)) $bits
				echo "F $((CK_META / 512)) m.$i $fl"
			fi
		elif [ $op -lt 81 ]; then	# a broken superblock sector
			echo "w $((CK_META / 512)) 1 $fl"
		elif [ $op -lt 93 ]; then
			echo f
		else
			echo "m M$((RANDOM % 3))"
		fi
	done
}

t_lwreplay_check_oracle() {
	need gzip od comm
	local seed lo hi n
	ck_base
	for seed in 1 2 3; do
		: >srcw
		ck_random_ops $seed 150 >ops
		ck_gen 512 <ops
		n=$(cat nentries)
		ck_oracle 0 "$n"
		ck $(($(cat nv) ? 1 : 0))
		diff -u want out || die "seed $seed: check-incmirror differs from the replay oracle"
		grep -q ' fua) from entry [0-9]' want || die "seed $seed: no point"
		echo "NOTE: seed $seed: $n entries: $(tail -1 out)"
		# a window between marks
		lo=$(awk '$3 == "M1" { print $1; exit }' points.want)
		[ -n "$lo" ] || continue
		hi=$(awk -v lo="$lo" '$1 > lo && $3 == "M2" { print $1; exit }' points.want)
		[ -n "$hi" ] || continue
		ck_oracle $((lo + 1)) "$hi"
		ck $(($(cat nv) ? 1 : 0)) --after-mark M1 --until-mark M2
		diff -u want out || die "seed $seed: check-incmirror --after-mark M1 --until-mark M2 differs from the replay oracle"
		echo "NOTE: seed $seed: $(tail -1 out) [window $lo..$hi]"
	done
}

t_lwreplay_check_speed() {
	# 20000 entries over a 64 MiB device (tests/unit/lw-check-gen.c: a
	# write-intent protocol, right by construction), timed with the release
	# build; then the same with one write that skips its bit, checked with
	# the sanitized build
	local a="--src 0 --dst 24M --len 24M --meta 48M --region 64K" t p e r
	cc -std=c11 -Wall -Wextra -Werror -O2 -o gen "$TOP/tests/unit/lw-check-gen.c" || die "cannot build lw-check-gen"
	./gen log.img base.img 20000 7 >gen.out || die "lw-check-gen failed"
	p=$(sed -n 's/^points //p' gen.out)
	make -s -C "$TOP/tests/tools" >make.out 2>&1 || { cat make.out; die "make -C tests/tools"; }
	cat log.img base.img >/dev/null
	TIMEFORMAT=%R
	t=$({ time "$TOP/tests/tools/lw-replay" check-incmirror log.img base.img $a >out; } 2>&1) ||
		{ cat out; die "check-incmirror: exit $? on a right protocol"; }
	grep -qE "^checked $p points \([0-9]+ flush, [0-9]+ fua\) from entry [0-9]+ to [0-9]+, 0 violations, max dirty-in-metadata [1-9][0-9]*, max differing [1-9][0-9]*\$" out ||
		die "summary: $(cat out), want $p points"
	echo "NOTE: check-incmirror, 20000 entries ($(($(stat -c %s log.img) >> 20)) MiB log), 64 MiB image, release build, page cache warm: ${t}s: $(cat out)"
	awk -v t="$t" 'BEGIN { exit !(t < 20) }' || die "too slow: $t s"
	rm -f log.img base.img
	./gen log.img base.img 20000 7 12000 >gen.out || die "lw-check-gen failed"
	read -r _ _ e _ r < <(grep '^bug entry' gen.out)
	[ -n "$r" ] || die "lw-check-gen: no bug injected: $(cat gen.out)"
	lw 1 check-incmirror log.img base.img $a
	[ "$(head -1 out)" = "VIOLATION point $e: 1 regions differ but are clean in the metadata: $r" ] ||
		die "with a bit skipped at entry $e (region $r): $(head -3 out)"
	grep -v "^VIOLATION point [0-9]*: 1 regions differ but are clean in the metadata: $r\$" out >other
	grep -qE "^checked $(sed -n 's/^points //p' gen.out) points .*, [1-9][0-9]* violations, " other &&
		[ "$(wc -l <other)" -eq 1 ] ||
		die "with a bit skipped: $(head -5 other)"
	rm -f log.img base.img
}
