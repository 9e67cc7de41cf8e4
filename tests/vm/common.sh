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

# Project programs copied into the guest's /opt/incmirror/bin (paths from the
# top of the tree), with the libraries they link.
GUEST_TOOLS=(tools/incmirror-bitmap/incmirror-bitmap tests/tools/lw-replay)

# Patterns in the guest kernel log that fail a run, whatever the script said
# (shared with the guest's case runner).
KERNEL_BAD_RE=$(cat "$VM_DIR/kernel-bad.re")
