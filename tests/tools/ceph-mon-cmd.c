// SPDX-License-Identifier: GPL-2.0
/*
 * ceph-mon-cmd - send one command to the Ceph monitors through librados
 *
 *   ceph-mon-cmd [-c CONF] [-n NAME] [-t SECONDS] [-u OSD] JSON...
 *
 * The test guest has no Python, hence no `ceph` command: this sends the JSON
 * form of monitor commands (e.g. {"prefix": "osd pool create", "pool":
 * "rbd", "pg_num": 8}) one after the other over one connection with
 * rados_mon_command(), and prints the monitors' output on stdout and their
 * status strings on stderr. Under TCG starting a program linked with
 * librados costs seconds, hence several commands per run.
 *
 * -u OSD: before the commands, wait until the OSD map says osd.OSD is up
 * (polls "osd dump" every 0.1 s, at most SECONDS).
 *
 * Exit 0 when the monitor accepted every command, 1 when it refused one
 * (named on stderr; the later ones are not sent), 2 on a usage error, when
 * the cluster cannot be reached within SECONDS (default 30;
 * client_mount_timeout and rados_mon_op_timeout) or the OSD is not up in
 * time.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <rados/librados.h>

static void usage(void)
{
	fprintf(stderr, "usage: ceph-mon-cmd [-c CONF] [-n NAME] [-t SECONDS] [-u OSD] JSON...\n");
	exit(2);
}

/* osd_up: 1 when "osd dump" lists osd.ID up, 0 when not, -errno on error. */
static int osd_up(rados_t cluster, int id)
{
	const char *cmd[1] = { "{\"prefix\":\"osd dump\",\"format\":\"json\"}" };
	char *outbuf = NULL, *outs = NULL, needle[64];
	size_t outbuf_len = 0, outs_len = 0;
	int r;

	r = rados_mon_command(cluster, cmd, 1, "", 0, &outbuf, &outbuf_len,
			      &outs, &outs_len);
	if (r >= 0) {
		/* {"osd":0,"uuid":"...","up":1,...}: the uuid is 36 characters. */
		snprintf(needle, sizeof(needle), "{\"osd\":%d,\"uuid\":\"", id);
		char *p = outbuf ? memmem(outbuf, outbuf_len, needle, strlen(needle)) : NULL;

		r = p && (size_t)(outbuf + outbuf_len - p) > strlen(needle) + 44 &&
		    !strncmp(p + strlen(needle) + 37, ",\"up\":1", 7);
	}
	rados_buffer_free(outbuf);
	rados_buffer_free(outs);
	return r;
}

int main(int argc, char **argv)
{
	const char *conf = "/etc/ceph/ceph.conf", *name = "client.admin";
	const char *timeout = "30";
	rados_t cluster;
	char *outbuf = NULL, *outs = NULL;
	size_t outbuf_len = 0, outs_len = 0;
	const char *cmd[1];
	int opt, r, up_id = -1, i;
	struct timespec t0, now;

	while ((opt = getopt(argc, argv, "c:n:t:u:h")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'n': name = optarg; break;
		case 't': timeout = optarg; break;
		case 'u': up_id = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind >= argc || atoi(timeout) <= 0)
		usage();

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
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (up_id >= 0 && (r = osd_up(cluster, up_id)) != 1) {
		const struct timespec tenth = { 0, 100000000 };

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= atoi(timeout)) {
			fprintf(stderr, "ceph-mon-cmd: -u %d: osd.%d not up after %s s%s%s\n",
				up_id, up_id, timeout, r < 0 ? ": " : "",
				r < 0 ? strerror(-r) : "");
			rados_shutdown(cluster);
			return 2;
		}
		nanosleep(&tenth, NULL);
	}
	for (i = optind, r = 0; i < argc && r >= 0; i++) {
		cmd[0] = argv[i];
		outbuf_len = outs_len = 0;
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
		outbuf = outs = NULL;
	}
	rados_shutdown(cluster);
	return r < 0 ? 1 : 0;
}
