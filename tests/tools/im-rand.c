// SPDX-License-Identifier: GPL-2.0
/*
 * im-rand: the random parts of the randomized claim checker
 * (tests/cases/target-random-claims.sh), in C because the guest runs under
 * TCG, where a shell loop over regions or a dd per write is slow.
 *
 *   im-rand steps SEED N
 *       the step list of one sequence: a first line "seq R1 R2 R3", then N
 *       lines "<kind> R1 R2 R3" (kind: see kinds[] below; R are random
 *       32-bit numbers the case turns into arguments). Same SEED, same list.
 *   im-rand io DEV SEED COUNT LEN REGION_BYTES [FUA]
 *       COUNT random operations on the first LEN bytes of DEV, O_DIRECT:
 *       writes of random size (512 B to 256 KiB) and alignment (512 B or
 *       4 KiB) with random data, with FUA 1 (default) a fifth of them FUA
 *       (RWF_DSYNC; FUA 0: none), flushes
 *       (fdatasync), discards (BLKDISCARD) and write-zeroes (BLKZEROOUT),
 *       within one region or spanning up to four. A third of the runs fork
 *       a second writer for half of the operations, on the second half of
 *       the bytes (no two writes in flight on one sector: see io_run()).
 *       Prints one summary line (the child's counts are not in it).
 *   im-rand cmp A B LEN REGION_BYTES DIRTY
 *       compare, with O_DIRECT reads, every region of the first LEN bytes
 *       of A and B that the file DIRTY (one region "N" or range "N-M" per
 *       line, as get_dirty prints them) does not list. Prints
 *       "DIFF <region>" for the first 16 that differ, then
 *       "compared <n> regions, <m> differ". Exit 1 when one differs.
 *   im-rand copydiff FILE DEV LEN
 *       write to DEV (O_DIRECT, no flush) every 64 KiB chunk of the first
 *       LEN bytes of FILE that differs on DEV; prints the number written.
 *
 * Exit status: 0 ok, 1 a difference (cmp), 2 usage or I/O error.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "im-rand"
#define MAXIO (256u << 10)

static uint64_t rng;
static bool fua_on = true;

/* splitmix64: small, fast, the same on every host. */
static uint64_t rnd(void)
{
	uint64_t z = (rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int usage(void)
{
	fputs("Usage: im-rand steps SEED N\n"
	      "       im-rand io DEV SEED COUNT LEN REGION_BYTES [FUA]\n"
	      "       im-rand cmp A B LEN REGION_BYTES DIRTY\n"
	      "       im-rand copydiff FILE DEV LEN\n", stderr);
	return 2;
}

static int num(const char *what, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, PROG ": %s: not a number: '%s'\n", what, s);
		return -1;
	}
	return 0;
}

static void *abuf(size_t n)
{
	void *p;

	if (posix_memalign(&p, 4096, n)) {
		fprintf(stderr, PROG ": out of memory (%zu bytes)\n", n);
		exit(2);
	}
	return p;
}

static int pread_full(int fd, const char *name, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, PROG ": %s: read at byte %" PRIu64 ": %s\n", name,
				off + done, r < 0 ? strerror(errno) : "end of device");
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/* ------------------------------------------------------------ steps */

/* Weights of the step kinds; the case gives each its meaning. */
static const struct { const char *name; unsigned int w; } kinds[] = {
	{ "io", 24 },		{ "set_dirty", 5 },	{ "pause", 3 },
	{ "start", 5 },		{ "suspend", 3 },	{ "verify", 5 },
	{ "rate", 3 },		{ "wait_synced", 5 },	{ "reload_len", 3 },
	{ "reload_region", 3 },	{ "meta", 5 },		{ "dst_error", 5 },
	{ "dst_drop", 3 },	{ "cache_loss", 7 },	{ "crash", 5 },
};

