# SPDX-License-Identifier: GPL-2.0
# Test helpers and test functions (t_*) for tests/unit/run. Each t_* runs in
# its own empty directory, exits 0 (pass), 77 (skip, last line says why) or
# anything else (fail). Lines starting with NOTE: are shown even on success.
# Needs: $B (sanitized binary), $BREL (release binary), $CORE, $FIX.

die() { echo "$*"; exit 1; }
skip() { echo "$*"; exit 77; }
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "$c not installed"; done; }

# b RC ARGS...: run the (sanitized) tool; stdout -> out, stderr -> err; exit status must be RC
b() {
	local want=$1 rc
	shift
	"$B" "$@" >out 2>err
	rc=$?
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' err; then
		cat err
		die "sanitizer report: incmirror-bitmap $*"
	fi
	[ "$rc" -eq "$want" ] || { cat err; die "exit $rc, expected $want: incmirror-bitmap $*"; }
}
# expect_err ERE: stderr of the last b must match
expect_err() { grep -qE -- "$1" err || { cat err; die "stderr does not match /$1/"; }; }
expect_out() { grep -qE -- "$1" out || { cat out; die "stdout does not match /$1/"; }; }

# regions R: "OFFSET LENGTH" lines on stdin -> the region indexes they touch, one per line
regions() { awk -v R="$1" '$2 > 0 { s = int($1 / R); e = int(($1 + $2 - 1) / R); for (i = s; i <= e; i++) print i }' | sort -n -u; }
# granule_regions G R SIZE: writes ("OFF LEN") -> regions of the granules they dirty, clipped at SIZE
granule_regions() {
	awk -v G="$1" -v S="$3" '{ gs = int($1 / G); ge = int(($1 + $2 - 1) / G); a = gs * G; e = (ge + 1) * G; if (e > S) e = S; print a, e - a }' | regions "$2"
}
# same_regions FILE_A FILE_B: identical region lists
same_regions() { diff -u "$1" "$2" >/dev/null || { diff -u "$1" "$2" | head -20; die "region lists differ: $1 $2"; }; }

# little-endian byte writers
le8() { printf "\\$(printf '%03o' $(($1 & 255)))"; }
le32() { le8 $1; le8 $(($1 >> 8)); le8 $(($1 >> 16)); le8 $(($1 >> 24)); }
le64() { le32 $(($1 & 0xffffffff)); le32 $((($1 >> 32) & 0xffffffff)); }
zeros() { head -c "$1" /dev/zero; }
# bits_le NBITS IDX...: LSB-first bitmap bytes with the given bits set
bits_le() {
	local n=$1
	shift
	awk -v n="$n" -v list="$*" 'BEGIN { k = split(list, a, " "); for (i = 1; i <= k; i++) s[int(a[i] / 8)] += 2 ^ (a[i] % 8);
		for (i = 0; i < int((n + 7) / 8); i++) printf "%c", s[i] + 0 }' | LC_ALL=C cat
}
# patch FILE OFFSET BYTES...: overwrite bytes (decimal values)
patch() {
	local f=$1 off=$2
	shift 2
	for v in "$@"; do
		le8 "$v" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
		off=$((off + 1))
	done
}

# ---------------------------------------------------------------- qcow2

mkqcow() { # IMG SIZE GRAN [qemu-img create opts]
	qemu-img create -q -f qcow2 ${4:-} "$1" "$2" && qemu-img bitmap --add -g "$3" "$1" b || die "qemu-img"
}
qwrite() { # IMG "OFF LEN"...
	local img=$1 args=()
	shift
	for w in "$@"; do args+=(-c "write -P 0x5a $w"); done
	qemu-io -f qcow2 "${args[@]}" "$img" >/dev/null || die "qemu-io"
}

WRITES=("0 512" "65535 2" "1048576 4096" "3000000 200000" "33554432 65536" "67104768 4096")

t_qcow2_granules() {
	need qemu-img qemu-io
	local G R
	for G in 65536 1048576 4096; do
		rm -f img.qcow2
		mkqcow img.qcow2 64M $G
		qwrite img.qcow2 "${WRITES[@]}"
		for R in 4096 65536 1048576; do
			b 0 convert -r $R -O ranges img.qcow2
			regions $R <out >got
			printf '%s\n' "${WRITES[@]}" | granule_regions $G $R 67108864 >want
			same_regions want got
		done
	done
	# odd image size: last granule partial, 512-byte cluster image
	rm -f img.qcow2
	mkqcow img.qcow2 $((64 * 1048576 + 12288)) 65536 "-o cluster_size=512"
	qwrite img.qcow2 "67112960 4096" "0 1"
	b 0 convert -r 4096 -O ranges img.qcow2
	printf '%s\n' "67112960 4096" "0 1" | granule_regions 65536 4096 $((64 * 1048576 + 12288)) >want
	regions 4096 <out >got
	same_regions want got
	b 0 info img.qcow2
	expect_out '^device-size: 67121152$'
	expect_out 'bitmap: b granularity=65536 flags=auto dirty-granules=2$'
}

t_qcow2_merge_oracle() {
	need qemu-img qemu-io
	mkqcow img.qcow2 256M 65536
	qwrite img.qcow2 "${WRITES[@]}" "200000000 1" "134217728 1048577"
	qemu-img bitmap --add -g 1M img.qcow2 big || die "add big"
	qemu-img bitmap --add -g 4K img.qcow2 small || die "add small"
	qemu-img bitmap --merge b img.qcow2 big || die "merge big"
	qemu-img bitmap --merge b img.qcow2 small || die "merge small"
	# QEMU's own rescaling of b to 1 MiB must equal ours
	b 0 convert --name b -r 1M -O ranges img.qcow2
	regions 1048576 <out >ours
	b 0 convert --name big -r 1M -O ranges img.qcow2
	regions 1048576 <out >qemu
	same_regions qemu ours
	# and to 4 KiB granules, read at 64 KiB regions, gives back b exactly
	b 0 convert --name b -r 64K -O ranges img.qcow2
	regions 65536 <out >ours
	b 0 convert --name small -r 64K -O ranges img.qcow2
	regions 65536 <out >qemu
	same_regions qemu ours
	# coarse input, fine regions: every 64 KiB region of each dirty 1 MiB granule
	b 0 convert --name big -r 64K -O ranges img.qcow2
	b 0 convert --name big -r 1M -O ranges img.qcow2
	regions 1048576 <out | awk '{ for (i = 0; i < 16; i++) print $1 * 16 + i }' | sort -n -u >want
	b 0 convert --name big -r 64K -O ranges img.qcow2
	regions 65536 <out >got
	same_regions want got
}

