# Helpers for the cases with a Ceph destination: a throwaway single-node
# cluster (one monitor, one OSD on memstore, 127.0.0.1 only, no manager)
# inside the guest, and krbd mappings of its images. Source it after
# guest.sh; the case needs the "# NEEDS: ceph" header line (the Ceph
# programs are in a second initramfs archive loaded only for such cases).
# What was measured is in tests/README.md ("A Ceph cluster in the guest").
#
# ceph_start [MEMSTORE_MIB]: start the cluster (default 256 MiB of OSD
#   memory store) and create the pool "rbd"; returns when osd.0 is up (the
#   pool's placement groups become active a moment later: the first rbd
#   command waits for them).
# ceph_rbd ARGS...: rbd with a timeout, failing the case.
# ceph_stop: unmap every krbd device, stop the daemons (every case that
#   calls ceph_start traps it on EXIT; ceph_start calls it first, for what
#   a killed case left). Fails the case if a krbd device stays mapped.
# ceph_map IMAGE[@SNAP] [OPTIONS]: map rbd/IMAGE with krbd, print /dev/rbdN.
# ceph_unmap DEV

CEPH_DIR=${CEPH_DIR:-/tmp/ceph}
CEPH_CONF=$CEPH_DIR/ceph.conf
export CEPH_CONF
CEPH_MON_ADDR=127.0.0.1:6789

# ceph_conf MEMSTORE_BYTES: write the configuration.
ceph_conf() {
	mkdir -p "$CEPH_DIR/mon" "$CEPH_DIR/osd" "$CEPH_DIR/run" "$CEPH_DIR/log" \
		/etc/ceph /var/run/ceph /var/log/ceph || fail "mkdir $CEPH_DIR"
	cat >"$CEPH_CONF" <<CONF
[global]
fsid = $CEPH_FSID
mon host = [v2:127.0.0.1:3300,v1:$CEPH_MON_ADDR]
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
run dir = $CEPH_DIR/run
log file = $CEPH_DIR/log/\$name.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail crit = 0
mon data avail warn = 0
ms bind ipv4 = true
ms bind ipv6 = false
# Map changes are proposed after 1 s by default: each step of the start
# would wait for it.
paxos propose interval = 0.1
paxos min wait = 0.01
# Only the plugins and object classes the Ceph archive carries
# (tests/vm/build-initramfs --ceph).
osd erasure code plugins = jerasure lrc
osd class load list = rbd lock
osd class default list = rbd lock
[client]
admin socket =
log file = $CEPH_DIR/log/client.log
[mon]
admin socket = $CEPH_DIR/run/\$name.asok
pid file = $CEPH_DIR/run/\$name.pid
mon data = $CEPH_DIR/mon/\$cluster-\$id
mon initial members = a
[osd]
admin socket = $CEPH_DIR/run/\$name.asok
pid file = $CEPH_DIR/run/\$name.pid
osd data = $CEPH_DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = $1
osd journal size = 0
# The guest's hostname is "(none)", not a valid CRUSH name: the OSD would
# fail to place itself; ceph_start puts it under host=localhost instead.
osd crush update on start = false
CONF
	cp "$CEPH_CONF" /etc/ceph/ceph.conf
}

# The ids the seed was made with (tests/vm/build-initramfs --ceph).
read -r CEPH_FSID CEPH_OSD_UUID </opt/incmirror/ceph-seed/ids 2>/dev/null

# ceph_cmd JSON: a monitor command (tests/tools/ceph-mon-cmd, librados).
ceph_cmd() {
	ceph-mon-cmd -c "$CEPH_CONF" -t 60 "$1" || fail "monitor command failed: $1"
}

# ceph_osd_start: start osd.0 (forks into the background once its data is
# mounted; "up" comes later: callers wait with ceph_wait_osd_up).
ceph_osd_start() {
	ceph-osd -c "$CEPH_CONF" -i 0 >>"$CEPH_DIR/log/osd.0.out" 2>&1 ||
		{ tail -n 20 "$CEPH_DIR/log/osd.0.log" >&2; fail "ceph-osd -i 0 did not start"; }
}

# ceph_osd_pid: the pid of the running osd.0, empty when none.
ceph_osd_pid() {
	cat "$CEPH_DIR/run/osd.0.pid" 2>/dev/null
}