static int cmd_steps(int argc, char **argv)
{
	uint64_t seed, n, tot = 0;

	if (argc != 2 || num("SEED", argv[0], &seed) || num("N", argv[1], &n))
		return usage();
	rng = seed;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		tot += kinds[k].w;
	printf("seq %u %u %u\n", (unsigned int)(rnd() >> 32), (unsigned int)(rnd() >> 32),
	       (unsigned int)(rnd() >> 32));
	for (uint64_t i = 0; i < n; i++) {
		uint64_t x = below(tot);
		size_t k = 0;

		while (x >= kinds[k].w)
			x -= kinds[k++].w;
		printf("%s %u %u %u\n", kinds[k].name, (unsigned int)(rnd() >> 32),
		       (unsigned int)(rnd() >> 32), (unsigned int)(rnd() >> 32));
	}
	return fflush(stdout) ? 2 : 0;
}

/* ------------------------------------------------------------ io */

struct io_count {
	unsigned int writes, fua, flushes, discards, zeroes, spanning, refused;
};

/*
 * A range of 512-byte sectors in [lo, hi): inside one region or spanning a
 * few.
 */
static void pick_range(uint64_t lo, uint64_t hi, uint64_t region, uint64_t *off, uint64_t *n)
{
	uint64_t slo = lo / 512, sectors = hi / 512, rs = region / 512, a, b;

	if (rnd() & 1) {	/* inside one region */
		uint64_t r = slo / rs + below((sectors + rs - 1) / rs - slo / rs);

		a = r * rs + below(rs);
		b = a + 1 + below(rs - (a - r * rs));
	} else {		/* from anywhere, over up to four regions */
		a = slo + below(sectors - slo);
		b = a + 1 + below(4 * rs);
	}
	if (a < slo)
		a = slo;
	if (a >= sectors)
		a = sectors - 1;
	if (b > sectors)
		b = sectors;
	if (b <= a)
		b = a + 1;
	*off = a * 512;
	*n = (b - a) * 512;
}

/*
 * COUNT operations on the bytes [lo, hi) of DEV. Two writers get disjoint
 * halves (they may share a region, never a sector): overlapping writes in
 * flight at once reach a device in an order dm-log-writes may log
 * differently, and the power-cut claim replays that log.
 */
static int io_run(const char *dev, int fd, uint64_t count, uint64_t lo, uint64_t hi,
		  uint64_t region, struct io_count *c)
{
	uint8_t *buf = abuf(MAXIO);
	uint64_t len = hi;

	for (uint64_t i = 0; i < count; i++) {
		uint64_t x = below(100), off, n;

		if (x < 60) {
			bool page = rnd() & 1;
			uint64_t unit = page ? 4096 : 512, units = len / unit;
			uint64_t first = (lo + unit - 1) / unit;
			int flags = below(5) == 0 && fua_on ? RWF_DSYNC : 0;
			struct iovec iov;
			ssize_t w;

			switch (below(3)) {
			case 0: n = 1 + below(8); break;
			case 1: n = 1 + below(4096 * 16 / unit); break;
			default: n = 1 + below(MAXIO / unit); break;
			}
			if (first >= units) {	/* no whole unit in the window */
				unit = 512;
				first = lo / 512;
				units = len / 512;
				n = 1;
			}
			off = first + below(units - first);
			if (off + n > units)
				n = units - off;
			off *= unit;
			n *= unit;
			for (uint64_t k = 0; k < n; k += 8) {
				uint64_t v = rnd();

				memcpy(buf + k, &v, 8);
			}
			iov.iov_base = buf;
			iov.iov_len = n;
			w = pwritev2(fd, &iov, 1, (off_t)off, flags);
			if (w != (ssize_t)n) {
				fprintf(stderr, PROG ": %s: write of %" PRIu64 " bytes at %" PRIu64
					"%s: %s\n", dev, n, off, flags ? " (FUA)" : "",
					w < 0 ? strerror(errno) : "short write");
				free(buf);
				return -1;
			}
			c->writes++;
			if (flags)
				c->fua++;
		} else if (x < 70) {
			if (fdatasync(fd)) {
				fprintf(stderr, PROG ": %s: flush: %s\n", dev, strerror(errno));
				free(buf);
				return -1;
			}
			c->flushes++;
		} else {
			bool zero = x >= 85;
			uint64_t r[2];

			pick_range(lo, hi, region, &off, &n);
			r[0] = off;
			r[1] = n;
			if (off / region != (off + n - 1) / region)
				c->spanning++;
			if (ioctl(fd, zero ? BLKZEROOUT : BLKDISCARD, r)) {
				if (errno != EOPNOTSUPP) {
					fprintf(stderr, PROG ": %s: %s of %" PRIu64 " bytes at %" PRIu64
						": %s\n", dev, zero ? "BLKZEROOUT" : "BLKDISCARD", n,
						off, strerror(errno));
					free(buf);
					return -1;
				}
				c->refused++;
			} else if (zero) {
				c->zeroes++;
			} else {
				c->discards++;
			}
		}
	}
	free(buf);
	return 0;
}

