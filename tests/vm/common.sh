# Shared by the host-side bench scripts. Sourced, not run.

INCMIRROR_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_DIR="$INCMIRROR_TOP/tests/vm"
VM_CACHE="${INCMIRROR_VM_CACHE:-$INCMIRROR_TOP/tests/vm/cache}"
VM_OUT="$INCMIRROR_TOP/tests/vm/out"

die() {
	echo "vm: $*" >&2
	exit 2
}

# kernel_release SERIES: the installed release of a kernel series (6.1 or
# 6.12), e.g. 6.1.0-56-amd64. Debian moves the ABI number with updates, so
# it is looked up, never hard-coded. The newest installed one wins.
kernel_release() {
	local series=$1 rel
	rel=$(ls /lib/modules 2>/dev/null | grep -E "^${series//./\\.}\.[0-9]" |
		grep -E -- '-amd64$' | sort -V | tail -n 1)
	[ -n "$rel" ] || return 1
	[ -f "/boot/vmlinuz-$rel" ] || return 1
	echo "$rel"
}

# debug_kernel_dir [build]: the cache directory of the debug kernel
# (tests/debug-kernel/build), building it first with "build". Fails when it
# is not built (or did not build).
debug_kernel_dir() {
	if [ "${1:-}" = build ]; then
		"$INCMIRROR_TOP/tests/debug-kernel/build"
	else
		"$INCMIRROR_TOP/tests/debug-kernel/build" --dir
	fi
}
# Guest memory (MiB) for the debug kernel when nothing asks for more: KASAN
# takes an eighth for its shadow plus a quarantine, kmemleak and SLUB debug
# add metadata to every object.
DEBUG_KERNEL_MEM=${INCMIRROR_DEBUG_KERNEL_MEM:-4096}

# Project programs copied into the guest's /opt/incmirror/bin (paths from the
# top of the tree), with the libraries they link.
GUEST_TOOLS=(tools/incmirror-bitmap/incmirror-bitmap tools/incmirror-watch/incmirror-watch tools/lvm/incmirror-lvm
	tools/incmirror-validate/incmirror-validate tests/tools/lw-replay
	tests/tools/devcmp tests/tools/dm-status tests/tools/fillpat tests/tools/pacct
	tests/tools/im-rand)

# Patterns in the guest kernel log that fail a run, whatever the script said
# (shared with the guest's case runner).
KERNEL_BAD_RE=$(cat "$VM_DIR/kernel-bad.re")
