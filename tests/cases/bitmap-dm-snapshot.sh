#!/bin/sh
# DESCRIPTION: LVM snapshots taken at backup time: incmirror-bitmap --format dm-snapshot on their COW devices gives exactly the chunks written since (4 KiB and 64 KiB chunks, regions larger and smaller), incremental mirrors copy only those and end identical; invalid snapshot refused
# CHECK-KERNEL: full (only in make check-full, on both kernels: make check's 15 minutes)
# TIMEOUT: 400
. "$INCMIRROR_TESTS/lib/guest.sh"

command -v incmirror-bitmap >/dev/null || fail "incmirror-bitmap not in PATH"
command -v lvcreate >/dev/null || fail "lvm not installed"
modprobe dm-snapshot 2>/dev/null || fail "no dm-snapshot module"

VG=imsnap
cleanup() {
	dmsetup remove im >/dev/null 2>&1
	lvremove -f $VG >/dev/null 2>&1
	vgremove -f $VG >/dev/null 2>&1
	pvremove -ff -y /dev/ram0 >/dev/null 2>&1
	dmsetup remove_all >/dev/null 2>&1
}

# ram0: the PV (a 64 MiB origin LV and its snapshots); ram1: the
# destination; ram2: the backup, kept to restore the destination again.
ram_devices 3 112
trap cleanup EXIT
run pvcreate -ff -y -q /dev/ram0
run vgcreate -q $VG /dev/ram0
run lvcreate -q -y -L 64M -n lv $VG
ORIG=/dev/mapper/$VG-lv
[ -b $ORIG ] || fail "no $ORIG"
SZ=$(dev_sectors $ORIG)
BYTES=$((SZ * 512))
DST=$(dm_create dst "0 $SZ linear /dev/ram1 0")
BAK=$(dm_create bak "0 $SZ linear /dev/ram2 0")
random_fill $ORIG

# Backup time: two snapshots (4 KiB and 64 KiB chunks), then the backup
# read from one of them. Nothing writes to the origin in between.
run lvcreate -q -y -s -L 8M -c 4k -n snapa $VG/lv
run lvcreate -q -y -s -L 16M -c 64k -n snapb $VG/lv
COWA=/dev/mapper/$VG-snapa-cow
COWB=/dev/mapper/$VG-snapb-cow
[ -b $COWA ] && [ -b $COWB ] || fail "no COW devices $COWA $COWB"
dmsetup table $VG-snapa
dd_ if=/dev/mapper/$VG-snapa of="$BAK" bs=1M iflag=direct oflag=direct
dd_ if="$BAK" of="$DST" bs=1M iflag=direct oflag=direct
same "$BAK" /dev/mapper/$VG-snapb
# An empty store; this read also leaves the COW's first pages in the page
# cache, which the kernel's later writes (bios) do not update.
run incmirror-bitmap info $COWA
incmirror-bitmap info $COWA | grep -qx 'exceptions: 0' || fail "a new snapshot lists exceptions"

# The oracle: writes to the origin after the backup ("OFFSET LENGTH" bytes):
# the first sector, a 4 KiB block, 2 MiB from 8 MiB (512 chunks of 4 KiB:
# three metadata areas of 256 entries), a write straddling a 64 KiB
# boundary, one sector at 40 MiB + 1536, the last 4 KiB, and 100 random
# 4 KiB blocks.
{
	echo "0 512"
	echo "335872 4096"
	echo "8388608 2097152"
	echo "$((300 * 65536 - 4096)) 8192"
	echo "$((40 * 1048576 + 1536)) 512"
	echo "$((BYTES - 4096)) 4096"
	awk -v n=$((BYTES / 4096)) 'BEGIN { srand(7); for (i = 0; i < 100; i++) print int(rand() * n) * 4096, 4096 }'
} >/tmp/writes
while read -r off len; do
	if [ $((off % 4096)) -eq 0 ] && [ $((len % 4096)) -eq 0 ]; then
		dd if=/dev/urandom of=$ORIG bs=4096 seek=$((off / 4096)) count=$((len / 4096)) \
			oflag=direct conv=notrunc 2>/dev/null || fail "write $off $len"
	else
		dd if=/dev/urandom of=$ORIG bs=512 seek=$((off / 512)) count=$((len / 512)) \
			oflag=direct conv=notrunc 2>/dev/null || fail "write $off $len"
	fi
done </tmp/writes

# oracle_regions CHUNK REGION: the regions of REGION bytes that the chunks
# of CHUNK bytes touched by the writes cover, one per line.
oracle_regions() {
	awk -v C="$1" -v R="$2" '{ a = int($1 / C); e = int(($1 + $2 - 1) / C); for (c = a; c <= e; c++) ch[c] = 1 }
		END { for (c in ch) { s = int(c * C / R); t = int(((c + 1) * C - 1) / R); for (r = s; r <= t; r++) print r } }' \
		/tmp/writes | sort -n -u
}
# got_regions REGION < RANGES: the regions an "OFFSET LENGTH" list covers.
got_regions() {
	awk -v R="$1" '{ for (r = int($1 / R); r <= int(($1 + $2 - 1) / R); r++) print r }' | sort -n -u
}