t_qcow2_names_and_flags() {
	need qemu-img qemu-io
	mkqcow img.qcow2 8M 65536
	qemu-img bitmap --add -g 128K img.qcow2 second || die "add"
	qemu-img bitmap --disable img.qcow2 second || die "disable"
	qwrite img.qcow2 "0 1" "4194304 1"
	b 1 convert -r 64K img.qcow2
	expect_err 'choose one with --name: b second'
	b 2 convert -r 64K --name nope img.qcow2
	expect_err "img.qcow2: offset [0-9]+: no bitmap named 'nope'"
	b 0 convert -r 64K --name b img.qcow2
	[ "$(cat out)" = "set_dirty 0 64" ] || die "got $(cat out)"
	b 0 info img.qcow2
	expect_out '^bitmap: b granularity=65536 flags=auto dirty-granules=2$'
	expect_out '^bitmap: second granularity=131072 flags=none dirty-granules=0$'
	expect_out '^autoclear-bitmaps: set'
	# --json: one array, one object per file, repeated keys as arrays,
	# "unknown" kept as a string (never 0).
	b 0 info --json img.qcow2
	[ "$(wc -l <out)" = 1 ] || die "info --json: $(cat out)"
	expect_out '^\[\{"file":"img.qcow2","format":"qcow2",'
	expect_out '"bitmap":\["b granularity=65536 flags=auto dirty-granules=2","second granularity=131072 flags=none dirty-granules=0"\]'
	expect_out '"dirty-extents":"unknown \('
	b 0 info --json --name b img.qcow2 img.qcow2
	expect_out '"dirty-extents":2,"dirty-bytes":131072,'
	[ "$(grep -o '"file":' out | wc -l)" = 2 ] || die "two files, not two objects: $(cat out)"
	python3 -c 'import json, sys; a = json.load(open("out")); assert len(a) == 2 and a[0]["dirty-bytes"] == 131072' ||
		die "info --json is not the JSON expected: $(cat out)"
}

t_qcow2_in_use_refused() {
	need qemu-img qemu-io
	mkqcow img.qcow2 8M 65536
	qwrite img.qcow2 "65536 1"
	qemu-io -c 'write 0 1' -c 'sigraise 9' img.qcow2 >/dev/null 2>&1	# dies with the bitmap in_use
	b 0 info img.qcow2
	expect_out 'flags=in_use,auto'
	b 2 convert -r 64K img.qcow2
	expect_err "img.qcow2: offset [0-9]+: bitmap 'b' is inconsistent: the bitmap is marked in_use"
	b 0 convert -r 64K --force img.qcow2
	expect_err 'treating all 8388608 bytes as dirty'
	[ "$(cat out)" = "set_dirty 0-127" ] || die "forced: $(cat out)"
}

t_qcow2_autoclear_clear_refused() {
	need qemu-img qemu-io
	mkqcow img.qcow2 8M 65536
	qwrite img.qcow2 "65536 1"
	patch img.qcow2 95 0	# autoclear_features (BE u64 at 88): clear bit 0
	b 2 convert -r 64K img.qcow2
	expect_err "img.qcow2: offset 88: .*autoclear bit 0"
	b 0 convert -r 64K --force -O ranges img.qcow2
	[ "$(cat out)" = "0 8388608" ] || die "forced: $(cat out)"
}

t_qcow2_corrupt_inputs() {
	need qemu-img qemu-io
	mkqcow img.qcow2 8M 65536
	qwrite img.qcow2 "65536 1"
	b 0 info img.qcow2
	dir=$(sed -n 's/^bitmap-directory: offset=\([0-9]*\) .*/\1/p' out)
	[ -n "$dir" ] || die "no directory offset"
	# truncated image: header ok, directory missing
	head -c 70000 img.qcow2 >trunc.qcow2
	b 2 convert -r 64K trunc.qcow2
	expect_err "trunc.qcow2: offset [0-9]+: truncated: expected [0-9]+ bytes of bitmap (directory|table|data)"
	head -c 50 img.qcow2 >hdr.qcow2
	b 2 convert -r 64K hdr.qcow2
	expect_err "hdr.qcow2: offset 0: truncated: expected 72 bytes of qcow2 header"
	# granularity_bits out of range (directory entry byte 17)
	cp img.qcow2 g.qcow2
	patch g.qcow2 $((dir + 17)) 40
	b 2 convert -r 64K g.qcow2
	expect_err "g.qcow2: offset $((dir + 17)): bitmap 'b': expected granularity_bits 9..31, found 40"
	# bitmap type
	cp img.qcow2 t.qcow2
	patch t.qcow2 $((dir + 16)) 2
	b 2 convert -r 64K t.qcow2
	expect_err "offset $((dir + 16)): .*expected type 1"
	# table size that does not match the image size
	cp img.qcow2 s.qcow2
	patch s.qcow2 $((dir + 11)) 9
	b 2 convert -r 64K s.qcow2
	expect_err "offset $((dir + 8)): .*expected bitmap_table_size 1"
	# reserved bits in a bitmap table entry
	tab=$(od -An -t u1 -j "$dir" -N 8 img.qcow2 | awk '{ v = 0; for (i = 1; i <= 8; i++) v = v * 256 + $i; print v }')
	cp img.qcow2 r.qcow2
	patch r.qcow2 $((tab + 7)) 2
	b 2 convert -r 64K r.qcow2
	expect_err "offset $tab: .*reserved bits set"
	# wrong endianness of the version field
	cp img.qcow2 v.qcow2
	patch v.qcow2 4 3 0 0 0
	b 2 convert -r 64K v.qcow2
	expect_err "v.qcow2: offset 4: expected qcow2 version 3"
	# oversized virtual size
	cp img.qcow2 o.qcow2
	patch o.qcow2 24 127
	b 2 convert -r 64K o.qcow2
	expect_err "o.qcow2: offset 24: oversized"
	# image marked corrupt (incompatible feature bit 1)
	cp img.qcow2 c.qcow2
	patch c.qcow2 79 2
	b 2 convert -r 64K c.qcow2
	expect_err "c.qcow2: offset 72: the image is marked corrupt"
	b 0 convert -r 64K --force -O ranges c.qcow2
	[ "$(cat out)" = "0 8388608" ] || die "forced corrupt: $(cat out)"
	# no bitmaps at all
	qemu-img create -q -f qcow2 none.qcow2 1M
	b 2 convert -r 64K none.qcow2
	expect_err "no persistent bitmaps"
}

# ---------------------------------------------------------------- nbd

t_nbd_map_matches_qcow2() {
	need qemu-img qemu-io qemu-nbd nbdinfo
	mkqcow img.qcow2 64M 65536
	qwrite img.qcow2 "${WRITES[@]}"
	timeout 60 nbdinfo --json --map=qemu:dirty-bitmap:b -- [ qemu-nbd -f qcow2 -B b img.qcow2 ] >map.json 2>nbd.err ||
		skip "nbdinfo/qemu-nbd failed: $(tail -1 nbd.err)"
	b 0 info map.json
	expect_out '^format: nbd$'
	expect_out '^device-size: 67108864$'
	b 0 convert -r 4K -O ranges map.json
	mv out nbd.out
	b 0 convert -r 4K -O ranges img.qcow2
	cmp -s nbd.out out || die "nbd map and qcow2 bitmap differ"
	# a gap between extents is corrupt
	printf '[\n{ "offset": 0, "length": 65536, "type": 1},\n{ "offset": 131072, "length": 65536, "type": 0}\n]\n' >gap.json
	b 2 convert -r 64K --format nbd gap.json
	expect_err 'gap.json: offset 46: expected an extent at offset 65536'
	printf '[{ "offset": 0, "length": 65536, "type": 1},' >trunc.json
	b 2 convert -r 64K --format nbd trunc.json
	expect_err 'trunc.json: offset [0-9]+: truncated'
	printf '[{ "offset": -1, "length": 65536, "type": 1}]' >neg.json
	b 2 convert -r 64K --format nbd neg.json
	expect_err 'neg.json: offset 1: expected "offset" between 0'
	printf '[{ "offset": 0, "length": 65536, "type": 1}] x' >junk.json
	b 2 convert -r 64K --format nbd junk.json
	expect_err 'junk.json: offset 45: expected end of file'
}

