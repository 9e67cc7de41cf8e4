# SPDX-License-Identifier: GPL-2.0
# Unit tests (t_dmsnap_*) of `incmirror-bitmap --format dm-snapshot`, sourced
# by tests/unit/run after lib.sh (uses b, die, expect_err, expect_out,
# regions, same_regions, patch). The exception stores are made at test time
# by tests/unit/dmsnap-gen.c, which writes them as the kernel's
# dm-snap-persistent.c does (header, metadata areas of chunk_size * 32
# entries each followed by their data chunks, allocation skipping the areas,
# out-of-order commits, the next area zeroed when one fills) and prints the
# origin chunks a reader must find, independently of the tool's code. The
# guest case tests/cases/bitmap-dm-snapshot.sh reads stores the kernel wrote.

DS_SRC=$TOP/tests/unit/dmsnap-gen.c
DS_GEN=$T/dmsnap-gen

# ds_build: the generator, built once per run in $T (with sanitizers).
ds_build() {
	[ -x "$DS_GEN" ] && [ "$DS_GEN" -nt "$DS_SRC" ] && return 0
	cc -std=c11 -Wall -Wextra -Werror -O1 -g -fsanitize=address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer -o "$DS_GEN.tmp" "$DS_SRC" ||
		die "cannot build $DS_SRC"
	mv "$DS_GEN.tmp" "$DS_GEN"
}

# ds_gen [OPTIONS] OUT CHUNK_SECTORS ORIGIN_CHUNKS NEXC SEED: make a store;
# its list goes to OUT.list ("old C" lines, "areas N", "next_free F", "bad OFF").
ds_gen() {
	local out
	ds_build
	while [ "${1#-}" != "$1" ]; do out="${out:-} $1 $2"; shift 2; done
	# shellcheck disable=SC2086
	"$DS_GEN" ${out:-} "$@" >"$1.list" || die "dmsnap-gen ${out:-} $*"
}
ds_bad() { sed -n 's/^bad //p' "$1.list"; }
ds_count() { grep -c '^old ' "$1.list"; }
# ds_want COW CHUNK_BYTES R [SIZE]: the regions of R bytes the listed chunks
# touch (each chunk clipped at SIZE bytes when given).
ds_want() {
	awk -v C="$2" -v S="${4:-0}" '$1 == "old" { a = $2 * C; e = a + C; if (S && e > S) e = S; print a, e - a }' "$1.list" |
		regions "$3"
}

t_dmsnap_store_regions() {
	local cs ochunks nexc R chunk epa ae
	# chunk sectors, origin chunks (64 MiB), exceptions, region sizes:
	# region > chunk, = chunk, < chunk; several areas (E = cs * 32)
	while read -r cs nexc rs; do
		chunk=$((cs * 512)) ochunks=$((67108864 / (cs * 512))) epa=$((cs * 32))
		ds_gen cow $cs $ochunks $nexc $((cs + nexc))
		[ "$(ds_count cow)" -eq "$nexc" ] || die "generator listed $(ds_count cow) exceptions"
		# a store of no exception lists no change: accepted with --allow-empty only
		ae=
		[ "$nexc" -eq 0 ] && ae=--allow-empty
		for R in $rs; do
			b 0 convert -r $R -s 64M -O ranges --format dm-snapshot $ae cow
			regions $R <out >got
			ds_want cow $chunk $R >want
			same_regions want got
		done
		# detected without --format
		b 0 info cow
		expect_out '^format: dm-snapshot$'
		expect_out "^granularity: $chunk$"
		expect_out '^device-size: unknown$'
		expect_out '^snapshot-valid: yes$'
		expect_out "^chunk-sectors: $cs$"
		expect_out "^exceptions: $nexc$"
		expect_out "^metadata-areas: $(sed -n 's/^areas //p' cow.list)$"
		expect_out "^allocated-sectors: $(($(sed -n 's/^next_free //p' cow.list) * cs))$"
		expect_out "^metadata-sectors: $((($(sed -n 's/^areas //p' cow.list) + 1) * cs))$"
		echo "NOTE: chunk $chunk, $nexc exceptions in $(sed -n 's/^areas //p' cow.list) areas: regions $rs"
	done <<-EOF
	8 773 4096 65536 1048576
	8 512 4096 65536
	8 0 4096
	8 255 65536
	32 1500 4096 16384 65536
	128 300 4096 65536 4194304
	1 700 4096
	1024 60 4096 65536 1048576
	EOF
	# an empty store (a snapshot nothing was written to): refused unless --allow-empty, then marks nothing
	ds_gen cow 8 16384 0 1
	b 2 convert -r 64K -s 64M -O ranges cow
	expect_err 'cow: the dm-snapshot input lists no change: nothing would be marked dirty; give --allow-empty'
	b 0 convert -r 64K -s 64M --allow-empty -O ranges cow
	[ -s out ] && die "empty store: $(cat out)"
	b 0 convert -r 64K -s 64M --allow-empty cow
	[ -s out ] && die "empty store: messages $(cat out)"
	# the same from standard input
	ds_gen cow 16 8192 900 7
	b 0 convert -r 64K -s 64M -O ranges cow
	mv out file.out
	cat cow | "$B" convert -r 64K -s 64M -O ranges - >out 2>err || die "stdin: $(cat err)"
	cmp -s file.out out || die "stdin and file differ"
	# detected as a store even when its first exception (at 4096) reads as an md superblock magic
	ds_gen cow 8 16384 10 1
	patch cow 4096 252 78 43 169
	b 0 info cow
	expect_out '^format: dm-snapshot$'
	expect_out '^dirty-span: [0-9]+-11625217118207$'
}

