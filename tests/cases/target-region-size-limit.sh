#!/bin/sh
# DESCRIPTION: region sizes above 2^21 sectors are refused with their own error; at 2^21 (1 GiB) a full mirror of a mostly zero loop device copies it, zero parts as write-zeroes, and ends identical
# TIMEOUT: 240
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

# Sparse files on tmpfs behind loop devices: the destination takes
# write-zeroes, so the copier splits each chunk into data and zero parts
# (the path that overran its stack with regions of 2^23 sectors or more).
# One region larger than the device: the copier's part arithmetic sees the
# whole 1 GiB region left at every chunk. (Devices of more than 1 GiB cost
# minutes of compare time under TCG.)
SIZE=$((64 * 1048576))
rm -f /tmp/rs-src /tmp/rs-dst
truncate -s $SIZE /tmp/rs-src /tmp/rs-dst || fail "truncate"
SRC=$(loop_attach /tmp/rs-src)
DST=$(loop_attach /tmp/rs-dst)
wz=$(cat /sys/block/$(basename $DST)/queue/write_zeroes_max_bytes)
[ "$wz" -gt 0 ] || fail "the loop destination takes no write-zeroes ($wz): the case would not reach the zero-detecting path"
SECTORS=$(dev_sectors $SRC)

# Data on the source here and there, some of it not chunk aligned; other
# data on the destination where the source reads zeroes, which the copy
# must zero.
for kib in 0 3072 4100 40000 65472; do
	dd_ if=/dev/urandom of=$SRC bs=1k count=64 seek=$kib oflag=direct
done
for mib in 1 7 33 63; do
	dd_ if=/dev/urandom of=$DST bs=1M count=1 seek=$mib oflag=direct
done

# Over the limit: refused, with the limit named.
for rs in 4194304 8388608 1073741824; do
	dmesg -c >/dev/null
	expect_fail dmsetup create im --table "0 $SECTORS incmirror $SRC $DST $rs"
	dmesg | grep -q "incmirror: Region size must be at most 2097152 sectors (1 GiB)" ||
		fail "region size $rs: no 'at most 2097152 sectors' error: $(dmesg | tail -n 3)"
done

# At the limit: one region of 1 GiB, 64 MiB of it on the device.
dm_create im "0 $SECTORS incmirror $SRC $DST 2097152" >/dev/null
assert_eq "$(dm_field im 2 | cut -d/ -f2)" 1 "regions of 1 GiB over 64 MiB"
wait_state im synced 120
assert_eq "$(dm_field im 5)" "$SECTORS" "copied sectors (the whole device)"
info "status: $(dmsetup status im)"
same $SRC $DST

# Writes after the copy still reach both legs.
dd_ if=/dev/urandom of=/dev/mapper/im bs=64k count=3 seek=100 oflag=direct
dd_ if=/dev/urandom of=/dev/mapper/im bs=4k count=1 seek=16383 oflag=direct
same $SRC $DST
run dmsetup remove im
