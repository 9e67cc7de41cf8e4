# Helpers for the cases with a remote (NBD) destination: a qemu-nbd server
# on a file, over TCP on the guest's loopback, the kernel's nbd client
# device as the destination, and tc netem on lo between them. Source it
# after guest.sh. busybox has its own `tc` without netem: always call
# /usr/sbin/tc (iproute2).

TC=/usr/sbin/tc

# nbd_setup: loopback up, nbd and sch_netem loaded, no qdisc on lo.
nbd_setup() {
	ip link set lo up || fail "ip link set lo up"
	[ -b /dev/nbd0 ] || modprobe nbd nbds_max=4 || fail "modprobe nbd"
	modprobe sch_netem || fail "modprobe sch_netem"
	$TC qdisc del dev lo root >/dev/null 2>&1
	return 0
}

# nbd_backup_pair IMG: /dev/ram0 (64 MiB) filled with random data, loop up,
# nbd and netem loaded, and IMG a copy of it: the server's file as restored
# from the last backup. The case then changes the source since "the backup".
nbd_backup_pair() {
	ram_devices 1 64
	nbd_setup
	random_fill /dev/ram0
	run dd if=/dev/ram0 of="$1" bs=1M iflag=direct 2>/dev/null
}

# The longest a request waits for a server that died or stopped answering,
# with nbd-client -t T: T for its own timer, and as long again before that
# timer starts. The kernel client takes the connection's send lock before it
# starts the request's timer, and the send ahead of it may block in a dead
# socket for the socket's send timeout, which is also T. A server that dies
# closes its connection, which fails requests not yet sent at once, but one
# already sent still waits for its timer. blk-mq rounds the queue's timeout
# timer up to the next whole second (blk_round_jiffies() in
# block/blk-timeout.c), so a timer fires up to 1 s late; one more second
# for the error to reach the mirror. nbd_bound_ms T: that bound in ms,
# (2 T + 2) * 1000. (Seen: a write stalled 7.00 s with T = 3, degraded at
# 7.07 s.)
nbd_bound_ms() {
	echo $(((2 * $1 + 2) * 1000))
}

# nbd_serve FILE PORT: serve FILE (raw) on 127.0.0.1:PORT. The files are on
# tmpfs, which has no O_DIRECT on 6.1: the server writes through tmpfs's
# page cache, which is the file's storage (a killed server loses nothing it
# acknowledged).
# qemu-nbd --fork returns once the server listens; its pid lands in
# /tmp/nbd-server.PORT.pid. Up to two clients: a client that timed out may
# still count as connected on the server until its socket closes.
nbd_serve() {
	rm -f "/tmp/nbd-server.$2.pid"
	qemu-nbd -f raw -t -e 2 --fork --pid-file="/tmp/nbd-server.$2.pid" \
		-b 127.0.0.1 -p "$2" --cache=writeback "$1" >"/tmp/nbd-server.$2.log" 2>&1 ||
		{ cat "/tmp/nbd-server.$2.log" >&2; fail "qemu-nbd could not serve $1 on port $2"; }
}

# nbd_server_pid PORT
nbd_server_pid() {
	cat "/tmp/nbd-server.$1.pid" 2>/dev/null
}

# nbd_kill_server PORT: SIGKILL the server (a crash, not a clean shutdown)
# and wait until it is gone.
nbd_kill_server() {
	_n_pid=$(nbd_server_pid "$1")
	[ -n "$_n_pid" ] || fail "no server pid for port $1"
	kill -9 "$_n_pid" || fail "kill -9 $_n_pid"
	wait_pid_gone "$_n_pid" 10 || fail "qemu-nbd $_n_pid still there after SIGKILL"
}

# nbd_connect PORT DEV TIMEOUT: connect the kernel client DEV (/dev/nbdN) to
# the server, 4 KiB blocks, TIMEOUT seconds per request (nbd-client -t).
nbd_connect() {
	nbd-client 127.0.0.1 "$1" "$2" -b 4096 -t "$3" -N '' >/tmp/nbd-client.log 2>&1 ||
		{ cat /tmp/nbd-client.log >&2; fail "nbd-client could not connect $2 to port $1"; }
	nbd-client -c "$2" >/dev/null || fail "$2 is not connected after nbd-client"
}

# nbd_disconnect DEV: disconnect DEV if it is connected (no failure).
nbd_disconnect() {
	nbd-client -d "$1" >/dev/null 2>&1
	return 0
}

# netem ARGS...: set (or replace) the netem qdisc on lo, e.g.
# `netem delay 10ms 5ms loss 0.5%`; `netem off` removes it.
netem() {
	if [ "$1" = off ]; then
		$TC qdisc del dev lo root >/dev/null 2>&1
		return 0
	fi
	$TC qdisc replace dev lo root netem "$@" || fail "tc qdisc replace dev lo root netem $*"
}

# nbd_cleanup: what a case's EXIT trap calls (before cleanup_devices).
nbd_cleanup() {
	netem off
	for _n_f in /tmp/nbd-server.*.pid; do
		[ -f "$_n_f" ] && kill -9 "$(cat "$_n_f")" 2>/dev/null
	done
	dmsetup remove_all >/dev/null 2>&1
	for _n_d in /dev/nbd0 /dev/nbd1 /dev/nbd2 /dev/nbd3; do
		nbd_disconnect "$_n_d"
	done
	rm -f /tmp/nbd-server.*
}

# fio_write_clat_ms JSON_FILE: "<p99> <max>" completion latency of the
# writes, in ms, from fio's --output-format=json (its layout is one key per
# line: the "write" object, its "clat_ns" object, then "max" and the
# "percentile" list).
fio_write_clat_ms() {
	awk '
	/"write" : \{/ { w = 1 }
	w && /"clat_ns" : \{/ { c = 1 }
	c && /"max" :/ { gsub(/[^0-9.]/, "", $3); max = $3 }
	c && /"99.000000" :/ { gsub(/[^0-9.]/, "", $3); p99 = $3 }
	c && /"lat_ns" : \{/ { exit }
	END {
		if (max == "" || p99 == "") exit 1
		printf "%.1f %.1f\n", p99 / 1e6, max / 1e6
	}' "$1" || fail "no write completion latency in $1"
}

# ms_ok VALUE OP BOUND WHAT: VALUE (ms, e.g. from fio_write_clat_ms) is a
# number and VALUE OP BOUND holds, numerically (OP: lt or le). An empty or
# non-numeric VALUE fails the case: awk would compare it as a string, and
# "" < "3000" holds. Returns 1 when the comparison does not hold.
ms_ok() {
	case $1 in
	'' | *[!0-9.]* | *.*.* | .) fail "$4: '$1' is not a number of ms" ;;
	esac
	case $2 in
	lt) awk -v m="$1" -v b="$3" 'BEGIN { exit !(m + 0 < b + 0) }' ;;
	le) awk -v m="$1" -v b="$3" 'BEGIN { exit !(m + 0 <= b + 0) }' ;;
	*) fail "ms_ok: bad operator '$2'" ;;
	esac
}