t_dmsnap_merge_and_end_marker() {
	# a merge clears entries from the end: they are no longer changes
	ds_gen -k 40 cow 8 16384 600 3
	[ "$(ds_count cow)" -eq 560 ] || die "generator: $(ds_count cow)"
	b 0 convert -r 4K -s 64M -O ranges cow
	regions 4096 <out >got
	ds_want cow 4096 4096 >want
	same_regions want got
	b 0 info cow
	expect_out '^exceptions: 560$'
	# merged back to an area boundary: area 1 full, area 2 starts with the end marker
	ds_gen -k 10 cow 8 16384 522 4
	b 0 info cow
	expect_out '^exceptions: 512$'
	expect_out '^metadata-areas: 3$'
	b 0 convert -r 4K -s 64M -O ranges cow
	regions 4096 <out >got
	ds_want cow 4096 4096 >want
	same_regions want got
	# entries after the end marker (new_chunk 0, whatever old_chunk says) are not read
	ds_gen -V junk cow 8 16384 300 5
	b 0 convert -r 4K -s 64M -O ranges cow
	regions 4096 <out >got
	ds_want cow 4096 4096 >want
	same_regions want got
	b 0 info cow
	expect_out '^exceptions: 300$'
}

t_dmsnap_refused() {
	local v want
	ds_gen cow 8 16384 700 9
	# each defect: exit 2, naming the file and the byte offset
	while read -r v want; do
		ds_gen -V "$v" bad 8 16384 $([ "$v" = nonext ] && echo 512 || echo 700) 9
		b 2 convert -r 64K -s 64M --format dm-snapshot bad
		expect_err "^incmirror-bitmap: bad: offset $(ds_bad bad): $want"
		[ "$v" = invalid ] && continue	# info reports it (below)
		b 2 info --format dm-snapshot bad
		expect_err "^incmirror-bitmap: bad: offset $(ds_bad bad): "
	done <<-'EOF'
	magic0 expected dm-snapshot magic 0x70416e53 \("SnAp"\), found 0: no exception store \(a transient snapshot
	magic expected dm-snapshot magic 0x70416e53 \("SnAp"\), found 0x50416e53$
	bemagic expected dm-snapshot magic .*\(wrong endianness\)
	version expected exception store version 1, found 2$
	chunk0 expected a power-of-two chunk_size of 1 to 2097152 sectors, found 0$
	chunk3 expected a power-of-two chunk_size of 1 to 2097152 sectors, found 3$
	validx expected valid 0 or 1, found 7
	invalid the snapshot is invalid \(valid 0: it overflowed or was invalidated after an I/O error\)
	newbeyond exception 699: new_chunk [0-9]+ lies beyond the end of the COW device \([0-9]+ bytes\)
	newmeta exception 699: new_chunk 515 is metadata area 2, not a data chunk
	trunc truncated: metadata area 1 is full, expected area 2 \(4096 bytes at offset [0-9]+\), file has [0-9]+ bytes
	nonext truncated: metadata area 1 is full, expected area 2 \(4096 bytes at offset [0-9]+\), file has [0-9]+ bytes
	EOF
	# not detected: wrong magic is an unknown format
	ds_gen -V magic bad 8 16384 10 1
	b 2 convert -r 64K bad
	expect_err 'bad: offset 0: unknown format'
	# a truncated header, a store cut before area 0
	head -c 10 cow >short
	b 2 convert -r 64K --format dm-snapshot short
	expect_err 'short: offset 0: truncated: expected 16 bytes of dm-snapshot exception store header'
	head -c 6000 cow >short
	b 2 convert -r 64K short
	expect_err 'short: offset 4096: truncated: expected metadata area 0 \(4096 bytes at offset 4096\), file has 6000 bytes'
	# an old_chunk whose byte offset overflows 64 bits (entry 0 at 4096)
	cp cow ovf
	patch ovf 4096 255 255 255 255 255 255 255 255
	b 2 convert -r 64K ovf
	expect_err 'ovf: offset 4096: exception 0: old_chunk 18446744073709551615 of 4096 bytes overflows 64 bits'
	# an invalidated snapshot: refused; --force marks all, and needs the size; info reports it
	ds_gen -V invalid bad 8 16384 700 9
	b 1 convert -r 64K --force bad
	expect_err 'bad: --force on an invalid snapshot needs the device size'
	b 0 convert -r 64K -s 64M --force -O ranges bad
	[ "$(cat out)" = "0 67108864" ] || die "forced: $(cat out)"
	expect_err 'bad: warning: invalid snapshot; --force: treating all 67108864 bytes as dirty'
	b 0 info bad
	expect_out '^snapshot-valid: no \(invalidated'
	expect_out '^dirty-extents: unknown \(invalid snapshot: the whole device is dirty, and the store does not say its size\)$'
	expect_out '^dirty-bytes: unknown$'
}

t_dmsnap_origin_size() {
	local sz=$((10 * 1048576 + 4096))
	# 64 KiB chunks over an origin of 10 MiB + 4 KiB: chunk 160 is partial
	# (the generator always lists the last origin chunk as entry 1, at 65536 + 16)
	ds_gen cow 128 161 50 11
	grep -qx 'old 160' cow.list || die "no last chunk"
	b 0 convert -r 4K -s $sz -O ranges cow
	regions 4096 <out >got
	ds_want cow 65536 4096 $sz >want
	same_regions want got
	grep -qx 2560 got && ! grep -qx 2561 got || die "the partial last chunk is not clipped"
	# a smaller device: chunk 160 lies beyond it
	b 4 convert -r 4K -s 10M cow
	expect_err '^incmirror-bitmap: cow: offset 65552: size mismatch: exception 1: old_chunk 160 \(byte 10485760\) lies beyond the device.s 10485760 bytes: is this a snapshot of this device\?'
	b 0 convert -r 4K -s 10M --size-mismatch=truncate -O ranges cow
	expect_err 'cow: warning: 1 exceptions beyond the device.s 10485760 bytes dropped'
	regions 4096 <out >got
	ds_want cow 65536 4096 10485760 | awk '$1 < 2560' >want
	same_regions want got
	# --offset: the target starts 64 KiB into the origin
	b 0 convert -r 4K -s $((sz - 65536)) --offset 64K -O ranges cow
	regions 4096 <out >got
	ds_want cow 65536 4096 $sz | awk '$1 >= 16 { print $1 - 16 }' >want
	same_regions want got
	b 4 convert -r 4K -s $((10 * 1048576 - 65536)) --offset 64K cow
	expect_err 'cow: offset 65552: size mismatch: exception 1: old_chunk 160'
}

t_dmsnap_large() {
	# 60000 exceptions at 512-byte chunks over 1 GiB: 1876 metadata areas
	local t0 t1
	ds_gen cow 1 2097152 60000 21
	TIMEFORMAT=%R
	t0=$({ time "$BREL" convert -r 64K -s 1G -O ranges -o rel.out cow; } 2>&1) || die "convert"
	b 0 convert -r 64K -s 1G -O ranges cow
	cmp -s out rel.out || die "release and sanitized builds differ"
	regions 65536 <out >got
	ds_want cow 512 65536 >want
	same_regions want got
	b 0 info cow
	expect_out '^metadata-areas: 1876$'
	t1=$(wc -l <got)
	echo "NOTE: 60000 exceptions, 1876 areas -> $t1 regions of 64 KiB in ${t0}s (release build)"
}
