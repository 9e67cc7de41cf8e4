// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the core of incmirror-bitmap (bitmap, rescaling, message
 * encoding, canonical format, number parsing). Built with ASan/UBSan by
 * `make -C tools san`; prints "PASS name" / "FAIL name: why" per test.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "canonical.h"
#include "common.h"
#include "formats.h"
#include "msgenc.h"
#include "rescale.h"

static int failures;

#define CHECK(cond, ...)                                                                                       \
	do {                                                                                                   \
		if (!(cond)) {                                                                                 \
			printf("FAIL %s: ", name);                                                             \
			printf(__VA_ARGS__);                                                                   \
			printf(" (%s:%d)\n", __FILE__, __LINE__);                                              \
			failures++;                                                                            \
			return;                                                                                \
		}                                                                                              \
	} while (0)

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void pass(const char *name)
{
	printf("PASS %s\n", name);
}

static void test_bitmap_ops(void)
{
	const char *name = "bitmap-ops";
	for (int iter = 0; iter < 200; iter++) {
		uint64_t n = 1 + rnd() % 3000;
		struct bitmap bm;
		uint8_t *ref = calloc(n, 1);
		uint64_t cnt = 0;

		CHECK(!bm_init(&bm, n), "init");
		for (int k = 0; k < 20; k++) {
			uint64_t a = rnd() % n, c = rnd() % (n - a) + 1;

			if (rnd() % 4 == 0)
				c = 1 + rnd() % 3;
			if (a + c > n)
				c = n - a;
			bm_set_range(&bm, a, c);
			memset(ref + a, 1, c);
		}
		for (uint64_t i = 0; i < n; i++) {
			cnt += ref[i];
			CHECK(bm_test(&bm, i) == ref[i], "bit %" PRIu64, i);
		}
		CHECK(bm_count(&bm) == cnt, "count");
		for (uint64_t i = 0; i < n; i += 1 + rnd() % 7) {
			uint64_t s = i, c = i;

			while (s < n && !ref[s])
				s++;
			while (c < n && ref[c])
				c++;
			CHECK(bm_next_set(&bm, i) == s, "next_set(%" PRIu64 ")", i);
			CHECK(bm_next_clear(&bm, i) == c, "next_clear(%" PRIu64 ")", i);
		}
		/* shrink then grow: dropped bits stay clear */
		{
			uint64_t m = rnd() % n;

			CHECK(!bm_resize(&bm, m), "shrink");
			CHECK(!bm_resize(&bm, n + 100), "grow");
			for (uint64_t i = 0; i < n + 100; i++)
				CHECK(bm_test(&bm, i) == (i < m && ref[i]), "after resize bit %" PRIu64, i);
		}
		bm_free(&bm);
		free(ref);
	}
	pass(name);
}

/* rescale: random byte extents against a per-region reference */
static void test_rescale(void)
{
	const char *name = "rescale-conservative";
	for (int iter = 0; iter < 300; iter++) {
		uint64_t region = UINT64_C(512) << (rnd() % 8);
		int64_t offset = (int64_t)(rnd() % 3 == 0 ? rnd() % 100000 : 0);
		uint64_t span = 1 + rnd() % 2000000;
		struct sink sk;
		uint8_t *ref;
		uint64_t nreg;

		CHECK(!sink_init(&sk, region, offset, 0), "init");
		sink_begin(&sk, "test");
		nreg = span / region + 2;
		ref = calloc(nreg, 1);
		for (int k = 0; k < 30; k++) {
			uint64_t off = rnd() % span, len = 1 + rnd() % (rnd() % 2 ? 5000 : 300000);

			CHECK(!sink_mark(&sk, 0, off, len), "mark");
			/* reference: every byte's region, after the shift */
			for (uint64_t b = off; b < off + len; b++) {
				if ((int64_t)b < offset)
					continue;
				uint64_t t = b - (uint64_t)offset;
				if (t / region >= nreg + len / region + 1)
					continue;
				if (t / region < nreg)
					ref[t / region] = 1;
				b += 0;	/* byte by byte is slow but exact; skip ahead inside a region */
				if (region - t % region > 1)
					b += region - t % region - 1;
			}
		}
		CHECK(!sink_end(&sk), "end");
		for (uint64_t r = 0; r < nreg; r++)
			CHECK(bm_test(&sk.bm, r) == ref[r], "region %" PRIu64 " (region size %" PRIu64 ", offset %" PRId64 ")",
			      r, region, offset);
		sink_free(&sk);
		free(ref);
	}
	pass(name);
}

