// SPDX-License-Identifier: GPL-2.0
/*
 * lw-check-gen: a large synthetic dm-log-writes log (sectorsize 512) of a
 * dm-incmirror-like write-intent protocol, and the image it starts from, for
 * the speed test of `lw-replay check-incmirror` (tests/unit/lwreplay.sh).
 *
 *   lw-check-gen LOG BASE ENTRIES SEED [BUG_AT]
 *
 * Layout of the 64 MiB device: source leg [0, 24M), destination leg
 * [24M, 48M), metadata at 48M (64 KiB regions: 384 regions, one bitmap
 * block). BASE is random with the destination a copy of the source and a
 * clean superblock. The protocol, right by construction: a guest write sets
 * its region's bit with a FUA write of the bitmap block before it writes the
 * source, the destination gets the same bytes at once or later (a copier),
 * bits are cleared only by a pass that flushes first and clears only the
 * regions in sync. With BUG_AT, the first guest write at or after that many
 * entries to a region whose bit is clear skips the bit and is FUA, its copy
 * deferred: the next point is a violation in that region.
 *
 * Prints "entries N", "points P" (flush and FUA entries) and, with BUG_AT,
 * "bug entry E region R".
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SS 512
#define DEV (64u << 20)
#define SRC 0u
#define DST (24u << 20)
#define LEN (24u << 20)
#define META (48u << 20)
#define REGION (64u << 10)
#define NREG (LEN / REGION)
#define MAXQ 4096

static uint8_t *img;		/* the device as the log leaves it */
static uint8_t bits[NREG];	/* durable metadata bits */
static FILE *logf;
static uint64_t nent, npts;
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffu;
}

/* One entry: header, then the bytes now at [pos, pos + len) of img. */
static void entry(uint64_t pos, uint64_t len, uint64_t flags)
{
	uint8_t h[SS] = { 0 };

	put_le(h, pos / SS, 8);
	put_le(h + 8, len / SS, 8);
	put_le(h + 16, flags, 8);
	if (fwrite(h, SS, 1, logf) != 1 || (len && fwrite(img + pos, len, 1, logf) != 1)) {
		perror("lw-check-gen: write");
		exit(2);
	}
	nent++;
	if (flags & 3)
		npts++;
}

static void write_bitmap(void)
{
	uint8_t *bm = img + META + 4096;

	memset(bm, 0, 4096);
	for (unsigned r = 0; r < NREG; r++)
		if (bits[r])
			bm[r / 8] |= (uint8_t)(1u << (r % 8));
	entry(META + 4096, 4096, 2);	/* FUA */
}

int main(int argc, char **argv)
{
	struct { uint32_t off, len; } q[MAXQ];
	unsigned nq = 0;
	uint64_t want, bug_at = UINT64_MAX;
	bool bug_done = false;
	FILE *bf;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: lw-check-gen LOG BASE ENTRIES SEED [BUG_AT]\n");
		return 2;
	}
	want = strtoull(argv[3], NULL, 0);
	rng = strtoull(argv[4], NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
	if (argc == 6)
		bug_at = strtoull(argv[5], NULL, 0);
	img = malloc(DEV);
	if (!img)
		return 2;
	for (size_t i = 0; i < DEV; i += 8) {
		uint64_t v = rnd();

		memcpy(img + i, &v, 8);
	}
	memcpy(img + DST, img + SRC, LEN);
	memset(img + META, 0, 8192);
	{
		uint8_t *sb = img + META;

		put_le(sb, 0x524d4d49, 4);
		put_le(sb + 8, 1, 4);
		put_le(sb + 12, 1, 4);	/* CLEAN */
		memcpy(sb + 32, "lw-check-gen", 12);
		put_le(sb + 160, REGION / 512, 8);
		put_le(sb + 168, LEN / 512, 8);
		put_le(sb + 176, NREG, 8);
		put_le(sb + 184, 8, 8);
		put_le(sb + 192, 8, 8);
		put_le(sb + 4, crc32_ieee(sb, 512), 4);
	}
	bf = fopen(argv[2], "wb");
	if (!bf || fwrite(img, DEV, 1, bf) != 1 || fclose(bf)) {
		perror(argv[2]);
		return 2;
	}
	logf = fopen(argv[1], "wb");
	if (!logf) {
		perror(argv[1]);
		return 2;
	}
	{
		uint8_t sb[SS] = { 0 };

		fwrite(sb, SS, 1, logf);	/* rewritten at the end */
	}
	while (nent < want) {
		unsigned a = (unsigned)(rnd() % 100);

		if (a < 60 || (a < 75 && !nq)) {	/* guest write */
			unsigned r = (unsigned)(rnd() % NREG);
			uint32_t off = (uint32_t)(rnd() % (REGION / 4096)) * 4096;
			uint32_t len = (uint32_t)(rnd() % 4 + 1) * 4096;
			bool bug = false, defer = rnd() % 2;

			if (off + len > REGION)
				len = REGION - off;
			off += r * REGION;
			if (!bits[r] && nent >= bug_at && !bug_done) {
				bug = bug_done = true;
				defer = true;
				printf("bug entry %llu region %u\n", (unsigned long long)nent, r);
			} else if (!bits[r]) {
				bits[r] = 1;
				write_bitmap();
			}
			for (uint32_t i = 0; i < len; i += 8) {
				uint64_t v = rnd();

				memcpy(img + SRC + off + i, &v, 8);
			}
			entry(SRC + off, len, bug ? 2 : 0);
			if (defer && nq < MAXQ) {
				q[nq].off = off;
				q[nq++].len = len;
			} else {
				memcpy(img + DST + off, img + SRC + off, len);
				entry(DST + off, len, 0);
			}
		} else if (a < 75) {	/* the copier catches up one write */
			unsigned k = (unsigned)(rnd() % nq);

			memcpy(img + DST + q[k].off, img + SRC + q[k].off, q[k].len);
			entry(DST + q[k].off, q[k].len, 0);
			q[k] = q[--nq];
		} else if (a < 95) {
			entry(0, 0, 1);		/* flush */
		} else {		/* clear pass: flush, clear the regions in sync */
			bool any = false;

			entry(0, 0, 1);
			for (unsigned r = 0; r < NREG; r++) {
				if (bits[r] && !memcmp(img + SRC + r * REGION, img + DST + r * REGION, REGION)) {
					bits[r] = 0;
					any = true;
				}
			}
			if (any)
				write_bitmap();
		}
	}
	{
		uint8_t sb[SS] = { 0 };

		put_le(sb, 0x6a736677736872ull, 8);
		put_le(sb + 8, 1, 8);
		put_le(sb + 16, nent, 8);
		put_le(sb + 24, SS, 4);
		if (fseek(logf, 0, SEEK_SET) || fwrite(sb, SS, 1, logf) != 1 || fclose(logf)) {
			perror(argv[1]);
			return 2;
		}
	}
	printf("entries %llu\npoints %llu\n", (unsigned long long)nent, (unsigned long long)npts);
	return 0;
}