static int cmd_io(int argc, char **argv)
{
	uint64_t seed, count, len, region, mine, fua = 1;
	struct io_count c = { 0 };
	pid_t child = -1;
	int fd, rc = 0, st;

	if ((argc != 5 && argc != 6) || num("SEED", argv[1], &seed) ||
	    num("COUNT", argv[2], &count) || num("LEN", argv[3], &len) ||
	    num("REGION_BYTES", argv[4], &region) || (argc == 6 && num("FUA", argv[5], &fua)))
		return usage();
	fua_on = fua != 0;
	if (len < 4096 || len % 512 || region < 512 || region % 512) {
		fprintf(stderr, PROG " io: LEN %" PRIu64 " / REGION_BYTES %" PRIu64
			": whole sectors, LEN at least 4 KiB\n", len, region);
		return 2;
	}
	fd = open(argv[0], O_RDWR | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", argv[0], strerror(errno));
		return 2;
	}
	rng = seed;
	mine = count;
	if (count >= 4 && below(3) == 0) {
		uint64_t cseed = rnd();

		mine = count / 2;
		fflush(stdout);
		child = fork();
		if (child < 0) {
			fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
			return 2;
		}
		if (child == 0) {
			rng = cseed;
			_exit(io_run(argv[0], fd, count - mine, len / 1024 * 512, len, region, &c) ?
			      2 : 0);
		}
	}
	if (io_run(argv[0], fd, mine, 0, child > 0 ? len / 1024 * 512 : len, region, &c))
		rc = 2;
	if (child > 0) {
		if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
			rc = 2;
	}
	close(fd);
	printf("io: %" PRIu64 " ops%s: %u writes (%u FUA), %u flushes, %u discards, %u write-zeroes, "
	       "%u spanning regions, %u refused\n", count, child > 0 ? " in 2 writers" : "",
	       c.writes, c.fua, c.flushes, c.discards, c.zeroes, c.spanning, c.refused);
	return rc;
}

/* ------------------------------------------------------------ cmp */