# ---------------------------------------------------------------- dm-era

t_era_invalidate() {
	need era_restore era_invalidate
	{
		echo '<superblock uuid="" block_size="128" nr_blocks="64" current_era="20">'
		echo '  <writeset era="19" nr_bits="64">'
		for i in $(seq 0 63); do
			v=false; [ $i -eq 40 ] && v=true
			echo "    <bit block=\"$i\" value=\"$v\"/>"
		done
		echo '  </writeset>'
		echo '  <era_array>'
		for i in $(seq 0 63); do
			e=1
			case $i in 3|4|5|6|17|63) e=12 ;; 30) e=15 ;; 31) e=9 ;; esac
			echo "    <era block=\"$i\" era=\"$e\"/>"
		done
		echo '  </era_array>'
		echo '</superblock>'
	} >era.xml
	truncate -s 4M era.meta
	era_restore -i era.xml -o era.meta || die "era_restore"
	era_invalidate --written-since 10 era.meta >inv.xml || die "era_invalidate"
	cat inv.xml
	# expected blocks from the list itself: range end exclusive
	sed -n 's/.*<range begin *= *"\([0-9]*\)" end *= *"\([0-9]*\)".*/\1 \2/p; s/.*<block block *= *"\([0-9]*\)".*/\1 X/p' inv.xml |
		awk '$2 == "X" { print $1 * 65536, 65536; next } { print $1 * 65536, ($2 - $1) * 65536 }' >blocks
	[ -s blocks ] || die "era_invalidate listed nothing"
	grep -q 'end *= *"' inv.xml || die "no range in era_invalidate output"
	for R in 4096 65536 1048576; do
		b 0 convert -r $R -O ranges --table "0 8192 era /dev/meta /dev/origin 128" inv.xml
		regions $R <out >got
		regions $R <blocks >want
		same_regions want got
	done
	# expected exactly: blocks 3-6, 17, 30, 40 (writeset), 63
	b 0 convert -r 64K --granularity 64K -O ranges inv.xml
	regions 65536 <out | tr '\n' ' ' >got
	[ "$(cat got)" = "3 4 5 6 17 30 40 63 " ] || die "era regions: $(cat got)"
	b 0 info --table "0 8192 era /dev/meta /dev/origin 128" inv.xml
	expect_out '^format: era$'
	expect_out '^device-size: 4194304$'
	expect_out '^granularity: 65536$'
	# spaces around '=' everywhere (thin-provisioning-tools 0.9 style) and single quotes
	printf '<blocks>\n  <range begin = "1" end= "3"/>\n  <block block ='"'"'9'"'"' />\n</blocks>\n' >sp.xml
	b 0 convert -r 64K -g 64K -O ranges sp.xml
	[ "$(cat out | tr '\n' ' ')" = "65536 131072 589824 65536 " ] || die "spaces: $(cat out)"
	# errors: line numbers
	printf '<blocks>\n  <range begin="5" end="5"/>\n</blocks>\n' >empty.xml
	b 2 convert -r 64K -g 64K empty.xml
	expect_err 'empty.xml: line 2: <range>: expected end > begin'
	printf '<blocks>\n  <range begin="5"/>\n</blocks>\n' >noend.xml
	b 2 convert -r 64K -g 64K noend.xml
	expect_err 'noend.xml: line 2: <range>: expected attribute end'
	printf '<blocks>\n  <range begin="5" end="x7"/>\n</blocks>\n' >bad.xml
	b 2 convert -r 64K -g 64K bad.xml
	expect_err 'bad.xml: line 2: <range>: expected an unsigned decimal end'
	printf '<blocks>\n  <range begin="5" end="7"/>\n' >trunc.xml
	b 2 convert -r 64K -g 64K trunc.xml
	expect_err 'trunc.xml: line [0-9]+: malformed XML'
	printf '<blocks>\n<foo/>\n</blocks>\n' >foo.xml
	b 2 convert -r 64K -g 64K --format era foo.xml
	expect_err 'foo.xml: line 2: expected <range> or <block>, found <foo>'
	printf '<blocks>\n<block block="99999999999999999999"/>\n</blocks>\n' >big.xml
	b 2 convert -r 64K -g 64K big.xml
	expect_err 'big.xml: line 2: <block>: expected an unsigned decimal block'
	printf '<blocks>\n<block block="1099511627776"/>\n</blocks>\n' >huge.xml
	b 2 convert -r 64K -g 64K huge.xml
	expect_err 'huge.xml: line 2: oversized'
	b 1 convert -r 64K inv.xml
	expect_err 'give --granularity or --table'
}

# ---------------------------------------------------------------- thin

t_thin_delta() {
	need thin_restore thin_delta
	cat >thin.xml <<'XML'
<superblock uuid="" time="1" transaction="1" flags="0" version="2" data_block_size="128" nr_data_blocks="1000">
  <device dev_id="1" mapped_blocks="9" transaction="0" creation_time="0" snap_time="0">
    <range_mapping origin_begin="0" data_begin="0" length="4" time="0"/>
    <range_mapping origin_begin="20" data_begin="30" length="5" time="0"/>
  </device>
  <device dev_id="2" mapped_blocks="9" transaction="0" creation_time="0" snap_time="1">
    <range_mapping origin_begin="0" data_begin="0" length="2" time="0"/>
    <single_mapping origin_block="2" data_block="10" time="1"/>
    <single_mapping origin_block="3" data_block="3" time="0"/>
    <range_mapping origin_begin="7" data_begin="20" length="2" time="1"/>
    <range_mapping origin_begin="20" data_begin="30" length="2" time="0"/>
  </device>
</superblock>
XML
	truncate -s 8M thin.meta
	thin_restore -i thin.xml -o thin.meta >/dev/null || die "thin_restore"
	thin_delta --snap1 1 --snap2 2 thin.meta >delta.xml || die "thin_delta"
	thin_delta --verbose --snap1 1 --snap2 2 thin.meta >delta-v.xml || die "thin_delta --verbose"
	cat delta.xml
	grep -q left_only delta.xml || die "no left_only in the delta"
	# changed: block 2 (different), 7-8 (right_only), 22-24 (left_only)
	for f in delta.xml delta-v.xml; do
		b 0 convert -r 64K -O ranges "$f"
		[ "$(regions 65536 <out | tr '\n' ' ')" = "2 7 8 22 23 24 " ] || die "$f: $(regions 65536 <out | tr '\n' ' ')"
		b 0 convert -r 1M -O ranges "$f"
		[ "$(regions 1048576 <out | tr '\n' ' ')" = "0 1 " ] || die "$f 1M: $(cat out)"
		b 0 info "$f"
		expect_out '^format: thin$'
		expect_out '^granularity: 65536$'
	done
	b 0 convert -r 64K --table "0 4096 thin /dev/mapper/pool 2" -O canonical -o c.bm delta.xml
	b 0 info c.bm
	expect_out '^device-size: 2097152$'
	b 2 convert -r 64K --granularity 128K delta.xml
	expect_err 'data_block_size 65536 bytes disagrees'
	sed 's/<different/<weird/' delta.xml >bad.xml
	b 2 convert -r 64K bad.xml
	expect_err 'bad.xml: line 4: expected <same>, <different>, <right_only> or <left_only>, found <weird>'
	sed 's/data_block_size="128"/data_block_size="0"/' delta.xml >zero.xml
	b 2 convert -r 64K zero.xml
	expect_err 'zero.xml: line 1: expected data_block_size'
	sed 's/ length="1"/ length="-1"/' delta.xml >neg.xml
	b 2 convert -r 64K neg.xml
	expect_err 'neg.xml: line [0-9]+: <different>: expected an unsigned decimal length'
}

