// SPDX-License-Identifier: GPL-2.0
/*
 * dmsnap-gen: dm-snapshot persistent exception stores (COW devices) for the
 * unit tests of `incmirror-bitmap --format dm-snapshot` (tests/unit/dmsnap.sh),
 * written the way drivers/md/dm-snap-persistent.c writes them, independently
 * of the tool's code:
 *
 *   dmsnap-gen [-V VARIANT] [-k MERGED] [-x EXTRA] OUT CHUNK_SECTORS ORIGIN_CHUNKS NEXC SEED
 *
 * Chunk 0 is the header (magic "SnAp", valid 1, version 1, chunk_size);
 * metadata area i sits at chunk 1 + i * (E + 1), E = CHUNK_SECTORS * 32
 * entries of { le64 old_chunk, le64 new_chunk }. NEXC exceptions on distinct
 * origin chunks (chosen by SEED among ORIGIN_CHUNKS: runs, singles, chunk 0
 * and the last chunk) get data chunks as the kernel allocates them
 * (next_free from 2, skipping metadata areas), committed slightly out of
 * order (pairs in one area swapped); data chunks hold a pattern. When an area fills, the
 * next one is zeroed (it exists), as persistent_commit_exception() does.
 * -k MERGED clears the last MERGED entries, as a merge does (commit_merge),
 * -x EXTRA appends EXTRA unused chunks.
 *
 * Prints one line per exception the kernel would read: "old C" (origin chunk),
 * then "areas N" (metadata areas read) and "next_free F" (the kernel's
 * usage()). A defect VARIANT also prints "bad OFFSET": the byte offset a
 * reader must name.
 *   invalid   valid = 0 (offset 4)        magic0    no header at all (0)
 *   magic     "SnAp" misspelt (0)         bemagic   magic big-endian (0)
 *   version   version 2 (8)               chunk0    chunk_size 0 (12)
 *   chunk3    chunk_size 3 (12)           validx    valid = 7 (4)
 *   newbeyond the last entry's new_chunk lies past the end of the file
 *   newmeta   the last entry's new_chunk is a metadata area (the last one)
 *   trunc     the file ends inside the last metadata area read
 *   nonext    NEXC fills its last area and the file ends before the next one
 *   junk      (valid) entries after the end marker, which must be ignored,
 *             and an end marker with old_chunk != 0 (the kernel only looks
 *             at new_chunk)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void usage(void)
{
	fprintf(stderr, "usage: dmsnap-gen [-V VARIANT] [-k MERGED] [-x EXTRA] OUT CHUNK_SECTORS ORIGIN_CHUNKS NEXC SEED\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *variant = "", *out;
	uint64_t cs, ochunks, nexc, epa, stride, merged = 0, extra = 0, chunk, next_free = 2, nchunks;
	uint64_t *old, *newc, areas;
	uint8_t *bitmap, *img;
	FILE *fp;
	int c;

	while ((c = getopt(argc, argv, "V:k:x:")) != -1) {
		switch (c) {
		case 'V': variant = optarg; break;
		case 'k': merged = strtoull(optarg, NULL, 0); break;
		case 'x': extra = strtoull(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (argc - optind != 5)
		usage();
	out = argv[optind];
	cs = strtoull(argv[optind + 1], NULL, 0);
	ochunks = strtoull(argv[optind + 2], NULL, 0);
	nexc = strtoull(argv[optind + 3], NULL, 0);
	rng = strtoull(argv[optind + 4], NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
	if (!cs || (cs & (cs - 1)) || cs > 1024 || nexc > ochunks || merged > nexc || ochunks < 2) {
		fprintf(stderr, "dmsnap-gen: bad arguments\n");
		return 2;
	}
	chunk = cs * 512;
	epa = chunk / 16;
	stride = epa + 1;

	/* distinct origin chunks: chunk 0, the last one, runs and singles */
	old = calloc(nexc + 1, sizeof(*old));
	newc = calloc(nexc + 1, sizeof(*newc));
	bitmap = calloc(ochunks / 8 + 1, 1);
	if (!old || !newc || !bitmap)
		return 2;
	for (uint64_t n = 0; n < nexc;) {
		uint64_t start = n == 0 ? 0 : n == 1 ? ochunks - 1 : rnd() % ochunks;
		uint64_t run = n < 2 ? 1 : rnd() % 4 == 0 ? 1 + rnd() % 40 : 1;

		for (uint64_t k = start; k < start + run && k < ochunks && n < nexc; k++) {
			if (bitmap[k / 8] & (1u << (k % 8)))
				continue;
			bitmap[k / 8] |= (uint8_t)(1u << (k % 8));
			old[n++] = k;
		}
	}
	/* allocation as persistent_prepare_exception(): next_free++, skip_metadata() */
	for (uint64_t n = 0; n < nexc; n++) {
		newc[n] = next_free++;
		if (next_free % stride == 1)
			next_free++;
	}
	/* commits complete out of order: swap neighbours (in one area) now and then */
	for (uint64_t n = 0; n + 1 < nexc; n++)
		if (rnd() % 3 == 0 && (n + 1) % epa) {
			uint64_t t = newc[n];

			newc[n] = newc[n + 1];
			newc[n + 1] = t;
			n++;
		}
	/* areas written: every full one, plus the one after it (zeroed before the last commit) */
	areas = nexc / epa + 1;
	nchunks = next_free;
	if (1 + (areas - 1) * stride + 1 > nchunks)
		nchunks = 1 + (areas - 1) * stride + 1;
	nchunks += extra;
	if (!strcmp(variant, "nonext")) {
		/* the last area full and the file ends with its data chunks */
		if (nexc % epa || !nexc) {
			fprintf(stderr, "dmsnap-gen: nonext needs NEXC a multiple of %llu\n", (unsigned long long)epa);
			return 2;
		}
		nchunks = 1 + (areas - 1) * stride;
	}
	img = calloc(nchunks, chunk);
	if (!img)
		return 2;
	put32(img, 0x70416e53);
	put32(img + 4, 1);
	put32(img + 8, 1);
	put32(img + 12, (uint32_t)cs);
	for (uint64_t n = 0; n < nexc; n++) {
		uint64_t a = n / epa, i = n % epa, off = (1 + a * stride) * chunk + i * 16;

		put64(img + off, old[n]);
		put64(img + off + 8, newc[n]);
		memset(img + newc[n] * chunk, (int)(0x40 + old[n] % 64), chunk);
	}
	/* a merge clears entries from the end (commit_merge) */
	for (uint64_t n = nexc - merged; n < nexc; n++) {
		uint64_t a = n / epa, i = n % epa, off = (1 + a * stride) * chunk + i * 16;

		memset(img + off, 0, 16);
	}
	nexc -= merged;
	areas = nexc / epa + 1;

	if (!strcmp(variant, "invalid")) {
		put32(img + 4, 0);
		printf("bad 4\n");
	} else if (!strcmp(variant, "validx")) {
		put32(img + 4, 7);
		printf("bad 4\n");
	} else if (!strcmp(variant, "magic0")) {
		memset(img, 0, 16);
		printf("bad 0\n");
	} else if (!strcmp(variant, "magic")) {
		memcpy(img, "SnAP", 4);
		printf("bad 0\n");
	} else if (!strcmp(variant, "bemagic")) {
		memcpy(img, "pAnS", 4);
		printf("bad 0\n");
	} else if (!strcmp(variant, "version")) {
		put32(img + 8, 2);
		printf("bad 8\n");
	} else if (!strcmp(variant, "chunk0")) {
		put32(img + 12, 0);
		printf("bad 12\n");
	} else if (!strcmp(variant, "chunk3")) {
		put32(img + 12, 3);
		printf("bad 12\n");
	} else if (!strcmp(variant, "newbeyond") || !strcmp(variant, "newmeta")) {
		uint64_t n = nexc - 1, off = (1 + (n / epa) * stride) * chunk + (n % epa) * 16;

		if (!nexc)
			return 2;
		put64(img + off + 8, variant[3] == 'b' ? nchunks : 1 + (areas - 1) * stride);
		printf("bad %llu\n", (unsigned long long)(off + 8));
	} else if (!strcmp(variant, "trunc")) {
		uint64_t aoff = (1 + (areas - 1) * stride) * chunk;

		nchunks = 0;	/* marker: write a cut file */
		fp = fopen(out, "wb");
		if (!fp || fwrite(img, 1, aoff + chunk / 2, fp) != aoff + chunk / 2 || fclose(fp))
			return 2;
		printf("bad %llu\n", (unsigned long long)aoff);
	} else if (!strcmp(variant, "nonext")) {
		printf("bad %llu\n", (unsigned long long)(nchunks * chunk));
	} else if (!strcmp(variant, "junk")) {
		uint64_t a = nexc / epa, i = nexc % epa, off = (1 + a * stride) * chunk + i * 16;

		put64(img + off, 12345);	/* end marker: new_chunk 0, old_chunk not */
		for (uint64_t j = i + 1; j < epa; j++) {
			put64(img + off + (j - i) * 16, ochunks - 1 - j % ochunks);
			put64(img + off + (j - i) * 16 + 8, 2 + j);
		}
	} else if (*variant) {
		fprintf(stderr, "dmsnap-gen: unknown variant %s\n", variant);
		return 2;
	}
	if (nchunks) {
		fp = fopen(out, "wb");
		if (!fp || fwrite(img, chunk, nchunks, fp) != nchunks || fclose(fp)) {
			perror(out);
			return 2;
		}
	}
	for (uint64_t n = 0; n < nexc; n++)
		printf("old %llu\n", (unsigned long long)old[n]);
	/* kernel's next_free after read_exceptions(): max(new_chunk) + 1, skip_metadata() */
	next_free = 2;
	for (uint64_t n = 0; n < nexc; n++)
		if (newc[n] + 1 > next_free)
			next_free = newc[n] + 1;
	if (next_free % stride == 1)
		next_free++;
	printf("areas %llu\nnext_free %llu\n", (unsigned long long)areas, (unsigned long long)next_free);
	free(old);
	free(newc);
	free(bitmap);
	free(img);
	return 0;
}
