#!/bin/sh
# DESCRIPTION: metadata: a device too small, of another device, region size or size, with garbage, a bad checksum or an unknown version is refused with its own error
# TIMEOUT: 120
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

SRC=/dev/ram0
DST=/dev/ram1
ram_devices 3 32
META=$(dm_create meta "0 64 linear /dev/ram2 0")
TINY=$(dm_create tiny "0 8 linear /dev/ram2 1024")
zero_dev "$META"

# refused NAME TABLE MESSAGE: creating NAME fails, dmesg says MESSAGE, and
# no device NAME is left behind.
refused() {
	dmesg -c >/dev/null
	if dmsetup create "$1" --table "$2" >/tmp/e.out 2>&1; then
		fail "accepted: $2"
	fi
	dmesg | grep -q "incmirror: $3" ||
		fail "'$2': expected '$3' in the kernel log, got: $(dmesg | grep incmirror | tail -n 2)"
	dmsetup info "$1" >/dev/null 2>&1 && fail "device $1 left behind by a refused table"
	return 0
}

T() { incmirror_table $SRC $DST "$@"; }
refused im "$(T 128 metadata "$TINY")" "Metadata device too small"
refused im "$(T 128 metadata)" "Feature metadata is missing its device"
refused im "$(T 128 metadata "$META" metadata "$META")" "Feature metadata given twice"
refused im "$(T 128 metadata /dev/nonexistent)" "Error opening metadata device"
refused im "$(T 128 metadata $SRC)" "Metadata device is the source or the destination"
refused im "$(T 128 metadata $DST)" "Metadata device is the source or the destination"

# Format it as "im", then refuse it for other tables.
run dm_create im "$(T 128 incremental metadata "$META")" >/dev/null
refused other "$(incmirror_table /dev/ram2 $DST 128 incremental)" "Destination is in use by another incmirror device"
# No device of a mirror may be written by another one, in any role.
SPARE=$(dm_create spare "0 64 linear /dev/ram2 2048")
refused other "0 64 incmirror /dev/ram2 $META 8 1 incremental" "Destination is in use by another incmirror device"
refused other "0 64 incmirror /dev/ram2 $SRC 8 1 incremental" "Destination is in use by another incmirror device"
refused other "0 64 incmirror /dev/ram2 $SPARE 8 3 incremental metadata $DST" "Metadata device is in use by another incmirror device"
refused other "0 64 incmirror /dev/ram2 $SPARE 8 3 incremental metadata $SRC" "Metadata device is in use by another incmirror device"
refused other "0 64 incmirror $DST $SPARE 8 1 incremental" "Source is written by another incmirror device"
refused other "0 64 incmirror $META $SPARE 8 1 incremental" "Source is written by another incmirror device"
# Sharing a source is allowed (both write it through their own device).
run dm_create other "0 64 incmirror $SRC $SPARE 8 1 incremental" >/dev/null
run dmsetup remove other
run dmsetup remove im
refused other "$(T 128 incremental metadata "$META")" "Metadata belongs to another incmirror device"
refused im "$(T 256 incremental metadata "$META")" "Metadata region size differs"
refused im "0 32768 incmirror $SRC $DST 128 3 incremental metadata $META" "Metadata device size differs"

# Damaged superblocks (a copy of the good one is kept).
dd_ if="$META" of=/tmp/sb.good bs=4096 count=1
put_sb() { dd_ if="$1" of="$META" bs=4096 count=1 conv=notrunc oflag=direct; }
# poke FILE OFFSET BYTE_OCTAL: set one byte
poke() { printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }
# fix_csum FILE: recompute the CRC-32 (gzip's trailer) of the first sector.
fix_csum() {
	poke "$1" 4 000; poke "$1" 5 000; poke "$1" 6 000; poke "$1" 7 000
	head -c 512 "$1" | gzip -c | tail -c 8 | head -c 4 >/tmp/sb.crc
	dd if=/tmp/sb.crc of="$1" bs=1 seek=4 conv=notrunc 2>/dev/null
}
cp /tmp/sb.good /tmp/sb.bad; poke /tmp/sb.bad 40 101
put_sb /tmp/sb.bad
refused im "$(T 128 incremental metadata "$META")" "Metadata superblock checksum mismatch"
cp /tmp/sb.good /tmp/sb.bad; poke /tmp/sb.bad 8 002; fix_csum /tmp/sb.bad
put_sb /tmp/sb.bad
refused im "$(T 128 incremental metadata "$META")" "Unsupported metadata version"
cp /tmp/sb.good /tmp/sb.bad; poke /tmp/sb.bad 13 001; fix_csum /tmp/sb.bad
put_sb /tmp/sb.bad
refused im "$(T 128 incremental metadata "$META")" "Unknown metadata superblock flags"
cp /tmp/sb.good /tmp/sb.bad; poke /tmp/sb.bad 176 377; fix_csum /tmp/sb.bad
put_sb /tmp/sb.bad
refused im "$(T 128 incremental metadata "$META")" "Metadata superblock geometry is inconsistent"
dd_ if=/dev/urandom of="$META" bs=4096 count=1 oflag=direct
refused im "$(T 128 incremental metadata "$META")" "Metadata device holds no incmirror superblock"
# The fixed checksum really is what the kernel computes: the repaired good
# superblock is accepted again.
cp /tmp/sb.good /tmp/sb.fix; fix_csum /tmp/sb.fix
cmp /tmp/sb.good /tmp/sb.fix || fail "gzip CRC-32 differs from the kernel's superblock checksum"
put_sb /tmp/sb.good
run dm_create im "$(T 128 incremental metadata "$META")" >/dev/null
assert_eq "$(dm_field im 9)" metadata=ok "metadata status after the good superblock"