# ---------------------------------------------------------------- rbd

rbd_fixtures() { [ -r "$FIX/rbd/diff-s1-s2.json" ] || skip "no rbd fixtures in $FIX/rbd"; }

t_rbd_json() {
	rbd_fixtures
	b 0 convert -r 64K -O ranges "$FIX/rbd/diff-s1-s2.json"
	# 4096+8192 -> 0; 20M+512K -> 320-327; 32M+1088K -> 512-528
	[ "$(regions 65536 <out | tr '\n' ' ')" = "0 $(seq -s ' ' 320 327) $(seq -s ' ' 512 528) " ] ||
		die "s1-s2: $(regions 65536 <out | tr '\n' ' ')"
	# "exists":"false" is still a change (discard 0 4M)
	b 0 convert -r 1M -O ranges "$FIX/rbd/diff-s2-s3.json"
	[ "$(regions 1048576 <out | tr '\n' ' ')" = "0 1 2 3 40 " ] || die "s2-s3: $(cat out)"
	b 0 convert -r 4M -O ranges "$FIX/rbd/diff-s1-s2.whole.json"
	[ "$(regions 4194304 <out | tr '\n' ' ')" = "0 5 8 " ] || die "whole: $(cat out)"
	b 0 info "$FIX/rbd/diff-base-s1.json"
	expect_out '^format: rbd-json$'
	expect_out '^dirty-bytes: 5242880$'
	printf '[{"offset":0,"length":"x","exists":"true"}]' >bad.json
	b 2 convert -r 64K bad.json
	expect_err 'bad.json: offset 1: expected an integer "length"'
	printf '[{"offset":0,"length":4096,"exists":"true"} {"offset":1}]' >comma.json
	b 2 convert -r 64K comma.json
	expect_err "comma.json: offset 44: expected ',' or ']'"
	printf '[{"offset":0,"length":4096,"exists":"true"},{"offset":9223372036854775807,"length":1,"exists":"true"}]' >far.json
	b 2 convert -r 64K far.json
	expect_err 'far.json: offset 44: oversized'
}

t_rbd_plain_table() {
	rbd_fixtures
	b 0 convert -r 4K -O ranges "$FIX/rbd/diff-s1-s2.txt"
	mv out txt.out
	b 0 convert -r 4K -O ranges "$FIX/rbd/diff-s1-s2.json"
	cmp -s txt.out out || die "plain table and JSON differ"
	b 0 info "$FIX/rbd/diff-s1-s2.txt"
	expect_out '^format: rbd-diff$'
	printf 'Offset Length Type\n4096 8192 data\n1x 5 data\n' >bad.txt
	b 2 convert -r 4K bad.txt
	expect_err 'bad.txt: line 3: expected "OFFSET LENGTH data\|zero"'
}

t_rbd_export_diff() {
	rbd_fixtures
	local pair
	for pair in "base-s1 diff-base-s1" "s1-s2 diff-s1-s2" "s2-s3 diff-s2-s3"; do
		set -- $pair
		b 0 convert -r 4K -O ranges "$FIX/rbd/$1.rbddiff"
		regions 4096 <out >exp.regions
		b 0 convert -r 4K -O ranges "$FIX/rbd/$2.json"
		regions 4096 <out >json.regions
		same_regions json.regions exp.regions
		b 0 info "$FIX/rbd/$1.rbddiff"
		expect_out '^format: rbd-export-diff$'
		expect_out '^device-size: 67108864$'
	done
	# truncated inside the data of a 'w' record, and before the 'e'
	head -c 100000 "$FIX/rbd/s1-s2.rbddiff" >trunc.rbddiff
	b 2 convert -r 4K trunc.rbddiff
	expect_err 'trunc.rbddiff: offset [0-9]+: truncated'
	sz=$(stat -c %s "$FIX/rbd/s2-s3.rbddiff")
	head -c $((sz - 1)) "$FIX/rbd/s2-s3.rbddiff" >noend.rbddiff
	b 2 convert -r 4K noend.rbddiff
	expect_err "noend.rbddiff: offset $((sz - 1)): truncated: expected 1 bytes of record tag"
	cp "$FIX/rbd/s2-s3.rbddiff" tag.rbddiff
	chmod u+w tag.rbddiff
	patch tag.rbddiff 35 81	# the 'z' record tag -> 'Q'
	b 2 convert -r 4K tag.rbddiff
	expect_err "tag.rbddiff: offset 35: expected a record tag f, t, s, w, z or e, found 0x51"
	# an extent beyond the image size
	cp "$FIX/rbd/s2-s3.rbddiff" far.rbddiff
	chmod u+w far.rbddiff
	patch far.rbddiff 43 1	# z offset top byte
	b 2 convert -r 4K far.rbddiff
	expect_err "far.rbddiff: offset 35: extent .* beyond the image size 67108864"
	printf 'rbd diff v2\n' >v2.rbddiff
	b 2 convert -r 4K v2.rbddiff
	expect_err 'v2.rbddiff: offset 10: expected export-diff format v1'
}

# ---------------------------------------------------------------- md

# mkmdsb SYNC_SECTORS CHUNK STATE VERSION: a 256-byte md bitmap superblock
mkmdsb() {
	le32 0x6d746962; le32 $4; zeros 16; le64 100; le64 90; le64 $1; le32 $3; le32 $2
	le32 5; le32 0; le32 0; le32 0; zeros 64; zeros 120
}

