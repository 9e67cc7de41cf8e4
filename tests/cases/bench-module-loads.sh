#!/bin/sh
# DESCRIPTION: the project's module is in the guest, loads, registers the incmirror target and unloads
. "$INCMIRROR_TESTS/lib/guest.sh"

modinfo dm-incmirror >/dev/null 2>&1 || fail "dm-incmirror.ko is not in the guest"
run modprobe dm-incmirror
dmsetup targets | grep -q '^incmirror ' || fail "no incmirror target in 'dmsetup targets'"
run rmmod dm_incmirror
dmsetup targets | grep -q '^incmirror ' && fail "incmirror still registered after rmmod"
run modprobe dm-incmirror
