// SPDX-License-Identifier: GPL-2.0
/*
 * devcmp: compare two devices or files, as `cmp -s`/`cmp` do, fast.
 *
 *   devcmp [-s] A B
 *   devcmp -r REGION_BYTES [-m MAX] A B
 *
 * Reads both with O_DIRECT (buffered where the file system has no O_DIRECT,
 * e.g. tmpfs before 6.6) in 4 MiB blocks and compares with memcmp.
 * guest.sh's cmp() runs it for the plain forms "cmp [-s] A B" and GNU cmp
 * for everything else. With -r, prints the 0-based index of every region
 * of REGION_BYTES that differs, one per line, at most MAX (default all;
 * guest.sh's diff_regions). Exit 0 identical, 1 different (prints "A B differ: byte
 * N" as cmp does without its ", line N", or "cmp: EOF on X after byte N"
 * when one is shorter; -s prints nothing), 2 error: the exit status is
 * cmp's, the text only close to it.
 * Why: under TCG, GNU cmp's byte loop over a page-cache copy of the data
 * ran at about 25 MB/s and was the largest single CPU cost of the guest
 * cases; O_DIRECT skips the copy and memcmp runs on vector code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK (4u << 20)

static int open_in(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECT | O_CLOEXEC);

	if (fd < 0 && errno == EINVAL)
		fd = open(p, O_RDONLY | O_CLOEXEC);
	return fd;
}

/* Fill up to len bytes; short only at EOF. O_DIRECT reads of a length that
 * is not a multiple of the logical block size fail at the tail: read it
 * again buffered. */
static ssize_t rd(int *fd, const char *p, char *b, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(*fd, b + got, len - got, off + got);

		if (n < 0 && errno == EINVAL && (fcntl(*fd, F_GETFL) & O_DIRECT)) {
			int nfd = open(p, O_RDONLY | O_CLOEXEC);

			if (nfd < 0)
				return -1;
			close(*fd);
			*fd = nfd;
			continue;
		}
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

int main(int argc, char **argv)
{
	int quiet = 0, fa, fb, differ = 0;
	unsigned long long off = 0, rb = 0, max = ~0ULL, nlisted = 0, last = ~0ULL;
	char *a, *b;

	while (argc > 1 && argv[1][0] == '-' && argv[1][1]) {
		if (!strcmp(argv[1], "-s")) {
			quiet = 1;
			argv++;
			argc--;
		} else if (argc > 2 && !strcmp(argv[1], "-r")) {
			rb = strtoull(argv[2], NULL, 0);
			argv += 2;
			argc -= 2;
		} else if (argc > 2 && !strcmp(argv[1], "-m")) {
			max = strtoull(argv[2], NULL, 0);
			argv += 2;
			argc -= 2;
		} else {
			break;
		}
	}
	if (argc != 3) {
		fprintf(stderr, "usage: devcmp [-s] A B | -r REGION_BYTES [-m MAX] A B\n");
		return 2;
	}
	fa = open_in(argv[1]);
	if (fa < 0) {
		fprintf(stderr, "devcmp: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	fb = open_in(argv[2]);
	if (fb < 0) {
		fprintf(stderr, "devcmp: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	if (posix_memalign((void **)&a, 4096, BLK) || posix_memalign((void **)&b, 4096, BLK))
		return 2;
	for (;;) {
		size_t want = BLK;
		ssize_t na = rd(&fa, argv[1], a, want, off);
		ssize_t nb;
		size_t n;

		if (na < 0) {
			fprintf(stderr, "devcmp: %s: read at byte %llu: %s\n", argv[1], off,
				strerror(errno));
			return 2;
		}
		nb = rd(&fb, argv[2], b, want, off);
		if (nb < 0) {
			fprintf(stderr, "devcmp: %s: read at byte %llu: %s\n", argv[2], off,
				strerror(errno));
			return 2;
		}
		n = na < nb ? na : nb;
		if (rb && memcmp(a, b, n)) {
			size_t pos = 0;

			while (pos < n) {
				unsigned long long r = (off + pos) / rb;
				size_t end = (r + 1) * rb - off;

				if (end > n)
					end = n;
				if (r != last && memcmp(a + pos, b + pos, end - pos)) {
					printf("%llu\n", r);
					last = r;
					differ = 1;
					if (++nlisted >= max)
						return 1;
				}
				pos = end;
			}
		} else if (memcmp(a, b, n)) {
			size_t i = 0;

			while (a[i] == b[i])
				i++;
			if (!quiet)
				printf("%s %s differ: byte %llu\n", argv[1], argv[2], off + i + 1);
			return 1;
		}
		if (na != nb) {
			if (!quiet)
				fprintf(stderr, "cmp: EOF on %s after byte %llu\n",
					na < nb ? argv[1] : argv[2], off + n);
			return 1;
		}
		if ((size_t)na < want)
			break;
		off += n;
	}
	return differ;
}
