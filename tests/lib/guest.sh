# Helpers for guest test cases. Source it: . "$INCMIRROR_TESTS/lib/guest.sh"
# Every helper fails the case (exit 1) with a message on stderr when a step
# it relies on fails; cases stay short and still assert every step.

set -u

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

info() {
	echo "# $*"
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
	rmmod brd 2>/dev/null
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
	dmsetup create "$1" --table "$2" >&2 || fail "dmsetup create $1 '$2'"
	dmsetup mknodes "$1" >/dev/null 2>&1
	echo "/dev/mapper/$1"
}

# dm_field NAME N: field N (1-based) of the first line of `dmsetup status`
# after the "<start> <len> <target>" prefix.
dm_field() {
	dmsetup status "$1" | awk -v n="$2" 'NR == 1 { print $(n + 3) }'
}

# wait_state NAME STATE [SECONDS]: poll until the target's state is STATE.
# Polling with a deadline is a bounded wait for an observable condition,
# not a sleep that hides a race: the case fails if it is never reached.
wait_state() {
	_deadline=$(($(date +%s) + ${3:-300}))
	while :; do
		_s=$(dm_field "$1" 1)
		[ "$_s" = "$2" ] && return 0
		[ "$(date +%s)" -ge "$_deadline" ] &&
			fail "$1: state '$_s', waited ${3:-300}s for '$2' ($(dmsetup status "$1"))"
		usleep 100000
	done
}

# fill DEV BYTE_HEX: fill the whole device with one byte value (e.g. 5a).
fill() {
	_sz=$(($(dev_sectors "$1") * 512))
	head -c "$_sz" /dev/zero | tr '\000' "\\$(printf '%03o' 0x$2)" |
		dd of="$1" bs=1M oflag=direct 2>/dev/null || fail "fill $1 with $2"
}

# same DEV1 DEV2: the two devices must hold identical data.
same() {
	cmp "$1" "$2" || fail "$1 and $2 differ"
}

# sha DEV [SKIP_SECTORS COUNT_SECTORS]: sha256 of a device or a part of it.
sha() {
	if [ $# -eq 1 ]; then
		sha256sum <"$1" | cut -d' ' -f1
	else
		dd if="$1" bs=512 skip="$2" count="$3" 2>/dev/null | sha256sum | cut -d' ' -f1
	fi
}

cleanup_devices() {
	dmsetup remove_all >/dev/null 2>&1
	losetup -D >/dev/null 2>&1
}
