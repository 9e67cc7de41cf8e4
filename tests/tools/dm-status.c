// SPDX-License-Identifier: GPL-2.0
/*
 * dm-status: a device-mapper device's status, read with one ioctl.
 *
 *   dm-status NAME             what `dmsetup status NAME` prints
 *   dm-status --table NAME     what `dmsetup table NAME` prints
 *   dm-status NAME N           field N (1-based) of the first target's
 *                              status after "<start> <len> <target>", as
 *                              guest.sh's dm_field printed it
 *   dm-status --message NAME SECTOR WORD...
 *                              what `dmsetup message NAME SECTOR WORD...`
 *                              does: sends the words, joined by spaces, and
 *                              prints the target's answer (with a newline)
 *   dm-status --wait NAME N VALUE SECONDS
 *                              poll every 20 ms until field N is VALUE:
 *                              exit 0, or 1 after SECONDS printing the
 *                              last status on stderr
 *
 * Why: under TCG a `dmsetup` run costs about 80 ms of guest CPU (loading
 * its libraries), and the cases poll status every 0.1 s while copies run,
 * so polling took most of a vCPU from the very copies it waited for; the
 * cases send about 2000 messages per kernel. This tool is static and polls
 * in one process. guest.sh uses it for its own helpers (dm_field, wait_*,
 * dm_msg); cases that check what dmsetup prints run dmsetup.
 * Exit status: 0 found, 1 not found / timed out, 2 usage or ioctl error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int ctl = -1;

/* The status text of every target, "start len target params\n" each. */
static int status(const char *name, char *out, size_t outsz, unsigned int flags)
{
	size_t sz = 16384;

	for (;;) {
		struct dm_ioctl *io = calloc(1, sz);
		char *data, *o = out;
		unsigned int i, off;

		if (!io)
			return -ENOMEM;
		io->version[0] = DM_VERSION_MAJOR;
		io->version[1] = 0;
		io->version[2] = 0;
		io->data_size = sz;
		io->data_start = sizeof(*io);
		io->flags = flags;
		snprintf(io->name, sizeof(io->name), "%s", name);
		if (ioctl(ctl, DM_TABLE_STATUS, io)) {
			int e = errno;

			free(io);
			return -e;
		}
		if (io->flags & DM_BUFFER_FULL_FLAG) {
			free(io);
			sz *= 4;
			if (sz > (64u << 20))
				return -E2BIG;
			continue;
		}
		data = (char *)io + io->data_start;
		*o = 0;
		for (i = 0, off = 0; i < io->target_count; i++) {
			struct dm_target_spec *s = (void *)(data + off);
			int n = snprintf(o, outsz - (o - out), "%llu %llu %s %s\n",
					 (unsigned long long)s->sector_start,
					 (unsigned long long)s->length,
					 s->target_type, (char *)(s + 1));

			if (n < 0 || (size_t)n >= outsz - (o - out)) {
				free(io);
				return -E2BIG;
			}
			o += n;
			off = s->next;
		}
		free(io);
		return 0;
	}
}

/* DM_TARGET_MSG: the answer, if any, goes to stdout as dmsetup prints it. */
static int message(const char *name, unsigned long long sector, char **words, int n)
{
	size_t len = 1, sz = 16384;
	int i;

	for (i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	for (;;) {
		struct dm_ioctl *io;
		struct dm_target_msg *m;
		char *p;

		if (sz < sizeof(*io) + sizeof(*m) + len)
			sz = sizeof(*io) + sizeof(*m) + len;
		io = calloc(1, sz);
		if (!io)
			return -ENOMEM;
		io->version[0] = DM_VERSION_MAJOR;
		io->data_size = sz;
		io->data_start = sizeof(*io);
		snprintf(io->name, sizeof(io->name), "%s", name);
		m = (void *)((char *)io + io->data_start);
		m->sector = sector;
		p = m->message;
		for (i = 0; i < n; i++)
			p += sprintf(p, "%s%s", i ? " " : "", words[i]);
		if (ioctl(ctl, DM_TARGET_MSG, io)) {
			int e = errno;

			free(io);
			return -e;
		}
		if (io->flags & DM_BUFFER_FULL_FLAG) {
			free(io);
			sz *= 4;
			if (sz > (256u << 20))
				return -E2BIG;
			continue;
		}
		if (io->flags & DM_DATA_OUT_FLAG) {
			const char *r = (char *)io + io->data_start;
			size_t rl = strlen(r);

			fputs(r, stdout);
			if (rl && r[rl - 1] != '\n')
				fputc('\n', stdout);
		}
		free(io);
		return 0;
	}
}

/* Field n (1-based) after the first three words of the first line. */
static int field(const char *st, int n, char *f, size_t fsz)
{
	const char *p = st;
	int w = 0;

	for (;;) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			return -1;
		len = strcspn(p, " \t\n");
		if (++w == n + 3) {
			if (len >= fsz)
				return -1;
			memcpy(f, p, len);
			f[len] = 0;
			return 0;
		}
		p += len;
	}
}

static char buf[1 << 20];

int main(int argc, char **argv)
{
	char f[4096];
	int r;

	ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		perror("dm-status: /dev/mapper/control");
		return 2;
	}
	if (argc >= 5 && !strcmp(argv[1], "--message")) {
		r = message(argv[2], strtoull(argv[3], NULL, 0), argv + 4, argc - 4);
		if (r) {
			fprintf(stderr, "dm-status: message ioctl on %s failed: %s\n",
				argv[2], strerror(-r));
			return 1;
		}
		return fflush(stdout) ? 2 : 0;
	}
	if (argc == 6 && !strcmp(argv[1], "--wait")) {
		int n = atoi(argv[3]);
		struct timespec t0, t, nap = { 0, 20 * 1000 * 1000 };
		double lim = atof(argv[5]);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			r = status(argv[2], buf, sizeof(buf), 0);
			if (!r && !field(buf, n, f, sizeof(f)) && !strcmp(f, argv[4]))
				return 0;
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 >= lim) {
				fprintf(stderr, "dm-status: %s field %d is not '%s' after %s s: %s",
					argv[2], n, argv[4], argv[5],
					r ? strerror(-r) : buf);
				if (r)
					fputc('\n', stderr);
				return 1;
			}
			nanosleep(&nap, NULL);
		}
	}
	if (argc == 3 && !strcmp(argv[1], "--table")) {
		r = status(argv[2], buf, sizeof(buf), DM_STATUS_TABLE_FLAG);
		if (r) {
			fprintf(stderr, "dm-status: %s: %s\n", argv[2], strerror(-r));
			return r == -ENXIO ? 1 : 2;
		}
		fputs(buf, stdout);
		return 0;
	}
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: dm-status NAME [N] | --table NAME | --message NAME SECTOR WORD... | --wait NAME N VALUE SECONDS\n");
		return 2;
	}
	r = status(argv[1], buf, sizeof(buf), 0);
	if (r) {
		fprintf(stderr, "dm-status: %s: %s\n", argv[1], strerror(-r));
		return r == -ENXIO ? 1 : 2;
	}
	if (argc == 2) {
		fputs(buf, stdout);
		return 0;
	}
	if (field(buf, atoi(argv[2]), f, sizeof(f)))
		return puts(""), 0;
	puts(f);
	return 0;
}
