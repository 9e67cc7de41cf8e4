# Helpers for the cases with a Ceph destination: a throwaway single-node
# cluster (one monitor, one OSD on memstore, 127.0.0.1 only, no manager)
# inside the guest, and krbd mappings of its images. Source it after
# guest.sh; the case needs the "# NEEDS: ceph" header line (the Ceph
# programs are in a second initramfs archive loaded only for such cases).
# What was measured is in tests/README.md ("A Ceph cluster in the guest").
#
# ceph_start [MEMSTORE_MIB]: start the cluster (default 256 MiB of OSD
#   memory store) and create the pool "rbd"; returns when `rbd ls` works.
# ceph_stop: unmap every krbd device, stop the daemons (every case that
#   calls ceph_start traps it on EXIT).
# ceph_map IMAGE [OPTIONS]: map rbd/IMAGE with krbd, print /dev/rbdN.

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
fsid = 5b1f7a6e-0f5e-4c1e-9a51-1ce9b0c1e001
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

CEPH_FSID=5b1f7a6e-0f5e-4c1e-9a51-1ce9b0c1e001
CEPH_OSD_UUID=0a5d0000-0000-4000-8000-000000000000

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
	ip link set lo up || fail "ip link set lo up"
	ceph_conf $((_c_mem * 1024 * 1024))
	rm -rf "$CEPH_DIR/mon/ceph-a" "$CEPH_DIR/osd/ceph-0"
	run monmaptool --create --fsid "$CEPH_FSID" \
		--addv a "[v2:127.0.0.1:3300,v1:$CEPH_MON_ADDR]" --clobber "$CEPH_DIR/monmap" >/dev/null
	# auth none: the monitor wants a keyring file, an empty one will do.
	ceph-mon -c "$CEPH_CONF" --mkfs -i a --monmap "$CEPH_DIR/monmap" \
		--keyring /dev/null >"$CEPH_DIR/log/mon-mkfs.out" 2>&1 ||
		{ cat "$CEPH_DIR/log/mon-mkfs.out" >&2; fail "ceph-mon --mkfs"; }
	: >"$CEPH_DIR/mon/ceph-a/keyring"
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
	mkdir -p "$CEPH_DIR/osd/ceph-0"
	ceph-osd -c "$CEPH_CONF" -i 0 --mkfs --osd-uuid "$CEPH_OSD_UUID" \
		>"$CEPH_DIR/log/osd-mkfs.out" 2>&1 ||
		{ cat "$CEPH_DIR/log/osd-mkfs.out" >&2; fail "ceph-osd --mkfs"; }
	_c_t3=$(uptime_ms)
	ceph_osd_start
	ceph_wait_osd_up 120
	_c_t4=$(uptime_ms)
	timeout 60 rbd ls >/dev/null || fail "rbd ls does not answer"
	CEPH_START_MS=$(($(uptime_ms) - _c_t0))
	info "ceph: monitor, osd.0 (memstore ${_c_mem} MiB) and pool rbd up in $CEPH_START_MS ms" \
		"(mon mkfs $((_c_t1 - _c_t0)), mon up + commands $((_c_t2 - _c_t1)), osd mkfs $((_c_t3 - _c_t2))," \
		"osd up $((_c_t4 - _c_t3)), rbd ls $(($(uptime_ms) - _c_t4)))"
}

# ceph_map IMAGE [OPTIONS]: map rbd/IMAGE[@SNAP] with the kernel client
# (no udev: -o noudev), print the device.
ceph_map() {
	_c_o=noudev
	[ -n "${2:-}" ] && _c_o="$_c_o,$2"
	_c_dev=$(timeout 120 rbd device map -o "$_c_o" "rbd/$1" 2>/tmp/.ceph-map.err) ||
		{ cat /tmp/.ceph-map.err >&2; dmesg | tail -n 10 >&2; fail "rbd device map rbd/$1 -o $_c_o"; }
	[ -b "$_c_dev" ] || fail "rbd device map printed '$_c_dev', not a block device"
	echo "$_c_dev"
}

# ceph_unmap DEV
ceph_unmap() {
	timeout 60 rbd device unmap -o noudev "$1" || fail "rbd device unmap $1"
}

# ceph_stop: unmap everything (forced: an OSD may be gone), stop the daemons.
ceph_stop() {
	for _c_d in /sys/bus/rbd/devices/*; do
		[ -e "$_c_d" ] || continue
		echo "${_c_d##*/} force" >/sys/bus/rbd/remove_single_major 2>/dev/null
	done
	for _c_p in "$CEPH_DIR"/run/*.pid; do
		[ -f "$_c_p" ] || continue
		_c_pid=$(cat "$_c_p")
		kill -CONT "$_c_pid" 2>/dev/null
		kill -KILL "$_c_pid" 2>/dev/null
		wait_pid_gone "$_c_pid" 10
		rm -f "$_c_p"
	done
	rm -rf "$CEPH_DIR"
}