static void test_rescale_units(void)
{
	const char *name = "rescale-units-coarser-and-finer";
	struct sink sk;

	/* input granularity 1 MiB larger than 64 KiB regions: one unit marks 16 regions */
	CHECK(!sink_init(&sk, 65536, 0, 0), "init");
	sink_begin(&sk, "t");
	CHECK(!sink_mark_units(&sk, 0, 3, 1, 1 << 20, 0), "mark");
	CHECK(!sink_end(&sk), "end");
	CHECK(bm_count(&sk.bm) == 16 && bm_next_set(&sk.bm, 0) == 48 && bm_next_clear(&sk.bm, 48) == 64, "coarse");
	sink_free(&sk);
	/* finer: 4 KiB units 15 and 16 straddle regions 0 and 1 of 64 KiB */
	CHECK(!sink_init(&sk, 65536, 0, 0), "init");
	sink_begin(&sk, "t");
	CHECK(!sink_mark_units(&sk, 0, 15, 2, 4096, 0), "mark");
	CHECK(!sink_end(&sk), "end");
	CHECK(bm_count(&sk.bm) == 2 && bm_test(&sk.bm, 0) && bm_test(&sk.bm, 1), "fine");
	sink_free(&sk);
	/* clip at input size: unit 2 of 4096 in a 9000-byte input covers 8192..8999 */
	CHECK(!sink_init(&sk, 4096, 0, 0), "init");
	sink_begin(&sk, "t");
	CHECK(!sink_mark_units(&sk, 0, 2, 5, 4096, 9000), "mark");
	CHECK(!sink_end(&sk), "end");
	CHECK(sk.max_end == 9000 && bm_count(&sk.bm) == 1, "clip max_end %" PRIu64, sk.max_end);
	sink_free(&sk);
	/* limit: bits beyond the known device size are not stored but max_end records them */
	CHECK(!sink_init(&sk, 4096, 0, 10000), "init");
	sink_begin(&sk, "t");
	CHECK(!sink_mark(&sk, 0, 8000, 100000), "mark");
	CHECK(!sink_end(&sk), "end");
	CHECK(sk.bm.nbits == 3 && bm_count(&sk.bm) == 2 && sk.max_end == 108000, "limit");
	sink_free(&sk);
	/* oversized without a device size */
	CHECK(!sink_init(&sk, 4096, 0, 0), "init");
	sink_begin(&sk, "t");
	CHECK(!sink_mark(&sk, 0, UINT64_C(1) << 60, 1), "mark is deferred");
	CHECK(sink_end(&sk) == EXIT_INPUT, "oversized must be refused");
	sink_free(&sk);
	/* overflow */
	CHECK(!sink_init(&sk, 4096, 0, 0), "init");
	sink_begin(&sk, "t");
	CHECK(sink_mark(&sk, 0, UINT64_MAX - 5, 10) == EXIT_INPUT, "overflow");
	CHECK(sink_mark_units(&sk, 0, UINT64_MAX / 2, 4, 4096, 0) == EXIT_INPUT, "unit overflow");
	sink_free(&sk);
	/* negative offset shifts up */
	CHECK(!sink_init(&sk, 4096, -8192, 0), "init");
	sink_begin(&sk, "t");
	CHECK(!sink_mark(&sk, 0, 0, 1), "mark");
	CHECK(!sink_end(&sk), "end");
	CHECK(bm_count(&sk.bm) == 1 && bm_test(&sk.bm, 2), "negative offset");
	sink_free(&sk);
	pass(name);
}

struct collect {
	struct bitmap *bm;
	size_t max;
	uint64_t n, too_long, bad, ranges, hex;
};

static int collect_cb(void *arg, const char *msg, size_t len)
{
	struct collect *c = arg;

	c->n++;
	if (len > c->max || strlen(msg) != len)
		c->too_long++;
	if (!strncmp(msg, "set_dirty_hex ", 14))
		c->hex++;
	else
		c->ranges++;
	if (msg_apply(c->bm, msg))
		c->bad++;
	return 0;
}