# ceph_wait_osd_up SECONDS: until the monitor's OSD map says osd.0 is up.
ceph_wait_osd_up() {
	ceph-mon-cmd -c "$CEPH_CONF" -t "$1" -u 0 '{"prefix":"osd stat"}' >/dev/null 2>"$CEPH_DIR/log/osd-up.out" ||
		{ cat "$CEPH_DIR/log/osd-up.out" >&2; tail -n 20 "$CEPH_DIR/log/osd.0.log" >&2; fail "osd.0 not up within $1 s"; }
}

ceph_start() {
	_c_mem=${1:-256}
	_c_t0=$(uptime_ms)
	# The monitor's store and the OSD's data directory, made by --mkfs
	# when the Ceph archive was built (tests/vm/build-initramfs --ceph).
	# Checked first: without it CEPH_FSID is unset (set -u, ceph_conf).
	[ -f /opt/incmirror/ceph-seed/ids ] || fail "no /opt/incmirror/ceph-seed: the case needs a '# NEEDS: ceph' line"
	# A case killed on its timeout (guest-run-cases, SIGKILL: no EXIT
	# trap) leaves its daemons, mappings and mounts to the next one.
	ceph_stop
	ip link set lo up || fail "ip link set lo up"
	ceph_conf $((_c_mem * 1024 * 1024))
	rm -rf "$CEPH_DIR/mon/ceph-a" "$CEPH_DIR/osd/ceph-0"
	cp -a /opt/incmirror/ceph-seed/mon/ceph-a "$CEPH_DIR/mon/" &&
		cp -a /opt/incmirror/ceph-seed/osd/ceph-0 "$CEPH_DIR/osd/" || fail "copy the Ceph seed"
	_c_t1=$(uptime_ms)
	ceph-mon -c "$CEPH_CONF" -i a >"$CEPH_DIR/log/mon.out" 2>&1 ||
		{ tail -n 20 "$CEPH_DIR/log/mon.a.log" >&2; fail "ceph-mon -i a did not start"; }
	# In one run (each program linked with librados takes seconds to start
	# under TCG): osd.0 registered (what `ceph osd new` sends) and placed in
	# the CRUSH map by hand (an OSD outside it gets no placement groups);
	# the pool made by a monitor command (a pool seeded with osdmaptool
	# never gets its placement groups created) and tagged for rbd (what
	# `rbd pool init` does); its placement groups are created once the OSD
	# is up.
	ceph-mon-cmd -c "$CEPH_CONF" -t 60 \
		"{\"prefix\":\"osd new\",\"uuid\":\"$CEPH_OSD_UUID\",\"id\":0}" \
		'{"prefix":"osd crush add","id":0,"weight":1.0,"args":["host=localhost","root=default"]}' \
		'{"prefix":"osd pool create","pool":"rbd","pg_num":8,"pgp_num":8}' \
		'{"prefix":"osd pool application enable","pool":"rbd","app":"rbd"}' \
		>"$CEPH_DIR/log/mon-cmd.out" 2>&1 ||
		{ cat "$CEPH_DIR/log/mon-cmd.out" >&2; fail "monitor commands (osd new, crush add, pool create)"; }
	_c_t2=$(uptime_ms)
	ceph_osd_start
	_c_t3=$(uptime_ms)
	ceph_wait_osd_up 120
	_c_t4=$(uptime_ms)
	CEPH_START_MS=$(($(uptime_ms) - _c_t0))
	info "ceph: monitor and osd.0 (memstore ${_c_mem} MiB) up in $CEPH_START_MS ms" \
		"(seed copy $((_c_t1 - _c_t0)), mon up + commands $((_c_t2 - _c_t1)), osd start $((_c_t3 - _c_t2))," \
		"osd up $((_c_t4 - _c_t3)))"
}

# ceph_rbd ARGS...: the rbd command, failing the case on an error or after
# 120 s (a request to a pool whose placement groups are not active waits
# forever; the first one after ceph_start waits for them to be created).
ceph_rbd() {
	timeout 120 rbd "$@" >/tmp/.ceph-rbd.out 2>&1 ||
		{ cat /tmp/.ceph-rbd.out >&2; fail "rbd $* failed or timed out"; }
}