# Each store against the kernel's own account (dmsetup status of the
# snapshot: allocated/total metadata sectors) and against the oracle.
for s in a b; do
	C=4096
	[ $s = b ] && C=65536
	NCH=$(oracle_regions $C $C | wc -l)
	incmirror-bitmap info /dev/mapper/$VG-snap$s-cow >/tmp/info.$s || fail "info snap$s"
	cat /tmp/info.$s
	grep -qx "chunk-sectors: $((C / 512))" /tmp/info.$s || fail "snap$s: chunk size"
	grep -qx "exceptions: $NCH" /tmp/info.$s ||
		fail "snap$s: $(grep exceptions /tmp/info.$s), the writes touched $NCH chunks"
	st=$(dmsetup status $VG-snap$s | awk '{ print $4, $5 }')
	want="$(sed -n 's/^allocated-sectors: //p' /tmp/info.$s)/$(dev_sectors /dev/mapper/$VG-snap$s-cow) $(sed -n 's/^metadata-sectors: //p' /tmp/info.$s)"
	assert_eq "$st" "$want" "snap$s: dmsetup status against the store read"
	info "snap$s: $NCH chunks of $C bytes changed, status $st"
done
grep -qx 'metadata-areas: 3' /tmp/info.a || fail "snapa: $(grep areas /tmp/info.a), expected 3 metadata areas"

# Rescaled: 4 KiB chunks to 64 KiB and 4 KiB regions, 64 KiB chunks to 4 KiB
# (region < chunk) and 1 MiB regions.
for t in "a 4096 65536" "a 4096 4096" "b 65536 4096" "b 65536 1048576"; do
	set -- $t
	incmirror-bitmap convert --format dm-snapshot -s $BYTES -r $3 -O ranges /dev/mapper/$VG-snap$1-cow \
		>/tmp/ranges || fail "convert snap$1 -r $3"
	got_regions $3 </tmp/ranges >/tmp/got
	oracle_regions $2 $3 >/tmp/want
	cmp -s /tmp/want /tmp/got || {
		diff /tmp/want /tmp/got | head -20
		fail "snap$1 at $3-byte regions: the regions differ from the oracle"
	}
	info "snap$1, $3-byte regions: $(wc -l </tmp/got) dirty, as written"
done

# The wrong device or the wrong size is refused, naming the offset.
incmirror-bitmap convert --format dm-snapshot -r 64K /dev/mapper/$VG-snapa >/dev/null 2>/tmp/err
rc=$?
[ $rc -eq 2 ] && grep -q "$VG-snapa: offset 0: expected dm-snapshot magic 0x70416e53" /tmp/err ||
	fail "the snapshot device (not its COW): exit $rc, $(cat /tmp/err)"
incmirror-bitmap convert -r 64K -s 32M $COWA >/dev/null 2>/tmp/err
rc=$?
[ $rc -eq 4 ] && grep -qE "$VG-snapa-cow: offset [0-9]+: size mismatch: exception [0-9]+: old_chunk" /tmp/err ||
	fail "a device smaller than the origin: exit $rc, $(cat /tmp/err)"

# mirror REGION_SECTORS COW CHUNK: restore the backup onto the destination,
# build an incremental mirror over the origin, load the store, sync; only
# the oracle's regions are copied and the legs end identical.
mirror() {
	dd_ if="$BAK" of="$DST" bs=1M iflag=direct oflag=direct
	cmp -s "$ORIG" "$DST" && fail "destination already equals the origin"
	dm_create im "$(incmirror_table $ORIG "$DST" $1 incremental)" >/dev/null
	[ "$(dm_field im 1)" = loading ] || fail "state $(dm_field im 1), expected loading"
	run incmirror-bitmap load -v --start im "$2"
	wait_state im synced 300
	n=$(oracle_regions $3 $(($1 * 512)) | wc -l)
	[ "$(dm_field im 2)" = "$(total_regions im)/$(total_regions im)" ] || fail "in_sync $(dm_field im 2)"
	[ "$(dm_field im 5)" = $((n * $1)) ] ||
		fail "copied_sectors $(dm_field im 5), expected $((n * $1)) (only the $n changed regions)"
	info "region $1 sectors from $2: $n regions copied"
	run dmsetup remove im
	same_regions "$ORIG" "$DST" "$1"
}
mirror 128 $COWA 4096
mirror 8 $COWB 65536

# An overflowed snapshot is invalidated (valid 0 in its header): refused.
run lvremove -q -f $VG/snapa $VG/snapb
run lvcreate -q -y -s -L 4M -c 4k -n snapc $VG/lv
dd if=/dev/urandom of=$ORIG bs=1M seek=16 count=8 oflag=direct 2>/dev/null || fail "overflow writes"
dmsetup status $VG-snapc | grep -q Invalid || fail "snapc not invalidated: $(dmsetup status $VG-snapc)"
incmirror-bitmap convert -r 64K -s $BYTES /dev/mapper/$VG-snapc-cow >/dev/null 2>/tmp/err
rc=$?
[ $rc -eq 2 ] && grep -q "$VG-snapc-cow: offset 4: the snapshot is invalid" /tmp/err ||
	fail "invalid snapshot: exit $rc, $(cat /tmp/err)"
incmirror-bitmap info /dev/mapper/$VG-snapc-cow | grep -q '^snapshot-valid: no' || fail "info of snapc"
exit 0
