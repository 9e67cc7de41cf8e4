// SPDX-License-Identifier: GPL-2.0
/* Raw bitmaps: bit i = unit i of --granularity bytes; LSB-first bytes (or --bit-order msb). */
#include <inttypes.h>

#include "common.h"
#include "formats.h"

int parse_raw(struct pctx *ctx)
{
	uint8_t buf[65536];
	uint64_t gran = ctx->o->granularity;

	if (!gran) {
		err_msg("%s: a raw bitmap needs --granularity", ctx->s->name);
		return EXIT_USAGE;
	}
	ctx->in->granularity = gran;
	for (uint64_t off = 0;; off += sizeof(buf)) {
		long n = src_read_some(ctx->s, buf, sizeof(buf), off);
		int r;

		if (n < 0)
			return EXIT_INPUT;
		if (!n)
			break;
		r = sink_mark_bits(ctx->sk, off, buf, (uint64_t)n * 8, off * 8, gran, 0, ctx->o->msb_first);
		if (r)
			return r;
	}
	return 0;
}
