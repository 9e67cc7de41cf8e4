#!/bin/sh
# DESCRIPTION: status reports the documented fields and states; table prints only non-default features and reloads to the same line
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

ram_devices 2 8
SZ=$(dev_sectors /dev/ram0)
MAJMIN0=$(stat -L -c '%t:%T' /dev/ram0)
S=$(printf '%d:%d' 0x${MAJMIN0%:*} 0x${MAJMIN0#*:})
MAJMIN1=$(stat -L -c '%t:%T' /dev/ram1)
D=$(printf '%d:%d' 0x${MAJMIN1%:*} 0x${MAJMIN1#*:})

# table_of NAME: the table line after "<start> <len> incmirror".
table_of() {
	dmsetup table "$1" | cut -d' ' -f4-
}

# Defaults: no feature words at all.
run dm_create im "0 $SZ incmirror /dev/ram0 /dev/ram1 64 4 copy_depth 16 error_threshold 8" >/dev/null
[ "$(table_of im)" = "$S $D 64" ] || fail "default table: '$(table_of im)'"
run dmsetup remove im

# Non-default features, in a fixed order; one line that reloads to itself.
run dm_create im "0 $SZ incmirror /dev/ram0 /dev/ram1 64 7 error_threshold 3 copy_depth 2 incremental max_copy_rate 100" >/dev/null
want="$S $D 64 7 incremental max_copy_rate 100 copy_depth 2 error_threshold 3"
[ "$(table_of im)" = "$want" ] || fail "table: '$(table_of im)', expected '$want'"
line=$(dmsetup table im)
run dmsetup load im --table "$line"
run dmsetup resume im
[ "$(dmsetup table im)" = "$line" ] || fail "reload changed the table: '$(dmsetup table im)'"

# INFO: exactly 9 fields after the target name.
st=$(dmsetup status im)
set -- $st
[ $# -eq 16 ] || fail "status has $# words: '$st'"
[ "$3" = incmirror ] || fail "target name '$3'"
[ "$4" = loading ] || fail "state '$4'"
[ "$5" = "$((SZ / 64))/$((SZ / 64))" ] || fail "in_sync/total '$5'"
[ "$6" = 64 ] || fail "region_sectors '$6'"
[ "$7" = 0 ] || fail "dest_errors '$7'"
[ "$8" = 0 ] || fail "copied_sectors '$8'"
[ "$9" = 0 ] || fail "copy rate '$9'"
[ "${10}" = 100 ] || fail "max_copy_rate '${10}'"
[ "${11}" = 0 ] || fail "copies_in_flight '${11}'"
[ "${12}" = metadata=none ] || fail "metadata field '${12}'"
[ "${13} ${14} ${15}" = "verify=idle 0 0" ] || fail "verify fields '${13} ${14} ${15}'"
[ "${16}" = zeroed=0 ] || fail "zeroed field '${16}'"

# max_copy_rate by message shows in status and in the table.
run dmsetup message im 0 max_copy_rate 0
[ "$(dm_field im 7)" = 0 ] || fail "max_copy_rate after message: $(dm_field im 7)"
[ "$(table_of im)" = "$S $D 64 5 incremental copy_depth 2 error_threshold 3" ] ||
	fail "table after max_copy_rate 0: '$(table_of im)'"

# loading -> (pause keeps loading) -> start -> synced (nothing dirty).
run dmsetup message im 0 pause
[ "$(dm_field im 1)" = loading ] || fail "pause in loading: $(dm_field im 1)"
run dmsetup message im 0 start
wait_state im synced 30

# paused with dirty regions; synced wins over paused once nothing is dirty.
run dmsetup message im 0 pause
[ "$(dm_field im 1)" = synced ] || fail "paused and clean: $(dm_field im 1)"
run dmsetup message im 0 set_dirty 0-9
[ "$(dm_field im 1)" = paused ] || fail "paused with dirty regions: $(dm_field im 1)"
[ "$(dm_field im 2)" = "$((SZ / 64 - 10))/$((SZ / 64))" ] || fail "in_sync $(dm_field im 2)"
run dmsetup message im 0 start
wait_state im synced 30
[ "$(dm_field im 5)" = 640 ] || fail "copied_sectors $(dm_field im 5), expected 640"
[ "$(dm_field im 8)" = 0 ] || fail "copies in flight when synced"

# Suspended status and table still work; resume keeps the state.
run dmsetup suspend im
[ "$(dm_field im 1)" = synced ] || fail "suspended: $(dm_field im 1)"
run dmsetup resume im

# Without incremental a new device starts copying every region.
run dmsetup remove im
run dm_create im "0 $SZ incmirror /dev/ram0 /dev/ram1 64 2 max_copy_rate 64" >/dev/null
[ "$(dm_field im 1)" = copying ] || fail "full mirror state: $(dm_field im 1)"
[ "$(table_of im)" = "$S $D 64 2 max_copy_rate 64" ] || fail "table '$(table_of im)'"
run dmsetup message im 0 max_copy_rate 0
wait_state im synced 60
run dmsetup remove im
exit 0