static void test_msgenc(void)
{
	const char *name = "msgenc-roundtrip";
	static const size_t maxes[] = { 1200, 4096, 65536 };

	for (int iter = 0; iter < 120; iter++) {
		uint64_t n = 1 + rnd() % 200000;
		int kind = iter % 6;
		struct bitmap bm, out;
		struct collect c;

		CHECK(!bm_init(&bm, n) && !bm_init(&out, n), "init");
		switch (kind) {
		case 0: break;	/* empty */
		case 1: bm_set_range(&bm, 0, n); break;	/* full */
		case 2:	/* sparse singles */
			for (int k = 0; k < 300; k++)
				bm_set_range(&bm, rnd() % n, 1);
			break;
		case 3:	/* dense random */
			for (uint64_t i = 0; i < n; i++)
				if (rnd() % 2)
					bm_set_range(&bm, i, 1);
			break;
		case 4:	/* runs */
			for (int k = 0; k < 200; k++) {
				uint64_t a = rnd() % n, l = 1 + rnd() % 5000;

				bm_set_range(&bm, a, a + l > n ? n - a : l);
			}
			break;
		case 5:	/* last region only, and first */
			bm_set_range(&bm, n - 1, 1);
			bm_set_range(&bm, 0, 1);
			break;
		}
		c = (struct collect){ .bm = &out, .max = maxes[iter % 3] };
		CHECK(msgenc_run(&bm, c.max, collect_cb, &c) == 0, "run");
		CHECK(!c.too_long, "%" PRIu64 " messages longer than %zu", c.too_long, c.max);
		CHECK(!c.bad, "%" PRIu64 " messages rejected by the reference decoder", c.bad);
		for (uint64_t w = 0; w < (n + 63) / 64; w++)
			CHECK(bm.w[w] == out.w[w], "kind %d n %" PRIu64 ": word %" PRIu64 " differs", kind, n, w);
		if (kind == 0)
			CHECK(c.n == 0, "empty map sends %" PRIu64 " messages", c.n);
		if (kind == 1)
			CHECK(c.n == 1 && c.ranges == 1, "full map: %" PRIu64 " messages", c.n);
		if (kind == 3 && n > 50000)
			CHECK(c.hex > 0 && c.ranges == 0, "dense map should use set_dirty_hex");
		if (kind == 2 && n > 100000)
			CHECK(c.hex == 0, "sparse map should use set_dirty ranges");
		if (kind == 3 && c.max == 65536)
			/* fewest messages: dense hex costs n/4 bytes; allow one message of slack per 16 */
			CHECK(c.n <= n / 4 / 65000 + 1 + n / 4 / 65000 / 16, "dense: %" PRIu64 " messages for %" PRIu64
			      " regions", c.n, n);
		bm_free(&bm);
		bm_free(&out);
	}
	pass(name);
}

static void test_msg_apply_rejects(void)
{
	const char *name = "reference-decoder-rejects";
	struct bitmap bm;

	CHECK(!bm_init(&bm, 20), "init");
	CHECK(msg_apply(&bm, "set_dirty 20") == -1, "beyond");
	CHECK(msg_apply(&bm, "set_dirty 5-3") == -1, "reversed");
	CHECK(msg_apply(&bm, "set_dirty_hex 16 10") == -1, "hex beyond");
	CHECK(msg_apply(&bm, "set_dirty_hex 16 0f") == 0, "hex ok up to 19");
	CHECK(bm_count(&bm) == 4, "count");
	CHECK(msg_apply(&bm, "set_dirty_hex 3 01") == 0 && bm_test(&bm, 3), "unaligned first");
	bm_free(&bm);
	pass(name);
}

static void test_canonical(void)
{
	const char *name = "canonical-roundtrip-and-corruption";
	struct bitmap bm;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	uint64_t region = 65536, dev = 65536 * 1000 + 4096;	/* last region partial */
	struct src s;
	struct in_opts o = { 0 };
	struct input in = { 0 };
	struct sink sk;
	struct pctx ctx = { .s = &s, .o = &o, .sk = &sk, .in = &in };

	CHECK(fp && !bm_init(&bm, 1001), "init");
	for (int k = 0; k < 100; k++)
		bm_set_range(&bm, rnd() % 1001, 1);
	bm_set_range(&bm, 1000, 1);
	CHECK(!canonical_write(fp, "mem", &bm, region, dev), "write");
	fclose(fp);
	CHECK(len == CANON_HDR + 126, "size %zu", len);
	src_mem(&s, "mem", buf, len);
	CHECK(!sink_init(&sk, region, 0, 0), "sink");
	sink_begin(&sk, "mem");
	CHECK(!parse_canonical(&ctx) && !sink_end(&sk), "parse");
	CHECK(in.size == dev && in.granularity == region, "header");
	CHECK(sk.bm.nbits == 1001, "nbits %" PRIu64, sk.bm.nbits);
	for (uint64_t i = 0; i < 1001; i++)
		CHECK(bm_test(&sk.bm, i) == bm_test(&bm, i), "bit %" PRIu64, i);
	sink_free(&sk);
	/* flip each byte in turn: always rejected */
	for (size_t i = 0; i < len; i++) {
		int r;

		buf[i] ^= 0x10;
		src_mem(&s, "mem", buf, len);
		CHECK(!sink_init(&sk, region, 0, 0), "sink");
		sink_begin(&sk, "mem");
		fflush(stdout);
		{
			/* silence the expected error messages */
			FILE *saved = stderr;

			stderr = fopen("/dev/null", "w");
			r = parse_canonical(&ctx);
			fclose(stderr);
			stderr = saved;
		}
		CHECK(r == EXIT_INPUT, "corrupt byte %zu accepted", i);
		sink_free(&sk);
		buf[i] ^= 0x10;
	}
	/* truncated */
	for (size_t l = 0; l < len; l += 7) {
		FILE *saved = stderr;
		int r;

		src_mem(&s, "mem", buf, l);
		CHECK(!sink_init(&sk, region, 0, 0), "sink");
		stderr = fopen("/dev/null", "w");
		r = parse_canonical(&ctx);
		fclose(stderr);
		stderr = saved;
		CHECK(r == EXIT_INPUT, "truncated to %zu accepted", l);
		sink_free(&sk);
	}
	bm_free(&bm);
	free(buf);
	pass(name);
}