# ceph_map IMAGE[@SNAP] [OPTIONS]: map rbd/IMAGE with the kernel client,
# print the device. Written straight to /sys/bus/rbd/add_single_major
# (what `rbd device map` does after looking the monitors up, without the
# seconds a librados program takes to start under TCG); auth none, so no
# secret. OPTIONS are krbd's (e.g. osd_request_timeout=10).
ceph_map() {
	_c_img=${1%@*} _c_snap=-
	case "$1" in *@*) _c_snap=${1#*@} ;; esac
	_c_o=name=admin
	[ -n "${2:-}" ] && _c_o="$_c_o,$2"
	[ -d /sys/module/rbd ] || modprobe rbd || fail "modprobe rbd"
	ls /sys/bus/rbd/devices >/tmp/.ceph-map.before 2>/dev/null
	echo "$CEPH_MON_ADDR $_c_o rbd $_c_img $_c_snap" >/sys/bus/rbd/add_single_major ||
		{ dmesg | tail -n 5 >&2; fail "krbd map of rbd/$1 ($_c_o) refused"; }
	for _c_id in $(ls /sys/bus/rbd/devices); do
		grep -qx "$_c_id" /tmp/.ceph-map.before && continue
		[ "$(cat /sys/bus/rbd/devices/$_c_id/name)" = "$_c_img" ] || continue
		wait_cond 10 "/dev/rbd$_c_id" "[ -b /dev/rbd$_c_id ]"
		echo "/dev/rbd$_c_id"
		return 0
	done
	fail "rbd/$1 mapped, but no new device in /sys/bus/rbd/devices"
}

# ceph_unmap DEV: unmap /dev/rbdN (sysfs, as `rbd device unmap`).
ceph_unmap() {
	echo "${1#/dev/rbd}" >/sys/bus/rbd/remove_single_major || fail "krbd unmap of $1"
}

# ceph_stop: stop what ceph_start started, also when a killed case left it
# (then with its filesystems mounted and dm devices on the krbd devices).
# Every step is tried even when one fails: it runs in EXIT traps, where a
# fail would skip the rest. Fails the case at the end if a daemon did not
# exit or a krbd device is still mapped.
ceph_stop() {
	_c_err=
	# A stopped OSD (SIGSTOP) would hang every unmount and unmap.
	for _c_p in "$CEPH_DIR"/run/*.pid; do
		[ -f "$_c_p" ] && kill -CONT "$(cat "$_c_p")" 2>/dev/null
	done
	for _c_d in /sys/bus/rbd/devices/*; do
		[ -e "$_c_d" ] || continue
		_c_b=/sys/block/rbd${_c_d##*/}
		# Its dm holders resumed (a suspended one would hang the
		# unmount), the mounts of the device and of its holders
		# (MAJ:MIN, field 3 of mountinfo), the holders removed.
		for _c_h in "$_c_b"/holders/dm-*; do
			[ -e "$_c_h" ] && dmsetup resume "$(cat "$_c_h/dm/name")" >/dev/null 2>&1
		done
		for _c_mm in $(cat "$_c_b/dev" "$_c_b"/holders/*/dev 2>/dev/null); do
			for _c_m in $(awk -v d="$_c_mm" '$3 == d { print $5 }' /proc/self/mountinfo); do
				umount "$_c_m" 2>/dev/null
			done
		done
		for _c_h in "$_c_b"/holders/dm-*; do
			[ -e "$_c_h" ] && dmsetup remove --force "$(cat "$_c_h/dm/name")" >/dev/null 2>&1
		done
		# Forced: a mount left busy or a holder left open.
		echo "${_c_d##*/} force" >/sys/bus/rbd/remove_single_major 2>/dev/null
	done
	for _c_p in "$CEPH_DIR"/run/*.pid; do
		[ -f "$_c_p" ] || continue
		_c_pid=$(cat "$_c_p")
		kill -CONT "$_c_pid" 2>/dev/null
		kill -KILL "$_c_pid" 2>/dev/null
		# The daemons forked away from the case: their parent is /init,
		# which may reap them late; a zombie is gone enough (its
		# sockets are closed). A bounded wait that does not fail here.
		_c_end=$(($(date +%s) + 10))
		while kill -0 "$_c_pid" 2>/dev/null &&
			! grep -q '^State:.*Z' "/proc/$_c_pid/status" 2>/dev/null; do
			[ "$(date +%s)" -ge "$_c_end" ] && { _c_err="$_c_err ${_c_p##*/} $_c_pid alive 10 s after SIGKILL;"; break; }
			usleep 100000
		done
		rm -f "$_c_p"
	done
	rm -rf "$CEPH_DIR"
	_c_left=$(ls /sys/bus/rbd/devices 2>/dev/null)
	[ -z "$_c_left" ] || _c_err="$_c_err krbd devices still mapped: $(echo $_c_left);"
	[ -z "$_c_err" ] || fail "ceph_stop:$_c_err"
}
