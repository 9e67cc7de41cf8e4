// SPDX-License-Identifier: GPL-2.0
/*
 * ceph-mon-cmd - send one command to the Ceph monitors through librados
 *
 *   ceph-mon-cmd [-c CONF] [-n NAME] [-t SECONDS] JSON
 *
 * The test guest has no Python, hence no `ceph` command: this sends the JSON
 * form of a monitor command (e.g. {"prefix": "osd pool create", "pool":
 * "rbd", "pg_num": 8}) with rados_mon_command(), prints the monitor's
 * output on stdout and its status string on stderr. Exit 0 when the
 * monitor accepted the command, 1 when it refused it (the error named on
 * stderr), 2 on a usage error or when the cluster cannot be reached within
 * SECONDS (default 30; client_mount_timeout and rados_mon_op_timeout).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rados/librados.h>

static void usage(void)
{
	fprintf(stderr, "usage: ceph-mon-cmd [-c CONF] [-n NAME] [-t SECONDS] JSON\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *conf = "/etc/ceph/ceph.conf", *name = "client.admin";
	const char *timeout = "30";
	rados_t cluster;
	char *outbuf = NULL, *outs = NULL;
	size_t outbuf_len = 0, outs_len = 0;
	const char *cmd[1];
	int opt, r;

	while ((opt = getopt(argc, argv, "c:n:t:h")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'n': name = optarg; break;
		case 't': timeout = optarg; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	cmd[0] = argv[optind];

	r = rados_create2(&cluster, "ceph", name, 0);
	if (r < 0) {
		fprintf(stderr, "ceph-mon-cmd: rados_create2 %s: %s\n", name, strerror(-r));
		return 2;
	}
	r = rados_conf_read_file(cluster, conf);
	if (r < 0) {
		fprintf(stderr, "ceph-mon-cmd: -c %s: %s\n", conf, strerror(-r));
		return 2;
	}
	rados_conf_set(cluster, "client_mount_timeout", timeout);
	rados_conf_set(cluster, "rados_mon_op_timeout", timeout);
	r = rados_connect(cluster);
	if (r < 0) {
		fprintf(stderr, "ceph-mon-cmd: cannot connect to the monitors of %s: %s\n",
			conf, strerror(-r));
		rados_shutdown(cluster);
		return 2;
	}
	r = rados_mon_command(cluster, cmd, 1, "", 0, &outbuf, &outbuf_len,
			      &outs, &outs_len);
	if (outbuf_len)
		fwrite(outbuf, 1, outbuf_len, stdout);
	if (outs_len)
		fprintf(stderr, "%.*s\n", (int)outs_len, outs);
	if (r < 0)
		fprintf(stderr, "ceph-mon-cmd: the monitor refused '%s': %s\n",
			cmd[0], strerror(-r));
	rados_buffer_free(outbuf);
	rados_buffer_free(outs);
	rados_shutdown(cluster);
	return r < 0 ? 1 : 0;
}