static void test_numbers(void)
{
	const char *name = "numbers-and-table-lines";
	uint64_t v, b, s;
	int64_t sv;

	CHECK(!parse_size("64K", &v) && v == 65536, "64K");
	CHECK(!parse_size("1GiB", &v) && v == UINT64_C(1) << 30, "1GiB");
	CHECK(!parse_size("16T", &v) && v == UINT64_C(16) << 40, "16T");
	CHECK(parse_size("16X", &v) && parse_size("", &v) && parse_size("-1", &v) && parse_size("99999999999999999999", &v),
	      "bad sizes accepted");
	CHECK(parse_size("20E", &v), "overflow accepted");
	CHECK(!parse_ssize("-4K", &sv) && sv == -4096, "-4K");
	CHECK(!parse_table_line("0 2048 era /dev/m /dev/o 128", &b, &s) && b == 65536 && s == 1048576, "era");
	CHECK(!parse_table_line("0 999 thin-pool /dev/m /dev/d 256 32768 1 skip_block_zeroing", &b, &s) && b == 131072 &&
	      s == 0, "thin-pool");
	CHECK(!parse_table_line("0 4096 thin /dev/mapper/pool 3", &b, &s) && b == 0 && s == 2097152, "thin");
	CHECK(parse_table_line("0 4096 linear /dev/sda 0", &b, &s), "linear accepted");
	CHECK(parse_table_line("0 x era a b 128", &b, &s), "bad length accepted");
	CHECK(crc32_update(0, "123456789", 9) == 0xcbf43926u, "crc32 check value");
	pass(name);
}

/* helper modes for tests/unit/run:
 *   gen NBITS PER_MILLE SEED    raw LSB-first bitmap with random bits on stdout
 *   apply NBITS                 apply messages (one per line, stdin) to an empty map,
 *                               write it as a raw LSB-first bitmap on stdout */
static int helper(int argc, char **argv)
{
	uint64_t nbits, pm, seed;
	struct bitmap bm;

	if (argc < 3 || parse_u64(argv[2], &nbits) || bm_init(&bm, nbits))
		return 2;
	if (!strcmp(argv[1], "gen") && argc == 5 && !parse_u64(argv[3], &pm) && !parse_u64(argv[4], &seed)) {
		rng_state ^= seed * 0x9E3779B97F4A7C15ull;
		for (uint64_t i = 0; i < nbits; i++)
			if (rnd() % 1000 < pm)
				bm_set_range(&bm, i, 1);
	} else if (!strcmp(argv[1], "apply")) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		uint64_t lineno = 0;

		while ((n = getline(&line, &cap, stdin)) > 0) {
			lineno++;
			if (line[n - 1] == '\n')
				line[n - 1] = '\0';
			if (msg_apply(&bm, line)) {
				fprintf(stderr, "message %" PRIu64 " rejected\n", lineno);
				return 1;
			}
		}
		free(line);
	} else {
		return 2;
	}
	for (uint64_t i = 0; i < (nbits + 7) / 8; i++)
		putchar(bm_byte(&bm, i));
	bm_free(&bm);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return helper(argc, argv);
	test_bitmap_ops();
	test_rescale();
	test_rescale_units();
	test_msgenc();
	test_msg_apply_rejects();
	test_canonical();
	test_numbers();
	return failures ? 1 : 0;
}
