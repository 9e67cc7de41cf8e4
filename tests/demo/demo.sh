#!/bin/sh
# The module loading in a guest and the targets device-mapper knows.
set -e
echo "# modprobe dm-incmirror"
modprobe dm-incmirror
lsmod | grep -E '^(dm_incmirror|dm_mod) '
echo "# dmsetup targets"
dmsetup targets