t_md_bitmap() {
	# 100 MiB array, 1 MiB chunks -> 100 bits
	{ mkmdsb 204800 1048576 0 4; bits_le 100 0 1 2 50 99; } >bm.file
	[ "$(stat -c %s bm.file)" -eq $((256 + 13)) ] || die "bad synthesised size"
	if command -v mdadm >/dev/null; then
		mdadm -X bm.file >x.out 2>&1
		grep -q 'Bitmap : 100 bits (chunks), 5 dirty' x.out || { cat x.out; die "mdadm -X disagrees"; }
	fi
	b 0 convert -r 1M -O ranges bm.file
	[ "$(regions 1048576 <out | tr '\n' ' ')" = "0 1 2 50 99 " ] || die "bits: $(cat out)"
	b 0 convert -r 64K -O ranges bm.file
	[ "$(regions 65536 <out | wc -l)" -eq 80 ] || die "64K: $(cat out)"
	b 0 info bm.file
	expect_out '^format: md$'
	expect_out '^device-size: 104857600$'
	expect_out '^granularity: 1048576$'
	# a v1.2 member: md superblock at 4 KiB, bitmap_offset 8 sectors later
	{
		zeros 4096
		le32 0xa92b4efc; le32 1; le32 1; le32 0; zeros 80; le32 8; zeros 156
		zeros $((8192 - 4096 - 256))
		mkmdsb 204800 1048576 0 4; bits_le 100 7 8
		zeros 100000
	} >member.img
	b 0 convert -r 1M -O ranges member.img
	[ "$(regions 1048576 <out | tr '\n' ' ')" = "7 8 " ] || die "member: $(cat out)"
	# stale bitmap refused unless --force
	{ mkmdsb 204800 1048576 2 4; bits_le 100 3; } >stale.file
	b 2 convert -r 1M stale.file
	expect_err 'stale.file: offset 48: md bitmap is stale'
	b 0 convert -r 1M --force -O ranges stale.file
	[ "$(cat out)" = "0 104857600" ] || die "forced stale: $(cat out)"
	# wrong endianness, clustered, bad chunk size, truncated bits
	{ printf 'mtib'; mkmdsb 204800 1048576 0 4 | tail -c +5; bits_le 100 1; } >be.file
	b 2 convert -r 1M --format md be.file
	expect_err 'be.file: offset 0: expected md bitmap magic 0x6d746962 \(found it big-endian'
	{ mkmdsb 204800 1048576 0 5; bits_le 100 1; } >v5.file
	b 2 convert -r 1M v5.file
	expect_err 'v5.file: offset 4: .*clustered'
	{ mkmdsb 204800 1000000 0 4; bits_le 100 1; } >chunk.file
	b 2 convert -r 1M chunk.file
	expect_err 'chunk.file: offset 52: expected a power-of-two chunksize'
	{ mkmdsb 204800 1048576 0 4; bits_le 80 1; } >short.file
	b 2 convert -r 1M short.file
	expect_err 'short.file: offset 266: truncated: expected 13 bytes of bitmap'
	head -c 100 bm.file >hdr.file
	b 2 convert -r 1M hdr.file
	expect_err 'hdr.file: offset 0: truncated: expected 256 bytes of md bitmap superblock'
}

# ---------------------------------------------------------------- ranges, raw

t_ranges_list() {
	printf '# changed\n0 1\n\n64K 4K   # comment\n1M 1M\n' >r.txt
	b 0 convert -r 64K -O ranges r.txt
	[ "$(regions 65536 <out | tr '\n' ' ')" = "0 1 $(seq -s ' ' 16 31) " ] || die "$(cat out)"
	printf '8 1\n2048 2048\n' >s.txt
	b 0 convert -r 4K --units sectors -O ranges s.txt
	[ "$(cat out | tr '\n' ' ')" = "4096 4096 1048576 1048576 " ] || die "sectors: $(cat out)"
	printf '0 1\n5 5\n12 x\n' >bad.txt
	b 2 convert -r 4K bad.txt
	expect_err 'bad.txt: line 3: expected "OFFSET LENGTH"'
	printf '0 1\n16E 5\n' >ovf.txt
	b 2 convert -r 4K ovf.txt
	expect_err 'ovf.txt: line 2: expected "OFFSET LENGTH"'
	printf '0 1\n18446744073709551615 5\n' >ovf2.txt
	b 2 convert -r 4K ovf2.txt
	expect_err 'ovf2.txt: offset 4: extent offset .* overflows 64 bits'
	printf '0 1\0\n' >nul.txt
	b 2 convert -r 4K --format ranges nul.txt
	expect_err 'nul.txt: offset 3: expected text, found a NUL byte'
	# standard input
	printf '4096 1\n' | "$B" convert -r 4K -O ranges - >out 2>err || die "stdin"
	[ "$(cat out)" = "4096 4096" ] || die "stdin: $(cat out)"
}

# info --json: names are strings whatever they look like (a FILE named
# 0042 is "0042", not 42), counts are numbers, also above 2^63 (no int64
# wrap to a negative number).
t_info_json_types() {
	printf '0 4096\n65536 4096\n' >0042
	b 0 info --json -f ranges 0042
	expect_out '^\[\{"file":"0042","format":"ranges",'
	expect_out '"dirty-extents":2,"dirty-bytes":8192,'
	printf '0 9223372036854775809\n' >big
	b 0 info --json -f ranges big
	expect_out '"dirty-bytes":9223372036854775809,'
	python3 -c 'import json; a = json.load(open("out")); assert a[0]["dirty-bytes"] == 2**63 + 1 and a[0]["file"] == "big"' ||
		die "info --json is not the JSON expected: $(cat out)"
}

t_raw_bitmap() {
	printf '\x81\x01' >lsb.raw
	b 0 convert --format raw -g 64K -r 64K -O ranges lsb.raw
	[ "$(regions 65536 <out | tr '\n' ' ')" = "0 7 8 " ] || die "lsb: $(cat out)"
	b 0 convert --format raw --bit-order msb -g 64K -r 64K -O ranges lsb.raw
	[ "$(regions 65536 <out | tr '\n' ' ')" = "0 7 15 " ] || die "msb: $(cat out)"
	b 1 convert --format raw -r 64K lsb.raw
	expect_err 'needs --granularity'
	# padding bits beyond --device-size
	b 4 convert --format raw -g 64K -r 64K -s 512K lsb.raw
	expect_err 'size mismatch: dirty data up to byte 589824'
	b 0 convert --format raw -g 64K -r 64K -s 512K --size-mismatch=truncate -O ranges lsb.raw
	[ "$(regions 65536 <out | tr '\n' ' ')" = "0 7 " ] || die "truncate: $(cat out)"
}

# ---------------------------------------------------------------- canonical

t_canonical_file() {
	printf '0 1\n1M 4K\n100M 3\n' >r.txt
	b 0 convert -r 64K -s 200M -O canonical -o c.bm r.txt
	[ "$(head -c 8 c.bm)" = IMBITMAP ] || die "magic"
	[ "$(stat -c %s c.bm)" -eq $((64 + 400)) ] || die "size $(stat -c %s c.bm)"
	b 0 info c.bm
	expect_out '^format: canonical$'
	expect_out '^device-size: 209715200$'
	expect_out '^dirty-regions: 3$'
	b 0 convert -r 64K -O ranges c.bm
	[ "$(regions 65536 <out | tr '\n' ' ')" = "0 16 1600 " ] || die "$(cat out)"
	# rescale a canonical file to larger and smaller regions
	b 0 convert -r 1M -O ranges c.bm
	[ "$(regions 1048576 <out | tr '\n' ' ')" = "0 1 100 " ] || die "1M: $(cat out)"
	# every single-byte corruption is refused, with an offset
	for off in 0 8 12 16 24 32 40 48 56 60 64 100 463; do
		cp c.bm x.bm
		v=$(od -An -t u1 -j $off -N 1 c.bm)
		patch x.bm $off $(((v ^ 4) & 255))
		b 2 info x.bm
		expect_err 'x.bm: offset [0-9]+: '
	done
	head -c 300 c.bm >t.bm
	b 2 info t.bm
	expect_err 't.bm: offset 300: truncated: expected file size 464'
	{ cat c.bm; printf x; } >long.bm
	b 2 info long.bm
	expect_err 'long.bm: offset 464: trailing data'
	b 1 convert -r 64K -O canonical -o c2.bm r.txt
	expect_err 'give --device-size'
}

