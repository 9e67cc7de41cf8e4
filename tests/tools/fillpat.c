// SPDX-License-Identifier: GPL-2.0
/*
 * fillpat: BYTES bytes of the byte HEX, or of pseudo-random data, to stdout
 * or written over FILE.
 *
 *   fillpat HEX|random BYTES [FILE]
 *
 * "random" is xoshiro256** seeded from /dev/urandom: different in every run
 * and every block, as a test's random data must be, at memory speed.
 * With FILE (a device, or a file it creates or truncates as dd does), writes with O_DIRECT in 1 MiB blocks from offset 0
 * (buffered where the file system has no O_DIRECT). Exit 0, or
 * 1 with a message naming FILE and the offset.
 * Why: under TCG `head -c N /dev/zero | tr` ran at about 5 MB/s and
 * `dd if=/dev/urandom` at about 15 MB/s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK (1u << 20)

static uint64_t st[4];

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna, public domain reference). */
static uint64_t next(void)
{
	uint64_t r = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;

	st[2] ^= st[0];
	st[3] ^= st[1];
	st[1] ^= st[2];
	st[0] ^= st[3];
	st[2] ^= t;
	st[3] = rotl(st[3], 45);
	return r;
}

int main(int argc, char **argv)
{
	unsigned long long total, off = 0;
	const char *path = argc == 4 ? argv[3] : "stdout";
	char *end, *b;
	long byte = 0;
	int fd = 1, rnd = 0;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: fillpat HEX|random BYTES [FILE]\n");
		return 2;
	}
	if (!strcmp(argv[1], "random")) {
		FILE *u = fopen("/dev/urandom", "r");

		rnd = 1;
		if (!u || fread(st, sizeof(st), 1, u) != 1) {
			fprintf(stderr, "fillpat: /dev/urandom: cannot read a seed\n");
			return 1;
		}
		fclose(u);
	} else {
		byte = strtol(argv[1], &end, 16);
	}
	if (!rnd && (*end || byte < 0 || byte > 255)) {
		fprintf(stderr, "fillpat: bad byte '%s'\n", argv[1]);
		return 2;
	}
	total = strtoull(argv[2], &end, 0);
	if (*end) {
		fprintf(stderr, "fillpat: bad size '%s'\n", argv[2]);
		return 2;
	}
	if (argc == 4) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EINVAL)
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "fillpat: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	if (posix_memalign((void **)&b, 4096, BLK))
		return 1;
	memset(b, (int)byte, BLK);
	while (off < total) {
		size_t n = total - off < BLK ? total - off : BLK, i;
		ssize_t w;

		if (rnd)
			for (i = 0; i < BLK / 8; i++)
				((uint64_t *)b)[i] = next();
		w = write(fd, b, n);

		if (w < 0 && errno == EINVAL && fd != 1 && (fcntl(fd, F_GETFL) & O_DIRECT)) {
			/* A tail shorter than the logical block size. */
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT);
			continue;
		}
		if (w <= 0) {
			fprintf(stderr, "fillpat: %s: write at byte %llu: %s\n", path, off,
				w < 0 ? strerror(errno) : "no progress");
			return 1;
		}
		off += w;
	}
	/* No fsync: like the dd oflag=direct it replaces, it sends no flush
	 * (a case may fill a device logged by dm-log-writes). */
	if (fd != 1 && close(fd)) {
		fprintf(stderr, "fillpat: %s: close: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}