static int cmd_cmp(int argc, char **argv)
{
	uint64_t len, region, nreg, compared = 0, differ = 0;
	uint8_t *dirty, *ba, *bb;
	int fa, fb, rc = 0;
	char line[128];
	FILE *f;

	if (argc != 5 || num("LEN", argv[2], &len) || num("REGION_BYTES", argv[3], &region))
		return usage();
	if (!len || len % 512 || !region || region % 512) {
		fprintf(stderr, PROG " cmp: LEN and REGION_BYTES must be whole sectors\n");
		return 2;
	}
	nreg = (len + region - 1) / region;
	dirty = calloc(nreg, 1);
	f = fopen(argv[4], "r");
	if (!dirty || !f) {
		fprintf(stderr, PROG ": %s: %s\n", argv[4], strerror(errno));
		return 2;
	}
	for (unsigned int ln = 1; fgets(line, sizeof(line), f); ln++) {
		unsigned long long a, b;
		int k = sscanf(line, "%llu-%llu", &a, &b);

		if (k == 1)
			b = a;
		if (k < 1 || a > b || b >= nreg) {
			fprintf(stderr, PROG ": %s: line %u: '%s' is no range of regions below %" PRIu64 "\n",
				argv[4], ln, strtok(line, "\n") ? line : "", nreg);
			return 2;
		}
		memset(dirty + a, 1, b - a + 1);
	}
	fclose(f);
	fa = open(argv[0], O_RDONLY | O_DIRECT);
	fb = open(argv[1], O_RDONLY | O_DIRECT);
	if (fa < 0 || fb < 0) {
		fprintf(stderr, PROG ": %s: %s\n", fa < 0 ? argv[0] : argv[1], strerror(errno));
		return 2;
	}
	ba = abuf(1u << 20);
	bb = abuf(1u << 20);
	for (uint64_t r = 0; r < nreg; r++) {
		uint64_t end = (r + 1) * region < len ? (r + 1) * region : len;
		bool same = true;

		if (dirty[r])
			continue;
		for (uint64_t o = r * region; o < end && same; o += 1u << 20) {
			size_t n = end - o < (1u << 20) ? (size_t)(end - o) : (1u << 20);

			if (pread_full(fa, argv[0], ba, n, o) || pread_full(fb, argv[1], bb, n, o))
				return 2;
			same = !memcmp(ba, bb, n);
		}
		compared++;
		if (!same) {
			if (differ < 16)
				printf("DIFF %" PRIu64 "\n", r);
			differ++;
			rc = 1;
		}
	}
	printf("compared %" PRIu64 " regions, %" PRIu64 " differ\n", compared, differ);
	free(ba);
	free(bb);
	free(dirty);
	close(fa);
	close(fb);
	return fflush(stdout) ? 2 : rc;
}

/* ------------------------------------------------------------ copydiff */

static int cmd_copydiff(int argc, char **argv)
{
	const size_t chunk = 64u << 10;
	uint64_t len, written = 0;
	uint8_t *bf, *bd;
	int ff, fd;

	if (argc != 3 || num("LEN", argv[2], &len))
		return usage();
	if (len % 512) {
		fprintf(stderr, PROG " copydiff: LEN must be whole sectors\n");
		return 2;
	}
	ff = open(argv[0], O_RDONLY);
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (ff < 0 || fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", ff < 0 ? argv[0] : argv[1], strerror(errno));
		return 2;
	}
	bf = abuf(chunk);
	bd = abuf(chunk);
	for (uint64_t o = 0; o < len; o += chunk) {
		size_t n = len - o < chunk ? (size_t)(len - o) : chunk;

		if (pread_full(ff, argv[0], bf, n, o) || pread_full(fd, argv[1], bd, n, o))
			return 2;
		if (!memcmp(bf, bd, n))
			continue;
		if (pwrite(fd, bf, n, (off_t)o) != (ssize_t)n) {
			fprintf(stderr, PROG ": %s: write at byte %" PRIu64 ": %s\n", argv[1], o,
				strerror(errno));
			return 2;
		}
		written++;
	}
	printf("%" PRIu64 "\n", written);
	free(bf);
	free(bd);
	close(ff);
	close(fd);
	return fflush(stdout) ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "steps"))
		return cmd_steps(argc - 2, argv + 2);
	if (!strcmp(argv[1], "io"))
		return cmd_io(argc - 2, argv + 2);
	if (!strcmp(argv[1], "cmp"))
		return cmd_cmp(argc - 2, argv + 2);
	if (!strcmp(argv[1], "copydiff"))
		return cmd_copydiff(argc - 2, argv + 2);
	if (!strcmp(argv[1], "--help")) {
		usage();
		return 0;
	}
	return usage();
}