# ---------------------------------------------------------------- behaviour

t_union_and_offset() {
	printf '0 4096\n' >a.txt
	printf '1M 4096\n' >b.txt
	b 0 convert -r 64K -O ranges a.txt b.txt
	[ "$(cat out | tr '\n' ' ')" = "0 65536 1048576 65536 " ] || die "union: $(cat out)"
	# the target maps the input from byte 64K on
	b 0 convert -r 64K --offset 64K -O ranges a.txt b.txt
	[ "$(cat out | tr '\n' ' ')" = "983040 65536 " ] || die "offset: $(cat out)"
	# unaligned offset: conservative (input 1M..1M+4K lands in target 1M-1K.., two regions)
	b 0 convert -r 4K --offset 1K -O ranges b.txt
	[ "$(cat out | tr '\n' ' ')" = "1044480 8192 " ] || die "unaligned offset: $(cat out)"
	b 0 convert -r 64K --offset -1M -O ranges a.txt
	[ "$(cat out | tr '\n' ' ')" = "1048576 65536 " ] || die "negative offset: $(cat out)"
	# messages with --dm-name
	b 0 convert -r 64K --dm-name mir a.txt b.txt
	[ "$(cat out)" = "dmsetup message mir 0 set_dirty 0 16" ] || die "dm-name: $(cat out)"
}

t_size_mismatch() {
	need qemu-img qemu-io
	mkqcow img.qcow2 64M 65536
	qwrite img.qcow2 "0 1" "40M 1"
	b 4 convert -r 64K -s 32M img.qcow2
	expect_err 'img.qcow2: size mismatch: the input describes 67108864 bytes, the device has 33554432'
	b 0 convert -r 64K -s 32M --size-mismatch=truncate -O ranges img.qcow2
	[ "$(cat out)" = "0 65536" ] || die "truncate: $(cat out)"
	b 0 convert -r 64K -s 128M --size-mismatch=extend -O ranges img.qcow2
	[ "$(cat out | tr '\n' ' ')" = "0 65536 41943040 65536 67108864 67108864 " ] || die "extend: $(cat out)"
	b 0 convert -r 64K -s 128M --size-mismatch=truncate -O ranges img.qcow2
	[ "$(cat out | tr '\n' ' ')" = "0 65536 41943040 65536 " ] || die "truncate bigger: $(cat out)"
	# with --offset the input covers less
	b 4 convert -r 64K -s 64M --offset 1M img.qcow2
	expect_err 'describes 66060288 bytes after the offset'
	# the device size defaults to the input's; last region partial
	b 0 convert -r 64K -s 64M -O canonical -o c.bm img.qcow2
	b 0 convert -r 1M -s $((64 * 1048576 + 512)) --size-mismatch=extend -O ranges c.bm
	[ "$(cat out | tr '\n' ' ')" = "0 1048576 41943040 1048576 67108864 512 " ] || die "partial: $(cat out)"
}

t_exit_codes_and_usage() {
	b 1
	b 1 frobnicate
	expect_err "unknown command 'frobnicate'"
	b 1 convert --bogus x
	expect_err "unknown option '--bogus'"
	b 1 convert x
	expect_err 'expected --region-size'
	b 1 convert -r 3000 x
	expect_err "bad region size '3000'"
	# the target's largest region is 1 GiB (2^21 sectors): larger is refused
	b 1 convert -r 2G x
	expect_err "bad region size '2G' \\(a power of two from 4096 to 1G\\)"
	b 1 convert --region-sectors 4194304 x
	expect_err "bad region sectors '4194304' \\(a power of two from 8 to 2097152\\)"
	printf '0 4096\n' >one.ranges
	b 0 convert --region-sectors 2097152 -s 3G -f ranges -O ranges one.ranges
	[ "$(cat out)" = "0 1073741824" ] || die "1 GiB regions: $(cat out)"
	b 1 convert -r 64K
	expect_err 'expected at least one INPUT'
	b 1 convert -r 64K --start x
	expect_err "option '--start' does not apply"
	# The option is named, not its value; --json belongs to info.
	b 1 info -s 1G x
	expect_err "option '--device-size' does not apply to this command"
	b 1 convert -r 64K --json x
	expect_err "option '--json' does not apply to this command"
	b 1 convert -r 64K --format nope x
	expect_err "unknown format 'nope'"
	b 1 save dev
	expect_err 'expected -o FILE'
	b 2 convert -r 64K /nonexistent/file
	expect_err '/nonexistent/file: cannot open'
	printf 'hello\n' >junk
	b 2 convert -r 64K junk
	expect_err 'junk: offset 0: unknown format'
	b 2 info junk
	b 0 --version
	b 0 --help
	expect_out '^Usage: incmirror-bitmap COMMAND'
	# no such device-mapper device (or no device-mapper at all): 3
	printf '0 1\n' >r.txt
	b 3 load incmirror-test-no-such-device-$$ r.txt
	b 3 save incmirror-test-no-such-device-$$ -o x.bm
	b 3 load /dev/null r.txt
	expect_err '/dev/null: not a block device'
	# Without device-mapper: one line, not libdevmapper's four.
	mkdir -p nodm
	DM_DEV_DIR=$PWD/nodm b 3 load incmirror-test-no-such-device-$$ r.txt
	[ "$(wc -l <err)" = 1 ] &&
		grep -q "^incmirror-bitmap: cannot use device-mapper: $PWD/nodm/mapper/control: .* (is dm-mod loaded, are you root?)$" err ||
		die "not one line: $(cat err)"
}

t_help_matches_doc() {
	local doc=$TOP/Documentation/incmirror-bitmap.rst cmd
	[ -r "$doc" ] || die "missing $doc"
	for cmd in main convert load save info; do
		awk -v c="$cmd" '$0 == ".. help-begin " c { on = 1; next } $0 == ".. help-end " c { on = 0 } on' "$doc" |
			sed -n '/^::$/,$p' | sed '1d' | sed '/./,$!d' | sed 's/^    //' |
			awk '{ l[NR] = $0 } END { n = NR; while (n > 0 && l[n] == "") n--; for (i = 1; i <= n; i++) print l[i] }' >doc.txt
		if [ "$cmd" = main ]; then "$B" --help >help.txt; else "$B" "$cmd" --help >help.txt; fi
		[ -s doc.txt ] || die "no help block for $cmd in the documentation"
		diff -u doc.txt help.txt || die "--help of $cmd differs from $doc"
	done
	# every documented exit status is the one the code uses
	for x in "0 EXIT_OK" "1 EXIT_USAGE" "2 EXIT_INPUT" "3 EXIT_DEVICE" "4 EXIT_SIZE" "5 EXIT_SYSTEM"; do
		set -- $x
		grep -q "$2 = $1," "$TOP/tools/incmirror-bitmap/common.h" || die "exit code $2 != $1"
		grep -qE "^\*\*$1\*\*" "$doc" || die "exit status $1 not documented"
	done
}

# ---------------------------------------------------------------- messages and scale

