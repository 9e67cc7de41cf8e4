#!/bin/sh
# DESCRIPTION: incmirror-watch follows a copy to synced (exit 0): JSON lines with every field, plain lines, woken by the synced event rather than its interval; --once and --timeout exit 5 while it copies, --once 0 when synced
# CHECK-KERNEL: 6.1 (make check runs it on one kernel only; make check-full on both)
# TIMEOUT: 180
. "$INCMIRROR_TESTS/lib/guest.sh"
trap cleanup_devices EXIT

ram_devices 2 32
random_fill /dev/ram0
FIELDS="time device event_nr state insync total percent region_sectors copied_sectors rate_kib_s max_rate_kib_s in_flight eta_s dest_errors metadata"

# --json: 32 MiB at 4 MiB/s, about 8 s of copying, a line every 0.5 s.
DEV=$(dm_create im "$(incmirror_table /dev/ram0 /dev/ram1 128 max_copy_rate 4096)")
# --once and --timeout while it copies: one line, exit 5 (not synced).
incmirror-watch im --once --json >/tmp/w.once 2>/tmp/w.err
assert_eq $? 5 "exit status of --once while copying ($(cat /tmp/w.err))"
assert_eq "$(wc -l </tmp/w.once)" 1 "lines of --once"
grep -q '"state":"copying"' /tmp/w.once || fail "--once: $(cat /tmp/w.once)"
t0=$(uptime_ms)
incmirror-watch im --timeout 0.5 >/dev/null 2>/tmp/w.err
assert_eq $? 5 "exit status of --timeout 0.5 while copying ($(cat /tmp/w.err))"
grep -q '^incmirror-watch: im: not synced after 0.5 seconds (--timeout): copying$' /tmp/w.err ||
	fail "--timeout message: $(cat /tmp/w.err)"
info "--timeout 0.5 ended after $(($(uptime_ms) - t0)) ms"
incmirror-watch im --json --interval 0.5 >/tmp/w.json 2>/tmp/w.err
rc=$?
[ $rc -eq 0 ] || { cat /tmp/w.err; fail "incmirror-watch --json exited $rc on a copy that reached synced"; }
[ -s /tmp/w.err ] && { cat /tmp/w.err; fail "incmirror-watch wrote to stderr"; }
n=$(wc -l </tmp/w.json)
info "$n JSON lines; first: $(head -n 1 /tmp/w.json)"
[ "$n" -ge 4 ] || { cat /tmp/w.json; fail "expected a line at least every 0.5 s of an 8 s copy, got $n"; }
# Every line: one object with every documented field, in order.
pat='^\{"time":[0-9]+\.[0-9]{3},"device":"im","event_nr":[0-9]+,"state":"[a-z]+","insync":[0-9]+,"total":512,"percent":[0-9]+\.[0-9],"region_sectors":128,"copied_sectors":[0-9]+,"rate_kib_s":[0-9]+,"max_rate_kib_s":(4096|0),"in_flight":[0-9]+,"eta_s":([0-9]+|null),"dest_errors":0,"metadata":"none"\}$'
bad=$(grep -cvE "$pat" /tmp/w.json)
[ "$bad" = 0 ] || { grep -vE "$pat" /tmp/w.json | head -3; fail "$bad lines do not have the documented JSON fields"; }
for f in $FIELDS; do
	grep -q "\"$f\":" /tmp/w.json || fail "field $f missing"
done
assert_eq "$(head -n 1 /tmp/w.json | sed 's/.*"state":"\([a-z]*\)".*/\1/')" copying "state of the first line"
last=$(tail -n 1 /tmp/w.json)
echo "$last" | grep -q '"state":"synced","insync":512,"total":512,"percent":100.0,' ||
	fail "last line is not synced at 100.0 %: $last"
echo "$last" | grep -q '"eta_s":0,' || fail "ETA of the synced line is not 0: $last"
[ "$(grep -c '"state":"synced"' /tmp/w.json)" = 1 ] || fail "more than one synced line"
# Progress only grows (nothing writes), and a rate and an ETA were shown.
sed 's/.*"insync":\([0-9]*\),.*/\1/' /tmp/w.json | awk 'NR > 1 && $1 < p { exit 1 } { p = $1 }' ||
	fail "insync went down: $(sed 's/.*"insync":\([0-9]*\),.*/\1/' /tmp/w.json | tr '\n' ' ')"
grep '"state":"copying"' /tmp/w.json | grep -qE '"rate_kib_s":[1-9][0-9]*,.*"eta_s":[1-9][0-9]*,' ||
	fail "no copying line with a rate and an ETA"
incmirror-watch im --once >/dev/null || fail "--once when synced: exit $?"
same_regions /dev/ram0 /dev/ram1 128
run dmsetup remove im

# Plain lines (not a terminal), and the wake-up is the synced event: with
# --interval 600 only the event can end it within the copy's 4 s.
random_fill /dev/ram0
DEV=$(dm_create im "$(incmirror_table /dev/ram0 /dev/ram1 128 max_copy_rate 8192)")
t0=$(uptime_ms)
incmirror-watch --interval 600 /dev/mapper/im >/tmp/w.txt 2>/tmp/w.err
rc=$?
ms=$(($(uptime_ms) - t0))
info "plain: $(cat /tmp/w.txt | tr '\n' '|') in $ms ms"
[ $rc -eq 0 ] || { cat /tmp/w.err; fail "incmirror-watch exited $rc"; }
[ "$ms" -lt 60000 ] || fail "took $ms ms: not woken by the synced event"
grep -q "$(printf '\r')" /tmp/w.txt && fail "carriage return in plain output"
grep -q "$(printf '\033')" /tmp/w.txt && fail "escape sequence in plain output"
head -n 1 /tmp/w.txt | grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2} im: copying [0-9]+\.[0-9]% \([0-9]+/512 regions, ' ||
	fail "first plain line: $(head -n 1 /tmp/w.txt)"
tail -n 1 /tmp/w.txt | grep -qE ' im: synced 100\.0% \(512/512 regions, 32\.0 MiB copied\) .* ETA 0:00:00$' ||
	fail "last plain line: $(tail -n 1 /tmp/w.txt)"
same_regions /dev/ram0 /dev/ram1 128

# Already synced: one line, exit 0 at once.
incmirror-watch --json im >/tmp/w.json || fail "exit $? on a synced device"
assert_eq "$(wc -l </tmp/w.json | tr -d ' ')" 1 "lines for a synced device"
grep -q '"state":"synced"' /tmp/w.json || fail "not synced: $(cat /tmp/w.json)"
run dmsetup remove im