t_messages_roundtrip() {
	# random maps of several densities: messages decode (reference decoder) to the same bits
	local n pm
	for pm in 1 50 500 1000; do
		n=$((300000 + pm))
		"$CORE" gen $n $pm $pm >m.raw || die "gen"
		b 0 convert --format raw -g 64K -r 64K -s $((n * 65536)) m.raw
		awk '{ if (length($0) > 65536) bad = 1 } END { exit bad }' out || die "a message exceeds 64 KiB"
		"$CORE" apply $n <out >back.raw || die "apply"
		cmp -s m.raw back.raw || die "density $pm/1000: messages do not reproduce the map"
		echo "NOTE: $n regions at $pm/1000 dirty: $(wc -l <out) messages, $(wc -c <out) bytes"
	done
	# a tiny --max-message still round-trips
	"$CORE" gen 100000 300 7 >m.raw
	b 0 convert --format raw -g 4K -r 4K -s $((100000 * 4096)) --max-message 1200 m.raw
	awk '{ if (length($0) > 1200) bad = 1 } END { exit bad }' out || die "a message exceeds 1200 bytes"
	"$CORE" apply 100000 <out >back.raw && cmp -s m.raw back.raw || die "1200-byte messages"
}

# -o naming a device (here a private null device) writes into it: renaming
# a temporary file over it, as for a regular output, would replace the node
# (it once replaced the host's /dev/null, breaking every later build).
t_output_to_device_node() {
	mknod nulldev c 1 3 2>/dev/null || skip "mknod not permitted"
	printf '0 65536\n' >r.txt
	"$B" convert -r 4K -O ranges -o nulldev r.txt || die "convert -o nulldev"
	[ -c nulldev ] || die "the device node was replaced: $(ls -l nulldev)"
	ls nulldev.tmp.* >/dev/null 2>&1 && die "a temporary file was left behind"
	"$B" convert -r 4K -O ranges -o plain.out r.txt || die "convert -o plain.out"
	[ -f plain.out ] && [ -s plain.out ] || die "regular output not written"
}

t_large_1tib() {
	# 1 TiB at 64 KiB regions = 16 Mi regions, 1% random dirty
	local n=16777216 t0 t1 rss
	"$CORE" gen $n 10 42 >big.raw || die "gen"
	b 0 convert --format raw -g 64K -r 64K -s 1T -O canonical -o big.bm big.raw
	TIMEFORMAT=%R
	t0=$({ time "$BREL" convert -r 64K -O messages -o big.msg big.bm; } 2>&1) || die "convert"
	t1=$({ time "$BREL" convert --format raw -g 64K -r 64K -s 1T -O canonical -o big2.bm big.raw; } 2>&1) || die "convert"
	cmp -s big.bm big2.bm || die "canonical outputs differ"
	"$CORE" apply $n <big.msg >back.raw || die "apply"
	cmp -s big.raw back.raw || die "messages do not reproduce the 1 TiB map"
	rss=
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o rss "$BREL" convert -r 64K -O messages -o - big.bm >/dev/null || die "time"
		rss=$(cat rss)
		[ "$rss" -lt 65536 ] || die "convert used $rss KiB"
	fi
	echo "NOTE: 1 TiB/64 KiB, 1% dirty: canonical->messages ${t0}s ($(wc -l <big.msg) messages, $(wc -c <big.msg) bytes), raw->canonical ${t1}s, max RSS ${rss:-?} KiB"
	awk -v t="$t0" 'BEGIN { exit !(t < 30) }' || die "too slow: $t0 s"
}

# ---------------------------------------------------------------- streams

# rss_of KIB_MAX WANT_RC CMD...: run CMD under /usr/bin/time (a timeout inside
# CMD is counted: time waits for it); its exit status must be WANT_RC and its
# largest resident set at most KIB_MAX KiB. Output in out, err.
rss_of() {
	local max=$1 want=$2 rc rss
	shift 2
	/usr/bin/time -f %M -o rss "$@" >out 2>err
	rc=$?
	rss=$(tail -n 1 rss)
	[ "$rc" -eq "$want" ] || { cat err; die "exit $rc, expected $want: $*"; }
	[ "$rss" -le "$max" ] || die "max RSS $rss KiB, more than $max KiB: $*"
	echo "NOTE: $rss KiB max RSS, exit $rc: $*"
}

# Standard input, pipes and character devices are read through a window,
# never slurped whole: endless inputs stay within fixed memory, and the
# formats that need random access are read into memory up to 64 MiB only.
t_stream_memory_bound() {
	[ -x /usr/bin/time ] || skip "/usr/bin/time not installed"
	need timeout yes
	# refused from its first bytes, at once
	rss_of 16384 2 timeout 10 "$BREL" info /dev/zero
	expect_err '/dev/zero: offset 0: unknown format'
	# endless, of a format read forward: runs in fixed memory until killed
	rss_of 16384 124 timeout 2 "$BREL" info -f raw -g 64K /dev/zero
	rss_of 16384 124 sh -c "yes '0 1' | timeout 2 '$BREL' info -"
	rss_of 16384 124 sh -c "yes '0 1' | timeout 2 '$BREL' convert -r 64K -s 1G -"
	# a format that needs random access, from an endless stream: the bound
	rss_of $((65536 + 16384)) 2 timeout 20 "$BREL" info -f canonical /dev/urandom
	expect_err '/dev/urandom: offset 67108864: a canonical input read from a stream .* at most 64 MiB; this one is longer: write it to a file'
	# 24 MiB of range list through a pipe: the same result as from the file, in fixed memory
	yes '64K 4K' | head -n 3600000 >big.txt
	printf '1G 1\n' >>big.txt
	rss_of 16384 0 sh -c "cat big.txt | '$BREL' convert -r 64K -s 2G -O ranges -"
	[ "$(cat out | tr '\n' ' ')" = "65536 65536 1073741824 65536 " ] || die "pipe: $(cat out)"
	# the sanitized build agrees, on every format from a pipe
	printf '0 1\n1M 4K\n100M 3\n' >r.txt
	b 0 convert -r 64K -s 200M -O canonical -o c.bm r.txt
	b 0 convert -r 64K -O ranges c.bm
	mv out file.out
	cat c.bm | "$B" convert -r 64K -O ranges - >out 2>err || die "canonical from a pipe: $(cat err)"
	cmp -s file.out out || die "canonical: pipe and file differ"
	if [ -r "$FIX/rbd/s1-s2.rbddiff" ]; then
		for f in s1-s2.rbddiff diff-s1-s2.json diff-s1-s2.txt; do
			b 0 convert -r 4K -O ranges "$FIX/rbd/$f"
			mv out file.out
			cat "$FIX/rbd/$f" | "$B" convert -r 4K -O ranges - >out 2>err || die "$f from a pipe: $(cat err)"
			cmp -s file.out out || die "$f: pipe and file differ"
		done
		head -c 100000 "$FIX/rbd/s1-s2.rbddiff" | "$B" convert -r 4K - >out 2>err && die "truncated export-diff accepted"
		expect_err '<stdin>: offset [0-9]+: truncated'
	fi
	printf '<blocks>\n  <range begin="1" end="3"/>\n</blocks>\n' | "$B" convert -r 64K -g 64K -O ranges - >out 2>err ||
		die "era from a pipe: $(cat err)"
	[ "$(cat out)" = "65536 131072" ] || die "era from a pipe: $(cat out)"
}

# ---------------------------------------------------------------- empty inputs, options

# An input that lists no change is what a failed command leaves behind
# (era_invalidate >changed.xml): loading it would start a mirror that copies
# nothing. Refused, naming the input, unless --allow-empty.
t_empty_input_refused() {
	local era="0 8192 era /dev/meta /dev/origin 128"
	: >changed.xml
	b 2 convert --table "$era" -r 64K changed.xml
	expect_err '^incmirror-bitmap: changed.xml: is empty: it lists no change .*give --allow-empty'
	[ -s out ] && die "printed: $(cat out)"
	"$B" convert -r 64K -s 1G - </dev/null >out 2>err && die "an empty standard input accepted"
	expect_err '<stdin>: is empty'
	printf ' \n\n\t\n' >blank.txt
	b 2 convert -r 64K -s 1G blank.txt
	expect_err 'blank.txt: is empty \(blank\)'
	b 2 info changed.xml
	expect_err 'changed.xml: is empty'
	# well-formed lists of no change
	printf '<blocks/>\n' >none.xml
	b 2 convert -r 64K --table "$era" none.xml
	expect_err '^incmirror-bitmap: none.xml: the era input lists no change: nothing would be marked dirty; give --allow-empty'
	printf '[]\n' >none.json
	b 2 convert -r 64K -s 1G none.json
	expect_err 'none.json: the rbd-json input lists no change'
	printf '[{"offset":0,"length":1048576,"type":0}]\n' >clean.json
	b 2 convert -r 64K clean.json
	expect_err 'clean.json: the nbd input lists no change'
	printf '# nothing\n' >none.txt
	b 2 convert -r 64K -s 1G none.txt
	expect_err 'none.txt: the ranges input lists no change'
	{ mkmdsb 2048 65536 0 4; bits_le 16; } >clean.md
	b 2 convert -r 64K clean.md
	expect_err 'clean.md: the md input lists no change'
	b 0 convert -r 64K --allow-empty -s 1M -O canonical -o clean.bm none.txt
	b 2 convert -r 64K clean.bm
	expect_err 'clean.bm: the canonical input lists no change'
	# one empty input among others is still refused
	printf '0 1\n' >one.txt
	b 2 convert -r 64K one.txt none.txt
	expect_err 'none.txt: the ranges input lists no change'
	# --allow-empty: nothing marked, exit 0
	b 0 convert -r 64K --allow-empty -s 1G changed.xml
	[ -s out ] && die "empty: $(cat out)"
	b 0 convert -r 64K --allow-empty --table "$era" -O ranges none.xml
	[ -s out ] && die "none.xml: $(cat out)"
	b 0 convert -r 64K --allow-empty -O ranges one.txt none.txt
	[ "$(cat out)" = "0 65536" ] || die "union: $(cat out)"
	"$B" convert --allow-empty -r 64K -s 1G - </dev/null >out 2>err || die "--allow-empty stdin: $(cat err)"
	# info describes a list of no change as such
	b 0 info --table "$era" none.xml
	expect_out '^dirty-extents: 0$'
	b 0 info --allow-empty changed.xml
	expect_out '^dirty-extents: 0$'
	if command -v qemu-img >/dev/null; then
		mkqcow img.qcow2 8M 65536
		b 2 convert -r 64K img.qcow2
		expect_err 'img.qcow2: the qcow2 input lists no change'
		b 0 convert -r 64K --allow-empty img.qcow2
	fi
}

# A format-specific option that applies to none of the inputs is refused,
# naming the option and the formats, never ignored.
t_options_apply_to_format() {
	local era="0 8192 era /dev/meta /dev/origin 128"
	: >changed.xml
	b 1 convert --allow-empty --table "$era" -r 64K changed.xml
	expect_err "option '--table' \\(an era table line\\) applies to era inputs only; changed.xml is ranges \\(detected\\)"
	printf '0 1\n' >r.txt
	b 1 convert -r 64K -g 64K r.txt
	expect_err "option '--granularity' applies to era, thin and raw inputs only; r.txt is ranges \\(detected\\)"
	b 1 convert -r 64K --name b r.txt
	expect_err "option '--name' applies to qcow2 inputs only"
	b 1 convert -r 64K --force r.txt
	expect_err "option '--force' applies to qcow2, md and dm-snapshot inputs only"
	b 1 convert -r 64K --bit-order msb r.txt
	expect_err "option '--bit-order' applies to raw inputs only"
	b 1 convert -r 64K --units sectors -f raw -g 64K r.txt
	expect_err "option '--units' applies to ranges inputs only; r.txt is raw \\(--format\\)"
	b 1 info -g 64K r.txt
	expect_err "option '--granularity' applies to"
	[ -s out ] && die "info printed: $(cat out)"
	# a thin table line is not an era one, and the reverse
	printf '<blocks>\n<block block="1"/>\n</blocks>\n' >one.xml
	b 1 convert -r 64K --table "0 4096 thin-pool /dev/m /dev/d 128 32768" one.xml
	expect_err 'one.xml: era_invalidate output has no block size'
	b 1 convert -r 64K -g 64K --table "0 4096 thin /dev/mapper/pool 2" one.xml
	expect_err "option '--table' \\(a thin table line\\) applies to thin inputs only; one.xml is era"
	# an option that applies to one of several inputs is used
	b 0 convert -r 64K --table "$era" -O ranges one.xml r.txt
	[ "$(cat out)" = "0 131072" ] || die "mixed: $(cat out)"
	b 0 convert -r 64K --units sectors -O ranges r.txt
	[ "$(cat out)" = "0 65536" ] || die "units: $(cat out)"
}

# ---------------------------------------------------------------- info

# info never prints 0 dirty extents or bytes for an input it could not count.
t_info_unknown_counts() {
	# era list of 6 blocks, no block size
	printf '<blocks>\n  <range begin="3" end="7"/>\n  <block block="17"/>\n  <block block="40"/>\n</blocks>\n' >six.xml
	b 0 info six.xml
	expect_out '^dirty-extents: unknown \(no era block size: give --granularity or --table\)$'
	expect_out '^dirty-bytes: unknown$'
	expect_out '^granularity: unknown$'
	expect_out '^era-blocks: 6$'
	grep -q '^dirty-span' out && die "a span of unknown bytes: $(cat out)"
	b 0 info -g 64K six.xml
	expect_out '^dirty-extents: 3$'
	expect_out '^dirty-bytes: 393216$'
	b 0 info --table "0 8192 era /dev/meta /dev/origin 128" six.xml
	expect_out '^dirty-bytes: 393216$'
	need qemu-img qemu-io
	# qcow2 with two bitmaps, no --name
	mkqcow two.qcow2 8M 65536
	qemu-img bitmap --add -g 64K two.qcow2 second || die "add"
	qwrite two.qcow2 "0 1" "4194304 1"
	b 0 info two.qcow2
	expect_out '^dirty-extents: unknown \(2 bitmaps: choose one with --name\)$'
	expect_out '^dirty-bytes: unknown$'
	expect_out '^bitmap: b granularity=65536 flags=auto dirty-granules=2$'
	expect_out '^bitmap: second granularity=65536 flags=auto dirty-granules=2$'
	b 0 info --name second two.qcow2
	expect_out '^dirty-extents: 2$'
	expect_out '^dirty-bytes: 131072$'
}
